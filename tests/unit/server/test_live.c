/* SPDX-License-Identifier: MIT */
/* test_live.c -- the registry of connected devices (src/server/live.c) alone, with net.h stubbed:
 * session state transitions and the events listeners get (login, state changes only when the
 * state changes, one logout with the first reason given, a replacing login), lookups on the
 * registry, and sends to absent devices; and the remote entries cluster.c keeps of devices on
 * other nodes (live_remote_*): lookups answering LIVE_REMOTE, events only from the node that
 * holds a device, a lost node's devices, a local login over a remote entry, and a local session
 * yielded to another node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
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
  bool remote;
  unsigned node;
  bool persist;
  enum dev_state state_seen; /* live_state() read from inside the listener */
  enum live_where where_seen;
};

static struct live *l;
static struct seen seen[2048];
static int nseen;
static int tag[3] = {1, 2, 3};

static void listener(void *ud, const struct live_change *c) {
  assert_true(nseen < (int)(sizeof seen / sizeof seen[0]));
  struct seen *s = &seen[nseen++];
  *s = (struct seen){.listener = *(int *)ud, .event = c->event, .device_id = c->device_id,
                     .state = c->state, .replaced = c->replaced, .remote = c->remote,
                     .node = c->node, .persist = c->persist};
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

/* ----- devices on other nodes (remote entries, written by cluster.c) ----- */

/* Count the ids a live_next_* iteration visits, and whether `want` was one of them. */
static size_t visits(bool (*next)(const struct live *, size_t *, uint64_t *), uint64_t want,
                     bool *found) {
  size_t n = 0;
  uint64_t id;
  *found = false;
  for (size_t it = 0; next(l, &it, &id);) {
    n++;
    if (id == want) *found = true;
  }
  return n;
}

static void test_remote_login(void **state) {
  (void)state;
  live_remote_login(l, 42, 3, 1700000000000, "10.0.0.9");

  assert_int_equal(events(), 1);
  const struct seen *e = event_at(0);
  assert_int_equal(e->event, LIVE_LOGIN);
  assert_int_equal(e->device_id, 42);
  assert_int_equal(e->state, DEV_ONLINE);
  assert_string_equal(e->why, "login");
  assert_string_equal(e->peer, "10.0.0.9");
  assert_false(e->replaced);
  assert_true(e->remote);
  assert_int_equal(e->node, 3);
  assert_false(e->persist); /* the node that holds it records it */
  assert_int_equal(e->state_seen, DEV_ONLINE);
  assert_int_equal(e->where_seen, LIVE_REMOTE);

  struct dsess *found = (struct dsess *)&found; /* anything: it must be set to NULL */
  assert_int_equal(live_find(l, 42, &found), LIVE_REMOTE);
  assert_null(found);
  unsigned node = 99;
  assert_true(live_remote_node(l, 42, &node));
  assert_int_equal(node, 3);
  assert_true(live_remote_node(l, 42, NULL));
  assert_int_equal(live_state(l, 42), DEV_ONLINE);
  assert_int_equal(live_login_time(l, 42), 1700000000000);
  assert_int_equal(live_count(l), 0); /* local sessions only */
  assert_int_equal(live_count_remote(l), 1);
  bool in;
  assert_int_equal(visits(live_next_remote, 42, &in), 1);
  assert_true(in);
  assert_int_equal(visits(live_next_local, 42, &in), 0);

  /* nothing uploaded there yet: the live fields only */
  assert_int_equal(live_status_time(l, 42), 0);
  assert_null(live_status_data(l, 42));
  json_t *st = live_status(l, 42);
  assert_non_null(st);
  assert_int_equal(json_object_size(st), 3);
  assert_string_equal(json_string_value(json_object_get(st, "device_id")), "42");
  assert_string_equal(json_string_value(json_object_get(st, "dev_state")), WIRE_STATE_ONLINE);
  json_decref(st);
  json_t *one = json_pack("{s:s}", "device_id", "42");
  live_overlay_state(l, one);
  assert_string_equal(json_string_value(json_object_get(one, "dev_state")), WIRE_STATE_ONLINE);
  json_decref(one);

  /* acting on it is for the node that holds it: nothing happens here */
  assert_int_equal(live_send(l, 42, "x", 1), EF_ENOENT);
  live_drop(l, 42, 1000, "nobody here");
  live_yield(l, 42, "replaced by a login on node 3");
  assert_int_equal(events(), 1);
  assert_int_equal(stub_net_ncalls(), 0);
  assert_int_equal(live_find(l, 42, NULL), LIVE_REMOTE);

  /* another device, absent: no node */
  node = 99;
  assert_false(live_remote_node(l, 7, &node));
  assert_int_equal(node, 99);
  assert_int_equal(live_login_time(l, 7), -1);
  /* device 0 is no device */
  live_remote_login(l, 0, 3, 1, "p");
  assert_int_equal(events(), 1);
  assert_int_equal(live_count_remote(l), 1);
  assert_int_equal(live_find(l, 0, NULL), LIVE_ABSENT);
}

static void test_remote_login_again(void **state) {
  (void)state;
  live_remote_login(l, 42, 3, 1000, "10.0.0.9");
  live_remote_state(l, 42, 3, DEV_UNKNOWN, "heartbeat missed");
  assert_int_equal(events(), 2);

  /* the same login heard again (a directory sent to a new node): nothing */
  live_remote_login(l, 42, 3, 1000, "10.0.0.9");
  assert_int_equal(events(), 2);
  assert_int_equal(live_state(l, 42), DEV_UNKNOWN); /* the entry is untouched */
  assert_int_equal(live_count_remote(l), 1);

  /* a login on another node: it replaces the entry */
  live_remote_login(l, 42, 5, 2000, "10.0.0.10");
  assert_int_equal(events(), 3);
  const struct seen *e = event_at(2);
  assert_int_equal(e->event, LIVE_LOGIN);
  assert_true(e->replaced);
  assert_true(e->remote);
  assert_int_equal(e->node, 5);
  assert_false(e->persist);
  assert_string_equal(e->peer, "10.0.0.10");
  assert_int_equal(e->where_seen, LIVE_REMOTE);
  unsigned node = 0;
  assert_true(live_remote_node(l, 42, &node));
  assert_int_equal(node, 5);
  assert_int_equal(live_state(l, 42), DEV_ONLINE); /* a new session starts online */
  assert_int_equal(live_login_time(l, 42), 2000);
  assert_int_equal(live_count_remote(l), 1);

  /* a new login on the same node (another time) is a new session too */
  live_remote_login(l, 42, 5, 3000, "10.0.0.11");
  assert_int_equal(events(), 4);
  assert_true(event_at(3)->replaced);
  assert_int_equal(event_at(3)->node, 5);
  assert_int_equal(live_login_time(l, 42), 3000);
  /* the node that lost it says nothing more that counts */
  live_remote_state(l, 42, 3, DEV_UNKNOWN, "stale");
  live_remote_logout(l, 42, 3, "connection closed", false);
  assert_int_equal(events(), 4);
  assert_int_equal(live_find(l, 42, NULL), LIVE_REMOTE);
}

static void test_remote_state_logout_holder_only(void **state) {
  (void)state;
  /* nothing is known of the device: ignored */
  live_remote_state(l, 42, 3, DEV_UNKNOWN, "heartbeat missed");
  live_remote_logout(l, 42, 3, "connection closed", true);
  assert_int_equal(nseen, 0);

  live_remote_login(l, 42, 3, 1000, "10.0.0.9");
  nseen = 0;
  /* from a node that does not hold it: ignored */
  live_remote_state(l, 42, 4, DEV_UNKNOWN, "heartbeat missed");
  live_remote_logout(l, 42, 4, "connection closed", true);
  assert_int_equal(nseen, 0);
  assert_int_equal(live_state(l, 42), DEV_ONLINE);
  assert_int_equal(live_find(l, 42, NULL), LIVE_REMOTE);

  /* from the holder: events, only on a change */
  live_remote_state(l, 42, 3, DEV_ONLINE, "message received"); /* already online */
  assert_int_equal(nseen, 0);
  live_remote_state(l, 42, 3, DEV_UNKNOWN, "heartbeat missed");
  assert_int_equal(events(), 1);
  const struct seen *e = event_at(0);
  assert_int_equal(e->event, LIVE_STATE);
  assert_int_equal(e->state, DEV_UNKNOWN);
  assert_string_equal(e->why, "heartbeat missed");
  assert_true(e->remote);
  assert_int_equal(e->node, 3);
  assert_false(e->persist);
  assert_int_equal(e->state_seen, DEV_UNKNOWN);
  assert_int_equal(live_state(l, 42), DEV_UNKNOWN);
  live_remote_state(l, 42, 3, DEV_UNKNOWN, "heartbeat missed");
  assert_int_equal(events(), 1);

  live_remote_logout(l, 42, 3, "connection closed", false);
  assert_int_equal(events(), 2);
  e = event_at(1);
  assert_int_equal(e->event, LIVE_LOGOUT);
  assert_int_equal(e->device_id, 42);
  assert_int_equal(e->state, DEV_OFFLINE);
  assert_string_equal(e->why, "connection closed");
  assert_true(e->remote);
  assert_int_equal(e->node, 3);
  assert_false(e->persist);
  assert_false(e->replaced);
  assert_int_equal(e->state_seen, DEV_OFFLINE);
  assert_int_equal(e->where_seen, LIVE_ABSENT); /* listeners run after the removal */
  assert_int_equal(live_find(l, 42, NULL), LIVE_ABSENT);
  assert_int_equal(live_count_remote(l), 0);
  assert_int_equal(live_login_time(l, 42), -1);
  assert_false(live_remote_node(l, 42, NULL));

  live_remote_logout(l, 42, 3, "connection closed", false); /* once only */
  live_remote_state(l, 42, 3, DEV_ONLINE, "late");
  assert_int_equal(events(), 2);

  /* persist is passed through as given */
  live_remote_login(l, 43, 3, 1000, "10.0.0.9");
  live_remote_logout(l, 43, 3, "node 3 lost", true);
  assert_int_equal(events(), 4);
  assert_int_equal(event_at(3)->event, LIVE_LOGOUT);
  assert_true(event_at(3)->persist);
}

static void test_remote_status(void **state) {
  (void)state;
  const char *up = "{\"type\":\"upload_status_info\",\"data\":{\"cpu\":5,\"host_name\":\"w1\"}}";
  /* unknown device: ignored */
  live_remote_status(l, 42, 3, up, strlen(up), 1234, "w1");
  assert_null(live_status(l, 42));
  assert_int_equal(live_host_device(l, "w1"), 0);

  live_remote_login(l, 42, 3, 1000, "10.0.0.9");
  nseen = 0;
  /* from a node that does not hold it: ignored */
  live_remote_status(l, 42, 4, up, strlen(up), 1234, "w1");
  assert_int_equal(live_status_time(l, 42), 0);
  assert_null(live_status_data(l, 42));
  assert_int_equal(live_host_device(l, "w1"), 0);

  /* the raw message is taken by its length: the bytes after it are not part of it */
  char raw[256];
  snprintf(raw, sizeof raw, "%sGARBAGE", up);
  live_remote_status(l, 42, 3, raw, strlen(up), 1234, "w1");
  assert_int_equal(nseen, 0); /* a status upload is no event */
  memset(raw, 'x', sizeof raw); /* copied, not kept */
  assert_int_equal(live_status_time(l, 42), 1234);
  json_t *data = live_status_data(l, 42);
  assert_non_null(data);
  assert_int_equal(json_integer_value(json_object_get(data, "cpu")), 5);
  json_decref(data);
  live_remote_state(l, 42, 3, DEV_UNKNOWN, "heartbeat missed");
  json_t *st = live_status(l, 42);
  assert_non_null(st);
  assert_int_equal(json_integer_value(json_object_get(st, "cpu")), 5);
  assert_string_equal(json_string_value(json_object_get(st, "device_id")), "42");
  assert_string_equal(json_string_value(json_object_get(st, "dev_state")), WIRE_STATE_UNKNOWN);
  assert_int_equal(json_integer_value(json_object_get(st, "status_time")), 1234);
  json_decref(st);
  assert_int_equal(live_host_device(l, "w1"), 42);

  /* shorter, then longer again; no host name: the host stays */
  const char *small = "{\"data\":{\"cpu\":7}}";
  live_remote_status(l, 42, 3, small, strlen(small), 1235, NULL);
  assert_int_equal(live_status_time(l, 42), 1235);
  data = live_status_data(l, 42);
  assert_int_equal(json_integer_value(json_object_get(data, "cpu")), 7);
  json_decref(data);
  live_remote_status(l, 42, 3, up, strlen(up), 1236, "");
  assert_int_equal(live_status_time(l, 42), 1236);
  assert_int_equal(live_host_device(l, "w1"), 42);

  /* host names: a local device cannot take a connected remote device's, nor the reverse */
  struct dsess *s = new_sess();
  live_sess_login(s, 7);
  assert_false(live_sess_set_host(s, "w1"));
  assert_int_equal(live_host_device(l, "w1"), 42);
  assert_true(live_sess_set_host(s, "w2"));
  live_remote_status(l, 42, 3, up, strlen(up), 1237, "w2");
  assert_int_equal(live_host_device(l, "w2"), 7);
  assert_int_equal(live_status_time(l, 42), 1237); /* the status is kept all the same */

  /* gone: no status, and its host name is free */
  live_remote_logout(l, 42, 3, "connection closed", false);
  assert_null(live_status(l, 42));
  assert_null(live_status_data(l, 42));
  assert_int_equal(live_status_time(l, 42), -1);
  assert_true(live_sess_set_host(s, "w1"));
  assert_int_equal(live_host_device(l, "w1"), 7);

  /* a new login starts without the old status */
  live_remote_login(l, 42, 3, 2000, "10.0.0.9");
  assert_int_equal(live_status_time(l, 42), 0);
}

static void test_remote_node_lost(void **state) {
  (void)state;
  live_remote_login(l, 1, 3, 1000, "a");
  live_remote_login(l, 2, 3, 1000, "b");
  live_remote_login(l, 4, 5, 1000, "c");
  struct dsess *s = new_sess();
  live_sess_login(s, 6);
  nseen = 0;

  assert_int_equal(live_remote_node_lost(l, 9, "node 9 lost", true), 0); /* none of its own */
  assert_int_equal(nseen, 0);

  assert_int_equal(live_remote_node_lost(l, 3, "node 3 heartbeat lost", true), 2);
  assert_int_equal(events(), 2);
  bool saw1 = false, saw2 = false;
  for (int k = 0; k < 2; k++) {
    const struct seen *e = event_at(k);
    assert_int_equal(e->event, LIVE_LOGOUT);
    assert_int_equal(e->state, DEV_OFFLINE);
    assert_string_equal(e->why, "node 3 heartbeat lost");
    assert_true(e->remote);
    assert_int_equal(e->node, 3);
    assert_true(e->persist);
    assert_false(e->replaced);
    assert_int_equal(e->where_seen, LIVE_ABSENT);
    saw1 |= e->device_id == 1;
    saw2 |= e->device_id == 2;
  }
  assert_true(saw1 && saw2);
  assert_int_equal(live_find(l, 1, NULL), LIVE_ABSENT);
  assert_int_equal(live_find(l, 2, NULL), LIVE_ABSENT);
  assert_int_equal(live_find(l, 4, NULL), LIVE_REMOTE); /* another node's: untouched */
  assert_int_equal(live_find(l, 6, NULL), LIVE_LOCAL);  /* this node's: untouched */
  assert_int_equal(live_count_remote(l), 1);
  assert_int_equal(live_count(l), 1);

  assert_int_equal(live_remote_node_lost(l, 3, "again", true), 0);
  assert_int_equal(events(), 2);

  assert_int_equal(live_remote_node_lost(l, 5, "node 5 stopped", false), 1);
  assert_int_equal(events(), 3);
  assert_int_equal(event_at(2)->device_id, 4);
  assert_int_equal(event_at(2)->node, 5);
  assert_false(event_at(2)->persist);
  assert_int_equal(live_count_remote(l), 0);
  assert_int_equal(stub_net_ncalls(), 0); /* no local session was touched */
}

/* More devices than the first batch of ids live_remote_node_lost collects, on two nodes. */
static void test_remote_node_lost_many(void **state) {
  (void)state;
  for (uint64_t id = 1; id <= 900; id++) live_remote_login(l, id, id % 3 ? 1 : 2, 1000, "p");
  assert_int_equal(live_count_remote(l), 900);
  nseen = 0;
  assert_int_equal(live_remote_node_lost(l, 1, "node 1 lost", false), 600);
  assert_int_equal(events(), 600);
  for (int k = 0; k < 600; k++) {
    assert_int_equal(event_at(k)->event, LIVE_LOGOUT);
    assert_true(event_at(k)->device_id % 3 != 0);
  }
  assert_int_equal(live_count_remote(l), 300);
  bool in;
  assert_int_equal(visits(live_next_remote, 3, &in), 300);
  assert_true(in);
}

static void test_local_login_over_remote(void **state) {
  (void)state;
  const char *up = "{\"data\":{\"cpu\":5}}";
  live_remote_login(l, 42, 3, 1000, "10.0.0.9");
  live_remote_status(l, 42, 3, up, strlen(up), 1234, "w1");
  nseen = 0;
  int64_t before = ef_now_ms();

  struct dsess *s = new_sess();
  live_sess_login(s, 42);
  assert_int_equal(events(), 1); /* one login, no logout of the remote entry */
  const struct seen *e = event_at(0);
  assert_int_equal(e->event, LIVE_LOGIN);
  assert_int_equal(e->device_id, 42);
  assert_true(e->replaced);
  assert_true(e->persist);
  assert_false(e->remote);
  assert_string_equal(e->peer, "10.0.0.5");
  assert_int_equal(e->where_seen, LIVE_LOCAL);

  struct dsess *found = NULL;
  assert_int_equal(live_find(l, 42, &found), LIVE_LOCAL);
  assert_ptr_equal(found, s);
  assert_false(live_remote_node(l, 42, NULL));
  assert_int_equal(live_count(l), 1);
  assert_int_equal(live_count_remote(l), 0);
  assert_true(live_login_time(l, 42) >= before); /* this node's login, not node 3's */
  assert_int_equal(live_status_time(l, 42), 0);   /* node 3's status went with its entry */
  assert_int_equal(stub_net_ncalls(), 0);         /* no older local session to close */
  assert_true(live_sess_set_host(s, "w1"));       /* the host is the same device's */
  bool in;
  assert_int_equal(visits(live_next_local, 42, &in), 1);
  assert_true(in);
  assert_int_equal(visits(live_next_remote, 42, &in), 0);

  /* the node that lost it now says it ended there: that is not this session */
  live_remote_state(l, 42, 3, DEV_UNKNOWN, "stale");
  live_remote_logout(l, 42, 3, "replaced by a login on node 0", false);
  live_remote_status(l, 42, 3, up, strlen(up), 9999, NULL);
  assert_int_equal(events(), 1);
  assert_int_equal(live_find(l, 42, NULL), LIVE_LOCAL);
  assert_int_equal(live_state(l, 42), DEV_ONLINE);
  assert_int_equal(live_status_time(l, 42), 0);
  /* nor is a remote login of a device held here applied: the caller yields first */
  live_remote_login(l, 42, 3, 5000, "10.0.0.9");
  assert_int_equal(events(), 1);
  assert_int_equal(live_find(l, 42, NULL), LIVE_LOCAL);
  assert_int_equal(live_count_remote(l), 0);

  /* a plain login (nothing replaced) is persisted and not replaced */
  struct dsess *t = new_sess();
  live_sess_login(t, 43);
  assert_false(event_at(1)->replaced);
  assert_true(event_at(1)->persist);
  assert_false(event_at(1)->remote);
}

static void test_yield(void **state) {
  (void)state;
  struct dsess *s = new_sess();
  live_sess_login(s, 42);
  nseen = 0;
  live_yield(l, 7, "nobody"); /* not connected here: no-op */
  assert_int_equal(nseen, 0);
  assert_int_equal(stub_net_ncalls(), 0);

  live_yield(l, 42, "replaced by a login on node 3");
  assert_int_equal(events(), 1);
  const struct seen *e = event_at(0);
  assert_int_equal(e->event, LIVE_LOGOUT);
  assert_int_equal(e->device_id, 42);
  assert_int_equal(e->state, DEV_OFFLINE);
  assert_string_equal(e->why, "replaced by a login on node 3");
  assert_true(e->replaced);
  assert_false(e->persist); /* node 3 records the login */
  assert_false(e->remote);
  assert_int_equal(e->where_seen, LIVE_ABSENT);
  assert_int_equal(live_count(l), 0);
  /* the socket closes normally, with the reason */
  assert_int_equal(stub_net_count(&conns[0], STUB_NET_CLOSE), 1);
  assert_int_equal(conns[0].close_status, 1000);
  assert_string_equal(conns[0].close_reason, "replaced by a login on node 3");

  /* then cluster.c enters the remote login: a new entry, nothing replaced here */
  live_remote_login(l, 42, 3, 2000, "10.0.0.9");
  assert_int_equal(events(), 2);
  assert_int_equal(event_at(1)->event, LIVE_LOGIN);
  assert_true(event_at(1)->remote);
  assert_false(event_at(1)->replaced);
  assert_int_equal(live_find(l, 42, NULL), LIVE_REMOTE);

  /* the net layer's close afterwards: no second event, the remote entry stays */
  live_sess_end(s, "connection closed");
  live_yield(l, 42, "again");
  assert_int_equal(events(), 2);
  assert_int_equal(live_find(l, 42, NULL), LIVE_REMOTE);
  assert_int_equal(stub_net_count(&conns[0], STUB_NET_CLOSE), 1);

  /* an ordinary end of a local session, for comparison: persisted, not replaced */
  struct dsess *t = new_sess();
  live_sess_login(t, 43);
  live_sess_end(t, "connection closed");
  assert_int_equal(events(), 4);
  assert_int_equal(event_at(3)->event, LIVE_LOGOUT);
  assert_false(event_at(3)->replaced);
  assert_true(event_at(3)->persist);
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
    cmocka_unit_test_setup_teardown(test_remote_login, setup, teardown),
    cmocka_unit_test_setup_teardown(test_remote_login_again, setup, teardown),
    cmocka_unit_test_setup_teardown(test_remote_state_logout_holder_only, setup, teardown),
    cmocka_unit_test_setup_teardown(test_remote_status, setup, teardown),
    cmocka_unit_test_setup_teardown(test_remote_node_lost, setup, teardown),
    cmocka_unit_test_setup_teardown(test_remote_node_lost_many, setup, teardown),
    cmocka_unit_test_setup_teardown(test_local_login_over_remote, setup, teardown),
    cmocka_unit_test_setup_teardown(test_yield, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
