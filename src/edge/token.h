/* SPDX-License-Identifier: MIT */
/* token.h -- the session token kept in data_dir/session.json (mode 0600):
 * {"device_id":"…","token":"…","expires":<ms since epoch, 0 = unknown>}. */
#ifndef EF_EDGE_TOKEN_H
#define EF_EDGE_TOKEN_H

#include <stdint.h>

#define TOKEN_FILE "session.json"

struct token {
  char *device_id; /* owned */
  char *token;     /* owned */
  int64_t expires;
};

/* Load the token of `dir`. 0, EF_ENOENT (none, unreadable or malformed: a malformed file is
 * removed), or EF_ETIMEDOUT when it expired at or before now_ms (the file is removed). */
int token_load(const char *dir, int64_t now_ms, struct token *out);
/* Write atomically (temp file + rename) with mode 0600. 0 or EF_ESYS. */
int token_save(const char *dir, const char *device_id, const char *token, int64_t expires);
/* Remove the file; no error when absent. */
void token_delete(const char *dir);
void token_clear(struct token *t);

#endif
