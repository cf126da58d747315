/* SPDX-License-Identifier: MIT */
/* test_live.c -- the registry of connected devices (src/server/live.c) alone, with net.h stubbed:
 * session state transitions and the events listeners get (login, state changes only when the
 * state changes, one logout with the first reason given, a replacing login), lookups on the
 * registry, and sends to absent devices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dsess.h"
#include "edgefleet/error.h"
#include "live.h"
#include "stubs.h"
#include "wire.h"

/* ----- what the listeners saw ----- */

struct seen {
  int listener;             /* 1, 2, 3: which one, in call order */
  enum live_event event;
  uint64_t device_id;
  enum dev_state state;
  char why[64];
  char peer[32];
  bool replaced;
  enum dev_state state_seen; /* live_state() read from inside the listener */
  enum live_where where_seen;
};

static struct live *l;
static struct seen seen[64];
static int nseen;
static int tag[3] = {1, 2, 3};

static void listener(void *ud, const struct live_change *c) {
  assert_true(nseen < 64);
  struct seen *s = &seen[nseen++];
  *s = (struct seen){.listener = *(int *)ud, .event = c->event, .device_id = c->device_id,
                     .state = c->state, .replaced = c->replaced};
  snprintf(s->why, sizeof s->why, "%s", c->why ? c->why : "");
  snprintf(s->peer, sizeof s->peer, "%s", c->peer ? c->peer : "");
  s->state_seen = live_state(l, c->device_id);
  s->where_seen = live_find(l, c->device_id, NULL);
}

/* The events of listener 1 only (each event reaches every listener). */
static int events(void) {
  int n = 0;
  for (int i = 0; i < nseen; i++) n += seen[i].listener == 1;
  return n;
}

static const struct seen *event_at(int k) {
  for (int i = 0; i < nseen; i++)
    if (seen[i].listener == 1 && k-- == 0) return &seen[i];
  fail_msg("no event %d", k);
  return NULL;
}

/* ----- fixture: a registry with two listeners, sessions ended and freed afterwards ----- */

static struct dsess *sess[8];
static int nsess;
static struct net_conn conns[8];

static struct dsess *new_sess(void) {
  assert_true(nsess < 8);
  conns[nsess] = (struct net_conn){.peer = "10.0.0.5"};
  return sess[nsess] = live_sess_new(l, NULL, &conns[nsess]), sess[nsess++];
}

static int setup(void **state) {
  (void)state;
  l = live_new();
  live_listen(l, listener, &tag[0]);
  live_listen(l, listener, &tag[1]);
  nseen = nsess = 0;
  stub_net_reset();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (int i = 0; i < nsess; i++) {
    live_sess_end(sess[i], "connection closed");
    live_sess_free(sess[i]);
  }
  assert_int_equal(live_count(l), 0);
  live_free(&l);
  assert_null(l);
  stub_net_reset();
  return 0;
}

static const char *state_at(json_t *arr, size_t i) {
  return json_string_value(json_object_get(json_array_get(arr, i), "dev_state"));
}

/* ----- tests ----- */

static void test_login_online(void **state) {
  (void)state;
  struct dsess *s = new_sess();
  assert_int_equal(live_find(l, 42, NULL), LIVE_ABSENT);
  assert_int_equal(live_state(l, 42), DEV_OFFLINE);
  live_sess_login(s, 42);

  assert_int_equal(nseen, 2); /* one event, each listener once, in registration order */
  assert_int_equal(seen[0].listener, 1);
  assert_int_equal(seen[1].listener, 2);
  const struct seen *e = event_at(0);
  assert_int_equal(e->event, LIVE_LOGIN);
  assert_int_equal(e->device_id, 42);
  assert_int_equal(e->state, DEV_ONLINE);
  assert_string_equal(e->why, "login");
  assert_string_equal(e->peer, "10.0.0.5");
  assert_false(e->replaced);
  assert_int_equal(e->state_seen, DEV_ONLINE); /* listeners run after the registry changed */
  assert_int_equal(e->where_seen, LIVE_LOCAL);

  struct dsess *found = NULL;
  assert_int_equal(live_find(l, 42, &found), LIVE_LOCAL);
  assert_ptr_equal(found, s);
  assert_int_equal(live_count(l), 1);
  assert_int_equal(live_sess_device(s), 42);
  assert_int_equal(live_sess_state(s), DEV_ONLINE);
  assert_string_equal(live_sess_peer(s), "10.0.0.5");
  assert_int_equal(stub_net_ncalls(), 0);
}

