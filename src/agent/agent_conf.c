/* SPDX-License-Identifier: MIT */
/* agent_conf.c -- edgefleet-agent's option table and `order.NAME` lines (see agent_conf.h). */
#include "agent_conf.h"

#include <string.h>

#include "edgefleet/error.h"
#include "log.h"
#include "mem.h"
#include "orders.h"

#define ORDER_PREFIX "order."

static const char *const lotus_source_names[] = {"cli", "rpc", NULL}; /* enum lotus_source */

const struct cfg_opt agent_opts[] = {
  CFG_ROW(struct agent_conf, proc_root, CFG_STR, 0, 0, "/proc",
          "where the system collector reads /proc"),
  CFG_ROW(struct agent_conf, sys_root, CFG_STR, 0, 0, "/sys",
          "where the system collector reads /sys"),
  CFG_ROW(struct agent_conf, collectors, CFG_STR, 0, 0, "system",
          "enabled collectors, comma separated (system, gpu)"),
  CFG_ROW(struct agent_conf, order_timeout, CFG_MS, 100, 3600000, "8s",
          "time limit of a custom order (SIGTERM, SIGKILL 1s later)"),
  CFG_ROW(struct agent_conf, log_level, CFG_ENUM_OF(log_level_names), 0, 0, "info",
          "agent log level"),
  CFG_ROW(struct agent_conf, lotus_miner, CFG_STR, 0, 0, NULL,
          "lotus-miner program: enables the lotus collector (docs/lotus-collector.md)"),
  CFG_ROW(struct agent_conf, lotus_source, CFG_ENUM_OF(lotus_source_names), 0, 0, "cli",
          "where the lotus collector reads: lotus_miner's output or the JSON-RPC API"),
  CFG_ROW(struct agent_conf, lotus_interval, CFG_MS, 100, 86400000, "10s",
          "period of the lotus collector"),
  CFG_ROW(struct agent_conf, lotus_timeout, CFG_MS, 100, 600000, "8s",
          "time limit of one lotus-miner command or RPC call"),
  CFG_ROW(struct agent_conf, lotus_sectors, CFG_BOOL, 0, 0, "false",
          "also run `lotus-miner sectors list` (large on big miners)"),
  CFG_ROW(struct agent_conf, lotus_api, CFG_STR, 0, 0, NULL,
          "rpc: miner API, TOKEN:/ip4/HOST/tcp/PORT/http or http://HOST:PORT [$MINER_API_INFO]"),
  CFG_ROW(struct agent_conf, lotus_token, CFG_STR, 0, 0, NULL,
          "rpc: miner API token (overrides the one in lotus_api)"),
  CFG_ROW(struct agent_conf, lotus_node_api, CFG_STR, 0, 0, NULL,
          "rpc: full node API for balances and power [$FULLNODE_API_INFO]"),
  CFG_ROW(struct agent_conf, lotus_node_token, CFG_STR, 0, 0, NULL, "rpc: full node API token"),
  CFG_ROW(struct agent_conf, lotus_reach_timeout, CFG_MS, 0, 60000, "1s",
          "connect time limit of the miner's reachability check of its workers (0: none)"),
  CFG_ROW(struct agent_conf, lotus_reach_max, CFG_INT, 0, 100000, "256",
          "workers whose listen address is connected to each round"),
  CFG_ROW(struct agent_conf, lotus_worker_name, CFG_STR, 0, 0, NULL,
          "this host's lotus worker name, when lotus knows it by another than its host name"),
  CFG_ROW(struct agent_conf, lotus_proving_check, CFG_BOOL, 0, 0, "false",
          "run `lotus-miner proving check --only-bad` before each deadline opens (reads sectors)"),
  CFG_ROW(struct agent_conf, lotus_proving_check_before, CFG_MS, 60000, 1800000, "10m",
          "how long before a deadline opens it is checked"),
  CFG_ROW(struct agent_conf, lotus_proving_check_deadlines, CFG_INT, 1, 47, "1",
          "how many of the next deadlines are checked"),
  CFG_ROW(struct agent_conf, lotus_proving_check_timeout, CFG_MS, 1000, 1800000, "5m",
          "time limit of one proving check"),
  CFG_END,
};

