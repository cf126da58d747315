/* SPDX-License-Identifier: MIT */
/* ws_front.c -- the dashboards' WebSocket (/front, docs/frontend.md): sign-in with an API token,
 * requests (minerInfo, minerList, deviceList, deviceStatus, deviceLog, alertList, alertAck,
 * alertSilence) and subscriptions (subMinerInfo, subDeviceStatus, subMinerList, subDeviceList,
 * subAlerts) served by pushes on a timer.
 *
 * DESIGN
 * Pushes are computed once per miner, not per subscriber: every front_push_interval the joined
 * view of each subscribed miner (join_miner_view) is diffed against the view pushed last time, and
 * the merge patch, when there is one, goes to each of its subscribers. A new subscriber gets the
 * current view whole in its subscription response, so it never depends on an earlier push.
 * Device-status subscriptions push a device's new upload, at most once per tick.
 * A dashboard that cannot keep up is dropped by the net layer (front_queue_max), so it cannot
 * slow anyone else; it resubscribes and refetches.
 *
 * Requests ("uri") and subscriptions ("event") are rows of two tables; a request answered from
 * the database names its work function, run on the database thread. Device state changes come
 * from the live registry as events (a listener), gathered per tick for subDeviceList.
 *
 * A dashboard signed in with a group-limited API token sees only its groups' devices and the
 * miners they report: every answer and push is filtered through the token's current view
 * (auth.c, one hash lookup per device). A revoked token's dashboards are closed at once (an auth
 * listener), an expired one's at the next tick: a last message {"code":0,"message":"token
 * revoked"} (or "token expired"), then close code 1008.
 */
#include <stddef.h>
#include <string.h>

#include "alert.h"
#include "clock.h"
#include "crypto.h"
#include "device_json.h"
#include "edgefleet/error.h"
#include "history.h"
#include "id.h"
#include "jsonutil.h"
#include "log.h"
#include "mem.h"
#include "mergepatch.h"
#include "stats.h"
#include "u64map.h"
#include "server.h"
#include "wire.h"

struct fsess {
  struct front *fr;
  struct net_conn *conn;   /* NULL once closed */
  int64_t opened;          /* uv_now at open: the login deadline counts from here */
  bool authed;
  size_t slot;             /* the API token's (auth_slot), once authed */
  uint32_t ip;             /* the peer's address (per-address cap on unsigned connections) */
  bool dropping;
  int refs;                /* 1 while open + database requests in flight */
  json_t *miners;          /* minerId -> true */
  json_t *devices;         /* device id string -> status_time last pushed (0: none, -1: gone) */
  bool sub_miner_list;     /* subMinerList */
  bool sub_device_list;    /* subDeviceList */
  bool sub_alerts;         /* subAlerts (alert.h) */
};

struct front {
  struct server *srv;
  struct fsess **arr;      /* open sessions */
  size_t n, cap;
  size_t n_authed;         /* of them signed in (front_max_connections) */
  size_t n_unauthed;       /* not yet (front_max_unauthenticated) */
  struct u64map unauthed_by_ip; /* ip + 1 -> count not signed in (uintptr_t) */
  json_t *pushed;          /* minerId -> the view last pushed to its subscribers */
  json_t *list_pushed;     /* minerId -> summary, as last pushed to subMinerList */
  json_t *dev_changes;     /* device id -> {"dev_state"} since the last tick, for subDeviceList */
  bool devices_changed;    /* a device was added, changed or deleted: lists refetch */
  uint64_t alerts_pushed;  /* alerts_version last pushed to subAlerts */
  uv_timer_t tick;
};

static void fsess_unref(struct fsess *fs) {
  if (--fs->refs > 0) return;
  json_decref(fs->miners);
  json_decref(fs->devices);
  ef_free(fs);
}

/* The bytes sent, 0 when none. */
static size_t send_json(struct fsess *fs, json_t *v) {
  if (!fs->conn || fs->dropping) {
    json_decref(v);
    return 0;
  }
  char *txt = jdump_decref(v);
  size_t len = strlen(txt);
  if (net_send(fs->conn, txt, len) != 0) {
    fs->dropping = true;
    ef_stats.front_dropped++;
    len = 0;
  }
  ef_free(txt);
  return len;
}

/* {"code":1|0,"message","msgId","data"}; steals data. `code` is an integer in replies and pushes
 * alike. */
static void reply(struct fsess *fs, const char *msg_id, bool ok, const char *message, json_t *data) {
  json_t *r = json_pack("{s:i, s:s, s:s?}", "code", ok ? 1 : 0, "message", message, "msgId",
                        msg_id);
  json_object_set_new(r, "data", data ? data : json_object());
  send_json(fs, r);
}

