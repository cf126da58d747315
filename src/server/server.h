/* server.h -- edgefleetd's map: the server struct, its configuration, and each module's entry
 * points, grouped by file. Everything here runs on the loop thread unless it says otherwise.
 *
 * DESIGN
 * One libuv loop owned by main.c carries everything: libwebsockets (net_lws.c) for the device
 * WebSocket, the REST API and later the dashboard; timers for heartbeats and orders; wakeups
 * from the database thread (worker.c) and the uv thread pool (bcrypt). Each connected device
 * is a `struct dsess` found through one hash map by id (live.c); no code path scans all devices
 * per message. Persistent writes caused by devices (log lines, state changes) are batched and
 * written behind by devlog.c on a short timer.
 */
#ifndef EF_SERVER_H
#define EF_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "net.h"
#include "store.h"
#include "u64map.h"
#include "wheel.h"
#include "worker.h"

/* ===== config.c -- options (edgefleetd.conf and flags share one table) ===== */
struct server_config {
  char *listen;              /* host:port */
  char *data_dir;
  char *db;                  /* store URL; default sqlite:<data_dir>/edgefleet.db */
  int64_t log_level;         /* enum ef_log_level (log.h) */
  char *log_file;
  char *static_dir;          /* dashboard files; default: none */
  char *vendor_dir;          /* JavaScript libraries served at /vendor/ */
  char *upload_log_dir;      /* remote_dir sent with upload_log orders */
  int64_t node_id;           /* snowflake node number */
  int64_t login_timeout;     /* ms: first message must arrive within */
  int64_t heartbeat_tolerance;      /* ms: silence allowed while a device's miss count is 0 */
  int64_t heartbeat_tolerance_miss; /* ms: ... while it is above 0 */
  int64_t heartbeat_max_misses;     /* misses that close the connection */
  int64_t order_timeout;     /* ms: wait for an order's result */
  int64_t token_ttl;         /* ms: session token lifetime */
  int64_t bcrypt_cost;
  int64_t bcrypt_jobs;       /* password checks at once (0: one less than the CPUs, at least 1) */
  int64_t bcrypt_queue_max;  /* password logins waiting at most; more are refused */
  int64_t rx_buffer;         /* bytes: per-connection receive buffer */
  int64_t max_message;       /* bytes: largest WebSocket message */
  int64_t max_body;          /* bytes: largest REST body */
  int64_t send_queue_max;    /* bytes: queued output per connection before it is dropped */
  int64_t log_flush;         /* ms: device-log write-behind period */
  int64_t log_retention;     /* ms: device logs older than this are pruned (0 = keep) */
  bool log_status_uploads;   /* write device_logs rows for status uploads ... */
  int64_t log_status_every;  /* ms: ... at most one per device per this (0: every upload) */
  int64_t log_prune_every;   /* ms between two prunings of rows older than log_retention */
  int64_t front_max_connections;         /* dashboard connections at most */
  int64_t front_push_interval;        /* ms between subscription pushes */
  int64_t front_queue_max;   /* bytes queued to a dashboard before it is dropped */
  int64_t miner_flush;       /* ms: miner-record write-behind period */
  int64_t miner_stale;       /* ms without an upload before a miner gets a "no update" alarm */
};

struct cfg_opt;

int config_init(struct server_config *cfg, int argc, char **argv, char *err, size_t errlen);
void config_free(struct server_config *cfg);
void config_usage(FILE *out);
/* The option table (cfg.h), ended by a row with a NULL name: for tests of edgefleetd.conf. */
const struct cfg_opt *config_opts(void);

