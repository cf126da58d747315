/* SPDX-License-Identifier: MIT */
/* lotus_record.c -- parsed lotus-miner outputs -> docs/protocol.md#miner-records (lotus_record.h).
 *
 * DESIGN
 * The record is a flat object of miner fields plus `workerInfo`, an object keyed by host name
 * (the server's and the merge patch's unit). Only what the inputs show is written: an absent
 * field means "unknown", never 0. Sector counters come from `sectorStates` through one table
 * (states[] below) for both sources. Jobs go to their worker by host name, or by worker id when
 * the host name is empty (ret-wait rows of v1.1.3-pre1); a job whose worker is unknown still
 * shows, under its host name (or worker id) as a worker entry of its own. Running jobs are the
 * worker's currentQueue, every other state (assigned(N), prepared, ret-wait, returned, ...) its
 * pendingQueue, both keyed by the short task name; empty lists are omitted so that a merge patch
 * deletes a finished list with `null`.
 */
#include "lotus_record.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "jsonutil.h"
#include "lotus_parse.h"
#include "mem.h"

/* ---- sector states ---------------------------------------------------------------------- */

/* The table itself is in the parser library (collectors/lotus/lotus_states.c), shared with the
 * counters `lotus-parse info` prints: one state, one counter. */
const char *lotus_state_counter(const char *state, const char **sub) {
  if (sub) *sub = NULL;
  return ef_lotus_state_counter(state);
}

/* ---- task names ------------------------------------------------------------------------- */

struct task_row {
  const char *type;
  const char *shortname;
};

/* lotus' sealtasks, in the order the record lists a worker's task types. */
static const struct task_row tasks[] = {
  {"seal/v0/addpiece", "AP"},
  {"seal/v0/precommit/1", "PC1"},
  {"seal/v0/precommit/2", "PC2"},
  {"seal/v0/commit/1", "C1"},
  {"seal/v0/commit/2", "C2"},
  {"seal/v0/fetch", "GET"},
  {"seal/v0/finalize", "FIN"},
  {"seal/v0/unseal", "UNS"},
  {"seal/v0/unsealread", "RD"},
  {"seal/v0/datacid", "DC"},
  {"seal/v0/finalize/unsealed", "FUS"},
  {"seal/v0/replicaupdate", "RU"},
  {"seal/v0/provereplicaupdate/1", "PR1"},
  {"seal/v0/provereplicaupdate/2", "PR2"},
  {"seal/v0/regensectorkey", "GSK"},
  {"seal/v0/finalize/replicaupdate", "FRU"},
  {"seal/v0/download", "DL"},
  {"post/v0/windowproof", "WDP"},
  {"post/v0/winningproof", "WNP"},
  {NULL, NULL},
};

const char *lotus_task_short(const char *type) {
  if (!type) return "";
  for (const struct task_row *t = tasks; t->type; t++)
    if (strcmp(t->type, type) == 0) return t->shortname;
  return type;
}

/* Sort rank of a short task name: table order, unknown names last. */
static int task_rank(const char *name) {
  int i = 0;
  for (const struct task_row *t = tasks; t->type; t++, i++)
    if (strcmp(t->shortname, name) == 0) return i;
  return i;
}

/* ---- miner fields ----------------------------------------------------------------------- */

/* FIL amounts: copied with their "…Atto" / "…Exact" companions. */
static const char *const fil_fields[] = {
  "minerBalance", "workerBalance", "postBalance", "pledgeBalance", "vestingBalance",
  "minerAvailable", "preCommitDeposit", "marketBalance", "marketLocked",
  "marketAvailable", "totalSpendable", NULL,
};

/* Sizes: copied with their "…Bytes" companion. */
static const char *const size_fields[] = {
  "sectorSize", "rawBytePower", "adjustedPower", "effectivePower", "committedPower",
  "faultyPower", "totalRawPower", "totalAdjustedPower", NULL,
};

/* Copied as they are. (uptime, baseFee and blocks change on every run and are left out:
 * they would turn every collection into an upload.) */
static const char *const plain_fields[] = {
  "minerId", "expectBlock", "expectBlock99", "belowMinPower", "rawPowerPercent", "powerPercent",
  "faultyPercent", "chainSync", "activeAlerts", "workerCounts", "subsystems", "startedAt",
  "recoverySectors", "totalMessages", "deals", "storageDeals", "retrievalDeals", NULL,
};

