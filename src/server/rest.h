/* SPDX-License-Identifier: MIT */
/* rest.h -- the northbound REST API's routing and request pipeline.
 *
 * Every route is a row: method(s), name under /service/devices_manage/, how many path
 * arguments it takes, the token it needs (REST_READ, REST_OPERATOR, REST_ADMIN; | REST_FLEET:
 * not limited to groups), and up to three stages that run in this order when present:
 *
 *   pool(c)        on the uv thread pool: CPU-heavy work such as bcrypt; no store access
 *   db(c, st)      on the database thread (worker.h): all store access
 *   loop(c)        on the loop thread: live state (sessions, orders); may finish later
 *
 * rest.c does everything before the first stage (path match, 404/405, bearer auth → 401, the
 * token's request rate → 429 with Retry-After, scope → 403, Content-Type and JSON-object
 * body → 400, the net layer already answered 413) and answers
 * after the last one from c->status / c->data or the error set with rest_fail(). A `loop`
 * stage that waits for something (an order's result) returns REST_LATER and calls
 * rest_finish(c) when done; every other stage returns REST_NEXT.
 *
 * Response shapes (docs/protocol.md#rest-errors, docs/api.md): 200 {"status":"success","data":…};
 * errors {"status":"fail","type":"GENERAL_ERROR|DEVICEOP_ERROR|…","message":"…"}.
 */
#ifndef EF_REST_H
#define EF_REST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "server.h"

#define REST_BASE "/service/devices_manage/"
#define REST_MAX_ARGS 2

enum rest_next { REST_NEXT = 0, REST_LATER = 1 };

/* Error types of the failure JSON. */
#define REST_GENERAL "GENERAL_ERROR"
#define REST_DEVICEOP "DEVICEOP_ERROR"
#define REST_GROUPOP "GROUPOP_ERROR"
#define REST_RELATIONOP "RELATIONOP_ERROR"
#define REST_DATABASE "DATABASE_ERROR"
#define REST_INNER "INNER_ERROR"

struct rest_call;

/* What a route needs of its token (struct rest_route.need): a scope (auth_kind's order), and
 * REST_FLEET for routes a group-limited token may not use (creating or deleting devices or
 * groups; docs/api.md#scopes). */
#define REST_READ AUTH_READ
#define REST_OPERATOR AUTH_OPERATOR
#define REST_ADMIN AUTH_ADMIN
#define REST_SCOPE_MASK 0x0f
#define REST_FLEET 0x10

struct rest_route {
  const char *methods;  /* space-separated, e.g. "POST" or "PUT POST" */
  const char *name;     /* e.g. "device_query" */
  int nargs;            /* path arguments after the name: device_query/<id> → 1 */
  int need;             /* REST_READ | REST_OPERATOR | REST_ADMIN, maybe | REST_FLEET */
  int (*pool)(struct rest_call *c);
  int (*db)(struct rest_call *c, struct store *st);
  int (*loop)(struct rest_call *c);
  /* The audit log (audit.h) records every call of a route that accepts a method other than
   * GET; a row that only reads although it takes a body (filters) says so here. */
  bool reads_only;
};

struct rest_call {
  struct server *srv;
  struct net_req *req;
  const struct rest_route *route;
  const char *args[REST_MAX_ARGS]; /* decoded path arguments (owned by the call) */
  json_t *body;                    /* the request's JSON object, or NULL for GET */
  /* the calling token (auth.h; id and name also for the audit log) */
  uint64_t token_id;
  char *token_name;                /* owned; NULL: unnamed */
  enum auth_kind scope;
  struct auth_view *view;          /* held by the call; NULL: not limited to groups */
  /* result */
  int status;                      /* HTTP status, 200 unless rest_fail() set one */
  json_t *data;                    /* success data (owned; NULL → {}) */
  const char *etype;               /* set by rest_fail */
  char *emsg;
  void *priv;                      /* a route's own state between stages */
  void (*priv_free)(void *priv);   /* called when the call ends, if set */
  /* private */
  uv_work_t pool_req;
  struct worker_job job;
};

