/* SPDX-License-Identifier: MIT */
/* join.c -- miner records as readers see them: each worker joined with the live hardware status
 * of the agent on that host, and per-miner summaries with their alarms.
 *
 * A worker's availability is lotus' and the miner host's, both in the record: `lotus`
 * {listed, enabled, ...} and `netState` (the agent on the miner connects to the worker's listen
 * address), `missing` when lotus stopped listing it (miner.c). A worker host that also runs an
 * agent additionally shows that agent's latest status upload (live.h maps its `host_name`, or
 * its `lotus_worker_name`, to the device), read when the record is read, with the device's
 * state as `agentState`; a worker without an agent raises nothing for lacking one.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "id.h"
#include "jsonutil.h"
#include "server.h"

/* Hardware of the worker host `host` from its own agent's latest status upload. */
static void join_worker(const struct live *l, const char *host, json_t *w) {
  uint64_t dev = live_host_device(l, host);
  if (!json_is_string(json_object_get(w, "netState")))
    json_object_set_new(w, "netState", json_string("unknown"));
  if (dev) {
    char idbuf[EF_ID_STRLEN];
    json_object_set_new(w, "agentState", json_string(dev_state_name(live_state(l, dev))));
    json_object_set_new(w, "agentDeviceId", json_string(id_format(dev, idbuf)));
  }
  json_t *st = dev ? live_status_data(l, dev) : NULL;
  if (!st) return;
  json_t *v;
  if ((v = json_object_get(st, "cpu_temperature"))) json_object_set(w, "cpuTemper", v);
  json_t *la = jobj(st, "load_avg");
  if (la && (v = json_object_get(la, "1"))) json_object_set(w, "cpuLoad", v);
  if ((v = json_object_get(st, "cpu_usage_percent"))) json_object_set(w, "cpuUsage", v);
  json_t *mem = jobj(st, "Memory_info");
  if (mem) {
    json_int_t total = json_integer_value(json_object_get(mem, "total_memory_mb"));
    json_int_t freemb = json_integer_value(json_object_get(mem, "free_memory_mb"));
    json_int_t cache = json_integer_value(json_object_get(mem, "buff_cache_mb"));
    json_object_set_new(w, "totalMemory", json_integer(total));
    /* The numbers are the device's: a difference that does not fit is no figure at all (and
     * computing it would be undefined behaviour). */
    json_int_t used;
    if (!__builtin_sub_overflow(total, freemb, &used) && !__builtin_sub_overflow(used, cache, &used))
      json_object_set_new(w, "useMemory", json_integer(used));
  }
  json_t *disk = jobj(st, "Disk_info");
  if (disk && (v = json_object_get(disk, "root_used_percent"))) json_object_set(w, "useDisk", v);
  json_t *dio = json_object_get(st, "disk_io");
  if (json_is_array(dio)) {
    double r = 0, wr = 0;
    size_t i;
    json_array_foreach(dio, i, v) {
      r += json_number_value(json_object_get(v, "read_bps"));
      wr += json_number_value(json_object_get(v, "write_bps"));
    }
    json_object_set_new(w, "diskR", json_real(r));
    json_object_set_new(w, "diskW", json_real(wr));
  }
  if ((v = json_object_get(st, "net_io"))) json_object_set(w, "netIO", v);
  /* the agent's gpu collector (docs/agent.md#gpu); the worker's `gpus` stays lotus' list */
  if ((v = json_object_get(st, "gpuInfo"))) json_object_set(w, "gpuInfo", v);
  json_decref(st);
}

/* Elapsed ms as Go prints a duration, to the second: "1h2m3s", "4m0s", "12s". */
static void go_duration(int64_t ms, char *out, size_t len) {
  int64_t s = ms > 0 ? ms / 1000 : 0;
  if (s >= 3600)
    snprintf(out, len, "%lldh%lldm%llds", (long long)(s / 3600), (long long)(s / 60 % 60),
             (long long)(s % 60));
  else if (s >= 60)
    snprintf(out, len, "%lldm%llds", (long long)(s / 60), (long long)(s % 60));
  else
    snprintf(out, len, "%llds", (long long)s);
}

/* Jobs arrive with their `start` (ms) rather than lotus' elapsed `time`, which would change at
 * every collection; the API shape shows `time` again, as of now. */
static void add_job_times(json_t *worker, int64_t now) {
  static const char *const queues[] = {"currentQueue", "pendingQueue"};
  for (int q = 0; q < 2; q++) {
    const char *task;
    json_t *list;
    json_object_foreach(jobj(worker, queues[q]), task, list) {
      size_t i;
      json_t *job;
      json_array_foreach(list, i, job) {
        json_t *start = json_object_get(job, "start");
        int64_t elapsed;
        if (!json_is_integer(start) || json_object_get(job, "time")) continue;
        /* A start the agent could not have sent (before 1970 by centuries) has no time. */
        if (__builtin_sub_overflow(now, (int64_t)json_integer_value(start), &elapsed)) continue;
        char buf[32];
        go_duration(elapsed, buf, sizeof buf);
        json_object_set_new(job, "time", json_string(buf));
      }
    }
  }
}

