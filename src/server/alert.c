/* SPDX-License-Identifier: MIT */
/* alert.c -- the alert engine: rules, the state machine of each alert, silences,
 * acknowledgements and the alert log (alert.h, docs/alerts.md). No devices, miners or clocks
 * here: evaluation rounds are fed by alert_eval.c, or by the unit tests.
 *
 * An alert is one (rule, subject) pair, its fingerprint "rule|subject"; it is found by the
 * fingerprint's hash in a u64map (chained on the rare collision), so a round of N observations
 * costs O(N). States: a true condition makes it pending (from `since` when the caller knows when
 * the condition began), pending for for_ms makes it firing, a condition false (past the clear
 * value for a firing alert) makes a pending alert go away ("cancelled" in the log) and a firing
 * one resolved. A resolved alert stays listed for resolved_keep; if its condition comes back
 * meanwhile it starts pending again under the same fingerprint.
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "alert.h"
#include "edgefleet/error.h"
#include "mem.h"
#include "u64map.h"

const struct alert_kind alert_kinds[] = {
  {"device_offline", ALERT_ABOVE, "bool", false, "a device is offline (1) since its logout"},
  {"device_no_status", ALERT_ABOVE, "s", false,
   "seconds since a connected device's last status upload (or login)"},
  {"device_cpu_temp", ALERT_ABOVE, "°C", false, "a device's cpu_temperature"},
  {"device_gpu_temp", ALERT_ABOVE, "°C", false, "a device's GPU temperature (gpuInfo[])"},
  {"device_disk", ALERT_ABOVE, "%", false, "a device's Disk_info.root_used_percent"},
  {"miner_down", ALERT_ABOVE, "bool", false, "the miner's collection fails (minerError)"},
  {"miner_chain_sync", ALERT_ABOVE, "s", false, "chainSyncBehindSeconds"},
  {"miner_worker_missing", ALERT_ABOVE, "bool", false, "a worker no longer listed by lotus"},
  {"miner_worker_disabled", ALERT_ABOVE, "bool", false, "a worker disabled in lotus"},
  {"miner_deadline_faults", ALERT_ABOVE, "count", false, "faulty sectors of a deadline"},
  {"miner_deadline_unproven", ALERT_ABOVE, "count", false,
   "unproven partitions of a deadline already closed in this proving period"},
  {"miner_faulty_power", ALERT_ABOVE, "bytes", false, "faultyPower (faultyPowerBytes)"},
  {"miner_sectors_increase", ALERT_ABOVE, "count", true,
   "growth of a sector counter (param: errorSectors or failSectors) over its baseline"},
  {"miner_balance_low", ALERT_BELOW, "FIL", true,
   "a balance (param: worker, control, owner or miner)"},
  {"miner_job_long", ALERT_ABOVE, "s", true, "a running job's age (param: its task, e.g. PC1)"},
  {NULL, ALERT_ABOVE, NULL, false, NULL},
};

const struct alert_kind *alert_kind_of(const char *name) {
  for (const struct alert_kind *k = alert_kinds; name && k->name; k++)
    if (strcmp(k->name, name) == 0) return k;
  return NULL;
}

struct alert {
  char *fp, *rule, *severity, *summary;
  json_t *labels;
  enum alert_state state;
  int64_t since;           /* the condition's start (pending from) */
  int64_t fired_at, resolved_at;
  double value, raw;       /* value compared; raw as observed (before a baseline) */
  bool seen;               /* observed true this round */
  bool notified;           /* listeners were told it fires */
  int64_t acked_at;
  char *acked_by;
  struct alert *chain;     /* same hash */
};

struct silence {
  int64_t id, until, created;
  char *rule, *fp, *comment, *by;
};

struct listener {
  alert_listener cb;
  void *ud;
};

struct alerts {
  struct alert_opts o;
  struct alert_rule *rules;
  size_t nrules;
  struct alert **arr;
  size_t n, cap;
  struct u64map by_hash;
  json_t *baselines;       /* fingerprint -> baseline of the increase kinds */
  struct silence *silences;
  size_t nsil;
  int64_t next_silence;
  json_t **log;            /* ring of log_max */
  size_t log_head, log_n;
  struct listener *ls;
  size_t nls;
  alert_log_listener log_cb;
  void *log_ud;
  int64_t now;
  uint64_t version;
};

/* ----- small helpers ----- */

static uint64_t fp_hash(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h ? h : 1;
}

static struct alert *find(const struct alerts *a, const char *fp) {
  for (struct alert *x = u64map_get(&a->by_hash, fp_hash(fp)); x; x = x->chain)
    if (strcmp(x->fp, fp) == 0) return x;
  return NULL;
}

static void alert_free(struct alert *x) {
  ef_free(x->fp);
  ef_free(x->rule);
  ef_free(x->severity);
  ef_free(x->summary);
  ef_free(x->acked_by);
  json_decref(x->labels);
  ef_free(x);
}

/* Take alert i out of the list and the map, and free it. */
static void forget(struct alerts *a, size_t i) {
  struct alert *x = a->arr[i];
  uint64_t h = fp_hash(x->fp);
  struct alert *head = u64map_get(&a->by_hash, h);
  if (head == x) {
    if (x->chain) u64map_put(&a->by_hash, h, x->chain);
    else u64map_del(&a->by_hash, h);
  } else {
    for (struct alert *p = head; p; p = p->chain)
      if (p->chain == x) {
        p->chain = x->chain;
        break;
      }
  }
  a->arr[i] = a->arr[--a->n];
  alert_free(x);
}

