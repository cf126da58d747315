/* SPDX-License-Identifier: MIT */
/* audit.c -- the audit log's rows (audit.h): which calls, their target and outcome text, and
 * the 429 limiter; the rows go to devlog.c's write-behind batch (devlog_audit). */
#include "audit.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "server.h"

/* 429s recorded per token: at most one a second, the next one counting those left out. */
struct rate_note {
  uint64_t token_id;
  int64_t last_ms;         /* ef_mono_ms() of the last one recorded */
  uint64_t left_out;       /* since then */
};

struct audit {
  struct rate_note *notes; /* one per token that was refused with 429 (a handful) */
  size_t n;
};

int audit_start(struct server *srv) {
  srv->audit = ef_calloc(1, sizeof *srv->audit);
  return 0;
}

void audit_stop(struct server *srv) {
  if (!srv->audit) return;
  ef_free(srv->audit->notes);
  ef_free(srv->audit);
  srv->audit = NULL;
}

bool audit_route_audited(const struct rest_route *r) {
  if (r->reads_only) return false;
  for (const char *p = r->methods; *p;) {
    size_t l = strcspn(p, " ");
    if (l && !(l == 3 && strncmp(p, "GET", 3) == 0)) return true;
    p += l;
    while (*p == ' ') p++;
  }
  return false;
}

/* ----- the target ----- */

struct buf {
  char s[AUDIT_TARGET_MAX];
  size_t len;
  bool cut;
};

static void put(struct buf *b, const char *s, size_t n) {
  if (b->cut) return;
  if (b->len + n >= sizeof b->s - 4) { /* room for "…" and the NUL */
    n = sizeof b->s - 4 - b->len;
    b->cut = true;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  if (b->cut) {
    memcpy(b->s + b->len, "\xe2\x80\xa6", 3);
    b->len += 3;
  }
  b->s[b->len] = '\0';
}

/* An id's text with anything but [A-Za-z0-9._:-] as '?', at most 64 bytes: a target can hold no
 * control character, space, quote or long secret. */
static void put_value(struct buf *b, const json_t *v) {
  char tmp[72];
  const char *s;
  if (json_is_string(v)) {
    s = json_string_value(v);
  } else if (json_is_integer(v)) {
    snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
    s = tmp;
  } else {
    s = json_is_null(v) ? "null" : "?";
  }
  char out[72];
  size_t n = 0;
  for (; s[n] && n < 64; n++) {
    unsigned char ch = (unsigned char)s[n];
    bool ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              ch == '.' || ch == '_' || ch == ':' || ch == '-';
    out[n] = ok ? (char)ch : '?';
  }
  if (s[n]) out[n++] = '~'; /* cut */
  put(b, out, n);
}

static void put_label(struct buf *b, const char *label) {
  if (b->len) put(b, " ", 1);
  put(b, label, strlen(label));
  put(b, "=", 1);
}

/* An array of ids: its count, then the first ones: "3 [1,2,3]". */
static void put_array(struct buf *b, const json_t *arr) {
  char n[24];
  snprintf(n, sizeof n, "%zu [", json_array_size(arr));
  put(b, n, strlen(n));
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    if (i == 8) {
      put(b, ",…", strlen(",…"));
      break;
    }
    if (i) put(b, ",", 1);
    put_value(b, v);
  }
  put(b, "]", 1);
}

/* The members that name what a call acts on, in the order a target shows them. Only these are
 * ever read: no other member (a password, a description, a token) can reach the log. */
static const struct { const char *key, *label; } target_keys[] = {
  {"device_id", "device"}, {"device_ids", "devices"}, {"group_id", "group"},
  {"group_ids", "groups"}, {"token_id", "token"},     {"minerId", "miner"},
  {"hostName", "host"},    {"order", "order"},
  {"rule", "rule"},        {"fingerprint", "alert"}, /* alert_silence, alert_ack */
};

