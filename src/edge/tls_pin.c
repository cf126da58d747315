/* SPDX-License-Identifier: MIT */
/* tls_pin.c -- pinning of the server's public key: the pinned_pubkey option's format, and the
 * SHA-256 of a certificate's SubjectPublicKeyInfo it is compared with.
 *
 * Format, as curl's --pinnedpubkey: "sha256//<base64 of the 32-byte hash>", several separated by
 * ';' (any one may match, so a pin of the next key can be added before a key rollover). The hash
 * of a server's key: openssl x509 -in server.crt -pubkey -noout | openssl pkey -pubin -outform der
 * | openssl dgst -sha256 -binary | base64 (docs/library.md#tls).
 */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "edge_internal.h"
#include "edgefleet/error.h"

int tls_pins_parse(const char *s, struct edge_pins *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  const char *p = s;
  while (*p) {
    const char *end = strchr(p, ';');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    const char *b64 = NULL;
    if (len > 8 && strncmp(p, "sha256//", 8) == 0) b64 = p + 8;
    size_t blen = b64 ? len - (size_t)(b64 - p) : 0;
    unsigned char raw[48];
    if (!b64 || blen != 44 || b64[43] != '=' || b64[42] == '=' || out->n == EDGE_PINS_MAX ||
        EVP_DecodeBlock(raw, (const unsigned char *)b64, 44) != 33) {
      snprintf(err, errlen,
               "pinned_pubkey: '%.*s' is not sha256//<base64 of a SHA-256> (at most %d, ';' "
               "between them)", (int)(len > 80 ? 80 : len), p, EDGE_PINS_MAX);
      return EF_ECONFIG;
    }
    memcpy(out->sha[out->n++], raw, 32);
    p += len;
    if (*p == ';') p++;
  }
  if (out->n == 0) {
    snprintf(err, errlen, "pinned_pubkey: empty");
    return EF_ECONFIG;
  }
  return 0;
}

int tls_spki_sha256(X509 *cert, unsigned char out[32]) {
  unsigned char *der = NULL;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (len <= 0) return EF_EINVAL;
  unsigned int n = 0;
  int ok = EVP_Digest(der, (size_t)len, out, &n, EVP_sha256(), NULL);
  OPENSSL_free(der);
  return ok == 1 && n == 32 ? 0 : EF_EINVAL;
}

bool tls_pins_match(const struct edge_pins *p, const unsigned char h[32]) {
  for (size_t i = 0; i < p->n; i++)
    if (memcmp(p->sha[i], h, 32) == 0) return true;
  return false;
}
