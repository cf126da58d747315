/* SPDX-License-Identifier: MIT */
/* test_rest.c -- the REST router and stage pipeline (src/server/rest.c) over test route tables
 * (stubs/rest_routes_stubs.c) whose stages only count: 404 (path, name, argument count), 405,
 * 401, 403 and 400 (Content-Type, body) are answered before any stage runs, in that order; a
 * request that passes runs its stages pool → db → loop and is answered once from their result;
 * a failing stage skips the later ones; a loop stage may answer later. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "audit.h"
#include "edgefleet/error.h"
#include "jsonutil.h"
#include "mem.h"
#include "rest.h"
#include "stubs.h"

static struct server srv;
static uv_loop_t loop;
static struct net_req req;

#define ADMIN "Bearer " STUB_ADMIN_TOKEN
#define READ "Bearer " STUB_READ_TOKEN
#define OPERATOR "Bearer " STUB_OPERATOR_TOKEN
#define LIMITED "Bearer " STUB_LIMITED_TOKEN
#define JSON "application/json"

/* Send a request; the answer is in `req` when it came at once. */
static void request(const char *method, const char *name, const char *auth, const char *ctype,
                    const char *body) {
  static char path[256];
  snprintf(path, sizeof path, "%s%s", name[0] == '/' ? "" : REST_BASE, name);
  stub_net_req_clear(&req);
  req = (struct net_req){.method = method, .path = path, .authorization = auth,
                         .content_type = ctype, .body = body};
  rest_request(&srv, &req);
}

/* Run what the request started (thread pool, database thread) until it is answered. */
static void finish(void) {
  for (int i = 0; i < 100 && !req.nresponses; i++) {
    stub_worker_run();
    if (!req.nresponses) uv_run(&loop, UV_RUN_ONCE);
  }
}

static void assert_stages(int pool, int db, int loop_) {
  assert_int_equal(stub_rest.pool, pool);
  assert_int_equal(stub_rest.db, db);
  assert_int_equal(stub_rest.loop, loop_);
}

/* The answer was `status` with a failure message containing `msg`, and no stage ran. */
static void assert_refused(int status, const char *msg) {
  assert_int_equal(req.nresponses, 1);
  assert_int_equal(req.status, status);
  json_t *a = stub_net_req_json(&req);
  assert_string_equal(jstr(a, "status"), "fail");
  assert_string_equal(jstr(a, "type"), REST_GENERAL);
  if (!strstr(jstr(a, "message"), msg)) fail_msg("message \"%s\"", jstr(a, "message"));
  json_decref(a);
  assert_stages(0, 0, 0);
  assert_int_equal(stub_worker_submitted(), 0);
}

static int setup(void **state) {
  (void)state;
  memset(&srv, 0, sizeof srv);
  assert_int_equal(uv_loop_init(&loop), 0);
  srv.loop = &loop;
  srv.devlog = (struct devlog *)&srv; /* devlog_stubs.c keeps the audit rows; never looked at */
  audit_start(&srv);
  stub_devlog_reset();
  stub_rest_reset();
  stub_auth_reset();
  stub_worker_reset(stub_store());
  return 0;
}

static int teardown(void **state) {
  (void)state;
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
  stub_net_req_clear(&req);
  stub_rest_reset();
  audit_stop(&srv);
  stub_devlog_reset();
  return 0;
}

/* ----- refused before any stage ----- */

static void test_404(void **state) {
  (void)state;
  request("GET", "/other/device_query/1", ADMIN, NULL, NULL);
  assert_refused(404, "no such resource");
  request("GET", "no_such_api", ADMIN, NULL, NULL);
  assert_refused(404, "no such API");
  request("GET", "device_query", ADMIN, NULL, NULL); /* needs 1 argument */
  assert_refused(404, "device_query takes 1 path argument");
  request("GET", "device_query/1/2", ADMIN, NULL, NULL);
  assert_refused(404, "takes 1 path argument");
  request("GET", "device_query/1/2/3", ADMIN, NULL, NULL);
  assert_refused(404, "takes 1 path argument");
  request("GET", "device_add/1", ADMIN, NULL, NULL);
  assert_refused(404, "device_add takes 0 path arguments");
  request("GET", "device_que", ADMIN, NULL, NULL); /* a prefix of a name is not the name */
  assert_refused(404, "no such API");
  /* unknown routes are refused before the token is even looked at */
  request("GET", "no_such_api", NULL, NULL, NULL);
  assert_refused(404, "no such API");
  assert_int_equal(stub_auth_calls(), 0);
}

