/* SPDX-License-Identifier: MIT */
/* sim.c -- the simulated miner: creation, the epoch-by-epoch sealing pipeline, balances, and the
 * JSON state file (see sim.h for the design).
 *
 * A sector walks Packing(AP) -> PreCommit1(PC1) -> PreCommit2(GET, PC2) -> PreCommitWait ->
 * WaitSeed -> Committing(C1, C2) -> CommitWait -> FinalizeSector(FIN) -> Proving. A job is
 * assigned to a worker, waits for a free slot (the worker's MaxConcurrent for that task), is
 * prepared for one epoch, runs for its task's duration (+-15%), sits one epoch in ret-wait and
 * then lets its sector move on. New sectors are pledged while the PC1 slots are not all busy.
 */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "edgefleet/error.h"
#include "mem.h"

#define GIB 1073741824LL
#define NANO_FIL 1000000000LL
#define DEPOSIT_NANO 30000000LL /* PreCommit deposit per sector, 0.03 FIL */
#define PLEDGE_NANO 190000000LL /* initial pledge per sector, 0.19 FIL */
#define VEST_EPOCHS 518400      /* 180 days */

const char *const sim_task_names[SIM_NTASK] = {"AP", "PC1", "PC2", "C1", "C2", "FIN", "GET"};
const char *const sim_state_names[SIM_S_COUNT] = {
  "Packing",        "PreCommit1", "PreCommit2", "PreCommitWait", "WaitSeed", "Committing",
  "CommitWait",     "FinalizeSector", "Proving", "Faulty", "Removed"};
const char *const sim_dur_names[SIM_NDUR] = {"AP", "PC1", "PC2", "C1", "C2", "FIN", "GET",
                                             "PreCommitWait", "WaitSeed", "CommitWait"};
static const char *const jstate_names[] = {"assigned", "prepared", "running", "ret-wait"};

static const int64_t default_dur[SIM_NDUR] = {
  [SIM_AP] = 300,  [SIM_PC1] = 12600, [SIM_PC2] = 1500,      [SIM_C1] = 60,
  [SIM_C2] = 1200, [SIM_FIN] = 300,   [SIM_GET] = 180,       [SIM_W_PCWAIT] = 300,
  [SIM_W_SEED] = 4500, [SIM_W_CWAIT] = 300};

/* What a running task takes from its worker (lotus' 32 GiB resource table, rounded). */
static const struct {
  int cpu; /* 0 = all cores */
  int64_t mem_min, mem_max;
  double gpu;
} task_res[SIM_NTASK] = {
  [SIM_AP] = {1, 2 * GIB, 4 * GIB, 0},     [SIM_PC1] = {1, 56 * GIB, 64 * GIB, 0},
  [SIM_PC2] = {32, 15 * GIB, 30 * GIB, 1}, [SIM_C1] = {1, 1 * GIB, 1 * GIB, 0},
  [SIM_C2] = {0, 64 * GIB, 190 * GIB, 1},  [SIM_FIN] = {1, 1 * GIB, 2 * GIB, 0},
  [SIM_GET] = {1, 1 * GIB, 1 * GIB, 0}};

/* The steps of each sealing state: a task, a wait (SIM_W_*), or -1 = state done. */
static const int steps[SIM_S_COUNT][3] = {
  [SIM_S_PACKING] = {SIM_AP, -1},      [SIM_S_PC1] = {SIM_PC1, -1},
  [SIM_S_PC2] = {SIM_GET, SIM_PC2, -1}, [SIM_S_PCWAIT] = {SIM_W_PCWAIT, -1},
  [SIM_S_WAITSEED] = {SIM_W_SEED, -1}, [SIM_S_COMMITTING] = {SIM_C1, SIM_C2, -1},
  [SIM_S_COMMITWAIT] = {SIM_W_CWAIT, -1}, [SIM_S_FINALIZE] = {SIM_FIN, -1},
  [SIM_S_PROVING] = {-1},              [SIM_S_FAULTY] = {-1},
  [SIM_S_REMOVED] = {-1}};

static int nsteps(int state) {
  int n = 0;
  while (steps[state][n] != -1)
    n++;
  return n;
}

static bool final_state(int st) {
  return st == SIM_S_PROVING || st == SIM_S_FAULTY || st == SIM_S_REMOVED;
}

/* ----- randomness ----- */

