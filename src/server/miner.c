/* miner.c -- miner records (SPEC §3) on the server: kept in memory, updated by full uploads and
 * merge patches from the miner's agent, persisted behind, and joined with each worker host's
 * own hardware status for the API.
 *
 * DESIGN
 * A record is the agent's JSON document with `workerInfo` an object keyed by host name, so a
 * patch touches one worker without resending the others. The loop keeps every record whole in
 * memory (a storage provider has tens of miners, each a few hundred KiB at most); what changed
 * since the last write is tracked per miner (the miner's own fields) and per worker (their
 * host names), and a timer writes only those rows, in one transaction, on the database thread.
 *
 * Worker hardware is not copied into the record: it is the worker host's latest status upload
 * (the agent on that machine reports `host_name`), found through srv->hosts when the record is
 * read, together with that device's online state as `netState`.
 */
#include <string.h>

#include "clock.h"
#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "log.h"
#include "mem.h"
#include "mergepatch.h"
#include "server.h"

struct miner {
  char *id;
  json_t *record;          /* whole record, workerInfo keyed by host name; NULL until full */
  json_t *dirty_workers;   /* host name -> true, for the next write */
  uint64_t device_id;      /* the reporting device */
  int64_t updated;         /* ms since the epoch */
  bool dirty;              /* the miner's own fields changed */
};

struct miners {
  struct server *srv;
  struct miner **arr;
  size_t n, cap;
  json_t *index;           /* minerId -> index into arr */
  uv_timer_t timer;
  struct worker_job job;
  struct store_miner *rows; /* the write in flight */
  size_t nrows;
  bool busy;
};

static const char MINER_ACK[] = "{\"type\":\"send_minerInfo_response\",\"Headers\":{},\"data\":{}}";
static const char REPORT_FULL[] = "{\"type\":\"report_full_info\",\"Headers\":{},\"data\":{}}";

static struct miner *find(struct miners *ms, const char *id) {
  json_t *i = json_object_get(ms->index, id);
  return i ? ms->arr[json_integer_value(i)] : NULL;
}

static struct miner *create(struct miners *ms, const char *id) {
  if (ms->n == ms->cap) {
    ms->cap = ms->cap ? ms->cap * 2 : 16;
    ms->arr = ef_realloc(ms->arr, ms->cap * sizeof *ms->arr);
  }
  struct miner *m = ef_calloc(1, sizeof *m);
  m->id = ef_strdup(id);
  m->dirty_workers = json_object();
  json_object_set_new(ms->index, id, json_integer((json_int_t)ms->n));
  ms->arr[ms->n++] = m;
  return m;
}

/* ----- write-behind ----- */

static void write_work(struct store *st, struct worker_job *job) {
  struct miners *ms = container_of(job, struct miners, job);
  if (st->ops->miner_write(st, ms->rows, ms->nrows) != 0)
    ef_log(EF_LOG_ERROR, "miner: writing %zu records failed: %s", ms->nrows, store_errmsg(st));
}

static void write_done(struct worker_job *job) {
  struct miners *ms = container_of(job, struct miners, job);
  store_miners_free(ms->rows, ms->nrows);
  ms->rows = NULL;
  ms->nrows = 0;
  ms->busy = false;
}

static void add_row(struct miners *ms, size_t *cap, const struct miner *m, const char *host,
                    const json_t *rec) {
  if (ms->nrows == *cap) {
    *cap = *cap ? *cap * 2 : 16;
    ms->rows = ef_realloc(ms->rows, *cap * sizeof *ms->rows);
  }
  ms->rows[ms->nrows++] = (struct store_miner){
    .miner_id = ef_strdup(m->id), .host_name = ef_strdup(host),
    .record = rec ? jdump(rec) : NULL, .device_id = m->device_id, .updated_time = m->updated};
}

static void flush(struct miners *ms) {
  if (ms->busy) return;
  size_t cap = 0;
  for (size_t i = 0; i < ms->n; i++) {
    struct miner *m = ms->arr[i];
    if (!m->record) continue;
    json_t *workers = jobj(m->record, "workerInfo");
    if (m->dirty) {
      json_t *own = json_copy(m->record); /* shallow: workerInfo is stored per row */
      json_object_del(own, "workerInfo");
      add_row(ms, &cap, m, NULL, own);
      json_decref(own);
      m->dirty = false;
    }
    const char *host;
    json_t *v;
    json_object_foreach(m->dirty_workers, host, v)
      add_row(ms, &cap, m, host, workers ? jobj(workers, host) : NULL);
    json_object_clear(m->dirty_workers);
  }
  if (!ms->nrows) return;
  ms->busy = true;
  ms->job.work = write_work;
  ms->job.done = write_done;
  worker_submit(ms->srv->worker, &ms->job);
}

static void on_timer(uv_timer_t *t) { flush(t->data); }