static void copy_field(json_t *rec, const json_t *from, const char *key) {
  json_t *v = json_object_get(from, key);
  if (v) json_object_set_new(rec, key, json_deep_copy(v));
}

static void copy_with(json_t *rec, const json_t *from, const char *key, const char *suffix) {
  char k[96];
  snprintf(k, sizeof k, "%s%s", key, suffix);
  copy_field(rec, from, k);
}

/* sectorStates from a `sectors list` when `info` did not show them (--hide-sectors-info). */
static json_t *states_from_sectors(const json_t *sectors) {
  json_t *arr = json_object_get(sectors, "sectors");
  if (!json_is_array(arr)) return NULL;
  json_t *st = json_object();
  size_t i;
  json_t *s;
  json_array_foreach(arr, i, s) {
    const char *name = jstr(s, "state");
    if (!name) continue;
    json_int_t n = json_integer_value(json_object_get(st, name));
    json_object_set_new(st, name, json_integer(n + 1));
  }
  return st;
}

static void add_counters(json_t *rec, const json_t *st, bool have_total) {
  ef_lotus_add_sector_counters(rec, st);
  uint64_t total = 0; /* unsigned: absurd inputs wrap, never overflow */
  const char *name;
  json_t *v;
  json_object_foreach((json_t *)st, name, v)
    if (json_is_integer(v)) total += (uint64_t)json_integer_value(v);
  if (!have_total) json_object_set_new(rec, "totalSectors", json_integer((json_int_t)total));
}

/* "sync slow (1m2s behind)" -> 62 */
static void add_chain_behind(json_t *rec) {
  const char *cs = jstr(rec, "chainSync");
  const char *open = cs ? strchr(cs, '(') : NULL;
  const char *behind = open ? strstr(open, " behind)") : NULL;
  int64_t ns;
  if (behind && ef_lotus_duration_parse(open + 1, (size_t)(behind - open - 1), &ns) == 0 && ns >= 0)
    json_object_set_new(rec, "chainSyncBehindSeconds", json_integer(ns / 1000000000));
}

/* dealCount: the total of the `Deals:` block (v0.5.2-v1.11.0) or of the markets' storage deals. */
static void add_deal_count(json_t *rec) {
  json_t *n = json_object_get(json_object_get(rec, "deals"), "count");
  if (!json_is_integer(n)) n = json_object_get(json_object_get(rec, "storageDeals"), "count");
  if (json_is_integer(n)) json_object_set_new(rec, "dealCount", json_copy(n));
}

static void add_miner(json_t *rec, const json_t *info, const json_t *sectors) {
  for (const char *const *f = plain_fields; *f; f++) copy_field(rec, info, *f);
  for (const char *const *f = fil_fields; *f; f++) {
    if (!json_object_get(info, *f)) continue;
    copy_field(rec, info, *f);
    copy_with(rec, info, *f, "Atto");
    copy_with(rec, info, *f, "Exact");
  }
  /* An input of the earlier shape (the deposit as a FIL text under "preCommitWait"). */
  json_t *old = json_object_get(info, "preCommitWait");
  if (!json_object_get(info, "preCommitDeposit") && json_is_string(old)) {
    json_object_set_new(rec, "preCommitDeposit", json_deep_copy(old));
    json_t *v;
    if ((v = json_object_get(info, "preCommitWaitAtto")))
      json_object_set_new(rec, "preCommitDepositAtto", json_deep_copy(v));
    if ((v = json_object_get(info, "preCommitWaitExact")))
      json_object_set_new(rec, "preCommitDepositExact", json_deep_copy(v));
  }
  add_chain_behind(rec);
  add_deal_count(rec);
  for (const char *const *f = size_fields; *f; f++) {
    if (!json_object_get(info, *f)) continue;
    copy_field(rec, info, *f);
    copy_with(rec, info, *f, "Bytes");
  }
  json_t *total = json_object_get(info, "totalSectors");
  if (json_is_integer(total)) json_object_set_new(rec, "totalSectors", json_copy(total));
  json_t *st = json_object_get(info, "sectorStates");
  if (json_is_object(st)) {
    json_object_set_new(rec, "sectorStates", json_deep_copy(st));
    add_counters(rec, st, json_is_integer(total));
  } else if ((st = states_from_sectors(sectors))) {
    json_object_set(rec, "sectorStates", st);
    add_counters(rec, st, json_is_integer(total));
    json_decref(st);
  }
}

