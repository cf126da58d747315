/* SPDX-License-Identifier: MIT */
/* test_cluster_wire.c -- the framing of the cluster bus (src/server/cluster_wire.c) alone:
 * messages built with cwire_begin/cwire_add read back record for record (every kind, empty and
 * binary fields, a 1 MiB field, the extreme ids, times and node numbers), and strict refusals
 * of malformed messages (magic, header, numbers, lengths, kinds, truncation, trailing bytes).
 * Throughout, cwire_valid must answer true exactly when cwire_open succeeds and cwire_next
 * reads the message to its end (0) without a refusal (-1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster_wire.h"

/* ----- helpers ----- */

struct rec {
  char kind;
  uint64_t id;
  int64_t time;
  const char *f1;
  size_t len1;
  const char *f2;
  size_t len2;
};

/* cwire_open then cwire_next to the end: 0 when read to the end, -1 refused (header or record);
 * *nrec gets the records read before that. Every record must lie inside the message. */
static int read_all(const char *msg, size_t len, size_t *nrec) {
  struct cwire_reader r;
  struct cwire_rec rec;
  size_t n = 0;
  int rc = -1;
  if (cwire_open(&r, msg, len)) {
    while ((rc = cwire_next(&r, &rec)) == 1) {
      assert_true(rec.f1 >= msg && rec.f1 + rec.len1 == rec.f2);
      assert_true(rec.f2 + rec.len2 <= msg + len);
      assert_true(rec.time >= 0);
      n++;
    }
  }
  if (nrec) *nrec = n;
  return rc;
}

/* cwire_valid agrees with reading the message through; returns the verdict. */
static bool judged(const char *msg, size_t len) {
  bool valid = cwire_valid(msg, len);
  assert_int_equal(valid, read_all(msg, len, NULL) == 0);
  return valid;
}

/* msg[len] is refused whole. */
#define refused_n(msg, len)                                                                    \
  do {                                                                                         \
    if (judged((msg), (len))) fail_msg("accepted: \"%.*s\"", (int)(len), (msg));              \
  } while (0)
#define refused(msg) refused_n((msg), strlen(msg))
#define refused_lit(str) refused_n((str), sizeof(str) - 1) /* a literal with NULs */
#define accepted(msg)                                                                          \
  do {                                                                                         \
    if (!judged((msg), strlen(msg))) fail_msg("refused: \"%s\"", (msg));                      \
  } while (0)

/* A message from node/epoch with recs[n]. */
static void build(struct cwire_buf *b, unsigned node, int64_t epoch, const struct rec *recs,
                  size_t n) {
  cwire_begin(b, node, epoch);
  for (size_t i = 0; i < n; i++)
    cwire_add(b, recs[i].kind, recs[i].id, recs[i].time, recs[i].f1, recs[i].len1, recs[i].f2,
              recs[i].len2);
}

/* b reads back as node/epoch and recs[n], then the end (twice: the end stays the end). */
static void reads_back(const struct cwire_buf *b, unsigned node, int64_t epoch,
                       const struct rec *recs, size_t n) {
  assert_true(judged(b->p, b->len));
  struct cwire_reader r;
  struct cwire_rec rec;
  assert_true(cwire_open(&r, b->p, b->len));
  assert_int_equal(r.node, node);
  assert_int_equal(r.epoch, epoch);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(cwire_next(&r, &rec), 1);
    assert_int_equal(rec.kind, recs[i].kind);
    assert_true(rec.id == recs[i].id);
    assert_true(rec.time == recs[i].time);
    assert_int_equal(rec.len1, recs[i].len1);
    assert_int_equal(rec.len2, recs[i].len2);
    assert_true(rec.len1 == 0 || memcmp(rec.f1, recs[i].f1, rec.len1) == 0);
    assert_true(rec.len2 == 0 || memcmp(rec.f2, recs[i].f2, rec.len2) == 0);
    assert_true(rec.f1 >= b->p && rec.f2 + rec.len2 <= b->p + b->len);
  }
  assert_int_equal(cwire_next(&r, &rec), 0);
  assert_int_equal(cwire_next(&r, &rec), 0);
}