static void log_keep(struct alerts *a, json_t *e);

static void log_add(struct alerts *a, const char *event, const struct alert *x, json_t *extra) {
  json_t *e = json_pack("{s:I, s:s}", "time", (json_int_t)a->now, "event", event);
  if (x) {
    json_object_set_new(e, "rule", json_string(x->rule));
    json_object_set_new(e, "fingerprint", json_string(x->fp));
    json_object_set(e, "labels", x->labels);
    if (x->summary) json_object_set_new(e, "summary", json_string(x->summary));
  }
  if (extra) json_object_update(e, extra);
  json_decref(extra);
  if (a->log_cb) a->log_cb(a->log_ud, e);
  log_keep(a, e);
}

void alerts_log_restore(struct alerts *a, json_t *entry) { log_keep(a, entry); }

/* Into the ring (taken). */
static void log_keep(struct alerts *a, json_t *e) {
  if (!a->o.log_max) {
    json_decref(e);
    return;
  }
  size_t slot = (a->log_head + a->log_n) % a->o.log_max;
  if (a->log_n == a->o.log_max) {
    json_decref(a->log[a->log_head]);
    a->log_head = (a->log_head + 1) % a->o.log_max;
  } else {
    a->log_n++;
  }
  a->log[slot] = e;
}

static bool silenced(const struct alerts *a, const struct alert *x) {
  for (size_t i = 0; i < a->nsil; i++) {
    const struct silence *s = &a->silences[i];
    if (s->until <= a->now) continue;
    if (s->rule && strcmp(s->rule, x->rule) != 0) continue;
    if (s->fp && strcmp(s->fp, x->fp) != 0) continue;
    return true;
  }
  return false;
}

static void tell(struct alerts *a, struct alert *x, const char *state) {
  struct alert_event ev = {
    .rule = x->rule, .fingerprint = x->fp, .state = state, .severity = x->severity,
    .summary = x->summary ? x->summary : "", .labels = x->labels, .starts_at = x->fired_at,
    .ends_at = strcmp(state, "resolved") == 0 ? x->resolved_at : 0,
  };
  for (size_t i = 0; i < a->nls; i++) a->ls[i].cb(a->ls[i].ud, &ev);
}

static void fire(struct alerts *a, struct alert *x) {
  x->state = ALERT_FIRING;
  x->fired_at = a->now;
  a->version++;
  bool quiet = silenced(a, x);
  log_add(a, "firing", x, json_pack("{s:f, s:b}", "value", x->value, "silenced", quiet));
  if (!quiet) {
    x->notified = true;
    tell(a, x, "firing");
  }
}

static void resolve(struct alerts *a, struct alert *x) {
  x->state = ALERT_RESOLVED;
  x->resolved_at = a->now;
  a->version++;
  log_add(a, "resolved", x, NULL);
  if (x->notified) tell(a, x, "resolved");
  x->notified = false;
}

/* ----- life ----- */

struct alerts *alerts_new(const struct alert_opts *o) {
  struct alerts *a = ef_calloc(1, sizeof *a);
  a->o = *o;
  u64map_init(&a->by_hash);
  a->baselines = json_object();
  a->log = ef_calloc(o->log_max ? o->log_max : 1, sizeof *a->log);
  a->next_silence = 1;
  a->version = 1;
  return a;
}

static void rule_clear(struct alert_rule *r) {
  ef_free(r->name);
  ef_free(r->param);
  ef_free(r->severity);
  memset(r, 0, sizeof *r);
}

static void rules_free(struct alert_rule *rules, size_t n) {
  for (size_t i = 0; i < n; i++) rule_clear(&rules[i]);
  ef_free(rules);
}

void alerts_free(struct alerts **ap) {
  struct alerts *a = *ap;
  if (!a) return;
  while (a->n) forget(a, a->n - 1);
  ef_free(a->arr);
  u64map_free(&a->by_hash);
  rules_free(a->rules, a->nrules);
  json_decref(a->baselines);
  for (size_t i = 0; i < a->nsil; i++) {
    ef_free(a->silences[i].rule);
    ef_free(a->silences[i].fp);
    ef_free(a->silences[i].comment);
    ef_free(a->silences[i].by);
  }
  ef_free(a->silences);
  for (size_t i = 0; i < a->log_n; i++) json_decref(a->log[(a->log_head + i) % a->o.log_max]);
  ef_free(a->log);
  ef_free(a->ls);
  ef_free(a);
  *ap = NULL;
}

void alert_listen(struct alerts *a, alert_listener cb, void *ud) {
  a->ls = ef_realloc(a->ls, (a->nls + 1) * sizeof *a->ls);
  a->ls[a->nls++] = (struct listener){cb, ud};
}

void alert_delivery(struct alerts *a, const char *fingerprint, const char *receiver,
                    const char *outcome) {
  struct alert *x = fingerprint ? find(a, fingerprint) : NULL;
  json_t *extra = json_pack("{s:s, s:s}", "receiver", receiver ? receiver : "",
                            "outcome", outcome ? outcome : "");
  if (!x && fingerprint) json_object_set_new(extra, "fingerprint", json_string(fingerprint));
  log_add(a, "delivery", x, extra);
}

void alert_log_listen(struct alerts *a, alert_log_listener cb, void *ud) {
  a->log_cb = cb;
  a->log_ud = ud;
}

