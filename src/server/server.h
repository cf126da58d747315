/* SPDX-License-Identifier: MIT */
/* server.h -- edgefleetd's map: the server struct, its configuration, and each module's entry
 * points, grouped by file. Everything here runs on the loop thread unless it says otherwise.
 *
 * DESIGN
 * One libuv loop owned by main.c carries everything: libwebsockets (net_lws.c) for the device
 * WebSocket, the REST API and later the dashboard; timers for heartbeats and orders; wakeups
 * from the database thread (worker.c) and the uv thread pool (bcrypt). Connected devices are
 * found through one hash map by id (live.c); no code path scans all devices per message.
 * Persistent writes caused by devices (log lines, state changes) are batched and written behind
 * by devlog.c on a short timer. docs/architecture.md draws the modules and who calls whom.
 */
#ifndef EF_SERVER_H
#define EF_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "live.h"
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
  int64_t db_check;          /* enum store_check: the check of the database at start */
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
  int64_t max_body_total;    /* bytes: REST bodies buffered at once, all connections */
  int64_t http_deadline;     /* ms: a REST request's body at most (above order_timeout) */
  int64_t send_queue_max;    /* bytes: queued output per connection before it is dropped */
  int64_t log_flush;         /* ms: device-log write-behind period */
  int64_t log_retention;     /* ms: device logs older than this are pruned (0 = keep) */
  bool log_status_uploads;   /* write device_logs rows for status uploads ... */
  int64_t log_status_every;  /* ms: ... at most one per device per this (0: every upload) */
  int64_t log_prune_every;   /* ms between two prunings of rows older than log_retention */
  int64_t audit_retention;   /* ms: audit rows older than this are pruned (0 = keep) */
  int64_t front_max_connections;         /* dashboard connections at most */
  int64_t front_push_interval;        /* ms between subscription pushes */
  int64_t front_queue_max;   /* bytes queued to a dashboard before it is dropped */
  int64_t miner_flush;       /* ms: miner-record write-behind period */
  int64_t miner_stale;       /* ms without an upload before a miner gets a "no update" alarm */
  int64_t front_max_unauthenticated; /* dashboard connections not signed in, at most ... */
  int64_t front_unauthenticated_per_address; /* ... and from one address */
  /* limits (docs/security.md#limits) */
  int64_t max_devices;       /* logged-in devices on this node */
  int64_t device_max_messages; /* per device per second */
  int64_t device_max_bytes;  /* per device per second */
  int64_t max_connections_per_address;
  int64_t connection_rate_per_address; /* new connections per second */
  int64_t max_handshakes_per_address;
  int64_t login_failures_max; /* failed password logins per address per window ... */
  int64_t login_failure_window; /* ms */
  int64_t login_backoff;     /* ms its password logins are then refused */
  char *verifier_key;        /* file of the password verifiers' secret */
  int64_t max_miners;        /* miner records on this server */
  int64_t miners_per_device; /* miner records one device may report */
  int64_t max_miner_record;  /* bytes of one miner record as JSON text */
  int64_t rest_rate;         /* REST requests per second per API token (0: no limit) ... */
  int64_t rest_burst;        /* ... and at once after a pause (the token bucket's size) */
  int64_t token_used_flush;  /* ms: API tokens' last use is written behind this often */
  char *tls_cert;            /* PEM certificate (+ chain): TLS on every connection, or NULL */
  char *tls_key;             /* its PEM private key */
  char *tls_ca;              /* CA of the client certificates /ws requires, or NULL */
  bool allow_plaintext;      /* serve without TLS on an address that is not loopback */
  /* alerts (alert.c, alert_eval.c; docs/alerts.md) */
  int64_t alert_eval;        /* ms between two evaluations of the alert rules */
  char *alert_rules_file;    /* the rule table (JSON); default <data_dir>/alert-rules.json */
  int64_t alert_resolved_keep; /* ms a resolved alert stays listed */
  int64_t alert_log_max;     /* alert-log entries kept in memory */
  /* notify.c -- notification receivers (docs/alerts-notify.md) */
  char *notify_webhook;      /* comma-separated URLs: a JSON POST per alert transition */
  char *notify_alertmanager; /* comma-separated Alertmanager base URLs (+ /api/v2/alerts) */
  char *notify_smtp;         /* smtp://host:port (or smtps://) of the mail server, or NULL */
  char *notify_smtp_from;    /* envelope and From: address */
  char *notify_smtp_to;      /* comma-separated recipients */
  char *notify_smtp_user;    /* SMTP AUTH user, or NULL */
  char *notify_smtp_password_file; /* file holding its password (read at start) */
  bool notify_smtp_starttls; /* refuse to send mail unless STARTTLS succeeds (smtp://) */
  char *notify_ca;           /* PEM CA for https receivers and the mail server; NULL: system */
  int64_t notify_queue_max;  /* deliveries waiting per receiver; more are dropped */
  int64_t notify_retries;    /* retries of a failed delivery */
  int64_t notify_backoff;    /* ms: wait before the first retry, doubling ... */
  int64_t notify_backoff_max; /* ms: ... up to this */
  int64_t notify_timeout;    /* ms: one attempt at most */
  int64_t notify_resend;     /* ms: firing alerts are re-posted to Alertmanagers this often */
  /* alert persistence (alert_eval.c, devlog.c; docs/alerts.md#persistence) */
  int64_t alert_log_retention; /* ms: alert-log rows older than this are pruned (0 = keep) */
  /* history.c (docs/history.md) */
  bool history;              /* keep the history of chosen series */
  int64_t history_raw_every; /* ms: a device's status is sampled at most this often; miners */
  int64_t history_flush;     /* ms: write-behind period of the samples */
  int64_t history_raw_retention;   /* ms: raw samples are kept this long */
  int64_t history_tier1_step;      /* ms: the first aggregate tier's bucket ... */
  int64_t history_tier1_retention; /* ... kept this long */
  int64_t history_tier2_step;      /* ms: the second aggregate tier's bucket ... */
  int64_t history_tier2_retention; /* ... kept this long */
  /* metrics.c (issue 12): Prometheus /metrics */
  char *metrics_listen;      /* host:port of a /metrics without a token, or NULL */
  int64_t metrics_step;      /* devices written per step of a scrape */
  bool metrics_per_device;   /* the per-device families (parsing every status at each scrape) */
  /* cluster.c (docs/cluster.md) */
  char *nats;                /* NATS server URL(s): a cluster node; NULL: a single node */
  char *cluster_name;        /* subject prefix */
  int64_t cluster_heartbeat; /* ms between two node heartbeats */
  int64_t cluster_node_timeout; /* ms without one: the node is lost */
  int64_t cluster_flush;     /* ms: bus records wait at most this long */
  bool reuse_port;           /* SO_REUSEPORT on the listener */
};

