/* SPDX-License-Identifier: MIT */
/* test_proto.c -- building and parsing southbound messages (src/edge/proto.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "edgefleet/error.h"
#include "mem.h"
#include "proto.h"

/* Compare a built message with the expected JSON, ignoring key order. */
static void assert_json(char *got, const char *want) {
  assert_non_null(got);
  json_t *a = json_loads(got, 0, NULL), *b = json_loads(want, 0, NULL);
  assert_non_null(a);
  assert_non_null(b);
  if (!json_equal(a, b)) fail_msg("got %s\nwant %s", got, want);
  json_decref(a);
  json_decref(b);
  ef_free(got);
}

static void test_login(void **state) {
  (void)state;
  assert_json(proto_login("123", NULL, NULL, "pw", NULL), "{\"device_id\":\"123\",\"password\":\"pw\"}");
  assert_json(proto_login(NULL, "SN1", "M1", "pw", NULL),
              "{\"device_sn\":\"SN1\",\"device_model\":\"M1\",\"password\":\"pw\"}");
  assert_json(proto_login("", "SN1", "M1", "pw", NULL),
              "{\"device_sn\":\"SN1\",\"device_model\":\"M1\",\"password\":\"pw\"}");
  assert_json(proto_login("123", NULL, NULL, "pw", "tok"), "{\"device_id\":\"123\",\"token\":\"tok\"}");
  assert_null(proto_login(NULL, "SN1", NULL, "pw", NULL));
  assert_null(proto_login(NULL, NULL, NULL, "pw", "tok"));
}

static void test_build(void **state) {
  (void)state;
  assert_json(proto_ping(), "{\"type\":\"ping_pong\",\"Headers\":{},\"data\":\"ping\"}");
  json_t *sec = json_pack("{s:{s:i}}", "CPU_info", "x", 1);
  json_t *extra = json_pack("{s:i, s:s, s:s}", "more", 2, "dev_state", "bogus", "device_id", "9");
  assert_json(proto_status("123", sec, extra),
              "{\"type\":\"upload_status_info\",\"Headers\":{},\"data\":{\"CPU_info\":{\"x\":1},"
              "\"more\":2,\"device_id\":\"123\",\"dev_state\":\"online\"}}");
  json_decref(sec);
  json_decref(extra);
  json_t *id = json_string("o-1");
  assert_json(proto_result(true, "ok", id),
              "{\"type\":\"upload_instruction_result\",\"status\":\"success\","
              "\"Headers\":{\"message\":\"ok\",\"order_id\":\"o-1\"},\"data\":{}}");
  json_decref(id);
  assert_json(proto_result(false, "order not in config", NULL),
              "{\"type\":\"upload_instruction_result\",\"status\":\"fail\","
              "\"Headers\":{\"message\":\"order not in config\"},\"data\":{}}");
  assert_json(proto_miner("{\"minerId\":\"f01\"}", true),
              "{\"type\":\"upload_miner_info\",\"Headers\":{\"full\":true},\"data\":{\"minerId\":\"f01\"}}");
  assert_json(proto_miner("{}", false),
              "{\"type\":\"upload_miner_info\",\"Headers\":{\"full\":false},\"data\":{}}");
  assert_null(proto_miner("[1]", false));
  assert_null(proto_miner("{bad", false));
}

static void test_parse_login(void **state) {
  (void)state;
  struct proto_msg m;
  const char *ok = "{\"status\":\"success\",\"data\":{\"device_id\":\"7\",\"token\":\"t\","
                   "\"token_expires\":1800000000000}}";
  assert_int_equal(proto_parse(ok, strlen(ok), &m), 0);
  assert_int_equal(m.type, PROTO_LOGIN_REPLY);
  assert_true(m.success);
  assert_string_equal(m.device_id, "7");
  assert_string_equal(m.token, "t");
  assert_int_equal(m.token_expires, 1800000000000LL);
  proto_msg_free(&m);
  const char *bad = "{\"status\":\"fail\",\"message\":\"wrong password\"}";
  assert_int_equal(proto_parse(bad, strlen(bad), &m), 0);
  assert_int_equal(m.type, PROTO_LOGIN_REPLY);
  assert_false(m.success);
  assert_string_equal(m.message, "wrong password");
  assert_null(m.token);
  proto_msg_free(&m);
}

