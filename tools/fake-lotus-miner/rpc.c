/* SPDX-License-Identifier: MIT */
/* rpc.c -- fake-lotus-miner --rpc: a single-threaded HTTP/1.1 server on loopback answering
 * lotus' JSON-RPC 2.0 (POST, any path, "Connection: close") from the simulated state.
 *
 * Each request is read whole (headers up to 64 KiB, body up to 1 MiB, 5 s socket limit), the
 * bearer token checked (401 "JWT Verification failed" without the right `Authorization: Bearer`,
 * as lotus answers), then the state is loaded and advanced exactly as a CLI run at that moment
 * would (see main.c), so RPC answers and CLI output describe the same miner. Values are shaped
 * as lotus' JSON: big integers as decimal strings, bitfields as go-bitfield's RLE run arrays
 * ([zeros, ones, zeros, ...]), times as RFC 3339, multiaddrs as base64 of their binary form.
 */
#define _DEFAULT_SOURCE
#include "rpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "print.h"

#define HEAD_MAX (64 * 1024)
#define BODY_MAX (1024 * 1024)
#define ZERO_UUID "00000000-0000-0000-0000-000000000000"

static const char *const task_types[SIM_NTASK] = {
  [SIM_AP] = "seal/v0/addpiece",  [SIM_PC1] = "seal/v0/precommit/1",
  [SIM_PC2] = "seal/v0/precommit/2", [SIM_C1] = "seal/v0/commit/1",
  [SIM_C2] = "seal/v0/commit/2",   [SIM_FIN] = "seal/v0/finalize", [SIM_GET] = "seal/v0/fetch"};

/* ---- value shapes ---- */

static json_t *dec(double v) { /* a big integer as lotus' decimal string */
  char b[64];
  snprintf(b, sizeof b, "%.0f", v < 0 ? 0 : floor(v));
  return json_string(b);
}

static json_t *atto_of_nano(int64_t nano) {
  char b[48];
  if (nano == 0)
    snprintf(b, sizeof b, "0");
  else
    snprintf(b, sizeof b, "%s%lld000000000", nano < 0 ? "-" : "", llabs((long long)nano));
  return json_string(b);
}

/* go-bitfield JSON: run lengths, starting with a run of zeros. ids sorted ascending. */
static json_t *bitfield(const int64_t *ids, int n) {
  json_t *runs = json_array();
  int64_t next = 0;
  for (int i = 0; i < n;) {
    int j = i;
    while (j + 1 < n && ids[j + 1] == ids[j] + 1)
      j++;
    json_array_append_new(runs, json_integer(ids[i] - next));
    json_array_append_new(runs, json_integer(ids[j] - ids[i] + 1));
    next = ids[j] + 1;
    i = j + 1;
  }
  if (n == 0)
    json_array_append_new(runs, json_integer(0));
  return runs;
}

