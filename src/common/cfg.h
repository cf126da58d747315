/* SPDX-License-Identifier: MIT */
/* cfg.h -- configuration as a table.
 *
 * A program describes its options once, as rows of struct cfg_opt (name, type, bounds, default,
 * offsetof its field, help). The same rows feed defaults, the config file, the command line and
 * --help, so every option can be set in both places under the same name:
 *
 *   file:   heartbeat_tolerance = 7.5s        (# comments, blank lines; "key value" also works)
 *   flags:  --heartbeat-tolerance 7.5s        (or --heartbeat-tolerance=7.5s; '-' and '_' equal)
 *
 * Durations (CFG_MS, stored in ms) take ms, s, m, h, d suffixes and a bare number is SECONDS, as
 * nginx, systemd and Zabbix read it ("10" is 10 s, "10ms" 10 ms); sizes (CFG_SIZE) take k, m, g
 * (binary) and default to bytes; booleans take true/false/yes/no/on/off/1/0; an enum (CFG_ENUM)
 * takes one of its names (any case) and stores its index.
 * Errors name the file and line, or the flag, and the accepted range or names; a duration's
 * range is in seconds, and a bare number that is out of range but would not be as milliseconds
 * (what a bare number once meant) says so: "--lotus-interval: 10000 s is out of range [0.1 s,
 * 86400 s]; did you mean 10000ms?".
 *
 * A table is written with CFG_ROW, whose field has the option's name, so that the key, the
 * flag, the struct member and what the docs say are one word and cannot drift apart:
 *
 *   static const struct cfg_opt opts[] = {
 *     CFG_ROW(struct my_conf, heartbeat_tolerance, CFG_MS, 10, DAY_MS, "7.5s", "silence allowed"),
 *     CFG_ROW(struct my_conf, log_level, CFG_ENUM_OF(log_level_names), 0, 0, "info", "detail"),
 *     CFG_END,
 *   };
 */
#ifndef EF_CFG_H
#define EF_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cfg_type { CFG_STR, CFG_INT, CFG_MS, CFG_SIZE, CFG_BOOL, CFG_ENUM };

struct cfg_opt {
  const char *name;  /* file key; the flag is --name with '_' shown as '-' */
  enum cfg_type type;
  size_t offset;     /* offsetof(conf struct, field): char * (STR), bool (BOOL), else int64_t */
  int64_t min, max;  /* bounds for INT/MS/SIZE (after unit conversion); ENUM: by its names */
  const char *def;   /* default, as it would be written in the file; NULL for none */
  const char *help;
  const char *const *names; /* ENUM: the accepted values, NULL-terminated; field = the index */
};

/* One row: option `name` is member `name` of `conf_struct`. `type` is CFG_STR ... CFG_BOOL, or
 * CFG_ENUM_OF(names) for an enum (min and max are then unused; write 0, 0; a bare CFG_ENUM has
 * no names and accepts nothing, so its default fails cfg_table_defaults()). Designated
 * initialisers so that CFG_ENUM_OF can add the names member through the type argument and
 * every other row leaves it NULL. */
#define CFG_ROW(conf_struct, name_, type_, min_, max_, def_, help_)                          \
  {.name = #name_, .type = type_, .offset = offsetof(conf_struct, name_), .min = (min_),     \
   .max = (max_), .def = (def_), .help = (help_)}
#define CFG_ENUM_OF(names_) CFG_ENUM, .names = (names_)
/* The row that ends a table. */
#define CFG_END {.name = NULL}

/* Receives one key/value; returns 0, EF_ENOENT for an unknown key, or EF_ECONFIG with err set. */
typedef int (*cfg_set_fn)(void *ud, const char *key, const char *value, char *err, size_t errlen);

/* The longest line a config file may have (without its newline); a longer one is an error. */
#define CFG_LINE_MAX 4096

