/* order.c -- orders to devices (SPEC §2 "Orders"): one in flight per device, correlated by
 * order_id, answered within order_timeout, with the restart confirm handshake.
 *
 * A device that does not echo order_id (the original controller) is still understood: its one
 * in-flight order is the one answered. A result carrying another order_id (a late answer to an
 * order that already timed out) is ignored.
 */
#include <string.h>

#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "log.h"
#include "mem.h"
#include "server.h"

static const char RESTART_CONFIRM[] = "{\"type\":\"restart_confirm\",\"Headers\":{},\"data\":{}}";

struct order {
  struct dsess *s;
  uint64_t order_id;
  char *type;
  order_cb cb;
  void *ud;
  uv_timer_t timer;
};

static bool is_inner(const char *type) {
  return strcmp(type, "restart") == 0 || strcmp(type, "upload_log") == 0;
}

static void order_closed(uv_handle_t *h) {
  struct order *o = h->data;
  ef_free(o->type);
  ef_free(o);
}

/* End the order: detach it from its session, log, tell the caller, free. */
static void finish(struct order *o, bool ok, int http, const char *message) {
  struct dsess *s = o->s;
  s->order = NULL;
  uv_timer_stop(&o->timer);
  if (s->device_id) {
    char *detail = ef_asprintf("%s: %s", o->type, message ? message : "");
    devlog_add(s->srv->devlog, s->device_id, "order_result", detail, ok ? "success" : "fail");
    ef_free(detail);
  }
  o->cb(o->ud, ok, http, message ? message : "");
  uv_close((uv_handle_t *)&o->timer, order_closed);
}

static void on_timeout(uv_timer_t *t) {
  struct order *o = t->data;
  finish(o, false, 504, "order timed out: no result from the device");
}

int order_give(struct server *srv, uint64_t device_id, const char *type, json_t *params,
               order_cb cb, void *ud, const char **why) {
  struct dsess *s = ws_device_find(srv, device_id);
  if (!s) return *why = "Device is offline!", EF_EOFFLINE;
  if (s->state == DEV_UNKNOWN) return *why = "Device state is Unknown!", EF_EOFFLINE;
  if (s->order) return *why = "Device busy!", EF_EBUSY;

  struct order *o = ef_calloc(1, sizeof *o);
  o->s = s;
  o->order_id = id_next();
  o->type = ef_strdup(type);
  o->cb = cb;
  o->ud = ud;

  char idbuf[EF_ID_STRLEN], oidbuf[EF_ID_STRLEN];
  json_t *data = json_pack("{s:s}", "device_id", id_format(device_id, idbuf));
  if (strcmp(type, "upload_log") == 0)
    json_object_set_new(data, "remote_dir", json_string(srv->cfg.upload_log_dir));
  else if (!is_inner(type))
    json_object_set_new(data, "params", params ? json_incref(params) : json_object());
  json_t *msg = json_pack("{s:s, s:{s:b, s:s, s:s}, s:o}", "type", "give_order", "Headers",
                          "isInner", is_inner(type), "order_type", type, "order_id",
                          id_format(o->order_id, oidbuf), "data", data);
  char *txt = jdump_decref(msg);
  int rc = ws_device_send(s, txt, strlen(txt));
  ef_free(txt);
  if (rc != 0) {
    ef_free(o->type);
    ef_free(o);
    return *why = "Device is offline!", EF_EOFFLINE;
  }
  s->order = o;
  uv_timer_init(srv->loop, &o->timer);
  o->timer.data = o;
  uv_timer_start(&o->timer, on_timeout, (uint64_t)srv->cfg.order_timeout, 0);
  devlog_add(srv->devlog, device_id, "order", type, NULL);
  return 0;
}

void order_result(struct dsess *s, json_t *msg) {
  struct order *o = s->order;
  json_t *hdr = jobj(msg, "Headers");
  const char *oid = hdr ? jstr(hdr, "order_id") : NULL;
  uint64_t id = 0;
  if (!o || (oid && (!id_parse(oid, &id) || id != o->order_id))) {
    ef_log(EF_LOG_DEBUG, "device %llu: result for no pending order ignored",
           (unsigned long long)s->device_id);
    return;
  }
  const char *status = jstr(msg, "status");
  const char *message = hdr ? jstr(hdr, "message") : NULL;
  bool ok = status && strcmp(status, "success") == 0;
  if (ok && strcmp(o->type, "restart") == 0 && message &&
      strcmp(message, "wait Server Confirm") == 0) {
    ws_device_send(s, RESTART_CONFIRM, sizeof RESTART_CONFIRM - 1);
    finish(o, true, 200, "restart confirmed");
    return;
  }
  finish(o, ok, ok ? 200 : 502, message ? message : (ok ? "success" : "order failed"));
}

void order_abort(struct dsess *s, const char *why) {
  if (s->order) finish(s->order, false, 502, why);
}
