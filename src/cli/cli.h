/* SPDX-License-Identifier: MIT */
/* cli.h -- edgefleetctl internals: its options, the command table row, and the helpers every
 * command group file (cli_device.c, cli_group.c, ...) is written with: REST calls (http.c) and
 * output (out.c).
 *
 * A command is a row of the table in main.c plus one small function `int fn(struct cli *)`
 * that returns an exit code (enum cli_exit). main.c has already checked the row's positional
 * count and options, so a function only builds its request and prints the answer. */
#ifndef EF_CLI_H
#define EF_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum cli_exit {
  CLI_OK = 0,      /* success */
  CLI_FAIL = 1,    /* the server answered with a failure (4xx/5xx) */
  CLI_USAGE = 2,   /* unknown command or option, missing argument, unreadable input file */
  CLI_CONNECT = 3, /* cannot connect, or no answer in time */
};

/* Every option of every command, filled from the option tables in main.c (cfg.h rows).
 * Strings are owned by this struct; NULL when not given. */
struct cli_opts {
  /* global */
  char *server, *token, *token_file;
  char *ca, *cert, *key;      /* https: CA file, client certificate and key (PEM) */
  bool json, verbose, help, version;
  int64_t connect_timeout, timeout; /* ms */
  /* per command */
  char *sn, *model, *password, *name, *type, *description, *params, *kind, *scope, *groups;
  int64_t before; /* ms; 0 = not given */
  int64_t expires; /* ms; 0 = not given */
  /* audit: filters (0 / NULL = not given) */
  int64_t since, until, limit;
  char *by, *route, *target, *outcome, *cursor;
  /* alerts (cli_alert.c) */
  char *rule, *comment;
  /* import-seed (cli_import.c) */
  bool dry_run;
  int64_t duration; /* ms; 0 = not given */
};

struct cli;
typedef int (*cli_fn)(struct cli *c);

struct cli_cmd {
  const char *group;    /* first word */
  const char *name;     /* second word; NULL when the group word is the whole command */
  const char *synopsis; /* what follows the command words in its usage line */
  int min_args, max_args; /* positional arguments after the command words; max -1: any */
  const char *opts;     /* options it takes, space separated; a trailing '!' marks required */
  cli_fn fn;
  const char *help;
};

struct cli {
  struct cli_opts o;
  const struct cli_cmd *cmd;
  char **args; /* positional arguments after the command words: strings borrowed from argv */
  int nargs;
  char **pos;  /* every positional argument (args points into it); owned */
  char *base;  /* "<server>/service/devices_manage/", owned */
};

/* ---- http.c: the REST calls. Each prints the failure itself (the server's message and type,
 * or why the server could not be reached) and returns an enum cli_exit; on CLI_OK *data is the
 * answer's `data` and belongs to the caller. */
int http_global_init(void);
void http_global_cleanup(void);
/* GET route/arg1/arg2...: the path arguments (NULL-terminated) are URL-escaped. */
int cli_get(struct cli *c, json_t **data, const char *route, ...) __attribute__((sentinel));
/* METHOD route with a JSON body; the body is taken over (decref'd) in every case. */
int cli_send(struct cli *c, json_t **data, const char *method, const char *route, json_t *body);

/* ---- out.c: output. */
/* How a table column or a key/value line shows a value. */
enum col_fmt { COL_TEXT, COL_TIME, COL_COUNT };
struct col {
  const char *title;
  const char *path;  /* dotted member path, e.g. "hardware.sn" */
  const char *path2; /* optional second value, shown as "v1/v2" */
  enum col_fmt fmt;
};
/* With --json print `data` as JSON; otherwise call show(data). Takes `data` over. Returns CLI_OK. */
int cli_out(struct cli *c, json_t *data, void (*show)(json_t *data));
/* An array of objects as an aligned table, one row per element (cols ends with a NULL title). */
void out_table(const json_t *arr, const struct col *cols);
/* An object as aligned "key  value" lines, nested members flattened ("hardware.sn"). */
void out_kv(json_t *obj);
/* For answers without data ({}): prints "ok". */
void out_ok(json_t *data);
/* The member at a dotted path, or NULL. */
const json_t *out_path(const json_t *obj, const char *path);
/* One value as display text: strings as they are (control characters blanked), null or absent
 * as "-", times as local "YYYY-MM-DD HH:MM:SS", containers as compact JSON (COL_COUNT: their
 * size). The caller frees the result with ef_free(). */
char *out_text(const json_t *v, enum col_fmt fmt);
/* Print a usage error (printf format) and return CLI_USAGE. */
int cli_usage_error(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- main.c */
void cli_print_usage(const struct cli_cmd *cmd, FILE *out);

/* ---- command groups: one file each. */
/* cli_alert.c */
int cli_alerts(struct cli *c);
int cli_alerts_log(struct cli *c);
int cli_alerts_ack(struct cli *c);
int cli_alerts_silence(struct cli *c);
int cli_rules(struct cli *c);
int cli_rules_add(struct cli *c);
int cli_rules_update(struct cli *c);
int cli_rules_delete(struct cli *c);

int cli_device_add(struct cli *c);
int cli_device_add_batch(struct cli *c);
int cli_device_list(struct cli *c);
int cli_device_show(struct cli *c);
int cli_device_update(struct cli *c);
int cli_device_delete(struct cli *c);
int cli_device_log(struct cli *c);
int cli_device_status(struct cli *c);
int cli_device_groups(struct cli *c);
void cli_show_devices(json_t *arr); /* the device table, shared with `group devices` */

int cli_group_add(struct cli *c);
int cli_group_list(struct cli *c);
int cli_group_show(struct cli *c);
int cli_group_update(struct cli *c);
int cli_group_delete(struct cli *c);
int cli_group_devices(struct cli *c);
int cli_group_clear(struct cli *c);
int cli_group_add_device(struct cli *c);
int cli_group_remove_device(struct cli *c);
int cli_group_has(struct cli *c);
void cli_show_groups(json_t *arr); /* the group table, shared with `device groups` */

int cli_order(struct cli *c);
int cli_group_order(struct cli *c);

int cli_miner_list(struct cli *c);
int cli_miner_show(struct cli *c);

int cli_token_add(struct cli *c);
int cli_token_list(struct cli *c);
int cli_token_revoke(struct cli *c);

int cli_audit(struct cli *c);

/* cli_import.c */
int cli_import_seed(struct cli *c);

#endif
