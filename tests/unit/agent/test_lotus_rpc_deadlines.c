/* SPDX-License-Identifier: MIT */
/* test_lotus_rpc_deadlines.c -- the RPC source's WindowPoSt, fault, address and message
 * converters (src/agent/lotus_rpc_deadlines.c) on answers shaped as lotus' JSON-RPC gives them
 * (go-bitfield RLE arrays, dline.Info, binary multiaddrs in base64). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "lotus_rpc_deadlines.h"

static json_t *J(const char *text) {
  json_error_t e;
  json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
  assert_non_null(v);
  return v;
}

static json_int_t geti(const json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  assert_true(json_is_integer(v));
  return json_integer_value(v);
}

static void bitfields(void **state) {
  (void)state;
  json_t *bf = J("[3, 2, 1, 3]"); /* bits 3 4, then 6 7 8 */
  assert_int_equal(lotus_bitfield_count(bf), 5);
  bool trunc;
  json_t *l = lotus_bitfield_list(bf, 10, &trunc);
  json_t *want = J("[3, 4, 6, 7, 8]");
  assert_true(json_equal(l, want) && !trunc);
  json_decref(l);
  l = lotus_bitfield_list(bf, 2, &trunc);
  assert_int_equal(json_array_size(l), 2);
  assert_true(trunc);
  json_decref(l);
  json_decref(want);
  json_decref(bf);
  json_t *empty = J("[0]"), *bad = J("[1, -2]"), *obj = J("{}"), *str = J("[\"1\"]");
  assert_int_equal(lotus_bitfield_count(empty), 0);
  assert_int_equal(lotus_bitfield_count(bad), -1);
  assert_int_equal(lotus_bitfield_count(obj), -1);
  assert_int_equal(lotus_bitfield_count(str), -1);
  assert_null(lotus_bitfield_list(bad, 5, &trunc));
  json_decref(empty);
  json_decref(bad);
  json_decref(obj);
  json_decref(str);
}

static void deadlines(void **state) {
  (void)state;
  json_t *dl = J("{\"CurrentEpoch\": 250, \"PeriodStart\": 100, \"Index\": 2, \"Open\": 220,"
                 " \"Close\": 280, \"Challenge\": 200, \"FaultCutoff\": 150,"
                 " \"WPoStPeriodDeadlines\": 48, \"WPoStChallengeWindow\": 60}");
  json_t *dls = J("[{\"PostSubmissions\": [0, 1]}, {\"PostSubmissions\": [0]},"
                  " {\"PostSubmissions\": [1, 1]}]");
  json_t *parts[LOTUS_RPC_DEADLINES] = {0};
  parts[0] = J("[{\"AllSectors\": [0, 5], \"FaultySectors\": [2, 1], \"RecoveringSectors\": [2, 1]},"
               " {\"AllSectors\": [10, 2], \"FaultySectors\": [0], \"RecoveringSectors\": [0]}]");
  parts[2] = J("[]");
  struct lotus_chain_clock clock = {250, 1000000000000LL};
  json_t *info = json_object();
  lotus_rpc_put_deadlines(info, dl, dls, parts, &clock);
  assert_int_equal(geti(info, "currentDeadline"), 2);
  assert_int_equal(geti(info, "deadlineOpen"), 1000000000000LL - 30 * 30000);
  assert_int_equal(geti(info, "deadlineClose"), 1000000000000LL + 30 * 30000);
  assert_int_equal(geti(info, "nextDeadlineOpen"), geti(info, "deadlineClose"));
  assert_int_equal(geti(info, "deadlineLeftSeconds"), 900);
  json_t *arr = json_object_get(info, "deadlines");
  assert_int_equal(json_array_size(arr), 3);
  json_t *d0 = json_array_get(arr, 0), *d1 = json_array_get(arr, 1), *d2 = json_array_get(arr, 2);
  assert_int_equal(geti(d0, "index"), 0);
  assert_int_equal(geti(d0, "partitions"), 2);
  assert_int_equal(geti(d0, "sectors"), 7);
  assert_int_equal(geti(d0, "faults"), 1);
  assert_int_equal(geti(d0, "recoveries"), 1);
  assert_int_equal(geti(d0, "provenPartitions"), 1);
  assert_int_equal(geti(d0, "open"), 1000000000000LL - 150 * 30000);
  assert_null(json_object_get(d0, "current"));
  /* deadline 1: its partitions are unknown (the call failed): no counts, not zeros */
  assert_null(json_object_get(d1, "sectors"));
  assert_null(json_object_get(d1, "partitions"));
  assert_int_equal(geti(d1, "provenPartitions"), 0);
  assert_int_equal(geti(d1, "open"), 1000000000000LL - 90 * 30000);
  assert_int_equal(geti(d2, "partitions"), 0);
  assert_int_equal(geti(d2, "sectors"), 0);
  assert_int_equal(geti(d2, "provenPartitions"), 1);
  assert_true(json_is_true(json_object_get(d2, "current")));
  json_decref(info);

  /* without a chain clock: no times at all */
  info = json_object();
  lotus_rpc_put_deadlines(info, dl, dls, parts, NULL);
  assert_int_equal(geti(info, "currentDeadline"), 2);
  assert_null(json_object_get(info, "deadlineOpen"));
  assert_null(json_object_get(json_array_get(json_object_get(info, "deadlines"), 0), "open"));
  json_decref(info);
  /* not a dline.Info, not an array: nothing */
  info = json_object();
  json_t *junk = J("\"x\"");
  lotus_rpc_put_deadlines(info, junk, junk, parts, &clock);
  assert_int_equal(json_object_size(info), 0);
  json_decref(info);
  json_decref(junk);
  json_decref(parts[0]);
  json_decref(parts[2]);
  json_decref(dl);
  json_decref(dls);
}

