/* SPDX-License-Identifier: MIT */
/* fuzz_cluster_wire.c -- the cluster bus's framing (src/server/cluster_wire.c) on what another
 * node, or anything else that can publish on the bus subject, could send. Each input is used
 * twice:
 *
 * 1. As a bus message: cwire_valid must answer true exactly when cwire_open and cwire_next read
 *    it to its end (0); every record read lies inside the input, right after its header line,
 *    with a known kind and a time >= 0. A valid message re-encoded with cwire_begin/cwire_add
 *    from its decoded header and records is byte for byte the input when the input spells its
 *    numbers canonically (no leading zeros, as cwire_add writes them), and shorter otherwise;
 *    either way it decodes to the same header and records.
 * 2. As a recipe for a message (node, epoch, then records: kind, id, time, field lengths and
 *    bytes taken from the input): the message cwire_begin/cwire_add build is valid exactly when
 *    the node is at most 1023, the epoch >= 0 and every kind known (a negative time is written
 *    as 0); it then reads back to the same records, and dropping its last byte makes it invalid.
 */
#include "cluster_wire.h"
#include "fuzz.h"

static const char KINDS[] = "ISOUMHBCQ";

static bool known_kind(char k) { return k && memchr(KINDS, k, sizeof KINDS - 1); }

/* A number in the header line p[0..n) with a leading zero ("007", "00"): not canonical. */
static bool zero_led(const char *p, size_t n) {
  for (size_t i = 0; i + 1 < n; i++)
    if (p[i] == '0' && (i == 0 || p[i - 1] == ' ') && p[i + 1] >= '0' && p[i + 1] <= '9')
      return true;
  return false;
}

static bool same_rec(const struct cwire_rec *a, const struct cwire_rec *b) {
  return a->kind == b->kind && a->id == b->id && a->time == b->time && a->len1 == b->len1 &&
         a->len2 == b->len2 && (!a->len1 || memcmp(a->f1, b->f1, a->len1) == 0) &&
         (!a->len2 || memcmp(a->f2, b->f2, a->len2) == 0);
}

/* ----- 1. the input as a message ----- */

static void as_message(const char *msg, size_t len) {
  bool valid = cwire_valid(msg, len);
  struct cwire_reader r;
  struct cwire_rec rec;
  if (!cwire_open(&r, msg, len)) {
    FUZZ_CHECK(!valid);
    return;
  }
  FUZZ_CHECK(r.node <= 1023 && r.epoch >= 0);
  FUZZ_CHECK(r.p > msg && r.p <= msg + len && r.p[-1] == '\n' && r.end == msg + len);
  bool canonical = !zero_led(msg, (size_t)(r.p - msg));
  int rc;
  size_t n = 0;
  const char *at = r.p;
  while ((rc = cwire_next(&r, &rec)) == 1) {
    FUZZ_CHECK(known_kind(rec.kind) && rec.time >= 0);
    /* "K i t a b\n": at least 10 bytes of header line, then the fields, then the next record */
    FUZZ_CHECK(rec.f1 - at >= 10 && rec.f1[-1] == '\n' && at[0] == rec.kind && at[1] == ' ');
    FUZZ_CHECK(rec.f2 == rec.f1 + rec.len1 && rec.f2 + rec.len2 <= msg + len);
    FUZZ_CHECK(r.p == rec.f2 + rec.len2);
    canonical = canonical && !zero_led(at, (size_t)(rec.f1 - at));
    at = r.p;
    n++;
  }
  FUZZ_CHECK(rc == 0 || rc == -1);
  FUZZ_CHECK(valid == (rc == 0));
  if (!valid) return;
  FUZZ_CHECK(at == msg + len);
  FUZZ_CHECK(cwire_next(&r, &rec) == 0); /* the end stays the end */

  /* re-encoded from what was decoded */
  struct cwire_buf b = {0};
  struct cwire_reader in;
  FUZZ_CHECK(cwire_open(&in, msg, len));
  cwire_begin(&b, in.node, in.epoch);
  while (cwire_next(&in, &rec) == 1)
    cwire_add(&b, rec.kind, rec.id, rec.time, rec.f1, rec.len1, rec.f2, rec.len2);
  if (canonical) FUZZ_CHECK(b.len == len && memcmp(b.p, msg, len) == 0);
  else FUZZ_CHECK(b.len < len);

  /* ... which decodes to the same header and records */
  FUZZ_CHECK(cwire_valid(b.p, b.len));
  struct cwire_reader again;
  struct cwire_rec r2;
  FUZZ_CHECK(cwire_open(&in, msg, len) && cwire_open(&again, b.p, b.len));
  FUZZ_CHECK(again.node == in.node && again.epoch == in.epoch);
  size_t m = 0;
  while (cwire_next(&in, &rec) == 1) {
    FUZZ_CHECK(cwire_next(&again, &r2) == 1);
    FUZZ_CHECK(same_rec(&rec, &r2));
    m++;
  }
  FUZZ_CHECK(m == n && cwire_next(&again, &r2) == 0);
  cwire_free(&b);
}

