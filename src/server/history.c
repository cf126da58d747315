/* SPDX-License-Identifier: MIT */
/* history.c -- samples of device status and miner records, written behind in batches, rolled
 * up into aggregate tiers and pruned on the database thread (history.h, docs/history.md). */
#include "history.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "jsonutil.h"
#include "log.h"
#include "mem.h"
#include "server.h"

#define PRUNE_CHUNK 20000
#define PRUNE_CHUNKS 50 /* chunks per tier per roll-up at most */
#define BATCH_MAX 8192  /* queued rows that make a batch go at once */

struct hist_job {
  struct worker_job job;
  struct history *h;
  struct store_hist *rows; /* owned */
  size_t n;
  /* a roll-up: tier `tier` bucket [from, to), and the pruning */
  int tier;
  int64_t from, to;
  int64_t prune_before[HISTORY_TIERS]; /* 0: none */
};

struct history {
  struct server *srv;
  uv_timer_t timer;
  struct u64map last;        /* device id -> its last sample time (ms) as a pointer */
  struct store_hist *rows;   /* queued samples */
  size_t n, cap;
  int64_t miner_last;        /* ms of the last miner sample */
  int64_t rolled[HISTORY_TIERS]; /* tier t >= 1: buckets before this are rolled up */
  bool stopping;
};

/* ===== samples ===== */

static void put_num(json_t *o, const char *key, const json_t *v) {
  if (json_is_number(v)) json_object_set_new(o, key, json_real(json_number_value(v)));
}

static bool num(const json_t *v, double *out) {
  if (!json_is_number(v)) return false;
  *out = json_number_value(v);
  return true;
}

/* Sum of member `key` over the objects of array `arr`; false when none has it. */
static bool sum_of(const json_t *arr, const char *key, double *out, double *maxv, size_t *count) {
  size_t i;
  json_t *e;
  bool any = false;
  *out = 0;
  if (maxv) *maxv = -INFINITY;
  if (count) *count = 0;
  json_array_foreach(arr, i, e) {
    double v;
    if (!num(json_object_get(e, key), &v)) continue;
    *out += v;
    if (maxv && v > *maxv) *maxv = v;
    if (count) (*count)++;
    any = true;
  }
  return any;
}

json_t *history_device_sample(const json_t *data) {
  json_t *o = json_object();
  double v, a, b, c, mx;
  size_t k;
  put_num(o, "cpu_percent", json_object_get(data, "cpu_usage_percent"));
  const json_t *load = json_object_get(data, "load_avg"); /* {"1","5","15"} or [1, 5, 15] */
  put_num(o, "load1", json_is_array(load) ? json_array_get(load, 0) : json_object_get(load, "1"));
  json_t *mem = json_object_get(data, "Memory_info");
  if (num(json_object_get(mem, "total_memory_mb"), &a) &&
      num(json_object_get(mem, "free_memory_mb"), &b)) {
    if (!num(json_object_get(mem, "buff_cache_mb"), &c)) c = 0;
    v = a - b - c;
    json_object_set_new(o, "mem_used_mb", json_real(v));
    if (a > 0) json_object_set_new(o, "mem_used_percent", json_real(100.0 * v / a));
  }
  put_num(o, "disk_used_percent",
          json_object_get(json_object_get(data, "Disk_info"), "root_used_percent"));
  put_num(o, "cpu_temp", json_object_get(data, "cpu_temperature"));
  json_t *gpus = json_object_get(data, "gpuInfo");
  if (sum_of(gpus, "temperature", &v, &mx, NULL)) json_object_set_new(o, "gpu_temp_max",
                                                                      json_real(mx));
  if (sum_of(gpus, "utilization", &v, NULL, &k) && k)
    json_object_set_new(o, "gpu_util_percent", json_real(v / (double)k));
  if (sum_of(gpus, "memoryUsed", &v, NULL, NULL)) json_object_set_new(o, "gpu_mem_used",
                                                                      json_real(v));
  if (sum_of(gpus, "power", &v, NULL, NULL)) json_object_set_new(o, "gpu_power", json_real(v));
  json_t *net = json_object_get(data, "net_io");
  if (sum_of(net, "rx", &v, NULL, NULL)) json_object_set_new(o, "net_rx_bps", json_real(v));
  if (sum_of(net, "tx", &v, NULL, NULL)) json_object_set_new(o, "net_tx_bps", json_real(v));
  json_t *dio = json_object_get(data, "disk_io");
  if (sum_of(dio, "read_bps", &v, NULL, NULL)) json_object_set_new(o, "disk_read_bps",
                                                                   json_real(v));
  if (sum_of(dio, "write_bps", &v, NULL, NULL)) json_object_set_new(o, "disk_write_bps",
                                                                    json_real(v));
  return o;
}

