/* SPDX-License-Identifier: MIT */
/* parse_info.c -- `lotus-miner info` (and v0.4 `lotus-storage-miner info`) -> the miner-record
 * fields it shows (docs/protocol.md#miner-records): id, sector size, balances, power, sectors, ...
 *
 * DESIGN: line by line, never by position (every section may be missing, reordered or cut).
 * A line is "Key: value"; the key picks a row of `rules` below. A few keys mean different
 * things by block ("Available" under "Miner Balance" vs under "Market Balance", "Proving" as a
 * power line vs a sector state), so the parser keeps the current block. FIL amounts are kept as
 * printed during the walk and expanded to attoFIL at the end, once the era is known: v1.2.2+
 * prints FIL.Short() (rounded to 3 decimals), older releases the exact FIL.String().
 * Formats per release: docs/lotus.md#info.
 */
#include <stdio.h>
#include <string.h>

#include "lotus_internal.h"
#include "lotus_parse.h"

enum block { B_KEEP = -1, B_NONE, B_MINER_BAL, B_MARKET_BAL, B_WORKER_BAL, B_SECTORS, B_DEALS, B_STORAGE_DEALS,
             B_BLOCKS, B_BENEFICIARY };

#define MAX_EXTRA 32
#define MAX_STATES 200
#define MAX_BLOCK_ROWS 200

struct info {
  json_t *root;       /* borrowed from the ctx */
  json_t *states;     /* "sectorStates", once "Sectors:" was seen */
  json_t *deals;      /* current deals object ("deals" or "storageDeals") */
  json_t *blocks;     /* "blocks" rows */
  char block_cols[4][16];
  unsigned nblock_cols;
  enum block block;
  int compact;        /* layout: 1 = v1.2.2+ (FIL.Short), 0 = older, -1 = not known yet */
};

struct rule;
typedef bool (*rule_fn)(struct info *in, const struct rule *r, const char *v, size_t vn,
                        const struct lotus_line *l);
struct rule {
  const char *key;    /* text before the first ':' (exact) */
  rule_fn fn;
  const char *field;  /* JSON field the value goes to */
  enum block enters;  /* block this line opens (B_NONE: leaves any balance block) */
  int layout;         /* 1: only the compact layout prints it, 0: only the old one, -1: both */
};

/* FIL fields: printed text kept now, expanded in finish_fil(). */
static const char *const fil_fields[] = {
    "minerBalance",  "preCommitDeposit", "pledgeBalance", "vestingBalance", "minerAvailable",
    "marketBalance", "marketLocked",    "marketAvailable", "workerBalance", "postBalance",
    "totalSpendable", "baseFee"};

static bool set_text(struct info *in, const struct rule *r, const char *v, size_t vn,
                     const struct lotus_line *l) {
  (void)l;
  lotus_trim(&v, &vn);
  if (vn == 0) return false;
  lotus_set_str(in->root, r->field, v, vn);
  return true;
}

static bool set_duration(struct info *in, const struct rule *r, const char *v, size_t vn,
                         const struct lotus_line *l) {
  (void)l;
  return lotus_set_duration(in->root, r->field, v, vn);
}

static bool set_size(struct info *in, const struct rule *r, const char *v, size_t vn,
                     const struct lotus_line *l) {
  (void)l;
  return lotus_set_size_str(in->root, r->field, v, vn);
}

