/* SPDX-License-Identifier: MIT */
/* test_order.c -- orders to devices (src/server/order.c) with the real registry (live.c, whose
 * events end orders) and stubs of the net layer and the device log: refusals (absent, Unknown,
 * busy), the give_order frame, results matched by order_id (late results ignored, results
 * without order_id accepted), the timeout on a real uv timer, the restart handshake, orders
 * failed by a logout or a replacing login, and the device-log rows of each order. */
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
#include "id.h"
#include "jsonutil.h"
#include "server.h"
#include "stubs.h"
#include "wire.h"

static struct server srv;
static uv_loop_t loop;

/* ----- the caller's callback ----- */

struct result {
  int calls;
  bool ok;
  int http;
  char message[128];
  int log_rc;
};

/* Results outlive a test's frame: teardown's logouts still answer its orders. */
static struct result results[8];
static int nresults;

static struct result *new_result(void) {
  assert_true(nresults < 8);
  return &results[nresults++];
}

static void on_done(void *ud, bool ok, int http, const char *message, int log_rc) {
  struct result *r = ud;
  r->calls++;
  r->log_rc = log_rc;
  r->ok = ok;
  r->http = http;
  snprintf(r->message, sizeof r->message, "%s", message);
}

/* ----- devices ----- */

static struct net_conn conns[4];
static struct dsess *sess[4];
static int nsess;

static struct dsess *connect_device(uint64_t id) {
  assert_true(nsess < 4);
  conns[nsess] = (struct net_conn){.peer = "10.0.0.9"};
  struct dsess *s = live_sess_new(srv.live, &srv, &conns[nsess]);
  live_sess_login(s, id);
  return sess[nsess++] = s;
}

/* The device's answer, as ws_device.c hands it to order.c's row. */
static void device_says(struct dsess *s, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  json_t *root = jparse_object(buf, strlen(buf));
  assert_non_null(root);
  const struct ws_route *r = NULL;
  for (const struct ws_route *it = order_ws_routes; it->type; it++)
    if (strcmp(it->type, jstr(root, "type")) == 0) r = it;
  assert_non_null(r);
  r->handle(&(struct ws_msg){.srv = &srv, .s = s, .device_id = live_sess_device(s), .root = root,
                             .raw = buf, .len = strlen(buf)});
  json_decref(root);
}

/* The order_id of the last give_order frame sent on `c` (a copy). */
static const char *last_order_id(const struct net_conn *c, char out[EF_ID_STRLEN]) {
  json_t *f = json_loads(stub_net_last(c), 0, NULL);
  assert_non_null(f);
  const char *oid = jstr(jobj(f, "Headers"), "order_id");
  assert_non_null(oid);
  snprintf(out, EF_ID_STRLEN, "%s", oid);
  json_decref(f);
  return out;
}

static void run_until(const struct result *r) {
  for (int i = 0; i < 200 && !r->calls; i++) uv_run(&loop, UV_RUN_ONCE);
}

/* ----- fixture ----- */

static int setup(void **state) {
  (void)state;
  memset(&srv, 0, sizeof srv);
  assert_int_equal(uv_loop_init(&loop), 0);
  srv.loop = &loop;
  srv.live = live_new();
  srv.cfg.order_timeout = 30000;
  srv.cfg.upload_log_dir = "upload-dir";
  order_start(&srv);
  nsess = nresults = 0;
  memset(results, 0, sizeof results);
  stub_net_reset();
  stub_devlog_reset();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (int i = 0; i < nsess; i++) live_sess_end(sess[i], "connection closed");
  uv_run(&loop, UV_RUN_DEFAULT); /* the orders' timers close */
  order_free(&srv);
  for (int i = 0; i < nsess; i++) live_sess_free(sess[i]);
  live_free(&srv.live);
  assert_int_equal(uv_loop_close(&loop), 0);
  stub_net_reset();
  stub_devlog_reset();
  return 0;
}

/* ----- refusals: no callback, nothing sent, nothing logged ----- */

static void test_refused(void **state) {
  (void)state;
  struct result *r = new_result();
  const char *why = NULL;
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), EF_EOFFLINE);
  assert_string_equal(why, WIRE_MSG_OFFLINE);

  struct dsess *s = connect_device(42);
  live_sess_set_state(s, DEV_UNKNOWN, "heartbeat missed");
  why = NULL;
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), EF_EOFFLINE);
  assert_string_equal(why, WIRE_MSG_STATE_UNKNOWN);

  live_sess_set_state(s, DEV_ONLINE, "message received");
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  struct result *r2 = new_result();
  why = NULL;
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r2, &why), EF_EBUSY);
  assert_string_equal(why, WIRE_MSG_BUSY);
  assert_int_equal(stub_net_count(&conns[0], STUB_NET_SEND), 1); /* the first order only */
  assert_int_equal(stub_devlog_count_event(42, "order"), 1);
  assert_int_equal(r->calls + r2->calls, 0);
}