/* ---- workers and jobs ------------------------------------------------------------------- */

/* The worker entry `key` of `wi`, created with its queues when new. Borrowed. */
static json_t *worker_entry(json_t *wi, const char *key, const char *host) {
  json_t *w = json_object_get(wi, key);
  if (w) return w;
  w = json_object();
  json_object_set_new(w, "hostName", json_string(host));
  json_object_set_new(w, "taskType", json_array());
  json_object_set_new(w, "currentQueue", json_object());
  json_object_set_new(w, "pendingQueue", json_object());
  json_object_set_new(wi, key, w);
  return w;
}

static bool has_string(const json_t *arr, const char *s) {
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v)
    if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return true;
  return false;
}

static void add_task_type(json_t *w, const char *name) {
  if (!name || !*name) return;
  json_t *tt = json_object_get(w, "taskType");
  if (!has_string(tt, name)) json_array_append_new(tt, json_string(name));
}

static int cmp_task(const void *a, const void *b) {
  const char *x = json_string_value(*(json_t *const *)a);
  const char *y = json_string_value(*(json_t *const *)b);
  int rx = task_rank(x), ry = task_rank(y);
  return rx != ry ? rx - ry : strcmp(x, y);
}

static void sort_task_types(json_t *w) {
  json_t *tt = json_object_get(w, "taskType");
  size_t n = json_array_size(tt);
  if (n < 2) return;
  json_t **v = ef_calloc(n, sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = json_incref(json_array_get(tt, i));
  qsort(v, n, sizeof *v, cmp_task);
  json_array_clear(tt);
  for (size_t i = 0; i < n; i++) json_array_append_new(tt, v[i]);
  ef_free(v);
}

/* Copy the hardware/state fields a parsed (or RPC-made) worker shows into entry w. */
static void add_worker(json_t *wi, const json_t *pw) {
  const char *id = jstr(pw, "id");
  const char *host = jstr(pw, "hostName");
  if (!host) host = "";
  const char *key = *host ? host : (id && *id ? id : "(unknown)");
  json_t *w = worker_entry(wi, key, host);
  if (id) {
    json_t *ids = json_object_get(w, "workerIds");
    if (!ids) {
      ids = json_array();
      json_object_set_new(w, "workerIds", ids);
    }
    json_array_append_new(ids, json_string(id));
    if (json_array_size(ids) == 1) json_object_set_new(w, "workerId", json_string(id));
  }
  json_t *en = json_object_get(pw, "enabled");
  bool enabled = !json_is_false(en);
  json_t *old = json_object_get(w, "enabled");
  json_object_set_new(w, "enabled", json_boolean(enabled || json_is_true(old)));
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(pw, "taskTypes"), i, t) add_task_type(w, json_string_value(t));
  json_array_foreach(json_object_get(pw, "tasks"), i, t) add_task_type(w, jstr(t, "task"));
  static const char *const hw[] = {"cpu", "ram", "gpu", "gpus", NULL};
  for (const char *const *f = hw; *f; f++) {
    json_t *v = json_object_get(pw, *f);
    if (v && !json_object_get(w, *f)) json_object_set_new(w, *f, json_deep_copy(v));
  }
}

static bool id_matches(const char *worker_id, const char *job_worker) {
  size_t n = strlen(job_worker);
  if (n == 0 || strcmp(job_worker, "00000000") == 0) return false;
  return strncasecmp(worker_id, job_worker, n) == 0 &&
         (worker_id[n] == '\0' || worker_id[n] == '-' || n >= 8);
}

/* The key of the worker entry a job goes to. */
static const char *job_key(const json_t *wi, const json_t *job) {
  const char *host = jstr(job, "hostName");
  if (host && *host) return host;
  const char *wid = jstr(job, "worker");
  if (!wid) wid = "";
  const char *key;
  json_t *w;
  json_object_foreach((json_t *)wi, key, w) {
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(w, "workerIds"), i, id)
      if (json_is_string(id) && id_matches(json_string_value(id), wid)) return key;
  }
  return *wid ? wid : "(unknown)";
}

