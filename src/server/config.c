/* SPDX-License-Identifier: MIT */
/* config.c -- edgefleetd's options: one table feeds defaults, edgefleetd.conf, flags and --help.
 * Every timing of the protocol (docs/protocol.md) and of the write-behind and pruning timers is
 * a row here, so tests and deployments can change it. edgefleetd.conf lists every row
 * (tests/unit/conf checks it). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cfg.h"
#include "edgefleet/error.h"
#include "log.h"
#include "mem.h"
#include "paths.h"
#include "server.h"

#define DAY_MS (86400LL * 1000)

/* db_check: indexes are enum store_check (store.h). */
static const char *const db_check_names[] = {"off", "quick", "full", NULL};

static const struct cfg_opt server_opts[] = {
  CFG_ROW(struct server_config, listen, CFG_STR, 0, 0, "127.0.0.1:9090",
          "address:port to serve on (port 0: any free)"),
  CFG_ROW(struct server_config, data_dir, CFG_STR, 0, 0, NULL,
          "directory for the database and admin.token [installed: " EF_INSTALL_STATEDIR
          "/edgefleet; from the build tree: ./var]"),
  CFG_ROW(struct server_config, db, CFG_STR, 0, 0, NULL,
          "store URL [sqlite:<data_dir>/edgefleet.db]"),
  CFG_ROW(struct server_config, db_check, CFG_ENUM_OF(db_check_names), 0, 0, "quick",
          "check the database at start: off, quick (its structure), full (and its indexes)"),
  CFG_ROW(struct server_config, log_level, CFG_ENUM_OF(log_level_names), 0, 0, "info",
          "log detail"),
  CFG_ROW(struct server_config, log_file, CFG_STR, 0, 0, NULL,
          "append the log here instead of stderr"),
  CFG_ROW(struct server_config, static_dir, CFG_STR, 0, 0, NULL,
          "dashboard files served at / [installed: " EF_INSTALL_WEBDIR "; from the build tree: "
          "the source tree's web/; empty: none, the API only]"),
  CFG_ROW(struct server_config, vendor_dir, CFG_STR, 0, 0, "/usr/share/javascript",
          "JavaScript libraries served at /vendor/ (with static_dir)"),
  CFG_ROW(struct server_config, upload_log_dir, CFG_STR, 0, 0, "/var/log/devices_management",
          "remote_dir sent with upload_log orders"),
  CFG_ROW(struct server_config, node_id, CFG_INT, 0, 1023, "0",
          "snowflake node number of this server"),
  CFG_ROW(struct server_config, login_timeout, CFG_MS, 10, DAY_MS, "5s",
          "login must arrive within"),
  CFG_ROW(struct server_config, heartbeat_tolerance, CFG_MS, 10, DAY_MS, "7.5s",
          "silence allowed while a device has no misses"),
  CFG_ROW(struct server_config, heartbeat_tolerance_miss, CFG_MS, 10, DAY_MS, "5.5s",
          "silence allowed after a miss"),
  CFG_ROW(struct server_config, heartbeat_max_misses, CFG_INT, 1, 100, "3",
          "misses that drop a device"),
  CFG_ROW(struct server_config, order_timeout, CFG_MS, 10, DAY_MS, "10s",
          "wait for an order's result"),
  CFG_ROW(struct server_config, token_ttl, CFG_MS, 1000, 3650 * DAY_MS, "30d",
          "device session token lifetime"),
  CFG_ROW(struct server_config, bcrypt_cost, CFG_INT, 4, 31, "12",
          "bcrypt cost of new password hashes"),
  CFG_ROW(struct server_config, bcrypt_jobs, CFG_INT, 0, 64, "0",
          "password checks at once; the rest wait (0: CPUs - 1, at least 1)"),
  CFG_ROW(struct server_config, bcrypt_queue_max, CFG_INT, 1, 10000000, "10000",
          "password logins waiting at most; more are refused (busy)"),
  CFG_ROW(struct server_config, rx_buffer, CFG_SIZE, 128, 1 << 20, "512",
          "receive buffer per connection"),
  CFG_ROW(struct server_config, max_message, CFG_SIZE, 1024, 64 << 20, "64k",
          "largest WebSocket message"),
  CFG_ROW(struct server_config, max_body, CFG_SIZE, 1024, 1LL << 30, "16m",
          "largest REST request body"),
  CFG_ROW(struct server_config, max_body_total, CFG_SIZE, 1024, 1LL << 40, "64m",
          "REST request bodies buffered at once, all connections (more: 503)"),
  CFG_ROW(struct server_config, http_deadline, CFG_MS, 1000, DAY_MS, "60s",
          "a REST request's body within this, or its connection is closed"),
  CFG_ROW(struct server_config, send_queue_max, CFG_SIZE, 4096, 1LL << 30, "1m",
          "queued output per connection before it is dropped"),
  CFG_ROW(struct server_config, log_flush, CFG_MS, 1, 60000, "200ms",
          "device-log write-behind period"),
  CFG_ROW(struct server_config, log_retention, CFG_MS, 0, 3650 * DAY_MS, "30d",
          "prune device logs older than this (0: keep all)"),
  CFG_ROW(struct server_config, log_status_uploads, CFG_BOOL, 0, 0, "true",
          "write device log rows for status uploads"),
  CFG_ROW(struct server_config, log_status_every, CFG_MS, 0, DAY_MS, "10m",
          "at most one status-upload row per device per this (0: every upload)"),
  CFG_ROW(struct server_config, log_prune_every, CFG_MS, 1000, 30 * DAY_MS, "1h",
          "period of the pruning of device logs and audit rows past their retention"),
  CFG_ROW(struct server_config, audit_retention, CFG_MS, 0, 3650 * DAY_MS, "90d",
          "prune audit-log rows older than this (0: keep all)"),
  CFG_ROW(struct server_config, front_max_connections, CFG_INT, 1, 100000, "256",
          "dashboard (/front) connections at most"),
  CFG_ROW(struct server_config, front_push_interval, CFG_MS, 10, 60000, "1s",
          "period of subscription pushes to dashboards"),
  CFG_ROW(struct server_config, front_queue_max, CFG_SIZE, 4096, 1LL << 30, "256k",
          "output queued to a dashboard before it is dropped"),
  CFG_ROW(struct server_config, miner_flush, CFG_MS, 10, 3600 * 1000, "2s",
          "miner-record write-behind period"),
  CFG_ROW(struct server_config, miner_stale, CFG_MS, 1000, 30 * DAY_MS, "5m",
          "a miner without an upload this long gets a 'no update' alarm"),
  CFG_ROW(struct server_config, front_max_unauthenticated, CFG_INT, 1, 100000, "256",
          "dashboard connections not signed in yet, at most; more are refused"),
  CFG_ROW(struct server_config, front_unauthenticated_per_address, CFG_INT, 1, 100000, "8",
          "... and from one address"),
  CFG_ROW(struct server_config, max_devices, CFG_INT, 1, 100000000, "100000",
          "logged-in devices on this node at most; more are refused 'server full'"),
  CFG_ROW(struct server_config, device_max_messages, CFG_INT, 1, 1000000, "100",
          "messages a device may send per second; more close its connection"),
  CFG_ROW(struct server_config, device_max_bytes, CFG_SIZE, 1024, 1LL << 30, "1m",
          "bytes a device may send per second; more close its connection"),
  CFG_ROW(struct server_config, max_connections_per_address, CFG_INT, 1, 100000000, "16384",
          "open connections from one source address at most"),
  CFG_ROW(struct server_config, connection_rate_per_address, CFG_INT, 1, 100000000, "20000",
          "new connections per second from one source address at most"),
  CFG_ROW(struct server_config, max_handshakes_per_address, CFG_INT, 1, 256, "128",
          "connections of one address in their handshake at once (of 256 for all)"),
  CFG_ROW(struct server_config, login_failures_max, CFG_INT, 1, 1000000, "20",
          "failed password logins from one address per login_failure_window ..."),
  CFG_ROW(struct server_config, login_failure_window, CFG_MS, 1000, DAY_MS, "1m",
          "... after which its password logins are refused ..."),
  CFG_ROW(struct server_config, login_backoff, CFG_MS, 1000, DAY_MS, "1m",
          "... for this long (session-token logins are not)"),
  CFG_ROW(struct server_config, max_miners, CFG_INT, 1, 10000000, "1000",
          "miner records on this server at most"),
  CFG_ROW(struct server_config, miners_per_device, CFG_INT, 1, 10000000, "8",
          "miner records one device may report"),
  CFG_ROW(struct server_config, max_miner_record, CFG_SIZE, 4096, 1LL << 30, "4m",
          "largest miner record (JSON text); uploads that would grow it more are refused"),
  CFG_ROW(struct server_config, verifier_key, CFG_STR, 0, 0, NULL,
          "secret of the password verifiers [<data_dir>/verifier.key]"),
  CFG_ROW(struct server_config, rest_rate, CFG_INT, 0, 10000000, "1000",
          "REST requests per second per API token; more get 429 (0: no limit)"),
  CFG_ROW(struct server_config, rest_burst, CFG_INT, 1, 10000000, "2000",
          "REST requests a token may make at once after a pause (its bucket)"),
  CFG_ROW(struct server_config, token_used_flush, CFG_MS, 100, 3600000, "10s",
          "API tokens' last use is written to the database behind, this often"),
  CFG_ROW(struct server_config, tls_cert, CFG_STR, 0, 0, NULL,
          "PEM certificate, chain allowed (leaf first): TLS 1.2+ on every connection"),
  CFG_ROW(struct server_config, tls_key, CFG_STR, 0, 0, NULL,
          "PEM private key of tls_cert (both re-read on SIGHUP)"),
  CFG_ROW(struct server_config, tls_ca, CFG_STR, 0, 0, NULL,
          "PEM CA: devices on /ws must present a client certificate it signed (mutual TLS)"),
  CFG_ROW(struct server_config, allow_plaintext, CFG_BOOL, 0, 0, "false",
          "serve plain HTTP/WebSocket on a listen address that is not loopback"),
  /* alerts (alert.c, alert_eval.c; docs/alerts.md) */
  CFG_ROW(struct server_config, alert_eval, CFG_MS, 10, 3600000, "10s",
          "period of the evaluation of the alert rules"),
  CFG_ROW(struct server_config, alert_rules_file, CFG_STR, 0, 0, NULL,
          "the alert rule table, a JSON array [<data_dir>/alert-rules.json; absent: defaults]"),
  CFG_ROW(struct server_config, alert_resolved_keep, CFG_MS, 0, 365 * DAY_MS, "24h",
          "a resolved alert stays listed this long"),
  CFG_ROW(struct server_config, alert_log_max, CFG_INT, 1, 10000000, "10000",
          "alert-log entries kept (in memory; the oldest go)"),
  /* notify.c (docs/alerts-notify.md) */
  CFG_ROW(struct server_config, notify_webhook, CFG_STR, 0, 0, NULL,
          "comma-separated http(s) URLs: each alert transition is POSTed there as JSON"),
  CFG_ROW(struct server_config, notify_alertmanager, CFG_STR, 0, 0, NULL,
          "comma-separated Alertmanager base URLs: alerts are posted to <url>/api/v2/alerts"),
  CFG_ROW(struct server_config, notify_smtp, CFG_STR, 0, 0, NULL,
          "smtp://host:port (or smtps://) of the mail server that e-mails alerts"),
  CFG_ROW(struct server_config, notify_smtp_from, CFG_STR, 0, 0, NULL,
          "the alert e-mails' sender address"),
  CFG_ROW(struct server_config, notify_smtp_to, CFG_STR, 0, 0, NULL,
          "comma-separated recipients of the alert e-mails"),
  CFG_ROW(struct server_config, notify_smtp_user, CFG_STR, 0, 0, NULL,
          "SMTP AUTH user name (none: no AUTH)"),
  CFG_ROW(struct server_config, notify_smtp_password_file, CFG_STR, 0, 0, NULL,
          "file holding the SMTP AUTH password (read at start, never logged)"),
  CFG_ROW(struct server_config, notify_smtp_starttls, CFG_BOOL, 0, 0, "true",
          "send mail only after STARTTLS succeeds (false: plain SMTP, loopback relays only)"),
  CFG_ROW(struct server_config, notify_ca, CFG_STR, 0, 0, NULL,
          "PEM CA file that https receivers and the mail server are checked against (none: the system's)"),
  CFG_ROW(struct server_config, notify_queue_max, CFG_INT, 1, 1000000, "1000",
          "deliveries waiting per receiver; more are dropped and logged as such"),
  CFG_ROW(struct server_config, notify_retries, CFG_INT, 0, 1000, "5",
          "retries of a failed delivery (HTTP 4xx other than 408/429 is not retried)"),
  CFG_ROW(struct server_config, notify_backoff, CFG_MS, 10, DAY_MS, "1s",
          "wait before the first retry; each further retry waits twice as long ..."),
  CFG_ROW(struct server_config, notify_backoff_max, CFG_MS, 10, DAY_MS, "5m",
          "... up to this"),
  CFG_ROW(struct server_config, notify_timeout, CFG_MS, 100, DAY_MS, "10s",
          "one delivery attempt at most (connect, TLS, request and answer)"),
  CFG_ROW(struct server_config, notify_resend, CFG_MS, 1000, DAY_MS, "1m",
          "firing alerts are posted to the Alertmanagers again this often (below its resolve_timeout)"),
  /* alert persistence (alert_eval.c, devlog.c; docs/alerts.md#persistence) */
  CFG_ROW(struct server_config, alert_log_retention, CFG_MS, 0, 3650 * DAY_MS, "90d",
          "alert-log rows in the database older than this are pruned (0 = keep)"),
  /* history.c (docs/history.md) */
  CFG_ROW(struct server_config, history, CFG_BOOL, 0, 0, "true",
          "keep the history of device and miner series in the store"),
  CFG_ROW(struct server_config, history_raw_every, CFG_MS, 0, DAY_MS, "1m",
          "a device's status is sampled into the history at most this often; miners this often"),
  CFG_ROW(struct server_config, history_flush, CFG_MS, 100, 60000, "2s",
          "write-behind period of history samples"),
  CFG_ROW(struct server_config, history_raw_retention, CFG_MS, 0, 3650 * DAY_MS, "48h",
          "raw history samples are kept this long (0: forever)"),
  CFG_ROW(struct server_config, history_tier1_step, CFG_MS, 1000, DAY_MS, "5m",
          "bucket of the first aggregate tier (min/avg/max)"),
  CFG_ROW(struct server_config, history_tier1_retention, CFG_MS, 0, 3650 * DAY_MS, "90d",
          "first-tier aggregates are kept this long (0: forever)"),
  CFG_ROW(struct server_config, history_tier2_step, CFG_MS, 1000, 7 * DAY_MS, "1h",
          "bucket of the second aggregate tier (a multiple of history_tier1_step)"),
  CFG_ROW(struct server_config, history_tier2_retention, CFG_MS, 0, 3650 * DAY_MS, "730d",
          "second-tier aggregates are kept this long (0: forever)"),
  /* metrics.c (issue 12, Prometheus) */
  CFG_ROW(struct server_config, metrics_listen, CFG_STR, 0, 0, NULL,
          "host:port of a plain-HTTP /metrics without a token (default: only on listen, with one)"),
  CFG_ROW(struct server_config, metrics_step, CFG_INT, 1, 1000000, "250",
          "devices written per step of a /metrics answer (the loop serves others between steps)"),
  CFG_ROW(struct server_config, metrics_per_device, CFG_BOOL, 0, 0, "true",
          "/metrics has the families of every connected device (false: the totals only)"),
  /* cluster.c: several nodes on one database and a NATS server (docs/cluster.md) */
  CFG_ROW(struct server_config, nats, CFG_STR, 0, 0, NULL,
          "nats://host:port[,nats://...] of the NATS server(s): join the cluster (needs a shared "
          "PostgreSQL or MariaDB db and a node_id unique in the cluster)"),
  CFG_ROW(struct server_config, cluster_name, CFG_STR, 0, 0, "edgefleet",
          "subject prefix of the cluster on NATS (several clusters may share one NATS)"),
  CFG_ROW(struct server_config, cluster_heartbeat, CFG_MS, 10, 60000, "1s",
          "a node tells the others it is alive this often"),
  CFG_ROW(struct server_config, cluster_node_timeout, CFG_MS, 30, 600000, "3s",
          "a node not heard from for this long is lost: its devices go offline"),
  CFG_ROW(struct server_config, cluster_flush, CFG_MS, 1, 1000, "10ms",
          "device events and status uploads are sent to the other nodes at most this late"),
  CFG_ROW(struct server_config, reuse_port, CFG_BOOL, 0, 0, "false",
          "listen with SO_REUSEPORT: several nodes on one host share `listen`'s port"),
  CFG_END,
};

