/* SPDX-License-Identifier: MIT */
/* parse_sectors.c -- `lotus-miner sectors list` -> {"sectors":[{"id","state",...}]}.
 *
 * Two formats (docs/lotus.md#sectors): v0.4-v0.8 print a "N: State  key: value ..." line per sector
 * (tabwriter), v0.9+ a lib/tablewriter table whose header names the columns (ID State OnChain
 * Active Expiration [SealTime] [Events] Deals [DealWeight] [VerifiedPower] [Pledge]); cells may
 * hold single blanks ("4123456 (in 1 year 21 weeks)"), so rows are sliced at the header's
 * offsets. Indented "Error: ..." / "RecoveryTimeout: ..." lines belong to the sector above.
 * Every value is kept as printed; keys are the printed names with a lower-case first letter.
 */
#include <ctype.h>
#include <string.h>

#include "lotus_internal.h"
#include "lotus_parse.h"

#define MAX_SECTORS 1000000

struct sectors {
  json_t *list;
  json_t *last; /* the sector of the previous row (borrowed), for its Error: lines */
  bool have_header;
  struct lotus_cols cols;
};

/* obj[lowerCamel(key)] = value */
static void set_key(json_t *obj, const char *key, size_t kn, json_t *value) {
  char k[64];
  if (kn >= sizeof k) kn = sizeof k - 1;
  memcpy(k, key, kn);
  k[kn] = '\0';
  if (kn == 2 && strcmp(k, "ID") == 0) strcpy(k, "id");
  k[0] = (char)tolower((unsigned char)k[0]);
  lotus_set(obj, k, kn, value);
}

/* "0: Proving    sSet: YES active: YES tktH: 1012 seedH: 3380 deals: [0]   toUpgrade:false" */
static bool kv_row(struct sectors *ss, const char *s, size_t n) {
  const char *colon = memchr(s, ':', n);
  uint64_t id;
  if (!colon || !lotus_uint(s, (size_t)(colon - s), &id)) return false;
  const char *tok[64];
  size_t tokn[64];
  const char *rest = colon + 1;
  unsigned k = lotus_split_ws(rest, n - (size_t)(rest - s), tok, tokn, 63);
  if (k == 0 || k > 63) return false;
  json_t *sec = json_object();
  lotus_set_str(sec, "id", s, (size_t)(colon - s));
  lotus_set_str(sec, "state", tok[0], tokn[0]);
  unsigned i = 1;
  while (i < k) {
    const char *kc = memchr(tok[i], ':', tokn[i]);
    if (!kc || kc == tok[i]) { /* a stray value: keep going */
      i++;
      continue;
    }
    size_t kn = (size_t)(kc - tok[i]);
    const char *v;
    size_t vn;
    if (kc + 1 < tok[i] + tokn[i]) { /* "toUpgrade:false" */
      v = kc + 1;
      vn = tokn[i] - kn - 1;
      set_key(sec, tok[i], kn, lotus_jstr(v, vn));
      i++;
    } else { /* "tktH: 1012", "deals: [5945 5969]": the value runs to the next "key:" token */
      unsigned j = i + 1;
      while (j < k && !memchr(tok[j], ':', tokn[j])) j++;
      if (j == i + 1) {
        v = "";
        vn = 0;
      } else {
        v = tok[i + 1];
        vn = (size_t)(tok[j - 1] + tokn[j - 1] - v);
      }
      set_key(sec, tok[i], kn, lotus_jstr(v, vn));
      i = j;
    }
  }
  json_array_append_new(ss->list, sec);
  ss->last = sec;
  return true;
}

static bool table_row(struct sectors *ss, const char *s, size_t n) {
  const char *cell[LOTUS_MAX_COLS];
  size_t celln[LOTUS_MAX_COLS];
  uint64_t id;
  if (!lotus_cols_slice(&ss->cols, s, n, cell, celln)) return false;
  if (!lotus_uint(cell[0], celln[0], &id)) return false;
  json_t *sec = json_object();
  for (unsigned i = 0; i < ss->cols.n; i++) {
    const char *name = ss->cols.name[i];
    set_key(sec, name, strlen(name), lotus_jstr(cell[i], celln[i]));
  }
  json_array_append_new(ss->list, sec);
  ss->last = sec;
  return true;
}

static void on_line(struct lotus_ctx *c, struct lotus_line *l, void *ud) {
  struct sectors *ss = ud;
  const char *s = l->s;
  size_t n = l->n;
  const char *t = s;
  size_t tn = n;
  lotus_trim(&t, &tn);
  if (tn == 0) return;
  if (lotus_prefix(t, tn, "ERROR:")) {
    lotus_error(c, "lotus-miner: %.*s", (int)(tn > 200 ? 200 : tn), t);
    return;
  }
  if (json_array_size(ss->list) >= MAX_SECTORS) return;
  if (lotus_prefix(t, tn, "ID ") && memmem(t, tn, "State", 5)) {
    lotus_cols_from_header(&ss->cols, s, n);
    ss->have_header = true;
    return;
  }
  if (ss->have_header && l->indent == 0 && table_row(ss, s, n)) return;
  if (!ss->have_header && kv_row(ss, t, tn)) return;
  /* "\tError: ..." / "\tRecoveryTimeout: ..." under the previous sector */
  const char *colon = memchr(t, ':', tn);
  if (l->indent > 0 && ss->last && colon && colon != t && (size_t)(colon - t) < 32 &&
      !memchr(t, ' ', (size_t)(colon - t))) {
    const char *v = colon + 1;
    size_t vn = tn - (size_t)(v - t);
    lotus_trim(&v, &vn);
    set_key(ss->last, t, (size_t)(colon - t), lotus_jstr(v, vn));
    return;
  }
  lotus_unrecognised(c, t, tn);
}

json_t *ef_lotus_parse_sectors(const char *buf, size_t len) {
  struct lotus_ctx c;
  lotus_ctx_init(&c);
  struct sectors ss = {.list = json_array()};
  json_object_set_new(c.root, "sectors", ss.list);
  lotus_each_line(&c, buf, len, on_line, &ss);
  return lotus_finish(&c);
}
