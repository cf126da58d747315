/* SPDX-License-Identifier: MIT */
/* rest_device.c -- the REST routes of devices: register (one or a batch), query, list, update,
 * delete, a device's event log, and a device's group set.
 *
 * DESIGN
 * Each route is a row of rest_device_routes[] with the stages it needs (rest.h). Passwords are
 * bcrypt-hashed in the `pool` stage, on the uv thread pool: a hash costs ~180 ms at cost 12 and
 * must hold up neither the network loop nor the database thread. Everything that touches the
 * store runs in the `db` stage. Stage-to-stage state lives in c->priv, freed by c->priv_free.
 * Stages after a failed one return at once (c->etype set), whether or not rest.c still calls
 * them. Every string of a device body is checked against rest_limits[] (rest.h) before anything
 * is hashed or stored: a password over bcrypt's 72 bytes is a 400, not a hashing failure.
 *
 * A new device may come with `password_hash` instead of `password` (a fleet moved from another
 * system keeps its devices' passwords: edgefleetctl import-seed): admin tokens only, a bcrypt
 * hash of valid shape, stored as given (never hashed again), and like every password hash never
 * answered nor logged (docs/api.md#device_add--register-a-device).
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cluster.h"
#include "crypto.h"
#include "device_json.h"
#include "edgefleet/error.h"
#include "id.h"
#include "mem.h"
#include "rest.h"

#define BATCH_MAX 100000   /* devices per device_add_batch */
#define LOG_LIMIT 1000     /* rows per device_log_query */
#define ERRLEN 192

/* ===== helpers ===== */

static void device_priv_free(void *p) {
  struct store_device *d = p;
  if (d && d->password) explicit_bzero(d->password, strlen(d->password));
  store_device_clear(d);
  ef_free(d);
}

/* Replace d->password (plain text) by its bcrypt hash. 0 or sets a 500 and returns -1. */
static int hash_password(struct rest_call *c, char **password) {
  char hash[EF_BCRYPT_MAXLEN];
  int rc = crypto_bcrypt_hash(*password, (int)c->srv->cfg.bcrypt_cost, hash);
  explicit_bzero(*password, strlen(*password));
  ef_free(*password);
  *password = NULL;
  if (rc) {
    rest_fail(c, 500, REST_INNER, "Password hashing failed: %s", ef_strerror(rc));
    return -1;
  }
  *password = ef_strdup(hash);
  return 0;
}

/* A body's "password_hash" (docs/api.md, device_add): *hash is NULL when there is none, else
 * the hash (borrowed from obj). Only an admin token may give one (403), not together with a
 * password (400), and it must have a bcrypt hash's shape (400). 0, or -1 with the answer set.
 * No answer quotes the hash. */
static int take_password_hash(struct rest_call *c, const json_t *obj, const char *prefix,
                              const char **hash) {
  *hash = NULL;
  const json_t *v = json_object_get(obj, "password_hash");
  if (!v || json_is_null(v)) return 0;
  if (!prefix) prefix = "";
  if (c->scope < AUTH_ADMIN) {
    rest_fail(c, 403, REST_GENERAL,
              "%spassword_hash: only an admin token may register a device with a password hash",
              prefix);
    return -1;
  }
  const json_t *pw = json_object_get(obj, "password");
  if (pw && !json_is_null(pw)) {
    rest_fail(c, 400, REST_GENERAL, "%spassword_hash: give a password or a password_hash, not both",
              prefix);
    return -1;
  }
  if (!json_is_string(v) || !crypto_bcrypt_hash_valid(json_string_value(v))) {
    rest_fail(c, 400, REST_GENERAL,
              "%spassword_hash: not a bcrypt hash ($2a$, $2b$ or $2y$, a cost 04..31, 60 "
              "characters)",
              prefix);
    return -1;
  }
  *hash = json_string_value(v);
  return 0;
}

/* The 400 of a device body that device_from_json() refused. */
static int bad_device(struct rest_call *c, int rc, const char *err) {
  return rest_fail(c, 400, REST_GENERAL, "%s%s",
                   rc == EF_ENOENT ? "Missing required parameters! " : "", err);
}

