/* SPDX-License-Identifier: MIT */
/* cli_token.c -- `edgefleetctl token add`: make a read or admin API token (api_token_add in
 * docs/api.md). The new token goes to stdout alone, so that TOKEN=$(edgefleetctl token add ...)
 * works; its id and kind go to stderr. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void show_token(json_t *data) {
  const json_t *tok = out_path(data, "token"), *id = out_path(data, "token_id"),
               *kind = out_path(data, "kind");
  puts(json_is_string(tok) ? json_string_value(tok) : "?");
  fprintf(stderr, "edgefleetctl: %s token %s made; it is shown only this once\n",
          json_is_string(kind) ? json_string_value(kind) : "?",
          json_is_string(id) ? json_string_value(id) : "?");
}

int cli_token_add(struct cli *c) {
  if (strcmp(c->o.kind, "read") != 0 && strcmp(c->o.kind, "admin") != 0)
    return cli_usage_error(c, "--kind must be read or admin");
  json_t *body = json_pack("{s:s}", "kind", c->o.kind), *data;
  if (c->o.name) json_object_set_new(body, "name", json_string(c->o.name));
  int rc = cli_send(c, &data, "POST", "api_token_add", body);
  return rc ? rc : cli_out(c, data, show_token);
}
