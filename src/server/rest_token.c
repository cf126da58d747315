/* SPDX-License-Identifier: MIT */
/* rest_token.c -- REST routes for northbound API tokens: api_token_add makes a token (admin or
 * read-only, e.g. for dashboards) and shows it once; only its hash is stored. */
#include <string.h>

#include "crypto.h"
#include "id.h"
#include "jsonutil.h"
#include "mem.h"
#include "rest.h"

struct newtok {
  struct store_token t;
  char token[EF_TOKEN_STRLEN];
  char hash[EF_SHA256_HEXLEN];
};

static void newtok_free(void *p) {
  struct newtok *n = p;
  explicit_bzero(n->token, sizeof n->token);
  ef_free(n);
}

static int token_add_db(struct rest_call *c, struct store *st) {
  const char *kind = jstr(c->body, "kind");
  const char *name = jstr(c->body, "name");
  if (!kind || (strcmp(kind, "read") != 0 && strcmp(kind, "admin") != 0))
    return rest_fail(c, 400, REST_GENERAL, "kind must be \"read\" or \"admin\"");
  if (json_object_get(c->body, "name") && !name)
    return rest_fail(c, 400, REST_GENERAL, "name must be a string");
  if (rest_check_text(c, "name", NULL, name)) return REST_NEXT;
  struct newtok *n = ef_calloc(1, sizeof *n);
  c->priv = n;
  c->priv_free = newtok_free;
  /* The strings stay the body's; the call owns both until it ends. */
  if (auth_new_token(name, kind, &n->t, n->token, n->hash) != 0)
    return rest_fail(c, 500, REST_INNER, "Server Inner Error");
  int rc = st->ops->token_add(st, &n->t);
  return rc ? rest_store_fail(c, rc, REST_GENERAL, "Token", st) : REST_NEXT;
}

static int token_add_loop(struct rest_call *c) {
  struct newtok *n = c->priv;
  auth_add(c->srv->auth, &n->t);
  char idbuf[EF_ID_STRLEN];
  return rest_ok(c, json_pack("{s:s, s:s, s:s}", "token_id", id_format(n->t.token_id, idbuf),
                              "kind", n->t.kind, "token", n->token));
}

const struct rest_route rest_token_routes[] = {
  {"POST", "api_token_add", 0, 1, NULL, token_add_db, token_add_loop},
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