/* A new device's server-side members. */
static void prepare_new(struct store_device *d, int64_t now) {
  d->device_id = id_next();
  ef_free(d->dev_state);
  d->dev_state = ef_strdup("offline");
  d->created_time = d->updated_time = now;
}

/* A device a group-limited token may not see is answered as if it did not exist. */
static int unseen_device(struct rest_call *c) {
  return rest_store_fail(c, EF_ENOENT, REST_DEVICEOP, "Device", NULL);
}

/* 0 when device `id` exists (and the token may see it); otherwise sets the answer (404 or 500)
 * and returns -1. */
static int need_device(struct rest_call *c, struct store *st, uint64_t id) {
  if (!rest_sees_device(c, id)) {
    unseen_device(c);
    return -1;
  }
  struct store_device d;
  memset(&d, 0, sizeof d);
  int rc = st->ops->device_get(st, id, &d);
  store_device_clear(&d);
  if (rc == 0) return 0;
  rest_store_fail(c, rc, REST_DEVICEOP, "Device", st);
  return -1;
}

/* ===== device_add ===== */

static int add_pool(struct rest_call *c) {
  char err[ERRLEN];
  struct store_device *d = ef_calloc(1, sizeof *d);
  c->priv = d;
  c->priv_free = device_priv_free;
  const char *hash;
  if (take_password_hash(c, c->body, NULL, &hash)) return REST_NEXT;
  int rc = device_from_json(c->body, DEVJ_NEW | (hash ? DEVJ_NO_PASSWORD : 0), d, err,
                            sizeof err);
  if (rc) return bad_device(c, rc, err);
  prepare_new(d, ef_now_ms());
  if (hash) d->password = ef_strdup(hash); /* as given: never hashed again */
  if (rest_check_device(c, d, c->body, NULL)) return REST_NEXT; /* before bcrypt sees it */
  if (!hash) hash_password(c, &d->password);
  return REST_NEXT;
}

static int add_db(struct rest_call *c, struct store *st) {
  struct store_device *d = c->priv;
  if (c->etype || !d) return REST_NEXT;
  int rc = st->ops->device_add(st, d);
  if (rc) return rest_store_fail(c, rc, REST_DEVICEOP, "Device", st);
  /* As the original API: the caller gets the plain password back (it chose it; docs/api.md).
   * A device registered with a password_hash gets nothing of it back. */
  json_t *data = json_object();
  json_object_set_new(data, "device_id", id_to_json(d->device_id));
  json_t *pw = json_object_get(c->body, "password");
  if (pw) json_object_set(data, "password", pw);
  return rest_ok(c, data);
}

/* ===== device_add_batch ===== */

struct batch {
  struct store_device *devs;
  bool *hashed; /* devs[i].password came as a password_hash: not to be hashed */
  size_t n;
};

static void batch_free(void *p) {
  struct batch *b = p;
  if (!b) return;
  for (size_t i = 0; i < b->n; i++)
    if (b->devs[i].password) explicit_bzero(b->devs[i].password, strlen(b->devs[i].password));
  store_devices_free(b->devs, b->n);
  ef_free(b->hashed);
  ef_free(b);
}

/* Orders device pointers by (sn, model), then by position so the first of equals comes first. */
static int cmp_key(const void *a, const void *b) {
  const struct store_device *x = *(const struct store_device *const *)a;
  const struct store_device *y = *(const struct store_device *const *)b;
  int r = strcmp(x->hardware_sn, y->hardware_sn);
  if (!r) r = strcmp(x->hardware_model, y->hardware_model);
  if (!r) r = (x > y) - (x < y);
  return r;
}

static int cmp_password(const void *a, const void *b) {
  const struct store_device *x = *(const struct store_device *const *)a;
  const struct store_device *y = *(const struct store_device *const *)b;
  int r = strcmp(x->password, y->password);
  if (!r) r = (x > y) - (x < y);
  return r;
}

/* The lowest index that repeats an earlier device's sn+model (set *first to that earlier one),
 * or n when all are distinct. `by` is scratch space of n pointers. */