/* ----- rules ----- */

static bool name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_' || *s == '-' || *s == '.'))
      return false;
  return true;
}

/* The members of `o` over rule `r` (a copy of the old rule or a new one); `creating` requires
 * name and kind. 0 or EF_EINVAL with err. */
static int rule_apply(struct alert_rule *r, const json_t *o, bool creating, char *err,
                      size_t errlen) {
  /* unit and firing are what listings add: accepted and ignored, so a listing's rule can be
   * given back as it is */
  static const char *const known[] = {"name", "kind", "param", "severity", "threshold",
                                      "clear", "for", "enabled", "unit", "firing", NULL};
  const char *key;
  json_t *v;
  if (!json_is_object(o)) {
    snprintf(err, errlen, "a rule must be a JSON object");
    return EF_EINVAL;
  }
  json_object_foreach((json_t *)o, key, v) {
    size_t i = 0;
    while (known[i] && strcmp(known[i], key) != 0) i++;
    if (!known[i]) {
      snprintf(err, errlen,
               "unknown member \"%.64s\" (name, kind, param, severity, threshold, clear, for, "
               "enabled)", key);
      return EF_EINVAL;
    }
  }
  if ((v = json_object_get(o, "name"))) {
    if (!creating) {
      if (!json_is_string(v) || strcmp(json_string_value(v), r->name) != 0) {
        snprintf(err, errlen, "a rule's name cannot change (delete it and add another)");
        return EF_EINVAL;
      }
    } else {
      if (!json_is_string(v) || !name_ok(json_string_value(v))) {
        snprintf(err, errlen, "name must be 1 to 64 characters of A-Z a-z 0-9 _ - .");
        return EF_EINVAL;
      }
      ef_free(r->name);
      r->name = ef_strdup(json_string_value(v));
    }
  } else if (creating) {
    snprintf(err, errlen, "name is required");
    return EF_EINVAL;
  }
  bool kind_changed = false;
  if ((v = json_object_get(o, "kind"))) {
    const struct alert_kind *k = alert_kind_of(json_string_value(v));
    if (!k) {
      char names[600] = "";
      for (const struct alert_kind *x = alert_kinds; x->name; x++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                 x == alert_kinds ? "" : ", ", x->name);
      snprintf(err, errlen, "kind must be one of: %s", names);
      return EF_EINVAL;
    }
    kind_changed = r->kind != k;
    r->kind = k;
  } else if (creating) {
    snprintf(err, errlen, "kind is required");
    return EF_EINVAL;
  }
  if ((v = json_object_get(o, "param"))) {
    if (!json_is_null(v) && (!json_is_string(v) || !name_ok(json_string_value(v)))) {
      snprintf(err, errlen, "param must be 1 to 64 characters of A-Z a-z 0-9 _ - . (or null)");
      return EF_EINVAL;
    }
    ef_free(r->param);
    r->param = json_is_null(v) ? NULL : ef_strdup(json_string_value(v));
  }
  if (r->kind->param && !r->param) {
    snprintf(err, errlen, "kind %s needs a param (%s)", r->kind->name, r->kind->help);
    return EF_EINVAL;
  }
  if (!r->kind->param && r->param) {
    snprintf(err, errlen, "kind %s takes no param", r->kind->name);
    return EF_EINVAL;
  }
  if (r->kind->param && strcmp(r->kind->name, "miner_balance_low") == 0 &&
      strcmp(r->param, "worker") && strcmp(r->param, "control") && strcmp(r->param, "owner") &&
      strcmp(r->param, "miner")) {
    snprintf(err, errlen, "param of miner_balance_low must be worker, control, owner or miner");
    return EF_EINVAL;
  }
  if (r->kind->param && strcmp(r->kind->name, "miner_sectors_increase") == 0 &&
      strcmp(r->param, "errorSectors") && strcmp(r->param, "failSectors")) {
    snprintf(err, errlen, "param of miner_sectors_increase must be errorSectors or failSectors");
    return EF_EINVAL;
  }
  if ((v = json_object_get(o, "severity"))) {
    const char *s = json_string_value(v);
    if (!s || (strcmp(s, "critical") && strcmp(s, "warning") && strcmp(s, "info"))) {
      snprintf(err, errlen, "severity must be critical, warning or info");
      return EF_EINVAL;
    }
    ef_free(r->severity);
    r->severity = ef_strdup(s);
  } else if (!r->severity) {
    r->severity = ef_strdup("warning");
  }
  bool has_threshold = false;
  if ((v = json_object_get(o, "threshold"))) {
    if (!json_is_number(v) || !isfinite(json_number_value(v))) {
      snprintf(err, errlen, "threshold must be a number (in %s)", r->kind->unit);
      return EF_EINVAL;
    }
    r->threshold = json_number_value(v);
    has_threshold = true;
  } else if (creating || kind_changed) {
    r->threshold = 0;
  }
  if ((v = json_object_get(o, "clear"))) {
    if (!json_is_number(v) || !isfinite(json_number_value(v))) {
      snprintf(err, errlen, "clear must be a number (in %s)", r->kind->unit);
      return EF_EINVAL;
    }
    r->clear = json_number_value(v);
  } else if (creating || kind_changed || has_threshold) {
    r->clear = r->threshold; /* no hysteresis unless asked */
  }
  if (r->kind->op == ALERT_ABOVE ? r->clear > r->threshold : r->clear < r->threshold) {
    snprintf(err, errlen, "clear must be %s threshold (hysteresis: it resolves past clear)",
             r->kind->op == ALERT_ABOVE ? "at most" : "at least");
    return EF_EINVAL;
  }
  if ((v = json_object_get(o, "for"))) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > 366LL * 86400000) {
      snprintf(err, errlen, "for must be an integer of ms from 0 to a year");
      return EF_EINVAL;
    }
    r->for_ms = json_integer_value(v);
  }
  if ((v = json_object_get(o, "enabled"))) {
    if (!json_is_boolean(v)) {
      snprintf(err, errlen, "enabled must be true or false");
      return EF_EINVAL;
    }
    r->enabled = json_is_true(v);
  } else if (creating) {
    r->enabled = true;
  }
  return 0;
}

