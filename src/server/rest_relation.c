/* SPDX-License-Identifier: MIT */
/* rest_relation.c -- the REST routes of device ⇄ group relations: ask, add, delete.
 *
 * Both sides are looked up first so that a 404 says which one is missing ("Device NOT FOUND."
 * or "Group NOT FOUND."); then the relation itself answers 409 (already there on add) or 404
 * (not there on delete). One `db` stage per route.
 */
#include <stdbool.h>
#include <string.h>

#include "clock.h"
#include "device_json.h"
#include "edgefleet/error.h"
#include "rest.h"

/* 0 when both the device and the group exist; else the answer is set and -1. A group-limited
 * token sees only its groups and their devices: a relation can be made or undone only between
 * a device already in one of its groups and one of its groups. */
static int need_both(struct rest_call *c, struct store *st, uint64_t dev, uint64_t grp) {
  if (!rest_sees_device(c, dev)) {
    rest_store_fail(c, EF_ENOENT, REST_RELATIONOP, "Device", NULL);
    return -1;
  }
  if (!rest_sees_group(c, grp)) {
    rest_store_fail(c, EF_ENOENT, REST_RELATIONOP, "Group", NULL);
    return -1;
  }
  struct store_device d;
  struct store_group g;
  memset(&d, 0, sizeof d);
  memset(&g, 0, sizeof g);
  int rc = st->ops->device_get(st, dev, &d);
  store_device_clear(&d);
  if (rc) {
    rest_store_fail(c, rc, REST_RELATIONOP, "Device", st);
    return -1;
  }
  rc = st->ops->group_get(st, grp, &g);
  store_group_clear(&g);
  if (rc) {
    rest_store_fail(c, rc, REST_RELATIONOP, "Group", st);
    return -1;
  }
  return 0;
}

/* Both ids from the body; 0 or -1 with a 400 set. */
static int body_ids(struct rest_call *c, uint64_t *dev, uint64_t *grp) {
  *dev = rest_body_id(c, "device_id");
  if (!*dev) return -1;
  *grp = rest_body_id(c, "group_id");
  if (!*grp) return -1;
  return 0;
}

static int query_db(struct rest_call *c, struct store *st) {
  uint64_t dev = rest_arg_id(c, 0, "device_id");
  if (!dev) return REST_NEXT;
  uint64_t grp = rest_arg_id(c, 1, "group_id");
  if (!grp) return REST_NEXT;
  if (need_both(c, st, dev, grp)) return REST_NEXT;
  bool exists = false;
  int rc = st->ops->relation_exists(st, dev, grp, &exists);
  if (rc) return rest_store_fail(c, rc, REST_RELATIONOP, "Relation", st);
  json_t *data = json_object();
  json_object_set_new(data, "exists", json_boolean(exists));
  return rest_ok(c, data);
}

static int add_db(struct rest_call *c, struct store *st) {
  uint64_t dev, grp;
  if (body_ids(c, &dev, &grp)) return REST_NEXT;
  if (need_both(c, st, dev, grp)) return REST_NEXT;
  int rc = st->ops->relation_add(st, dev, grp, ef_now_ms());
  if (rc) return rest_store_fail(c, rc, REST_RELATIONOP, "Relation", st);
  return rest_ok(c, NULL);
}

static int delete_db(struct rest_call *c, struct store *st) {
  uint64_t dev, grp;
  if (body_ids(c, &dev, &grp)) return REST_NEXT;
  if (!rest_sees_device(c, dev) || !rest_sees_group(c, grp))
    return rest_store_fail(c, EF_ENOENT, REST_RELATIONOP, "Relation", NULL);
  int rc = st->ops->relation_delete(st, dev, grp);
  if (rc) return rest_store_fail(c, rc, REST_RELATIONOP, "Relation", st);
  return rest_ok(c, NULL);
}

const struct rest_route rest_relation_routes[] = {
    /* methods  name               args need pool  db         loop */
    {"GET",     "relation_query",  2, REST_READ, NULL, query_db,  NULL},
    {"POST",    "relation_add",    0, REST_OPERATOR, NULL, add_db,    rest_devices_changed},
    {"DELETE",  "relation_delete", 0, REST_OPERATOR, NULL, delete_db, rest_devices_changed},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
