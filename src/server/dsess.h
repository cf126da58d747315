/* SPDX-License-Identifier: MIT */
/* dsess.h -- one device connection's session record, private to the two modules that own it:
 * live.c keeps the registry of sessions and their reported state, ws_device.c drives the
 * connection (login, heartbeat, dispatch). Everyone else sees struct dsess as opaque (live.h).
 *
 * Life: created on upgrade (live_sess_new), registered under its device id at login
 * (live_sess_login), ended once (live_sess_end: out of the registry, LIVE_LOGOUT), freed when
 * the net layer reports the connection closed (live_sess_free). No async job holds a session:
 * a login in flight is cancelled (login.h) before the session is freed.
 */
#ifndef EF_DSESS_H
#define EF_DSESS_H

#include <stdint.h>

#include "live.h"
#include "net.h"
#include "wheel.h"

struct server;
struct login_req;

enum dsess_phase { PH_LOGIN = 0, PH_AUTH, PH_READY, PH_CLOSED };

struct dsess {
  struct live *live;
  struct server *srv;
  struct net_conn *conn;      /* NULL once closed */
  uint64_t device_id;         /* 0 until logged in, and again once replaced by a new login */
  struct wheel_node deadline; /* login deadline, then heartbeat deadline (ws_device.c) */
  int64_t window_start;       /* uv_now() of the last message or the last miss */
  struct login_req *login;    /* PH_AUTH: the login in flight */
  char *status;               /* the latest upload_status_info message, as received */
  int64_t status_time;        /* ms since epoch */
  int64_t status_logged;      /* status_time of the last upload written to the device log */
  char *close_reason;         /* the first reason given for the end, for the device log */
  int64_t login_time;         /* ms since the epoch of the login */
  uint32_t status_len;
  uint32_t rate_second;       /* the second (uv_now / 1000) counted in rate_msgs, rate_bytes */
  uint32_t rate_msgs;
  uint32_t rate_bytes;
  uint8_t phase;              /* enum dsess_phase */
  uint8_t state;              /* enum dev_state */
  uint8_t misses;
  bool yielded;               /* ended because the device logged in on another node */
};

struct dsess *live_sess_new(struct live *l, struct server *srv, struct net_conn *conn);
void live_sess_free(struct dsess *s);
/* The session logged in as device_id: it becomes the device's session (an older one is closed
 * with "replaced by a new login" and forgets its device), state online, LIVE_LOGIN. */
void live_sess_login(struct dsess *s, uint64_t device_id);
/* Online <-> Unknown on an open session (LIVE_STATE when it changes). */
void live_sess_set_state(struct dsess *s, enum dev_state st, const char *why);
/* End the session once: out of the registry, LIVE_LOGOUT (when it was the device's session),
 * phase closed. `why` is kept unless a reason was noted before. */
void live_sess_end(struct dsess *s, const char *why);
/* End the session and close its connection with a WebSocket status. */
void live_sess_drop(struct dsess *s, int status, const char *why);

#endif
