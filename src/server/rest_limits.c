/* SPDX-License-Identifier: MIT */
/* rest_limits.c -- the limits of what REST routes store (rest.h, docs/api.md#limits): one table
 * of every string member a route writes to the store, with its kind and its limit in bytes, and
 * the checks routes run on a body before they hash or store anything.
 *
 * Limits are in bytes of UTF-8 (what the store keeps and what every listing sends back), not in
 * characters. A control character in a name would reach logs, terminals and dashboards as is
 * (an escape sequence in a device name recolours a terminal listing it): names refuse them.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "edgefleet/error.h"
#include "rest.h"

const struct rest_limit rest_limits[] = {
  /* member                  kind              bytes              route(s) */
  {"password",               REST_TEXT_SECRET, REST_MAX_PASSWORD}, /* device_add*, device_update */
  {"device_name",            REST_TEXT_NAME,   REST_MAX_NAME},
  {"device_type",            REST_TEXT_NAME,   REST_MAX_NAME},
  {"hardware.sn",            REST_TEXT_NAME,   REST_MAX_NAME},
  {"hardware.model",         REST_TEXT_NAME,   REST_MAX_NAME},
  {"software.version",       REST_TEXT_NAME,   REST_MAX_NAME},
  {"software.last_update",   REST_TEXT_NAME,   REST_MAX_NAME},
  {"base.version",           REST_TEXT_NAME,   REST_MAX_NAME},
  {"base.last_update",       REST_TEXT_NAME,   REST_MAX_NAME},
  {"base.state",             REST_TEXT_NAME,   REST_MAX_NAME},
  {"business.version",       REST_TEXT_NAME,   REST_MAX_NAME},
  {"business.last_update",   REST_TEXT_NAME,   REST_MAX_NAME},
  {"business.state",         REST_TEXT_NAME,   REST_MAX_NAME},
  {"nic",                    REST_TEXT_JSON,   REST_MAX_NIC},
  {"nic[].type",             REST_TEXT_NAME,   REST_MAX_NAME},
  {"nic[].mac",              REST_TEXT_NAME,   REST_MAX_NAME},
  {"nic[].ipv4",             REST_TEXT_NAME,   REST_MAX_NAME},
  {"wifi_mac",               REST_TEXT_NAME,   REST_MAX_NAME},
  {"lte_imei",               REST_TEXT_NAME,   REST_MAX_NAME},
  {"dev_description",        REST_TEXT_FREE,   REST_MAX_TEXT},
  {"dev_state",              REST_TEXT_NAME,   REST_MAX_NAME}, /* the server's own, not a body's */
  {"group_name",             REST_TEXT_NAME,   REST_MAX_NAME}, /* group_add, group_update */
  {"group_description",      REST_TEXT_FREE,   REST_MAX_TEXT},
  {"name",                   REST_TEXT_NAME,   REST_MAX_NAME}, /* api_token_add */
  {"order",                  REST_TEXT_NAME,   REST_MAX_NAME}, /* give_order: the device's log */
  {"comment",                REST_TEXT_FREE,   REST_MAX_TEXT}, /* alert_silence, alert_ack */
  {NULL, 0, 0},
};

const struct rest_limit *rest_limit_of(const char *member) {
  for (const struct rest_limit *l = rest_limits; l->member; l++)
    if (strcmp(l->member, member) == 0) return l;
  return NULL;
}

/* The first control character of UTF-8 text `s` that `kind` refuses (its code point), or -1.
 * C0 (U+0000-U+001F), DEL (U+007F) and C1 (U+0080-U+009F, UTF-8 C2 80..C2 9F). */
static long control_char(const unsigned char *s, enum rest_text kind) {
  if (kind != REST_TEXT_NAME && kind != REST_TEXT_FREE) return -1;
  for (; *s; s++) {
    if (*s < 0x20 || *s == 0x7f) {
      if (kind == REST_TEXT_FREE && (*s == '\t' || *s == '\n' || *s == '\r')) continue;
      return *s;
    }
    if (*s == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) return s[1];
  }
  return -1;
}

static bool text_ok(const struct rest_limit *l, const char *s) {
  return strlen(s) <= l->max && control_char((const unsigned char *)s, l->kind) < 0;
}

/* `s` against row `l`: 0, or EF_EINVAL with the message naming prefix + rel (a prefix such as
 * "devices[3]." and the member's path). The path is only formatted for a refusal. */