bool history_parse_fil(const char *s, double *out) {
  if (!s) return false;
  char *end;
  double v = strtod(s, &end);
  if (end == s) return false;
  while (*end == ' ') end++;
  static const struct { const char *unit; double mul; } units[] = {
    {"FIL", 1}, {"mFIL", 1e-3}, {"μFIL", 1e-6}, {"uFIL", 1e-6}, {"nFIL", 1e-9},
    {"pFIL", 1e-12}, {"fFIL", 1e-15}, {"aFIL", 1e-18}, {"kFIL", 1e3}, {"MFIL", 1e6},
    {"attoFIL", 1e-18},
  };
  for (size_t i = 0; i < sizeof units / sizeof *units; i++)
    if (strcmp(end, units[i].unit) == 0) {
      *out = v * units[i].mul;
      return true;
    }
  return false;
}

/* A FIL member: its "…Atto" companion (attoFIL, decimal text), else the printed amount. */
static void put_fil(json_t *o, const char *key, const json_t *rec, const char *member) {
  char atto[64];
  snprintf(atto, sizeof atto, "%sAtto", member);
  const char *a = json_string_value(json_object_get(rec, atto));
  double v;
  char *end;
  if (a && *a && (v = strtod(a, &end), *end == '\0')) {
    json_object_set_new(o, key, json_real(v / 1e18));
    return;
  }
  if (history_parse_fil(json_string_value(json_object_get(rec, member)), &v))
    json_object_set_new(o, key, json_real(v));
}

/* A power member: its "…Bytes" companion (a number or decimal text). */
static void put_bytes(json_t *o, const char *key, const json_t *rec, const char *member) {
  char b[64];
  snprintf(b, sizeof b, "%sBytes", member);
  const json_t *v = json_object_get(rec, b);
  const char *s = json_string_value(v);
  char *end;
  double d;
  if (json_is_number(v)) json_object_set_new(o, key, json_real(json_number_value(v)));
  else if (s && *s && (d = strtod(s, &end), *end == '\0')) json_object_set_new(o, key,
                                                                              json_real(d));
}

static void add_count(json_t *o, const char *key, double by) {
  json_t *v = json_object_get(o, key);
  json_object_set_new(o, key, json_real((v ? json_number_value(v) : 0) + by));
}

/* The job state without its "(N)": "assigned(2)" -> "assigned". */
static void job_key(char *buf, size_t len, const char *task, const char *state) {
  size_t sl = strcspn(state, "(");
  snprintf(buf, len, "jobs.%s.%.*s", task, (int)sl, state);
}

