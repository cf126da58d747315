/* SPDX-License-Identifier: MIT */
/* test_alert.c -- the alert engine (src/server/alert.c) with the test's own clock: pending ->
 * firing after the for-duration (counted from the condition's known start), resolved when the
 * condition ends, hysteresis (a firing alert resolves only past `clear`), deduplication (one
 * alert and one notification per fingerprint however many rounds), a pending alert that ends
 * is cancelled without a notification, silences hold back notifications until they end,
 * acknowledgements (and the baseline of the increase kinds), the rule table's validation, and
 * the alert log's transitions and delivery outcomes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alert.h"
#include "edgefleet/error.h"

#define S 1000LL
#define T0 1700000000000LL

struct heard {
  int firing, resolved;
  char last_fp[128], last_state[16];
  int64_t starts_at, ends_at;
};

static void on_event(void *ud, const struct alert_event *ev) {
  struct heard *h = ud;
  if (strcmp(ev->state, "firing") == 0) h->firing++;
  else h->resolved++;
  snprintf(h->last_fp, sizeof h->last_fp, "%s", ev->fingerprint);
  snprintf(h->last_state, sizeof h->last_state, "%s", ev->state);
  h->starts_at = ev->starts_at;
  h->ends_at = ev->ends_at;
  assert_non_null(json_object_get(ev->labels, "device"));
}

static struct alerts *new_engine(struct heard *h, const char *rules_json) {
  struct alerts *a = alerts_new(&(struct alert_opts){.resolved_keep = 60 * S, .log_max = 100});
  json_error_t je;
  json_t *rules = json_loads(rules_json, 0, &je);
  assert_non_null(rules);
  char err[256];
  assert_int_equal(alerts_rules_load(a, rules, err, sizeof err), 0);
  json_decref(rules);
  alert_listen(a, on_event, h);
  return a;
}

/* One round at `now` observing value v for device subject "device=1" of rule 0 (v < 0: not
 * observed). */
static void round_(struct alerts *a, int64_t now, double v) {
  alerts_begin(a, now);
  if (v >= 0)
    alerts_observe(a, alerts_rule_at(a, 0), "device=1", json_pack("{s:s}", "device", "1"), v, 0,
                   "cpu hot");
  alerts_end(a);
}

static const char *state_of(struct alerts *a, const char *fp) {
  static char st[16];
  json_t *d = alerts_json(a, 0), *v;
  size_t i;
  st[0] = '\0';
  json_array_foreach(json_object_get(d, "alerts"), i, v)
    if (strcmp(json_string_value(json_object_get(v, "fingerprint")), fp) == 0)
      snprintf(st, sizeof st, "%s", json_string_value(json_object_get(v, "state")));
  json_decref(d);
  return st;
}

#define TEMP_RULE \
  "[{\"name\":\"hot\",\"kind\":\"device_cpu_temp\",\"threshold\":85,\"clear\":80,\"for\":60000}]"

