/* SPDX-License-Identifier: MIT */
/* auth.c -- northbound API tokens: bearer tokens checked against their SHA-256, held in memory.
 *
 * Tokens are stored only as hashes. On the first start (no token at all) an admin token is
 * made and written once to <data_dir>/admin.token with mode 0600: the only place it exists in
 * clear. An existing admin.token is never replaced: a database without tokens beside one is
 * refused (main.c refuses a missing database there before it is created). Checking a request
 * costs one SHA-256 and a compare per known token (a handful).
 *
 * Each token has a request rate (auth_rate): the generic cell rate algorithm, a token bucket
 * kept as one time per token, the "theoretical arrival time" `tat` of the next request. At
 * `rate` requests per second each request moves it on by T = 1/rate; a request is let through
 * while tat is at most (burst - 1) * T ahead of now. No timer, no refill loop: integer ns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "crypto.h"
#include "edgefleet/error.h"
#include "id.h"
#include "log.h"
#include "mem.h"
#include "server.h"

struct auth {
  struct store_token *tokens;
  size_t n;
  uint64_t *tat;             /* per token (same index): its bucket, ns of uv_hrtime() */
};

/* Never over an existing file: it holds the token of another database (auth_init). */
static int write_token_file(const char *data_dir, const char *token, char *err, size_t errlen) {
  char *path = ef_asprintf("%s/admin.token", data_dir);
  int rc = 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, token, strlen(token)) != (ssize_t)strlen(token) ||
      write(fd, "\n", 1) != 1) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    rc = EF_ESYS;
  }
  if (fd >= 0) close(fd);
  ef_free(path);
  return rc;
}

int auth_init(struct store *st, const char *data_dir, struct auth **out, char *err,
              size_t errlen) {
  struct auth *a = ef_calloc(1, sizeof *a);
  int rc = st->ops->token_list(st, &a->tokens, &a->n);
  if (rc != 0) {
    snprintf(err, errlen, "reading API tokens: %s", store_errmsg(st));
    goto fail;
  }
  if (a->n == 0) {
    char *path = ef_asprintf("%s/admin.token", data_dir);
    bool exists = access(path, F_OK) == 0;
    if (exists)
      snprintf(err, errlen,
               "the database has no API token but %s exists: it belongs to another database; "
               "restore that database, or remove admin.token to start afresh",
               path);
    ef_free(path);
    if (exists) {
      rc = EF_EEXIST;
      goto fail;
    }
    char token[EF_TOKEN_STRLEN], hash[EF_SHA256_HEXLEN];
    struct store_token t;
    if ((rc = auth_new_token("admin", "admin", &t, token, hash)) != 0) {
      snprintf(err, errlen, "no randomness for the admin token");
      goto fail;
    }
    if ((rc = st->ops->token_add(st, &t)) != 0) {
      snprintf(err, errlen, "storing the admin token: %s", store_errmsg(st));
      goto fail;
    }
    if ((rc = write_token_file(data_dir, token, err, errlen)) != 0) goto fail;
    explicit_bzero(token, sizeof token);
    ef_log(EF_LOG_INFO, "auth: created the admin API token in %s/admin.token", data_dir);
    store_tokens_free(a->tokens, a->n);
    if ((rc = st->ops->token_list(st, &a->tokens, &a->n)) != 0) goto fail;
  }
  a->tat = ef_calloc(a->n ? a->n : 1, sizeof *a->tat);
  *out = a;
  return 0;

fail:
  auth_free(&a);
  return rc ? rc : EF_EIO;
}

int auth_new_token(const char *name, const char *kind, struct store_token *t, char *out,
                   char *hash) {
  int rc = crypto_token(out);
  if (rc != 0) return rc;
  crypto_sha256_hex(out, strlen(out), hash);
  *t = (struct store_token){.token_id = id_next(), .name = (char *)name, .kind = (char *)kind,
                            .token_hash = hash, .created_time = ef_now_ms()};
  return 0;
}

void auth_add(struct auth *a, const struct store_token *t) {
  a->tokens = ef_realloc(a->tokens, (a->n + 1) * sizeof *a->tokens);
  a->tat = ef_realloc(a->tat, (a->n + 1) * sizeof *a->tat);
  a->tat[a->n] = 0;
  a->tokens[a->n++] = (struct store_token){
    .token_id = t->token_id, .name = ef_strdup(t->name), .kind = ef_strdup(t->kind),
    .token_hash = ef_strdup(t->token_hash), .created_time = t->created_time};
}

enum auth_kind auth_check(const struct auth *a, const char *authorization) {
  return auth_identify(a, authorization, NULL);
}

enum auth_kind auth_identify(const struct auth *a, const char *authorization, size_t *slot) {
  if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return AUTH_NONE;
  const char *tok = authorization + 7;
  while (*tok == ' ') tok++;
  size_t len = strlen(tok);
  while (len && tok[len - 1] == ' ') len--;
  if (!len) return AUTH_NONE;
  char hash[EF_SHA256_HEXLEN];
  crypto_sha256_hex(tok, len, hash);
  for (size_t i = 0; i < a->n; i++)
    if (crypto_streq(hash, a->tokens[i].token_hash)) {
      if (slot) *slot = i;
      return strcmp(a->tokens[i].kind, "admin") == 0 ? AUTH_ADMIN : AUTH_READ;
    }
  return AUTH_NONE;
}

bool auth_token_who(const struct auth *a, size_t slot, uint64_t *id, const char **name) {
  if (slot >= a->n) return false;
  if (id) *id = a->tokens[slot].token_id;
  if (name) *name = a->tokens[slot].name;
  return true;
}

int64_t auth_rate(struct auth *a, size_t slot, int64_t rate, int64_t burst, uint64_t now_ns,
                  bool peek) {
  if (rate <= 0 || slot >= a->n) return 0;
  uint64_t t = 1000000000ull / (uint64_t)rate;
  if (t == 0) t = 1;
  uint64_t tau = t * (uint64_t)(burst > 1 ? burst - 1 : 0); /* how far ahead tat may be */
  uint64_t tat = a->tat[slot] > now_ns ? a->tat[slot] : now_ns;
  if (tat - now_ns > tau) {
    uint64_t wait = tat - tau - now_ns;
    return (int64_t)((wait + 999999) / 1000000);
  }
  if (!peek) a->tat[slot] = tat + t;
  return 0;
}

void auth_free(struct auth **ap) {
  struct auth *a = *ap;
  if (!a) return;
  store_tokens_free(a->tokens, a->n);
  ef_free(a->tat);
  ef_free(a);
  *ap = NULL;
}