static void rule_copy(struct alert_rule *dst, const struct alert_rule *src) {
  *dst = *src;
  dst->name = ef_strdup(src->name);
  dst->param = ef_strdup(src->param);
  dst->severity = ef_strdup(src->severity);
}

json_t *alert_rule_json(const struct alert_rule *r) {
  json_t *o = json_pack("{s:s, s:s, s:s, s:f, s:f, s:I, s:b, s:s}", "name", r->name, "kind",
                        r->kind->name, "severity", r->severity, "threshold", r->threshold,
                        "clear", r->clear, "for", (json_int_t)r->for_ms, "enabled", r->enabled,
                        "unit", r->kind->unit);
  json_object_set_new(o, "param", r->param ? json_string(r->param) : json_null());
  return o;
}

json_t *alerts_rules_json(const struct alerts *a) {
  json_t *arr = json_array();
  for (size_t i = 0; i < a->nrules; i++) json_array_append_new(arr, alert_rule_json(&a->rules[i]));
  return arr;
}

size_t alerts_rule_count(const struct alerts *a) { return a->nrules; }
const struct alert_rule *alerts_rule_at(const struct alerts *a, size_t i) {
  return i < a->nrules ? &a->rules[i] : NULL;
}

static struct alert_rule *rule_find(const struct alerts *a, const char *name) {
  for (size_t i = 0; i < a->nrules; i++)
    if (strcmp(a->rules[i].name, name) == 0) return &a->rules[i];
  return NULL;
}

/* Resolve and forget the alerts of rule `name` (deleted or replaced). */
static void drop_rule_alerts(struct alerts *a, const char *name) {
  for (size_t i = a->n; i-- > 0;) {
    struct alert *x = a->arr[i];
    if (strcmp(x->rule, name) != 0) continue;
    if (x->state == ALERT_FIRING) resolve(a, x);
    else if (x->state == ALERT_PENDING) log_add(a, "cancelled", x, NULL);
    forget(a, i);
    a->version++;
  }
}

int alerts_rules_load(struct alerts *a, const json_t *arr, char *err, size_t errlen) {
  if (!json_is_array(arr)) {
    snprintf(err, errlen, "the rules must be a JSON array");
    return EF_EINVAL;
  }
  size_t n = json_array_size(arr);
  struct alert_rule *rules = ef_calloc(n ? n : 1, sizeof *rules);
  for (size_t i = 0; i < n; i++) {
    char why[400];
    if (rule_apply(&rules[i], json_array_get(arr, i), true, why, sizeof why) != 0) {
      snprintf(err, errlen, "rule %zu: %s", i, why);
      rules_free(rules, n);
      return EF_EINVAL;
    }
    for (size_t j = 0; j < i; j++)
      if (strcmp(rules[j].name, rules[i].name) == 0) {
        snprintf(err, errlen, "rule %zu: name %s is used twice", i, rules[i].name);
        rules_free(rules, n);
        return EF_EINVAL;
      }
  }
  for (size_t i = 0; i < a->nrules; i++) drop_rule_alerts(a, a->rules[i].name);
  rules_free(a->rules, a->nrules);
  a->rules = rules;
  a->nrules = n;
  return 0;
}

#define MIN_MS 60000LL
#define HOUR_MS 3600000LL

