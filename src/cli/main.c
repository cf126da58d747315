/* SPDX-License-Identifier: MIT */
/* main.c -- edgefleetctl: the command line, the command table, help, and where the server
 * address and the API token come from.
 *
 *   edgefleetctl [--server URL] [--token TOKEN | --token-file FILE] [--json] [-v]
 *                [--ca CA.pem] [--cert CERT.pem --key KEY.pem] COMMAND ...
 *
 * Options may stand anywhere on the line (before or after the command words); `--` ends them.
 * The options are cfg.h rows, so they parse and report errors like every edgefleet program's;
 * a command's row says which of the per-command options it takes and which it requires. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "cli.h"
#include "edgefleet/error.h"
#include "edgefleet/version.h"
#include "mem.h"
#include "paths.h"

#define DEFAULT_SERVER "http://127.0.0.1:9090"
/* the admin token of a local edgefleetd: installed, or `make demo`'s (paths.h) */
#define DEFAULT_TOKEN_FILES EF_INSTALL_STATEDIR "/edgefleet/admin.token when installed, " \
                            "./var/admin.token from the build tree"

static const struct cfg_opt global_opts[] = {
  CFG_ROW(struct cli_opts, server, CFG_STR, 0, 0, NULL,
          "edgefleetd's address [$EDGEFLEET_SERVER, else " DEFAULT_SERVER "]"),
  CFG_ROW(struct cli_opts, token, CFG_STR, 0, 0, NULL,
          "API token [--token-file, $EDGEFLEET_TOKEN, else " DEFAULT_TOKEN_FILES "]"),
  CFG_ROW(struct cli_opts, token_file, CFG_STR, 0, 0, NULL, "file holding the API token"),
  CFG_ROW(struct cli_opts, json, CFG_BOOL, 0, 0, NULL, "print the server's data as JSON"),
  CFG_ROW(struct cli_opts, verbose, CFG_BOOL, 0, 0, NULL,
          "(-v) say which server and token are used, and each request"),
  CFG_ROW(struct cli_opts, help, CFG_BOOL, 0, 0, NULL,
          "(-h) usage, of a command when one is given"),
  CFG_ROW(struct cli_opts, version, CFG_BOOL, 0, 0, NULL, "print the version and exit"),
  CFG_ROW(struct cli_opts, connect_timeout, CFG_MS, 1, 3600000, "5s", "time to connect"),
  CFG_ROW(struct cli_opts, timeout, CFG_MS, 1, 86400000, "30s", "time for a whole request"),
  CFG_ROW(struct cli_opts, ca, CFG_STR, 0, 0, NULL,
          "https: PEM CA certificates to verify the server with [the system's store]"),
  CFG_ROW(struct cli_opts, cert, CFG_STR, 0, 0, NULL, "https: PEM client certificate"),
  CFG_ROW(struct cli_opts, key, CFG_STR, 0, 0, NULL, "https: PEM private key of --cert"),
  CFG_END,
};

