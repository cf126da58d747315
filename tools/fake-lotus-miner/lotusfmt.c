/* SPDX-License-Identifier: MIT */
/* lotusfmt.c -- lotus' value formatting and table layouts (see lotusfmt.h). The rules come from
 * docs/lotus.md (unit formats, `jobs`, `sectors`); numbers use C's %g, which matches Go's
 * %g for the precisions lotus uses (trailing zeros trimmed, "e+03" exponents). */
#include "lotusfmt.h"

#include <string.h>
#include <time.h>

#include "mem.h"

__extension__ typedef unsigned __int128 u128;

/* FIL.Short of a signed amount whose magnitude is `n` attoFIL. */
static char *fil_short(char *buf, int neg, u128 n) {
  static const char *const prefixes[] = {"a", "f", "p", "n", "\xce\xbc", "m"};
  if (n == 0)
    return strcpy(buf, "0");
  u128 dn = 1;
  const char *prefix = "";
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    if (n < dn * 1000) {
      prefix = prefixes[i];
      break;
    }
    dn *= 1000;
  }
  u128 q = n / dn, rem = n % dn;
  u128 frac = (rem * 1000 + dn / 2) / dn; /* big.Rat.FloatString(3): halves away from zero */
  if (frac == 1000) {
    q++;
    frac = 0;
  }
  char num[64];
  snprintf(num, sizeof num, "%s%llu.%03u", neg ? "-" : "", (unsigned long long)q, (unsigned)frac);
  size_t len = strlen(num);
  while (num[len - 1] == '0')
    num[--len] = '\0';
  if (num[len - 1] == '.')
    num[--len] = '\0';
  snprintf(buf, LFMT_LEN, "%s %sFIL", num, prefix);
  return buf;
}

char *lfmt_fil_short_nano(char *buf, int64_t nano) {
  u128 mag = nano < 0 ? (u128)(-(nano + 1)) + 1 : (u128)nano;
  return fil_short(buf, nano < 0, mag * 1000000000u);
}

char *lfmt_fil_short_atto(char *buf, int64_t atto) {
  u128 mag = atto < 0 ? (u128)(-(atto + 1)) + 1 : (u128)atto;
  return fil_short(buf, atto < 0, mag);
}

static char *scaled(char *buf, double v, const char *const *units, size_t nunits,
                    const char *fmt_prec, const char *sep) {
  size_t i = 0;
  while (v >= 1024 && i + 1 < nunits) {
    v /= 1024;
    i++;
  }
  char num[48];
  snprintf(num, sizeof num, fmt_prec, v);
  snprintf(buf, LFMT_LEN, "%s%s%s", num, sep, units[i]);
  return buf;
}

static const char *const byte_units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB"};

char *lfmt_size(char *buf, double bytes) {
  if (bytes == 0)
    return strcpy(buf, "0 B");
  return scaled(buf, bytes, byte_units, 8, "%.4g", " ");
}

char *lfmt_deci(char *buf, double v) {
  static const char *const units[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi"};
  if (v == 0)
    return strcpy(buf, "0 B");
  return scaled(buf, v, units, 8, "%.3g", " ");
}

char *lfmt_bytes_nospace(char *buf, double bytes) {
  return scaled(buf, bytes, byte_units, 8, "%.4g", "");
}

char *lfmt_duration(char *buf, int64_t ms) {
  char *p = buf;
  size_t left = LFMT_LEN;
  if (ms < 0) {
    *p++ = '-';
    left--;
    ms = -ms;
  }
  if (ms == 0) {
    snprintf(p, left, "0s");
    return buf;
  }
  if (ms < 1000) {
    snprintf(p, left, "%lldms", (long long)ms);
    return buf;
  }
  long long h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, f = ms % 1000;
  char sec[24];
  if (f == 0) {
    snprintf(sec, sizeof sec, "%lld", s);
  } else {
    snprintf(sec, sizeof sec, "%lld.%03lld", s, f);
    size_t len = strlen(sec);
    while (sec[len - 1] == '0')
      sec[--len] = '\0';
  }
  if (h > 0)
    snprintf(p, left, "%lldh%lldm%ss", h, m, sec);
  else if (m > 0)
    snprintf(p, left, "%lldm%ss", m, sec);
  else
    snprintf(p, left, "%ss", sec);
  return buf;
}

/* hako/durafmt's unit split, limited to the first two non-zero units. */
static void durafmt2(char *out, size_t len, int64_t secs) {
  int64_t days = secs / 86400;
  const int64_t v[] = {days / 365, days / 7 % 52, days % 365 % 7, secs / 3600 % 24, secs / 60 % 60,
                       secs % 60};
  static const char *const names[] = {"year", "week", "day", "hour", "minute", "second"};
  out[0] = '\0';
  int shown = 0;
  for (size_t i = 0; i < 6 && shown < 2; i++) {
    if (v[i] == 0)
      continue;
    size_t used = strlen(out);
    snprintf(out + used, len - used, "%s%lld %s%s", shown ? " " : "", (long long)v[i], names[i],
             v[i] == 1 ? "" : "s");
    shown++;
  }
}

char *lfmt_epoch_time(char *buf, int64_t cur, int64_t e) {
  char d[64];
  if (cur > e) {
    durafmt2(d, sizeof d, (cur - e) * 30);
    snprintf(buf, LFMT_LEN, "%lld (%s ago)", (long long)e, d);
  } else if (cur == e) {
    snprintf(buf, LFMT_LEN, "%lld (now)", (long long)e);
  } else {
    durafmt2(d, sizeof d, (e - cur) * 30);
    snprintf(buf, LFMT_LEN, "%lld (in %s)", (long long)e, d);
  }
  return buf;
}

char *lfmt_go_time(char *buf, int64_t ms) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, LFMT_LEN, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}

