/* SPDX-License-Identifier: MIT */
/* metrics.c -- Prometheus /metrics (metrics.h): the exposition text built in steps off the
 * network's way, on the main listener with a read token or on metrics_listen without one. */
#include "metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "log.h"
#include "login.h"
#include "mem.h"
#include "server.h"
#include "stats.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define REGISTERED_EVERY_MS 60000
#define LISTEN_CONNS_MAX 16
#define LISTEN_REQUEST_MAX 8192
#define LISTEN_TIMEOUT_MS 10000

/* ===== text ===== */

void mbuf_add(struct mbuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) cap *= 2;
    b->p = ef_realloc(b->p, cap);
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void mbuf_printf(struct mbuf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof tmp) {
    mbuf_add(b, tmp, (size_t)n);
    return;
  }
  char *big = ef_malloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  mbuf_add(b, big, (size_t)n);
  ef_free(big);
}

void mbuf_free(struct mbuf *b) {
  ef_free(b->p);
  memset(b, 0, sizeof *b);
}

void metrics_family(struct mbuf *b, const char *name, const char *type, const char *help) {
  mbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void add_escaped(struct mbuf *b, const char *s) {
  for (const char *p = s; *p;) {
    size_t n = strcspn(p, "\\\"\n");
    mbuf_add(b, p, n);
    p += n;
    if (!*p) break;
    mbuf_add(b, *p == '\n' ? "\\n" : *p == '"' ? "\\\"" : "\\\\", 2);
    p++;
  }
}

static void add_value(struct mbuf *b, double v) {
  if (isnan(v)) mbuf_add(b, " NaN\n", 5);
  else if (isinf(v)) mbuf_printf(b, " %s\n", v > 0 ? "+Inf" : "-Inf");
  else if (fabs(v) < 9e15 && v == (double)(int64_t)v) mbuf_printf(b, " %lld\n", (long long)v);
  else { /* the shortest text that reads back as the same number */
    char t[32];
    for (int prec = 15; prec <= 17; prec++) {
      snprintf(t, sizeof t, "%.*g", prec, v);
      if (strtod(t, NULL) == v) break;
    }
    mbuf_printf(b, " %s\n", t);
  }
}

static void sample_v(struct mbuf *b, const char *name, double v, va_list ap) {
  mbuf_add(b, name, strlen(name));
  const char *k = va_arg(ap, const char *);
  if (k) {
    mbuf_add(b, "{", 1);
    for (bool first = true; k; k = va_arg(ap, const char *), first = false) {
      const char *val = va_arg(ap, const char *);
      if (!first) mbuf_add(b, ",", 1);
      mbuf_add(b, k, strlen(k));
      mbuf_add(b, "=\"", 2);
      add_escaped(b, val ? val : "");
      mbuf_add(b, "\"", 1);
    }
    mbuf_add(b, "}", 1);
  }
  add_value(b, v);
}

void metrics_sample(struct mbuf *b, const char *name, double v, ...) {
  va_list ap;
  va_start(ap, v);
  sample_v(b, name, v, ap);
  va_end(ap);
}

/* A JSON number, or a string holding one; NAN when neither. */
static double jnumber(const json_t *v) {
  if (json_is_number(v)) return json_number_value(v);
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    char *end;
    double d = strtod(s, &end);
    if (end != s && *end == '\0') return d;
  }
  return NAN;
}

/* ===== families of one miner ===== */

enum miner_fam {
  MF_UP, MF_AGE, MF_BALANCE, MF_POWER, MF_SECTORS, MF_COUNTERS, MF_FAULTY, MF_RECOVERING,
  MF_DL_CURRENT, MF_DL_PARTITIONS, MF_DL_PROVEN, MF_DL_SECTORS, MF_DL_FAULTS, MF_WORKERS,
  MF_JOBS, MF_MESSAGES, MF_N
};

static const struct fam_def { const char *name, *type, *help; } miner_defs[MF_N] = {
  {"edgefleet_miner_up", "gauge", "1 when the last collection of the miner succeeded, 0 when lotus-miner was down (minerError)"},
  {"edgefleet_miner_update_age_seconds", "gauge", "Seconds since the miner record was last uploaded"},
  {"edgefleet_miner_balance_fil", "gauge", "Balances in FIL by kind (miner, available, worker, control, pledge, vesting, market, market_locked, market_available, spendable)"},
  {"edgefleet_miner_power_bytes", "gauge", "Power in bytes by kind (raw, quality, proving, committed, faulty)"},
  {"edgefleet_miner_sectors", "gauge", "Sectors by lotus sector state"},
  {"edgefleet_miner_sector_counter", "gauge", "Sectors by edgefleet counter (preCommit1, preCommit2, waitSeed, committing, finalizeSector, effectiveSectors, errorSectors, failSectors, deletedSectors, totalSectors)"},
  {"edgefleet_miner_faulty_sectors", "gauge", "Faulty sectors over all deadlines"},
  {"edgefleet_miner_recovering_sectors", "gauge", "Sectors recovering from a fault"},
  {"edgefleet_miner_current_deadline", "gauge", "Index of the WindowPoSt deadline open now"},
  {"edgefleet_miner_deadline_partitions", "gauge", "Partitions of a WindowPoSt deadline"},
  {"edgefleet_miner_deadline_proven_partitions", "gauge", "Partitions of a deadline proven in its current window"},
  {"edgefleet_miner_deadline_sectors", "gauge", "Sectors of a WindowPoSt deadline"},
  {"edgefleet_miner_deadline_faults", "gauge", "Faulty sectors of a WindowPoSt deadline"},
  {"edgefleet_miner_workers", "gauge", "Sealing workers by state (running, idle, disabled, missing)"},
  {"edgefleet_miner_jobs", "gauge", "Sealing jobs by task and state"},
  {"edgefleet_miner_messages_pending", "gauge", "Pending messages of the miner's addresses"},
};
const size_t metrics_miner_families = MF_N;

