/* SPDX-License-Identifier: MIT */
/* cluster_wire.c -- building and reading the cluster bus's messages (cluster_wire.h). */
#include "cluster_wire.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"

/* Largest header line of a record: kind, four numbers, spaces. */
#define HDR_MAX 96

static void reserve(struct cwire_buf *b, size_t more) {
  if (b->len + more <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more) cap *= 2;
  b->p = ef_realloc(b->p, cap);
  b->cap = cap;
}

void cwire_begin(struct cwire_buf *b, unsigned node, int64_t epoch) {
  b->len = 0;
  reserve(b, HDR_MAX);
  b->len = (size_t)snprintf(b->p, HDR_MAX, CLUSTER_WIRE_MAGIC " %u %lld\n", node,
                            (long long)epoch);
}

void cwire_add(struct cwire_buf *b, char kind, uint64_t id, int64_t time, const char *f1,
               size_t len1, const char *f2, size_t len2) {
  if (time < 0) time = 0; /* the reader refuses negative times: never send one */
  reserve(b, HDR_MAX + len1 + len2);
  b->len += (size_t)snprintf(b->p + b->len, HDR_MAX, "%c %llu %lld %zu %zu\n", kind,
                             (unsigned long long)id, (long long)time, len1, len2);
  if (len1) memcpy(b->p + b->len, f1, len1);
  b->len += len1;
  if (len2) memcpy(b->p + b->len, f2, len2);
  b->len += len2;
}

void cwire_free(struct cwire_buf *b) {
  ef_free(b->p);
  *b = (struct cwire_buf){0};
}

/* A decimal number ending at `stop` (a space or a newline); false when there is none, it
 * overflows, or something else follows. */
static bool number(const char **pp, const char *end, char stop, uint64_t *out) {
  const char *p = *pp;
  uint64_t v = 0;
  size_t digits = 0;
  while (p < end && *p >= '0' && *p <= '9') {
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
    p++;
    digits++;
  }
  if (!digits || digits > 20 || p >= end || *p != stop) return false;
  *pp = p + 1;
  *out = v;
  return true;
}

bool cwire_open(struct cwire_reader *r, const char *msg, size_t len) {
  const char *p = msg, *end = msg + len;
  size_t ml = sizeof CLUSTER_WIRE_MAGIC - 1;
  uint64_t node, epoch;
  if (len < ml + 1 || memcmp(p, CLUSTER_WIRE_MAGIC, ml) != 0 || p[ml] != ' ') return false;
  p += ml + 1;
  if (!number(&p, end, ' ', &node) || node > 1023 || !number(&p, end, '\n', &epoch) ||
      epoch > INT64_MAX)
    return false;
  r->p = p;
  r->end = end;
  r->node = (unsigned)node;
  r->epoch = (int64_t)epoch;
  return true;
}

int cwire_next(struct cwire_reader *r, struct cwire_rec *out) {
  if (r->p == r->end) return 0;
  const char *p = r->p, *end = r->end;
  uint64_t id, time, l1, l2;
  if (end - p < 2 || p[1] != ' ') return -1;
  char kind = p[0];
  if (!strchr("ISOUMHBCQ", kind) || kind == '\0') return -1;
  p += 2;
  if (!number(&p, end, ' ', &id) || !number(&p, end, ' ', &time) || time > INT64_MAX ||
      !number(&p, end, ' ', &l1) || !number(&p, end, '\n', &l2))
    return -1;
  size_t left = (size_t)(end - p);
  if (l1 > left || l2 > left - l1) return -1;
  *out = (struct cwire_rec){.kind = kind, .id = id, .time = (int64_t)time, .f1 = p,
                            .len1 = (size_t)l1, .f2 = p + l1, .len2 = (size_t)l2};
  r->p = p + l1 + l2;
  return 1;
}

bool cwire_valid(const char *msg, size_t len) {
  struct cwire_reader r;
  struct cwire_rec rec;
  if (!cwire_open(&r, msg, len)) return false;
  int rc;
  while ((rc = cwire_next(&r, &rec)) == 1) {}
  return rc == 0;
}
