/* SPDX-License-Identifier: MIT */
/* sim.h -- the simulated lotus miner behind fake-lotus-miner: workers, sealing jobs, sectors and
 * balances, advanced in 30-second epochs of simulated time, saved as one JSON state file.
 *
 * DESIGN: the simulation only moves at epoch boundaries and draws every random number from a
 * splitmix64 generator kept in the state, so the state after a given simulated time depends only
 * on the seed and that time, not on how many invocations it took to get there. The simulated
 * clock runs `speed` times faster than the wall clock between invocations.
 */
#ifndef FLM_SIM_H
#define FLM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { SIM_EPOCH_MS = 30000 };
#define SIM_GENESIS_MS 1598306400000LL /* Filecoin mainnet genesis, 2020-08-24 22:00 UTC */
#define SIM_SECTOR_SIZE 34359738368.0  /* 32 GiB */
#define SIM_MIN_POWER 10995116277760.0 /* consensus minimum raw power, 10 TiB */

/* Task types, in lotus' TaskType.Less order is given by sim_task_order(). */
enum sim_task { SIM_AP, SIM_PC1, SIM_PC2, SIM_C1, SIM_C2, SIM_FIN, SIM_GET, SIM_NTASK };
/* Timed steps that are not jobs (chain waits). Their durations follow the tasks' in `dur`. */
enum sim_wait { SIM_W_PCWAIT = SIM_NTASK, SIM_W_SEED, SIM_W_CWAIT, SIM_NDUR };

enum sim_jstate { SIM_J_ASSIGNED, SIM_J_PREPARED, SIM_J_RUNNING, SIM_J_RETWAIT };

enum sim_sstate {
  SIM_S_PACKING, SIM_S_PC1, SIM_S_PC2, SIM_S_PCWAIT, SIM_S_WAITSEED, SIM_S_COMMITTING,
  SIM_S_COMMITWAIT, SIM_S_FINALIZE, SIM_S_PROVING, SIM_S_FAULTY, SIM_S_REMOVED, SIM_S_COUNT
};

struct sim_worker {
  char uuid[40], host[48], gpu[48];
  int cpus, gpus;
  int64_t ram, swap, base_mem; /* bytes; base_mem = what the OS uses without tasks */
  unsigned tasks;              /* bit (1u << task) per task type it accepts */
  int limit[SIM_NTASK];        /* MaxConcurrent per task, 0 = none */
  bool disabled;
  bool gone; /* vanished from lotus' worker list (not listed, schedules and runs nothing) */
};

struct sim_job {
  uint32_t id;
  int64_t sector;
  int worker, task, state;
  int64_t queued, start, end; /* simulated ms; `end` = end of the running or ret-wait phase */
};

struct sim_sector {
  int64_t id;
  int state, step;
  int64_t until;      /* end of a chain wait, simulated ms */
  int64_t expiration; /* epoch, 0 until on chain */
  int worker;         /* worker chosen for the state's jobs, -1 none */
  bool has_job;
  bool recovering; /* Faulty, recovery declared: proven again when its deadline next closes */
};

struct sim_balance { /* nanoFIL */
  int64_t available, precommit, pledge, vesting, worker, control, escrow, locked;
};

struct sim {
  char miner[32], owner[32];
  uint64_t seed, rng;
  double speed;
  int64_t wall;      /* wall clock of the last invocation, ms */
  int64_t now;       /* simulated clock, ms since the Unix epoch */
  int64_t next_tick; /* next epoch boundary to process */
  int64_t start;     /* simulated miner start */
  int64_t next_sector, verified, basefee_atto, blocks_won;
  double net_raw, net_qa;
  struct sim_balance bal;
  int64_t dur[SIM_NDUR]; /* seconds of simulated time */
  struct sim_worker *workers;
  int nworkers;
  struct sim_job *jobs;
  int njobs, capjobs;
  struct sim_sector *sectors;
  int nsectors, capsectors;
  int first_open; /* sectors before this index are all in a final state */
  int64_t *bad;    /* unreadable sectors (proving check --only-bad), sorted */
  int nbad;
  int miss_deadline;          /* the next window of this deadline fails; -1 none */
  int missed_dl;              /* the deadline missed last, -1 none ... */
  int64_t missed_period;      /* ... in the proving period starting at this epoch */
  int64_t proving; /* count of Proving sectors while advancing (not saved) */
};

