/* SPDX-License-Identifier: MIT */
/* test_history.c -- history.c's pure parts: the series sampled from a status upload and from a
 * miner record, FIL amounts, the tier a range reads, and the points of an answer (bucketed by
 * step, aggregates weighted by their counts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "history.h"
#include "server.h"

/* history_start's collaborators, unused here */
void status_listen(struct server *srv, status_listener fn, void *ud) {
  (void)srv, (void)fn, (void)ud;
}
bool miner_at(const struct miners *ms, size_t i, struct miner_info *out) {
  (void)ms, (void)i, (void)out;
  return false;
}
enum live_where live_find(const struct live *l, uint64_t device_id, struct dsess **s) {
  (void)l, (void)device_id, (void)s;
  return LIVE_LOCAL;
}

static double num(const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  assert_non_null(v);
  return json_number_value(v);
}

static void test_device_sample(void **state) {
  (void)state;
  json_t *data = json_loads(
      "{\"cpu_usage_percent\":12.5,\"load_avg\":{\"1\":0.5},\"cpu_temperature\":48,"
      "\"Memory_info\":{\"total_memory_mb\":2000,\"free_memory_mb\":500,\"buff_cache_mb\":500},"
      "\"Disk_info\":{\"root_used_percent\":40.5},"
      "\"net_io\":[{\"rx\":10,\"tx\":1},{\"rx\":5,\"tx\":2}],"
      "\"disk_io\":[{\"read_bps\":100,\"write_bps\":7}],"
      "\"gpuInfo\":[{\"temperature\":60,\"utilization\":10,\"memoryUsed\":1,\"power\":100},"
      "{\"temperature\":75,\"utilization\":30,\"memoryUsed\":2,\"power\":50}],"
      "\"host_name\":\"w1\"}", 0, NULL);
  json_t *s = history_device_sample(data);
  assert_true(num(s, "cpu_percent") == 12.5);
  assert_true(num(s, "load1") == 0.5);
  assert_true(num(s, "cpu_temp") == 48);
  assert_true(num(s, "mem_used_mb") == 1000);
  assert_true(num(s, "mem_used_percent") == 50);
  assert_true(num(s, "disk_used_percent") == 40.5);
  assert_true(num(s, "net_rx_bps") == 15 && num(s, "net_tx_bps") == 3);
  assert_true(num(s, "disk_read_bps") == 100 && num(s, "disk_write_bps") == 7);
  assert_true(num(s, "gpu_temp_max") == 75 && num(s, "gpu_util_percent") == 20);
  assert_true(num(s, "gpu_mem_used") == 3 && num(s, "gpu_power") == 150);
  assert_int_equal(json_object_size(s), 14);
  json_decref(s);
  json_decref(data);
  /* the seed controller's frame: what it has; strings are not numbers */
  data = json_loads("{\"cpu_usage_percent\":\"12\",\"Disk_info\":{\"root_used_percent\":3},"
                    "\"load_avg\":[0.25,1,2]}", 0, NULL);
  s = history_device_sample(data);
  assert_int_equal(json_object_size(s), 2);
  assert_true(num(s, "load1") == 0.25); /* edgefleet-loadgen's array shape */
  assert_true(num(s, "disk_used_percent") == 3);
  json_decref(s);
  json_decref(data);
}

static void test_fil(void **state) {
  (void)state;
  double v;
  assert_true(history_parse_fil("39.522 FIL", &v) && v == 39.522);
  assert_true(history_parse_fil("244.058 mFIL", &v) && v > 0.2440579 && v < 0.2440581);
  assert_true(history_parse_fil("-1 FIL", &v) && v == -1);
  assert_true(history_parse_fil("0 FIL", &v) && v == 0);
  assert_false(history_parse_fil("12 GiB", &v));
  assert_false(history_parse_fil("FIL", &v));
  assert_false(history_parse_fil(NULL, &v));
}

