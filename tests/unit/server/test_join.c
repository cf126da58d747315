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
#include "jsonutil.h"
#include "server.h"
#include "stubs.h"
#include "wire.h"

#define DEVICE 7

static struct server srv;
static uv_loop_t loop;
static struct net_conn conn;
static struct dsess *sess;

static void upload_miner(const char *data) {
  char buf[2048];
  snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"Headers\":{\"full\":true},\"data\":%s}",
           WIRE_UPLOAD_MINER, data);
  json_t *root = jparse_object(buf, strlen(buf));
  assert_non_null(root);
  miner_ws_routes[0].handle(&(struct ws_msg){.srv = &srv, .s = sess, .device_id = DEVICE,
                                             .root = root, .raw = buf, .len = strlen(buf)});
  json_decref(root);
}

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
  json_t *w = json_incref(json_array_get(json_object_get(m, "workerInfo"), 0));
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
  assert_string_equal(jstr(w, "netState"), WIRE_STATE_ONLINE);
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

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_worker_hardware, setup, teardown),
    cmocka_unit_test_setup_teardown(test_memory_overflow, setup, teardown),
    cmocka_unit_test_setup_teardown(test_job_times, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
