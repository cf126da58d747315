/* SPDX-License-Identifier: MIT */
/* test_login.c -- the login pipeline (src/server/login.c) with the database thread stubbed (jobs
 * run on the test's thread against a real in-memory SQLite store) and real bcrypt at the lowest
 * cost on the uv thread pool: first messages refused synchronously with the protocol's strings,
 * password and token logins, session tokens issued and saved, cancels before completion (done
 * never called), the bcrypt FIFO's bcrypt_queue_max refusal and shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "crypto.h"
#include "id.h"
#include "login.h"
#include "peers.h"
#include "server.h"
#include "stubs.h"
#include "wire.h"

#define DEV 1001
#define TTL (3600 * 1000)

#define IP_A 0x7f000001u /* 127.0.0.1 */
#define IP_B 0x7f000002u

static const unsigned char key[EF_SECRET_LEN] = "0123456789abcdef0123456789abcdef";
static struct server srv;
static uv_loop_t loop;
static uint32_t from = IP_A; /* the address of the logins start() makes */
static struct store *st;
static struct logins *q;

/* ----- what `done` was told ----- */

struct result {
  int calls;
  uint64_t device_id;
  char error[128];         /* "" on success */
  char token[EF_TOKEN_STRLEN];
  int64_t token_expires;
};

static struct result res[8];
static int nres;

static void on_done(void *ud, const struct login_result *r) {
  struct result *o = ud;
  o->calls++;
  o->device_id = r->device_id;
  snprintf(o->error, sizeof o->error, "%s", r->error ? r->error : "");
  snprintf(o->token, sizeof o->token, "%s", r->token ? r->token : "");
  o->token_expires = r->token_expires;
}

/* Start a login; returns its result slot (the request is in *req when req is not NULL). */
static struct result *start(const char *msg, struct login_req **req) {
  assert_true(nres < 8);
  struct result *o = &res[nres++];
  const char *error = NULL;
  struct login_req *r = login_start(q, from, msg, strlen(msg), on_done, o, &error);
  assert_non_null(r);
  assert_null(error);
  if (req) *req = r;
  return o;
}

/* Run the database jobs and the thread pool until nothing is left. */
static void run_all(void) {
  for (int i = 0; i < 500; i++) {
    stub_worker_run();
    if (!uv_loop_alive(&loop)) break;
    uv_run(&loop, UV_RUN_ONCE);
  }
  assert_int_equal(stub_worker_pending(), 0);
}

static void refused(const char *msg, const char *want) {
  const char *error = NULL;
  struct result o = {0};
  assert_null(login_start(q, from, msg, strlen(msg), on_done, &o, &error));
  assert_non_null(error);
  assert_string_equal(error, want);
  assert_int_equal(o.calls, 0);
}

/* ----- fixture: one device, SN1/M1, password "pw" ----- */

static int setup(void **state) {
  (void)state;
  char err[256], hash[EF_BCRYPT_MAXLEN];
  assert_int_equal(store_open("sqlite::memory:", &st, err, sizeof err), 0);
  assert_int_equal(crypto_bcrypt_hash("pw", 4, hash), 0);
  struct store_device d = {.device_id = DEV, .device_name = (char *)"d1",
                           .hardware_sn = (char *)"SN1", .hardware_model = (char *)"M1",
                           .password = hash};
  assert_int_equal(st->ops->device_add(st, &d), 0);

  memset(&srv, 0, sizeof srv);
  assert_int_equal(uv_loop_init(&loop), 0);
  srv.loop = &loop;
  srv.cfg.token_ttl = TTL;
  srv.cfg.bcrypt_jobs = 1;
  srv.cfg.bcrypt_queue_max = 4;
  stub_worker_reset(st);
  q = logins_new(&srv, key);
  from = IP_A;
  memset(res, 0, sizeof res);
  nres = 0;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  run_all();
  logins_free(&q);
  assert_null(q);
  peers_free(&srv.peers);
  assert_int_equal(uv_loop_close(&loop), 0);
  store_close(&st);
  return 0;
}

static void stored_token(char out[EF_SHA256_HEXLEN], int64_t *expiry) {
  struct store_device d = {0};
  assert_int_equal(st->ops->device_get(st, DEV, &d), 0);
  snprintf(out, EF_SHA256_HEXLEN, "%s", d.token_hash ? d.token_hash : "");
  if (expiry) *expiry = d.token_expiry;
  store_device_clear(&d);
}

/* ----- refused at once ----- */

