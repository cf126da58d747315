/* SPDX-License-Identifier: MIT */
/* alert_eval.c -- alerting in the server: the rule table's file, the evaluation timer and the
 * conditions of every alert kind over the live state (alert.h, docs/alerts.md).
 *
 * Every alert_eval a round reads, through the existing accessors, what the server already holds
 * in memory: the devices this server has seen log in (live listener events: login, logout;
 * their status through live.h) and the miner records (miner_at). Nothing is evaluated per
 * message; a round costs O(devices × device rules + miners × workers). Devices that have not
 * logged in since the server started are not watched (their offline time is unknown).
 *
 * The rule table lives in alert_rules_file (JSON array). It is read at start-up (blocking, like
 * the rest of start-up; absent: the built-in defaults) and written on the database thread
 * (worker.h: a file written there never blocks the loop) after every change made through REST.
 *
 * Persistence (docs/alerts.md#persistence): every alert-log entry and, after every round that
 * changed something (and at stop), the engine's state (open alerts, acks, silences) are queued
 * to devlog.c's write-behind batches (devlog_alert_log, devlog_alert_state), never written on
 * the loop. At start the saved state is read on the database thread; rounds begin only once it
 * is restored, so a restart neither re-notifies a firing alert nor loses a silence or an ack.
 * A device whose offline alert was open is watched again from that alert's start.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "clock.h"
#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "log.h"
#include "mem.h"
#include "server.h"

/* A device this server has seen log in, and the figures of its latest status upload that the
 * device rules read (taken again only when a newer upload arrived: a round parses no more
 * status messages than were uploaded since the last one). */
#define WATCH_GPUS 16
struct watched {
  bool online;
  int64_t since;             /* online: login time; offline: logout time (ms) */
  int64_t status_time;       /* the upload the figures below are from (0: none) */
  bool has_cpu, has_disk;
  double cpu_temp, disk_pct;
  int ngpu;
  json_int_t gpu_index[WATCH_GPUS];
  double gpu_temp[WATCH_GPUS];
  char host[96];             /* host_name, or "" */
};

struct alerting {
  struct server *srv;
  struct alerts *alerts;
  uv_timer_t timer;
  struct u64map devices;     /* device id -> struct watched */
  char *rules_file;
  struct worker_job load_job;
  char *loaded;              /* the saved state read at start (JSON text), on the way in */
  int load_rc;
  bool ready;                /* the saved state is restored: rounds run, the state is saved */
  bool closed;               /* stopped before the load was done: load_done frees */
  uint64_t saved_version;    /* alerts_version of the state queued last */
};

/* ----- devices: what the live registry tells ----- */

static void on_live(void *ud, const struct live_change *c) {
  struct alerting *al = ud;
  if (c->event == LIVE_STATE) return;
  struct watched *w = u64map_get(&al->devices, c->device_id);
  if (!w) {
    w = ef_calloc(1, sizeof *w);
    u64map_put(&al->devices, c->device_id, w);
  }
  w->online = c->event == LIVE_LOGIN;
  w->since = ef_now_ms();
  w->status_time = 0; /* a new session: its own uploads */
  w->has_cpu = w->has_disk = false;
  w->ngpu = 0;
}

/* ----- parsing the record's figures ----- */

/* "39.522 FIL", "244.058 mFIL", "12.5" (FIL): FIL as a double; false when not an amount. */
static bool parse_fil(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno) return false;
  while (*end == ' ') end++;
  static const struct { const char *p; double mul; } units[] = {
    {"FIL", 1}, {"mFIL", 1e-3}, {"μFIL", 1e-6}, {"uFIL", 1e-6}, {"nFIL", 1e-9},
    {"pFIL", 1e-12}, {"fFIL", 1e-15}, {"aFIL", 1e-18}, {"kFIL", 1e3}, {"MFIL", 1e6},
    {"", 1},
  };
  for (size_t i = 0; i < sizeof units / sizeof *units; i++)
    if (strcmp(end, units[i].p) == 0) {
      *out = v * units[i].mul;
      return true;
    }
  return false;
}

/* A balance member: its exact `…Atto` companion when present, else lotus' text. */
static bool balance(const json_t *rec, const char *key, double *out) {
  char atto[64];
  snprintf(atto, sizeof atto, "%sAtto", key);
  const char *a = jstr(rec, atto);
  if (a) {
    char *end;
    double v = strtod(a, &end);
    if (end != a && !*end) {
      *out = v / 1e18;
      return true;
    }
  }
  const char *s = jstr(rec, key);
  return s && parse_fil(s, out);
}

