/* SPDX-License-Identifier: MIT */
/* hist.c -- log-linear latency histogram: bucket mapping, merge, quantiles (see hist.h). */
#include "hist.h"

#define SUB (1u << HIST_SUB_BITS)

unsigned hist_bucket(uint64_t us) {
  if (us > HIST_MAX_US) us = HIST_MAX_US;
  if (us < SUB) return (unsigned)us;
  unsigned e = 63u - (unsigned)__builtin_clzll(us); /* e >= HIST_SUB_BITS */
  unsigned sub = (unsigned)(us >> (e - HIST_SUB_BITS)) & (SUB - 1);
  return SUB + (e - HIST_SUB_BITS) * SUB + sub;
}

void hist_bucket_range(unsigned b, uint64_t *lo, uint64_t *hi) {
  if (b < SUB) {
    *lo = *hi = b;
    return;
  }
  unsigned e = (b - SUB) / SUB + HIST_SUB_BITS, sub = (b - SUB) % SUB;
  uint64_t width = 1ull << (e - HIST_SUB_BITS);
  *lo = (1ull << e) + sub * width;
  *hi = *lo + width - 1;
}

void hist_record(struct hist *h, uint64_t us) {
  h->count[hist_bucket(us)]++;
  h->n++;
  h->sum_us += us;
  if (us > h->max_us) h->max_us = us;
}

void hist_merge(struct hist *dst, const struct hist *src) {
  for (unsigned i = 0; i < HIST_BUCKETS; i++) dst->count[i] += src->count[i];
  dst->n += src->n;
  dst->sum_us += src->sum_us;
  if (src->max_us > dst->max_us) dst->max_us = src->max_us;
}

uint64_t hist_quantile(const struct hist *h, double q) {
  if (!h->n) return 0;
  if (q < 0) q = 0;
  if (q > 1) q = 1;
  uint64_t rank = (uint64_t)(q * (double)h->n + 0.999999); /* ceil, at least 1 */
  if (rank < 1) rank = 1;
  if (rank > h->n) rank = h->n;
  uint64_t seen = 0;
  for (unsigned i = 0; i < HIST_BUCKETS; i++) {
    seen += h->count[i];
    if (seen >= rank) {
      uint64_t lo, hi;
      hist_bucket_range(i, &lo, &hi);
      return hi < h->max_us ? hi : h->max_us;
    }
  }
  return h->max_us;
}