json_t *history_miner_sample(const json_t *rec) {
  json_t *o = json_object();
  put_fil(o, "balance_miner_fil", rec, "minerBalance");
  put_fil(o, "balance_available_fil", rec, "minerAvailable");
  put_fil(o, "balance_worker_fil", rec, "workerBalance");
  put_fil(o, "balance_control_fil", rec, "postBalance");
  put_fil(o, "balance_pledge_fil", rec, "pledgeBalance");
  put_bytes(o, "power_raw_bytes", rec, "rawBytePower");
  put_bytes(o, "power_quality_bytes", rec, "adjustedPower");
  put_bytes(o, "power_effective_bytes", rec, "effectivePower");
  put_bytes(o, "power_faulty_bytes", rec, "faultyPower");
  static const struct { const char *member, *key; } counters[] = {
    {"totalSectors", "sectors.total"}, {"effectiveSectors", "sectors.effective"},
    {"errorSectors", "sectors.error"}, {"recoverySectors", "sectors.recovery"},
    {"deletedSectors", "sectors.deleted"}, {"failSectors", "sectors.fail"},
    {"preCommit1", "sectors.preCommit1"}, {"preCommit2", "sectors.preCommit2"},
    {"waitSeed", "sectors.waitSeed"}, {"committing", "sectors.committing"},
    {"finalizeSector", "sectors.finalizeSector"}, {"faultySectors", "faults"},
    {"totalMessages", "messages_pending"},
  };
  for (size_t i = 0; i < sizeof counters / sizeof *counters; i++)
    put_num(o, counters[i].key, json_object_get(rec, counters[i].member));
  json_t *dls = json_object_get(rec, "deadlines");
  if (json_is_array(dls)) {
    double proven = 0, faulty = 0, faults = 0, f;
    size_t i;
    json_t *d;
    json_array_foreach(dls, i, d) {
      if (num(json_object_get(d, "provenPartitions"), &f)) proven += f;
      if (num(json_object_get(d, "faults"), &f) && f > 0) faulty += 1, faults += f;
    }
    json_object_set_new(o, "deadlines.proven_partitions", json_real(proven));
    json_object_set_new(o, "deadlines.faulty", json_real(faulty));
    json_object_set_new(o, "deadlines.faults", json_real(faults));
  }
  const char *host;
  json_t *w;
  json_object_foreach((json_t *)json_object_get(rec, "workerInfo"), host, w) {
    const char *st = jstr(w, "taskState");
    char key[96];
    snprintf(key, sizeof key, "workers.%s", st && *st ? st : "unknown");
    add_count(o, key, 1);
    if (json_is_false(json_object_get(w, "enabled"))) add_count(o, "workers.disabled", 1);
    static const char *const queues[] = {"currentQueue", "pendingQueue"};
    for (int q = 0; q < 2; q++) {
      const char *task;
      json_t *jobs;
      json_object_foreach(json_object_get(w, queues[q]), task, jobs) {
        size_t i;
        json_t *j;
        json_array_foreach(jobs, i, j) {
          const char *state = jstr(j, "state");
          job_key(key, sizeof key, task, state ? state : q == 0 ? "running" : "pending");
          add_count(o, key, 1);
        }
      }
    }
  }
  return o;
}

/* ===== tiers ===== */

int64_t history_tier_step(const struct server *srv, int tier) {
  return tier == 1 ? srv->cfg.history_tier1_step : tier == 2 ? srv->cfg.history_tier2_step : 0;
}

static int64_t tier_retention(const struct server *srv, int tier) {
  return tier == 0 ? srv->cfg.history_raw_retention
         : tier == 1 ? srv->cfg.history_tier1_retention : srv->cfg.history_tier2_retention;
}

int history_pick_tier(const struct server *srv, int64_t from, int64_t step, int64_t now) {
  int t = 0;
  /* a retention of 0 keeps everything: that tier holds any `from` */
  while (t < HISTORY_TIERS - 1 && tier_retention(srv, t) > 0 &&
         now - tier_retention(srv, t) > from)
    t++;
  while (t < HISTORY_TIERS - 1 && step > 0 && step >= history_tier_step(srv, t + 1)) t++;
  return t;
}

/* ===== series JSON ===== */

struct agg {
  double min, max, sum, count;
};

static void agg_add(struct agg *a, const json_t *v) {
  double mn, av, mx, cnt;
  if (json_is_number(v)) {
    mn = av = mx = json_number_value(v);
    cnt = 1;
  } else if (json_is_array(v) && json_array_size(v) == 4) {
    mn = json_number_value(json_array_get(v, 0));
    av = json_number_value(json_array_get(v, 1));
    mx = json_number_value(json_array_get(v, 2));
    cnt = json_number_value(json_array_get(v, 3));
    if (cnt <= 0) return;
  } else {
    return;
  }
  if (a->count == 0 || mn < a->min) a->min = mn;
  if (a->count == 0 || mx > a->max) a->max = mx;
  a->sum += av * cnt;
  a->count += cnt;
}

/* The aggregates of one bucket: series name -> index into a (a parallel array). */
struct bucket {
  json_t *names; /* name -> index (integer) */
  struct agg *a;
  size_t n, cap;
};

static struct agg *bucket_agg(struct bucket *b, const char *name) {
  json_t *i = json_object_get(b->names, name);
  if (i) return &b->a[json_integer_value(i)];
  if (b->n == b->cap) {
    b->cap = b->cap ? b->cap * 2 : 16;
    b->a = ef_realloc(b->a, b->cap * sizeof *b->a);
  }
  memset(&b->a[b->n], 0, sizeof *b->a);
  json_object_set_new(b->names, name, json_integer((json_int_t)b->n));
  return &b->a[b->n++];
}

