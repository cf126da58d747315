/* SPDX-License-Identifier: MIT */
/* rest_live.c -- REST routes over live device state: status, give_order, group_give_order. */
#include <string.h>

#include "cluster.h"
#include "device_json.h"
#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "mem.h"
#include "rest.h"
#include "wire.h"

static void views_rebuilt(void *ud) {
  struct rest_call *c = ud;
  front_devices_changed(c->srv);
  rest_finish(c);
}

int rest_devices_changed(struct rest_call *c) {
  if (c->etype) return REST_NEXT;
  cluster_announce(c->srv, CLUSTER_DEVICES, 0, NULL, NULL);
  /* Answer once group-limited tokens see the change: a next request sees it too, and so do
   * the dashboards' lists fetched again. */
  if (auth_views_refresh(c->srv->auth, views_rebuilt, c)) return REST_LATER;
  front_devices_changed(c->srv);
  return REST_NEXT;
}

int rest_live_state(struct rest_call *c) {
  if (c->data) live_overlay_state(c->srv->live, c->data);
  return REST_NEXT;
}

/* ----- device_statusInfo_query/<device_id> ----- */

static int status_loop(struct rest_call *c) {
  uint64_t id = rest_arg_id(c, 0, "device_id");
  if (!id) return REST_NEXT;
  if (!rest_sees_device(c, id) || live_status_time(c->srv->live, id) <= 0)
    return rest_fail(c, 404, REST_DEVICEOP, WIRE_MSG_NO_STATUS);
  return rest_ok(c, live_status(c->srv->live, id));
}

/* ----- give_order {device_id, order, params?} ----- */

struct order_req {
  uint64_t target;   /* device or group id */
  const char *order; /* borrowed from the body */
  json_t *params;    /* borrowed from the body, or NULL */
  uint64_t *ids;     /* group members */
  size_t n, pending, ok;
  size_t unlogged;   /* orders whose device-log rows could not be stored */
  int log_rc;        /* the store error that lost them */
  json_t *results;
};

static void order_req_free(void *p) {
  struct order_req *o = p;
  ef_free(o->ids);
  if (o->results) json_decref(o->results);
  ef_free(o);
}

/* Validate {<key>, order, params?} into c->priv; false after setting a 400. */
static bool parse_order(struct rest_call *c, const char *key) {
  uint64_t target = rest_body_id(c, key);
  if (!target) return false;
  const char *order = jstr(c->body, "order");
  json_t *params = json_object_get(c->body, "params");
  if (!order || !*order) {
    rest_fail(c, 400, REST_GENERAL, "order must be a non-empty string");
    return false;
  }
  if (rest_check_text(c, "order", NULL, order)) return false; /* it goes to the device's log */
  if (params && !json_is_object(params) && !json_is_null(params)) {
    rest_fail(c, 400, REST_GENERAL, "params must be an object");
    return false;
  }
  struct order_req *o = ef_calloc(1, sizeof *o);
  o->target = target;
  o->order = order;
  o->params = json_is_object(params) ? params : NULL;
  c->priv = o;
  c->priv_free = order_req_free;
  return true;
}

static int give_db(struct rest_call *c, struct store *st) {
  if (!parse_order(c, "device_id")) return REST_NEXT;
  struct order_req *o = c->priv;
  if (!rest_sees_device(c, o->target))
    return rest_store_fail(c, EF_ENOENT, REST_DEVICEOP, "Device", NULL);
  struct store_device d = {0};
  int rc = st->ops->device_get(st, o->target, &d);
  store_device_clear(&d);
  return rc ? rest_store_fail(c, rc, REST_DEVICEOP, "Device", st) : REST_NEXT;
}

/* The answer waits for the order's device-log rows to be committed (order.c): a 200 or a
 * device's 502 means they are on disk; when they could not be stored the answer is the
 * database's failure, naming what the device said. */