static void add_job(json_t *wi, const json_t *job) {
  const char *key = job_key(wi, job);
  const char *host = jstr(job, "hostName");
  json_t *w = worker_entry(wi, key, host && *host ? host : "");
  const char *task = jstr(job, "task");
  const char *state = jstr(job, "state");
  if (!task || !*task) task = "UNK";
  bool running = state && strcmp(state, "running") == 0;
  json_t *queue = json_object_get(w, running ? "currentQueue" : "pendingQueue");
  json_t *list = json_object_get(queue, task);
  if (!list) {
    list = json_array();
    json_object_set_new(queue, task, list);
  }
  json_t *j = json_object();
  static const char *const keep[] = {"id", "sector", "worker", "hostName", "task", "state",
                                     "time", NULL};
  for (const char *const *k = keep; *k; k++) {
    const char *v = jstr(job, *k);
    json_object_set_new(j, *k, json_string(v ? v : ""));
  }
  json_object_set_new(j, "task", json_string(task));
  json_t *secs = json_object_get(job, "seconds"); /* elapsed, for the collector's job start */
  if (json_is_number(secs)) json_object_set_new(j, "seconds", json_real(json_number_value(secs)));
  if (!host || !*host) json_object_set_new(j, "hostName", json_string(jstr(w, "hostName")));
  json_array_append_new(list, j);
  add_task_type(w, task);
}

static json_t *build_workers(const json_t *workers, const json_t *jobs) {
  json_t *wi = json_object();
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(workers, "workers"), i, v)
    if (json_is_object(v)) add_worker(wi, v);
  json_array_foreach(json_object_get(jobs, "jobs"), i, v)
    if (json_is_object(v)) add_job(wi, v);
  const char *key;
  json_t *w;
  json_object_foreach(wi, key, w) {
    json_t *cur = json_object_get(w, "currentQueue");
    json_object_set_new(w, "taskState", json_string(json_object_size(cur) ? "running" : "idle"));
    json_t *ids = json_object_get(w, "workerIds");
    if (json_array_size(ids) < 2) json_object_del(w, "workerIds");
    sort_task_types(w);
  }
  return wi;
}

json_t *lotus_record_build(const json_t *info, const json_t *workers, const json_t *jobs,
                           const json_t *sectors, int64_t now_ms) {
  json_t *rec = json_object();
  if (json_is_object(info)) add_miner(rec, info, sectors);
  if (json_is_object(workers) || json_is_object(jobs))
    json_object_set_new(rec, "workerInfo", build_workers(workers, jobs));
  json_object_set_new(rec, "timestamp", json_integer((json_int_t)now_ms));
  return rec;
}

/* ---- proving: deadlines, faults, recoveries (CLI source) -------------------------------- */

#define WINDOW_MS (30LL * 60 * 1000) /* a WindowPoSt deadline: 60 epochs of 30 s */
#define MAX_FAULT_NUMBERS 1000
#define MAX_DEADLINE_INDEX 100000 /* indexes beyond this are not times we compute */
#define MAX_OFFSET_S 1e9          /* "in/ago" offsets beyond ~30 years are garbage */

/* The last instant at or before now_ms (+1 min of slack) whose local time of day is `sod`. */
static int64_t local_time_before(int64_t now_ms, int sod) {
  time_t now = (time_t)(now_ms / 1000);
  struct tm tm;
  if (!localtime_r(&now, &tm)) return -1;
  for (int back = 0; back < 2; back++) {
    struct tm x = tm;
    x.tm_mday -= back;
    x.tm_hour = sod / 3600;
    x.tm_min = sod / 60 % 60;
    x.tm_sec = sod % 60;
    x.tm_isdst = -1;
    time_t t = mktime(&x);
    if (t != (time_t)-1 && t <= now + 60) return (int64_t)t * 1000;
  }
  return -1;
}

static bool sane_offset(double s) { return s > -MAX_OFFSET_S && s < MAX_OFFSET_S; }

static json_int_t iget(const json_t *o, const char *key, json_int_t dflt) {
  json_t *v = json_object_get(o, key);
  return json_is_integer(v) ? json_integer_value(v) : dflt;
}

