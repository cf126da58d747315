/* SPDX-License-Identifier: MIT */
/* lotus_provecheck.c -- reading `lotus-miner proving check --only-bad` and the two lines of
 * `proving info` the check's schedule needs (lotus_provecheck.h). The collector decides when to
 * run them (lotus_collector.c).
 */
#include "lotus_provecheck.h"

#include <stdlib.h>
#include <string.h>

#include "lotus_units.h"

/* The next blank-separated word of [*p, end), or false. */
static bool word(const char **p, const char *end, const char **ws, size_t *wl) {
  const char *s = *p;
  while (s < end && (*s == ' ' || *s == '\t')) s++;
  const char *e = s;
  while (e < end && *e != ' ' && *e != '\t') e++;
  *p = e;
  *ws = s;
  *wl = (size_t)(e - s);
  return e > s;
}

static bool number(const char *s, size_t n, unsigned long long *v) {
  if (!n || n > 19) return false;
  unsigned long long x = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    x = x * 10 + (unsigned)(s[i] - '0');
  }
  *v = x;
  return true;
}

json_t *lotus_provecheck_parse(const char *buf, size_t len) {
  json_t *bad = json_array();
  size_t count = 0;
  const char *p = buf, *end = buf + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    const char *q = p, *ws;
    size_t wl;
    unsigned long long v[3];
    int k = 0;
    while (k < 3 && word(&q, le, &ws, &wl) && number(ws, wl, &v[k])) k++;
    if (k == 3) {
      if (count < LOTUS_BAD_MAX) json_array_append_new(bad, json_integer((json_int_t)v[2]));
      count++;
    }
    p = nl ? nl + 1 : end;
  }
  json_t *out = json_pack("{s:o, s:I}", "badSectors", bad, "bad", (json_int_t)count);
  if (count > LOTUS_BAD_MAX) json_object_set_new(out, "badTruncated", json_true());
  return out;
}

bool lotus_provecheck_info(const char *buf, size_t len, int *index, int64_t *close_in_ms) {
  bool have_index = false, have_close = false;
  const char *p = buf, *end = buf + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    size_t n = (size_t)(le - p);
    if (n > 15 && strncmp(p, "Deadline Index:", 15) == 0) {
      const char *q = p + 15, *ws;
      size_t wl;
      unsigned long long v;
      if (word(&q, le, &ws, &wl) && number(ws, wl, &v) && v < LOTUS_DEADLINES) {
        *index = (int)v;
        have_index = true;
      }
    } else if (n > 15 && strncmp(p, "Deadline Close:", 15) == 0) {
      const char *in = memmem(p, n, "(in ", 4);
      const char *cl = in ? memchr(in, ')', (size_t)(le - in)) : NULL;
      int64_t ns;
      if (in && cl && ef_lotus_duration_parse(in + 4, (size_t)(cl - in - 4), &ns) == 0) {
        *close_in_ms = ns / 1000000;
        have_close = true;
      }
    }
    p = nl ? nl + 1 : end;
  }
  return have_index && have_close;
}