/* ----- tables ----- */

struct lfmt_table {
  int ncols, nrows, cap;
  char **cells; /* nrows * ncols */
};

struct lfmt_table *lfmt_table_new(int ncols) {
  struct lfmt_table *t = ef_calloc(1, sizeof *t);
  t->ncols = ncols;
  return t;
}

void lfmt_table_row(struct lfmt_table *t, const char *const *cells) {
  if (t->nrows == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 16;
    t->cells = ef_realloc(t->cells, (size_t)t->cap * (size_t)t->ncols * sizeof *t->cells);
  }
  for (int c = 0; c < t->ncols; c++)
    t->cells[t->nrows * t->ncols + c] = ef_strdup(cells[c] ? cells[c] : "");
  t->nrows++;
}

/* Display width: UTF-8 code points, as Go counts them. */
static int width(const char *s) {
  int n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

static void table_free(struct lfmt_table **tp) {
  struct lfmt_table *t = *tp;
  for (int i = 0; i < t->nrows * t->ncols; i++)
    ef_free(t->cells[i]);
  ef_free(t->cells);
  ef_free(t);
  *tp = NULL;
}

static void pad(FILE *out, int n) {
  for (int i = 0; i < n; i++)
    fputc(' ', out);
}

void lfmt_table_flush_tabwriter(struct lfmt_table **tp, FILE *out) {
  struct lfmt_table *t = *tp;
  int *w = ef_calloc((size_t)t->ncols, sizeof *w);
  for (int r = 0; r < t->nrows; r++)
    for (int c = 0; c < t->ncols; c++) {
      int cw = width(t->cells[r * t->ncols + c]) + 2;
      if (cw < 2)
        cw = 2;
      if (cw > w[c])
        w[c] = cw;
    }
  for (int r = 0; r < t->nrows; r++) {
    for (int c = 0; c < t->ncols; c++) {
      const char *cell = t->cells[r * t->ncols + c];
      fputs(cell, out);
      if (c + 1 < t->ncols)
        pad(out, w[c] - width(cell));
    }
    fputc('\n', out);
  }
  ef_free(w);
  table_free(tp);
}

void lfmt_table_flush_lotus(struct lfmt_table **tp, FILE *out) {
  struct lfmt_table *t = *tp;
  int *w = ef_calloc((size_t)t->ncols, sizeof *w);
  char *used = ef_calloc((size_t)t->ncols, 1);
  for (int r = 0; r < t->nrows; r++)
    for (int c = 0; c < t->ncols; c++) {
      const char *cell = t->cells[r * t->ncols + c];
      if (r > 0 && cell[0])
        used[c] = 1;
      if (width(cell) > w[c])
        w[c] = width(cell);
    }
  for (int r = 0; r < t->nrows; r++) {
    for (int c = 0; c < t->ncols; c++) {
      if (!used[c])
        continue;
      const char *cell = t->cells[r * t->ncols + c];
      fputs(cell, out);
      pad(out, w[c] - width(cell) + 2);
    }
    fputc('\n', out);
  }
  ef_free(used);
  ef_free(w);
  table_free(tp);
}