static void rfc3339(char out[40], int64_t ms) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char b[32];
  strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 40, "%s.%03dZ", b, (int)(ms % 1000));
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static json_t *base64(const unsigned char *p, size_t n) {
  char out[64];
  size_t o = 0;
  for (size_t i = 0; i < n && o + 5 < sizeof out; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                 (i + 2 < n ? p[i + 2] : 0);
    out[o++] = b64chars[v >> 18 & 63];
    out[o++] = b64chars[v >> 12 & 63];
    out[o++] = i + 1 < n ? b64chars[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? b64chars[v & 63] : '=';
  }
  out[o] = '\0';
  return json_string(out);
}

/* ---- state-derived answers ---- */

static double qa_power(const struct sim *s) {
  int64_t proving = sim_count_state(s, SIM_S_PROVING);
  int64_t verified = s->verified < proving ? s->verified : proving;
  return (double)proving * SIM_SECTOR_SIZE + 9.0 * (double)verified * SIM_SECTOR_SIZE;
}

static json_t *miner_power(const struct sim *s) {
  double raw = (double)sim_count_state(s, SIM_S_PROVING) * SIM_SECTOR_SIZE;
  return json_pack("{s:{s:o, s:o}, s:{s:o, s:o}, s:b}", "MinerPower", "RawBytePower", dec(raw),
                   "QualityAdjPower", dec(qa_power(s)), "TotalPower", "RawBytePower",
                   dec(s->net_raw), "QualityAdjPower", dec(s->net_qa), "HasMinPower",
                   raw >= SIM_MIN_POWER);
}

static json_t *miner_info(const struct sim *s) {
  char id[SIM_NADDR][32], key[48], peer[64];
  for (int i = 0; i < SIM_NADDR; i++)
    sim_address(s, i, id[i], key);
  sim_peer_id(s, peer);
  /* /ip4/127.0.0.1/tcp/24001: code 4, 4 bytes; code 6, 2 bytes big-endian */
  static const unsigned char ma[] = {0x04, 127, 0, 0, 1, 0x06, 0x5d, 0xc1};
  return json_pack("{s:s, s:s, s:s, s:[s], s:I, s:s, s:[o], s:i, s:I, s:i, s:I, s:n, s:s}",
                   "Owner", id[SIM_ADDR_OWNER], "Worker", id[SIM_ADDR_WORKER], "NewWorker",
                   "<empty>", "ControlAddresses", id[SIM_ADDR_CONTROL], "WorkerChangeEpoch",
                   (json_int_t)-1, "PeerId", peer, "Multiaddrs", base64(ma, sizeof ma),
                   "WindowPoStProofType", 13, "SectorSize", (json_int_t)SIM_SECTOR_SIZE,
                   "WindowPoStPartitionSectors", SIM_PART_SECTORS, "ConsensusFaultElapsed",
                   (json_int_t)-1, "PendingOwnerAddress", "Beneficiary", id[SIM_ADDR_OWNER]);
}

static json_t *read_state(const struct sim *s) {
  const struct sim_balance *b = &s->bal;
  return json_pack("{s:o, s:{s:s}, s:{s:o, s:o, s:o, s:o}}", "Balance",
                   atto_of_nano(b->available + b->precommit + b->pledge + b->vesting), "Code", "/",
                   "bafk2bzacestorageminer", "State", "PreCommitDeposits",
                   atto_of_nano(b->precommit), "LockedFunds", atto_of_nano(b->vesting),
                   "InitialPledge", atto_of_nano(b->pledge), "FeeDebt", json_string("0"));
}

static json_t *wallet_balance(const struct sim *s, const char *addr) {
  const struct sim_balance *b = &s->bal;
  if (addr && strcmp(addr, s->miner) == 0)
    return atto_of_nano(b->available + b->precommit + b->pledge + b->vesting);
  for (int i = 0; i < SIM_NADDR; i++) {
    char id[32], key[48];
    sim_address(s, i, id, key);
    if (addr && (strcmp(addr, id) == 0 || strcmp(addr, key) == 0))
      return atto_of_nano(sim_wallet_nano(s, i));
  }
  return json_string("0");
}

static json_t *account_key(const struct sim *s, const char *addr) {
  for (int i = 0; i < SIM_NADDR; i++) {
    char id[32], key[48];
    sim_address(s, i, id, key);
    if (addr && (strcmp(addr, id) == 0 || strcmp(addr, key) == 0))
      return json_string(key);
  }
  return NULL;
}

static json_t *sector_count(const struct sim *s) {
  int64_t proving = sim_count_state(s, SIM_S_PROVING), faulty = sim_count_state(s, SIM_S_FAULTY);
  int64_t live = proving + faulty + sim_count_state(s, SIM_S_FINALIZE);
  return json_pack("{s:I, s:I, s:I}", "Live", (json_int_t)live, "Active", (json_int_t)proving,
                   "Faulty", (json_int_t)faulty);
}

static json_t *summary(const struct sim *s) {
  json_t *o = json_object();
  for (int st = 0; st < SIM_S_COUNT; st++) {
    int64_t n = sim_count_state(s, st);
    if (n)
      json_object_set_new(o, sim_state_names[st], json_integer(n));
  }
  return o;
}

static json_t *proving_deadline(const struct sim *s) {
  struct sim_dlinfo d;
  sim_deadline_info(s, &d);
  return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:i, s:i, s:i}",
                   "CurrentEpoch", (json_int_t)d.epoch, "PeriodStart", (json_int_t)d.period_start,
                   "Index", (json_int_t)d.index, "Open", (json_int_t)d.open, "Close",
                   (json_int_t)d.close, "Challenge", (json_int_t)d.challenge, "FaultCutoff",
                   (json_int_t)d.fault_cutoff, "WPoStPeriodDeadlines", SIM_DEADLINES,
                   "WPoStProvingPeriod", SIM_PERIOD_EPOCHS, "WPoStChallengeWindow",
                   SIM_DL_EPOCHS, "WPoStChallengeLookback", 20, "FaultDeclarationCutoff", 70);
}

