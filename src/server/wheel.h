/* SPDX-License-Identifier: MIT */
/* wheel.h -- a hashed timing wheel: many deadlines, one uv timer.
 *
 * Each connected device has a deadline (login, then heartbeat); a uv_timer per device would
 * cost 152 bytes and a heap operation every time a window rolls. Here a deadline is a node in a
 * slot list (O(1) to add or remove, 24 bytes), and one uv timer ticking every `slot_ms` fires
 * the nodes of the slots that came due. A deadline fires at most one slot late. A deadline
 * further away than the wheel spans waits in the farthest slot and is re-filed when reached.
 *
 * Loop thread only. A node belongs to at most one wheel; wheel_del() on an unlinked node is a
 * no-op, and the fire callback may add the node again (or another one).
 */
#ifndef EF_WHEEL_H
#define EF_WHEEL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct wheel_node {
  struct wheel_node *next, *prev; /* NULL when not linked */
  int64_t due;                    /* uv_now() ms */
};

struct wheel;
typedef void (*wheel_fire_cb)(struct wheel_node *n, void *ud);

struct wheel {
  uv_timer_t timer;
  struct wheel_node *slots;       /* list heads (circular, sentinel nodes) */
  size_t nslots;
  int64_t slot_ms;
  int64_t done_until;             /* every deadline before this has been fired */
  wheel_fire_cb fire;
  void *ud;
};

void wheel_init(struct wheel *w, uv_loop_t *loop, int64_t slot_ms, size_t nslots,
                wheel_fire_cb fire, void *ud);
void wheel_add(struct wheel *w, struct wheel_node *n, int64_t due);
void wheel_del(struct wheel_node *n);
/* Stop ticking and free the slots; nodes still linked are simply forgotten. */
void wheel_stop(struct wheel *w);

#endif