static void test_405(void **state) {
  (void)state;
  request("GET", "device_add", ADMIN, JSON, "{}");
  assert_refused(405, "device_add accepts POST");
  request("DELETE", "group_update", ADMIN, JSON, "{}");
  assert_refused(405, "group_update accepts PUT POST");
  request("POS", "device_add", ADMIN, JSON, "{}"); /* a prefix of a method is not the method */
  assert_refused(405, "accepts POST");
  request("POST", "device_query/1", NULL, NULL, NULL); /* before authentication */
  assert_refused(405, "device_query accepts GET");
  assert_int_equal(stub_auth_calls(), 0);
}

static void test_401(void **state) {
  (void)state;
  request("GET", "device_query/1", NULL, NULL, NULL);
  assert_refused(401, "missing or invalid API token");
  request("GET", "device_query/1", "Bearer nope", NULL, NULL);
  assert_refused(401, "missing or invalid API token");
  request("GET", "device_query/1", STUB_ADMIN_TOKEN, NULL, NULL); /* no "Bearer " */
  assert_refused(401, "missing or invalid API token");
  request("POST", "device_add", NULL, "text/plain", "junk"); /* before the body */
  assert_refused(401, "missing or invalid API token");
}

static void test_403(void **state) {
  (void)state;
  request("POST", "device_add", READ, JSON, "{}");
  assert_refused(403, "device_add needs an operator token; this one is read");
  request("PUT", "group_update", READ, "text/plain", "junk"); /* before the body */
  assert_refused(403, "needs an operator token");
  /* an operator may not manage tokens */
  request("POST", "token_add", OPERATOR, JSON, "{}");
  assert_refused(403, "token_add needs an admin token; this one is operator");
  /* a token limited to groups may not use a route of the whole fleet (creating devices) */
  request("POST", "device_add", LIMITED, JSON, "{}");
  assert_refused(403, "device_add needs a token not limited to groups");
}

static void test_expired_and_revoked(void **state) {
  (void)state;
  request("GET", "device_query/1", "Bearer " STUB_EXPIRED_TOKEN, NULL, NULL);
  assert_refused(401, "token expired");
  request("GET", "device_query/1", OPERATOR, NULL, NULL);
  finish();
  assert_int_equal(req.status, 200);
  stub_rest_reset();
  stub_worker_reset(stub_store());
  stub_auth_revoke(STUB_OPERATOR_SLOT); /* refused at once, by the next request */
  request("GET", "device_query/1", OPERATOR, NULL, NULL);
  assert_refused(401, "missing or invalid API token");
}

/* A call knows its token, and holds a group-limited token's view until it ends. */
static void test_call_holds_the_view(void **state) {
  (void)state;
  request("GET", "device_log_query/5", LIMITED, NULL, NULL);
  assert_int_equal(stub_auth_view_refs(), 1); /* answered at once: released */
  request("POST", "device_order/11", LIMITED, JSON, "{}");
  finish();
  assert_non_null(stub_rest.later);
  assert_int_equal(stub_rest.later->token_id, 103);
  assert_int_equal(stub_rest.later->scope, AUTH_OPERATOR);
  assert_non_null(stub_rest.later->view);
  assert_true(rest_sees_device(stub_rest.later, STUB_LIMITED_DEVICE));
  assert_false(rest_sees_device(stub_rest.later, 12));
  assert_true(rest_sees_group(stub_rest.later, STUB_LIMITED_GROUP));
  assert_false(rest_sees_group(stub_rest.later, 2));
  assert_int_equal(stub_auth_view_refs(), 2);
  rest_finish(stub_rest.later);
  assert_int_equal(stub_auth_view_refs(), 1);
  /* an unlimited token's call has no view: it sees everything */
  request("POST", "device_order/12", ADMIN, JSON, "{}");
  finish();
  assert_null(stub_rest.later->view);
  assert_true(rest_sees_device(stub_rest.later, 12));
  rest_finish(stub_rest.later);
}