static void bucket_reset(struct bucket *b) {
  json_object_clear(b->names);
  b->n = 0;
}

static void bucket_points(struct bucket *b, int64_t t, json_t *series) {
  const char *name;
  json_t *idx;
  json_object_foreach(b->names, name, idx) {
    struct agg *a = &b->a[json_integer_value(idx)];
    if (a->count <= 0) continue;
    json_t *arr = json_object_get(series, name);
    if (!arr) json_object_set_new(series, name, arr = json_array());
    json_array_append_new(arr, json_pack("[I,f,f,f]", (json_int_t)t, a->sum / a->count, a->min,
                                         a->max));
  }
  bucket_reset(b);
}

json_t *history_series_json(const struct store_hist *rows, size_t n, int64_t step) {
  json_t *series = json_object();
  struct bucket b = {.names = json_object()};
  int64_t cur = INT64_MIN;
  for (size_t i = 0; i < n; i++) {
    int64_t t = rows[i].time;
    if (step > 0) t -= ((t % step) + step) % step;
    if (t != cur && cur != INT64_MIN) bucket_points(&b, cur, series);
    cur = t;
    json_t *d = json_loads(rows[i].data, 0, NULL);
    const char *name;
    json_t *v;
    json_object_foreach(d, name, v) agg_add(bucket_agg(&b, name), v);
    json_decref(d);
  }
  if (cur != INT64_MIN) bucket_points(&b, cur, series);
  json_decref(b.names);
  ef_free(b.a);
  return series;
}

/* ===== write-behind ===== */

static void job_free(struct hist_job *j) {
  store_hists_free(j->rows, j->n);
  ef_free(j);
}

static void write_work(struct store *st, struct worker_job *job) {
  struct hist_job *j = container_of(job, struct hist_job, job);
  if (st->ops->hist_write(st, j->rows, j->n) != 0)
    ef_log(EF_LOG_ERROR, "history: %zu samples lost: %s", j->n, store_errmsg(st));
}

static void job_done(struct worker_job *job) {
  struct hist_job *j = container_of(job, struct hist_job, job);
  job_free(j);
}

static void flush(struct history *h) {
  if (!h->n) return;
  struct hist_job *j = ef_calloc(1, sizeof *j);
  j->h = h;
  j->rows = h->rows;
  j->n = h->n;
  h->rows = NULL;
  h->n = h->cap = 0;
  j->job.work = write_work;
  j->job.done = job_done;
  worker_submit(h->srv->worker, &j->job);
}

static void queue(struct history *h, char *owner, int64_t time, json_t *sample) {
  if (json_object_size(sample) == 0) {
    ef_free(owner);
    json_decref(sample);
    return;
  }
  if (h->n == h->cap) {
    h->cap = h->cap ? h->cap * 2 : 256;
    h->rows = ef_realloc(h->rows, h->cap * sizeof *h->rows);
  }
  h->rows[h->n++] = (struct store_hist){
    .owner = owner, .tier = 0, .time = time,
    .data = json_dumps(sample, JSON_COMPACT | JSON_REAL_PRECISION(15))};
  json_decref(sample);
  if (h->n >= BATCH_MAX) flush(h);
}

/* A pointer holds a device's last sample time (ms). */
_Static_assert(sizeof(uintptr_t) >= sizeof(int64_t), "a pointer holds a time in ms");

static void on_status(void *ud, uint64_t device_id, const json_t *data, const char *raw,
                      size_t len, int64_t now) {
  (void)raw;
  (void)len;
  struct history *h = ud;
  int64_t last = (int64_t)(uintptr_t)u64map_get(&h->last, device_id);
  int64_t every = h->srv->cfg.history_raw_every;
  if (last && every > 0 && now - last < every) return;
  /* Two uploads within a ms (history_raw_every 0) keep both: a sample's time is unique. */
  int64_t t = last && now <= last ? last + 1 : now;
  u64map_put(&h->last, device_id, (void *)(uintptr_t)t);
  queue(h, ef_asprintf("d:%llu", (unsigned long long)device_id), t,
        history_device_sample(data));
}