/* A balance: the printed text now; "Locked"/"Available" depend on the block. */
static bool set_balance(struct info *in, const struct rule *r, const char *v, size_t vn,
                        const struct lotus_line *l) {
  const char *field = r->field;
  if (strcmp(r->key, "Available") == 0)
    field = in->block == B_MARKET_BAL ? "marketAvailable" : "minerAvailable";
  else if (strcmp(r->key, "Locked") == 0)
    field = in->block == B_MARKET_BAL ? "marketLocked" : "vestingBalance";
  lotus_trim(&v, &vn);
  if (vn == 0) return false;
  /* Expanded now assuming FIL.Short(); finish() marks them exact if the era is older. */
  if (!lotus_set_fil(in->root, field, v, vn, true)) return false;
  /* "Miner Balance:    X" (aligned) is the v1.2.2+ layout, "Miner Balance: X" the old one. */
  if (strcmp(r->key, "Miner Balance") == 0 && in->compact < 0) {
    const char *colon = memchr(l->s, ':', l->n);
    in->compact = colon && (size_t)(colon - l->s) + 2 < l->n && colon[1] == ' ' && colon[2] == ' ';
  }
  return true;
}

/* "t0101234" or "f01230123 (32 GiB sectors)" */
static bool set_miner(struct info *in, const struct rule *r, const char *v, size_t vn,
                      const struct lotus_line *l) {
  (void)r, (void)l;
  lotus_trim(&v, &vn);
  const char *open = memchr(v, '(', vn);
  size_t idn = open ? (size_t)(open - v) : vn;
  const char *id = v;
  lotus_trim(&id, &idn);
  if (idn == 0 || memchr(id, ' ', idn)) return false;
  lotus_set_str(in->root, "minerId", id, idn);
  if (open) {
    const char *sz = open + 1;
    const char *end = memchr(sz, ')', vn - (size_t)(sz - v));
    size_t szn = end ? (size_t)(end - sz) : vn - (size_t)(sz - v);
    if (szn > 8 && memcmp(sz + szn - 8, " sectors", 8) == 0) szn -= 8;
    lotus_set_size_str(in->root, "sectorSize", sz, szn);
  }
  return true;
}

/* "<a> / <b> (<pct>%)" into fields a, b, pct (power lines). */
static bool set_ratio(struct info *in, const char *fa, const char *fb, const char *fp,
                      const char *v, size_t vn) {
  const char *slash = memchr(v, '/', vn);
  if (!slash) return false;
  lotus_set_size_str(in->root, fa, v, (size_t)(slash - v));
  const char *b = slash + 1;
  size_t bn = vn - (size_t)(b - v);
  const char *open = memchr(b, '(', bn);
  lotus_set_size_str(in->root, fb, b, open ? (size_t)(open - b) : bn);
  if (open) {
    const char *p = open + 1;
    const char *pct = memchr(p, '%', bn - (size_t)(p - b));
    double d;
    if (pct && lotus_number(p, (size_t)(pct - p), &d)) json_object_set_new(in->root, fp, json_real(d));
  }
  return true;
}

static bool set_qa_power(struct info *in, const struct rule *r, const char *v, size_t vn,
                         const struct lotus_line *l) {
  (void)r, (void)l;
  return set_ratio(in, "adjustedPower", "totalAdjustedPower", "powerPercent", v, vn);
}

static bool set_raw_power(struct info *in, const struct rule *r, const char *v, size_t vn,
                          const struct lotus_line *l) {
  (void)r, (void)l;
  return set_ratio(in, "rawBytePower", "totalRawPower", "rawPowerPercent", v, vn);
}

/* "2.29 PiB" or "640 GiB (32 GiB Faulty, 4.76%)" */
static bool set_proving(struct info *in, const struct rule *r, const char *v, size_t vn,
                        const struct lotus_line *l) {
  (void)r, (void)l;
  const char *open = memchr(v, '(', vn);
  if (!lotus_set_size_str(in->root, "effectivePower", v, open ? (size_t)(open - v) : vn))
    return false;
  if (open) {
    const char *f = open + 1;
    size_t fn = vn - (size_t)(f - v);
    const char *word = memmem(f, fn, " Faulty", 7);
    if (word) lotus_set_size_str(in->root, "faultyPower", f, (size_t)(word - f));
    const char *comma = memchr(f, ',', fn);
    if (comma) {
      const char *p = comma + 1;
      size_t pn = fn - (size_t)(p - f);
      const char *pct = memchr(p, '%', pn);
      double d;
      if (pct) {
        size_t dn = (size_t)(pct - p);
        lotus_trim(&p, &dn);
        if (lotus_number(p, dn, &d)) json_object_set_new(in->root, "faultyPercent", json_real(d));
      }
    }
  }
  return true;
}

