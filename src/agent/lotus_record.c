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

#include "jsonutil.h"
#include "mem.h"

/* ---- sector states ---------------------------------------------------------------------- */

struct state_row {
  const char *state;
  const char *counter;
  const char *sub;
};

static const struct state_row states[] = {
  {"GetTicket", "preCommit1", NULL},
  {"PreCommit1", "preCommit1", NULL},
  {"PreCommit2", "preCommit2", NULL},
  {"PreCommitting", "preCommit2", "preCommitWaitSectors"},
  {"SubmitPreCommitBatch", "preCommit2", "preCommitWaitSectors"},
  {"PreCommitBatchWait", "preCommit2", "preCommitWaitSectors"},
  {"PreCommitWait", "preCommit2", "preCommitWaitSectors"},
  {"WaitSeed", "waitSeed", NULL},
  {"Committing", "committing", NULL},
  {"CommitFinalize", "committing", NULL},
  {"SubmitCommit", "committing", "commitWaitSectors"},
  {"SubmitCommitAggregate", "committing", "commitWaitSectors"},
  {"CommitAggregateWait", "committing", "commitWaitSectors"},
  {"CommitWait", "committing", "commitWaitSectors"},
  {"FinalizeSector", "finalizeSector", NULL},
  {"Proving", "effectiveSectors", NULL},
  {"Available", "effectiveSectors", NULL},
  {"Faulty", "errorSectors", NULL},
  {"FaultReported", "errorSectors", NULL},
  {"Removed", "deletedSectors", NULL},
  {NULL, NULL, NULL},
};

/* Every counter, so that each is present (0) whenever the states are known. */
static const char *const counters[] = {
  "preCommit1", "preCommit2", "waitSeed", "committing", "finalizeSector",
  "preCommitWaitSectors", "commitWaitSectors", "effectiveSectors", "errorSectors",
  "deletedSectors", "failSectors", NULL,
};

const char *lotus_state_counter(const char *state, const char **sub) {
  if (sub) *sub = NULL;
  if (!state) return NULL;
  for (const struct state_row *r = states; r->state; r++)
    if (strcmp(r->state, state) == 0) {
      if (sub) *sub = r->sub;
      return r->counter;
    }
  size_t n = strlen(state);
  if (n > 6 && strcmp(state + n - 6, "Failed") == 0) return "failSectors";
  return NULL;
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
  "minerAvailable", "preCommitWait", "commitWait", "marketBalance", "marketLocked",
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
  "recoverySectors", "totalMessages", NULL,
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
  for (const char *const *c = counters; *c; c++) json_object_set_new(rec, *c, json_integer(0));
  json_int_t total = 0;
  const char *name;
  json_t *v;
  json_object_foreach((json_t *)st, name, v) {
    if (!json_is_integer(v)) continue;
    json_int_t n = json_integer_value(v);
    total += n;
    const char *sub;
    const char *c = lotus_state_counter(name, &sub);
    if (c) json_object_set_new(rec, c, json_integer(json_integer_value(json_object_get(rec, c)) + n));
    if (sub)
      json_object_set_new(rec, sub, json_integer(json_integer_value(json_object_get(rec, sub)) + n));
  }
  if (!have_total) json_object_set_new(rec, "totalSectors", json_integer(total));
}

static void add_miner(json_t *rec, const json_t *info, const json_t *sectors) {
  for (const char *const *f = plain_fields; *f; f++) copy_field(rec, info, *f);
  for (const char *const *f = fil_fields; *f; f++) {
    if (!json_object_get(info, *f)) continue;
    copy_field(rec, info, *f);
    copy_with(rec, info, *f, "Atto");
    copy_with(rec, info, *f, "Exact");
  }
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
