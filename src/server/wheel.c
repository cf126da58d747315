/* SPDX-License-Identifier: MIT */
/* wheel.c -- the hashed timing wheel (see wheel.h). */
#include "wheel.h"

#include "mem.h"

static void link_before(struct wheel_node *head, struct wheel_node *n) {
  n->prev = head->prev;
  n->next = head;
  head->prev->next = n;
  head->prev = n;
}

void wheel_del(struct wheel_node *n) {
  if (!n->next) return;
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n->prev = NULL;
}

void wheel_add(struct wheel *w, struct wheel_node *n, int64_t due) {
  wheel_del(n);
  n->due = due;
  /* Slot of the deadline, clamped to the wheel's span (re-filed when that slot comes). */
  int64_t first = w->done_until / w->slot_ms;
  int64_t s = due / w->slot_ms;
  if (s < first) s = first;
  if (s > first + (int64_t)w->nslots - 1) s = first + (int64_t)w->nslots - 1;
  link_before(&w->slots[(size_t)s % w->nslots], n);
}

static void on_tick(uv_timer_t *t) {
  struct wheel *w = t->data;
  int64_t now = (int64_t)uv_now(t->loop);
  /* Every slot that has wholly passed, in order (a busy loop may have skipped ticks): its
   * deadlines are all due, so none fires early and none more than a slot late. */
  while (w->done_until + w->slot_ms <= now) {
    struct wheel_node *head = &w->slots[(size_t)(w->done_until / w->slot_ms) % w->nslots];
    w->done_until += w->slot_ms;
    /* Detach the slot first: callbacks may add nodes, to this very slot too. */
    struct wheel_node pending = {&pending, &pending, 0};
    if (head->next != head) {
      pending.next = head->next;
      pending.prev = head->prev;
      pending.next->prev = &pending;
      pending.prev->next = &pending;
      head->next = head->prev = head;
    }
    while (pending.next != &pending) {
      struct wheel_node *n = pending.next;
      wheel_del(n);
      if (n->due >= w->done_until) wheel_add(w, n, n->due); /* clamped, not yet due */
      else w->fire(n, w->ud);
    }
  }
}

void wheel_init(struct wheel *w, uv_loop_t *loop, int64_t slot_ms, size_t nslots,
                wheel_fire_cb fire, void *ud) {
  w->slot_ms = slot_ms > 0 ? slot_ms : 1;
  w->nslots = nslots ? nslots : 1;
  w->slots = ef_malloc(w->nslots * sizeof *w->slots);
  for (size_t i = 0; i < w->nslots; i++) w->slots[i].next = w->slots[i].prev = &w->slots[i];
  w->fire = fire;
  w->ud = ud;
  w->done_until = (int64_t)uv_now(loop) / w->slot_ms * w->slot_ms;
  uv_timer_init(loop, &w->timer);
  w->timer.data = w;
  uv_timer_start(&w->timer, on_tick, (uint64_t)w->slot_ms, (uint64_t)w->slot_ms);
}

static void free_slots(uv_handle_t *h) { ef_free(((struct wheel *)h->data)->slots); }

void wheel_stop(struct wheel *w) {
  uv_timer_stop(&w->timer);
  uv_close((uv_handle_t *)&w->timer, free_slots);
}
