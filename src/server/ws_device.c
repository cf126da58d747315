/* SPDX-License-Identifier: MIT */
/* ws_device.c -- southbound WebSocket (/ws): a device connection's framing, heartbeat and message
 * dispatch (docs/protocol.md).
 *
 * DESIGN
 * A connection's life: LOGIN (its first message, within login_timeout, goes to login.c) → AUTH
 * (the login is in flight) → READY (registered in live.c) → closed. In READY every message is
 * routed by its "type" through the rows of the modules that own the message types (ws_routes);
 * the ping, by far the most frequent, is recognised without a JSON parse.
 *
 * Heartbeat (docs/protocol.md#heartbeat) costs no timer work per message: a message only records
 * uv_now() in window_start. The session's one deadline (a node of the server's timing wheel,
 * wheel.h) comes at the end of the window; it moves on by the remainder when a message came
 * meanwhile, or counts a miss (Unknown) and opens a shorter window; at heartbeat_max_misses the
 * connection is closed and the device marked offline.
 */
#include <string.h>

#include "dsess.h"
#include "id.h"
#include "jsonutil.h"
#include "log.h"
#include "login.h"
#include "mem.h"
#include "server.h"
#include "stats.h"
#include "wire.h"

/* ----- dispatch ----- */

static void handle_ping(const struct ws_msg *m) {
  live_sess_send(m->s, WIRE_PONG_FRAME, sizeof WIRE_PONG_FRAME - 1);
}

static const struct ws_route own_routes[] = {
  {WIRE_PING_PONG, handle_ping},
  {NULL, NULL},
};

/* Every message type a logged-in device may send, by owner. */
static const struct ws_route *const ws_routes[] = {
  own_routes, status_ws_routes, order_ws_routes, miner_ws_routes,
};

static const struct ws_route *route(const char *type) {
  for (size_t t = 0; t < sizeof ws_routes / sizeof *ws_routes; t++)
    for (const struct ws_route *r = ws_routes[t]; r->type; r++)
      if (strcmp(r->type, type) == 0) return r;
  return NULL;
}

/* The ping exactly as the library, the load generator (compact) and the original controller
 * (Python's json.dumps) write it; any other spelling takes the parsed path. */
static bool is_ping(const char *msg, size_t len) {
  return (len == sizeof WIRE_PING_FRAME - 1 && memcmp(msg, WIRE_PING_FRAME, len) == 0) ||
         (len == sizeof WIRE_PING_FRAME_SPACED - 1 &&
          memcmp(msg, WIRE_PING_FRAME_SPACED, len) == 0);
}

static void dispatch(struct dsess *s, const char *msg, size_t len) {
  if (is_ping(msg, len)) {
    ef_stats.device_pings++;
    live_sess_send(s, WIRE_PONG_FRAME, sizeof WIRE_PONG_FRAME - 1);
    return;
  }
  json_t *root = jparse_object(msg, len);
  if (!root) {
    live_sess_error(s, WIRE_MSG_INVALID_JSON);
    return;
  }
  const char *type = jstr(root, "type");
  const struct ws_route *r = type ? route(type) : NULL;
  if (r)
    r->handle(&(struct ws_msg){.srv = s->srv, .s = s, .device_id = s->device_id, .root = root,
                               .raw = msg, .len = len});
  else if (!type) live_sess_error(s, "message without type");
  else ef_log(EF_LOG_DEBUG, "device %llu: ignoring message type %s",
              (unsigned long long)s->device_id, type);
  json_decref(root);
}

/* ----- login ----- */

static void login_fail(struct dsess *s, uint64_t device_id, const char *msg) {
  ef_log(EF_LOG_INFO, "device %s: login failed: %s", live_sess_peer(s), msg);
  if (device_id) devlog_add(s->srv->devlog, device_id, "login", msg, "fail");
  live_sess_send_json(s, json_pack("{s:s, s:s}", "status", WIRE_STATUS_FAIL, "message", msg));
  live_sess_drop(s, 1008, "login failed");
}

static void arm(struct dsess *s, int64_t in_ms) {
  wheel_add(&s->srv->wheel, &s->deadline, (int64_t)uv_now(s->srv->loop) + in_ms);
}

static void login_done(void *ud, const struct login_result *r) {
  struct dsess *s = ud;
  struct server *srv = s->srv;
  s->login = NULL;
  if (r->error) {
    login_fail(s, r->device_id, r->error);
    return;
  }
  if ((int64_t)live_count(srv->live) >= srv->cfg.max_devices &&
      live_find(srv->live, r->device_id, NULL) != LIVE_LOCAL) {
    login_fail(s, r->device_id, "server full, try again later");
    return;
  }
  char idbuf[EF_ID_STRLEN];
  json_t *data = json_pack("{s:s}", "device_id", id_format(r->device_id, idbuf));
  if (r->token) {
    json_object_set_new(data, "token", json_string(r->token));
    json_object_set_new(data, "token_expires", json_integer(r->token_expires));
  }
  live_sess_send_json(s, json_pack("{s:s, s:o}", "status", WIRE_STATUS_SUCCESS, "data", data));
  /* A miner's agent answers with its whole record; other devices ignore it. */
  live_sess_send(s, WIRE_REPORT_FULL_FRAME, sizeof WIRE_REPORT_FULL_FRAME - 1);
  s->window_start = (int64_t)uv_now(srv->loop);
  live_sess_login(s, r->device_id);
  ef_log(EF_LOG_DEBUG, "device %s logged in from %s", idbuf, live_sess_peer(s));
  arm(s, srv->cfg.heartbeat_tolerance);
}

