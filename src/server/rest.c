/* SPDX-License-Identifier: MIT */
/* rest.c -- the northbound REST API's router and stage pipeline (see rest.h): matches a request
 * to a route row, answers 404/405/401/429/403/400 before any stage, then runs the row's stages.
 * The call object and its answers are rest_call.c's, which routes use too. */
#include "rest.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "jsonutil.h"
#include "mem.h"

static const struct rest_route *const route_tables[] = {
  rest_device_routes, rest_group_routes, rest_relation_routes, rest_live_routes,
  rest_token_routes, rest_audit_routes, rest_alert_routes, rest_history_routes,
};

enum stage { ST_POOL, ST_DB, ST_LOOP, ST_END };

static void run_from(struct rest_call *c, enum stage st);

static void pool_work(uv_work_t *w) {
  struct rest_call *c = container_of(w, struct rest_call, pool_req);
  c->route->pool(c);
}

static void pool_after(uv_work_t *w, int status) {
  struct rest_call *c = container_of(w, struct rest_call, pool_req);
  if (status != 0) rest_fail(c, 500, REST_INNER, "Server Inner Error");
  run_from(c, ST_DB);
}

static void db_work(struct store *st, struct worker_job *job) {
  struct rest_call *c = container_of(job, struct rest_call, job);
  c->route->db(c, st);
}

static void db_done(struct worker_job *job) {
  run_from(container_of(job, struct rest_call, job), ST_LOOP);
}

static void run_from(struct rest_call *c, enum stage st) {
  const struct rest_route *r = c->route;
  if (!c->etype && st <= ST_POOL && r->pool) {
    if (uv_queue_work(c->srv->loop, &c->pool_req, pool_work, pool_after) == 0) return;
    rest_fail(c, 500, REST_INNER, "Server Inner Error");
  }
  if (!c->etype && st <= ST_DB && r->db) {
    c->job.work = db_work;
    c->job.done = db_done;
    worker_submit(c->srv->worker, &c->job);
    return;
  }
  if (!c->etype && st <= ST_LOOP && r->loop && r->loop(c) == REST_LATER) return;
  rest_finish(c);
}

/* ----- routing ----- */

static bool method_allowed(const char *methods, const char *m) {
  size_t ml = strlen(m);
  for (const char *p = methods; *p;) {
    size_t l = strcspn(p, " ");
    if (l == ml && strncmp(p, m, l) == 0) return true;
    p += l;
    while (*p == ' ') p++;
  }
  return false;
}

/* The row named `name` that takes `nargs` path arguments, else the first row of that name (the
 * caller reports its argument count), else NULL. A name may have one row per argument count
 * (device_log_query/<id> and device_log_query/<id>/<before>). */
static const struct rest_route *find_route(const char *name, size_t len, int nargs) {
  const struct rest_route *first = NULL;
  for (size_t t = 0; t < sizeof route_tables / sizeof *route_tables; t++)
    for (const struct rest_route *r = route_tables[t]; r->name; r++)
      if (strlen(r->name) == len && strncmp(r->name, name, len) == 0) {
        if (r->nargs == nargs) return r;
        if (!first) first = r;
      }
  return first;
}

/* A refusal once the token is known: recorded in the audit log (audit.h), then answered. */
static void refuse(struct server *srv, struct net_req *req, const struct rest_route *r,
                   size_t slot, int status, const char *msg) {
  audit_refusal(srv, req, r, slot, status, msg);
  rest_respond_fail(req, status, REST_GENERAL, msg);
}

/* 429 with Retry-After (whole seconds, at least 1): the token's bucket is empty for wait_ms. */
static void too_many(struct server *srv, struct net_req *req, const struct rest_route *r,
                     size_t slot, int64_t wait_ms) {
  char secs[24], msg[192];
  snprintf(secs, sizeof secs, "%lld", (long long)((wait_ms + 999) / 1000));
  snprintf(msg, sizeof msg,
           "too many requests for this API token (at most %lld per second, %lld at once): "
           "retry after %s s", (long long)srv->cfg.rest_rate, (long long)srv->cfg.rest_burst,
           secs);
  net_req_set_header(req, "Retry-After", secs);
  refuse(srv, req, r, slot, 429, msg);
}

/* Everything decided from the request line and headers: the route and its path arguments,
 * 404/405, the token (401; "token expired"), its request rate (429), its scope (403), the body's
 * Content-Type (400).
 * NULL once it has answered. `charge`: the request counts against its token's rate; otherwise
 * (rest_headers, before the body is read) the rate is only looked at, so that a request is
 * counted once, in rest_request, and an empty bucket is still refused before any body is read. */
struct admitted {
  const struct rest_route *route;
  size_t slot;                     /* the token's (auth_slot) */
  enum auth_kind scope;
  const char *args[REST_MAX_ARGS + 1];
  size_t arglen[REST_MAX_ARGS + 1];
  int nargs;
};

