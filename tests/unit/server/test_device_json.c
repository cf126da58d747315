/* SPDX-License-Identifier: MIT */
/* test_device_json.c -- the REST JSON of devices: validation of every member, the round trip,
 * and that secrets never leave (src/server/device_json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "device_json.h"
#include "edgefleet/error.h"
#include "jsonutil.h"
#include "mem.h"

static const char *const full_text =
    "{\"device_name\":\"edge-01\",\"device_type\":\"gateway\","
    "\"hardware\":{\"sn\":\"SN-0001\",\"model\":\"EG-9\"},"
    "\"software\":{\"version\":\"1.2.3\",\"last_update\":\"2024-05-01\"},"
    "\"base\":{\"version\":\"0.9\",\"last_update\":\"2024-04-01\",\"state\":\"running\"},"
    "\"business\":{\"version\":\"2.0\",\"last_update\":\"2024-04-02\",\"state\":\"stopped\"},"
    "\"nic\":[{\"type\":\"eth\",\"mac\":\"00:11:22:33:44:55\",\"ipv4\":\"10.0.0.2\"},"
    "{\"type\":\"wlan\",\"mac\":\"66:77:88:99:aa:bb\"}],"
    "\"wifi_mac\":\"66:77:88:99:aa:bb\",\"lte_imei\":\"356938035643809\","
    "\"dev_description\":\"rack 4, ünïcode ok\",\"dev_state\":\"online\","
    "\"password\":\"s3cret\"}";

/* Every device member's JSON path, generated from the same list the code uses. */
struct path {
  const char *parent, *key;
};
static const struct path paths[] = {
#define T_PATH_(col, parent, key) {parent, key},
    STORE_DEVICE_FIELDS(T_PATH_)
#undef T_PATH_
};
#define NPATHS (sizeof paths / sizeof paths[0])

static json_t *load(const char *text) {
  json_t *v = json_loads(text, 0, NULL);
  assert_non_null(v);
  return v;
}

/* The value at a member's path in o (NULL when absent). */
static json_t *at(json_t *o, const struct path *p) {
  if (p->parent) o = json_object_get(o, p->parent);
  return o ? json_object_get(o, p->key) : NULL;
}

/* Set a member's value at its path (creating the parent), stealing v. */
static void set_at(json_t *o, const struct path *p, json_t *v) {
  if (p->parent) {
    json_t *par = json_object_get(o, p->parent);
    if (!json_is_object(par)) {
      par = json_object();
      json_object_set_new(o, p->parent, par);
    }
    o = par;
  }
  json_object_set_new(o, p->key, v);
}

static void del_at(json_t *o, const struct path *p) {
  if (p->parent) o = json_object_get(o, p->parent);
  if (o) json_object_del(o, p->key);
}

static char *path_text(const struct path *p) {
  return p->parent ? ef_asprintf("%s.%s", p->parent, p->key) : ef_strdup(p->key);
}

static void test_full_device_parses(void **state) {
  (void)state;
  json_t *in = load(full_text);
  struct store_device d;
  char err[160];
  assert_int_equal(device_from_json(in, DEVJ_NEW, &d, err, sizeof err), 0);
  assert_string_equal(d.device_name, "edge-01");
  assert_string_equal(d.hardware_sn, "SN-0001");
  assert_string_equal(d.hardware_model, "EG-9");
  assert_string_equal(d.business_state, "stopped");
  assert_string_equal(d.dev_description, "rack 4, ünïcode ok");
  assert_string_equal(d.password, "s3cret");
  assert_null(d.token_hash);
  assert_int_equal(d.device_id, 0);
  json_t *nic = json_loads(d.nic, 0, NULL);
  assert_true(json_equal(nic, json_object_get(in, "nic")));
  json_decref(nic);
  store_device_clear(&d);
  json_decref(in);
}

/* to_json(from_json(x)) has every member of x at the same place with the same value. */
static void test_round_trip(void **state) {
  (void)state;
  json_t *in = load(full_text);
  struct store_device d;
  char err[160];
  assert_int_equal(device_from_json(in, DEVJ_NEW, &d, err, sizeof err), 0);
  d.device_id = 7301234567890123ULL;
  d.created_time = 1700000000123;
  d.updated_time = 1700000000456;
  json_t *out = device_to_json(&d);
  for (size_t i = 0; i < NPATHS; i++) {
    json_t *a = at(in, &paths[i]), *b = at(out, &paths[i]);
    assert_non_null(a);
    assert_non_null(b);
    if (!json_equal(a, b)) fail_msg("member %s.%s differs", paths[i].parent, paths[i].key);
  }
  assert_string_equal(jstr(out, "device_id"), "7301234567890123");
  assert_int_equal(json_integer_value(json_object_get(out, "created_time")), 1700000000123);
  assert_int_equal(json_integer_value(json_object_get(out, "updated_time")), 1700000000456);

  /* ...and back again: the same record. */
  struct store_device d2;
  assert_int_equal(device_from_json(out, 0, &d2, err, sizeof err), 0);
#define T_SAME_(col, parent, key) assert_string_equal(d.col, d2.col);
  STORE_DEVICE_FIELDS(T_SAME_)
#undef T_SAME_
  assert_null(d2.password); /* the output carried none */
  store_device_clear(&d2);
  store_device_clear(&d);
  json_decref(out);
  json_decref(in);
}

