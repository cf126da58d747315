/* SPDX-License-Identifier: MIT */
/* rest_alert.c -- the REST routes of alerts (alert.h, docs/api.md#alerts): alert_query_all,
 * alert_log_query, alert_rule_query_all, alert_rule_add, alert_rule_update, alert_rule_delete,
 * alert_silence, alert_ack. Everything is in memory on the loop (loop stages only); a rule
 * change is written to the rules file on the database thread (alerting_rules_changed). The
 * alert log is read from the store (docs/alerts.md#persistence): alert_log_query first waits
 * for the rows queued so far to be committed (devlog_sync), then reads on the database thread,
 * with filters and a cursor as audit_query has.
 * A group-limited token sees only the alerts whose `device` label is one of its devices, and may
 * not change rules or silence by rule. */
#include <string.h>

#include "alert.h"
#include "clock.h"
#include "cluster.h"
#include "device_json.h"
#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "mem.h"
#include "rest.h"

#define LOG_LIMIT 1000 /* rows of an alert_log_query answer: the default and the most */

static bool sees_alert(const struct rest_call *c, const json_t *alert) {
  if (!c->view) return true;
  uint64_t id = 0;
  const char *d = jstr(jobj(alert, "labels"), "device");
  return d && id_parse(d, &id) && rest_sees_device(c, id);
}

/* Keep the items of array `arr` the call may see. */
static json_t *seen_only(const struct rest_call *c, json_t *arr) {
  if (!c->view) return arr;
  json_t *out = json_array(), *v;
  size_t i;
  json_array_foreach(arr, i, v) if (sees_alert(c, v)) json_array_append(out, v);
  json_decref(arr);
  return out;
}

static struct alerts *engine(struct rest_call *c) {
  struct alerts *a = alerting_alerts(c->srv);
  if (!a) rest_fail(c, 503, REST_INNER, "alerting is not running");
  return a;
}

static int query_all(struct rest_call *c) {
  struct alerts *a = engine(c);
  if (!a) return REST_NEXT;
  json_t *d = alerts_json(a, ef_now_ms());
  json_object_set_new(d, "alerts", seen_only(c, json_incref(json_object_get(d, "alerts"))));
  if (c->view) json_object_set_new(d, "silences", json_array());
  return rest_ok(c, d);
}

/* ----- alert_log_query: the store's alert log ----- */

struct lq {
  struct rest_call *c;
  struct worker_job job;
  struct store_alert_log_filter f;
  char *rule, *fingerprint, *event; /* the filter's strings (owned) */
  struct store_alert_log *rows;
  size_t n;
  int rc;
};

static void lq_free(void *p) {
  struct lq *q = p;
  ef_free(q->rule);
  ef_free(q->fingerprint);
  ef_free(q->event);
  store_alert_logs_free(q->rows, q->n);
  ef_free(q);
}

static bool lq_filters(struct rest_call *c, struct lq *q) {
  static const char *const known[] = {"since", "until", "rule", "fingerprint", "event",
                                      "limit", "cursor", NULL};
  q->f.limit = LOG_LIMIT;
  if (!c->body) return true;
  if (!json_is_object(c->body)) {
    rest_fail(c, 400, REST_GENERAL, "the body must be a JSON object of filters");
    return false;
  }
  if (!rest_body_only(c, known, "since, until, rule, fingerprint, event, limit, cursor") ||
      !rest_body_ms(c, "since", &q->f.since) || !rest_body_ms(c, "until", &q->f.until) ||
      !rest_body_str(c, "rule", 1024, &q->rule) ||
      !rest_body_str(c, "fingerprint", 1024, &q->fingerprint) ||
      !rest_body_str(c, "event", 1024, &q->event))
    return false;
  q->f.rule = q->rule;
  q->f.fingerprint = q->fingerprint;
  q->f.event = q->event;
  return rest_body_page(c, LOG_LIMIT, &q->f.limit, &q->f.before_id);
}

static void lq_work(struct store *st, struct worker_job *job) {
  struct lq *q = container_of(job, struct lq, job);
  q->rc = st->ops->alert_log_query(st, &q->f, &q->rows, &q->n);
}

static void lq_done(struct worker_job *job) {
  struct lq *q = container_of(job, struct lq, job);
  struct rest_call *c = q->c;
  if (q->rc) {
    rest_store_fail(c, q->rc, REST_GENERAL, "alert-log rows", NULL);
  } else {
    json_t *rows = json_array();
    for (size_t i = 0; i < q->n; i++) {
      json_t *e = json_loads(q->rows[i].entry, 0, NULL);
      if (!json_is_object(e)) {
        json_decref(e);
        continue;
      }
      char id[EF_ID_STRLEN];
      json_object_set_new(e, "log_id", json_string(id_format(q->rows[i].log_id, id)));
      json_array_append_new(rows, e);
    }
    char next[EF_ID_STRLEN];
    bool more = q->n == q->f.limit && q->n > 0;
    rest_ok(c, json_pack("{s:o, s:s?}", "rows", seen_only(c, rows), "next_cursor",
                         more ? id_format(q->rows[q->n - 1].log_id, next) : NULL));
  }
  rest_finish(c);
}

