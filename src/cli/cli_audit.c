/* SPDX-License-Identifier: MIT */
/* cli_audit.c -- `edgefleetctl audit`: the audit log of mutations and orders (audit_query in
 * docs/api.md), newest first, with its filters. A full page ends with the cursor of the next
 * one on stderr (the table on stdout stays a table). The filter of the calling token is --by:
 * --token is the API token the command uses. */
#include <stdio.h>

#include "cli.h"

static const struct col audit_cols[] = {
  {"TIME", "time", NULL, COL_TIME},
  {"TOKEN", "token_name", NULL, COL_TEXT},
  {"TOKEN ID", "token_id", NULL, COL_TEXT},
  {"ROUTE", "route", NULL, COL_TEXT},
  {"TARGET", "target", NULL, COL_TEXT},
  {"STATUS", "status", NULL, COL_TEXT},
  {"OUTCOME", "outcome", NULL, COL_TEXT},
  {"PEER", "peer", NULL, COL_TEXT},
  {NULL, NULL, NULL, COL_TEXT},
};

static void show_audit(json_t *data) {
  out_table(out_path(data, "rows"), audit_cols);
  const json_t *next = out_path(data, "next_cursor");
  if (json_is_string(next))
    fprintf(stderr, "edgefleetctl: more rows: --cursor %s\n", json_string_value(next));
}

int cli_audit(struct cli *c) {
  json_t *body = json_object(), *data;
  if (c->o.since) json_object_set_new(body, "since", json_integer(c->o.since));
  if (c->o.until) json_object_set_new(body, "until", json_integer(c->o.until));
  if (c->o.limit) json_object_set_new(body, "limit", json_integer(c->o.limit));
  if (c->o.by) json_object_set_new(body, "token", json_string(c->o.by));
  if (c->o.route) json_object_set_new(body, "route", json_string(c->o.route));
  if (c->o.target) json_object_set_new(body, "target", json_string(c->o.target));
  if (c->o.outcome) json_object_set_new(body, "outcome", json_string(c->o.outcome));
  if (c->o.cursor) json_object_set_new(body, "cursor", json_string(c->o.cursor));
  int rc = cli_send(c, &data, "POST", "audit_query", body);
  return rc ? rc : cli_out(c, data, show_audit);
}