static void push(struct fsess *fs, const char *event, json_t *body) {
  size_t sent = send_json(fs, json_pack("{s:i, s:s, s:o}", "code", 1, "message", event, "body", body));
  if (sent) {
    ef_stats.front_pushes++;
    ef_stats.front_push_bytes += sent;
  }
}

/* What the session's token may see (auth.c): NULL when it is not limited to groups. */
static const struct auth_view *view_of(const struct fsess *fs) {
  const struct auth_token *t = auth_slot(fs->fr->srv->auth, fs->slot);
  return t ? t->view : NULL;
}

static bool sees_device(const struct fsess *fs, uint64_t id) {
  return auth_view_has_device(view_of(fs), id);
}

static bool sees_miner(const struct fsess *fs, const char *miner_id) {
  const struct auth_view *v = view_of(fs);
  uint64_t dev = 0;
  return !v || (miner_id && join_miner_device(fs->fr->srv, miner_id, &dev) &&
                auth_view_has_device(v, dev));
}

/* An object keyed by minerId or device id, with only what the session may see; `obj` itself
 * (a new reference) when it sees everything. */
static json_t *seen_keys(const struct fsess *fs, json_t *obj, bool miners) {
  if (!view_of(fs)) return json_incref(obj);
  json_t *out = json_object(), *v;
  const char *key;
  json_object_foreach(obj, key, v) {
    uint64_t id = 0;
    bool ok = miners ? sees_miner(fs, key)
                     : (key[0] == '_' || (id_parse(key, &id) && sees_device(fs, id)));
    if (ok) json_object_set(out, key, v);
  }
  return out;
}

/* The miner summaries keyed by minerId (what subMinerList patches). */
static json_t *summaries_by_id(struct server *srv) {
  json_t *arr = join_summaries(srv), *obj = json_object(), *m;
  size_t i;
  json_array_foreach(arr, i, m) json_object_set(obj, jstr(m, "minerId"), m);
  json_decref(arr);
  return obj;
}

static bool anyone(struct front *fr, size_t flag_offset) {
  for (size_t i = 0; i < fr->n; i++)
    if (fr->arr[i]->authed && *(bool *)((char *)fr->arr[i] + flag_offset)) return true;
  return false;
}

/* ----- requests answered from the database ----- */

struct dbreq;
typedef void (*dbreq_fn)(struct store *st, struct dbreq *q);

struct dbreq {
  struct worker_job job;
  struct fsess *fs;
  char *msg_id;
  dbreq_fn work;           /* on the database thread */
  bool overlay;            /* data is a device list: overlay the live state on the loop */
  uint64_t device_id;
  size_t limit;
  struct auth_view *view;  /* held: the token's view when asked (NULL: all) */
  json_t *data;            /* result, built on the database thread */
  char err[128];
};

static void device_list_work(struct store *st, struct dbreq *q) {
  struct store_device *devs = NULL;
  struct store_group *groups = NULL;
  size_t nd = 0, ng = 0;
  if (st->ops->device_list(st, &devs, &nd) != 0 || st->ops->group_list(st, &groups, &ng) != 0) {
    snprintf(q->err, sizeof q->err, "database error");
    goto out;
  }
  /* device id -> [group names], one query per group (groups are few, devices many). */
  json_t *member = json_object();
  for (size_t g = 0; g < ng; g++) {
    struct store_device *in = NULL;
    size_t n = 0;
    if (!auth_view_has_group(q->view, groups[g].group_id)) continue; /* only its groups' names */
    if (st->ops->group_devices(st, groups[g].group_id, &in, &n) != 0) continue;
    for (size_t i = 0; i < n; i++) {
      char idbuf[EF_ID_STRLEN];
      id_format(in[i].device_id, idbuf);
      json_t *list = json_object_get(member, idbuf);
      if (!list) json_object_set_new(member, idbuf, list = json_array());
      json_array_append_new(list, json_string(groups[g].group_name));
    }
    store_devices_free(in, n);
  }
  q->data = json_array();
  for (size_t i = 0; i < nd; i++) {
    if (!auth_view_has_device(q->view, devs[i].device_id)) continue;
    json_t *d = device_to_json(&devs[i]);
    json_t *list = json_object_get(member, jstr(d, "device_id"));
    json_object_set_new(d, "groups", list ? json_incref(list) : json_array());
    json_array_append_new(q->data, d);
  }
  json_decref(member);
out:
  store_devices_free(devs, nd);
  store_groups_free(groups, ng);
}