struct cfg_opt;

int config_init(struct server_config *cfg, int argc, char **argv, char *err, size_t errlen);
void config_free(struct server_config *cfg);
void config_usage(FILE *out);
/* The config file the last config_init() read (--config, or the installed default), or NULL. */
const char *config_file(void);
/* edgefleetd(8) ("8") or edgefleetd.conf(5) ("5") as roff, from the option table (man.c);
 * -1 for another section. */
int config_man(FILE *out, const char *section);
/* The option table (cfg.h), ended by a row with a NULL name: for tests of edgefleetd.conf. */
const struct cfg_opt *config_opts(void);
/* `listen` (host:port) names a loopback address: 127.0.0.0/8 or "localhost". */
bool config_listen_is_loopback(const char *listen);

/* ===== the server ===== */
struct server {
  struct server_config cfg;
  uv_loop_t *loop;
  struct net *net;
  struct worker *worker;
  struct peers *peers;       /* per-address limits (peers.h) */
  struct live *live;         /* connected devices (live.h) */
  struct wheel wheel;        /* every device connection's deadline (ws_device.c) */
  struct logins *logins;     /* the login pipeline (login.h) */
  struct auth *auth;
  struct devlog *devlog;
  struct audit *audit;       /* the audit log's state on the loop (audit.h) */
  struct orders *orders;     /* orders in flight (order.c) */
  struct miners *miners;     /* miner records (miner.c) */
  struct front *front;       /* dashboard connections (ws_front.c) */
  /* alerts (alert_eval.c) */
  struct alerting *alerting; /* rules, alerts, their timer */
  struct notify *notify;     /* notification receivers (notify.h) */
  /* history.c: the history (NULL when off) and status.c's listeners of status uploads */
  struct history *history;
  struct {
    void (*fn)(void *ud, uint64_t device_id, const json_t *data, const char *raw, size_t len,
               int64_t time);
    void *ud;
  } status_listeners[4];
  int n_status_listeners;
  struct metrics *metrics;   /* Prometheus /metrics (metrics.h; issue 12) */
  struct cluster *cluster;   /* the other nodes (cluster.h); NULL on a single node */
  bool leader;               /* this node writes what no single node owns: lost nodes' devices,
                                alert evaluation, miners no node holds (true on a single node;
                                in a cluster the lowest-numbered node alive; cluster.c writes it) */
  uv_signal_t sigint, sigterm, sighup; /* SIGHUP: reload the TLS certificate */
  bool stopping;
  uint64_t n_sessions;       /* open device connections, logged in or not */
};

