/* SPDX-License-Identifier: MIT */
/* fuzz_rest.c -- the northbound REST API (src/server/rest.c, rest_call.c) with the real route
 * tables and stages of rest_device.c, rest_group.c, rest_relation.c, rest_token.c and
 * rest_live.c, the real API tokens (auth.c), registry (live.c), orders (order.c) and miner
 * records (miner.c, join.c), over a real in-memory SQLite store made for each input: devices
 * 1001 (connected, with a status) and 1002, group 2001 with 1001 in it, device logs, miner f01,
 * and the API tokens "admin-token" and "read-token". The database thread is the unit tests'
 * worker stub (its jobs run here, in order); bcrypt (cost 4) runs on the uv thread pool;
 * orders time out at once (order_timeout 0), as no device answers them.
 *
 * The input is requests separated by NUL bytes, each as HTTP/1.1 would carry it:
 *   METHOD PATH
 *   Authorization: Bearer admin-token      (header lines; authorization and content-type count)
 *   Content-Type: application/json
 *                                          (a blank line, then the body)
 *   {"device_id":"1001",...}
 * A request with a body is first shown to rest_headers (before its body, as the net layer does);
 * if that does not answer it, rest_request gets it whole.
 * Properties: every request is answered exactly once, with a status of 200..599 and a JSON body
 * {"status":"success","data":...} (status 200) or {"status":"fail","type","message"}; nothing
 * leaks. Seeds: corpus/rest, routes of docs/api.md. */
#include <strings.h>

#include "audit.h"
#include "crypto.h"
#include "dsess.h"
#include "fuzz.h"
#include "log.h"
#include "jsonutil.h"
#include "rest.h"
#include "stubs.h"

static struct server srv;
static uv_loop_t loop;

static void add_token(struct store *st, uint64_t id, const char *token, const char *kind) {
  char hash[EF_SHA256_HEXLEN];
  crypto_sha256_hex(token, strlen(token), hash);
  struct store_token t = {.token_id = id, .name = (char *)kind, .scope = (char *)kind,
                          .token_hash = hash, .created_time = 1};
  FUZZ_CHECK(st->ops->token_add(st, &t) == 0);
}

static struct store *make_store(void) {
  struct store *st;
  char err[256];
  FUZZ_CHECK(store_open("sqlite::memory:", &st, err, sizeof err) == 0);
  static const struct {
    uint64_t id;
    const char *sn;
  } devs[] = {{1001, "SN1"}, {1002, "SN2"}};
  for (size_t i = 0; i < 2; i++) {
    struct store_device d = {.device_id = devs[i].id, .device_name = (char *)devs[i].sn,
                             .hardware_sn = (char *)devs[i].sn, .hardware_model = (char *)"M1",
                             .password = (char *)"$2b$04$notarealhashnotarealhashnotarealhashnotarea",
                             .dev_state = (char *)"offline"};
    FUZZ_CHECK(st->ops->device_add(st, &d) == 0);
  }
  struct store_group g = {.group_id = 2001, .group_name = (char *)"rack-1"};
  FUZZ_CHECK(st->ops->group_add(st, &g) == 0);
  FUZZ_CHECK(st->ops->relation_add(st, 1001, 2001, 1) == 0);
  struct store_log logs[] = {
    {.device_id = 1001, .event = (char *)"login", .result = (char *)"success", .time = 1000},
    {.device_id = 1001, .event = (char *)"order", .detail = (char *)"say", .time = 2000},
  };
  FUZZ_CHECK(st->ops->write_batch(st, logs, 2, NULL, 0) == 0);
  add_token(st, 1, "admin-token", "admin");
  add_token(st, 2, "read-token", "read");
  struct store_miner rows[] = {
    {.miner_id = (char *)"f01", .record = (char *)"{\"minerId\":\"f01\",\"errorSectors\":1}",
     .device_id = 1001, .updated_time = 1},
    {.miner_id = (char *)"f01", .host_name = (char *)"w1", .record = (char *)"{\"cpu\":1}"},
  };
  FUZZ_CHECK(st->ops->miner_write(st, rows, 2) == 0);
  return st;
}

