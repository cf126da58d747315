/* SPDX-License-Identifier: MIT */
/* print.c -- the four lotus-miner outputs of fake-lotus-miner, laid out as miner/v1.36.1 does
 * (cli/miner/info.go, sealing.go, sectors.go; see docs/lotus.md). */
#include "print.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lotusfmt.h"
#include "mem.h"

/* ----- info ----- */

/* Sector states in lotus' stateList order (the subset the simulation uses). */
static const int info_order[] = {SIM_S_PROVING, SIM_S_PACKING, SIM_S_PC1, SIM_S_PC2,
                                 SIM_S_PCWAIT, SIM_S_WAITSEED, SIM_S_COMMITTING,
                                 SIM_S_COMMITWAIT, SIM_S_FINALIZE, SIM_S_REMOVED, SIM_S_FAULTY};

static void print_power(const struct sim *s, FILE *out) {
  char a[LFMT_LEN], b[LFMT_LEN], c[LFMT_LEN];
  int64_t proving = sim_count_state(s, SIM_S_PROVING), faulty = sim_count_state(s, SIM_S_FAULTY);
  int64_t live = proving + faulty + sim_count_state(s, SIM_S_FINALIZE);
  int64_t verified = s->verified < proving ? s->verified : proving;
  double raw = (double)proving * SIM_SECTOR_SIZE;
  double qa = raw + 9.0 * (double)verified * SIM_SECTOR_SIZE;
  /* the network's power as whole bytes, as the JSON-RPC server gives it */
  struct sim net = *s;
  net.net_qa = floor(s->net_qa);
  net.net_raw = floor(s->net_raw);
  s = &net;

  fprintf(out, "Miner: %s (32 GiB sectors)\n", s->miner);
  fprintf(out, "Power: %s / %s (%0.4f%%)\n", lfmt_deci(a, qa), lfmt_deci(b, s->net_qa),
          qa * 100 / s->net_qa);
  fprintf(out, "\tRaw: %s / %s (%0.4f%%)\n", lfmt_size(a, raw), lfmt_size(b, s->net_raw),
          raw * 100 / s->net_raw);
  fprintf(out, "\tCommitted: %s\n", lfmt_size(a, (double)live * SIM_SECTOR_SIZE));
  if (faulty == 0)
    fprintf(out, "\tProving: %s\n", lfmt_size(a, (double)(proving + faulty) * SIM_SECTOR_SIZE));
  else
    fprintf(out, "\tProving: %s (%s Faulty, %.2f%%)\n",
            lfmt_size(a, (double)(proving + faulty) * SIM_SECTOR_SIZE),
            lfmt_size(b, (double)faulty * SIM_SECTOR_SIZE),
            live ? (double)(100 * faulty) / (double)live : 0.0);

  if (raw < SIM_MIN_POWER) {
    fprintf(out, "Below minimum power threshold, no blocks will be won");
  } else {
    double ratio = qa * 5 / s->net_qa;
    ratio = -expm1(-ratio);
    double weekly = ratio * 7 * 2880;
    int64_t every = (int64_t)(30.0 / ratio);
    int64_t p999 = (int64_t)(30.0 * log(1 - 0.999) / log(1 - ratio));
    fprintf(out, "Projected average block win rate: %.02f/week (every %s)\n", weekly,
            lfmt_duration(a, every * 1000));
    fprintf(out, "Projected block win with 99.9%% probability every %s\n",
            lfmt_duration(c, p999 * 1000));
    fprintf(out, "(projections DO NOT account for future network and miner growth)\n");
  }
  fprintf(out, "\n");
}

static void print_balances(const struct sim *s, FILE *out) {
  char a[LFMT_LEN];
  const struct sim_balance *b = &s->bal;
  int64_t balance = b->available + b->precommit + b->pledge + b->vesting;
  int64_t spendable = (b->available > 0 ? b->available : 0) + (b->escrow - b->locked) +
                      b->worker + b->control;
  fprintf(out, "Miner Balance:    %s\n", lfmt_fil_short_nano(a, balance));
  fprintf(out, "      PreCommit:  %s\n", lfmt_fil_short_nano(a, b->precommit));
  fprintf(out, "      Pledge:     %s\n", lfmt_fil_short_nano(a, b->pledge));
  fprintf(out, "      Vesting:    %s\n", lfmt_fil_short_nano(a, b->vesting));
  fprintf(out, "      Available:  %s\n", lfmt_fil_short_nano(a, b->available));
  fprintf(out, "Market Balance:   %s\n", lfmt_fil_short_nano(a, b->escrow));
  fprintf(out, "       Locked:    %s\n", lfmt_fil_short_nano(a, b->locked));
  fprintf(out, "       Available: %s\n", lfmt_fil_short_nano(a, b->escrow - b->locked));
  fprintf(out, "Worker Balance:   %s\n", lfmt_fil_short_nano(a, b->worker));
  fprintf(out, "       Control:   %s\n", lfmt_fil_short_nano(a, b->control));
  fprintf(out, "Total Spendable:  %s\n", lfmt_fil_short_nano(a, spendable));
  fprintf(out, "\n");
}