static json_t *deadlines(const struct sim *s) {
  struct sim_dl dl[SIM_DEADLINES];
  sim_deadlines(s, dl);
  json_t *arr = json_array();
  for (int k = 0; k < SIM_DEADLINES; k++) {
    int64_t *ids = ef_calloc((size_t)dl[k].proven + 1, sizeof *ids);
    for (int p = 0; p < dl[k].proven; p++)
      ids[p] = p;
    json_array_append_new(arr, json_pack("{s:o, s:i}", "PostSubmissions",
                                         bitfield(ids, dl[k].proven), "DisputableProofCount", 0));
    ef_free(ids);
  }
  return arr;
}

/* Sector id lists of one partition, or of the whole miner (dl < 0). */
struct lists {
  int64_t *all, *faulty, *rec, *active;
  int nall, nfaulty, nrec, nactive;
};

static void push(int64_t **a, int *n, int64_t v) {
  *a = ef_realloc(*a, (size_t)(*n + 1) * sizeof **a);
  (*a)[(*n)++] = v;
}

static void collect(const struct sim *s, int dl, int part, struct lists *l) {
  memset(l, 0, sizeof *l);
  int64_t pos = 0;
  for (int i = 0; i < s->nsectors; i++) {
    const struct sim_sector *sec = &s->sectors[i];
    if (!sim_in_deadline(sec))
      continue;
    if (dl >= 0 && (sim_sector_deadline(sec->id) != dl || pos++ / SIM_PART_SECTORS != part))
      continue;
    push(&l->all, &l->nall, sec->id);
    if (sec->state == SIM_S_FAULTY)
      push(&l->faulty, &l->nfaulty, sec->id);
    else
      push(&l->active, &l->nactive, sec->id);
    if (sec->state == SIM_S_FAULTY && sec->recovering)
      push(&l->rec, &l->nrec, sec->id);
  }
}

static void lists_free(struct lists *l) {
  ef_free(l->all);
  ef_free(l->faulty);
  ef_free(l->rec);
  ef_free(l->active);
}

static json_t *partitions(const struct sim *s, int dl) {
  struct sim_dl d[SIM_DEADLINES];
  sim_deadlines(s, d);
  json_t *arr = json_array();
  for (int p = 0; p < d[dl].partitions; p++) {
    struct lists l;
    collect(s, dl, p, &l);
    json_array_append_new(arr, json_pack("{s:o, s:o, s:o, s:o, s:o}", "AllSectors",
                                         bitfield(l.all, l.nall), "FaultySectors",
                                         bitfield(l.faulty, l.nfaulty), "RecoveringSectors",
                                         bitfield(l.rec, l.nrec), "LiveSectors",
                                         bitfield(l.all, l.nall), "ActiveSectors",
                                         bitfield(l.active, l.nactive)));
    lists_free(&l);
  }
  return arr;
}

static json_t *faults_or_recoveries(const struct sim *s, bool rec) {
  struct lists l;
  collect(s, -1, 0, &l);
  json_t *bf = rec ? bitfield(l.rec, l.nrec) : bitfield(l.faulty, l.nfaulty);
  lists_free(&l);
  return bf;
}

/* The whole pool: the miner's own messages plus two of strangers (which a client filters out). */
static json_t *mpool(const struct sim *s) {
  struct sim_msg *m;
  int n = sim_pending(s, &m);
  char id[32], key[48];
  sim_address(s, SIM_ADDR_WORKER, id, key);
  json_t *arr = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(arr, sim_message_json(s, &m[i], key));
  for (int i = 0; i < 2; i++) {
    struct sim_msg x = {.sector = 0, .nonce = 7 + i, .method = 0};
    snprintf(x.cid, sizeof x.cid, "bafy2bzacestranger%d", i);
    json_array_append_new(arr, sim_message_json(s, &x, i ? "f1strangerstrangerstrangerstrangerstran"
                                                         : "f099999"));
  }
  ef_free(m);
  return arr;
}