static void pending_firing_resolved(void **state) {
  (void)state;
  struct heard h = {0};
  struct alerts *a = new_engine(&h, TEMP_RULE);
  round_(a, T0, 70);
  assert_string_equal(state_of(a, "hot|device=1"), "");
  round_(a, T0 + 10 * S, 90);
  assert_string_equal(state_of(a, "hot|device=1"), "pending");
  round_(a, T0 + 69 * S, 90); /* 59 s pending */
  assert_string_equal(state_of(a, "hot|device=1"), "pending");
  assert_int_equal(h.firing, 0);
  round_(a, T0 + 70 * S, 90); /* 60 s: fires */
  assert_string_equal(state_of(a, "hot|device=1"), "firing");
  assert_int_equal(h.firing, 1);
  assert_int_equal(h.starts_at, T0 + 70 * S);
  assert_int_equal(alerts_firing_count(a, "hot"), 1);
  assert_int_equal(alerts_firing_count(a, NULL), 1);
  /* dedup: more rounds, no more notifications */
  for (int i = 1; i <= 5; i++) round_(a, T0 + (70 + i * 10) * S, 95);
  assert_int_equal(h.firing, 1);
  /* hysteresis: 82 is below the threshold but above clear: still firing */
  round_(a, T0 + 200 * S, 82);
  assert_string_equal(state_of(a, "hot|device=1"), "firing");
  assert_int_equal(h.resolved, 0);
  round_(a, T0 + 210 * S, 80); /* at clear: resolves */
  assert_string_equal(state_of(a, "hot|device=1"), "resolved");
  assert_int_equal(h.resolved, 1);
  assert_string_equal(h.last_state, "resolved");
  assert_int_equal(h.ends_at, T0 + 210 * S);
  assert_int_equal(alerts_firing_count(a, NULL), 0);
  /* listed for resolved_keep (60 s), then gone */
  round_(a, T0 + 260 * S, 70);
  assert_string_equal(state_of(a, "hot|device=1"), "resolved");
  round_(a, T0 + 271 * S, 70);
  assert_string_equal(state_of(a, "hot|device=1"), "");
  /* the log: pending, firing, resolved */
  json_t *log = alerts_log_json(a, 10);
  assert_int_equal(json_array_size(log), 3);
  assert_string_equal(json_string_value(json_object_get(json_array_get(log, 0), "event")),
                      "resolved");
  assert_string_equal(json_string_value(json_object_get(json_array_get(log, 2), "event")),
                      "pending");
  json_decref(log);
  alerts_free(&a);
  assert_null(a);
}

static void pending_cancelled_and_not_observed(void **state) {
  (void)state;
  struct heard h = {0};
  struct alerts *a = new_engine(&h, TEMP_RULE);
  round_(a, T0, 90);
  assert_string_equal(state_of(a, "hot|device=1"), "pending");
  round_(a, T0 + 30 * S, 84); /* below the threshold while pending: the clear does not apply */
  assert_string_equal(state_of(a, "hot|device=1"), "");
  assert_int_equal(h.firing + h.resolved, 0);
  json_t *log = alerts_log_json(a, 10);
  assert_string_equal(json_string_value(json_object_get(json_array_get(log, 0), "event")),
                      "cancelled");
  json_decref(log);
  /* starts pending again; not observed at all ends it too */
  round_(a, T0 + 40 * S, 90);
  round_(a, T0 + 100 * S, 90);
  assert_int_equal(h.firing, 1);
  round_(a, T0 + 110 * S, -1);
  assert_int_equal(h.resolved, 1);
  alerts_free(&a);
}

static void for_counts_from_since(void **state) {
  (void)state;
  struct heard h = {0};
  struct alerts *a = new_engine(
      &h, "[{\"name\":\"off\",\"kind\":\"device_offline\",\"for\":300000,\"severity\":\"critical\"}]");
  /* the device went offline 299 s before this round */
  alerts_begin(a, T0);
  alerts_observe(a, alerts_rule_at(a, 0), "device=1", json_pack("{s:s}", "device", "1"), 1,
                 T0 - 299 * S, "offline");
  alerts_end(a);
  assert_string_equal(state_of(a, "off|device=1"), "pending");
  alerts_begin(a, T0 + S);
  alerts_observe(a, alerts_rule_at(a, 0), "device=1", json_pack("{s:s}", "device", "1"), 1,
                 T0 - 299 * S, "offline");
  alerts_end(a);
  assert_string_equal(state_of(a, "off|device=1"), "firing");
  assert_int_equal(h.firing, 1);
  alerts_free(&a);
}