void print_info(const struct sim *s, FILE *out, bool hide_sectors) {
  char a[LFMT_LEN], b[LFMT_LEN];
  fprintf(out, "Enabled subsystems: [Mining Sealing SectorStorage]\n");
  fprintf(out, "StartTime: %s (started at %s)\n", lfmt_duration(a, (s->now - s->start) / 1000 * 1000),
          lfmt_go_time(b, s->start));
  fprintf(out, "Chain: [sync ok] [basefee %s]\n", lfmt_fil_short_atto(a, s->basefee_atto));
  print_power(s, out);
  print_balances(s, out);
  fprintf(out, "Beneficiary:\t%s\n", s->owner);
  fprintf(out, "\n");
  if (!hide_sectors) {
    fprintf(out, "Sectors:\n");
    fprintf(out, "\tTotal: %d\n", s->nsectors);
    for (size_t i = 0; i < sizeof info_order / sizeof info_order[0]; i++) {
      int64_t n = sim_count_state(s, info_order[i]);
      if (n)
        fprintf(out, "\t%s: %lld\n", sim_state_names[info_order[i]], (long long)n);
    }
    fprintf(out, "\n");
  }
  int seal = 0;
  for (int w = 0; w < s->nworkers; w++)
    seal += !s->workers[w].disabled && !s->workers[w].gone;
  fprintf(out, "Workers: Seal(%d) WdPoSt(0) WinPoSt(0)\n", seal);
}

/* ----- sealing workers ----- */

enum { BAR_COLS = 64 };

static void repeat(FILE *out, int c, long n) {
  for (long i = 0; i < n; i++)
    fputc(c, out);
}

/* lotus barString: reserved part, then tasks part, then blanks up to 64 (none when over). */
static void bar(FILE *out, double total, double reserved, double tasks) {
  long y = lround(reserved / total * BAR_COLS), g = lround(tasks / total * BAR_COLS);
  repeat(out, '|', y + g);
  if (BAR_COLS - y - g >= 0)
    repeat(out, ' ', BAR_COLS - y - g);
}

/* sealtasks TaskType.Less order of the tasks the simulation knows. */
static const int task_order[] = {SIM_FIN, SIM_GET, SIM_C1, SIM_C2, SIM_PC2, SIM_PC1, SIM_AP};

static int cmp_uuid(const void *a, const void *b, void *arg) {
  const struct sim *s = arg;
  return strcmp(s->workers[*(const int *)a].uuid, s->workers[*(const int *)b].uuid);
}