static size_t find_duplicate(struct store_device *devs, size_t n,
                             const struct store_device **by, size_t *first) {
  size_t dup = n, start = 0;
  for (size_t i = 0; i < n; i++) by[i] = &devs[i];
  qsort(by, n, sizeof *by, cmp_key);
  for (size_t i = 1; i < n; i++) {
    if (strcmp(by[i]->hardware_sn, by[start]->hardware_sn) ||
        strcmp(by[i]->hardware_model, by[start]->hardware_model)) {
      start = i; /* a new run; its first member has the run's lowest index */
      continue;
    }
    size_t at = (size_t)(by[i] - devs);
    if (at < dup) {
      dup = at;
      *first = (size_t)(by[start] - devs);
    }
  }
  return dup;
}

/* Hash every *distinct* plain password of the batch once and give each device a copy of its hash
 * (devices that came with a password_hash keep theirs).
 * A fleet provisioned with one shared password thus costs one bcrypt hash, not one per
 * device (100,000 hashes at cost 12 would be five hours of CPU). The price: devices that share
 * a password also share the salt, so their stored hashes are equal -- which reveals nothing
 * the provisioning did not already decide. 0, or -1 with the answer set. */
static int hash_batch_passwords(struct rest_call *c, struct batch *b,
                                const struct store_device **by) {
  size_t m = 0;
  for (size_t i = 0; i < b->n; i++)
    if (!b->hashed[i]) by[m++] = &b->devs[i];
  qsort(by, m, sizeof *by, cmp_password);
  size_t i = 0;
  while (i < m) {
    size_t j = i + 1;
    while (j < m && !strcmp(by[j]->password, by[i]->password)) j++;
    char *plain = ef_strdup(by[i]->password);
    if (hash_password(c, &plain)) return -1;
    for (size_t k = i; k < j; k++) {
      struct store_device *d = &b->devs[by[k] - b->devs];
      explicit_bzero(d->password, strlen(d->password));
      ef_free(d->password);
      d->password = ef_strdup(plain);
    }
    ef_free(plain);
    i = j;
  }
  return 0;
}

static int batch_pool(struct rest_call *c) {
  char err[ERRLEN];
  json_t *arr = json_object_get(c->body, "devices");
  if (!arr || json_is_null(arr))
    return rest_fail(c, 400, REST_GENERAL, "Missing required parameters! (devices)");
  if (!json_is_array(arr))
    return rest_fail(c, 400, REST_GENERAL, "devices: must be an array of devices");
  size_t n = json_array_size(arr);
  if (n == 0) return rest_fail(c, 400, REST_GENERAL, "devices: must not be empty");
  if (n > BATCH_MAX)
    return rest_fail(c, 400, REST_GENERAL, "devices: at most %d devices per batch (got %zu)",
                     BATCH_MAX, n);

  struct batch *b = ef_calloc(1, sizeof *b);
  b->devs = ef_calloc(n, sizeof *b->devs);
  b->hashed = ef_calloc(n, sizeof *b->hashed);
  c->priv = b;
  c->priv_free = batch_free;
  int64_t now = ef_now_ms();
  for (size_t i = 0; i < n; i++) {
    json_t *e = json_array_get(arr, i);
    if (!json_is_object(e))
      return rest_fail(c, 400, REST_GENERAL, "devices[%zu]: must be an object", i);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "devices[%zu].", i);
    const char *hash;
    if (take_password_hash(c, e, prefix, &hash)) return REST_NEXT;
    if (device_from_json(e, DEVJ_NEW | (hash ? DEVJ_NO_PASSWORD : 0), &b->devs[i], err,
                         sizeof err))
      return rest_fail(c, 400, REST_GENERAL, "devices[%zu].%s", i, err);
    b->n = i + 1;
    prepare_new(&b->devs[i], now);
    if (hash) {
      b->devs[i].password = ef_strdup(hash);
      b->hashed[i] = true;
    }
    if (rest_check_device(c, &b->devs[i], e, prefix)) return REST_NEXT;
  }

  const struct store_device **by = ef_calloc(n, sizeof *by);
  size_t first = 0, dup = find_duplicate(b->devs, n, by, &first);
  if (dup < n) {
    ef_free(by);
    return rest_fail(c, 409, REST_DEVICEOP,
                     "devices[%zu]: Device already exists (same hardware.sn and hardware.model "
                     "as devices[%zu]).", dup, first);
  }
  hash_batch_passwords(c, b, by);
  ef_free(by);
  return REST_NEXT;
}

