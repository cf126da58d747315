/* SPDX-License-Identifier: MIT */
/* parse_proving.c -- the `lotus-miner proving ...` outputs: `deadlines`, `faults`, `info` and
 * `check [--only-bad]` (docs/lotus.md#proving), every era from v0.4.2 (2020) to miner/v1.36.1.
 *
 * Eras of `proving deadlines` (tabwriter, cells split on blanks here, as no cell holds one
 * except "N (F)"):
 *   v0.4.x          deadline  sectors  partitions  proven           [(current)]
 *   v0.5 - v1.27    deadline  partitions  sectors (faults)  proven partitions  [(current)]
 *   v1.28+ (spcli)  deadline  open  partitions  sectors (faults)  proven partitions  [(current)]
 * `open` is the local time of day ("15:04:05") the deadline opens (before the current one: of
 * this proving period, so already past). `proving faults`: "deadline sectors" rows (v0.4) or
 * "deadline partition sectors" rows, one per faulty sector, or "no faulty sectors" (v0.4).
 * `proving info`: "Key: value" lines; epochs print as "E (D ago)", "E (in D)", "E (now)" or
 * with a date "E (02 Jan 06 15:04 MST, D ago)", D a Go duration (<= v0.8) or a durafmt text cut
 * to two units (v0.9+).
 * `proving check`: "deadline partition sector status" rows, status "good" or "bad (reason)".
 */
#include <stdio.h>
#include <string.h>

#include "lotus_internal.h"
#include "lotus_parse.h"

#define MAX_FAULT_ROWS 100000 /* sector numbers kept; counts go on beyond */
#define MAX_COUNT 1000000000000ULL /* a larger sector/partition count is not lotus output */

/* ---- shared bits ----------------------------------------------------------------------------- */

/* "Miner: f0..." -> minerId; true when the line was one. */
static bool miner_line(json_t *root, const char *t, size_t tn) {
  if (!lotus_prefix(t, tn, "Miner:")) return false;
  const char *v = t + 6;
  size_t vn = tn - 6;
  lotus_trim(&v, &vn);
  /* v1.x may append the sector size: "Miner: f01234 (32 GiB sectors)" */
  const char *sp = memchr(v, ' ', vn);
  if (sp) vn = (size_t)(sp - v);
  if (vn) lotus_set_str(root, "minerId", v, vn);
  return true;
}

static bool error_line(struct lotus_ctx *c, const char *t, size_t tn) {
  if (!lotus_prefix(t, tn, "ERROR:") && !lotus_prefix(t, tn, "Error:")) return false;
  lotus_error(c, "lotus-miner: %.*s", (int)(tn > 200 ? 200 : tn), t);
  return true;
}

/* "(N)" -> N */
static bool paren_uint(const char *s, size_t n, uint64_t *out) {
  return n >= 3 && s[0] == '(' && s[n - 1] == ')' && lotus_uint(s + 1, n - 2, out) &&
         *out <= MAX_COUNT;
}

/* "15:04:05" -> seconds of the day */
static bool time_of_day(const char *s, size_t n, int *secs) {
  uint64_t h, m, sec;
  if (n != 8 || s[2] != ':' || s[5] != ':' || !lotus_uint(s, 2, &h) || !lotus_uint(s + 3, 2, &m) ||
      !lotus_uint(s + 6, 2, &sec) || h > 23 || m > 59 || sec > 60)
    return false;
  *secs = (int)(h * 3600 + m * 60 + sec);
  return true;
}

/* ---- proving deadlines ----------------------------------------------------------------------- */

enum dl_col { C_INDEX, C_OPEN, C_PARTS, C_SECTORS_FAULTS, C_SECTORS, C_PROVEN };

struct deadlines {
  json_t *list;
  enum dl_col cols[8];
  unsigned ncols; /* 0 until a header (or the first row) set the layout */
  json_int_t current;
  uint64_t faults; /* unsigned: cannot overflow into UB, whatever the input */
  bool any_faults;
};