#define S(str) str, sizeof str - 1

/* ----- round trips ----- */

static void test_every_kind(void **state) {
  (void)state;
  const char *up = "{\"type\":\"upload_status_info\",\"data\":{\"cpu\":5,\"host_name\":\"w1\"}}";
  const char *mi = "{\"type\":\"upload_miner_info\",\"data\":{\"miner_id\":\"f01234\"}}";
  const struct rec recs[] = {
    {'I', 42, 1700000000000, S("10.0.0.5"), NULL, 0},
    {'S', 42, 1700000000100, S("Unknown"), S("heartbeat missed")},
    {'O', 42, 1700000000200, S("connection closed"), NULL, 0},
    {'U', 43, 1700000000300, S("w1"), up, strlen(up)},
    {'M', 43, 1700000000400, NULL, 0, mi, strlen(mi)},
    {'H', 2, 1700000000500, NULL, 0, NULL, 0},
    {'B', 0, 1700000000600, NULL, 0, NULL, 0},
    {'C', 0, 1700000000700, NULL, 0, S("{\"k\":\"deleted\",\"id\":\"42\"}")},
  };
  size_t n = sizeof recs / sizeof recs[0];
  struct cwire_buf b = {0};
  build(&b, 7, 1699999999999, recs, n); /* all in one message */
  reads_back(&b, 7, 1699999999999, recs, n);
  /* the text is what docs/cluster.md shows */
  const char *head = "EF1 7 1699999999999\nI 42 1700000000000 8 0\n10.0.0.5S 42 ";
  assert_memory_equal(b.p, head, strlen(head));
  for (size_t i = 0; i < n; i++) { /* each alone, the buffer reused */
    build(&b, 7, 1, &recs[i], 1);
    reads_back(&b, 7, 1, &recs[i], 1);
  }
  cwire_free(&b);
  assert_null(b.p);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
  cwire_free(&b); /* freeing a freed buffer: nothing */
}

static void test_empty_fields(void **state) {
  (void)state;
  struct cwire_buf b = {0};
  /* a message of no record: the header alone */
  cwire_begin(&b, 0, 0);
  assert_int_equal(b.len, strlen("EF1 0 0\n"));
  assert_memory_equal(b.p, "EF1 0 0\n", b.len);
  reads_back(&b, 0, 0, NULL, 0);
  /* empty fields, given as NULL or as "" with length 0, for every kind */
  const char *kinds = "ISOUMHBCQ";
  struct rec recs[16];
  for (size_t i = 0; i < 8; i++) {
    recs[2 * i] = (struct rec){kinds[i], i, (int64_t)i, NULL, 0, NULL, 0};
    recs[2 * i + 1] = (struct rec){kinds[i], i, (int64_t)i, "", 0, "x", 0};
  }
  build(&b, 1, 2, recs, 16);
  reads_back(&b, 1, 2, recs, 16);
  const char *first = "EF1 1 2\nI 0 0 0 0\nI 0 0 0 0\nS 1 1 0 0\n";
  assert_memory_equal(b.p, first, strlen(first));
  /* one field empty, the other not, both ways round */
  const struct rec one[] = {{'U', 9, 9, NULL, 0, S("{}")}, {'U', 9, 9, S("host"), NULL, 0}};
  build(&b, 1, 2, one, 2);
  reads_back(&b, 1, 2, one, 2);
  cwire_free(&b);
}

static void test_binary_fields(void **state) {
  (void)state;
  char all[256], rev[256];
  for (int i = 0; i < 256; i++) {
    all[i] = (char)i;
    rev[i] = (char)(255 - i);
  }
  /* every byte value, NULs and newlines included, and fields that look like records or like the
   * header: the lengths alone delimit them */
  const struct rec recs[] = {
    {'U', 1, 1, all, sizeof all, rev, sizeof rev},
    {'M', 2, 2, S("\n"), S("\0")},
    {'C', 3, 3, S("I 1 2 3 4\n"), S("EF1 0 0\nB 0 0 0 0\n")},
    {'S', 4, 4, S("online"), S("\n\n\n")},
    {'O', 5, 5, S(" "), S("\r\n")},
  };
  size_t n = sizeof recs / sizeof recs[0];
  struct cwire_buf b = {0};
  build(&b, 5, 5, recs, n);
  reads_back(&b, 5, 5, recs, n);
  cwire_free(&b);
}