/* ----- uploads ----- */

static void mark_dirty(struct miner *m, const json_t *patch) {
  json_t *w = jobj(patch, "workerInfo");
  const char *host;
  json_t *v;
  json_object_foreach(w, host, v) json_object_set_new(m->dirty_workers, host, json_true());
  if (json_object_size(patch) > (size_t)(w ? 1 : 0)) m->dirty = true;
}

void miner_upload(struct server *srv, struct dsess *s, json_t *msg) {
  struct miners *ms = srv->miners;
  json_t *data = jobj(msg, "data");
  const char *id = data ? jstr(data, "minerId") : NULL;
  json_t *hdr = jobj(msg, "Headers");
  bool full = hdr && json_is_true(json_object_get(hdr, "full"));
  json_t *workers = data ? json_object_get(data, "workerInfo") : NULL;
  if (!id || !*id || (workers && !json_is_object(workers) && !json_is_null(workers))) {
    ws_device_error(s, !id || !*id ? "upload_miner_info needs data.minerId"
                                   : "workerInfo must be an object keyed by host name");
    return;
  }
  struct miner *m = find(ms, id);
  if (!m) m = create(ms, id);
  if (!full && !m->record) {
    /* A patch without its base (the server restarted): ask for the whole record. */
    ws_device_send(s, MINER_ACK, sizeof MINER_ACK - 1);
    ws_device_send(s, REPORT_FULL, sizeof REPORT_FULL - 1);
    return;
  }
  if (full) {
    json_t *old = m->record ? m->record : json_object();
    json_t *diff = mergepatch_diff(old, data);
    if (diff) mark_dirty(m, diff);
    if (!m->record) m->dirty = true;
    json_decref(diff);
    json_decref(old);
    m->record = json_deep_copy(data);
  } else {
    mark_dirty(m, data);
    mergepatch_apply(&m->record, data);
  }
  if (!jobj(m->record, "workerInfo")) json_object_set_new(m->record, "workerInfo", json_object());
  m->device_id = s->device_id;
  m->updated = ef_now_ms();
  ws_device_send(s, MINER_ACK, sizeof MINER_ACK - 1);
}

/* ----- reading: the record joined with worker hardware ----- */

/* Hardware of the worker host `host` from its own agent's latest status upload. */
static void join_worker(struct server *srv, const char *host, json_t *w) {
  json_t *idv = json_object_get(srv->hosts, host);
  struct dsess *ds = idv ? ws_device_find(srv, (uint64_t)json_integer_value(idv)) : NULL;
  json_object_set_new(w, "netState", json_string(dev_state_name(ds ? ds->state : DEV_OFFLINE)));
  json_t *st = ds ? ws_device_status_data(ds) : NULL;
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
    json_object_set_new(w, "useMemory", json_integer(total - freemb - cache));
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
  if ((v = json_object_get(st, "gpus"))) json_object_set(w, "gpuInfo", v);
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
        if (!json_is_integer(start) || json_object_get(job, "time")) continue;
        char buf[32];
        go_duration(now - json_integer_value(start), buf, sizeof buf);
        json_object_set_new(job, "time", json_string(buf));
      }
    }
  }
}

/* The record joined with worker hardware. `as_array`: the seed's minerInfo response shape
 * (workerInfo an array, job times as of now); otherwise the subscription shape (keyed by
 * host, jobs with their start only, so that pushes carry only real changes). Caller owns it. */