char *audit_target(const char *const *args, int nargs, const json_t *body, const json_t *data) {
  struct buf b = {.len = 0};
  b.s[0] = '\0';
  for (int i = 0; i < nargs; i++)
    if (args[i]) {
      put_label(&b, "arg");
      json_t *s = json_string(args[i]);
      put_value(&b, s);
      json_decref(s);
    }
  for (size_t k = 0; k < sizeof target_keys / sizeof *target_keys; k++) {
    const json_t *v = json_is_object(body) ? json_object_get(body, target_keys[k].key) : NULL;
    if (!v && json_is_object(data) && strcmp(target_keys[k].key, "order") != 0)
      v = json_object_get(data, target_keys[k].key); /* an add: the new id */
    if (!v) continue;
    put_label(&b, target_keys[k].label);
    if (json_is_array(v)) put_array(&b, v);
    else put_value(&b, v);
  }
  /* device_add_batch: the devices are named by the answer's ids; failed, by their count. */
  const json_t *devs = json_is_object(body) ? json_object_get(body, "devices") : NULL;
  if (json_is_array(devs) && !(json_is_object(data) && json_object_get(data, "device_ids"))) {
    char n[48];
    snprintf(n, sizeof n, "%zu", json_array_size(devs));
    put_label(&b, "devices");
    put(&b, n, strlen(n));
  }
  return b.len ? ef_strdup(b.s) : NULL;
}

char *audit_outcome(int status, const char *emsg, const json_t *data) {
  if (status >= 200 && status < 300) {
    const json_t *ok = json_is_object(data) ? json_object_get(data, "succeeded") : NULL;
    const json_t *failed = json_is_object(data) ? json_object_get(data, "failed") : NULL;
    if (json_is_integer(ok) && json_is_integer(failed))
      return ef_asprintf("ok: %lld succeeded, %lld failed", (long long)json_integer_value(ok),
                         (long long)json_integer_value(failed));
    return ef_strdup("ok");
  }
  const char *m = emsg && *emsg ? emsg : "error";
  size_t n = strlen(m);
  if (n < AUDIT_OUTCOME_MAX) return ef_strdup(m);
  /* cut on a character boundary */
  n = AUDIT_OUTCOME_MAX - 4;
  while (n && ((unsigned char)m[n] & 0xC0) == 0x80) n--;
  char *s = ef_malloc(n + 4);
  memcpy(s, m, n);
  memcpy(s + n, "\xe2\x80\xa6", 4);
  return s;
}

/* ----- rows ----- */

static void append(struct server *srv, uint64_t token_id, const char *token_name,
                   const char *route, char *target, int status, char *outcome,
                   struct net_req *req) {
  struct store_audit row = {.time = ef_now_ms(), .token_id = token_id,
                            .token_name = ef_strdup(token_name), .route = ef_strdup(route),
                            .target = target, .status = status, .outcome = outcome,
                            .peer = ef_strdup(net_req_peer(req))};
  if (srv->devlog) devlog_audit(srv->devlog, &row);
  else store_audit_clear(&row); /* a call answered after devlog_stop (shutdown): not recorded */
}

void audit_call(struct rest_call *c) {
  if (!audit_route_audited(c->route)) return;
  char *target = audit_target(c->args, c->route->nargs, c->body, c->etype ? NULL : c->data);
  char *outcome = audit_outcome(c->status, c->etype ? c->emsg : NULL, c->etype ? NULL : c->data);
  append(c->srv, c->token_id, c->token_name, c->route->name, target, c->status, outcome, c->req);
}

void audit_refusal(struct server *srv, struct net_req *req, const struct rest_route *r,
                   size_t slot, int status, const char *msg) {
  if (!audit_route_audited(r)) return;
  const struct auth_token *tok = auth_slot(srv->auth, slot);
  if (!tok) return;
  uint64_t id = tok->token_id;
  const char *name = tok->name;
  char *outcome = NULL;
  if (status == 429) {
    struct audit *a = srv->audit;
    if (!a) return; /* not started: no limiter, so no 429 rows */
    struct rate_note *note = NULL;
    for (size_t i = 0; i < a->n && !note; i++)
      if (a->notes[i].token_id == id) note = &a->notes[i];
    if (!note) {
      a->notes = ef_realloc(a->notes, (a->n + 1) * sizeof *a->notes);
      note = &a->notes[a->n++];
      *note = (struct rate_note){.token_id = id, .last_ms = INT64_MIN};
    }
    int64_t now = ef_mono_ms();
    if (note->last_ms != INT64_MIN && now - note->last_ms < 1000) {
      note->left_out++;
      return;
    }
    note->last_ms = now;
    if (note->left_out)
      outcome = ef_asprintf("too many requests (%llu more refused and not recorded before)",
                            (unsigned long long)note->left_out);
    else
      outcome = ef_strdup("too many requests");
    note->left_out = 0;
  } else {
    outcome = audit_outcome(status, msg, NULL);
  }
  append(srv, id, name, r->name, NULL, status, outcome, req);
}
