/* SPDX-License-Identifier: MIT */
/* jsonutil.c -- typed accessors over jansson (see jsonutil.h). */
#include "jsonutil.h"

#include <stdlib.h>

#include "mem.h"

const char *jstr(const json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

json_t *jobj(const json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  return json_is_object(v) ? v : NULL;
}

json_t *jparse_object(const char *text, size_t len) {
  json_error_t e;
  json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
  if (v && !json_is_object(v)) {
    json_decref(v);
    return NULL;
  }
  return v;
}

char *jdump(const json_t *v) {
  char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
  if (!s) s = ef_strdup("null");
  return s;
}

char *jdump_decref(json_t *v) {
  char *s = jdump(v);
  json_decref(v);
  return s;
}