/* "1.5 TiB", "0 B": bytes. */
static bool parse_size(const char *s, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s) return false;
  while (*end == ' ') end++;
  static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double mul = 1;
  for (size_t i = 0; i < sizeof u / sizeof *u; i++, mul *= 1024)
    if (strcmp(end, u[i]) == 0 || (i == 0 && !*end)) {
      *out = v * mul;
      return true;
    }
  return false;
}

static bool number(const json_t *v, double *out) {
  if (!json_is_number(v)) return false;
  *out = json_number_value(v);
  return true;
}

/* ----- one round ----- */

static bool is_kind(const struct alert_rule *r, const char *name) {
  return strcmp(r->kind->name, name) == 0;
}


/* The device's figures from its latest status upload, when it is newer than those we have. */
static void refresh_status(struct alerting *al, uint64_t id, struct watched *w) {
  int64_t t = w->online ? live_status_time(al->srv->live, id) : -1;
  if (t <= 0 || t == w->status_time) return;
  json_t *st = live_status_data(al->srv->live, id);
  if (!st) return;
  w->status_time = t;
  w->has_cpu = number(json_object_get(st, "cpu_temperature"), &w->cpu_temp);
  w->has_disk = number(json_object_get(jobj(st, "Disk_info"), "root_used_percent"), &w->disk_pct);
  snprintf(w->host, sizeof w->host, "%s", jstr(st, "host_name") ? jstr(st, "host_name") : "");
  w->ngpu = 0;
  size_t i;
  json_t *g;
  json_array_foreach(json_object_get(st, "gpuInfo"), i, g) {
    if (w->ngpu == WATCH_GPUS) break;
    double v;
    if (!number(json_object_get(g, "temperature"), &v)) continue;
    json_t *ix = json_object_get(g, "index");
    w->gpu_index[w->ngpu] = json_is_integer(ix) ? json_integer_value(ix) : (json_int_t)i;
    w->gpu_temp[w->ngpu++] = v;
  }
  json_decref(st);
}

/* Observe `value` of a device subject: labels and summary are made only when the value could
 * make or keep an alert (alert_rule_quiet), so a quiet fleet costs no allocation. */