static void give_done(void *ud, bool ok, int http, const char *message, int log_rc) {
  struct rest_call *c = ud;
  if (log_rc) {
    char *note = ef_asprintf("the order's result, %s: %s, could not be stored in the device log",
                             ok ? "success" : "fail", message);
    rest_db_fail(c, log_rc, note);
    ef_free(note);
  } else if (ok) {
    rest_ok(c, json_pack("{s:s}", "message", message));
  } else {
    rest_fail(c, http, REST_DEVICEOP, "%s", message);
  }
  rest_finish(c);
}

/* Give the order here, or through the node of the cluster that holds the device: the answer is
 * the same either way. */
static int give_any(struct server *srv, uint64_t id, const char *order, json_t *params,
                    order_cb cb, void *ud, const char **why) {
  unsigned node;
  if (live_remote_node(srv->live, id, &node))
    return cluster_order_give(srv, node, id, order, params, cb, ud, why);
  return order_give(srv, id, order, params, cb, ud, why);
}

static int give_loop(struct rest_call *c) {
  struct order_req *o = c->priv;
  const char *why = NULL;
  int rc = give_any(c->srv, o->target, o->order, o->params, give_done, c, &why);
  if (rc != 0) return rest_fail(c, 409, REST_DEVICEOP, "%s", why);
  return REST_LATER;
}

/* ----- group_give_order {group_id, order, params?} ----- */

static int group_db(struct rest_call *c, struct store *st) {
  if (!parse_order(c, "group_id")) return REST_NEXT;
  struct order_req *o = c->priv;
  struct store_device *devs = NULL;
  size_t n = 0;
  if (!rest_sees_group(c, o->target))
    return rest_store_fail(c, EF_ENOENT, REST_GROUPOP, "Group", NULL);
  struct store_group g = {0};
  int rc = st->ops->group_get(st, o->target, &g);
  store_group_clear(&g);
  if (rc) return rest_store_fail(c, rc, REST_GROUPOP, "Group", st);
  if ((rc = st->ops->group_devices(st, o->target, &devs, &n)) != 0)
    return rest_store_fail(c, rc, REST_GROUPOP, "Group", st);
  o->ids = ef_calloc(n ? n : 1, sizeof *o->ids);
  for (size_t i = 0; i < n; i++) o->ids[i] = devs[i].device_id;
  o->n = n;
  store_devices_free(devs, n);
  return REST_NEXT;
}

static void group_result(struct rest_call *c, uint64_t id, bool ok, const char *message) {
  struct order_req *o = c->priv;
  char idbuf[EF_ID_STRLEN];
  json_array_append_new(o->results,
                        json_pack("{s:s, s:s, s:s}", "device_id", id_format(id, idbuf), "status",
                                  ok ? "success" : "fail", "message", message));
  o->ok += ok;
}

static void group_finish(struct rest_call *c) {
  struct order_req *o = c->priv;
  if (o->unlogged) {
    char *note = ef_asprintf("the results of %zu of the group's %zu orders could not be stored "
                             "in the device log",
                             o->unlogged, o->n);
    rest_db_fail(c, o->log_rc, note);
    ef_free(note);
    rest_finish(c);
    return;
  }
  json_t *res = o->results;
  o->results = NULL;
  rest_ok(c, json_pack("{s:I, s:I, s:o}", "succeeded", (json_int_t)o->ok, "failed",
                       (json_int_t)(o->n - o->ok), "results", res));
  rest_finish(c);
}

/* One per device of the group: the order's callback data. */
struct group_slot {
  struct rest_call *c;
  uint64_t id;
};

static void group_done(void *ud, bool ok, int http, const char *message, int log_rc) {
  (void)http;
  struct group_slot *slot = ud;
  struct rest_call *c = slot->c;
  group_result(c, slot->id, ok, message);
  if (log_rc) {
    struct order_req *o = c->priv;
    o->unlogged++;
    o->log_rc = log_rc;
  }
  ef_free(slot);
  struct order_req *o = c->priv;
  if (--o->pending == 0) group_finish(c);
}

static int group_loop(struct rest_call *c) {
  struct order_req *o = c->priv;
  o->results = json_array();
  o->pending = 1; /* held until every order is sent */
  for (size_t i = 0; i < o->n; i++) {
    struct group_slot *slot = ef_malloc(sizeof *slot);
    slot->c = c;
    slot->id = o->ids[i];
    const char *why = NULL;
    o->pending++;
    if (give_any(c->srv, o->ids[i], o->order, o->params, group_done, slot, &why) != 0) {
      o->pending--;
      ef_free(slot);
      group_result(c, o->ids[i], false, why);
    }
  }
  if (--o->pending == 0) group_finish(c);
  return REST_LATER;
}