static int batch_db(struct rest_call *c, struct store *st) {
  struct batch *b = c->priv;
  if (c->etype || !b) return REST_NEXT;
  size_t failed = 0;
  int rc = st->ops->device_add_batch(st, b->devs, b->n, &failed);
  if (rc == EF_EEXIST && failed < b->n)
    return rest_fail(c, 409, REST_DEVICEOP, "devices[%zu]: Device already exists.", failed);
  if (rc) return rest_store_fail(c, rc, REST_DEVICEOP, "Device", st);
  json_t *ids = json_array();
  for (size_t i = 0; i < b->n; i++) json_array_append_new(ids, id_to_json(b->devs[i].device_id));
  json_t *data = json_object();
  json_object_set_new(data, "device_ids", ids);
  return rest_ok(c, data);
}

/* ===== device_query, device_query_all ===== */

static int query_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_arg_id(c, 0, "device_id");
  if (!id) return REST_NEXT;
  if (!rest_sees_device(c, id)) return unseen_device(c);
  struct store_device d;
  memset(&d, 0, sizeof d);
  int rc = st->ops->device_get(st, id, &d);
  if (rc) {
    store_device_clear(&d);
    return rest_store_fail(c, rc, REST_DEVICEOP, "Device", st);
  }
  json_t *data = device_to_json(&d);
  store_device_clear(&d);
  return rest_ok(c, data);
}

static int query_all_db(struct rest_call *c, struct store *st) {
  struct store_device *arr = NULL;
  size_t n = 0;
  int rc = st->ops->device_list(st, &arr, &n);
  if (rc) return rest_store_fail(c, rc, REST_DEVICEOP, "Device", st);
  if (c->view) n = rest_keep_seen_devices(c, arr, n); /* only what the token may see */
  json_t *data = devices_to_json(arr, n);
  store_devices_free(arr, n);
  return rest_ok(c, data);
}

/* ===== device_update ===== */

static bool patch_is_empty(const struct store_device *d) {
#define DEVJ_SET_(col, parent, key) if (d->col) return false;
  STORE_DEVICE_FIELDS(DEVJ_SET_)
#undef DEVJ_SET_
  return d->password == NULL;
}

static int update_pool(struct rest_call *c) {
  char err[ERRLEN];
  uint64_t id = rest_body_id(c, "device_id");
  if (!id) return REST_NEXT;
  struct store_device *d = ef_calloc(1, sizeof *d);
  c->priv = d;
  c->priv_free = device_priv_free;
  int rc = device_from_json(c->body, 0, d, err, sizeof err);
  if (rc) return bad_device(c, rc, err);
  /* dev_state belongs to the server (login, heartbeats): it is read-only here. */
  ef_free(d->dev_state);
  d->dev_state = NULL;
  if (rest_check_device(c, d, c->body, NULL)) return REST_NEXT;
  if (patch_is_empty(d))
    return rest_fail(c, 400, REST_GENERAL,
                     "Missing required parameters! Nothing to update: give at least one device "
                     "field or a password");
  d->device_id = id;
  d->updated_time = ef_now_ms();
  if (d->password) hash_password(c, &d->password);
  return REST_NEXT;
}

static int update_db(struct rest_call *c, struct store *st) {
  struct store_device *d = c->priv;
  if (c->etype || !d) return REST_NEXT;
  if (!rest_sees_device(c, d->device_id)) return unseen_device(c);
  int rc = st->ops->device_update(st, d);
  /* A new password ends the current session token: the device must log in with it again. */
  if (rc == 0 && d->password) rc = st->ops->device_set_token(st, d->device_id, NULL, 0);
  if (rc) return rest_store_fail(c, rc, REST_DEVICEOP, "Device", st);
  struct store_device cur;
  memset(&cur, 0, sizeof cur);
  rc = st->ops->device_get(st, d->device_id, &cur);
  if (rc) {
    store_device_clear(&cur);
    return rest_store_fail(c, rc, REST_DEVICEOP, "Device", st);
  }
  json_t *data = device_to_json(&cur);
  store_device_clear(&cur);
  return rest_ok(c, data);
}

