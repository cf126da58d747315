/* SPDX-License-Identifier: MIT */
/* proto.c -- building and parsing southbound messages (see proto.h). */
#include "proto.h"

#include <stdlib.h>
#include <string.h>

#include "edgefleet/error.h"
#include "jsonutil.h"
#include "mem.h"
#include "wire.h"

char *proto_login(const char *device_id, const char *device_sn, const char *device_model,
                  const char *password, const char *token) {
  json_t *o = json_object();
  if (token && device_id && *device_id) {
    json_object_set_new(o, "device_id", json_string(device_id));
    json_object_set_new(o, "token", json_string(token));
  } else if (device_id && *device_id) {
    json_object_set_new(o, "device_id", json_string(device_id));
    json_object_set_new(o, "password", json_string(password ? password : ""));
  } else if (device_sn && *device_sn && device_model && *device_model) {
    json_object_set_new(o, "device_sn", json_string(device_sn));
    json_object_set_new(o, "device_model", json_string(device_model));
    json_object_set_new(o, "password", json_string(password ? password : ""));
  } else {
    json_decref(o);
    return NULL;
  }
  return jdump_decref(o);
}

char *proto_ping(void) {
  return ef_strdup(WIRE_PING_FRAME);
}

char *proto_status(const char *device_id, const json_t *sections, const json_t *extra) {
  json_t *data = json_object();
  if (json_is_object(extra)) json_object_update(data, (json_t *)extra);
  if (json_is_object(sections)) json_object_update(data, (json_t *)sections);
  json_object_set_new(data, "device_id", json_string(device_id ? device_id : ""));
  json_object_set_new(data, "dev_state", json_string(WIRE_STATE_ONLINE));
  json_t *o = json_pack("{s:s, s:{}, s:o}", "type", WIRE_UPLOAD_STATUS, "Headers", "data", data);
  return jdump_decref(o);
}

char *proto_result(bool success, const char *message, const json_t *order_id) {
  json_t *h = json_pack("{s:s}", "message", message ? message : "");
  if (order_id) json_object_set_new(h, "order_id", json_deep_copy(order_id));
  json_t *o = json_pack("{s:s, s:s, s:o, s:{}}", "type", WIRE_UPLOAD_RESULT, "status",
                        success ? WIRE_STATUS_SUCCESS : WIRE_STATUS_FAIL, "Headers", h, "data");
  return jdump_decref(o);
}

char *proto_miner(const char *data_json, bool full) {
  json_t *data = data_json ? jparse_object(data_json, strlen(data_json)) : NULL;
  if (!data) return NULL;
  json_t *o = json_pack("{s:s, s:{s:b}, s:o}", "type", WIRE_UPLOAD_MINER, "Headers", "full",
                        full, "data", data);
  return jdump_decref(o);
}

int64_t proto_expiry_ms(const json_t *v) {
  double d = 0;
  if (json_is_integer(v)) d = (double)json_integer_value(v);
  else if (json_is_real(v)) d = json_real_value(v);
  else if (json_is_string(v)) {
    char *end;
    d = strtod(json_string_value(v), &end);
    if (*end) return 0;
  }
  if (!(d > 0) || d > 9e15) return 0;
  if (d < 1e11) d *= 1000; /* seconds */
  return (int64_t)d;
}

static const struct {
  const char *name;
  enum proto_type type;
} types[] = {
    {WIRE_PING_PONG, PROTO_PONG},
    {WIRE_STATUS_ACK, PROTO_STATUS_ACK},
    {WIRE_GIVE_ORDER, PROTO_GIVE_ORDER},
    {WIRE_RESTART_CONFIRM, PROTO_RESTART_CONFIRM},
    {WIRE_REPORT_FULL, PROTO_REPORT_FULL},
    {WIRE_MINER_ACK, PROTO_MINER_ACK},
};

int proto_parse(const char *text, size_t len, struct proto_msg *out) {
  memset(out, 0, sizeof *out);
  out->root = jparse_object(text, len);
  if (!out->root) return EF_EPARSE;
  json_t *root = out->root;
  const char *type = jstr(root, "type");
  out->type = PROTO_UNKNOWN;
  if (!type) {
    const char *status = jstr(root, "status");
    if (status) {
      out->type = PROTO_LOGIN_REPLY;
      out->success = strcmp(status, WIRE_STATUS_SUCCESS) == 0;
      out->message = jstr(root, "message");
      json_t *data = jobj(root, "data");
      if (data) {
        out->device_id = jstr(data, "device_id");
        out->token = jstr(data, "token");
        out->token_expires = proto_expiry_ms(json_object_get(data, "token_expires"));
      }
    }
    return 0;
  }
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp(type, types[i].name) == 0) out->type = types[i].type;
  if (out->type == PROTO_GIVE_ORDER) {
    json_t *h = jobj(root, "Headers");
    json_t *data = jobj(root, "data");
    out->order_type = h ? jstr(h, "order_type") : NULL;
    json_t *id = h ? json_object_get(h, "order_id") : NULL;
    out->order_id = id && !json_is_null(id) ? id : NULL;
    json_t *params = data ? jobj(data, "params") : NULL;
    out->params = params ? jdump(params) : ef_strdup("{}");
    out->remote_dir = data ? jstr(data, "remote_dir") : NULL;
    out->order_device = data ? jstr(data, "device_id") : NULL;
  }
  return 0;
}

void proto_msg_free(struct proto_msg *m) {
  ef_free(m->params);
  json_decref(m->root);
  memset(m, 0, sizeof *m);
}