static void test_send_fails(void **state) {
  (void)state;
  connect_device(42);
  conns[0].send_rc = EF_EAGAIN; /* the net layer is dropping the device */
  struct result *r = new_result();
  const char *why = NULL;
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), EF_EOFFLINE);
  assert_string_equal(why, WIRE_MSG_OFFLINE);
  conns[0].send_rc = 0;
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0); /* not busy */
  assert_int_equal(r->calls, 0);
}

/* ----- the frame ----- */

static void test_frame(void **state) {
  (void)state;
  connect_device(42);
  connect_device(43);
  connect_device(44);
  struct result *r[3] = {new_result(), new_result(), new_result()};
  const char *why = NULL;
  json_t *params = json_pack("{s:s, s:i}", "service", "nginx", "n", 3);
  assert_int_equal(order_give(&srv, 42, "restart_service", params, on_done, r[0], &why), 0);
  json_decref(params); /* borrowed */
  assert_int_equal(order_give(&srv, 43, WIRE_ORDER_RESTART, NULL, on_done, r[1], &why), 0);
  assert_int_equal(order_give(&srv, 44, WIRE_ORDER_UPLOAD_LOG, NULL, on_done, r[2], &why), 0);

  json_t *f = stub_net_sent_json(&conns[0], 0);
  assert_string_equal(jstr(f, "type"), WIRE_GIVE_ORDER);
  json_t *h = jobj(f, "Headers");
  assert_true(json_is_false(json_object_get(h, "isInner")));
  assert_string_equal(jstr(h, "order_type"), "restart_service");
  uint64_t oid = 0;
  assert_true(id_parse(jstr(h, "order_id"), &oid));
  json_t *d = jobj(f, "data");
  assert_string_equal(jstr(d, "device_id"), "42");
  assert_string_equal(jstr(jobj(d, "params"), "service"), "nginx");
  assert_int_equal(json_integer_value(json_object_get(jobj(d, "params"), "n")), 3);
  json_decref(f);

  f = stub_net_sent_json(&conns[1], 0); /* restart: inner, no params */
  h = jobj(f, "Headers");
  assert_true(json_is_true(json_object_get(h, "isInner")));
  assert_string_equal(jstr(h, "order_type"), WIRE_ORDER_RESTART);
  uint64_t oid2 = 0;
  assert_true(id_parse(jstr(h, "order_id"), &oid2));
  assert_true(oid2 != oid);
  assert_null(json_object_get(jobj(f, "data"), "params"));
  assert_string_equal(jstr(jobj(f, "data"), "device_id"), "43");
  json_decref(f);

  f = stub_net_sent_json(&conns[2], 0); /* upload_log: inner, the server's remote_dir */
  h = jobj(f, "Headers");
  assert_true(json_is_true(json_object_get(h, "isInner")));
  assert_string_equal(jstr(jobj(f, "data"), "remote_dir"), "upload-dir");
  assert_null(json_object_get(jobj(f, "data"), "params"));
  json_decref(f);

  /* one "order" row per order, naming its type */
  assert_int_equal(stub_devlog_count(), 3);
  assert_string_equal(stub_devlog_row(0)->event, "order");
  assert_string_equal(stub_devlog_row(0)->detail, "restart_service");
  assert_int_equal(stub_devlog_row(1)->device_id, 43);
  assert_string_equal(stub_devlog_row(1)->detail, WIRE_ORDER_RESTART);
}

static void test_frame_no_params(void **state) {
  (void)state;
  connect_device(42);
  struct result *r = new_result();
  const char *why = NULL;
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  json_t *f = stub_net_sent_json(&conns[0], 0);
  json_t *p = json_object_get(jobj(f, "data"), "params");
  assert_true(json_is_object(p));
  assert_int_equal(json_object_size(p), 0);
  json_decref(f);
}

/* ----- results ----- */

