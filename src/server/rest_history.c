/* SPDX-License-Identifier: MIT */
/* rest_history.c -- the REST routes that read the history (history.h, docs/api.md#history):
 * device_history_query/<device_id> and miner_history_query/<minerId>, each with the range in
 * the query string: ?from=&to=&step= (ms; to defaults to no bound, from to an hour before to or
 * now, step to 0: the points as stored). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "history.h"
#include "id.h"
#include "mem.h"
#include "rest.h"
#include "wire.h"

#define HOUR_MS (3600LL * 1000)

struct hq {
  int64_t from, to, step;
  char *owner;
};

static void hq_free(void *p) {
  struct hq *q = p;
  ef_free(q->owner);
  ef_free(q);
}

/* A non-negative integer of at most 15 digits. */
static bool parse_ms(const char *s, int64_t *out) {
  size_t d = strspn(s, "0123456789");
  if (d == 0 || d > 15 || s[d]) return false;
  *out = strtoll(s, NULL, 10);
  return true;
}

/* The query's from, to and step into a new struct hq (c->priv); false with the 400 set. */
static bool parse_range(struct rest_call *c) {
  struct hq *q = ef_calloc(1, sizeof *q);
  c->priv = q;
  c->priv_free = hq_free;
  bool has_from = false, has_to = false;
  char *args = ef_strdup(net_req_query(c->req)), *save = NULL;
  bool ok = true;
  for (char *kv = strtok_r(args, "&", &save); kv && ok; kv = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(kv, '=');
    const char *val = eq ? eq + 1 : "";
    if (eq) *eq = '\0';
    int64_t v = 0;
    bool known = strcmp(kv, "from") == 0 || strcmp(kv, "to") == 0 || strcmp(kv, "step") == 0;
    if (!known) {
      rest_fail(c, 400, REST_GENERAL, "unknown query argument \"%.64s\" (from, to, step)", kv);
      ok = false;
    } else if (!parse_ms(val, &v)) {
      rest_fail(c, 400, REST_GENERAL, "%s must be a time in ms (a non-negative integer)", kv);
      ok = false;
    } else if (strcmp(kv, "from") == 0) {
      q->from = v, has_from = true;
    } else if (strcmp(kv, "to") == 0) {
      q->to = v, has_to = true;
    } else {
      q->step = v;
    }
  }
  ef_free(args);
  if (!ok) return false;
  int64_t end = has_to ? q->to : ef_now_ms();
  if (!has_to) q->to = INT64_MAX; /* no bound: what is stored up to now, all of it */
  if (!has_from) q->from = end > HOUR_MS ? end - HOUR_MS : 0;
  if (q->from >= q->to) {
    rest_fail(c, 400, REST_GENERAL, "from must be before to");
    return false;
  }
  return true;
}

static void read_done(void *ud, int rc, json_t *answer) {
  struct rest_call *c = ud;
  if (rc) rest_db_fail(c, rc, "history");
  else rest_ok(c, answer);
  rest_finish(c);
}

/* ----- device_history_query/<device_id> ----- */

static int device_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_arg_id(c, 0, "device_id");
  if (!id) return REST_NEXT;
  if (!rest_sees_device(c, id)) return rest_fail(c, 404, REST_DEVICEOP, "DEVICE NOT FOUND.");
  struct store_device d = {0};
  int rc = st->ops->device_get(st, id, &d);
  store_device_clear(&d);
  if (rc) return rest_store_fail(c, rc, REST_DEVICEOP, "DEVICE", st);
  return REST_NEXT;
}

static int device_loop(struct rest_call *c) {
  if (!parse_range(c)) return REST_NEXT;
  struct hq *q = c->priv;
  uint64_t id = 0;
  id_parse(c->args[0], &id);
  q->owner = ef_asprintf("d:%llu", (unsigned long long)id);
  history_read(c->srv, q->owner, q->from, q->to, q->step, read_done, c);
  return REST_LATER;
}

/* ----- miner_history_query/<minerId> ----- */

static int miner_loop(struct rest_call *c) {
  struct miner_info mi;
  if (!miner_lookup(c->srv->miners, c->args[0], &mi) || !rest_sees_device(c, mi.device_id))
    return rest_fail(c, 404, REST_GENERAL, WIRE_MSG_MINER_NOT_FOUND);
  if (!parse_range(c)) return REST_NEXT;
  struct hq *q = c->priv;
  q->owner = ef_asprintf("m:%s", c->args[0]);
  history_read(c->srv, q->owner, q->from, q->to, q->step, read_done, c);
  return REST_LATER;
}

const struct rest_route rest_history_routes[] = {
  {"GET", "device_history_query", 1, REST_READ, NULL, device_db, device_loop},
  {"GET", "miner_history_query", 1, REST_READ, NULL, NULL, miner_loop},
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