static void test_large_field(void **state) {
  (void)state;
  size_t big = 1 << 20;
  char *f = malloc(big), *g = malloc(big);
  assert_non_null(f);
  assert_non_null(g);
  for (size_t i = 0; i < big; i++) {
    f[i] = (char)(i * 131 + (i >> 8));
    g[i] = (char)~f[i];
  }
  struct cwire_buf b = {0};
  const struct rec one[] = {{'U', 77, 1234, S("w1"), f, big}};
  build(&b, 3, 4, one, 1);
  reads_back(&b, 3, 4, one, 1);
  assert_true(b.len > big && b.cap >= b.len);
  /* two of them, in both fields, around small records: the buffer grows as it goes */
  const struct rec two[] = {
    {'I', 1, 1, S("peer"), NULL, 0},
    {'M', 77, 1235, f, big, g, big},
    {'H', 1, 2, NULL, 0, NULL, 0},
    {'C', 0, 3, NULL, 0, g, big},
  };
  build(&b, 3, 4, two, 4);
  reads_back(&b, 3, 4, two, 4);
  assert_true(b.len > 3 * big);
  /* cut short by one byte: the last field runs past the end */
  refused_n(b.p, b.len - 1);
  cwire_free(&b);
  free(f);
  free(g);
}

static void test_extreme_numbers(void **state) {
  (void)state;
  const struct rec recs[] = {
    {'I', 0, 0, S("p"), NULL, 0},
    {'I', UINT64_MAX, INT64_MAX, S("p"), NULL, 0},
    {'H', UINT64_MAX, 0, NULL, 0, NULL, 0},
    {'S', 1, INT64_MAX, S("online"), S("x")},
  };
  struct cwire_buf b = {0};
  build(&b, 1023, INT64_MAX, recs, 4);
  reads_back(&b, 1023, INT64_MAX, recs, 4);
  const char *text = "EF1 1023 9223372036854775807\nI 0 0 1 0\npI 18446744073709551615 "
                     "9223372036854775807 1 0\np";
  assert_memory_equal(b.p, text, strlen(text));
  /* and the same spelled by hand */
  accepted("EF1 0 0\nH 18446744073709551615 9223372036854775807 0 0\n");
  cwire_free(&b);
}

static void test_header(void **state) {
  (void)state;
  struct cwire_buf b = {0};
  const struct rec r = {'B', 0, 0, NULL, 0, NULL, 0};
  unsigned nodes[] = {0, 1, 1023};
  int64_t epochs[] = {0, 1, INT64_MAX};
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 3; j++) {
      build(&b, nodes[i], epochs[j], &r, 1);
      reads_back(&b, nodes[i], epochs[j], &r, 1);
    }
  /* node ids are 0..1023 (config.c's node_id): a message built for 1024 is not read */
  build(&b, 1024, 1, &r, 1);
  assert_memory_equal(b.p, "EF1 1024 1\n", strlen("EF1 1024 1\n"));
  refused_n(b.p, b.len);
  struct cwire_reader rd;
  assert_false(cwire_open(&rd, b.p, b.len));
  cwire_begin(&b, 1024, 1);
  refused_n(b.p, b.len);
  cwire_begin(&b, UINT32_MAX, 1);
  refused_n(b.p, b.len);
  /* an epoch before 1970 is written but not read (times are >= 0) */
  cwire_begin(&b, 1, -1);
  refused_n(b.p, b.len);
  cwire_free(&b);

  accepted("EF1 1023 0\n");
  refused("EF1 1024 0\n");
  refused("EF1 99999999999999999999 0\n");           /* overflows uint64 */
  refused("EF1 18446744073709551616 0\n");           /* 2^64 */
  refused("EF1 0 9223372036854775808\n");            /* epoch 2^63: past int64 */
  refused("EF1 0 18446744073709551615\n");
  accepted("EF1 0 9223372036854775807\n");
  refused_n("", 0);
  refused_n(NULL, 0);
}

