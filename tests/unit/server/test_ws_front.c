/* SPDX-License-Identifier: MIT */
/* test_ws_front.c -- the dashboards' WebSocket (src/server/ws_front.c) with the real registry
 * (live.c: device events feed subDeviceList) and stubs of the net layer, the database thread,
 * the API tokens and join.c. Mainly: a subscribed miner's view is rendered and diffed once per
 * tick however many dashboards watch it, the same patch goes to each of them, an unchanged view
 * pushes nothing; and "code" is an integer in replies and pushes alike.
 *
 * Ticks are real: the push timer runs on a uv loop every few ms. A dashboard subscribed to
 * subMinerList makes join_summaries run exactly once per tick, which is how the test counts
 * ticks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json_assert.h"

#include "clock.h"
#include "dsess.h"
#include "jsonutil.h"
#include "server.h"
#include "stubs.h"
#include "wire.h"

#define NFRONT 6

static struct server srv;
static uv_loop_t loop;
static struct net_conn conns[NFRONT];
static void *fs[NFRONT];

/* ----- dashboards ----- */

static void open_front(int i) {
  conns[i] = (struct net_conn){.kind = NET_WS_FRONT, .peer = "dash"};
  fs[i] = front_open(&srv, &conns[i]);
  assert_non_null(fs[i]);
}

static void close_front(int i) {
  front_close(fs[i]);
  fs[i] = NULL;
}

static void say(int i, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  front_message(fs[i], buf, strlen(buf));
}

static size_t sent(int i) { return stub_net_count(&conns[i], STUB_NET_SEND); }

/* The last message to dashboard i (new reference): "code" is checked to be an integer. */
static json_t *last(int i, int code) {
  json_t *m = json_loads(stub_net_last(&conns[i]), 0, NULL);
  assert_non_null(m);
  json_t *c = json_object_get(m, "code");
  assert_true(json_is_integer(c));
  assert_int_equal(json_integer_value(c), code);
  return m;
}

static void login(int i) {
  say(i, "{\"uri\":\"login\",\"body\":{\"token\":\"%s\"},\"msgId\":\"L\"}", STUB_READ_TOKEN);
  json_t *m = last(i, 1);
  assert_string_equal(jstr(m, "msgId"), "L");
  assert_string_equal(jstr(jobj(m, "data"), "kind"), "read");
  json_decref(m);
}

static void sub_miner(int i, const char *id) {
  say(i, "{\"event\":\"subMinerInfo\",\"body\":{\"minerId\":\"%s\"},\"msgId\":\"S\"}", id);
  json_t *m = last(i, 1);
  assert_string_equal(jstr(m, "message"), "success");
  json_decref(m);
}

/* An observer (dashboard `i`) on subMinerList: join_summaries then runs once per tick. */
static void observe_ticks(int i) {
  open_front(i);
  login(i);
  say(i, "{\"event\":\"subMinerList\",\"msgId\":\"O\"}");
  json_decref(last(i, 1));
}

/* Run the loop until at least one tick has run; returns how many did. */
static size_t tick(void) {
  size_t before = stub_join_summaries_calls();
  for (int i = 0; i < 100 && stub_join_summaries_calls() == before; i++)
    uv_run(&loop, UV_RUN_ONCE);
  size_t n = stub_join_summaries_calls() - before;
  assert_true(n >= 1);
  return n;
}

/* ----- fixture ----- */