static uint64_t rnd(struct sim *s) { /* splitmix64 */
  uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static double unit(struct sim *s) { return (double)(rnd(s) >> 11) / 9007199254740992.0; }

static int64_t below(struct sim *s, int64_t n) { return n > 0 ? (int64_t)(rnd(s) % (uint64_t)n) : 0; }

/* `secs` of simulated time +-15%, in ms. */
static int64_t jitter_ms(struct sim *s, int64_t secs) {
  return (int64_t)((double)secs * 1000.0 * (0.85 + 0.3 * unit(s)));
}

/* ----- workers ----- */

static void make_uuid(struct sim *s, char out[40]) {
  uint64_t a = rnd(s), b = rnd(s);
  snprintf(out, 40, "%08x-%04x-4%03x-%04x-%012" PRIx64, (unsigned)(a >> 32),
           (unsigned)(a >> 16 & 0xffff), (unsigned)(a & 0xfff),
           (unsigned)(0x8000 | (b >> 48 & 0x3fff)), (uint64_t)(b & 0xffffffffffffULL));
}

static void make_worker(struct sim *s, struct sim_worker *w, int role, int n) {
  static const char *const prefix[] = {"pc1", "pc2", "c2"};
  memset(w, 0, sizeof *w);
  make_uuid(s, w->uuid);
  snprintf(w->host, sizeof w->host, "%s-%02d", prefix[role], n);
  w->cpus = 64;
  w->ram = 512 * GIB;
  w->base_mem = (8 + below(s, 16)) * GIB;
  switch (role) {
  case 0:
    w->swap = 64 * GIB;
    w->tasks = 1u << SIM_AP | 1u << SIM_PC1 | 1u << SIM_GET;
    w->limit[SIM_PC1] = 6;
    w->limit[SIM_AP] = 2;
    break;
  case 1:
    w->swap = 128 * GIB;
    w->gpus = 2;
    snprintf(w->gpu, sizeof w->gpu, "NVIDIA GeForce RTX 3090");
    w->tasks = 1u << SIM_PC2 | 1u << SIM_C1 | 1u << SIM_FIN | 1u << SIM_GET;
    w->limit[SIM_PC2] = 2;
    break;
  default:
    w->swap = 256 * GIB;
    w->gpus = 1;
    snprintf(w->gpu, sizeof w->gpu, "NVIDIA RTX A5000");
    w->tasks = 1u << SIM_C2;
    w->limit[SIM_C2] = 1;
    break;
  }
}

void sim_worker_usage(const struct sim *s, int w, struct sim_usage *u) {
  memset(u, 0, sizeof *u);
  const struct sim_worker *wk = &s->workers[w];
  for (int i = 0; i < s->njobs; i++) {
    const struct sim_job *j = &s->jobs[i];
    if (j->worker != w || (j->state != SIM_J_PREPARED && j->state != SIM_J_RUNNING))
      continue;
    u->count[j->task]++;
    u->cpu += task_res[j->task].cpu ? task_res[j->task].cpu : wk->cpus;
    u->mem_min += task_res[j->task].mem_min;
    u->mem_max += task_res[j->task].mem_max;
    u->gpu += task_res[j->task].gpu;
  }
}

/* The enabled worker accepting `task` with the fewest jobs of that task, or -1. */
static int pick_worker(const struct sim *s, int task) {
  int best = -1, best_load = 0;
  for (int w = 0; w < s->nworkers; w++) {
    if (s->workers[w].disabled || s->workers[w].gone || !(s->workers[w].tasks & 1u << task))
      continue;
    int load = 0;
    for (int i = 0; i < s->njobs; i++)
      load += s->jobs[i].worker == w && s->jobs[i].task == task;
    int cap = s->workers[w].limit[task] ? s->workers[w].limit[task] : 1;
    load = load * 64 / cap;
    if (best < 0 || load < best_load) {
      best = w;
      best_load = load;
    }
  }
  return best;
}

static bool usable(const struct sim *s, int w, int task) {
  return w >= 0 && w < s->nworkers && !s->workers[w].disabled && !s->workers[w].gone &&
         (s->workers[w].tasks & 1u << task);
}

/* ----- jobs and sectors ----- */

static struct sim_sector *find_sector(struct sim *s, int64_t id) {
  int lo = 0, hi = s->nsectors - 1; /* sectors are sorted by id */
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (s->sectors[mid].id == id)
      return &s->sectors[mid];
    if (s->sectors[mid].id < id)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return NULL;
}

static struct sim_sector *add_sector(struct sim *s, int64_t id, int state) {
  if (s->nsectors == s->capsectors) {
    s->capsectors = s->capsectors ? s->capsectors * 2 : 256;
    s->sectors = ef_realloc(s->sectors, (size_t)s->capsectors * sizeof *s->sectors);
  }
  struct sim_sector *sec = &s->sectors[s->nsectors++];
  memset(sec, 0, sizeof *sec);
  sec->id = id;
  sec->state = state;
  sec->worker = -1;
  return sec;
}

static struct sim_job *add_job(struct sim *s) {
  if (s->njobs == s->capjobs) {
    s->capjobs = s->capjobs ? s->capjobs * 2 : 64;
    s->jobs = ef_realloc(s->jobs, (size_t)s->capjobs * sizeof *s->jobs);
  }
  struct sim_job *j = &s->jobs[s->njobs++];
  memset(j, 0, sizeof *j);
  return j;
}

static void book_precommit(struct sim *s) {
  int64_t gas = 200000 + below(s, 1800000); /* 0.0002 .. 0.002 FIL */
  s->bal.precommit += DEPOSIT_NANO;
  s->bal.available -= DEPOSIT_NANO;
  s->bal.worker -= gas;
}

static void book_provecommit(struct sim *s, struct sim_sector *sec) {
  int64_t gas = 500000 + below(s, 4500000);
  s->bal.precommit -= DEPOSIT_NANO;
  s->bal.pledge += PLEDGE_NANO;
  s->bal.available -= PLEDGE_NANO - DEPOSIT_NANO;
  s->bal.worker -= gas;
  sec->expiration = sim_epoch(s) + 1555200 + below(s, 20000); /* ~540 days */
}

/* Move `sec` on as far as it can go at time `t`. */
static void step_sector(struct sim *s, struct sim_sector *sec, int64_t t) {
  while (!final_state(sec->state) && !sec->has_job) {
    int st = steps[sec->state][sec->step];
    if (st < 0) {
      if (sec->state == SIM_S_PCWAIT)
        book_precommit(s);
      if (sec->state == SIM_S_COMMITWAIT)
        book_provecommit(s, sec);
      sec->state++;
      sec->step = 0;
      sec->until = 0;
      if (sec->state != SIM_S_PC1 && sec->state != SIM_S_PC2)
        sec->worker = -1; /* PC1 runs where AP ran; GET is skipped where PC1 ran */
      if (sec->state == SIM_S_PROVING)
        s->proving++;
      continue;
    }
    if (st >= SIM_NTASK) { /* chain wait */
      if (sec->until == 0)
        sec->until = t + jitter_ms(s, s->dur[st]);
      if (t < sec->until)
        return;
      sec->step++;
      sec->until = 0;
      continue;
    }
    int w;
    if (st == SIM_GET) { /* choose the PC2 worker; fetch only when it is not the PC1 one */
      w = pick_worker(s, SIM_PC2);
      if (w < 0)
        return;
      if (w == sec->worker || !usable(s, w, SIM_GET)) {
        sec->worker = w;
        sec->step++;
        continue;
      }
      sec->worker = w;
    } else if ((st == SIM_PC1 || st == SIM_PC2) && usable(s, sec->worker, st)) {
      w = sec->worker;
    } else {
      /* AP goes where PC1 will have room, since PC1 then runs on the same worker */
      w = st == SIM_AP ? pick_worker(s, SIM_PC1) : -1;
      if (!usable(s, w, st))
        w = pick_worker(s, st);
      if (w < 0)
        return;
      if (st == SIM_AP)
        sec->worker = w;
    }
    struct sim_job *j = add_job(s);
    j->id = (uint32_t)rnd(s);
    if (j->id == 0)
      j->id = 1;
    j->sector = sec->id;
    j->worker = w;
    j->task = st;
    j->state = SIM_J_ASSIGNED;
    j->queued = t;
    sec->has_job = true;
    if (st == SIM_PC1)
      sec->worker = w;
  }
}

static int cmp_queue(const void *a, const void *b) {
  const struct sim_job *x = *(struct sim_job *const *)a, *y = *(struct sim_job *const *)b;
  if (x->queued != y->queued)
    return x->queued < y->queued ? -1 : 1;
  return x->sector < y->sector ? -1 : x->sector > y->sector;
}

int sim_worker_queue(const struct sim *s, int w, struct sim_job ***out) {
  struct sim_job **q = ef_malloc(((size_t)s->njobs + 1) * sizeof *q);
  int n = 0;
  for (int i = 0; i < s->njobs; i++)
    if (s->jobs[i].worker == w && s->jobs[i].state == SIM_J_ASSIGNED)
      q[n++] = &s->jobs[i];
  qsort(q, (size_t)n, sizeof *q, cmp_queue);
  *out = q;
  return n;
}

/* ----- deadlines -----
 * The proving period (2880 epochs, 48 deadlines of 60) starts at an offset taken from the miner
 * id. A Proving or Faulty sector sits in deadline (id - 1) % 48; the sectors of a deadline fill
 * partitions of 2349 in id order. When a deadline's window closes:
 *   - if it was to be missed (--miss-deadline), every Proving sector of it turns Faulty (the
 *     faults are declared after the window: nothing of it was proven this period);
 *   - otherwise its recovering Faulty sectors are Proving again and its bad (unreadable, see
 *     --bad-sector) Proving sectors are skipped and turn Faulty;
 *   - then recoveries are declared for the deadline after the one now open: its Faulty sectors
 *     that are not bad become recovering.
 * A deadline before the current one in this period has all its partitions proven unless it is
 * the one missed this period. */

static int64_t period_offset(const struct sim *s) {
  return atoll(s->miner + 2) % SIM_PERIOD_EPOCHS;
}

int sim_sector_deadline(int64_t id) {
  return (int)((id > 0 ? id - 1 : 0) % SIM_DEADLINES);
}

bool sim_in_deadline(const struct sim_sector *sec) {
  return sec->state == SIM_S_PROVING || sec->state == SIM_S_FAULTY;
}

static void dlinfo_at(const struct sim *s, int64_t epoch, struct sim_dlinfo *d) {
  int64_t off = period_offset(s);
  int64_t into = ((epoch - off) % SIM_PERIOD_EPOCHS + SIM_PERIOD_EPOCHS) % SIM_PERIOD_EPOCHS;
  d->epoch = epoch;
  d->period_start = epoch - into;
  d->index = into / SIM_DL_EPOCHS;
  d->open = d->period_start + d->index * SIM_DL_EPOCHS;
  d->close = d->open + SIM_DL_EPOCHS;
  d->challenge = d->open - 20;
  d->fault_cutoff = d->open - 70;
}

void sim_deadline_info(const struct sim *s, struct sim_dlinfo *d) {
  dlinfo_at(s, sim_epoch(s), d);
}

bool sim_sector_is_bad(const struct sim *s, int64_t id) {
  int lo = 0, hi = s->nbad - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (s->bad[mid] == id)
      return true;
    if (s->bad[mid] < id)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return false;
}

void sim_deadlines(const struct sim *s, struct sim_dl out[SIM_DEADLINES]) {
  memset(out, 0, SIM_DEADLINES * sizeof *out);
  for (int i = 0; i < s->nsectors; i++) {
    const struct sim_sector *sec = &s->sectors[i];
    if (!sim_in_deadline(sec))
      continue;
    struct sim_dl *d = &out[sim_sector_deadline(sec->id)];
    d->sectors++;
    d->faults += sec->state == SIM_S_FAULTY;
    d->recoveries += sec->state == SIM_S_FAULTY && sec->recovering;
  }
  struct sim_dlinfo di;
  sim_deadline_info(s, &di);
  for (int k = 0; k < SIM_DEADLINES; k++) {
    out[k].partitions = (int)((out[k].sectors + SIM_PART_SECTORS - 1) / SIM_PART_SECTORS);
    bool missed = s->missed_dl == k && s->missed_period == di.period_start;
    out[k].proven = k < di.index && !missed ? out[k].partitions : 0;
  }
}

static void deadline_tick(struct sim *s, int64_t t) {
  int64_t epoch = (t - SIM_GENESIS_MS) / SIM_EPOCH_MS;
  if (((epoch - period_offset(s)) % SIM_DL_EPOCHS + SIM_DL_EPOCHS) % SIM_DL_EPOCHS != 0)
    return;
  struct sim_dlinfo now, closed;
  dlinfo_at(s, epoch, &now);
  dlinfo_at(s, epoch - 1, &closed);
  int dl = (int)closed.index, declare = (int)(now.index + 1) % SIM_DEADLINES;
  bool miss = s->miss_deadline == dl;
  if (miss) {
    s->miss_deadline = -1;
    s->missed_dl = dl;
    s->missed_period = closed.period_start;
  }
  for (int i = 0; i < s->nsectors; i++) {
    struct sim_sector *sec = &s->sectors[i];
    if (!sim_in_deadline(sec))
      continue;
    int sdl = sim_sector_deadline(sec->id);
    if (sdl == dl) {
      if (sec->state == SIM_S_PROVING && (miss || sim_sector_is_bad(s, sec->id))) {
        sec->state = SIM_S_FAULTY;
        sec->recovering = false;
        s->proving--;
      } else if (!miss && sec->state == SIM_S_FAULTY && sec->recovering) {
        sec->state = SIM_S_PROVING;
        sec->recovering = false;
        s->proving++;
      }
    } else if (sdl == declare && sec->state == SIM_S_FAULTY && !sim_sector_is_bad(s, sec->id)) {
      sec->recovering = true;
    }
  }
}

static void tick(struct sim *s, int64_t t) {
  /* 1. job phases */
  for (int i = 0; i < s->njobs;) {
    struct sim_job *j = &s->jobs[i];
    if (s->workers[j->worker].gone) { /* a vanished worker's jobs stand still */
      i++;
      continue;
    }
    if (j->state == SIM_J_RETWAIT && t >= j->end) {
      struct sim_sector *sec = find_sector(s, j->sector);
      if (sec) {
        sec->has_job = false;
        sec->step++;
      }
      s->jobs[i] = s->jobs[--s->njobs];
      continue;
    }
    if (j->state == SIM_J_RUNNING && t >= j->end) {
      j->state = SIM_J_RETWAIT;
      j->end = t + SIM_EPOCH_MS;
    } else if (j->state == SIM_J_PREPARED && t >= j->start + SIM_EPOCH_MS) {
      j->state = SIM_J_RUNNING;
      j->end = j->start + jitter_ms(s, s->dur[j->task]);
    }
    i++;
  }
  /* 2. scheduling: a free slot takes the oldest assigned job of its task */
  for (int w = 0; w < s->nworkers; w++) {
    if (s->workers[w].disabled || s->workers[w].gone)
      continue;
    struct sim_usage u;
    sim_worker_usage(s, w, &u);
    struct sim_job **q;
    int n = sim_worker_queue(s, w, &q);
    for (int i = 0; i < n; i++) {
      int lim = s->workers[w].limit[q[i]->task];
      if (lim && u.count[q[i]->task] >= lim)
        continue;
      u.count[q[i]->task]++;
      q[i]->state = SIM_J_PREPARED;
      q[i]->start = t;
    }
    ef_free(q);
  }
  /* 3. sectors */
  while (s->first_open < s->nsectors && final_state(s->sectors[s->first_open].state))
    s->first_open++;
  int early = 0;
  for (int i = s->first_open; i < s->nsectors; i++) {
    step_sector(s, &s->sectors[i], t);
    early += s->sectors[i].state <= SIM_S_PC1;
  }
  /* 4. pledge while PC1 slots are free */
  int slots = 0;
  for (int w = 0; w < s->nworkers; w++)
    if (!s->workers[w].disabled && !s->workers[w].gone && (s->workers[w].tasks & 1u << SIM_PC1))
      slots += s->workers[w].limit[SIM_PC1] ? s->workers[w].limit[SIM_PC1] : 1;
  if (early < slots + 1 && below(s, 4) == 0) {
    struct sim_sector *sec = add_sector(s, s->next_sector++, SIM_S_PACKING);
    step_sector(s, sec, t);
  }
  /* 5. WindowPoSt: a deadline's window closes */
  deadline_tick(s, t);
  /* 6. chain and money */
  if (s->verified > s->proving)
    s->verified = s->proving;
  double raw = (double)s->proving * SIM_SECTOR_SIZE;
  double qa = raw + 9.0 * (double)s->verified * SIM_SECTOR_SIZE;
  if (raw >= SIM_MIN_POWER && unit(s) < -expm1(-5.0 * qa / s->net_qa)) {
    int64_t reward = 4 * NANO_FIL + below(s, NANO_FIL);
    s->bal.available += reward / 4;
    s->bal.vesting += reward - reward / 4;
    s->blocks_won++;
  }
  int64_t rel = s->bal.vesting / VEST_EPOCHS;
  s->bal.vesting -= rel;
  s->bal.available += rel;
  if (s->bal.worker < NANO_FIL)
    s->bal.worker += 50 * NANO_FIL;
  int64_t fee = (int64_t)((double)s->basefee_atto * (0.9 + 0.22 * unit(s)));
  s->basefee_atto = fee < 100 ? 100 : fee > 5000000000LL ? 5000000000LL : fee;
  s->net_raw *= 1.0 + (unit(s) - 0.5) * 2e-6;
  s->net_qa *= 1.0 + (unit(s) - 0.5) * 2e-6;
}

static void run_until(struct sim *s, int64_t target) {
  s->proving = sim_count_state(s, SIM_S_PROVING);
  while (s->next_tick <= target) {
    s->now = s->next_tick;
    tick(s, s->next_tick);
    s->next_tick += SIM_EPOCH_MS;
  }
  s->now = target;
}

int64_t sim_epoch(const struct sim *s) { return (s->now - SIM_GENESIS_MS) / SIM_EPOCH_MS; }

int64_t sim_count_state(const struct sim *s, int state) {
  int64_t n = 0;
  for (int i = 0; i < s->nsectors; i++)
    n += s->sectors[i].state == state;
  return n;
}

struct sim *sim_create(const struct sim_options *o, int64_t wall) {
  struct sim *s = ef_calloc(1, sizeof *s);
  snprintf(s->miner, sizeof s->miner, "%s", o->miner);
  snprintf(s->owner, sizeof s->owner, "%.2s%lld", o->miner, atoll(o->miner + 2) + 1);
  s->seed = o->seed;
  s->rng = o->seed;
  s->speed = o->speed > 0 ? o->speed : 1;
  for (int i = 0; i < SIM_NDUR; i++)
    s->dur[i] = o->dur[i] > 0 ? o->dur[i] : default_dur[i];

  s->nworkers = o->workers;
  s->workers = ef_calloc((size_t)s->nworkers, sizeof *s->workers);
  int per_role[3] = {0};
  for (int i = 0; i < s->nworkers; i++) {
    int role = i % 3;
    make_worker(s, &s->workers[i], role, ++per_role[role]);
  }
  /* fewer than three workers: the last one also takes what nobody does */
  struct sim_worker *last = &s->workers[s->nworkers - 1];
  for (int t = 0; t < SIM_NTASK; t++) {
    bool any = false;
    for (int i = 0; i < s->nworkers; i++)
      any |= (s->workers[i].tasks & 1u << t) != 0;
    if (!any) {
      last->tasks |= 1u << t;
      last->limit[t] = t == SIM_PC1 ? 6 : t == SIM_PC2 || t == SIM_C2 ? 1 : 0;
    }
  }
  if (last->tasks & (1u << SIM_C2 | 1u << SIM_PC2) && last->gpus == 0) {
    last->gpus = 1;
    snprintf(last->gpu, sizeof last->gpu, "NVIDIA GeForce RTX 3090");
  }

  int64_t start = wall / 1000 * 1000 - 86400000LL;
  s->start = start;
  s->now = start;
  int64_t since = start - SIM_GENESIS_MS;
  s->next_tick = SIM_GENESIS_MS + (since + SIM_EPOCH_MS - 1) / SIM_EPOCH_MS * SIM_EPOCH_MS;
  s->basefee_atto = 100;
  s->net_raw = 15.4 * 1152921504606846976.0; /* 15.4 EiB */
  s->net_qa = 26.9 * 1152921504606846976.0;

  int64_t epoch = sim_epoch(s);
  for (int i = 1; i <= o->sectors; i++) {
    struct sim_sector *sec = add_sector(s, i, SIM_S_PROVING);
    sec->expiration = epoch + 100000 + below(s, 1400000);
  }
  for (int k = 0; k < 3 && o->sectors > 10; k++)
    s->sectors[below(s, o->sectors)].state = SIM_S_REMOVED;
  s->miss_deadline = s->missed_dl = -1;
  for (int k = 0; k < 2 && o->sectors > 10; k++) { /* unreadable: they stay Faulty */
    struct sim_sector *f = &s->sectors[below(s, o->sectors)];
    f->state = SIM_S_FAULTY;
    if (!sim_sector_is_bad(s, f->id))
      sim_set_bad(s, f->id, true, NULL, 0);
  }
  s->next_sector = o->sectors + 1;
  s->verified = o->sectors / 2;
  s->bal.pledge = (int64_t)o->sectors * PLEDGE_NANO;
  s->bal.vesting = (int64_t)o->sectors * 2 * NANO_FIL + below(s, 100 * NANO_FIL);
  s->bal.available = 500 * NANO_FIL + below(s, 500 * NANO_FIL);
  s->bal.worker = 50 * NANO_FIL + below(s, NANO_FIL);
  s->bal.control = 12 * NANO_FIL + below(s, NANO_FIL);

  run_until(s, start + 86400000LL); /* a day of history: the pipeline is full */
  s->wall = wall;
  return s;
}

void sim_advance(struct sim *s, int64_t wall) {
  int64_t elapsed = wall - s->wall;
  if (elapsed > 0) {
    double dt = (double)elapsed * s->speed;
    if (dt > (double)SIM_MAX_STEP_MS)
      dt = (double)SIM_MAX_STEP_MS;
    run_until(s, s->now + (int64_t)dt);
  }
  s->wall = wall;
}

void sim_free(struct sim **sp) {
  struct sim *s = *sp;
  if (!s)
    return;
  ef_free(s->workers);
  ef_free(s->jobs);
  ef_free(s->sectors);
  ef_free(s->bad);
  ef_free(s);
  *sp = NULL;
}

/* ----- scenarios ----- */

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

bool sim_set_bad(struct sim *s, int64_t id, bool bad, char *err, size_t errlen) {
  if (bad == sim_sector_is_bad(s, id))
    return true;
  if (bad) {
    if (!find_sector(s, id)) {
      if (err)
        snprintf(err, errlen, "no sector %lld", (long long)id);
      return false;
    }
    s->bad = ef_realloc(s->bad, (size_t)(s->nbad + 1) * sizeof *s->bad);
    s->bad[s->nbad++] = id;
    qsort(s->bad, (size_t)s->nbad, sizeof *s->bad, cmp_i64);
    return true;
  }
  int k = 0;
  for (int i = 0; i < s->nbad; i++)
    if (s->bad[i] != id)
      s->bad[k++] = s->bad[i];
  s->nbad = k;
  return true;
}

bool sim_set_gone(struct sim *s, const char *host, bool gone, char *err, size_t errlen) {
  for (int w = 0; w < s->nworkers; w++)
    if (strcmp(s->workers[w].host, host) == 0) {
      s->workers[w].gone = gone;
      return true;
    }
  snprintf(err, errlen, "no worker with host name \"%s\"", host);
  return false;
}

/* ----- addresses and messages ----- */

static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* n characters of `alphabet` drawn from a hash chain seeded with h. */
static void hash_chars(uint64_t h, const char *alphabet, int n, char *out) {
  size_t len = strlen(alphabet);
  for (int i = 0; i < n; i++) {
    h = mix(h + 0x9e3779b97f4a7c15ULL);
    out[i] = alphabet[h % len];
  }
  out[n] = '\0';
}

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

void sim_address(const struct sim *s, int which, char id[32], char key[48]) {
  long long base = atoll(s->miner + 2);
  snprintf(id, 32, "%.1s0%lld", s->miner, base + 1 + which);
  key[0] = s->miner[0];
  key[1] = '1';
  hash_chars(mix((uint64_t)(base + 1 + which)), b32, 39, key + 2);
}

void sim_peer_id(const struct sim *s, char out[64]) {
  memcpy(out, "12D3KooW", 8);
  hash_chars(mix((uint64_t)atoll(s->miner + 2) ^ 0x7065657269640000ULL),
             "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", 44, out + 8);
}

int sim_pending(const struct sim *s, struct sim_msg **out) {
  int n = 0;
  *out = NULL;
  for (int i = s->first_open; i < s->nsectors; i++) {
    const struct sim_sector *sec = &s->sectors[i];
    if (sec->state != SIM_S_PCWAIT && sec->state != SIM_S_COMMITWAIT)
      continue;
    *out = ef_realloc(*out, (size_t)(n + 1) * sizeof **out);
    struct sim_msg *m = &(*out)[n++];
    m->sector = sec->id;
    m->method = sec->state == SIM_S_PCWAIT ? 6 : 7;
    m->nonce = sec->id * 2 + (m->method == 7);
    memcpy(m->cid, "bafy2bzace", 10);
    hash_chars(mix((uint64_t)m->nonce * 31 + (uint64_t)atoll(s->miner + 2)), b32, 52, m->cid + 10);
  }
  return n;
}

int64_t sim_wallet_nano(const struct sim *s, int which) {
  return which == SIM_ADDR_WORKER ? s->bal.worker : which == SIM_ADDR_CONTROL ? s->bal.control : 0;
}

/* ----- state file ----- */

static int name_index(const char *const *names, int n, const char *name) {
  for (int i = 0; name && i < n; i++)
    if (strcmp(names[i], name) == 0)
      return i;
  return -1;
}

static json_t *task_list(unsigned mask) {
  json_t *a = json_array();
  for (int t = 0; t < SIM_NTASK; t++)
    if (mask & 1u << t)
      json_array_append_new(a, json_string(sim_task_names[t]));
  return a;
}

int sim_save(const struct sim *s, const char *path, char *err, size_t errlen) {
  char u64[2][24];
  snprintf(u64[0], sizeof u64[0], "%" PRIu64, s->seed);
  snprintf(u64[1], sizeof u64[1], "%" PRIu64, s->rng);
  json_t *root = json_pack(
    "{s:s, s:s, s:s, s:s, s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f}",
    "format", "fake-lotus-miner/1", "miner", s->miner, "owner", s->owner, "seed", u64[0], "rng",
    u64[1], "speed", s->speed, "wall", (json_int_t)s->wall, "now", (json_int_t)s->now,
    "next_tick", (json_int_t)s->next_tick, "start", (json_int_t)s->start, "next_sector",
    (json_int_t)s->next_sector, "verified", (json_int_t)s->verified, "basefee",
    (json_int_t)s->basefee_atto, "blocks_won", (json_int_t)s->blocks_won, "net_raw", s->net_raw,
    "net_qa", s->net_qa);
  json_object_set_new(root, "balance",
    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "available",
              (json_int_t)s->bal.available, "precommit", (json_int_t)s->bal.precommit, "pledge",
              (json_int_t)s->bal.pledge, "vesting", (json_int_t)s->bal.vesting, "worker",
              (json_int_t)s->bal.worker, "control", (json_int_t)s->bal.control, "escrow",
              (json_int_t)s->bal.escrow, "locked", (json_int_t)s->bal.locked));
  json_t *dur = json_object();
  for (int i = 0; i < SIM_NDUR; i++)
    json_object_set_new(dur, sim_dur_names[i], json_integer(s->dur[i]));
  json_object_set_new(root, "durations", dur);

  json_t *workers = json_array();
  for (int i = 0; i < s->nworkers; i++) {
    const struct sim_worker *w = &s->workers[i];
    json_t *lim = json_object();
    for (int t = 0; t < SIM_NTASK; t++)
      if (w->limit[t])
        json_object_set_new(lim, sim_task_names[t], json_integer(w->limit[t]));
    json_array_append_new(workers,
      json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:o, s:o, s:b}", "uuid", w->uuid,
                "host", w->host, "gpu", w->gpu, "cpus", w->cpus, "gpus", w->gpus, "ram",
                (json_int_t)w->ram, "swap", (json_int_t)w->swap, "base_mem",
                (json_int_t)w->base_mem, "tasks", task_list(w->tasks), "limits", lim,
                "disabled", w->disabled));
    if (w->gone)
      json_object_set_new(json_array_get(workers, json_array_size(workers) - 1), "gone", json_true());
  }
  json_object_set_new(root, "workers", workers);

  json_t *jobs = json_array();
  for (int i = 0; i < s->njobs; i++) {
    const struct sim_job *j = &s->jobs[i];
    char id[12];
    snprintf(id, sizeof id, "%08x", j->id);
    json_array_append_new(jobs,
      json_pack("{s:s, s:I, s:i, s:s, s:s, s:I, s:I, s:I}", "id", id, "sector",
                (json_int_t)j->sector, "worker", j->worker, "task", sim_task_names[j->task],
                "state", jstate_names[j->state], "queued", (json_int_t)j->queued, "start",
                (json_int_t)j->start, "end", (json_int_t)j->end));
  }
  json_object_set_new(root, "jobs", jobs);

  json_t *sectors = json_array();
  for (int i = 0; i < s->nsectors; i++) {
    const struct sim_sector *sec = &s->sectors[i];
    json_array_append_new(sectors,
      json_pack("[I, s, i, I, I, i]", (json_int_t)sec->id, sim_state_names[sec->state],
                sec->step, (json_int_t)sec->until, (json_int_t)sec->expiration, sec->worker));
    if (sec->recovering) /* a 7th element, only when set */
      json_array_append_new(json_array_get(sectors, json_array_size(sectors) - 1), json_true());
  }
  json_t *bad = json_array();
  for (int i = 0; i < s->nbad; i++)
    json_array_append_new(bad, json_integer(s->bad[i]));
  json_object_set_new(root, "bad_sectors", bad);
  json_object_set_new(root, "miss_deadline", json_integer(s->miss_deadline));
  json_object_set_new(root, "missed_deadline", json_integer(s->missed_dl));
  json_object_set_new(root, "missed_period", json_integer(s->missed_period));
  json_object_set_new(root, "sectors", sectors);

  int rc = 0;
  char *tmp = ef_asprintf("%s.tmp.%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
    rc = EF_EIO;
    goto fail_open;
  }
  if (json_dumpfd(root, fd, JSON_COMPACT) != 0 || write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
    rc = EF_EIO;
    goto fail_write;
  }
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    snprintf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
    unlink(tmp);
    rc = EF_EIO;
  }
  ef_free(tmp);
  json_decref(root);
  return rc;

