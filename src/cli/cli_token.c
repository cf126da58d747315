/* SPDX-License-Identifier: MIT */
/* cli_token.c -- `edgefleetctl token add|list|revoke`: API tokens (api_token_add,
 * api_token_query_all, api_token_delete in docs/api.md). A new token goes to stdout alone, so
 * that TOKEN=$(edgefleetctl token add ...) works; its id and scope go to stderr. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void show_token(json_t *data) {
  const json_t *tok = out_path(data, "token"), *id = out_path(data, "token_id"),
               *scope = out_path(data, "scope");
  puts(json_is_string(tok) ? json_string_value(tok) : "?");
  fprintf(stderr, "edgefleetctl: %s token %s made; it is shown only this once\n",
          json_is_string(scope) ? json_string_value(scope) : "?",
          json_is_string(id) ? json_string_value(id) : "?");
}

int cli_token_add(struct cli *c) {
  const char *scope = c->o.scope ? c->o.scope : c->o.kind;
  if (c->o.scope && c->o.kind && strcmp(c->o.scope, c->o.kind) != 0)
    return cli_usage_error(c, "--kind is the old name of --scope: give one");
  if (!scope) return cli_usage_error(c, "--scope is required");
  if (strcmp(scope, "read") != 0 && strcmp(scope, "operator") != 0 &&
      strcmp(scope, "admin") != 0)
    return cli_usage_error(c, "--scope must be admin, operator or read");
  json_t *body = json_pack("{s:s, s:s}", "scope", scope, "name", c->o.name), *data;
  if (c->o.groups) {
    json_t *arr = json_array();
    for (const char *p = c->o.groups; *p;) {
      size_t l = strcspn(p, ",");
      if (l == 0) {
        json_decref(arr);
        json_decref(body);
        return cli_usage_error(c, "--groups: group ids separated by commas");
      }
      json_array_append_new(arr, json_stringn(p, l));
      p += l;
      if (*p == ',') p++;
    }
    json_object_set_new(body, "groups", arr);
  }
  if (c->o.expires)
    json_object_set_new(body, "expires_in", json_integer((c->o.expires + 999) / 1000));
  int rc = cli_send(c, &data, "POST", "api_token_add", body);
  return rc ? rc : cli_out(c, data, show_token);
}

static const struct col token_cols[] = {
  {"ID", "token_id", NULL, COL_TEXT},
  {"NAME", "name", NULL, COL_TEXT},
  {"SCOPE", "scope", NULL, COL_TEXT},
  {"GROUPS", "groups", NULL, COL_TEXT},
  {"CREATED", "created_time", NULL, COL_TIME},
  {"LAST USED", "last_used_time", NULL, COL_TIME},
  {"EXPIRES", "expires_time", NULL, COL_TIME},
  {NULL, NULL, NULL, COL_TEXT},
};

static void show_tokens(json_t *arr) { out_table(arr, token_cols); }

int cli_token_list(struct cli *c) {
  json_t *data;
  int rc = cli_get(c, &data, "api_token_query_all", NULL);
  return rc ? rc : cli_out(c, data, show_tokens);
}

int cli_token_revoke(struct cli *c) {
  json_t *data;
  int rc = cli_send(c, &data, "DELETE", "api_token_delete",
                    json_pack("{s:s}", "token_id", c->args[0]));
  return rc ? rc : cli_out(c, data, out_ok);
}