static void observe_device(struct alerting *al, const struct alert_rule *r, uint64_t id,
                           const struct watched *w, double value, int64_t since, int gpu,
                           const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void observe_device(struct alerting *al, const struct alert_rule *r, uint64_t id,
                           const struct watched *w, double value, int64_t since, int gpu,
                           const char *fmt, ...) {
  if (alert_rule_quiet(r, value)) return;
  char ids[EF_ID_STRLEN], subj[96], sum[512];
  id_format(id, ids);
  json_t *labels = json_pack("{s:s}", "device", ids);
  if (*w->host) json_object_set_new(labels, "host", json_string(w->host));
  if (gpu >= 0) {
    snprintf(subj, sizeof subj, "device=%s,gpu=%d", ids, gpu);
    json_object_set_new(labels, "gpu", json_integer(gpu));
  } else {
    snprintf(subj, sizeof subj, "device=%s", ids);
  }
  char what[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(sum, sizeof sum, "device %s %s", *w->host ? w->host : ids, what);
  alerts_observe(al->alerts, r, subj, labels, value, since, sum);
}

static void eval_device(struct alerting *al, const struct alert_rule *r, uint64_t id,
                        const struct watched *w, int64_t now) {
  if (is_kind(r, "device_offline")) {
    if (!w->online) observe_device(al, r, id, w, 1, w->since, -1, "offline");
  } else if (!w->online) {
    /* the kinds below are about a connected device */
  } else if (is_kind(r, "device_no_status")) {
    int64_t from = w->status_time > 0 ? w->status_time : w->since;
    double age = (double)(now - from) / 1000.0;
    observe_device(al, r, id, w, age, 0, -1, "sent no status for %.0f s", age);
  } else if (is_kind(r, "device_cpu_temp")) {
    if (w->has_cpu) observe_device(al, r, id, w, w->cpu_temp, 0, -1, "CPU at %.1f °C", w->cpu_temp);
  } else if (is_kind(r, "device_disk")) {
    if (w->has_disk)
      observe_device(al, r, id, w, w->disk_pct, 0, -1, "disk / %.1f %% used", w->disk_pct);
  } else if (is_kind(r, "device_gpu_temp")) {
    for (int i = 0; i < w->ngpu; i++)
      observe_device(al, r, id, w, w->gpu_temp[i], 0, (int)w->gpu_index[i], "GPU %lld at %.0f °C",
                     (long long)w->gpu_index[i], w->gpu_temp[i]);
  }
}

static json_t *miner_labels(const struct miner_info *m) {
  char ids[EF_ID_STRLEN];
  id_format(m->device_id, ids);
  return json_pack("{s:s, s:s}", "miner", m->id, "device", ids);
}

static void eval_miner(struct alerting *al, const struct alert_rule *r,
                       const struct miner_info *m, int64_t now) {
  const json_t *rec = m->record;
  char subj[256], sum[512];
  snprintf(subj, sizeof subj, "miner=%s", m->id);
  double v;
  if (is_kind(r, "miner_down")) {
    const char *e = jstr(rec, "minerError");
    if (e) {
      snprintf(sum, sizeof sum, "miner %s down: %.200s", m->id, e);
      alerts_observe(al->alerts, r, subj, miner_labels(m), 1,
                     json_integer_value(json_object_get(rec, "minerErrorSince")), sum);
    }
  } else if (is_kind(r, "miner_chain_sync")) {
    if (number(json_object_get(rec, "chainSyncBehindSeconds"), &v)) {
      snprintf(sum, sizeof sum, "miner %s chain sync %.0f s behind", m->id, v);
      alerts_observe(al->alerts, r, subj, miner_labels(m), v, 0, sum);
    }
  } else if (is_kind(r, "miner_worker_missing") || is_kind(r, "miner_worker_disabled")) {
    bool want_missing = is_kind(r, "miner_worker_missing");
    const char *host;
    json_t *w;
    json_object_foreach(jobj(rec, "workerInfo"), host, w) {
      bool missing = json_is_true(json_object_get(w, "missing"));
      json_t *lotus = json_object_get(w, "lotus");
      bool disabled = !missing && (json_is_false(json_object_get(lotus, "enabled")) ||
                                   (!lotus && json_is_false(json_object_get(w, "enabled"))));
      if (want_missing ? !missing : !disabled) continue;
      char s[512];
      snprintf(s, sizeof s, "%s,host=%.200s", subj, host);
      json_t *l = miner_labels(m);
      json_object_set_new(l, "host", json_string(host));
      snprintf(sum, sizeof sum, "miner %s worker %.200s %s", m->id, host,
               want_missing ? "no longer listed by lotus" : "disabled in lotus");
      alerts_observe(al->alerts, r, s, l, 1, 0, sum);
    }
  } else if (is_kind(r, "miner_deadline_faults") || is_kind(r, "miner_deadline_unproven")) {
    bool faults = is_kind(r, "miner_deadline_faults");
    json_t *cd = json_object_get(rec, "currentDeadline");
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(rec, "deadlines"), i, d) {
      json_int_t idx = json_integer_value(json_object_get(d, "index"));
      if (faults) {
        if (!number(json_object_get(d, "faults"), &v)) continue;
      } else {
        json_t *pp = json_object_get(d, "provenPartitions");
        json_int_t parts = json_integer_value(json_object_get(d, "partitions"));
        if (!json_is_integer(cd) || idx >= json_integer_value(cd) || !json_is_integer(pp) ||
            parts <= 0)
          continue;
        v = (double)(parts - json_integer_value(pp));
      }
      char s[300];
      snprintf(s, sizeof s, "%s,deadline=%lld", subj, (long long)idx);
      json_t *l = miner_labels(m);
      json_object_set_new(l, "deadline", json_integer(idx));
      if (faults)
        snprintf(sum, sizeof sum, "miner %s deadline %lld has %.0f faulty sectors", m->id,
                 (long long)idx, v);
      else
        snprintf(sum, sizeof sum, "miner %s deadline %lld closed with %.0f unproven partitions",
                 m->id, (long long)idx, v);
      alerts_observe(al->alerts, r, s, l, v, 0, sum);
    }
  } else if (is_kind(r, "miner_faulty_power")) {
    const json_t *b = json_object_get(rec, "faultyPowerBytes");
    const char *txt = jstr(rec, "faultyPower");
    bool ok = number(b, &v) || (json_is_string(b) && parse_size(json_string_value(b), &v)) ||
              (json_is_string(b) && (v = strtod(json_string_value(b), NULL), true)) ||
              (txt && parse_size(txt, &v));
    if (ok) {
      snprintf(sum, sizeof sum, "miner %s faulty power %s", m->id, txt ? txt : "above 0");
      alerts_observe(al->alerts, r, subj, miner_labels(m), v, 0, sum);
    }
  } else if (is_kind(r, "miner_sectors_increase")) {
    if (number(json_object_get(rec, r->param), &v)) {
      snprintf(sum, sizeof sum, "miner %s %s rose to %.0f", m->id, r->param, v);
      alerts_observe(al->alerts, r, subj, miner_labels(m), v, 0, sum);
    }
  } else if (is_kind(r, "miner_balance_low")) {
    const char *key = strcmp(r->param, "worker") == 0    ? "workerBalance"
                      : strcmp(r->param, "control") == 0 ? "postBalance"
                      : strcmp(r->param, "owner") == 0   ? "ownerBalance"
                                                         : "minerBalance";
    if (balance(rec, key, &v)) {
      snprintf(sum, sizeof sum, "miner %s %s balance %.3f FIL", m->id, r->param, v);
      json_t *l = miner_labels(m);
      json_object_set_new(l, "kind", json_string(r->param));
      alerts_observe(al->alerts, r, subj, l, v, 0, sum);
    }
  } else if (is_kind(r, "miner_job_long")) {
    const char *host;
    json_t *w;
    json_object_foreach(jobj(rec, "workerInfo"), host, w) {
      size_t i;
      json_t *j;
      json_array_foreach(json_object_get(jobj(w, "currentQueue"), r->param), i, j) {
        json_t *start = json_object_get(j, "start");
        const char *jid = jstr(j, "id");
        if (!json_is_integer(start) || !jid) continue;
        v = (double)(now - json_integer_value(start)) / 1000.0;
        char s[400];
        snprintf(s, sizeof s, "%s,job=%.100s", subj, jid);
        json_t *l = miner_labels(m);
        json_object_set_new(l, "host", json_string(host));
        json_object_set_new(l, "task", json_string(r->param));
        json_object_set_new(l, "job", json_string(jid));
        if (jstr(j, "sector")) json_object_set_new(l, "sector", json_string(jstr(j, "sector")));
        snprintf(sum, sizeof sum, "miner %s %s job %.40s on %.100s running for %.0f min",
                 m->id, r->param, jid, host, v / 60);
        alerts_observe(al->alerts, r, s, l, v, json_integer_value(start), sum);
      }
    }
  }
}

static void round_now(struct alerting *al) {
  int64_t now = ef_now_ms(), t0 = ef_mono_ms();
  struct alerts *a = al->alerts;
  size_t nr = alerts_rule_count(a);
  alerts_begin(a, now);
  bool dev_rules = false, miner_rules = false;
  for (size_t k = 0; k < nr; k++) {
    const struct alert_rule *r = alerts_rule_at(a, k);
    if (!r->enabled) continue;
    if (strncmp(r->kind->name, "device_", 7) == 0) dev_rules = true;
    else miner_rules = true;
  }
  if (dev_rules) {
    size_t it = 0;
    uint64_t id;
    void *p;
    while (u64map_next(&al->devices, &it, &id, &p)) {
      struct watched *w = p;
      refresh_status(al, id, w);
      for (size_t k = 0; k < nr; k++) {
        const struct alert_rule *r = alerts_rule_at(a, k);
        if (r->enabled && strncmp(r->kind->name, "device_", 7) == 0) eval_device(al, r, id, w, now);
      }
    }
  }
  if (miner_rules) {
    struct miner_info m;
    for (size_t i = 0; miner_at(al->srv->miners, i, &m); i++) {
      if (!m.record) continue;
      for (size_t k = 0; k < nr; k++) {
        const struct alert_rule *r = alerts_rule_at(a, k);
        if (r->enabled && strncmp(r->kind->name, "miner_", 6) == 0) eval_miner(al, r, &m, now);
      }
    }
  }
  alerts_end(a);
  int64_t took = ef_mono_ms() - t0;
  if (took > 50)
    ef_log(EF_LOG_WARN, "alerts: a round took %lld ms (%zu devices watched)", (long long)took,
           al->devices.len);
}

/* Queue the engine's state when it changed since it was last queued. */
static void save_state(struct alerting *al) {
  if (!al->ready || !al->srv->devlog || alerts_version(al->alerts) == al->saved_version) return;
  al->saved_version = alerts_version(al->alerts);
  json_t *st = alerts_state_json(al->alerts);
  char *text = json_dumps(st, JSON_COMPACT);
  json_decref(st);
  if (text) devlog_alert_state(al->srv->devlog, ef_strdup(text));
  free(text);
}

/* In a cluster every node sees every device and miner and evaluates the same rules (so any node
 * answers alert queries, and a new leader has the state already); the leader alone saves it,
 * writes the alert log and notifies (srv->leader, kept by cluster.c), so each happens once. */
static void on_timer(uv_timer_t *t) {
  struct alerting *al = t->data;
  round_now(al);
  if (al->srv->leader) save_state(al);
}

/* ----- persistence ----- */

static void on_log(void *ud, const json_t *e) {
  struct alerting *al = ud;
  if (!al->srv->devlog || !al->srv->leader) return;
  char *text = json_dumps(e, JSON_COMPACT);
  if (!text) return;
  struct store_alert_log row = {
      .time = json_integer_value(json_object_get(e, "time")),
      .event = ef_strdup(json_string_value(json_object_get(e, "event"))),
      .rule = ef_strdup(json_string_value(json_object_get(e, "rule"))),
      .fingerprint = ef_strdup(json_string_value(json_object_get(e, "fingerprint"))),
      .entry = ef_strdup(text)};
  free(text);
  devlog_alert_log(al->srv->devlog, &row);
}

static void load_work(struct store *st, struct worker_job *job) {
  struct alerting *al = container_of(job, struct alerting, load_job);
  al->load_rc = st->ops->alert_state_get(st, &al->loaded);
  if (al->load_rc && al->load_rc != EF_ENOENT)
    ef_log(EF_LOG_ERROR, "alerts: reading the saved state failed: %s", store_errmsg(st));
}

/* Devices whose device_offline alert was open are watched again, offline from its start. */
static void rewatch(struct alerting *al, const json_t *state) {
  size_t i;
  json_t *o;
  json_array_foreach(json_object_get(state, "alerts"), i, o) {
    const struct alert_rule *r = NULL;
    const char *rule = jstr(o, "rule");
    for (size_t k = 0; rule && k < alerts_rule_count(al->alerts); k++)
      if (strcmp(alerts_rule_at(al->alerts, k)->name, rule) == 0) r = alerts_rule_at(al->alerts, k);
    uint64_t id;
    const char *dev = jstr(jobj(o, "labels"), "device");
    if (!r || strcmp(r->kind->name, "device_offline") != 0 ||
        json_integer_value(json_object_get(o, "state")) == ALERT_RESOLVED || !dev ||
        !id_parse(dev, &id) || u64map_get(&al->devices, id))
      continue;
    struct watched *w = ef_calloc(1, sizeof *w);
    w->online = false;
    w->since = json_integer_value(json_object_get(o, "since"));
    u64map_put(&al->devices, id, w);
  }
}

static void al_free(struct alerting *al);

static void load_done(struct worker_job *job) {
  struct alerting *al = container_of(job, struct alerting, load_job);
  if (al->closed) {
    al_free(al);
    return;
  }
  if (al->loaded) {
    json_error_t je;
    json_t *st = json_loads(al->loaded, 0, &je);
    if (st) {
      size_t n = alerts_state_load(al->alerts, st);
      rewatch(al, st);
      ef_log(EF_LOG_INFO, "alerts: restored %zu alerts and %zu silences", n,
             json_array_size(json_object_get(st, "silences")));
      json_decref(st);
    } else {
      ef_log(EF_LOG_ERROR, "alerts: the saved state is not JSON (%s): starting without it",
             je.text);
    }
    ef_free(al->loaded);
    al->loaded = NULL;
  }
  al->ready = true;
  al->saved_version = alerts_version(al->alerts);
  if (al->srv->alerting != al) return; /* stopped meanwhile */
  uv_timer_start(&al->timer, on_timer, (uint64_t)al->srv->cfg.alert_eval,
                 (uint64_t)al->srv->cfg.alert_eval);
}

/* ----- the rules file ----- */

struct save_job {
  struct worker_job job;
  char *path, *text;
  int err;
};

static void save_work(struct store *st, struct worker_job *job) {
  (void)st;
  struct save_job *s = container_of(job, struct save_job, job);
  char *tmp = ef_asprintf("%s.tmp", s->path);
  FILE *f = fopen(tmp, "w");
  if (!f || fputs(s->text, f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) s->err = errno;
  if (f && fclose(f) != 0 && !s->err) s->err = errno;
  if (!s->err && rename(tmp, s->path) != 0) s->err = errno;
  if (s->err) unlink(tmp);
  ef_free(tmp);
}

static void save_done(struct worker_job *job) {
  struct save_job *s = container_of(job, struct save_job, job);
  if (s->err)
    ef_log(EF_LOG_ERROR, "alert rules: cannot write %s: %s", s->path, strerror(s->err));
  ef_free(s->path);
  ef_free(s->text);
  ef_free(s);
}

void alerting_rules_changed(struct server *srv) {
  struct alerting *al = srv->alerting;
  struct save_job *s = ef_calloc(1, sizeof *s);
  s->path = ef_strdup(al->rules_file);
  json_t *arr = alerts_rules_json(al->alerts), *r;
  size_t i;
  json_array_foreach(arr, i, r) json_object_del(r, "unit"); /* the kind's, not the rule's */
  s->text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(arr);
  s->job.work = save_work;
  s->job.done = save_done;
  worker_submit(srv->worker, &s->job);
  if (al->ready) round_now(al); /* the change shows at once */
}

/* ----- life ----- */

int alerting_start(struct server *srv, char *err, size_t errlen) {
  struct alerting *al = ef_calloc(1, sizeof *al);
  al->srv = srv;
  al->alerts = alerts_new(&(struct alert_opts){.resolved_keep = srv->cfg.alert_resolved_keep,
                                               .log_max = (size_t)srv->cfg.alert_log_max});
  u64map_init(&al->devices);
  al->rules_file = srv->cfg.alert_rules_file
                       ? ef_strdup(srv->cfg.alert_rules_file)
                       : ef_asprintf("%s/alert-rules.json", srv->cfg.data_dir);
  if (access(al->rules_file, F_OK) == 0) {
    json_error_t je;
    json_t *arr = json_load_file(al->rules_file, 0, &je);
    char why[400];
    if (!arr) {
      snprintf(err, errlen, "alert rules %s: line %d: %s", al->rules_file, je.line, je.text);
      goto fail;
    }
    int rc = alerts_rules_load(al->alerts, arr, why, sizeof why);
    json_decref(arr);
    if (rc != 0) {
      snprintf(err, errlen, "alert rules %s: %s", al->rules_file, why);
      goto fail;
    }
  } else {
    alerts_rules_defaults(al->alerts);
  }
  uv_timer_init(srv->loop, &al->timer);
  al->timer.data = al;
  live_listen(srv->live, on_live, al);
  alert_log_listen(al->alerts, on_log, al);
  srv->alerting = al;
  /* rounds start once the saved state is back (load_done) */
  al->load_job.work = load_work;
  al->load_job.done = load_done;
  worker_submit(srv->worker, &al->load_job);
  return 0;
fail:
  alerts_free(&al->alerts);
  ef_free(al->rules_file);
  u64map_free(&al->devices);
  ef_free(al);
  return EF_ECONFIG;
}

struct alerts *alerting_alerts(struct server *srv) {
  return srv->alerting ? srv->alerting->alerts : NULL;
}

static void al_free(struct alerting *al) {
  size_t it = 0;
  uint64_t id;
  void *p;
  while (u64map_next(&al->devices, &it, &id, &p)) ef_free(p);
  u64map_free(&al->devices);
  alerts_free(&al->alerts);
  ef_free(al->rules_file);
  ef_free(al->loaded);
  ef_free(al);
}

/* The timer is closed; the load job, if still on the database thread, frees it when done. */
static void alerting_free(uv_handle_t *h) {
  struct alerting *al = h->data;
  if (!al->ready) {
    al->closed = true;
    return;
  }
  al_free(al);
}

void alerting_stop(struct server *srv) {
  struct alerting *al = srv->alerting;
  if (!al) return;
  save_state(al); /* before devlog_stop: goes with its last batch */
  uv_timer_stop(&al->timer);
  uv_close((uv_handle_t *)&al->timer, alerting_free);
  srv->alerting = NULL;
}
