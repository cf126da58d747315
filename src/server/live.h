/* SPDX-License-Identifier: MIT */
/* live.h -- the registry of connected devices: who is connected, in which state, what each one
 * last reported, and which device runs on which host. Every server module reads live device
 * state through these calls and nothing else; ws_device.c, which owns the connections, is the
 * only writer.
 *
 * DESIGN
 * Calls take device ids, never session pointers, and answer where a device is: LIVE_LOCAL
 * (connected to this node), LIVE_REMOTE (connected to another node of a cluster, as the cluster
 * bus reports it: cluster.c is the only writer of remote entries, through live_remote_*) or
 * LIVE_ABSENT. Reads (state, status, host) answer the same for local and remote devices.
 * Lookups are one hash probe.
 *
 * State changes are events. Modules that must react (the device log, dashboards, orders, later
 * alerts and the cluster bus) register a listener at start-up; live calls them in registration
 * order, on the loop thread, synchronously, after its own state is updated. A listener may read
 * the registry but must not change it (no drop from inside a listener).
 *
 * Session handles (struct dsess) are opaque here; message handlers get the sender's handle and
 * use the live_sess_* calls to answer on that connection.
 */
#ifndef EF_LIVE_H
#define EF_LIVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum dev_state { DEV_OFFLINE = 0, DEV_ONLINE, DEV_UNKNOWN };

/* The state's wire spelling ("online", "Unknown", "offline"): a static string. */
static inline const char *dev_state_name(enum dev_state s) {
  return s == DEV_ONLINE ? WIRE_STATE_ONLINE : s == DEV_UNKNOWN ? WIRE_STATE_UNKNOWN
                                                                 : WIRE_STATE_OFFLINE;
}

enum live_where { LIVE_ABSENT = 0, LIVE_LOCAL, LIVE_REMOTE };

struct live;
struct dsess;

/* ----- events ----- */
enum live_event {
  LIVE_LOGIN,   /* a session began (state online); it may replace an older one of the device */
  LIVE_STATE,   /* the state changed on an open session (online <-> Unknown) */
  LIVE_LOGOUT,  /* the session ended (state offline); `why` says how */
};

struct live_change {
  enum live_event event;
  uint64_t device_id;
  enum dev_state state;     /* the new state */
  const char *why;          /* "login", "heartbeat missed", "connection closed", ... */
  const char *peer;         /* LIVE_LOGIN: the device's address */
  bool replaced;            /* LIVE_LOGIN: an older session of the device was closed for it;
                               LIVE_LOGOUT: the device logged in on another node */
  bool remote;              /* the device is (was) connected to another node, `node` */
  unsigned node;            /* remote: that node's id */
  bool persist;             /* this node writes the change to the device log and the stored
                               state: every local change but a session yielded to another node;
                               a remote change only when its node was lost and this node records
                               the loss (cluster.c) */
};

typedef void (*live_listener)(void *ud, const struct live_change *c);

/* ----- life ----- */
struct live *live_new(void);
/* Free the registry (sessions must all have been released). */
void live_free(struct live **l);
/* Add a listener for every later change (start-up only). */
void live_listen(struct live *l, live_listener fn, void *ud);

/* ----- lookups: any module ----- */
/* Where the device is connected; *s (may be NULL) gets its local session. */
enum live_where live_find(const struct live *l, uint64_t device_id, struct dsess **s);
/* The device's state: its session's, or offline when it has none. */
enum dev_state live_state(const struct live *l, uint64_t device_id);
/* The `data` object of the device's latest status upload (new reference), or NULL. */
json_t *live_status_data(const struct live *l, uint64_t device_id);
/* The status as the API shows it: data + device_id, dev_state, status_time (new reference; {}
 * and those when nothing was uploaded in this session yet), or NULL when not connected. */
json_t *live_status(const struct live *l, uint64_t device_id);
/* ms since the epoch of the latest status upload: 0 when none yet, -1 when not connected. */
int64_t live_status_time(const struct live *l, uint64_t device_id);
/* The device whose agent last reported `host` as its host name, or 0. */
uint64_t live_host_device(const struct live *l, const char *host);
/* Set "dev_state" of a device JSON object, or of each in an array, from memory (the stored state
 * lags by up to log_flush). */
