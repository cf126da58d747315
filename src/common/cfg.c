/* SPDX-License-Identifier: MIT */
/* cfg.c -- the config-table parser (see cfg.h). */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "edgefleet/error.h"
#include "edgefleet/version.h"
#include "mem.h"

static void normalize_key(char *k) {
  for (; *k; k++)
    if (*k == '-') *k = '_';
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

/* The number at the start of s, for the unit parsers: *end is past it. EF_EINVAL unless it is a
 * non-negative number; nan and "-nan" are not numbers, and an underflow ("1e-400") is refused as
 * it always was. EF_ETOOBIG for inf and for what overflows a double ("1e400"). */
static int parse_number(const char *s, double *v, char **end) {
  errno = 0;
  *v = strtod(s, end);
  if (*end == s || isnan(*v) || *v < 0) return EF_EINVAL;
  if (isinf(*v)) return EF_ETOOBIG; /* "inf", "infinity", or an overflow (ERANGE, HUGE_VAL) */
  if (errno) return EF_EINVAL;      /* an underflow */
  return 0;
}

/* v (already in the unit of the field) as an int64_t, rounded as `round` says, once it is known
 * to fit: a double outside int64_t's range (and nan) is undefined behaviour to convert. */
static int to_int64(double v, bool round, int64_t *out) {
  if (!(v >= 0 && v <= CFG_VALUE_MAX)) return EF_ETOOBIG;
  *out = (int64_t)(round ? v + 0.5 : v);
  return 0;
}

int cfg_parse_duration_ms(const char *s, int64_t *out) {
  char *end;
  double v;
  int rc = parse_number(s, &v, &end);
  if (rc) return rc;
  double mul = 1000; /* a bare number is seconds, as nginx, systemd and Zabbix read it */
  if (*end == '\0' || strcmp(end, "s") == 0) mul = 1000;
  else if (strcmp(end, "ms") == 0) mul = 1;
  else if (strcmp(end, "m") == 0) mul = 60e3;
  else if (strcmp(end, "h") == 0) mul = 3600e3;
  else if (strcmp(end, "d") == 0) mul = 86400e3;
  else return EF_EINVAL;
  return to_int64(v * mul, true, out);
}

const char *cfg_format_seconds(int64_t ms, char *buf, size_t len) {
  if (ms % 1000 == 0) {
    snprintf(buf, len, "%lld s", (long long)(ms / 1000));
    return buf;
  }
  snprintf(buf, len, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
  char *e = buf + strlen(buf);
  while (e > buf && e[-1] == '0') *--e = '\0';
  snprintf(e, len - (size_t)(e - buf), " s");
  return buf;
}

/* A duration written as a bare number ("10000"), without a unit. */
static bool bare_number(const char *s) {
  char *end;
  double v;
  return parse_number(s, &v, &end) == 0 && *end == '\0';
}

/* "key: VALUE is out of range [MIN, MAX]" for a duration, in seconds. A bare number that would be
 * in range as milliseconds -- what a bare number meant before it meant seconds -- says so. */
static void duration_range_error(const struct cfg_opt *o, const char *key, const char *value,
                                 bool parsed, char *err, size_t errlen) {
  char lo[48], hi[48];
  cfg_format_seconds(o->min, lo, sizeof lo);
  cfg_format_seconds(o->max, hi, sizeof hi);
  bool bare = bare_number(value);
  int n = snprintf(err, errlen, parsed && bare ? "%s: %s s is out of range [%s, %s]"
                                : parsed ? "%s: %s is out of range [%s, %s]"
                                         : "%s: '%s' is out of range [%s, %s]",
                   key, value, lo, hi);
  if (!bare || n < 0 || (size_t)n >= errlen) return;
  double ms = strtod(value, NULL);
  if (ms >= (double)o->min && ms <= (double)o->max)
    snprintf(err + n, errlen - (size_t)n, "; did you mean %sms?", value);
}

int cfg_parse_size(const char *s, int64_t *out) {
  char *end;
  double v;
  int rc = parse_number(s, &v, &end);
  if (rc) return rc;
  double mul = 1;
  switch (tolower((unsigned char)*end)) {
  case '\0': break;
  case 'k': mul = 1024.0; end++; break;
  case 'm': mul = 1024.0 * 1024; end++; break;
  case 'g': mul = 1024.0 * 1024 * 1024; end++; break;
  default: return EF_EINVAL;
  }
  if (*end == 'b' || *end == 'B') end++;
  if (*end) return EF_EINVAL;
  return to_int64(v * mul, false, out);
}

int cfg_parse_bool(const char *s, bool *out) {
  static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
  for (int i = 0; i < 4; i++) {
    if (strcasecmp(s, yes[i]) == 0) return *out = true, 0;
    if (strcasecmp(s, no[i]) == 0) return *out = false, 0;
  }
  return EF_EINVAL;
}

int cfg_parse_enum(const char *const *names, const char *s) {
  for (int i = 0; names && names[i]; i++)
    if (strcasecmp(s, names[i]) == 0) return i;
  return -1;
}

const char *cfg_enum_list(const char *const *names, char *buf, size_t len) {
  size_t n = 0;
  buf[0] = '\0';
  for (int i = 0; names && names[i] && n < len; i++) {
    int w = snprintf(buf + n, len - n, "%s%s", i ? ", " : "", names[i]);
    if (w < 0) break;
    n += (size_t)w;
  }
  return buf;
}

static int parse_int(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end == s || *end) return EF_EINVAL;
  if (errno == ERANGE) return EF_ETOOBIG;
  if (errno) return EF_EINVAL;
  *out = v;
  return 0;
}

int cfg_table_defaults(const struct cfg_opt *opts, void *conf) {
  char err[256];
  for (const struct cfg_opt *o = opts; o->name; o++) {
    if (o->type == CFG_STR) *(char **)((char *)conf + o->offset) = NULL;
    if (o->def && cfg_table_set(opts, conf, o->name, o->def, err, sizeof err) != 0) return EF_ECONFIG;
  }
  return 0;
}

int cfg_table_set(const struct cfg_opt *opts, void *conf, const char *key, const char *value,
                  char *err, size_t errlen) {
  const struct cfg_opt *o = opts;
  for (; o->name; o++)
    if (strcmp(o->name, key) == 0) break;
  if (!o->name) return EF_ENOENT;

  void *field = (char *)conf + o->offset;
  int64_t v = 0;
  int rc = 0;
  switch (o->type) {
  case CFG_STR:
    ef_free(*(char **)field);
    *(char **)field = ef_strdup(value);
    return 0;
  case CFG_BOOL:
    if (cfg_parse_bool(value, (bool *)field) != 0) {
      snprintf(err, errlen, "%s: '%s' is not a boolean (true/false)", key, value);
      return EF_ECONFIG;
    }
    return 0;
  case CFG_ENUM: {
    int i = cfg_parse_enum(o->names, value);
    if (i < 0) {
      char list[256];
      snprintf(err, errlen, "%s: '%s' is not one of %s", key, value,
               cfg_enum_list(o->names, list, sizeof list));
      return EF_ECONFIG;
    }
    *(int64_t *)field = i;
    return 0;
  }
  case CFG_INT: rc = parse_int(value, &v); break;
  case CFG_MS: rc = cfg_parse_duration_ms(value, &v); break;
  case CFG_SIZE: rc = cfg_parse_size(value, &v); break;
  }
  if (rc == EF_ETOOBIG && o->type == CFG_MS) {
    duration_range_error(o, key, value, false, err, errlen);
    return EF_ECONFIG;
  }
  if (rc == EF_ETOOBIG) {
    snprintf(err, errlen, "%s: '%s' is out of range [%lld, %lld]", key, value,
             (long long)o->min, (long long)o->max);
    return EF_ECONFIG;
  }
  if (rc != 0) {
    static const char *what[] = {"", "an integer", "a duration (e.g. 500ms, 7.5s)",
                                 "a size (e.g. 64k)", "", ""};
    snprintf(err, errlen, "%s: '%s' is not %s", key, value, what[o->type]);
    return EF_ECONFIG;
  }
  if ((v < o->min || v > o->max) && o->type == CFG_MS) {
    duration_range_error(o, key, value, true, err, errlen);
    return EF_ECONFIG;
  }
  if (v < o->min || v > o->max) {
    snprintf(err, errlen, "%s: %s is out of range [%lld, %lld]", key, value,
             (long long)o->min, (long long)o->max);
    return EF_ECONFIG;
  }
  *(int64_t *)field = v;
  return 0;
}

void cfg_table_free(const struct cfg_opt *opts, void *conf) {
  for (const struct cfg_opt *o = opts; o->name; o++)
    if (o->type == CFG_STR) {
      char **f = (char **)((char *)conf + o->offset);
      ef_free(*f);
      *f = NULL;
    }
}

void cfg_usage_line(FILE *out, const char *name, const char *def, const char *help) {
  char flag[64];
  snprintf(flag, sizeof flag, "--%s", name);
  for (char *p = flag + 2; *p; p++)
    if (*p == '_') *p = '-';
  fprintf(out, "  %-28s %s%s%s%s\n", flag, help, def ? " [" : "", def ? def : "", def ? "]" : "");
}

void cfg_table_usage(const struct cfg_opt *opts, FILE *out) {
  for (const struct cfg_opt *o = opts; o->name; o++) {
    if (o->type != CFG_ENUM) {
      cfg_usage_line(out, o->name, o->def, o->help);
      continue;
    }
    /* The accepted names come from the row, so that --help cannot miss one. */
    char list[256], help[512];
    snprintf(help, sizeof help, "%s: %s", o->help, cfg_enum_list(o->names, list, sizeof list));
    cfg_usage_line(out, o->name, o->def, help);
  }
}

/* ----- man pages (roff) ----- */

/* text with roff's escape character doubled and every '-' a minus sign (so that options and
 * paths copied from the page are what was written) */
void cfg_man_escaped(FILE *out, const char *text) {
  for (const char *p = text; *p; p++) {
    if (*p == '\\') fputs("\\e", out);
    else if (*p == '-') fputs("\\-", out);
    else fputc(*p, out);
  }
}

void cfg_man_text(FILE *out, const char *text) {
  if (*text == '.' || *text == '\'') fputs("\\&", out);
  cfg_man_escaped(out, text);
  fputc('\n', out);
}

void cfg_man_item(FILE *out, const char *name, const char *def, const char *help, bool file) {
  char flag[128];
  snprintf(flag, sizeof flag, "%s%s", file ? "" : "--", name);
  for (char *p = flag; *p && !file; p++)
    if (*p == '_') *p = '-';
  fputs(".TP\n\\fB", out);
  cfg_man_escaped(out, flag);
  fputs(file ? "\\fR = \\fIVALUE\\fR\n" : "\\fR \\fIVALUE\\fR\n", out);
  char text[1024];
  snprintf(text, sizeof text, "%s%s%s%s", help, def ? " [default: " : "", def ? def : "",
           def ? "]" : "");
  cfg_man_text(out, text);
}

void cfg_table_man(const struct cfg_opt *opts, FILE *out, bool file) {
  for (const struct cfg_opt *o = opts; o->name; o++) {
    if (o->type != CFG_ENUM) {
      cfg_man_item(out, o->name, o->def, o->help, file);
      continue;
    }
    char list[256], help[512];
    snprintf(help, sizeof help, "%s: %s", o->help, cfg_enum_list(o->names, list, sizeof list));
    cfg_man_item(out, o->name, o->def, help, file);
  }
}

void cfg_man_units(FILE *out) {
  cfg_man_block(out,
    ".SH UNITS\n"
    "Durations take the suffixes ms, s, m, h and d; a bare number is seconds (10 is ten seconds, "
    "10ms ten milliseconds). A bare number that is out of an option's range but would be in range "
    "as milliseconds is refused with a hint (\"did you mean 10000ms?\"): a bare number once meant "
    "milliseconds.\n"
    "Sizes take k, m and g (binary: 64k is 65536 bytes); a bare number is bytes.\n"
    "Booleans take true, false, yes, no, on, off, 1, 0.\n");
}

void cfg_man_block(FILE *out, const char *roff) {
  while (*roff) {
    size_t n = strcspn(roff, "\n");
    char line[1024];
    snprintf(line, sizeof line, "%.*s", (int)n, roff);
    if (line[0] == '.') { /* a request: its name as written, '-' in its arguments a minus */
      size_t r = strcspn(line, " ");
      fprintf(out, "%.*s", (int)r, line);
      for (const char *p = line + r; *p; p++)
        if (*p == '-') fputs("\\-", out);
        else fputc(*p, out);
      fputc('\n', out);
    } else {
      cfg_man_text(out, line);
    }
    roff += n + (roff[n] == '\n');
  }
}

void cfg_man_header(FILE *out, const char *name, int section, const char *title,
                    const char *summary) {
  fputs(".\\\" Generated from the program's option table (src/common/cfg.c, cfg_table_man).\n"
        ".TH ", out);
  for (const char *p = name; *p; p++) fputc(toupper((unsigned char)*p), out);
  fprintf(out, " %d \"\" \"edgefleet %s\" \"%s\"\n.SH NAME\n", section, EF_VERSION_STRING,
          title);
  cfg_man_escaped(out, name);
  fputs(" \\- ", out);
  cfg_man_text(out, summary);
}

/* Every line of f, as cfg_parse_file() and cfg_parse_mem() describe; `name` is for messages. */
static int parse_stream(FILE *f, const char *name, cfg_set_fn set, void *ud, char *err,
                        size_t errlen) {
  char *line = NULL, msg[512];
  size_t cap = 0;
  ssize_t len;
  int lineno = 0, rc = 0;
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
    if (len > CFG_LINE_MAX) { /* refused whole, rather than read as two lines */
      snprintf(err, errlen, "%s:%d: line longer than %d characters", name, lineno, CFG_LINE_MAX);
      rc = EF_ECONFIG;
      break;
    }
    /* A NUL byte ends the line's text; what follows it on the line is ignored. */
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *s = trim(line);
    if (!*s) continue;
    size_t klen = strcspn(s, "= \t");
    char *val = s + klen;
    if (*val) *val++ = '\0';
    val = trim(val);
    if (*val == '=') val = trim(val + 1);
    normalize_key(s);
    msg[0] = '\0';
    rc = set(ud, s, val, msg, sizeof msg);
    if (rc == EF_ENOENT) snprintf(msg, sizeof msg, "unknown option '%s'", s);
    if (rc != 0) {
      snprintf(err, errlen, "%s:%d: %s", name, lineno, msg);
      rc = EF_ECONFIG;
      break;
    }
  }
  free(line);
  return rc;
}