static void print_worker(const struct sim *s, int w, FILE *out) {
  const struct sim_worker *wk = &s->workers[w];
  struct sim_usage u;
  char a[LFMT_LEN], b[LFMT_LEN];
  sim_worker_usage(s, w, &u);

  fprintf(out, "Worker %s, host %s%s\n", wk->uuid, wk->host, wk->disabled ? " (disabled)" : "");
  bool any = false;
  for (size_t i = 0; i < sizeof task_order / sizeof task_order[0]; i++) {
    int t = task_order[i];
    if (!u.count[t])
      continue;
    if (!any)
      fprintf(out, "\tTASK: ");
    any = true;
    if (wk->limit[t])
      fprintf(out, "%s(%d/%d) ", sim_task_names[t], u.count[t], wk->limit[t]);
    else
      fprintf(out, "%s(%d) ", sim_task_names[t], u.count[t]);
  }
  if (any)
    fprintf(out, "\n");

  int64_t cpu_bars = u.cpu * BAR_COLS / wk->cpus;
  fprintf(out, "\tCPU:  [");
  repeat(out, '|', cpu_bars);
  if (BAR_COLS - cpu_bars >= 0)
    repeat(out, ' ', BAR_COLS - cpu_bars);
  fprintf(out, "] %lld/%d core(s) in use\n", (long long)u.cpu, wk->cpus);

  int64_t ram_tasks = u.mem_min, ram_used = wk->base_mem + u.mem_min;
  int64_t ram_res = ram_tasks < ram_used ? ram_used - ram_tasks : 0;
  fprintf(out, "\tRAM:  [");
  bar(out, (double)wk->ram, (double)ram_res, (double)ram_tasks);
  fprintf(out, "] %lld%% %s/%s\n", (long long)((ram_tasks + ram_res) * 100 / wk->ram),
          lfmt_size(a, (double)(ram_tasks + ram_used)), lfmt_size(b, (double)wk->ram));

  int64_t vm_total = wk->ram + wk->swap, vm_tasks = u.mem_max, vm_used = ram_used;
  int64_t vm_res = vm_tasks < vm_used ? vm_used - vm_tasks : 0;
  fprintf(out, "\tVMEM: [");
  bar(out, (double)vm_total, (double)vm_res, (double)vm_tasks);
  fprintf(out, "] %lld%% %s/%s\n", (long long)((vm_tasks + vm_res) * 100 / vm_total),
          lfmt_size(a, (double)(vm_tasks + vm_res)), lfmt_size(b, (double)vm_total));

  if (wk->gpus > 0) {
    fprintf(out, "\tGPU:  [");
    bar(out, wk->gpus, 0, u.gpu);
    fprintf(out, "] %.f%% %.2f/%d gpu(s) in use\n", u.gpu * 100 / wk->gpus, u.gpu, wk->gpus);
  }
  for (int g = 0; g < wk->gpus; g++)
    fprintf(out, "\tGPU: %s, %sused\n", wk->gpu, u.gpu > 0 ? "" : "not ");
}

void print_workers(const struct sim *s, FILE *out) {
  int *order = ef_malloc((size_t)s->nworkers * sizeof *order);
  for (int i = 0; i < s->nworkers; i++)
    order[i] = i;
  qsort_r(order, (size_t)s->nworkers, sizeof *order, cmp_uuid, (void *)s);
  for (int i = 0; i < s->nworkers; i++)
    if (!s->workers[order[i]].gone)
      print_worker(s, order[i], out);
  ef_free(order);
}

/* ----- sealing jobs ----- */

struct job_line {
  const struct sim_job *job;
  int run_wait; /* lotus RunWait: -1 ret-wait, 0 running, 1 prepared, N+1 assigned(N) */
  int64_t start;
};

static int cmp_line(const void *a, const void *b) {
  const struct job_line *x = a, *y = b;
  if (x->run_wait != y->run_wait)
    return x->run_wait < y->run_wait ? -1 : 1;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return x->job->id < y->job->id ? -1 : x->job->id > y->job->id;
}

void print_jobs(const struct sim *s, FILE *out) {
  struct job_line *lines = ef_calloc((size_t)s->njobs + 1, sizeof *lines);
  int n = 0;
  for (int w = 0; w < s->nworkers; w++) { /* assigned jobs are numbered per worker queue */
    if (s->workers[w].gone)
      continue;
    struct sim_job **q;
    int nq = sim_worker_queue(s, w, &q);
    for (int i = 0; i < nq; i++)
      lines[n++] = (struct job_line){q[i], i + 2, q[i]->queued};
    ef_free(q);
  }
  for (int i = 0; i < s->njobs; i++) {
    const struct sim_job *j = &s->jobs[i];
    if (j->state == SIM_J_ASSIGNED || s->workers[j->worker].gone)
      continue;
    int rw = j->state == SIM_J_RETWAIT ? -1 : j->state == SIM_J_RUNNING ? 0 : 1;
    lines[n++] = (struct job_line){j, rw, j->state == SIM_J_RETWAIT ? 0 : j->start};
  }
  qsort(lines, (size_t)n, sizeof *lines, cmp_line);

  struct lfmt_table *t = lfmt_table_new(7);
  lfmt_table_row(t, (const char *const[]){"ID", "Sector", "Worker", "Hostname", "Task", "State",
                                          "Time"});
  for (int i = 0; i < n; i++) {
    const struct sim_job *j = lines[i].job;
    char id[12], sector[24], worker[12], state[24], when[LFMT_LEN];
    snprintf(id, sizeof id, "%08x", j->state == SIM_J_ASSIGNED ? 0u : j->id);
    snprintf(sector, sizeof sector, "%lld", (long long)j->sector);
    snprintf(worker, sizeof worker, "%.8s",
             j->state == SIM_J_RETWAIT ? "00000000" : s->workers[j->worker].uuid);
    if (lines[i].run_wait > 1)
      snprintf(state, sizeof state, "assigned(%d)", lines[i].run_wait - 1);
    else
      snprintf(state, sizeof state, "%s",
               lines[i].run_wait < 0 ? "ret-wait" : lines[i].run_wait ? "prepared" : "running");
    if (lines[i].start == 0)
      snprintf(when, sizeof when, "n/a");
    else
      lfmt_duration(when, (s->now - lines[i].start) / 100 * 100);
    lfmt_table_row(t, (const char *const[]){id, sector, worker, s->workers[j->worker].host,
                                            sim_task_names[j->task], state, when});
  }
  lfmt_table_flush_tabwriter(&t, out);
  ef_free(lines);
}