static void test_state_only_on_change(void **state) {
  (void)state;
  struct dsess *s = new_sess();
  live_sess_set_state(s, DEV_UNKNOWN, "before login"); /* not logged in: nothing */
  assert_int_equal(nseen, 0);
  live_sess_login(s, 42);
  nseen = 0;

  live_sess_set_state(s, DEV_ONLINE, "message received"); /* already online */
  assert_int_equal(nseen, 0);

  live_sess_set_state(s, DEV_UNKNOWN, "heartbeat missed");
  assert_int_equal(events(), 1);
  assert_int_equal(event_at(0)->event, LIVE_STATE);
  assert_int_equal(event_at(0)->state, DEV_UNKNOWN);
  assert_int_equal(event_at(0)->state_seen, DEV_UNKNOWN);
  assert_string_equal(event_at(0)->why, "heartbeat missed");
  assert_int_equal(live_state(l, 42), DEV_UNKNOWN);

  live_sess_set_state(s, DEV_UNKNOWN, "heartbeat missed"); /* a second miss: no change */
  assert_int_equal(events(), 1);

  live_sess_set_state(s, DEV_ONLINE, "message received");
  assert_int_equal(events(), 2);
  assert_int_equal(event_at(1)->event, LIVE_STATE);
  assert_int_equal(event_at(1)->state, DEV_ONLINE);
  assert_string_equal(event_at(1)->why, "message received");

  live_sess_end(s, "connection closed");
  live_sess_set_state(s, DEV_UNKNOWN, "after the end"); /* ended: nothing */
  assert_int_equal(events(), 3);
  assert_int_equal(event_at(2)->event, LIVE_LOGOUT);
}

static void test_end_logout_once(void **state) {
  (void)state;
  struct dsess *s = new_sess();
  live_sess_login(s, 42);
  nseen = 0;
  live_sess_end(s, "heartbeat lost");
  assert_int_equal(events(), 1);
  const struct seen *e = event_at(0);
  assert_int_equal(e->event, LIVE_LOGOUT);
  assert_int_equal(e->device_id, 42);
  assert_int_equal(e->state, DEV_OFFLINE);
  assert_string_equal(e->why, "heartbeat lost");
  assert_int_equal(e->where_seen, LIVE_ABSENT);
  assert_int_equal(live_state(l, 42), DEV_OFFLINE);
  assert_int_equal(live_count(l), 0);

  live_sess_end(s, "connection closed"); /* the net layer's close afterwards: no second event */
  assert_int_equal(events(), 1);
}

static void test_end_without_login(void **state) {
  (void)state;
  struct dsess *s = new_sess();
  live_sess_end(s, "connection closed"); /* never logged in: no event */
  assert_int_equal(nseen, 0);
}

static void test_drop_first_reason_wins(void **state) {
  (void)state;
  struct dsess *s = new_sess();
  live_sess_login(s, 42);
  nseen = 0;
  live_drop(l, 7, 1000, "nobody"); /* not connected: no-op */
  assert_int_equal(stub_net_ncalls(), 0);

  live_drop(l, 42, 1000, "heartbeat lost");
  assert_int_equal(events(), 1);
  assert_int_equal(event_at(0)->event, LIVE_LOGOUT);
  assert_string_equal(event_at(0)->why, "heartbeat lost");
  assert_int_equal(stub_net_count(&conns[0], STUB_NET_CLOSE), 1);
  assert_int_equal(conns[0].close_status, 1000);
  assert_string_equal(conns[0].close_reason, "heartbeat lost");

  live_sess_drop(s, 1011, "again"); /* ended: no second close */
  live_sess_end(s, "connection closed");
  assert_int_equal(events(), 1);
  assert_int_equal(stub_net_count(&conns[0], STUB_NET_CLOSE), 1);
  assert_string_equal(s->close_reason, "heartbeat lost");
}

static void test_note_all(void **state) {
  (void)state;
  struct dsess *a = new_sess(), *b = new_sess(), *c = new_sess();
  live_sess_login(a, 1);
  live_sess_login(b, 2);
  (void)c; /* not logged in */
  live_sess_end(b, "heartbeat lost"); /* ended before: keeps its own reason */
  nseen = 0;
  live_note_all(l, "server shutting down");
  assert_int_equal(nseen, 0); /* noting is not an event */
  live_sess_end(a, "connection closed");
  assert_int_equal(events(), 1);
  assert_int_equal(event_at(0)->event, LIVE_LOGOUT);
  assert_int_equal(event_at(0)->device_id, 1);
  assert_string_equal(event_at(0)->why, "server shutting down");
}