fail_write:
  close(fd);
  unlink(tmp);
fail_open:
  ef_free(tmp);
  json_decref(root);
  return rc;
}

/* Field reader that remembers the first problem. */
struct rd {
  char *err;
  size_t len;
  bool bad;
};

static void rd_fail(struct rd *r, const char *what, const char *key) {
  if (!r->bad)
    snprintf(r->err, r->len, "%s \"%s\"", what, key);
  r->bad = true;
}

static int64_t rd_int(struct rd *r, const json_t *o, const char *key, int64_t min, int64_t max) {
  json_t *v = json_object_get(o, key);
  if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
    rd_fail(r, "missing or out-of-range integer", key);
    return min;
  }
  return json_integer_value(v);
}

static double rd_real(struct rd *r, const json_t *o, const char *key, double min, double max) {
  json_t *v = json_object_get(o, key);
  double d = json_number_value(v);
  if (!json_is_number(v) || !(d >= min && d <= max)) {
    rd_fail(r, "missing or out-of-range number", key);
    return min;
  }
  return d;
}

static void rd_str(struct rd *r, const json_t *o, const char *key, char *out, size_t outlen) {
  json_t *v = json_object_get(o, key);
  if (!json_is_string(v) || json_string_length(v) >= outlen) {
    rd_fail(r, "missing or too long string", key);
    out[0] = '\0';
    return;
  }
  memcpy(out, json_string_value(v), json_string_length(v) + 1);
}