static void test_400_body(void **state) {
  (void)state;
  request("POST", "device_add", ADMIN, JSON, "not json");
  assert_refused(400, "please provide legal json!");
  request("POST", "device_add", ADMIN, JSON, "[1,2]"); /* JSON, not an object */
  assert_refused(400, "please provide legal json!");
  request("POST", "device_add", ADMIN, JSON, NULL);
  assert_refused(400, "please provide legal json!");
  request("POST", "device_add", ADMIN, NULL, "{}");
  assert_refused(400, "Content-Type must be application/json");
  request("POST", "device_add", ADMIN, "text/plain", "{}");
  assert_refused(400, "Content-Type must be application/json");
}

/* ----- requests that pass ----- */

static void test_all_stages(void **state) {
  (void)state;
  request("POST", "device_add", ADMIN, "application/json; charset=utf-8", "{\"a\":1}");
  assert_int_equal(req.nresponses, 0); /* on the thread pool */
  finish();
  assert_int_equal(req.nresponses, 1);
  assert_int_equal(req.status, 200);
  assert_stages(1, 1, 1);
  assert_string_equal(stub_rest.last_route, "device_add");
  assert_string_equal(stub_rest.last_body, "{\"a\":1}");
  json_t *a = stub_net_req_json(&req);
  assert_string_equal(jstr(a, "status"), "success");
  assert_string_equal(jstr(jobj(a, "data"), "route"), "device_add");
  json_decref(a);
}

static void test_read_token_and_args(void **state) {
  (void)state;
  request("GET", "device_query/123", READ, NULL, NULL);
  assert_int_equal(req.nresponses, 0);
  assert_int_equal(stub_worker_pending(), 1); /* the db stage */
  finish();
  assert_int_equal(req.status, 200);
  assert_stages(0, 1, 1);
  assert_string_equal(stub_rest.last_args[0], "123");
  assert_null(stub_rest.last_body); /* a GET has no body */

  /* one name, one row per argument count */
  stub_rest_reset();
  request("GET", "device_log_query/5/77", READ, NULL, NULL);
  assert_int_equal(req.nresponses, 1); /* a loop stage only: answered at once */
  assert_int_equal(req.status, 200);
  assert_stages(0, 0, 1);
  assert_string_equal(stub_rest.last_args[0], "5");
  assert_string_equal(stub_rest.last_args[1], "77");
  request("GET", "device_log_query/5/", READ, NULL, NULL); /* a trailing slash */
  assert_int_equal(req.status, 200);
  assert_string_equal(stub_rest.last_args[1], "");

  request("PUT", "group_update", ADMIN, JSON, "{}");
  assert_int_equal(req.status, 200);
}

static void test_failed_stage_skips_the_rest(void **state) {
  (void)state;
  request("POST", "token_add", ADMIN, JSON, "{}");
  finish();
  assert_int_equal(req.nresponses, 1);
  assert_int_equal(req.status, 409);
  assert_stages(0, 1, 0);
  json_t *a = stub_net_req_json(&req);
  assert_string_equal(jstr(a, "status"), "fail");
  assert_string_equal(jstr(a, "message"), "thing already exists.");
  json_decref(a);
}

static void test_answer_later(void **state) {
  (void)state;
  request("POST", "device_order/9", OPERATOR, JSON, "{\"order\":\"x\"}");
  assert_int_equal(req.nresponses, 0);
  assert_non_null(stub_rest.later);
  rest_fail(stub_rest.later, 504, REST_DEVICEOP, "order timed out");
  rest_finish(stub_rest.later);
  assert_int_equal(req.nresponses, 1);
  assert_int_equal(req.status, 504);
  json_t *a = stub_net_req_json(&req);
  assert_string_equal(jstr(a, "type"), REST_DEVICEOP);
  json_decref(a);
}