/* ----- heartbeat ----- */

static int64_t tolerance(const struct dsess *s) {
  return s->misses ? s->srv->cfg.heartbeat_tolerance_miss : s->srv->cfg.heartbeat_tolerance;
}

static void on_deadline(struct wheel_node *n, void *ud) {
  (void)ud;
  struct dsess *s = container_of(n, struct dsess, deadline);
  struct server *srv = s->srv;
  if (s->phase != PH_READY) { /* login deadline */
    if (s->phase == PH_LOGIN) login_fail(s, 0, WIRE_MSG_TIMEOUT);
    return;
  }
  int64_t now = (int64_t)uv_now(srv->loop);
  int64_t left = s->window_start + tolerance(s) - now;
  if (left > 0) {
    arm(s, left);
    return;
  }
  s->misses++;
  ef_stats.heartbeat_misses++;
  s->window_start = now;
  devlog_add(srv->devlog, s->device_id, "heartbeat_loss", NULL, "fail");
  if (s->misses >= srv->cfg.heartbeat_max_misses) {
    ef_log(EF_LOG_INFO, "device %llu: %u heartbeats missed, closing",
           (unsigned long long)s->device_id, s->misses);
    live_sess_drop(s, 1000, "heartbeat lost");
    return;
  }
  live_sess_set_state(s, DEV_UNKNOWN, "heartbeat missed");
  arm(s, tolerance(s));
}

/* ----- the connection ----- */

/* Per device and second: at most device_max_messages messages and device_max_bytes bytes, in
 * fixed one-second windows (no state beyond three integers per device). */
static bool within_rate(struct dsess *s, size_t len) {
  const struct server_config *c = &s->srv->cfg;
  uint32_t sec = (uint32_t)(uv_now(s->srv->loop) / 1000);
  if (sec != s->rate_second) {
    s->rate_second = sec;
    s->rate_msgs = s->rate_bytes = 0;
  }
  s->rate_msgs++;
  s->rate_bytes += (uint32_t)len;
  return s->rate_msgs <= c->device_max_messages && s->rate_bytes <= c->device_max_bytes;
}

void ws_device_message(void *user, const char *msg, size_t len) {
  struct dsess *s = user;
  if (s->phase == PH_LOGIN) {
    const char *error = NULL;
    s->login = login_start(s->srv->logins, s->conn ? net_conn_ip(s->conn) : 0, msg, len,
                           login_done, s, &error);
    if (s->login) s->phase = PH_AUTH;
    else login_fail(s, 0, error);
    return;
  }
  if (s->phase != PH_READY) return; /* AUTH: a message before the login reply is dropped */
  if (!within_rate(s, len)) {
    ef_log(EF_LOG_INFO, "device %llu: over %lld messages or %lld bytes a second, closing",
           (unsigned long long)s->device_id, (long long)s->srv->cfg.device_max_messages,
           (long long)s->srv->cfg.device_max_bytes);
    ef_stats.device_rate_drops++;
    live_sess_drop(s, 1008, "message rate exceeded");
    return;
  }
  s->window_start = (int64_t)uv_now(s->srv->loop);
  if (s->misses) {
    s->misses = 0;
    live_sess_set_state(s, DEV_ONLINE, "message received");
  }
  dispatch(s, msg, len);
}

void *ws_device_open(struct server *srv, struct net_conn *conn) {
  if (srv->stopping) return NULL;
  struct dsess *s = live_sess_new(srv->live, srv, conn);
  arm(s, srv->cfg.login_timeout);
  srv->n_sessions++;
  return s;
}

void ws_device_close(void *user) {
  struct dsess *s = user;
  s->conn = NULL;
  s->srv->n_sessions--;
  if (s->login) login_cancel(s->login);
  live_sess_end(s, "connection closed");
  wheel_del(&s->deadline);
  live_sess_free(s);
}

void ws_device_start(struct server *srv) {
  /* Slots fine enough for the shortest deadline (tests run windows of a few hundred ms), and
   * enough of them to span the longest; longer ones are re-filed (wheel.h). */
  const struct server_config *c = &srv->cfg;
  int64_t shortest = c->login_timeout < c->heartbeat_tolerance_miss ? c->login_timeout
                                                                     : c->heartbeat_tolerance_miss;
  int64_t longest = c->login_timeout > c->heartbeat_tolerance ? c->login_timeout
                                                               : c->heartbeat_tolerance;
  int64_t slot = shortest / 8;
  if (slot < 5) slot = 5;
  if (slot > 100) slot = 100;
  size_t nslots = (size_t)(longest / slot + 2);
  if (nslots > 4096) nslots = 4096;
  wheel_init(&srv->wheel, srv->loop, slot, nslots, on_deadline, srv);
}

void ws_device_stop(struct server *srv) { wheel_stop(&srv->wheel); }
