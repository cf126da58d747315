/* SPDX-License-Identifier: MIT */
/* cli_order.c -- `edgefleetctl order` and `group-order`: give one device, or every device of a
 * group, an order with its parameters (give_order, group_give_order in docs/api.md).
 *
 * Parameters come from --params '{...}' and then key=value arguments, which win; a value is
 * taken as JSON when it parses as JSON (n=5, on=true, list=[1,2]) and as a string otherwise. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mem.h"

static const struct col result_cols[] = {
  {"DEVICE", "device_id", NULL, COL_TEXT},
  {"STATUS", "status", NULL, COL_TEXT},
  {"MESSAGE", "message", NULL, COL_TEXT},
  {NULL, NULL, NULL, COL_TEXT},
};

/* The order body for `target_key` = args[0], order args[1], params from the rest; NULL after
 * a usage error has been printed. */
static json_t *order_body(struct cli *c, const char *target_key) {
  json_t *params;
  if (c->o.params) {
    json_error_t jerr;
    params = json_loads(c->o.params, 0, &jerr);
    if (!json_is_object(params)) {
      json_decref(params);
      cli_usage_error(c, "--params must be a JSON object%s%s", params ? "" : ": ",
                      params ? "" : jerr.text);
      return NULL;
    }
  } else {
    params = json_object();
  }
  for (int i = 2; i < c->nargs; i++) {
    const char *a = c->args[i], *eq = strchr(a, '=');
    if (!eq || eq == a) {
      json_decref(params);
      cli_usage_error(c, "'%s' is not key=value", a);
      return NULL;
    }
    char *key = ef_strndup(a, (size_t)(eq - a));
    json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
    json_object_set_new(params, key, v ? v : json_string(eq + 1));
    ef_free(key);
  }
  json_t *body = json_pack("{s:s, s:s, s:o}", target_key, c->args[0], "order", c->args[1],
                           "params", params);
  if (!body) cli_usage_error(c, "arguments must be UTF-8 text");
  return body;
}

static void show_message(json_t *data) {
  const json_t *m = out_path(data, "message");
  if (json_is_string(m)) {
    const char *s = json_string_value(m);
    size_t n = strlen(s);
    fputs(s, stdout);
    if (!n || s[n - 1] != '\n') fputc('\n', stdout);
  } else {
    out_kv(data);
  }
}

static void show_results(json_t *data) {
  out_table(out_path(data, "results"), result_cols);
  char *ok = out_text(out_path(data, "succeeded"), COL_TEXT);
  char *bad = out_text(out_path(data, "failed"), COL_TEXT);
  printf("%s succeeded, %s failed\n", ok, bad);
  ef_free(ok);
  ef_free(bad);
}

int cli_order(struct cli *c) {
  json_t *body = order_body(c, "device_id"), *data;
  if (!body) return CLI_USAGE;
  int rc = cli_send(c, &data, "POST", "give_order", body);
  return rc ? rc : cli_out(c, data, show_message);
}

int cli_group_order(struct cli *c) {
  json_t *body = order_body(c, "group_id"), *data;
  if (!body) return CLI_USAGE;
  int rc = cli_send(c, &data, "POST", "group_give_order", body);
  return rc ? rc : cli_out(c, data, show_results);
}