static json_t *worker_stats(const struct sim *s) {
  json_t *o = json_object();
  for (int w = 0; w < s->nworkers; w++) {
    const struct sim_worker *wk = &s->workers[w];
    if (wk->gone)
      continue;
    struct sim_usage u;
    sim_worker_usage(s, w, &u);
    json_t *gpus = json_array(), *tasks = json_array(), *counts = json_object();
    for (int g = 0; g < wk->gpus; g++)
      json_array_append_new(gpus, json_string(wk->gpu));
    for (int t = 0; t < SIM_NTASK; t++) {
      if (wk->tasks & 1u << t)
        json_array_append_new(tasks, json_string(task_types[t]));
      if (u.count[t]) {
        char k[48];
        snprintf(k, sizeof k, "8:%s", task_types[t]);
        json_object_set_new(counts, k, json_integer(u.count[t]));
      }
    }
    json_t *ws = json_pack(
      "{s:{s:s, s:b, s:{s:I, s:I, s:I, s:I, s:i, s:o}}, s:o, s:b, s:I, s:I, s:f, s:I, s:o}",
      "Info", "Hostname", wk->host, "IgnoreResources", 0, "Resources", "MemPhysical",
      (json_int_t)wk->ram, "MemUsed", (json_int_t)(wk->base_mem + u.mem_min), "MemSwap",
      (json_int_t)wk->swap, "MemSwapUsed", (json_int_t)0, "CPUs", wk->cpus, "GPUs", gpus,
      "Tasks", tasks, "Enabled", !wk->disabled, "MemUsedMin", (json_int_t)u.mem_min,
      "MemUsedMax", (json_int_t)u.mem_max, "GpuUsed", u.gpu, "CpuUse", (json_int_t)u.cpu,
      "TaskCounts", counts);
    json_object_set_new(o, wk->uuid, ws);
  }
  return o;
}

/* sealing jobs' RunWait: -1 ret-wait, 0 running, 1 prepared, N+1 assigned(N). */
static json_t *worker_jobs(const struct sim *s) {
  json_t *o = json_object();
  long long mid = atoll(s->miner + 2);
  for (int w = 0; w < s->nworkers; w++) {
    if (s->workers[w].gone)
      continue;
    struct sim_job **q;
    int nq = sim_worker_queue(s, w, &q);
    for (int pass = 0; pass < 2; pass++) {
      int n = pass ? s->njobs : nq;
      for (int i = 0; i < n; i++) {
        const struct sim_job *j = pass ? &s->jobs[i] : q[i];
        if (pass && (j->worker != w || j->state == SIM_J_ASSIGNED))
          continue;
        int rw = !pass ? i + 2 : j->state == SIM_J_RETWAIT ? -1 : j->state == SIM_J_RUNNING ? 0 : 1;
        const char *key = rw == -1 ? ZERO_UUID : s->workers[w].uuid;
        char jid[48], start[40];
        if (rw > 1)
          snprintf(jid, sizeof jid, ZERO_UUID);
        else
          snprintf(jid, sizeof jid, "%08x-0000-4000-8000-000000000000", j->id);
        rfc3339(start, rw > 1 ? j->queued : rw == -1 ? 0 : j->start);
        json_t *list = json_object_get(o, key);
        if (!list) {
          list = json_array();
          json_object_set_new(o, key, list);
        }
        json_array_append_new(list, json_pack(
          "{s:{s:{s:I, s:I}, s:s}, s:{s:I, s:I}, s:s, s:i, s:s, s:s}", "ID", "Sector", "Miner",
          (json_int_t)mid, "Number", (json_int_t)j->sector, "ID", jid, "Sector", "Miner",
          (json_int_t)mid, "Number", (json_int_t)j->sector, "Task", task_types[j->task],
          "RunWait", rw, "Start", start, "Hostname", s->workers[w].host));
      }
    }
    ef_free(q);
  }
  return o;
}

/* ---- dispatch ---- */

static json_t *rpc_error(const json_t *id, int code, const char *msg) {
  return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                   "error", "code", code, "message", msg);
}