/* The record joined with worker hardware. `as_array`: docs/protocol.md's minerInfo read shape
 * (workerInfo an array, job times as of now); otherwise the subscription shape (keyed by
 * host, jobs with their start only, so that pushes carry only real changes). Caller owns it. */
static json_t *render(const struct live *l, const struct miner_info *m, bool as_array) {
  json_t *out = json_deep_copy(m->record);
  json_t *workers = as_array ? json_array() : json_object();
  const char *host;
  json_t *w;
  json_object_foreach(jobj(m->record, "workerInfo"), host, w) {
    json_t *jw = json_deep_copy(w);
    if (!jstr(jw, "hostName")) json_object_set_new(jw, "hostName", json_string(host));
    join_worker(l, host, jw);
    if (as_array) {
      add_job_times(jw, ef_now_ms());
      json_array_append_new(workers, jw);
    } else {
      json_object_set_new(workers, host, jw);
    }
  }
  json_object_set_new(out, "workerInfo", workers);
  char idbuf[EF_ID_STRLEN];
  json_object_set_new(out, "deviceId", json_string(id_format(m->device_id, idbuf)));
  json_object_set_new(out, "updatedTime", json_integer(m->updated));
  return out;
}

json_t *join_miner(struct server *srv, const char *id) {
  struct miner_info m;
  return miner_lookup(srv->miners, id, &m) ? render(srv->live, &m, true) : NULL;
}

bool join_miner_device(struct server *srv, const char *id, uint64_t *device_id) {
  struct miner_info m;
  if (!miner_lookup(srv->miners, id, &m)) return false;
  *device_id = m.device_id;
  return true;
}

json_t *join_miner_view(struct server *srv, const char *id) {
  struct miner_info m;
  return miner_lookup(srv->miners, id, &m) ? render(srv->live, &m, false) : NULL;
}

json_t *join_miner_list(struct server *srv) { return join_miner_list_seen(srv, NULL); }

json_t *join_miner_list_seen(struct server *srv, const struct auth_view *v) {
  json_t *arr = json_array();
  struct miner_info m;
  for (size_t i = 0; miner_at(srv->miners, i, &m); i++)
    if (m.record && auth_view_has_device(v, m.device_id))
      json_array_append_new(arr, render(srv->live, &m, true));
  return arr;
}

static void add_alarm(json_t *alarms, const char *type, const char *severity, json_t *message) {
  json_array_append_new(alarms, json_pack("{s:s, s:s, s:o}", "type", type, "severity", severity,
                                          "message", message));
}

/* What the workers of a record add up to, for the summary and its alarms. */
struct worker_counts {
  json_int_t workers, up, unreachable, disabled, missing;
  char first_unreachable[128], first_disabled[128], first_missing[128];
};

static void note(char *buf, size_t len, const char *host) {
  if (!*buf) snprintf(buf, len, "%s", host);
}

static void count_workers(const json_t *rec, struct worker_counts *c) {
  memset(c, 0, sizeof *c);
  const char *host;
  json_t *w;
  json_object_foreach(jobj(rec, "workerInfo"), host, w) {
    c->workers++;
    json_t *lotus = json_object_get(w, "lotus");
    bool missing = json_is_true(json_object_get(w, "missing"));
    const char *net = jstr(w, "netState");
    bool unreachable = !missing && net && strcmp(net, "unreachable") == 0;
    bool disabled = !missing && (json_is_false(json_object_get(lotus, "enabled")) ||
                                 (!lotus && json_is_false(json_object_get(w, "enabled"))));
    if (missing) {
      c->missing++;
      note(c->first_missing, sizeof c->first_missing, host);
    }
    if (unreachable) {
      c->unreachable++;
      note(c->first_unreachable, sizeof c->first_unreachable, host);
    }
    if (disabled) {
      c->disabled++;
      note(c->first_disabled, sizeof c->first_disabled, host);
    }
    if (!missing && !unreachable && !disabled) c->up++;
  }
}

/* "w1" or "w1 and 2 more". */
static json_t *hosts_msg(const char *what, const char *first, json_int_t n) {
  if (n <= 1) return json_sprintf("worker %s %s", first, what);
  return json_sprintf("%lld workers %s (%s and %lld more)", (long long)n, what, first,
                      (long long)(n - 1));
}