static void test_bad_first_messages(void **state) {
  (void)state;
  refused("not json", WIRE_MSG_INVALID_JSON);
  refused("[1,2]", WIRE_MSG_INVALID_JSON);
  refused("", WIRE_MSG_INVALID_JSON);
  refused("{\"device_id\":\"1001\"}", WIRE_MSG_NO_PASSWORD);
  refused("{\"device_sn\":\"SN1\",\"device_model\":\"M1\"}", WIRE_MSG_NO_PASSWORD);
  refused("{\"password\":5,\"device_id\":\"1001\"}", "password must be a string");
  refused("{\"password\":\"pw\"}", WIRE_MSG_MISSING_PARAMS);
  refused("{\"password\":\"pw\",\"device_sn\":\"SN1\"}", WIRE_MSG_MISSING_PARAMS);
  refused("{\"token\":\"t\",\"device_sn\":\"SN1\",\"device_model\":\"M1\"}",
          "a token login needs device_id");
  refused("{\"password\":\"pw\",\"device_id\":\"abc\"}", WIRE_MSG_NOT_FOUND);
  refused("{\"password\":\"pw\",\"device_id\":true}", "device_id must be a string");
  refused("{\"password\":\"pw\",\"device_id\":0}", "device_id must be a string");
  assert_int_equal(stub_worker_submitted(), 0); /* nothing started */
  assert_int_equal(logins_waiting(q), 0);
}

/* ----- logins ----- */

static void test_password_login(void **state) {
  (void)state;
  struct result *a = start("{\"password\":\"pw\",\"device_sn\":\"SN1\",\"device_model\":\"M1\"}",
                           NULL);
  struct result *b = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", NULL);
  struct result *c = start("{\"password\":\"pw\",\"device_id\":1001}", NULL);
  assert_int_equal(a->calls + b->calls + c->calls, 0); /* never synchronous */
  int64_t t0 = ef_now_ms();
  run_all();
  for (struct result *r = a; r <= c; r++) {
    assert_int_equal(r->calls, 1);
    assert_string_equal(r->error, "");
    assert_int_equal(r->device_id, DEV);
    assert_int_equal(strlen(r->token), EF_TOKEN_STRLEN - 1);
    assert_true(r->token_expires >= t0 + TTL);
  }
  /* the last token issued is the one stored, as its hash */
  char h[EF_SHA256_HEXLEN], want[EF_SHA256_HEXLEN];
  int64_t expiry = 0;
  stored_token(h, &expiry);
  crypto_sha256_hex(c->token, strlen(c->token), want);
  assert_string_equal(h, want);
  assert_int_equal(expiry, c->token_expires);
}

static void test_wrong_password(void **state) {
  (void)state;
  struct result *a = start("{\"password\":\"nope\",\"device_id\":\"1001\"}", NULL);
  run_all();
  assert_int_equal(a->calls, 1);
  assert_string_equal(a->error, WIRE_MSG_BAD_PASSWORD);
  assert_int_equal(a->device_id, DEV); /* found: the device log gets the failure */
  assert_string_equal(a->token, "");
  assert_int_equal(stub_worker_submitted(), 1); /* the lookup only: no token saved */
}

/* After a bcrypt check the device keeps HMAC(key, password); later password logins are checked
 * against it on the database thread, with no bcrypt: done comes with the lookup alone. */
static void test_verifier(void **state) {
  (void)state;
  struct result *a = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", NULL);
  run_all();
  assert_string_equal(a->error, "");
  char want[EF_SHA256_HEXLEN + 9], kh[EF_SHA256_HEXLEN];
  crypto_sha256_hex((const char *)key, sizeof key, kh);
  snprintf(want, 10, "%.8s:", kh); /* the key's id, then the HMAC */
  crypto_hmac_sha256_hex(key, sizeof key, "pw", 2, want + 9);
  struct store_device d = {0};
  assert_int_equal(st->ops->device_get(st, DEV, &d), 0);
  assert_non_null(d.pw_verifier);
  assert_string_equal(d.pw_verifier, want);
  store_device_clear(&d);

  struct result *b = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", NULL);
  struct result *c = start("{\"password\":\"guess\",\"device_id\":\"1001\"}", NULL);
  stub_worker_run(); /* the lookups; no thread pool */
  assert_int_equal(b->calls, 1);
  assert_string_equal(b->error, "");
  assert_int_equal(strlen(b->token), EF_TOKEN_STRLEN - 1);
  assert_int_equal(c->calls, 1);
  assert_string_equal(c->error, WIRE_MSG_BAD_PASSWORD);

  /* A verifier made with another key (the key file replaced) counts as absent: bcrypt, and a
   * new verifier with the current key. */
  assert_int_equal(st->ops->device_set_verifier(st, DEV, "00000000:ffff"), 0);
  struct result *k = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", NULL);
  stub_worker_run();
  assert_int_equal(k->calls, 0); /* waiting for bcrypt */
  run_all();
  assert_string_equal(k->error, "");
  assert_int_equal(st->ops->device_get(st, DEV, &d), 0);
  assert_string_equal(d.pw_verifier, want);
  store_device_clear(&d);

  /* A new password (set through the store, as device_update does) forgets the verifier: the
   * old password no longer gets in, the new one does (through bcrypt again). */
  char hash[EF_BCRYPT_MAXLEN];
  assert_int_equal(crypto_bcrypt_hash("pw2", 4, hash), 0);
  struct store_device patch = {.device_id = DEV, .password = hash, .updated_time = 1};
  assert_int_equal(st->ops->device_update(st, &patch), 0);
  struct result *old = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", NULL);
  struct result *neu = start("{\"password\":\"pw2\",\"device_id\":\"1001\"}", NULL);
  run_all();
  assert_string_equal(old->error, WIRE_MSG_BAD_PASSWORD);
  assert_string_equal(neu->error, "");
}

