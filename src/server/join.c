/* SPDX-License-Identifier: MIT */
/* join.c -- miner records as readers see them: each worker joined with the live hardware status
 * of the agent on that host, and per-miner summaries with their alarms.
 *
 * Worker hardware is not copied into the record: it is the worker host's latest status upload
 * (the agent on that machine reports `host_name`, live.h maps it to its device), read when the
 * record is read, together with that device's state as `netState`.
 */
#include <stdio.h>

#include "clock.h"
#include "id.h"
#include "jsonutil.h"
#include "server.h"

/* Hardware of the worker host `host` from its own agent's latest status upload. */
static void join_worker(const struct live *l, const char *host, json_t *w) {
  uint64_t dev = live_host_device(l, host);
  json_object_set_new(w, "netState", json_string(dev_state_name(live_state(l, dev))));
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

/* The alarms of a miner, computed here once for every reader (docs/frontend.md#alarms). */
static json_t *alarms_of(const struct miner_info *m, json_int_t workers, json_int_t online,
                         int64_t now, int64_t stale) {
  json_t *alarms = json_array();
  json_int_t errs = json_integer_value(json_object_get(m->record, "errorSectors"));
  if (errs > 0)
    add_alarm(alarms, "error_sectors", "warning", json_sprintf("%lld error sectors", (long long)errs));
  if (online < workers)
    add_alarm(alarms, "workers_offline", online == 0 ? "critical" : "warning",
          json_sprintf("%lld of %lld workers offline", (long long)(workers - online),
                       (long long)workers));
  if (now - m->updated > stale)
    add_alarm(alarms, "stale", "warning",
          json_sprintf("no update for %lld min", (long long)((now - m->updated) / 60000)));
  if (jstr(m->record, "error"))
    add_alarm(alarms, "miner_error", "critical", json_string(jstr(m->record, "error")));
  return alarms;
}

json_t *join_summaries(struct server *srv) {
  static const char *const copied[] = {
    "minerBalance", "workerBalance", "minerAvailable", "pledgeBalance", "rawBytePower",
    "adjustedPower", "totalSectors", "effectiveSectors", "errorSectors", "sectorStates",
    "preCommit1", "preCommit2", "waitSeed", "committing", "expectBlock", "error",
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
    json_int_t workers = 0, online = 0;
    const char *host;
    json_t *w;
    json_object_foreach(jobj(m.record, "workerInfo"), host, w) {
      workers++;
      if (live_state(srv->live, live_host_device(srv->live, host)) == DEV_ONLINE) online++;
    }
    json_object_set_new(o, "workers", json_integer(workers));
    json_object_set_new(o, "workersOnline", json_integer(online));
    json_object_set_new(o, "alarms", alarms_of(&m, workers, online, now, srv->cfg.miner_stale));
    json_array_append_new(arr, o);
  }
  return arr;
}