static void device_log_work(struct store *st, struct dbreq *q) {
  struct store_log *logs = NULL;
  size_t n = 0;
  struct store_device d = {0};
  int rc = st->ops->device_get(st, q->device_id, &d);
  store_device_clear(&d);
  if (rc == 0) rc = st->ops->log_query(st, q->device_id, 0, q->limit, &logs, &n);
  if (rc == EF_ENOENT) snprintf(q->err, sizeof q->err, WIRE_MSG_NOT_FOUND);
  else if (rc) snprintf(q->err, sizeof q->err, "database error");
  else q->data = logs_to_json(logs, n);
  store_logs_free(logs, n);
}

static void db_work(struct store *st, struct worker_job *job) {
  struct dbreq *q = container_of(job, struct dbreq, job);
  q->work(st, q);
}

static void db_done(struct worker_job *job) {
  struct dbreq *q = container_of(job, struct dbreq, job);
  if (q->data && q->overlay) live_overlay_state(q->fs->fr->srv->live, q->data);
  if (q->fs->conn) {
    if (q->err[0]) reply(q->fs, q->msg_id, false, q->err, NULL);
    else reply(q->fs, q->msg_id, true, "success", q->data), q->data = NULL;
  }
  if (q->data) json_decref(q->data);
  auth_view_drop(q->view);
  fsess_unref(q->fs);
  ef_free(q->msg_id);
  ef_free(q);
}

static void db_request(struct fsess *fs, const char *msg_id, dbreq_fn work, bool overlay,
                       uint64_t id, size_t limit) {
  struct dbreq *q = ef_calloc(1, sizeof *q);
  q->fs = fs;
  q->msg_id = ef_strdup(msg_id);
  q->work = work;
  q->overlay = overlay;
  q->device_id = id;
  q->limit = limit;
  q->view = (struct auth_view *)view_of(fs);
  auth_view_hold(q->view);
  q->job.work = db_work;
  q->job.done = db_done;
  fs->refs++;
  worker_submit(fs->fr->srv->worker, &q->job);
}

/* ----- the live parts ----- */

static uint64_t body_id(json_t *body, const char *key) {
  uint64_t id = 0;
  return id_from_json(json_object_get(body, key), &id) ? id : 0;
}

/* Count a connection of `ip` not signed in yet in (+1) or out (-1): the address's count now. */
static size_t unsigned_count(struct front *fr, uint32_t ip, int delta) {
  uint64_t key = (uint64_t)ip + 1;
  size_t n = (size_t)(uintptr_t)u64map_get(&fr->unauthed_by_ip, key) + (size_t)delta;
  fr->n_unauthed += (size_t)delta;
  if (n) u64map_put(&fr->unauthed_by_ip, key, (void *)(uintptr_t)n);
  else u64map_del(&fr->unauthed_by_ip, key);
  return n;
}

static void handle_login(struct fsess *fs, json_t *m, const char *msg_id) {
  json_t *body = jobj(m, "body");
  const char *tok = body ? jstr(body, "token") : NULL;
  const char *uri = jstr(m, "uri");
  char *hdr = tok ? ef_asprintf("Bearer %s", tok) : NULL;
  size_t slot = 0;
  enum auth_kind k = uri && strcmp(uri, "login") == 0 && hdr
                         ? auth_identify(fs->fr->srv->auth, hdr, &slot) : AUTH_NONE;
  ef_free(hdr);
  if (k <= AUTH_NONE) {
    reply(fs, msg_id, false,
          k == AUTH_EXPIRED ? "token expired"
          : uri && strcmp(uri, "login") == 0 ? "invalid token" : "sign in first (uri login)",
          NULL);
    net_close(fs->conn, 1008, "login failed");
    return;
  }
  if ((int64_t)fs->fr->n_authed >= fs->fr->srv->cfg.front_max_connections) {
    reply(fs, msg_id, false, "too many front-end connections", NULL);
    net_close(fs->conn, 1013, "try again later");
    fs->dropping = true;
    return;
  }
  unsigned_count(fs->fr, fs->ip, -1);
  fs->authed = true;
  fs->slot = slot;
  fs->fr->n_authed++;
  /* "kind": the scope's old name, for dashboards made before scopes. */
  reply(fs, msg_id, true, "success",
        json_pack("{s:s, s:s, s:b}", "kind", auth_scope_name(k), "scope", auth_scope_name(k),
                  "limited", view_of(fs) != NULL));
}

/* ----- requests: {"uri", "body", "msgId"} ----- */

static void req_miner_info(struct fsess *fs, json_t *body, const char *msg_id) {
  const char *id = jstr(body, "minerId");
  json_t *v = id && sees_miner(fs, id) ? join_miner(fs->fr->srv, id) : NULL;
  if (v) reply(fs, msg_id, true, "success", v);
  else reply(fs, msg_id, false, id ? WIRE_MSG_MINER_NOT_FOUND : "body.minerId required", NULL);
}