static void sample_miners(struct history *h, int64_t now) {
  struct miner_info mi;
  struct live *l = h->srv->live;
  bool leader = h->srv->leader;
  for (size_t i = 0; miner_at(h->srv->miners, i, &mi); i++) {
    /* In a cluster every node keeps every record: the node of the miner's device samples it,
     * and the leader samples those whose device is connected nowhere. */
    enum live_where w = live_find(l, mi.device_id, NULL);
    if (mi.record && (w == LIVE_LOCAL || (w == LIVE_ABSENT && leader)))
      queue(h, ef_asprintf("m:%s", mi.id), now, history_miner_sample(mi.record));
  }
}

/* ===== roll-up and retention (database thread) ===== */

static void roll_work(struct store *st, struct worker_job *job) {
  struct hist_job *j = container_of(job, struct hist_job, job);
  struct store_hist *in = NULL;
  size_t n = 0;
  if (st->ops->hist_range(st, j->tier - 1, j->from, j->to, &in, &n) != 0) {
    ef_log(EF_LOG_ERROR, "history: roll-up of tier %d failed: %s", j->tier, store_errmsg(st));
  } else {
    struct store_hist *out = NULL;
    size_t nout = 0, cap = 0;
    for (size_t i = 0; i < n;) {
      size_t e = i;
      while (e < n && strcmp(in[e].owner, in[i].owner) == 0) e++;
      json_t *agg = json_object();
      const char *name;
      /* Aggregate the owner's rows of the bucket, keeping their counts. */
      struct bucket bb = {.names = json_object()};
      for (size_t r = i; r < e; r++) {
        json_t *d = json_loads(in[r].data, 0, NULL);
        json_t *v;
        json_object_foreach(d, name, v) agg_add(bucket_agg(&bb, name), v);
        json_decref(d);
      }
      json_t *idx;
      json_object_foreach(bb.names, name, idx) {
        struct agg *a = &bb.a[json_integer_value(idx)];
        if (a->count > 0)
          json_object_set_new(agg, name, json_pack("[f,f,f,f]", a->min, a->sum / a->count,
                                                   a->max, a->count));
      }
      json_decref(bb.names);
      ef_free(bb.a);
      if (nout == cap) {
        cap = cap ? cap * 2 : 64;
        out = ef_realloc(out, cap * sizeof *out);
      }
      out[nout++] = (struct store_hist){
          .owner = ef_strdup(in[i].owner), .tier = j->tier, .time = j->from,
          .data = json_dumps(agg, JSON_COMPACT | JSON_REAL_PRECISION(15))};
      json_decref(agg);
      i = e;
    }
    if (st->ops->hist_write(st, out, nout) != 0)
      ef_log(EF_LOG_ERROR, "history: tier %d rows lost: %s", j->tier, store_errmsg(st));
    store_hists_free(out, nout);
  }
  store_hists_free(in, n);
  for (int t = 0; t < HISTORY_TIERS; t++) {
    if (!j->prune_before[t]) continue;
    for (int c = 0; c < PRUNE_CHUNKS; c++) {
      uint64_t del = 0;
      if (st->ops->hist_prune(st, t, j->prune_before[t], PRUNE_CHUNK, &del) != 0) {
        ef_log(EF_LOG_ERROR, "history: pruning tier %d failed: %s", t, store_errmsg(st));
        break;
      }
      if (del < PRUNE_CHUNK) break;
    }
  }
}

static void roll(struct history *h, int tier, int64_t from, int64_t to, int64_t now) {
  struct hist_job *j = ef_calloc(1, sizeof *j);
  j->h = h;
  j->tier = tier;
  j->from = from;
  j->to = to;
  if (tier == 1)
    for (int t = 0; t < HISTORY_TIERS; t++)
      if (tier_retention(h->srv, t) > 0) j->prune_before[t] = now - tier_retention(h->srv, t);
  j->job.work = roll_work;
  j->job.done = job_done;
  worker_submit(h->srv->worker, &j->job);
}