static void test_absent_members_are_null(void **state) {
  (void)state;
  json_t *in = load("{\"hardware\":{\"sn\":\"a\",\"model\":\"b\"},\"password\":\"p\"}");
  struct store_device d;
  char err[160];
  assert_int_equal(device_from_json(in, DEVJ_NEW, &d, err, sizeof err), 0);
  assert_null(d.nic);
  assert_null(d.software_version);
  json_t *out = device_to_json(&d);
  for (size_t i = 0; i < NPATHS; i++) {
    json_t *v = at(out, &paths[i]);
    assert_non_null(v); /* the shape is stable: every member is there */
    if (strcmp(paths[i].key, "sn") && strcmp(paths[i].key, "model")) assert_true(json_is_null(v));
  }
  store_device_clear(&d);
  json_decref(out);
  json_decref(in);
}

static void test_required_members(void **state) {
  (void)state;
  static const struct path required[] = {{NULL, "password"}, {"hardware", "sn"},
                                         {"hardware", "model"}};
  char err[160];
  struct store_device d;
  for (size_t i = 0; i < 3; i++) {
    char *want = path_text(&required[i]);
    /* missing */
    json_t *in = load(full_text);
    del_at(in, &required[i]);
    assert_int_equal(device_from_json(in, DEVJ_NEW, &d, err, sizeof err), EF_ENOENT);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "required"));
    assert_null(d.device_name); /* cleared on failure */
    /* ...is fine for an update */
    assert_int_equal(device_from_json(in, 0, &d, err, sizeof err), 0);
    store_device_clear(&d);
    /* null counts as missing */
    set_at(in, &required[i], json_null());
    assert_int_equal(device_from_json(in, DEVJ_NEW, &d, err, sizeof err), EF_ENOENT);
    /* empty string, even in an update */
    set_at(in, &required[i], json_string(""));
    assert_int_equal(device_from_json(in, DEVJ_NEW, &d, err, sizeof err), EF_EINVAL);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "non-empty"));
    assert_int_equal(device_from_json(in, 0, &d, err, sizeof err), EF_EINVAL);
    /* wrong type */
    set_at(in, &required[i], json_integer(5));
    assert_int_equal(device_from_json(in, DEVJ_NEW, &d, err, sizeof err), EF_EINVAL);
    assert_non_null(strstr(err, want));
    json_decref(in);
    ef_free(want);
  }
  /* no hardware object at all */
  json_t *in = load("{\"password\":\"x\"}");
  assert_int_equal(device_from_json(in, DEVJ_NEW, &d, err, sizeof err), EF_ENOENT);
  assert_string_equal(err, "hardware.sn: required");
  json_decref(in);
  /* an empty update is valid JSON-wise (the route refuses it) */
  in = load("{}");
  assert_int_equal(device_from_json(in, 0, &d, err, sizeof err), 0);
  store_device_clear(&d);
  json_decref(in);
}

/* Every optional member, given a number, an object, an array, a bool: refused, named. */
static void test_wrong_types(void **state) {
  (void)state;
  char err[160];
  struct store_device d;
  for (size_t i = 0; i < NPATHS; i++) {
    char *want = path_text(&paths[i]);
    json_t *bad[] = {json_integer(1), json_real(2.5), json_true(), json_object(),
                     strcmp(paths[i].key, "nic") ? json_array() : json_string("eth0")};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
      json_t *in = load(full_text);
      set_at(in, &paths[i], bad[k]);
      int rc = device_from_json(in, DEVJ_NEW, &d, err, sizeof err);
      if (rc != EF_EINVAL) fail_msg("%s: value %zu accepted (rc %d)", want, k, rc);
      if (strncmp(err, want, strlen(want)) != 0) fail_msg("%s: error '%s'", want, err);
      json_decref(in);
    }
    ef_free(want);
  }
  /* a parent that is not an object */
  static const char *const parents[] = {"hardware", "software", "base", "business"};
  for (size_t i = 0; i < 4; i++) {
    json_t *in = load(full_text);
    json_object_set_new(in, parents[i], json_string("x"));
    assert_int_equal(device_from_json(in, 0, &d, err, sizeof err), EF_EINVAL);
    char want[64];
    snprintf(want, sizeof want, "%s: must be an object", parents[i]);
    assert_string_equal(err, want);
    json_decref(in);
  }
  /* the device itself */
  json_t *arr = json_array();
  assert_int_equal(device_from_json(arr, 0, &d, err, sizeof err), EF_EINVAL);
  json_decref(arr);
}

