/* SPDX-License-Identifier: MIT */
/* tls.c -- the server's certificate + key pair and its TLS policy (see tls.h). OpenSSL. */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "edgefleet/error.h"
#include "mem.h"

struct tls_pair {
  X509 *leaf;
  STACK_OF(X509) *chain; /* the certificates after the leaf, possibly none */
  EVP_PKEY *key;
};

/* The last OpenSSL error as text (and the queue emptied), or `dflt`. */
static const char *ossl_why(char *buf, size_t len, const char *dflt) {
  unsigned long e = ERR_peek_last_error();
  if (!e) {
    snprintf(buf, len, "%s", dflt);
  } else {
    ERR_error_string_n(e, buf, len);
  }
  ERR_clear_error();
  return buf;
}

void tls_pair_free(struct tls_pair **pp) {
  struct tls_pair *p = pp ? *pp : NULL;
  if (!p) return;
  X509_free(p->leaf);
  sk_X509_pop_free(p->chain, X509_free);
  EVP_PKEY_free(p->key);
  ef_free(p);
  *pp = NULL;
}

int tls_pair_load(const char *cert_file, const char *key_file, struct tls_pair **out, char *err,
                  size_t errlen) {
  char why[256];
  struct tls_pair *p = ef_calloc(1, sizeof *p);
  ERR_clear_error();
  FILE *f = fopen(cert_file, "r");
  if (!f) {
    snprintf(err, errlen, "tls_cert %s: %s", cert_file, strerror(errno));
    goto fail;
  }
  p->leaf = PEM_read_X509_AUX(f, NULL, NULL, NULL);
  p->chain = sk_X509_new_null();
  X509 *x;
  while (p->leaf && (x = PEM_read_X509(f, NULL, NULL, NULL)))
    sk_X509_push(p->chain, x);
  fclose(f);
  if (!p->leaf) {
    snprintf(err, errlen, "tls_cert %s: no PEM certificate in it (%s)", cert_file,
             ossl_why(why, sizeof why, "empty"));
    goto fail;
  }
  ERR_clear_error(); /* the end of the chain reads as "no start line" */
  f = fopen(key_file, "r");
  if (!f) {
    snprintf(err, errlen, "tls_key %s: %s", key_file, strerror(errno));
    goto fail;
  }
  p->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  if (!p->key) {
    snprintf(err, errlen, "tls_key %s: no unencrypted PEM private key in it (%s)", key_file,
             ossl_why(why, sizeof why, "empty"));
    goto fail;
  }
  if (X509_check_private_key(p->leaf, p->key) != 1) {
    ERR_clear_error();
    snprintf(err, errlen, "tls_key %s does not match the certificate of tls_cert %s", key_file,
             cert_file);
    goto fail;
  }
  *out = p;
  return 0;
fail:
  tls_pair_free(&p);
  return EF_ECONFIG;
}

int tls_pair_apply(const struct tls_pair *p, SSL_CTX *ctx, char *err, size_t errlen) {
  char why[256];
  ERR_clear_error();
  /* override = 1: replaces the pair of the same key type at once, chain included */
  if (SSL_CTX_use_cert_and_key(ctx, p->leaf, p->key, p->chain, 1) != 1) {
    snprintf(err, errlen, "cannot use the certificate: %s", ossl_why(why, sizeof why, "?"));
    return EF_ECONFIG;
  }
  return 0;
}

void tls_pair_describe(const struct tls_pair *p, char *out, size_t outlen) {
  char subject[256] = "?", until[64] = "?";
  X509_NAME_oneline(X509_get_subject_name(p->leaf), subject, sizeof subject);
  BIO *b = BIO_new(BIO_s_mem());
  if (b && ASN1_TIME_print(b, X509_get0_notAfter(p->leaf)) == 1) {
    int n = BIO_read(b, until, (int)sizeof until - 1);
    until[n > 0 ? n : 0] = '\0';
  }
  BIO_free(b);
  snprintf(out, outlen, "%s, valid until %s, %d more in its chain", subject, until,
           sk_X509_num(p->chain));
}

int tls_ctx_policy(SSL_CTX *ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1) {
    ERR_clear_error();
    return EF_ECONFIG;
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  return 0;
}

int tls_check_ca(const char *ca_file, char *err, size_t errlen) {
  STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_file);
  int n = names ? sk_X509_NAME_num(names) : 0;
  sk_X509_NAME_pop_free(names, X509_NAME_free);
  ERR_clear_error();
  if (n > 0) return 0;
  snprintf(err, errlen, "tls_ca %s: no readable PEM certificate in it", ca_file);
  return EF_ECONFIG;
}
