/* rest.h -- the northbound REST API's routing and request pipeline.
 *
 * Every route is a row: method(s), name under /service/devices_manage/, how many path
 * arguments it takes, whether it needs an admin token, and up to three stages that run in
 * this order when present:
 *
 *   pool(c)        on the uv thread pool: CPU-heavy work such as bcrypt; no store access
 *   db(c, st)      on the database thread (worker.h): all store access
 *   loop(c)        on the loop thread: live state (sessions, orders); may finish later
 *
 * rest.c does everything before the first stage (path match, 404/405, bearer auth → 401/403,
 * Content-Type and JSON-object body → 400, the net layer already answered 413) and answers
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

struct rest_route {
  const char *methods;  /* space-separated, e.g. "POST" or "PUT POST" */
  const char *name;     /* e.g. "device_query" */
  int nargs;            /* path arguments after the name: device_query/<id> → 1 */
  int admin;            /* 1: admin token required; 0: a read token is enough */
  int (*pool)(struct rest_call *c);
  int (*db)(struct rest_call *c, struct store *st);
  int (*loop)(struct rest_call *c);
};

struct rest_call {
  struct server *srv;
  struct net_req *req;
  const struct rest_route *route;
  const char *args[REST_MAX_ARGS]; /* decoded path arguments (owned by the call) */
  json_t *body;                    /* the request's JSON object, or NULL for GET */
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
/* A loop stage for routes that add, change or delete devices: dashboards refetch their lists. */
int rest_devices_changed(struct rest_call *c);

/* The route tables, one per resource file. Each ends with a row whose name is NULL. */
extern const struct rest_route rest_device_routes[];   /* rest_device.c */
extern const struct rest_route rest_group_routes[];    /* rest_group.c */
extern const struct rest_route rest_relation_routes[]; /* rest_relation.c */
extern const struct rest_route rest_live_routes[];     /* rest_live.c: status, orders, miners */
extern const struct rest_route rest_token_routes[];    /* rest_token.c: API tokens */

#endif
