/* SPDX-License-Identifier: MIT */
/* main.c -- edgefleet-agent: the ready-made device daemon on libedgefleet.
 *
 * Reads options from --config FILE, then from the command line (which wins), through one setter
 * that tries the agent's own table (agent_conf.c) and then the library (ef_client_set); starts
 * the collectors as the status provider and registers every `order.NAME` as an order handler;
 * then runs the client until SIGTERM/SIGINT (exit 0) or until the library gives up (exit 1).
 * A bad configuration exits 2 before connecting.
 * Without --config, an installed agent reads /etc/edgefleet/edgefleet-agent.conf when it exists
 * and keeps its data in /var/lib/edgefleet-agent (src/common/paths.h); from the build tree it
 * reads no file and keeps the library's default data_dir (.).
 * --version, --help, --help-man 8|5 (the man pages, from the option tables): print, exit 0.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_conf.h"
#include "clock.h"
#include "collector.h"
#include "edgefleet/edge.h"
#include "edgefleet/error.h"
#include "jsonutil.h"
#include "log.h"
#include "lotus_collector.h"
#include "lotus_parse.h"
#include "mem.h"
#include "orders.h"
#include "paths.h"

#define EXIT_STOPPED 0
#define EXIT_GAVE_UP 1
#define EXIT_CONFIG 2

/* What the setter needs, and what it saw (to check the required options). */
struct setup {
  struct agent_conf *conf;
  ef_client *client;
  bool server, device_id, device_sn, device_model, password;
};

/* For the signal handler only: ef_client_stop() is async-signal-safe. */
static ef_client *volatile stop_target;

static void on_signal(int sig) {
  (void)sig;
  if (stop_target) ef_client_stop(stop_target);
}

/* While set_option() hands a key to the library: its message for a bad value lands here instead
 * of the log, to be the option's error (the library reports it only through its log callback). */
static struct {
  bool on;
  char msg[512];
} lib_error;

static void usage(FILE *out) {
  fprintf(out,
          "usage: edgefleet-agent --server ws[s]://HOST:PORT/ws[,ws[s]://HOST2:PORT/ws ...]\n"
          "                       (--device-id ID | --sn SN --model M) --password PW\n"
          "                       [--data-dir DIR] [--config FILE]\n"
          "                       [--ca CA.pem] [--cert CERT.pem --key KEY.pem] [--pin sha256//...]\n"
          "                       [--log-level info] [--OPTION VALUE ...]\n\n"
          "       edgefleet-agent --version | --help\n\n"
          "Every option is also a config file line \"name = value\"; the command line wins.\n"
          "Without --config, an installed agent reads " EF_INSTALL_CONFDIR "/edgefleet-agent.conf\n"
          "when it exists (and its data_dir defaults to " EF_INSTALL_STATEDIR "/edgefleet-agent).\n"
          "Durations take ms/s/m/h/d (a bare number is seconds), sizes k/m/g.\n\n"
          "Several --server URLs (comma separated, the nodes of a cluster): the agent starts at a\n"
          "random one and moves round robin to the next after a failed attempt or a dropped\n"
          "connection, after [0, reconnect_jitter]; once all failed, after reconnect_interval\n"
          "+ [0, reconnect_jitter]. max_retries counts failed attempts per URL (rounds).\n\n"
          "Connection (libedgefleet):\n");
  const char *name, *def, *help;
  for (size_t i = 0; ef_client_option(i, &name, &def, &help) == 0; i++)
    cfg_usage_line(out, name, def, help);
  fprintf(out, "\nAgent:\n");
  fprintf(out, "  %-28s %s\n", "--config", "read options from this file first");
  cfg_table_usage(agent_opts, out);
  fprintf(out, "\nCustom orders (usually in the config file):\n"
               "  order.NAME = PROGRAM ARG ...  run PROGRAM (no shell) when order NAME arrives;\n"
               "                                {key} in an ARG becomes params.key\n\n"
               "Exit status: 0 stopped by SIGTERM/SIGINT, 1 the library gave up reconnecting\n"
               "(max_retries rounds over the server list failed),\n"
               "2 bad configuration.\n");
}

