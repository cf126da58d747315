/* SPDX-License-Identifier: MIT */
/* tls.h -- the server's certificate and key (a "pair"), and the TLS policy of its SSL_CTX.
 *
 * A pair is read from PEM files (the certificate file may hold the chain after the leaf), and
 * checked before anything uses it: the key must match the certificate. That is how start-up
 * refuses a bad tls_cert / tls_key with the reason, and how a reload (SIGHUP) keeps the old pair
 * when the new files are broken. tls_pair_load() reads files: at start-up, or on the libuv
 * thread pool (net_lws.c), never on the loop. The rest is for the loop thread.
 *
 * Policy (docs/security.md#tls): TLS 1.2 and 1.3 only; for TLS 1.2 the Mozilla "intermediate"
 * cipher list (ECDHE key exchange, AEAD ciphers only); TLS 1.3's suites are OpenSSL's defaults.
 */
#ifndef EF_TLS_H
#define EF_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

/* TLS 1.2 ciphers: Mozilla's "intermediate" configuration (forward secrecy, AEAD only). */
#define TLS_CIPHERS_12                                                                        \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"  \
  "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"    \
  "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

struct tls_pair;

/* Read and check a certificate (chain allowed: leaf first) and its private key. 0, or EF_ECONFIG
 * with the reason in err. *out is the caller's (tls_pair_free). */
int tls_pair_load(const char *cert_file, const char *key_file, struct tls_pair **out, char *err,
                  size_t errlen);
/* Make ctx serve this pair to new handshakes (connections already up keep theirs). 0 or
 * EF_ECONFIG with err. */
int tls_pair_apply(const struct tls_pair *p, SSL_CTX *ctx, char *err, size_t errlen);
/* The leaf's subject and notAfter, for a log line ("CN=... until Mar  7 ... GMT"). */
void tls_pair_describe(const struct tls_pair *p, char *out, size_t outlen);
void tls_pair_free(struct tls_pair **p);

/* Apply the protocol and cipher policy to a server SSL_CTX. 0 or EF_ECONFIG. */
int tls_ctx_policy(SSL_CTX *ctx);

/* The CA file of tls_ca holds at least one certificate: 0, or EF_ECONFIG with err. */
int tls_check_ca(const char *ca_file, char *err, size_t errlen);

#endif