static const struct { const char *key, *kind; } balances[] = {
  {"minerBalance", "miner"}, {"minerAvailable", "available"}, {"workerBalance", "worker"},
  {"postBalance", "control"}, {"pledgeBalance", "pledge"}, {"vestingBalance", "vesting"},
  {"marketBalance", "market"}, {"marketLocked", "market_locked"},
  {"marketAvailable", "market_available"}, {"totalSpendable", "spendable"},
};
static const struct { const char *key, *kind; } powers[] = {
  {"rawBytePower", "raw"}, {"adjustedPower", "quality"}, {"effectivePower", "proving"},
  {"committedPower", "committed"}, {"faultyPower", "faulty"},
};
static const char *const counters[] = {
  "preCommit1", "preCommit2", "waitSeed", "committing", "finalizeSector", "effectiveSectors",
  "errorSectors", "failSectors", "deletedSectors", "totalSectors",
};

/* A decimal number `digits` (exactly the characters of one, nothing after) times 10^exp,
 * rounded once (strtod of "<digits>e<exp>"), so 244.058 mFIL is the double nearest 0.244058. */
static double scaled(const char *digits, size_t n, int exp) {
  char t[96];
  if (n == 0 || n > 64) return NAN;
  snprintf(t, sizeof t, "%.*se%d", (int)n, digits, exp);
  char *end;
  double d = strtod(t, &end);
  return end != t && *end == '\0' ? d : NAN;
}

/* lotus' FIL text ("244.058 mFIL", "-1.2 FIL"): FIL, NAN when it is not one. */
static double fil_text(const char *s) {
  if (!s) return NAN;
  size_t n = strspn(s, "+-0123456789.");
  const char *unit = s + n;
  while (*unit == ' ') unit++;
  static const struct { const char *unit; int exp; } units[] = {
    {"FIL", 0}, {"kFIL", 3}, {"MFIL", 6}, {"mFIL", -3}, {"μFIL", -6}, {"uFIL", -6},
    {"nFIL", -9}, {"pFIL", -12}, {"fFIL", -15}, {"aFIL", -18}, {"", 0},
  };
  for (size_t i = 0; i < sizeof units / sizeof *units; i++)
    if (strcmp(unit, units[i].unit) == 0) return scaled(s, n, units[i].exp);
  return NAN;
}

/* A balance in FIL: its exact attoFIL companion ("<key>Atto") when there is one, else the text. */
static double balance(const json_t *rec, const char *key) {
  char k[64];
  snprintf(k, sizeof k, "%sAtto", key);
  const char *atto = jstr(rec, k);
  if (atto && atto[strspn(atto, "-0123456789")] == '\0') return scaled(atto, strlen(atto), -18);
  return fil_text(jstr(rec, key));
}

/* A job's state without its detail: "assigned(2)" is "assigned". */
static void job_state(const char *st, char *out, size_t n) {
  snprintf(out, n, "%s", st ? st : "unknown");
  char *paren = strchr(out, '(');
  if (paren) *paren = '\0';
}

static void jobs_of(struct mbuf *fam, const char *miner, const json_t *queue, json_t *count,
                    bool running) {
  const char *task;
  json_t *jobs;
  json_object_foreach((json_t *)queue, task, jobs) {
    size_t i;
    json_t *job;
    json_array_foreach(jobs, i, job) {
      char st[32], key[160];
      job_state(running ? "running" : jstr(job, "state"), st, sizeof st);
      snprintf(key, sizeof key, "%s\n%s", task, st);
      json_t *c = json_object_get(count, key);
      json_object_set_new(count, key, json_integer(c ? json_integer_value(c) + 1 : 1));
    }
  }
  (void)fam;
  (void)miner;
}