/* ----- 2. the input as a recipe ----- */

struct recipe {
  const uint8_t *p, *end;
};

static uint64_t take(struct recipe *c, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes && c->p < c->end; i++) v = v << 8 | *c->p++;
  return v;
}

#define RECIPE_MAX 64

static void as_recipe(const uint8_t *data, size_t size) {
  struct recipe c = {data, data + size};
  unsigned node = (unsigned)take(&c, 2) & 0x7ff; /* 0..2047: half of them refused */
  uint64_t e = take(&c, 8);
  int64_t epoch;
  memcpy(&epoch, &e, sizeof epoch);
  bool expect = node <= 1023 && epoch >= 0;
  struct cwire_rec recs[RECIPE_MAX];
  size_t n = 0;
  struct cwire_buf b = {0};
  cwire_begin(&b, node, epoch);
  while (c.p < c.end && n < RECIPE_MAX) {
    uint8_t k = (uint8_t)take(&c, 1);
    /* mostly the known kinds; a byte >= 0xf0 is used as it is (0x?? & 0x7f), known or not */
    char kind = k < 0xf0 ? KINDS[k % (sizeof KINDS - 1)] : (char)(k & 0x7f);
    uint64_t id = take(&c, 8), t = take(&c, 8);
    int64_t time;
    memcpy(&time, &t, sizeof time);
    size_t len1 = (size_t)take(&c, 1), len2 = (size_t)take(&c, 2);
    size_t left = (size_t)(c.end - c.p);
    if (len1 > left) len1 = left;
    if (len2 > left - len1) len2 = left - len1;
    const char *f1 = (const char *)c.p, *f2 = f1 + len1;
    c.p += len1 + len2;
    cwire_add(&b, kind, id, time, len1 ? f1 : NULL, len1, len2 ? f2 : NULL, len2);
    /* the writer sends a negative time as 0 (the reader refuses negative times) */
    recs[n++] = (struct cwire_rec){.kind = kind, .id = id, .time = time < 0 ? 0 : time,
                                   .f1 = f1, .len1 = len1, .f2 = f2, .len2 = len2};
    expect = expect && known_kind(kind);
  }
  /* an exact-size copy, so that ASan sees a read past the message */
  char *msg = malloc(b.len);
  if (!msg) abort();
  memcpy(msg, b.p, b.len);
  size_t len = b.len;
  cwire_free(&b);

  FUZZ_CHECK(cwire_valid(msg, len) == expect);
  if (expect) {
    struct cwire_reader r;
    struct cwire_rec rec;
    FUZZ_CHECK(cwire_open(&r, msg, len) && r.node == node && r.epoch == epoch);
    for (size_t i = 0; i < n; i++) {
      FUZZ_CHECK(cwire_next(&r, &rec) == 1);
      FUZZ_CHECK(same_rec(&rec, &recs[i]));
    }
    FUZZ_CHECK(cwire_next(&r, &rec) == 0);
    FUZZ_CHECK(!cwire_valid(msg, len - 1)); /* a header or record cut short */
  }
  as_message(msg, len); /* and the properties of 1. on it */
  free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  as_message((const char *)data, size);
  as_recipe(data, size);
  return 0;
}
