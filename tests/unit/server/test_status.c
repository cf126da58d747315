/* SPDX-License-Identifier: MIT */
/* test_status.c -- the status upload (src/server/status.c) with the real registry (live.c keeps
 * what it stores) and stubs of the net layer and the device log: the upload is kept as received
 * and acknowledged, its host name maps the host to the device, malformed uploads get an error
 * frame, and the device log gets the first upload of a session, then one per log_status_every. */
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
#include "jsonutil.h"
#include "server.h"
#include "stubs.h"
#include "wire.h"

static struct server srv;
static struct net_conn conn;
static struct dsess *sess;

static void upload(const char *msg) {
  json_t *root = jparse_object(msg, strlen(msg));
  assert_non_null(root);
  assert_string_equal(status_ws_routes[0].type, WIRE_UPLOAD_STATUS);
  status_ws_routes[0].handle(&(struct ws_msg){.srv = &srv, .s = sess, .device_id = 42,
                                              .root = root, .raw = msg, .len = strlen(msg)});
  json_decref(root);
}

static int setup(void **state) {
  (void)state;
  memset(&srv, 0, sizeof srv);
  srv.live = live_new();
  srv.cfg.log_status_uploads = true;
  srv.cfg.log_status_every = 60000;
  conn = (struct net_conn){0};
  sess = live_sess_new(srv.live, &srv, &conn);
  live_sess_login(sess, 42);
  stub_net_reset();
  stub_devlog_reset();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  live_sess_end(sess, "connection closed");
  live_sess_free(sess);
  live_free(&srv.live);
  stub_net_reset();
  stub_devlog_reset();
  return 0;
}

#define UP "{\"type\":\"upload_status_info\",\"Headers\":{},\"data\":{\"host_name\":\"w1\",\"cpu\":4}}"

static void test_kept_and_acknowledged(void **state) {
  (void)state;
  int64_t t0 = ef_now_ms();
  upload(UP);
  assert_int_equal(stub_net_count(&conn, STUB_NET_SEND), 1);
  assert_string_equal(stub_net_sent(&conn, 0), WIRE_STATUS_ACK_FRAME);
  assert_true(live_status_time(srv.live, 42) >= t0);
  json_t *d = live_status_data(srv.live, 42);
  assert_int_equal(json_integer_value(json_object_get(d, "cpu")), 4);
  json_decref(d);
  assert_int_equal(live_host_device(srv.live, "w1"), 42);
}

static void test_malformed(void **state) {
  (void)state;
  upload("{\"type\":\"upload_status_info\",\"data\":\"x\"}");
  upload("{\"type\":\"upload_status_info\"}");
  assert_int_equal(stub_net_count(&conn, STUB_NET_SEND), 2);
  for (size_t i = 0; i < 2; i++) {
    json_t *f = stub_net_sent_json(&conn, i);
    assert_string_equal(jstr(f, "type"), WIRE_ERROR);
    assert_string_equal(jstr(jobj(f, "data"), "message"), "upload_status_info needs a data object");
    json_decref(f);
  }
  assert_int_equal(live_status_time(srv.live, 42), 0); /* nothing kept */
  assert_int_equal(stub_devlog_count(), 0);
  upload("{\"type\":\"upload_status_info\",\"data\":{\"host_name\":\"\"}}"); /* no host */
  assert_string_equal(stub_net_last(&conn), WIRE_STATUS_ACK_FRAME);
}

static void test_devlog_throttled(void **state) {
  (void)state;
  upload(UP);
  upload(UP);
  upload(UP);
  assert_int_equal(stub_devlog_count(), 1); /* the session's first upload only */
  const struct stub_devlog_row *r = stub_devlog_row(0);
  assert_int_equal(r->device_id, 42);
  assert_string_equal(r->event, "status_upload");
  assert_string_equal(r->result, "success");

  srv.cfg.log_status_every = 0; /* every upload */
  upload(UP);
  upload(UP);
  assert_int_equal(stub_devlog_count(), 3);

  srv.cfg.log_status_uploads = false;
  upload(UP);
  assert_int_equal(stub_devlog_count(), 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_kept_and_acknowledged, setup, teardown),
    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
    cmocka_unit_test_setup_teardown(test_devlog_throttled, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