void metrics_miner(struct mbuf *fam, const char *m, const void *record, int64_t updated,
                   int64_t now_ms) {
  const json_t *rec = record;
  char buf[32];
  if (!rec) return;
  metrics_sample(&fam[MF_UP], "edgefleet_miner_up", json_object_get(rec, "minerError") ? 0 : 1,
                 "miner", m, NULL);
  if (updated > 0)
    metrics_sample(&fam[MF_AGE], "edgefleet_miner_update_age_seconds",
                   (double)(now_ms - updated) / 1000.0, "miner", m, NULL);
  for (size_t i = 0; i < sizeof balances / sizeof *balances; i++) {
    double v = balance(rec, balances[i].key);
    if (!isnan(v))
      metrics_sample(&fam[MF_BALANCE], "edgefleet_miner_balance_fil", v, "miner", m, "kind",
                     balances[i].kind, NULL);
  }
  for (size_t i = 0; i < sizeof powers / sizeof *powers; i++) {
    char k[64];
    snprintf(k, sizeof k, "%sBytes", powers[i].key);
    double v = jnumber(json_object_get(rec, k));
    if (!isnan(v))
      metrics_sample(&fam[MF_POWER], "edgefleet_miner_power_bytes", v, "miner", m, "kind",
                     powers[i].kind, NULL);
  }
  const char *state;
  json_t *n;
  json_object_foreach(jobj(rec, "sectorStates"), state, n) {
    double v = jnumber(n);
    if (!isnan(v))
      metrics_sample(&fam[MF_SECTORS], "edgefleet_miner_sectors", v, "miner", m, "state", state,
                     NULL);
  }
  for (size_t i = 0; i < sizeof counters / sizeof *counters; i++) {
    double v = jnumber(json_object_get(rec, counters[i]));
    if (!isnan(v))
      metrics_sample(&fam[MF_COUNTERS], "edgefleet_miner_sector_counter", v, "miner", m,
                     "counter", counters[i], NULL);
  }
  double v = jnumber(json_object_get(rec, "faultySectors"));
  if (!isnan(v))
    metrics_sample(&fam[MF_FAULTY], "edgefleet_miner_faulty_sectors", v, "miner", m, NULL);
  v = jnumber(json_object_get(rec, "recoverySectors"));
  if (!isnan(v))
    metrics_sample(&fam[MF_RECOVERING], "edgefleet_miner_recovering_sectors", v, "miner", m,
                   NULL);
  v = jnumber(json_object_get(rec, "currentDeadline"));
  if (!isnan(v))
    metrics_sample(&fam[MF_DL_CURRENT], "edgefleet_miner_current_deadline", v, "miner", m, NULL);
  size_t i;
  json_t *dl;
  json_array_foreach(json_object_get(rec, "deadlines"), i, dl) {
    double idx = jnumber(json_object_get(dl, "index"));
    if (isnan(idx)) continue;
    snprintf(buf, sizeof buf, "%lld", (long long)idx);
    static const struct { const char *key; int f; const char *name; } dls[] = {
      {"partitions", MF_DL_PARTITIONS, "edgefleet_miner_deadline_partitions"},
      {"provenPartitions", MF_DL_PROVEN, "edgefleet_miner_deadline_proven_partitions"},
      {"sectors", MF_DL_SECTORS, "edgefleet_miner_deadline_sectors"},
      {"faults", MF_DL_FAULTS, "edgefleet_miner_deadline_faults"},
    };
    for (size_t k = 0; k < sizeof dls / sizeof *dls; k++) {
      double d = jnumber(json_object_get(dl, dls[k].key));
      if (!isnan(d))
        metrics_sample(&fam[dls[k].f], dls[k].name, d, "miner", m, "deadline", buf, NULL);
    }
  }
  /* workers by state, jobs by task and state */
  int64_t w[4] = {0};
  static const char *const wnames[4] = {"running", "idle", "disabled", "missing"};
  json_t *jobs = json_object();
  const char *host;
  json_t *wk;
  json_object_foreach(jobj(rec, "workerInfo"), host, wk) {
    if (json_is_true(json_object_get(wk, "missing"))) w[3]++;
    else if (json_is_false(json_object_get(wk, "enabled"))) w[2]++;
    else if (jstr(wk, "taskState") && strcmp(jstr(wk, "taskState"), "running") == 0) w[0]++;
    else w[1]++;
    jobs_of(fam, m, jobj(wk, "currentQueue"), jobs, true);
    jobs_of(fam, m, jobj(wk, "pendingQueue"), jobs, false);
  }
  if (jobj(rec, "workerInfo"))
    for (int k = 0; k < 4; k++)
      metrics_sample(&fam[MF_WORKERS], "edgefleet_miner_workers", (double)w[k], "miner", m,
                     "state", wnames[k], NULL);
  const char *key;
  json_object_foreach(jobs, key, n) {
    char task[160];
    snprintf(task, sizeof task, "%s", key);
    char *nl = strchr(task, '\n');
    if (!nl) continue;
    *nl = '\0';
    metrics_sample(&fam[MF_JOBS], "edgefleet_miner_jobs", (double)json_integer_value(n), "miner",
                   m, "task", task, "state", nl + 1, NULL);
  }
  json_decref(jobs);
  v = jnumber(json_object_get(rec, "totalMessages"));
  if (!isnan(v))
    metrics_sample(&fam[MF_MESSAGES], "edgefleet_miner_messages_pending", v, "miner", m, NULL);
}

/* ===== families of one device ===== */

enum device_fam {
  DF_ONLINE, DF_AGE, DF_CPU, DF_LOAD1, DF_TEMP, DF_MEM_TOTAL, DF_MEM_AVAIL, DF_DISK, DF_NET_RX,
  DF_NET_TX, DF_DISK_R, DF_DISK_W, DF_GPU_TEMP, DF_GPU_UTIL, DF_N
};

static const struct fam_def device_defs[DF_N] = {
  {"edgefleet_device_online", "gauge", "1 for a connected device that is online, 0 for one in state Unknown (missed heartbeats)"},
  {"edgefleet_device_status_age_seconds", "gauge", "Seconds since the device's latest status upload"},
  {"edgefleet_device_cpu_usage_percent", "gauge", "Busy share of all CPUs between the device's last two uploads"},
  {"edgefleet_device_load1", "gauge", "1-minute load average"},
  {"edgefleet_device_cpu_temperature_celsius", "gauge", "Hottest CPU sensor"},
  {"edgefleet_device_memory_total_bytes", "gauge", "Total RAM"},
  {"edgefleet_device_memory_available_bytes", "gauge", "MemAvailable"},
  {"edgefleet_device_root_used_percent", "gauge", "Used share of the root file system"},
  {"edgefleet_device_network_receive_bytes_per_second", "gauge", "Bytes received per second by interface"},
  {"edgefleet_device_network_transmit_bytes_per_second", "gauge", "Bytes sent per second by interface"},
  {"edgefleet_device_disk_read_bytes_per_second", "gauge", "Bytes read per second by disk"},
  {"edgefleet_device_disk_write_bytes_per_second", "gauge", "Bytes written per second by disk"},
  {"edgefleet_device_gpu_temperature_celsius", "gauge", "GPU temperature by GPU index"},
  {"edgefleet_device_gpu_utilization_percent", "gauge", "GPU utilization by GPU index"},
};
const size_t metrics_device_families = DF_N;

static void dev_num(struct mbuf *b, const char *name, const char *dev, const json_t *v) {
  double d = jnumber(v);
  if (!isnan(d)) metrics_sample(b, name, d, "device", dev, NULL);
}