void alerts_rules_defaults(struct alerts *a) {
  /* docs/alerts.md#default-rules lists these; thresholds in the kind's unit. */
  json_t *d = json_pack(
      "["
      "{s:s, s:s, s:s, s:I}," /* device_offline */
      "{s:s, s:s, s:s, s:f}," /* no status */
      "{s:s, s:s, s:s, s:f, s:f, s:I}," /* cpu temp */
      "{s:s, s:s, s:s, s:f, s:f, s:I}," /* gpu temp */
      "{s:s, s:s, s:s, s:f, s:f, s:I}," /* disk */
      "{s:s, s:s, s:s, s:I}," /* miner down */
      "{s:s, s:s, s:s, s:f, s:f, s:I}," /* chain sync */
      "{s:s, s:s, s:s, s:I}," /* worker missing */
      "{s:s, s:s, s:s, s:I}," /* worker disabled */
      "{s:s, s:s, s:s}," /* deadline faults */
      "{s:s, s:s, s:s}," /* deadline unproven */
      "{s:s, s:s, s:s}," /* faulty power */
      "{s:s, s:s, s:s, s:s}," /* error sectors */
      "{s:s, s:s, s:s, s:s}," /* fail sectors */
      "{s:s, s:s, s:s, s:s, s:f, s:f}," /* worker balance */
      "{s:s, s:s, s:s, s:s, s:f, s:f}," /* control balance */
      "{s:s, s:s, s:s, s:s, s:f, s:f}," /* owner balance */
      "{s:s, s:s, s:s, s:s, s:f}," /* PC1 */
      "{s:s, s:s, s:s, s:s, s:f}," /* PC2 */
      "{s:s, s:s, s:s, s:s, s:f}" /* C2 */
      "]",
      "name", "device_offline", "kind", "device_offline", "severity", "critical", "for",
      (json_int_t)(5 * MIN_MS),
      "name", "device_no_status", "kind", "device_no_status", "severity", "warning",
      "threshold", 600.0,
      "name", "cpu_temp_high", "kind", "device_cpu_temp", "severity", "warning", "threshold",
      85.0, "clear", 80.0, "for", (json_int_t)(2 * MIN_MS),
      "name", "gpu_temp_high", "kind", "device_gpu_temp", "severity", "warning", "threshold",
      85.0, "clear", 80.0, "for", (json_int_t)(2 * MIN_MS),
      "name", "disk_full", "kind", "device_disk", "severity", "warning", "threshold", 90.0,
      "clear", 85.0, "for", (json_int_t)(5 * MIN_MS),
      "name", "miner_down", "kind", "miner_down", "severity", "critical", "for",
      (json_int_t)(5 * MIN_MS),
      "name", "chain_sync_behind", "kind", "miner_chain_sync", "severity", "warning",
      "threshold", 300.0, "clear", 60.0, "for", (json_int_t)(5 * MIN_MS),
      "name", "worker_missing", "kind", "miner_worker_missing", "severity", "warning", "for",
      (json_int_t)(5 * MIN_MS),
      "name", "worker_disabled", "kind", "miner_worker_disabled", "severity", "warning", "for",
      (json_int_t)(5 * MIN_MS),
      "name", "deadline_faults", "kind", "miner_deadline_faults", "severity", "critical",
      "name", "deadline_unproven", "kind", "miner_deadline_unproven", "severity", "critical",
      "name", "faulty_power", "kind", "miner_faulty_power", "severity", "critical",
      "name", "error_sectors_increase", "kind", "miner_sectors_increase", "severity", "warning",
      "param", "errorSectors",
      "name", "fail_sectors_increase", "kind", "miner_sectors_increase", "severity", "warning",
      "param", "failSectors",
      "name", "worker_balance_low", "kind", "miner_balance_low", "severity", "warning", "param",
      "worker", "threshold", 1.0, "clear", 1.5,
      "name", "control_balance_low", "kind", "miner_balance_low", "severity", "warning",
      "param", "control", "threshold", 1.0, "clear", 1.5,
      "name", "owner_balance_low", "kind", "miner_balance_low", "severity", "warning", "param",
      "owner", "threshold", 1.0, "clear", 1.5,
      "name", "job_pc1_long", "kind", "miner_job_long", "severity", "warning", "param", "PC1",
      "threshold", (double)(8 * 3600),
      "name", "job_pc2_long", "kind", "miner_job_long", "severity", "warning", "param", "PC2",
      "threshold", (double)(2 * 3600),
      "name", "job_c2_long", "kind", "miner_job_long", "severity", "warning", "param", "C2",
      "threshold", (double)(2 * 3600));
  char err[256];
  int rc = alerts_rules_load(a, d, err, sizeof err);
  (void)rc; /* the table above is valid (tests/unit/server/test_alert checks it) */
  json_decref(d);
}

int alerts_rule_add(struct alerts *a, const json_t *obj, char *err, size_t errlen) {
  struct alert_rule r = {0};
  if (rule_apply(&r, obj, true, err, errlen) != 0) {
    rule_clear(&r);
    return EF_EINVAL;
  }
  if (rule_find(a, r.name)) {
    snprintf(err, errlen, "rule %s already exists", r.name);
    rule_clear(&r);
    return EF_EEXIST;
  }
  a->rules = ef_realloc(a->rules, (a->nrules + 1) * sizeof *a->rules);
  a->rules[a->nrules++] = r;
  return 0;
}

int alerts_rule_update(struct alerts *a, const char *name, const json_t *obj, char *err,
                       size_t errlen) {
  struct alert_rule *old = rule_find(a, name), r;
  if (!old) {
    snprintf(err, errlen, "no rule %s", name);
    return EF_ENOENT;
  }
  rule_copy(&r, old);
  if (rule_apply(&r, obj, false, err, errlen) != 0) {
    rule_clear(&r);
    return EF_EINVAL;
  }
  /* a new kind or param is another condition: the old one's alerts end */
  if (r.kind != old->kind || (r.param == NULL) != (old->param == NULL) ||
      (r.param && strcmp(r.param, old->param) != 0))
    drop_rule_alerts(a, name);
  rule_clear(old);
  *old = r;
  a->version++;
  return 0;
}

int alerts_rule_delete(struct alerts *a, const char *name, int64_t now) {
  struct alert_rule *r = rule_find(a, name);
  if (!r) return EF_ENOENT;
  a->now = now;
  drop_rule_alerts(a, name);
  size_t i = (size_t)(r - a->rules);
  rule_clear(r);
  memmove(&a->rules[i], &a->rules[i + 1], (a->nrules - i - 1) * sizeof *a->rules);
  a->nrules--;
  return 0;
}

/* ----- rounds ----- */