/* The audit log (audit.h): one row per answered call of a route that is not a pure query, and
 * per refusal once the token is known; none for queries, 401, 404 and 405. */
static void test_audit_rows(void **state) {
  (void)state;
  request("GET", "device_query/1", ADMIN, NULL, NULL);
  finish();
  request("POST", "device_add", NULL, JSON, "{}");                 /* 401 */
  request("POST", "no_such_api", ADMIN, JSON, "{}");               /* 404 */
  request("GET", "device_add", ADMIN, NULL, NULL);                 /* 405 */
  assert_int_equal(stub_devlog_naudits(), 0);

  request("POST", "device_add", ADMIN, JSON, "{\"device_id\":\"5\",\"password\":\"pw\"}");
  finish();
  assert_int_equal(req.status, 200);
  assert_int_equal(stub_devlog_naudits(), 1);
  const struct store_audit *a = stub_devlog_audit(0);
  assert_int_equal(a->token_id, STUB_ADMIN_ID);
  assert_string_equal(a->token_name, "admin");
  assert_string_equal(a->route, "device_add");
  assert_string_equal(a->target, "device=5");
  assert_int_equal(a->status, 200);
  assert_string_equal(a->outcome, "ok");
  assert_string_equal(a->peer, "127.0.0.1");

  request("POST", "token_add", ADMIN, JSON, "{}"); /* a failing stage */
  finish();
  request("POST", "device_add", READ, JSON, "{}"); /* 403 */
  request("POST", "device_add", ADMIN, JSON, "nope"); /* 400: not JSON */
  request("POST", "device_add", ADMIN, "text/plain", "{}"); /* 400: Content-Type */
  assert_int_equal(stub_devlog_naudits(), 5);
  assert_int_equal(stub_devlog_audit(1)->status, 409);
  assert_string_equal(stub_devlog_audit(1)->outcome, "thing already exists.");
  assert_int_equal(stub_devlog_audit(2)->status, 403);
  assert_string_equal(stub_devlog_audit(2)->token_name, "read");
  assert_int_equal(stub_devlog_audit(3)->status, 400);
  assert_string_equal(stub_devlog_audit(3)->outcome, "please provide legal json!");
  assert_int_equal(stub_devlog_audit(4)->status, 400);

  /* an order answered later: its row when it is answered, with its outcome */
  request("POST", "device_order/9", OPERATOR, JSON, "{\"order\":\"reboot\"}");
  assert_int_equal(stub_devlog_naudits(), 5);
  rest_fail(stub_rest.later, 504, REST_DEVICEOP, "order timed out");
  rest_finish(stub_rest.later);
  assert_int_equal(stub_devlog_naudits(), 6);
  a = stub_devlog_audit(5);
  assert_string_equal(a->route, "device_order");
  assert_string_equal(a->target, "arg=9 order=reboot");
  assert_int_equal(a->status, 504);
  assert_string_equal(a->outcome, "order timed out");

  /* 429: the first of a flood */
  stub_auth_set_budget(STUB_ADMIN_SLOT, 0);
  for (int i = 0; i < 5; i++) request("POST", "device_add", ADMIN, JSON, "{}");
  assert_int_equal(req.status, 429);
  assert_int_equal(stub_devlog_naudits(), 7);
  assert_int_equal(stub_devlog_audit(6)->status, 429);
}

static void test_store_fail_mapping(void **state) {
  (void)state;
  request("POST", "device_order/9", OPERATOR, JSON, "{}");
  struct rest_call *c = stub_rest.later;
  assert_int_equal(rest_store_fail(c, EF_ENOENT, REST_DEVICEOP, "Device", NULL), REST_NEXT);
  assert_int_equal(c->status, 404);
  assert_string_equal(c->emsg, "Device NOT FOUND.");
  rest_store_fail(c, EF_EEXIST, REST_DEVICEOP, "Device", NULL);
  assert_int_equal(c->status, 409);
  rest_store_fail(c, EF_EINVAL, REST_DEVICEOP, "Device", NULL);
  assert_int_equal(c->status, 400);
  rest_store_fail(c, EF_EDB, REST_DEVICEOP, "Device", NULL);
  assert_int_equal(c->status, 500);
  assert_string_equal(c->etype, REST_DATABASE);
  assert_int_equal(rest_arg_id(c, 0, "device_id"), 9);
  assert_int_equal(rest_body_id(c, "device_id"), 0);
  assert_int_equal(c->status, 400);
  assert_string_equal(c->emsg, "Missing required parameters! (device_id)");
  rest_finish(c);
  assert_int_equal(req.status, 400);
}

