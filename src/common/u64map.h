/* SPDX-License-Identifier: MIT */
/* u64map.h -- a hash map from non-zero uint64 keys (snowflake ids) to pointers.
 *
 * Open addressing with linear probing and backward-shift deletion: no tombstones, 16 bytes per
 * slot, at most 50 % full. Lookups cost O(1) whatever the fleet size. Not thread-safe.
 * (Hand-written: none of the project's Debian dependencies offers an integer-keyed map.)
 */
#ifndef EF_U64MAP_H
#define EF_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct u64map_slot {
  uint64_t key; /* 0 = empty */
  void *val;
};

struct u64map {
  struct u64map_slot *slots;
  size_t cap; /* power of two, or 0 before the first put */
  size_t len;
};

void u64map_init(struct u64map *m);
void u64map_free(struct u64map *m);
void *u64map_get(const struct u64map *m, uint64_t key);
/* Insert or replace; returns the previous value or NULL. key must not be 0. */
void *u64map_put(struct u64map *m, uint64_t key, void *val);
/* Remove; returns the removed value or NULL. */
void *u64map_del(struct u64map *m, uint64_t key);
/* Iterate: for (size_t i = 0; u64map_next(m, &i, &k, &v);) { ... } -- no puts/dels inside. */
int u64map_next(const struct u64map *m, size_t *iter, uint64_t *key, void **val);

#endif