static const struct cfg_opt command_opts[] = {
  CFG_ROW(struct cli_opts, sn, CFG_STR, 0, 0, NULL, "hardware serial number"),
  CFG_ROW(struct cli_opts, model, CFG_STR, 0, 0, NULL, "hardware model"),
  CFG_ROW(struct cli_opts, password, CFG_STR, 0, 0, NULL, "device password"),
  CFG_ROW(struct cli_opts, name, CFG_STR, 0, 0, NULL, "name"),
  CFG_ROW(struct cli_opts, type, CFG_STR, 0, 0, NULL, "device type"),
  CFG_ROW(struct cli_opts, description, CFG_STR, 0, 0, NULL, "description"),
  CFG_ROW(struct cli_opts, params, CFG_STR, 0, 0, NULL, "order parameters, a JSON object"),
  CFG_ROW(struct cli_opts, kind, CFG_STR, 0, 0, NULL, "the old name of --scope"),
  CFG_ROW(struct cli_opts, scope, CFG_STR, 0, 0, NULL, "token scope: admin, operator or read"),
  CFG_ROW(struct cli_opts, groups, CFG_STR, 0, 0, NULL,
          "group ids a token is limited to, comma separated"),
  CFG_ROW(struct cli_opts, expires, CFG_MS, 1000, 10LL * 366 * 86400000, NULL,
          "a token's lifetime, e.g. 90d or 12h"),
  CFG_ROW(struct cli_opts, before, CFG_INT, 1, INT64_MAX, NULL,
          "log rows older than this time (ms)"),
  CFG_ROW(struct cli_opts, since, CFG_INT, 1, INT64_MAX, NULL, "audit rows from this time (ms)"),
  CFG_ROW(struct cli_opts, until, CFG_INT, 1, INT64_MAX, NULL,
          "audit rows before this time (ms)"),
  CFG_ROW(struct cli_opts, by, CFG_STR, 0, 0, NULL, "audit rows of this API token (name or id)"),
  CFG_ROW(struct cli_opts, route, CFG_STR, 0, 0, NULL, "audit rows of this route"),
  CFG_ROW(struct cli_opts, target, CFG_STR, 0, 0, NULL,
          "audit rows whose target contains this (device=ID, group=ID, ...)"),
  CFG_ROW(struct cli_opts, outcome, CFG_STR, 0, 0, NULL,
          "audit rows with this outcome: ok, fail, 2xx, 3xx, 4xx or 5xx"),
  CFG_ROW(struct cli_opts, limit, CFG_INT, 1, 1000, NULL, "audit rows at most [100]"),
  CFG_ROW(struct cli_opts, cursor, CFG_STR, 0, 0, NULL,
          "the next page of audit rows (the cursor the last page printed)"),
  /* alerts (cli_alert.c) */
  CFG_ROW(struct cli_opts, rule, CFG_STR, 0, 0, NULL, "silence every alert of this rule"),
  CFG_ROW(struct cli_opts, duration, CFG_MS, 1000, 366LL * 86400000, NULL,
          "how long a silence lasts, e.g. 2h"),
  CFG_ROW(struct cli_opts, comment, CFG_STR, 0, 0, NULL, "why (a silence's note)"),
  /* import-seed (cli_import.c) */
  CFG_ROW(struct cli_opts, dry_run, CFG_BOOL, 0, 0, NULL,
          "import-seed: print what would be done, change nothing"),
  CFG_END,
};

static int cmd_help(struct cli *c);

