/* SPDX-License-Identifier: MIT */
/* rest_token.c -- REST routes for northbound API tokens (admin only; docs/api.md#api-tokens):
 * api_token_add makes a named token with a scope (admin, operator, read), maybe limited to
 * groups and to a lifetime, and shows it once (only its hash is stored); api_token_query_all
 * lists them without secret or hash; api_token_delete revokes one at once (auth_revoke), but
 * never the last valid admin token (409). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cluster.h"
#include "crypto.h"
#include "device_json.h"
#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "mem.h"
#include "rest.h"

#define MAX_TOKEN_GROUPS 64
#define MAX_EXPIRES_IN (10LL * 366 * 24 * 3600) /* s: ten years */

struct newtok {
  struct store_token t;
  char token[EF_TOKEN_STRLEN];
  char hash[EF_SHA256_HEXLEN];
  char *groups;           /* "id,id" or NULL */
};

static void newtok_free(void *p) {
  struct newtok *n = p;
  explicit_bzero(n->token, sizeof n->token);
  ef_free(n->groups);
  ef_free(n);
}

/* groups: a non-empty array of existing group ids → "id,id" in *out; -1 with the answer set. */
static int parse_groups(struct rest_call *c, struct store *st, const json_t *arr, char **out) {
  if (!json_is_array(arr) || json_array_size(arr) == 0 ||
      json_array_size(arr) > MAX_TOKEN_GROUPS) {
    rest_fail(c, 400, REST_GENERAL, "groups must be an array of 1 to %d group ids",
              MAX_TOKEN_GROUPS);
    return -1;
  }
  size_t n = json_array_size(arr);
  char *s = ef_calloc(n, EF_ID_STRLEN + 1);
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t id = 0;
    if (!id_from_json(json_array_get(arr, i), &id) || !id) {
      ef_free(s);
      rest_fail(c, 400, REST_GENERAL, "groups[%zu] must be a numeric id (string or integer)", i);
      return -1;
    }
    struct store_group g = {0};
    int rc = st->ops->group_get(st, id, &g);
    store_group_clear(&g);
    if (rc) {
      ef_free(s);
      if (rc == EF_ENOENT) rest_fail(c, 404, REST_GROUPOP, "Group NOT FOUND. (groups[%zu])", i);
      else rest_store_fail(c, rc, REST_GROUPOP, "Group", st);
      return -1;
    }
    len += (size_t)sprintf(s + len, "%s%" PRIu64, i ? "," : "", id);
  }
  *out = s;
  return 0;
}

static int token_add_db(struct rest_call *c, struct store *st) {
  const char *scope = jstr(c->body, "scope");
  const char *kind = jstr(c->body, "kind"); /* the old name of scope */
  const char *name = jstr(c->body, "name");
  json_t *groups = json_object_get(c->body, "groups");
  json_t *expires_in = json_object_get(c->body, "expires_in");
  if ((json_object_get(c->body, "scope") && !scope) || (json_object_get(c->body, "kind") && !kind))
    return rest_fail(c, 400, REST_GENERAL, "scope must be a string");
  if (scope && kind && strcmp(scope, kind) != 0)
    return rest_fail(c, 400, REST_GENERAL, "scope and kind (its old name) differ");
  if (!scope) scope = kind;
  enum auth_kind k = auth_scope_parse(scope);
  if (k == AUTH_NONE)
    return rest_fail(c, 400, REST_GENERAL, "scope must be \"admin\", \"operator\" or \"read\"");
  if (!name || !*name)
    return rest_fail(c, 400, REST_GENERAL, "Missing required parameters! (name: a non-empty string)");
  if (rest_check_text(c, "name", NULL, name)) return REST_NEXT;
  if (groups && json_is_null(groups)) groups = NULL;
  if (groups && k == AUTH_ADMIN)
    return rest_fail(c, 400, REST_GENERAL,
                     "an admin token cannot be limited to groups (it manages tokens): give scope "
                     "operator or read");
  int64_t expires = 0;
  if (expires_in && !json_is_null(expires_in)) {
    if (!json_is_integer(expires_in) || json_integer_value(expires_in) <= 0 ||
        json_integer_value(expires_in) > MAX_EXPIRES_IN)
      return rest_fail(c, 400, REST_GENERAL,
                       "expires_in must be a number of seconds from 1 to %lld",
                       (long long)MAX_EXPIRES_IN);
    expires = ef_now_ms() + (int64_t)json_integer_value(expires_in) * 1000;
  }
  struct newtok *n = ef_calloc(1, sizeof *n);
  c->priv = n;
  c->priv_free = newtok_free;
  if (groups && parse_groups(c, st, groups, &n->groups)) return REST_NEXT;
  /* The strings stay the body's (name, scope) or the call's (groups) until it ends. */
  if (auth_new_token(name, auth_scope_name(k), &n->t, n->token, n->hash) != 0)
    return rest_fail(c, 500, REST_INNER, "Server Inner Error");
  n->t.groups = n->groups;
  n->t.expires_time = expires;
  int rc = st->ops->token_add(st, &n->t);
  return rc ? rest_store_fail(c, rc, REST_GENERAL, "Token", st) : REST_NEXT;
}

