/* SPDX-License-Identifier: MIT */
/* stats.c -- the server's own counters (stats.h): the one instance and the order histogram. */
#include "stats.h"

struct stats ef_stats;

const double stats_order_bucket_le[STATS_ORDER_BUCKETS] = {0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,  1,     2.5,  5,   10};

void stats_order(enum stats_order_outcome o, int64_t ms) {
  ef_stats.orders[o]++;
  double s = (double)(ms < 0 ? 0 : ms) / 1000.0;
  ef_stats.order_seconds_sum += s;
  int i = 0;
  while (i < STATS_ORDER_BUCKETS && s > stats_order_bucket_le[i]) i++;
  ef_stats.order_buckets[i]++;
}
