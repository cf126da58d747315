/* SPDX-License-Identifier: MIT */
/* test_failover.c -- the `server` list (src/edge/failover.c): parsing and checking a comma-separated
 * list of URLs, the random first server, and the choice of the next server and of the wait
 * before it, with a scripted random source instead of the client's generator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "edge_internal.h"
#include "edgefleet/edge.h"
#include "failover.h"

/* ----- a scripted random source ----- */

struct script {
  const uint64_t *v;
  size_t n, used;
};

static uint64_t scripted(void *ud) {
  struct script *s = ud;
  if (s->used >= s->n) fail_msg("the random source was asked more often than scripted");
  return s->v[s->used++];
}

/* ----- parsing ----- */

static void parse_single_and_list(void **state) {
  (void)state;
  struct failover f;
  char err[512] = "";
  assert_int_equal(failover_parse("ws://127.0.0.1:9090/ws", &f, err, sizeof err), 0);
  assert_int_equal(f.n, 1);
  assert_string_equal(f.v[0].text, "ws://127.0.0.1:9090/ws");
  assert_string_equal(f.v[0].url.host, "127.0.0.1");
  assert_int_equal(f.v[0].url.port, 9090);
  assert_false(failover_any_tls(&f));
  failover_free(&f);
  assert_null(f.v);
  assert_int_equal(f.n, 0);

  /* blanks around each URL are dropped; each is parsed like a single one */
  const char *list = " ws://a.example:1/ws ,wss://[::1]:9443/dev,\twss://b.example ";
  assert_int_equal(failover_parse(list, &f, err, sizeof err), 0);
  assert_int_equal(f.n, 3);
  assert_string_equal(f.v[0].text, "ws://a.example:1/ws");
  assert_false(f.v[0].url.tls);
  assert_string_equal(f.v[1].text, "wss://[::1]:9443/dev");
  assert_string_equal(f.v[1].url.host, "::1");
  assert_int_equal(f.v[1].url.port, 9443);
  assert_string_equal(f.v[1].url.path, "/dev");
  assert_true(f.v[1].url.tls);
  assert_string_equal(f.v[2].text, "wss://b.example");
  assert_int_equal(f.v[2].url.port, 443);
  assert_string_equal(f.v[2].url.path, "/");
  assert_true(failover_any_tls(&f));
  assert_int_equal(f.cur, 0);
  assert_int_equal(f.failed, 0);
  failover_free(&f);
  failover_free(NULL);

  /* NULL out: check only */
  assert_int_equal(failover_parse("ws://a/ws,ws://b/ws", NULL, err, sizeof err), 0);
}