/* ----- the request rate of a token (auth_rate, stubbed as a budget per token) ----- */

static void test_429(void **state) {
  (void)state;
  srv.cfg.rest_rate = 7;
  srv.cfg.rest_burst = 9;
  stub_auth_set_budget(STUB_ADMIN_SLOT, 2);
  for (int i = 0; i < 2; i++) {
    request("GET", "device_log_query/5/77", ADMIN, NULL, NULL);
    assert_int_equal(req.status, 200);
  }
  stub_rest_reset();
  request("GET", "device_log_query/5/77", ADMIN, NULL, NULL);
  assert_refused(429, "too many requests for this API token (at most 7 per second, 9 at once)");
  assert_string_equal(req.header, "Retry-After: 2"); /* 1500 ms, in whole seconds rounded up */
  request("POST", "device_add", ADMIN, JSON, "{}"); /* every route of the token */
  assert_refused(429, "retry after 2 s");
  request("POST", "device_add", ADMIN, "text/plain", "junk"); /* before the Content-Type */
  assert_refused(429, "too many requests");
  const struct stub_auth_rate *r = stub_auth_rate_of(STUB_ADMIN_SLOT);
  assert_int_equal(r->takes, 2);
  assert_int_equal(r->refused, 3);
  assert_int_equal(r->rate, 7);
  assert_int_equal(r->burst, 9);

  /* another token keeps its own budget */
  request("GET", "device_log_query/5/77", READ, NULL, NULL);
  assert_int_equal(req.status, 200);
  assert_string_equal(req.header, "");
  stub_rest_reset();
  request("POST", "device_add", READ, JSON, "{}"); /* counted, then refused for its scope */
  assert_refused(403, "operator token");
  assert_int_equal(stub_auth_rate_of(STUB_READ_SLOT)->takes, 2);
}

static void test_429_not_charged_before_auth(void **state) {
  (void)state;
  stub_auth_set_budget(STUB_ADMIN_SLOT, 0);
  request("GET", "no_such_api", ADMIN, NULL, NULL);
  assert_refused(404, "no such API");
  request("POST", "device_query/1", ADMIN, NULL, NULL);
  assert_refused(405, "accepts GET");
  request("GET", "device_query/1", "Bearer nope", NULL, NULL);
  assert_refused(401, "missing or invalid API token");
  const struct stub_auth_rate *a = stub_auth_rate_of(STUB_ADMIN_SLOT);
  const struct stub_auth_rate *b = stub_auth_rate_of(STUB_READ_SLOT);
  assert_int_equal(a->takes + a->refused + a->peeks + b->takes + b->refused + b->peeks, 0);
}

/* rest_headers (a body not read yet) only looks at the bucket: the request is counted once, by
 * rest_request, but an empty bucket is refused before the body is read. */
static void test_429_before_the_body(void **state) {
  (void)state;
  stub_auth_set_budget(STUB_ADMIN_SLOT, 1);
  req = (struct net_req){.method = "POST", .path = REST_BASE "device_add",
                         .authorization = ADMIN, .content_type = JSON};
  rest_headers(&srv, &req);
  assert_int_equal(req.nresponses, 0);
  assert_int_equal(stub_auth_rate_of(STUB_ADMIN_SLOT)->peeks, 1);
  assert_int_equal(stub_auth_rate_of(STUB_ADMIN_SLOT)->takes, 0);
  request("POST", "device_add", ADMIN, JSON, "{}");
  finish();
  assert_int_equal(req.status, 200);
  assert_int_equal(stub_auth_rate_of(STUB_ADMIN_SLOT)->takes, 1);

  stub_rest_reset();
  stub_worker_reset(stub_store());
  stub_net_req_clear(&req);
  req = (struct net_req){.method = "POST", .path = REST_BASE "device_add",
                         .authorization = ADMIN, .content_type = JSON};
  rest_headers(&srv, &req);
  assert_refused(429, "too many requests");
  assert_string_equal(req.header, "Retry-After: 2");
}