static bool dl_header(struct deadlines *d, const char *t, size_t tn) {
  if (!lotus_prefix(t, tn, "deadline") || tn < 9 || !lotus_blank(t[8])) return false;
  const char *tok[12];
  size_t tokn[12];
  unsigned k = lotus_split_ws(t, tn, tok, tokn, 11);
  d->ncols = 0;
  for (unsigned i = 0; i < k && i < 11 && d->ncols < 8; i++) {
#define IS(w) (tokn[i] == strlen(w) && memcmp(tok[i], w, tokn[i]) == 0)
    if (IS("deadline")) d->cols[d->ncols++] = C_INDEX;
    else if (IS("open")) d->cols[d->ncols++] = C_OPEN;
    else if (IS("partitions")) {
      /* "proven partitions" is one column: the previous token was "proven" */
      if (!(i > 0 && tokn[i - 1] == 6 && memcmp(tok[i - 1], "proven", 6) == 0))
        d->cols[d->ncols++] = C_PARTS;
    } else if (IS("sectors")) {
      bool with_faults = i + 1 < k && tokn[i + 1] == 8 && memcmp(tok[i + 1], "(faults)", 8) == 0;
      d->cols[d->ncols++] = with_faults ? C_SECTORS_FAULTS : C_SECTORS;
      if (with_faults) i++;
    } else if (IS("proven")) d->cols[d->ncols++] = C_PROVEN;
#undef IS
  }
  return true;
}

/* No header seen: the layout from the row's shape. */
static void dl_guess(struct deadlines *d, const char *tok[], const size_t tokn[], unsigned k) {
  static const enum dl_col open_era[] = {C_INDEX, C_OPEN, C_PARTS, C_SECTORS_FAULTS, C_PROVEN};
  static const enum dl_col faults_era[] = {C_INDEX, C_PARTS, C_SECTORS_FAULTS, C_PROVEN};
  static const enum dl_col old_era[] = {C_INDEX, C_SECTORS, C_PARTS, C_PROVEN};
  const enum dl_col *l = old_era;
  unsigned n = 4;
  if (k > 1 && memchr(tok[1], ':', tokn[1])) {
    l = open_era, n = 5;
  } else {
    for (unsigned i = 0; i < k; i++)
      if (tokn[i] && tok[i][0] == '(' && !lotus_prefix(tok[i], tokn[i], "(current")) {
        l = faults_era, n = 4;
        break;
      }
  }
  memcpy(d->cols, l, n * sizeof *l);
  d->ncols = n;
}

/* A count cell: a whole number of sane size. */
static bool count(const char *s, size_t n, uint64_t *v) {
  return lotus_uint(s, n, v) && *v <= MAX_COUNT;
}

static bool dl_row(struct deadlines *d, const char *t, size_t tn) {
  const char *tok[12];
  size_t tokn[12];
  unsigned k = lotus_split_ws(t, tn, tok, tokn, 11);
  if (k == 0 || k > 10) return false;
  bool current = false;
  if (tokn[k - 1] == 9 && memcmp(tok[k - 1], "(current)", 9) == 0) current = true, k--;
  uint64_t idx;
  if (k == 0 || !lotus_uint(tok[0], tokn[0], &idx) || idx > 100000) return false;
  if (d->ncols == 0) dl_guess(d, tok, tokn, k);
  json_t *dl = json_object();
  json_object_set_new(dl, "index", json_integer((json_int_t)idx));
  unsigned t_i = 1;
  bool ok = true;
  for (unsigned ci = 1; ci < d->ncols && ok; ci++) {
    if (t_i >= k) {
      ok = false;
      break;
    }
    uint64_t v, f;
    int secs;
    switch (d->cols[ci]) {
    case C_INDEX: ok = false; break;
    case C_OPEN:
      if ((ok = time_of_day(tok[t_i], tokn[t_i], &secs))) {
        lotus_set_str(dl, "open", tok[t_i], tokn[t_i]);
        json_object_set_new(dl, "openSecondOfDay", json_integer(secs));
      }
      t_i++;
      break;
    case C_PARTS:
      if ((ok = count(tok[t_i], tokn[t_i], &v)))
        json_object_set_new(dl, "partitions", json_integer((json_int_t)v));
      t_i++;
      break;
    case C_SECTORS:
      if ((ok = count(tok[t_i], tokn[t_i], &v)))
        json_object_set_new(dl, "sectors", json_integer((json_int_t)v));
      t_i++;
      break;
    case C_SECTORS_FAULTS:
      ok = t_i + 1 < k && count(tok[t_i], tokn[t_i], &v) &&
           paren_uint(tok[t_i + 1], tokn[t_i + 1], &f);
      if (ok) {
        json_object_set_new(dl, "sectors", json_integer((json_int_t)v));
        json_object_set_new(dl, "faults", json_integer((json_int_t)f));
        d->faults += f;
        d->any_faults = true;
      }
      t_i += 2;
      break;
    case C_PROVEN:
      if ((ok = count(tok[t_i], tokn[t_i], &v)))
        json_object_set_new(dl, "provenPartitions", json_integer((json_int_t)v));
      t_i++;
      break;
    }
  }
  if (!ok || t_i != k) {
    json_decref(dl);
    return false;
  }
  if (current) {
    json_object_set_new(dl, "current", json_true());
    d->current = (json_int_t)idx;
  }
  json_array_append_new(d->list, dl);
  return true;
}