/* ===== the server ===== */
struct server {
  struct server_config cfg;
  uv_loop_t *loop;
  struct net *net;
  struct worker *worker;
  struct u64map devices;     /* device_id -> struct dsess *, logged-in devices only */
  struct wheel wheel;        /* every device connection's deadline (ws_device.c) */
  struct auth *auth;
  struct devlog *devlog;
  struct miners *miners;     /* miner records (miner.c) */
  struct front *front;       /* dashboard connections (ws_front.c) */
  json_t *hosts;             /* host name -> device_id of the agent on that host */
  uv_signal_t sigint, sigterm;
  bool stopping;
  uint64_t n_sessions;       /* open device connections, logged in or not */
  struct login *bcrypt_head, *bcrypt_tail; /* logins waiting for a password check */
  int bcrypt_active;         /* password checks running on the uv thread pool */
  int64_t bcrypt_waiting;    /* logins in the queue */
};

/* ===== ws_device.c -- southbound WebSocket: login, heartbeat, status, orders ===== */
enum dev_state { DEV_OFFLINE = 0, DEV_ONLINE, DEV_UNKNOWN };
const char *dev_state_name(enum dev_state s);

struct order;
struct login;

/* One device connection. Created on upgrade, freed after close once no async job holds it. */
struct dsess {
  struct server *srv;
  struct net_conn *conn;     /* NULL once closed */
  uint64_t device_id;        /* 0 until logged in */
  struct wheel_node deadline; /* login deadline, then heartbeat deadline (srv->wheel) */
  int64_t window_start;      /* uv_now() of the last message or the last miss */
  uint8_t phase;             /* enum in ws_device.c */
  uint8_t state;             /* enum dev_state */
  uint8_t misses;
  uint8_t refs;              /* async jobs in flight + 1 while open */
  char *status;              /* the latest upload_status_info message, as received */
  uint32_t status_len;
  int64_t status_time;       /* ms since epoch */
  int64_t status_logged;     /* status_time of the last upload written to the device log */
  struct order *order;       /* in flight, or NULL */
  char *close_reason;        /* for the device log */
};

/* Start/stop the deadlines of device connections (the timing wheel). */
void ws_device_start(struct server *srv);
void ws_device_stop(struct server *srv);
/* A connection's deadline came (the wheel's callback). */
void ws_device_deadline(struct wheel_node *n, void *ud);
void *ws_device_open(struct server *srv, struct net_conn *conn);
void ws_device_message(struct dsess *s, const char *msg, size_t len);
void ws_device_close(struct dsess *s);
/* The `data` object of the session's latest status upload (new reference), or NULL. */
json_t *ws_device_status_data(const struct dsess *s);
/* That status as the API shows it: data + device_id, dev_state, status_time (new reference;
 * {} + those when nothing was uploaded yet). */
json_t *ws_device_status(const struct dsess *s);
/* The logged-in session of a device, or NULL. */
struct dsess *ws_device_find(struct server *srv, uint64_t device_id);
/* The server closes a device's connection (status, reason for the device log): the session
 * ends at once (offline, its order fails), the socket once the close frame is out. */
void ws_device_drop(struct dsess *s, int status, const char *why);
/* Send a text message to a session; closes it on overflow. 0 or EF_E*. */
int ws_device_send(struct dsess *s, const char *msg, size_t len);
/* Server shutdown: note the reason on every session before the net layer closes them. */
void ws_device_close_all(struct server *srv);
/* Set "dev_state" of a device JSON object, or of each in an array, from memory: the connected
 * session's state, else "offline" (the stored state lags by up to log_flush). */
void ws_device_overlay_state(struct server *srv, json_t *devices);
/* Tell the device its message was not understood: {"type":"error",...,"data":{"message"}}. */
void ws_device_error(struct dsess *s, const char *message);