/* ----- limits of stored strings (rest_limits.c) ----- */

static void assert_text(const char *member, const char *s, const char *want_err) {
  char err[256] = "";
  int rc = rest_text_check(member, NULL, s, err, sizeof err);
  if (!want_err) {
    if (rc) fail_msg("%s: refused: %s", member, err);
    return;
  }
  assert_int_equal(rc, EF_EINVAL);
  if (!strstr(err, want_err)) fail_msg("%s: message \"%s\" lacks \"%s\"", member, err, want_err);
}

static char *repeat(const char *unit, size_t n) {
  size_t ul = strlen(unit);
  char *s = ef_malloc(ul * n + 1);
  for (size_t i = 0; i < n; i++) memcpy(s + i * ul, unit, ul);
  s[ul * n] = '\0';
  return s;
}

/* assert_text on `unit` repeated n times. */
static void assert_repeat(const char *member, const char *unit, size_t n, const char *want_err) {
  char *s = repeat(unit, n);
  assert_text(member, s, want_err);
  ef_free(s);
}

static void test_text_limits(void **state) {
  (void)state;
  assert_repeat("password", "p", 72, NULL);
  assert_repeat("password", "p", 73, "password longer than 72 bytes (bcrypt uses at most 72)");
  assert_repeat("password", "p", 100000, "password longer than 72 bytes");
  assert_repeat("password", "\xc3\xa9", 37, "longer than 72 bytes"); /* 37 é: 74 bytes */
  assert_text("password", "tab\there\x01", NULL);                  /* a secret: any bytes */

  assert_repeat("group_name", "g", REST_MAX_NAME, NULL);
  assert_repeat("group_name", "g", REST_MAX_NAME + 1, "group_name longer than 128 bytes");
  assert_repeat("hardware.sn", "\xe4\xb8\xad", 43, "hardware.sn longer than 128"); /* 129 */
  assert_text("group_name", "caf\xc3\xa9 \xe4\xb8\xad", NULL); /* UTF-8 is fine */
  assert_text("group_name", "a\nb", "group_name contains a control character (U+000A)");
  assert_text("group_name", "a\tb", "(U+0009)");
  assert_text("device_name", "\x1b[31mred", "(U+001B)");
  assert_text("order", "a\x7f", "(U+007F)");
  assert_text("name", "a\xc2\x85", "(U+0085)"); /* C1: NEXT LINE */
  assert_text("name", "a\xc2\xa0", NULL);       /* U+00A0 is not a control */

  assert_repeat("group_description", "d", REST_MAX_TEXT, NULL);
  assert_repeat("dev_description", "d", REST_MAX_TEXT + 1, "longer than 1024 bytes");
  assert_text("group_description", "line 1\r\nline 2\tend", NULL);
  assert_text("group_description", "bell\x07", "only tab, line feed and carriage return");
  assert_repeat("nic", "n", REST_MAX_NIC + 1, "nic longer than 4096 bytes");
  assert_text("nic", "[{\"type\":\"\\n\"}]", NULL);

  char err[128];
  assert_int_equal(rest_text_check("group_name", "devices[3].x", "a\nb", err, sizeof err),
                   EF_EINVAL);
  assert_string_equal(err, "devices[3].x contains a control character (U+000A)");
  assert_int_equal(rest_text_check("no_such_member", NULL, "", err, sizeof err), EF_EINVAL);
}

