/* SPDX-License-Identifier: MIT */
/* rest_call.c -- a REST call's result and answer (rest.h): what route stages set (rest_ok,
 * rest_fail, rest_store_fail), argument parsing, and the one answer that ends the call. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "device_json.h"
#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "log.h"
#include "mem.h"
#include "rest.h"

/* ----- answers ----- */

static void respond_json(struct net_req *req, int status, json_t *v) {
  char *s = jdump_decref(v);
  net_req_respond(req, status, s, strlen(s));
  ef_free(s);
}

void rest_respond_fail(struct net_req *req, int status, const char *type, const char *msg) {
  respond_json(req, status,
               json_pack("{s:s, s:s, s:s}", "status", "fail", "type", type, "message", msg));
}

int rest_fail(struct rest_call *c, int http, const char *type, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0) msg = NULL;
  va_end(ap);
  ef_free(c->emsg);
  c->emsg = msg ? msg : ef_strdup("error");
  c->etype = type;
  c->status = http;
  return REST_NEXT;
}

int rest_ok(struct rest_call *c, json_t *data) {
  if (c->data) json_decref(c->data);
  c->data = data;
  return REST_NEXT;
}

/* The answer to a failure of the database itself (docs/api.md#conventions). */
static const char *db_fail_message(int err, int *http) {
  *http = 500;
  switch (err) {
  case EF_EFULL:
    *http = 507;
    return "database full: no space left for the database";
  case EF_ECORRUPT:
    return "database corrupt: the database file is damaged; restore it from a backup";
  case EF_EREADONLY:
    return "database read-only: the database file cannot be written (check its permissions "
           "and its file system)";
  case EF_EIO:
    return "database I/O error: the database file cannot be read or written (see the server "
           "log)";
  case EF_EBUSY:
    *http = 503;
    return "database busy: the database is locked by another process";
  case EF_EUNAVAIL:
    *http = 503;
    return "database unavailable: the database server cannot be reached; retry later";
  case EF_ENOMEM:
    return "database out of memory";
  default:
    return "Maybe JSON parameter type incorrect(please check) or DataBase Inner Error";
  }
}

int rest_db_fail(struct rest_call *c, int err, const char *note) {
  int http;
  const char *msg = db_fail_message(err, &http);
  if (note) return rest_fail(c, http, REST_DATABASE, "%s (%s)", msg, note);
  return rest_fail(c, http, REST_DATABASE, "%s", msg);
}

int rest_store_fail(struct rest_call *c, int err, const char *type, const char *what,
                    struct store *st) {
  switch (err) {
  case EF_ENOENT: return rest_fail(c, 404, type, "%s NOT FOUND.", what);
  case EF_EEXIST: return rest_fail(c, 409, type, "%s already exists.", what);
  case EF_EINVAL: return rest_fail(c, 400, type, "invalid %s.", what);
  default:
    ef_log(EF_LOG_ERROR, "rest: %s: store error %s: %s", c->route->name, ef_err_name(err),
           st ? store_errmsg(st) : ef_strerror(err));
    return rest_db_fail(c, err, NULL);
  }
}

uint64_t rest_arg_id(struct rest_call *c, int i, const char *what) {
  uint64_t id = 0;
  if (i < REST_MAX_ARGS && c->args[i] && id_parse(c->args[i], &id)) return id;
  rest_fail(c, 400, REST_GENERAL, "%s must be a numeric id", what);
  return 0;
}

uint64_t rest_body_id(struct rest_call *c, const char *key) {
  json_t *v = c->body ? json_object_get(c->body, key) : NULL;
  uint64_t id = 0;
  if (!id_from_json(v, &id)) {
    id = 0;
    if (!v) rest_fail(c, 400, REST_GENERAL, "Missing required parameters! (%s)", key);
    else rest_fail(c, 400, REST_GENERAL, "%s must be a numeric id (string or integer)", key);
  }
  return id;
}

/* ----- the call's life ----- */

static void call_free(struct rest_call *c) {
  for (int i = 0; i < REST_MAX_ARGS; i++) ef_free((char *)c->args[i]);
  if (c->body) json_decref(c->body);
  if (c->data) json_decref(c->data);
  if (c->priv && c->priv_free) c->priv_free(c->priv);
  auth_view_drop(c->view);
  ef_free(c->emsg);
  ef_free(c->token_name);
  ef_free(c);
}

void rest_finish(struct rest_call *c) {
  audit_call(c); /* before the answer frees the request (its peer) */
  if (c->etype) {
    rest_respond_fail(c->req, c->status, c->etype, c->emsg);
  } else {
    json_t *data = c->data ? c->data : json_object();
    c->data = NULL;
    respond_json(c->req, c->status, json_pack("{s:s, s:o}", "status", "success", "data", data));
  }
  call_free(c);
}


size_t rest_keep_seen_devices(const struct rest_call *c, struct store_device *arr, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (rest_sees_device(c, arr[i].device_id)) arr[k++] = arr[i];
    else store_device_clear(&arr[i]);
  }
  return k;
}

size_t rest_keep_seen_groups(const struct rest_call *c, struct store_group *arr, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (rest_sees_group(c, arr[i].group_id)) arr[k++] = arr[i];
    else store_group_clear(&arr[i]);
  }
  return k;
}

/* ----- filters of a body ----- */

bool rest_body_only(struct rest_call *c, const char *const *known, const char *list) {
  const char *key;
  json_t *v;
  json_object_foreach(c->body, key, v) {
    size_t i = 0;
    while (known[i] && strcmp(known[i], key) != 0) i++;
    if (!known[i]) {
      rest_fail(c, 400, REST_GENERAL, "unknown member \"%.64s\" (%s)", key, list);
      return false;
    }
  }
  return true;
}

bool rest_body_ms(struct rest_call *c, const char *key, int64_t *out) {
  json_t *v = json_object_get(c->body, key);
  if (!v) return true;
  if (!json_is_integer(v) || json_integer_value(v) < 0) {
    rest_fail(c, 400, REST_GENERAL, "%s must be a time in ms since the epoch (an integer)", key);
    return false;
  }
  *out = (int64_t)json_integer_value(v);
  return true;
}

bool rest_body_text(struct rest_call *c, const char *key, size_t max, const char **out) {
  json_t *v = json_object_get(c->body, key);
  *out = NULL;
  if (!v) return true;
  if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max) {
    rest_fail(c, 400, REST_GENERAL, "%s must be a non-empty string of at most %zu bytes", key,
              max);
    return false;
  }
  *out = json_string_value(v);
  return true;
}

bool rest_body_str(struct rest_call *c, const char *key, size_t max, char **out) {
  const char *s;
  if (!rest_body_text(c, key, max, &s)) return false;
  if (s) *out = ef_strdup(s);
  return true;
}

bool rest_body_page(struct rest_call *c, size_t max, size_t *limit, uint64_t *before_id) {
  json_t *v;
  if ((v = json_object_get(c->body, "limit"))) {
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        (size_t)json_integer_value(v) > max) {
      rest_fail(c, 400, REST_GENERAL, "limit must be an integer from 1 to %zu", max);
      return false;
    }
    *limit = (size_t)json_integer_value(v);
  }
  if ((v = json_object_get(c->body, "cursor")) && !json_is_null(v)) {
    if (!id_from_json(v, before_id) || *before_id == 0) {
      rest_fail(c, 400, REST_GENERAL, "cursor must be the next_cursor of an earlier answer");
      return false;
    }
  }
  return true;
}
