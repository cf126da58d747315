/* SPDX-License-Identifier: MIT */
/* edge_internal.h -- libedgefleet's private map: the client struct and the prototypes its files
 * share, grouped by file. Nothing here is installed.
 *
 * DESIGN. One uv loop per ef_client_run(), owned by the client; libwebsockets runs on it as a
 * "foreign" loop. Everything in the "loop thread" part of struct ef_client is touched only on that
 * thread. Three things cross threads, all under `mu`: the miner upload queue (any thread pushes),
 * the order jobs (loop thread pushes, the worker pops) and their results (worker pushes, the loop
 * pops). Another thread wakes the loop with uv_async_send(&async), which is async-signal-safe,
 * so ef_client_stop() can be called from a signal handler.
 */
#ifndef EF_EDGE_INTERNAL_H
#define EF_EDGE_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "edgefleet/edge.h"
#include "failover.h"

struct lws;
struct lws_context;
struct oplog;

/* ===== options.c -- the option table behind ef_client_set() ===== */
/* Every option's member has the option's name (CFG_ROW in options.c). */
struct edge_conf {
  char *server, *device_id, *device_sn, *device_model, *password, *data_dir, *log_file;
  char *sftp_host, *sftp_user, *sftp_password, *sftp_key, *sftp_known_hosts;
  char *ca_file, *cert_file, *key_file, *pinned_pubkey; /* wss:// only */
  int64_t ping_interval, pong_timeout, status_interval, max_failures, reconnect_interval,
      reconnect_jitter, max_retries, restart_wait, log_rotate, log_keep, sftp_port, max_message,
      sftp_timeout;
  int64_t connect_timeout, login_timeout; /* ms */
};
int options_defaults(struct edge_conf *conf);
/* key may use '-' for '_'. 0, EF_ENOENT, or EF_ECONFIG with err set. */
int options_set(struct edge_conf *conf, const char *key, const char *value, char *err,
                size_t errlen);
void options_free(struct edge_conf *conf);

/* ws:// or wss://host[:port][/path] -> parts (struct edge_url, failover.h; port 80 or 443 by
 * default); 0 or EF_ECONFIG with err set. One URL: failover_parse() splits a `server` list. */
int options_parse_url(const char *url, struct edge_url *out, char *err, size_t errlen);

/* ===== tls_pin.c -- pinned_pubkey ===== */
#define EDGE_PINS_MAX 8
struct edge_pins {
  unsigned char sha[EDGE_PINS_MAX][32]; /* SHA-256 of a SubjectPublicKeyInfo (DER) */
  size_t n;
};
/* "sha256//<base64>[;sha256//<base64>...]" (curl's --pinnedpubkey); 0 or EF_ECONFIG + err. */
int tls_pins_parse(const char *s, struct edge_pins *out, char *err, size_t errlen);
typedef struct x509_st X509;
/* The SHA-256 of cert's SubjectPublicKeyInfo; 0 or EF_EINVAL. */
int tls_spki_sha256(X509 *cert, unsigned char out[32]);
bool tls_pins_match(const struct edge_pins *p, const unsigned char h[32]);

/* ===== orders.c -- order jobs for the worker thread ===== */
enum job_kind { JOB_CUSTOM, JOB_UPLOAD_LOG };
struct order_job {
  struct order_job *next;
  enum job_kind kind;
  char *order;          /* order_type */
  char *params;         /* JSON object text */
  char *remote_file;    /* JOB_UPLOAD_LOG: remote_dir/<device_id>.log */
  json_t *order_id;     /* echoed; touched on the loop thread only; NULL when absent */
  unsigned conn_gen;    /* connection the order came on; results for older ones are dropped */
  int status;           /* result: 0 success */
  char msg[1024];       /* result message */
};

struct order_handler {
  char *name;
  ef_order_cb cb;
  void *ud;
};

/* ===== struct ef_client ===== */
enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_LOGIN, CONN_ONLINE, CONN_WAIT };

struct outmsg {
  struct outmsg *next;
  size_t len;
  unsigned char buf[]; /* LWS_PRE headroom, then len bytes */
};

struct miner_msg {
  struct miner_msg *next;
  char *json;
  int full;
};

