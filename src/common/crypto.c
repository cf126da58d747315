/* SPDX-License-Identifier: MIT */
/* crypto.c -- tokens (OpenSSL RAND + SHA-256) and bcrypt (libcrypt crypt_r). */
#include "crypto.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static const char hexdigits[] = "0123456789abcdef";

static void to_hex(const unsigned char *b, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hexdigits[b[i] >> 4];
    out[2 * i + 1] = hexdigits[b[i] & 15];
  }
  out[2 * n] = '\0';
}

void crypto_sha256_hex(const char *s, size_t len, char out[EF_SHA256_HEXLEN]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL);
  to_hex(md, 32, out);
}

void crypto_hmac_sha256_hex(const unsigned char *key, size_t keylen, const char *s, size_t len,
                            char out[EF_SHA256_HEXLEN]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)s, len, md, &mdlen);
  to_hex(md, 32, out);
  OPENSSL_cleanse(md, sizeof md);
}

int crypto_secret_file(const char *path, unsigned char key[EF_SECRET_LEN], char *err,
                       size_t errlen) {
  char hexkey[2 * EF_SECRET_LEN + 2];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) { /* first start: make one, readable by this user only */
    unsigned char fresh[EF_SECRET_LEN];
    if (RAND_bytes(fresh, sizeof fresh) != 1) {
      snprintf(err, errlen, "no random bytes for %s", path);
      return EF_ESYS;
    }
    to_hex(fresh, sizeof fresh, hexkey);
    OPENSSL_cleanse(fresh, sizeof fresh);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write(fd, hexkey, 2 * EF_SECRET_LEN) == 2 * EF_SECRET_LEN &&
              fsync(fd) == 0;
    if (fd >= 0) close(fd);
    OPENSSL_cleanse(hexkey, sizeof hexkey);
    if (!ok) {
      snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
      return EF_ESYS;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
    return EF_ESYS;
  }
  struct stat st;
  ssize_t n = fstat(fd, &st) == 0 ? read(fd, hexkey, sizeof hexkey) : -1;
  close(fd);
  int rc = 0;
  if (n >= 0 && (st.st_mode & 077)) {
    snprintf(err, errlen, "%s is readable by others (mode %o): chmod 600 it", path,
             (unsigned)(st.st_mode & 0777));
    rc = EF_ECONFIG;
  } else if (n < 2 * EF_SECRET_LEN || (n > 2 * EF_SECRET_LEN && hexkey[2 * EF_SECRET_LEN] != '\n')) {
    snprintf(err, errlen, "%s: want %d hex digits", path, 2 * EF_SECRET_LEN);
    rc = EF_ECONFIG;
  }
  for (int i = 0; rc == 0 && i < EF_SECRET_LEN; i++) {
    const char *hi = memchr(hexdigits, hexkey[2 * i], 16);
    const char *lo = memchr(hexdigits, hexkey[2 * i + 1], 16);
    if (!hi || !lo || !hexkey[2 * i] || !hexkey[2 * i + 1]) {
      snprintf(err, errlen, "%s: want %d hex digits", path, 2 * EF_SECRET_LEN);
      rc = EF_ECONFIG;
    } else {
      key[i] = (unsigned char)((hi - hexdigits) << 4 | (lo - hexdigits));
    }
  }
  OPENSSL_cleanse(hexkey, sizeof hexkey);
  return rc;
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

bool crypto_bcrypt_hash_valid(const char *hash) {
  static const char b64[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  if (!hash || strlen(hash) != 60) return false;
  if (hash[0] != '$' || hash[1] != '2' || !strchr("aby", hash[2]) || hash[2] == '\0' ||
      hash[3] != '$' || hash[6] != '$')
    return false;
  if (hash[4] < '0' || hash[4] > '3' || hash[5] < '0' || hash[5] > '9') return false;
  int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return false;
  return strspn(hash + 7, b64) == 53;
}

bool crypto_streq(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la != lb) return false;
  return CRYPTO_memcmp(a, b, la) == 0;
}
