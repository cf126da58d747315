/* SPDX-License-Identifier: MIT */
/* test_metrics.c -- Prometheus /metrics (src/server/metrics.c): the text of samples (label
 * escaping, numbers), a miner record's and a device status' families, the alert hook with a
 * fake source registered as main.c will register alert.c's, and whole scrapes through
 * metrics_request over the real registry (live.c), a real in-memory store on the stubbed
 * database thread and a real libuv loop: the answer is built in steps of metrics_step devices
 * and the values are the ones put in; tokens are checked (stub tokens, stubs.h). */
#include <math.h>
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
#include "login.h"
#include "metrics.h"
#include "server.h"
#include "stats.h"
#include "stubs.h"
#include "wire.h"

/* ----- neighbours metrics.c reads, as this test sets them ----- */
static json_t *miner_rec;
bool miner_at(const struct miners *ms, size_t i, struct miner_info *out) {
  (void)ms;
  if (i > 0 || !miner_rec) return false;
  *out = (struct miner_info){.id = "f0\"1", .record = miner_rec, .device_id = 1,
                             .updated = 1000};
  return true;
}
int64_t logins_waiting(const struct logins *q) {
  (void)q;
  return 3;
}

static bool has(const char *text, const char *line) {
  const char *p = strstr(text, line);
  return p && (p == text || p[-1] == '\n');
}

static void test_sample_text(void **state) {
  (void)state;
  struct mbuf b = {0};
  metrics_sample(&b, "x", 1.5, "a", "q\"u\\o\nte", "b", "", NULL);
  metrics_sample(&b, "y", 42, NULL);
  metrics_sample(&b, "z", NAN, NULL);
  metrics_sample(&b, "w", -INFINITY, "k", "v", NULL);
  metrics_sample(&b, "v", 1e300, NULL);
  assert_string_equal(b.p, "x{a=\"q\\\"u\\\\o\\nte\",b=\"\"} 1.5\ny 42\nz NaN\nw{k=\"v\"} -Inf\n"
                           "v 1e+300\n");
  mbuf_free(&b);
}

static void test_miner_families(void **state) {
  (void)state;
  json_t *rec = json_loads(
      "{\"minerBalance\":\"244.058 mFIL\",\"workerBalance\":\"1 FIL\","
      "\"workerBalanceAtto\":\"39522000000000000000\",\"postBalance\":\"bogus\","
      "\"adjustedPowerBytes\":1024,\"sectorStates\":{\"Proving\":5,\"Faulty\":\"x\"},"
      "\"totalSectors\":7,\"minerError\":\"down\",\"currentDeadline\":3,"
      "\"deadlines\":[{\"index\":3,\"partitions\":2,\"provenPartitions\":1,\"faults\":4},"
      "{\"partitions\":9}],\"totalMessages\":\"12\","
      "\"workerInfo\":{\"a\":{\"taskState\":\"running\",\"currentQueue\":{\"PC1\":[{},{}]},"
      "\"pendingQueue\":{\"C2\":[{\"state\":\"assigned(3)\"},{\"state\":\"ret-wait\"}]}},"
      "\"b\":{\"enabled\":false},\"c\":{\"missing\":true},\"d\":{}}}", 0, NULL);
  assert_non_null(rec);
  struct mbuf fam[32] = {{0}};
  assert_true(metrics_miner_families <= 32);
  metrics_miner(fam, "f01", rec, 1000, 3500);
  struct mbuf out = {0};
  metrics_join(&out, fam, 0);
  const char *t = out.p;
  assert_true(has(t, "edgefleet_miner_up{miner=\"f01\"} 0"));
  assert_true(has(t, "edgefleet_miner_update_age_seconds{miner=\"f01\"} 2.5"));
  assert_true(has(t, "edgefleet_miner_balance_fil{miner=\"f01\",kind=\"miner\"} 0.244058"));
  /* the exact attoFIL companion wins over the text */
  assert_true(has(t, "edgefleet_miner_balance_fil{miner=\"f01\",kind=\"worker\"} 39.522"));
  assert_null(strstr(t, "kind=\"control\"")); /* text that is no amount: no sample */
  assert_true(has(t, "edgefleet_miner_power_bytes{miner=\"f01\",kind=\"quality\"} 1024"));
  assert_true(has(t, "edgefleet_miner_sectors{miner=\"f01\",state=\"Proving\"} 5"));
  assert_null(strstr(t, "state=\"Faulty\""));
  assert_true(has(t, "edgefleet_miner_sector_counter{miner=\"f01\",counter=\"totalSectors\"} 7"));
  assert_true(has(t, "edgefleet_miner_current_deadline{miner=\"f01\"} 3"));
  assert_true(has(t, "edgefleet_miner_deadline_partitions{miner=\"f01\",deadline=\"3\"} 2"));
  assert_true(has(t, "edgefleet_miner_deadline_proven_partitions{miner=\"f01\",deadline=\"3\"} 1"));
  assert_true(has(t, "edgefleet_miner_deadline_faults{miner=\"f01\",deadline=\"3\"} 4"));
  assert_null(strstr(t, "} 9\n")); /* a deadline without an index is left out */
  assert_true(has(t, "edgefleet_miner_workers{miner=\"f01\",state=\"running\"} 1"));
  assert_true(has(t, "edgefleet_miner_workers{miner=\"f01\",state=\"idle\"} 1"));
  assert_true(has(t, "edgefleet_miner_workers{miner=\"f01\",state=\"disabled\"} 1"));
  assert_true(has(t, "edgefleet_miner_workers{miner=\"f01\",state=\"missing\"} 1"));
  assert_true(has(t, "edgefleet_miner_jobs{miner=\"f01\",task=\"PC1\",state=\"running\"} 2"));
  assert_true(has(t, "edgefleet_miner_jobs{miner=\"f01\",task=\"C2\",state=\"assigned\"} 1"));
  assert_true(has(t, "edgefleet_miner_jobs{miner=\"f01\",task=\"C2\",state=\"ret-wait\"} 1"));
  assert_true(has(t, "edgefleet_miner_messages_pending{miner=\"f01\"} 12"));
  assert_true(has(t, "# TYPE edgefleet_miner_sectors gauge"));
  mbuf_free(&out);
  for (size_t i = 0; i < metrics_miner_families; i++) mbuf_free(&fam[i]);
  json_decref(rec);
}

