/* SPDX-License-Identifier: MIT */
/* fuzz_ws_device.c -- what a logged-in device sends on /ws: ws_device.c's dispatch (the ping's
 * fast path, the JSON parse, routing by "type") into the real handlers of every message type --
 * status.c (upload_status_info), order.c (upload_instruction_result, with orders given by the
 * target), miner.c (upload_miner_info, full records and merge patches, and the write-behind at
 * the end) -- with the real registry (live.c) and the real readers of what devices uploaded
 * (join.c: miner views, lists and summaries with alarms, worker hardware from status uploads),
 * run after every message. Stubs: the net layer, the device log, the database thread, the store
 * (tests/unit/server/stubs) and the login (stubs/login_stubs.c: every login succeeds unless the
 * input says otherwise; login.c has its own target).
 *
 * The input is lines: a line is one message from the current device, except lines that start
 * with '!', which stand for what else happens to a connection:
 *   !dev N          talk as device slot N (0-3, device ids 7-10; connected and logged in on first
 *                   use, "report_full_info" answered by nothing)
 *   !order TYPE [PARAMS]   the server gives the current device an order (PARAMS: a JSON object)
 *   !miss           the heartbeat window passes without a message (a miss; enough of them drop
 *                   the connection)
 *   !relogin        the device logs in again on a new connection (the old one is replaced)
 *   !close          the connection closes (the device reconnects at its next message)
 *   !badlogin       a connection whose login fails
 * "@OID@" in a message stands for the order_id of the last order given, so that results can
 * match it. Properties: every order given is answered exactly once by the end; every frame the
 * server sends is JSON; the readers' output serialises; nothing leaks. Seeds: corpus/ws_device,
 * messages of docs/protocol.md. */
#include "../../src/server/ws_device.c" /* the heartbeat deadline (on_deadline) is static */

#include "fuzz.h"
#include "log.h"
#include "fuzz_stubs.h"
#include "stubs.h"

#define NDEV 4
#define FIRST_ID 7

static struct server srv;
static uv_loop_t loop;

struct conn {
  struct net_conn nc;
  struct dsess *s; /* NULL: no connection */
  bool released;   /* ws_device_close has run */
};

/* Connections in the order they were opened: a device may have had several. */
static struct conn conns[64];
static size_t nconns;
static struct conn *cur[NDEV]; /* each device's current connection */
static int slot;
static char last_oid[EF_ID_STRLEN];
static unsigned orders_given, orders_answered;

static void order_done(void *ud, bool ok, int http, const char *message, int log_rc) {
  (void)ud;
  (void)ok;
  (void)log_rc;
  FUZZ_CHECK(message != NULL && http >= 200 && http < 600);
  orders_answered++;
}

/* The net layer reports the close of every connection the server closed. */
static void release_closed(void) {
  for (size_t i = 0; i < nconns; i++)
    if (conns[i].nc.closed && !conns[i].released) {
      conns[i].released = true;
      ws_device_close(conns[i].s);
      for (int d = 0; d < NDEV; d++)
        if (cur[d] == &conns[i]) cur[d] = NULL;
    }
}

/* A new connection of device slot d, logged in (or failing its login when `fail`). */
static struct conn *connect_dev(int d, bool fail) {
  if (nconns == sizeof conns / sizeof *conns) return NULL;
  struct conn *c = &conns[nconns++];
  memset(c, 0, sizeof *c);
  c->nc.kind = NET_WS_DEVICE;
  c->nc.peer = "fuzz";
  c->s = ws_device_open(&srv, &c->nc);
  FUZZ_CHECK(c->s != NULL);
  const char *first = "{\"device_id\":\"7\",\"password\":\"pw\"}";
  ws_device_message(c->s, first, strlen(first));
  struct login_result r = {.device_id = (uint64_t)(FIRST_ID + d)};
  if (fail) r.error = WIRE_MSG_BAD_PASSWORD;
  else if (d & 1) r.token = "0123456789012345678901234567890123456789012", r.token_expires = 1;
  FUZZ_CHECK(fuzz_login_finish(&r));
  release_closed();
  return fail ? NULL : (cur[d] = c);
}

/* Every frame sent so far is JSON (the ping's answer included). */
static void check_sent(void) {
  for (size_t i = 0; i < stub_net_ncalls(); i++) {
    const struct stub_net_call *call = stub_net_call(i);
    if (call->op != STUB_NET_SEND) continue;
    json_t *v = json_loads(call->text, 0, NULL);
    FUZZ_CHECK(json_is_object(v));
    json_decref(v);
  }
  stub_net_reset();
}

static void dump(json_t *v) {
  char *t = jdump(v);
  FUZZ_CHECK(t != NULL);
  ef_free(t);
  json_decref(v);
}

/* What readers make of the uploads: views, lists, summaries and alarms. */
static void read_back(void) {
  dump(join_miner_list(&srv));
  dump(join_summaries(&srv));
  struct miner_info mi;
  for (size_t i = 0; miner_at(srv.miners, i, &mi); i++) {
    json_t *v = join_miner_view(&srv, mi.id);
    if (v) dump(v);
    v = join_miner(&srv, mi.id);
    if (v) dump(v);
  }
  for (int d = 0; d < NDEV; d++) {
    json_t *st = live_status(srv.live, (uint64_t)(FIRST_ID + d));
    if (st) dump(st);
  }
}

