/* SPDX-License-Identifier: MIT */
/* parse_jobs.c -- `lotus-miner sealing jobs` (v0.5.0 .. miner/v1.36.1) -> {"jobs":[...]}.
 *
 * The output is a Go tabwriter table: the header's cell offsets are every row's cell offsets, so
 * rows are sliced by position (this keeps the empty Hostname cell of ret-wait rows in
 * v1.1.3-pre1). A row that does not line up (a pasted, re-spaced table) is split on blanks
 * instead. Eras: 6 columns without State (v0.5.0-v0.5.4, every job "running"), then 7 columns;
 * ids decimal / 12 hex / 8 hex; see docs/lotus.md#jobs.
 */
#include <string.h>

#include "lotus_internal.h"
#include "lotus_parse.h"

/* The fields of a job, in output order, and the header names that feed them. */
enum { F_ID, F_SECTOR, F_WORKER, F_HOST, F_TASK, F_STATE, F_TIME, F_N };
static const char *const field_key[F_N] = {"id", "sector", "worker", "hostName",
                                           "task", "state", "time"};
static const char *const field_header[F_N] = {"ID", "Sector", "Worker", "Hostname",
                                              "Task", "State", "Time"};

/* Beyond this a printed job time is lotus' "unknown start" (zero time or 1970): no seconds. */
#define JOB_TIME_UNKNOWN_NS (100000LL * 3600 * 1000000000LL)

struct jobs {
  json_t *list;
  bool have_header;
  struct lotus_cols cols;
  int col_of[F_N]; /* column index for each field, -1 when the era has no such column */
};

static bool is_header(const char *s, size_t n) {
  return lotus_prefix(s, n, "ID") && memmem(s, n, "Sector", 6) && memmem(s, n, "Task", 4);
}

static void set_header(struct jobs *j, const char *s, size_t n) {
  lotus_cols_from_header(&j->cols, s, n);
  j->have_header = true;
  for (int f = 0; f < F_N; f++) {
    j->col_of[f] = -1;
    for (unsigned k = 0; k < j->cols.n; k++)
      if (strcmp(j->cols.name[k], field_header[f]) == 0) j->col_of[f] = (int)k;
  }
}

static bool known_state(const char *s, size_t n) {
  static const char *const states[] = {"running", "prepared", "ret-wait", "returned",
                                       "ret-done", "assigned("};
  for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
    if (lotus_prefix(s, n, states[i])) return true;
  return false;
}

/* Build the job from cells indexed by field; false when it does not look like a job. */
static bool add_job(struct lotus_ctx *c, struct jobs *j, const char *cell[F_N],
                    const size_t celln[F_N]) {
  uint64_t sector;
  if (!cell[F_ID] || !celln[F_ID] || !cell[F_SECTOR] ||
      !lotus_uint(cell[F_SECTOR], celln[F_SECTOR], &sector) || !cell[F_TASK] || !celln[F_TASK])
    return false;
  json_t *job = json_object();
  for (int f = 0; f < F_N; f++) {
    if (f == F_STATE && !cell[f]) {
      json_object_set_new(job, "state", json_string("running")); /* v0.5.0-v0.5.4 */
      continue;
    }
    lotus_set_str(job, field_key[f], cell[f] ? cell[f] : "", cell[f] ? celln[f] : 0);
  }
  int64_t ns;
  if (cell[F_TIME] && ef_lotus_duration_parse(cell[F_TIME], celln[F_TIME], &ns) == 0 &&
      ns >= 0 && ns < JOB_TIME_UNKNOWN_NS)
    json_object_set_new(job, "seconds", json_real((double)ns / 1e9));
  json_array_append_new(j->list, job);
  (void)c;
  return true;
}

/* A row that does not line up with the header: split on blanks. */
static bool row_by_tokens(struct lotus_ctx *c, struct jobs *j, const char *s, size_t n) {
  const char *tok[F_N + 1];
  size_t tokn[F_N + 1];
  unsigned k = lotus_split_ws(s, n, tok, tokn, F_N);
  const char *cell[F_N] = {0};
  size_t celln[F_N] = {0};
  bool has_state = j->have_header ? j->col_of[F_STATE] >= 0 : true;
  unsigned ncols = has_state ? 7 : 6;
  unsigned t = 0;
  bool host_empty;
  if (k == ncols) {
    host_empty = false;
  } else if (k == ncols - 1) {
    host_empty = true;
  } else if (!j->have_header && k == 6 && !known_state(tok[4], tokn[4])) {
    has_state = false, host_empty = false; /* no header: the 6-column era */
  } else {
    return false;
  }
  for (int f = 0; f < F_N; f++) {
    if (f == F_STATE && !has_state) continue;
    if (f == F_HOST && host_empty) {
      cell[f] = "";
      continue;
    }
    cell[f] = tok[t];
    celln[f] = tokn[t];
    t++;
  }
  return add_job(c, j, cell, celln);
}

static void on_line(struct lotus_ctx *c, struct lotus_line *l, void *ud) {
  struct jobs *j = ud;
  const char *s = l->s;
  size_t n = l->n;
  const char *t = s;
  size_t tn = n;
  lotus_trim(&t, &tn);
  if (tn == 0) return;
  if (is_header(t, tn)) {
    set_header(j, s, n);
    return;
  }
  if (lotus_prefix(t, tn, "ERROR:")) {
    lotus_error(c, "lotus-miner: %.*s", (int)(tn > 200 ? 200 : tn), t);
    return;
  }
  if (j->have_header) {
    const char *cells[LOTUS_MAX_COLS];
    size_t celln[LOTUS_MAX_COLS];
    if (lotus_cols_slice(&j->cols, s, n, cells, celln)) {
      const char *cell[F_N] = {0};
      size_t cn[F_N] = {0};
      for (int f = 0; f < F_N; f++) {
        if (j->col_of[f] < 0) continue;
        cell[f] = cells[j->col_of[f]];
        cn[f] = celln[j->col_of[f]];
      }
      /* A lined-up row has a blank-free cell everywhere but Hostname (ret-wait rows). */
      bool ok = true;
      for (int f = 0; f < F_N; f++)
        if (cell[f] && f != F_HOST && (cn[f] == 0 || memchr(cell[f], ' ', cn[f]))) ok = false;
      if (ok && add_job(c, j, cell, cn)) return;
    }
  }
  if (!row_by_tokens(c, j, t, tn)) lotus_unrecognised(c, t, tn);
}

json_t *ef_lotus_parse_jobs(const char *buf, size_t len) {
  struct lotus_ctx c;
  lotus_ctx_init(&c);
  struct jobs j = {.list = json_array()};
  for (int f = 0; f < F_N; f++) j.col_of[f] = -1;
  lotus_each_line(&c, buf, len, on_line, &j);
  json_object_set_new(c.root, "jobs", j.list);
  if (!j.have_header && len > 0) {
    c.lineno = 0;
    lotus_error(&c, "no 'ID  Sector  Worker ...' header found");
  }
  return lotus_finish(&c);
}