static void silence_and_ack(void **state) {
  (void)state;
  struct heard h = {0};
  struct alerts *a = new_engine(
      &h, "[{\"name\":\"hot\",\"kind\":\"device_cpu_temp\",\"threshold\":85}]");
  assert_int_equal(alerts_silence(a, NULL, NULL, T0 + 10 * S, NULL, NULL, T0), EF_EINVAL);
  assert_int_equal(alerts_silence(a, "hot", NULL, T0 - 1, NULL, NULL, T0), EF_EINVAL);
  int64_t id = alerts_silence(a, "hot", NULL, T0 + 100 * S, "maintenance", "ops", T0);
  assert_true(id > 0);
  round_(a, T0 + S, 90);
  assert_string_equal(state_of(a, "hot|device=1"), "firing");
  assert_int_equal(h.firing, 0); /* silenced: no notification */
  json_t *d = alerts_json(a, T0 + S);
  assert_true(json_is_true(json_object_get(json_array_get(json_object_get(d, "alerts"), 0),
                                           "silenced")));
  assert_int_equal(json_array_size(json_object_get(d, "silences")), 1);
  json_decref(d);
  round_(a, T0 + 50 * S, 90);
  assert_int_equal(h.firing, 0);
  round_(a, T0 + 101 * S, 90); /* the silence ended while firing: told now, once */
  assert_int_equal(h.firing, 1);
  round_(a, T0 + 111 * S, 90);
  assert_int_equal(h.firing, 1);
  /* ack */
  assert_int_equal(alerts_ack(a, "nope|device=1", "ops", T0), EF_ENOENT);
  assert_int_equal(alerts_ack(a, "hot|device=1", "ops", T0 + 112 * S), 0);
  d = alerts_json(a, 0);
  json_t *x = json_array_get(json_object_get(d, "alerts"), 0);
  assert_string_equal(json_string_value(json_object_get(x, "acked_by")), "ops");
  assert_string_equal(json_string_value(json_object_get(x, "state")), "firing");
  json_decref(d);
  round_(a, T0 + 120 * S, 70);
  assert_int_equal(h.resolved, 1);
  assert_int_equal(alerts_ack(a, "hot|device=1", "ops", T0 + 121 * S), EF_ENOENT);
  alerts_free(&a);
}

static void silenced_alert_resolving_is_not_told(void **state) {
  (void)state;
  struct heard h = {0};
  struct alerts *a = new_engine(
      &h, "[{\"name\":\"hot\",\"kind\":\"device_cpu_temp\",\"threshold\":85}]");
  assert_true(alerts_silence(a, NULL, "hot|device=1", T0 + 100 * S, NULL, NULL, T0) > 0);
  round_(a, T0 + S, 90);
  round_(a, T0 + 2 * S, 70);
  assert_int_equal(h.firing + h.resolved, 0);
  alerts_free(&a);
}

static void increase_baseline(void **state) {
  (void)state;
  struct heard h = {0};
  struct alerts *a = new_engine(
      &h, "[{\"name\":\"errs\",\"kind\":\"miner_sectors_increase\",\"param\":\"errorSectors\"}]");
  const struct alert_rule *r = alerts_rule_at(a, 0);
#define OBS(now, v)                                                                       \
  do {                                                                                    \
    alerts_begin(a, now);                                                                 \
    alerts_observe(a, r, "miner=f01", json_pack("{s:s, s:s}", "miner", "f01", "device", "9"), \
                   v, 0, "errors");                                                       \
    alerts_end(a);                                                                        \
  } while (0)
  OBS(T0, 3);       /* the first count is the baseline */
  assert_int_equal(h.firing, 0);
  OBS(T0 + S, 5);   /* rose by 2 */
  assert_int_equal(h.firing, 1);
  OBS(T0 + 2 * S, 5);
  assert_int_equal(h.firing, 1);
  assert_int_equal(alerts_ack(a, "errs|miner=f01", "ops", T0 + 3 * S), 0);
  OBS(T0 + 4 * S, 5); /* acknowledged: 5 is the baseline now */
  assert_int_equal(h.resolved, 1);
  OBS(T0 + 5 * S, 6);
  assert_int_equal(h.firing, 2);
  OBS(T0 + 6 * S, 2); /* fell below: resolved, baseline 2 */
  assert_int_equal(h.resolved, 2);
  OBS(T0 + 7 * S, 2);
  assert_int_equal(h.firing, 2);
  alerts_free(&a);
}

