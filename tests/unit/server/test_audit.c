/* SPDX-License-Identifier: MIT */
/* test_audit.c -- the audit log's rows (src/server/audit.c): which routes are recorded, the
 * target a call names (only id members, cut to ids' characters, never a secret), the outcome
 * text, the row audit_call queues, and the 429 limiter (one row a second per token). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "audit.h"
#include "jsonutil.h"
#include "mem.h"
#include "stubs.h"

static char *target_of(const char *body, const char *data) {
  json_t *b = body ? json_loads(body, 0, NULL) : NULL;
  json_t *d = data ? json_loads(data, 0, NULL) : NULL;
  if (body) assert_non_null(b);
  if (data) assert_non_null(d);
  char *t = audit_target(NULL, 0, b, d);
  json_decref(b);
  json_decref(d);
  return t;
}

static void assert_target(const char *body, const char *data, const char *want) {
  char *t = target_of(body, data);
  if (!want) {
    assert_null(t);
    return;
  }
  assert_non_null(t);
  assert_string_equal(t, want);
  ef_free(t);
}

static void test_routes_audited(void **state) {
  (void)state;
  struct rest_route r = {.methods = "GET", .name = "device_query"};
  assert_false(audit_route_audited(&r));
  r.methods = "POST";
  assert_true(audit_route_audited(&r));
  r.methods = "PUT POST";
  assert_true(audit_route_audited(&r));
  r.methods = "GET POST";
  assert_true(audit_route_audited(&r));
  r.reads_only = true; /* a query that takes filters in a body */
  assert_false(audit_route_audited(&r));
  r = (struct rest_route){.methods = "DELETE", .name = "group_delete"};
  assert_true(audit_route_audited(&r));
}

static void test_target(void **state) {
  (void)state;
  assert_target("{}", NULL, NULL);
  assert_target("{\"device_id\":\"12\"}", "{}", "device=12");
  assert_target("{\"device_id\":12,\"group_id\":\"34\"}", NULL, "device=12 group=34");
  assert_target("{\"group_id\":\"9\",\"order\":\"reboot\",\"params\":{\"x\":1}}", NULL,
                "group=9 order=reboot");
  assert_target("{\"minerId\":\"f01234\",\"device_id\":\"5\"}", NULL, "device=5 miner=f01234");
  assert_target("{\"device_id\":\"7\",\"group_ids\":[\"1\",\"2\"]}", NULL,
                "device=7 groups=2 [1,2]");
  /* an add: the new id from the answer; the answer's password and token are never read */
  assert_target("{\"device_name\":\"a\",\"password\":\"hunter2\"}",
                "{\"device_id\":\"99\",\"password\":\"hunter2\"}", "device=99");
  assert_target("{\"kind\":\"read\",\"name\":\"ci\"}",
                "{\"token_id\":\"77\",\"token\":\"s3cretS3cret\"}", "token=77");
  assert_target("{\"devices\":[{},{},{}]}", "{\"device_ids\":[\"1\",\"2\",\"3\"]}",
                "devices=3 [1,2,3]");
  assert_target("{\"devices\":[{},{}]}", NULL, "devices=2"); /* failed: no ids */
  /* many ids: the count, the first eight */
  assert_target("{\"group_ids\":[1,2,3,4,5,6,7,8,9,10]}", NULL,
                "groups=10 [1,2,3,4,5,6,7,8,…]");
  /* hostile values: no space, quote or control character gets through, and they are cut */
  assert_target("{\"device_id\":\"1 2\\\"\\n\"}", NULL, "device=1?2??");
  char body[300], want[80];
  memset(want, 0, sizeof want);
  snprintf(body, sizeof body, "{\"minerId\":\"%0200d\"}", 0);
  memcpy(want, "miner=", 6);
  memset(want + 6, '0', 64);
  want[70] = '~';
  assert_target(body, NULL, want);
  /* path arguments */
  const char *args[] = {"42", "a/b"};
  char *t = audit_target(args, 2, NULL, NULL);
  assert_string_equal(t, "arg=42 arg=a?b");
  ef_free(t);
}

/* A target never exceeds AUDIT_TARGET_MAX bytes and ends in "…" when cut. */
static void test_target_bounded(void **state) {
  (void)state;
  json_t *b = json_object();
  static const char *const keys[] = {"device_ids", "group_ids"};
  for (int k = 0; k < 2; k++) {
    json_t *arr = json_array();
    for (int i = 0; i < 8; i++) {
      char v[80];
      memset(v, '7', 70);
      v[70] = '\0';
      json_array_append_new(arr, json_string(v));
    }
    json_object_set_new(b, keys[k], arr);
  }
  char *t = audit_target(NULL, 0, b, NULL);
  assert_true(strlen(t) < AUDIT_TARGET_MAX);
  assert_non_null(strstr(t, "…"));
  ef_free(t);
  json_decref(b);
}

