/* SPDX-License-Identifier: MIT */
/* parse_node.c -- the node-level outputs the miner record needs besides `info`
 * (docs/lotus.md#addresses-messages-and-network):
 *   `lotus-miner actor control list [--verbose]`  name / ID / key / use / balance table
 *                                                  (owner, worker, beneficiary, control-N)
 *   `lotus mpool pending --local`                  a stream of indented JSON SignedMessages
 *   `lotus-miner net id`, `lotus-miner net listen`  a peer id; multiaddrs ".../p2p/<id>"
 */
#include <string.h>

#include "lotus_internal.h"
#include "lotus_parse.h"

#define MAX_ADDRESSES 64   /* control list rows kept */
#define MAX_FROM 1000      /* distinct senders counted one by one in mpool output */
#define MAX_MULTIADDRS 64

/* ---- actor control list ---------------------------------------------------------------------- */

/* An f0/t0... or f1/f2/f3/f4 address (the "key" may end in "..." when cut). */
static bool is_address(const char *s, size_t n) {
  if (n < 3 || (s[0] != 'f' && s[0] != 't') || s[1] < '0' || s[1] > '4') return false;
  for (size_t i = 2; i < n; i++) {
    char ch = s[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || ch == '.')) return false;
  }
  return true;
}

struct control {
  json_t *list, *controls;
};

static void control_line(struct lotus_ctx *c, struct lotus_line *l, void *ud) {
  struct control *ct = ud;
  const char *t = l->s;
  size_t tn = l->n;
  lotus_trim(&t, &tn);
  if (tn == 0) return;
  if (lotus_prefix(t, tn, "ERROR:")) {
    lotus_error(c, "lotus-miner: %.*s", (int)(tn > 200 ? 200 : tn), t);
    return;
  }
  const char *tok[4];
  size_t tokn[4];
  unsigned k = lotus_split_ws(t, tn, tok, tokn, 3);
  if (k >= 2 && tokn[0] == 4 && memcmp(tok[0], "name", 4) == 0) return; /* header */
  /* "owner  f01234: error getting actor: ..." (printed before the table) */
  if (k >= 2 && tokn[1] > 1 && tok[1][tokn[1] - 1] == ':') {
    lotus_error(c, "%.*s", (int)(tn > 200 ? 200 : tn), t);
    return;
  }
  if (k < 2 || !is_address(tok[1], tokn[1])) {
    lotus_unrecognised(c, t, tn);
    return;
  }
  if (json_array_size(ct->list) >= MAX_ADDRESSES) return;
  json_t *row = json_object();
  lotus_set_str(row, "name", tok[0], tokn[0]);
  lotus_set_str(row, "id", tok[1], tokn[1]);
  if (k >= 3 && is_address(tok[2], tokn[2])) {
    bool cut = tokn[2] > 3 && memcmp(tok[2] + tokn[2] - 3, "...", 3) == 0;
    if (cut) json_object_set_new(row, "keyPrefix", lotus_jstr(tok[2], tokn[2] - 3));
    else lotus_set_str(row, "key", tok[2], tokn[2]);
  }
  json_array_append_new(ct->list, row);
  const char *name = tok[0];
  size_t nn = tokn[0];
  if (nn == 5 && memcmp(name, "owner", 5) == 0) lotus_set_str(c->root, "owner", tok[1], tokn[1]);
  else if (nn == 6 && memcmp(name, "worker", 6) == 0)
    lotus_set_str(c->root, "worker", tok[1], tokn[1]);
  else if (nn == 11 && memcmp(name, "beneficiary", 11) == 0)
    lotus_set_str(c->root, "beneficiary", tok[1], tokn[1]);
  else if (lotus_prefix(name, nn, "control"))
    json_array_append_new(ct->controls, lotus_jstr(tok[1], tokn[1]));
}

json_t *ef_lotus_parse_control(const char *buf, size_t len) {
  struct lotus_ctx c;
  lotus_ctx_init(&c);
  struct control ct = {.list = json_array(), .controls = json_array()};
  lotus_each_line(&c, buf, len, control_line, &ct);
  json_object_set_new(c.root, "addresses", ct.list);
  json_object_set_new(c.root, "control", ct.controls);
  return lotus_finish(&c);
}