void alerts_begin(struct alerts *a, int64_t now) {
  a->now = now;
  for (size_t i = 0; i < a->n; i++) a->arr[i]->seen = false;
}

static bool is_increase(const struct alert_rule *r) {
  return strcmp(r->kind->name, "miner_sectors_increase") == 0;
}

bool alert_rule_quiet(const struct alert_rule *r, double value) {
  if (!r->enabled) return true;
  if (is_increase(r)) return false;
  return r->kind->op == ALERT_ABOVE ? value <= r->clear : value >= r->clear;
}

void alerts_observe(struct alerts *a, const struct alert_rule *r, const char *subject,
                    json_t *labels, double value, int64_t since, const char *summary) {
  char *fp = ef_asprintf("%s|%s", r->name, subject);
  double raw = value;
  if (is_increase(r)) {
    json_t *b = json_object_get(a->baselines, fp);
    if (!b || json_number_value(b) > value) {
      json_object_set_new(a->baselines, fp, json_real(value));
      b = json_object_get(a->baselines, fp);
    }
    value -= json_number_value(b);
  }
  struct alert *x = find(a, fp);
  bool open = x && x->state == ALERT_FIRING; /* hysteresis holds a firing alert only */
  bool active = !r->enabled                 ? false
                : r->kind->op == ALERT_ABOVE ? value > (open ? r->clear : r->threshold)
                                             : value < (open ? r->clear : r->threshold);
  if (!active) {
    /* a resolved or absent alert: nothing; an open one is ended by alerts_end (not seen) */
    if (x) x->raw = raw, x->value = value;
    json_decref(labels);
    ef_free(fp);
    return;
  }
  if (!x) {
    x = ef_calloc(1, sizeof *x);
    x->fp = fp;
    fp = NULL;
    x->rule = ef_strdup(r->name);
    uint64_t h = fp_hash(x->fp);
    x->chain = u64map_get(&a->by_hash, h);
    u64map_put(&a->by_hash, h, x);
    if (a->n == a->cap) {
      a->cap = a->cap ? a->cap * 2 : 64;
      a->arr = ef_realloc(a->arr, a->cap * sizeof *a->arr);
    }
    a->arr[a->n++] = x;
    x->state = ALERT_RESOLVED; /* becomes pending below */
  }
  ef_free(fp);
  x->seen = true;
  x->raw = raw;
  x->value = value;
  if (!x->summary || !summary || strcmp(x->summary, summary) != 0) {
    ef_free(x->summary);
    x->summary = ef_strdup(summary);
    if (x->state != ALERT_RESOLVED) a->version++;
  }
  json_decref(x->labels);
  x->labels = labels ? labels : json_object();
  if (!x->severity || strcmp(x->severity, r->severity) != 0) {
    ef_free(x->severity);
    x->severity = ef_strdup(r->severity);
  }
  if (x->state == ALERT_RESOLVED) {
    x->state = ALERT_PENDING;
    x->since = since > 0 && since <= a->now ? since : a->now;
    x->fired_at = x->resolved_at = 0;
    x->acked_at = 0;
    ef_free(x->acked_by);
    x->acked_by = NULL;
    a->version++;
    log_add(a, "pending", x, json_pack("{s:f}", "value", value));
  }
  if (x->state == ALERT_PENDING && a->now - x->since >= r->for_ms) fire(a, x);
}

void alerts_end(struct alerts *a) {
  for (size_t i = a->n; i-- > 0;) {
    struct alert *x = a->arr[i];
    if (x->seen) {
      /* a silence ended while it fires: tell now */
      if (x->state == ALERT_FIRING && !x->notified && !silenced(a, x)) {
        x->notified = true;
        tell(a, x, "firing");
      }
      continue;
    }
    if (x->state == ALERT_PENDING) {
      log_add(a, "cancelled", x, NULL);
      a->version++;
      forget(a, i);
    } else if (x->state == ALERT_FIRING) {
      resolve(a, x);
    } else if (a->now - x->resolved_at >= a->o.resolved_keep) {
      a->version++;
      forget(a, i);
    }
  }
  /* expired silences go */
  for (size_t i = a->nsil; i-- > 0;)
    if (a->silences[i].until <= a->now) {
      struct silence *s = &a->silences[i];
      ef_free(s->rule);
      ef_free(s->fp);
      ef_free(s->comment);
      ef_free(s->by);
      a->silences[i] = a->silences[--a->nsil];
      a->version++;
    }
}

/* ----- silences, acks ----- */

int64_t alerts_silence(struct alerts *a, const char *rule, const char *fingerprint,
                       int64_t until, const char *comment, const char *by, int64_t now) {
  if ((!rule && !fingerprint) || until <= now) return EF_EINVAL;
  a->now = now;
  a->silences = ef_realloc(a->silences, (a->nsil + 1) * sizeof *a->silences);
  struct silence *s = &a->silences[a->nsil++];
  *s = (struct silence){.id = a->next_silence++, .until = until, .created = now,
                        .rule = ef_strdup(rule), .fp = ef_strdup(fingerprint),
                        .comment = ef_strdup(comment), .by = ef_strdup(by)};
  a->version++;
  json_t *extra = json_pack("{s:I, s:I}", "silence", (json_int_t)s->id, "until", (json_int_t)until);
  if (rule) json_object_set_new(extra, "rule", json_string(rule));
  if (fingerprint) json_object_set_new(extra, "fingerprint", json_string(fingerprint));
  if (by) json_object_set_new(extra, "by", json_string(by));
  if (comment) json_object_set_new(extra, "comment", json_string(comment));
  log_add(a, "silenced", NULL, extra);
  return s->id;
}

