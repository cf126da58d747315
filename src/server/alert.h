/* SPDX-License-Identifier: MIT */
/* alert.h -- alert rules and the alerts they raise: the rule table, the state machine of each
 * alert (pending -> firing -> resolved), silences, acknowledgements and the alert log
 * (docs/alerts.md).
 *
 * DESIGN
 * Two halves. This engine (alert.c) knows nothing of devices or miners: an evaluation round
 * (alerts_begin .. alerts_end) is told, per rule, the value each subject has now
 * (alerts_observe: a device's CPU temperature, a miner's worker balance, 1 for "offline"), and
 * the engine compares it with the rule's threshold, runs the for-duration, the hysteresis (a
 * firing alert resolves only past the rule's `clear` value) and the deduplication (one alert per
 * fingerprint, "rule|subject"), and calls listeners on every firing and resolved transition. A
 * subject not observed in a round has its condition false. Time is given by the caller, so the
 * unit tests drive it with their own clock.
 * The server half (alert_eval.c) runs a round every alert_eval over the live state through the
 * existing accessors (live.h, miner_at; never per message) and owns the timer, the rules file
 * and the wiring. Everything runs on the loop thread.
 */
#ifndef EF_ALERT_H
#define EF_ALERT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ----- rules ----- */
enum alert_op { ALERT_ABOVE = 0, ALERT_BELOW };

/* A condition the server knows how to evaluate (alert_kinds[]). */
struct alert_kind {
  const char *name;      /* "device_offline", "miner_balance_low", ... */
  enum alert_op op;      /* how threshold compares */
  const char *unit;      /* of value and threshold: "s", "°C", "%", "FIL", "count", "bytes" */
  bool param;            /* takes a param (a task type, a balance kind) */
  const char *help;
};
extern const struct alert_kind alert_kinds[]; /* ended by a row whose name is NULL */
const struct alert_kind *alert_kind_of(const char *name);

struct alert_rule {
  char *name;            /* unique; [A-Za-z0-9_.-], at most 64 bytes */
  const struct alert_kind *kind;
  char *param;           /* kind's parameter, or NULL */
  char *severity;        /* "critical" | "warning" | "info" */
  double threshold;      /* fires when value > threshold (ALERT_ABOVE) or < (ALERT_BELOW) ... */
  double clear;          /* ... and resolves only when value <= clear (>= for BELOW) */
  int64_t for_ms;        /* the condition must hold this long before firing (0: at once) */
  bool enabled;
};

/* ----- alerts ----- */
enum alert_state { ALERT_PENDING = 0, ALERT_FIRING, ALERT_RESOLVED };

/* What listeners (notifications) get on every firing and resolved transition, after dedup and
 * silences. Every pointer is borrowed for the call. */
struct alert_event {
  const char *rule;
  const char *fingerprint;
  const char *state;      /* "firing" | "resolved" */
  const char *severity;
  const char *summary;
  const json_t *labels;   /* {"device":..,"miner":..,"host":..,...} */
  int64_t starts_at, ends_at; /* ms; ends_at 0 while firing */
};
typedef void (*alert_listener)(void *ud, const struct alert_event *ev);

struct alerts;

struct alert_opts {
  int64_t resolved_keep; /* ms a resolved alert stays in alert_query_all */
  size_t log_max;        /* alert-log entries kept (oldest dropped) */
};

struct alerts *alerts_new(const struct alert_opts *o);
void alerts_free(struct alerts **a);
void alert_listen(struct alerts *a, alert_listener cb, void *ud);
/* Append a delivery outcome (notifications) to the alert log. Strings copied. */
void alert_delivery(struct alerts *a, const char *fingerprint, const char *receiver,
                    const char *outcome);

/* ----- persistence (docs/alerts.md#persistence; alert_eval.c writes it behind) ----- */
/* Every alert-log entry as it is added: `entry` is borrowed for the call. One listener. */
typedef void (*alert_log_listener)(void *ud, const json_t *entry);
void alert_log_listen(struct alerts *a, alert_log_listener cb, void *ud);
/* What survives a restart: the open and the listed resolved alerts (acks, and whether listeners
 * were told they fire), the silences, the baselines of the increase kinds. New reference. */