static void faults(void **state) {
  (void)state;
  json_t *f = J("[201, 1, 206, 1]"), *r = J("[201, 1]"), *info = json_object();
  lotus_rpc_put_faults(info, f, r);
  json_t *want = J("[201, 408]");
  assert_int_equal(geti(info, "faultySectors"), 2);
  assert_true(json_equal(json_object_get(info, "faults"), want));
  assert_int_equal(geti(info, "recoverySectors"), 1);
  assert_null(json_object_get(info, "faultsTruncated"));
  json_decref(info);
  json_decref(want);
  json_decref(f);
  json_decref(r);
  f = J("[0, 1500]");
  info = json_object();
  lotus_rpc_put_faults(info, f, NULL);
  assert_int_equal(geti(info, "faultySectors"), 1500);
  assert_int_equal(json_array_size(json_object_get(info, "faults")), LOTUS_RPC_FAULTS_MAX);
  assert_true(json_is_true(json_object_get(info, "faultsTruncated")));
  assert_null(json_object_get(info, "recoverySectors")); /* unknown, not 0 */
  json_decref(info);
  json_decref(f);
}

static void multiaddrs(void **state) {
  (void)state;
  char out[300];
  assert_true(lotus_multiaddr_text("BH8AAAEGXcE=", out, sizeof out));
  assert_string_equal(out, "/ip4/127.0.0.1/tcp/24001");
  assert_true(lotus_multiaddr_text("NgltaW5lci5sYW4GXcE=", out, sizeof out));
  assert_string_equal(out, "/dns4/miner.lan/tcp/24001");
  assert_true(lotus_multiaddr_text("KQAAAAAAAAAAAAAAAAAAAAGRAl3BzQM=", out, sizeof out));
  assert_string_equal(out, "/ip6/::1/udp/24001/quic-v1");
  /* tests/data/lotus-rpc/rpc-StateMinerInfo.json: ip4 then protocol code 837, unknown */
  assert_false(lotus_multiaddr_text("BMCoAQHFBnfF", out, sizeof out));
  assert_false(lotus_multiaddr_text("BH8AAA==", out, sizeof out)); /* ip4 cut short */
  assert_false(lotus_multiaddr_text("not base64!", out, sizeof out));
  assert_false(lotus_multiaddr_text("", out, sizeof out));
  assert_false(lotus_multiaddr_text("BH8AAAEGXcE=", out, 10)); /* does not fit */

  json_t *mi = J("{\"Owner\": \"f01235\", \"Worker\": \"f01236\", \"ControlAddresses\": [\"f01237\"],"
                 " \"PeerId\": \"12D3KooWabc\", \"Multiaddrs\": [\"BH8AAAEGXcE=\", \"BMCoAQHFBnfF\"]}");
  json_t *info = json_object();
  lotus_rpc_put_addresses(info, mi);
  json_t *want = J("{\"ownerAddress\": \"f01235\", \"workerAddress\": \"f01236\","
                   " \"controlAddresses\": [\"f01237\"], \"peerId\": \"12D3KooWabc\","
                   " \"multiaddrs\": [\"/ip4/127.0.0.1/tcp/24001\"]}");
  assert_true(json_equal(info, want));
  json_decref(want);
  json_decref(info);
  json_decref(mi);
  /* lotus' null for "none" */
  mi = J("{\"Owner\": \"f01\", \"ControlAddresses\": null, \"Multiaddrs\": null}");
  info = json_object();
  lotus_rpc_put_addresses(info, mi);
  assert_int_equal(json_array_size(json_object_get(info, "controlAddresses")), 0);
  assert_int_equal(json_array_size(json_object_get(info, "multiaddrs")), 0);
  assert_null(json_object_get(info, "workerAddress"));
  json_decref(info);
  json_decref(mi);
}

static void messages(void **state) {
  (void)state;
  json_t *pool = J("[{\"Message\": {\"From\": \"f1worker\"}}, {\"Message\": {\"From\": \"f01237\"}},"
                   " {\"Message\": {\"From\": \"f1stranger\"}}, {\"Message\": {}}, 7]");
  json_t *addrs = J("[\"f01235\", \"f01236\", \"f01237\", \"f1worker\"]");
  assert_int_equal(lotus_rpc_count_messages(pool, addrs), 2);
  json_t *none = J("[]");
  assert_int_equal(lotus_rpc_count_messages(pool, none), 0);
  assert_int_equal(lotus_rpc_count_messages(none, addrs), 0);
  json_decref(none);
  json_decref(pool);
  json_decref(addrs);
}

static void record_keys(void **state) {
  (void)state;
  json_t *info = J("{\"minerId\": \"f01234\", \"currentDeadline\": 3, \"faults\": [1],"
                   " \"peerId\": \"p\", \"totalMessagesError\": \"why\", \"sectorSize\": \"32 GiB\"}");
  json_t *rec = J("{\"minerId\": \"f01234\"}");
  lotus_rpc_add_record(rec, info);
  json_t *want = J("{\"minerId\": \"f01234\", \"currentDeadline\": 3, \"faults\": [1],"
                   " \"peerId\": \"p\", \"totalMessagesError\": \"why\"}");
  assert_true(json_equal(rec, want));
  lotus_rpc_add_record(rec, NULL);
  lotus_rpc_add_record(NULL, info);
  assert_true(json_equal(rec, want));
  json_decref(want);
  json_decref(rec);
  json_decref(info);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(bitfields), cmocka_unit_test(deadlines), cmocka_unit_test(faults),
    cmocka_unit_test(multiaddrs), cmocka_unit_test(messages), cmocka_unit_test(record_keys),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