/* ----- sectors list ----- */

void print_sectors(const struct sim *s, FILE *out) {
  struct lfmt_table *t = lfmt_table_new(6);
  int64_t epoch = sim_epoch(s);
  lfmt_table_row(t, (const char *const[]){"ID", "State", "OnChain", "Active", "Expiration",
                                          "Deals"});
  for (int i = 0; i < s->nsectors; i++) {
    const struct sim_sector *sec = &s->sectors[i];
    if (sec->state == SIM_S_REMOVED)
      continue;
    bool on_chain = sec->state >= SIM_S_FINALIZE;
    bool active = sec->state == SIM_S_PROVING;
    char id[24], exp[LFMT_LEN];
    snprintf(id, sizeof id, "%lld", (long long)sec->id);
    if (on_chain && sec->expiration)
      lfmt_epoch_time(exp, epoch, sec->expiration);
    else
      snprintf(exp, sizeof exp, "n/a");
    lfmt_table_row(t, (const char *const[]){id, sim_state_names[sec->state],
                                            on_chain ? "YES" : "NO", active ? "YES" : "NO", exp,
                                            "CC"});
  }
  lfmt_table_flush_lotus(&t, out);
}

/* ----- proving deadlines / faults / check ----- */

/* `proving deadlines` of miner/v1.36: a tabwriter table whose last column ("proven partitions")
 * is trailing text, except on the current deadline's row, where "\t(current)" follows it -- so
 * that column is padded only there, to its own width + 2 ("0  (current)"). Open times are the
 * wall-clock times of this period's windows, UTC, "15:04:05". */
void print_deadlines(const struct sim *s, FILE *out) {
  struct sim_dl dl[SIM_DEADLINES];
  struct sim_dlinfo di;
  sim_deadlines(s, dl);
  sim_deadline_info(s, &di);
  char cells[SIM_DEADLINES + 1][5][32];
  snprintf(cells[0][0], 32, "deadline");
  snprintf(cells[0][1], 32, "open");
  snprintf(cells[0][2], 32, "partitions");
  snprintf(cells[0][3], 32, "sectors (faults)");
  snprintf(cells[0][4], 32, "proven partitions");
  for (int k = 0; k < SIM_DEADLINES; k++) {
    int64_t open_ms = SIM_GENESIS_MS + (di.period_start + k * SIM_DL_EPOCHS) * SIM_EPOCH_MS;
    int64_t secs = open_ms / 1000 % 86400;
    snprintf(cells[k + 1][0], 32, "%d", k);
    snprintf(cells[k + 1][1], 32, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60),
             (int)(secs % 60));
    snprintf(cells[k + 1][2], 32, "%d", dl[k].partitions);
    snprintf(cells[k + 1][3], 32, "%lld (%lld)", (long long)dl[k].sectors, (long long)dl[k].faults);
    snprintf(cells[k + 1][4], 32, "%d", dl[k].proven);
  }
  size_t width[4] = {0};
  for (int r = 0; r <= SIM_DEADLINES; r++)
    for (int c = 0; c < 4; c++)
      if (strlen(cells[r][c]) > width[c])
        width[c] = strlen(cells[r][c]);
  fprintf(out, "Miner: %s\n", s->miner);
  for (int r = 0; r <= SIM_DEADLINES; r++) {
    for (int c = 0; c < 4; c++)
      fprintf(out, "%-*s", (int)width[c] + 2, cells[r][c]);
    if (r > 0 && r - 1 == di.index)
      fprintf(out, "%-*s(current)\n", (int)strlen(cells[r][4]) + 2, cells[r][4]);
    else
      fprintf(out, "%s\n", cells[r][4]);
  }
}

