/* SPDX-License-Identifier: MIT */
/* id.c -- snowflake id generator (see id.h for the layout). */
#include "id.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"

#define EPOCH_MS 1704067200000LL /* 2024-01-01T00:00:00Z */

static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned id_node;
static int64_t id_last_ms;
static unsigned id_seq;

void id_set_node(unsigned node) { id_node = node & 0x3ff; }

uint64_t id_next(void) {
  pthread_mutex_lock(&id_lock);
  int64_t now = ef_now_ms() - EPOCH_MS;
  if (now < id_last_ms) now = id_last_ms; /* clock stepped back: keep monotonic */
  if (now == id_last_ms) {
    id_seq = (id_seq + 1) & 0xfff;
    if (id_seq == 0) now = ++id_last_ms; /* 4096 ids in one ms: borrow the next ms */
  } else {
    id_seq = 0;
  }
  id_last_ms = now;
  uint64_t id = ((uint64_t)now << 22) | ((uint64_t)id_node << 12) | id_seq;
  pthread_mutex_unlock(&id_lock);
  return id;
}

char *id_format(uint64_t id, char *buf) {
  snprintf(buf, EF_ID_STRLEN, "%llu", (unsigned long long)id);
  return buf;
}

bool id_parse(const char *s, uint64_t *out) {
  if (!s || *s < '0' || *s > '9') return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v == 0) return false;
  *out = v;
  return true;
}
