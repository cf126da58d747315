/* SPDX-License-Identifier: MIT */
/* test_join.c -- miner records as readers see them (src/server/join.c) with the real registry
 * (live.c: the worker hosts' status uploads) and miner records (miner.c, fed by uploads), stubs of
 * the net layer, the database thread and the store: a worker is joined with its host's hardware,
 * job times are rendered from their start, and numbers no device could mean stay out of the
 * arithmetic: a memory figure whose difference overflows and a job start so far back that the
 * elapsed time overflows were undefined behaviour (signed overflow) before; seen while writing
 * the ws_device fuzz target, whose corpus keeps the input (regress-join-overflow). */
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

#define DEVICE 7

static struct server srv;
static uv_loop_t loop;
static struct net_conn conn;
static struct dsess *sess;

static void upload_as(const char *data, bool full) {
  char buf[2048];
  snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"Headers\":{\"full\":%s},\"data\":%s}",
           WIRE_UPLOAD_MINER, full ? "true" : "false", data);
  json_t *root = jparse_object(buf, strlen(buf));
  assert_non_null(root);
  miner_ws_routes[0].handle(&(struct ws_msg){.srv = &srv, .s = sess, .device_id = DEVICE,
                                             .root = root, .raw = buf, .len = strlen(buf)});
  json_decref(root);
}

static void upload_miner(const char *data) { upload_as(data, true); }

/* The worker host's agent (this session's device) uploads its status `data`. */
static void upload_status(const char *data) {
  char buf[1024];
  snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"Headers\":{},\"data\":%s}", WIRE_UPLOAD_STATUS,
           data);
  live_sess_set_status(sess, buf, strlen(buf), 1000);
  live_sess_set_host(sess, "w1");
}

/* Worker w1 of miner f01 as minerInfo shows it (new reference). */
static json_t *worker_w1(void) {
  json_t *m = join_miner(&srv, "f01");
  assert_non_null(m);
  json_t *w = NULL, *v;
  size_t i;
  json_array_foreach(json_object_get(m, "workerInfo"), i, v)
    if (strcmp(jstr(v, "hostName"), "w1") == 0) w = json_incref(v);
  assert_non_null(w);
  assert_string_equal(jstr(w, "hostName"), "w1");
  json_decref(m);
  return w;
}

static int setup(void **state) {
  (void)state;
  memset(&srv, 0, sizeof srv);
  assert_int_equal(uv_loop_init(&loop), 0);
  srv.loop = &loop;
  srv.cfg.miner_flush = 60000;
  srv.cfg.miner_stale = 60000;
  srv.cfg.max_miners = 1000;
  srv.cfg.miners_per_device = 8;
  srv.cfg.max_miner_record = 4 << 20;
  srv.live = live_new();
  stub_net_reset();
  stub_store_reset();
  stub_worker_reset(stub_store());
  char err[128];
  assert_int_equal(miner_init(&srv, stub_store(), err, sizeof err), 0);
  miner_start(&srv);
  conn = (struct net_conn){0};
  sess = live_sess_new(srv.live, &srv, &conn);
  live_sess_login(sess, DEVICE);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  live_sess_end(sess, "connection closed");
  live_sess_free(sess);
  miner_stop(&srv);
  stub_worker_run();
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
  live_free(&srv.live);
  stub_net_reset();
  stub_store_reset();
  return 0;
}

static void test_worker_hardware(void **state) {
  (void)state;
  upload_miner("{\"minerId\":\"f01\",\"workerInfo\":{\"w1\":{\"cpu\":1}}}");
  upload_status("{\"host_name\":\"w1\",\"cpu_temperature\":55,\"Memory_info\":"
                "{\"total_memory_mb\":100,\"free_memory_mb\":10,\"buff_cache_mb\":5}}");
  json_t *w = worker_w1();
  assert_int_equal(json_integer_value(json_object_get(w, "totalMemory")), 100);
  assert_int_equal(json_integer_value(json_object_get(w, "useMemory")), 85);
  assert_int_equal(json_integer_value(json_object_get(w, "cpuTemper")), 55);
  /* netState is the miner's reachability of the worker (none in this record): the agent's
   * own state is agentState */
  assert_string_equal(jstr(w, "netState"), "unknown");
  assert_string_equal(jstr(w, "agentState"), WIRE_STATE_ONLINE);
  char idbuf[EF_ID_STRLEN];
  assert_string_equal(jstr(w, "agentDeviceId"), id_format(DEVICE, idbuf)); /* its history's key */
  json_decref(w);
}