/* ---- mpool pending --------------------------------------------------------------------------- */

json_t *ef_lotus_parse_mpool(const char *buf, size_t len) {
  struct lotus_ctx c;
  lotus_ctx_init(&c);
  json_t *from = json_object();
  json_int_t count = 0, other = 0;
  size_t at = 0, counted = 0; /* newlines before `counted` are in c.lineno */
  c.lineno = 1;
  while (at < len) {
    /* the next value starts at a '{' (or '"' for --cids) at the start of a line */
    while (at < len && (buf[at] == ' ' || buf[at] == '\t' || buf[at] == '\r' || buf[at] == '\n'))
      at++;
    if (at >= len) break;
    for (; counted < at; counted++)
      if (buf[counted] == '\n') c.lineno++;
    json_error_t err;
    json_t *v = NULL;
    if (buf[at] == '{') v = json_loadb(buf + at, len - at, JSON_DISABLE_EOF_CHECK, &err);
    if (!v) {
      const char *nl = memchr(buf + at, '\n', len - at);
      size_t end = nl ? (size_t)(nl - buf) : len;
      lotus_unrecognised(&c, buf + at, end - at);
      at = end;
      continue;
    }
    at += err.position > 0 ? (size_t)err.position : 1;
    json_t *msg = json_object_get(v, "Message");
    if (!json_is_object(msg)) msg = v; /* an unsigned message */
    json_t *f = json_object_get(msg, "From");
    if (json_is_string(f)) {
      count++;
      const char *a = json_string_value(f);
      json_t *n = json_object_get(from, a);
      if (n) json_integer_set(n, json_integer_value(n) + 1);
      else if (json_object_size(from) < MAX_FROM && is_address(a, strlen(a)))
        json_object_set_new(from, a, json_integer(1));
      else other++;
    } else {
      lotus_error(&c, "a JSON value without Message.From");
    }
    json_decref(v);
  }
  json_object_set_new(c.root, "messages", json_integer(count));
  json_object_set_new(c.root, "from", from);
  if (other) json_object_set_new(c.root, "fromOther", json_integer(other));
  return lotus_finish(&c);
}

/* ---- net id / net listen --------------------------------------------------------------------- */

static bool is_peer_id(const char *s, size_t n) {
  if (n < 40 || n > 128) return false;
  if (!lotus_prefix(s, n, "12D3Koo") && !lotus_prefix(s, n, "Qm") && !lotus_prefix(s, n, "16U"))
    return false;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    bool b58 = (ch >= '1' && ch <= '9') || (ch >= 'A' && ch <= 'Z' && ch != 'I' && ch != 'O') ||
               (ch >= 'a' && ch <= 'z' && ch != 'l');
    if (!b58) return false;
  }
  return true;
}

static void net_line(struct lotus_ctx *c, struct lotus_line *l, void *ud) {
  json_t *addrs = ud;
  const char *t = l->s;
  size_t tn = l->n;
  lotus_trim(&t, &tn);
  if (tn == 0) return;
  if (lotus_prefix(t, tn, "ERROR:")) {
    lotus_error(c, "lotus-miner: %.*s", (int)(tn > 200 ? 200 : tn), t);
    return;
  }
  if (is_peer_id(t, tn)) {
    lotus_set_str(c->root, "peerId", t, tn);
    return;
  }
  if (t[0] == '/' && !memchr(t, ' ', tn)) {
    if (json_array_size(addrs) < MAX_MULTIADDRS) json_array_append_new(addrs, lotus_jstr(t, tn));
    const char *p = memmem(t, tn, "/p2p/", 5);
    if (p && !json_object_get(c->root, "peerId")) {
      const char *id = p + 5;
      size_t idn = tn - (size_t)(id - t);
      if (is_peer_id(id, idn)) lotus_set_str(c->root, "peerId", id, idn);
    }
    return;
  }
  lotus_unrecognised(c, t, tn);
}

json_t *ef_lotus_parse_net(const char *buf, size_t len) {
  struct lotus_ctx c;
  lotus_ctx_init(&c);
  json_t *addrs = json_array();
  lotus_each_line(&c, buf, len, net_line, addrs);
  json_object_set_new(c.root, "multiaddrs", addrs);
  return lotus_finish(&c);
}
