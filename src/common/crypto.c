/* crypto.c -- tokens (OpenSSL RAND + SHA-256) and bcrypt (libcrypt crypt_r). */
#include "crypto.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "edgefleet/error.h"
#include "mem.h"

int crypto_token(char out[EF_TOKEN_STRLEN]) {
  static const char b64url[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char raw[33];
  if (RAND_bytes(raw, 32) != 1) return EF_ESYS;
  raw[32] = 0;
  /* 32 bytes -> 43 base64url chars: 10 full triples + 2 remaining bytes. */
  size_t o = 0;
  for (size_t i = 0; i < 33; i += 3) {
    unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
    out[o++] = b64url[(v >> 18) & 63];
    out[o++] = b64url[(v >> 12) & 63];
    out[o++] = b64url[(v >> 6) & 63];
    out[o++] = b64url[v & 63];
  }
  out[43] = '\0';
  OPENSSL_cleanse(raw, sizeof raw);
  return 0;
}

void crypto_sha256_hex(const char *s, size_t len, char out[EF_SHA256_HEXLEN]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL);
  for (unsigned i = 0; i < 32; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[64] = '\0';
}

int crypto_bcrypt_hash(const char *password, int cost, char out[EF_BCRYPT_MAXLEN]) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (cost < 4 || cost > 31) return EF_EINVAL;
  if (!crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, salt, sizeof salt))
    return EF_ESYS;
  struct crypt_data *cd = ef_calloc(1, sizeof *cd);
  const char *h = crypt_r(password, salt, cd);
  int rc = EF_ESYS;
  if (h && h[0] == '$' && strlen(h) < EF_BCRYPT_MAXLEN) {
    strcpy(out, h);
    rc = 0;
  }
  explicit_bzero(cd, sizeof *cd);
  ef_free(cd);
  return rc;
}

bool crypto_bcrypt_verify(const char *password, const char *hash) {
  if (!password || !hash || strncmp(hash, "$2", 2) != 0) return false;
  struct crypt_data *cd = ef_calloc(1, sizeof *cd);
  const char *h = crypt_r(password, hash, cd);
  bool ok = h && h[0] == '$' && crypto_streq(h, hash);
  explicit_bzero(cd, sizeof *cd);
  ef_free(cd);
  return ok;
}

bool crypto_streq(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la != lb) return false;
  return CRYPTO_memcmp(a, b, la) == 0;
}