/* ----- refusals ----- */

static void test_wrong_magic(void **state) {
  (void)state;
  refused("EF2 0 0\n");
  refused("ef1 0 0\n");
  refused("EF0 0 0\n");
  refused("XEF1 0 0\n");
  refused(" EF1 0 0\n");
  refused("EF1\t0 0\n");
  refused("EF10 0\n");
  refused("EF1");
  refused("EF1 ");
  refused("EF");
  refused("E");
  refused("\n");
  refused("I 1 2 0 0\n");                         /* a record without the header */
  refused_lit("EF1\0 0 0\n");
  accepted("EF1 0 0\n");
}

static void test_missing_newline(void **state) {
  (void)state;
  refused("EF1 0 0");                             /* the header's */
  refused("EF1 0 0 \n");
  refused("EF1 0 0\r\n");
  refused("EF1 0\n");
  refused("EF1 0 0\nI 1 2 0 0");                  /* a record's */
  refused("EF1 0 0\nI 1 2 0 0 ");
  refused("EF1 0 0\nI 1 2 0 0\r\n");
  refused("EF1 0 0\nI 1 2 0 0x");
  refused("EF1 0 0\nI 1 2 1 0x");                 /* the field is no newline */
  accepted("EF1 0 0\nI 1 2 1 0\nx");              /* the last field needs none after it */
}

static void test_length_past_end(void **state) {
  (void)state;
  refused("EF1 0 0\nI 1 2 5 0\nabcd");
  refused("EF1 0 0\nI 1 2 0 5\nabcd");
  refused("EF1 0 0\nI 1 2 3 3\nabcde");           /* each fits, not both */
  refused("EF1 0 0\nI 1 2 1 0\n");
  accepted("EF1 0 0\nI 1 2 3 2\nabcde");
  /* the first record fine, the second's length past the end: refused whole */
  refused("EF1 0 0\nI 1 2 1 0\nxS 1 2 7 0\nonline");
  accepted("EF1 0 0\nI 1 2 1 0\nxS 1 2 6 0\nonline");
  /* lengths that would wrap around when added */
  refused("EF1 0 0\nI 1 2 1 18446744073709551615\nx");
  refused("EF1 0 0\nI 1 2 18446744073709551615 1\nx");
  refused("EF1 0 0\nI 1 2 9223372036854775808 9223372036854775808\nx");
  refused("EF1 0 0\nI 1 2 18446744073709551615 18446744073709551615\n");
}

static void test_number_overflow(void **state) {
  (void)state;
  /* a length field past uint64 */
  refused("EF1 0 0\nI 1 2 18446744073709551616 0\n");
  refused("EF1 0 0\nI 1 2 0 18446744073709551616\n");
  refused("EF1 0 0\nI 1 2 99999999999999999999 0\n");
  refused("EF1 0 0\nI 1 2 184467440737095516150 0\n");
  refused("EF1 0 0\nI 1 2 0 1000000000000000000000000000000000000000\n");
  /* ids past uint64, times past int64 */
  refused("EF1 0 0\nI 18446744073709551616 2 0 0\n");
  refused("EF1 0 0\nI 1 9223372036854775808 0 0\n");
  refused("EF1 0 0\nI 1 18446744073709551615 0 0\n");
  /* more than 20 digits, even when the value is small */
  refused("EF1 0 0\nI 000000000000000000001 2 0 0\n");
}

