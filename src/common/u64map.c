/* SPDX-License-Identifier: MIT */
/* u64map.c -- integer-keyed hash map (see u64map.h). */
#include "u64map.h"

#include <string.h>

#include "mem.h"

static inline size_t slot_of(uint64_t key, size_t mask) {
  key ^= key >> 33; /* murmur3 finalizer: snowflake ids differ mostly in low/middle bits */
  key *= 0xff51afd7ed558ccdULL;
  key ^= key >> 33;
  return (size_t)key & mask;
}

void u64map_init(struct u64map *m) { memset(m, 0, sizeof *m); }

void u64map_free(struct u64map *m) {
  ef_free(m->slots);
  memset(m, 0, sizeof *m);
}

void *u64map_get(const struct u64map *m, uint64_t key) {
  if (!m->cap || !key) return NULL;
  size_t mask = m->cap - 1;
  for (size_t i = slot_of(key, mask);; i = (i + 1) & mask) {
    if (m->slots[i].key == key) return m->slots[i].val;
    if (m->slots[i].key == 0) return NULL;
  }
}

static void grow(struct u64map *m) {
  struct u64map old = *m;
  m->cap = old.cap ? old.cap * 2 : 64;
  m->slots = ef_calloc(m->cap, sizeof *m->slots);
  m->len = 0;
  for (size_t i = 0; i < old.cap; i++)
    if (old.slots[i].key) u64map_put(m, old.slots[i].key, old.slots[i].val);
  ef_free(old.slots);
}

void *u64map_put(struct u64map *m, uint64_t key, void *val) {
  if ((m->len + 1) * 2 > m->cap) grow(m);
  size_t mask = m->cap - 1;
  for (size_t i = slot_of(key, mask);; i = (i + 1) & mask) {
    if (m->slots[i].key == key) {
      void *prev = m->slots[i].val;
      m->slots[i].val = val;
      return prev;
    }
    if (m->slots[i].key == 0) {
      m->slots[i].key = key;
      m->slots[i].val = val;
      m->len++;
      return NULL;
    }
  }
}

void *u64map_del(struct u64map *m, uint64_t key) {
  if (!m->cap || !key) return NULL;
  size_t mask = m->cap - 1, i = slot_of(key, mask);
  while (m->slots[i].key != key) {
    if (m->slots[i].key == 0) return NULL;
    i = (i + 1) & mask;
  }
  void *val = m->slots[i].val;
  /* Backward-shift: pull later members of the probe run into the hole. */
  for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
    size_t home = slot_of(m->slots[j].key, mask);
    /* move j to i when its home is not in (i, j] (cyclically) */
    if (((j - home) & mask) >= ((j - i) & mask)) {
      m->slots[i] = m->slots[j];
      i = j;
    }
  }
  m->slots[i].key = 0;
  m->slots[i].val = NULL;
  m->len--;
  return val;
}

int u64map_next(const struct u64map *m, size_t *iter, uint64_t *key, void **val) {
  for (size_t i = *iter; i < m->cap; i++)
    if (m->slots[i].key) {
      *key = m->slots[i].key;
      *val = m->slots[i].val;
      *iter = i + 1;
      return 1;
    }
  return 0;
}