bool config_listen_is_loopback(const char *listen) {
  const char *colon = strrchr(listen, ':');
  size_t hl = colon ? (size_t)(colon - listen) : strlen(listen);
  char host[64];
  if (hl == 0 || hl >= sizeof host) return false;
  memcpy(host, listen, hl);
  host[hl] = '\0';
  if (strcmp(host, "localhost") == 0) return true;
  struct in_addr a;
  return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* TLS options that go together, and the plaintext rule (docs/security.md#tls). */
static int check_tls(const struct server_config *cfg, char *err, size_t errlen) {
  if (!cfg->tls_cert != !cfg->tls_key) {
    snprintf(err, errlen, "tls_cert and tls_key go together: set both or neither");
    return EF_ECONFIG;
  }
  if (cfg->tls_ca && !cfg->tls_cert) {
    snprintf(err, errlen, "tls_ca (mutual TLS) needs tls_cert and tls_key");
    return EF_ECONFIG;
  }
  /* an address that is not IPv4 at all is the listener's error ("not an IPv4 address") */
  const char *colon = strrchr(cfg->listen, ':');
  char host[64];
  struct in_addr a;
  bool ipv4 = colon && (size_t)(colon - cfg->listen) < sizeof host &&
              snprintf(host, sizeof host, "%.*s", (int)(colon - cfg->listen), cfg->listen) > 0 &&
              inet_pton(AF_INET, host, &a) == 1;
  if (!cfg->tls_cert && !cfg->allow_plaintext && ipv4 &&
      !config_listen_is_loopback(cfg->listen)) {
    snprintf(err, errlen,
             "refusing to listen on %s without TLS: it is not a loopback address, and device "
             "passwords and tokens would cross the network in clear. Set tls_cert and tls_key "
             "(--tls-cert, --tls-key), or allow_plaintext = true (e.g. behind a TLS-terminating "
             "proxy; docs/security.md#tls)",
             cfg->listen);
    return EF_ECONFIG;
  }
  return 0;
}

static int set_opt(void *ud, const char *key, const char *value, char *err, size_t errlen) {
  return cfg_table_set(server_opts, ud, key, value, err, errlen);
}

static const char *config_read; /* the config file config_init() read, or NULL */

const char *config_file(void) { return config_read; }

int config_init(struct server_config *cfg, int argc, char **argv, char *err, size_t errlen) {
  memset(cfg, 0, sizeof *cfg);
  cfg_table_defaults(server_opts, cfg);
  /* The defaults that depend on where edgefleetd runs (paths.h): installed or the build tree. */
  const char *web = ef_default_path(EF_DEF_WEB);
  cfg->data_dir = ef_strdup(ef_default_path(EF_DEF_SERVER_DATA));
  cfg->static_dir = web ? ef_strdup(web) : NULL;
  /* Built-in defaults < the config file (--config FILE; without one, an installed edgefleetd
   * reads /etc/edgefleet/edgefleetd.conf when it exists) < the command line. */
  const char *file = cfg_config_arg(argc, argv, 1);
  if (!file) file = ef_default_path(EF_DEF_SERVER_CONF);
  config_read = file;
  if (file && cfg_parse_file(file, set_opt, cfg, err, errlen) != 0) return EF_ECONFIG;
  if (cfg_parse_args(argc, argv, 1, set_opt, cfg, err, errlen) != 0) return EF_ECONFIG;
  if (cfg->static_dir && !*cfg->static_dir) { /* static_dir = (empty): no dashboard */
    ef_free(cfg->static_dir);
    cfg->static_dir = NULL;
  }
  if (!cfg->db) cfg->db = ef_asprintf("sqlite:%s/edgefleet.db", cfg->data_dir);
  if (!cfg->verifier_key) cfg->verifier_key = ef_asprintf("%s/verifier.key", cfg->data_dir);
  if (cfg->bcrypt_jobs == 0) {
    /* Leave a core to the network loop: a login storm must not stall heartbeats. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->bcrypt_jobs = cpus > 1 ? cpus - 1 : 1;
  }
  if (cfg->http_deadline <= cfg->order_timeout) {
    snprintf(err, errlen, "http_deadline must exceed order_timeout (an order's answer waits that)");
    return EF_ECONFIG;
  }
  if (check_tls(cfg, err, errlen) != 0) return EF_ECONFIG;
  if (cfg->history_tier2_step % cfg->history_tier1_step != 0) {
    snprintf(err, errlen, "history_tier2_step must be a multiple of history_tier1_step");
    return EF_ECONFIG;
  }
  if (cfg->nats && cfg->cluster_node_timeout <= cfg->cluster_heartbeat) {
    snprintf(err, errlen, "cluster_node_timeout must exceed cluster_heartbeat");
    return EF_ECONFIG;
  }
  if (cfg->nats && strncmp(cfg->db, "sqlite:", 7) == 0) {
    snprintf(err, errlen, "a cluster node (nats) needs a shared database: db = postgresql://... "
             "or mysql://... (SQLite is one process's)");
    return EF_ECONFIG;
  }
  if (cfg->heartbeat_tolerance_miss > cfg->heartbeat_tolerance) {
    snprintf(err, errlen, "heartbeat_tolerance_miss must not exceed heartbeat_tolerance");
    return EF_ECONFIG;
  }
  return 0;
}

const struct cfg_opt *config_opts(void) { return server_opts; }

void config_free(struct server_config *cfg) { cfg_table_free(server_opts, cfg); }

void config_usage(FILE *out) {
  fprintf(out, "usage: edgefleetd [--config FILE] [--OPTION VALUE ...]\n"
               "       edgefleetd --init [--config FILE] [--OPTION VALUE ...]\n"
               "       edgefleetd --version | --help\n"
               "Every option can also be set in the config file as `option = value`; the command\n"
               "line wins over the file. Without --config, an installed edgefleetd reads\n"
               EF_INSTALL_CONFDIR "/edgefleetd.conf when it exists.\n"
               "Durations take ms, s, m, h, d (a bare number is seconds); sizes k, m, g.\n"
               "--init: create the data dir, the database and the admin token, then exit.\n\n");
  cfg_table_usage(server_opts, out);
}