int alerts_ack(struct alerts *a, const char *fingerprint, const char *by, int64_t now) {
  struct alert *x = find(a, fingerprint);
  if (!x || x->state == ALERT_RESOLVED) return EF_ENOENT;
  a->now = now;
  x->acked_at = now;
  ef_free(x->acked_by);
  x->acked_by = ef_strdup(by);
  a->version++;
  log_add(a, "acked", x, by ? json_pack("{s:s}", "by", by) : NULL);
  const struct alert_rule *r = rule_find(a, x->rule);
  if (r && is_increase(r)) json_object_set_new(a->baselines, x->fp, json_real(x->raw));
  return 0;
}

/* ----- views ----- */

static const char *state_name(enum alert_state s) {
  return s == ALERT_FIRING ? "firing" : s == ALERT_PENDING ? "pending" : "resolved";
}

static json_t *alert_json(const struct alerts *a, const struct alert *x) {
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:O, s:f, s:I, s:b}", "fingerprint", x->fp,
                        "rule", x->rule, "state", state_name(x->state), "severity",
                        x->severity ? x->severity : "warning", "labels", x->labels, "value",
                        x->value, "since", (json_int_t)x->since, "silenced", silenced(a, x));
  json_object_set_new(o, "summary", json_string(x->summary ? x->summary : ""));
  if (x->fired_at) json_object_set_new(o, "fired_at", json_integer(x->fired_at));
  if (x->resolved_at) json_object_set_new(o, "resolved_at", json_integer(x->resolved_at));
  if (x->acked_at) {
    json_object_set_new(o, "acked_at", json_integer(x->acked_at));
    json_object_set_new(o, "acked_by", json_string(x->acked_by ? x->acked_by : ""));
  }
  return o;
}

static int by_state_time(const void *pa, const void *pb) {
  const json_t *x = *(json_t *const *)pa, *y = *(json_t *const *)pb;
  static const char *const order[] = {"firing", "pending", "resolved"};
  int ix = 0, iy = 0;
  for (int i = 0; i < 3; i++) {
    if (strcmp(json_string_value(json_object_get(x, "state")), order[i]) == 0) ix = i;
    if (strcmp(json_string_value(json_object_get(y, "state")), order[i]) == 0) iy = i;
  }
  if (ix != iy) return ix - iy;
  json_int_t tx = json_integer_value(json_object_get(x, "since"));
  json_int_t ty = json_integer_value(json_object_get(y, "since"));
  if (tx != ty) return tx > ty ? -1 : 1;
  return strcmp(json_string_value(json_object_get(x, "fingerprint")),
                json_string_value(json_object_get(y, "fingerprint")));
}

json_t *alerts_json(const struct alerts *a, int64_t now) {
  (void)now;
  json_t **items = ef_calloc(a->n ? a->n : 1, sizeof *items);
  for (size_t i = 0; i < a->n; i++) items[i] = alert_json(a, a->arr[i]);
  qsort(items, a->n, sizeof *items, by_state_time);
  json_t *arr = json_array();
  for (size_t i = 0; i < a->n; i++) json_array_append_new(arr, items[i]);
  ef_free(items);
  json_t *sil = json_array();
  for (size_t i = 0; i < a->nsil; i++) {
    const struct silence *s = &a->silences[i];
    json_t *o = json_pack("{s:I, s:I, s:I}", "id", (json_int_t)s->id, "until",
                          (json_int_t)s->until, "created", (json_int_t)s->created);
    json_object_set_new(o, "rule", s->rule ? json_string(s->rule) : json_null());
    json_object_set_new(o, "fingerprint", s->fp ? json_string(s->fp) : json_null());
    if (s->comment) json_object_set_new(o, "comment", json_string(s->comment));
    if (s->by) json_object_set_new(o, "by", json_string(s->by));
    json_array_append_new(sil, o);
  }
  return json_pack("{s:o, s:o}", "alerts", arr, "silences", sil);
}

json_t *alerts_log_json(const struct alerts *a, size_t limit) {
  json_t *arr = json_array();
  for (size_t k = 0; k < a->log_n && k < limit; k++)
    json_array_append(arr, a->log[(a->log_head + a->log_n - 1 - k) % a->o.log_max]);
  return arr;
}

size_t alerts_firing_count(const struct alerts *a, const char *rule) {
  size_t n = 0;
  for (size_t i = 0; i < a->n; i++)
    if (a->arr[i]->state == ALERT_FIRING && (!rule || strcmp(a->arr[i]->rule, rule) == 0)) n++;
  return n;
}

json_t *alerts_firing_by_rule(const struct alerts *a) {
  json_t *o = json_object();
  for (size_t i = 0; i < a->nrules; i++)
    json_object_set_new(o, a->rules[i].name, json_integer(0));
  for (size_t i = 0; i < a->n; i++)
    if (a->arr[i]->state == ALERT_FIRING) {
      json_t *v = json_object_get(o, a->arr[i]->rule);
      json_object_set_new(o, a->arr[i]->rule, json_integer(json_integer_value(v) + 1));
    }
  return o;
}

uint64_t alerts_version(const struct alerts *a) { return a->version; }

/* ----- persistence ----- */