static uint64_t rd_u64(struct rd *r, const json_t *o, const char *key) {
  const char *v = json_string_value(json_object_get(o, key));
  char *end;
  errno = 0;
  uint64_t x = v ? strtoull(v, &end, 10) : 0;
  if (!v || !*v || *end || errno)
    rd_fail(r, "missing or bad decimal string", key);
  return x;
}

static void load_workers(struct rd *r, struct sim *s, const json_t *arr) {
  s->nworkers = (int)json_array_size(arr);
  if (!json_is_array(arr) || s->nworkers < 1 || s->nworkers > 64) {
    rd_fail(r, "need 1..64 entries in", "workers");
    s->nworkers = 0;
    return;
  }
  s->workers = ef_calloc((size_t)s->nworkers, sizeof *s->workers);
  for (int i = 0; i < s->nworkers && !r->bad; i++) {
    struct sim_worker *w = &s->workers[i];
    const json_t *o = json_array_get(arr, (size_t)i);
    rd_str(r, o, "uuid", w->uuid, sizeof w->uuid);
    rd_str(r, o, "host", w->host, sizeof w->host);
    rd_str(r, o, "gpu", w->gpu, sizeof w->gpu);
    w->cpus = (int)rd_int(r, o, "cpus", 1, 4096);
    w->gpus = (int)rd_int(r, o, "gpus", 0, 64);
    w->ram = rd_int(r, o, "ram", GIB, INT64_MAX / 4);
    w->swap = rd_int(r, o, "swap", 0, INT64_MAX / 4);
    w->base_mem = rd_int(r, o, "base_mem", 0, INT64_MAX / 4);
    w->disabled = json_is_true(json_object_get(o, "disabled"));
    w->gone = json_is_true(json_object_get(o, "gone"));
    const json_t *tasks = json_object_get(o, "tasks"), *v;
    size_t k;
    if (!json_is_array(tasks))
      rd_fail(r, "missing array", "tasks");
    json_array_foreach(tasks, k, v) {
      int t = name_index(sim_task_names, SIM_NTASK, json_string_value(v));
      if (t < 0)
        rd_fail(r, "unknown task in", "tasks");
      else
        w->tasks |= 1u << t;
    }
    const json_t *lim = json_object_get(o, "limits");
    const char *key;
    if (!json_is_object(lim))
      rd_fail(r, "missing object", "limits");
    json_object_foreach((json_t *)lim, key, v) {
      int t = name_index(sim_task_names, SIM_NTASK, key);
      if (t < 0 || !json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1024)
        rd_fail(r, "bad entry in", "limits");
      else
        w->limit[t] = (int)json_integer_value(v);
    }
  }
}