void metrics_device(struct mbuf *fam, uint64_t device_id, bool online, int64_t status_time,
                    const void *data, int64_t now_ms) {
  const json_t *st = data;
  char dev[EF_ID_STRLEN];
  id_format(device_id, dev);
  metrics_sample(&fam[DF_ONLINE], "edgefleet_device_online", online ? 1 : 0, "device", dev, NULL);
  if (status_time > 0)
    metrics_sample(&fam[DF_AGE], "edgefleet_device_status_age_seconds",
                   (double)(now_ms - status_time) / 1000.0, "device", dev, NULL);
  if (!st) return;
  dev_num(&fam[DF_CPU], device_defs[DF_CPU].name, dev, json_object_get(st, "cpu_usage_percent"));
  dev_num(&fam[DF_LOAD1], device_defs[DF_LOAD1].name, dev, json_object_get(jobj(st, "load_avg"), "1"));
  dev_num(&fam[DF_TEMP], device_defs[DF_TEMP].name, dev, json_object_get(st, "cpu_temperature"));
  double mb = jnumber(json_object_get(jobj(st, "Memory_info"), "total_memory_mb"));
  if (!isnan(mb))
    metrics_sample(&fam[DF_MEM_TOTAL], device_defs[DF_MEM_TOTAL].name, mb * 1048576.0, "device",
                   dev, NULL);
  mb = jnumber(json_object_get(jobj(st, "memory"), "available_mb"));
  if (!isnan(mb))
    metrics_sample(&fam[DF_MEM_AVAIL], device_defs[DF_MEM_AVAIL].name, mb * 1048576.0, "device",
                   dev, NULL);
  dev_num(&fam[DF_DISK], device_defs[DF_DISK].name, dev,
          json_object_get(jobj(st, "Disk_info"), "root_used_percent"));
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(st, "net_io"), i, e) {
    const char *name = jstr(e, "name");
    double rx = jnumber(json_object_get(e, "rx")), tx = jnumber(json_object_get(e, "tx"));
    if (!name) continue;
    if (!isnan(rx))
      metrics_sample(&fam[DF_NET_RX], device_defs[DF_NET_RX].name, rx, "device", dev,
                     "interface", name, NULL);
    if (!isnan(tx))
      metrics_sample(&fam[DF_NET_TX], device_defs[DF_NET_TX].name, tx, "device", dev,
                     "interface", name, NULL);
  }
  json_array_foreach(json_object_get(st, "disk_io"), i, e) {
    const char *name = jstr(e, "name");
    double r = jnumber(json_object_get(e, "read_bps")), w = jnumber(json_object_get(e, "write_bps"));
    if (!name) continue;
    if (!isnan(r))
      metrics_sample(&fam[DF_DISK_R], device_defs[DF_DISK_R].name, r, "device", dev, "disk", name,
                     NULL);
    if (!isnan(w))
      metrics_sample(&fam[DF_DISK_W], device_defs[DF_DISK_W].name, w, "device", dev, "disk", name,
                     NULL);
  }
  json_array_foreach(json_object_get(st, "gpuInfo"), i, e) {
    double idx = jnumber(json_object_get(e, "index"));
    char gpu[24];
    snprintf(gpu, sizeof gpu, "%lld", isnan(idx) ? (long long)i : (long long)idx);
    double t = jnumber(json_object_get(e, "temperature"));
    double u = jnumber(json_object_get(e, "utilization"));
    if (!isnan(t))
      metrics_sample(&fam[DF_GPU_TEMP], device_defs[DF_GPU_TEMP].name, t, "device", dev, "gpu",
                     gpu, NULL);
    if (!isnan(u))
      metrics_sample(&fam[DF_GPU_UTIL], device_defs[DF_GPU_UTIL].name, u, "device", dev, "gpu",
                     gpu, NULL);
  }
}

void metrics_join(struct mbuf *out, struct mbuf *fam, int kind) {
  const struct fam_def *defs = kind == 0 ? miner_defs : device_defs;
  size_t n = kind == 0 ? MF_N : DF_N;
  for (size_t i = 0; i < n; i++) {
    metrics_family(out, defs[i].name, defs[i].type, defs[i].help);
    if (fam[i].len) mbuf_add(out, fam[i].p, fam[i].len);
    fam[i].len = 0;
  }
}

static void alert_sink(void *ctx, const char *rule, int64_t firing) {
  metrics_sample(ctx, "edgefleet_alerts_firing", (double)firing, "rule", rule, NULL);
}

void metrics_alerts(struct mbuf *out, metrics_alert_source fn, void *ud) {
  metrics_family(out, "edgefleet_alerts_firing", "gauge", "Alerts firing now by rule");
  if (fn) fn(ud, alert_sink, out);
}

/* ===== the server's side ===== */

struct waiter;
typedef void (*waiter_fn)(struct waiter *w, int status, const char *text, size_t len);
struct waiter {
  struct waiter *next;
  waiter_fn answer;
};

struct req_waiter {            /* a request on the main listener */
  struct waiter w;
  struct net_req *req;
};

struct lconn {                 /* a connection on metrics_listen */
  struct waiter w;
  struct metrics *m;
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_write_t wr;
  char *buf;                   /* the request as read, then the answer */
  size_t len;
  bool waiting, closing;
  struct lconn *prev_c, *next_c;
};