/* total - free - cache that does not fit in 64 bits: no useMemory (it was signed overflow). */
static void test_memory_overflow(void **state) {
  (void)state;
  upload_miner("{\"minerId\":\"f01\",\"workerInfo\":{\"w1\":{}}}");
  static const char *const mems[] = {
    "{\"total_memory_mb\":100,\"free_memory_mb\":-9223372036854775808,\"buff_cache_mb\":0}",
    "{\"total_memory_mb\":-9223372036854775807,\"free_memory_mb\":10,\"buff_cache_mb\":0}",
    "{\"total_memory_mb\":-2,\"free_memory_mb\":9223372036854775807,\"buff_cache_mb\":0}",
    "{\"total_memory_mb\":0,\"free_memory_mb\":0,\"buff_cache_mb\":-9223372036854775808}",
  };
  for (size_t i = 0; i < sizeof mems / sizeof *mems; i++) {
    char data[256];
    snprintf(data, sizeof data, "{\"host_name\":\"w1\",\"Memory_info\":%s}", mems[i]);
    upload_status(data);
    json_t *w = worker_w1();
    assert_non_null(json_object_get(w, "totalMemory"));
    assert_null(json_object_get(w, "useMemory"));
    json_decref(w);
  }
  /* at the edge, it still fits */
  upload_status("{\"host_name\":\"w1\",\"Memory_info\":{\"total_memory_mb\":-1,"
                "\"free_memory_mb\":9223372036854775807,\"buff_cache_mb\":0}}");
  json_t *w = worker_w1();
  assert_int_equal(json_integer_value(json_object_get(w, "useMemory")), INT64_MIN);
  json_decref(w);
}

/* A job's time is rendered from its start; a start whose distance from now overflows has none
 * (it was signed overflow). */
static void test_job_times(void **state) {
  (void)state;
  upload_miner("{\"minerId\":\"f01\",\"workerInfo\":{\"w1\":{\"currentQueue\":{\"PC1\":["
               "{\"sector\":\"1\",\"start\":1000},"
               "{\"sector\":\"2\",\"start\":-9223372036854775808},"
               "{\"sector\":\"3\",\"start\":9223372036854775807}]}}}}");
  json_t *w = worker_w1();
  json_t *pc1 = json_object_get(json_object_get(w, "currentQueue"), "PC1");
  assert_int_equal(json_array_size(pc1), 3);
  const char *t = jstr(json_array_get(pc1, 0), "time");
  assert_non_null(t); /* decades ago: hours */
  assert_non_null(strchr(t, 'h'));
  assert_null(json_object_get(json_array_get(pc1, 1), "time"));
  assert_string_equal(jstr(json_array_get(pc1, 2), "time"), "0s"); /* in the future */
  json_decref(w);
  /* the summaries read the same record */
  json_t *sum = join_summaries(&srv);
  assert_int_equal(json_array_size(sum), 1);
  json_decref(sum);
}

/* The summary of miner `id` (new reference) and whether it has an alarm of `type`. */
static json_t *summary_of(const char *id) {
  json_t *sum = join_summaries(&srv);
  size_t i;
  json_t *o;
  json_array_foreach(sum, i, o)
    if (strcmp(jstr(o, "minerId"), id) == 0) {
      json_incref(o);
      json_decref(sum);
      return o;
    }
  json_decref(sum);
  return NULL;
}

static const json_t *find_alarm(const json_t *summary, const char *type) {
  size_t i;
  json_t *a;
  json_array_foreach(json_object_get(summary, "alarms"), i, a)
    if (strcmp(jstr(a, "type"), type) == 0) return a;
  return NULL;
}

/* Workers sealing without agents on their hosts: no alarm at all (it was "3 of 4 workers
 * offline", critical when none had an agent). */
