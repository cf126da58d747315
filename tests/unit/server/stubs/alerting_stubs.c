/* SPDX-License-Identifier: MIT */
/* alerting_stubs.c -- alert_eval.c stood in for: one real alert engine (alert.c) with the
 * default rules, made at first use and never evaluated by a timer; a rule change only counts
 * (stub_alert_rule_changes). The engine is stub_alerts for tests that feed it. */
#include "alert.h"
#include "server.h"

struct alerts *stub_alerts;
int stub_alert_rule_changes;

struct alerts *alerting_alerts(struct server *srv) {
  (void)srv;
  if (!stub_alerts) {
    stub_alerts = alerts_new(&(struct alert_opts){.resolved_keep = 60000, .log_max = 100});
    alerts_rules_defaults(stub_alerts);
  }
  return stub_alerts;
}

void alerting_rules_changed(struct server *srv) {
  (void)srv;
  stub_alert_rule_changes++;
}