void lotus_record_add_proving(json_t *rec, const json_t *deadlines, const json_t *pinfo,
                              const json_t *faults, int64_t now_ms) {
  json_t *rows = json_object_get(deadlines, "deadlines");
  json_int_t cur = iget(deadlines, "currentDeadline", -1);
  if (cur < 0) cur = iget(pinfo, "currentDeadline", -1);
  if (cur > MAX_DEADLINE_INDEX) cur = -1; /* lotus has 48; anything far beyond is garbage */
  /* when the current deadline opened and closes */
  int64_t open_ms = -1, close_ms = -1;
  json_t *in = json_object_get(pinfo, "deadlineOpenInSeconds");
  json_t *cl = json_object_get(pinfo, "deadlineCloseInSeconds");
  if (json_is_number(in) && sane_offset(json_number_value(in))) {
    /* epochs lie on a 30 s grid: rounding keeps the value the same from one run to the next */
    int64_t t = now_ms + (int64_t)(json_number_value(in) * 1000);
    open_ms = (t + 15000) / 30000 * 30000;
    if (json_is_number(cl) && sane_offset(json_number_value(cl)))
      close_ms = (now_ms + (int64_t)(json_number_value(cl) * 1000) + 15000) / 30000 * 30000;
  }
  size_t i;
  json_t *d;
  if (open_ms < 0 && cur >= 0)
    json_array_foreach(rows, i, d) {
      if (iget(d, "index", -1) != cur) continue;
      json_int_t sod = iget(d, "openSecondOfDay", -1);
      if (sod >= 0) open_ms = local_time_before(now_ms, (int)sod);
    }
  if (open_ms >= 0 && close_ms <= open_ms) close_ms = open_ms + WINDOW_MS;
  /* `proving deadlines` and `proving info` run seconds apart: across a deadline's boundary the
   * two current indexes differ by one, and proving info's window is the neighbour's */
  json_int_t pcur = iget(pinfo, "currentDeadline", -1);
  if (in && open_ms >= 0 && cur >= 0 && pcur >= 0 && pcur != cur) {
    json_int_t diff = (cur - pcur + 48) % 48;
    int64_t w = close_ms - open_ms;
    if (diff == 1 || diff == 47) {
      int64_t shift = diff == 1 ? w : -w;
      open_ms += shift;
      close_ms += shift;
    }
  }
  int64_t window = open_ms >= 0 ? close_ms - open_ms : WINDOW_MS;
  if (json_is_array(rows)) {
    json_t *out = json_array();
    json_array_foreach(rows, i, d) {
      if (!json_is_object(d) || iget(d, "index", -1) < 0) continue;
      json_t *o = json_object();
      static const char *const keep[] = {"index", "partitions", "sectors", "faults",
                                         "recoveries", "provenPartitions", NULL};
      for (const char *const *k = keep; *k; k++) {
        json_t *v = json_object_get(d, *k);
        if (json_is_integer(v)) json_object_set_new(o, *k, json_copy(v));
      }
      json_int_t idx = iget(d, "index", -1);
      if (open_ms >= 0 && cur >= 0 && idx <= MAX_DEADLINE_INDEX)
        json_object_set_new(o, "open", json_integer((json_int_t)(open_ms + (idx - cur) * window)));
      if (idx == cur) json_object_set_new(o, "current", json_true());
      json_array_append_new(out, o);
    }
    json_object_set_new(rec, "deadlines", out);
  }
  if (cur >= 0) json_object_set_new(rec, "currentDeadline", json_integer(cur));
  if (open_ms >= 0) {
    json_object_set_new(rec, "deadlineOpen", json_integer((json_int_t)open_ms));
    json_object_set_new(rec, "deadlineClose", json_integer((json_int_t)close_ms));
    json_object_set_new(rec, "nextDeadlineOpen", json_integer((json_int_t)close_ms));
    int64_t left = (close_ms - now_ms) / 1000;
    json_object_set_new(rec, "deadlineLeftSeconds", json_integer(left > 0 ? left : 0));
  }
  /* faults: the list of `proving faults` first, else the counts */
  json_int_t nf = iget(faults, "faultySectors", -1);
  if (nf < 0) nf = iget(pinfo, "faultySectors", -1);
  if (nf < 0) nf = iget(deadlines, "faultySectors", -1);
  if (nf >= 0) json_object_set_new(rec, "faultySectors", json_integer(nf));
  json_t *fl = json_object_get(faults, "faults");
  if (json_is_array(fl)) {
    json_t *nums = json_array();
    json_array_foreach(fl, i, d) {
      json_t *s = json_object_get(d, "sector");
      if (!json_is_integer(s)) continue;
      if (json_array_size(nums) >= MAX_FAULT_NUMBERS) break;
      json_array_append_new(nums, json_copy(s));
    }
    json_object_set_new(rec, "faults", nums);
    if (json_is_true(json_object_get(faults, "faultsTruncated")) ||
        (nf >= 0 && nf > (json_int_t)json_array_size(nums)))
      json_object_set_new(rec, "faultsTruncated", json_true());
  }
  json_int_t rs = iget(pinfo, "recoverySectors", -1);
  if (rs >= 0) json_object_set_new(rec, "recoverySectors", json_integer(rs));
}

