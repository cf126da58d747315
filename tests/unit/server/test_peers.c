/* SPDX-License-Identifier: MIT */
/* test_peers.c -- per-address limits (peers.c): connections, their rate, handshakes, failed
 * password logins and their back-off, forgetting idle addresses. Times are given, not read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "peers.h"

#define A 0x0a000001u
#define B 0x0a000002u

static const struct peer_limits lim = {.max_connections = 3, .connection_rate = 5,
                                       .max_handshakes = 2, .failures_max = 3,
                                       .failure_window = 60000, .backoff = 30000};

static void test_connections(void **state) {
  (void)state;
  struct peers *p = peers_new(&lim);
  for (int i = 0; i < 3; i++) assert_int_equal(peers_connect(p, A, 1000), PEER_OK);
  assert_int_equal(peers_connect(p, A, 1000), PEER_TOO_MANY);
  assert_int_equal(peers_connect(p, B, 1000), PEER_OK); /* another address: its own count */
  peers_disconnect(p, A, false);
  assert_int_equal(peers_connect(p, A, 1000), PEER_OK);
  assert_string_equal(peer_verdict_text(PEER_TOO_MANY), "too many connections from this address");
  peers_free(&p);
  assert_null(p);
}

static void test_rate(void **state) {
  (void)state;
  struct peers *p = peers_new(&lim);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(peers_connect(p, A, 2000 + i), PEER_OK);
    peers_disconnect(p, A, false);
  }
  assert_int_equal(peers_connect(p, A, 2999), PEER_TOO_FAST); /* the same second */
  assert_int_equal(peers_connect(p, A, 3000), PEER_OK);        /* the next */
  peers_free(&p);
}

static void test_handshakes(void **state) {
  (void)state;
  struct peers *p = peers_new(&lim);
  assert_true(peers_handshake_start(p, A));
  assert_true(peers_handshake_start(p, A));
  assert_false(peers_handshake_start(p, A));
  assert_true(peers_handshake_start(p, B));
  peers_handshake_done(p, A);
  assert_true(peers_handshake_start(p, A));
  peers_disconnect(p, A, true); /* gone during its handshake */
  assert_true(peers_handshake_start(p, A));
  peers_free(&p);
}

static void test_login_backoff(void **state) {
  (void)state;
  struct peers *p = peers_new(&lim);
  assert_true(peers_login_allowed(p, A, 0));
  assert_false(peers_login_failed(p, A, 100));
  assert_false(peers_login_failed(p, A, 200));
  assert_true(peers_login_failed(p, A, 300)); /* the third starts the back-off */
  assert_false(peers_login_allowed(p, A, 301));
  assert_true(peers_login_allowed(p, B, 301));
  assert_false(peers_login_allowed(p, A, 30299));
  assert_true(peers_login_allowed(p, A, 30300));
  /* failures spread over more than a window never add up to a back-off */
  assert_false(peers_login_failed(p, B, 100000));
  assert_false(peers_login_failed(p, B, 130000));
  assert_false(peers_login_failed(p, B, 170000)); /* a new window began at 170000 */
  assert_false(peers_login_failed(p, B, 171000));
  assert_true(peers_login_allowed(p, B, 171001));
  peers_free(&p);
}

static void test_prune(void **state) {
  (void)state;
  struct peers *p = peers_new(&lim);
  assert_int_equal(peers_connect(p, A, 1000), PEER_OK);
  assert_int_equal(peers_connect(p, B, 1000), PEER_OK);
  peers_disconnect(p, B, false);
  for (uint32_t ip = 100; ip < 1100; ip++) {
    assert_int_equal(peers_connect(p, ip, 1000), PEER_OK);
    peers_disconnect(p, ip, false);
  }
  peers_login_failed(p, 5, 1000);
  assert_int_equal(peers_count(p), 1003);
  peers_prune(p, 1500); /* the same second: the rate windows are still remembered */
  assert_int_equal(peers_count(p), 1003);
  peers_prune(p, 5000); /* A is connected, 5 has a recent failure: the rest go */
  assert_int_equal(peers_count(p), 2);
  peers_prune(p, 1000000);
  assert_int_equal(peers_count(p), 1);
  peers_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_connections), cmocka_unit_test(test_rate),
    cmocka_unit_test(test_handshakes), cmocka_unit_test(test_login_backoff),
    cmocka_unit_test(test_prune),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