static void test_replacing_login(void **state) {
  (void)state;
  struct dsess *old = new_sess(), *cur = new_sess();
  live_sess_login(old, 42);
  nseen = 0;
  live_sess_login(cur, 42);

  assert_int_equal(events(), 1);
  const struct seen *e = event_at(0);
  assert_int_equal(e->event, LIVE_LOGIN);
  assert_int_equal(e->device_id, 42);
  assert_true(e->replaced);
  /* the old connection is closed by the registry, with the reason the device will see */
  assert_int_equal(stub_net_count(&conns[0], STUB_NET_CLOSE), 1);
  assert_int_equal(conns[0].close_status, 1000);
  assert_string_equal(conns[0].close_reason, "replaced by a new login");
  assert_int_equal(stub_net_count(&conns[1], STUB_NET_CLOSE), 0);

  struct dsess *found = NULL;
  assert_int_equal(live_find(l, 42, &found), LIVE_LOCAL);
  assert_ptr_equal(found, cur);
  assert_int_equal(live_count(l), 1);
  assert_int_equal(live_sess_device(old), 0); /* the old one forgot its device */

  live_sess_end(old, "connection closed"); /* its close, later: no event, cur stays */
  assert_int_equal(events(), 1);
  assert_int_equal(live_find(l, 42, NULL), LIVE_LOCAL);
  assert_int_equal(live_state(l, 42), DEV_ONLINE);
  live_sess_set_state(old, DEV_UNKNOWN, "stale"); /* nor does a stale state change */
  assert_int_equal(events(), 1);

  assert_int_equal(live_send(l, 42, "x", 1), 0); /* sends go to the new connection */
  assert_int_equal(stub_net_count(&conns[1], STUB_NET_SEND), 1);
  assert_int_equal(stub_net_count(&conns[0], STUB_NET_SEND), 0);

  live_sess_end(cur, "connection closed");
  assert_int_equal(events(), 2);
  assert_int_equal(event_at(1)->event, LIVE_LOGOUT);
}

static void test_status(void **state) {
  (void)state;
  assert_null(live_status(l, 42));
  assert_null(live_status_data(l, 42));
  assert_int_equal(live_status_time(l, 42), -1);

  struct dsess *s = new_sess();
  live_sess_login(s, 42);
  assert_int_equal(live_status_time(l, 42), 0);
  assert_null(live_status_data(l, 42));
  json_t *st = live_status(l, 42); /* nothing uploaded yet: the live fields only */
  assert_non_null(st);
  assert_int_equal(json_object_size(st), 3);
  assert_string_equal(json_string_value(json_object_get(st, "device_id")), "42");
  assert_string_equal(json_string_value(json_object_get(st, "dev_state")), WIRE_STATE_ONLINE);
  assert_int_equal(json_integer_value(json_object_get(st, "status_time")), 0);
  json_decref(st);

  const char *up = "{\"type\":\"upload_status_info\",\"data\":{\"cpu\":5,\"host_name\":\"h\"}}";
  live_sess_set_status(s, up, strlen(up), 1234);
  const char *small = "{\"data\":{\"cpu\":7}}"; /* shorter, then longer again */
  live_sess_set_status(s, small, strlen(small), 1235);
  live_sess_set_status(s, up, strlen(up), 1236);
  live_sess_set_state(s, DEV_UNKNOWN, "heartbeat missed");
  assert_int_equal(live_status_time(l, 42), 1236);
  json_t *data = live_status_data(l, 42);
  assert_int_equal(json_integer_value(json_object_get(data, "cpu")), 5);
  assert_null(json_object_get(data, "device_id"));
  json_decref(data);
  st = live_status(l, 42);
  assert_int_equal(json_integer_value(json_object_get(st, "cpu")), 5);
  assert_string_equal(json_string_value(json_object_get(st, "host_name")), "h");
  assert_string_equal(json_string_value(json_object_get(st, "dev_state")), WIRE_STATE_UNKNOWN);
  assert_int_equal(json_integer_value(json_object_get(st, "status_time")), 1236);
  json_decref(st);

  live_sess_end(s, "connection closed");
  assert_null(live_status(l, 42));
  assert_int_equal(live_status_time(l, 42), -1);
}

static void test_host_device(void **state) {
  (void)state;
  struct dsess *a = new_sess(), *b = new_sess();
  live_sess_login(a, 1);
  live_sess_login(b, 2);
  assert_int_equal(live_host_device(l, "w1"), 0);
  assert_true(live_sess_set_host(a, "w1"));
  assert_true(live_sess_set_host(b, "w2"));
  assert_int_equal(live_host_device(l, "w1"), 1);
  assert_int_equal(live_host_device(l, "w2"), 2);
  /* devices speak only for themselves: w1's holder is connected, b cannot take its name */
  assert_false(live_sess_set_host(b, "w1"));
  assert_int_equal(live_host_device(l, "w1"), 1);
  assert_true(live_sess_set_host(a, "w1")); /* the holder again: fine */
  live_sess_end(a, "gone");
  assert_true(live_sess_set_host(b, "w1")); /* the holder is gone: the agent moved */
  assert_int_equal(live_host_device(l, "w1"), 2);
  assert_int_equal(live_host_device(l, "nope"), 0);
}

