/* SPDX-License-Identifier: MIT */
/* main.c -- edgefleetd: parse options, open the store, start the loop, shut down cleanly.
 *
 * Start-up order: config → log → data dir → store (refused when admin.token exists but the
 * database does not, or when db_check finds it damaged; migrate, mark every device offline, load
 * API tokens: blocking, before anything listens) → database thread → device-log writer →
 * listener.
 * It logs "ready port=N" once it accepts connections (tests wait for that line).
 * SIGHUP: re-read tls_cert and tls_key (net_tls_reload); connections stay.
 * SIGINT/SIGTERM: stop accepting, close every connection (devices are logged offline), write the
 * device-log batch, stop the database thread, let the loop drain, exit 0.
 * Under systemd (Type=notify) it also says READY=1 and pings the watchdog (service.h).
 * --init: the same start-up up to the admin token (data dir, database, token), then exit 0.
 * --version, --help, --help-man 8|5 (the man pages, from the option table): print, exit 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert.h"
#include "audit.h"
#include "clock.h"
#include "cluster.h"
#include "edgefleet/error.h"
#include "id.h"
#include "log.h"
#include "mem.h"
#include "crypto.h"
#include "history.h"
#include "login.h"
#include "metrics.h"
#include "notify.h"
#include "peers.h"
#include "rest.h"
#include "server.h"
#include "service.h"
#include "edgefleet/version.h"

static void *on_open(void *ud, struct net_conn *conn, enum net_ws_kind kind) {
  struct server *srv = ud;
  return kind == NET_WS_DEVICE ? ws_device_open(srv, conn) : front_open(srv, conn);
}

static void on_message(void *user, struct net_conn *conn, const char *msg, size_t len) {
  if (net_conn_kind(conn) == NET_WS_DEVICE) ws_device_message(user, msg, len);
  else front_message(user, msg, len);
}

static void on_close(void *user, struct net_conn *conn) {
  if (net_conn_kind(conn) == NET_WS_DEVICE) ws_device_close(user);
  else front_close(user);
}

static void on_request(void *ud, struct net_req *req) {
  if (metrics_is_path(net_req_path(req))) metrics_request(ud, req);
  else rest_request(ud, req);
}
static void on_headers(void *ud, struct net_req *req) {
  if (metrics_is_path(net_req_path(req))) metrics_headers(req);
  else rest_headers(ud, req);
}

static void shutdown_server(struct server *srv) {
  if (srv->stopping) return;
  srv->stopping = true;
  service_stopping();
  ef_log(EF_LOG_INFO, "shutting down: %llu device connections",
         (unsigned long long)srv->n_sessions);
  uv_close((uv_handle_t *)&srv->sigint, NULL);
  uv_close((uv_handle_t *)&srv->sigterm, NULL);
  uv_close((uv_handle_t *)&srv->sighup, NULL);
  live_note_all(srv->live, "server shutdown");
  cluster_stop(srv); /* the other nodes hear of it now, not after cluster_node_timeout */
  logins_stop(srv->logins);
  metrics_stop(srv);
  net_stop(srv->net);
  srv->net = NULL;
  ws_device_stop(srv);
  front_stop(srv);
  alerting_stop(srv);
  notify_stop(&srv->notify);
  history_stop(srv);
  devlog_stop(&srv->devlog);
  miner_stop(srv);
  auth_stop(srv->auth);
  worker_stop(&srv->worker);
}

/* The alert engine and the notification receivers meet here: every firing and resolved
 * transition is delivered (notify.c), and every delivery's outcome goes to the alert log. */
static void on_alert_event(void *ud, const struct alert_event *ev) {
  struct server *srv = ud;
  if (!srv->leader) return; /* in a cluster the leader notifies (cluster.h) */
  notify_alert(srv->notify, &(struct notify_alert){
    .rule = ev->rule, .fingerprint = ev->fingerprint, .state = ev->state,
    .severity = ev->severity, .summary = ev->summary, .labels = ev->labels,
    .starts_at = ev->starts_at, .ends_at = ev->ends_at});
}

