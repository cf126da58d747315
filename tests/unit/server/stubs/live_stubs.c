/* SPDX-License-Identifier: MIT */
/* live_stubs.c -- the session calls of live.h for modules that only answer the device that
 * wrote to them (miner.c): what they send goes to net_send on the session's connection, so
 * net_stubs.c records it. The registry itself is not here; tests of registry events link
 * live.c instead. */
#include <string.h>

#include "dsess.h"
#include "jsonutil.h"
#include "live.h"
#include "mem.h"
#include "stubs.h"
#include "wire.h"

struct dsess *stub_live_sess_new(struct net_conn *conn, uint64_t device_id) {
  struct dsess *s = ef_calloc(1, sizeof *s);
  s->conn = conn;
  s->device_id = device_id;
  s->phase = PH_READY;
  s->state = DEV_ONLINE;
  return s;
}

void stub_live_sess_free(struct dsess *s) { ef_free(s); }

uint64_t live_sess_device(const struct dsess *s) { return s->device_id; }

int live_sess_send(struct dsess *s, const char *msg, size_t len) {
  return net_send(s->conn, msg, len);
}

void live_sess_send_json(struct dsess *s, json_t *v) {
  char *txt = jdump_decref(v);
  live_sess_send(s, txt, strlen(txt));
  ef_free(txt);
}

void live_sess_error(struct dsess *s, const char *message) {
  live_sess_send_json(s, json_pack("{s:s, s:{}, s:{s:s}}", "type", WIRE_ERROR, "Headers", "data",
                                   "message", message));
}
