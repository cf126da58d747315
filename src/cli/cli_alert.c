/* SPDX-License-Identifier: MIT */
/* cli_alert.c -- `edgefleetctl alerts` and `edgefleetctl rules` (docs/cli.md#alerts): the open
 * and recently resolved alerts, the alert log, acknowledging and silencing; the rule table
 * (list, add, update, delete). Rule members come from --params '{...}' and then key=value
 * arguments, which win; a value is read as JSON when it parses (85, true, null) and as a string
 * otherwise. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct col alert_cols[] = {
  {"STATE", "state", NULL, COL_TEXT},
  {"SEVERITY", "severity", NULL, COL_TEXT},
  {"RULE", "rule", NULL, COL_TEXT},
  {"SUMMARY", "summary", NULL, COL_TEXT},
  {"SINCE", "since", NULL, COL_TIME},
  {"SILENCED", "silenced", NULL, COL_TEXT},
  {"ACKED BY", "acked_by", NULL, COL_TEXT},
  {"FINGERPRINT", "fingerprint", NULL, COL_TEXT},
  {NULL, NULL, NULL, COL_TEXT},
};

static const struct col log_cols[] = {
  {"TIME", "time", NULL, COL_TIME},
  {"EVENT", "event", NULL, COL_TEXT},
  {"RULE", "rule", NULL, COL_TEXT},
  {"SUMMARY", "summary", NULL, COL_TEXT},
  {"RECEIVER", "receiver", NULL, COL_TEXT},
  {"OUTCOME", "outcome", NULL, COL_TEXT},
  {"FINGERPRINT", "fingerprint", NULL, COL_TEXT},
  {NULL, NULL, NULL, COL_TEXT},
};

static const struct col rule_cols[] = {
  {"NAME", "name", NULL, COL_TEXT},
  {"KIND", "kind", NULL, COL_TEXT},
  {"PARAM", "param", NULL, COL_TEXT},
  {"SEVERITY", "severity", NULL, COL_TEXT},
  {"THRESHOLD", "threshold", NULL, COL_TEXT},
  {"CLEAR", "clear", NULL, COL_TEXT},
  {"UNIT", "unit", NULL, COL_TEXT},
  {"FOR (MS)", "for", NULL, COL_TEXT},
  {"ENABLED", "enabled", NULL, COL_TEXT},
  {"FIRING", "firing", NULL, COL_TEXT},
  {NULL, NULL, NULL, COL_TEXT},
};

static void show_alerts(json_t *data) { out_table(out_path(data, "alerts"), alert_cols); }
static void show_log(json_t *data) { out_table(out_path(data, "rows"), log_cols); }
static void show_rules(json_t *data) { out_table(out_path(data, "rules"), rule_cols); }

int cli_alerts(struct cli *c) {
  json_t *data;
  int rc = cli_get(c, &data, "alert_query_all", NULL);
  return rc ? rc : cli_out(c, data, show_alerts);
}

int cli_alerts_log(struct cli *c) {
  json_t *data;
  int rc = cli_get(c, &data, "alert_log_query", NULL);
  if (rc) return rc;
  /* the server answers its newest 1000; --limit (default 100) keeps the newest of them */
  json_t *rows = json_object_get(data, "rows");
  size_t keep = c->o.limit ? (size_t)c->o.limit : 100;
  while (json_array_size(rows) > keep) json_array_remove(rows, json_array_size(rows) - 1);
  return cli_out(c, data, show_log);
}

int cli_alerts_ack(struct cli *c) {
  json_t *data;
  int rc = cli_send(c, &data, "POST", "alert_ack", json_pack("{s:s}", "fingerprint", c->args[0]));
  return rc ? rc : cli_out(c, data, out_kv);
}

int cli_alerts_silence(struct cli *c) {
  if (!c->nargs && !c->o.rule)
    return cli_usage_error(c, "give a FINGERPRINT or --rule RULE");
  json_t *body = json_pack("{s:I}", "duration", (json_int_t)c->o.duration), *data;
  if (c->nargs) json_object_set_new(body, "fingerprint", json_string(c->args[0]));
  if (c->o.rule) json_object_set_new(body, "rule", json_string(c->o.rule));
  if (c->o.comment) json_object_set_new(body, "comment", json_string(c->o.comment));
  int rc = cli_send(c, &data, "POST", "alert_silence", body);
  return rc ? rc : cli_out(c, data, out_kv);
}

int cli_rules(struct cli *c) {
  json_t *data;
  int rc = cli_get(c, &data, "alert_rule_query_all", NULL);
  return rc ? rc : cli_out(c, data, show_rules);
}

/* --params and then key=value arguments from args[from] on: the rule's members, or NULL
 * after a usage error. */
static json_t *members(struct cli *c, int from) {
  json_t *o;
  if (c->o.params) {
    json_error_t jerr;
    o = json_loads(c->o.params, 0, &jerr);
    if (!json_is_object(o)) {
      json_decref(o);
      cli_usage_error(c, "--params must be a JSON object");
      return NULL;
    }
  } else {
    o = json_object();
  }
  for (int i = from; i < c->nargs; i++) {
    const char *a = c->args[i], *eq = strchr(a, '=');
    if (!eq || eq == a) {
      json_decref(o);
      cli_usage_error(c, "'%s' is not key=value", a);
      return NULL;
    }
    json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
    if (!v) v = json_string(eq + 1);
    char key[128];
    snprintf(key, sizeof key, "%.*s", (int)(eq - a), a);
    json_object_set_new(o, key, v);
  }
  return o;
}

int cli_rules_add(struct cli *c) {
  json_t *body = members(c, 0), *data;
  if (!body) return CLI_USAGE;
  int rc = cli_send(c, &data, "POST", "alert_rule_add", body);
  return rc ? rc : cli_out(c, data, out_kv);
}

int cli_rules_update(struct cli *c) {
  json_t *body = members(c, 1), *data;
  if (!body) return CLI_USAGE;
  json_object_set_new(body, "name", json_string(c->args[0]));
  int rc = cli_send(c, &data, "POST", "alert_rule_update", body);
  return rc ? rc : cli_out(c, data, out_kv);
}

int cli_rules_delete(struct cli *c) {
  json_t *data;
  int rc = cli_send(c, &data, "POST", "alert_rule_delete",
                    json_pack("{s:s}", "name", c->args[0]));
  return rc ? rc : cli_out(c, data, out_ok);
}