static void test_result_matched(void **state) {
  (void)state;
  struct dsess *s = connect_device(42);
  struct result *r = new_result();
  const char *why = NULL;
  char oid[EF_ID_STRLEN];
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  last_order_id(&conns[0], oid);
  device_says(s, "{\"type\":\"%s\",\"status\":\"success\",\"Headers\":{\"order_id\":\"%s\","
                 "\"message\":\"rebooting\"},\"data\":{}}", WIRE_UPLOAD_RESULT, oid);
  assert_int_equal(r->calls, 1);
  assert_true(r->ok);
  assert_int_equal(r->http, 200);
  assert_string_equal(r->message, "rebooting");
  const struct stub_devlog_row *row = stub_devlog_last("order_result");
  assert_non_null(row);
  assert_int_equal(row->device_id, 42);
  assert_string_equal(row->detail, "reboot: rebooting");
  assert_string_equal(row->result, "success");

  /* the order is over: a repeat of the result changes nothing, a new order may go */
  device_says(s, "{\"type\":\"%s\",\"status\":\"success\",\"Headers\":{\"order_id\":\"%s\"}}",
              WIRE_UPLOAD_RESULT, oid);
  assert_int_equal(r->calls, 1);
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
}

static void test_result_failed(void **state) {
  (void)state;
  struct dsess *s = connect_device(42);
  struct result *r = new_result();
  const char *why = NULL;
  char oid[EF_ID_STRLEN];
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  last_order_id(&conns[0], oid);
  device_says(s, "{\"type\":\"%s\",\"status\":\"fail\",\"Headers\":{\"order_id\":\"%s\"}}",
              WIRE_UPLOAD_RESULT, oid);
  assert_int_equal(r->calls, 1);
  assert_false(r->ok);
  assert_int_equal(r->http, 502);
  assert_string_equal(r->message, "order failed");
  assert_string_equal(stub_devlog_last("order_result")->result, "fail");
}

static void test_late_result_ignored(void **state) {
  (void)state;
  struct dsess *s = connect_device(42);
  struct result *r = new_result();
  const char *why = NULL;
  char oid[EF_ID_STRLEN], other[EF_ID_STRLEN];
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  last_order_id(&conns[0], oid);
  id_format(id_next(), other); /* an order that is not the one in flight (timed out before) */
  device_says(s, "{\"type\":\"%s\",\"status\":\"success\",\"Headers\":{\"order_id\":\"%s\","
                 "\"message\":\"late\"}}", WIRE_UPLOAD_RESULT, other);
  device_says(s, "{\"type\":\"%s\",\"status\":\"success\",\"Headers\":{\"order_id\":\"bogus\"}}",
              WIRE_UPLOAD_RESULT);
  assert_int_equal(r->calls, 0);
  assert_int_equal(stub_devlog_count_event(42, "order_result"), 0);
  struct result *r2 = new_result();
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r2, &why), EF_EBUSY);

  device_says(s, "{\"type\":\"%s\",\"status\":\"success\",\"Headers\":{\"order_id\":\"%s\","
                 "\"message\":\"mine\"}}", WIRE_UPLOAD_RESULT, oid);
  assert_int_equal(r->calls, 1);
  assert_string_equal(r->message, "mine");
}

static void test_result_without_order_id(void **state) {
  (void)state;
  struct dsess *s = connect_device(42);
  struct result *r = new_result();
  const char *why = NULL;
  /* no order in flight: ignored */
  device_says(s, "{\"type\":\"%s\",\"status\":\"success\",\"Headers\":{}}", WIRE_UPLOAD_RESULT);
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  /* the original controller does not echo order_id: its one order in flight is answered */
  device_says(s, "{\"type\":\"%s\",\"status\":\"fail\",\"Headers\":{\"message\":\"disk full\"}}",
              WIRE_UPLOAD_RESULT);
  assert_int_equal(r->calls, 1);
  assert_false(r->ok);
  assert_int_equal(r->http, 502);
  assert_string_equal(r->message, "disk full");
}

static void test_result_of_another_device(void **state) {
  (void)state;
  connect_device(42);
  struct dsess *b = connect_device(43);
  struct result *r = new_result();
  const char *why = NULL;
  char oid[EF_ID_STRLEN];
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  last_order_id(&conns[0], oid);
  device_says(b, "{\"type\":\"%s\",\"status\":\"success\",\"Headers\":{\"order_id\":\"%s\"}}",
              WIRE_UPLOAD_RESULT, oid); /* device 43 has no order: its results go nowhere */
  assert_int_equal(r->calls, 0);
}