/* "[Mining Sealing SectorStorage]" */
static bool set_list(struct info *in, const struct rule *r, const char *v, size_t vn,
                     const struct lotus_line *l) {
  (void)l;
  lotus_trim(&v, &vn);
  if (vn < 2 || v[0] != '[' || v[vn - 1] != ']') return false;
  json_t *arr = json_array();
  const char *tok[33];
  size_t tokn[33];
  unsigned k = lotus_split_ws(v + 1, vn - 2, tok, tokn, 32);
  for (unsigned i = 0; i < k && i < 32; i++) json_array_append_new(arr, lotus_jstr(tok[i], tokn[i]));
  json_object_set_new(in->root, r->field, arr);
  return true;
}

/* The text inside the next "[...]" at or after *v; advances past it. */
static bool bracket(const char **v, size_t *vn, const char **in, size_t *inn) {
  const char *open = memchr(*v, '[', *vn);
  if (!open) return false;
  const char *close = memchr(open, ']', *vn - (size_t)(open - *v));
  if (!close) return false;
  *in = open + 1;
  *inn = (size_t)(close - open - 1);
  *vn -= (size_t)(close + 1 - *v);
  *v = close + 1;
  return true;
}

/* "[sync ok] [basefee 100 aFIL]" (v1.2.2+) or "[sync ok]" (Full node, v1.1.3) */
static bool set_chain(struct info *in, const struct rule *r, const char *v, size_t vn,
                      const struct lotus_line *l) {
  (void)r, (void)l;
  const char *s;
  size_t sn;
  if (!bracket(&v, &vn, &s, &sn)) return false;
  lotus_set_str(in->root, "chainSync", s, sn);
  if (bracket(&v, &vn, &s, &sn) && lotus_prefix(s, sn, "basefee "))
    lotus_set_fil(in->root, "baseFee", s + 8, sn - 8, true);
  return true;
}

/* "412h7m3s (started at 2023-07-22 09:15:40 +0000 UTC)" */
static bool set_start(struct info *in, const struct rule *r, const char *v, size_t vn,
                      const struct lotus_line *l) {
  (void)r, (void)l;
  const char *open = memchr(v, '(', vn);
  lotus_set_duration(in->root, "uptime", v, open ? (size_t)(open - v) : vn);
  if (open) {
    const char *s = open + 1;
    size_t sn = vn - (size_t)(s - v);
    if (sn && s[sn - 1] == ')') sn--;
    if (lotus_prefix(s, sn, "started at ")) s += 11, sn -= 11;
    lotus_set_str(in->root, "startedAt", s, sn);
  }
  return true;
}

/* "4.1472/day (every 5h47m13s)" */
static bool set_win(struct info *in, const struct rule *r, const char *v, size_t vn,
                    const struct lotus_line *l) {
  (void)r, (void)l;
  lotus_trim(&v, &vn);
  if (vn == 0) return false;
  lotus_set_str(in->root, "expectBlock", v, vn);
  return true;
}

/* "<count>, <size>" (Deals, Storage Deals, Retrieval Deals) into obj. */
static bool count_size(json_t *obj, const char *v, size_t vn) {
  lotus_trim(&v, &vn);
  const char *comma = memchr(v, ',', vn);
  uint64_t n;
  if (!comma || !lotus_uint(v, (size_t)(comma - v), &n)) return false;
  json_object_set_new(obj, "count", json_integer((json_int_t)n));
  lotus_set_size_str(obj, "size", comma + 1, vn - (size_t)(comma + 1 - v));
  return true;
}