/* ===== miner.c -- miner records: uploads (full or merge patch), join, write-behind ===== */
struct miners;
/* Load the stored records (blocking: start-up, before the worker owns the store). */
int miner_init(struct server *srv, struct store *st, char *err, size_t errlen);
void miner_start(struct server *srv);         /* the write-behind timer */
void miner_stop(struct server *srv);          /* write what is dirty; free after the loop */
/* An upload_miner_info message (borrowed) from session s. */
void miner_upload(struct server *srv, struct dsess *s, json_t *msg);
/* A status upload named its host: map host name -> device for the worker join. */
void miner_host_seen(struct server *srv, const char *host, uint64_t device_id);
/* The record in the seed's minerInfo shape, joined with worker hardware; NULL if unknown. */
json_t *miner_get(struct server *srv, const char *miner_id);
json_t *miner_list(struct server *srv);
/* The record as subscriptions see it: workerInfo keyed by host name, joined; NULL if unknown. */
json_t *miner_view(struct server *srv, const char *miner_id);
/* One line per miner for overviews: balances, power, sector counts, workers, alarms. */
json_t *miner_summaries(struct server *srv);

/* ===== ws_front.c -- dashboards (/front): requests, subscriptions, pushes ===== */
int front_start(struct server *srv);
void *front_open(struct server *srv, struct net_conn *conn);
void front_message(void *fs, const char *msg, size_t len);
void front_close(void *fs);
void front_stop(struct server *srv);
/* A device's state changed / devices were added or removed: for subDeviceList. */
void front_device_state(struct server *srv, uint64_t device_id, enum dev_state st);
void front_devices_changed(struct server *srv);

/* ===== order.c -- orders to devices: one in flight per device, correlated by order_id ===== */
/* Called exactly once: ok true when the device reported success; message is the device's
 * (or the server's reason: offline, busy, timeout, disconnected). */
typedef void (*order_cb)(void *ud, bool ok, int http_status, const char *message);
/* Send order `type` with `params` (borrowed; may be NULL) to a device. Returns 0 and calls cb
 * later, or returns EF_ENOENT/EF_EOFFLINE/EF_EBUSY without calling cb (message in *why). */
int order_give(struct server *srv, uint64_t device_id, const char *type, json_t *params,
               order_cb cb, void *ud, const char **why);
/* The device's reply (upload_instruction_result) for session s. */
void order_result(struct dsess *s, json_t *msg);
/* The session is closing: fail its order. */
void order_abort(struct dsess *s, const char *why);

/* ===== devlog.c -- write-behind of device logs and state changes ===== */
struct devlog;
int devlog_start(struct server *srv, struct devlog **out);
/* Queue a device_logs row; strings are copied. */
void devlog_add(struct devlog *dl, uint64_t device_id, const char *event, const char *detail,
                const char *result);
/* Queue a devices.dev_state change (and its log row). */
void devlog_state(struct devlog *dl, uint64_t device_id, enum dev_state st, const char *why);
/* Write everything queued now and stop the timer. */
void devlog_stop(struct devlog **dl);

/* ===== auth.c -- northbound API tokens (stored as SHA-256 only) ===== */
enum auth_kind { AUTH_NONE = 0, AUTH_READ, AUTH_ADMIN };
struct auth;
/* Load the tokens (blocking store access: start-up only, before the worker owns the store).
 * On first start creates an admin token and writes it to <data_dir>/admin.token (0600). */
int auth_init(struct store *st, const char *data_dir, struct auth **out, char *err, size_t errlen);
/* The kind of the bearer token in an Authorization header value, or AUTH_NONE. */
enum auth_kind auth_check(const struct auth *a, const char *authorization);
/* Make a new token of `kind` ("admin" | "read"): fills *t (token_id, hash, time; the strings
 * are the caller's) and the clear token in out[EF_TOKEN_STRLEN]. 0 or EF_ESYS. */
int auth_new_token(const char *name, const char *kind, struct store_token *t, char *out,
                   char *hash);
/* Accept a token stored by the caller from now on. Copied. */
void auth_add(struct auth *a, const struct store_token *t);
void auth_free(struct auth **a);

/* ===== rest.c -- northbound REST entry point (routes in rest_*.c) ===== */
void rest_request(struct server *srv, struct net_req *req);

#endif