static void req_miner_list(struct fsess *fs, json_t *body, const char *msg_id) {
  (void)body;
  json_t *all = join_summaries(fs->fr->srv);
  if (view_of(fs)) {
    json_t *seen = json_array(), *m;
    size_t i;
    json_array_foreach(all, i, m) if (sees_miner(fs, jstr(m, "minerId")))
      json_array_append(seen, m);
    json_decref(all);
    all = seen;
  }
  reply(fs, msg_id, true, "success", all);
}

static void req_device_list(struct fsess *fs, json_t *body, const char *msg_id) {
  (void)body;
  db_request(fs, msg_id, device_list_work, true, 0, 0);
}

static void req_device_status(struct fsess *fs, json_t *body, const char *msg_id) {
  uint64_t id = body_id(body, "device_id");
  json_t *st = id && sees_device(fs, id) ? live_status(fs->fr->srv->live, id) : NULL;
  if (st) reply(fs, msg_id, true, "success", st);
  else reply(fs, msg_id, false, id ? WIRE_MSG_NO_STATUS : "body.device_id required", NULL);
}

static void req_device_log(struct fsess *fs, json_t *body, const char *msg_id) {
  uint64_t id = body_id(body, "device_id");
  json_int_t limit = json_integer_value(json_object_get(body, "limit"));
  if (!id) reply(fs, msg_id, false, "body.device_id required", NULL);
  else if (!sees_device(fs, id)) reply(fs, msg_id, false, WIRE_MSG_NOT_FOUND, NULL);
  else db_request(fs, msg_id, device_log_work, false, id,
                  limit > 0 && limit <= 1000 ? (size_t)limit : 100);
}

/* The alerts (alert.h) this dashboard sees: those of its devices when its token is limited. */
static json_t *alerts_seen(struct fsess *fs) {
  struct alerts *a = alerting_alerts(fs->fr->srv);
  if (!a) return json_pack("{s:[], s:[]}", "alerts", "silences");
  json_t *all = alerts_json(a, ef_now_ms());
  if (!view_of(fs)) return all;
  json_t *seen = json_array(), *x;
  size_t i;
  json_array_foreach(json_object_get(all, "alerts"), i, x) {
    uint64_t id = 0;
    const char *d = jstr(jobj(x, "labels"), "device");
    if (d && id_parse(d, &id) && sees_device(fs, id)) json_array_append(seen, x);
  }
  json_object_set_new(all, "alerts", seen);
  json_object_set_new(all, "silences", json_array());
  return all;
}

static void req_alert_list(struct fsess *fs, json_t *body, const char *msg_id) {
  (void)body;
  reply(fs, msg_id, true, "success", alerts_seen(fs));
}

/* Is the open alert `fp` among those this dashboard sees? */
static bool sees_alert(struct fsess *fs, const char *fp) {
  json_t *all = alerts_seen(fs), *x;
  size_t i;
  bool found = false;
  json_array_foreach(json_object_get(all, "alerts"), i, x)
    if (strcmp(jstr(x, "fingerprint"), fp) == 0 && strcmp(jstr(x, "state"), "resolved") != 0)
      found = true;
  json_decref(all);
  return found;
}

/* alertAck {fingerprint} and alertSilence {fingerprint, duration}: operator tokens. */
static bool may_act(struct fsess *fs, const char *msg_id, const char **fp) {
  const struct auth_token *t = auth_slot(fs->fr->srv->auth, fs->slot);
  if (!t || t->scope < AUTH_OPERATOR) {
    reply(fs, msg_id, false, "an operator token is needed", NULL);
    return false;
  }
  struct alerts *a = alerting_alerts(fs->fr->srv);
  if (!a || !*fp || !sees_alert(fs, *fp)) {
    reply(fs, msg_id, false, *fp ? "no such open alert" : "body.fingerprint required", NULL);
    return false;
  }
  return true;
}

static void req_alert_ack(struct fsess *fs, json_t *body, const char *msg_id) {
  const char *fp = jstr(body, "fingerprint");
  if (!may_act(fs, msg_id, &fp)) return;
  const struct auth_token *t = auth_slot(fs->fr->srv->auth, fs->slot);
  int rc = alerts_ack(alerting_alerts(fs->fr->srv), fp, t->name ? t->name : "dashboard",
                      ef_now_ms());
  reply(fs, msg_id, rc == 0, rc == 0 ? "success" : "no such open alert", NULL);
}