static void dedup_many_subjects(void **state) {
  (void)state;
  struct heard h = {0};
  struct alerts *a = new_engine(
      &h, "[{\"name\":\"hot\",\"kind\":\"device_cpu_temp\",\"threshold\":85}]");
  char subj[32], id[16];
  for (int round = 0; round < 3; round++) {
    alerts_begin(a, T0 + round * S);
    for (int i = 0; i < 5000; i++) {
      snprintf(subj, sizeof subj, "device=%d", i);
      snprintf(id, sizeof id, "%d", i);
      alerts_observe(a, alerts_rule_at(a, 0), subj, json_pack("{s:s}", "device", id),
                     i % 2 ? 90 : 50, 0, "hot");
    }
    alerts_end(a);
  }
  assert_int_equal(h.firing, 2500);
  assert_int_equal(alerts_firing_count(a, "hot"), 2500);
  json_t *by = alerts_firing_by_rule(a);
  assert_int_equal(json_integer_value(json_object_get(by, "hot")), 2500);
  json_decref(by);
  alerts_free(&a);
}

static void rule_table(void **state) {
  (void)state;
  struct heard h = {0};
  struct alerts *a = new_engine(&h, "[]");
  char err[700];
  /* the defaults are valid and cover every kind */
  alerts_rules_defaults(a);
  assert_true(alerts_rule_count(a) >= 15);
  for (const struct alert_kind *k = alert_kinds; k->name; k++) {
    bool found = false;
    for (size_t i = 0; i < alerts_rule_count(a); i++)
      if (alerts_rule_at(a, i)->kind == k) found = true;
    assert_true(found);
  }
  size_t n = alerts_rule_count(a);
  json_t *bad[] = {
    json_pack("{s:s}", "kind", "device_offline"),                       /* no name */
    json_pack("{s:s, s:s}", "name", "x", "kind", "nope"),               /* unknown kind */
    json_pack("{s:s, s:s}", "name", "x y", "kind", "device_offline"),   /* bad name */
    json_pack("{s:s, s:s}", "name", "x", "kind", "miner_job_long"),     /* needs param */
    json_pack("{s:s, s:s, s:s}", "name", "x", "kind", "device_offline", "param", "p"),
    json_pack("{s:s, s:s, s:s}", "name", "x", "kind", "miner_balance_low", "param", "wallet"),
    json_pack("{s:s, s:s, s:i, s:i}", "name", "x", "kind", "device_disk", "threshold", 90,
              "clear", 95),                                             /* clear above */
    json_pack("{s:s, s:s, s:i}", "name", "x", "kind", "device_disk", "for", -1),
    json_pack("{s:s, s:s, s:s}", "name", "x", "kind", "device_disk", "severity", "loud"),
    json_pack("{s:s, s:s, s:b}", "name", "x", "kind", "device_disk", "bogus", 1),
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(alerts_rule_add(a, bad[i], err, sizeof err), EF_EINVAL);
    json_decref(bad[i]);
  }
  assert_int_equal(alerts_rule_count(a), n);
  json_t *ok = json_pack("{s:s, s:s, s:s, s:f, s:f}", "name", "low", "kind", "miner_balance_low",
                         "param", "worker", "threshold", 5.0, "clear", 6.0);
  assert_int_equal(alerts_rule_add(a, ok, err, sizeof err), 0);
  assert_int_equal(alerts_rule_add(a, ok, err, sizeof err), EF_EEXIST);
  json_decref(ok);
  assert_int_equal(alerts_rule_count(a), n + 1);
  json_t *up = json_pack("{s:s, s:f}", "name", "low", "clear", 4.0); /* below: clear < 5 */
  assert_int_equal(alerts_rule_update(a, "low", up, err, sizeof err), EF_EINVAL);
  json_decref(up);
  up = json_pack("{s:s}", "name", "other"); /* a name cannot change */
  assert_int_equal(alerts_rule_update(a, "low", up, err, sizeof err), EF_EINVAL);
  json_decref(up);
  up = json_pack("{s:b, s:f, s:f}", "enabled", 0, "threshold", 7.0, "clear", 8.0);
  assert_int_equal(alerts_rule_update(a, "low", up, err, sizeof err), 0);
  assert_int_equal(alerts_rule_update(a, "none", up, err, sizeof err), EF_ENOENT);
  json_decref(up);
  const struct alert_rule *r = alerts_rule_at(a, n);
  assert_false(r->enabled);
  assert_true(r->threshold == 7.0 && r->clear == 8.0);
  assert_int_equal(alerts_rule_delete(a, "low", T0), 0);
  assert_int_equal(alerts_rule_delete(a, "low", T0), EF_ENOENT);
  /* load refuses a duplicate name and changes nothing */
  json_t *dup = json_loads("[{\"name\":\"a\",\"kind\":\"device_offline\"},"
                           "{\"name\":\"a\",\"kind\":\"device_disk\"}]", 0, NULL);
  assert_int_equal(alerts_rules_load(a, dup, err, sizeof err), EF_EINVAL);
  json_decref(dup);
  assert_int_equal(alerts_rule_count(a), n);
  alerts_free(&a);
}