static void lq_synced(void *ud, int rc) {
  struct lq *q = ud;
  (void)rc; /* a lost batch is in the server log; the query answers what is stored */
  q->job.work = lq_work;
  q->job.done = lq_done;
  worker_submit(q->c->srv->worker, &q->job);
}

/* GET: the newest LOG_LIMIT entries; POST: filters in the body (docs/api.md#alert_log_query). */
static int log_query(struct rest_call *c) {
  struct lq *q = ef_calloc(1, sizeof *q);
  q->c = c;
  c->priv = q;
  c->priv_free = lq_free;
  if (!lq_filters(c, q)) return REST_NEXT;
  devlog_sync(c->srv->devlog, UINT64_MAX, lq_synced, q);
  return REST_LATER;
}

static int rule_query_all(struct rest_call *c) {
  struct alerts *a = engine(c);
  if (!a) return REST_NEXT;
  json_t *kinds = json_array();
  for (const struct alert_kind *k = alert_kinds; k->name; k++)
    json_array_append_new(kinds, json_pack("{s:s, s:s, s:s, s:b, s:s}", "kind", k->name, "op",
                                           k->op == ALERT_ABOVE ? "above" : "below", "unit",
                                           k->unit, "param", k->param, "help", k->help));
  json_t *rules = alerts_rules_json(a), *firing = alerts_firing_by_rule(a), *r;
  size_t i;
  json_array_foreach(rules, i, r)
    json_object_set(r, "firing", json_object_get(firing, jstr(r, "name")));
  json_decref(firing);
  return rest_ok(c, json_pack("{s:o, s:o}", "rules", rules, "kinds", kinds));
}

/* The other nodes of a cluster make the same change (cluster.h); args is stolen. */
static void announce(struct rest_call *c, const char *op, json_t *args) {
  cluster_announce_alert(c->srv, op, args);
  json_decref(args);
}

static int rule_fail(struct rest_call *c, int rc, const char *err) {
  int http = rc == EF_ENOENT ? 404 : rc == EF_EEXIST ? 409 : 400;
  return rest_fail(c, http, REST_GENERAL, "%s", err);
}

static int rule_add(struct rest_call *c) {
  struct alerts *a = engine(c);
  if (!a) return REST_NEXT;
  char err[700];
  int rc = alerts_rule_add(a, c->body, err, sizeof err);
  if (rc) return rule_fail(c, rc, err);
  alerting_rules_changed(c->srv);
  announce(c, "rule_add", json_pack("{s:O}", "body", c->body));
  const char *name = jstr(c->body, "name");
  for (size_t i = 0; i < alerts_rule_count(a); i++)
    if (strcmp(alerts_rule_at(a, i)->name, name) == 0)
      return rest_ok(c, alert_rule_json(alerts_rule_at(a, i)));
  return rest_ok(c, NULL);
}

static const char *body_name(struct rest_call *c) {
  const char *name = jstr(c->body, "name");
  if (!name) rest_fail(c, 400, REST_GENERAL, "name (the rule's) is required");
  return name;
}

static int rule_update(struct rest_call *c) {
  struct alerts *a = engine(c);
  const char *name = a ? body_name(c) : NULL;
  if (!name) return REST_NEXT;
  char err[700];
  int rc = alerts_rule_update(a, name, c->body, err, sizeof err);
  if (rc) return rule_fail(c, rc, err);
  alerting_rules_changed(c->srv);
  announce(c, "rule_update", json_pack("{s:s, s:O}", "name", name, "body", c->body));
  for (size_t i = 0; i < alerts_rule_count(a); i++)
    if (strcmp(alerts_rule_at(a, i)->name, name) == 0)
      return rest_ok(c, alert_rule_json(alerts_rule_at(a, i)));
  return rest_ok(c, NULL);
}

static int rule_delete(struct rest_call *c) {
  struct alerts *a = engine(c);
  const char *name = a ? body_name(c) : NULL;
  if (!name) return REST_NEXT;
  if (json_object_size(c->body) != 1)
    return rest_fail(c, 400, REST_GENERAL, "alert_rule_delete takes only name");
  if (alerts_rule_delete(a, name, ef_now_ms()) != 0)
    return rest_fail(c, 404, REST_GENERAL, "no rule %.64s", name);
  alerting_rules_changed(c->srv);
  announce(c, "rule_delete", json_pack("{s:s}", "name", name));
  return rest_ok(c, NULL);
}

/* The open alert of `fp` as listed, or NULL (new reference). */
static json_t *listed(struct alerts *a, const char *fp) {
  json_t *d = alerts_json(a, ef_now_ms()), *v, *out = NULL;
  size_t i;
  json_array_foreach(json_object_get(d, "alerts"), i, v)
    if (strcmp(jstr(v, "fingerprint"), fp) == 0) out = json_incref(v);
  json_decref(d);
  return out;
}