static void req_alert_silence(struct fsess *fs, json_t *body, const char *msg_id) {
  const char *fp = jstr(body, "fingerprint");
  json_t *d = json_object_get(body, "duration");
  if (!json_is_integer(d) || json_integer_value(d) < 1000 ||
      json_integer_value(d) > 366LL * 86400000) {
    reply(fs, msg_id, false, "body.duration must be ms from 1000 to a year", NULL);
    return;
  }
  if (!may_act(fs, msg_id, &fp)) return;
  const struct auth_token *t = auth_slot(fs->fr->srv->auth, fs->slot);
  int64_t now = ef_now_ms();
  int64_t id = alerts_silence(alerting_alerts(fs->fr->srv), NULL, fp, now + json_integer_value(d),
                              jstr(body, "comment"), t->name ? t->name : "dashboard", now);
  reply(fs, msg_id, id > 0, id > 0 ? "success" : "cannot silence",
        id > 0 ? json_pack("{s:I}", "silence_id", (json_int_t)id) : NULL);
}

/* history: {"device_id"} or {"minerId"}, and "from", "to", "step" (ms): the answer of
 * device_history_query / miner_history_query (docs/frontend.md#history). */
struct front_hist {
  struct fsess *fs;
  char *msg_id;
};

static void history_done_cb(void *ud, int rc, json_t *answer) {
  struct front_hist *h = ud;
  if (h->fs->conn) {
    if (rc) reply(h->fs, h->msg_id, false, "database error", NULL);
    else reply(h->fs, h->msg_id, true, "success", answer), answer = NULL;
  }
  json_decref(answer);
  fsess_unref(h->fs);
  ef_free(h->msg_id);
  ef_free(h);
}

static bool hist_ms(json_t *body, const char *key, int64_t *out) {
  json_t *v = json_object_get(body, key);
  if (!v) return true;
  if (!json_is_integer(v) || json_integer_value(v) < 0) return false;
  *out = (int64_t)json_integer_value(v);
  return true;
}

static void req_history(struct fsess *fs, json_t *body, const char *msg_id) {
  uint64_t id = body_id(body, "device_id");
  const char *miner = jstr(body, "minerId");
  int64_t now = ef_now_ms(), from = now - 3600 * 1000, to = INT64_MAX, step = 0;
  if (!hist_ms(body, "from", &from) || !hist_ms(body, "to", &to) ||
      !hist_ms(body, "step", &step) || from >= to) {
    reply(fs, msg_id, false, "from, to and step must be times in ms, from before to", NULL);
    return;
  }
  char *owner;
  if (id) {
    if (!sees_device(fs, id)) {
      reply(fs, msg_id, false, WIRE_MSG_NOT_FOUND, NULL);
      return;
    }
    owner = ef_asprintf("d:%llu", (unsigned long long)id);
  } else if (miner && *miner) {
    struct miner_info mi;
    if (!miner_lookup(fs->fr->srv->miners, miner, &mi) || !sees_miner(fs, miner)) {
      reply(fs, msg_id, false, WIRE_MSG_MINER_NOT_FOUND, NULL);
      return;
    }
    owner = ef_asprintf("m:%s", miner);
  } else {
    reply(fs, msg_id, false, "body.device_id or body.minerId required", NULL);
    return;
  }
  struct front_hist *h = ef_calloc(1, sizeof *h);
  h->fs = fs;
  h->msg_id = ef_strdup(msg_id);
  fs->refs++;
  history_read(fs->fr->srv, owner, from, to, step, history_done_cb, h);
  ef_free(owner);
}

static const struct front_request {
  const char *uri;
  void (*handle)(struct fsess *fs, json_t *body, const char *msg_id);
} requests[] = {
  {"minerInfo", req_miner_info},
  {"minerList", req_miner_list},
  {"deviceList", req_device_list},
  {"deviceStatus", req_device_status},
  {"deviceLog", req_device_log},
  {"alertList", req_alert_list},
  {"alertAck", req_alert_ack},
  {"alertSilence", req_alert_silence},
  {"history", req_history},
};

/* ----- subscriptions: {"event", "body", "msgId"}; sub* and unsub* share a handler ----- */

static void ev_miner_info(struct fsess *fs, json_t *body, const char *msg_id, bool sub) {
  const char *id = jstr(body, "minerId");
  json_t *v = id && sub && sees_miner(fs, id) ? join_miner_view(fs->fr->srv, id) : NULL;
  if (!id) {
    reply(fs, msg_id, false, "body.minerId required", NULL);
  } else if (!sub) {
    json_object_del(fs->miners, id);
    reply(fs, msg_id, true, "success", NULL);
  } else if (!v) {
    reply(fs, msg_id, false, WIRE_MSG_MINER_NOT_FOUND, NULL);
  } else {
    json_object_set_new(fs->miners, id, json_true());
    /* The first subscriber's view is the base of the next push; later subscribers may get a
     * change twice (harmless: applying a merge patch again changes nothing). */
    if (!json_object_get(fs->fr->pushed, id))
      json_object_set_new(fs->fr->pushed, id, json_deep_copy(v));
    reply(fs, msg_id, true, "success", v);
  }
}