static void disabled_and_deleted_rules_resolve(void **state) {
  (void)state;
  struct heard h = {0};
  struct alerts *a = new_engine(
      &h, "[{\"name\":\"hot\",\"kind\":\"device_cpu_temp\",\"threshold\":85}]");
  char err[256];
  round_(a, T0, 90);
  assert_int_equal(h.firing, 1);
  json_t *off = json_pack("{s:b}", "enabled", 0);
  assert_int_equal(alerts_rule_update(a, "hot", off, err, sizeof err), 0);
  json_decref(off);
  round_(a, T0 + S, 90);
  assert_int_equal(h.resolved, 1);
  json_t *on = json_pack("{s:b}", "enabled", 1);
  assert_int_equal(alerts_rule_update(a, "hot", on, err, sizeof err), 0);
  json_decref(on);
  round_(a, T0 + 2 * S, 90);
  assert_int_equal(h.firing, 2);
  assert_int_equal(alerts_rule_delete(a, "hot", T0 + 3 * S), 0);
  assert_int_equal(h.resolved, 2);
  assert_int_equal(alerts_firing_count(a, NULL), 0);
  alerts_free(&a);
}

static void delivery_log(void **state) {
  (void)state;
  struct heard h = {0};
  struct alerts *a = new_engine(
      &h, "[{\"name\":\"hot\",\"kind\":\"device_cpu_temp\",\"threshold\":85}]");
  round_(a, T0, 90);
  alert_delivery(a, "hot|device=1", "webhook", "ok");
  alert_delivery(a, "gone|device=2", "smtp", "failed: refused");
  json_t *log = alerts_log_json(a, 2);
  assert_int_equal(json_array_size(log), 2);
  json_t *e = json_array_get(log, 1);
  assert_string_equal(json_string_value(json_object_get(e, "event")), "delivery");
  assert_string_equal(json_string_value(json_object_get(e, "receiver")), "webhook");
  assert_string_equal(json_string_value(json_object_get(e, "rule")), "hot");
  e = json_array_get(log, 0);
  assert_string_equal(json_string_value(json_object_get(e, "fingerprint")), "gone|device=2");
  json_decref(log);
  /* the ring keeps log_max entries */
  for (int i = 0; i < 250; i++) alert_delivery(a, "hot|device=1", "webhook", "ok");
  log = alerts_log_json(a, 1000);
  assert_int_equal(json_array_size(log), 100);
  json_decref(log);
  alerts_free(&a);
}