struct ef_client {
  struct edge_conf conf;
  struct order_handler *handlers;
  size_t n_handlers;
  ef_status_cb status_cb;
  void *status_ud;
  ef_log_cb log_cb;
  void *log_ud;
  ef_event_cb event_cb;
  void *event_ud;
  ef_full_cb full_cb;
  void *full_ud;
  bool running;

  /* --- loop thread --- */
  uv_loop_t loop;
  uv_async_t async;
  uv_timer_t t_reconnect, t_login, t_ping, t_status, t_restart;
  struct lws_context *ctx;
  struct lws *wsi;
  struct lws *connecting; /* the attempt in CONN_CONNECTING, for its WSI_DESTROY */
  struct edge_url url;    /* the current attempt's server (fo.v[fo.cur].url) */
  struct edge_pins pins;  /* from pinned_pubkey; n == 0: no pinning */
  char tls_why[256];      /* why the last TLS handshake failed, for its connection error */
  struct oplog *oplog;
  enum conn_state state;
  unsigned conn_gen;
  struct outmsg *out_head, *out_tail;
  char *rx;
  size_t rx_len;
  bool rx_overflow;
  bool close_requested;   /* drop the connection at the next WRITEABLE */
  bool token_login;       /* the current login used the stored token */
  bool skip_token;        /* next login uses the password */
  bool reconnect_now;     /* next reconnect without the wait and without counting */
  bool logged_in_this_conn;
  bool shutting_down;
  bool restart_armed;     /* waiting for restart_confirm */
  bool restart_exec;      /* re-exec after the loop ends */
  int failures;           /* consecutive heartbeat/status misses */
  struct failover fo;     /* the `server` list, the current server and the failure counts */
  int64_t online_since;   /* ef_mono_ms() of the current connection's login */
  bool ping_wait, status_wait;
  int64_t ping_sent, status_sent; /* ef_mono_ms() */
  char *confirmed_id;     /* device id from the last login reply */
  int run_rc;
  uint64_t rng;

  /* --- cross-thread, under mu --- */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct miner_msg *miner_head, *miner_tail;
  size_t miner_count;
  struct order_job *jobs_head, *jobs_tail, *done_head, *done_tail;
  bool worker_quit;
  bool worker_started;
  pthread_t worker;
  atomic_bool stop_req;
  atomic_bool async_ready;
};

/* ===== client.c -- connection lifecycle ===== */
/* Report through the user's log callback (level 0 error .. 3 debug). */
void client_log(ef_client *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Report and also write a line to the operation log. */
void client_oplog(ef_client *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Queue one text message (copied) on the current connection; dropped when not connected. */
void client_send(ef_client *c, const char *text);
/* Same, taking ownership of a ef_malloc'd string. */
void client_send_owned(ef_client *c, char *text);
/* Drop the current connection (the reconnect logic runs when it is closed). */
void client_drop(ef_client *c, const char *why);
/* Ask the loop to run its deferred work (stop, results, miner queue); loop thread or any. */
void client_wake(ef_client *c);

/* ===== heartbeat.c -- ping/pong, status upload, failure count ===== */
void heartbeat_start(ef_client *c); /* after a successful login */
void heartbeat_stop(ef_client *c);
void heartbeat_on_pong(ef_client *c);
void heartbeat_on_status_ack(ef_client *c);

/* ===== orders.c ===== */
int orders_start(ef_client *c);  /* start the worker thread */
void orders_stop(ef_client *c);  /* stop and join it; drops pending jobs */
struct proto_msg;
void orders_on_give(ef_client *c, const struct proto_msg *m);
void orders_on_restart_confirm(ef_client *c);
void orders_flush_results(ef_client *c); /* loop thread: send finished results */
void orders_free_handlers(ef_client *c);
/* Re-exec this program with its own argv (/proc/self/cmdline); returns only on failure. */
int orders_reexec(ef_client *c);

/* ===== miner.c -- miner upload queue ===== */
void miner_flush(ef_client *c);  /* loop thread: send what is queued, when logged in */
void miner_free_all(ef_client *c);

/* ===== sftp.c ===== */
/* Upload local_path to remote_path over SFTP with conf's sftp_* options (borrowed); 0 or EF_E*
 * with msg set. Blocking, at most conf->sftp_timeout in all. */
int sftp_upload(const struct edge_conf *conf, const char *local_path, const char *remote_path,
                char *msg, size_t msg_len);

#endif