json_t *alerts_state_json(const struct alerts *a);
/* Restore alerts_state_json's document into an engine without alerts (at start, before the first
 * round). Alerts of rules not in the table are skipped; a malformed item is skipped. Returns the
 * number of alerts restored. No listener is called. */
size_t alerts_state_load(struct alerts *a, const json_t *state);
/* Put a log entry read back from the store into the in-memory log (oldest first), without
 * calling the log listener. The entry is taken. */
void alerts_log_restore(struct alerts *a, json_t *entry);

/* ----- the rule table ----- */
/* The built-in default rules (docs/alerts.md#default-rules) replace the table. */
void alerts_rules_defaults(struct alerts *a);
/* Replace the table with a JSON array of rules: 0, or EF_EINVAL with err (nothing changed). */
int alerts_rules_load(struct alerts *a, const json_t *arr, char *err, size_t errlen);
json_t *alerts_rules_json(const struct alerts *a);        /* new reference: the array */
json_t *alert_rule_json(const struct alert_rule *r);      /* new reference */
size_t alerts_rule_count(const struct alerts *a);
const struct alert_rule *alerts_rule_at(const struct alerts *a, size_t i);
/* Add a rule from its JSON object: 0, EF_EINVAL (err says why), EF_EEXIST. */
int alerts_rule_add(struct alerts *a, const json_t *obj, char *err, size_t errlen);
/* Change the members `obj` names of rule `name` (its name cannot change): 0, EF_ENOENT,
 * EF_EINVAL. Its alerts are kept; a disabled rule's resolve at the next round. */
int alerts_rule_update(struct alerts *a, const char *name, const json_t *obj, char *err,
                       size_t errlen);
/* 0 or EF_ENOENT. Its open alerts resolve (listeners are told) and are forgotten. */
int alerts_rule_delete(struct alerts *a, const char *name, int64_t now);

/* ----- an evaluation round ----- */
void alerts_begin(struct alerts *a, int64_t now);
/* Subject `subject` (e.g. "device=123", "miner=f01234,host=w1") of rule `r` has `value` now.
 * `labels` is taken (a JSON object); `since` (ms, 0: unknown) is when the condition began, so a
 * for-duration can count from an earlier start (a device's logout); summary is copied. */
void alerts_observe(struct alerts *a, const struct alert_rule *r, const char *subject,
                    json_t *labels, double value, int64_t since, const char *summary);
/* True when `value` can neither raise nor keep an alert of rule `r` (past its clear value, and
 * not a kind whose engine keeps state per subject): the caller may skip alerts_observe and the
 * labels it would make. */
bool alert_rule_quiet(const struct alert_rule *r, double value);
/* Subjects not observed this round: their condition is false. Transitions, listeners. */
void alerts_end(struct alerts *a);

/* ----- silences and acknowledgements ----- */
/* Silence the alerts of `rule` (NULL: any) and/or of `fingerprint` (NULL: any; not both NULL)
 * until `until` (ms): no notifications; listed with "silenced". Returns the silence's id (> 0)
 * or EF_EINVAL. */
int64_t alerts_silence(struct alerts *a, const char *rule, const char *fingerprint,
                       int64_t until, const char *comment, const char *by, int64_t now);
/* Acknowledge an open alert: 0 or EF_ENOENT. For the "increase" kinds, the count acknowledged
 * becomes the new baseline (the alert resolves at the next round). */
int alerts_ack(struct alerts *a, const char *fingerprint, const char *by, int64_t now);

/* ----- views ----- */
/* {"alerts":[firing, pending, then resolved within resolved_keep], "silences":[...]} */
json_t *alerts_json(const struct alerts *a, int64_t now);
/* The newest `limit` log entries, newest first. */
json_t *alerts_log_json(const struct alerts *a, size_t limit);
/* Firing alerts of `rule` (NULL: all rules): edgefleet_alerts_firing{rule} (metrics.c). */
size_t alerts_firing_count(const struct alerts *a, const char *rule);
/* {"<rule>": firing count} for every rule of the table (0 included). New reference. */
json_t *alerts_firing_by_rule(const struct alerts *a);
/* Changes with every change of alerts_json's content (dashboards push on change). */
uint64_t alerts_version(const struct alerts *a);

#endif