static void dl_line(struct lotus_ctx *c, struct lotus_line *l, void *ud) {
  struct deadlines *d = ud;
  const char *t = l->s;
  size_t tn = l->n;
  lotus_trim(&t, &tn);
  if (tn == 0 || miner_line(c->root, t, tn) || error_line(c, t, tn) || dl_header(d, t, tn))
    return;
  if (!dl_row(d, t, tn)) lotus_unrecognised(c, t, tn);
}

json_t *ef_lotus_parse_deadlines(const char *buf, size_t len) {
  struct lotus_ctx c;
  lotus_ctx_init(&c);
  struct deadlines d = {.list = json_array(), .current = -1};
  lotus_each_line(&c, buf, len, dl_line, &d);
  json_object_set_new(c.root, "deadlines", d.list);
  if (d.current >= 0) json_object_set_new(c.root, "currentDeadline", json_integer(d.current));
  if (d.any_faults)
    json_object_set_new(c.root, "faultySectors", json_integer((json_int_t)d.faults));
  return lotus_finish(&c);
}

/* ---- proving faults -------------------------------------------------------------------------- */

struct faults {
  json_t *list;
  json_int_t count;
  bool seen; /* header, a row or "no faulty sectors" */
  bool with_partition;
};

static void faults_line(struct lotus_ctx *c, struct lotus_line *l, void *ud) {
  struct faults *f = ud;
  const char *t = l->s;
  size_t tn = l->n;
  lotus_trim(&t, &tn);
  if (tn == 0 || miner_line(c->root, t, tn) || error_line(c, t, tn)) return;
  if (lotus_prefix(t, tn, "no faulty sectors")) {
    f->seen = true;
    return;
  }
  if (lotus_prefix(t, tn, "deadline") && tn > 8 && lotus_blank(t[8])) {
    f->seen = true;
    f->with_partition = memmem(t, tn, "partition", 9) != NULL;
    return;
  }
  const char *tok[4];
  size_t tokn[4];
  unsigned k = lotus_split_ws(t, tn, tok, tokn, 3);
  uint64_t v[3];
  bool ok = (k == 2 || k == 3);
  for (unsigned i = 0; ok && i < k; i++) ok = lotus_uint(tok[i], tokn[i], &v[i]);
  if (!ok) {
    lotus_unrecognised(c, t, tn);
    return;
  }
  f->seen = true;
  f->count++;
  if (f->count > MAX_FAULT_ROWS) return;
  json_t *row = json_object();
  json_object_set_new(row, "deadline", json_integer((json_int_t)v[0]));
  if (k == 3) json_object_set_new(row, "partition", json_integer((json_int_t)v[1]));
  json_object_set_new(row, "sector", json_integer((json_int_t)v[k - 1]));
  json_array_append_new(f->list, row);
}

json_t *ef_lotus_parse_faults(const char *buf, size_t len) {
  struct lotus_ctx c;
  lotus_ctx_init(&c);
  struct faults f = {.list = json_array()};
  lotus_each_line(&c, buf, len, faults_line, &f);
  json_object_set_new(c.root, "faults", f.list);
  if (f.seen) json_object_set_new(c.root, "faultySectors", json_integer(f.count));
  if (f.count > MAX_FAULT_ROWS) json_object_set_new(c.root, "faultsTruncated", json_true());
  return lotus_finish(&c);
}

/* ---- proving check --------------------------------------------------------------------------- */

struct check {
  json_t *list;
  json_int_t bad, good;
  bool header;
};

