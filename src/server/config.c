/* config.c -- edgefleetd's options: one table feeds defaults, edgefleetd.conf, flags and --help.
 * Each timing of docs/protocol.md#timings is a row here: tests and deployments can change it. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "edgefleet/error.h"
#include "mem.h"
#include "server.h"

#define OPT(name, type, field, min, max, def, help) \
  {name, type, offsetof(struct server_config, field), min, max, def, help}
#define DAY_MS (86400LL * 1000)

static const struct cfg_opt server_opts[] = {
  OPT("listen", CFG_STR, listen, 0, 0, "127.0.0.1:9090", "address:port to serve on (port 0: any free)"),
  OPT("data_dir", CFG_STR, data_dir, 0, 0, "./var", "directory for the database and admin.token"),
  OPT("db", CFG_STR, db, 0, 0, NULL, "store URL [sqlite:<data_dir>/edgefleet.db]"),
  OPT("log_level", CFG_STR, log_level, 0, 0, "info", "error, warn, info or debug"),
  OPT("log_file", CFG_STR, log_file, 0, 0, NULL, "append the log here instead of stderr"),
  OPT("static_dir", CFG_STR, static_dir, 0, 0, NULL, "dashboard files served at /"),
  OPT("vendor_dir", CFG_STR, vendor_dir, 0, 0, "/usr/share/javascript",
      "JavaScript libraries served at /vendor/ (with static_dir)"),
  OPT("upload_log_dir", CFG_STR, upload_log_dir, 0, 0, "/var/log/devices_management",
      "remote_dir sent with upload_log orders"),
  OPT("node_id", CFG_INT, node_id, 0, 1023, "0", "snowflake node number of this server"),
  OPT("login_timeout", CFG_MS, login_timeout, 10, DAY_MS, "5s", "login must arrive within"),
  OPT("heartbeat_tolerance", CFG_MS, heartbeat_tolerance, 10, DAY_MS, "7.5s",
      "silence allowed while a device has no misses"),
  OPT("heartbeat_tolerance_miss", CFG_MS, heartbeat_tolerance_miss, 10, DAY_MS, "5.5s",
      "silence allowed after a miss"),
  OPT("heartbeat_max_misses", CFG_INT, heartbeat_max_misses, 1, 100, "3", "misses that drop a device"),
  OPT("order_timeout", CFG_MS, order_timeout, 10, DAY_MS, "10s", "wait for an order's result"),
  OPT("token_ttl", CFG_MS, token_ttl, 1000, 3650 * DAY_MS, "30d", "device session token lifetime"),
  OPT("bcrypt_cost", CFG_INT, bcrypt_cost, 4, 31, "12", "bcrypt cost of new password hashes"),
  OPT("bcrypt_jobs", CFG_INT, bcrypt_jobs, 0, 64, "0",
      "password checks at once; the rest wait (0: CPUs - 1, at least 1)"),
  OPT("bcrypt_queue_max", CFG_INT, bcrypt_queue_max, 1, 10000000, "10000",
      "password logins waiting at most; more are refused (busy)"),
  OPT("rx_buffer", CFG_SIZE, rx_buffer, 128, 1 << 20, "512", "receive buffer per connection"),
  OPT("max_message", CFG_SIZE, max_message, 1024, 64 << 20, "64k", "largest WebSocket message"),
  OPT("max_body", CFG_SIZE, max_body, 1024, 1LL << 30, "16m", "largest REST request body"),
  OPT("max_body_total", CFG_SIZE, max_body_total, 1024, 1LL << 40, "64m",
      "REST request bodies buffered at once, all connections (more: 503)"),
  OPT("send_queue_max", CFG_SIZE, send_queue_max, 4096, 1LL << 30, "1m",
      "queued output per connection before it is dropped"),
  OPT("log_flush", CFG_MS, log_flush, 1, 60000, "200ms", "device-log write-behind period"),
  OPT("log_retention", CFG_MS, log_retention, 0, 3650 * DAY_MS, "30d",
      "prune device logs older than this (0: keep all)"),
  OPT("log_status_uploads", CFG_BOOL, log_status_uploads, 0, 0, "true",
      "write device log rows for status uploads"),
  OPT("log_status_every", CFG_MS, log_status_every, 0, DAY_MS, "10m",
      "at most one status-upload row per device per this (0: every upload)"),
  OPT("front_max_connections", CFG_INT, front_max_connections, 1, 100000, "256",
      "dashboard (/front) connections at most"),
  OPT("front_push_interval", CFG_MS, front_push_interval, 10, 60000, "1s",
      "period of subscription pushes to dashboards"),
  OPT("front_queue_max", CFG_SIZE, front_queue_max, 4096, 1LL << 30, "256k",
      "output queued to a dashboard before it is dropped"),
  {NULL, 0, 0, 0, 0, NULL, NULL},
};

static int set_opt(void *ud, const char *key, const char *value, char *err, size_t errlen) {
  return cfg_table_set(server_opts, ud, key, value, err, errlen);
}

int config_init(struct server_config *cfg, int argc, char **argv, char *err, size_t errlen) {
  memset(cfg, 0, sizeof *cfg);
  cfg_table_defaults(server_opts, cfg);
  const char *file = cfg_config_arg(argc, argv, 1);
  if (file && cfg_parse_file(file, set_opt, cfg, err, errlen) != 0) return EF_ECONFIG;
  if (cfg_parse_args(argc, argv, 1, set_opt, cfg, err, errlen) != 0) return EF_ECONFIG;
  if (!cfg->db) cfg->db = ef_asprintf("sqlite:%s/edgefleet.db", cfg->data_dir);
  if (cfg->bcrypt_jobs == 0) {
    /* Leave a core to the network loop: a login storm must not stall heartbeats. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->bcrypt_jobs = cpus > 1 ? cpus - 1 : 1;
  }
  if (cfg->heartbeat_tolerance_miss > cfg->heartbeat_tolerance) {
    snprintf(err, errlen, "heartbeat_tolerance_miss must not exceed heartbeat_tolerance");
    return EF_ECONFIG;
  }
  return 0;
}

void config_free(struct server_config *cfg) { cfg_table_free(server_opts, cfg); }

void config_usage(FILE *out) {
  fprintf(out, "usage: edgefleetd [--config FILE] [--OPTION VALUE ...]\n"
               "Every option can also be set in the config file as `option = value`.\n\n");
  cfg_table_usage(server_opts, out);
}
