/* SPDX-License-Identifier: MIT */
/* heartbeat.c -- ping/pong and status upload, one failure count (docs/protocol.md#heartbeat).
 *
 * Ping: ping_interval after the previous ping that was answered, or after the last status upload
 * when that is later (a status stands in for a ping). A pong not back within pong_timeout is a
 * miss and the ping is sent again at once. Status: at login, then status_interval after the
 * previous acknowledged one; a missing ack within pong_timeout is a miss and the status is sent
 * again at once. Any answer resets the failure count; max_failures misses drop the connection.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "edge_internal.h"
#include "jsonutil.h"
#include "mem.h"
#include "proto.h"
#include "sysinfo.h"

static void on_ping_timer(uv_timer_t *t);
static void on_status_timer(uv_timer_t *t);

static uint64_t until(int64_t at, int64_t now) { return at > now ? (uint64_t)(at - now) : 0; }

/* Count a miss; true when the connection was dropped because of it. */
static bool add_failure(ef_client *c, const char *what) {
  c->failures++;
  client_oplog(c, 1, "Timeout! no %s within %lld ms (%d/%lld)", what,
               (long long)c->conf.pong_timeout, c->failures, (long long)c->conf.max_failures);
  if (c->failures < c->conf.max_failures) return false;
  c->failures = 0;
  heartbeat_stop(c);
  client_drop(c, "too many heartbeat failures");
  return true;
}

static void send_ping(ef_client *c) {
  client_send_owned(c, proto_ping());
  client_log(c, 3, "send ping");
  c->ping_sent = ef_mono_ms();
  c->ping_wait = true;
  uv_timer_start(&c->t_ping, on_ping_timer, (uint64_t)c->conf.pong_timeout, 0);
}

static char *build_status(ef_client *c) {
  json_t *sections = json_object();
  sysinfo_add_base(sections, "/proc", "/");
  json_t *extra = NULL;
  if (c->status_cb) {
    char *text = c->status_cb(c->status_ud);
    if (text) {
      extra = jparse_object(text, strlen(text));
      if (!extra) client_log(c, 1, "status provider returned no JSON object; ignored");
      free(text); /* the provider's malloc */
    }
  }
  const char *id = c->confirmed_id ? c->confirmed_id : c->conf.device_id;
  char *msg = proto_status(id, sections, extra);
  json_decref(extra);
  json_decref(sections);
  return msg;
}

static void send_status(ef_client *c) {
  client_send_owned(c, build_status(c));
  client_oplog(c, 2, "Send StatusInfo");
  c->status_sent = ef_mono_ms();
  c->status_wait = true;
  uv_timer_start(&c->t_status, on_status_timer, (uint64_t)c->conf.pong_timeout, 0);
}

static void on_ping_timer(uv_timer_t *t) {
  ef_client *c = t->data;
  if (c->state != CONN_ONLINE) return;
  if (c->ping_wait) {
    c->ping_wait = false;
    if (add_failure(c, "pong")) return;
    send_ping(c);
    return;
  }
  int64_t now = ef_mono_ms();
  if (c->status_sent && now - c->status_sent < c->conf.ping_interval) {
    uv_timer_start(&c->t_ping, on_ping_timer, until(c->status_sent + c->conf.ping_interval, now), 0);
    return;
  }
  send_ping(c);
}

static void on_status_timer(uv_timer_t *t) {
  ef_client *c = t->data;
  if (c->state != CONN_ONLINE) return;
  if (c->status_wait) {
    c->status_wait = false;
    if (add_failure(c, "status ack")) return;
  }
  send_status(c);
}

void heartbeat_start(ef_client *c) {
  c->failures = 0;
  c->ping_wait = c->status_wait = false;
  c->ping_sent = c->status_sent = 0;
  send_status(c);
  uv_timer_start(&c->t_ping, on_ping_timer, (uint64_t)c->conf.ping_interval, 0);
}

void heartbeat_stop(ef_client *c) {
  c->ping_wait = c->status_wait = false;
  if (!uv_is_closing((uv_handle_t *)&c->t_ping)) uv_timer_stop(&c->t_ping);
  if (!uv_is_closing((uv_handle_t *)&c->t_status)) uv_timer_stop(&c->t_status);
}

void heartbeat_on_pong(ef_client *c) {
  if (!c->ping_wait) return;
  c->ping_wait = false;
  c->failures = 0;
  client_log(c, 3, "successfully receive pong");
  uv_timer_start(&c->t_ping, on_ping_timer,
                 until(c->ping_sent + c->conf.ping_interval, ef_mono_ms()), 0);
}

void heartbeat_on_status_ack(ef_client *c) {
  if (!c->status_wait) return;
  c->status_wait = false;
  c->failures = 0;
  client_log(c, 3, "successfully receive response of statusSend");
  uv_timer_start(&c->t_status, on_status_timer,
                 until(c->status_sent + c->conf.status_interval, ef_mono_ms()), 0);
}
