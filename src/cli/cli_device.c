/* SPDX-License-Identifier: MIT */
/* cli_device.c -- `edgefleetctl device ...`: register, list, show, update and delete devices, and
 * read their event log, live status and groups (the device_* routes of docs/api.md). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mem.h"

static const struct col device_cols[] = {
  {"ID", "device_id", NULL, COL_TEXT},
  {"NAME", "device_name", NULL, COL_TEXT},
  {"SN/MODEL", "hardware.sn", "hardware.model", COL_TEXT},
  {"STATE", "dev_state", NULL, COL_TEXT},
  {"UPDATED", "updated_time", NULL, COL_TIME},
  {NULL, NULL, NULL, COL_TEXT},
};

static const struct col log_cols[] = {
  {"TIME", "time", NULL, COL_TIME},
  {"EVENT", "event", NULL, COL_TEXT},
  {"RESULT", "result", NULL, COL_TEXT},
  {"DETAIL", "detail", NULL, COL_TEXT},
  {NULL, NULL, NULL, COL_TEXT},
};

void cli_show_devices(json_t *arr) { out_table(arr, device_cols); }

static void show_log(json_t *arr) { out_table(arr, log_cols); }

static void show_id(json_t *data) {
  const json_t *id = out_path(data, "device_id");
  puts(json_is_string(id) ? json_string_value(id) : "?");
}

static void show_ids(json_t *data) {
  const json_t *ids = out_path(data, "device_ids");
  for (size_t i = 0; i < json_array_size(ids); i++) {
    const char *s = json_string_value(json_array_get(ids, i));
    puts(s ? s : "?");
  }
}

static void set_str(json_t *obj, const char *key, const char *value) {
  if (value) json_object_set_new(obj, key, json_string(value));
}

/* The device body members given on the command line (only those). */
static json_t *device_body(const struct cli_opts *o) {
  json_t *body = json_object();
  set_str(body, "device_name", o->name);
  set_str(body, "device_type", o->type);
  set_str(body, "dev_description", o->description);
  set_str(body, "password", o->password);
  if (o->sn || o->model) {
    json_t *hw = json_object();
    set_str(hw, "sn", o->sn);
    set_str(hw, "model", o->model);
    json_object_set_new(body, "hardware", hw);
  }
  return body;
}

int cli_device_add(struct cli *c) {
  json_t *data;
  int rc = cli_send(c, &data, "POST", "device_add", device_body(&c->o));
  if (rc == CLI_OK) json_object_del(data, "password"); /* the caller knows it; keep it off screens */
  return rc ? rc : cli_out(c, data, show_id);
}

int cli_device_add_batch(struct cli *c) {
  const char *path = c->args[0];
  json_error_t jerr;
  json_t *in = strcmp(path, "-") == 0 ? json_loadf(stdin, 0, &jerr) : json_load_file(path, 0, &jerr);
  if (!in)
    return cli_usage_error(c, "%s:%d:%d: %s", strcmp(path, "-") == 0 ? "stdin" : path, jerr.line,
                           jerr.column, jerr.text);
  json_t *body = in;
  if (json_is_array(in)) {
    body = json_object();
    json_object_set_new(body, "devices", in);
  } else if (!json_is_array(json_object_get(in, "devices"))) {
    json_decref(in);
    return cli_usage_error(c, "%s: expected [device, ...] or {\"devices\": [device, ...]}", path);
  }
  json_t *data;
  int rc = cli_send(c, &data, "POST", "device_add_batch", body);
  return rc ? rc : cli_out(c, data, show_ids);
}

int cli_device_list(struct cli *c) {
  json_t *data;
  int rc = cli_get(c, &data, "device_query_all", NULL);
  return rc ? rc : cli_out(c, data, cli_show_devices);
}

int cli_device_show(struct cli *c) {
  json_t *data;
  int rc = cli_get(c, &data, "device_query", c->args[0], NULL);
  return rc ? rc : cli_out(c, data, out_kv);
}

int cli_device_update(struct cli *c) {
  json_t *body = device_body(&c->o);
  if (json_object_size(body) == 0) {
    json_decref(body);
    return cli_usage_error(c, "nothing to update");
  }
  json_object_set_new(body, "device_id", json_string(c->args[0]));
  json_t *data;
  int rc = cli_send(c, &data, "PUT", "device_update", body);
  return rc ? rc : cli_out(c, data, out_kv);
}

int cli_device_delete(struct cli *c) {
  json_t *data;
  int rc = cli_send(c, &data, "DELETE", "device_delete",
                    json_pack("{s:s}", "device_id", c->args[0]));
  return rc ? rc : cli_out(c, data, out_ok);
}

int cli_device_log(struct cli *c) {
  json_t *data;
  int rc;
  if (c->o.before) {
    char before[32];
    snprintf(before, sizeof before, "%lld", (long long)c->o.before);
    rc = cli_get(c, &data, "device_log_query", c->args[0], before, NULL);
  } else {
    rc = cli_get(c, &data, "device_log_query", c->args[0], NULL);
  }
  return rc ? rc : cli_out(c, data, show_log);
}

int cli_device_status(struct cli *c) {
  json_t *data;
  int rc = cli_get(c, &data, "device_statusInfo_query", c->args[0], NULL);
  return rc ? rc : cli_out(c, data, out_kv);
}

int cli_device_groups(struct cli *c) {
  json_t *data;
  int rc = cli_get(c, &data, "device_groups_query", c->args[0], NULL);
  return rc ? rc : cli_out(c, data, cli_show_groups);
}
