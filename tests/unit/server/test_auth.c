/* SPDX-License-Identifier: MIT */
/* test_auth.c -- API tokens (src/server/auth.c) on a real in-memory SQLite store: the first start
 * makes an admin token and writes it once to <data_dir>/admin.token; auth_identify tells tokens
 * apart by scope and slot, refuses expired and revoked ones; revocation tells the listeners; last
 * uses are written behind through the database thread (stubbed: jobs run here); group-limited
 * tokens see their groups' devices once the views are built; auth_rate is a token bucket per token (GCRA): `burst` requests at once,
 * then one per 1/rate, each token on its own, a peek counting nothing, rate 0 unlimited. Times
 * are given, not read from a clock: nothing here depends on how fast the test runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "crypto.h"
#include "server.h"
#include "stubs.h"

#define MS 1000000ull /* ns */
#define T0 (1000 * MS) /* an arbitrary start on the monotonic clock */

static struct store *st;
static struct auth *auth;
static char dir[64];
static char admin_hdr[EF_TOKEN_STRLEN + 16], read_hdr[EF_TOKEN_STRLEN + 16];

static int setup(void **state) {
  (void)state;
  char err[256];
  snprintf(dir, sizeof dir, "ef-test-auth-XXXXXX"); /* in the working directory: the build */
  assert_non_null(mkdtemp(dir));
  assert_int_equal(store_open("sqlite::memory:", &st, err, sizeof err), 0);
  stub_worker_reset(st);
  assert_int_equal(auth_init(st, dir, &auth, err, sizeof err), 0);

  char path[128], tok[EF_TOKEN_STRLEN + 2] = "";
  snprintf(path, sizeof path, "%s/admin.token", dir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  assert_non_null(fgets(tok, sizeof tok, f));
  fclose(f);
  tok[strcspn(tok, "\n")] = '\0';
  snprintf(admin_hdr, sizeof admin_hdr, "Bearer %s", tok);
  unlink(path);

  /* a read token, as api_token_add makes it */
  struct store_token t;
  char clear[EF_TOKEN_STRLEN], hash[EF_SHA256_HEXLEN];
  assert_int_equal(auth_new_token("wall", "read", &t, clear, hash), 0);
  assert_int_equal(st->ops->token_add(st, &t), 0);
  auth_add(auth, &t);
  snprintf(read_hdr, sizeof read_hdr, "Bearer %s", clear);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  stub_worker_run();
  auth_free(&auth);
  store_close(&st);
  rmdir(dir);
  return 0;
}

static void test_identify(void **state) {
  (void)state;
  size_t a = 99, r = 99, x = 77;
  assert_int_equal(auth_identify(auth, admin_hdr, &a), AUTH_ADMIN);
  assert_int_equal(auth_identify(auth, read_hdr, &r), AUTH_READ);
  assert_true(a != r && a < 2 && r < 2);
  assert_int_equal(auth_check(auth, admin_hdr), AUTH_ADMIN);
  assert_int_equal(auth_check(auth, read_hdr), AUTH_READ);
  assert_int_equal(auth_identify(auth, "Bearer nope", &x), AUTH_NONE);
  assert_int_equal(x, 77); /* untouched */
  assert_int_equal(auth_identify(auth, NULL, &x), AUTH_NONE);
  assert_int_equal(auth_identify(auth, admin_hdr + 7, &x), AUTH_NONE); /* no "Bearer " */
}

/* burst 3 at 10/s: three at once, then one per 100 ms; the refusal says how long to wait. */
static void test_bucket(void **state) {
  (void)state;
  size_t a;
  assert_int_equal(auth_identify(auth, admin_hdr, &a), AUTH_ADMIN);
  for (int i = 0; i < 3; i++) assert_int_equal(auth_rate(auth, a, 10, 3, T0, false), 0);
  assert_int_equal(auth_rate(auth, a, 10, 3, T0, false), 100);
  assert_int_equal(auth_rate(auth, a, 10, 3, T0, false), 100); /* a refusal counts nothing */
  assert_int_equal(auth_rate(auth, a, 10, 3, T0 + 40 * MS, false), 60);
  assert_int_equal(auth_rate(auth, a, 10, 3, T0 + 100 * MS, false), 0);
  assert_int_equal(auth_rate(auth, a, 10, 3, T0 + 100 * MS, false), 100);
  assert_int_equal(auth_rate(auth, a, 10, 3, T0 + 199 * MS, true), 1); /* rounded up */
  assert_int_equal(auth_rate(auth, a, 10, 3, T0 + 200 * MS, false), 0);
  /* a long pause refills the bucket to `burst`, not beyond */
  uint64_t later = T0 + 3600000 * MS;
  for (int i = 0; i < 3; i++) assert_int_equal(auth_rate(auth, a, 10, 3, later, false), 0);
  assert_true(auth_rate(auth, a, 10, 3, later, false) > 0);
}

static void test_peek_and_tokens_apart(void **state) {
  (void)state;
  size_t a, r;
  auth_identify(auth, admin_hdr, &a);
  auth_identify(auth, read_hdr, &r);
  /* peeks count nothing */
  for (int i = 0; i < 10; i++) assert_int_equal(auth_rate(auth, a, 1, 2, T0, true), 0);
  assert_int_equal(auth_rate(auth, a, 1, 2, T0, false), 0);
  assert_int_equal(auth_rate(auth, a, 1, 2, T0, false), 0);
  assert_int_equal(auth_rate(auth, a, 1, 2, T0, true), 1000);
  assert_int_equal(auth_rate(auth, a, 1, 2, T0, false), 1000);
  /* the other token has its own bucket */
  assert_int_equal(auth_rate(auth, r, 1, 2, T0, false), 0);
  assert_int_equal(auth_rate(auth, r, 1, 2, T0, false), 0);
  assert_int_equal(auth_rate(auth, r, 1, 2, T0, false), 1000);
  /* burst 1: one at a time */
  assert_int_equal(auth_rate(auth, a, 1, 1, T0 + 5000 * MS, false), 0);
  assert_int_equal(auth_rate(auth, a, 1, 1, T0 + 5000 * MS, false), 1000);
  /* rate 0: no limit; an unknown slot is not limited either */
  for (int i = 0; i < 1000; i++) assert_int_equal(auth_rate(auth, a, 0, 1, T0, false), 0);
  assert_int_equal(auth_rate(auth, 12345, 1, 1, T0, false), 0);
}

/* The largest rate the option allows still counts: 10M/s is one request per 100 ns. */
static void test_high_rate(void **state) {
  (void)state;
  size_t a;
  auth_identify(auth, admin_hdr, &a);
  for (int i = 0; i < 10; i++) assert_int_equal(auth_rate(auth, a, 10000000, 10, T0, false), 0);
  assert_int_equal(auth_rate(auth, a, 10000000, 10, T0, false), 1); /* < 1 ms, rounded up */
  assert_int_equal(auth_rate(auth, a, 10000000, 10, T0 + 100, false), 0);
}

/* A token as api_token_add makes it: stored, then accepted; its "Bearer ..." in hdr. */
static struct store_token add_token(const char *name, const char *scope, const char *groups,
                                    int64_t expires, char *hdr) {
  struct store_token t;
  char clear[EF_TOKEN_STRLEN], hash[EF_SHA256_HEXLEN];
  assert_int_equal(auth_new_token(name, scope, &t, clear, hash), 0);
  t.groups = (char *)groups;
  t.expires_time = expires;
  assert_int_equal(st->ops->token_add(st, &t), 0);
  auth_add(auth, &t);
  sprintf(hdr, "Bearer %s", clear);
  t.token_hash = NULL; /* the caller's stack */
  return t;
}

static void test_scopes_and_expiry(void **state) {
  (void)state;
  char op[EF_TOKEN_STRLEN + 16], old[EF_TOKEN_STRLEN + 16], later[EF_TOKEN_STRLEN + 16];
  add_token("ops", "operator", NULL, 0, op);
  add_token("old", "read", NULL, ef_now_ms() - 1, old);
  add_token("later", "read", NULL, ef_now_ms() + 3600000, later);
  size_t s = 99;
  assert_int_equal(auth_identify(auth, op, &s), AUTH_OPERATOR);
  assert_string_equal(auth_slot(auth, s)->name, "ops");
  assert_int_equal(auth_slot(auth, s)->scope, AUTH_OPERATOR);
  assert_null(auth_slot(auth, s)->view);
  assert_true(AUTH_READ < AUTH_OPERATOR && AUTH_OPERATOR < AUTH_ADMIN); /* rest.c compares */
  assert_int_equal(auth_identify(auth, old, &s), AUTH_EXPIRED);
  assert_false(auth_slot_valid(auth, s, ef_now_ms()));
  assert_int_equal(auth_identify(auth, later, &s), AUTH_READ);
  assert_true(auth_slot_valid(auth, s, ef_now_ms()));
  assert_false(auth_slot_valid(auth, s, ef_now_ms() + 3600001));
  assert_int_equal(auth_scope_parse("operator"), AUTH_OPERATOR);
  assert_int_equal(auth_scope_parse("root"), AUTH_NONE);
  assert_int_equal(auth_scope_parse(NULL), AUTH_NONE);
  assert_string_equal(auth_scope_name(AUTH_ADMIN), "admin");
}

static size_t revoked_slots[8], n_revoked;
static void on_revoke(void *ud, size_t slot) {
  assert_ptr_equal(ud, &n_revoked);
  revoked_slots[n_revoked++] = slot;
}

static void test_revoke(void **state) {
  (void)state;
  n_revoked = 0;
  auth_listen(auth, on_revoke, &n_revoked);
  size_t r;
  assert_int_equal(auth_identify(auth, read_hdr, &r), AUTH_READ);
  uint64_t id = auth_slot(auth, r)->token_id;
  assert_true(auth_revoke(auth, id));
  assert_int_equal(n_revoked, 1);
  assert_int_equal(revoked_slots[0], r);
  assert_int_equal(auth_identify(auth, read_hdr, &r), AUTH_NONE); /* at once */
  assert_false(auth_slot_valid(auth, r, ef_now_ms()));
  assert_false(auth_revoke(auth, id)); /* once */
  assert_false(auth_revoke(auth, 424242));
  assert_int_equal(n_revoked, 1);
  /* the others stay */
  size_t a;
  assert_int_equal(auth_identify(auth, admin_hdr, &a), AUTH_ADMIN);
}

/* Last use: in memory at once, in the database only when written behind (one transaction). */
static void test_last_used_written_behind(void **state) {
  (void)state;
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  auth_start(auth, &loop, (struct worker *)&loop, 3600000); /* the stub ignores the worker */
  stub_worker_run(); /* the views: none limited */
  size_t r;
  int64_t before = ef_now_ms();
  assert_int_equal(auth_identify(auth, read_hdr, &r), AUTH_READ);
  assert_true(auth_slot(auth, r)->last_used >= before);
  struct store_token *ts;
  size_t n;
  assert_int_equal(st->ops->token_list(st, &ts, &n), 0);
  for (size_t i = 0; i < n; i++) assert_int_equal(ts[i].last_used_time, 0); /* not yet */
  store_tokens_free(ts, n);
  size_t jobs = stub_worker_submitted();
  auth_flush_used(auth);
  assert_int_equal(stub_worker_submitted(), jobs + 1);
  auth_flush_used(auth); /* one in flight: no second */
  assert_int_equal(stub_worker_submitted(), jobs + 1);
  stub_worker_run();
  assert_int_equal(st->ops->token_list(st, &ts, &n), 0);
  size_t used = 0;
  for (size_t i = 0; i < n; i++)
    if (ts[i].last_used_time) {
      used++;
      assert_int_equal(ts[i].last_used_time, auth_slot(auth, r)->last_used);
    }
  assert_int_equal(used, 1);
  store_tokens_free(ts, n);
  auth_flush_used(auth); /* nothing new: no job */
  assert_int_equal(stub_worker_submitted(), jobs + 1);
  auth_stop(auth);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

static int refreshed;
static void on_refreshed(void *ud) {
  assert_ptr_equal(ud, &refreshed);
  refreshed++;
}

/* A group-limited token sees its groups' members once the views are built, and follows changes
 * after a refresh; an unlimited one sees everything, and no refresh is needed without limited
 * tokens. */
static void test_group_views(void **state) {
  (void)state;
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  auth_start(auth, &loop, (struct worker *)&loop, 3600000);
  stub_worker_run();
  refreshed = 0;
  assert_false(auth_views_refresh(auth, on_refreshed, &refreshed)); /* nobody limited */
  for (uint64_t d = 1; d <= 3; d++) {
    struct store_device dev = {.device_id = d, .hardware_sn = (char[]){(char)('0' + d), 0},
                               .hardware_model = "m"};
    assert_int_equal(st->ops->device_add(st, &dev), 0);
  }
  struct store_group g1 = {.group_id = 10, .group_name = "a"}, g2 = {.group_id = 20, .group_name = "b"};
  assert_int_equal(st->ops->group_add(st, &g1), 0);
  assert_int_equal(st->ops->group_add(st, &g2), 0);
  assert_int_equal(st->ops->relation_add(st, 1, 10, 1), 0);
  assert_int_equal(st->ops->relation_add(st, 2, 20, 1), 0);
  char lim[EF_TOKEN_STRLEN + 16];
  add_token("team-a", "read", "10,30", 0, lim);
  size_t s;
  assert_int_equal(auth_identify(auth, lim, &s), AUTH_READ);
  const struct auth_view *v = auth_slot(auth, s)->view;
  assert_non_null(v);
  assert_false(auth_view_has_device(v, 1)); /* not built yet: nothing */
  assert_true(auth_views_refresh(auth, on_refreshed, &refreshed));
  assert_true(auth_views_refresh(auth, on_refreshed, &refreshed)); /* while building: again */
  assert_int_equal(stub_worker_run(), 2);
  assert_int_equal(refreshed, 2);
  v = auth_slot(auth, s)->view;
  assert_true(auth_view_has_device(v, 1));
  assert_false(auth_view_has_device(v, 2));
  assert_false(auth_view_has_device(v, 3));
  assert_true(auth_view_has_group(v, 10));
  assert_true(auth_view_has_group(v, 30)); /* its own, even deleted or not made yet */
  assert_false(auth_view_has_group(v, 20));
  assert_true(auth_view_has_device(NULL, 3)); /* unlimited */
  /* a held view stays valid when a new one replaces it */
  struct auth_view *held = auth_slot(auth, s)->view;
  auth_view_hold(held);
  assert_int_equal(st->ops->relation_add(st, 3, 10, 1), 0);
  assert_true(auth_views_refresh(auth, NULL, NULL));
  stub_worker_run();
  assert_true(auth_view_has_device(auth_slot(auth, s)->view, 3));
  assert_false(auth_view_has_device(held, 3));
  auth_view_drop(held);
  auth_stop(auth);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bucket, setup, teardown),
    cmocka_unit_test_setup_teardown(test_peek_and_tokens_apart, setup, teardown),
    cmocka_unit_test_setup_teardown(test_high_rate, setup, teardown),
    cmocka_unit_test_setup_teardown(test_scopes_and_expiry, setup, teardown),
    cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
    cmocka_unit_test_setup_teardown(test_last_used_written_behind, setup, teardown),
    cmocka_unit_test_setup_teardown(test_group_views, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