/* Deadlines with faulty sectors: their count and the first index. */
static json_int_t faulty_deadlines(const json_t *rec, json_int_t *first) {
  json_int_t n = 0;
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(rec, "deadlines"), i, d)
    if (json_integer_value(json_object_get(d, "faults")) > 0) {
      if (!n) *first = json_integer_value(json_object_get(d, "index"));
      n++;
    }
  return n;
}

/* The alarms of a miner, computed here once for every reader (docs/frontend.md#alarms). */
static json_t *alarms_of(const struct miner_info *m, const struct worker_counts *c, int64_t now,
                         int64_t stale) {
  json_t *alarms = json_array();
  const json_t *r = m->record;
  const char *down = jstr(r, "minerError");
  if (down)
    add_alarm(alarms, "miner_down", "critical", json_sprintf("lotus-miner down: %s", down));
  /* errorSectors (sector states) and faultySectors (the proving faults) count the same
   * sectors from two sources: one alarm, the critical one when the faults are known. */
  json_int_t errs = json_integer_value(json_object_get(r, "errorSectors"));
  json_int_t faulty = json_integer_value(json_object_get(r, "faultySectors"));
  if (errs > 0 && faulty <= 0)
    add_alarm(alarms, "error_sectors", "warning", json_sprintf("%lld error sectors", (long long)errs));
  if (faulty > 0)
    add_alarm(alarms, "faulty_sectors", "critical",
              json_sprintf("%lld faulty sectors", (long long)faulty));
  json_int_t first = 0, nd = faulty_deadlines(r, &first);
  if (nd > 0)
    add_alarm(alarms, "deadline_faults", "critical",
              nd == 1 ? json_sprintf("deadline %lld has faults", (long long)first)
                      : json_sprintf("%lld deadlines have faults (first %lld)", (long long)nd,
                                     (long long)first));
  json_t *pc = json_object_get(r, "provingCheck");
  json_int_t bad = json_integer_value(json_object_get(pc, "bad"));
  if (bad > 0)
    add_alarm(alarms, "proving_check", "critical",
              json_sprintf("%lld bad sectors in deadline %lld before it opens", (long long)bad,
                           (long long)json_integer_value(json_object_get(pc, "deadline"))));
  if (c->unreachable)
    add_alarm(alarms, "worker_unreachable", c->unreachable == c->workers ? "critical" : "warning",
              hosts_msg("unreachable from the miner", c->first_unreachable, c->unreachable));
  if (c->disabled)
    add_alarm(alarms, "worker_disabled", "warning",
              hosts_msg("disabled in lotus", c->first_disabled, c->disabled));
  if (c->missing)
    add_alarm(alarms, "worker_missing", "warning",
              hosts_msg("no longer listed by lotus", c->first_missing, c->missing));
  if (now - m->updated > stale)
    add_alarm(alarms, "stale", "warning",
          json_sprintf("no update for %lld min", (long long)((now - m->updated) / 60000)));
  const char *err = jstr(r, "error");
  if (err && !down) add_alarm(alarms, "miner_error", "warning", json_string(err));
  return alarms;
}

json_t *join_summaries(struct server *srv) {
  static const char *const copied[] = {
    "minerBalance", "workerBalance", "minerAvailable", "pledgeBalance", "rawBytePower",
    "adjustedPower", "totalSectors", "effectiveSectors", "errorSectors", "sectorStates",
    "preCommit1", "preCommit2", "waitSeed", "committing", "expectBlock", "error",
    "minerError", "minerErrorSince", "deviceOnly", "hostName", "faultySectors",
    "recoverySectors", "currentDeadline", "nextDeadlineOpen", "provingCheck",
  };
  json_t *arr = json_array();
  int64_t now = ef_now_ms();
  struct miner_info m;
  for (size_t i = 0; miner_at(srv->miners, i, &m); i++) {
    if (!m.record) continue;
    json_t *o = json_pack("{s:s, s:I}", "minerId", m.id, "updatedTime", (json_int_t)m.updated);
    for (size_t k = 0; k < sizeof copied / sizeof *copied; k++) {
      json_t *v = json_object_get(m.record, copied[k]);
      if (v) json_object_set(o, copied[k], v);
    }
    struct worker_counts c;
    count_workers(m.record, &c);
    json_object_set_new(o, "workers", json_integer(c.workers));
    json_object_set_new(o, "workersOnline", json_integer(c.up));
    json_object_set_new(o, "workersUnreachable", json_integer(c.unreachable));
    json_object_set_new(o, "workersDisabled", json_integer(c.disabled));
    json_object_set_new(o, "workersMissing", json_integer(c.missing));
    json_object_set_new(o, "alarms", alarms_of(&m, &c, now, srv->cfg.miner_stale));
    json_array_append_new(arr, o);
  }
  return arr;
}