static void test_no_false_offline(void **state) {
  (void)state;
  upload_miner("{\"minerId\":\"f01\",\"workerInfo\":{"
               "\"w1\":{\"lotus\":{\"listed\":true,\"enabled\":true},\"netState\":\"reachable\"},"
               "\"w2\":{\"lotus\":{\"listed\":true,\"enabled\":true},\"netState\":\"reachable\"},"
               "\"w3\":{\"lotus\":{\"listed\":true,\"enabled\":true}}}}");
  json_t *o = summary_of("f01");
  assert_non_null(o);
  assert_int_equal(json_array_size(json_object_get(o, "alarms")), 0);
  assert_int_equal(json_integer_value(json_object_get(o, "workers")), 3);
  assert_int_equal(json_integer_value(json_object_get(o, "workersOnline")), 3);
  json_decref(o);
  json_t *m = join_miner(&srv, "f01");
  json_t *w = json_array_get(json_object_get(m, "workerInfo"), 0);
  assert_string_equal(jstr(w, "netState"), "reachable");
  assert_null(json_object_get(w, "agentState")); /* no agent on w1 */
  assert_null(json_object_get(w, "agentDeviceId"));
  json_decref(m);
}

/* Unreachable, disabled, faults, a deadline with faults, a bad proving check: one alarm each. */
static void test_worker_and_fault_alarms(void **state) {
  (void)state;
  upload_miner("{\"minerId\":\"f01\",\"faultySectors\":2,\"errorSectors\":2,"
               "\"deadlines\":[{\"index\":0,\"faults\":0},{\"index\":7,\"faults\":2}],"
               "\"provingCheck\":{\"deadline\":9,\"bad\":1,\"badSectors\":[5]},"
               "\"workerInfo\":{"
               "\"w1\":{\"lotus\":{\"listed\":true,\"enabled\":true},\"netState\":\"unreachable\"},"
               "\"w2\":{\"lotus\":{\"listed\":true,\"enabled\":false},\"netState\":\"reachable\"}}}");
  json_t *o = summary_of("f01");
  const json_t *a = find_alarm(o, "worker_unreachable");
  assert_non_null(a);
  assert_string_equal(jstr(a, "severity"), "warning");
  assert_non_null(strstr(jstr(a, "message"), "w1"));
  assert_non_null(find_alarm(o, "worker_disabled"));
  assert_non_null(find_alarm(o, "faulty_sectors"));
  assert_null(find_alarm(o, "error_sectors")); /* the same sectors: one alarm */
  a = find_alarm(o, "deadline_faults");
  assert_non_null(a);
  assert_string_equal(jstr(a, "message"), "deadline 7 has faults");
  assert_non_null(find_alarm(o, "proving_check"));
  assert_null(find_alarm(o, "worker_missing"));
  assert_null(find_alarm(o, "miner_down"));
  assert_int_equal(json_integer_value(json_object_get(o, "workersOnline")), 0);
  json_decref(o);
}

/* A worker that vanishes from the agent's list stays as missing (patch null, or absent from a
 * full record), comes back whole when listed again, and goes only by miner_worker_delete. */
