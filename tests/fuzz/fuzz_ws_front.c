/* SPDX-License-Identifier: MIT */
/* fuzz_ws_front.c -- what a dashboard sends on /front (src/server/ws_front.c): the sign-in, then
 * requests (minerInfo, minerList, deviceList, deviceStatus, deviceLog) and subscriptions, and the
 * pushes of the tick that follow. As in tests/unit/server/test_ws_front.c: the real registry
 * (live.c, with device 1001 connected and its status upload) and device_json.c; stubs of the
 * net layer, the API tokens ("read-token", "admin-token"), join.c (miner views set by the input)
 * and the database thread, whose jobs run here against a real in-memory SQLite store (devices
 * 1001 and 1002, a group, device logs).
 *
 * The input is lines: a line is one message from the current dashboard, except lines that start
 * with '!':
 *   !front N        talk as dashboard N (0-2; opened on first use: its first message must sign
 *                   in, as for a real one)
 *   !tick           the push timer fires (ws_front.c's on_tick)
 *   !view ID JSON   miner ID's view (what join.c would render) becomes JSON; "!view ID" removes it
 *   !status JSON    device 1001 uploads a new status (JSON: the whole message)
 *   !offline / !online   device 1001 disconnects / connects again
 *   !changed        a REST call changed the device list
 *   !close          the current dashboard goes away (database answers still in flight)
 * Properties: every frame sent to a dashboard is a JSON object whose "code" is an integer 0 or 1;
 * the database answers come after a close without harm; nothing leaks. Seeds: corpus/ws_front,
 * messages of docs/frontend.md. */
#include "../../src/server/ws_front.c" /* the tick (on_tick) is static */

#include "dsess.h"
#include "fuzz.h"
#include "log.h"
#include "stubs.h"

#define NFRONT 3

static struct server srv;
static uv_loop_t loop;
static struct store *st;

struct dash {
  struct net_conn nc;
  void *fs; /* NULL: not open */
};
static struct dash dash[NFRONT];
static int cur;
static struct net_conn dev_conn;
static struct dsess *dev;
static int64_t status_time;

static void init_store(void) {
  char err[256];
  FUZZ_CHECK(store_open("sqlite::memory:", &st, err, sizeof err) == 0);
  static const struct {
    uint64_t id;
    const char *sn;
  } devs[] = {{1001, "SN1"}, {1002, "SN2"}};
  for (size_t i = 0; i < 2; i++) {
    struct store_device d = {.device_id = devs[i].id, .device_name = (char *)devs[i].sn,
                             .hardware_sn = (char *)devs[i].sn, .hardware_model = (char *)"M1",
                             .password = (char *)"x", .dev_state = (char *)"offline"};
    FUZZ_CHECK(st->ops->device_add(st, &d) == 0);
  }
  struct store_group g = {.group_id = 2001, .group_name = (char *)"rack-1"};
  FUZZ_CHECK(st->ops->group_add(st, &g) == 0);
  FUZZ_CHECK(st->ops->relation_add(st, 1001, 2001, 1) == 0);
  struct store_log logs[] = {
    {.device_id = 1001, .event = (char *)"login", .result = (char *)"success", .time = 1000},
    {.device_id = 1001, .event = (char *)"order", .detail = (char *)"say", .time = 2000},
    {.device_id = 1002, .event = (char *)"heartbeat_loss", .result = (char *)"fail", .time = 3},
  };
  FUZZ_CHECK(st->ops->write_batch(st, logs, 3, NULL, 0) == 0);
}

static void check_sent(void) {
  for (size_t i = 0; i < stub_net_ncalls(); i++) {
    const struct stub_net_call *c = stub_net_call(i);
    if (c->op != STUB_NET_SEND) continue;
    json_t *v = json_loads(c->text, 0, NULL);
    FUZZ_CHECK(json_is_object(v));
    json_t *code = json_object_get(v, "code");
    FUZZ_CHECK(json_is_integer(code) && (json_integer_value(code) & ~1) == 0);
    json_decref(v);
  }
  stub_net_reset();
}

static void device_online(void) {
  if (dev) return;
  dev_conn = (struct net_conn){.kind = NET_WS_DEVICE, .peer = "dev"};
  dev = live_sess_new(srv.live, &srv, &dev_conn);
  live_sess_login(dev, 1001);
}

static void device_offline(void) {
  if (!dev) return;
  live_sess_end(dev, "connection closed");
  live_sess_free(dev);
  dev = NULL;
}