/* One request: its line, headers and body, answered and checked. */
static void request(const char *rec, size_t len) {
  char *text = fuzz_strndup(rec, len);
  char *body = strstr(text, "\n\n");
  if (body) {
    *body = '\0';
    body += 2;
  }
  char *save = NULL;
  char *line = strtok_r(text, "\n", &save);
  if (!line) {
    free(text);
    return;
  }
  char *sp = strchr(line, ' ');
  if (sp) *sp++ = '\0';
  struct net_req req = {.method = line, .path = sp ? sp : "/"};
  for (char *h; (h = strtok_r(NULL, "\n", &save));) {
    char *colon = strchr(h, ':');
    if (!colon) continue;
    *colon++ = '\0';
    while (*colon == ' ') colon++;
    if (strcasecmp(h, "authorization") == 0) req.authorization = colon;
    else if (strcasecmp(h, "content-type") == 0) req.content_type = colon;
  }
  req.body = body;
  if (strcmp(req.method, "GET") != 0 || (body && *body)) rest_headers(&srv, &req);
  if (!req.nresponses) rest_request(&srv, &req);
  for (int i = 0; i < 1000 && !req.nresponses; i++) {
    stub_worker_run();
    if (!req.nresponses && uv_loop_alive(&loop)) uv_run(&loop, UV_RUN_ONCE);
  }
  FUZZ_CHECK(req.nresponses == 1);
  FUZZ_CHECK(req.status >= 200 && req.status <= 599);
  json_t *a = json_loads(req.response, 0, NULL);
  FUZZ_CHECK(json_is_object(a));
  const char *status = jstr(a, "status");
  FUZZ_CHECK(status != NULL);
  if (strcmp(status, "success") == 0) {
    FUZZ_CHECK(req.status == 200 && json_object_get(a, "data"));
  } else {
    FUZZ_CHECK(strcmp(status, "fail") == 0 && req.status >= 400);
    FUZZ_CHECK(jstr(a, "type") && jstr(a, "message"));
  }
  json_decref(a);
  stub_net_req_clear(&req);
  stub_net_reset();
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool quiet;
  if (!quiet) { /* every log line is formatted (its arguments checked), and dropped */
    quiet = log_set_file("/dev/null") == 0;
    ef_log_threshold = EF_LOG_DEBUG;
  }
  struct store *st = make_store();
  memset(&srv, 0, sizeof srv);
  FUZZ_CHECK(uv_loop_init(&loop) == 0);
  srv.loop = &loop;
  srv.cfg.bcrypt_cost = 4;
  srv.cfg.order_timeout = 0;
  srv.cfg.miner_flush = 3600 * 1000;
  srv.cfg.miner_stale = 300000;
  srv.cfg.upload_log_dir = (char *)"/var/log/devices_management";
  char err[256];
  FUZZ_CHECK(auth_init(st, "unused: the store has tokens", &srv.auth, err, sizeof err) == 0);
  srv.live = live_new();
  srv.devlog = (struct devlog *)&srv; /* devlog_stubs.c keeps the rows; never looked at */
  audit_start(&srv);
  order_start(&srv);
  FUZZ_CHECK(miner_init(&srv, st, err, sizeof err) == 0);
  miner_start(&srv);
  stub_worker_reset(st);
  stub_net_reset();
  stub_devlog_reset();
  struct net_conn dev_conn = {.kind = NET_WS_DEVICE, .peer = "dev"};
  struct dsess *dev = live_sess_new(srv.live, &srv, &dev_conn);
  live_sess_login(dev, 1001);
  const char *up = "{\"type\":\"upload_status_info\",\"Headers\":{},\"data\":{\"host_name\":\"w1\"}}";
  live_sess_set_status(dev, up, strlen(up), 5);
  live_sess_set_host(dev, "w1");

  struct fuzz_split sp = fuzz_split(data, size);
  const char *rec;
  size_t len;
  for (int n = 0; n < 16 && fuzz_next(&sp, '\0', &rec, &len); n++) request(rec, len);

  live_sess_end(dev, "connection closed"); /* a deleted device's session may be gone already */
  live_sess_free(dev);
  miner_stop(&srv);
  stub_worker_run();
  uv_run(&loop, UV_RUN_DEFAULT);
  order_free(&srv);
  live_free(&srv.live);
  audit_stop(&srv);
  auth_free(&srv.auth);
  FUZZ_CHECK(uv_loop_close(&loop) == 0);
  stub_net_reset();
  stub_devlog_reset();
  store_close(&st);
  return 0;
}