struct metrics {
  struct server *srv;
  struct u64map devices;       /* device_id -> (void *)1: logged-in devices (live events) */
  metrics_alert_source alert_fn;
  void *alert_ud;
  /* the scrape being built */
  bool building;
  struct waiter *waiters;
  uv_idle_t step;              /* one step per loop turn while a scrape is built */
  uint64_t *ids;
  size_t nids, next;
  int64_t now_ms;
  uint64_t started_ns;
  uint64_t step_max_ns;        /* its longest step so far */
  size_t by_state[3];          /* enum dev_state of the snapshot's devices */
  struct mbuf head, dev[DF_N];
  /* registered devices, read on the database thread */
  struct worker_job job;
  bool job_out;
  int64_t registered;          /* -1: not known yet */
  int64_t registered_at;       /* uv_now() */
  /* metrics_listen */
  bool listening;
  uv_tcp_t listener;
  struct lconn *conns;
  int nconns;
  bool stopped;
};

static void on_live(void *ud, const struct live_change *c) {
  struct metrics *m = ud;
  if (c->remote) return; /* each node's /metrics counts its own devices */
  if (c->event == LIVE_LOGIN) u64map_put(&m->devices, c->device_id, (void *)1);
  else if (c->event == LIVE_LOGOUT) u64map_del(&m->devices, c->device_id);
}

void metrics_set_alert_source(struct metrics *m, metrics_alert_source fn, void *ud) {
  m->alert_fn = fn;
  m->alert_ud = ud;
}

bool metrics_is_path(const char *path) { return strcmp(path, "/metrics") == 0; }

/* ----- the server's own families ----- */

static const char *const side_names[STATS_SIDES] = {"device", "front", "http"};
static const char *const login_kinds[STATS_LOGIN_KINDS] = {"password", "token"};
static const char *const login_outcomes[STATS_LOGIN_OUTCOMES] = {"success", "fail", "refused"};
static const char *const order_outcomes[STATS_ORDER_OUTCOMES] = {"success", "fail", "timeout"};

static void fam_u64(struct mbuf *b, const char *name, const char *type, const char *help,
                    uint64_t v) {
  metrics_family(b, name, type, help);
  metrics_sample(b, name, (double)v, NULL);
}

static void server_families(struct metrics *m, struct mbuf *b) {
  const struct stats *s = &ef_stats;
  struct server *srv = m->srv;
  metrics_family(b, "edgefleet_connections", "gauge", "WebSocket connections open by side");
  for (int i = 0; i < STATS_HTTP; i++)
    metrics_sample(b, "edgefleet_connections", (double)(s->conn_opened[i] - s->conn_closed[i]),
                   "side", side_names[i], NULL);
  metrics_family(b, "edgefleet_connections_opened_total", "counter",
                 "WebSocket connections opened by side");
  for (int i = 0; i < STATS_HTTP; i++)
    metrics_sample(b, "edgefleet_connections_opened_total", (double)s->conn_opened[i], "side",
                   side_names[i], NULL);
  fam_u64(b, "edgefleet_connections_refused_total", "counter",
          "Connections refused by the per-address limits", s->conn_refused);
  fam_u64(b, "edgefleet_device_sessions", "gauge",
          "Device connections open, logged in or not", srv->n_sessions);
  static const struct { const char *name, *help; size_t off; } flows[] = {
    {"edgefleet_messages_received_total", "Messages received by side (http: requests)", offsetof(struct stats, msgs_in)},
    {"edgefleet_received_bytes_total", "Message bytes received by side (http: request bodies)", offsetof(struct stats, bytes_in)},
    {"edgefleet_messages_sent_total", "Messages sent by side (http: answers)", offsetof(struct stats, msgs_out)},
    {"edgefleet_sent_bytes_total", "Message bytes sent by side (http: answer bodies)", offsetof(struct stats, bytes_out)},
  };
  for (size_t f = 0; f < sizeof flows / sizeof *flows; f++) {
    const uint64_t *arr = (const uint64_t *)((const char *)s + flows[f].off);
    metrics_family(b, flows[f].name, "counter", flows[f].help);
    for (int i = 0; i < STATS_SIDES; i++)
      metrics_sample(b, flows[f].name, (double)arr[i], "side", side_names[i], NULL);
  }
  metrics_family(b, "edgefleet_logins_total", "counter", "Device logins by kind and outcome");
  for (int k = 0; k < STATS_LOGIN_KINDS; k++)
    for (int o = 0; o < STATS_LOGIN_OUTCOMES; o++)
      metrics_sample(b, "edgefleet_logins_total", (double)s->logins[k][o], "kind", login_kinds[k],
                     "outcome", login_outcomes[o], NULL);
  fam_u64(b, "edgefleet_bcrypt_queue", "gauge", "Password logins waiting for a bcrypt thread",
          srv->logins ? (uint64_t)logins_waiting(srv->logins) : 0);
  metrics_family(b, "edgefleet_orders_total", "counter", "Orders by outcome");
  for (int o = 0; o < STATS_ORDER_OUTCOMES; o++)
    metrics_sample(b, "edgefleet_orders_total", (double)s->orders[o], "outcome",
                   order_outcomes[o], NULL);
  metrics_family(b, "edgefleet_order_duration_seconds", "histogram",
                 "Time from an order's sending to its result");
  uint64_t cum = 0;
  for (int i = 0; i <= STATS_ORDER_BUCKETS; i++) {
    char le[24];
    cum += s->order_buckets[i];
    if (i < STATS_ORDER_BUCKETS) snprintf(le, sizeof le, "%g", stats_order_bucket_le[i]);
    else snprintf(le, sizeof le, "+Inf");
    metrics_sample(b, "edgefleet_order_duration_seconds_bucket", (double)cum, "le", le, NULL);
  }
  metrics_sample(b, "edgefleet_order_duration_seconds_sum", s->order_seconds_sum, NULL);
  metrics_sample(b, "edgefleet_order_duration_seconds_count", (double)cum, NULL);
  fam_u64(b, "edgefleet_front_pushes_total", "counter", "Events pushed to dashboards",
          s->front_pushes);
  fam_u64(b, "edgefleet_front_push_bytes_total", "counter", "Bytes of events pushed to dashboards",
          s->front_push_bytes);
  fam_u64(b, "edgefleet_front_dropped_total", "counter",
          "Dashboards dropped because their output queue was full", s->front_dropped);
  fam_u64(b, "edgefleet_device_pings_total", "counter", "Heartbeat pings answered",
          s->device_pings);
  fam_u64(b, "edgefleet_heartbeat_misses_total", "counter",
          "Heartbeat deadlines passed without a message", s->heartbeat_misses);
  fam_u64(b, "edgefleet_device_rate_drops_total", "counter",
          "Devices dropped for exceeding their message rate", s->device_rate_drops);
  fam_u64(b, "edgefleet_scrapes_total", "counter", "Answers of /metrics built before this one",
          s->scrapes);
  metrics_family(b, "edgefleet_scrape_duration_seconds", "gauge",
                 "Wall time the previous /metrics answer took to build, all its steps");
  metrics_sample(b, "edgefleet_scrape_duration_seconds", s->scrape_seconds_last, NULL);
  metrics_family(b, "edgefleet_scrape_step_max_seconds", "gauge",
                 "Longest step of the previous /metrics answer: the most it held the loop");
  metrics_sample(b, "edgefleet_scrape_step_max_seconds", s->scrape_step_max_last, NULL);
}

