/* SPDX-License-Identifier: MIT */
/* rest_audit.c -- the REST route that reads the audit log (audit.h): audit_query, admin only.
 * GET answers the newest rows; POST takes filters in its body (docs/api.md#audit_query). The
 * answer first waits for the rows queued so far to be committed (devlog_sync), so a call's own
 * row is in any query made after its answer; then it reads on the database thread. */
#include <limits.h>
#include <string.h>

#include "device_json.h"
#include "id.h"
#include "mem.h"
#include "rest.h"

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX 1000

struct aq {
  struct rest_call *c;
  struct worker_job job;
  struct store_audit_filter f;
  char *token, *route, *target; /* the filter's strings (owned) */
  struct store_audit *rows;
  size_t n;
  int rc;
  char err[256];
};

static void aq_free(void *p) {
  struct aq *q = p;
  ef_free(q->token);
  ef_free(q->route);
  ef_free(q->target);
  store_audits_free(q->rows, q->n);
  ef_free(q);
}

/* The body's filters into q->f; false with the 400 set. */
static bool parse_filters(struct rest_call *c, struct aq *q) {
  static const char *const known[] = {"since", "until", "token", "route", "target",
                                      "outcome", "limit", "cursor", NULL};
  q->f.limit = AUDIT_LIMIT_DEFAULT;
  if (!c->body) return true;
  if (!rest_body_only(c, known, "since, until, token, route, target, outcome, limit, cursor") ||
      !rest_body_ms(c, "since", &q->f.since) || !rest_body_ms(c, "until", &q->f.until) ||
      !rest_body_str(c, "token", REST_MAX_NAME, &q->token) ||
      !rest_body_str(c, "route", REST_MAX_NAME, &q->route) ||
      !rest_body_str(c, "target", REST_MAX_NAME, &q->target))
    return false;
  q->f.token = q->token;
  q->f.route = q->route;
  q->f.target = q->target;
  json_t *v;
  if ((v = json_object_get(c->body, "outcome"))) {
    const char *o = json_string_value(v);
    if (o && strcmp(o, "ok") == 0) q->f.status_min = 200, q->f.status_max = 299;
    else if (o && strcmp(o, "fail") == 0) q->f.status_min = 300;
    else if (o && strlen(o) == 3 && o[0] >= '2' && o[0] <= '5' && strcmp(o + 1, "xx") == 0)
      q->f.status_min = (o[0] - '0') * 100, q->f.status_max = q->f.status_min + 99;
    else {
      rest_fail(c, 400, REST_GENERAL, "outcome must be \"ok\", \"fail\", \"2xx\", \"3xx\", "
                                      "\"4xx\" or \"5xx\"");
      return false;
    }
  }
  return rest_body_page(c, AUDIT_LIMIT_MAX, &q->f.limit, &q->f.before_id);
}

static void query_work(struct store *st, struct worker_job *job) {
  struct aq *q = container_of(job, struct aq, job);
  q->rc = st->ops->audit_query(st, &q->f, &q->rows, &q->n);
  if (q->rc) snprintf(q->err, sizeof q->err, "%s", store_errmsg(st));
}

static json_t *row_json(const struct store_audit *a) {
  char id[EF_ID_STRLEN], tok[EF_ID_STRLEN];
  return json_pack("{s:s, s:I, s:s, s:s?, s:s, s:s?, s:i, s:s, s:s?}", "audit_id",
                   id_format(a->audit_id, id), "time", (json_int_t)a->time, "token_id",
                   id_format(a->token_id, tok), "token_name", a->token_name, "route", a->route,
                   "target", a->target, "status", a->status, "outcome", a->outcome, "peer",
                   a->peer);
}

static void query_done(struct worker_job *job) {
  struct aq *q = container_of(job, struct aq, job);
  struct rest_call *c = q->c;
  if (q->rc) {
    rest_store_fail(c, q->rc, REST_GENERAL, "audit rows", NULL);
  } else {
    json_t *rows = json_array();
    for (size_t i = 0; i < q->n; i++) json_array_append_new(rows, row_json(&q->rows[i]));
    char next[EF_ID_STRLEN];
    bool more = q->n == q->f.limit && q->n > 0;
    rest_ok(c, json_pack("{s:o, s:s?}", "rows", rows, "next_cursor",
                         more ? id_format(q->rows[q->n - 1].audit_id, next) : NULL));
  }
  rest_finish(c);
}

/* Every row queued before this call is committed: now read. */
static void synced(void *ud, int rc) {
  struct aq *q = ud;
  (void)rc; /* a lost batch is in the server log; the query answers what is stored */
  q->job.work = query_work;
  q->job.done = query_done;
  worker_submit(q->c->srv->worker, &q->job);
}

static int query_loop(struct rest_call *c) {
  struct aq *q = ef_calloc(1, sizeof *q);
  q->c = c;
  c->priv = q;
  c->priv_free = aq_free;
  if (!parse_filters(c, q)) return REST_NEXT;
  devlog_sync(c->srv->devlog, UINT64_MAX, synced, q);
  return REST_LATER;
}

const struct rest_route rest_audit_routes[] = {
  {"GET POST", "audit_query", 0, REST_ADMIN, NULL, NULL, query_loop, .reads_only = true},
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
