/* SPDX-License-Identifier: MIT */
/* order.c -- orders to devices (docs/protocol.md#orders): one in flight per device, correlated by
 * order_id, answered within order_timeout, with the restart confirm handshake.
 *
 * A device that does not echo order_id (the original controller) is still understood: its one
 * in-flight order is the one answered. A result carrying another order_id (a late answer to an
 * order that already timed out) is ignored.
 *
 * Orders in flight are kept by device id. A device's session ending (or being replaced by a new
 * login) fails its order: order.c hears of it as a listener of the live registry.
 */
#include <string.h>

#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "log.h"
#include "mem.h"
#include "server.h"
#include "stats.h"
#include "u64map.h"
#include "wire.h"

struct order {
  struct orders *os;
  uint64_t device_id;
  uint64_t order_id;
  char *type;
  order_cb cb;
  void *ud;
  uv_timer_t timer;
  uint64_t log_since;  /* the device-log batch of its "order" row */
  uint64_t given;      /* uv_now() when it was sent (stats.h: latency) */
  /* the outcome, kept while its order_result row is committed */
  bool ok;
  int http;
  char *message;
};

struct orders {
  struct server *srv;
  struct u64map inflight; /* device_id -> struct order * */
};

static bool is_inner(const char *type) {
  return strcmp(type, WIRE_ORDER_RESTART) == 0 || strcmp(type, WIRE_ORDER_UPLOAD_LOG) == 0;
}

static void order_closed(uv_handle_t *h) {
  struct order *o = h->data;
  ef_free(o->type);
  ef_free(o->message);
  ef_free(o);
}

/* The order's rows are committed (log_rc 0) or lost: tell the caller, free. */
static void logged(void *ud, int log_rc) {
  struct order *o = ud;
  o->cb(o->ud, o->ok, o->http, o->message, log_rc);
  uv_close((uv_handle_t *)&o->timer, order_closed);
}

/* End the order: forget it, log, and once its rows are committed tell the caller. */
static void finish(struct order *o, bool ok, int http, const char *message) {
  struct server *srv = o->os->srv;
  u64map_del(&o->os->inflight, o->device_id);
  uv_timer_stop(&o->timer);
  o->ok = ok;
  o->http = http;
  o->message = ef_strdup(message ? message : "");
  stats_order(ok ? STATS_ORDER_SUCCESS : http == 504 ? STATS_ORDER_TIMEOUT : STATS_ORDER_FAIL,
              (int64_t)(uv_now(srv->loop) - o->given));
  char *detail = ef_asprintf("%s: %s", o->type, o->message);
  devlog_add(srv->devlog, o->device_id, "order_result", detail, ok ? "success" : "fail");
  ef_free(detail);
  devlog_sync(srv->devlog, o->log_since, logged, o);
}

static void on_timeout(uv_timer_t *t) {
  finish(t->data, false, 504, "order timed out: no result from the device");
}

int order_give(struct server *srv, uint64_t device_id, const char *type, json_t *params,
               order_cb cb, void *ud, const char **why) {
  struct orders *os = srv->orders;
  enum live_where where = live_find(srv->live, device_id, NULL);
  if (where != LIVE_LOCAL) return *why = WIRE_MSG_OFFLINE, EF_EOFFLINE;
  if (live_state(srv->live, device_id) == DEV_UNKNOWN)
    return *why = WIRE_MSG_STATE_UNKNOWN, EF_EOFFLINE;
  if (u64map_get(&os->inflight, device_id)) return *why = WIRE_MSG_BUSY, EF_EBUSY;

  uint64_t order_id = id_next();
  char idbuf[EF_ID_STRLEN], oidbuf[EF_ID_STRLEN];
  json_t *data = json_pack("{s:s}", "device_id", id_format(device_id, idbuf));
  if (strcmp(type, WIRE_ORDER_UPLOAD_LOG) == 0)
    json_object_set_new(data, "remote_dir", json_string(srv->cfg.upload_log_dir));
  else if (!is_inner(type))
    json_object_set_new(data, "params", params ? json_incref(params) : json_object());
  json_t *msg = json_pack("{s:s, s:{s:b, s:s, s:s}, s:o}", "type", WIRE_GIVE_ORDER, "Headers",
                          "isInner", is_inner(type), "order_type", type, "order_id",
                          id_format(order_id, oidbuf), "data", data);
  char *txt = jdump_decref(msg);
  int rc = live_send(srv->live, device_id, txt, strlen(txt));
  ef_free(txt);
  if (rc != 0) return *why = WIRE_MSG_OFFLINE, EF_EOFFLINE;

  struct order *o = ef_calloc(1, sizeof *o);
  o->os = os;
  o->device_id = device_id;
  o->order_id = order_id;
  o->type = ef_strdup(type);
  o->given = uv_now(srv->loop);
  o->cb = cb;
  o->ud = ud;
  u64map_put(&os->inflight, device_id, o);
  uv_timer_init(srv->loop, &o->timer);
  o->timer.data = o;
  uv_timer_start(&o->timer, on_timeout, (uint64_t)srv->cfg.order_timeout, 0);
  o->log_since = devlog_add(srv->devlog, device_id, "order", type, NULL);
  return 0;
}

/* upload_instruction_result: the device's reply. */
static void handle_result(const struct ws_msg *m) {
  struct order *o = u64map_get(&m->srv->orders->inflight, m->device_id);
  json_t *hdr = jobj(m->root, "Headers");
  const char *oid = hdr ? jstr(hdr, "order_id") : NULL;
  uint64_t id = 0;
  if (!o || (oid && (!id_parse(oid, &id) || id != o->order_id))) {
    ef_log(EF_LOG_INFO, "device %llu: result for an order it was not given ignored",
           (unsigned long long)m->device_id);
    return;
  }
  const char *status = jstr(m->root, "status");
  const char *message = hdr ? jstr(hdr, "message") : NULL;
  bool ok = status && strcmp(status, WIRE_STATUS_SUCCESS) == 0;
  if (ok && strcmp(o->type, WIRE_ORDER_RESTART) == 0 && message &&
      strcmp(message, WIRE_RESTART_WAIT) == 0) {
    live_sess_send(m->s, WIRE_RESTART_CONFIRM_FRAME, sizeof WIRE_RESTART_CONFIRM_FRAME - 1);
    finish(o, true, 200, "restart confirmed");
    return;
  }
  finish(o, ok, ok ? 200 : 502, message ? message : (ok ? "success" : "order failed"));
}

const struct ws_route order_ws_routes[] = {
  {WIRE_UPLOAD_RESULT, handle_result},
  {NULL, NULL},
};

/* The session that was given the order is gone. */
static void on_live(void *ud, const struct live_change *c) {
  struct orders *os = ud;
  if (c->remote || c->event == LIVE_STATE || (c->event == LIVE_LOGIN && !c->replaced)) return;
  struct order *o = u64map_get(&os->inflight, c->device_id);
  if (o) finish(o, false, 502, c->event == LIVE_LOGIN ? "device reconnected" : "device disconnected");
}

void order_start(struct server *srv) {
  struct orders *os = ef_calloc(1, sizeof *os);
  os->srv = srv;
  u64map_init(&os->inflight);
  srv->orders = os;
  live_listen(srv->live, on_live, os);
}

/* After the loop's last run: every session has ended, so every order has finished. */
void order_free(struct server *srv) {
  struct orders *os = srv->orders;
  if (!os) return;
  u64map_free(&os->inflight);
  ef_free(os);
  srv->orders = NULL;
}