static void miner_part(struct metrics *m, struct mbuf *b) {
  struct mbuf fam[MF_N];
  memset(fam, 0, sizeof fam);
  struct miner_info mi;
  size_t n = 0;
  for (size_t i = 0; m->srv->miners && miner_at(m->srv->miners, i, &mi); i++, n++)
    metrics_miner(fam, mi.id, mi.record, mi.updated, m->now_ms);
  fam_u64(b, "edgefleet_miners", "gauge", "Miner records kept", n);
  metrics_join(b, fam, 0);
  for (int i = 0; i < MF_N; i++) mbuf_free(&fam[i]);
}

/* ----- building, in steps ----- */

static void scrape_finish(struct metrics *m, int status) {
  struct mbuf out = {0};
  if (status == 200) {
    mbuf_add(&out, m->head.p, m->head.len);
    metrics_family(&out, "edgefleet_devices", "gauge", "Devices by state");
    static const enum dev_state order[3] = {DEV_ONLINE, DEV_UNKNOWN, DEV_OFFLINE};
    for (int i = 0; i < 3; i++) {
      double v = (double)m->by_state[order[i]];
      if (order[i] == DEV_OFFLINE) {
        if (m->registered < 0) continue;
        int64_t off = m->registered - (int64_t)(m->by_state[DEV_ONLINE] + m->by_state[DEV_UNKNOWN]);
        v = (double)(off < 0 ? 0 : off);
      }
      metrics_sample(&out, "edgefleet_devices", v, "state", dev_state_name(order[i]), NULL);
    }
    metrics_join(&out, m->dev, 1);
  } else {
    mbuf_printf(&out, "server stopping\n");
  }
  ef_stats.scrapes++;
  ef_stats.scrape_seconds_last = (double)(uv_hrtime() - m->started_ns) / 1e9;
  ef_stats.scrape_step_max_last = (double)m->step_max_ns / 1e9;
  struct waiter *w = m->waiters;
  m->waiters = NULL;
  m->building = false;
  ef_free(m->ids);
  m->ids = NULL;
  m->head.len = 0;
  while (w) {
    struct waiter *next = w->next;
    w->answer(w, status, out.p ? out.p : "", out.len);
    w = next;
  }
  mbuf_free(&out);
}

static void step_done(struct metrics *m, uint64_t t0) {
  uint64_t d = uv_hrtime() - t0;
  if (d > m->step_max_ns) m->step_max_ns = d;
}

static void scrape_step(uv_idle_t *t) {
  struct metrics *m = t->data;
  struct server *srv = m->srv;
  uint64_t t0 = uv_hrtime();
  size_t end = m->next + (size_t)srv->cfg.metrics_step;
  if (end > m->nids) end = m->nids;
  for (; m->next < end; m->next++) {
    uint64_t id = m->ids[m->next];
    if (live_find(srv->live, id, NULL) != LIVE_LOCAL) continue;
    enum dev_state st = live_state(srv->live, id);
    m->by_state[st]++;
    if (!srv->cfg.metrics_per_device) continue;
    json_t *data = live_status_data(srv->live, id);
    metrics_device(m->dev, id, st == DEV_ONLINE, live_status_time(srv->live, id), data, m->now_ms);
    json_decref(data);
  }
  step_done(m, t0);
  if (m->next < m->nids) return;
  uv_idle_stop(&m->step);
  if (!m->job_out) scrape_finish(m, 200);
  /* else the count of registered devices is still being read: registered_done finishes */
}

static void registered_work(struct store *st, struct worker_job *job) {
  struct metrics *m = container_of(job, struct metrics, job);
  uint64_t n = 0;
  /* written on the database thread, read on the loop after done: the worker's FIFO orders it */
  if (st->ops->device_count(st, &n) == 0) m->registered = (int64_t)n;
}

static void registered_done(struct worker_job *job) {
  struct metrics *m = container_of(job, struct metrics, job);
  m->job_out = false;
  m->registered_at = (int64_t)uv_now(m->srv->loop);
  if (m->building && m->next >= m->nids && !uv_is_active((uv_handle_t *)&m->step))
    scrape_finish(m, 200);
}