static int setup(void **state) {
  (void)state;
  memset(&srv, 0, sizeof srv);
  assert_int_equal(uv_loop_init(&loop), 0);
  srv.loop = &loop;
  srv.live = live_new();
  srv.cfg.front_push_interval = 3;
  srv.cfg.login_timeout = 60000;
  srv.cfg.front_max_connections = NFRONT;
  srv.cfg.front_max_unauthenticated = NFRONT;
  srv.cfg.front_unauthenticated_per_address = NFRONT;
  srv.cfg.front_queue_max = 1 << 20;
  memset(fs, 0, sizeof fs);
  stub_net_reset();
  stub_join_reset();
  stub_auth_reset();
  stub_worker_reset(NULL);
  assert_int_equal(front_start(&srv), 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (int i = 0; i < NFRONT; i++)
    if (fs[i]) close_front(i);
  front_stop(&srv);
  assert_null(srv.front);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
  live_free(&srv.live);
  stub_net_reset();
  stub_join_reset();
  return 0;
}

/* ----- pushes ----- */

static void test_diff_once_per_miner(void **state) {
  (void)state;
  stub_join_set_view("f01", json_pack("{s:s, s:i, s:{s:{s:i}}}", "minerId", "f01", "power", 1,
                                      "workerInfo", "w1", "cpu", 1));
  observe_ticks(0);
  for (int i = 1; i <= 3; i++) {
    open_front(i);
    login(i);
    sub_miner(i, "f01");
    json_t *m = last(i, 1); /* the subscription answer: the whole current view */
    assert_json_eq(jobj(m, "data"), "{\"minerId\":\"f01\",\"power\":1,\"workerInfo\":{\"w1\":"
                                    "{\"cpu\":1}}}");
    json_decref(m);
  }

  /* an unchanged view: rendered once per tick, nothing pushed */
  size_t calls = stub_join_view_calls("f01"), ncalls = stub_net_ncalls();
  size_t t = tick();
  assert_int_equal(stub_join_view_calls("f01") - calls, t);
  assert_int_equal(stub_net_ncalls(), ncalls);

  /* a change: rendered once per tick (not once per subscriber), one patch to each */
  stub_join_set_view("f01", json_pack("{s:s, s:i, s:{s:{s:i}}}", "minerId", "f01", "power", 2,
                                      "workerInfo", "w1", "cpu", 5));
  size_t before[4];
  for (int i = 0; i < 4; i++) before[i] = sent(i);
  calls = stub_join_view_calls("f01");
  t = tick();
  assert_int_equal(stub_join_view_calls("f01") - calls, t);
  assert_int_equal(sent(0), before[0]); /* the observer watches no miner */
  for (int i = 1; i <= 3; i++) {
    assert_int_equal(sent(i), before[i] + 1);
    assert_string_equal(stub_net_last(&conns[i]), stub_net_last(&conns[1])); /* the same text */
  }
  json_t *p = last(1, 1);
  assert_string_equal(jstr(p, "message"), "subMinerInfo");
  assert_json_eq(jobj(p, "body"), "{\"minerId\":\"f01\",\"power\":2,\"workerInfo\":{\"w1\":"
                                  "{\"cpu\":5}}}");
  json_decref(p);

  /* the change was pushed once: later ticks push nothing */
  t = tick();
  for (int i = 1; i <= 3; i++) assert_int_equal(sent(i), before[i] + 1);
}

static void test_two_miners(void **state) {
  (void)state;
  stub_join_set_view("f01", json_pack("{s:s, s:i}", "minerId", "f01", "power", 1));
  stub_join_set_view("f02", json_pack("{s:s, s:i}", "minerId", "f02", "power", 1));
  observe_ticks(0);
  for (int i = 1; i <= 3; i++) {
    open_front(i);
    login(i);
    sub_miner(i, "f01");
  }
  sub_miner(1, "f02");
  sub_miner(2, "f02");
  sub_miner(2, "f02"); /* subscribing twice is one subscription */

  stub_join_set_view("f01", json_pack("{s:s, s:i}", "minerId", "f01", "power", 2));
  stub_join_set_view("f02", json_pack("{s:s, s:i}", "minerId", "f02", "power", 3));
  size_t c1 = stub_join_view_calls("f01"), c2 = stub_join_view_calls("f02");
  size_t before[4];
  for (int i = 0; i < 4; i++) before[i] = sent(i);
  size_t t = tick();
  assert_int_equal(stub_join_view_calls("f01") - c1, t);
  assert_int_equal(stub_join_view_calls("f02") - c2, t);
  assert_int_equal(sent(1), before[1] + 2);
  assert_int_equal(sent(2), before[2] + 2);
  assert_int_equal(sent(3), before[3] + 1);
  json_t *p = last(3, 1);
  assert_json_eq(jobj(p, "body"), "{\"minerId\":\"f01\",\"power\":2}");
  json_decref(p);

  /* nobody watches f02 any more: it is no longer rendered; f01 still is */
  say(1, "{\"event\":\"unsubMinerInfo\",\"body\":{\"minerId\":\"f02\"},\"msgId\":\"U\"}");
  json_decref(last(1, 1));
  close_front(2);
  c1 = stub_join_view_calls("f01");
  c2 = stub_join_view_calls("f02");
  t = tick();
  assert_int_equal(stub_join_view_calls("f02"), c2);
  assert_int_equal(stub_join_view_calls("f01") - c1, t);
}

static void test_new_subscriber_after_change(void **state) {
  (void)state;
  stub_join_set_view("f01", json_pack("{s:s, s:i}", "minerId", "f01", "power", 1));
  observe_ticks(0);
  open_front(1);
  login(1);
  sub_miner(1, "f01");
  tick();
  stub_join_set_view("f01", json_pack("{s:s, s:i}", "minerId", "f01", "power", 2));
  open_front(2); /* subscribes to the changed view before the tick pushes it */
  login(2);
  sub_miner(2, "f01");
  json_t *m = last(2, 1);
  assert_int_equal(json_integer_value(json_object_get(jobj(m, "data"), "power")), 2);
  json_decref(m);
  size_t b1 = sent(1), b2 = sent(2);
  tick();
  /* the first subscriber's base is what it got; the change reaches it (and, harmlessly, the
   * second one, which has it already) */
  assert_int_equal(sent(1), b1 + 1);
  assert_true(sent(2) <= b2 + 1);
  m = last(1, 1);
  assert_json_eq(jobj(m, "body"), "{\"minerId\":\"f01\",\"power\":2}");
  json_decref(m);
}

static void test_device_list_events(void **state) {
  (void)state;
  observe_ticks(0);
  open_front(1);
  login(1);
  say(1, "{\"event\":\"subDeviceList\",\"msgId\":\"D\"}");
  json_decref(last(1, 1));
  tick();
  size_t b = sent(1);

  struct net_conn dconn = {.peer = "10.0.0.1"};
  struct dsess *s = live_sess_new(srv.live, &srv, &dconn);
  live_sess_login(s, 42);
  tick();
  assert_int_equal(sent(1), b + 1);
  json_t *m = last(1, 1);
  assert_string_equal(jstr(m, "message"), "subDeviceList");
  assert_json_eq(jobj(m, "body"), "{\"42\":{\"dev_state\":\"online\"}}");
  json_decref(m);

  live_sess_set_state(s, DEV_UNKNOWN, "heartbeat missed");
  live_sess_end(s, "connection closed"); /* two changes in one tick: the last state */
  tick();
  assert_int_equal(sent(1), b + 2);
  m = last(1, 1);
  assert_json_eq(jobj(m, "body"), "{\"42\":{\"dev_state\":\"offline\"}}");
  json_decref(m);
  assert_int_equal(sent(0), 2); /* login, subscription: no device pushes */
  live_sess_free(s);

  front_devices_changed(&srv); /* devices added or deleted: a refetch hint */
  tick();
  m = last(1, 1);
  assert_json_eq(jobj(m, "body"), "{\"_refresh\":true}");
  json_decref(m);
}

static void test_device_status(void **state) {
  (void)state;
  observe_ticks(0);
  struct net_conn dconn = {.peer = "10.0.0.1"};
  struct dsess *s = live_sess_new(srv.live, &srv, &dconn);
  live_sess_login(s, 42);
  open_front(1);
  login(1);
  say(1, "{\"event\":\"subDeviceStatus\",\"body\":{\"device_id\":\"42\"},\"msgId\":\"D\"}");
  json_t *m = last(1, 1);
  assert_string_equal(jstr(jobj(m, "data"), "dev_state"), WIRE_STATE_ONLINE);
  json_decref(m);
  size_t b = sent(1);
  tick();
  assert_int_equal(sent(1), b); /* no upload yet */

  const char *up = "{\"type\":\"upload_status_info\",\"data\":{\"cpu\":3}}";
  live_sess_set_status(s, up, strlen(up), ef_now_ms());
  tick();
  assert_int_equal(sent(1), b + 1);
  m = last(1, 1);
  assert_string_equal(jstr(m, "message"), "subDeviceStatus");
  assert_int_equal(json_integer_value(json_object_get(jobj(m, "body"), "cpu")), 3);
  json_decref(m);
  tick();
  assert_int_equal(sent(1), b + 1); /* the same upload is pushed once */

  live_sess_end(s, "connection closed");
  live_sess_free(s);
  tick();
  tick();
  assert_int_equal(sent(1), b + 2); /* gone: offline, once */
  m = last(1, 1);
  assert_string_equal(jstr(jobj(m, "body"), "dev_state"), WIRE_STATE_OFFLINE);
  json_decref(m);
}

/* ----- replies ----- */

static void test_reply_codes(void **state) {
  (void)state;
  stub_join_set_view("f01", json_pack("{s:s}", "minerId", "f01"));
  open_front(0);
  login(0);
  say(0, "{\"uri\":\"nope\",\"msgId\":\"1\"}");
  json_t *m = last(0, 0);
  assert_string_equal(jstr(m, "message"), "unknown uri");
  assert_string_equal(jstr(m, "msgId"), "1");
  assert_true(json_is_object(json_object_get(m, "data")));
  json_decref(m);
  say(0, "{\"event\":\"subNothing\",\"msgId\":\"2\"}");
  json_decref(last(0, 0));
  say(0, "{\"event\":\"subMinerInfo\",\"body\":{\"minerId\":\"f09\"},\"msgId\":\"3\"}");
  m = last(0, 0);
  assert_string_equal(jstr(m, "message"), WIRE_MSG_MINER_NOT_FOUND);
  json_decref(m);
  say(0, "{\"uri\":\"minerInfo\",\"body\":{\"minerId\":\"f01\"},\"msgId\":\"4\"}");
  m = last(0, 1);
  assert_string_equal(jstr(jobj(m, "data"), "minerId"), "f01");
  json_decref(m);
  say(0, "{\"uri\":\"minerList\",\"msgId\":\"5\"}");
  json_decref(last(0, 1));
  say(0, "not json");
  json_decref(last(0, 0));
  say(0, "{\"msgId\":\"6\"}");
  m = last(0, 0);
  assert_string_equal(jstr(m, "message"), "a message needs uri or event");
  json_decref(m);
  assert_false(conns[0].closed); /* signed in: errors do not close */
}

static void test_sign_in(void **state) {
  (void)state;
  open_front(0);
  say(0, "{\"uri\":\"minerList\",\"msgId\":\"1\"}"); /* not signed in */
  json_t *m = last(0, 0);
  assert_string_equal(jstr(m, "message"), "sign in first (uri login)");
  json_decref(m);
  assert_true(conns[0].closed);
  assert_int_equal(conns[0].close_status, 1008);

  open_front(1);
  say(1, "{\"uri\":\"login\",\"body\":{\"token\":\"wrong\"},\"msgId\":\"1\"}");
  m = last(1, 0);
  assert_string_equal(jstr(m, "message"), "invalid token");
  json_decref(m);
  assert_true(conns[1].closed);

  open_front(2);
  say(2, "{\"uri\":\"login\",\"body\":{\"token\":\"%s\"}}", STUB_ADMIN_TOKEN);
  m = last(2, 1);
  assert_string_equal(jstr(jobj(m, "data"), "kind"), "admin");
  json_decref(m);
  assert_int_equal(conns[2].queue_max, 1 << 20); /* the dashboards' own queue limit */
}

/* Connections not signed in have their own cap: past it they are refused at once, and they
 * never take the places of signed-in dashboards, whose cap counts only them. */
static void test_too_many(void **state) {
  (void)state;
  srv.cfg.front_max_unauthenticated = 2;
  srv.cfg.front_max_connections = 1;
  open_front(0);
  open_front(1);
  assert_false(conns[1].closed);
  open_front(2);
  json_t *m = last(2, 0);
  assert_string_equal(jstr(m, "message"), "too many front-end connections");
  json_decref(m);
  assert_true(conns[2].closed);
  assert_int_equal(conns[2].close_status, 1013);
  close_front(2); /* the net layer's on_close, once the close frame is out */
  /* 0 signs in: one place for the unsigned again; a second sign-in is over the signed cap */
  say(0, "{\"uri\":\"login\",\"body\":{\"token\":\"%s\"}}", STUB_ADMIN_TOKEN);
  open_front(3);
  assert_false(conns[3].closed);
  say(1, "{\"uri\":\"login\",\"body\":{\"token\":\"%s\"}}", STUB_ADMIN_TOKEN);
  m = last(1, 0);
  assert_string_equal(jstr(m, "message"), "too many front-end connections");
  json_decref(m);
  assert_true(conns[1].closed);
}

static void test_login_timeout(void **state) {
  (void)state;
  srv.cfg.login_timeout = 10;
  open_front(0);
  open_front(1);
  login(1);
  for (int i = 0; i < 100 && !conns[0].closed; i++) uv_run(&loop, UV_RUN_ONCE);
  assert_true(conns[0].closed);
  assert_string_equal(conns[0].close_reason, "login timeout");
  json_t *m = last(0, 0);
  assert_string_equal(jstr(m, "message"), WIRE_MSG_TIMEOUT);
  json_decref(m);
  assert_false(conns[1].closed);
}

/* A request answered from the database, whose dashboard closes meanwhile: no answer, no leak. */
static void test_db_request_after_close(void **state) {
  (void)state;
  struct store *st = NULL;
  char err[128];
  assert_int_equal(store_open("sqlite::memory:", &st, err, sizeof err), 0);
  stub_worker_reset(st);
  open_front(0);
  login(0);
  open_front(1);
  login(1);
  say(0, "{\"uri\":\"deviceLog\",\"body\":{\"device_id\":\"42\"},\"msgId\":\"7\"}");
  say(1, "{\"uri\":\"deviceLog\",\"body\":{\"device_id\":\"42\"},\"msgId\":\"8\"}");
  assert_int_equal(stub_worker_pending(), 2);
  size_t b0 = sent(0);
  close_front(0);
  stub_worker_run();
  assert_int_equal(sent(0), b0);
  json_t *m = last(1, 0);
  assert_string_equal(jstr(m, "msgId"), "8");
  assert_string_equal(jstr(m, "message"), WIRE_MSG_NOT_FOUND);
  json_decref(m);
  store_close(&st);
}

static void login_as(int i, const char *token) {
  say(i, "{\"uri\":\"login\",\"body\":{\"token\":\"%s\"},\"msgId\":\"L\"}", token);
  json_decref(last(i, 1));
}

/* A revoked token's dashboards are closed at once (1008 "token revoked"), the others stay; an
 * expired token cannot sign in. */
static void test_revoked_token_closes(void **state) {
  (void)state;
  open_front(0);
  login_as(0, STUB_OPERATOR_TOKEN);
  open_front(1);
  login_as(1, STUB_OPERATOR_TOKEN);
  open_front(2);
  login_as(2, STUB_ADMIN_TOKEN);
  stub_auth_revoke(STUB_OPERATOR_SLOT);
  for (int i = 0; i < 2; i++) {
    assert_true(conns[i].closed);
    assert_int_equal(conns[i].close_status, 1008);
    assert_string_equal(conns[i].close_reason, "token revoked");
    json_t *m = last(i, 0);
    assert_string_equal(jstr(m, "message"), "token revoked");
    json_decref(m);
  }
  assert_false(conns[2].closed);
  open_front(3);
  say(3, "{\"uri\":\"login\",\"body\":{\"token\":\"%s\"}}", STUB_OPERATOR_TOKEN);
  json_t *m = last(3, 0);
  assert_string_equal(jstr(m, "message"), "invalid token");
  json_decref(m);
  open_front(4);
  say(4, "{\"uri\":\"login\",\"body\":{\"token\":\"%s\"}}", STUB_EXPIRED_TOKEN);
  m = last(4, 0);
  assert_string_equal(jstr(m, "message"), "token expired");
  json_decref(m);
  assert_true(conns[4].closed);
}

/* A group-limited token (stub: device 11 only) sees only its devices and their miners, in
 * answers and pushes; another dashboard sees everything. */
static void test_group_limited(void **state) {
  (void)state;
  stub_join_set_view("f01", json_pack("{s:s, s:i}", "minerId", "f01", "device_id", 11));
  stub_join_set_view("f02", json_pack("{s:s, s:i}", "minerId", "f02", "device_id", 12));
  observe_ticks(0);
  open_front(1);
  say(1, "{\"uri\":\"login\",\"body\":{\"token\":\"%s\"},\"msgId\":\"L\"}",
      STUB_LIMITED_TOKEN);
  json_t *m = last(1, 1);
  assert_string_equal(jstr(jobj(m, "data"), "scope"), "operator");
  assert_true(json_is_true(json_object_get(jobj(m, "data"), "limited")));
  json_decref(m);

  say(1, "{\"uri\":\"minerInfo\",\"body\":{\"minerId\":\"f02\"},\"msgId\":\"1\"}");
  m = last(1, 0);
  assert_string_equal(jstr(m, "message"), WIRE_MSG_MINER_NOT_FOUND);
  json_decref(m);
  say(1, "{\"uri\":\"minerInfo\",\"body\":{\"minerId\":\"f01\"},\"msgId\":\"2\"}");
  json_decref(last(1, 1));
  say(1, "{\"event\":\"subMinerInfo\",\"body\":{\"minerId\":\"f02\"},\"msgId\":\"3\"}");
  json_decref(last(1, 0));
  say(1, "{\"uri\":\"minerList\",\"msgId\":\"4\"}");
  m = last(1, 1);
  assert_json_eq(json_object_get(m, "data"), "[{\"minerId\":\"f01\"}]");
  json_decref(m);
  say(1, "{\"event\":\"subMinerList\",\"msgId\":\"5\"}");
  m = last(1, 1);
  assert_true(json_object_get(jobj(m, "data"), "f01") != NULL);
  assert_null(json_object_get(jobj(m, "data"), "f02"));
  json_decref(m);
  say(1, "{\"uri\":\"deviceStatus\",\"body\":{\"device_id\":\"12\"},\"msgId\":\"6\"}");
  m = last(1, 0);
  assert_string_equal(jstr(m, "message"), WIRE_MSG_NO_STATUS);
  json_decref(m);
  say(1, "{\"event\":\"subDeviceStatus\",\"body\":{\"device_id\":\"12\"},\"msgId\":\"7\"}");
  m = last(1, 0);
  assert_string_equal(jstr(m, "message"), WIRE_MSG_NOT_FOUND);
  json_decref(m);
  size_t jobs = stub_worker_submitted();
  say(1, "{\"uri\":\"deviceLog\",\"body\":{\"device_id\":\"12\"},\"msgId\":\"8\"}");
  m = last(1, 0);
  assert_string_equal(jstr(m, "message"), WIRE_MSG_NOT_FOUND);
  json_decref(m);
  assert_int_equal(stub_worker_submitted(), jobs); /* refused without asking the database */

  /* subDeviceList: a change of device 12 is not pushed to it, one of 11 is */
  say(1, "{\"event\":\"subDeviceList\",\"msgId\":\"D\"}");
  json_decref(last(1, 1));
  open_front(2);
  login(2);
  say(2, "{\"event\":\"subDeviceList\",\"msgId\":\"D\"}");
  json_decref(last(2, 1));
  tick();
  size_t b1 = sent(1), b2 = sent(2);
  struct net_conn dconn = {.peer = "10.0.0.1"};
  struct dsess *s = live_sess_new(srv.live, &srv, &dconn);
  live_sess_login(s, 12);
  tick();
  assert_int_equal(sent(1), b1);
  assert_int_equal(sent(2), b2 + 1);
  live_sess_end(s, "connection closed");
  live_sess_free(s);
  s = live_sess_new(srv.live, &srv, &dconn);
  live_sess_login(s, 11);
  tick();
  assert_int_equal(sent(1), b1 + 1);
  m = last(1, 1);
  assert_json_eq(jobj(m, "body"), "{\"11\":{\"dev_state\":\"online\"}}");
  json_decref(m);
  live_sess_end(s, "connection closed");
  live_sess_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_diff_once_per_miner, setup, teardown),
    cmocka_unit_test_setup_teardown(test_two_miners, setup, teardown),
    cmocka_unit_test_setup_teardown(test_new_subscriber_after_change, setup, teardown),
    cmocka_unit_test_setup_teardown(test_device_list_events, setup, teardown),
    cmocka_unit_test_setup_teardown(test_device_status, setup, teardown),
    cmocka_unit_test_setup_teardown(test_reply_codes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_sign_in, setup, teardown),
    cmocka_unit_test_setup_teardown(test_too_many, setup, teardown),
    cmocka_unit_test_setup_teardown(test_login_timeout, setup, teardown),
    cmocka_unit_test_setup_teardown(test_revoked_token_closes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_group_limited, setup, teardown),
    cmocka_unit_test_setup_teardown(test_db_request_after_close, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