static void give_order(const char *arg, size_t len) {
  if (!cur[slot]) return;
  const char *sp = memchr(arg, ' ', len);
  char *type = fuzz_strndup(arg, sp ? (size_t)(sp - arg) : len);
  json_t *utf8 = json_string(type); /* the REST API's order types come from JSON: valid UTF-8 */
  if (!utf8) {
    free(type);
    return;
  }
  json_decref(utf8);
  json_t *params = sp ? jparse_object(sp + 1, len - (size_t)(sp + 1 - arg)) : NULL;
  const char *why = NULL;
  if (*type && order_give(&srv, (uint64_t)(FIRST_ID + slot), type, params, order_done, NULL,
                          &why) == 0) {
    orders_given++;
    json_t *m = json_loads(stub_net_last(&cur[slot]->nc), 0, NULL);
    const char *oid = jstr(jobj(m, "Headers"), "order_id");
    FUZZ_CHECK(oid != NULL);
    snprintf(last_oid, sizeof last_oid, "%s", oid);
    json_decref(m);
  } else if (*type) {
    FUZZ_CHECK(why != NULL);
  }
  json_decref(params);
  free(type);
}

static void message(const char *rec, size_t len) {
  if (!cur[slot] && !connect_dev(slot, false)) return;
  /* "@OID@" -> the last order's id */
  char *msg = fuzz_strndup(rec, len);
  char *at = strstr(msg, "@OID@");
  if (at && last_oid[0]) {
    size_t n = strlen(last_oid);
    char *m2 = malloc(len - 5 + n + 1);
    if (!m2) abort();
    size_t pre = (size_t)(at - msg);
    memcpy(m2, msg, pre);
    memcpy(m2 + pre, last_oid, n);
    strcpy(m2 + pre + n, at + 5);
    free(msg);
    msg = m2;
    len = strlen(msg);
  }
  ws_device_message(cur[slot]->s, msg, len);
  free(msg);
  release_closed();
  read_back();
}

static void command(const char *rec, size_t len) {
  if (fuzz_prefix(rec, len, "!dev ") && len == 6 && rec[5] >= '0' && rec[5] < '0' + NDEV) {
    slot = rec[5] - '0';
  } else if (fuzz_prefix(rec, len, "!order ")) {
    give_order(rec + 7, len - 7);
  } else if (len == 5 && memcmp(rec, "!miss", 5) == 0 && cur[slot]) {
    struct dsess *s = cur[slot]->s;
    s->window_start -= tolerance(s); /* the window has passed */
    on_deadline(&s->deadline, NULL);
    release_closed();
  } else if (len == 8 && memcmp(rec, "!relogin", 8) == 0) {
    connect_dev(slot, false);
  } else if (len == 6 && memcmp(rec, "!close", 6) == 0 && cur[slot]) {
    cur[slot]->released = true;
    ws_device_close(cur[slot]->s);
    cur[slot] = NULL;
  } else if (len == 9 && memcmp(rec, "!badlogin", 9) == 0) {
    connect_dev(slot, true);
  }
  read_back();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool quiet;
  if (!quiet) { /* every log line is formatted (its arguments checked), and dropped */
    quiet = log_set_file("/dev/null") == 0;
    ef_log_threshold = EF_LOG_DEBUG;
  }
  memset(&srv, 0, sizeof srv);
  FUZZ_CHECK(uv_loop_init(&loop) == 0);
  srv.loop = &loop;
  struct server_config *c = &srv.cfg;
  c->login_timeout = 5000;
  c->heartbeat_tolerance = 7500;
  c->heartbeat_tolerance_miss = 5500;
  c->heartbeat_max_misses = 3;
  c->order_timeout = 10000;
  c->log_status_uploads = true;
  c->log_status_every = 60000;
  c->miner_flush = 2000;
  c->miner_stale = 300000;
  c->max_devices = 100000;
  c->device_max_messages = 100; /* the flood limit is part of what runs */
  c->device_max_bytes = 1 << 20;
  c->max_miners = 1000;
  c->miners_per_device = 8;
  c->max_miner_record = 4 << 20;
  c->upload_log_dir = (char *)"/var/log/devices_management";
  srv.live = live_new();
  order_start(&srv);
  stub_net_reset();
  stub_devlog_reset();
  stub_store_reset();
  stub_worker_reset(stub_store());
  char err[128];
  FUZZ_CHECK(miner_init(&srv, stub_store(), err, sizeof err) == 0);
  miner_start(&srv);
  ws_device_start(&srv);
  nconns = 0;
  memset(cur, 0, sizeof cur);
  slot = 0;
  last_oid[0] = '\0';
  orders_given = orders_answered = 0;

  struct fuzz_split sp = fuzz_split(data, size);
  const char *rec;
  size_t len;
  while (fuzz_next(&sp, '\n', &rec, &len)) {
    if (len && rec[0] == '!') command(rec, len);
    else message(rec, len);
    check_sent();
  }

  /* Every connection closes; what is dirty is written; the loop releases the handles. */
  for (size_t i = 0; i < nconns; i++)
    if (!conns[i].released) {
      conns[i].released = true;
      ws_device_close(conns[i].s);
    }
  FUZZ_CHECK(orders_answered == orders_given);
  FUZZ_CHECK(live_count(srv.live) == 0 && srv.n_sessions == 0);
  miner_stop(&srv);
  stub_worker_run();
  ws_device_stop(&srv);
  uv_run(&loop, UV_RUN_DEFAULT);
  order_free(&srv);
  live_free(&srv.live);
  FUZZ_CHECK(uv_loop_close(&loop) == 0);
  check_sent();
  stub_devlog_reset();
  stub_store_reset();
  return 0;
}