/* ----- miners ----- */

/* A group-limited token sees the miners reported by the devices it sees. */
static int miner_all_loop(struct rest_call *c) {
  return rest_ok(c, join_miner_list_seen(c->srv, c->view));
}

static int miner_one_loop(struct rest_call *c) {
  struct miner_info mi;
  if (c->view &&
      (!miner_lookup(c->srv->miners, c->args[0], &mi) || !rest_sees_device(c, mi.device_id)))
    return rest_fail(c, 404, REST_GENERAL, WIRE_MSG_MINER_NOT_FOUND);
  json_t *m = join_miner(c->srv, c->args[0]);
  if (!m) return rest_fail(c, 404, REST_GENERAL, WIRE_MSG_MINER_NOT_FOUND);
  return rest_ok(c, m);
}

/* ----- miner_bind {minerId, device_id}: an admin moves a miner to another device ----- */

static int bind_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_body_id(c, "device_id");
  const char *miner = jstr(c->body, "minerId");
  if (!id) return REST_NEXT;
  if (!miner || !*miner) return rest_fail(c, 400, REST_GENERAL, "minerId must be a string");
  struct store_device d = {0};
  int rc = st->ops->device_get(st, id, &d);
  store_device_clear(&d);
  return rc ? rest_store_fail(c, rc, REST_DEVICEOP, "Device", st) : REST_NEXT;
}

static int bind_loop(struct rest_call *c) {
  uint64_t id = 0;
  id_from_json(json_object_get(c->body, "device_id"), &id);
  if (miner_bind(c->srv->miners, jstr(c->body, "minerId"), id) != 0)
    return rest_fail(c, 404, REST_GENERAL, WIRE_MSG_MINER_NOT_FOUND);
  cluster_announce(c->srv, CLUSTER_MINER_BIND, id, jstr(c->body, "minerId"), NULL);
  return rest_ok(c, NULL);
}

/* ----- miner_worker_delete {minerId, hostName}: an operator forgets a missing worker ----- */

static int worker_delete_loop(struct rest_call *c) {
  const char *miner = jstr(c->body, "minerId");
  const char *host = jstr(c->body, "hostName");
  if (!miner || !*miner || !host)
    return rest_fail(c, 400, REST_GENERAL, "minerId and hostName must be strings");
  struct miner_info mi;
  if (!miner_lookup(c->srv->miners, miner, &mi) || !rest_sees_device(c, mi.device_id))
    return rest_fail(c, 404, REST_GENERAL, WIRE_MSG_MINER_NOT_FOUND);
  int rc = miner_worker_delete(c->srv->miners, miner, host);
  if (rc == EF_ENOENT) return rest_fail(c, 404, REST_GENERAL, "no such worker");
  if (rc == EF_EBUSY)
    return rest_fail(c, 409, REST_GENERAL, "the worker is listed by lotus: only missing ones go");
  cluster_announce(c->srv, CLUSTER_WORKER_DELETE, 0, miner, host);
  return rest_ok(c, NULL);
}

const struct rest_route rest_live_routes[] = {
  {"GET", "device_statusInfo_query", 1, REST_READ, NULL, NULL, status_loop},
  {"POST", "give_order", 0, REST_OPERATOR, NULL, give_db, give_loop},
  {"POST", "group_give_order", 0, REST_OPERATOR, NULL, group_db, group_loop},
  {"GET", "miner_query_all", 0, REST_READ, NULL, NULL, miner_all_loop},
  {"GET", "miner_query", 1, REST_READ, NULL, NULL, miner_one_loop},
  {"POST", "miner_bind", 0, REST_OPERATOR | REST_FLEET, NULL, bind_db, bind_loop},
  {"POST", "miner_worker_delete", 0, REST_OPERATOR, NULL, NULL, worker_delete_loop},
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
