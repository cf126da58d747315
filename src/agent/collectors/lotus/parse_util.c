/* SPDX-License-Identifier: MIT */
/* parse_util.c -- the line walker and text helpers every lotus parser shares: colour stripping,
 * CRLF, error collection, tabwriter column slicing, and JSON strings that are always valid UTF-8
 * whatever bytes came in. */
#include "lotus_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lotus_units.h"
#include "mem.h"

void lotus_ctx_init(struct lotus_ctx *c) {
  memset(c, 0, sizeof *c);
  c->root = json_object();
}

json_t *lotus_finish(struct lotus_ctx *c) {
  json_t *root = c->root;
  if (c->errors) {
    json_object_set_new(root, "errors", c->errors);
    json_object_set_new(root, "errorCount", json_integer(c->nerrors));
  }
  c->root = NULL;
  c->errors = NULL;
  return root;
}

void lotus_error(struct lotus_ctx *c, const char *fmt, ...) {
  c->nerrors++;
  if (c->nerrors > LOTUS_MAX_ERRORS) return;
  char msg[256];
  int w = snprintf(msg, sizeof msg, "line %u: ", c->lineno);
  if (w < 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + w, sizeof msg - (size_t)w, fmt, ap);
  va_end(ap);
  if (!c->errors) c->errors = json_array();
  json_array_append_new(c->errors, lotus_jstr(msg, strlen(msg)));
}

void lotus_unrecognised(struct lotus_ctx *c, const char *s, size_t n) {
  lotus_trim(&s, &n);
  if (n > 100) {
    lotus_error(c, "unrecognised line: %.100s...", s);
  } else {
    lotus_error(c, "unrecognised line: %.*s", (int)n, s);
  }
}

size_t lotus_strip_ansi(char *s, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '\x1b') {
      s[o++] = s[i];
      continue;
    }
    if (i + 1 < n && s[i + 1] == '[') { /* CSI: params 0x30-0x3f, intermediates, final 0x40-0x7e */
      size_t j = i + 2;
      while (j < n && (unsigned char)s[j] >= 0x20 && (unsigned char)s[j] <= 0x3f) j++;
      if (j < n && (unsigned char)s[j] >= 0x40 && (unsigned char)s[j] <= 0x7e) {
        i = j;
      } else {
        i = j - 1; /* malformed or cut: drop what was read */
      }
    }
    /* a lone ESC is dropped */
  }
  return o;
}

void lotus_each_line(struct lotus_ctx *c, const char *buf, size_t len, lotus_line_fn fn,
                     void *ud) {
  if (!buf) return;
  char *line = ef_malloc(LOTUS_MAX_LINE + 1);
  size_t pos = 0;
  c->lineno = 0;
  while (pos < len) {
    const char *nl = memchr(buf + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - buf) : len;
    size_t n = end - pos;
    c->lineno++;
    if (n > LOTUS_MAX_LINE) {
      lotus_error(c, "line too long (%zu bytes), skipped", n);
    } else {
      memcpy(line, buf + pos, n);
      for (size_t i = 0; i < n; i++)
        if (line[i] == '\0') line[i] = '?';
      n = lotus_strip_ansi(line, n);
      while (n && line[n - 1] == '\r') n--;
      line[n] = '\0';
      unsigned indent = 0;
      for (size_t i = 0; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
        indent = line[i] == '\t' ? (indent / 8 + 1) * 8 : indent + 1;
      struct lotus_line l = {line, n, indent};
      fn(c, &l, ud);
    }
    pos = nl ? end + 1 : len;
  }
  ef_free(line);
}

/* Length of the valid UTF-8 character at s (1..4), or 0 when invalid. */
static size_t utf8_char(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (n < len) return 0;
  if (s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xbf) return 0;
  return len;
}

/* Sanitised copy of s[0..n) into out (cap >= LOTUS_MAX_VALUE + 1); returns its length. */
static size_t sanitise(const char *s, size_t n, char *out) {
  const unsigned char *u = (const unsigned char *)s;
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    size_t k = utf8_char(u + i, n - i);
    if (o + (k ? k : 1) > LOTUS_MAX_VALUE) break;
    if (k == 0) {
      out[o++] = '?';
      i++;
    } else if (k == 1) {
      unsigned char ch = u[i++];
      out[o++] = ch == '\t' ? ' ' : (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    } else {
      memcpy(out + o, s + i, k);
      o += k;
      i += k;
    }
  }
  out[o] = '\0';
  return o;
}

json_t *lotus_jstr(const char *s, size_t n) {
  char buf[LOTUS_MAX_VALUE + 1];
  size_t o = s ? sanitise(s, n, buf) : 0;
  json_t *v = json_stringn(buf, o);
  return v ? v : json_string("");
}

void lotus_set(json_t *obj, const char *key, size_t keylen, json_t *value) {
  char k[LOTUS_MAX_VALUE + 1];
  sanitise(key, keylen, k);
  json_object_set_new(obj, k, value);
}

void lotus_set_str(json_t *obj, const char *key, const char *s, size_t n) {
  json_object_set_new(obj, key, lotus_jstr(s, n));
}

bool lotus_blank(char c) { return c == ' ' || c == '\t'; }

void lotus_trim(const char **s, size_t *n) {
  while (*n && lotus_blank(**s)) (*s)++, (*n)--;
  while (*n && lotus_blank((*s)[*n - 1])) (*n)--;
}

bool lotus_prefix(const char *s, size_t n, const char *p) {
  size_t pn = strlen(p);
  return n >= pn && memcmp(s, p, pn) == 0;
}

bool lotus_uint(const char *s, size_t n, uint64_t *out) {
  if (n == 0 || n > 20) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t d = (uint64_t)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool lotus_number(const char *s, size_t n, double *out) {
  if (n == 0 || n > 40) return false;
  size_t i = 0, digits = 0;
  if (s[i] == '-') i++;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) digits++;
  if (i < n && s[i] == '.')
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) digits++;
  if (i != n || digits == 0) return false;
  char buf[48];
  memcpy(buf, s, n);
  buf[n] = '\0';
  *out = strtod(buf, NULL);
  return true;
}