/* ===== device_delete ===== */

static void id_priv_free(void *p) { ef_free(p); }

static int delete_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_body_id(c, "device_id");
  if (!id) return REST_NEXT;
  int rc = st->ops->device_delete(st, id);
  if (rc) return rest_store_fail(c, rc, REST_DEVICEOP, "Device", st);
  uint64_t *p = ef_malloc(sizeof *p);
  *p = id;
  c->priv = p;
  c->priv_free = id_priv_free;
  return rest_ok(c, NULL);
}

/* A deleted device must not stay logged in: close its live session, if any. */
static int delete_loop(struct rest_call *c) {
  if (c->etype || !c->priv) return REST_NEXT;
  live_drop(c->srv->live, *(uint64_t *)c->priv, 1008, "device deleted");
  cluster_announce(c->srv, CLUSTER_DEVICE_DELETED, *(uint64_t *)c->priv, NULL, NULL);
  return rest_devices_changed(c);
}

/* ===== device_log_query/<device_id>[/<before_ms>] ===== */

static int log_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_arg_id(c, 0, "device_id");
  if (!id) return REST_NEXT;
  int64_t before = 0;
  if (c->route->nargs > 1) {
    const char *s = c->args[1];
    char *end = NULL;
    long long v = (s && *s >= '0' && *s <= '9') ? strtoll(s, &end, 10) : -1;
    if (v < 0 || !end || *end || v == LLONG_MAX)
      return rest_fail(c, 400, REST_GENERAL,
                       "before: must be a time in ms since the epoch (non-negative integer)");
    before = (int64_t)v;
  }
  if (need_device(c, st, id)) return REST_NEXT;
  struct store_log *logs = NULL;
  size_t n = 0;
  int rc = st->ops->log_query(st, id, before, LOG_LIMIT, &logs, &n);
  if (rc) return rest_store_fail(c, rc, REST_DEVICEOP, "Device", st);
  json_t *data = logs_to_json(logs, n);
  store_logs_free(logs, n);
  return rest_ok(c, data);
}

/* ===== device_groups_query / _update / _delete ===== */

static int groups_query_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_arg_id(c, 0, "device_id");
  if (!id) return REST_NEXT;
  if (need_device(c, st, id)) return REST_NEXT;
  struct store_group *gs = NULL;
  size_t n = 0;
  int rc = st->ops->device_groups(st, id, &gs, &n);
  if (rc) return rest_store_fail(c, rc, REST_DEVICEOP, "Device", st);
  if (c->view) n = rest_keep_seen_groups(c, gs, n); /* only the token's groups */
  json_t *data = groups_to_json(gs, n);
  store_groups_free(gs, n);
  return rest_ok(c, data);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static bool in_sorted(const uint64_t *ids, size_t n, uint64_t id) {
  return bsearch(&id, ids, n, sizeof *ids, cmp_u64) != NULL;
}

static bool in_groups(const struct store_group *gs, size_t n, uint64_t id) {
  for (size_t i = 0; i < n; i++)
    if (gs[i].group_id == id) return true;
  return false;
}

/* Replace the device's group set by body.group_ids. Every group must exist (checked before
 * anything changes); then the relations not wanted are deleted and the missing ones added. */
