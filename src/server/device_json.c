/* SPDX-License-Identifier: MIT */
/* device_json.c -- the REST JSON of devices, groups and device logs (see device_json.h).
 *
 * The device mapping is one table, `fields[]`, generated from STORE_DEVICE_FIELDS: each row
 * says where a column's string sits in struct store_device (offset) and in the JSON (parent,
 * key). Both directions walk that table; only `nic` (an array kept as JSON text) and the three
 * members that must be non-empty (password, hardware.sn, hardware.model) are special.
 */
#include "device_json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "mem.h"

struct field {
  const char *parent; /* NULL: top level */
  const char *key;
  size_t off;         /* of the char * in struct store_device */
};

static const struct field fields[] = {
#define DEVJ_ROW_(col, parent, key) {parent, key, offsetof(struct store_device, col)},
    STORE_DEVICE_FIELDS(DEVJ_ROW_)
#undef DEVJ_ROW_
};

#define NFIELDS (sizeof fields / sizeof fields[0])

static char **slot(struct store_device *d, const struct field *f) {
  return (char **)((char *)d + f->off);
}

static const char *cslot(const struct store_device *d, const struct field *f) {
  return *(char *const *)((const char *)d + f->off);
}

static bool is_nic(const struct field *f) { return f->off == offsetof(struct store_device, nic); }

/* Members that identify a device (and its secret) must be non-empty whenever they are given. */
static bool is_key_member(const struct field *f) {
  return f->off == offsetof(struct store_device, hardware_sn) ||
         f->off == offsetof(struct store_device, hardware_model);
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return EF_EINVAL;
}

/* A string member at `path`: NULL/null = absent (EF_ENOENT when required, else fine); else it
 * must be a string, non-empty when `nonempty` (EF_EINVAL). On success *out is a copy or NULL. */
static int take_string(const json_t *v, const char *path, bool required, bool nonempty,
                       char **out, char *err, size_t errlen) {
  *out = NULL;
  if (!v || json_is_null(v)) {
    if (required) {
      fail(err, errlen, "%s: required", path);
      return EF_ENOENT;
    }
    return 0;
  }
  if (!json_is_string(v))
    return fail(err, errlen, "%s: must be a%s string", path, nonempty ? " non-empty" : "");
  if (nonempty && json_string_length(v) == 0)
    return fail(err, errlen, "%s: must be a non-empty string", path);
  *out = ef_strdup(json_string_value(v));
  return 0;
}

/* nic: an array of objects whose type/mac/ipv4, when present, are strings. */
static int take_nic(const json_t *v, char **out, char *err, size_t errlen) {
  static const char *const keys[] = {"type", "mac", "ipv4"};
  *out = NULL;
  if (!v || json_is_null(v)) return 0;
  if (!json_is_array(v)) return fail(err, errlen, "nic: must be an array of objects");
  size_t i;
  json_t *e;
  json_array_foreach(v, i, e) {
    if (!json_is_object(e)) return fail(err, errlen, "nic[%zu]: must be an object", i);
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      json_t *m = json_object_get(e, keys[k]);
      if (m && !json_is_null(m) && !json_is_string(m))
        return fail(err, errlen, "nic[%zu].%s: must be a string", i, keys[k]);
    }
  }
  *out = jdump(v);
  return 0;
}

