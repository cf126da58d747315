/* SPDX-License-Identifier: MIT */
/* man.c -- edgefleetd(8) and edgefleetd.conf(5), printed by `edgefleetd --help-man 8|5` at
 * build time (packaging/CMakeLists.txt) from the option table of config.c: the same rows as
 * --help, so that the pages cannot drift from the program. */
#include <stdio.h>

#include "cfg.h"
#include "ef_install.h"
#include "server.h"

#define CONF EF_INSTALL_CONFDIR "/edgefleetd.conf"
#define DATA EF_INSTALL_STATEDIR "/edgefleet"

static const char precedence[] =
  ".SH PRECEDENCE\n"
  "Built-in defaults, then the config file, then the command line: a flag wins over the file. "
  "The config file is the one given with --config; without --config, an installed edgefleetd "
  "(run from its installed location) reads " CONF " when it exists, and an edgefleetd run from "
  "the build tree reads none. --config /dev/null reads none.\n"
  "Some defaults depend on where edgefleetd runs: installed, data_dir is " DATA " and "
  "static_dir " EF_INSTALL_WEBDIR "; from the build tree, ./var and the source tree's web/.\n";

static void page8(FILE *out) {
  cfg_man_header(out, "edgefleetd", 8, "edgefleet manual",
                 "the edgefleet server: devices, REST API and dashboard");
  cfg_man_block(out,
    ".SH SYNOPSIS\n"
    ".B edgefleetd\n"
    ".RB [ --config\n"
    ".IR FILE ]\n"
    ".RB [ --option-name\n"
    ".IR value \" ...]\"\n"
    ".br\n"
    ".B edgefleetd --init\n"
    ".RB [ --config\n"
    ".IR FILE ]\n"
    ".RB [ --option-name\n"
    ".IR value \" ...]\"\n"
    ".br\n"
    ".B edgefleetd --version\n"
    ".br\n"
    ".B edgefleetd --help\n"
    ".SH DESCRIPTION\n"
    ".B edgefleetd\n"
    "is the server every machine of a fleet reports to. Devices (edgefleet-agent, or any program "
    "on libedgefleet) log in over a WebSocket at /ws, heartbeat, upload their status and execute "
    "orders; business services use the REST API under /service/devices_manage/ (its token: "
    "admin.token in the data dir, made on the first start); the dashboard is served at / and "
    "kept live over the /front WebSocket.\n"
    ".PP\n"
    "It logs \"ready port=N\" once it accepts connections. Under systemd (edgefleetd.service, "
    "Type=notify) it also tells systemd it is ready and pings the watchdog from its event loop.\n"
    ".SH ACTIONS\n"
    ".TP\n"
    ".B --init\n"
    "Create the data dir, the database and the admin token (admin.token, mode 0600) when they "
    "do not exist yet, then exit without listening. The Debian package runs it as the edgefleet "
    "user on its first installation.\n"
    ".TP\n"
    ".B --version\n"
    "Print the version and exit.\n"
    ".TP\n"
    ".B --help\n"
    "Print every option with its default and exit.\n"
    ".SH OPTIONS\n"
    "Every option is also a line of the config file, edgefleetd.conf(5): --heartbeat-tolerance "
    "7.5s is heartbeat_tolerance = 7.5s there.\n"
    ".TP\n"
    ".BI --config \" FILE\"\n"
    "Read options from FILE before the command line.\n");
  cfg_table_man(config_opts(), out, false);
  cfg_man_units(out);
  cfg_man_block(out, precedence);
  cfg_man_block(out,
    ".SH SIGNALS\n"
    ".TP\n"
    ".B SIGHUP\n"
    "Re-read tls_cert and tls_key; connections stay.\n"
    ".TP\n"
    ".BR SIGTERM \", \" SIGINT\n"
    "Stop accepting, close every connection (devices are logged offline), write what is "
    "pending, exit 0.\n"
    ".SH EXIT STATUS\n"
    "0 after SIGTERM or SIGINT (and after --init), 1 when it cannot start (data dir, database, "
    "listener), 2 for a bad configuration.\n"
    ".SH FILES\n"
    ".TP\n"
    ".I " CONF "\n"
    "The configuration, every option annotated.\n"
    ".TP\n"
    ".I " DATA "\n"
    "The data dir: edgefleet.db (SQLite), admin.token, verifier.key.\n"
    ".TP\n"
    ".I " EF_INSTALL_WEBDIR "\n"
    "The dashboard.\n"
    ".SH SEE ALSO\n"
    ".BR edgefleetd.conf (5),\n"
    ".BR edgefleetctl (1),\n"
    ".BR edgefleet-agent (8),\n"
    ".BR systemd.service (5)\n");
}

static void page5(FILE *out) {
  cfg_man_header(out, "edgefleetd.conf", 5, "edgefleet manual",
                 "configuration file of the edgefleet server");
  cfg_man_block(out,
    ".SH SYNOPSIS\n"
    ".I " CONF "\n"
    ".SH DESCRIPTION\n"
    "edgefleetd(8) reads its options from this file: one option a line, as name = value (or "
    "name value); # starts a comment, so a value cannot contain #; blank lines are ignored. "
    "An unknown name or a bad value stops edgefleetd with file:line: reason and exit status 2. "
    "Every option is also a flag: heartbeat_tolerance = 7.5s is --heartbeat-tolerance 7.5s on "
    "the command line, which wins over the file.\n"
    ".PP\n"
    "The installed file lists every option set to its default or commented out, with a note "
    "each.\n"
    ".SH OPTIONS\n");
  cfg_table_man(config_opts(), out, true);
  cfg_man_units(out);
  cfg_man_block(out, precedence);
  cfg_man_block(out,
    ".SH SEE ALSO\n"
    ".BR edgefleetd (8),\n"
    ".BR edgefleet-agent.conf (5)\n");
}

int config_man(FILE *out, const char *section) {
  if (section[0] == '8' && !section[1]) page8(out);
  else if (section[0] == '5' && !section[1]) page5(out);
  else return -1;
  return 0;
}