unsigned lotus_cols_from_header(struct lotus_cols *cols, const char *s, size_t n) {
  memset(cols, 0, sizeof *cols);
  size_t i = 0;
  while (i < n && cols->n < LOTUS_MAX_COLS) {
    while (i < n && lotus_blank(s[i])) i++;
    if (i >= n) break;
    size_t start = i;
    /* a cell ends at two blanks in a row (or a tab), or at the end */
    while (i < n && !(s[i] == '\t' || (s[i] == ' ' && (i + 1 >= n || lotus_blank(s[i + 1])))))
      i++;
    size_t len = i - start;
    if (len >= sizeof cols->name[0]) len = sizeof cols->name[0] - 1;
    cols->at[cols->n] = start;
    memcpy(cols->name[cols->n], s + start, len);
    cols->name[cols->n][len] = '\0';
    cols->n++;
  }
  return cols->n;
}

bool lotus_cols_slice(const struct lotus_cols *cols, const char *s, size_t n,
                      const char *cell[], size_t celln[]) {
  for (unsigned i = 0; i < cols->n; i++) {
    size_t a = cols->at[i];
    size_t b = i + 1 < cols->n ? cols->at[i + 1] : n;
    if (i > 0 && a < n && a > 0 && !lotus_blank(s[a - 1])) return false;
    if (a > n) a = n;
    if (b > n) b = n;
    if (b < a) b = a;
    cell[i] = s + a;
    celln[i] = b - a;
    lotus_trim(&cell[i], &celln[i]);
  }
  return true;
}

unsigned lotus_split_ws(const char *s, size_t n, const char *tok[], size_t tokn[], unsigned max) {
  unsigned k = 0;
  size_t i = 0;
  while (i < n) {
    while (i < n && lotus_blank(s[i])) i++;
    if (i >= n) break;
    size_t start = i;
    while (i < n && !lotus_blank(s[i])) i++;
    if (k == max) return max + 1;
    tok[k] = s + start;
    tokn[k] = i - start;
    k++;
  }
  return k;
}

bool lotus_set_fil(json_t *obj, const char *key, const char *s, size_t n, bool short_era) {
  lotus_trim(&s, &n);
  lotus_set_str(obj, key, s, n);
  char atto[EF_LOTUS_ATTO_MAX];
  bool maybe_rounded = false;
  if (ef_lotus_fil_to_atto(s, n, atto, sizeof atto, &maybe_rounded) != 0) return false;
  char k[80];
  snprintf(k, sizeof k, "%sAtto", key);
  json_object_set_new(obj, k, json_string(atto));
  snprintf(k, sizeof k, "%sExact", key);
  json_object_set_new(obj, k, json_boolean(!(short_era && maybe_rounded)));
  return true;
}

bool lotus_set_size_str(json_t *obj, const char *key, const char *s, size_t n) {
  lotus_trim(&s, &n);
  lotus_set_str(obj, key, s, n);
  char bytes[48];
  if (ef_lotus_size_to_bytes(s, n, bytes, sizeof bytes) != 0) return false;
  char k[80];
  snprintf(k, sizeof k, "%sBytes", key);
  json_object_set_new(obj, k, json_string(bytes));
  return true;
}

bool lotus_set_duration(json_t *obj, const char *key, const char *s, size_t n) {
  lotus_trim(&s, &n);
  lotus_set_str(obj, key, s, n);
  int64_t ns;
  if (ef_lotus_duration_parse(s, n, &ns) != 0) return false;
  char k[80];
  snprintf(k, sizeof k, "%sSeconds", key);
  json_object_set_new(obj, k, json_real((double)ns / 1e9));
  return true;
}