#define DEVICE_FIELDS "[--name N] [--type T] [--description D]"
static const struct cli_cmd commands[] = {
  {"device", "add", "--sn SN --model M --password PW " DEVICE_FIELDS, 0, 0,
   "sn! model! password! name type description", cli_device_add,
   "register a device; prints its id"},
  {"device", "add-batch", "FILE.json", 1, 1, "", cli_device_add_batch,
   "register many devices, all or none (FILE: [device, ...] or {\"devices\":[...]}; - reads "
   "stdin); prints their ids"},
  {"device", "list", "", 0, 0, "", cli_device_list, "every device"},
  {"device", "show", "ID", 1, 1, "", cli_device_show, "one device"},
  {"device", "update", "ID [--sn SN] [--model M] [--password PW] " DEVICE_FIELDS, 1, 1,
   "sn model password name type description", cli_device_update,
   "change the given fields (a new password ends the device's session)"},
  {"device", "delete", "ID", 1, 1, "", cli_device_delete, "remove a device, its log and relations"},
  {"device", "log", "ID [--before MS]", 1, 1, "before", cli_device_log,
   "the device's event log, newest first (1000 rows; --before pages)"},
  {"device", "status", "ID", 1, 1, "", cli_device_status, "the connected device's last status"},
  {"device", "groups", "ID", 1, 1, "", cli_device_groups, "the groups the device is in"},
  {"group", "add", "NAME [--description D]", 1, 1, "description", cli_group_add,
   "create a group; prints its id"},
  {"group", "list", "", 0, 0, "", cli_group_list, "every group"},
  {"group", "show", "ID", 1, 1, "", cli_group_show, "one group"},
  {"group", "update", "ID [--name N] [--description D]", 1, 1, "name description",
   cli_group_update, "rename or describe a group"},
  {"group", "delete", "ID", 1, 1, "", cli_group_delete, "remove a group (its devices stay)"},
  {"group", "devices", "ID", 1, 1, "", cli_group_devices, "the group's devices"},
  {"group", "clear", "ID", 1, 1, "", cli_group_clear, "take every device out of the group"},
  {"group", "add-device", "GROUP DEVICE", 2, 2, "", cli_group_add_device,
   "put a device in a group"},
  {"group", "remove-device", "GROUP DEVICE", 2, 2, "", cli_group_remove_device,
   "take a device out of a group"},
  {"group", "has", "GROUP DEVICE", 2, 2, "", cli_group_has,
   "is the device in the group? prints yes or no"},
  {"order", NULL, "DEVICE NAME [key=value ...] [--params JSON]", 2, -1, "params", cli_order,
   "give a device an order and print its answer (values are JSON when they parse, else strings)"},
  {"group-order", NULL, "GROUP NAME [key=value ...] [--params JSON]", 2, -1, "params",
   cli_group_order, "give every device of a group an order; prints each device's result"},
  {"miner", "list", "", 0, 0, "", cli_miner_list, "every lotus miner"},
  {"miner", "show", "MINER_ID", 1, 1, "", cli_miner_show, "one miner's record"},
  {"token", "add", "--name N --scope admin|operator|read [--groups ID,ID] [--expires 90d]", 0, 0,
   "name! scope kind groups expires", cli_token_add,
   "make an API token; prints it (shown only this once)"},
  {"token", "list", "", 0, 0, "", cli_token_list,
   "every API token: name, scope, groups, created, last used, expiry (never a secret)"},
  {"token", "revoke", "ID", 1, 1, "", cli_token_revoke,
   "revoke an API token at once (its open dashboards are closed)"},
  {"import-seed", NULL, "mysql://USER:PASS@HOST:PORT/DB|@FILE [--dry-run]", 1, 1, "dry_run",
   cli_import_seed,
   "register the devices (with their password hashes), groups and relations of the original "
   "system's MySQL tables; what exists already is skipped (admin token; docs/cli.md)"},
  {"audit", NULL, "[--since MS] [--until MS] [--by TOKEN] [--route R] [--target T] "
   "[--outcome O] [--limit N] [--cursor C]", 0, 0,
   "since until by route target outcome limit cursor", cli_audit,
   "the audit log of mutations and orders, newest first (admin token)"},
  {"alerts", "log", "[--limit N]", 0, 0, "limit", cli_alerts_log,
   "the alert log: transitions, acks, silences, deliveries, newest first"},
  {"alerts", "ack", "FINGERPRINT", 1, 1, "", cli_alerts_ack,
   "acknowledge an open alert (operator token)"},
  {"alerts", "silence", "[FINGERPRINT] [--rule R] --duration 2h [--comment C]", 0, 1,
   "rule duration! comment", cli_alerts_silence,
   "no notifications for an alert, or a rule's alerts, for a while (operator token)"},
  {"alerts", NULL, "", 0, 0, "", cli_alerts,
   "firing, pending and recently resolved alerts"},
  {"rules", "add", "[--params JSON] name=N kind=K [key=value ...]", 0, -1, "params",
   cli_rules_add, "add an alert rule (admin token; docs/alerts.md)"},
  {"rules", "update", "NAME [--params JSON] [key=value ...]", 1, -1, "params",
   cli_rules_update, "change members of an alert rule, e.g. threshold=90 enabled=false"},
  {"rules", "delete", "NAME", 1, 1, "", cli_rules_delete, "remove an alert rule"},
  {"rules", NULL, "", 0, 0, "", cli_rules, "the alert rules, their kinds and firing counts"},
  {"help", NULL, "[GROUP [COMMAND]]", 0, 2, "", cmd_help, "this help, or a command's"},
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

/* ---- help */

void cli_print_usage(const struct cli_cmd *cmd, FILE *out) {
  fprintf(out, "usage: edgefleetctl [OPTIONS] %s%s%s%s%s\n  %s\n", cmd->group,
          cmd->name ? " " : "", cmd->name ? cmd->name : "", *cmd->synopsis ? " " : "",
          cmd->synopsis, cmd->help);
}

static void print_commands(const char *group, FILE *out) {
  for (size_t i = 0; i < NCOMMANDS; i++) {
    const struct cli_cmd *cmd = &commands[i];
    if (group && strcmp(cmd->group, group) != 0) continue;
    fprintf(out, "  %s%s%s%s%s\n      %s\n", cmd->group, cmd->name ? " " : "",
            cmd->name ? cmd->name : "", *cmd->synopsis ? " " : "", cmd->synopsis, cmd->help);
  }
}

static void print_help(FILE *out) {
  fputs("usage: edgefleetctl [OPTIONS] COMMAND [ARGS...]\n"
        "The command-line client of edgefleetd's REST API.\n\nCommands:\n", out);
  print_commands(NULL, out);
  fputs("\nOptions (anywhere on the line):\n", out);
  cfg_table_usage(global_opts, out);
  fputs("\nOutput: tables and key/value lines, or with --json the server's data.\n"
        "Exit codes: 0 success, 1 the server answered with a failure, 2 usage error,\n"
        "3 the server cannot be reached or did not answer in time.\n", out);
}

static void print_group(const char *group, FILE *out) {
  fprintf(out, "usage: edgefleetctl [OPTIONS] %s COMMAND ...\n", group);
  print_commands(group, out);
}

static const struct cli_cmd *find(const char *group, const char *name) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].group, group) == 0 &&
        (!commands[i].name || (name && strcmp(commands[i].name, name) == 0)))
      return &commands[i];
  return NULL;
}