/* Persistence: every log entry reaches the log listener; the state document carries a firing,
 * acked alert and a silence into a new engine, which neither notifies it again nor loses the
 * ack, resolves it (told once) when the condition ends, and numbers new silences after it. */
static void on_log_count(void *ud, const json_t *e) {
  int *n = ud;
  assert_non_null(json_object_get(e, "event"));
  (*n)++;
}

static void state_roundtrip(void **state) {
  (void)state;
  struct heard h = {0};
  const char *rules = "[{\"name\":\"hot\",\"kind\":\"device_cpu_temp\",\"threshold\":85},"
                      "{\"name\":\"disk\",\"kind\":\"device_disk\",\"threshold\":90}]";
  struct alerts *a = new_engine(&h, rules);
  int logged = 0;
  alert_log_listen(a, on_log_count, &logged);
  round_(a, T0, 90);
  assert_int_equal(h.firing, 1);
  assert_int_equal(logged, 2); /* pending, firing */
  assert_int_equal(alerts_ack(a, "hot|device=1", "ops", T0 + S), 0);
  int64_t sid = alerts_silence(a, "disk", NULL, T0 + 100 * S, "swap", "ops", T0 + S);
  assert_int_equal(logged, 4);
  json_t *st = alerts_state_json(a);
  alerts_free(&a);

  struct heard h2 = {0};
  struct alerts *b = new_engine(&h2, rules);
  int logged2 = 0;
  alert_log_listen(b, on_log_count, &logged2);
  assert_int_equal(alerts_state_load(b, st), 1);
  json_decref(st);
  assert_string_equal(state_of(b, "hot|device=1"), "firing");
  json_t *d = alerts_json(b, 0);
  json_t *x = json_array_get(json_object_get(d, "alerts"), 0);
  assert_string_equal(json_string_value(json_object_get(x, "acked_by")), "ops");
  assert_int_equal(json_integer_value(json_object_get(x, "fired_at")), T0);
  json_t *sil = json_array_get(json_object_get(d, "silences"), 0);
  assert_int_equal(json_integer_value(json_object_get(sil, "id")), sid);
  assert_string_equal(json_string_value(json_object_get(sil, "comment")), "swap");
  json_decref(d);
  round_(b, T0 + 2 * S, 90); /* still true: no new notification, nothing logged */
  assert_int_equal(h2.firing, 0);
  assert_int_equal(logged2, 0);
  round_(b, T0 + 3 * S, 70); /* it ends: resolved, told once (it was told before) */
  assert_int_equal(h2.resolved, 1);
  assert_int_equal(logged2, 1);
  assert_true(alerts_silence(b, "hot", NULL, T0 + 50 * S, NULL, NULL, T0 + 3 * S) > sid);
  /* a state naming a rule no longer in the table, or malformed items: skipped */
  json_t *bad = json_loads("{\"alerts\":[{\"fingerprint\":\"gone|device=1\",\"rule\":\"gone\","
                           "\"state\":1},{\"rule\":\"hot\"},{\"fingerprint\":\"hot|device=2\","
                           "\"rule\":\"hot\",\"state\":9}],\"silences\":[{\"id\":\"x\"}]}",
                           0, NULL);
  assert_non_null(bad);
  assert_int_equal(alerts_state_load(b, bad), 0);
  json_decref(bad);
  alerts_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(pending_firing_resolved),
    cmocka_unit_test(pending_cancelled_and_not_observed),
    cmocka_unit_test(for_counts_from_since),
    cmocka_unit_test(silence_and_ack),
    cmocka_unit_test(silenced_alert_resolving_is_not_told),
    cmocka_unit_test(increase_baseline),
    cmocka_unit_test(dedup_many_subjects),
    cmocka_unit_test(rule_table),
    cmocka_unit_test(disabled_and_deleted_rules_resolve),
    cmocka_unit_test(delivery_log),
    cmocka_unit_test(state_roundtrip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