static void test_non_digits(void **state) {
  (void)state;
  const char *bad[] = {
    "EF1 0 0\nI x 2 0 0\n",    "EF1 0 0\nI 1 x 0 0\n",    "EF1 0 0\nI 1 2 x 0\n",
    "EF1 0 0\nI 1 2 0 x\n",    "EF1 0 0\nI -1 2 0 0\n",   "EF1 0 0\nI 1 -2 0 0\n",
    "EF1 0 0\nI 1 2 -0 0\n",   "EF1 0 0\nI +1 2 0 0\n",   "EF1 0 0\nI 1 2 0x1 0\n",
    "EF1 0 0\nI 1 2 0 1e3\n",  "EF1 0 0\nI 1 2 0 0x\n",   "EF1 0 0\nI 1 2 0 \n",
    "EF1 0 0\nI  1 2 0 0\n",   "EF1 0 0\nI 1  2 0 0\n",   "EF1 0 0\nI 1 2 0\n",
    "EF1 0 0\nI 1 2 0 0 0\n",  "EF1 0 0\nI 1 2\n",        "EF1 0 0\nI\n",
    "EF1 0 0\nI 1\t2 0 0\n",  "EF1 0 0\nI 1 2 0 0.\n",   "EF1 0 0\nI 1.0 2 0 0\n",
    "EF1 x 0\n",               "EF1 0 x\n",               "EF1 -1 0\n",
    "EF1 0 -1\n",              "EF1 +0 0\n",              "EF1  0 0\n",
    "EF1 0  0\n",              "EF1 0 0 0\n",             "EF1 1e2 0\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) refused(bad[i]);
  /* a NUL or a byte past 0x7f in a number */
  refused_lit("EF1 0 0\nI 1\0 2 0 0\n");
  refused("EF1 0 0\nI 1\xb2 2 0 0\n");
}

static void test_unknown_kind(void **state) {
  (void)state;
  char msg[32];
  for (int k = 0; k < 256; k++) {
    int n = snprintf(msg, sizeof msg, "EF1 0 0\n%c 1 2 0 0\n", k);
    assert_int_equal(n, 18);
    bool known = k && strchr("ISOUMHBCQ", k);
    if (judged(msg, 18) != known) fail_msg("kind %d judged wrongly", k);
  }
  refused("EF1 0 0\nII 1 2 0 0\n");               /* a kind is one byte, then a space */
  refused("EF1 0 0\nI\t1 2 0 0\n");
  refused("EF1 0 0\n 1 2 0 0\n");
  refused("EF1 0 0\nI");
  refused("EF1 0 0\nI ");
}

/* A message of several records: it is valid exactly when cut at a record boundary. */
static void test_truncated(void **state) {
  (void)state;
  const struct rec recs[] = {
    {'I', 42, 100, S("10.0.0.5"), NULL, 0},
    {'S', 42, 101, S("Unknown"), S("heartbeat missed")},
    {'B', 0, 102, NULL, 0, NULL, 0},
    {'U', UINT64_MAX, INT64_MAX, S("host"), S("{\"data\":{}}")},
    {'O', 42, 103, S("gone"), NULL, 0},
  };
  size_t n = sizeof recs / sizeof recs[0];
  struct cwire_buf b = {0};
  size_t bounds[8], nb = 0;
  cwire_begin(&b, 12, 34);
  bounds[nb++] = b.len;
  for (size_t i = 0; i < n; i++) {
    cwire_add(&b, recs[i].kind, recs[i].id, recs[i].time, recs[i].f1, recs[i].len1, recs[i].f2,
              recs[i].len2);
    bounds[nb++] = b.len;
  }
  reads_back(&b, 12, 34, recs, n);
  size_t records_at = 0;
  for (size_t cut = 0; cut <= b.len; cut++) {
    char *copy = malloc(cut ? cut : 1); /* exact size: a read past the cut would show */
    assert_non_null(copy);
    memcpy(copy, b.p, cut);
    bool boundary = false;
    size_t k = 0;
    for (; k < nb; k++)
      if (bounds[k] == cut) {
        boundary = true;
        break;
      }
    size_t got = 0;
    int rc = read_all(copy, cut, &got);
    if (judged(copy, cut) != boundary) fail_msg("cut at %zu judged wrongly", cut);
    if (boundary) {
      assert_int_equal(rc, 0);
      assert_int_equal(got, k); /* every record before the cut */
      records_at++;
    }
    free(copy);
  }
  assert_int_equal(records_at, nb);
  cwire_free(&b);
}

static void test_trailing_garbage(void **state) {
  (void)state;
  const char *tails[] = {"x", "\n", " ", "I", "I ", "I 1 2 0 0", "0", "\0", "EF1 0 0\n"};
  struct cwire_buf b = {0};
  const struct rec r = {'S', 1, 2, S("online"), S("login")};
  for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
    build(&b, 1, 2, &r, 1);
    size_t tl = strlen(tails[i]) ? strlen(tails[i]) : 1;
    char *m = malloc(b.len + tl);
    assert_non_null(m);
    memcpy(m, b.p, b.len);
    memcpy(m + b.len, tails[i], tl);
    refused_n(m, b.len + tl);
    /* the record before the garbage still reads, then the refusal */
    struct cwire_reader rd;
    struct cwire_rec rec;
    assert_true(cwire_open(&rd, m, b.len + tl));
    assert_int_equal(cwire_next(&rd, &rec), 1);
    assert_int_equal(cwire_next(&rd, &rec), -1);
    free(m);
  }
  /* garbage right after the header */
  refused("EF1 0 0\nx");
  refused("EF1 0 0\n\n");
  cwire_free(&b);
}

