/* SPDX-License-Identifier: MIT */
/* clock.h -- the two clocks: wall time in ms (stored timestamps), monotonic ms (timeouts). */
#ifndef EF_CLOCK_H
#define EF_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t ef_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t ef_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