static int groups_update_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_body_id(c, "device_id");
  if (!id) return REST_NEXT;
  json_t *arr = json_object_get(c->body, "group_ids");
  if (!arr || json_is_null(arr))
    return rest_fail(c, 400, REST_GENERAL, "Missing required parameters! (group_ids)");
  if (!json_is_array(arr))
    return rest_fail(c, 400, REST_GENERAL, "group_ids: must be an array of ids");
  size_t n = json_array_size(arr), m = 0;
  uint64_t *want = ef_calloc(n ? n : 1, sizeof *want);
  struct store_group *cur = NULL;
  size_t ncur = 0;
  for (size_t i = 0; i < n; i++) {
    if (!id_from_json(json_array_get(arr, i), &want[i])) {
      rest_fail(c, 400, REST_GENERAL, "group_ids[%zu]: must be an id (decimal string)", i);
      goto out;
    }
  }
  qsort(want, n, sizeof *want, cmp_u64);
  for (size_t i = 0; i < n; i++) /* drop repeats */
    if (m == 0 || want[i] != want[m - 1]) want[m++] = want[i];

  if (need_device(c, st, id)) goto out;
  for (size_t i = 0; i < m; i++) {
    struct store_group g;
    memset(&g, 0, sizeof g);
    int rc = st->ops->group_get(st, want[i], &g);
    store_group_clear(&g);
    if (rc == EF_ENOENT) {
      char buf[EF_ID_STRLEN];
      rest_fail(c, 404, REST_DEVICEOP, "Group %s NOT FOUND.", id_format(want[i], buf));
      goto out;
    }
    if (rc) {
      rest_store_fail(c, rc, REST_DEVICEOP, "Group", st);
      goto out;
    }
  }
  int rc = st->ops->device_groups(st, id, &cur, &ncur);
  int64_t now = ef_now_ms();
  for (size_t i = 0; rc == 0 && i < ncur; i++)
    if (!in_sorted(want, m, cur[i].group_id))
      rc = st->ops->relation_delete(st, id, cur[i].group_id);
  for (size_t i = 0; rc == 0 && i < m; i++)
    if (!in_groups(cur, ncur, want[i])) rc = st->ops->relation_add(st, id, want[i], now);
  store_groups_free(cur, ncur);
  cur = NULL;
  ncur = 0;
  if (rc == 0) rc = st->ops->device_groups(st, id, &cur, &ncur);
  if (rc) {
    rest_store_fail(c, rc, REST_DEVICEOP, "Device", st);
    goto out;
  }
  rest_ok(c, groups_to_json(cur, ncur));
out:
  store_groups_free(cur, ncur);
  ef_free(want);
  return REST_NEXT;
}

static int groups_delete_db(struct rest_call *c, struct store *st) {
  uint64_t id = rest_body_id(c, "device_id");
  if (!id) return REST_NEXT;
  if (need_device(c, st, id)) return REST_NEXT;
  struct store_group *gs = NULL;
  size_t n = 0;
  int rc = st->ops->device_groups(st, id, &gs, &n);
  for (size_t i = 0; rc == 0 && i < n; i++) rc = st->ops->relation_delete(st, id, gs[i].group_id);
  store_groups_free(gs, n);
  if (rc) return rest_store_fail(c, rc, REST_DEVICEOP, "Device", st);
  json_t *data = json_object();
  json_object_set_new(data, "removed", json_integer((json_int_t)n));
  return rest_ok(c, data);
}

/* ===== the table ===== */

const struct rest_route rest_device_routes[] = {
    /* methods        name                    args need pool         db            loop */
    {"POST",          "device_add",           0, REST_OPERATOR | REST_FLEET, add_pool,    add_db,           rest_devices_changed},
    {"POST",          "device_add_batch",     0, REST_OPERATOR | REST_FLEET, batch_pool,  batch_db,         rest_devices_changed},
    {"GET",           "device_query",         1, REST_READ, NULL,        query_db,         rest_live_state},
    {"GET",           "device_query_all",     0, REST_READ, NULL,        query_all_db,     rest_live_state},
    {"PUT POST",      "device_update",        0, REST_OPERATOR, update_pool, update_db,        rest_devices_changed},
    {"DELETE POST",   "device_delete",        0, REST_OPERATOR | REST_FLEET, NULL,        delete_db,        delete_loop},
    {"GET",           "device_log_query",     1, REST_READ, NULL,        log_db,           NULL},
    {"GET",           "device_log_query",     2, REST_READ, NULL,        log_db,           NULL},
    {"GET",           "device_groups_query",  1, REST_READ, NULL,        groups_query_db,  NULL},
    {"PUT",           "device_groups_update", 0, REST_OPERATOR | REST_FLEET, NULL,        groups_update_db, rest_devices_changed},
    {"DELETE",        "device_groups_delete", 0, REST_OPERATOR | REST_FLEET, NULL,        groups_delete_db, rest_devices_changed},
    {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