int cfg_parse_file(const char *path, cfg_set_fn set, void *ud, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return EF_ECONFIG;
  }
  int rc = parse_stream(f, path, set, ud, err, errlen);
  fclose(f);
  return rc;
}

int cfg_parse_mem(const char *name, const char *text, size_t len, cfg_set_fn set, void *ud,
                  char *err, size_t errlen) {
  if (len == 0) return 0;
  FILE *f = fmemopen((void *)text, len, "r");
  if (!f) {
    snprintf(err, errlen, "%s: %s", name, strerror(errno));
    return EF_ECONFIG;
  }
  int rc = parse_stream(f, name, set, ud, err, errlen);
  fclose(f);
  return rc;
}

int cfg_parse_args(int argc, char **argv, int first, cfg_set_fn set, void *ud, char *err,
                   size_t errlen) {
  char key[128], msg[512];
  for (int i = first; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0 || !a[2]) {
      snprintf(err, errlen, "unexpected argument '%s'", a);
      return EF_ECONFIG;
    }
    const char *eq = strchr(a, '=');
    size_t klen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    if (klen >= sizeof key) klen = sizeof key - 1;
    memcpy(key, a + 2, klen);
    key[klen] = '\0';
    normalize_key(key);
    const char *val = eq ? eq + 1 : NULL;
    if (!val) {
      if (i + 1 >= argc) {
        snprintf(err, errlen, "--%s needs a value", a + 2);
        return EF_ECONFIG;
      }
      val = argv[++i];
    }
    if (strcmp(key, "config") == 0) continue; /* read first, by the caller */
    msg[0] = '\0';
    int rc = set(ud, key, val, msg, sizeof msg);
    if (rc == EF_ENOENT) snprintf(msg, sizeof msg, "unknown option --%s", a + 2);
    if (rc != 0) {
      /* "key: why" from the table reads "--key: why" here, as the flag was written */
      size_t kl = strlen(key);
      if (strncmp(msg, key, kl) == 0 && msg[kl] == ':') {
        char flag[sizeof key];
        snprintf(flag, sizeof flag, "%s", key);
        for (char *p = flag; *p; p++)
          if (*p == '_') *p = '-';
        snprintf(err, errlen, "--%s%s", flag, msg + kl);
      } else {
        snprintf(err, errlen, "%s", msg);
      }
      return EF_ECONFIG;
    }
  }
  return 0;
}

const char *cfg_config_arg(int argc, char **argv, int first) {
  for (int i = first; i < argc; i++) {
    if (strncmp(argv[i], "--config=", 9) == 0) return argv[i] + 9;
    if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) return argv[i + 1];
  }
  return NULL;
}
