/* SPDX-License-Identifier: MIT */
/* stubs.h -- the neighbours of a server module, stubbed for its unit test (in the manner of
 * Mosquitto's unit-test stubs). A test executable compiles one module of src/server (plus
 * live.c where the module's subject is the registry's events) together with the stub files of
 * the modules it calls; each stub records what it was asked into a log the test inspects.
 *
 *   net_stubs.c         net_send / net_close / net_req_respond ...: a call log per connection
 *   devlog_stubs.c      devlog_add, devlog_audit: the rows the module would have written
 *   worker_stubs.c      worker_submit: a FIFO the test runs (work() on a store it chooses)
 *   store_stubs.c       a fake struct store whose miner_write / miner_list record and replay rows
 *   live_stubs.c        live_sess_send / live_sess_error for modules that only answer a session
 *   auth_stubs.c        auth_check / auth_identify: two fixed bearer tokens; auth_rate: budgets
 *   join_stubs.c        join_miner_view & co: views set by the test, calls counted
 *   rest_routes_stubs.c the REST route tables rest.c routes through, stages counted
 *   alerting_stubs.c    alerting_alerts: one real alert engine (alert.c) with the default rules
 *
 * Everything runs on the test's one thread; the stubs keep global state, reset by the tests.
 */
#ifndef EF_TEST_STUBS_H
#define EF_TEST_STUBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"

/* ===== net_stubs.c ===== */

/* A connection as the module sees it: opaque there, plain here. */
struct net_conn {
  const char *peer;        /* net_conn_peer(); "test" when NULL */
  uint32_t ip;             /* net_conn_ip() */
  enum net_ws_kind kind;
  int send_rc;             /* what net_send returns (0: accepted) */
  size_t queue_max;        /* set by net_conn_set_queue_max */
  bool closed;             /* net_close was called */
  int close_status;        /* ... with this status and reason (the first call's) */
  char close_reason[128];
};

enum stub_net_op { STUB_NET_SEND, STUB_NET_CLOSE };

struct stub_net_call {
  enum stub_net_op op;
  struct net_conn *conn;
  char *text;              /* SEND: the message (NUL-terminated copy); CLOSE: the reason */
  int status;              /* CLOSE: the WebSocket status */
};

/* Forget every recorded call. */
void stub_net_reset(void);
size_t stub_net_ncalls(void);
const struct stub_net_call *stub_net_call(size_t i);
/* Calls of `op` on `c` (NULL: on any connection). */
size_t stub_net_count(const struct net_conn *c, enum stub_net_op op);
/* The i-th message sent to `c` (0 = first), or NULL. */
const char *stub_net_sent(const struct net_conn *c, size_t i);
/* The last message sent to `c`, or NULL. */
const char *stub_net_last(const struct net_conn *c);
/* The i-th message sent to `c`, parsed (new reference; fails the test when it is not JSON). */
json_t *stub_net_sent_json(const struct net_conn *c, size_t i);

/* An HTTP request as the module sees it. */
struct net_req {
  const char *method;
  const char *path;
  const char *authorization;  /* header values, or NULL when absent */
  const char *content_type;
  const char *body;           /* NULL: "" */
  const char *peer;           /* net_req_peer(); "127.0.0.1" when NULL */
  /* the answer */
  int nresponses;
  int status;
  char *response;             /* copy of the last body (freed by stub_net_req_clear) */
  char header[64];            /* net_req_set_header: "Name: value", or "" */
  char content_type_out[64];  /* net_req_set_content_type, or "" (application/json) */
};
/* Free the recorded answer and zero it. */
void stub_net_req_clear(struct net_req *r);
/* The answer's JSON (new reference; fails the test when there is none or it is not JSON). */
json_t *stub_net_req_json(const struct net_req *r);

/* ===== devlog_stubs.c ===== */

struct stub_devlog_row {
  uint64_t device_id;
  char *event, *detail, *result; /* copies; NULL stays NULL */
};

void stub_devlog_reset(void);
size_t stub_devlog_count(void);
const struct stub_devlog_row *stub_devlog_row(size_t i);
/* Rows with this event (and this device, when not 0). */
size_t stub_devlog_count_event(uint64_t device_id, const char *event);
/* The last row with this event, or NULL. */
const struct stub_devlog_row *stub_devlog_last(const char *event);
/* Hold devlog_sync's callbacks until stub_devlog_commit(rc), which runs them with rc and
 * returns how many there were. stub_devlog_reset() stops holding. */
void stub_devlog_hold(bool hold);
size_t stub_devlog_commit(int rc);

/* devlog_audit's rows (taken, kept until stub_devlog_reset). */
size_t stub_devlog_naudits(void);
const struct store_audit *stub_devlog_audit(size_t i);

/* ===== worker_stubs.c ===== */