static int check_row(const struct rest_limit *l, const char *prefix, const char *rel,
                     const char *s, char *err, size_t errlen) {
  char path[160];
  if (text_ok(l, s)) return 0;
  size_t len = strlen(s);
  long cc = control_char((const unsigned char *)s, l->kind);
  snprintf(path, sizeof path, "%s%s", prefix ? prefix : "", rel);
  if (len > l->max && l->kind == REST_TEXT_SECRET)
    snprintf(err, errlen, "%s longer than %zu bytes (bcrypt uses at most %zu)", path, l->max,
             l->max);
  else if (len > l->max)
    snprintf(err, errlen, "%s longer than %zu bytes", path, l->max);
  else
    snprintf(err, errlen, "%s contains a control character (U+%04lX)%s", path, (unsigned long)cc,
             l->kind == REST_TEXT_FREE ? ": only tab, line feed and carriage return may appear"
                                       : "");
  return EF_EINVAL;
}

int rest_text_check(const char *member, const char *path, const char *s, char *err,
                    size_t errlen) {
  const struct rest_limit *l = rest_limit_of(member);
  if (!path) path = member;
  if (!l) { /* a programming error: every stored member has a row */
    snprintf(err, errlen, "%s: no limit known", path);
    return EF_EINVAL;
  }
  return check_row(l, NULL, path, s, err, errlen);
}

/* check_row on a call: 0, or -1 with the 400 set. A NULL row is the programming error above. */
static int check_at(struct rest_call *c, const struct rest_limit *l, const char *prefix,
                    const char *rel, const char *s) {
  char err[256];
  if (!s) return 0;
  if (!l) {
    rest_fail(c, 500, REST_INNER, "%s: no limit known", rel);
    return -1;
  }
  if (check_row(l, prefix, rel, s, err, sizeof err) == 0) return 0;
  rest_fail(c, 400, REST_GENERAL, "%s", err);
  return -1;
}

int rest_check_text(struct rest_call *c, const char *member, const char *prefix, const char *s) {
  return s ? check_at(c, rest_limit_of(member), prefix, member, s) : 0;
}

/* ----- device bodies: up to 100,000 per batch, so the rows are looked up once ----- */

/* The device's columns, where a body has them, and their rows (filled once). */
static struct device_member {
  const char *parent, *key; /* parent NULL: top level */
  size_t off;
  char member[48];          /* "hardware.sn" */
  const struct rest_limit *limit;
} device_members[] = {
#define REST_DEV_MEMBER_(col, parent, key) \
  {parent, key, offsetof(struct store_device, col), "", NULL},
    STORE_DEVICE_FIELDS(REST_DEV_MEMBER_)
#undef REST_DEV_MEMBER_
};
#define NMEMBERS (sizeof device_members / sizeof *device_members)

static const char *const nic_keys[] = {"type", "mac", "ipv4"};
static const struct rest_limit *nic_limits[3], *password_limit;
static pthread_once_t rows_once = PTHREAD_ONCE_INIT;

static void find_rows(void) { /* pool threads check bodies at once: pthread_once */
  for (size_t i = 0; i < NMEMBERS; i++) {
    struct device_member *m = &device_members[i];
    snprintf(m->member, sizeof m->member, "%s%s%s", m->parent ? m->parent : "",
             m->parent ? "." : "", m->key);
    m->limit = rest_limit_of(m->member);
  }
  for (size_t k = 0; k < 3; k++) {
    char member[32];
    snprintf(member, sizeof member, "nic[].%s", nic_keys[k]);
    nic_limits[k] = rest_limit_of(member);
  }
  password_limit = rest_limit_of("password");
}

int rest_check_device(struct rest_call *c, const struct store_device *d, const json_t *obj,
                      const char *prefix) {
  pthread_once(&rows_once, find_rows);
  if (check_at(c, password_limit, prefix, "password", d->password)) return -1;
  for (size_t i = 0; i < NMEMBERS; i++) {
    const struct device_member *m = &device_members[i];
    const char *s = *(char *const *)((const char *)d + m->off);
    if (check_at(c, m->limit, prefix, m->member, s)) return -1;
  }
  /* nic's own strings (device_from_json keeps the array as JSON text, bounded as a whole above) */
  const json_t *nic = json_is_object(obj) ? json_object_get(obj, "nic") : NULL;
  for (size_t i = 0; i < json_array_size(nic); i++) {
    for (size_t k = 0; k < 3; k++) {
      const char *s = json_string_value(json_object_get(json_array_get(nic, i), nic_keys[k]));
      char rel[48];
      if (!s || (nic_limits[k] && text_ok(nic_limits[k], s))) continue;
      snprintf(rel, sizeof rel, "nic[%zu].%s", i, nic_keys[k]);
      if (check_at(c, nic_limits[k], prefix, rel, s)) return -1;
    }
  }
  return 0;
}
