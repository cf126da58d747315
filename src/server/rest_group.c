/* SPDX-License-Identifier: MIT */
/* rest_group.c -- the REST routes of device groups: create, query, list, update, delete, and a
 * group's members (list them, or remove them all from the group).
 *
 * Every route is a single `db` stage (rest.h): input checks are cheap and the rest is store
 * work, which runs on the database thread. Group names are unique (409 on a second one) and,
 * like descriptions, bounded (rest_limits[], rest.h).
 */
#include <stdbool.h>
#include <string.h>

#include "clock.h"
#include "device_json.h"
#include "edgefleet/error.h"
#include "id.h"
#include "mem.h"
#include "rest.h"

/* body[key] as an optional string: absent or null → *out NULL and 0; a string (non-empty when
 * `nonempty`) → *out borrowed and 0; anything else → 400 set and -1. */
static int opt_string(struct rest_call *c, const char *key, bool nonempty, const char **out) {
  json_t *v = json_object_get(c->body, key);
  *out = NULL;
  if (!v || json_is_null(v)) return 0;
  if (!json_is_string(v) || (nonempty && json_string_length(v) == 0)) {
    rest_fail(c, 400, REST_GENERAL, "%s: must be a%s string", key, nonempty ? " non-empty" : "");
    return -1;
  }
  *out = json_string_value(v);
  return 0;
}

/* The lengths and characters of a name and description to store (rest_limits[]): 0, or -1
 * with the 400 set. */
static int check_strings(struct rest_call *c, const char *name, const char *desc) {
  if (rest_check_text(c, "group_name", NULL, name)) return -1;
  return rest_check_text(c, "group_description", NULL, desc);
}

/* 0 when group `id` exists and the token may see it (a group-limited token: one of its
 * groups); otherwise the answer is set (404 or 500) and -1. */
static int need_group(struct rest_call *c, struct store *st, uint64_t id) {
  if (!rest_sees_group(c, id)) {
    rest_store_fail(c, EF_ENOENT, REST_GROUPOP, "Group", NULL);
    return -1;
  }
  struct store_group g;
  memset(&g, 0, sizeof g);
  int rc = st->ops->group_get(st, id, &g);
  store_group_clear(&g);
  if (rc == 0) return 0;
  rest_store_fail(c, rc, REST_GROUPOP, "Group", st);
  return -1;
}

/* The group's JSON after a change, as the answer. */
static int answer_group(struct rest_call *c, struct store *st, uint64_t id) {
  struct store_group g;
  memset(&g, 0, sizeof g);
  int rc = st->ops->group_get(st, id, &g);
  if (rc == 0) rest_ok(c, group_to_json(&g));
  else rest_store_fail(c, rc, REST_GROUPOP, "Group", st);
  store_group_clear(&g);
  return REST_NEXT;
}

static int add_db(struct rest_call *c, struct store *st) {
  const char *name, *desc;
  if (opt_string(c, "group_name", true, &name)) return REST_NEXT;
  if (!name)
    return rest_fail(c, 400, REST_GENERAL, "Missing required parameters! (group_name)");
  if (opt_string(c, "group_description", false, &desc)) return REST_NEXT;
  if (check_strings(c, name, desc)) return REST_NEXT;
  struct store_group g = {
      .group_id = id_next(),
      .group_name = (char *)name, /* borrowed: the store copies what it keeps */
      .group_description = (char *)desc,
  };
  g.created_time = g.updated_time = ef_now_ms();
  int rc = st->ops->group_add(st, &g);
  if (rc) return rest_store_fail(c, rc, REST_GROUPOP, "Group", st);
  json_t *data = json_object();
  json_object_set_new(data, "group_id", id_to_json(g.group_id));
  return rest_ok(c, data);
}

static int query_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_arg_id(c, 0, "group_id");
  if (!id) return REST_NEXT;
  if (!rest_sees_group(c, id)) return rest_store_fail(c, EF_ENOENT, REST_GROUPOP, "Group", NULL);
  return answer_group(c, st, id);
}

static int query_all_db(struct rest_call *c, struct store *st) {
  struct store_group *gs = NULL;
  size_t n = 0;
  int rc = st->ops->group_list(st, &gs, &n);
  if (rc) return rest_store_fail(c, rc, REST_GROUPOP, "Group", st);
  if (c->view) n = rest_keep_seen_groups(c, gs, n); /* only the token's groups */
  json_t *data = groups_to_json(gs, n);
  store_groups_free(gs, n);
  return rest_ok(c, data);
}

static int update_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_body_id(c, "group_id");
  if (!id) return REST_NEXT;
  const char *name, *desc;
  if (opt_string(c, "group_name", true, &name)) return REST_NEXT;
  if (opt_string(c, "group_description", false, &desc)) return REST_NEXT;
  if (check_strings(c, name, desc)) return REST_NEXT;
  if (!name && !desc)
    return rest_fail(c, 400, REST_GENERAL,
                     "Missing required parameters! Nothing to update: give group_name and/or "
                     "group_description");
  if (!rest_sees_group(c, id)) return rest_store_fail(c, EF_ENOENT, REST_GROUPOP, "Group", NULL);
  struct store_group patch = {
      .group_id = id,
      .group_name = (char *)name, /* borrowed */
      .group_description = (char *)desc,
      .updated_time = ef_now_ms(),
  };
  int rc = st->ops->group_update(st, &patch);
  if (rc) return rest_store_fail(c, rc, REST_GROUPOP, "Group", st);
  return answer_group(c, st, id);
}

static int delete_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_body_id(c, "group_id");
  if (!id) return REST_NEXT;
  int rc = st->ops->group_delete(st, id);
  if (rc) return rest_store_fail(c, rc, REST_GROUPOP, "Group", st);
  return rest_ok(c, NULL);
}

static int devices_query_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_arg_id(c, 0, "group_id");
  if (!id) return REST_NEXT;
  if (need_group(c, st, id)) return REST_NEXT;
  struct store_device *ds = NULL;
  size_t n = 0;
  int rc = st->ops->group_devices(st, id, &ds, &n);
  if (rc) return rest_store_fail(c, rc, REST_GROUPOP, "Group", st);
  json_t *data = devices_to_json(ds, n);
  store_devices_free(ds, n);
  return rest_ok(c, data);
}

/* Empty the group: its relations go, its devices and the group itself stay. */
static int devices_delete_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_body_id(c, "group_id");
  if (!id) return REST_NEXT;
  if (need_group(c, st, id)) return REST_NEXT;
  int rc = st->ops->group_clear(st, id);
  if (rc) return rest_store_fail(c, rc, REST_GROUPOP, "Group", st);
  return rest_ok(c, NULL);
}

const struct rest_route rest_group_routes[] = {
    /* methods  name                    args need pool  db                 loop */
    {"POST",    "group_add",            0, REST_OPERATOR | REST_FLEET, NULL, add_db,            NULL},
    {"GET",     "group_query",          1, REST_READ, NULL, query_db,          NULL},
    {"GET",     "group_query_all",      0, REST_READ, NULL, query_all_db,      NULL},
    {"PUT",     "group_update",         0, REST_OPERATOR, NULL, update_db,         NULL},
    {"DELETE",  "group_delete",         0, REST_OPERATOR | REST_FLEET, NULL, delete_db,         rest_devices_changed},
    {"GET",     "group_devices_query",  1, REST_READ, NULL, devices_query_db,  rest_live_state},
    {"DELETE",  "group_devices_delete", 0, REST_OPERATOR, NULL, devices_delete_db, rest_devices_changed},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