static int cmp_sector(const void *a, const void *b) {
  const struct sim_sector *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}

static void load_lists(struct rd *r, struct sim *s, const json_t *root) {
  const json_t *arr = json_object_get(root, "sectors"), *v;
  size_t k;
  if (!json_is_array(arr))
    rd_fail(r, "missing array", "sectors");
  json_array_foreach(arr, k, v) {
    json_int_t id, until, exp;
    const char *state;
    int step, worker;
    if (r->bad)
      break;
    json_t *rec7 = json_array_size(v) == 7 ? json_array_get(v, 6) : NULL;
    if ((json_array_size(v) == 7 && !json_is_boolean(rec7)) ||
        json_unpack((json_t *)v, "[I, s, i, I, I, i*]", &id, &state, &step, &until, &exp, &worker) != 0 ||
        id < 0 || name_index(sim_state_names, SIM_S_COUNT, state) < 0 || step < 0 || step > 2 ||
        worker < -1 || worker >= s->nworkers) {
      rd_fail(r, "bad entry in", "sectors");
      break;
    }
    struct sim_sector *sec = add_sector(s, id, name_index(sim_state_names, SIM_S_COUNT, state));
    if (step > nsteps(sec->state)) {
      rd_fail(r, "bad step in", "sectors");
      break;
    }
    sec->step = step;
    sec->recovering = json_is_true(rec7) && sec->state == SIM_S_FAULTY;
    sec->until = until;
    sec->expiration = exp;
    sec->worker = worker;
  }
  qsort(s->sectors, (size_t)s->nsectors, sizeof *s->sectors, cmp_sector);
  for (int i = 1; i < s->nsectors; i++)
    if (s->sectors[i].id == s->sectors[i - 1].id)
      rd_fail(r, "duplicate sector id in", "sectors");

  arr = json_object_get(root, "jobs");
  if (!json_is_array(arr))
    rd_fail(r, "missing array", "jobs");
  json_array_foreach(arr, k, v) {
    if (r->bad)
      break;
    struct sim_job *j = add_job(s);
    char id[12], task[8], state[12];
    rd_str(r, v, "id", id, sizeof id);
    rd_str(r, v, "task", task, sizeof task);
    rd_str(r, v, "state", state, sizeof state);
    j->sector = rd_int(r, v, "sector", 0, INT64_MAX);
    j->worker = (int)rd_int(r, v, "worker", 0, s->nworkers - 1);
    j->queued = rd_int(r, v, "queued", 0, INT64_MAX);
    j->start = rd_int(r, v, "start", 0, INT64_MAX);
    j->end = rd_int(r, v, "end", 0, INT64_MAX);
    char *end;
    j->id = (uint32_t)strtoul(id, &end, 16);
    j->task = name_index(sim_task_names, SIM_NTASK, task);
    j->state = name_index(jstate_names, 4, state);
    struct sim_sector *sec = find_sector(s, j->sector);
    if (r->bad)
      break;
    if (*end || !id[0] || j->task < 0 || j->state < 0 || !sec || sec->has_job ||
        final_state(sec->state)) {
      rd_fail(r, "bad entry (id, task, state or sector) in", "jobs");
      break;
    }
    sec->has_job = true;
  }
}