json_t *rpc_answer(struct sim *s, const json_t *req) {
  const json_t *id = json_object_get(req, "id");
  const char *method = json_string_value(json_object_get(req, "method"));
  const json_t *params = json_object_get(req, "params");
  if (!json_is_object(req) || !method || (params && !json_is_array(params)))
    return rpc_error(id, -32600, "invalid request");
  if (!s)
    return rpc_error(id, 1, "fake-lotus-miner: cannot load the simulated state");
  const char *p0 = json_string_value(json_array_get(params, 0));
  json_t *res = NULL;
  if (!strcmp(method, "Filecoin.ActorAddress"))
    res = json_string(s->miner);
  else if (!strcmp(method, "Filecoin.ActorSectorSize"))
    res = json_integer((json_int_t)SIM_SECTOR_SIZE);
  else if (!strcmp(method, "Filecoin.SectorsSummary"))
    res = summary(s);
  else if (!strcmp(method, "Filecoin.WorkerStats"))
    res = worker_stats(s);
  else if (!strcmp(method, "Filecoin.WorkerJobs"))
    res = worker_jobs(s);
  else if (!strcmp(method, "Filecoin.StateMinerPower"))
    res = miner_power(s);
  else if (!strcmp(method, "Filecoin.StateMinerInfo"))
    res = miner_info(s);
  else if (!strcmp(method, "Filecoin.StateReadState"))
    res = read_state(s);
  else if (!strcmp(method, "Filecoin.StateMinerAvailableBalance"))
    res = atto_of_nano(s->bal.available);
  else if (!strcmp(method, "Filecoin.WalletBalance"))
    res = wallet_balance(s, p0);
  else if (!strcmp(method, "Filecoin.StateAccountKey")) {
    if (!(res = account_key(s, p0)))
      return rpc_error(id, 1, "actor not found");
  } else if (!strcmp(method, "Filecoin.StateMinerSectorCount"))
    res = sector_count(s);
  else if (!strcmp(method, "Filecoin.StateMinerProvingDeadline"))
    res = proving_deadline(s);
  else if (!strcmp(method, "Filecoin.StateMinerDeadlines"))
    res = deadlines(s);
  else if (!strcmp(method, "Filecoin.StateMinerPartitions")) {
    json_t *dl = json_array_get(params, 1);
    if (!json_is_integer(dl) || json_integer_value(dl) < 0 ||
        json_integer_value(dl) >= SIM_DEADLINES)
      return rpc_error(id, 1, "invalid deadline index");
    res = partitions(s, (int)json_integer_value(dl));
  } else if (!strcmp(method, "Filecoin.StateMinerFaults"))
    res = faults_or_recoveries(s, false);
  else if (!strcmp(method, "Filecoin.StateMinerRecoveries"))
    res = faults_or_recoveries(s, true);
  else if (!strcmp(method, "Filecoin.MpoolPending"))
    res = mpool(s);
  else if (!strcmp(method, "Filecoin.ChainHead")) {
    int64_t e = sim_epoch(s);
    res = json_pack("{s:[{s:s}], s:[{s:s, s:I, s:I}], s:I}", "Cids", "/",
                    "bafy2bzacechainheadchainheadchainheadchainhead", "Blocks", "Miner", "f01000",
                    "Height", (json_int_t)e, "Timestamp",
                    (json_int_t)((SIM_GENESIS_MS + e * SIM_EPOCH_MS) / 1000), "Height", (json_int_t)e);
  } else if (!strcmp(method, "Filecoin.NetPeerID")) {
    char peer[64];
    sim_peer_id(s, peer);
    res = json_string(peer);
  } else {
    char msg[160];
    snprintf(msg, sizeof msg, "method '%.100s' not found", method);
    return rpc_error(id, -32601, msg);
  }
  return json_pack("{s:s, s:o, s:O}", "jsonrpc", "2.0", "result", res, "id", id ? id : json_null());
}

/* ---- HTTP ---- */

static void reply(int fd, int status, const char *reason, const char *type, const char *body) {
  char head[256];
  size_t n = strlen(body);
  int hn = snprintf(head, sizeof head,
                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                    "Connection: close\r\n\r\n", status, reason, type, n);
  if (write(fd, head, (size_t)hn) != hn || write(fd, body, n) != (ssize_t)n) {
    /* the client went away: nothing to do */
  }
}