/* Drop queued jobs without running them and set the store work() gets from now on. */
void stub_worker_reset(struct store *st);
/* Jobs submitted and not yet run. */
size_t stub_worker_pending(void);
/* Jobs submitted since the last reset. */
size_t stub_worker_submitted(void);
/* Run the queued jobs in order, work() then done(), including those they submit; returns how
 * many ran. */
size_t stub_worker_run(void);

/* ===== store_stubs.c ===== */

/* A store whose only operations are miner_write (records the rows), miner_list (returns the
 * rows given with stub_store_set_list) and errmsg; every other op is NULL. */
struct store *stub_store(void);
/* Forget recorded writes and the list. */
void stub_store_reset(void);
/* The next miner_write records its rows and returns rc (an EF_E* code: the write failed). */
void stub_store_fail_next(int rc);
/* Rows miner_list returns (copied). */
void stub_store_set_list(const struct store_miner *rows, size_t n);
/* miner_write calls, and the rows of the last one. */
size_t stub_store_nwrites(void);
size_t stub_store_nrows(void);
const struct store_miner *stub_store_row(size_t i);
/* The row of the last write for (miner, host) (host NULL: the miner's own row), or NULL. */
const struct store_miner *stub_store_find(const char *miner_id, const char *host);

/* ===== live_stubs.c ===== */

/* A session handle for modules that only answer through live_sess_*: what they send goes to
 * net_send(conn) (so net_stubs.c records it). Free with stub_live_sess_free. */
struct dsess *stub_live_sess_new(struct net_conn *conn, uint64_t device_id);
void stub_live_sess_free(struct dsess *s);

/* ===== auth_stubs.c ===== */

#define STUB_ADMIN_TOKEN "admin-token"
#define STUB_READ_TOKEN "read-token"
#define STUB_OPERATOR_TOKEN "operator-token"
#define STUB_LIMITED_TOKEN "limited-token"  /* an operator limited to group 1 (device 11) */
#define STUB_EXPIRED_TOKEN "expired-token"
#define STUB_ADMIN_SLOT 0
#define STUB_READ_SLOT 1
#define STUB_OPERATOR_SLOT 2
#define STUB_LIMITED_SLOT 3
#define STUB_SLOTS 4
#define STUB_LIMITED_GROUP 1
#define STUB_LIMITED_DEVICE 11
#define STUB_ADMIN_ID 100      /* auth_slot: slot 0 is token 100 "admin", ... */
#define STUB_READ_ID 101       /* ... slot 1 token 101 "read" */
#define STUB_RATE_WAIT_MS 1500 /* what auth_rate answers for a spent budget */
/* auth_check / auth_identify: "Bearer admin-token" is an admin (slot 0), "Bearer read-token" a
 * reader (slot 1), "Bearer operator-token" an operator (slot 2), "Bearer limited-token" an
 * operator limited to group 1 whose one device is 11 (slot 3), "Bearer expired-token"
 * AUTH_EXPIRED, anything else (or a revoked one) AUTH_NONE. Counts calls. auth_rate lets a
 * slot's requests pass while its budget lasts (set by the test; unlimited after a reset),
 * counting one per request that is not a peek, and answers STUB_RATE_WAIT_MS once it is spent.
 * auth_listen keeps its listener; stub_auth_revoke(slot) revokes and tells it. */
void stub_auth_reset(void);
void stub_auth_revoke(size_t slot);
unsigned stub_auth_view_refs(void); /* references to the limited token's view (1: none held) */
size_t stub_auth_calls(void);
void stub_auth_set_budget(size_t slot, long n); /* n < 0: unlimited */
struct stub_auth_rate {
  int peeks, takes, refused;  /* auth_rate calls: peek, counted, answered "wait" */
  int64_t rate, burst;        /* as the last call passed them */
};
const struct stub_auth_rate *stub_auth_rate_of(size_t slot);

/* ===== join_stubs.c ===== */

void stub_join_reset(void);
/* The view join_miner_view / join_miner return for `miner_id` from now on (steals view; NULL:
 * the miner is unknown). join_summaries lists {"minerId"} for each miner with a view. */
void stub_join_set_view(const char *miner_id, json_t *view);
/* join_miner_view calls for `miner_id` (NULL: for any), and join_summaries calls. */
size_t stub_join_view_calls(const char *miner_id);
size_t stub_join_summaries_calls(void);

/* ===== rest_routes_stubs.c ===== */

/* The stages of the test route tables, counted; `last_*` describe the last call that ran one. */
struct stub_rest_stages {
  int pool, db, loop;
  char last_route[64];
  char last_args[2][64];
  char *last_body;          /* the call's body as JSON text, or NULL */
  struct rest_call *later;  /* the call whose loop stage answered REST_LATER */
};
extern struct stub_rest_stages stub_rest;
void stub_rest_reset(void);

#endif