static void scrape_begin(struct metrics *m, struct waiter *w) {
  w->next = m->waiters;
  m->waiters = w;
  if (m->building) return;
  m->building = true;
  m->started_ns = uv_hrtime();
  m->step_max_ns = 0;
  m->now_ms = ef_now_ms();
  memset(m->by_state, 0, sizeof m->by_state);
  int64_t now = (int64_t)uv_now(m->srv->loop);
  if (!m->job_out && (m->registered < 0 || now - m->registered_at >= REGISTERED_EVERY_MS)) {
    m->job_out = true;
    m->job.work = registered_work;
    m->job.done = registered_done;
    worker_submit(m->srv->worker, &m->job);
  }
  server_families(m, &m->head);
  miner_part(m, &m->head);
  metrics_alerts(&m->head, m->alert_fn, m->alert_ud);
  /* the snapshot of connected devices, read by id in the steps */
  m->nids = 0;
  m->next = 0;
  m->ids = ef_malloc((m->devices.len + 1) * sizeof *m->ids);
  uint64_t id;
  void *v;
  for (size_t it = 0; u64map_next(&m->devices, &it, &id, &v);) m->ids[m->nids++] = id;
  /* An idle handle, not a zero timer: libuv runs a zero timer restarted from its own callback
   * again in the same turn (before polling), an idle callback once per turn after the poll. */
  step_done(m, m->started_ns);
  uv_idle_start(&m->step, scrape_step);
}

/* ----- GET /metrics on the main listener ----- */

static void req_answer(struct waiter *w, int status, const char *text, size_t len) {
  struct req_waiter *rw = (struct req_waiter *)w;
  net_req_set_content_type(rw->req, status == 200 ? CONTENT_TYPE : "text/plain; charset=utf-8");
  net_req_respond(rw->req, status, text, len);
  ef_free(rw);
}

static void req_refuse(struct net_req *req, int status, const char *msg) {
  char body[256];
  int n = snprintf(body, sizeof body, "{\"status\":\"fail\",\"type\":\"GENERAL_ERROR\",\"message\":\"%s\"}", msg);
  net_req_respond(req, status, body, (size_t)n);
}

void metrics_headers(struct net_req *req) {
  if (strcmp(net_req_method(req), "GET") == 0) {
    req_refuse(req, 400, "a /metrics request has no body");
    return;
  }
  net_req_set_header(req, "Allow", "GET");
  req_refuse(req, 405, "/metrics is read with GET");
}

void metrics_request(struct server *srv, struct net_req *req) {
  struct metrics *m = srv->metrics;
  if (strcmp(net_req_method(req), "GET") != 0) {
    net_req_set_header(req, "Allow", "GET");
    req_refuse(req, 405, "/metrics is read with GET");
    return;
  }
  size_t slot = 0;
  enum auth_kind k = auth_identify(srv->auth, net_req_header(req, "authorization"), &slot);
  const struct auth_token *t = k >= AUTH_READ ? auth_slot(srv->auth, slot) : NULL;
  if (k == AUTH_EXPIRED) req_refuse(req, 401, "token expired");
  else if (k < AUTH_READ) req_refuse(req, 401, "an API token is required (Authorization: Bearer)");
  else if (t && t->view) req_refuse(req, 403, "a token limited to groups may not read /metrics");
  else if (!m || m->stopped) req_refuse(req, 503, "server stopping");
  if (k < AUTH_READ || (t && t->view) || !m || m->stopped) return;
  struct req_waiter *rw = ef_calloc(1, sizeof *rw);
  rw->w.answer = req_answer;
  rw->req = req;
  scrape_begin(m, &rw->w);
}

/* ----- metrics_listen: a plain HTTP/1.1 server, one request per connection ----- */

static void lconn_freed(uv_handle_t *h) {
  struct lconn *c = h->data;
  if (--c->len > 0) return; /* len counts the handles still to close once closing */
  ef_free(c->buf);
  ef_free(c);
}

static void lconn_close(struct lconn *c) {
  if (c->closing) return;
  c->closing = true;
  struct metrics *m = c->m;
  if (c->prev_c) c->prev_c->next_c = c->next_c;
  else m->conns = c->next_c;
  if (c->next_c) c->next_c->prev_c = c->prev_c;
  m->nconns--;
  if (c->waiting) return; /* the scrape still holds it: closed once answered */
  ef_free(c->buf);
  c->buf = NULL;
  c->len = 2;
  uv_close((uv_handle_t *)&c->timer, lconn_freed);
  uv_close((uv_handle_t *)&c->tcp, lconn_freed);
}

static void lconn_written(uv_write_t *wr, int status) {
  (void)status;
  lconn_close(wr->data);
}

static void lconn_send(struct lconn *c, int status, const char *ctype, const char *body,
                       size_t len) {
  const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found"
                     : status == 405 ? "Method Not Allowed" : status == 503 ? "Service Unavailable"
                                                                            : "Bad Request";
  struct mbuf b = {0};
  mbuf_printf(&b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n\r\n", status, reason, ctype, len);
  mbuf_add(&b, body, len);
  ef_free(c->buf);
  c->buf = b.p;
  c->len = b.len;
  uv_timer_stop(&c->timer);
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_buf_t ub = uv_buf_init(c->buf, (unsigned)c->len);
  c->wr.data = c;
  if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &ub, 1, lconn_written) != 0) lconn_close(c);
}

static void lconn_answer(struct waiter *w, int status, const char *text, size_t len) {
  struct lconn *c = (struct lconn *)w;
  c->waiting = false;
  if (c->closing) { /* the client went meanwhile */
    c->closing = false;
    c->m->nconns++; /* lconn_close counts it out again */
    c->prev_c = c->next_c = NULL;
    c->next_c = c->m->conns;
    if (c->m->conns) c->m->conns->prev_c = c;
    c->m->conns = c;
    lconn_close(c);
    return;
  }
  lconn_send(c, status, status == 200 ? CONTENT_TYPE : "text/plain; charset=utf-8", text, len);
}