static bool group_exists(const char *group) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].group, group) == 0) return true;
  return false;
}

static int cmd_help(struct cli *c) {
  if (c->nargs == 0) {
    print_help(stdout);
    return CLI_OK;
  }
  const struct cli_cmd *cmd = find(c->args[0], c->nargs > 1 ? c->args[1] : NULL);
  size_t rows = 0; /* a group word that is also a command (alerts, rules): the group's help */
  for (size_t i = 0; i < NCOMMANDS; i++) rows += strcmp(commands[i].group, c->args[0]) == 0;
  if (cmd && c->nargs == 1 && rows > 1) {
    print_group(c->args[0], stdout);
  } else if (cmd && (c->nargs == 1 || cmd->name)) {
    cli_print_usage(cmd, stdout);
  } else if (c->nargs == 1 && group_exists(c->args[0])) {
    print_group(c->args[0], stdout);
  } else {
    fprintf(stderr, "edgefleetctl: no command '%s%s%s'; see edgefleetctl help\n", c->args[0],
            c->nargs > 1 ? " " : "", c->nargs > 1 ? c->args[1] : "");
    return CLI_USAGE;
  }
  return CLI_OK;
}

/* ---- the command line */

struct pending { const struct cfg_opt *row; char key[64]; const char *val; };

static const struct cfg_opt *find_opt(const char *key, bool *global) {
  for (int t = 0; t < 2; t++)
    for (const struct cfg_opt *o = t ? command_opts : global_opts; o->name; o++)
      if (strcmp(o->name, key) == 0) return *global = (t == 0), o;
  return NULL;
}

/* Does `cmd` take option `name`? *required says whether it must be given. */
static bool takes(const struct cli_cmd *cmd, const char *name, bool *required) {
  size_t n = strlen(name);
  for (const char *p = cmd->opts; *p;) {
    size_t w = strcspn(p, " ");
    bool req = w && p[w - 1] == '!';
    if (w - req == n && strncmp(p, name, n) == 0) return *required = req, true;
    p += w;
    p += strspn(p, " ");
  }
  return false;
}

static bool is_number(const char *s) {
  if (*s == '-') s++;
  return *s >= '0' && *s <= '9';
}