/* Visit the live sectors of deadline `k` in id order with their partition index. */
static void each_in_deadline(const struct sim *s, int k,
                             void (*fn)(const struct sim_sector *, int part, void *), void *ud) {
  int64_t pos = 0;
  for (int i = 0; i < s->nsectors; i++) {
    const struct sim_sector *sec = &s->sectors[i];
    if (!sim_in_deadline(sec) || sim_sector_deadline(sec->id) != k)
      continue;
    fn(sec, (int)(pos++ / SIM_PART_SECTORS), ud);
  }
}

struct row_ctx {
  struct lfmt_table *t;
  const struct sim *s;
  int dl;
};

static void fault_row(const struct sim_sector *sec, int part, void *ud) {
  struct row_ctx *c = ud;
  if (sec->state != SIM_S_FAULTY)
    return;
  char a[16], b[16], d[24];
  snprintf(a, sizeof a, "%d", c->dl);
  snprintf(b, sizeof b, "%d", part);
  snprintf(d, sizeof d, "%lld", (long long)sec->id);
  lfmt_table_row(c->t, (const char *const[]){a, b, d});
}

/* `proving faults`: "Miner: f0…", then a tabwriter table deadline/partition/sectors, one row
 * per faulty sector. */
void print_faults(const struct sim *s, FILE *out) {
  struct row_ctx c = {lfmt_table_new(3), s, 0};
  lfmt_table_row(c.t, (const char *const[]){"deadline", "partition", "sectors"});
  for (c.dl = 0; c.dl < SIM_DEADLINES; c.dl++)
    each_in_deadline(s, c.dl, fault_row, &c);
  fprintf(out, "Miner: %s\n", s->miner);
  lfmt_table_flush_tabwriter(&c.t, out);
}

static void check_row(const struct sim_sector *sec, int part, void *ud) {
  struct row_ctx *c = ud;
  if (!sim_sector_is_bad(c->s, sec->id))
    return;
  char a[16], b[16], d[24], st[160];
  snprintf(a, sizeof a, "%d", c->dl);
  snprintf(b, sizeof b, "%d", part);
  snprintf(d, sizeof d, "%lld", (long long)sec->id);
  snprintf(st, sizeof st, "bad (reading sealed sector: stat /srv/lotus/sealed/s-t0%s-%lld: no such "
                          "file or directory)", c->s->miner + 2, (long long)sec->id);
  lfmt_table_row(c->t, (const char *const[]){a, b, d, st});
}

/* `proving check --only-bad <deadline>`: tabwriter deadline/partition/sector/status, one row
 * per unreadable sector of the deadline's partitions. */
void print_check_bad(const struct sim *s, int dl, FILE *out) {
  struct row_ctx c = {lfmt_table_new(4), s, dl};
  lfmt_table_row(c.t, (const char *const[]){"deadline", "partition", "sector", "status"});
  each_in_deadline(s, dl, check_row, &c);
  lfmt_table_flush_tabwriter(&c.t, out);
}

/* ----- actor control list / net id / mpool pending ----- */

/* `actor control list [--verbose]` (lib/tablewriter: name ID key use balance; --verbose adds
 * the beneficiary row, which is the owner here). */
void print_control(const struct sim *s, bool verbose, FILE *out) {
  static const char *const names[] = {"owner", "worker", "beneficiary", "control-0"};
  static const char *const uses[] = {"", "other", "", "post"};
  static const int which[] = {SIM_ADDR_OWNER, SIM_ADDR_WORKER, SIM_ADDR_OWNER, SIM_ADDR_CONTROL};
  struct lfmt_table *t = lfmt_table_new(5);
  lfmt_table_row(t, (const char *const[]){"name", "ID", "key", "use", "balance"});
  for (int i = 0; i < 4; i++) {
    char id[32], key[48], bal[LFMT_LEN];
    if (i == 2 && !verbose)
      continue;
    sim_address(s, which[i], id, key);
    lfmt_fil_short_nano(bal, sim_wallet_nano(s, which[i]));
    lfmt_table_row(t, (const char *const[]){names[i], id, key, uses[i], bal});
  }
  lfmt_table_flush_lotus(&t, out);
}

void print_net_id(const struct sim *s, FILE *out) {
  char id[64];
  sim_peer_id(s, id);
  fprintf(out, "%s\n", id);
}