static void test_missing_worker(void **state) {
  (void)state;
  upload_miner("{\"minerId\":\"f01\",\"workerInfo\":{"
               "\"w1\":{\"lotus\":{\"listed\":true},\"currentQueue\":{\"PC1\":[{\"sector\":\"1\"}]}},"
               "\"w2\":{\"lotus\":{\"listed\":true}}}}");
  struct miner_info mi;
  assert_true(miner_lookup(srv.miners, "f01", &mi));
  int64_t seen = mi.updated;
  upload_as("{\"minerId\":\"f01\",\"workerInfo\":{\"w1\":null}}", false);
  json_t *w = worker_w1();
  assert_true(json_is_true(json_object_get(w, "missing")));
  assert_int_equal(json_integer_value(json_object_get(w, "lastSeen")), seen);
  assert_true(json_is_false(json_object_get(json_object_get(w, "lotus"), "listed")));
  assert_int_equal(json_object_size(json_object_get(w, "currentQueue")), 0);
  json_decref(w);
  json_t *o = summary_of("f01");
  assert_non_null(find_alarm(o, "worker_missing"));
  json_decref(o);
  /* a full record without it (the agent restarted) keeps it missing, lastSeen unchanged */
  upload_miner("{\"minerId\":\"f01\",\"workerInfo\":{\"w2\":{\"lotus\":{\"listed\":true}}}}");
  w = worker_w1();
  assert_true(json_is_true(json_object_get(w, "missing")));
  assert_int_equal(json_integer_value(json_object_get(w, "lastSeen")), seen);
  json_decref(w);
  /* a listed worker cannot be deleted; a missing one can, once */
  assert_int_equal(miner_worker_delete(srv.miners, "f01", "w2"), EF_EBUSY);
  assert_int_equal(miner_worker_delete(srv.miners, "f01", "nope"), EF_ENOENT);
  assert_int_equal(miner_worker_delete(srv.miners, "f02", "w1"), EF_ENOENT);
  /* listed again: the agent's entry replaces the missing one whole */
  upload_as("{\"minerId\":\"f01\",\"workerInfo\":{\"w1\":{\"lotus\":{\"listed\":true}}}}",
            false);
  w = worker_w1();
  assert_null(json_object_get(w, "missing"));
  assert_null(json_object_get(w, "lastSeen"));
  assert_true(json_is_true(json_object_get(json_object_get(w, "lotus"), "listed")));
  json_decref(w);
  upload_as("{\"minerId\":\"f01\",\"workerInfo\":{\"w1\":null}}", false);
  assert_int_equal(miner_worker_delete(srv.miners, "f01", "w1"), 0);
  assert_int_equal(miner_worker_delete(srv.miners, "f01", "w1"), EF_ENOENT);
  json_t *m = join_miner(&srv, "f01");
  assert_int_equal(json_array_size(json_object_get(m, "workerInfo")), 1);
  json_decref(m);
}

/* lotus-miner down before any miner id: the device's record is in error on the overview until
 * a good record arrives, which replaces it. */
static void test_miner_down(void **state) {
  (void)state;
  upload_miner("{\"minerError\":\"lotus-miner info: connection refused\",\"minerErrorSince\":5,"
               "\"hostName\":\"m1\"}");
  json_t *sum = join_summaries(&srv);
  assert_int_equal(json_array_size(sum), 1);
  json_t *o = json_array_get(sum, 0);
  assert_non_null(strstr(jstr(o, "minerId"), "device:"));
  assert_true(json_is_true(json_object_get(o, "deviceOnly")));
  assert_string_equal(jstr(o, "hostName"), "m1");
  const json_t *a = find_alarm(o, "miner_down");
  assert_non_null(a);
  assert_string_equal(jstr(a, "severity"), "critical");
  assert_non_null(strstr(jstr(a, "message"), "connection refused"));
  json_decref(sum);
  /* a patch without minerId is still refused */
  upload_as("{\"minerError\":\"x\"}", false);
  /* the good record replaces it */
  upload_miner("{\"minerId\":\"f01\",\"workerInfo\":{}}");
  sum = join_summaries(&srv);
  assert_int_equal(json_array_size(sum), 1);
  assert_string_equal(jstr(json_array_get(sum, 0), "minerId"), "f01");
  assert_null(find_alarm(json_array_get(sum, 0), "miner_down"));
  json_decref(sum);
  /* down with a known id: the record carries minerError, then a patch deletes it */
  upload_as("{\"minerId\":\"f01\",\"minerError\":\"lotus-miner info: timed out\"}", false);
  o = summary_of("f01");
  assert_non_null(find_alarm(o, "miner_down"));
  json_decref(o);
  upload_as("{\"minerId\":\"f01\",\"minerError\":null}", false);
  o = summary_of("f01");
  assert_null(find_alarm(o, "miner_down"));
  json_decref(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_worker_hardware, setup, teardown),
    cmocka_unit_test_setup_teardown(test_memory_overflow, setup, teardown),
    cmocka_unit_test_setup_teardown(test_job_times, setup, teardown),
    cmocka_unit_test_setup_teardown(test_no_false_offline, setup, teardown),
    cmocka_unit_test_setup_teardown(test_worker_and_fault_alarms, setup, teardown),
    cmocka_unit_test_setup_teardown(test_missing_worker, setup, teardown),
    cmocka_unit_test_setup_teardown(test_miner_down, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