/* Split argv into options (pending, checked later against the command) and positionals. */
static int split_args(int argc, char **argv, struct pending *opts, int *nopts, char **pos,
                      int *npos) {
  bool ended = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    json_t *utf8 = json_string(a); /* every argument may end up in a JSON body */
    if (!utf8) {
      fprintf(stderr, "edgefleetctl: argument %d is not UTF-8 text\n", i);
      return CLI_USAGE;
    }
    json_decref(utf8);
    if (ended || a[0] != '-' || !a[1] || is_number(a)) {
      pos[(*npos)++] = argv[i];
      continue;
    }
    if (strcmp(a, "--") == 0) {
      ended = true;
      continue;
    }
    struct pending *p = &opts[(*nopts)++];
    const char *name = a[1] == '-' ? a + 2 : a + 1;
    size_t klen = strcspn(name, "=");
    if (a[1] != '-' && strcmp(a, "-v") != 0 && strcmp(a, "-h") != 0) klen = 0;
    if (klen == 0 || klen >= sizeof p->key) {
      fprintf(stderr, "edgefleetctl: unknown option '%s'; see edgefleetctl help\n", a);
      return CLI_USAGE;
    }
    memcpy(p->key, name, klen);
    p->key[klen] = '\0';
    for (char *k = p->key; *k; k++)
      if (*k == '-') *k = '_';
    if (strcmp(p->key, "v") == 0) strcpy(p->key, "verbose");
    if (strcmp(p->key, "h") == 0) strcpy(p->key, "help");
    bool global = false;
    p->row = find_opt(p->key, &global);
    if (!p->row) {
      fprintf(stderr, "edgefleetctl: unknown option '%s'; see edgefleetctl help\n", a);
      return CLI_USAGE;
    }
    if (name[klen] == '=') p->val = name + klen + 1;
    else if (p->row->type == CFG_BOOL) p->val = "true";
    else if (i + 1 < argc) p->val = argv[++i];
    else {
      fprintf(stderr, "edgefleetctl: %s needs a value\n", a);
      return CLI_USAGE;
    }
  }
  return CLI_OK;
}

/* Find the command, then apply and check its options and argument count. Returns CLI_OK with
 * c->cmd set (nothing more to do when c->o.help), or an exit code after printing why. */
static int parse(struct cli *c, int argc, char **argv) {
  struct pending *opts = ef_calloc((size_t)argc, sizeof *opts);
  c->pos = ef_calloc((size_t)argc, sizeof *c->pos);
  int nopts = 0, npos = 0, rc = split_args(argc, argv, opts, &nopts, c->pos, &npos);
  char **pos = c->pos, err[512];
  for (int i = 0; rc == CLI_OK && i < nopts; i++) { /* globals first: --help decides below */
    err[0] = '\0';
    int set = cfg_table_set(global_opts, &c->o, opts[i].key, opts[i].val, err, sizeof err);
    if (set != 0 && set != EF_ENOENT) { /* EF_ENOENT: a command option, checked further down */
      fprintf(stderr, "edgefleetctl: --%s\n", err);
      rc = CLI_USAGE;
    }
  }
  if (rc != CLI_OK) goto out;
  if (c->o.version) {
    printf("edgefleetctl %s\n", EF_VERSION_STRING);
    c->o.help = true; /* nothing more to do */
    goto out;
  }

  if (npos == 0) {
    print_help(c->o.help ? stdout : stderr);
    rc = c->o.help ? CLI_OK : CLI_USAGE;
    c->o.help = true;
    goto out;
  }
  c->cmd = find(pos[0], npos > 1 ? pos[1] : NULL);
  if (!c->cmd) {
    bool known = group_exists(pos[0]), help = c->o.help && npos == 1;
    if (known && npos > 1)
      fprintf(stderr, "edgefleetctl: unknown command '%s %s'\n", pos[0], pos[1]);
    else if (!known)
      fprintf(stderr, "edgefleetctl: unknown command '%s'; see edgefleetctl help\n", pos[0]);
    else if (!help)
      fprintf(stderr, "edgefleetctl: '%s' needs a command\n", pos[0]);
    if (known) print_group(pos[0], help ? stdout : stderr);
    rc = known && help ? CLI_OK : CLI_USAGE;
    c->o.help = true;
    goto out;
  }
  int words = c->cmd->name ? 2 : 1;
  c->args = pos + words;
  c->nargs = npos - words;
  if (c->o.help) {
    cli_print_usage(c->cmd, stdout);
    goto out;
  }

  for (int i = 0; i < nopts; i++) {
    bool global = false, required;
    find_opt(opts[i].key, &global);
    if (global) continue;
    if (!takes(c->cmd, opts[i].key, &required)) {
      rc = cli_usage_error(c, "option --%s does not apply here", opts[i].row->name);
      goto out;
    }
    err[0] = '\0';
    if (cfg_table_set(command_opts, &c->o, opts[i].key, opts[i].val, err, sizeof err) != 0) {
      rc = cli_usage_error(c, "--%s", err);
      goto out;
    }
  }
  for (const struct cfg_opt *o = command_opts; o->name; o++) {
    bool required;
    if (takes(c->cmd, o->name, &required) && required &&
        !*(char **)((char *)&c->o + o->offset)) {
      rc = cli_usage_error(c, "missing --%s", o->name);
      goto out;
    }
  }
  if (c->nargs < c->cmd->min_args) rc = cli_usage_error(c, "missing argument");
  else if (c->cmd->max_args >= 0 && c->nargs > c->cmd->max_args)
    rc = cli_usage_error(c, "too many arguments");
out:
  ef_free(opts);
  return rc;
}