static void test_outcome(void **state) {
  (void)state;
  char *o = audit_outcome(200, NULL, NULL);
  assert_string_equal(o, "ok");
  ef_free(o);
  json_t *d = json_pack("{s:i, s:i, s:[]}", "succeeded", 3, "failed", 1, "results");
  o = audit_outcome(200, NULL, d);
  assert_string_equal(o, "ok: 3 succeeded, 1 failed");
  ef_free(o);
  json_decref(d);
  o = audit_outcome(404, "Device NOT FOUND.", NULL);
  assert_string_equal(o, "Device NOT FOUND.");
  ef_free(o);
  o = audit_outcome(500, NULL, NULL);
  assert_string_equal(o, "error");
  ef_free(o);
  char big[1000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  o = audit_outcome(400, big, NULL);
  assert_true(strlen(o) < AUDIT_OUTCOME_MAX);
  assert_non_null(strstr(o, "…"));
  ef_free(o);
}

static struct server srv;

static int setup(void **state) {
  (void)state;
  memset(&srv, 0, sizeof srv);
  srv.devlog = (struct devlog *)&srv; /* any non-NULL: the stub does not look at it */
  audit_start(&srv);
  stub_devlog_reset();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  audit_stop(&srv);
  stub_devlog_reset();
  return 0;
}

/* A finished call: one row with its token, route, target, outcome and peer; a query: none. */
static void test_call_row(void **state) {
  (void)state;
  struct rest_route add = {.methods = "POST", .name = "device_add"};
  struct rest_route query = {.methods = "GET", .name = "device_query", .nargs = 1};
  struct net_req req = {.method = "POST", .peer = "127.0.0.9"};
  struct rest_call c = {.srv = &srv, .req = &req, .route = &add, .status = 200,
                        .token_id = 5, .token_name = "ops"};
  c.body = json_pack("{s:s, s:s}", "device_name", "x", "password", "pw-secret");
  c.data = json_pack("{s:s, s:s}", "device_id", "1234", "password", "pw-secret");
  audit_call(&c);
  assert_int_equal(stub_devlog_naudits(), 1);
  const struct store_audit *a = stub_devlog_audit(0);
  assert_int_equal(a->token_id, 5);
  assert_string_equal(a->token_name, "ops");
  assert_string_equal(a->route, "device_add");
  assert_string_equal(a->target, "device=1234");
  assert_int_equal(a->status, 200);
  assert_string_equal(a->outcome, "ok");
  assert_string_equal(a->peer, "127.0.0.9");
  assert_true(a->time > 0);

  /* a failed call: its status and message, and no answer data */
  c.status = 409;
  c.etype = REST_GENERAL;
  c.emsg = "Device already exists.";
  audit_call(&c);
  assert_int_equal(stub_devlog_naudits(), 2);
  a = stub_devlog_audit(1);
  assert_int_equal(a->status, 409);
  assert_string_equal(a->outcome, "Device already exists.");
  assert_null(a->target); /* the body names no id; the answer is not read */
  json_decref(c.body);
  json_decref(c.data);

  const char *args[REST_MAX_ARGS] = {"1"};
  struct rest_call q = {.srv = &srv, .req = &req, .route = &query, .status = 200};
  memcpy(q.args, args, sizeof args);
  audit_call(&q);
  assert_int_equal(stub_devlog_naudits(), 2);
}

/* Refusals of a known token: recorded; an unknown slot: not. 429s at most once a second per
 * token, the next row counting the others. */
static void test_refusals(void **state) {
  (void)state;
  struct rest_route add = {.methods = "POST", .name = "group_add"};
  struct rest_route query = {.methods = "GET", .name = "group_query"};
  struct net_req req = {.method = "POST"};
  audit_refusal(&srv, &req, &add, STUB_READ_SLOT, 403, "this API needs an admin token");
  assert_int_equal(stub_devlog_naudits(), 1);
  const struct store_audit *a = stub_devlog_audit(0);
  assert_int_equal(a->token_id, STUB_READ_ID);
  assert_string_equal(a->token_name, "read");
  assert_int_equal(a->status, 403);
  assert_string_equal(a->outcome, "this API needs an admin token");
  audit_refusal(&srv, &req, &query, STUB_READ_SLOT, 429, "x"); /* a query: not recorded */
  audit_refusal(&srv, &req, &add, 7, 403, "x");                  /* no such token */
  assert_int_equal(stub_devlog_naudits(), 1);

  for (int i = 0; i < 50; i++) audit_refusal(&srv, &req, &add, STUB_ADMIN_SLOT, 429, "slow");
  audit_refusal(&srv, &req, &add, STUB_READ_SLOT, 429, "slow"); /* another token: its own */
  assert_int_equal(stub_devlog_naudits(), 3);
  assert_string_equal(stub_devlog_audit(1)->outcome, "too many requests");
  assert_int_equal(stub_devlog_audit(1)->token_id, STUB_ADMIN_ID);
  assert_int_equal(stub_devlog_audit(2)->token_id, STUB_READ_ID);

  /* a second later the next 429 is recorded, with the count of those left out */
  struct timespec ts = {1, 50 * 1000 * 1000};
  nanosleep(&ts, NULL);
  audit_refusal(&srv, &req, &add, STUB_ADMIN_SLOT, 429, "slow");
  assert_int_equal(stub_devlog_naudits(), 4);
  assert_string_equal(stub_devlog_audit(3)->outcome,
                      "too many requests (49 more refused and not recorded before)");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_routes_audited),
      cmocka_unit_test(test_target),
      cmocka_unit_test(test_target_bounded),
      cmocka_unit_test(test_outcome),
      cmocka_unit_test_setup_teardown(test_call_row, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