static void test_timeout(void **state) {
  (void)state;
  struct dsess *s = connect_device(42);
  srv.cfg.order_timeout = 20;
  struct result *r = new_result();
  const char *why = NULL;
  char oid[EF_ID_STRLEN];
  uv_update_time(&loop);
  uint64_t t0 = uv_now(&loop);
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  last_order_id(&conns[0], oid);
  run_until(r);
  assert_int_equal(r->calls, 1);
  assert_true(uv_now(&loop) - t0 >= 20);
  assert_false(r->ok);
  assert_int_equal(r->http, 504);
  assert_string_equal(r->message, "order timed out: no result from the device");
  assert_string_equal(stub_devlog_last("order_result")->result, "fail");

  /* the answer arrives after the timeout: ignored, no second callback */
  device_says(s, "{\"type\":\"%s\",\"status\":\"success\",\"Headers\":{\"order_id\":\"%s\"}}",
              WIRE_UPLOAD_RESULT, oid);
  assert_int_equal(r->calls, 1);
  assert_int_equal(stub_devlog_count_event(42, "order_result"), 1);
}

static void test_no_timeout_after_result(void **state) {
  (void)state;
  struct dsess *s = connect_device(42);
  srv.cfg.order_timeout = 10;
  struct result *r = new_result();
  const char *why = NULL;
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  device_says(s, "{\"type\":\"%s\",\"status\":\"success\",\"Headers\":{}}", WIRE_UPLOAD_RESULT);
  assert_int_equal(r->calls, 1);
  uv_sleep(30);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(r->calls, 1); /* the timer was stopped */
  assert_true(r->ok);
}

static void test_restart_handshake(void **state) {
  (void)state;
  struct dsess *s = connect_device(42);
  struct result *r = new_result();
  const char *why = NULL;
  char oid[EF_ID_STRLEN];
  assert_int_equal(order_give(&srv, 42, WIRE_ORDER_RESTART, NULL, on_done, r, &why), 0);
  last_order_id(&conns[0], oid);
  device_says(s, "{\"type\":\"%s\",\"status\":\"success\",\"Headers\":{\"order_id\":\"%s\","
                 "\"message\":\"%s\"}}", WIRE_UPLOAD_RESULT, oid, WIRE_RESTART_WAIT);
  assert_int_equal(stub_net_count(&conns[0], STUB_NET_SEND), 2);
  assert_string_equal(stub_net_last(&conns[0]), WIRE_RESTART_CONFIRM_FRAME);
  assert_int_equal(r->calls, 1);
  assert_true(r->ok);
  assert_int_equal(r->http, 200);
  assert_string_equal(r->message, "restart confirmed");
}

static void test_wait_confirm_only_for_restart(void **state) {
  (void)state;
  struct dsess *s = connect_device(42);
  struct result *r = new_result();
  const char *why = NULL;
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  device_says(s, "{\"type\":\"%s\",\"status\":\"success\",\"Headers\":{\"message\":\"%s\"}}",
              WIRE_UPLOAD_RESULT, WIRE_RESTART_WAIT);
  assert_int_equal(stub_net_count(&conns[0], STUB_NET_SEND), 1); /* no confirm */
  assert_int_equal(r->calls, 1);
  assert_string_equal(r->message, WIRE_RESTART_WAIT);
}

/* ----- the device goes away ----- */

static void test_failed_on_logout(void **state) {
  (void)state;
  struct dsess *s = connect_device(42);
  struct result *r = new_result();
  const char *why = NULL;
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  live_sess_set_state(s, DEV_UNKNOWN, "heartbeat missed"); /* a state change keeps the order */
  assert_int_equal(r->calls, 0);
  live_sess_end(s, "connection closed");
  assert_int_equal(r->calls, 1);
  assert_false(r->ok);
  assert_int_equal(r->http, 502);
  assert_string_equal(r->message, "device disconnected");
  assert_string_equal(stub_devlog_last("order_result")->detail, "reboot: device disconnected");
}

