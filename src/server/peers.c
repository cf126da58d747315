/* SPDX-License-Identifier: MIT */
/* peers.c -- per source address limits (peers.h). */
#include "peers.h"

#include "mem.h"
#include "u64map.h"

struct peer {
  uint32_t conns;          /* open */
  uint32_t handshaking;    /* open and not past their handshake */
  int64_t rate_second;     /* now / 1000 of the current rate window */
  int64_t rate_count;      /* connections in it */
  int64_t fail_since;      /* start of the current failure window */
  int64_t fails;           /* failures in it */
  int64_t banned_until;    /* password logins refused before this */
};

struct peers {
  struct peer_limits lim;
  struct u64map map;       /* ip + 1 -> struct peer * (0 is the map's empty key) */
};

struct peers *peers_new(const struct peer_limits *lim) {
  struct peers *p = ef_calloc(1, sizeof *p);
  p->lim = *lim;
  u64map_init(&p->map);
  return p;
}

void peers_free(struct peers **pp) {
  struct peers *p = *pp;
  if (!p) return;
  uint64_t k;
  void *v;
  for (size_t it = 0; u64map_next(&p->map, &it, &k, &v);) ef_free(v);
  u64map_free(&p->map);
  ef_free(p);
  *pp = NULL;
}

static struct peer *get(struct peers *p, uint32_t ip, bool create) {
  struct peer *e = u64map_get(&p->map, (uint64_t)ip + 1);
  if (!e && create) {
    e = ef_calloc(1, sizeof *e);
    u64map_put(&p->map, (uint64_t)ip + 1, e);
  }
  return e;
}

enum peer_verdict peers_connect(struct peers *p, uint32_t ip, int64_t now) {
  struct peer *e = get(p, ip, true);
  if ((int64_t)e->conns >= p->lim.max_connections) return PEER_TOO_MANY;
  if (e->rate_second != now / 1000) {
    e->rate_second = now / 1000;
    e->rate_count = 0;
  }
  if (e->rate_count >= p->lim.connection_rate) return PEER_TOO_FAST;
  e->rate_count++;
  e->conns++;
  return PEER_OK;
}

bool peers_handshake_start(struct peers *p, uint32_t ip) {
  struct peer *e = get(p, ip, true);
  if ((int64_t)e->handshaking >= p->lim.max_handshakes) return false;
  e->handshaking++;
  return true;
}

void peers_handshake_done(struct peers *p, uint32_t ip) {
  struct peer *e = get(p, ip, false);
  if (e && e->handshaking) e->handshaking--;
}

void peers_disconnect(struct peers *p, uint32_t ip, bool handshaking) {
  struct peer *e = get(p, ip, false);
  if (!e) return;
  if (e->conns) e->conns--;
  if (handshaking && e->handshaking) e->handshaking--;
}

bool peers_login_allowed(struct peers *p, uint32_t ip, int64_t now) {
  struct peer *e = get(p, ip, false);
  return !e || e->banned_until <= now;
}

bool peers_login_failed(struct peers *p, uint32_t ip, int64_t now) {
  struct peer *e = get(p, ip, true);
  if (now - e->fail_since >= p->lim.failure_window) {
    e->fail_since = now;
    e->fails = 0;
  }
  if (++e->fails < p->lim.failures_max) return false;
  bool starts = e->banned_until <= now;
  e->banned_until = now + p->lim.backoff;
  e->fails = 0;
  e->fail_since = now;
  return starts;
}

void peers_prune(struct peers *p, int64_t now) {
  /* Deleting moves a hash map's entries, so the idle ones are collected first. */
  uint64_t *idle = ef_malloc((p->map.len + 1) * sizeof *idle);
  size_t n = 0;
  uint64_t k;
  void *v;
  for (size_t it = 0; u64map_next(&p->map, &it, &k, &v);) {
    struct peer *e = v;
    if (!e->conns && e->banned_until <= now && e->rate_second != now / 1000 &&
        !(e->fails && now - e->fail_since < p->lim.failure_window))
      idle[n++] = k;
  }
  for (size_t i = 0; i < n; i++) ef_free(u64map_del(&p->map, idle[i]));
  ef_free(idle);
}

size_t peers_count(const struct peers *p) { return p->map.len; }

const char *peer_verdict_text(enum peer_verdict v) {
  switch (v) {
  case PEER_TOO_MANY: return "too many connections from this address";
  case PEER_TOO_FAST: return "connecting too fast from this address";
  default: return "ok";
  }
}
