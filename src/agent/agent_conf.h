/* SPDX-License-Identifier: MIT */
/* agent_conf.h -- edgefleet-agent's own options (one table) and its custom orders.
 *
 * The agent's options and the library's share one namespace, in the file and on the command
 * line. agent_conf_set() takes the agent's keys: the rows of agent_opts[] and every
 * `order.NAME = PROGRAM ARG...` line; anything else is EF_ENOENT so that the caller can hand it
 * to ef_client_set() next (main.c).
 */
#ifndef EF_AGENT_CONF_H
#define EF_AGENT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "cfg.h"

/* One custom order: `order.NAME = TEMPLATE`, the template already split into words. */
struct agent_order {
  char *name;        /* the order_type the server sends */
  char *tmpl;        /* the template as written, for logs */
  char **argv;       /* argc words + NULL; argv[0] is the program (searched in PATH) */
  int argc;
  int64_t timeout_ms; /* copied from order_timeout when the order is registered */
};

/* lotus_source: where the lotus collector reads (lotus_source_names in agent_conf.c). */
enum lotus_source { LOTUS_SOURCE_CLI, LOTUS_SOURCE_RPC };

/* Every option's member has the option's name (CFG_ROW in agent_conf.c). */
struct agent_conf {
  char *proc_root;        /* where /proc is (tests point it at a fixture tree) */
  char *sys_root;         /* where /sys is */
  char *collectors;       /* enabled collectors, comma or space separated */
  int64_t log_level;      /* enum ef_log_level (log.h) */
  int64_t order_timeout;  /* ms a custom order may run before SIGTERM */
  char *lotus_miner;      /* lotus-miner program: enables the lotus collector (cli source) */
  int64_t lotus_source;   /* enum lotus_source */
  int64_t lotus_interval; /* ms between collections */
  int64_t lotus_timeout;  /* ms one lotus-miner command / one RPC call may take */
  bool lotus_sectors;     /* also run `sectors list` */
  char *lotus;            /* the lotus (full node) program: `mpool pending --local` (cli) */
  int64_t lotus_slow_interval; /* ms between reads of addresses, peer id, listen addresses */
  char *lotus_api;        /* rpc: miner API info or URL (default $MINER_API_INFO) */
  char *lotus_token;      /* rpc: miner API token (overrides the one in lotus_api) */
  char *lotus_node_api;   /* rpc: full node API info or URL (default $FULLNODE_API_INFO) */
  char *lotus_node_token; /* rpc: full node token */
  int64_t lotus_reach_timeout; /* ms: connect limit of the workers' reachability (0: none) */
  int64_t lotus_reach_max;     /* workers probed a round */
  char *lotus_worker_name;     /* lotus' name of this host, sent in the status upload */
  bool lotus_proving_check;    /* proving check before deadlines open */
  int64_t lotus_proving_check_before;    /* ms before the opening */
  int64_t lotus_proving_check_deadlines; /* how many of the next deadlines */
  int64_t lotus_proving_check_timeout;   /* ms: time limit of one check */
  struct agent_order *orders; /* owned; n_orders of them */
  size_t n_orders;
};

/* The agent's rows (terminated by a NULL name), for defaults, setting and --help. */
extern const struct cfg_opt agent_opts[];

/* Fill every option with its default. */
int agent_conf_init(struct agent_conf *conf);
/* Set one agent option or order ('-' already mapped to '_'). Returns 0, EF_ENOENT for a key the
 * agent does not know, or EF_ECONFIG with a message in err. A second `order.NAME` replaces the
 * first (so the command line can override the file). */
int agent_conf_set(struct agent_conf *conf, const char *key, const char *value, char *err,
                   size_t errlen);
/* A cfg_set_fn over agent_conf_set(), ud = struct agent_conf *. */
int agent_conf_setter(void *ud, const char *key, const char *value, char *err, size_t errlen);
/* The order named `name`, or NULL. Borrowed from conf. */
const struct agent_order *agent_conf_order(const struct agent_conf *conf, const char *name);
void agent_conf_free(struct agent_conf *conf);

/* edgefleet-agent(8) ("8") or edgefleet-agent.conf(5) ("5") as roff, from the library's option
 * list and agent_opts (man.c, in the executable); -1 for another section. */
int agent_man(FILE *out, const char *section);

#endif
