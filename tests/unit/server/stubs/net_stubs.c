/* SPDX-License-Identifier: MIT */
/* net_stubs.c -- net.h without sockets: net_send and net_close are recorded in one call log
 * (stubs.h), connections and requests are plain structs the test makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mem.h"
#include "net.h"
#include "stubs.h"

static struct stub_net_call *calls;
static size_t ncalls, cap;

static void record(enum stub_net_op op, struct net_conn *c, const char *text, size_t len,
                   int status) {
  if (ncalls == cap) {
    cap = cap ? cap * 2 : 64;
    calls = ef_realloc(calls, cap * sizeof *calls);
  }
  calls[ncalls++] = (struct stub_net_call){.op = op, .conn = c, .text = ef_strndup(text, len),
                                           .status = status};
}

void stub_net_reset(void) {
  for (size_t i = 0; i < ncalls; i++) ef_free(calls[i].text);
  ef_free(calls);
  calls = NULL;
  ncalls = cap = 0;
}

size_t stub_net_ncalls(void) { return ncalls; }

const struct stub_net_call *stub_net_call(size_t i) { return i < ncalls ? &calls[i] : NULL; }

size_t stub_net_count(const struct net_conn *c, enum stub_net_op op) {
  size_t n = 0;
  for (size_t i = 0; i < ncalls; i++)
    if (calls[i].op == op && (!c || calls[i].conn == c)) n++;
  return n;
}

const char *stub_net_sent(const struct net_conn *c, size_t i) {
  for (size_t k = 0; k < ncalls; k++)
    if (calls[k].op == STUB_NET_SEND && calls[k].conn == c && i-- == 0) return calls[k].text;
  return NULL;
}

const char *stub_net_last(const struct net_conn *c) {
  for (size_t k = ncalls; k-- > 0;)
    if (calls[k].op == STUB_NET_SEND && calls[k].conn == c) return calls[k].text;
  return NULL;
}

json_t *stub_net_sent_json(const struct net_conn *c, size_t i) {
  const char *t = stub_net_sent(c, i);
  assert_non_null(t);
  json_t *v = json_loads(t, 0, NULL);
  assert_non_null(v);
  return v;
}

/* ----- net.h: connections ----- */

int net_send(struct net_conn *c, const char *msg, size_t len) {
  record(STUB_NET_SEND, c, msg, len, 0);
  return c->send_rc;
}

void net_close(struct net_conn *c, int status, const char *reason) {
  record(STUB_NET_CLOSE, c, reason, strlen(reason), status);
  if (c->closed) return;
  c->closed = true;
  c->close_status = status;
  snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
}

const char *net_conn_peer(struct net_conn *c) { return c->peer ? c->peer : "test"; }
uint32_t net_conn_ip(const struct net_conn *c) { return c->ip; }
enum net_ws_kind net_conn_kind(const struct net_conn *c) { return c->kind; }
void net_conn_set_queue_max(struct net_conn *c, size_t bytes) { c->queue_max = bytes; }

/* ----- net.h: requests ----- */

const char *net_req_method(const struct net_req *r) { return r->method; }
const char *net_req_path(const struct net_req *r) { return r->path; }
const char *net_req_query(const struct net_req *r) { (void)r; return ""; }
const char *net_req_peer(const struct net_req *r) { return r->peer ? r->peer : "127.0.0.1"; }

const char *net_req_header(const struct net_req *r, const char *name) {
  if (strcmp(name, "authorization") == 0) return r->authorization;
  if (strcmp(name, "content-type") == 0) return r->content_type;
  return NULL;
}

const char *net_req_body(const struct net_req *r) { return r->body ? r->body : ""; }
size_t net_req_body_len(const struct net_req *r) { return r->body ? strlen(r->body) : 0; }

void net_req_respond(struct net_req *r, int status, const char *body, size_t len) {
  r->nresponses++;
  r->status = status;
  ef_free(r->response);
  r->response = ef_strndup(body, len);
}

void net_req_set_header(struct net_req *r, const char *name, const char *value) {
  snprintf(r->header, sizeof r->header, "%s: %s", name, value);
}

void net_req_set_content_type(struct net_req *r, const char *type) {
  snprintf(r->content_type_out, sizeof r->content_type_out, "%s", type);
}

void stub_net_req_clear(struct net_req *r) {
  ef_free(r->response);
  r->response = NULL;
  r->nresponses = 0;
  r->status = 0;
  r->header[0] = '\0';
}

json_t *stub_net_req_json(const struct net_req *r) {
  assert_non_null(r->response);
  json_t *v = json_loads(r->response, 0, NULL);
  assert_non_null(v);
  return v;
}
