/* SPDX-License-Identifier: MIT */
/* cli_group.c -- `edgefleetctl group ...`: create, list, show, update and delete groups, and manage
 * which devices are in them (the group_* and relation_* routes of docs/api.md). */
#include <stdio.h>

#include "cli.h"

static const struct col group_cols[] = {
  {"ID", "group_id", NULL, COL_TEXT},
  {"NAME", "group_name", NULL, COL_TEXT},
  {"DESCRIPTION", "group_description", NULL, COL_TEXT},
  {"UPDATED", "updated_time", NULL, COL_TIME},
  {NULL, NULL, NULL, COL_TEXT},
};

void cli_show_groups(json_t *arr) { out_table(arr, group_cols); }

static void show_id(json_t *data) {
  const json_t *id = out_path(data, "group_id");
  puts(json_is_string(id) ? json_string_value(id) : "?");
}

static void show_exists(json_t *data) { puts(json_is_true(out_path(data, "exists")) ? "yes" : "no"); }

/* A body naming a group and/or a device, from positional arguments. */
static json_t *ids(const char *group, const char *device) {
  json_t *body = json_object();
  if (group) json_object_set_new(body, "group_id", json_string(group));
  if (device) json_object_set_new(body, "device_id", json_string(device));
  return body;
}

int cli_group_add(struct cli *c) {
  json_t *body = json_pack("{s:s}", "group_name", c->args[0]), *data;
  if (c->o.description)
    json_object_set_new(body, "group_description", json_string(c->o.description));
  int rc = cli_send(c, &data, "POST", "group_add", body);
  return rc ? rc : cli_out(c, data, show_id);
}

int cli_group_list(struct cli *c) {
  json_t *data;
  int rc = cli_get(c, &data, "group_query_all", NULL);
  return rc ? rc : cli_out(c, data, cli_show_groups);
}

int cli_group_show(struct cli *c) {
  json_t *data;
  int rc = cli_get(c, &data, "group_query", c->args[0], NULL);
  return rc ? rc : cli_out(c, data, out_kv);
}

int cli_group_update(struct cli *c) {
  if (!c->o.name && !c->o.description) return cli_usage_error(c, "nothing to update");
  json_t *body = ids(c->args[0], NULL), *data;
  if (c->o.name) json_object_set_new(body, "group_name", json_string(c->o.name));
  if (c->o.description)
    json_object_set_new(body, "group_description", json_string(c->o.description));
  int rc = cli_send(c, &data, "PUT", "group_update", body);
  return rc ? rc : cli_out(c, data, out_kv);
}

int cli_group_delete(struct cli *c) {
  json_t *data;
  int rc = cli_send(c, &data, "DELETE", "group_delete", ids(c->args[0], NULL));
  return rc ? rc : cli_out(c, data, out_ok);
}

int cli_group_devices(struct cli *c) {
  json_t *data;
  int rc = cli_get(c, &data, "group_devices_query", c->args[0], NULL);
  return rc ? rc : cli_out(c, data, cli_show_devices);
}

int cli_group_clear(struct cli *c) {
  json_t *data;
  int rc = cli_send(c, &data, "DELETE", "group_devices_delete", ids(c->args[0], NULL));
  return rc ? rc : cli_out(c, data, out_ok);
}

int cli_group_add_device(struct cli *c) {
  json_t *data;
  int rc = cli_send(c, &data, "POST", "relation_add", ids(c->args[0], c->args[1]));
  return rc ? rc : cli_out(c, data, out_ok);
}

int cli_group_remove_device(struct cli *c) {
  json_t *data;
  int rc = cli_send(c, &data, "DELETE", "relation_delete", ids(c->args[0], c->args[1]));
  return rc ? rc : cli_out(c, data, out_ok);
}

int cli_group_has(struct cli *c) {
  json_t *data; /* the route takes the device first */
  int rc = cli_get(c, &data, "relation_query", c->args[1], c->args[0], NULL);
  return rc ? rc : cli_out(c, data, show_exists);
}