static void test_miner_sample(void **state) {
  (void)state;
  json_t *rec = json_loads(
      "{\"minerBalance\":\"1 FIL\",\"minerBalanceAtto\":\"2000000000000000000\","
      "\"postBalance\":\"5 mFIL\",\"adjustedPowerBytes\":\"1024\",\"failSectors\":2,"
      "\"deadlines\":[{\"faults\":3,\"provenPartitions\":1},{\"faults\":0}],"
      "\"workerInfo\":{\"a\":{\"taskState\":\"missing\"},\"b\":{\"taskState\":\"running\","
      "\"currentQueue\":{\"PC2\":[{\"state\":\"running\"},{\"state\":\"running\"}]},"
      "\"pendingQueue\":{\"PC2\":[{\"state\":\"assigned(3)\"}]}}}}", 0, NULL);
  json_t *s = history_miner_sample(rec);
  assert_true(num(s, "balance_miner_fil") == 2); /* the exact companion wins */
  assert_true(num(s, "balance_control_fil") == 0.005);
  assert_true(num(s, "power_quality_bytes") == 1024);
  assert_true(num(s, "sectors.fail") == 2);
  assert_true(num(s, "deadlines.faulty") == 1 && num(s, "deadlines.faults") == 3 &&
              num(s, "deadlines.proven_partitions") == 1);
  assert_true(num(s, "workers.missing") == 1 && num(s, "workers.running") == 1);
  assert_true(num(s, "jobs.PC2.running") == 2 && num(s, "jobs.PC2.assigned") == 1);
  assert_null(json_object_get(s, "balance_worker_fil")); /* absent: never a made-up 0 */
  json_decref(s);
  json_decref(rec);
}

static void test_pick_tier(void **state) {
  (void)state;
  struct server srv = {0};
  srv.cfg.history_raw_retention = 48 * 3600000LL;
  srv.cfg.history_tier1_step = 300000;
  srv.cfg.history_tier1_retention = 90 * 86400000LL;
  srv.cfg.history_tier2_step = 3600000;
  srv.cfg.history_tier2_retention = 730 * 86400000LL;
  int64_t now = 1000LL * 86400000;
  assert_int_equal(history_pick_tier(&srv, now - 3600000, 0, now), 0);
  assert_int_equal(history_pick_tier(&srv, now - 3600000, 60000, now), 0);
  assert_int_equal(history_pick_tier(&srv, now - 3600000, 300000, now), 1);
  assert_int_equal(history_pick_tier(&srv, now - 7 * 86400000LL, 0, now), 1);
  assert_int_equal(history_pick_tier(&srv, now - 7 * 86400000LL, 3600000, now), 2);
  assert_int_equal(history_pick_tier(&srv, now - 100 * 86400000LL, 0, now), 2);
  assert_int_equal(history_pick_tier(&srv, 0, 0, now), 2); /* beyond every tier: the last */
  srv.cfg.history_raw_retention = 0; /* raw kept forever: it holds every range */
  assert_int_equal(history_pick_tier(&srv, 0, 0, now), 0);
  assert_int_equal(history_pick_tier(&srv, 0, 300000, now), 1);
}

static void test_series_json(void **state) {
  (void)state;
  struct store_hist raw[] = {
      {.time = 1000, .data = "{\"cpu\":10,\"t\":1}"},
      {.time = 1500, .data = "{\"cpu\":30}"},
      {.time = 2100, .data = "{\"cpu\":5}"},
  };
  json_t *s = history_series_json(raw, 3, 0);
  json_t *want = json_loads("{\"cpu\":[[1000,10.0,10.0,10.0],[1500,30.0,30.0,30.0],"
                            "[2100,5.0,5.0,5.0]],\"t\":[[1000,1.0,1.0,1.0]]}", 0, NULL);
  assert_true(json_equal(s, want));
  json_decref(s);
  json_decref(want);
  s = history_series_json(raw, 3, 1000); /* buckets of 1 s: [1000, 2000) and [2000, 3000) */
  want = json_loads("{\"cpu\":[[1000,20.0,10.0,30.0],[2000,5.0,5.0,5.0]],"
                    "\"t\":[[1000,1.0,1.0,1.0]]}", 0, NULL);
  assert_true(json_equal(s, want));
  json_decref(s);
  json_decref(want);
  /* aggregates [min, avg, max, count]: the average is weighted by the counts */
  struct store_hist agg[] = {
      {.time = 0, .data = "{\"cpu\":[1,2,3,3]}"},
      {.time = 300, .data = "{\"cpu\":[0,10,20,1]}"},
      {.time = 600, .data = "{\"cpu\":\"bad\",\"x\":[1,2]}"},
  };
  s = history_series_json(agg, 3, 3600);
  want = json_loads("{\"cpu\":[[0,4.0,0.0,20.0]]}", 0, NULL);
  assert_true(json_equal(s, want));
  json_decref(s);
  json_decref(want);
  s = history_series_json(NULL, 0, 0);
  assert_int_equal(json_object_size(s), 0);
  json_decref(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_device_sample), cmocka_unit_test(test_fil),
      cmocka_unit_test(test_miner_sample), cmocka_unit_test(test_pick_tier),
      cmocka_unit_test(test_series_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