static void close_dash(int i) {
  if (!dash[i].fs) return;
  front_close(dash[i].fs);
  dash[i].fs = NULL;
}

static void command(const char *rec, size_t len) {
  struct front *fr = srv.front;
  if (fuzz_prefix(rec, len, "!front ") && len == 8 && rec[7] >= '0' && rec[7] < '0' + NFRONT) {
    cur = rec[7] - '0';
  } else if (len == 5 && memcmp(rec, "!tick", 5) == 0) {
    on_tick(&fr->tick);
  } else if (fuzz_prefix(rec, len, "!view ")) {
    const char *id = rec + 6, *sp = memchr(id, ' ', len - 6);
    char *mid = fuzz_strndup(id, sp ? (size_t)(sp - id) : len - 6);
    json_t *v = sp ? json_loadb(sp + 1, len - (size_t)(sp + 1 - rec), JSON_DECODE_ANY, NULL)
                   : NULL;
    stub_join_set_view(mid, v); /* steals v; NULL: unknown */
    free(mid);
  } else if (fuzz_prefix(rec, len, "!status ")) {
    device_online();
    live_sess_set_status(dev, rec + 8, len - 8, ++status_time);
  } else if (len == 8 && memcmp(rec, "!offline", 8) == 0) {
    device_offline();
  } else if (len == 7 && memcmp(rec, "!online", 7) == 0) {
    device_online();
  } else if (len == 8 && memcmp(rec, "!changed", 8) == 0) {
    front_devices_changed(&srv);
  } else if (len == 6 && memcmp(rec, "!close", 6) == 0) {
    close_dash(cur);
  }
}

static void message(const char *rec, size_t len) {
  struct dash *d = &dash[cur];
  if (!d->fs || d->nc.closed) {
    close_dash(cur); /* the net layer reports the close of one the server closed */
    d->nc = (struct net_conn){.kind = NET_WS_FRONT, .peer = "dash"};
    d->fs = front_open(&srv, &d->nc);
    FUZZ_CHECK(d->fs != NULL);
  }
  front_message(d->fs, rec, len);
  if (cur == 0) stub_worker_run(); /* dashboard 0's database answers come at once, others' later */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool quiet;
  if (!quiet) { /* every log line is formatted (its arguments checked), and dropped */
    quiet = log_set_file("/dev/null") == 0;
    ef_log_threshold = EF_LOG_DEBUG;
  }
  if (!st) init_store();
  memset(&srv, 0, sizeof srv);
  FUZZ_CHECK(uv_loop_init(&loop) == 0);
  srv.loop = &loop;
  srv.live = live_new();
  srv.cfg.front_push_interval = 1000;
  srv.cfg.login_timeout = 60000;
  srv.cfg.front_max_connections = 2; /* the third dashboard is refused */
  srv.cfg.front_queue_max = 1 << 20;
  stub_net_reset();
  stub_join_reset();
  stub_auth_reset();
  stub_worker_reset(st);
  memset(dash, 0, sizeof dash);
  cur = 0;
  dev = NULL;
  status_time = 0;
  FUZZ_CHECK(front_start(&srv) == 0);
  device_online();
  const char *up = "{\"type\":\"upload_status_info\",\"Headers\":{},\"data\":{\"host_name\":\"w1\","
                   "\"Memory_info\":{\"total_memory_mb\":100}}}";
  live_sess_set_status(dev, up, strlen(up), ++status_time);
  stub_join_set_view("f01", json_pack("{s:s, s:i, s:{s:{s:i}}}", "minerId", "f01", "power", 1,
                                      "workerInfo", "w1", "cpu", 1));

  struct fuzz_split sp = fuzz_split(data, size);
  const char *rec;
  size_t len;
  while (fuzz_next(&sp, '\n', &rec, &len)) {
    if (len && rec[0] == '!') command(rec, len);
    else message(rec, len);
    check_sent();
  }

  for (int i = 0; i < NFRONT; i++) close_dash(i);
  stub_worker_run(); /* answers for dashboards that are gone */
  check_sent();
  device_offline();
  front_stop(&srv);
  uv_run(&loop, UV_RUN_DEFAULT);
  live_free(&srv.live);
  FUZZ_CHECK(uv_loop_close(&loop) == 0);
  stub_join_reset();
  stub_net_reset();
  return 0;
}