static void check_line(struct lotus_ctx *c, struct lotus_line *l, void *ud) {
  struct check *ck = ud;
  const char *t = l->s;
  size_t tn = l->n;
  lotus_trim(&t, &tn);
  if (tn == 0 || miner_line(c->root, t, tn) || error_line(c, t, tn)) return;
  if (lotus_prefix(t, tn, "deadline") && tn > 8 && lotus_blank(t[8])) {
    ck->header = true;
    return;
  }
  if (lotus_prefix(t, tn, "Took ")) {
    lotus_set_duration(c->root, "took", t + 5, tn - 5);
    return;
  }
  const char *tok[5];
  size_t tokn[5];
  unsigned k = lotus_split_ws(t, tn, tok, tokn, 4);
  uint64_t v[3];
  bool ok = k >= 4;
  for (unsigned i = 0; ok && i < 3; i++) ok = lotus_uint(tok[i], tokn[i], &v[i]);
  bool bad = ok && lotus_prefix(tok[3], tokn[3], "bad");
  bool good = ok && tokn[3] == 4 && memcmp(tok[3], "good", 4) == 0 && k == 4;
  if (!bad && !good) {
    lotus_unrecognised(c, t, tn);
    return;
  }
  if (good) {
    ck->good++;
    return;
  }
  ck->bad++;
  if (ck->bad > MAX_FAULT_ROWS) return;
  json_t *row = json_object();
  json_object_set_new(row, "deadline", json_integer((json_int_t)v[0]));
  json_object_set_new(row, "partition", json_integer((json_int_t)v[1]));
  json_object_set_new(row, "sector", json_integer((json_int_t)v[2]));
  /* the reason: everything after "bad (" up to the last ')' */
  const char *r = tok[3] + 3;
  size_t rn = tn - (size_t)(r - t);
  lotus_trim(&r, &rn);
  if (rn >= 2 && r[0] == '(' && r[rn - 1] == ')') r++, rn -= 2;
  if (rn) lotus_set_str(row, "error", r, rn);
  json_array_append_new(ck->list, row);
}

json_t *ef_lotus_parse_check(const char *buf, size_t len) {
  struct lotus_ctx c;
  lotus_ctx_init(&c);
  struct check ck = {.list = json_array()};
  lotus_each_line(&c, buf, len, check_line, &ck);
  json_object_set_new(c.root, "badSectors", ck.list);
  json_object_set_new(c.root, "bad", json_integer(ck.bad));
  json_object_set_new(c.root, "good", json_integer(ck.good));
  if (ck.bad > MAX_FAULT_ROWS) json_object_set_new(c.root, "badTruncated", json_true());
  if (!ck.header && ck.bad + ck.good == 0 && len > 0) {
    c.lineno = 0;
    lotus_error(&c, "no 'deadline  partition  sector  status' header found");
  }
  return lotus_finish(&c);
}

/* ---- proving info ---------------------------------------------------------------------------- */

/* durafmt text ("12 minutes 30 seconds", "1 day 2 hours", v0.9+) or a Go duration ("12m30s",
 * v0.4-v0.8) -> seconds; false when neither. */
static bool durafmt_seconds(const char *s, size_t n, double *out) {
  int64_t ns;
  if (ef_lotus_duration_parse(s, n, &ns) == 0) {
    *out = (double)ns / 1e9;
    return true;
  }
  static const struct {
    const char *unit;
    double secs;
  } units[] = {{"year", 365 * 86400.0}, {"week", 7 * 86400.0}, {"day", 86400},
               {"hour", 3600},          {"minute", 60},         {"second", 1},
               {"millisecond", 1e-3},   {"microsecond", 1e-6}};
  const char *tok[17];
  size_t tokn[17];
  unsigned k = lotus_split_ws(s, n, tok, tokn, 16);
  if (k == 0 || k % 2 || k > 16) return false;
  double total = 0;
  for (unsigned i = 0; i < k; i += 2) {
    double v;
    if (!lotus_number(tok[i], tokn[i], &v)) return false;
    size_t un = tokn[i + 1];
    const char *u = tok[i + 1];
    if (un > 1 && u[un - 1] == 's') un--;
    bool found = false;
    for (size_t j = 0; j < sizeof units / sizeof units[0]; j++)
      if (un == strlen(units[j].unit) && memcmp(u, units[j].unit, un) == 0) {
        total += v * units[j].secs;
        found = true;
      }
    if (!found) return false;
  }
  *out = total;
  return true;
}