/* ===== southbound messages: rows {type, handler} exported by the module owning each type ===== */
struct ws_msg {
  struct server *srv;
  struct dsess *s;           /* the sender's session (live.h: live_sess_*) */
  uint64_t device_id;        /* the sender */
  json_t *root;              /* the parsed message (borrowed) */
  const char *raw;           /* the message as received (not NUL-terminated) */
  size_t len;
};

struct ws_route {
  const char *type;          /* the message's "type" (wire.h) */
  void (*handle)(const struct ws_msg *m);
};

extern const struct ws_route status_ws_routes[]; /* status.c: upload_status_info */
/* status.c: call fn(ud, device_id, data, raw, len, time) on the loop for every accepted status
 * upload (data: its parsed `data` object; raw[len]: the message as received; both borrowed for
 * the call). Start-up only. */
typedef void (*status_listener)(void *ud, uint64_t device_id, const json_t *data, const char *raw,
                                size_t len, int64_t time);
void status_listen(struct server *srv, status_listener fn, void *ud);
extern const struct ws_route order_ws_routes[];  /* order.c: upload_instruction_result */
extern const struct ws_route miner_ws_routes[];  /* miner.c: upload_miner_info */

/* ===== ws_device.c -- southbound WebSocket: framing, heartbeat, dispatch ===== */
/* Start/stop the deadlines of device connections (the timing wheel). */
void ws_device_start(struct server *srv);
void ws_device_stop(struct server *srv);
/* The net layer's events of a /ws connection; open returns the connection's user pointer. */
void *ws_device_open(struct server *srv, struct net_conn *conn);
void ws_device_message(void *user, const char *msg, size_t len);
void ws_device_close(void *user);

/* ===== miner.c -- miner records: uploads (full or merge patch), write-behind ===== */
struct miners;
/* Load the stored records (blocking: start-up, before the worker owns the store). */
int miner_init(struct server *srv, struct store *st, char *err, size_t errlen);
void miner_start(struct server *srv);         /* the write-behind timer */
void miner_stop(struct server *srv);          /* write what is dirty; free after the loop */
/* A record as stored in memory (borrowed: valid until the loop next runs a miner upload). */
struct miner_info {
  const char *id;
  const json_t *record;      /* workerInfo keyed by host name; NULL until a full upload */
  uint64_t device_id;        /* the reporting device */
  int64_t updated;           /* ms since the epoch */
};
/* The miner with a record, by id. */
bool miner_lookup(const struct miners *ms, const char *id, struct miner_info *out);
/* An admin moves miner `id` to another device (its uploads are accepted from then on, the
 * previous device's refused). 0 or EF_ENOENT. */
int miner_bind(struct miners *ms, const char *id, uint64_t device_id);
/* An operator removes worker `host` of miner `id`, which must be `missing` (gone from lotus'
 * list): 0, EF_ENOENT (no such miner or worker), EF_EBUSY (still listed: it would come back). */
int miner_worker_delete(struct miners *ms, const char *id, const char *host);
/* Told of each upload accepted from a device of this node, as the device sent it (the cluster
 * passes it on). One listener; start-up only. */
typedef void (*miner_listener)(void *ud, uint64_t device_id, const char *raw, size_t len);
void miner_listen(struct miners *ms, miner_listener fn, void *ud);
/* An upload another node of the cluster accepted from its device (the message as the device
 * sent it): applied to the copy here, not written (that node writes it). */
void miner_apply_remote(struct miners *ms, uint64_t device_id, const char *raw, size_t len);
/* miner_bind made on another node (it writes it): the copy here follows. */
void miner_bind_remote(struct miners *ms, const char *id, uint64_t device_id);
/* The i-th miner (record may be NULL); false past the last. */
bool miner_at(const struct miners *ms, size_t i, struct miner_info *out);

/* ===== join.c -- miner records joined with their workers' live hardware ===== */
/* docs/protocol.md#miner-records' read shape, joined with worker hardware; NULL if unknown. */
json_t *join_miner(struct server *srv, const char *miner_id);
json_t *join_miner_list(struct server *srv);
/* The device that reports miner `id` (a record is kept); false: no such miner. */
bool join_miner_device(struct server *srv, const char *id, uint64_t *device_id);
struct auth_view;
/* Only the miners reported by devices of view `v` (auth.c; NULL: all). */
json_t *join_miner_list_seen(struct server *srv, const struct auth_view *v);
/* The record as subscriptions see it: workerInfo keyed by host name, joined; NULL if unknown. */
json_t *join_miner_view(struct server *srv, const char *miner_id);
/* One line per miner for overviews: balances, power, sector counts, workers, alarms
 * ({type, severity, message} items, docs/frontend.md). */