static bool set_deals(struct info *in, const struct rule *r, const char *v, size_t vn,
                      const struct lotus_line *l) {
  (void)l;
  json_t *d = json_object();
  if (!count_size(d, v, vn)) {
    json_decref(d);
    return false;
  }
  json_object_set_new(in->root, r->field, d);
  in->deals = d;
  return true;
}

/* "Seal(6) WdPoSt(1) WinPoSt(0)" */
static bool set_worker_counts(struct info *in, const struct rule *r, const char *v, size_t vn,
                              const struct lotus_line *l) {
  (void)r, (void)l;
  const char *tok[9];
  size_t tokn[9];
  unsigned k = lotus_split_ws(v, vn, tok, tokn, 8);
  if (k == 0 || k > 8) return false;
  json_t *o = json_object();
  for (unsigned i = 0; i < k; i++) {
    const char *open = memchr(tok[i], '(', tokn[i]);
    uint64_t n;
    if (!open || tok[i][tokn[i] - 1] != ')' ||
        !lotus_uint(open + 1, tokn[i] - (size_t)(open - tok[i]) - 2, &n)) {
      json_decref(o);
      return false;
    }
    lotus_set(o, tok[i], (size_t)(open - tok[i]), json_integer((json_int_t)n));
  }
  json_object_set_new(in->root, "workerCounts", o);
  return true;
}

static bool open_sectors(struct info *in, const struct rule *r, const char *v, size_t vn,
                         const struct lotus_line *l) {
  (void)r, (void)l;
  lotus_trim(&v, &vn);
  if (vn) return false;
  if (!in->states) {
    in->states = json_object();
    json_object_set_new(in->root, "sectorStates", in->states);
  }
  return true;
}

static bool open_blocks(struct info *in, const struct rule *r, const char *v, size_t vn,
                        const struct lotus_line *l) {
  (void)r, (void)l, (void)v, (void)vn;
  if (!in->blocks) {
    in->blocks = json_array();
    json_object_set_new(in->root, "blocks", in->blocks);
  }
  in->nblock_cols = 0;
  return true;
}

static bool ignore(struct info *in, const struct rule *r, const char *v, size_t vn,
                   const struct lotus_line *l) {
  (void)in, (void)r, (void)v, (void)vn, (void)l;
  return true;
}