static void test_failed_on_replacing_login(void **state) {
  (void)state;
  connect_device(42);
  connect_device(43);
  struct result *r = new_result(), *other = new_result();
  const char *why = NULL;
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  assert_int_equal(order_give(&srv, 43, "reboot", NULL, on_done, other, &why), 0);
  connect_device(44); /* another device's login: nobody's order ends */
  assert_int_equal(r->calls + other->calls, 0);

  struct dsess *again = connect_device(42); /* device 42 again, on a new connection */
  assert_int_equal(r->calls, 1);
  assert_false(r->ok);
  assert_int_equal(r->http, 502);
  assert_string_equal(r->message, "device reconnected");
  assert_true(conns[0].closed);
  assert_int_equal(other->calls, 0);

  /* the new session takes orders at once, on its own connection */
  struct result *r2 = new_result();
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r2, &why), 0);
  assert_int_equal(stub_net_count(&conns[3], STUB_NET_SEND), 1);
  json_t *f = stub_net_sent_json(&conns[3], 0);
  assert_string_equal(jstr(f, "type"), WIRE_GIVE_ORDER);
  json_decref(f);
  live_sess_end(again, "connection closed");
  assert_int_equal(r2->calls, 1);
  assert_string_equal(r2->message, "device disconnected");
}

static void test_devlog_rows(void **state) {
  (void)state;
  struct dsess *s = connect_device(42);
  struct result *r = new_result();
  const char *why = NULL;
  for (int i = 0; i < 3; i++) {
    assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
    device_says(s, "{\"type\":\"%s\",\"status\":\"success\",\"Headers\":{}}", WIRE_UPLOAD_RESULT);
  }
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  assert_int_equal(stub_devlog_count_event(42, "order"), 4);
  assert_int_equal(stub_devlog_count_event(42, "order_result"), 3);
  assert_int_equal(stub_devlog_count(), 7); /* and nothing else */
  for (size_t i = 0; i < 6; i++) /* order, result, order, result, ... */
    assert_string_equal(stub_devlog_row(i)->event, i % 2 ? "order_result" : "order");
}

/* The caller hears of the order once its rows are committed, and hears if they were lost. */
static void test_answer_waits_for_rows(void **state) {
  (void)state;
  struct dsess *s = connect_device(42);
  struct result *r = new_result(), *r2 = new_result();
  const char *why = NULL;
  stub_devlog_hold(true);
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r, &why), 0);
  device_says(s, "{\"type\":\"%s\",\"status\":\"success\",\"Headers\":{\"message\":\"ok\"}}",
              WIRE_UPLOAD_RESULT);
  assert_int_equal(stub_devlog_count_event(42, "order_result"), 1);
  assert_int_equal(r->calls, 0); /* not before the rows are committed */
  /* the device is free for the next order meanwhile */
  assert_int_equal(order_give(&srv, 42, "reboot", NULL, on_done, r2, &why), 0);
  assert_int_equal(stub_devlog_commit(0), 1);
  assert_int_equal(r->calls, 1);
  assert_true(r->ok);
  assert_int_equal(r->http, 200);
  assert_string_equal(r->message, "ok");
  assert_int_equal(r->log_rc, 0);

  device_says(s, "{\"type\":\"%s\",\"status\":\"fail\",\"Headers\":{\"message\":\"no\"}}",
              WIRE_UPLOAD_RESULT);
  assert_int_equal(r2->calls, 0);
  assert_int_equal(stub_devlog_commit(EF_EFULL), 1); /* the rows were lost */
  assert_int_equal(r2->calls, 1);
  assert_false(r2->ok);
  assert_int_equal(r2->http, 502);
  assert_string_equal(r2->message, "no");
  assert_int_equal(r2->log_rc, EF_EFULL);
  stub_devlog_hold(false);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_send_fails, setup, teardown),
    cmocka_unit_test_setup_teardown(test_frame, setup, teardown),
    cmocka_unit_test_setup_teardown(test_frame_no_params, setup, teardown),
    cmocka_unit_test_setup_teardown(test_result_matched, setup, teardown),
    cmocka_unit_test_setup_teardown(test_result_failed, setup, teardown),
    cmocka_unit_test_setup_teardown(test_late_result_ignored, setup, teardown),
    cmocka_unit_test_setup_teardown(test_result_without_order_id, setup, teardown),
    cmocka_unit_test_setup_teardown(test_result_of_another_device, setup, teardown),
    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
    cmocka_unit_test_setup_teardown(test_no_timeout_after_result, setup, teardown),
    cmocka_unit_test_setup_teardown(test_restart_handshake, setup, teardown),
    cmocka_unit_test_setup_teardown(test_wait_confirm_only_for_restart, setup, teardown),
    cmocka_unit_test_setup_teardown(test_failed_on_logout, setup, teardown),
    cmocka_unit_test_setup_teardown(test_failed_on_replacing_login, setup, teardown),
    cmocka_unit_test_setup_teardown(test_devlog_rows, setup, teardown),
    cmocka_unit_test_setup_teardown(test_answer_waits_for_rows, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