/* Feed every "key = value" line of `path` to set(); an unknown key is an error. */
int cfg_parse_file(const char *path, cfg_set_fn set, void *ud, char *err, size_t errlen);
/* The same over text[0..len) (need not be NUL-terminated); `name` stands for the path in
 * messages ("name:3: ..."). */
int cfg_parse_mem(const char *name, const char *text, size_t len, cfg_set_fn set, void *ud,
                  char *err, size_t errlen);
/* Feed every --key value / --key=value of argv[first..argc) to set(). Every option takes a
 * value; positional arguments are an error. */
int cfg_parse_args(int argc, char **argv, int first, cfg_set_fn set, void *ud, char *err,
                   size_t errlen);
/* The value of --config in argv, or NULL. */
const char *cfg_config_arg(int argc, char **argv, int first);

/* Table helpers for a conf struct laid out by `opts` (terminated by a row with name NULL). */
int cfg_table_defaults(const struct cfg_opt *opts, void *conf);
int cfg_table_set(const struct cfg_opt *opts, void *conf, const char *key, const char *value,
                  char *err, size_t errlen);
void cfg_table_free(const struct cfg_opt *opts, void *conf);
void cfg_table_usage(const struct cfg_opt *opts, FILE *out);
/* One --help line: "  --name-with-dashes   help [default]". */
void cfg_usage_line(FILE *out, const char *name, const char *def, const char *help);

/* Man pages (roff, man(7)) from the same rows as --help, so that the two cannot drift apart:
 * one ".TP" paragraph per row, headed "--name-with-dashes VALUE" (file = false: a program's
 * page) or "name = VALUE" (file = true: the config file's page, section 5), with the help, the
 * accepted names of an enum and the default. */
void cfg_table_man(const struct cfg_opt *opts, FILE *out, bool file);
/* One such paragraph, for rows that are not in a table (the library's, through
 * ef_client_option()). */
void cfg_man_item(FILE *out, const char *name, const char *def, const char *help, bool file);
/* text with roff's escape character doubled and every '-' a minus sign, no newline */
void cfg_man_escaped(FILE *out, const char *text);
/* Text for a roff body line: backslashes and a leading '.' or '\'' escaped. */
void cfg_man_text(FILE *out, const char *text);
/* Several lines: those that start with '.' are requests (".SH FILES", ".B --init"), written as
 * they are but for every '-' of their arguments (a minus sign); the others are text lines
 * (cfg_man_text). */
void cfg_man_block(FILE *out, const char *roff);
/* The UNITS section: how this parser reads durations, sizes and booleans (every program's page
 * says the same, from here). */
void cfg_man_units(FILE *out);
/* The page's header: .TH NAME SECTION "" "edgefleet VERSION" "TITLE" and a NAME section. */
void cfg_man_header(FILE *out, const char *name, int section, const char *title,
                    const char *summary);

/* The largest value a duration (in ms) or a size (in bytes) may have after its unit is applied:
 * well inside int64_t, and below 2^53, so the double it is computed in is exact to the unit. */
#define CFG_VALUE_MAX 9e15

/* Value parsers, exposed for tests and callers with their own fields. The duration and size
 * parsers return 0, EF_EINVAL when the text is not such a value (no number, an unknown unit, a
 * negative number, nan), or EF_ETOOBIG when it is larger than CFG_VALUE_MAX once the unit is
 * applied (inf, 1e400, 1e300d); *out is only written on success. */
int cfg_parse_duration_ms(const char *s, int64_t *out);
/* ms as seconds for a message: "86400 s", "0.1 s", "7.5 s"; returns buf. */
const char *cfg_format_seconds(int64_t ms, char *buf, size_t len);
int cfg_parse_size(const char *s, int64_t *out);
int cfg_parse_bool(const char *s, bool *out);
/* The index of `s` among `names` (NULL-terminated; case ignored), or -1. */
int cfg_parse_enum(const char *const *names, const char *s);
/* "a, b, c": the names of an enum joined for a message; returns buf. */
const char *cfg_enum_list(const char *const *names, char *buf, size_t len);

#endif