static void lconn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  struct lconn *c = h->data;
  (void)hint;
  if (!c->buf) c->buf = ef_malloc(LISTEN_REQUEST_MAX + 1);
  *buf = uv_buf_init(c->buf + c->len, (unsigned)(LISTEN_REQUEST_MAX - c->len));
}

static void lconn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct lconn *c = s->data;
  (void)buf;
  if (nread < 0) {
    lconn_close(c);
    return;
  }
  if (c->waiting) return;
  c->len += (size_t)nread;
  c->buf[c->len] = '\0';
  if (!strstr(c->buf, "\r\n\r\n")) {
    if (c->len >= LISTEN_REQUEST_MAX) {
      static const char msg[] = "request too large\n";
      lconn_send(c, 400, "text/plain", msg, sizeof msg - 1);
    }
    return;
  }
  static const char nf[] = "not found: the metrics are at /metrics\n";
  static const char nm[] = "/metrics is read with GET\n";
  size_t ml = strcspn(c->buf, " ");
  const char *path = c->buf + ml + (c->buf[ml] ? 1 : 0);
  size_t pl = strcspn(path, " ?\r\n");
  if (!(pl == 8 && strncmp(path, "/metrics", 8) == 0)) {
    lconn_send(c, 404, "text/plain", nf, sizeof nf - 1);
    return;
  }
  if (!(ml == 3 && strncmp(c->buf, "GET", 3) == 0)) {
    lconn_send(c, 405, "text/plain", nm, sizeof nm - 1);
    return;
  }
  uv_read_stop(s);
  uv_timer_stop(&c->timer);
  c->waiting = true;
  c->w.answer = lconn_answer;
  scrape_begin(c->m, &c->w);
}

static void lconn_timeout(uv_timer_t *t) { lconn_close(t->data); }

static void on_listen(uv_stream_t *server, int status) {
  struct metrics *m = server->data;
  if (status < 0) return;
  struct lconn *c = ef_calloc(1, sizeof *c);
  c->m = m;
  uv_tcp_init(m->srv->loop, &c->tcp);
  uv_timer_init(m->srv->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->next_c = m->conns;
  if (m->conns) m->conns->prev_c = c;
  m->conns = c;
  m->nconns++;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || m->nconns > LISTEN_CONNS_MAX) {
    lconn_close(c);
    return;
  }
  uv_timer_start(&c->timer, lconn_timeout, LISTEN_TIMEOUT_MS, 0);
  uv_read_start((uv_stream_t *)&c->tcp, lconn_alloc, lconn_read);
}

static int listen_start(struct metrics *m, const char *addr, char *err, size_t errlen) {
  char host[256];
  const char *colon = strrchr(addr, ':');
  char *end;
  long port = colon ? strtol(colon + 1, &end, 10) : -1;
  if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host || *end || port < 0 ||
      port > 65535) {
    snprintf(err, errlen, "metrics_listen %s: want host:port", addr);
    return EF_ECONFIG;
  }
  memcpy(host, addr, (size_t)(colon - addr));
  host[colon - addr] = '\0';
  struct sockaddr_in sa;
  if (uv_ip4_addr(strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, (int)port, &sa) != 0) {
    snprintf(err, errlen, "metrics_listen %s: not an IPv4 address", addr);
    return EF_ECONFIG;
  }
  uv_tcp_init(m->srv->loop, &m->listener);
  m->listener.data = m;
  int rc = uv_tcp_bind(&m->listener, (const struct sockaddr *)&sa, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&m->listener, 64, on_listen);
  if (rc != 0) {
    snprintf(err, errlen, "metrics_listen %s: %s", addr, uv_strerror(rc));
    uv_close((uv_handle_t *)&m->listener, NULL);
    return EF_ESYS;
  }
  m->listening = true;
  struct sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_tcp_getsockname(&m->listener, (struct sockaddr *)&ss, &len) == 0)
    ef_log(EF_LOG_INFO, "metrics: serving /metrics without a token on port %d (metrics_listen)",
           ntohs(((struct sockaddr_in *)&ss)->sin_port));
  return 0;
}

/* ----- life ----- */

int metrics_start(struct server *srv, char *err, size_t errlen) {
  struct metrics *m = ef_calloc(1, sizeof *m);
  m->srv = srv;
  m->registered = -1;
  u64map_init(&m->devices);
  uv_idle_init(srv->loop, &m->step);
  m->step.data = m;
  srv->metrics = m;
  live_listen(srv->live, on_live, m);
  if (srv->cfg.metrics_listen && srv->cfg.metrics_listen[0])
    return listen_start(m, srv->cfg.metrics_listen, err, errlen);
  return 0;
}

static void metrics_freed(uv_handle_t *h) {
  struct metrics *m = h->data;
  u64map_free(&m->devices);
  for (int i = 0; i < DF_N; i++) mbuf_free(&m->dev[i]);
  mbuf_free(&m->head);
  ef_free(m);
}

void metrics_stop(struct server *srv) {
  struct metrics *m = srv->metrics;
  if (!m || m->stopped) return;
  m->stopped = true;
  uv_idle_stop(&m->step);
  if (m->building) scrape_finish(m, 503);
  while (m->conns) lconn_close(m->conns);
  /* m goes in the step timer's close callback: closed first, it is the last of m's handles the
   * loop finishes (libuv finishes closing handles newest first). A count of registered devices
   * still out has its done() run by worker_stop, before that. */
  uv_close((uv_handle_t *)&m->step, metrics_freed);
  if (m->listening) uv_close((uv_handle_t *)&m->listener, NULL);
  srv->metrics = NULL;
}
