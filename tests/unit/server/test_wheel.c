/* SPDX-License-Identifier: MIT */
/* test_wheel.c -- the timing wheel (src/server/wheel.c) on a real libuv loop: deadlines fire in
 * order and at most one slot late, deleted nodes never fire, deadlines beyond the wheel's span
 * are re-filed, and a callback may add nodes again. Within one slot, order is not kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <uv.h>

#include "wheel.h"

#define N 40

struct rec {
  struct wheel_node node;
  int64_t fired_at; /* uv_now, 0 = not fired */
  int again;        /* add itself once more, this many ms later */
};

static struct wheel w;
static struct rec recs[N];
static int fired;
static int64_t last_due;
static bool in_order = true;

static void on_fire(struct wheel_node *n, void *ud) {
  (void)ud;
  struct rec *r = (struct rec *)n;
  int64_t now = (int64_t)uv_now(w.timer.loop);
  if (n->due / 10 < last_due / 10) in_order = false; /* ordered by slot, not within one */
  last_due = n->due;
  r->fired_at = now;
  fired++;
  if (r->again) {
    int64_t in = r->again;
    r->again = 0;
    wheel_add(&w, n, now + in);
  }
}

static void on_stop(uv_timer_t *t) {
  wheel_stop(&w);
  uv_close((uv_handle_t *)t, NULL);
}

static void test_wheel(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_update_time(&loop);
  int64_t t0 = (int64_t)uv_now(&loop);
  /* 10 ms slots, 20 of them: a 200 ms span; some deadlines beyond it */
  wheel_init(&w, &loop, 10, 20, on_fire, NULL);
  for (int i = 0; i < N; i++) wheel_add(&w, &recs[i].node, t0 + 7 * (N - i)); /* 7..280 ms */
  recs[3].again = 50;                  /* fires twice */
  wheel_del(&recs[5].node);            /* never fires */
  wheel_del(&recs[5].node);            /* twice is fine */
  wheel_add(&w, &recs[6].node, t0 + 400); /* moved: far beyond the span */
  uv_timer_t stop;
  uv_timer_init(&loop, &stop);
  uv_timer_start(&stop, on_stop, 600, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);

  assert_true(in_order);
  assert_int_equal(fired, N - 1 + 1); /* all but #5, and #3 twice */
  assert_int_equal(recs[5].fired_at, 0);
  for (int i = 0; i < N; i++) {
    if (i == 5) continue;
    int64_t due = recs[i].node.due; /* #3 and #6: their last deadline */
    assert_true(recs[i].fired_at >= due);
    /* Never early; late by a slot plus the loop's own delay, which a busy machine (a parallel
     * build, sanitizers) stretches: the bound only catches a deadline fired a whole turn of
     * the wheel late, not scheduling jitter. */
    assert_true(recs[i].fired_at <= due + 10 + 1000);
  }
  assert_true(recs[6].fired_at >= t0 + 400);
  assert_null(recs[0].node.next); /* fired nodes are unlinked */
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_wheel)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