static int silence(struct rest_call *c) {
  static const char *const known[] = {"rule", "fingerprint", "duration", "until", "comment",
                                      NULL};
  struct alerts *a = engine(c);
  if (!a || !rest_body_only(c, known, "rule, fingerprint, duration, until, comment"))
    return REST_NEXT;
  const char *rule, *fp, *comment;
  if (!rest_body_text(c, "rule", 64, &rule) || !rest_body_text(c, "fingerprint", 1024, &fp) ||
      !rest_body_text(c, "comment", REST_MAX_TEXT, &comment) ||
      rest_check_text(c, "comment", NULL, comment) != 0)
    return REST_NEXT;
  if (!rule && !fp) return rest_fail(c, 400, REST_GENERAL, "give rule or fingerprint (or both)");
  if (c->view) {
    json_t *x = fp ? listed(a, fp) : NULL;
    bool ok = x && sees_alert(c, x);
    json_decref(x);
    if (!ok || rule)
      return rest_fail(c, 403, REST_GENERAL,
                       "a group-limited token may silence only an alert it sees, by fingerprint");
  }
  int64_t now = ef_now_ms(), until;
  json_t *d = json_object_get(c->body, "duration"), *u = json_object_get(c->body, "until");
  if (!d == !u)
    return rest_fail(c, 400, REST_GENERAL, "give duration (ms) or until (ms since the epoch)");
  if (d) {
    if (!json_is_integer(d) || json_integer_value(d) < 1000 ||
        json_integer_value(d) > 366LL * 86400000)
      return rest_fail(c, 400, REST_GENERAL, "duration must be ms from 1000 to a year");
    until = now + json_integer_value(d);
  } else {
    if (!json_is_integer(u) || json_integer_value(u) <= now ||
        json_integer_value(u) > now + 366LL * 86400000)
      return rest_fail(c, 400, REST_GENERAL, "until must be a time (ms) within the next year");
    until = json_integer_value(u);
  }
  int64_t id = alerts_silence(a, rule, fp, until, comment, c->token_name, now);
  if (id <= 0) return rest_fail(c, 400, REST_GENERAL, "cannot silence");
  json_t *args = json_pack("{s:I}", "until", (json_int_t)until);
  if (rule) json_object_set_new(args, "rule", json_string(rule));
  if (fp) json_object_set_new(args, "fingerprint", json_string(fp));
  if (comment) json_object_set_new(args, "comment", json_string(comment));
  if (c->token_name) json_object_set_new(args, "by", json_string(c->token_name));
  announce(c, "silence", args);
  return rest_ok(c, json_pack("{s:I, s:I}", "silence_id", (json_int_t)id, "until",
                              (json_int_t)until));
}

static int ack(struct rest_call *c) {
  static const char *const known[] = {"fingerprint", "comment", NULL};
  struct alerts *a = engine(c);
  if (!a || !rest_body_only(c, known, "fingerprint, comment")) return REST_NEXT;
  const char *fp, *comment;
  if (!rest_body_text(c, "fingerprint", 1024, &fp) ||
      !rest_body_text(c, "comment", REST_MAX_TEXT, &comment) ||
      rest_check_text(c, "comment", NULL, comment) != 0)
    return REST_NEXT;
  if (!fp) return rest_fail(c, 400, REST_GENERAL, "fingerprint is required");
  json_t *x = listed(a, fp);
  bool seen = x && sees_alert(c, x);
  json_decref(x);
  const char *by = c->token_name ? c->token_name : "api";
  if (!seen || alerts_ack(a, fp, by, ef_now_ms()) != 0)
    return rest_fail(c, 404, REST_GENERAL, "no open alert %.200s", fp);
  announce(c, "ack", json_pack("{s:s, s:s}", "fingerprint", fp, "by", by));
  return rest_ok(c, listed(a, fp));
}

const struct rest_route rest_alert_routes[] = {
  {"GET", "alert_query_all", 0, REST_READ, NULL, NULL, query_all},
  {"GET POST", "alert_log_query", 0, REST_READ, NULL, NULL, log_query, .reads_only = true},
  {"GET", "alert_rule_query_all", 0, REST_READ, NULL, NULL, rule_query_all},
  {"POST", "alert_rule_add", 0, REST_ADMIN | REST_FLEET, NULL, NULL, rule_add},
  {"PUT POST", "alert_rule_update", 0, REST_ADMIN | REST_FLEET, NULL, NULL, rule_update},
  {"DELETE POST", "alert_rule_delete", 0, REST_ADMIN | REST_FLEET, NULL, NULL, rule_delete},
  {"POST", "alert_silence", 0, REST_OPERATOR, NULL, NULL, silence},
  {"POST", "alert_ack", 0, REST_OPERATOR, NULL, NULL, ack},
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