static void on_timer(uv_timer_t *t) {
  struct history *h = t->data;
  int64_t now = ef_now_ms();
  const struct server_config *cfg = &h->srv->cfg;
  if (now - h->miner_last >= cfg->history_raw_every) {
    h->miner_last = now;
    sample_miners(h, now);
  }
  flush(h);
  /* A bucket is rolled up once it is closed and the samples queued in it are written: a
   * history_flush after its end (the jobs run in order on the database thread). */
  for (int tier = 1; tier < HISTORY_TIERS; tier++) {
    int64_t step = history_tier_step(h->srv, tier);
    int64_t limit = tier == 1 ? now - cfg->history_flush : h->rolled[1];
    while (h->rolled[tier] + step <= limit) {
      roll(h, tier, h->rolled[tier], h->rolled[tier] + step, now);
      h->rolled[tier] += step;
    }
  }
}

void history_start(struct server *srv) {
  if (!srv->cfg.history) return;
  struct history *h = ef_calloc(1, sizeof *h);
  h->srv = srv;
  u64map_init(&h->last);
  int64_t now = ef_now_ms();
  for (int t = 1; t < HISTORY_TIERS; t++) {
    int64_t step = history_tier_step(srv, t);
    h->rolled[t] = now - now % step; /* the bucket open now is the first rolled up */
  }
  h->miner_last = now - srv->cfg.history_raw_every; /* sample miners at the first tick */
  uv_timer_init(srv->loop, &h->timer);
  h->timer.data = h;
  uv_timer_start(&h->timer, on_timer, (uint64_t)srv->cfg.history_flush,
                 (uint64_t)srv->cfg.history_flush);
  status_listen(srv, on_status, h);
  srv->history = h;
}

static void history_free(uv_handle_t *hd) {
  struct history *h = hd->data;
  store_hists_free(h->rows, h->n);
  u64map_free(&h->last);
  ef_free(h);
}

void history_stop(struct server *srv) {
  struct history *h = srv->history;
  if (!h || h->stopping) return;
  h->stopping = true;
  uv_timer_stop(&h->timer);
  flush(h); /* before worker_stop, which runs it */
  srv->history = NULL;
  uv_close((uv_handle_t *)&h->timer, history_free);
}

/* ===== reads ===== */

struct hist_read {
  struct worker_job job;
  char *owner;
  int tier;
  int64_t from, to, step;
  struct store_hist *rows;
  size_t n;
  int rc;
  history_done done;
  void *ud;
};

const char *history_tier_name(int tier) {
  return tier == 0 ? "raw" : tier == 1 ? "tier1" : "tier2";
}

static void read_work(struct store *st, struct worker_job *job) {
  struct hist_read *r = container_of(job, struct hist_read, job);
  r->rc = st->ops->hist_query(st, r->owner, r->tier, r->from, r->to, HISTORY_MAX_POINTS + 1,
                              &r->rows, &r->n);
  if (r->rc) ef_log(EF_LOG_WARN, "history: read of %s failed: %s", r->owner, store_errmsg(st));
}

static void read_done(struct worker_job *job) {
  struct hist_read *r = container_of(job, struct hist_read, job);
  json_t *answer = NULL;
  if (!r->rc) {
    bool truncated = r->n > HISTORY_MAX_POINTS;
    size_t n = truncated ? HISTORY_MAX_POINTS : r->n;
    json_t *to = r->to == INT64_MAX ? json_null() : json_integer((json_int_t)r->to);
    answer = json_pack("{s:I, s:o, s:I, s:s, s:b, s:o}", "from", (json_int_t)r->from, "to", to,
                       "step", (json_int_t)r->step, "tier", history_tier_name(r->tier),
                       "truncated", truncated, "series", history_series_json(r->rows, n, r->step));
  }
  r->done(r->ud, r->rc, answer);
  store_hists_free(r->rows, r->n);
  ef_free(r->owner);
  ef_free(r);
}

void history_read(struct server *srv, const char *owner, int64_t from, int64_t to, int64_t step,
                  history_done done, void *ud) {
  struct hist_read *r = ef_calloc(1, sizeof *r);
  r->owner = ef_strdup(owner);
  r->from = from;
  r->to = to;
  r->step = step;
  r->tier = history_pick_tier(srv, from, step, ef_now_ms());
  /* An aggregate tier's rows are one per bucket: points no finer than its step. */
  if (r->tier > 0 && r->step < history_tier_step(srv, r->tier)) r->step = 0;
  r->done = done;
  r->ud = ud;
  r->job.work = read_work;
  r->job.done = read_done;
  if (srv->history) flush(srv->history); /* the queued samples go first (FIFO) */
  worker_submit(srv->worker, &r->job);
}