static void test_parse_types(void **state) {
  (void)state;
  static const struct {
    const char *text;
    enum proto_type type;
  } cases[] = {
      {"{\"type\":\"ping_pong\",\"Headers\":{},\"data\":\"pong\"}", PROTO_PONG},
      {"{\"type\":\"send_statusInfo_response\"}", PROTO_STATUS_ACK},
      {"{\"type\":\"restart_confirm\",\"Headers\":{},\"data\":{}}", PROTO_RESTART_CONFIRM},
      {"{\"type\":\"report_full_info\"}", PROTO_REPORT_FULL},
      {"{\"type\":\"send_minerInfo_response\"}", PROTO_MINER_ACK},
      {"{\"type\":\"something_new\",\"x\":1}", PROTO_UNKNOWN},
      {"{\"type\":5}", PROTO_UNKNOWN},
      {"{}", PROTO_UNKNOWN},
  };
  struct proto_msg m;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(proto_parse(cases[i].text, strlen(cases[i].text), &m), 0);
    assert_int_equal(m.type, cases[i].type);
    proto_msg_free(&m);
  }
  const char *bads[] = {"", "not json", "[1,2]", "\"str\"", "{\"a\":1", "{\"a\":1,\"a\":2}"};
  for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
    assert_int_equal(proto_parse(bads[i], strlen(bads[i]), &m), EF_EPARSE);
}

static void test_parse_order(void **state) {
  (void)state;
  struct proto_msg m;
  const char *o = "{\"type\":\"give_order\",\"Headers\":{\"isInner\":false,\"order_type\":\"blink\","
                  "\"order_id\":\"99\"},\"data\":{\"device_id\":\"1\",\"params\":{\"n\":3}}}";
  assert_int_equal(proto_parse(o, strlen(o), &m), 0);
  assert_int_equal(m.type, PROTO_GIVE_ORDER);
  assert_string_equal(m.order_type, "blink");
  assert_string_equal(json_string_value(m.order_id), "99");
  assert_string_equal(m.params, "{\"n\":3}");
  assert_string_equal(m.order_device, "1");
  assert_null(m.remote_dir);
  proto_msg_free(&m);
  const char *o2 = "{\"type\":\"give_order\",\"Headers\":{\"order_type\":\"upload_log\"},"
                   "\"data\":{\"remote_dir\":\"/logs\",\"params\":[1]}}";
  assert_int_equal(proto_parse(o2, strlen(o2), &m), 0);
  assert_null(m.order_id);
  assert_string_equal(m.params, "{}");
  assert_string_equal(m.remote_dir, "/logs");
  proto_msg_free(&m);
  const char *o3 = "{\"type\":\"give_order\",\"Headers\":7}";
  assert_int_equal(proto_parse(o3, strlen(o3), &m), 0);
  assert_int_equal(m.type, PROTO_GIVE_ORDER);
  assert_null(m.order_type);
  assert_string_equal(m.params, "{}");
  proto_msg_free(&m);
}

static void test_expiry(void **state) {
  (void)state;
  json_t *v = json_integer(1800000000000LL);
  assert_int_equal(proto_expiry_ms(v), 1800000000000LL);
  json_decref(v);
  v = json_integer(1800000000); /* seconds */
  assert_int_equal(proto_expiry_ms(v), 1800000000000LL);
  json_decref(v);
  v = json_string("1800000000000");
  assert_int_equal(proto_expiry_ms(v), 1800000000000LL);
  json_decref(v);
  v = json_string("soon");
  assert_int_equal(proto_expiry_ms(v), 0);
  json_decref(v);
  v = json_integer(-5);
  assert_int_equal(proto_expiry_ms(v), 0);
  json_decref(v);
  assert_int_equal(proto_expiry_ms(NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_login),       cmocka_unit_test(test_build),
      cmocka_unit_test(test_parse_login), cmocka_unit_test(test_parse_types),
      cmocka_unit_test(test_parse_order), cmocka_unit_test(test_expiry),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