/* ---- where the server and the token come from */

static int resolve_server(struct cli *c) {
  const char *from = "--server", *env = getenv("EDGEFLEET_SERVER");
  if (!c->o.server && env && *env) {
    c->o.server = ef_strdup(env);
    from = "$EDGEFLEET_SERVER";
  } else if (!c->o.server) {
    c->o.server = ef_strdup(DEFAULT_SERVER);
    from = "the default";
  }
  if (!*c->o.server) return cli_usage_error(c, "--server is empty");
  size_t n = strlen(c->o.server);
  while (n > 1 && c->o.server[n - 1] == '/') c->o.server[--n] = '\0';
  if (!strstr(c->o.server, "://")) { /* "host:port" means http://host:port */
    char *url = ef_asprintf("http://%s", c->o.server);
    ef_free(c->o.server);
    c->o.server = url;
  }
  if (strncasecmp(c->o.server, "http://", 7) != 0 && strncasecmp(c->o.server, "https://", 8) != 0)
    return cli_usage_error(c, "bad server address '%s': http:// or https:// only", c->o.server);
  c->base = ef_asprintf("%s/service/devices_manage/", c->o.server);
  if (c->o.verbose) fprintf(stderr, "edgefleetctl: server %s (from %s)\n", c->o.server, from);
  return CLI_OK;
}

/* Read a token file: its content without surrounding white space. */
static char *read_token_file(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "cannot read token file %s: %s", path, strerror(errno));
    return NULL;
  }
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  bool bad = ferror(f) || !feof(f);
  fclose(f);
  buf[n] = '\0';
  char *s = buf, *e = buf + n;
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) *--e = '\0';
  char *tok = bad || !*s ? NULL : ef_strdup(s);
  if (!tok)
    snprintf(err, errlen, "token file %s is %s", path, bad ? "unreadable or too large" : "empty");
  memset(buf, 0, sizeof buf);
  return tok;
}

static int resolve_token(struct cli *c) {
  const char *from = "--token", *env = getenv("EDGEFLEET_TOKEN");
  char err[600];
  if (c->o.token && c->o.token_file)
    return cli_usage_error(c, "give --token or --token-file, not both");
  if (c->o.token) {
    /* given on the line */
  } else if (c->o.token_file) {
    if (!(c->o.token = read_token_file(c->o.token_file, err, sizeof err)))
      return cli_usage_error(c, "%s", err);
    from = "--token-file";
  } else if (env && *env) {
    c->o.token = ef_strdup(env);
    from = "$EDGEFLEET_TOKEN";
  } else if ((c->o.token = read_token_file(ef_default_path(EF_DEF_ADMIN_TOKEN), err, sizeof err))) {
    from = ef_default_path(EF_DEF_ADMIN_TOKEN);
  } else {
    from = NULL;
  }
  for (const char *p = c->o.token; p && *p; p++)
    if (*p <= ' ' || *p >= 0x7f)
      return cli_usage_error(c, "the token from %s has characters a token cannot have", from);
  if (c->o.verbose) {
    if (from) fprintf(stderr, "edgefleetctl: token from %s\n", from);
    else fprintf(stderr, "edgefleetctl: no token (no --token, --token-file, $EDGEFLEET_TOKEN "
                         "or %s)\n", ef_default_path(EF_DEF_ADMIN_TOKEN));
  }
  return CLI_OK;
}