/* "E (…)" -> key"Epoch" = E, key"InSeconds" = seconds from now (negative: ago). */
static bool set_epoch(json_t *root, const char *key, const char *v, size_t vn) {
  const char *tok[2];
  size_t tokn[2];
  if (lotus_split_ws(v, vn, tok, tokn, 1) < 1) return false;
  uint64_t e;
  if (!lotus_uint(tok[0], tokn[0], &e)) return false;
  char k[64];
  snprintf(k, sizeof k, "%sEpoch", key);
  json_object_set_new(root, k, json_integer((json_int_t)e));
  const char *p = memchr(v, '(', vn);
  const char *q = p ? memchr(p, ')', vn - (size_t)(p - v)) : NULL;
  if (!p || !q) return true;
  const char *in = p + 1;
  size_t inn = (size_t)(q - in);
  const char *comma = memchr(in, ',', inn); /* EpochTimeTs: "date, D ago" */
  if (comma) inn -= (size_t)(comma + 1 - in), in = comma + 1;
  lotus_trim(&in, &inn);
  double secs = 0, sign = 1;
  bool ok = false;
  if (inn == 3 && memcmp(in, "now", 3) == 0) {
    ok = true;
  } else if (lotus_prefix(in, inn, "in ")) {
    ok = durafmt_seconds(in + 3, inn - 3, &secs);
  } else if (inn > 4 && memcmp(in + inn - 4, " ago", 4) == 0) {
    ok = durafmt_seconds(in, inn - 4, &secs);
    sign = -1;
  }
  snprintf(k, sizeof k, "%sInSeconds", key);
  if (ok) json_object_set_new(root, k, json_real(sign * secs));
  return true;
}

static void pinfo_line(struct lotus_ctx *c, struct lotus_line *l, void *ud) {
  (void)ud;
  const char *t = l->s;
  size_t tn = l->n;
  lotus_trim(&t, &tn);
  if (tn == 0 || miner_line(c->root, t, tn) || error_line(c, t, tn)) return;
  const char *colon = memchr(t, ':', tn);
  if (!colon) {
    lotus_unrecognised(c, t, tn);
    return;
  }
  size_t kn = (size_t)(colon - t);
  const char *v = colon + 1;
  size_t vn = tn - kn - 1;
  lotus_trim(&v, &vn);
  static const struct {
    const char *label;
    const char *key;
    char kind; /* 'u' integer, 'e' epoch with time, 'f' "N (x%)" */
  } rows[] = {
      {"Current Epoch", "currentEpoch", 'u'},
      {"Chain Period", "chainPeriod", 'u'},
      {"Chain Period Start", "chainPeriodStart", 'e'},
      {"Chain Period End", "chainPeriodEnd", 'e'},
      {"Proving Period Boundary", "provingPeriodBoundary", 'u'},
      {"Proving Period Start", "provingPeriodStart", 'e'},
      {"Next Period Start", "nextPeriodStart", 'e'},
      {"Faults", "faultySectors", 'f'},
      {"Recovering", "recoverySectors", 'u'},
      {"New Sectors", "newSectors", 'u'},
      {"Deadline Index", "currentDeadline", 'u'},
      {"Deadline Sectors", "deadlineSectors", 'u'},
      {"Deadline Open", "deadlineOpen", 'e'},
      {"Deadline Close", "deadlineClose", 'e'},
      {"Deadline Challenge", "deadlineChallenge", 'e'},
      {"Deadline FaultCutoff", "deadlineFaultCutoff", 'e'},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    if (kn != strlen(rows[i].label) || memcmp(t, rows[i].label, kn) != 0) continue;
    uint64_t u;
    bool ok = false;
    if (rows[i].kind == 'e') {
      ok = set_epoch(c->root, rows[i].key, v, vn);
    } else {
      const char *tok[3];
      size_t tokn[3];
      unsigned k = lotus_split_ws(v, vn, tok, tokn, 2);
      ok = k >= 1 && lotus_uint(tok[0], tokn[0], &u);
      if (ok) json_object_set_new(c->root, rows[i].key, json_integer((json_int_t)u));
      double pct;
      if (ok && rows[i].kind == 'f' && k == 2 && tokn[1] > 3 && tok[1][0] == '(' &&
          lotus_number(tok[1] + 1, tokn[1] - 3, &pct))
        json_object_set_new(c->root, "faultyPercent", json_real(pct));
    }
    if (!ok) lotus_error(c, "cannot read %.*s: %.*s", (int)kn, t, (int)(vn > 100 ? 100 : vn), v);
    return;
  }
  lotus_unrecognised(c, t, tn);
}

json_t *ef_lotus_parse_proving_info(const char *buf, size_t len) {
  struct lotus_ctx c;
  lotus_ctx_init(&c);
  lotus_each_line(&c, buf, len, pinfo_line, NULL);
  return lotus_finish(&c);
}