int agent_conf_init(struct agent_conf *conf) {
  memset(conf, 0, sizeof *conf);
  return cfg_table_defaults(agent_opts, conf);
}

static bool valid_order_name(const char *s) {
  if (!*s || strlen(s) > 64) return false;
  for (; *s; s++)
    if (!(*s == '_' || *s == '-' || *s == '.' || (*s >= '0' && *s <= '9') ||
          (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
      return false;
  return true;
}

static void order_clear(struct agent_order *o) {
  ef_free(o->name);
  ef_free(o->tmpl);
  order_argv_free(o->argv);
  memset(o, 0, sizeof *o);
}

static int set_order(struct agent_conf *conf, const char *name, const char *tmpl, char *err,
                     size_t errlen) {
  if (!valid_order_name(name)) {
    snprintf(err, errlen, "order name '%s' must be 1-64 letters, digits, '_', '-' or '.'", name);
    return EF_ECONFIG;
  }
  if (strcmp(name, "restart") == 0 || strcmp(name, "upload_log") == 0) {
    snprintf(err, errlen, "order '%s' is built into the library and cannot be configured", name);
    return EF_ECONFIG;
  }
  char **argv;
  int argc;
  char why[256];
  if (order_template_split(tmpl, &argv, &argc, why, sizeof why) != 0) {
    snprintf(err, errlen, "order.%s: %s", name, why);
    return EF_ECONFIG;
  }
  struct agent_order *o = NULL;
  for (size_t i = 0; i < conf->n_orders; i++)
    if (strcmp(conf->orders[i].name, name) == 0) o = &conf->orders[i];
  if (o) {
    order_clear(o);
  } else {
    conf->orders = ef_realloc(conf->orders, (conf->n_orders + 1) * sizeof *conf->orders);
    o = &conf->orders[conf->n_orders++];
  }
  o->name = ef_strdup(name);
  o->tmpl = ef_strdup(tmpl);
  o->argv = argv;
  o->argc = argc;
  o->timeout_ms = conf->order_timeout;
  return 0;
}

int agent_conf_set(struct agent_conf *conf, const char *key, const char *value, char *err,
                   size_t errlen) {
  if (strncmp(key, ORDER_PREFIX, strlen(ORDER_PREFIX)) == 0)
    return set_order(conf, key + strlen(ORDER_PREFIX), value, err, errlen);
  if ((strcmp(key, "proc_root") == 0 || strcmp(key, "sys_root") == 0) && value[0] == '\0') {
    snprintf(err, errlen, "%s: must not be empty", key);
    return EF_ECONFIG;
  }
  int rc = cfg_table_set(agent_opts, conf, key, value, err, errlen);
  if (rc == 0 && strcmp(key, "order_timeout") == 0)
    for (size_t i = 0; i < conf->n_orders; i++) conf->orders[i].timeout_ms = conf->order_timeout;
  return rc;
}

int agent_conf_setter(void *ud, const char *key, const char *value, char *err, size_t errlen) {
  return agent_conf_set(ud, key, value, err, errlen);
}

const struct agent_order *agent_conf_order(const struct agent_conf *conf, const char *name) {
  for (size_t i = 0; i < conf->n_orders; i++)
    if (strcmp(conf->orders[i].name, name) == 0) return &conf->orders[i];
  return NULL;
}

void agent_conf_free(struct agent_conf *conf) {
  for (size_t i = 0; i < conf->n_orders; i++) order_clear(&conf->orders[i]);
  ef_free(conf->orders);
  conf->orders = NULL;
  conf->n_orders = 0;
  cfg_table_free(agent_opts, conf);
}