static const struct rule rules[] = {
    {"Enabled subsystems", set_list, "subsystems", B_NONE, 1},
    {"Enabled subsystems (from miner API)", set_list, "subsystems", B_NONE, 1},
    {"Enabled subsystems (from markets API)", set_list, "marketsSubsystems", B_NONE, 1},
    {"StartTime", set_start, NULL, B_NONE, 1},
    {"Full node", set_chain, NULL, B_NONE, 0},
    {"Chain", set_chain, NULL, B_NONE, 1},
    {"Miner", set_miner, NULL, B_NONE, -1},
    {"Sector Size", set_size, "sectorSize", B_NONE, 0},
    {"Byte Power", set_raw_power, NULL, B_NONE, 0},
    {"Actual Power", set_qa_power, NULL, B_NONE, 0},
    {"Power", set_qa_power, NULL, B_NONE, 1},
    {"Raw", set_raw_power, NULL, B_NONE, 1},
    {"Committed", set_size, "committedPower", B_NONE, -1},
    {"Proving", set_proving, NULL, B_NONE, -1},
    {"Expected block win rate", set_win, NULL, B_NONE, -1},
    {"Projected average block win rate", set_win, NULL, B_NONE, 1},
    {"Deals", set_deals, "deals", B_DEALS, -1},
    {"Miner Balance", set_balance, "minerBalance", B_MINER_BAL, -1},
    {"PreCommit", set_balance, "preCommitDeposit", B_MINER_BAL, -1},
    {"Pledge", set_balance, "pledgeBalance", B_MINER_BAL, -1},
    {"Vesting", set_balance, "vestingBalance", B_MINER_BAL, -1},
    {"Locked", set_balance, NULL, B_KEEP, -1},
    {"Available", set_balance, NULL, B_KEEP, -1},
    {"Market Balance", set_balance, "marketBalance", B_MARKET_BAL, 1},
    {"Market (Escrow)", set_balance, "marketBalance", B_NONE, 0},
    {"Market (Locked)", set_balance, "marketLocked", B_NONE, 0},
    {"Worker Balance", set_balance, "workerBalance", B_WORKER_BAL, -1},
    {"Control", set_balance, "postBalance", B_WORKER_BAL, 1},
    {"Total Spendable", set_balance, "totalSpendable", B_NONE, 1},
    {"Beneficiary", set_text, "beneficiary", B_BENEFICIARY, 1},
    {"Beneficiary Quota", set_text, "beneficiaryQuota", B_BENEFICIARY, 1},
    {"Beneficiary Used Quota", set_text, "beneficiaryUsedQuota", B_BENEFICIARY, 1},
    {"Beneficiary Expiration", set_text, "beneficiaryExpiration", B_BENEFICIARY, 1},
    {"Pending Beneficiary Term", ignore, NULL, B_BENEFICIARY, 1},
    {"Expected Seal Duration", set_duration, "expectedSealDuration", B_NONE, 0},
    {"Sectors", open_sectors, NULL, B_SECTORS, -1},
    {"Workers", set_worker_counts, NULL, B_NONE, 1},
    {"Storage Deals", set_deals, "storageDeals", B_STORAGE_DEALS, 1},
    {"Retrieval Deals (complete)", set_deals, "retrievalDeals", B_NONE, 1},
    {"Produced newest blocks", open_blocks, NULL, B_BLOCKS, 1},
};

/* "\tState: N" inside "Sectors:" */
static bool sector_state(struct info *in, const char *s, size_t n) {
  const char *colon = memchr(s, ':', n);
  if (!colon) return false;
  const char *name = s;
  size_t nn = (size_t)(colon - s);
  const char *v = colon + 1;
  size_t vn = n - nn - 1;
  lotus_trim(&name, &nn);
  lotus_trim(&v, &vn);
  uint64_t count;
  if (memchr(name, ' ', nn) || !lotus_uint(v, vn, &count)) return false;
  if (nn == 5 && memcmp(name, "Total", 5) == 0) {
    json_object_set_new(in->root, "totalSectors", json_integer((json_int_t)count));
  } else if (json_object_size(in->states) < MAX_STATES) {
    lotus_set(in->states, name, nn, json_integer((json_int_t)count));
  }
  return true;
}

/* "      Active:  212  6.625 TiB (Verified: 212 6.625 TiB)" (Storage Deals) or
 * "\tActive: 30, 1.875 TiB (Verified: 0, 0 B)" (Deals, <= v1.11.0). */