static json_t *groups_json(const char *groups) {
  if (!groups) return json_null();
  json_t *arr = json_array();
  for (const char *p = groups; *p;) {
    size_t l = strcspn(p, ",");
    json_array_append_new(arr, json_stringn(p, l));
    p += l;
    if (*p == ',') p++;
  }
  return arr;
}

static json_t *time_json(int64_t t) { return t > 0 ? json_integer(t) : json_null(); }

static void token_added(void *ud) { rest_finish(ud); }

static int token_add_loop(struct rest_call *c) {
  struct newtok *n = c->priv;
  auth_add(c->srv->auth, &n->t);
  cluster_announce(c->srv, CLUSTER_TOKENS, 0, NULL, NULL);
  char idbuf[EF_ID_STRLEN];
  rest_ok(c, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "token_id",
                       id_format(n->t.token_id, idbuf), "name", n->t.name, "scope", n->t.scope,
                       "kind", n->t.scope, "groups", groups_json(n->groups), "expires_time",
                       time_json(n->t.expires_time), "token", n->token));
  /* A group-limited token answers once its view is built: it can be used at once. */
  return n->groups && auth_views_refresh(c->srv->auth, token_added, c) ? REST_LATER : REST_NEXT;
}

/* ----- api_token_query_all ----- */

static int token_list_db(struct rest_call *c, struct store *st) {
  struct store_token *ts = NULL;
  size_t n = 0;
  int rc = st->ops->token_list(st, &ts, &n);
  if (rc) return rest_store_fail(c, rc, REST_GENERAL, "Token", st);
  json_t *arr = json_array();
  char idbuf[EF_ID_STRLEN];
  for (size_t i = 0; i < n; i++) /* never the hash */
    json_array_append_new(
        arr, json_pack("{s:s, s:s?, s:s, s:o, s:I, s:o, s:o}", "token_id",
                       id_format(ts[i].token_id, idbuf), "name", ts[i].name, "scope", ts[i].scope,
                       "groups", groups_json(ts[i].groups), "created_time",
                       (json_int_t)ts[i].created_time, "last_used_time",
                       time_json(ts[i].last_used_time), "expires_time",
                       time_json(ts[i].expires_time)));
  store_tokens_free(ts, n);
  return rest_ok(c, arr);
}

/* Last uses newer than the database's (written behind) come from memory. */
static int token_list_loop(struct rest_call *c) {
  size_t i;
  json_t *t;
  json_array_foreach(c->data, i, t) {
    uint64_t id = 0;
    if (!id_from_json(json_object_get(t, "token_id"), &id)) continue;
    int64_t used = 0;
    for (size_t s = 0; auth_slot(c->srv->auth, s); s++)
      if (auth_slot(c->srv->auth, s)->token_id == id) used = auth_slot(c->srv->auth, s)->last_used;
    if (used > json_integer_value(json_object_get(t, "last_used_time")))
      json_object_set_new(t, "last_used_time", json_integer(used));
  }
  return REST_NEXT;
}

/* ----- api_token_delete {token_id} ----- */

static void id_free(void *p) { ef_free(p); }

static int token_delete_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_body_id(c, "token_id");
  if (!id) return REST_NEXT;
  struct store_token *ts = NULL;
  size_t n = 0;
  int rc = st->ops->token_list(st, &ts, &n);
  if (rc) return rest_store_fail(c, rc, REST_GENERAL, "Token", st);
  /* Lock-out: the last valid admin token stays (the database thread runs one job at a time,
   * so two deletes cannot both pass this). */
  bool found = false, admin = false;
  size_t admins = 0;
  int64_t now = ef_now_ms();
  for (size_t i = 0; i < n; i++) {
    bool is_admin = ts[i].scope && strcmp(ts[i].scope, "admin") == 0;
    if (ts[i].token_id == id) {
      found = true;
      admin = is_admin;
    } else if (is_admin && (!ts[i].expires_time || ts[i].expires_time > now)) {
      admins++;
    }
  }
  store_tokens_free(ts, n);
  if (!found) return rest_store_fail(c, EF_ENOENT, REST_GENERAL, "Token", st);
  if (admin && admins == 0)
    return rest_fail(c, 409, REST_GENERAL,
                     "this is the last valid admin token: make another admin token first");
  rc = st->ops->token_delete(st, id);
  if (rc) return rest_store_fail(c, rc, REST_GENERAL, "Token", st);
  uint64_t *p = ef_malloc(sizeof *p);
  *p = id;
  c->priv = p;
  c->priv_free = id_free;
  return REST_NEXT;
}

/* Refused at once from now on, and its dashboards closed (auth's listeners). */
static int token_delete_loop(struct rest_call *c) {
  auth_revoke(c->srv->auth, *(uint64_t *)c->priv);
  cluster_announce(c->srv, CLUSTER_TOKENS, 0, NULL, NULL);
  return rest_ok(c, NULL);
}

const struct rest_route rest_token_routes[] = {
  {"POST", "api_token_add", 0, REST_ADMIN | REST_FLEET, NULL, token_add_db, token_add_loop},
  {"GET", "api_token_query_all", 0, REST_ADMIN | REST_FLEET, NULL, token_list_db, token_list_loop},
  {"DELETE POST", "api_token_delete", 0, REST_ADMIN | REST_FLEET, NULL, token_delete_db,
   token_delete_loop},
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