/* Failed password logins count against their address: past login_failures_max its password
 * logins are refused at once; its token logins and other addresses are not. */
static void test_address_backoff(void **state) {
  (void)state;
  srv.cfg.login_failures_max = 3;
  srv.cfg.login_backoff = 60000;
  srv.peers = peers_new(&(struct peer_limits){.max_connections = 100, .connection_rate = 100,
                                              .max_handshakes = 100, .failures_max = 3,
                                              .failure_window = 60000, .backoff = 60000});
  for (int i = 0; i < 3; i++) {
    struct result *r = start(i == 1 ? "{\"password\":\"x\",\"device_id\":\"999\"}"
                                    : "{\"password\":\"x\",\"device_id\":\"1001\"}", NULL);
    run_all();
    assert_int_equal(r->calls, 1);
    assert_true(r->error[0]);
  }
  refused("{\"password\":\"pw\",\"device_id\":\"1001\"}",
          "too many failed logins from this address, try again later");
  /* a token login from the same address is still looked up (and here fails on its token) */
  struct result *t = start("{\"token\":\"abc\",\"device_id\":\"1001\"}", NULL);
  run_all();
  assert_string_equal(t->error, "invalid or expired token");
  from = IP_B;
  struct result *b = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", NULL);
  run_all();
  assert_string_equal(b->error, "");
}

static void test_unknown_device(void **state) {
  (void)state;
  struct result *a = start("{\"password\":\"pw\",\"device_id\":\"999\"}", NULL);
  struct result *b = start("{\"password\":\"pw\",\"device_sn\":\"SN9\",\"device_model\":\"M1\"}",
                           NULL);
  run_all();
  assert_int_equal(a->calls, 1);
  assert_string_equal(a->error, WIRE_MSG_NOT_FOUND);
  assert_int_equal(a->device_id, 0);
  assert_string_equal(b->error, WIRE_MSG_NOT_FOUND);
}

static void test_token_login(void **state) {
  (void)state;
  struct result *a = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", NULL);
  run_all();
  char msg[256];
  snprintf(msg, sizeof msg, "{\"token\":\"%s\",\"device_id\":\"1001\"}", a->token);
  struct result *b = start(msg, NULL);
  run_all();
  assert_int_equal(b->calls, 1);
  assert_string_equal(b->error, "");
  assert_int_equal(b->device_id, DEV);
  assert_string_equal(b->token, ""); /* a fresh token is kept */

  /* past half its life: a new one */
  char h[EF_SHA256_HEXLEN];
  crypto_sha256_hex(a->token, strlen(a->token), h);
  assert_int_equal(st->ops->device_set_token(st, DEV, h, ef_now_ms() + TTL / 4), 0);
  struct result *c = start(msg, NULL);
  run_all();
  assert_string_equal(c->error, "");
  assert_int_equal(strlen(c->token), EF_TOKEN_STRLEN - 1);
  assert_string_not_equal(c->token, a->token);

  /* the old token is no longer the stored one; with a password the login goes on to bcrypt */
  struct result *d = start(msg, NULL);
  snprintf(msg, sizeof msg, "{\"token\":\"%s\",\"password\":\"pw\",\"device_id\":\"1001\"}",
           a->token);
  struct result *e = start(msg, NULL);
  run_all();
  assert_string_equal(d->error, "invalid or expired token");
  assert_string_equal(e->error, "");

  /* expired */
  crypto_sha256_hex(e->token, strlen(e->token), h);
  assert_int_equal(st->ops->device_set_token(st, DEV, h, ef_now_ms() - 1), 0);
  snprintf(msg, sizeof msg, "{\"token\":\"%s\",\"device_id\":\"1001\"}", e->token);
  struct result *f = start(msg, NULL);
  run_all();
  assert_string_equal(f->error, "invalid or expired token");
}