static bool deal_state(struct info *in, const char *s, size_t n) {
  const char *colon = memchr(s, ':', n);
  if (!colon || !in->deals) return false;
  const char *name = s;
  size_t nn = (size_t)(colon - s);
  lotus_trim(&name, &nn);
  const char *v = colon + 1;
  size_t vn = n - (size_t)(v - s);
  const char *open = memchr(v, '(', vn);
  size_t main_n = open ? (size_t)(open - v) : vn;
  const char *tok[4];
  size_t tokn[4];
  /* "212  6.625 TiB" or "30, 1.875 TiB" */
  const char *m = v;
  lotus_trim(&m, &main_n);
  unsigned k = lotus_split_ws(m, main_n, tok, tokn, 3);
  uint64_t cnt;
  if (k < 2) return false;
  if (tokn[0] && tok[0][tokn[0] - 1] == ',') tokn[0]--;
  if (!lotus_uint(tok[0], tokn[0], &cnt)) return false;
  json_t *st = json_object_get(in->deals, "states");
  if (!st) {
    st = json_object();
    json_object_set_new(in->deals, "states", st);
  }
  json_t *d = json_object();
  json_object_set_new(d, "count", json_integer((json_int_t)cnt));
  lotus_set_size_str(d, "size", tok[1], (size_t)(m + main_n - tok[1]));
  if (open) {
    const char *vv = memmem(open, vn - (size_t)(open - v), "Verified:", 9);
    if (vv) {
      vv += 9;
      size_t rem = vn - (size_t)(vv - v);
      if (rem && vv[rem - 1] == ')') rem--;
      k = lotus_split_ws(vv, rem, tok, tokn, 3);
      if (k >= 2) {
        if (tokn[0] && tok[0][tokn[0] - 1] == ',') tokn[0]--;
        if (lotus_uint(tok[0], tokn[0], &cnt)) {
          json_object_set_new(d, "verifiedCount", json_integer((json_int_t)cnt));
          lotus_set_size_str(d, "verifiedSize", tok[1], (size_t)(vv + rem - tok[1]));
        }
      }
    }
  }
  if (json_object_size(st) < MAX_STATES) lotus_set(st, name, nn, d);
  else json_decref(d);
  return true;
}

/* " Epoch   | Time | Block ID | Reward" header, then rows, cells split on '|'. */
static bool block_row(struct info *in, const char *s, size_t n) {
  if (!memchr(s, '|', n)) return false;
  const char *cell[5];
  size_t celln[5];
  unsigned k = 0;
  size_t start = 0;
  for (size_t i = 0; i <= n && k < 5; i++) {
    if (i == n || s[i] == '|') {
      cell[k] = s + start;
      celln[k] = i - start;
      lotus_trim(&cell[k], &celln[k]);
      k++;
      start = i + 1;
    }
  }
  if (k > 4) return false;
  if (in->nblock_cols == 0 || (celln[0] == 5 && memcmp(cell[0], "Epoch", 5) == 0)) {
    in->nblock_cols = k;
    for (unsigned i = 0; i < k; i++) {
      const char *name = celln[i] == 5 && !memcmp(cell[i], "Epoch", 5)      ? "epoch"
                         : celln[i] == 4 && !memcmp(cell[i], "Time", 4)     ? "time"
                         : celln[i] == 8 && !memcmp(cell[i], "Block ID", 8) ? "blockId"
                         : celln[i] == 6 && !memcmp(cell[i], "Reward", 6)   ? "reward"
                                                                            : "";
      snprintf(in->block_cols[i], sizeof in->block_cols[i], "%s", name);
    }
    return true;
  }
  if (k != in->nblock_cols) return false;
  if (json_array_size(in->blocks) >= MAX_BLOCK_ROWS) return true;
  json_t *row = json_object();
  for (unsigned i = 0; i < k; i++) {
    const char *name = in->block_cols[i];
    if (!name[0]) continue;
    if (strcmp(name, "reward") == 0)
      lotus_set_fil(row, name, cell[i], celln[i], false);
    else
      lotus_set_str(row, name, cell[i], celln[i]);
  }
  json_array_append_new(in->blocks, row);
  return true;
}

static const struct rule *find_rule(const char *key, size_t kn) {
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
    if (strlen(rules[i].key) == kn && memcmp(rules[i].key, key, kn) == 0) return &rules[i];
  return NULL;
}