static void parse_rejects(void **state) {
  (void)state;
  struct failover f;
  char err[512];
  static const struct {
    const char *list, *msg;
  } bad[] = {
      {NULL, "not set"},
      {"", "not set"},
      {"ws://a/ws,", "empty URL"},
      {",ws://a/ws", "empty URL"},
      {"ws://a/ws,,ws://b/ws", "empty URL"},
      {"ws://a/ws, ,ws://b/ws", "empty URL"},
      {" ", "empty URL"},
      {"ws://a/ws,http://b/ws", "'http://b/ws' must start with ws:// or wss://"},
      {"ws://a/ws,ws://b:0/ws", "'ws://b:0/ws' is not a ws[s]://host[:port][/path] URL"},
      {"wss://", "is not a ws[s]://host[:port][/path] URL"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    err[0] = '\0';
    f.n = 99;
    assert_int_equal(failover_parse(bad[i].list, &f, err, sizeof err), EF_ECONFIG);
    if (!strstr(err, bad[i].msg)) fail_msg("'%s': %s", bad[i].list ? bad[i].list : "NULL", err);
    assert_int_equal(f.n, 0); /* nothing to free after a failure */
    assert_null(f.v);
    assert_int_equal(failover_parse(bad[i].list, NULL, err, sizeof err), EF_ECONFIG);
  }

  /* at most FAILOVER_MAX URLs */
  char list[FAILOVER_MAX * 20 + 64] = "";
  size_t len = 0;
  for (int i = 0; i < FAILOVER_MAX; i++)
    len += (size_t)snprintf(list + len, sizeof list - len, "%sws://h%d/ws", i ? "," : "", i);
  assert_int_equal(failover_parse(list, &f, err, sizeof err), 0);
  assert_int_equal(f.n, FAILOVER_MAX);
  assert_string_equal(f.v[FAILOVER_MAX - 1].text, "ws://h31/ws");
  failover_free(&f);
  snprintf(list + len, sizeof list - len, ",ws://one-more/ws");
  assert_int_equal(failover_parse(list, &f, err, sizeof err), EF_ECONFIG);
  assert_non_null(strstr(err, "more than 32 URLs"));
}

/* ef_client_set checks every URL of the list when it is set, not only when the client runs. */
static void client_set_checks_lists(void **state) {
  (void)state;
  ef_client *c;
  assert_int_equal(ef_client_new(&c), 0);
  assert_int_equal(ef_client_set(c, "server", "ws://127.0.0.1:1/ws"), 0);
  assert_int_equal(ef_client_set(c, "server", "ws://127.0.0.1:1/ws, wss://127.0.0.2:2/ws"), 0);
  assert_string_equal(c->conf.server, "ws://127.0.0.1:1/ws, wss://127.0.0.2:2/ws");
  assert_int_equal(ef_client_set(c, "server", "ws://127.0.0.1:1/ws,tcp://h/"), EF_ECONFIG);
  assert_int_equal(ef_client_set(c, "server", "ws://127.0.0.1:1/ws,"), EF_ECONFIG);
  assert_string_equal(c->conf.server, "ws://127.0.0.1:1/ws, wss://127.0.0.2:2/ws"); /* kept */
  ef_client_free(&c);
}

/* ----- the first server ----- */

static void start_is_random(void **state) {
  (void)state;
  struct failover f;
  char err[256];
  assert_int_equal(failover_parse("ws://a/,ws://b/,ws://c/", &f, err, sizeof err), 0);
  static const uint64_t r[] = {7, 9, UINT64_MAX};
  struct script s = {r, 3, 0};
  failover_start(&f, scripted, &s);
  assert_int_equal(f.cur, 1); /* 7 % 3 */
  failover_start(&f, scripted, &s);
  assert_int_equal(f.cur, 0); /* 9 % 3 */
  failover_start(&f, scripted, &s);
  assert_int_equal(f.cur, 0); /* 2^64-1 % 3 */
  failover_free(&f);

  /* one URL: no draw (the jitter sequence of a single server is what it was) */
  assert_int_equal(failover_parse("ws://a/", &f, err, sizeof err), 0);
  struct script none = {NULL, 0, 0};
  failover_start(&f, scripted, &none);
  assert_int_equal(f.cur, 0);
  failover_free(&f);
}

/* ----- the next server and the wait ----- */

static const struct failover_timing T = {.interval = 10000, .jitter = 5000, .max_retries = 0};

/* One URL: every wait is reconnect_interval + [0, jitter], as before lists; the drop of a
 * logged-in connection too; max_retries counts attempts. */
static void single_server(void **state) {
  (void)state;
  struct failover f;
  char err[256];
  assert_int_equal(failover_parse("ws://a/", &f, err, sizeof err), 0);
  static const uint64_t r[] = {0, 5000, 5001, 123456};
  struct script s = {r, 4, 0};
  failover_start(&f, scripted, &s);
  struct failover_step st = failover_next(&f, FAILOVER_FAILED, 0, &T, scripted, &s);
  assert_false(st.give_up);
  assert_int_equal(st.next, 0);
  assert_true(st.full_wait);
  assert_true(st.round_done);
  assert_int_equal(st.delay_ms, 10000); /* 0 % 5001 */
  st = failover_next(&f, FAILOVER_FAILED, 0, &T, scripted, &s);
  assert_int_equal(st.delay_ms, 15000); /* the jitter's bound is included */
  failover_logged_in(&f);
  st = failover_next(&f, FAILOVER_DROPPED, 3600000, &T, scripted, &s);
  assert_true(st.full_wait);
  assert_int_equal(st.delay_ms, 10000); /* 5001 % 5001 */
  st = failover_next(&f, FAILOVER_DROPPED, 1, &T, scripted, &s);
  assert_int_equal(st.delay_ms, 10000 + 123456 % 5001);
  assert_int_equal(s.used, 4);

  /* max_retries = 3: the third failed attempt in a row gives up; a login resets the count */
  struct failover_timing t3 = {.interval = 100, .jitter = 0, .max_retries = 3};
  struct script none = {NULL, 0, 0}; /* no jitter: no draw */
  assert_false(failover_next(&f, FAILOVER_FAILED, 0, &t3, scripted, &none).give_up);
  assert_false(failover_next(&f, FAILOVER_FAILED, 0, &t3, scripted, &none).give_up);
  failover_logged_in(&f);
  assert_false(failover_next(&f, FAILOVER_DROPPED, 500, &t3, scripted, &none).give_up);
  st = failover_next(&f, FAILOVER_FAILED, 0, &t3, scripted, &none);
  assert_false(st.give_up);
  assert_int_equal(st.delay_ms, 100);
  assert_false(failover_next(&f, FAILOVER_FAILED, 0, &t3, scripted, &none).give_up);
  assert_true(failover_next(&f, FAILOVER_FAILED, 0, &t3, scripted, &none).give_up);
  assert_int_equal(f.failed, 3);
  failover_free(&f);
}

/* Three URLs, all failing: short waits within a round, the full wait once all three failed. */
static void failures_go_round_robin(void **state) {
  (void)state;
  struct failover f;
  char err[256];
  assert_int_equal(failover_parse("ws://a/,ws://b/,ws://c/", &f, err, sizeof err), 0);
  static const uint64_t r[] = {1, 100, 200, 300, 400, 500, 600};
  struct script s = {r, 7, 0};
  failover_start(&f, scripted, &s);
  assert_int_equal(f.cur, 1); /* b */
  struct {
    size_t next;
    uint64_t delay;
    bool full;
  } want[] = {
      {2, 100, false},         /* b failed: c, after [0, jitter] only */
      {0, 200, false},         /* c failed: a */
      {1, 10000 + 300, true},  /* a failed: all three did; b after the full wait */
      {2, 400, false},         /* the next round goes the same way */
      {0, 500, false},
      {1, 10000 + 600, true},
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    struct failover_step st = failover_next(&f, FAILOVER_FAILED, 0, &T, scripted, &s);
    assert_false(st.give_up);
    assert_int_equal(st.next, want[i].next);
    assert_int_equal(f.cur, want[i].next);
    assert_int_equal(st.delay_ms, want[i].delay);
    assert_int_equal(st.full_wait, want[i].full);
    assert_int_equal(st.round_done, want[i].full);
  }
  failover_free(&f);
}

/* A logged-in connection that ends: the next server after [0, jitter]; the one that dropped us
 * counts as used in the new round, so with two servers a failure of the other ends the round. */
static void drop_moves_on_quickly(void **state) {
  (void)state;
  struct failover f;
  char err[256];
  assert_int_equal(failover_parse("ws://a/,ws://b/", &f, err, sizeof err), 0);
  static const uint64_t r[] = {0, 4321, 77, 5, 6, 7};
  struct script s = {r, 6, 0};
  failover_start(&f, scripted, &s); /* a */
  failover_logged_in(&f);
  struct failover_step st = failover_next(&f, FAILOVER_DROPPED, 60000, &T, scripted, &s);
  assert_false(st.give_up);
  assert_int_equal(st.next, 1);
  assert_false(st.full_wait);
  assert_int_equal(st.delay_ms, 4321); /* within [0, reconnect_jitter] */
  /* b fails too: both are used up, a again after the full wait */
  st = failover_next(&f, FAILOVER_FAILED, 0, &T, scripted, &s);
  assert_int_equal(st.next, 0);
  assert_true(st.full_wait);
  assert_true(st.round_done);
  assert_int_equal(st.delay_ms, 10077);
  /* a answers; later it drops us and b takes us at once: then b drops us, back to a */
  failover_logged_in(&f);
  st = failover_next(&f, FAILOVER_DROPPED, 10000, &T, scripted, &s);
  assert_int_equal(st.next, 1);
  assert_int_equal(st.delay_ms, 5);
  failover_logged_in(&f);
  st = failover_next(&f, FAILOVER_DROPPED, 20000, &T, scripted, &s);
  assert_int_equal(st.next, 0);
  assert_false(st.full_wait);
  assert_int_equal(st.delay_ms, 6);
  /* a connection that lasted less than reconnect_interval earns no quick move: a node that
   * takes logins and drops them must not make its devices flap at jitter speed */
  failover_logged_in(&f);
  st = failover_next(&f, FAILOVER_DROPPED, 9999, &T, scripted, &s);
  assert_int_equal(st.next, 1);
  assert_true(st.full_wait);
  assert_false(st.round_done);
  assert_int_equal(st.delay_ms, 10007);
  assert_int_equal(s.used, 6);
  failover_free(&f);
}

/* max_retries counts rounds: max_retries x n attempts in a row without a login. */
static void max_retries_counts_rounds(void **state) {
  (void)state;
  struct failover f;
  char err[256];
  assert_int_equal(failover_parse("ws://a/,ws://b/,ws://c/", &f, err, sizeof err), 0);
  struct failover_timing t = {.interval = 1000, .jitter = 0, .max_retries = 2};
  struct script s = {(const uint64_t[]){2}, 1, 0};
  failover_start(&f, scripted, &s);
  for (int i = 1; i < 6; i++) {
    struct failover_step st = failover_next(&f, FAILOVER_FAILED, 0, &t, scripted, &s);
    assert_false(st.give_up);
    assert_int_equal(st.delay_ms, i % 3 == 0 ? 1000 : 0); /* jitter 0: no wait in a round */
  }
  assert_true(failover_next(&f, FAILOVER_FAILED, 0, &t, scripted, &s).give_up); /* 6 = 2 x 3 */

  /* after a drop the count starts again: every server is tried twice more */
  failover_logged_in(&f);
  assert_false(failover_next(&f, FAILOVER_DROPPED, 5000, &t, scripted, &s).give_up);
  for (int i = 1; i < 6; i++)
    assert_false(failover_next(&f, FAILOVER_FAILED, 0, &t, scripted, &s).give_up);
  assert_true(failover_next(&f, FAILOVER_FAILED, 0, &t, scripted, &s).give_up);

  /* 0 = forever */
  t.max_retries = 0;
  failover_logged_in(&f);
  for (int i = 0; i < 1000; i++)
    assert_false(failover_next(&f, FAILOVER_FAILED, 0, &t, scripted, &s).give_up);
  assert_int_equal(f.failed, 1000);
  failover_free(&f);
}

/* The waits stay in their ranges for any random number. */
static void waits_in_range(void **state) {
  (void)state;
  struct failover f;
  char err[256];
  assert_int_equal(failover_parse("ws://a/,ws://b/,ws://c/,ws://d/", &f, err, sizeof err), 0);
  uint64_t x = 0x9e3779b97f4a7c15ULL, r[1];
  struct script s = {r, 1, 0};
  struct failover_timing t = {.interval = 700, .jitter = 300, .max_retries = 0};
  for (int i = 0; i < 10000; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    r[0] = x;
    s.used = 0;
    enum failover_end how = i % 5 == 0 ? FAILOVER_DROPPED : FAILOVER_FAILED;
    if (how == FAILOVER_DROPPED) failover_logged_in(&f);
    size_t before = f.cur;
    struct failover_step st = failover_next(&f, how, i % 10 == 0 ? 100 : 100000, &t, scripted, &s);
    assert_int_equal(st.next, (before + 1) % 4);
    if (st.full_wait) assert_in_range(st.delay_ms, 700, 1000);
    else assert_in_range(st.delay_ms, 0, 300);
  }
  failover_free(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_single_and_list),
      cmocka_unit_test(parse_rejects),
      cmocka_unit_test(client_set_checks_lists),
      cmocka_unit_test(start_is_random),
      cmocka_unit_test(single_server),
      cmocka_unit_test(failures_go_round_robin),
      cmocka_unit_test(drop_moves_on_quickly),
      cmocka_unit_test(max_retries_counts_rounds),
      cmocka_unit_test(waits_in_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