static void test_overlay_state(void **state) {
  (void)state;
  struct dsess *a = new_sess(), *b = new_sess();
  live_sess_login(a, 1);
  live_sess_login(b, 2);
  live_sess_set_state(b, DEV_UNKNOWN, "heartbeat missed");
  json_t *arr = json_loads("[{\"device_id\":\"1\",\"dev_state\":\"offline\"},"
                           "{\"device_id\":\"2\",\"dev_state\":\"online\"},"
                           "{\"device_id\":\"3\",\"dev_state\":\"online\"},"
                           "{\"device_id\":\"junk\"},{\"x\":1}]", 0, NULL);
  assert_non_null(arr);
  live_overlay_state(l, arr);
  assert_string_equal(state_at(arr, 0), WIRE_STATE_ONLINE);
  assert_string_equal(state_at(arr, 1), WIRE_STATE_UNKNOWN);
  assert_string_equal(state_at(arr, 2), WIRE_STATE_OFFLINE); /* stored online, not connected */
  assert_null(json_object_get(json_array_get(arr, 3), "dev_state")); /* no id: untouched */
  assert_null(json_object_get(json_array_get(arr, 4), "dev_state"));
  json_decref(arr);

  json_t *one = json_pack("{s:s}", "device_id", "1");
  live_overlay_state(l, one);
  assert_string_equal(json_string_value(json_object_get(one, "dev_state")), WIRE_STATE_ONLINE);
  json_decref(one);
}

static void test_send(void **state) {
  (void)state;
  assert_int_equal(live_send(l, 42, "hello", 5), EF_ENOENT);
  assert_int_equal(live_send(l, 0, "hello", 5), EF_ENOENT);
  assert_int_equal(stub_net_ncalls(), 0);

  struct dsess *s = new_sess();
  live_sess_login(s, 42);
  assert_int_equal(live_send(l, 42, "hello!", 5), 0);
  assert_string_equal(stub_net_last(&conns[0]), "hello");
  conns[0].send_rc = EF_EAGAIN; /* the net layer gave up on the peer */
  assert_int_equal(live_send(l, 42, "x", 1), EF_EAGAIN);
  conns[0].send_rc = 0;

  live_sess_error(s, "message without type");
  json_t *err = stub_net_sent_json(&conns[0], 2);
  assert_string_equal(json_string_value(json_object_get(err, "type")), WIRE_ERROR);
  assert_string_equal(json_string_value(json_object_get(json_object_get(err, "data"), "message")),
                      "message without type");
  json_decref(err);

  live_sess_end(s, "connection closed");
  assert_int_equal(live_send(l, 42, "x", 1), EF_ENOENT);
  assert_int_equal(live_sess_send(s, "x", 1), EF_ECLOSED); /* a handler's late answer */
  assert_int_equal(stub_net_count(&conns[0], STUB_NET_SEND), 3);
}

static void test_listener_order(void **state) {
  (void)state;
  live_listen(l, listener, &tag[2]);
  struct dsess *s = new_sess();
  live_sess_login(s, 5);
  live_sess_set_state(s, DEV_UNKNOWN, "heartbeat missed");
  live_sess_end(s, "connection closed");
  assert_int_equal(nseen, 9);
  for (int i = 0; i < nseen; i++) {
    assert_int_equal(seen[i].listener, i % 3 + 1);
    assert_int_equal(seen[i].event, seen[i - i % 3].event); /* all three hear one event first */
  }
  assert_int_equal(seen[0].event, LIVE_LOGIN);
  assert_int_equal(seen[3].event, LIVE_STATE);
  assert_int_equal(seen[6].event, LIVE_LOGOUT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_login_online, setup, teardown),
    cmocka_unit_test_setup_teardown(test_state_only_on_change, setup, teardown),
    cmocka_unit_test_setup_teardown(test_end_logout_once, setup, teardown),
    cmocka_unit_test_setup_teardown(test_end_without_login, setup, teardown),
    cmocka_unit_test_setup_teardown(test_drop_first_reason_wins, setup, teardown),
    cmocka_unit_test_setup_teardown(test_note_all, setup, teardown),
    cmocka_unit_test_setup_teardown(test_replacing_login, setup, teardown),
    cmocka_unit_test_setup_teardown(test_status, setup, teardown),
    cmocka_unit_test_setup_teardown(test_host_device, setup, teardown),
    cmocka_unit_test_setup_teardown(test_overlay_state, setup, teardown),
    cmocka_unit_test_setup_teardown(test_send, setup, teardown),
    cmocka_unit_test_setup_teardown(test_listener_order, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