/* Lines that carry no "Key:" of their own. */
static bool free_line(struct info *in, struct lotus_ctx *c, const char *s, size_t n) {
  if (lotus_prefix(s, n, "ERROR:")) {
    lotus_error(c, "lotus-miner: %.*s", (int)(n > 200 ? 200 : n), s);
    return true;
  }
  const char *al = memmem(s, n, " Active alerts", 14);
  if (al) {
    const char *p = s;
    while (p < al && !(*p >= '0' && *p <= '9')) p++;
    uint64_t cnt;
    if (lotus_uint(p, (size_t)(al - p), &cnt))
      json_object_set_new(in->root, "activeAlerts", json_integer((json_int_t)cnt));
    return true;
  }
  static const char win99[] = "Projected block win with 99.9% probability every ";
  if (lotus_prefix(s, n, win99)) {
    lotus_set_duration(in->root, "expectBlock99", s + sizeof win99 - 1, n - (sizeof win99 - 1));
    return true;
  }
  if (lotus_prefix(s, n, "(projections DO NOT")) return true;
  if (lotus_prefix(s, n, "Below minimum power threshold")) {
    json_object_set_new(in->root, "belowMinPower", json_true());
    return true;
  }
  return false;
}

static void on_line(struct lotus_ctx *c, struct lotus_line *l, void *ud) {
  struct info *in = ud;
  const char *s = l->s;
  size_t n = l->n;
  lotus_trim(&s, &n);
  if (n == 0) {
    in->block = B_NONE;
    return;
  }
  /* Blocks whose lines are not "Key: value" of the top level. */
  switch (in->block) {
  case B_SECTORS:
    if (sector_state(in, s, n)) return;
    if (l->indent > 0) {
      lotus_unrecognised(c, s, n);
      return;
    }
    break;
  case B_DEALS:
  case B_STORAGE_DEALS:
    if (l->indent > 0 && deal_state(in, s, n)) return;
    break;
  case B_BLOCKS:
    if (block_row(in, s, n)) return;
    break;
  default:
    break;
  }
  if (free_line(in, c, s, n)) return;
  const char *colon = memchr(s, ':', n);
  if (!colon || colon == s) {
    lotus_unrecognised(c, s, n);
    return;
  }
  const struct rule *r = find_rule(s, (size_t)(colon - s));
  if (!r) {
    size_t kn = (size_t)(colon - s);
    if (kn <= 40 && l->indent == 0) { /* a fork's extra line ("Mode: poster"): keep it */
      json_t *extra = json_object_get(in->root, "extra");
      if (!extra) {
        extra = json_object();
        json_object_set_new(in->root, "extra", extra);
      }
      const char *v = colon + 1;
      size_t vn = n - kn - 1;
      lotus_trim(&v, &vn);
      if (json_object_size(extra) < MAX_EXTRA) lotus_set(extra, s, kn, lotus_jstr(v, vn));
      in->block = B_NONE;
      return;
    }
    lotus_unrecognised(c, s, n);
    return;
  }
  if (r->layout >= 0 && in->compact < 0 && strcmp(r->key, "Miner Balance") != 0)
    in->compact = r->layout;
  if (r->enters != B_KEEP) in->block = r->enters;
  if (!r->fn(in, r, colon + 1, n - (size_t)(colon + 1 - s), l)) lotus_unrecognised(c, s, n);
}

/* Expand the FIL texts now that the era is known; derive the record's sector counts. */
static void finish(struct info *in) {
  if (in->compact == 0) { /* FIL.String(): every printed digit is exact */
    for (size_t i = 0; i < sizeof fil_fields / sizeof fil_fields[0]; i++) {
      char k[64];
      snprintf(k, sizeof k, "%sExact", fil_fields[i]);
      if (json_object_get(in->root, k)) json_object_set_new(in->root, k, json_true());
    }
  }
  if (in->compact >= 0)
    json_object_set_new(in->root, "layout", json_string(in->compact ? "v1.2.2+" : "v0.4-v1.2.1"));
  if (!in->states) return;
  ef_lotus_add_sector_counters(in->root, in->states); /* lotus_states.c */
}

json_t *ef_lotus_parse_info(const char *buf, size_t len) {
  struct lotus_ctx c;
  lotus_ctx_init(&c);
  struct info in = {.root = c.root, .compact = -1};
  lotus_each_line(&c, buf, len, on_line, &in);
  finish(&in);
  return lotus_finish(&c);
}
