/* SPDX-License-Identifier: MIT */
/* failover.c -- the `server` list and the round robin over it with its waits (see failover.h). */
#include "failover.h"

#include <stdio.h>
#include <string.h>

#include "edge_internal.h"
#include "edgefleet/error.h"
#include "mem.h"

static bool blank(char ch) { return ch == ' ' || ch == '\t'; }

int failover_parse(const char *list, struct failover *out, char *err, size_t errlen) {
  if (out) memset(out, 0, sizeof *out);
  if (!list || !*list) {
    snprintf(err, errlen, "server: not set (ws://host:port/path or wss://..., several "
                          "separated by commas)");
    return EF_ECONFIG;
  }
  struct failover_server *v = NULL;
  size_t n = 0;
  const char *p = list;
  for (;;) {
    const char *end = strchr(p, ','), *stop = end ? end : p + strlen(p);
    const char *a = p, *b = stop;
    while (a < b && blank(*a)) a++;
    while (b > a && blank(b[-1])) b--;
    if (a == b) {
      snprintf(err, errlen, "server: empty URL in the list '%s' (URLs are separated by one comma)",
               list);
      goto fail_item;
    }
    if (n == FAILOVER_MAX) {
      snprintf(err, errlen, "server: more than %d URLs", FAILOVER_MAX);
      goto fail_item;
    }
    char text[FAILOVER_TEXT_MAX];
    if ((size_t)(b - a) >= sizeof text) {
      snprintf(err, errlen, "server: URL %zu is longer than %d characters", n + 1,
               FAILOVER_TEXT_MAX - 1);
      goto fail_item;
    }
    memcpy(text, a, (size_t)(b - a));
    text[b - a] = '\0';
    struct edge_url u;
    if (options_parse_url(text, &u, err, errlen) != 0) goto fail_item;
    if (out) {
      v = ef_realloc(v, (n + 1) * sizeof *v);
      v[n].url = u;
      memcpy(v[n].text, text, (size_t)(b - a) + 1);
    }
    n++;
    if (!end) break;
    p = end + 1;
  }
  if (out) {
    out->v = v;
    out->n = n;
  }
  return 0;
fail_item:
  ef_free(v);
  return EF_ECONFIG;
}

void failover_free(struct failover *f) {
  if (!f) return;
  ef_free(f->v);
  memset(f, 0, sizeof *f);
}

void failover_start(struct failover *f, failover_rand_fn rnd, void *ud) {
  f->cur = f->n > 1 ? (size_t)(rnd(ud) % f->n) : 0;
  f->round_pos = 0;
  f->failed = 0;
}

void failover_logged_in(struct failover *f) {
  f->round_pos = 0;
  f->failed = 0;
}

struct failover_step failover_next(struct failover *f, enum failover_end how, int64_t up_ms,
                                   const struct failover_timing *t, failover_rand_fn rnd,
                                   void *ud) {
  struct failover_step s = {0};
  bool full;
  if (how == FAILOVER_DROPPED) {
    /* A new round that has used up the server which dropped us. */
    f->failed = 0;
    f->round_pos = 1;
    s.round_done = f->round_pos >= f->n;
    full = s.round_done || up_ms < t->interval;
  } else {
    f->failed++;
    /* n <= FAILOVER_MAX and max_retries is bounded by its option row: no overflow */
    if (t->max_retries > 0 && f->failed >= t->max_retries * (int64_t)f->n) {
      s.give_up = true;
      return s;
    }
    f->round_pos++;
    s.round_done = f->round_pos >= f->n;
    full = s.round_done;
  }
  if (full) f->round_pos = 0; /* the next attempt opens a new round */
  f->cur = f->n ? (f->cur + 1) % f->n : 0;
  uint64_t jitter = t->jitter > 0 ? rnd(ud) % ((uint64_t)t->jitter + 1) : 0;
  s.next = f->cur;
  s.full_wait = full;
  s.delay_ms = jitter + (full && t->interval > 0 ? (uint64_t)t->interval : 0);
  return s;
}

bool failover_any_tls(const struct failover *f) {
  for (size_t i = 0; i < f->n; i++)
    if (f->v[i].url.tls) return true;
  return false;
}