/* ----- cancel ----- */

static void test_cancel_before_lookup(void **state) {
  (void)state;
  struct login_req *r;
  struct result *a = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", &r);
  login_cancel(r);
  login_cancel(r); /* twice is fine */
  run_all();
  assert_int_equal(a->calls, 0);
  assert_int_equal(stub_worker_submitted(), 1); /* no token issued, none saved */
  char h[EF_SHA256_HEXLEN];
  stored_token(h, NULL);
  assert_string_equal(h, "");
}

static void test_cancel_in_bcrypt(void **state) {
  (void)state;
  struct login_req *ra, *rb;
  struct result *a = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", &ra);
  struct result *b = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", &rb);
  struct result *c = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", NULL);
  stub_worker_run(); /* lookups: a hashes (bcrypt_jobs 1), b and c wait */
  assert_int_equal(logins_waiting(q), 2);
  login_cancel(ra); /* running: its result is thrown away */
  login_cancel(rb); /* waiting: no longer counts, never hashed */
  assert_int_equal(logins_waiting(q), 1);
  run_all();
  assert_int_equal(a->calls, 0);
  assert_int_equal(b->calls, 0);
  assert_int_equal(c->calls, 1);
  assert_string_equal(c->error, "");
  assert_int_equal(logins_waiting(q), 0);
}

/* ----- the bcrypt FIFO's bound ----- */

static void test_queue_max(void **state) {
  (void)state;
  srv.cfg.bcrypt_queue_max = 1;
  struct result *r[4];
  for (int i = 0; i < 4; i++) r[i] = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", NULL);
  stub_worker_run(); /* 0 hashes, 1 waits, 2 and 3 are refused at once */
  assert_int_equal(logins_waiting(q), 1);
  assert_int_equal(r[0]->calls + r[1]->calls, 0);
  for (int i = 2; i < 4; i++) {
    assert_int_equal(r[i]->calls, 1);
    assert_string_equal(r[i]->error, "server busy, try again later");
    assert_int_equal(r[i]->device_id, DEV);
  }
  run_all();
  assert_string_equal(r[0]->error, "");
  assert_string_equal(r[1]->error, "");
  assert_int_equal(logins_waiting(q), 0);

  /* a cancelled waiter frees its place (the verifier the logins above left would spare these
   * logins the queue: forget it) */
  assert_int_equal(st->ops->device_set_verifier(st, DEV, NULL), 0);
  struct login_req *rq;
  struct result *a = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", NULL);
  struct result *b = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", &rq);
  stub_worker_run();
  login_cancel(rq);
  struct result *c = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", NULL);
  stub_worker_run();
  assert_int_equal(c->calls, 0); /* waiting, not refused */
  run_all();
  assert_string_equal(a->error, "");
  assert_int_equal(b->calls, 0);
  assert_string_equal(c->error, "");
}

static void test_stopping(void **state) {
  (void)state;
  struct result *a = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", NULL);
  stub_worker_run(); /* hashing */
  struct login_req *rb;
  struct result *b = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", &rb);
  stub_worker_run(); /* waiting */
  logins_stop(q);
  struct result *c = start("{\"password\":\"pw\",\"device_id\":\"1001\"}", NULL);
  stub_worker_run();
  assert_int_equal(c->calls, 1);
  assert_string_equal(c->error, "server shutting down");
  run_all();
  assert_int_equal(a->calls, 1); /* what was hashing finishes */
  assert_int_equal(b->calls, 0); /* what waits, waits for its cancel */
  login_cancel(rb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_bad_first_messages, setup, teardown),
    cmocka_unit_test_setup_teardown(test_password_login, setup, teardown),
    cmocka_unit_test_setup_teardown(test_wrong_password, setup, teardown),
    cmocka_unit_test_setup_teardown(test_unknown_device, setup, teardown),
    cmocka_unit_test_setup_teardown(test_verifier, setup, teardown),
    cmocka_unit_test_setup_teardown(test_address_backoff, setup, teardown),
    cmocka_unit_test_setup_teardown(test_token_login, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cancel_before_lookup, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cancel_in_bcrypt, setup, teardown),
    cmocka_unit_test_setup_teardown(test_queue_max, setup, teardown),
    cmocka_unit_test_setup_teardown(test_stopping, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
