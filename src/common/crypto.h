/* SPDX-License-Identifier: MIT */
/* crypto.h -- the few primitives edgefleet needs, on OpenSSL and libcrypt:
 * random tokens, SHA-256 of tokens (tokens are stored only as hashes), bcrypt ($2b$) password
 * hashing that interoperates with Python's bcrypt, and HMAC-SHA-256 under a secret kept in a
 * file of its own (the password verifier, docs/security.md#verifier). */
#ifndef EF_CRYPTO_H
#define EF_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define EF_TOKEN_STRLEN 44     /* 32 random bytes, base64url without padding + NUL */
#define EF_SHA256_HEXLEN 65    /* 64 hex digits + NUL */
#define EF_BCRYPT_MAXLEN 128

/* A fresh random token (base64url, 43 chars) in out[EF_TOKEN_STRLEN]; 0 or EF_ESYS. */
int crypto_token(char out[EF_TOKEN_STRLEN]);
/* Hex SHA-256 of s into out[EF_SHA256_HEXLEN]. */
void crypto_sha256_hex(const char *s, size_t len, char out[EF_SHA256_HEXLEN]);
/* bcrypt $2b$ hash of password at `cost` (4..31) into out[EF_BCRYPT_MAXLEN]; 0 or EF_E*.
 * Slow by design (~180 ms at cost 12): never call on an event loop thread. */
int crypto_bcrypt_hash(const char *password, int cost, char out[EF_BCRYPT_MAXLEN]);
/* true when password matches the $2a$/$2b$/$2y$ hash. Same cost warning as above. */
bool crypto_bcrypt_verify(const char *password, const char *hash);
/* true when `hash` has the shape of a bcrypt hash crypto_bcrypt_verify can check: "$2a$",
 * "$2b$" or "$2y$", a cost 04..31, "$", then 53 characters of bcrypt's base64 (22 of salt, 31
 * of hash): 60 in all. Cheap (no hashing); says nothing of the password. */
bool crypto_bcrypt_hash_valid(const char *hash);
#define EF_SECRET_LEN 32       /* bytes of a server-side secret key */
/* Hex HMAC-SHA-256 of s under key into out[EF_SHA256_HEXLEN]. */
void crypto_hmac_sha256_hex(const unsigned char *key, size_t keylen, const char *s, size_t len,
                            char out[EF_SHA256_HEXLEN]);
/* The secret in `path` (hex, EF_SECRET_LEN bytes), made with fresh random bytes and mode 0600 when
 * the file does not exist. 0, or EF_ESYS / EF_ECONFIG (unreadable, malformed, too open) with a
 * message in err. Blocking: start-up only. */
int crypto_secret_file(const char *path, unsigned char key[EF_SECRET_LEN], char *err,
                       size_t errlen);
/* Constant-time comparison of two NUL-terminated strings. */
bool crypto_streq(const char *a, const char *b);

#endif