static json_t *render(struct server *srv, const struct miner *m, bool as_array) {
  json_t *out = json_deep_copy(m->record);
  json_t *workers = as_array ? json_array() : json_object();
  const char *host;
  json_t *w;
  json_object_foreach(jobj(m->record, "workerInfo"), host, w) {
    json_t *jw = json_deep_copy(w);
    if (!jstr(jw, "hostName")) json_object_set_new(jw, "hostName", json_string(host));
    join_worker(srv, host, jw);
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

json_t *miner_get(struct server *srv, const char *id) {
  struct miner *m = find(srv->miners, id);
  return m && m->record ? render(srv, m, true) : NULL;
}

json_t *miner_view(struct server *srv, const char *id) {
  struct miner *m = find(srv->miners, id);
  return m && m->record ? render(srv, m, false) : NULL;
}

json_t *miner_list(struct server *srv) {
  struct miners *ms = srv->miners;
  json_t *arr = json_array();
  for (size_t i = 0; i < ms->n; i++)
    if (ms->arr[i]->record) json_array_append_new(arr, render(srv, ms->arr[i], true));
  return arr;
}

json_t *miner_summaries(struct server *srv) {
  static const char *const copied[] = {
    "minerBalance", "workerBalance", "minerAvailable", "pledgeBalance", "rawBytePower",
    "adjustedPower", "totalSectors", "effectiveSectors", "errorSectors", "sectorStates",
    "preCommit1", "preCommit2", "waitSeed", "committing", "expectBlock", "error",
  };
  struct miners *ms = srv->miners;
  json_t *arr = json_array();
  int64_t now = ef_now_ms();
  for (size_t i = 0; i < ms->n; i++) {
    struct miner *m = ms->arr[i];
    if (!m->record) continue;
    json_t *o = json_pack("{s:s, s:I}", "minerId", m->id, "updatedTime", (json_int_t)m->updated);
    for (size_t k = 0; k < sizeof copied / sizeof *copied; k++) {
      json_t *v = json_object_get(m->record, copied[k]);
      if (v) json_object_set(o, copied[k], v);
    }
    json_t *alarms = json_array();
    json_int_t workers = 0, online = 0;
    const char *host;
    json_t *w;
    json_object_foreach(jobj(m->record, "workerInfo"), host, w) {
      json_t *idv = json_object_get(srv->hosts, host);
      struct dsess *ds = idv ? ws_device_find(srv, (uint64_t)json_integer_value(idv)) : NULL;
      workers++;
      if (ds && ds->state == DEV_ONLINE) online++;
    }
    json_int_t errs = json_integer_value(json_object_get(m->record, "errorSectors"));
    if (errs > 0)
      json_array_append_new(alarms, json_sprintf("%lld error sectors", (long long)errs));
    if (online < workers)
      json_array_append_new(alarms, json_sprintf("%lld of %lld workers offline",
                                                 (long long)(workers - online),
                                                 (long long)workers));
    if (now - m->updated > srv->cfg.miner_stale)
      json_array_append_new(alarms, json_sprintf("no update for %lld min",
                                                 (long long)((now - m->updated) / 60000)));
    if (jstr(m->record, "error"))
      json_array_append_new(alarms, json_string(jstr(m->record, "error")));
    json_object_set_new(o, "workers", json_integer(workers));
    json_object_set_new(o, "workersOnline", json_integer(online));
    json_object_set_new(o, "alarms", alarms);
    json_array_append_new(arr, o);
  }
  return arr;
}

void miner_host_seen(struct server *srv, const char *host, uint64_t device_id) {
  json_t *v = json_object_get(srv->hosts, host);
  if (!v || (uint64_t)json_integer_value(v) != device_id)
    json_object_set_new(srv->hosts, host, json_integer((json_int_t)device_id));
}

/* ----- life ----- */

int miner_init(struct server *srv, struct store *st, char *err, size_t errlen) {
  struct miners *ms = ef_calloc(1, sizeof *ms);
  ms->srv = srv;
  ms->index = json_object();
  srv->miners = ms;
  srv->hosts = json_object();

  struct store_miner *rows;
  size_t n;
  if (st->ops->miner_list(st, &rows, &n) != 0) {
    snprintf(err, errlen, "reading miner records: %s", store_errmsg(st));
    return EF_EDB;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *rec = jparse_object(rows[i].record, strlen(rows[i].record));
    if (!rec) continue;
    struct miner *m = find(ms, rows[i].miner_id);
    if (!rows[i].host_name) {
      if (!m) m = create(ms, rows[i].miner_id);
      m->record = rec;
      json_object_set_new(m->record, "workerInfo", json_object());
      m->device_id = rows[i].device_id;
      m->updated = rows[i].updated_time;
    } else if (m && m->record) {
      json_object_set_new(jobj(m->record, "workerInfo"), rows[i].host_name, rec);
    } else {
      json_decref(rec);
    }
  }
  store_miners_free(rows, n);
  if (ms->n) ef_log(EF_LOG_INFO, "miner: %zu miner records loaded", ms->n);
  return 0;
}

void miner_start(struct server *srv) {
  struct miners *ms = srv->miners;
  uv_timer_init(srv->loop, &ms->timer);
  ms->timer.data = ms;
  uv_timer_start(&ms->timer, on_timer, (uint64_t)srv->cfg.miner_flush,
                 (uint64_t)srv->cfg.miner_flush);
}

static void miners_free(uv_handle_t *h) {
  struct miners *ms = h->data;
  for (size_t i = 0; i < ms->n; i++) {
    struct miner *m = ms->arr[i];
    ef_free(m->id);
    json_decref(m->record);
    json_decref(m->dirty_workers);
    ef_free(m);
  }
  ef_free(ms->arr);
  json_decref(ms->index);
  ef_free(ms);
}

void miner_stop(struct server *srv) {
  struct miners *ms = srv->miners;
  if (!ms) return;
  flush(ms); /* the last write runs before worker_stop() returns */
  uv_timer_stop(&ms->timer);
  uv_close((uv_handle_t *)&ms->timer, miners_free);
  json_decref(srv->hosts);
  srv->hosts = NULL;
  srv->miners = NULL;
}