int sim_load(const char *path, struct sim **out, char *err, size_t errlen) {
  *out = NULL;
  if (access(path, F_OK) != 0 && errno == ENOENT)
    return EF_ENOENT;
  json_error_t jerr;
  json_t *root = json_load_file(path, 0, &jerr);
  if (!root) {
    snprintf(err, errlen, "line %d: %s", jerr.line, jerr.text);
    return EF_EPARSE;
  }
  struct rd r = {err, errlen, false};
  struct sim *s = ef_calloc(1, sizeof *s);
  const char *fmt = json_string_value(json_object_get(root, "format"));
  if (!fmt || strcmp(fmt, "fake-lotus-miner/1") != 0)
    rd_fail(&r, "not a fake-lotus-miner/1 state: bad", "format");
  rd_str(&r, root, "miner", s->miner, sizeof s->miner);
  rd_str(&r, root, "owner", s->owner, sizeof s->owner);
  s->seed = rd_u64(&r, root, "seed");
  s->rng = rd_u64(&r, root, "rng");
  s->speed = rd_real(&r, root, "speed", 1e-6, 1e9);
  s->wall = rd_int(&r, root, "wall", 0, INT64_MAX / 2);
  s->now = rd_int(&r, root, "now", SIM_GENESIS_MS, INT64_MAX / 2);
  s->next_tick = rd_int(&r, root, "next_tick", SIM_GENESIS_MS, INT64_MAX / 2);
  s->start = rd_int(&r, root, "start", 0, INT64_MAX / 2);
  s->next_sector = rd_int(&r, root, "next_sector", 0, INT64_MAX / 2);
  s->verified = rd_int(&r, root, "verified", 0, INT64_MAX / 2);
  s->basefee_atto = rd_int(&r, root, "basefee", 0, INT64_MAX / 2);
  s->blocks_won = rd_int(&r, root, "blocks_won", 0, INT64_MAX / 2);
  s->net_raw = rd_real(&r, root, "net_raw", 1, 1e30);
  s->net_qa = rd_real(&r, root, "net_qa", 1, 1e30);
  const json_t *bal = json_object_get(root, "balance");
  int64_t lo = INT64_MIN / 4, hi = INT64_MAX / 4;
  s->bal.available = rd_int(&r, bal, "available", lo, hi);
  s->bal.precommit = rd_int(&r, bal, "precommit", lo, hi);
  s->bal.pledge = rd_int(&r, bal, "pledge", lo, hi);
  s->bal.vesting = rd_int(&r, bal, "vesting", lo, hi);
  s->bal.worker = rd_int(&r, bal, "worker", lo, hi);
  s->bal.control = rd_int(&r, bal, "control", lo, hi);
  s->bal.escrow = rd_int(&r, bal, "escrow", lo, hi);
  s->bal.locked = rd_int(&r, bal, "locked", lo, hi);
  const json_t *dur = json_object_get(root, "durations");
  for (int i = 0; i < SIM_NDUR; i++)
    s->dur[i] = rd_int(&r, dur, sim_dur_names[i], 1, 365LL * 86400);
  if (!r.bad)
    load_workers(&r, s, json_object_get(root, "workers"));
  if (!r.bad)
    load_lists(&r, s, root);
  /* scenario fields (optional: states written before they existed have none) */
  s->miss_deadline = s->missed_dl = -1;
  if (json_object_get(root, "miss_deadline"))
    s->miss_deadline = (int)rd_int(&r, root, "miss_deadline", -1, SIM_DEADLINES - 1);
  if (json_object_get(root, "missed_deadline"))
    s->missed_dl = (int)rd_int(&r, root, "missed_deadline", -1, SIM_DEADLINES - 1);
  if (json_object_get(root, "missed_period"))
    s->missed_period = rd_int(&r, root, "missed_period", INT64_MIN / 4, INT64_MAX / 4);
  const json_t *bad = json_object_get(root, "bad_sectors"), *bv;
  size_t bk;
  if (bad && !json_is_array(bad))
    rd_fail(&r, "not an array:", "bad_sectors");
  json_array_foreach(bad, bk, bv) {
    if (r.bad)
      break;
    if (!json_is_integer(bv) || !sim_set_bad(s, json_integer_value(bv), true, NULL, 0))
      rd_fail(&r, "bad entry (not a sector id) in", "bad_sectors");
  }
  json_decref(root);
  if (r.bad) {
    sim_free(&s);
    return EF_EPARSE;
  }
  *out = s;
  return 0;
}