/* ----- the alert hook: a fake alert engine ----- */
static int source_calls;
static void fake_alerts(void *ud, metrics_alert_sink sink, void *ctx) {
  source_calls++;
  assert_string_equal(ud, "engine");
  sink(ctx, "device_offline", 2);
  sink(ctx, "deadline \"faults\"", 0);
}

static void test_alert_family(void **state) {
  (void)state;
  struct mbuf b = {0};
  metrics_alerts(&b, NULL, NULL);
  assert_string_equal(b.p, "# HELP edgefleet_alerts_firing Alerts firing now by rule\n"
                           "# TYPE edgefleet_alerts_firing gauge\n");
  b.len = 0;
  metrics_alerts(&b, fake_alerts, "engine");
  assert_true(has(b.p, "edgefleet_alerts_firing{rule=\"device_offline\"} 2"));
  assert_true(has(b.p, "edgefleet_alerts_firing{rule=\"deadline \\\"faults\\\"\"} 0"));
  mbuf_free(&b);
}

/* ----- whole scrapes ----- */
static struct server srv;
static uv_loop_t loop;
static struct store *st;
static struct net_conn conns[5];
static struct dsess *sess[5];

static int setup(void **state) {
  (void)state;
  char err[256];
  assert_int_equal(store_open("sqlite::memory:", &st, err, sizeof err), 0);
  for (int i = 1; i <= 7; i++) { /* 7 registered, 5 connected below */
    char sn[16];
    snprintf(sn, sizeof sn, "SN%d", i);
    struct store_device d = {.device_id = (uint64_t)i, .device_name = sn, .hardware_sn = sn,
                             .hardware_model = (char *)"M", .password = (char *)"x"};
    assert_int_equal(st->ops->device_add(st, &d), 0);
  }
  memset(&srv, 0, sizeof srv);
  assert_int_equal(uv_loop_init(&loop), 0);
  srv.loop = &loop;
  srv.cfg.metrics_step = 2;
  srv.cfg.metrics_per_device = true;
  srv.live = live_new();
  srv.logins = (struct logins *)&srv; /* only given to logins_waiting (above) */
  srv.miners = (struct miners *)&srv; /* only given to miner_at (above) */
  stub_net_reset();
  stub_worker_reset(st);
  assert_int_equal(metrics_start(&srv, err, sizeof err), 0);
  for (int i = 0; i < 5; i++) {
    conns[i] = (struct net_conn){0};
    sess[i] = live_sess_new(srv.live, &srv, &conns[i]);
    live_sess_login(sess[i], (uint64_t)(i + 1));
  }
  live_sess_set_state(sess[4], DEV_UNKNOWN, "heartbeat missed");
  static const char status[] =
      "{\"type\":\"upload_status_info\",\"Headers\":{},\"data\":{\"cpu_usage_percent\":12.5,"
      "\"Memory_info\":{\"total_memory_mb\":2},\"disk_io\":[{\"name\":\"sda\",\"read_bps\":7}]}}";
  live_sess_set_status(sess[0], status, sizeof status - 1, ef_now_ms() - 5000);
  miner_rec = json_loads("{\"sectorStates\":{\"Proving\":5}}", 0, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (int i = 0; i < 5; i++) {
    live_sess_end(sess[i], "test");
    live_sess_free(sess[i]);
  }
  metrics_stop(&srv);
  stub_worker_run();
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
  live_free(&srv.live);
  store_close(&st);
  json_decref(miner_rec);
  miner_rec = NULL;
  return 0;
}

/* Run the loop and the database jobs until `r` is answered; the number of loop turns. */
static int until_answered(struct net_req *r) {
  int turns = 0;
  while (!r->nresponses && turns < 1000) {
    stub_worker_run();
    uv_run(&loop, UV_RUN_NOWAIT);
    turns++;
  }
  assert_int_equal(r->nresponses, 1);
  return turns;
}

static void test_scrape(void **state) {
  (void)state;
  struct net_req a = {.method = "GET", .path = "/metrics",
                      .authorization = "Bearer " STUB_READ_TOKEN};
  struct net_req b = a;
  metrics_set_alert_source(srv.metrics, fake_alerts, "engine");
  int calls = source_calls;
  metrics_request(&srv, &a);
  metrics_request(&srv, &b); /* arrives while the first is built: shares its text */
  assert_int_equal(a.nresponses, 0); /* never answered inside the call */
  int turns = until_answered(&a);
  assert_true(turns >= 3); /* 5 devices, 2 a step */
  assert_int_equal(b.nresponses, 1);
  assert_int_equal(a.status, 200);
  assert_string_equal(a.response, b.response);
  assert_string_equal(a.content_type_out, "text/plain; version=0.0.4; charset=utf-8");
  assert_int_equal(source_calls, calls + 1); /* once per scrape built */
  const char *t = a.response;
  assert_true(has(t, "edgefleet_devices{state=\"online\"} 4"));
  assert_true(has(t, "edgefleet_devices{state=\"Unknown\"} 1"));
  assert_true(has(t, "edgefleet_devices{state=\"offline\"} 2"));
  assert_true(has(t, "edgefleet_device_online{device=\"1\"} 1"));
  assert_true(has(t, "edgefleet_device_online{device=\"5\"} 0"));
  assert_true(has(t, "edgefleet_device_cpu_usage_percent{device=\"1\"} 12.5"));
  assert_true(has(t, "edgefleet_device_memory_total_bytes{device=\"1\"} 2097152"));
  assert_true(has(t, "edgefleet_device_disk_read_bytes_per_second{device=\"1\",disk=\"sda\"} 7"));
  assert_true(has(t, "edgefleet_miner_sectors{miner=\"f0\\\"1\",state=\"Proving\"} 5"));
  assert_true(has(t, "edgefleet_alerts_firing{rule=\"device_offline\"} 2"));
  assert_true(has(t, "edgefleet_bcrypt_queue 3"));
  assert_true(has(t, "edgefleet_miners 1"));
  /* every device family once, its samples after its TYPE line */
  const char *ty = strstr(t, "# TYPE edgefleet_device_online gauge\n");
  assert_non_null(ty);
  assert_null(strstr(ty + 1, "# TYPE edgefleet_device_online gauge\n"));
  assert_true(strstr(t, "edgefleet_device_online{device=\"1\"}") > ty);
  uint64_t scrapes = ef_stats.scrapes;
  stub_net_req_clear(&a);
  stub_net_req_clear(&b);

  /* a device gone between scrapes is not listed; one gone during a scrape is skipped */
  live_sess_end(sess[1], "test");
  metrics_request(&srv, &a);
  live_sess_end(sess[2], "test");
  until_answered(&a);
  assert_int_equal(ef_stats.scrapes, scrapes + 1);
  assert_null(strstr(a.response, "device=\"2\""));
  assert_null(strstr(a.response, "device=\"3\""));
  assert_true(has(a.response, "edgefleet_devices{state=\"online\"} 2"));
  assert_true(has(a.response, "edgefleet_devices{state=\"offline\"} 4"));
  stub_net_req_clear(&a);

  /* metrics_per_device false: the totals, no device's samples */
  srv.cfg.metrics_per_device = false;
  metrics_request(&srv, &a);
  until_answered(&a);
  assert_true(has(a.response, "edgefleet_devices{state=\"online\"} 2"));
  assert_true(has(a.response, "# TYPE edgefleet_device_online gauge"));
  assert_null(strstr(a.response, "device=\""));
  stub_net_req_clear(&a);
}

static void test_refusals(void **state) {
  (void)state;
  struct net_req r = {.method = "GET", .path = "/metrics"};
  metrics_request(&srv, &r);
  assert_int_equal(r.status, 401);
  stub_net_req_clear(&r);
  r.authorization = "Bearer " STUB_EXPIRED_TOKEN;
  metrics_request(&srv, &r);
  assert_int_equal(r.status, 401);
  stub_net_req_clear(&r);
  r.authorization = "Bearer " STUB_LIMITED_TOKEN;
  metrics_request(&srv, &r);
  assert_int_equal(r.status, 403);
  stub_net_req_clear(&r);
  r.authorization = "Bearer " STUB_ADMIN_TOKEN;
  r.method = "DELETE";
  metrics_request(&srv, &r);
  assert_int_equal(r.status, 405);
  assert_string_equal(r.header, "Allow: GET");
  stub_net_req_clear(&r);
  /* a request still waiting when the server stops is answered 503 */
  r.method = "GET";
  metrics_request(&srv, &r);
  assert_int_equal(r.nresponses, 0);
  metrics_stop(&srv);
  assert_int_equal(r.nresponses, 1);
  assert_int_equal(r.status, 503);
  stub_net_req_clear(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sample_text),
    cmocka_unit_test(test_miner_families),
    cmocka_unit_test(test_alert_family),
    cmocka_unit_test_setup_teardown(test_scrape, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