static int set_option(void *ud, const char *key, const char *value, char *err, size_t errlen) {
  struct setup *su = ud;
  int rc = agent_conf_set(su->conf, key, value, err, errlen);
  if (rc != EF_ENOENT) return rc;
  if (strcmp(key, "sn") == 0) key = "device_sn";
  else if (strcmp(key, "model") == 0) key = "device_model";
  else if (strcmp(key, "ca") == 0) key = "ca_file"; /* TLS (wss://): --ca --cert --key --pin */
  else if (strcmp(key, "cert") == 0) key = "cert_file";
  else if (strcmp(key, "key") == 0) key = "key_file";
  else if (strcmp(key, "pin") == 0) key = "pinned_pubkey";
  lib_error.on = true;
  lib_error.msg[0] = '\0';
  rc = ef_client_set(su->client, key, value);
  lib_error.on = false;
  if (rc == EF_ECONFIG && lib_error.msg[0]) snprintf(err, errlen, "%s", lib_error.msg);
  else if (rc == EF_ECONFIG) snprintf(err, errlen, "%s: bad value '%s'", key, value);
  else if (rc != 0 && rc != EF_ENOENT) snprintf(err, errlen, "%s: %s", key, ef_strerror(rc));
  if (rc != 0) return rc == EF_ENOENT ? EF_ENOENT : EF_ECONFIG;
  if (strcmp(key, "server") == 0) su->server = *value;
  else if (strcmp(key, "device_id") == 0) su->device_id = *value;
  else if (strcmp(key, "device_sn") == 0) su->device_sn = *value;
  else if (strcmp(key, "device_model") == 0) su->device_model = *value;
  else if (strcmp(key, "password") == 0) su->password = *value;
  return 0;
}

static void on_lib_log(void *ud, int level, const char *msg) {
  (void)ud;
  if (lib_error.on) {
    snprintf(lib_error.msg, sizeof lib_error.msg, "%s", msg);
    return;
  }
  if (level < EF_LOG_ERROR) level = EF_LOG_ERROR;
  if (level > EF_LOG_DEBUG) level = EF_LOG_DEBUG;
  ef_log(level, "lib: %s", msg);
}

static void on_event(void *ud, enum ef_client_event ev, const char *detail) {
  (void)ud;
  static const char *names[] = {"connected", "logged in", "disconnected", "login failed"};
  const char *name = (unsigned)ev < 4 ? names[ev] : "event";
  ef_log(ev == EF_EV_LOGIN_FAILED ? EF_LOG_WARN : EF_LOG_INFO, "%s%s%s", name,
         detail && *detail ? ": " : "", detail ? detail : "");
}

/* The status upload: the collectors' figures, plus lotus' name of this host when it differs
 * from the host name (lotus_worker_name), for the server to join this host to a miner's worker. */
struct status_src {
  struct collectors *set;
  const char *worker_name; /* borrowed from the agent's conf */
};

static char *status_cb(void *ud) {
  struct status_src *ss = ud;
  json_t *st = collectors_collect(ss->set, ef_mono_ms());
  if (st && ss->worker_name && *ss->worker_name) {
    json_t *name = json_string(ss->worker_name);
    if (name) json_object_set_new(st, "lotus_worker_name", name);
  }
  return jdump_decref(st);
}

/* The lotus collector's uploads go to the library's thread-safe miner queue. */
static int send_miner(void *ud, const char *json, int full) {
  return ef_client_send_miner(ud, json, full);
}

/* report_full_info, on the library's loop: only flags the collector's thread. */
static void on_full_request(void *ud) { lotus_collector_request_full(ud); }

/* The lotus collector when configured (--lotus-miner PATH, or lotus_source = rpc), else NULL. */
static int lotus_setup(const struct agent_conf *conf, ef_client *client,
                       struct lotus_collector **out, char *err, size_t errlen) {
  *out = NULL;
  bool rpc = conf->lotus_source == LOTUS_SOURCE_RPC;
  if (!rpc && !(conf->lotus_miner && *conf->lotus_miner)) return 0;
  struct lotus_conf lc = {
    .source = rpc ? "rpc" : "cli", .miner_path = conf->lotus_miner,
    .interval_ms = conf->lotus_interval, .timeout_ms = conf->lotus_timeout,
    .sectors = conf->lotus_sectors, .lotus_path = conf->lotus,
    .slow_interval_ms = conf->lotus_slow_interval, .api = conf->lotus_api,
    .token = conf->lotus_token,
    .node_api = conf->lotus_node_api, .node_token = conf->lotus_node_token,
    .reach_timeout_ms = conf->lotus_reach_timeout, .reach_max = conf->lotus_reach_max,
    .proving_check = conf->lotus_proving_check,
    .proving_check_before_ms = conf->lotus_proving_check_before,
    .proving_check_deadlines = conf->lotus_proving_check_deadlines,
    .proving_check_timeout_ms = conf->lotus_proving_check_timeout};
  int rc = lotus_collector_new(&lc, send_miner, client, out, err, errlen);
  if (rc != 0) return rc;
  ef_client_on_full_request(client, on_full_request, *out);
  return 0;
}

/* The checks the library would only make when connecting, made before it. */
static const char *missing_option(const struct setup *su) {
  if (!su->server) return "--server is required";
  if (!su->device_id && !(su->device_sn && su->device_model))
    return "--device-id, or --sn and --model, are required";
  if (!su->password) return "--password is required";
  return NULL;
}

