/* SPDX-License-Identifier: MIT */
/* out.c -- edgefleetctl's output: --json as the server's data, or human text: aligned tables for
 * lists and flattened "key  value" lines for one object. Text from the server is shown with its
 * control characters blanked, so that a device name cannot move the terminal's cursor. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "jsonutil.h"
#include "mem.h"

int cli_out(struct cli *c, json_t *data, void (*show)(json_t *data)) {
  if (c->o.json) {
    json_dumpf(data, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    fputc('\n', stdout);
  } else {
    show(data);
  }
  json_decref(data);
  return CLI_OK;
}

int cli_usage_error(struct cli *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("edgefleetctl: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  if (c->cmd) cli_print_usage(c->cmd, stderr);
  return CLI_USAGE;
}

const json_t *out_path(const json_t *obj, const char *path) {
  char key[128];
  while (obj && *path) {
    size_t n = strcspn(path, ".");
    if (n >= sizeof key) return NULL;
    memcpy(key, path, n);
    key[n] = '\0';
    obj = json_object_get(obj, key);
    path += n + (path[n] == '.');
  }
  return obj;
}

static void blank_controls(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = ' ';
}

char *out_text(const json_t *v, enum col_fmt fmt) {
  char *s;
  if (fmt == COL_COUNT && (json_is_array(v) || json_is_object(v)))
    return ef_asprintf("%zu", json_is_array(v) ? json_array_size(v) : json_object_size(v));
  switch (v ? json_typeof(v) : JSON_NULL) {
  case JSON_STRING: s = ef_strndup(json_string_value(v), json_string_length(v)); break;
  case JSON_INTEGER:
    if (fmt == COL_TIME) {
      json_int_t ms = json_integer_value(v);
      time_t t = (time_t)(ms / 1000);
      struct tm tm;
      char buf[64];
      if (ms > 0 && localtime_r(&t, &tm) && strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm))
        return ef_strdup(buf);
    }
    return ef_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
  case JSON_REAL: return ef_asprintf("%g", json_real_value(v));
  case JSON_TRUE: return ef_strdup("true");
  case JSON_FALSE: return ef_strdup("false");
  case JSON_NULL: return ef_strdup("-");
  default: s = jdump(v); break;
  }
  blank_controls(s);
  return s;
}

/* Characters on screen: UTF-8 lead bytes. */
static size_t width(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xc0) != 0x80) n++;
  return n;
}

static void pad(size_t n) {
  while (n--) fputc(' ', stdout);
}

static char *cell(const json_t *row, const struct col *col) {
  char *a = out_text(out_path(row, col->path), col->fmt);
  if (!col->path2) return a;
  char *b = out_text(out_path(row, col->path2), col->fmt);
  char *ab = ef_asprintf("%s/%s", a, b);
  ef_free(a);
  ef_free(b);
  return ab;
}

void out_table(const json_t *arr, const struct col *cols) {
  size_t ncol = 0, nrow = json_array_size(arr) + 1;
  while (cols[ncol].title) ncol++;
  char **cells = ef_calloc(nrow * ncol, sizeof *cells);
  size_t *w = ef_calloc(ncol, sizeof *w);
  for (size_t r = 0; r < nrow; r++)
    for (size_t k = 0; k < ncol; k++) {
      char **cp = &cells[r * ncol + k];
      *cp = r == 0 ? ef_strdup(cols[k].title) : cell(json_array_get(arr, r - 1), &cols[k]);
      size_t cw = width(*cp);
      if (cw > w[k]) w[k] = cw;
    }
  for (size_t r = 0; r < nrow; r++) {
    for (size_t k = 0; k < ncol; k++) {
      const char *s = cells[r * ncol + k];
      fputs(s, stdout);
      if (k + 1 < ncol) pad(w[k] - width(s) + 2);
      ef_free(cells[r * ncol + k]);
    }
    fputc('\n', stdout);
  }
  ef_free(w);
  ef_free(cells);
}

/* Flatten `v` into (key, text) pairs: objects by ".member", arrays by "[i]". */
static void flatten(const json_t *v, const char *prefix, json_t *out) {
  if (json_is_object(v) && json_object_size(v)) {
    const char *k;
    const json_t *m;
    json_object_foreach((json_t *)v, k, m) {
      char *key = *prefix ? ef_asprintf("%s.%s", prefix, k) : ef_strdup(k);
      flatten(m, key, out);
      ef_free(key);
    }
  } else if (json_is_array(v) && json_array_size(v)) {
    for (size_t i = 0; i < json_array_size(v); i++) {
      char *key = ef_asprintf("%s[%zu]", prefix, i);
      flatten(json_array_get(v, i), key, out);
      ef_free(key);
    }
  } else {
    size_t n = strlen(prefix);
    bool is_time = (n > 5 && strcmp(prefix + n - 5, "_time") == 0) ||
                   (n > 4 && strcmp(prefix + n - 4, "Time") == 0);
    char *text = out_text(v, is_time ? COL_TIME : COL_TEXT);
    json_array_append_new(out, json_pack("[s,s]", *prefix ? prefix : "value", text));
    ef_free(text);
  }
}

void out_ok(json_t *data) {
  (void)data;
  puts("ok");
}

void out_kv(json_t *obj) {
  json_t *pairs = json_array();
  flatten(obj, "", pairs);
  size_t w = 0;
  for (size_t i = 0; i < json_array_size(pairs); i++) {
    size_t kw = width(json_string_value(json_array_get(json_array_get(pairs, i), 0)));
    if (kw > w) w = kw;
  }
  for (size_t i = 0; i < json_array_size(pairs); i++) {
    const json_t *p = json_array_get(pairs, i);
    const char *k = json_string_value(json_array_get(p, 0));
    char *kc = ef_strdup(k);
    blank_controls(kc);
    fputs(kc, stdout);
    pad(w - width(kc) + 2);
    puts(json_string_value(json_array_get(p, 1)));
    ef_free(kc);
  }
  json_decref(pairs);
}