/* Every device column has a row, and every row a sane limit. */
static void test_limit_table(void **state) {
  (void)state;
#define TEST_DEV_ROW_(col, parent, key)                                          \
  {                                                                              \
    char m[64];                                                                  \
    snprintf(m, sizeof m, "%s%s%s", parent ? (const char *)parent : "",          \
             parent ? "." : "", key);                                            \
    if (!rest_limit_of(m)) fail_msg("device member %s has no limit", m);         \
  }
  STORE_DEVICE_FIELDS(TEST_DEV_ROW_)
#undef TEST_DEV_ROW_
  const char *others[] = {"password", "group_name", "group_description", "name", "order",
                          "nic[].type", "nic[].mac", "nic[].ipv4"};
  for (size_t i = 0; i < sizeof others / sizeof *others; i++)
    assert_non_null(rest_limit_of(others[i]));
  for (const struct rest_limit *l = rest_limits; l->member; l++) {
    assert_true(l->max > 0 && l->max <= REST_MAX_NIC);
    for (const struct rest_limit *k = l + 1; k->member; k++)
      if (!strcmp(l->member, k->member)) fail_msg("%s: two rows", l->member);
  }
}

/* A device body: its members, its password and nic's strings, named with the batch's prefix. */
static void test_check_device(void **state) {
  (void)state;
  request("POST", "device_order/9", OPERATOR, JSON, "{}");
  struct rest_call *c = stub_rest.later;
  char *long_sn = repeat("s", 129);
  struct store_device d = {.hardware_sn = "SN", .hardware_model = "M", .password = "pw",
                           .device_name = "edge", .dev_description = "two\nlines"};
  json_t *body = json_pack("{s:[{s:s, s:s}, {s:s}]}", "nic", "type", "eth", "mac", "aa:bb",
                           "ipv4", "10.0.0.1");
  assert_int_equal(rest_check_device(c, &d, body, NULL), 0);
  assert_null(c->etype);

  d.hardware_sn = long_sn;
  assert_int_equal(rest_check_device(c, &d, body, "devices[4]."), -1);
  assert_int_equal(c->status, 400);
  assert_string_equal(c->emsg, "devices[4].hardware.sn longer than 128 bytes");
  d.hardware_sn = "SN";
  d.password = "p\x01"; /* any byte, within 72 */
  d.device_name = "a\x1b";
  assert_int_equal(rest_check_device(c, &d, body, NULL), -1);
  assert_string_equal(c->emsg, "device_name contains a control character (U+001B)");
  d.device_name = "edge";
  json_object_set_new(json_array_get(json_object_get(body, "nic"), 1), "mac",
                      json_string("a\tb"));
  assert_int_equal(rest_check_device(c, &d, body, NULL), -1);
  assert_string_equal(c->emsg, "nic[1].mac contains a control character (U+0009)");
  json_decref(body);
  ef_free(long_sn);
  rest_finish(c);
  assert_int_equal(req.status, 400);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_404, setup, teardown),
    cmocka_unit_test_setup_teardown(test_405, setup, teardown),
    cmocka_unit_test_setup_teardown(test_401, setup, teardown),
    cmocka_unit_test_setup_teardown(test_403, setup, teardown),
    cmocka_unit_test_setup_teardown(test_400_body, setup, teardown),
    cmocka_unit_test_setup_teardown(test_all_stages, setup, teardown),
    cmocka_unit_test_setup_teardown(test_read_token_and_args, setup, teardown),
    cmocka_unit_test_setup_teardown(test_failed_stage_skips_the_rest, setup, teardown),
    cmocka_unit_test_setup_teardown(test_answer_later, setup, teardown),
    cmocka_unit_test_setup_teardown(test_audit_rows, setup, teardown),
    cmocka_unit_test_setup_teardown(test_store_fail_mapping, setup, teardown),
    cmocka_unit_test_setup_teardown(test_429, setup, teardown),
    cmocka_unit_test_setup_teardown(test_429_not_charged_before_auth, setup, teardown),
    cmocka_unit_test_setup_teardown(test_expired_and_revoked, setup, teardown),
    cmocka_unit_test_setup_teardown(test_call_holds_the_view, setup, teardown),
    cmocka_unit_test_setup_teardown(test_429_before_the_body, setup, teardown),
    cmocka_unit_test_setup_teardown(test_text_limits, setup, teardown),
    cmocka_unit_test_setup_teardown(test_limit_table, setup, teardown),
    cmocka_unit_test_setup_teardown(test_check_device, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