static void ev_device_status(struct fsess *fs, json_t *body, const char *msg_id, bool sub) {
  struct live *l = fs->fr->srv->live;
  uint64_t id = body_id(body, "device_id");
  char idbuf[EF_ID_STRLEN];
  id_format(id, idbuf);
  if (!id) {
    reply(fs, msg_id, false, "body.device_id required", NULL);
  } else if (!sub) {
    json_object_del(fs->devices, idbuf);
    reply(fs, msg_id, true, "success", NULL);
  } else if (!sees_device(fs, id)) {
    reply(fs, msg_id, false, WIRE_MSG_NOT_FOUND, NULL);
  } else {
    json_t *st = live_status(l, id);
    json_object_set_new(fs->devices, idbuf, json_integer(live_status_time(l, id)));
    reply(fs, msg_id, true, "success",
          st ? st : json_pack("{s:s, s:s}", "device_id", idbuf, "dev_state",
                              dev_state_name(live_state(l, id))));
  }
}

static void ev_miner_list(struct fsess *fs, json_t *body, const char *msg_id, bool sub) {
  (void)body;
  fs->sub_miner_list = sub;
  json_t *now = sub ? summaries_by_id(fs->fr->srv) : NULL;
  /* As for subMinerInfo: the first subscriber's view is the base of the next push. */
  if (now && !fs->fr->list_pushed) fs->fr->list_pushed = json_deep_copy(now);
  json_t *seen = now ? seen_keys(fs, now, true) : NULL;
  if (now) json_decref(now);
  reply(fs, msg_id, true, "success", seen);
}

static void ev_device_list(struct fsess *fs, json_t *body, const char *msg_id, bool sub) {
  (void)body;
  fs->sub_device_list = sub;
  reply(fs, msg_id, true, "success", NULL);
}

static void ev_alerts(struct fsess *fs, json_t *body, const char *msg_id, bool sub) {
  (void)body;
  fs->sub_alerts = sub;
  reply(fs, msg_id, true, "success", sub ? alerts_seen(fs) : NULL);
}

static const struct front_event {
  const char *name; /* without the sub/unsub prefix */
  void (*handle)(struct fsess *fs, json_t *body, const char *msg_id, bool sub);
} events[] = {
  {"MinerInfo", ev_miner_info},
  {"DeviceStatus", ev_device_status},
  {"MinerList", ev_miner_list},
  {"DeviceList", ev_device_list},
  {"Alerts", ev_alerts},
};

static void handle_request(struct fsess *fs, const char *uri, json_t *body, const char *msg_id) {
  for (size_t i = 0; i < sizeof requests / sizeof *requests; i++)
    if (strcmp(uri, requests[i].uri) == 0) {
      requests[i].handle(fs, body, msg_id);
      return;
    }
  reply(fs, msg_id, false, "unknown uri", NULL);
}

static void handle_event(struct fsess *fs, const char *ev, json_t *body, const char *msg_id) {
  bool sub = strncmp(ev, "sub", 3) == 0;
  const char *name = sub ? ev + 3 : strncmp(ev, "unsub", 5) == 0 ? ev + 5 : NULL;
  for (size_t i = 0; name && i < sizeof events / sizeof *events; i++)
    if (strcmp(name, events[i].name) == 0) {
      events[i].handle(fs, body, msg_id, sub);
      return;
    }
  reply(fs, msg_id, false, "unknown event", NULL);
}

/* A device's state changed (a live listener): gathered for subDeviceList's next push. */
static void on_live(void *ud, const struct live_change *c) {
  struct front *fr = ud;
  if (!anyone(fr, offsetof(struct fsess, sub_device_list))) return;
  char idbuf[EF_ID_STRLEN];
  json_object_set_new(fr->dev_changes, id_format(c->device_id, idbuf),
                      json_pack("{s:s}", "dev_state", dev_state_name(c->state)));
}

void front_devices_changed(struct server *srv) {
  if (srv->front) srv->front->devices_changed = true;
}

void front_message(void *p, const char *msg, size_t len) {
  struct fsess *fs = p;
  if (!fs->conn) return;
  json_t *m = jparse_object(msg, len);
  if (!m) {
    reply(fs, NULL, false, "Invalid Json", NULL);
    if (!fs->authed) net_close(fs->conn, 1008, "login failed");
    return;
  }
  const char *msg_id = jstr(m, "msgId");
  json_t *body = jobj(m, "body");
  json_t *empty = NULL;
  if (!body) body = empty = json_object();
  const char *uri = jstr(m, "uri"), *ev = jstr(m, "event");
  if (!fs->authed) handle_login(fs, m, msg_id);
  else if (uri) handle_request(fs, uri, body, msg_id);
  else if (ev) handle_event(fs, ev, body, msg_id);
  else reply(fs, msg_id, false, "a message needs uri or event", NULL);
  if (empty) json_decref(empty);
  json_decref(m);
}