json_t *join_summaries(struct server *srv);

/* ===== alert_eval.c -- alert rules evaluated over the live state (alert.h, docs/alerts.md) =====
 * Start-up reads the rule table (alert_rules_file, or the defaults): EF_ECONFIG with err when
 * it is unreadable or invalid. Listens to srv->live; evaluates every alert_eval. */
struct alerts;
int alerting_start(struct server *srv, char *err, size_t errlen);
void alerting_stop(struct server *srv);
/* The engine (alert.h); NULL before start. */
struct alerts *alerting_alerts(struct server *srv);
/* The rule table changed (REST): write it to alert_rules_file on the database thread and
 * evaluate now. */
void alerting_rules_changed(struct server *srv);

/* ===== ws_front.c -- dashboards (/front): requests, subscriptions, pushes ===== */
int front_start(struct server *srv);
void *front_open(struct server *srv, struct net_conn *conn);
void front_message(void *fs, const char *msg, size_t len);
void front_close(void *fs);
void front_stop(struct server *srv);
/* Devices were added, changed or removed: subDeviceList subscribers refetch. */
void front_devices_changed(struct server *srv);

/* ===== order.c -- orders to devices: one in flight per device, correlated by order_id ===== */
/* Called exactly once, after the order's device-log rows ("order", "order_result") are
 * committed: ok true when the device reported success; message is the device's (or the server's
 * reason: offline, busy, timeout, disconnected). log_rc is 0 when the rows are committed, else
 * the store error that lost them (the answer must not then claim they are stored). */
typedef void (*order_cb)(void *ud, bool ok, int http_status, const char *message, int log_rc);
void order_start(struct server *srv);
void order_free(struct server *srv);
/* Send order `type` with `params` (borrowed; may be NULL) to a device. Returns 0 and calls cb
 * later, or returns EF_ENOENT/EF_EOFFLINE/EF_EBUSY without calling cb (message in *why). */
int order_give(struct server *srv, uint64_t device_id, const char *type, json_t *params,
               order_cb cb, void *ud, const char **why);

/* ===== devlog.c -- write-behind of device logs and state changes ===== */
struct devlog;
/* Start the writer; it listens to srv->live for state changes. */
int devlog_start(struct server *srv, struct devlog **out);
/* Queue a device_logs row; strings are copied. Returns the number of the batch it joined
 * (for devlog_sync). */
uint64_t devlog_add(struct devlog *dl, uint64_t device_id, const char *event, const char *detail,
                    const char *result);
/* Queue an audit row (audit.h): its strings are taken (the row is zeroed). Returns the number
 * of the batch it joined (for devlog_sync). */
uint64_t devlog_audit(struct devlog *dl, struct store_audit *row);
/* Queue an alert-log row (alert_eval.c): its strings are taken (the row is zeroed). */
uint64_t devlog_alert_log(struct devlog *dl, struct store_alert_log *row);
/* Queue the alert engine's state (JSON text, taken): it replaces a state queued before it in the
 * same batch; it is written with the batch's alert-log rows. */
uint64_t devlog_alert_state(struct devlog *dl, char *state);
/* Call cb(ud, rc) on the loop once every row queued so far is committed: rc 0, or the store
 * error of a batch numbered >= since that failed (its rows are lost). Starts the write now
 * rather than at the next log_flush tick; may call cb before it returns. */
typedef void (*devlog_sync_cb)(void *ud, int rc);
void devlog_sync(struct devlog *dl, uint64_t since, devlog_sync_cb cb, void *ud);
/* Write everything queued now and stop the timer. */
void devlog_stop(struct devlog **dl);

/* ===== auth.c -- northbound API tokens (stored as SHA-256 only; docs/security.md#api-tokens) =====
 * Scopes are ordered: a scope may do everything the ones below it may. */
enum auth_kind { AUTH_EXPIRED = -1, AUTH_NONE = 0, AUTH_READ, AUTH_OPERATOR, AUTH_ADMIN };
struct auth;
/* What a group-limited token may see: its groups and their member devices, as of the last
 * auth_views_refresh. Immutable once swapped in; counted references on the loop thread only
 * (a holder may read it on the database thread). NULL everywhere means "not limited". */