/* Set the failure answer (http 400/404/409/500/...). Returns REST_NEXT for tail calls. */
int rest_fail(struct rest_call *c, int http, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Set the success data (steals the reference; NULL means {}). Returns REST_NEXT. */
int rest_ok(struct rest_call *c, json_t *data);
/* Answer a request that never became a call (the router's refusals): the failure JSON. */
void rest_respond_fail(struct net_req *req, int status, const char *type, const char *msg);
/* Finish a call whose loop stage returned REST_LATER: answer and free it. */
void rest_finish(struct rest_call *c);
/* Map a store error to the failure answer: ENOENT → 404 "<what> NOT FOUND.", EEXIST → 409
 * "<what> already exists.", EINVAL → 400, other → rest_db_fail. Returns REST_NEXT. */
int rest_store_fail(struct rest_call *c, int err, const char *type, const char *what,
                    struct store *st);
/* The answer to a failure of the database itself, DATABASE_ERROR: EF_EFULL → 507 "database
 * full: ...", EF_EBUSY → 503 "database busy: ...", EF_ECORRUPT, EF_EREADONLY, EF_EIO → 500
 * "database corrupt: ..." and so on, other → 500. `note` (may be NULL) is appended in
 * parentheses. Returns REST_NEXT. */
int rest_db_fail(struct rest_call *c, int err, const char *note);
/* Parse an id argument or body member; on failure set a 400 and return 0. */
uint64_t rest_arg_id(struct rest_call *c, int i, const char *what);
uint64_t rest_body_id(struct rest_call *c, const char *key);

/* A loop stage for routes answering device JSON (an object or an array): the live dev_state
 * from memory replaces the stored one. */
int rest_live_state(struct rest_call *c);
/* A loop stage for routes that add, change or delete devices, groups or relations: the views
 * of group-limited tokens are rebuilt (the answer waits for them), dashboards refetch their
 * lists. */
int rest_devices_changed(struct rest_call *c);
/* Group-limited tokens (c->view): may the call see this device / group? true when unlimited. */
static inline bool rest_sees_device(const struct rest_call *c, uint64_t id) {
  return auth_view_has_device(c->view, id);
}
static inline bool rest_sees_group(const struct rest_call *c, uint64_t id) {
  return auth_view_has_group(c->view, id);
}
/* ----- filters of a body (audit_query, alert_log_query, ...): each is true, or false with the
 * 400 set; an absent member leaves *out as it was. ----- */
/* Every member of the body is one of `known` (NULL-ended); `list` names them for the message. */
bool rest_body_only(struct rest_call *c, const char *const *known, const char *list);
/* `key`: an integer >= 0, a time in ms since the epoch. */
bool rest_body_ms(struct rest_call *c, const char *key, int64_t *out);
/* `key`: a non-empty string of at most `max` bytes, copied into *out (the caller's). */
bool rest_body_str(struct rest_call *c, const char *key, size_t max, char **out);
/* The same, borrowed from the body: *out is NULL when `key` is absent. */
bool rest_body_text(struct rest_call *c, const char *key, size_t max, const char **out);
/* A page: "limit" (1..max) and "cursor" (the next_cursor of an earlier answer: rows older
 * than *before_id). */
bool rest_body_page(struct rest_call *c, size_t max, size_t *limit, uint64_t *before_id);

/* Keep, in order, the rows of arr[0..n) the call may see; the others are cleared. The new n. */
size_t rest_keep_seen_devices(const struct rest_call *c, struct store_device *arr, size_t n);
size_t rest_keep_seen_groups(const struct rest_call *c, struct store_group *arr, size_t n);

/* ----- limits of what routes store (rest_limits.c; docs/api.md#limits) -----
 * Every string member a route stores has a row in rest_limits[]: its kind and its limit in
 * bytes (UTF-8, as stored). Names (identifiers, versions, MACs, group and token names, order
 * names) may not contain control characters (U+0000-U+001F, U+007F-U+009F); free text may,
 * except tab, line feed and carriage return; passwords are only bounded: bcrypt reads at most
 * 72 bytes, so a longer one could never be told from its first 72. */
#define REST_MAX_NAME 128      /* identifiers and names */
#define REST_MAX_TEXT 1024     /* free text: descriptions */
#define REST_MAX_PASSWORD 72   /* bcrypt's input */
#define REST_MAX_NIC 4096      /* a device's nic array, as its compact JSON text */

enum rest_text {
  REST_TEXT_NAME,   /* no control characters */
  REST_TEXT_FREE,   /* tab, LF and CR allowed; other control characters not */
  REST_TEXT_SECRET, /* any bytes (a password): length only */
  REST_TEXT_JSON,   /* JSON text the server made: length only (its strings are checked apart) */
};

struct rest_limit {
  const char *member; /* as a body names it: "group_name", "hardware.sn", "nic[].mac" */
  enum rest_text kind;
  size_t max;         /* bytes */
};

/* The table, ended by a row whose member is NULL; and the row of `member`, or NULL. */
extern const struct rest_limit rest_limits[];
const struct rest_limit *rest_limit_of(const char *member);
/* 0 when `s` may be stored as `member` (which must have a row); else EF_EINVAL with err =
 * "<path> longer than <max> bytes" or "<path> contains a control character (U+XXXX)", where
 * path is `path`, or `member` when path is NULL. Pure: any thread. */
int rest_text_check(const char *member, const char *path, const char *s, char *err,
                    size_t errlen);
/* The same on a call: 0, or -1 with the 400 set. `prefix` goes before the member in the
 * message ("devices[3]."; NULL: none). A NULL `s` (absent member) passes. */
int rest_check_text(struct rest_call *c, const char *member, const char *prefix, const char *s);
/* Every string of device `d` (as device_from_json read it from `obj`, the device body): its
 * STORE_DEVICE_FIELDS, the password, and nic's type/mac/ipv4 members. 0, or -1 with the 400. */
int rest_check_device(struct rest_call *c, const struct store_device *d, const json_t *obj,
                      const char *prefix);

/* The route tables, one per resource file. Each ends with a row whose name is NULL. */
extern const struct rest_route rest_device_routes[];   /* rest_device.c */
extern const struct rest_route rest_group_routes[];    /* rest_group.c */
extern const struct rest_route rest_relation_routes[]; /* rest_relation.c */
extern const struct rest_route rest_live_routes[];     /* rest_live.c: status, orders, miners */
extern const struct rest_route rest_token_routes[];    /* rest_token.c: API tokens */
extern const struct rest_route rest_audit_routes[];    /* rest_audit.c: the audit log */
extern const struct rest_route rest_alert_routes[];    /* rest_alert.c: alerts and rules */
extern const struct rest_route rest_history_routes[];  /* rest_history.c: history ranges */

#endif