/* ----- the push tick ----- */

static void push_miners(struct front *fr) {
  /* The miners anyone subscribes to, each rendered and diffed once. */
  json_t *wanted = json_object();
  for (size_t i = 0; i < fr->n; i++) json_object_update(wanted, fr->arr[i]->miners);
  const char *id;
  json_t *v, *tmp;
  json_object_foreach_safe(fr->pushed, tmp, id, v) /* forget what nobody watches */
    if (!json_object_get(wanted, id)) json_object_del(fr->pushed, id);
  json_object_foreach(wanted, id, v) {
    json_t *view = join_miner_view(fr->srv, id);
    if (!view) continue;
    json_t *last = json_object_get(fr->pushed, id);
    json_t *patch = last ? mergepatch_diff(last, view) : json_deep_copy(view);
    json_object_set_new(fr->pushed, id, view);
    if (!patch) continue;
    json_object_set_new(patch, "minerId", json_string(id));
    for (size_t i = 0; i < fr->n; i++)
      if (fr->arr[i]->authed && json_object_get(fr->arr[i]->miners, id) &&
          sees_miner(fr->arr[i], id))
        push(fr->arr[i], "subMinerInfo", json_incref(patch));
    json_decref(patch);
  }
  json_decref(wanted);
}

static void push_devices(struct fsess *fs) {
  const char *key;
  json_t *v;
  json_object_foreach(fs->devices, key, v) {
    uint64_t id = 0;
    id_parse(key, &id);
    if (!sees_device(fs, id)) continue; /* left its token's groups since it subscribed */
    struct live *l = fs->fr->srv->live;
    int64_t time = live_status_time(l, id);
    json_int_t last = json_integer_value(v);
    if (time < 0) {
      if (last != -1) {
        push(fs, "subDeviceStatus", json_pack("{s:s, s:s}", "device_id", key, "dev_state",
                                              WIRE_STATE_OFFLINE));
        json_integer_set(v, -1);
      }
    } else if (time > last) {
      json_t *st = live_status(l, id);
      if (st) push(fs, "subDeviceStatus", st);
      json_integer_set(v, time);
    }
  }
}

/* subMinerList: one diff of the summaries per tick; subDeviceList: the state changes gathered
 * since the last tick (and a refetch hint when devices were added or removed). */
static void push_lists(struct front *fr) {
  if (anyone(fr, offsetof(struct fsess, sub_miner_list))) {
    json_t *now = summaries_by_id(fr->srv);
    json_t *patch = fr->list_pushed ? mergepatch_diff(fr->list_pushed, now) : NULL;
    json_decref(fr->list_pushed);
    fr->list_pushed = now;
    for (size_t i = 0; patch && i < fr->n; i++)
      if (fr->arr[i]->authed && fr->arr[i]->sub_miner_list) {
        json_t *seen = seen_keys(fr->arr[i], patch, true);
        if (json_object_size(seen)) push(fr->arr[i], "subMinerList", seen);
        else json_decref(seen);
      }
    json_decref(patch);
  } else if (fr->list_pushed) {
    json_decref(fr->list_pushed);
    fr->list_pushed = NULL;
  }
  if (fr->devices_changed) json_object_set_new(fr->dev_changes, "_refresh", json_true());
  fr->devices_changed = false;
  if (json_object_size(fr->dev_changes)) {
    for (size_t i = 0; i < fr->n; i++)
      if (fr->arr[i]->authed && fr->arr[i]->sub_device_list) {
        json_t *seen = seen_keys(fr->arr[i], fr->dev_changes, false);
        if (json_object_size(seen)) push(fr->arr[i], "subDeviceList", json_deep_copy(seen));
        json_decref(seen);
      }
    json_object_clear(fr->dev_changes);
  }
}

/* subAlerts: the whole list again whenever it changed (it is short: open alerts and the
 * recently resolved). */
static void push_alerts(struct front *fr) {
  struct alerts *a = alerting_alerts(fr->srv);
  if (!a || alerts_version(a) == fr->alerts_pushed) return;
  fr->alerts_pushed = alerts_version(a);
  for (size_t i = 0; i < fr->n; i++)
    if (fr->arr[i]->authed && fr->arr[i]->sub_alerts)
      push(fr->arr[i], "subAlerts", alerts_seen(fr->arr[i]));
}