json_t *alerts_state_json(const struct alerts *a) {
  json_t *arr = json_array();
  for (size_t i = 0; i < a->n; i++) {
    const struct alert *x = a->arr[i];
    json_t *o = json_pack("{s:s, s:s, s:i, s:O, s:I, s:I, s:I, s:f, s:f, s:b, s:I}", "fingerprint",
                          x->fp, "rule", x->rule, "state", (int)x->state, "labels", x->labels,
                          "since", (json_int_t)x->since, "fired_at", (json_int_t)x->fired_at,
                          "resolved_at", (json_int_t)x->resolved_at, "value", x->value, "raw",
                          x->raw, "notified", x->notified, "acked_at", (json_int_t)x->acked_at);
    if (x->severity) json_object_set_new(o, "severity", json_string(x->severity));
    if (x->summary) json_object_set_new(o, "summary", json_string(x->summary));
    if (x->acked_by) json_object_set_new(o, "acked_by", json_string(x->acked_by));
    json_array_append_new(arr, o);
  }
  json_t *sil = json_array();
  for (size_t i = 0; i < a->nsil; i++) {
    const struct silence *s = &a->silences[i];
    json_t *o = json_pack("{s:I, s:I, s:I}", "id", (json_int_t)s->id, "until",
                          (json_int_t)s->until, "created", (json_int_t)s->created);
    if (s->rule) json_object_set_new(o, "rule", json_string(s->rule));
    if (s->fp) json_object_set_new(o, "fingerprint", json_string(s->fp));
    if (s->comment) json_object_set_new(o, "comment", json_string(s->comment));
    if (s->by) json_object_set_new(o, "by", json_string(s->by));
    json_array_append_new(sil, o);
  }
  return json_pack("{s:i, s:o, s:o, s:O, s:I}", "version", 1, "alerts", arr, "silences", sil,
                   "baselines", a->baselines, "next_silence", (json_int_t)a->next_silence);
}

static char *opt_str(const json_t *o, const char *key) {
  const char *v = json_string_value(json_object_get(o, key));
  return v ? ef_strdup(v) : NULL;
}

size_t alerts_state_load(struct alerts *a, const json_t *state) {
  size_t i, restored = 0;
  json_t *o;
  json_array_foreach(json_object_get(state, "alerts"), i, o) {
    const char *fp = json_string_value(json_object_get(o, "fingerprint"));
    const char *rule = json_string_value(json_object_get(o, "rule"));
    json_t *st = json_object_get(o, "state");
    if (!fp || !rule || !rule_find(a, rule) || find(a, fp) || !json_is_integer(st) ||
        json_integer_value(st) < ALERT_PENDING || json_integer_value(st) > ALERT_RESOLVED)
      continue;
    struct alert *x = ef_calloc(1, sizeof *x);
    x->fp = ef_strdup(fp);
    x->rule = ef_strdup(rule);
    x->state = (enum alert_state)json_integer_value(st);
    x->severity = opt_str(o, "severity");
    x->summary = opt_str(o, "summary");
    x->acked_by = opt_str(o, "acked_by");
    json_t *l = json_object_get(o, "labels");
    x->labels = json_is_object(l) ? json_deep_copy(l) : json_object();
    x->since = json_integer_value(json_object_get(o, "since"));
    x->fired_at = json_integer_value(json_object_get(o, "fired_at"));
    x->resolved_at = json_integer_value(json_object_get(o, "resolved_at"));
    x->acked_at = json_integer_value(json_object_get(o, "acked_at"));
    x->value = json_number_value(json_object_get(o, "value"));
    x->raw = json_number_value(json_object_get(o, "raw"));
    x->notified = json_is_true(json_object_get(o, "notified"));
    x->seen = true; /* not "unseen in a round" before the first round */
    uint64_t h = fp_hash(x->fp);
    x->chain = u64map_get(&a->by_hash, h);
    u64map_put(&a->by_hash, h, x);
    if (a->n == a->cap) {
      a->cap = a->cap ? a->cap * 2 : 64;
      a->arr = ef_realloc(a->arr, a->cap * sizeof *a->arr);
    }
    a->arr[a->n++] = x;
    restored++;
  }
  json_array_foreach(json_object_get(state, "silences"), i, o) {
    json_t *id = json_object_get(o, "id"), *until = json_object_get(o, "until");
    char *rule = opt_str(o, "rule"), *fp = opt_str(o, "fingerprint");
    if (!json_is_integer(id) || !json_is_integer(until) || (!rule && !fp)) {
      ef_free(rule);
      ef_free(fp);
      continue;
    }
    a->silences = ef_realloc(a->silences, (a->nsil + 1) * sizeof *a->silences);
    a->silences[a->nsil++] = (struct silence){
        .id = json_integer_value(id), .until = json_integer_value(until),
        .created = json_integer_value(json_object_get(o, "created")), .rule = rule, .fp = fp,
        .comment = opt_str(o, "comment"), .by = opt_str(o, "by")};
    if (json_integer_value(id) >= a->next_silence) a->next_silence = json_integer_value(id) + 1;
  }
  json_t *ns = json_object_get(state, "next_silence");
  if (json_is_integer(ns) && json_integer_value(ns) > a->next_silence)
    a->next_silence = json_integer_value(ns);
  json_t *b = json_object_get(state, "baselines");
  if (json_is_object(b)) json_object_update(a->baselines, b);
  a->version++;
  return restored;
}
