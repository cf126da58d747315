/* SPDX-License-Identifier: MIT */
/* man.c -- edgefleet-agent(8) and edgefleet-agent.conf(5), printed by
 * `edgefleet-agent --help-man 8|5` at build time (packaging/CMakeLists.txt) from the library's
 * option list (ef_client_option) and the agent's table (agent_opts): the rows --help prints. */
#include <stdio.h>

#include "agent_conf.h"
#include "cfg.h"
#include "edgefleet/edge.h"
#include "ef_install.h"

#define CONF EF_INSTALL_CONFDIR "/edgefleet-agent.conf"
#define DATA EF_INSTALL_STATEDIR "/edgefleet-agent"

static void options(FILE *out, bool file) {
  cfg_man_block(out, ".SS Connection and identity (libedgefleet)\n");
  const char *name, *def, *help;
  for (size_t i = 0; ef_client_option(i, &name, &def, &help) == 0; i++)
    cfg_man_item(out, name, def, help, file);
  cfg_man_block(out, ".SS Agent: collectors, custom orders, the lotus collector\n");
  cfg_table_man(agent_opts, out, file);
  cfg_man_block(out,
    ".SS Custom orders\n"
    ".TP\n"
    ".BI order. NAME \" = \" \"PROGRAM ARG ...\"\n"
    "When the server gives order NAME, run PROGRAM (searched in PATH, no shell) with the ARGs; "
    "{key} in an ARG becomes the order's params.key. Its exit status is the order's result, its "
    "output the message; it is stopped (SIGTERM, then SIGKILL a second later) after "
    "order_timeout. restart and upload_log are built in and cannot be configured.\n");
}

static const char precedence[] =
  ".SH PRECEDENCE\n"
  "Built-in defaults, then the config file, then the command line: a flag wins over the file. "
  "The config file is the one given with --config; without --config, an installed agent (run "
  "from its installed location) reads " CONF " when it exists, and one run from the build tree "
  "reads none. --config /dev/null reads none.\n"
  "Installed, data_dir defaults to " DATA "; from the build tree, to the current directory.\n";

static void page8(FILE *out) {
  cfg_man_header(out, "edgefleet-agent", 8, "edgefleet manual",
                 "the edgefleet device daemon: status, orders, lotus-miner collector");
  cfg_man_block(out,
    ".SH SYNOPSIS\n"
    ".B edgefleet-agent\n"
    ".RB [ --config\n"
    ".IR FILE ]\n"
    ".B --server\n"
    ".I URL\n"
    "(\n"
    ".B --device-id\n"
    ".I ID\n"
    "|\n"
    ".B --sn\n"
    ".I SN\n"
    ".B --model\n"
    ".IR MODEL )\n"
    ".B --password\n"
    ".I PASSWORD\n"
    ".RB [ --option-name\n"
    ".IR value \" ...]\"\n"
    ".br\n"
    ".B edgefleet-agent --version\n"
    ".br\n"
    ".B edgefleet-agent --help\n"
    ".SH DESCRIPTION\n"
    ".B edgefleet-agent\n"
    "logs a device in to edgefleetd(8) over its WebSocket (session token first, the password "
    "as the fallback), heartbeats, uploads the system collector's figures (/proc, /sys, NVIDIA "
    "GPUs) every status_interval, runs the custom orders of its config file, and on a Filecoin "
    "storage provider collects lotus-miner's state (its CLI or its JSON-RPC API).\n"
    ".PP\n"
    "The built-in restart order re-executes the agent in place (execve: the same PID, the same "
    "command line), so a service manager sees no exit. Under systemd (edgefleet-agent.service, "
    "Type=exec) the unit stays active across it; Restart=on-failure only acts when the agent "
    "exits 1 (it gave up reconnecting after max_retries rounds, or the re-exec failed), not "
    "after SIGTERM (exit 0) or a bad configuration (exit 2, RestartPreventExitStatus=2).\n"
    ".SH OPTIONS\n"
    "Every option is also a line of the config file, edgefleet-agent.conf(5). --sn, --model, "
    "--ca, --cert, --key and --pin are short for --device-sn, --device-model, --ca-file, "
    "--cert-file, --key-file and --pinned-pubkey.\n"
    ".TP\n"
    ".BI --config \" FILE\"\n"
    "Read options from FILE before the command line.\n");
  options(out, false);
  cfg_man_units(out);
  cfg_man_block(out, precedence);
  cfg_man_block(out,
    ".SH EXIT STATUS\n"
    "0 stopped by SIGTERM or SIGINT, 1 the library gave up reconnecting (max_retries rounds "
    "over the server list failed), 2 a bad configuration.\n"
    ".SH FILES\n"
    ".TP\n"
    ".I " CONF "\n"
    "The configuration, every option annotated. It holds the device password: keep it readable "
    "by root only.\n"
    ".TP\n"
    ".I " DATA "\n"
    "The data dir: the session token and the operation log (device.log).\n"
    ".SH SEE ALSO\n"
    ".BR edgefleet-agent.conf (5),\n"
    ".BR edgefleetd (8),\n"
    ".BR edgefleetctl (1)\n");
}

static void page5(FILE *out) {
  cfg_man_header(out, "edgefleet-agent.conf", 5, "edgefleet manual",
                 "configuration file of the edgefleet device daemon");
  cfg_man_block(out,
    ".SH SYNOPSIS\n"
    ".I " CONF "\n"
    ".SH DESCRIPTION\n"
    "edgefleet-agent(8) reads its options from this file: one option a line, as name = value "
    "(or name value); # starts a comment, so a value cannot contain #; blank lines are ignored. "
    "An unknown name or a bad value stops the agent with file:line: reason and exit status 2. "
    "Every option is also a flag: ping_interval = 5s is --ping-interval 5s on the command line, "
    "which wins over the file.\n"
    ".SH OPTIONS\n");
  options(out, true);
  cfg_man_units(out);
  cfg_man_block(out, precedence);
  cfg_man_block(out,
    ".SH SEE ALSO\n"
    ".BR edgefleet-agent (8),\n"
    ".BR edgefleetd.conf (5)\n");
}

int agent_man(FILE *out, const char *section) {
  if (section[0] == '8' && !section[1]) page8(out);
  else if (section[0] == '5' && !section[1]) page5(out);
  else return -1;
  return 0;
}