struct auth_view {
  unsigned refs;
  uint64_t *groups;
  size_t ngroups;
  struct u64map devices;     /* device id -> (void *)1 */
};
void auth_view_hold(struct auth_view *v);   /* NULL: nothing */
void auth_view_drop(struct auth_view *v);   /* NULL: nothing */
/* v NULL (not limited): true. O(groups) and O(1). */
static inline bool auth_view_has_group(const struct auth_view *v, uint64_t group_id) {
  if (!v) return true;
  for (size_t i = 0; i < v->ngroups; i++)
    if (v->groups[i] == group_id) return true;
  return false;
}
static inline bool auth_view_has_device(const struct auth_view *v, uint64_t device_id) {
  return !v || u64map_get(&v->devices, device_id) != NULL;
}
/* A token as the server holds it (never its secret). */
struct auth_token {
  uint64_t token_id;
  const char *name;
  enum auth_kind scope;
  int64_t expires;           /* ms; 0: never */
  int64_t last_used;         /* ms; 0: never (in memory; written behind every token_used_flush) */
  struct auth_view *view;    /* NULL: not limited to groups; borrowed: hold it to keep it */
};
enum auth_kind auth_scope_parse(const char *s); /* "admin" | "operator" | "read", else NONE */
const char *auth_scope_name(enum auth_kind k);
/* Load the tokens (blocking store access: start-up only, before the worker owns the store).
 * On first start creates an admin token and writes it to <data_dir>/admin.token (0600). */
int auth_init(struct store *st, const char *data_dir, struct auth **out, char *err, size_t errlen);
/* Once the worker runs: write last uses behind every flush_ms, build the views. */
void auth_start(struct auth *a, uv_loop_t *loop, struct worker *w, int64_t flush_ms);
/* Queue the last uses not yet written, stop the timer (before worker_stop). */
void auth_stop(struct auth *a);
void auth_flush_used(struct auth *a);
/* The scope of the bearer token in an Authorization header value, AUTH_EXPIRED past its expiry,
 * or AUTH_NONE (unknown or revoked). A known token's last use becomes now. */
enum auth_kind auth_check(struct auth *a, const char *authorization);
/* The same, and for a known token its slot in *slot: a small number, the token's own for as
 * long as the server runs (auth_rate's key, auth_slot's argument). */
enum auth_kind auth_identify(struct auth *a, const char *authorization, size_t *slot);
const struct auth_token *auth_slot(const struct auth *a, size_t slot); /* NULL: no such slot */
/* Not revoked and not expired at now_ms. */
bool auth_slot_valid(const struct auth *a, size_t slot, int64_t now_ms);
/* The request rate of the token in `slot`, a token bucket of `burst` requests refilled at `rate`
 * per second (GCRA: one time per token), at `now_ns` of a monotonic clock. 0: the request may
 * pass, and is counted unless `peek`; else the ms until one may (nothing is counted). rate 0
 * means no limit. */
int64_t auth_rate(struct auth *a, size_t slot, int64_t rate, int64_t burst, uint64_t now_ns,
                  bool peek);
/* Make a new token of `scope` ("admin" | "operator" | "read"): fills *t (token_id, hash, time;
 * the strings are the caller's) and the clear token in out[EF_TOKEN_STRLEN]. 0 or EF_ESYS. */
int auth_new_token(const char *name, const char *scope, struct store_token *t, char *out,
                   char *hash);
/* Accept a token stored by the caller from now on. Copied. A group-limited one sees nothing
 * until the views are refreshed. */
void auth_add(struct auth *a, const struct store_token *t);
/* Revoke a token at once (its row is already deleted): refused from now on, and every listener
 * is told its slot. false: no such live token. */
typedef void (*auth_revoke_cb)(void *ud, size_t slot);
void auth_listen(struct auth *a, auth_revoke_cb cb, void *ud);
bool auth_revoke(struct auth *a, uint64_t token_id);
/* Rebuild the views of group-limited tokens on the database thread (after devices, groups or
 * relations changed) and call cb(ud) on the loop once they are swapped in. false: there is no
 * group-limited token, nothing to do, cb is not called. */
bool auth_views_refresh(struct auth *a, void (*cb)(void *ud), void *ud);
/* Another node of a cluster changed the tokens: read them from the database and take the new
 * ones, revoke the deleted ones (listeners told). */
void auth_reload(struct auth *a);
void auth_free(struct auth **a);

/* ===== rest.c -- northbound REST entry point (routes in rest_*.c) ===== */
void rest_request(struct server *srv, struct net_req *req);
/* A request's headers, before its body is read: answers now what can be refused without it
 * (no such route, method, token, Content-Type), so no body is buffered for it. */
void rest_headers(struct server *srv, struct net_req *req);

#endif