/* Messages changed byte by byte (a fixed pseudo-random sequence): whatever the change, cwire_valid
 * answers as reading through does, and no record points outside the message. */
static void test_valid_iff_read_through(void **state) {
  (void)state;
  const struct rec recs[] = {
    {'I', 42, 100, S("10.0.0.5"), NULL, 0},
    {'S', 42, 101, S("Unknown"), S("heartbeat missed")},
    {'U', 43, 102, S("w1"), S("{\"data\":{\"cpu\":5}}")},
    {'H', 2, 103, NULL, 0, NULL, 0},
  };
  struct cwire_buf b = {0};
  build(&b, 3, 1000, recs, 4);
  const char swap[] = "0123456789 \nISOUMHBCQx\0-+EF";
  uint64_t x = 0x9e3779b97f4a7c15u;
  size_t valid = 0, total = 0;
  char *m = malloc(b.len + 2);
  assert_non_null(m);
  for (int round = 0; round < 20000; round++) {
    memcpy(m, b.p, b.len);
    size_t len = b.len;
    int changes = 1 + round % 3;
    for (int c = 0; c < changes; c++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      size_t at = (size_t)(x >> 8) % len;
      switch (x % 4) {
      case 0: m[at] = swap[(x >> 40) % (sizeof swap - 1)]; break;       /* a byte replaced */
      case 1: m[at] = (char)(x >> 32); break;                           /* any byte */
      case 2: len = at; break;                                          /* cut */
      default:                                                          /* a byte added */
        if (len < b.len + 2) {
          memmove(m + at + 1, m + at, len - at);
          m[at] = swap[(x >> 40) % (sizeof swap - 1)];
          len++;
        }
      }
      if (!len) break;
    }
    valid += judged(m, len);
    total++;
  }
  free(m);
  /* both verdicts came up often (the changes hit fields as well as numbers) */
  assert_true(valid > total / 20 && valid < total - total / 20);
  cwire_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_every_kind),
    cmocka_unit_test(test_empty_fields),
    cmocka_unit_test(test_binary_fields),
    cmocka_unit_test(test_large_field),
    cmocka_unit_test(test_extreme_numbers),
    cmocka_unit_test(test_header),
    cmocka_unit_test(test_wrong_magic),
    cmocka_unit_test(test_missing_newline),
    cmocka_unit_test(test_length_past_end),
    cmocka_unit_test(test_number_overflow),
    cmocka_unit_test(test_non_digits),
    cmocka_unit_test(test_unknown_kind),
    cmocka_unit_test(test_truncated),
    cmocka_unit_test(test_trailing_garbage),
    cmocka_unit_test(test_valid_iff_read_through),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