/* ---- edgefleetctl(1), from the command table and the option rows (--help-man 1) */

static void print_man(FILE *out) {
  cfg_man_header(out, "edgefleetctl", 1, "edgefleet manual",
                 "command-line client of edgefleetd's REST API");
  cfg_man_block(out,
    ".SH SYNOPSIS\n"
    ".B edgefleetctl\n"
    ".RI [ OPTIONS ]\n"
    ".I COMMAND\n"
    ".RI [ ARGS ...]\n"
    ".SH DESCRIPTION\n"
    ".B edgefleetctl\n"
    "registers and groups devices, gives them orders, reads their logs, live status and miner "
    "records, and manages API tokens, the audit log and alerts through edgefleetd(8)'s REST "
    "API. Options may stand anywhere on the line; -- ends them.\n"
    ".PP\n"
    "The server is --server, else $EDGEFLEET_SERVER, else " DEFAULT_SERVER ". The API token is "
    "--token or --token-file, else $EDGEFLEET_TOKEN, else the admin token of a local "
    "edgefleetd: " EF_INSTALL_STATEDIR "/edgefleet/admin.token for an installed edgefleetctl "
    "(readable by root), ./var/admin.token (make demo's) for one run from the build tree.\n"
    ".SH COMMANDS\n");
  for (size_t i = 0; i < NCOMMANDS; i++) {
    const struct cli_cmd *cmd = &commands[i];
    char head[512];
    snprintf(head, sizeof head, "%s%s%s%s%s", cmd->group, cmd->name ? " " : "",
             cmd->name ? cmd->name : "", *cmd->synopsis ? " " : "", cmd->synopsis);
    fputs(".TP\n\\fB", out); /* the command line as --help shows it, then its help */
    cfg_man_escaped(out, head);
    fputs("\\fR\n", out);
    cfg_man_text(out, cmd->help);
  }
  cfg_man_block(out, ".SH OPTIONS\n");
  cfg_table_man(global_opts, out, false);
  cfg_man_block(out, ".SS Options of some commands (see each command's line above)\n");
  cfg_table_man(command_opts, out, false);
  cfg_man_block(out,
    ".SH DURATIONS\n"
    "--expires and --duration take ms, s, m, h, d (90d, 2h); a bare number is seconds.\n"
    ".SH EXIT STATUS\n"
    "0 success, 1 the server answered with a failure, 2 usage error, 3 the server cannot be "
    "reached or did not answer in time.\n"
    ".SH SEE ALSO\n"
    ".BR edgefleetd (8),\n"
    ".BR edgefleet-agent (8)\n");
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--help-man") == 0) {
    if (strcmp(argv[2], "1") != 0) {
      fprintf(stderr, "edgefleetctl: --help-man 1\n");
      return CLI_USAGE;
    }
    print_man(stdout);
    return CLI_OK;
  }
  struct cli c;
  memset(&c, 0, sizeof c);
  cfg_table_defaults(global_opts, &c.o);
  cfg_table_defaults(command_opts, &c.o);
  int rc = parse(&c, argc, argv);
  if (rc != CLI_OK || c.o.help) goto done;
  if (c.cmd->fn != cmd_help) {
    if ((rc = resolve_server(&c)) != CLI_OK || (rc = resolve_token(&c)) != CLI_OK) goto done;
    if (http_global_init() != 0) {
      fprintf(stderr, "edgefleetctl: cannot initialise libcurl\n");
      rc = CLI_CONNECT;
      goto done;
    }
  }
  rc = c.cmd->fn(&c);
  if (c.cmd->fn != cmd_help) http_global_cleanup();
  if (fflush(stdout) != 0 && rc == CLI_OK) {
    fprintf(stderr, "edgefleetctl: cannot write the output: %s\n", strerror(errno));
    rc = CLI_FAIL;
  }
done:
  if (c.o.token) memset(c.o.token, 0, strlen(c.o.token));
  cfg_table_free(global_opts, &c.o);
  cfg_table_free(command_opts, &c.o);
  ef_free(c.base);
  ef_free(c.pos);
  return rc;
}