static void on_delivery(void *ud, const char *fingerprint, const char *receiver,
                        const char *outcome) {
  struct server *srv = ud;
  struct alerts *a = srv->alerting ? alerting_alerts(srv) : NULL;
  if (a) alert_delivery(a, fingerprint, receiver, outcome);
}

/* edgefleet_alerts_firing{rule} (metrics.c) from the alert engine's table. */
static void alerts_firing_source(void *ud, metrics_alert_sink sink, void *ctx) {
  struct server *srv = ud;
  struct alerts *a = srv->alerting ? alerting_alerts(srv) : NULL;
  if (!a) return;
  json_t *by_rule = alerts_firing_by_rule(a), *n;
  const char *rule;
  json_object_foreach(by_rule, rule, n) sink(ctx, rule, (int64_t)json_integer_value(n));
  json_decref(by_rule);
}

static void on_signal(uv_signal_t *h, int signum) {
  ef_log(EF_LOG_INFO, "signal %d", signum);
  shutdown_server(h->data);
}

static void on_sighup(uv_signal_t *h, int signum) {
  struct server *srv = h->data;
  ef_log(EF_LOG_INFO, "signal %d: reloading the TLS certificate and key", signum);
  if (srv->net) net_tls_reload(srv->net);
}

static int split_listen(const char *listen, char *host, size_t hostlen, int *port) {
  const char *colon = strrchr(listen, ':');
  if (!colon || colon == listen || (size_t)(colon - listen) >= hostlen) return EF_ECONFIG;
  char *end;
  long p = strtol(colon + 1, &end, 10);
  if (*end || p < 0 || p > 65535) return EF_ECONFIG;
  memcpy(host, listen, (size_t)(colon - listen));
  host[colon - listen] = '\0';
  *port = (int)p;
  return 0;
}