static void on_tick(uv_timer_t *t) {
  struct front *fr = t->data;
  int64_t now = (int64_t)uv_now(fr->srv->loop), wall = ef_now_ms();
  for (size_t i = 0; i < fr->n; i++) {
    struct fsess *fs = fr->arr[i];
    if (!fs->authed && now - fs->opened > fr->srv->cfg.login_timeout && !fs->dropping) {
      reply(fs, NULL, false, "TimeOut.", NULL);
      net_close(fs->conn, 1008, "login timeout");
      fs->dropping = true;
    } else if (fs->authed && !fs->dropping && !auth_slot_valid(fr->srv->auth, fs->slot, wall)) {
      reply(fs, NULL, false, "token expired", NULL); /* revoked ones are closed at once */
      net_close(fs->conn, 1008, "token expired");
      fs->dropping = true;
    }
  }
  push_miners(fr);
  push_lists(fr);
  push_alerts(fr);
  for (size_t i = 0; i < fr->n; i++)
    if (fr->arr[i]->authed) push_devices(fr->arr[i]);
}

/* A token was revoked (an auth listener): its dashboards are closed now. */
static void on_revoke(void *ud, size_t slot) {
  struct front *fr = ud;
  for (size_t i = 0; i < fr->n; i++) {
    struct fsess *fs = fr->arr[i];
    if (!fs->authed || fs->slot != slot || fs->dropping) continue;
    reply(fs, NULL, false, "token revoked", NULL);
    net_close(fs->conn, 1008, "token revoked");
    fs->dropping = true;
  }
}

/* ----- life ----- */

void *front_open(struct server *srv, struct net_conn *conn) {
  struct front *fr = srv->front;
  if (srv->stopping) return NULL;
  struct fsess *fs = ef_calloc(1, sizeof *fs);
  fs->fr = fr;
  fs->conn = conn;
  fs->refs = 1;
  fs->opened = (int64_t)uv_now(srv->loop);
  fs->miners = json_object();
  fs->devices = json_object();
  net_conn_set_queue_max(conn, (size_t)srv->cfg.front_queue_max);
  if (fr->n == fr->cap) {
    fr->cap = fr->cap ? fr->cap * 2 : 16;
    fr->arr = ef_realloc(fr->arr, fr->cap * sizeof *fr->arr);
  }
  fr->arr[fr->n++] = fs;
  /* Connections that have not signed in have caps of their own, in all and per address: they
   * cannot crowd out signed-in dashboards (front_max_connections counts those), and one
   * address's idle sockets cannot keep another's dashboard from signing in. */
  fs->ip = net_conn_ip(conn);
  size_t from_ip = unsigned_count(fr, fs->ip, +1);
  if ((int64_t)fr->n_unauthed > srv->cfg.front_max_unauthenticated ||
      (int64_t)from_ip > srv->cfg.front_unauthenticated_per_address) {
    reply(fs, NULL, false, "too many front-end connections", NULL);
    net_close(conn, 1013, "try again later");
    fs->dropping = true;
  }
  return fs;
}

void front_close(void *p) {
  struct fsess *fs = p;
  struct front *fr = fs->fr;
  for (size_t i = 0; i < fr->n; i++)
    if (fr->arr[i] == fs) {
      fr->arr[i] = fr->arr[--fr->n];
      break;
    }
  if (fs->authed) fr->n_authed--;
  else unsigned_count(fr, fs->ip, -1);
  fs->conn = NULL;
  fsess_unref(fs);
}

int front_start(struct server *srv) {
  struct front *fr = ef_calloc(1, sizeof *fr);
  fr->srv = srv;
  fr->pushed = json_object();
  u64map_init(&fr->unauthed_by_ip);
  fr->dev_changes = json_object();
  uv_timer_init(srv->loop, &fr->tick);
  fr->tick.data = fr;
  uv_timer_start(&fr->tick, on_tick, (uint64_t)srv->cfg.front_push_interval,
                 (uint64_t)srv->cfg.front_push_interval);
  srv->front = fr;
  live_listen(srv->live, on_live, fr);
  auth_listen(srv->auth, on_revoke, fr);
  return 0;
}

static void front_free(uv_handle_t *h) {
  struct front *fr = h->data;
  ef_free(fr->arr);
  json_decref(fr->pushed);
  json_decref(fr->list_pushed);
  json_decref(fr->dev_changes);
  u64map_free(&fr->unauthed_by_ip);
  ef_free(fr);
}

void front_stop(struct server *srv) {
  struct front *fr = srv->front;
  if (!fr) return;
  uv_timer_stop(&fr->tick);
  uv_close((uv_handle_t *)&fr->tick, front_free);
  srv->front = NULL;
}