void live_overlay_state(const struct live *l, json_t *devices);
/* Logged-in sessions on this node. */
size_t live_count(const struct live *l);
/* Devices connected to other nodes, as far as this node knows. */
size_t live_count_remote(const struct live *l);
/* LIVE_REMOTE: the node the device is connected to. false when it is not remote. */
bool live_remote_node(const struct live *l, uint64_t device_id, unsigned *node);
/* ms since the epoch of the device's current login (local or remote), or -1. */
int64_t live_login_time(const struct live *l, uint64_t device_id);
/* Iterate over the local sessions' device ids: for (size_t i = 0; live_next_local(l, &i, &id);)
 * -- no changes to the registry inside. */
bool live_next_local(const struct live *l, size_t *iter, uint64_t *device_id);
/* The same over the devices of other nodes. */
bool live_next_remote(const struct live *l, size_t *iter, uint64_t *device_id);

/* ----- acting on a device: any module ----- */
/* Send a text message to the device's session. 0, EF_ENOENT (not connected here) or the net
 * layer's error (the connection is then being closed). */
int live_send(struct live *l, uint64_t device_id, const char *msg, size_t len);
/* The server ends a device's session (status, reason for the device log): LIVE_LOGOUT at once,
 * the socket closes once the close frame is out. No-op when not connected. */
void live_drop(struct live *l, uint64_t device_id, int status, const char *why);

/* The device logged in on another node: its local session ends (LIVE_LOGOUT, replaced, not
 * persisted: the other node records the login) and the socket closes. No-op when not local. */
void live_yield(struct live *l, uint64_t device_id, const char *why);

/* ----- devices on other nodes: cluster.c only ----- */
/* Device `id` logged in on `node` at `at` (ms since the epoch) from `peer`: its remote entry (a
 * local session must have been yielded first). LIVE_LOGIN (remote). */
void live_remote_login(struct live *l, uint64_t id, unsigned node, int64_t at, const char *peer);
/* Its state on `node` changed: LIVE_STATE (remote). Ignored unless `node` holds it. */
void live_remote_state(struct live *l, uint64_t id, unsigned node, enum dev_state st,
                       const char *why);
/* Its session on `node` ended: LIVE_LOGOUT (remote; persist as given). Ignored unless `node`
 * holds it. */
void live_remote_logout(struct live *l, uint64_t id, unsigned node, const char *why, bool persist);
/* Its latest status upload on `node` (raw message, copied) at `time`, and the agent's host name
 * (or NULL). Ignored unless `node` holds it. */
void live_remote_status(struct live *l, uint64_t id, unsigned node, const char *raw, size_t len,
                        int64_t time, const char *host);
/* `node` is gone: every device it held ends (LIVE_LOGOUT, remote, persist as given). The count. */
size_t live_remote_node_lost(struct live *l, unsigned node, const char *why, bool persist);

/* Note the reason the device log gives for the end of every session that ends from now on
 * without one of its own (server shutdown). */
void live_note_all(struct live *l, const char *why);

/* ----- a session: message handlers ----- */
uint64_t live_sess_device(const struct dsess *s);
enum dev_state live_sess_state(const struct dsess *s);
const char *live_sess_peer(const struct dsess *s);
int live_sess_send(struct dsess *s, const char *msg, size_t len);
/* Send and free a JSON message (steals v). */
void live_sess_send_json(struct dsess *s, json_t *v);
/* Tell the device its message was not understood: {"type":"error",...,"data":{"message"}}. */
void live_sess_error(struct dsess *s, const char *message);
/* Keep `raw` (copied) as the session's latest status upload, received at `time` (ms). */
void live_sess_set_status(struct dsess *s, const char *raw, size_t len, int64_t time);
/* Remember that `host` runs the agent of this session's device; false (nothing changed) when
 * another connected device holds that host name. */
bool live_sess_set_host(struct dsess *s, const char *host);
/* When the session's last status upload was written to the device log (0: none yet). */
int64_t live_sess_status_logged(const struct dsess *s);
void live_sess_set_status_logged(struct dsess *s, int64_t time);

#endif
