/* SPDX-License-Identifier: MIT */
/* hist.h -- log-linear latency histogram with fixed buckets (1 µs .. 60 s), mergeable exactly.
 *
 * Values are microseconds. Below 16 µs every value has its own bucket; above, each power of two
 * is split into 16 equal sub-buckets, so a bucket is at most 1/16 (6.25 %) wide relative to its
 * value. The bucket layout is a compile-time constant: two histograms (from two worker
 * processes) merge by adding their counts, with no loss. Plain data, no pointers, so a
 * histogram can be written to a pipe as it is.
 */
#ifndef LG_HIST_H
#define LG_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 4
#define HIST_MAX_US 60000000ull /* 60 s: larger values count in the last bucket */
#define HIST_BUCKETS 384

struct hist {
  uint64_t count[HIST_BUCKETS];
  uint64_t n;      /* values recorded */
  uint64_t max_us; /* exact largest value */
  uint64_t sum_us; /* for the mean */
};

void hist_record(struct hist *h, uint64_t us);
/* dst += src. */
void hist_merge(struct hist *dst, const struct hist *src);
/* The value (µs) below which a fraction q (0..1) of the recorded values lie: the upper edge of
 * the bucket holding that rank, capped at the exact maximum. 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);
/* Bucket helpers, exposed for tests: the bucket of a value and the bucket's [lo, hi] range. */
unsigned hist_bucket(uint64_t us);
void hist_bucket_range(unsigned b, uint64_t *lo, uint64_t *hi);

#endif