/* ---- addresses, messages, network ------------------------------------------------------- */

void lotus_record_add_addresses(json_t *rec, const json_t *control) {
  const char *owner = jstr(control, "owner"), *worker = jstr(control, "worker");
  if (owner) json_object_set_new(rec, "ownerAddress", json_string(owner));
  if (worker) json_object_set_new(rec, "workerAddress", json_string(worker));
  json_t *ca = json_object_get(control, "control");
  if (json_is_array(ca)) json_object_set_new(rec, "controlAddresses", json_deep_copy(ca));
}

/* `addr` is one of the miner's addresses in the control list: its ID, its key, or a key that
 * begins with the printed cut key ("f3abc..." without --verbose). */
static bool miner_address(const json_t *control, const char *addr) {
  size_t i;
  json_t *row;
  json_array_foreach(json_object_get(control, "addresses"), i, row) {
    const char *name = jstr(row, "name");
    if (name && strcmp(name, "beneficiary") == 0) continue;
    const char *id = jstr(row, "id"), *key = jstr(row, "key"), *pre = jstr(row, "keyPrefix");
    if ((id && strcmp(id, addr) == 0) || (key && strcmp(key, addr) == 0)) return true;
    if (pre && *pre && strncmp(pre, addr, strlen(pre)) == 0) return true;
  }
  return false;
}

void lotus_record_add_messages(json_t *rec, const json_t *mpool, const json_t *control,
                               const char *error) {
  if (error) {
    json_object_set_new(rec, "totalMessagesError", json_string(error));
    return;
  }
  if (!json_is_object(mpool)) return;
  json_int_t n = 0;
  if (json_array_size(json_object_get(control, "addresses")) > 0) {
    const char *addr;
    json_t *v;
    json_object_foreach(json_object_get(mpool, "from"), addr, v)
      if (miner_address(control, addr)) n += json_integer_value(v);
  } else {
    n = iget(mpool, "messages", 0); /* --local: the node's wallet only */
  }
  json_object_set_new(rec, "totalMessages", json_integer(n));
}

void lotus_record_add_net(json_t *rec, const json_t *net) {
  const char *id = jstr(net, "peerId");
  if (id) json_object_set_new(rec, "peerId", json_string(id));
  json_t *ma = json_object_get(net, "multiaddrs");
  if (json_array_size(ma) > 0) json_object_set_new(rec, "multiaddrs", json_deep_copy(ma));
}

void lotus_record_add_check(json_t *rec, const json_t *check, int deadline, int64_t now_ms,
                            const char *error) {
  json_t *pc = json_object();
  json_object_set_new(pc, "deadline", json_integer(deadline));
  json_object_set_new(pc, "checkedAt", json_integer((json_int_t)now_ms));
  json_t *nums = json_array();
  size_t i;
  json_t *row;
  json_array_foreach(json_object_get(check, "badSectors"), i, row) {
    json_t *s = json_object_get(row, "sector");
    if (json_is_integer(s) && json_array_size(nums) < MAX_FAULT_NUMBERS)
      json_array_append_new(nums, json_copy(s));
  }
  json_object_set_new(pc, "badSectors", nums);
  json_int_t bad = iget(check, "bad", (json_int_t)json_array_size(nums));
  json_object_set_new(pc, "bad", json_integer(bad));
  if (bad > (json_int_t)json_array_size(nums))
    json_object_set_new(pc, "badTruncated", json_true());
  /* when the checked deadline opens, from the deadlines already in the record */
  json_array_foreach(json_object_get(rec, "deadlines"), i, row)
    if (iget(row, "index", -1) == deadline && json_is_integer(json_object_get(row, "open")))
      json_object_set_new(pc, "opensAt", json_copy(json_object_get(row, "open")));
  const char *perr = json_string_value(json_array_get(json_object_get(check, "errors"), 0));
  if (error) json_object_set_new(pc, "error", json_string(error));
  else if (perr) json_object_set_new(pc, "error", json_string(perr));
  json_object_set_new(rec, "provingCheck", pc);
}