int main(int argc, char **argv) {
  static struct server srv;
  char err[512], host[256];
  int port, rc = 1;
  uv_loop_t loop;

  bool init_only = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      config_usage(stdout);
      return 0;
    }
    if (strcmp(argv[i], "--version") == 0) {
      printf("edgefleetd %s%s\n", EF_VERSION_STRING,
             service_notify_built() ? " (systemd notify)" : "");
      return 0;
    }
    if (strcmp(argv[i], "--help-man") == 0) {
      if (i + 1 < argc && config_man(stdout, argv[i + 1]) == 0) return 0;
      fprintf(stderr, "edgefleetd: --help-man 8 (edgefleetd) or 5 (edgefleetd.conf)\n");
      return 2;
    }
  }
  /* --init is an action, not an option: taken out before the options are parsed */
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--init") == 0) {
      init_only = true;
      memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof *argv); /* with argv[argc] */
      argc--;
      i--;
    }
  log_set_ident("edgefleetd");
  if (config_init(&srv.cfg, argc, argv, err, sizeof err) != 0) {
    fprintf(stderr, "edgefleetd: %s\n", err);
    config_free(&srv.cfg);
    return 2;
  }
  struct server_config *cfg = &srv.cfg;
  if (split_listen(cfg->listen, host, sizeof host, &port) != 0) {
    fprintf(stderr, "edgefleetd: bad listen (want host:port)\n");
    rc = 2;
    goto out_cfg;
  }
  ef_log_threshold = (int)cfg->log_level; /* checked against log_level_names by config_init */
  if (cfg->log_file && log_set_file(cfg->log_file) != 0) {
    fprintf(stderr, "edgefleetd: cannot open log file %s: %s\n", cfg->log_file, strerror(errno));
    goto out_cfg;
  }
  ef_log(EF_LOG_INFO, "edgefleetd %s, config %s", EF_VERSION_STRING,
         config_file() ? config_file() : "(none: defaults and flags)");
  if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
    ef_log(EF_LOG_ERROR, "cannot create data dir %s: %s", cfg->data_dir, strerror(errno));
    goto out_cfg;
  }
  signal(SIGPIPE, SIG_IGN);
  /* A file size limit (ulimit -f) must fail the write (EFBIG: "database full"), not kill us. */
  signal(SIGXFSZ, SIG_IGN);
  id_set_node((unsigned)cfg->node_id);
  unsigned char verifier_key[EF_SECRET_LEN];
  if (crypto_secret_file(cfg->verifier_key, verifier_key, err, sizeof err) != 0) {
    ef_log(EF_LOG_ERROR, "verifier_key: %s", err);
    goto out_cfg;
  }

  /* An admin.token says this data dir has had a database: never create a new one over a lost
   * one (that would also replace the token). */
  char *token_path = ef_asprintf("%s/admin.token", cfg->data_dir);
  struct store_open_opts sopts = {.must_exist = access(token_path, F_OK) == 0,
                                  .check = (enum store_check)cfg->db_check};
  struct store *st = NULL;
  char db_shown[512]; /* the URL without its password, for the log */
  store_url_redact(cfg->db, db_shown, sizeof db_shown);
  int src = store_open_with(cfg->db, &sopts, &st, err, sizeof err);
  if (src == EF_ENOENT && sopts.must_exist)
    ef_log(EF_LOG_ERROR,
           "database %s is missing but %s exists: restore the database, or remove admin.token "
           "to start afresh (%s)",
           db_shown, token_path, err);
  else if (src != 0)
    ef_log(EF_LOG_ERROR, "store %s: %s", db_shown, err);
  ef_free(token_path);
  if (src != 0) goto out_cfg;
  /* Nobody is connected yet -- to this node. In a cluster the others hold their devices: the
   * leader marks offline what no node holds once it knows the directory (cluster.c). */
  if (!cfg->nats && st->ops->device_all_offline(st, ef_now_ms()) != 0) {
    ef_log(EF_LOG_ERROR, "store: %s", store_errmsg(st));
    goto out_store;
  }
  if (auth_init(st, cfg->data_dir, &srv.auth, err, sizeof err) != 0) {
    ef_log(EF_LOG_ERROR, "%s", err);
    goto out_store;
  }
  if (init_only) { /* the database and the admin token exist now */
    ef_log(EF_LOG_INFO, "initialised: data_dir=%s db=%s; the admin API token is in %s/admin.token",
           cfg->data_dir, db_shown, cfg->data_dir);
    auth_free(&srv.auth);
    rc = 0;
    goto out_store;
  }
  if (miner_init(&srv, st, err, sizeof err) != 0) {
    ef_log(EF_LOG_ERROR, "%s", err);
    goto out_store;
  }

  uv_loop_init(&loop);
  srv.loop = &loop;
  srv.leader = true; /* until a cluster says otherwise (cluster.c) */
  srv.live = live_new();
  /* Notification receivers: their threads, before anything can raise an alert; each delivery's
   * outcome goes to the alert log (on_delivery). */
  char nerr[256];
  if (notify_start(&loop, cfg, on_delivery, &srv, &srv.notify, nerr, sizeof nerr) != 0) {
    ef_log(EF_LOG_ERROR, "%s", nerr);
    uv_run(&loop, UV_RUN_DEFAULT);
    goto out_auth;
  }
  if (worker_start(&loop, st, &srv.worker) != 0) {
    ef_log(EF_LOG_ERROR, "cannot start the database thread");
    notify_stop(&srv.notify);
    uv_run(&loop, UV_RUN_DEFAULT);
    goto out_auth;
  }
  st = NULL; /* the worker owns it now */
  srv.logins = logins_new(&srv, verifier_key);
  explicit_bzero(verifier_key, sizeof verifier_key);
  srv.peers = peers_new(&(struct peer_limits){
      .max_connections = cfg->max_connections_per_address,
      .connection_rate = cfg->connection_rate_per_address,
      .max_handshakes = cfg->max_handshakes_per_address,
      .failures_max = cfg->login_failures_max,
      .failure_window = cfg->login_failure_window,
      .backoff = cfg->login_backoff});
  /* Live listeners in this order: orders fail before the device log writes the disconnect. */
  order_start(&srv);
  devlog_start(&srv, &srv.devlog);
  audit_start(&srv);
  ws_device_start(&srv);
  miner_start(&srv);
  front_start(&srv);
  history_start(&srv);
  auth_start(srv.auth, &loop, srv.worker, cfg->token_used_flush);
  if (alerting_start(&srv, err, sizeof err) != 0 || metrics_start(&srv, err, sizeof err) != 0 ||
      cluster_start(&srv, err, sizeof err) != 0) {
    ef_log(EF_LOG_ERROR, "%s", err);
    cluster_stop(&srv);
    metrics_stop(&srv);
    alerting_stop(&srv);
    ws_device_stop(&srv);
    front_stop(&srv);
    history_stop(&srv);
    notify_stop(&srv.notify);
    devlog_stop(&srv.devlog);
    miner_stop(&srv);
    auth_stop(srv.auth);
    worker_stop(&srv.worker);
    uv_run(&loop, UV_RUN_DEFAULT);
    goto out_auth;
  }

  alert_listen(alerting_alerts(&srv), on_alert_event, &srv);
  metrics_set_alert_source(srv.metrics, alerts_firing_source, &srv);

  struct net_config ncfg = {
    .host = host, .port = port, .rx_buffer = (size_t)cfg->rx_buffer,
    .max_message = (size_t)cfg->max_message, .max_body = (size_t)cfg->max_body,
    .max_body_total = (size_t)cfg->max_body_total, .http_deadline_ms = cfg->http_deadline,
    .send_queue_max = (size_t)cfg->send_queue_max, .static_dir = cfg->static_dir,
    .vendor_dir = cfg->vendor_dir, .peers = srv.peers,
    .tls_cert = cfg->tls_cert, .tls_key = cfg->tls_key, .tls_ca = cfg->tls_ca,
    .reuse_port = cfg->reuse_port,
  };
  struct net_handlers h = {&srv, on_open, on_message, on_close, on_request, on_headers};
  int nrc = net_start(&loop, &ncfg, &h, &srv.net);
  if (nrc != 0) {
    ef_log(EF_LOG_ERROR, "cannot listen on %s", cfg->listen);
    if (nrc == EF_EIO) { /* lws' leftovers are on the loop: do not run it again */
      notify_stop(&srv.notify);
      worker_stop(&srv.worker);
      config_free(&srv.cfg);
      return 1;
    }
    cluster_stop(&srv);
    metrics_stop(&srv);
    ws_device_stop(&srv);
    front_stop(&srv);
    alerting_stop(&srv);
    notify_stop(&srv.notify);
    history_stop(&srv);
    devlog_stop(&srv.devlog);
    miner_stop(&srv);
    auth_stop(srv.auth);
    worker_stop(&srv.worker);
    uv_run(&loop, UV_RUN_DEFAULT);
    goto out_auth;
  }
  uv_signal_init(&loop, &srv.sigint);
  uv_signal_init(&loop, &srv.sigterm);
  uv_signal_init(&loop, &srv.sighup);
  srv.sigint.data = srv.sigterm.data = srv.sighup.data = &srv;
  uv_signal_start(&srv.sigint, on_signal, SIGINT);
  uv_signal_start(&srv.sigterm, on_signal, SIGTERM);
  uv_signal_start(&srv.sighup, on_sighup, SIGHUP);

  ef_log(EF_LOG_INFO, "ready port=%d data_dir=%s db=%s", net_port(srv.net), cfg->data_dir,
         db_shown);
  service_ready(&srv);
  uv_run(&loop, UV_RUN_DEFAULT);
  rc = 0;

out_auth:
  net_finish();
  if (uv_loop_close(&loop) != 0) ef_log(EF_LOG_WARN, "loop closed with handles still open");
  order_free(&srv);
  logins_free(&srv.logins);
  peers_free(&srv.peers);
  live_free(&srv.live);
  audit_stop(&srv);
  auth_free(&srv.auth);
out_store:
  store_close(&st);
out_cfg:
  config_free(&srv.cfg);
  return rc;
}
