/* SPDX-License-Identifier: MIT */
/* test_auth.c -- API tokens (src/server/auth.c) on a real in-memory SQLite store: the first start
 * makes an admin token and writes it once to <data_dir>/admin.token; auth_identify tells tokens
 * apart by kind and slot; auth_rate is a token bucket per token (GCRA): `burst` requests at once,
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

#include "crypto.h"
#include "server.h"

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

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bucket, setup, teardown),
    cmocka_unit_test_setup_teardown(test_peek_and_tokens_apart, setup, teardown),
    cmocka_unit_test_setup_teardown(test_high_rate, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