static int install_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) return EF_ESYS;
  sa.sa_handler = SIG_IGN; /* a closed socket is an error code, not a death */
  return sigaction(SIGPIPE, &sa, NULL) != 0 ? EF_ESYS : 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "lotus-parse") == 0) return lotus_parse_main(argc - 1, argv + 1);
  log_set_ident("edgefleet-agent");
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(argv[i], "--version") == 0) {
      printf("edgefleet-agent %s (libedgefleet %s)\n", EF_VERSION_STRING, ef_version());
      return 0;
    }
    if (strcmp(argv[i], "--help-man") == 0) {
      if (i + 1 < argc && agent_man(stdout, argv[i + 1]) == 0) return 0;
      fprintf(stderr, "edgefleet-agent: --help-man 8 (edgefleet-agent) or 5 "
                      "(edgefleet-agent.conf)\n");
      return EXIT_CONFIG;
    }
  }

  int code = EXIT_CONFIG;
  char err[512] = "";
  struct agent_conf conf;
  if (agent_conf_init(&conf) != 0) {
    ef_log(EF_LOG_ERROR, "internal: bad default in the agent option table");
    return EXIT_CONFIG;
  }
  ef_client *client = NULL;
  int rc = ef_client_new(&client);
  if (rc != 0) {
    ef_log(EF_LOG_ERROR, "cannot create the client: %s", ef_strerror(rc));
    goto fail_client;
  }
  ef_client_on_log(client, on_lib_log, NULL);
  ef_client_on_event(client, on_event, NULL);

  struct setup su = {.conf = &conf, .client = client};
  /* Installed: the data dir under /var/lib (systemd's StateDirectory=edgefleet-agent). */
  const char *data_dir = ef_default_path(EF_DEF_AGENT_DATA);
  if (data_dir && ef_client_set(client, "data_dir", data_dir) != 0) goto fail_config;
  /* Built-in defaults < the config file (--config FILE; without one, an installed agent reads
   * /etc/edgefleet/edgefleet-agent.conf when it exists) < the command line. */
  const char *path = cfg_config_arg(argc, argv, 1);
  if (!path) path = ef_default_path(EF_DEF_AGENT_CONF);
  if (path) ef_log(EF_LOG_INFO, "edgefleet-agent %s, config %s", EF_VERSION_STRING, path);
  if (path && cfg_parse_file(path, set_option, &su, err, sizeof err) != 0) goto fail_config;
  if (cfg_parse_args(argc, argv, 1, set_option, &su, err, sizeof err) != 0) goto fail_config;
  const char *missing = missing_option(&su);
  if (missing) {
    snprintf(err, sizeof err, "%s (see --help)", missing);
    goto fail_config;
  }
  ef_log_threshold = (int)conf.log_level; /* checked against log_level_names by the table */

  struct collectors *set = NULL;
  struct lotus_collector *lotus = NULL;
  if (collectors_new(&conf, &set, err, sizeof err) != 0) goto fail_config;
  if (lotus_setup(&conf, client, &lotus, err, sizeof err) != 0) goto fail_orders;
  struct status_src ss = {set, conf.lotus_worker_name};
  ef_client_on_status(client, status_cb, &ss);
  for (size_t i = 0; i < conf.n_orders; i++) {
    struct agent_order *o = &conf.orders[i];
    o->timeout_ms = conf.order_timeout;
    rc = ef_client_on_order(client, o->name, order_handler, o);
    if (rc != 0) {
      snprintf(err, sizeof err, "order.%s: cannot register (%s)", o->name, ef_strerror(rc));
      goto fail_orders;
    }
    ef_log(EF_LOG_INFO, "order %s = %s", o->name, o->tmpl);
  }

  stop_target = client;
  if (install_signals() != 0) {
    ef_log(EF_LOG_ERROR, "cannot install signal handlers");
    code = EXIT_GAVE_UP;
    goto fail_signals;
  }
  if (lotus && lotus_collector_start(lotus) != 0) {
    code = EXIT_GAVE_UP;
    goto fail_signals;
  }
  ef_log(EF_LOG_INFO, "starting: %d collector(s)%s, %zu order(s)", collectors_enabled(set),
         lotus ? " + lotus" : "", conf.n_orders);
  rc = ef_client_run(client);
  if (rc == 0) {
    ef_log(EF_LOG_INFO, "stopped");
    code = EXIT_STOPPED;
  } else if (rc == EF_ECONFIG) {
    ef_log(EF_LOG_ERROR, "the library rejected the configuration");
    code = EXIT_CONFIG;
  } else {
    ef_log(EF_LOG_ERROR, "giving up: %s", ef_strerror(rc));
    code = EXIT_GAVE_UP;
  }

fail_signals:
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  stop_target = NULL;
fail_orders:
  lotus_collector_free(&lotus); /* before the client its uploads go to */
  ef_client_free(&client); /* handlers and the status provider point into conf and set */
  collectors_free(&set);
fail_config:
  if (err[0]) ef_log(EF_LOG_ERROR, "%s", err);
  ef_client_free(&client);
fail_client:
  agent_conf_free(&conf);
  return code;
}