static const struct rest_route *admit(struct server *srv, struct net_req *req,
                                      struct admitted *a, bool charge) {
  const char *path = net_req_path(req);
  size_t base = strlen(REST_BASE);
  memset(a, 0, sizeof *a);
  if (strncmp(path, REST_BASE, base) != 0) {
    rest_respond_fail(req, 404, REST_GENERAL, "no such resource");
    return NULL;
  }
  const char *name = path + base;
  size_t nlen = strcspn(name, "/");
  /* Path arguments: name/<a>/<b>; exactly r->nargs of them, none empty. */
  for (const char *p = name + nlen; *p == '/' && a->nargs <= REST_MAX_ARGS;) {
    p++;
    size_t l = strcspn(p, "/");
    if (l == 0 && !p[l]) break; /* a trailing slash */
    a->args[a->nargs] = p;
    a->arglen[a->nargs++] = l;
    p += l;
  }
  const struct rest_route *r = find_route(name, nlen, a->nargs);
  char msg[128];
  if (!r) {
    rest_respond_fail(req, 404, REST_GENERAL, "no such API");
    return NULL;
  }
  if (a->nargs != r->nargs) {
    snprintf(msg, sizeof msg, "%s takes %d path argument%s", r->name, r->nargs,
             r->nargs == 1 ? "" : "s");
    rest_respond_fail(req, 404, REST_GENERAL, msg);
    return NULL;
  }
  if (!method_allowed(r->methods, net_req_method(req))) {
    snprintf(msg, sizeof msg, "%s accepts %s", r->name, r->methods);
    rest_respond_fail(req, 405, REST_GENERAL, msg);
    return NULL;
  }
  size_t slot = 0;
  enum auth_kind who = auth_identify(srv->auth, net_req_header(req, "authorization"), &slot);
  if (who == AUTH_EXPIRED) {
    rest_respond_fail(req, 401, REST_GENERAL, "token expired");
    return NULL;
  }
  if (who <= AUTH_NONE) {
    rest_respond_fail(req, 401, REST_GENERAL, "missing or invalid API token (Authorization: Bearer …)");
    return NULL;
  }
  int64_t wait = auth_rate(srv->auth, slot, srv->cfg.rest_rate, srv->cfg.rest_burst, uv_hrtime(),
                           !charge);
  if (wait > 0) {
    too_many(srv, req, r, slot, wait);
    return NULL;
  }
  int need = r->need & REST_SCOPE_MASK;
  if ((int)who < need) {
    snprintf(msg, sizeof msg, "%s needs a%s %s token; this one is %s", r->name,
             need == AUTH_ADMIN || need == AUTH_OPERATOR ? "n" : "",
             auth_scope_name((enum auth_kind)need), auth_scope_name(who));
    refuse(srv, req, r, slot, 403, msg);
    return NULL;
  }
  const struct auth_token *tok = auth_slot(srv->auth, slot);
  if ((r->need & REST_FLEET) && tok && tok->view) {
    snprintf(msg, sizeof msg, "%s needs a token not limited to groups", r->name);
    refuse(srv, req, r, slot, 403, msg);
    return NULL;
  }
  a->slot = slot;
  a->scope = who;
  if (strcmp(net_req_method(req), "GET") != 0) {
    const char *ct = net_req_header(req, "content-type");
    if (!ct || strncmp(ct, "application/json", 16) != 0) {
      refuse(srv, req, r, slot, 400, "Content-Type must be application/json");
      return NULL;
    }
  }
  return a->route = r;
}

void rest_headers(struct server *srv, struct net_req *req) {
  struct admitted a;
  admit(srv, req, &a, false);
}

void rest_request(struct server *srv, struct net_req *req) {
  struct admitted a;
  const struct rest_route *r = admit(srv, req, &a, true);
  if (!r) return;
  json_t *body = NULL;
  if (strcmp(net_req_method(req), "GET") != 0) {
    body = jparse_object(net_req_body(req), net_req_body_len(req));
    if (!body) {
      refuse(srv, req, r, a.slot, 400, "please provide legal json!");
      return;
    }
  }
  struct rest_call *c = ef_calloc(1, sizeof *c);
  c->srv = srv;
  c->req = req;
  c->route = r;
  c->body = body;
  c->status = 200;
  const struct auth_token *tok = auth_slot(srv->auth, a.slot);
  c->scope = a.scope;
  if (tok) {
    c->token_id = tok->token_id;
    c->token_name = ef_strdup(tok->name);
    c->view = tok->view;
    auth_view_hold(c->view);
  }
  for (int i = 0; i < a.nargs; i++) c->args[i] = ef_strndup(a.args[i], a.arglen[i]);
  run_from(c, ST_POOL);
}