struct sim_options {
  const char *miner;   /* "f01234" */
  uint64_t seed;
  int workers;         /* 1..64 */
  int sectors;         /* proving sectors at creation */
  double speed;
  int64_t dur[SIM_NDUR]; /* 0 = default */
};

extern const char *const sim_task_names[SIM_NTASK];
extern const char *const sim_state_names[SIM_S_COUNT];
/* Durations' names for --duration: the task names, then PreCommitWait, WaitSeed, CommitWait. */
extern const char *const sim_dur_names[SIM_NDUR];

/* A new miner whose simulated history starts a day before `wall` and runs up to it. */
struct sim *sim_create(const struct sim_options *o, int64_t wall);
/* Advance the simulated clock by (wall - s->wall) * speed, at most SIM_MAX_STEP_MS at once. */
#define SIM_MAX_STEP_MS (30LL * 86400 * 1000)
void sim_advance(struct sim *s, int64_t wall);
void sim_free(struct sim **s);

/* State file. Load: 0, EF_ENOENT (no file), or EF_EPARSE with a reason in err. */
int sim_load(const char *path, struct sim **out, char *err, size_t errlen);
int sim_save(const struct sim *s, const char *path, char *err, size_t errlen);

/* Derived figures, for the printers. */
int64_t sim_epoch(const struct sim *s);
int64_t sim_count_state(const struct sim *s, int state);
/* Sum over a worker's prepared and running jobs. */
struct sim_usage {
  int count[SIM_NTASK];
  int64_t cpu, mem_min, mem_max;
  double gpu;
};
void sim_worker_usage(const struct sim *s, int w, struct sim_usage *u);
/* The jobs of worker `w` waiting for a slot, oldest first; the caller frees the array (ef_free),
 * the jobs stay the state's. Returns their number. */
int sim_worker_queue(const struct sim *s, int w, struct sim_job ***out);

/* ---- WindowPoSt (see sim.c "deadlines") ---- */
enum { SIM_DEADLINES = 48, SIM_DL_EPOCHS = 60, SIM_PERIOD_EPOCHS = 2880, SIM_PART_SECTORS = 2349 };
/* lotus' dline.Info of the current deadline, in epochs. */
struct sim_dlinfo {
  int64_t epoch, period_start, index, open, close, challenge, fault_cutoff;
};
void sim_deadline_info(const struct sim *s, struct sim_dlinfo *d);
/* The deadline a sector is assigned to; sectors of a deadline fill partitions of
 * SIM_PART_SECTORS in id order. Only Proving and Faulty sectors are in deadlines. */
int sim_sector_deadline(int64_t id);
bool sim_in_deadline(const struct sim_sector *sec);
struct sim_dl {
  int64_t sectors, faults, recoveries;
  int partitions, proven;
};
void sim_deadlines(const struct sim *s, struct sim_dl out[SIM_DEADLINES]);
bool sim_sector_is_bad(const struct sim *s, int64_t id);
/* Scenario changes (main.c options); false with a reason when they do not apply. */
bool sim_set_bad(struct sim *s, int64_t id, bool bad, char *err, size_t errlen);
bool sim_set_gone(struct sim *s, const char *host, bool gone, char *err, size_t errlen);

/* ---- addresses and messages ---- */
enum { SIM_ADDR_OWNER, SIM_ADDR_WORKER, SIM_ADDR_CONTROL, SIM_NADDR };
/* The ID address (f0…) and the key address (f1…) of the owner, worker and control wallets. */
void sim_address(const struct sim *s, int which, char id[32], char key[48]);
void sim_peer_id(const struct sim *s, char out[64]);
/* Pending messages: one per sector in PreCommitWait (PreCommitSector, method 6) and CommitWait
 * (ProveCommitSector, method 7), sent from the worker key address, in sector order. */
struct sim_msg {
  int64_t sector, nonce;
  int method;
  char cid[72];
};
int sim_pending(const struct sim *s, struct sim_msg **out); /* caller ef_frees *out */
int64_t sim_wallet_nano(const struct sim *s, int which);

#endif
