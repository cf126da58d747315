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
 * Durations (CFG_MS) take ms, s, m, h, d suffixes and default to ms; sizes (CFG_SIZE) take
 * k, m, g (binary) and default to bytes; booleans take true/false/yes/no/on/off/1/0; an enum
 * (CFG_ENUM) takes one of its names (any case) and stores its index.
 * Errors name the file and line, or the flag, and the accepted range or names.
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

/* The largest value a duration (in ms) or a size (in bytes) may have after its unit is applied:
 * well inside int64_t, and below 2^53, so the double it is computed in is exact to the unit. */
#define CFG_VALUE_MAX 9e15

/* Value parsers, exposed for tests and callers with their own fields. The duration and size
 * parsers return 0, EF_EINVAL when the text is not such a value (no number, an unknown unit, a
 * negative number, nan), or EF_ETOOBIG when it is larger than CFG_VALUE_MAX once the unit is
 * applied (inf, 1e400, 1e300d); *out is only written on success. */
int cfg_parse_duration_ms(const char *s, int64_t *out);
int cfg_parse_size(const char *s, int64_t *out);
int cfg_parse_bool(const char *s, bool *out);
/* The index of `s` among `names` (NULL-terminated; case ignored), or -1. */
int cfg_parse_enum(const char *const *names, const char *s);
/* "a, b, c": the names of an enum joined for a message; returns buf. */
const char *cfg_enum_list(const char *const *names, char *buf, size_t len);

#endif