/* The value of header `name` in the header block, copied into out; false when absent. */
static bool header(const char *head, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  for (const char *p = strstr(head, "\r\n"); p; p = strstr(p, "\r\n")) {
    p += 2;
    if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1, *e = strstr(v, "\r\n");
      while (*v == ' ' || *v == '\t')
        v++;
      size_t n = e ? (size_t)(e - v) : strlen(v);
      if (n >= cap)
        return false;
      memcpy(out, v, n);
      out[n] = '\0';
      return true;
    }
  }
  return false;
}

static void serve_one(int fd, const char *token, rpc_state_fn load, void *ud) {
  char *buf = ef_malloc(HEAD_MAX + BODY_MAX + 1);
  size_t len = 0;
  char *end = NULL;
  while (!end && len < HEAD_MAX) {
    ssize_t r = read(fd, buf + len, HEAD_MAX - len);
    if (r <= 0)
      goto out;
    len += (size_t)r;
    buf[len] = '\0';
    end = strstr(buf, "\r\n\r\n");
  }
  if (!end) {
    reply(fd, 431, "Request Header Fields Too Large", "text/plain", "headers too large\n");
    goto out;
  }
  *end = '\0';
  size_t head_len = (size_t)(end - buf) + 4;
  if (strncmp(buf, "POST ", 5) != 0) {
    reply(fd, 405, "Method Not Allowed", "text/plain", "only POST\n");
    goto out;
  }
  char v[1100];
  long clen = header(buf, "Content-Length", v, sizeof v) ? strtol(v, NULL, 10) : -1;
  if (clen < 0 || clen > BODY_MAX) {
    reply(fd, 411, "Length Required", "text/plain", "need a Content-Length up to 1 MiB\n");
    goto out;
  }
  if (token) {
    char want[1100];
    snprintf(want, sizeof want, "Bearer %s", token);
    if (!header(buf, "Authorization", v, sizeof v) || strcmp(v, want) != 0) {
      reply(fd, 401, "Unauthorized", "text/plain", "JWT Verification failed: signature is invalid\n");
      goto out;
    }
  }
  while (len < head_len + (size_t)clen) {
    ssize_t r = read(fd, buf + len, head_len + (size_t)clen - len);
    if (r <= 0)
      goto out;
    len += (size_t)r;
  }
  json_error_t jerr;
  json_t *req = json_loadb(buf + head_len, (size_t)clen, 0, &jerr);
  json_t *ans;
  if (!req) {
    ans = rpc_error(NULL, -32700, "parse error");
  } else {
    struct sim *s = json_is_object(req) ? load(ud) : NULL;
    ans = rpc_answer(s, req);
    sim_free(&s);
  }
  char *text = json_dumps(ans, JSON_COMPACT);
  reply(fd, 200, "OK", "application/json", text);
  free(text);
  json_decref(ans);
  json_decref(req);
out:
  ef_free(buf);
}

int rpc_serve(const char *addr, const char *token, rpc_state_fn load, void *ud) {
  char host[64];
  int port;
  if (sscanf(addr, "%63[^:]:%d", host, &port) != 2 || port < 0 || port > 65535) {
    fprintf(stderr, "fake-lotus-miner: --rpc wants HOST:PORT, got \"%s\"\n", addr);
    return 1;
  }
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (strcmp(host, "localhost") == 0)
    snprintf(host, sizeof host, "127.0.0.1");
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
    fprintf(stderr, "fake-lotus-miner: --rpc serves on loopback only (127.0.0.0/8), not \"%s\"\n",
            host);
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t sl = sizeof sa;
  if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 16) != 0 ||
      getsockname(ls, (struct sockaddr *)&sa, &sl) != 0) {
    fprintf(stderr, "fake-lotus-miner: cannot listen on %s: %s\n", addr, strerror(errno));
    if (ls >= 0)
      close(ls);
    return 1;
  }
  printf("listening on %s:%d\n", host, ntohs(sa.sin_port));
  fflush(stdout);
  for (;;) {
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      fprintf(stderr, "fake-lotus-miner: accept: %s\n", strerror(errno));
      close(ls);
      return 1;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    serve_one(fd, token, load, ud);
    close(fd);
  }
}