int device_from_json(const json_t *obj, unsigned flags, struct store_device *out, char *err,
                     size_t errlen) {
  bool isnew = (flags & DEVJ_NEW) != 0;
  int rc;
  memset(out, 0, sizeof *out);
  if (err && errlen) err[0] = '\0';
  if (!json_is_object(obj)) return fail(err, errlen, "device: must be an object");

  for (size_t i = 0; i < NFIELDS; i++) {
    const struct field *f = &fields[i];
    const json_t *src = obj;
    char path[64];
    if (f->parent) {
      src = json_object_get(obj, f->parent);
      if (src && !json_is_null(src) && !json_is_object(src)) {
        rc = fail(err, errlen, "%s: must be an object", f->parent);
        goto fail_clear;
      }
      snprintf(path, sizeof path, "%s.%s", f->parent, f->key);
    } else {
      snprintf(path, sizeof path, "%s", f->key);
    }
    const json_t *v = json_is_object(src) ? json_object_get(src, f->key) : NULL;
    if (is_nic(f))
      rc = take_nic(v, slot(out, f), err, errlen);
    else
      rc = take_string(v, path, isnew && is_key_member(f), is_key_member(f), slot(out, f), err,
                       errlen);
    if (rc) goto fail_clear;
  }
  rc = take_string(json_object_get(obj, "password"), "password",
                   isnew && !(flags & DEVJ_NO_PASSWORD), true, &out->password, err, errlen);
  if (rc) goto fail_clear;
  return 0;

fail_clear:
  store_device_clear(out);
  return rc;
}

/* A JSON string of s, or null when s is NULL or not valid UTF-8 (a foreign row). */
static json_t *str_or_null(const char *s) {
  json_t *v = s ? json_string(s) : NULL;
  return v ? v : json_null();
}

static json_t *nic_value(const char *text) {
  if (!text) return json_null();
  json_t *v = json_loads(text, 0, NULL);
  if (!json_is_array(v)) {
    json_decref(v);
    return json_null();
  }
  return v;
}

json_t *id_to_json(uint64_t id) {
  char buf[EF_ID_STRLEN];
  return json_string(id_format(id, buf));
}

bool id_from_json(const json_t *v, uint64_t *out) {
  if (json_is_string(v)) return id_parse(json_string_value(v), out);
  if (json_is_integer(v) && json_integer_value(v) > 0) {
    *out = (uint64_t)json_integer_value(v);
    return true;
  }
  return false;
}

json_t *device_to_json(const struct store_device *d) {
  json_t *o = json_object();
  json_object_set_new(o, "device_id", id_to_json(d->device_id));
  for (size_t i = 0; i < NFIELDS; i++) {
    const struct field *f = &fields[i];
    json_t *dst = o;
    if (f->parent) {
      dst = json_object_get(o, f->parent);
      if (!dst) {
        dst = json_object();
        json_object_set_new(o, f->parent, dst);
      }
    }
    const char *s = cslot(d, f);
    json_object_set_new(dst, f->key, is_nic(f) ? nic_value(s) : str_or_null(s));
  }
  json_object_set_new(o, "created_time", json_integer(d->created_time));
  json_object_set_new(o, "updated_time", json_integer(d->updated_time));
  return o;
}

json_t *devices_to_json(const struct store_device *arr, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, device_to_json(&arr[i]));
  return a;
}

json_t *group_to_json(const struct store_group *g) {
  json_t *o = json_object();
  json_object_set_new(o, "group_id", id_to_json(g->group_id));
  json_object_set_new(o, "group_name", str_or_null(g->group_name));
  json_object_set_new(o, "group_description", str_or_null(g->group_description));
  json_object_set_new(o, "created_time", json_integer(g->created_time));
  json_object_set_new(o, "updated_time", json_integer(g->updated_time));
  return o;
}

json_t *groups_to_json(const struct store_group *arr, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, group_to_json(&arr[i]));
  return a;
}

json_t *log_to_json(const struct store_log *l) {
  json_t *o = json_object();
  json_object_set_new(o, "log_id", id_to_json(l->log_id));
  json_object_set_new(o, "device_id", id_to_json(l->device_id));
  json_object_set_new(o, "event", str_or_null(l->event));
  json_object_set_new(o, "detail", str_or_null(l->detail));
  json_object_set_new(o, "result", str_or_null(l->result));
  json_object_set_new(o, "time", json_integer(l->time));
  return o;
}

json_t *logs_to_json(const struct store_log *arr, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, log_to_json(&arr[i]));
  return a;
}