static void test_bad_nic(void **state) {
  (void)state;
  static const struct {
    const char *nic, *err;
  } cases[] = {
      {"\"eth0\"", "nic: must be an array of objects"},
      {"{\"type\":\"eth\"}", "nic: must be an array of objects"},
      {"[{\"type\":\"eth\"}, 3]", "nic[1]: must be an object"},
      {"[[]]", "nic[0]: must be an object"},
      {"[{\"type\":\"eth\",\"mac\":17}]", "nic[0].mac: must be a string"},
      {"[{},{\"ipv4\":[\"10.0.0.1\"]}]", "nic[1].ipv4: must be a string"},
      {"[{\"type\":false}]", "nic[0].type: must be a string"},
  };
  char err[160];
  struct store_device d;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *text = ef_asprintf("{\"nic\":%s}", cases[i].nic);
    json_t *in = load(text);
    assert_int_equal(device_from_json(in, 0, &d, err, sizeof err), EF_EINVAL);
    assert_string_equal(err, cases[i].err);
    json_decref(in);
    ef_free(text);
  }
  /* the good ones: empty array, null members, unknown members kept */
  json_t *in = load("{\"nic\":[]}");
  assert_int_equal(device_from_json(in, 0, &d, err, sizeof err), 0);
  assert_string_equal(d.nic, "[]");
  store_device_clear(&d);
  json_decref(in);
  in = load("{\"nic\":[{\"type\":null,\"speed\":1000}]}");
  assert_int_equal(device_from_json(in, 0, &d, err, sizeof err), 0);
  json_t *out = device_to_json(&d);
  assert_true(json_equal(json_object_get(out, "nic"), json_object_get(in, "nic")));
  json_decref(out);
  store_device_clear(&d);
  json_decref(in);
}

/* A stored record with a password hash and a session token: neither appears in the JSON. */
static void test_secrets_never_emitted(void **state) {
  (void)state;
  struct store_device d = {0};
  d.device_id = 42;
  d.hardware_sn = ef_strdup("sn");
  d.hardware_model = ef_strdup("m");
  d.password = ef_strdup("$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234");
  d.token_hash = ef_strdup("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  d.token_expiry = 99;
  d.nic = ef_strdup("not json {"); /* a damaged column gives null, not a crash */
  json_t *out = device_to_json(&d);
  assert_null(json_object_get(out, "password"));
  assert_null(json_object_get(out, "token_hash"));
  assert_null(json_object_get(out, "token_expiry"));
  assert_true(json_is_null(json_object_get(out, "nic")));
  char *text = jdump(out);
  assert_null(strstr(text, d.password));
  assert_null(strstr(text, d.token_hash));
  assert_null(strstr(text, "$2b$"));
  ef_free(text);
  json_t *arr = devices_to_json(&d, 1);
  text = jdump(arr);
  assert_null(strstr(text, d.password));
  ef_free(text);
  json_decref(arr);
  json_decref(out);
  store_device_clear(&d);
}

static void test_ids(void **state) {
  (void)state;
  uint64_t id = 0;
  json_t *v = json_string("7301234567890123");
  assert_true(id_from_json(v, &id));
  assert_int_equal(id, 7301234567890123ULL);
  json_decref(v);
  v = json_integer(12345);
  assert_true(id_from_json(v, &id));
  assert_int_equal(id, 12345);
  json_decref(v);
  json_t *bad[] = {json_integer(0), json_integer(-3), json_string(""), json_string("12a"),
                   json_string("-1"), json_string(" 1"), json_real(1.0), json_null(),
                   json_string("99999999999999999999999")};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_false(id_from_json(bad[i], &id));
    json_decref(bad[i]);
  }
  assert_false(id_from_json(NULL, &id));
  v = id_to_json(18446744073709551615ULL);
  assert_string_equal(json_string_value(v), "18446744073709551615");
  json_decref(v);
}

static void test_group_and_log_json(void **state) {
  (void)state;
  struct store_group g = {.group_id = 9, .group_name = "north", .group_description = NULL,
                          .created_time = 1, .updated_time = 2};
  json_t *o = group_to_json(&g);
  json_t *want = json_loads("{\"group_id\":\"9\",\"group_name\":\"north\","
                            "\"group_description\":null,\"created_time\":1,\"updated_time\":2}",
                            0, NULL);
  assert_true(json_equal(o, want));
  json_decref(o);
  json_decref(want);
  struct store_log l = {.log_id = 3, .device_id = 4, .event = "login", .detail = "{\"a\":1}",
                        .result = "success", .time = 5};
  o = logs_to_json(&l, 1);
  want = json_loads("[{\"log_id\":\"3\",\"device_id\":\"4\",\"event\":\"login\","
                    "\"detail\":\"{\\\"a\\\":1}\",\"result\":\"success\",\"time\":5}]",
                    0, NULL);
  assert_true(json_equal(o, want));
  json_decref(o);
  json_decref(want);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_device_parses),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_absent_members_are_null),
      cmocka_unit_test(test_required_members),
      cmocka_unit_test(test_wrong_types),
      cmocka_unit_test(test_bad_nic),
      cmocka_unit_test(test_secrets_never_emitted),
      cmocka_unit_test(test_ids),
      cmocka_unit_test(test_group_and_log_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