/* `net listen`: the libp2p listen addresses with the peer id. */
void print_net_listen(const struct sim *s, FILE *out) {
  char id[64];
  sim_peer_id(s, id);
  fprintf(out, "/ip4/127.0.0.1/tcp/24001/p2p/%s\n/ip6/::1/tcp/24001/p2p/%s\n", id, id);
}

json_t *sim_message_json(const struct sim *s, const struct sim_msg *m, const char *from) {
  const char *to = s->miner, *sig = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEE=";
  json_t *msg = json_pack("{s:i, s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:i, s:n, s:{s:s}}", "Version", 0,
                          "To", to, "From", from, "Nonce", (json_int_t)m->nonce, "Value", "0",
                          "GasLimit", (json_int_t)(m->method == 6 ? 30000000 : 60000000),
                          "GasFeeCap", "100000", "GasPremium", "99000", "Method", m->method,
                          "Params", "CID", "/", m->cid);
  return json_pack("{s:o, s:{s:i, s:s}, s:{s:s}}", "Message", msg, "Signature", "Type", 1, "Data",
                   sig, "CID", "/", m->cid);
}

/* `lotus mpool pending --local`: each local message as Go's json.MarshalIndent prints it. */
void print_mpool(const struct sim *s, FILE *out) {
  struct sim_msg *m;
  int n = sim_pending(s, &m);
  char id[32], key[48];
  sim_address(s, SIM_ADDR_WORKER, id, key);
  for (int i = 0; i < n; i++) {
    json_t *j = sim_message_json(s, &m[i], key);
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fprintf(out, "%s\n", text);
    free(text);
    json_decref(j);
  }
  ef_free(m);
}

/* ----- proving info ----- */

/* cliutil.EpochTimeTs: "3124267 (02 Aug 23 11:43 UTC, 9 hours 30 minutes ago)". */
static char *epoch_time_ts(char *buf, int64_t cur, int64_t e) {
  char rel[LFMT_LEN], when[40];
  lfmt_epoch_time(rel, cur, e);
  const char *open = strchr(rel, '(');
  time_t t = (time_t)((SIM_GENESIS_MS + e * SIM_EPOCH_MS) / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(when, sizeof when, "%d %b %y %H:%M UTC", &tm);
  snprintf(buf, 2 * LFMT_LEN, "%lld (%s, %s", (long long)e, when, open ? open + 1 : ")");
  return buf;
}

/* `proving info` (cli/miner proving.go, v1.23+ layout). */
void print_proving_info(const struct sim *s, FILE *out) {
  struct sim_dlinfo d;
  struct sim_dl dl[SIM_DEADLINES];
  sim_deadline_info(s, &d);
  sim_deadlines(s, dl);
  int64_t faults = 0, rec = 0, live = 0;
  for (int k = 0; k < SIM_DEADLINES; k++)
    faults += dl[k].faults, rec += dl[k].recoveries, live += dl[k].sectors;
  char a[2 * LFMT_LEN];
  fprintf(out, "Miner: %s\n", s->miner);
  fprintf(out, "Current Epoch:           %lld\n", (long long)d.epoch);
  fprintf(out, "Proving Period Boundary: %lld\n", (long long)(d.period_start % SIM_PERIOD_EPOCHS));
  fprintf(out, "Proving Period Start:    %s\n", epoch_time_ts(a, d.epoch, d.period_start));
  fprintf(out, "Next Period Start:       %s\n",
          epoch_time_ts(a, d.epoch, d.period_start + SIM_PERIOD_EPOCHS));
  fprintf(out, "\n");
  fprintf(out, "Faults:      %lld (%.2f%%)\n", (long long)faults,
          live ? (double)faults * 100 / (double)live : 0.0);
  fprintf(out, "Recovering:  %lld\n", (long long)rec);
  fprintf(out, "Deadline Index:       %lld\n", (long long)d.index);
  fprintf(out, "Deadline Sectors:     %lld\n", (long long)dl[d.index].sectors);
  fprintf(out, "Deadline Open:        %s\n", lfmt_epoch_time(a, d.epoch, d.open));
  fprintf(out, "Deadline Close:       %s\n", lfmt_epoch_time(a, d.epoch, d.close));
  fprintf(out, "Deadline Challenge:   %s\n", lfmt_epoch_time(a, d.epoch, d.challenge));
  fprintf(out, "Deadline FaultCutoff: %s\n", lfmt_epoch_time(a, d.epoch, d.fault_cutoff));
}
