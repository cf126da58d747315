/* SPDX-License-Identifier: MIT */
/* lotus_collector.c -- the lotus miner collector: its thread, the CLI source, the delta upload.
 *
 * DESIGN
 * One thread per collector sleeps on a condition variable (monotonic clock) until the next
 * collection is due, a full record is requested, or it is told to stop. A collection runs each
 * lotus-miner command through order_exec() (own process group, time limit, SIGTERM then
 * SIGKILL) or asks the RPC source, parses, and keeps the last GOOD parse of each part: a part
 * that failed (timed out, not found, exit status, unrecognisable output) is replaced by its last
 * good value and named in the record's "error" field, so a hung lotus-miner shows as an error
 * with the last known figures, never as an empty miner. When `info` times out the other commands
 * are skipped for that round (the daemon is hung; three timeouts in a row would only delay).
 *
 * The CLI source's further parts run after the three (run_extras): `proving deadlines`,
 * `proving info`, `proving faults` every round (the deadline moves every 30 minutes; faults
 * matter at once), `lotus mpool pending --local` every round when a lotus program is configured,
 * and the slowly changing `actor control list --verbose`, `net id`, `net listen` on the first
 * round, after one of them failed, and every slow_interval_ms. Each has the same time limit and
 * last-good rule; one failing is named in "error" and stops nothing.
 *
 * A round whose `info` fails (the daemon is down, hangs, prints nothing usable) sets
 * `minerError` (+ `minerErrorSince`, the first failed round); before any miner id is known the
 * record is uploaded without one, {minerError, minerErrorSince, hostName, timestamp}, which the
 * server keys by the device (docs/protocol.md#miner-down). After the record is built the
 * collector adds what lotus says of each worker (`lotus`), the miner host's reachability of each
 * (`netState`, lotus_reach.h) and, when enabled, the proving check of the next deadline
 * (`proving check --only-bad`); all of it on this thread.
 *
 * Uploads go through struct lotus_delta: it keeps the last record SENT and diffs each new one
 * against it (mergepatch_diff); "timestamp" and "deadlineLeftSeconds" (relative to it) are left
 * out of the comparison so that an unchanged miner sends nothing, and added to every upload
 * that does go out, with minerId.
 */
#include "lotus_collector.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "edgefleet/error.h"
#include "jsonutil.h"
#include "log.h"
#include "lotus_parse.h"
#include "lotus_reach.h"
#include "lotus_record.h"
#include "lotus_rpc.h"
#include "lotus_rpc_deadlines.h"
#include "mem.h"
#include "mergepatch.h"
#include "orders.h"

#define OUTPUT_MAX (4u << 20)    /* info, sealing workers, sealing jobs */
#define SECTORS_MAX (64u << 20)  /* sectors list: ~100 bytes a sector */
#define ERROR_MAX 1024

#define LOTUS_DEADLINES 48               /* WindowPoSt deadlines a proving period */
#define LOTUS_DEADLINE_MS (30 * 60000LL) /* 60 epochs of 30 s */

/* ---- delta ------------------------------------------------------------------------------ */

struct lotus_delta {
  lotus_send_fn send;
  void *ud;
  json_t *last;      /* the last record sent, without "timestamp" and "deadlineLeftSeconds" */
  json_t *ts, *left; /* those two of the last record pushed (NULL when it had none) */
  bool need_full;
  struct lotus_delta_stats st;
};

void lotus_delta_new(lotus_send_fn send, void *ud, struct lotus_delta **out) {
  struct lotus_delta *d = ef_calloc(1, sizeof *d);
  d->send = send;
  d->ud = ud;
  d->need_full = true;
  *out = d;
}

void lotus_delta_free(struct lotus_delta **d) {
  if (!d || !*d) return;
  json_decref((*d)->last);
  json_decref((*d)->ts);
  json_decref((*d)->left);
  ef_free(*d);
  *d = NULL;
}

static int send_doc(struct lotus_delta *d, const json_t *doc, bool full) {
  char *text = jdump(doc);
  size_t n = strlen(text);
  int rc = d->send(d->ud, text, full ? 1 : 0);
  ef_free(text);
  if (rc != 0) {
    d->need_full = true;
    ef_log(EF_LOG_WARN, "lotus: %s upload of %zu bytes not queued (%d); next one full",
           full ? "full" : "patch", n, rc);
    return rc < 0 ? rc : EF_EIO;
  }
  if (full) {
    d->st.full_count++;
    d->st.full_bytes += n;
  } else {
    d->st.patch_count++;
    d->st.patch_bytes += n;
  }
  ef_log(EF_LOG_DEBUG, "lotus: upload %s %zu bytes (full %llu x, %llu B; patch %llu x, %llu B)",
         full ? "full" : "patch", n, (unsigned long long)d->st.full_count,
         (unsigned long long)d->st.full_bytes, (unsigned long long)d->st.patch_count,
         (unsigned long long)d->st.patch_bytes);
  return 1;
}

/* deadlineLeftSeconds changes at every collection like the timestamp, and is relative to it:
 * both are left out of the comparison and sent with every upload that goes out. */
static void add_volatile(json_t *doc, json_t *ts, json_t *left) {
  if (ts) json_object_set(doc, "timestamp", ts);
  if (left) json_object_set(doc, "deadlineLeftSeconds", left);
}

int lotus_delta_push(struct lotus_delta *d, const json_t *rec) {
  json_t *cur = json_deep_copy(rec);
  json_t *ts = json_incref(json_object_get(cur, "timestamp"));
  json_t *left = json_incref(json_object_get(cur, "deadlineLeftSeconds"));
  json_object_del(cur, "timestamp");
  json_object_del(cur, "deadlineLeftSeconds");
  const char *id = jstr(cur, "minerId");
  const char *last_id = d->last ? jstr(d->last, "minerId") : NULL;
  bool full = d->need_full || !d->last || !id || !last_id || strcmp(id, last_id) != 0;
  int rc;
  if (!id && !last_id && d->last && !d->need_full && json_equal(d->last, cur)) {
    d->st.unchanged++; /* the same miner-down record without a miner id: sent already */
    rc = 0;
  } else if (full) {
    d->need_full = false;
    json_t *doc = json_deep_copy(cur);
    add_volatile(doc, ts, left);
    rc = send_doc(d, doc, true);
    json_decref(doc);
  } else {
    json_t *patch = mergepatch_diff(d->last, cur);
    if (!patch) {
      d->st.unchanged++;
      rc = 0;
    } else {
      json_object_set_new(patch, "minerId", json_string(id));
      add_volatile(patch, ts, left);
      rc = send_doc(d, patch, false);
      json_decref(patch);
    }
  }
  json_decref(d->ts);
  json_decref(d->left);
  d->ts = ts; /* the references move */
  d->left = left;
  json_decref(d->last);
  d->last = cur;
  return rc;
}

int lotus_delta_full(struct lotus_delta *d) {
  d->need_full = true;
  if (!d->last) return 0;
  d->need_full = false;
  json_t *doc = json_deep_copy(d->last);
  add_volatile(doc, d->ts, d->left); /* the values of the last collection, as it was sent */
  int rc = send_doc(d, doc, true);
  json_decref(doc);
  return rc;
}

void lotus_delta_get_stats(const struct lotus_delta *d, struct lotus_delta_stats *st) {
  *st = d->st;
}

/* ---- the CLI source --------------------------------------------------------------------- */

/* One lotus-miner command and the last good parse of its output. */
struct part {
  const char *name;            /* "info", "sealing workers", ... for messages */
  const char *args[4];         /* arguments after the program */
  json_t *(*parse)(const char *buf, size_t len);
  const char *list;            /* the key a good parse has: an array (non-empty, or empty
                                  without parse errors) or any value (NULL: needs minerId) */
  size_t out_max;
  json_t *good;                /* last good parse, or NULL */
  int64_t good_at;             /* ms: when `good` was read */
  bool lotus;                  /* runs the lotus program (conf.lotus_path), not lotus-miner */
};

/* The CLI source's further parts (lotus_record_add_proving() & co.): every round but the slow
 * ones, which run on the first round, after a failure, and every slow_interval_ms. */
enum { X_DEADLINES, X_PINFO, X_FAULTS, X_CONTROL, X_NETID, X_NETLISTEN, X_MPOOL, X_COUNT };

struct lotus_collector {
  struct lotus_conf conf;
  bool rpc;
  struct lotus_rpc *rpc_src;
  struct lotus_delta *delta;
  struct part parts[4];        /* info, workers, jobs, sectors */
  size_t nparts;
  struct part extra[X_COUNT];  /* cli: proving, addresses, net, messages */
  int64_t slow_next;           /* ms (wall): when the slow parts are due again; 0 = now */
  bool slow_failed;            /* a slow part failed last time: retried next round */

  pthread_t thread;
  bool started;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  bool stop;                   /* under mu */
  bool full_wanted;            /* under mu */
  struct lotus_delta_stats stats; /* under mu: the delta's counts, copied by the thread */
  json_t *starts;              /* job id -> start (ms) given last time, for stable starts */
  struct part storage;         /* `storage list`, for worker reachability */
  int64_t down_since;          /* ms: first round whose `info` failed; 0 while it works */
  json_t *pcheck;              /* the last provingCheck, or NULL */
  json_t *reach;               /* the last reachability probe {host: netState}, or NULL */
  unsigned storage_failed;     /* `storage list` failures in a row (logged once) */
  int pc_deadline;             /* the deadline and opening it was made for */
  int64_t pc_open;
};

static void add_error(char *err, size_t cap, const char *fmt, const char *a, const char *b) {
  size_t n = strlen(err);
  if (n + 3 >= cap) return;
  if (n) {
    snprintf(err + n, cap - n, "; ");
    n += 2;
  }
  snprintf(err + n, cap - n, fmt, a, b);
}

/* First parse error of a failed parse, for the message. */
static const char *first_parse_error(const json_t *parsed) {
  json_t *errs = json_object_get(parsed, "errors");
  const char *e = json_string_value(json_array_get(errs, 0));
  return e ? e : "no data";
}

static bool parse_ok(const struct part *p, const json_t *parsed) {
  if (!p->list) return jstr(parsed, "minerId") != NULL;
  json_t *arr = json_object_get(parsed, p->list);
  if (arr && !json_is_array(arr)) return true;
  if (!json_is_array(arr)) return false;
  return json_array_size(arr) > 0 || json_integer_value(json_object_get(parsed, "errorCount")) == 0;
}

/* Run one part; on success its `good` is replaced. Returns 0, or -1 with err extended, and
 * *timed_out set when the command timed out or the program is missing (no use trying more). */
static int run_part(struct lotus_collector *lc, struct part *p, char *err, size_t errlen,
                    bool *timed_out) {
  const char *prog = p->lotus ? lc->conf.lotus_path : lc->conf.miner_path;
  char *argv[6] = {(char *)prog, NULL, NULL, NULL, NULL, NULL};
  for (int i = 0; i < 4 && p->args[i]; i++) argv[i + 1] = (char *)p->args[i];
  char *out = NULL;
  size_t len = 0;
  char msg[512];
  char what[64];
  snprintf(what, sizeof what, "%s %s", p->lotus ? "lotus" : "lotus-miner", p->name);
  int64_t t0 = ef_mono_ms();
  int rc = order_exec(argv, lc->conf.timeout_ms, p->out_max, &out, &len, msg, sizeof msg);
  ef_log(EF_LOG_DEBUG, "lotus: %s: %s in %lld ms, %zu bytes", what, rc == 0 ? "ok" : msg,
         (long long)(ef_mono_ms() - t0), len);
  if (rc != 0) {
    *timed_out = strncmp(msg, "timed out", 9) == 0;
    if (strncmp(msg, "cannot run", 10) == 0 && strstr(msg, "No such file")) {
      snprintf(msg, sizeof msg, "not found (%s)", prog);
      *timed_out = true; /* the other commands would fail the same way */
    }
    add_error(err, errlen, "%s: %s", what, msg);
    return -1;
  }
  json_t *parsed = p->parse(out, len);
  bool truncated = strcmp(msg, "ok") != 0;
  ef_free(out);
  if (!parse_ok(p, parsed)) {
    char why[300];
    snprintf(why, sizeof why, "unrecognised output (%s)", first_parse_error(parsed));
    add_error(err, errlen, "%s: %s", what, why);
    json_decref(parsed);
    return -1;
  }
  if (truncated) add_error(err, errlen, "%s: %s", what, msg);
  json_decref(p->good);
  p->good = parsed;
  return 0;
}

/* `proving info`'s offsets ("in 30 minutes") as of now when the last good parse is older
 * (the command failed this round): a copy with the offsets moved, else the parse itself. */
static json_t *pinfo_now(const struct part *p, int64_t now_ms) {
  if (!p->good || p->good_at == now_ms) return json_incref(p->good);
  json_t *c = json_deep_copy(p->good);
  static const char *const keys[] = {"deadlineOpenInSeconds", "deadlineCloseInSeconds", NULL};
  for (const char *const *k = keys; *k; k++) {
    json_t *v = json_object_get(c, *k);
    if (json_is_number(v))
      json_object_set_new(c, *k, json_real(json_number_value(v) -
                                           (double)(now_ms - p->good_at) / 1000.0));
  }
  return c;
}

/* The further parts of the CLI source (docs/lotus-collector.md#commands): `proving deadlines`,
 * `proving info`, `proving faults` every round; `actor control list --verbose`, `net id`,
 * `net listen` when due; `lotus mpool pending --local` every round when lotus_path is set. A
 * failure is named in `err` and its last good parse is used; it never stops the others. */
static void run_extras(struct lotus_collector *lc, int64_t now_ms, char *err, size_t errlen) {
  bool slow_due = lc->slow_failed || !lc->slow_next || now_ms >= lc->slow_next;
  bool slow_failed = false;
  for (int i = 0; i < X_COUNT; i++) {
    struct part *p = &lc->extra[i];
    bool slow = i == X_CONTROL || i == X_NETID || i == X_NETLISTEN;
    if (slow && !slow_due) continue;
    if (p->lotus && !(lc->conf.lotus_path && *lc->conf.lotus_path)) continue;
    bool timed_out = false;
    if (run_part(lc, p, err, errlen, &timed_out) == 0) p->good_at = now_ms;
    else if (slow) slow_failed = true;
  }
  if (slow_due) {
    lc->slow_failed = slow_failed;
    lc->slow_next = now_ms + (lc->conf.slow_interval_ms > 0 ? lc->conf.slow_interval_ms : 0);
  }
}

/* The record's keys of the further parts (lotus_record_add_*). */
static void add_extras(struct lotus_collector *lc, json_t *rec, int64_t now_ms) {
  json_t *pinfo = pinfo_now(&lc->extra[X_PINFO], now_ms);
  lotus_record_add_proving(rec, lc->extra[X_DEADLINES].good, pinfo, lc->extra[X_FAULTS].good,
                           now_ms);
  json_decref(pinfo);
  const json_t *ctl = lc->extra[X_CONTROL].good;
  lotus_record_add_addresses(rec, ctl);
  json_t *net = json_object();
  const char *id = jstr(lc->extra[X_NETID].good, "peerId");
  if (id) json_object_set_new(net, "peerId", json_string(id));
  json_t *ma = json_object_get(lc->extra[X_NETLISTEN].good, "multiaddrs");
  if (ma) json_object_set(net, "multiaddrs", ma);
  lotus_record_add_net(rec, net);
  json_decref(net);
  if (!(lc->conf.lotus_path && *lc->conf.lotus_path))
    lotus_record_add_messages(rec, NULL, NULL, "no lotus binary configured");
  else if (lc->extra[X_MPOOL].good)
    lotus_record_add_messages(rec, lc->extra[X_MPOOL].good, ctl, NULL);
  else
    lotus_record_add_messages(rec, NULL, NULL, "lotus mpool pending: no good answer yet");
}

/* `down` gets the error of `info` when it failed this round (the miner is down). */
static json_t *collect_cli(struct lotus_collector *lc, int64_t now_ms, char *err, size_t errlen,
                           char *down, size_t downlen) {
  bool skipped = false;
  for (size_t i = 0; i < lc->nparts; i++) {
    bool timed_out = false;
    if (run_part(lc, &lc->parts[i], err, errlen, &timed_out) != 0 && i == 0) {
      snprintf(down, downlen, "%s", err);
      if (!timed_out) continue;
      add_error(err, errlen, "%s%s", "other commands skipped this round", "");
      skipped = true;
      break;
    }
  }
  if (!skipped) run_extras(lc, now_ms, err, errlen);
  json_t *rec = lotus_record_build(lc->parts[0].good, lc->parts[1].good, lc->parts[2].good,
                                   lc->nparts > 3 ? lc->parts[3].good : NULL, now_ms);
  add_extras(lc, rec, now_ms);
  return rec;
}

/* The RPC source keeps its last good parts in the same slots (info, workers, jobs). */
static json_t *collect_rpc(struct lotus_collector *lc, int64_t now_ms, char *err, size_t errlen,
                           char *down, size_t downlen) {
  json_t *got[3] = {NULL, NULL, NULL};
  lotus_rpc_collect(lc->rpc_src, now_ms, &got[0], &got[1], &got[2], err, errlen);
  if (!got[0]) snprintf(down, downlen, "%s", *err ? err : "miner API: no answer");
  for (int i = 0; i < 3; i++)
    if (got[i]) {
      json_decref(lc->parts[i].good);
      lc->parts[i].good = got[i];
    }
  json_t *rec = lotus_record_build(lc->parts[0].good, lc->parts[1].good, lc->parts[2].good, NULL,
                                   now_ms);
  if (rec && lc->parts[0].good) lotus_rpc_add_record(rec, lc->parts[0].good);
  return rec;
}

/* A job's elapsed `time` as lotus prints it changes at every collection, and a merge patch
 * resends a whole job list for one changed element: a 50-worker miner then uploads 6.4 MB an
 * hour instead of 0.3. So each job carries when it started instead (ms, to the second), the
 * same value as last time when within JITTER_MS of it (printed times are rounded), and the
 * server and the dashboard show the elapsed time. Jobs whose start lotus does not know keep the
 * printed `time`. */
#define JITTER_MS 2000

static void stamp_job_starts(struct lotus_collector *lc, json_t *rec, int64_t now_ms) {
  json_t *seen = json_object();
  const char *host, *task;
  json_t *w, *list;
  json_object_foreach(json_object_get(rec, "workerInfo"), host, w) {
    static const char *const qs[] = {"currentQueue", "pendingQueue"};
    for (int q = 0; q < 2; q++)
      json_object_foreach(json_object_get(w, qs[q]), task, list) {
        size_t i;
        json_t *j;
        json_array_foreach(list, i, j) {
          json_t *secs = json_object_get(j, "seconds");
          const char *id = jstr(j, "id");
          if (!json_is_number(secs) || !id || !*id) {
            json_object_del(j, "seconds");
            continue;
          }
          /* Ids alone repeat (queued jobs of old lotus all show 00000000). */
          char key[256];
          snprintf(key, sizeof key, "%s/%s/%s/%s", id, jstr(j, "sector") ? jstr(j, "sector") : "",
                   jstr(j, "worker") ? jstr(j, "worker") : "", task);
          int64_t start = now_ms - (int64_t)(json_number_value(secs) * 1000.0 + 0.5);
          start -= ((start % 1000) + 1000) % 1000; /* down to the second, negative too */
          json_t *prev = json_object_get(lc->starts, key);
          if (prev && llabs(json_integer_value(prev) - start) <= JITTER_MS)
            start = json_integer_value(prev);
          json_object_set_new(seen, key, json_integer(start));
          json_object_set_new(j, "start", json_integer(start));
          json_object_del(j, "time");
          json_object_del(j, "seconds");
        }
      }
  }
  json_decref(lc->starts);
  lc->starts = seen; /* jobs gone from the output are forgotten */
}

/* ---- workers as lotus sees them, and as the miner host reaches them ---------------------- */

/* The record's key of a worker lotus lists (as lotus_record.c keys it). */
static const char *worker_key(const json_t *pw) {
  const char *host = jstr(pw, "hostName");
  const char *id = jstr(pw, "id");
  return host && *host ? host : id && *id ? id : "(unknown)";
}

/* workerInfo[host].lotus = {listed, enabled, tasks[, lastSeen]} from the last good worker list
 * (several lotus workers on one host: enabled when any is, the union of their tasks). */
static void add_lotus_view(struct lotus_collector *lc, json_t *rec) {
  json_t *wi = json_object_get(rec, "workerInfo");
  size_t i;
  json_t *pw;
  json_array_foreach(json_object_get(lc->parts[1].good, "workers"), i, pw) {
    json_t *w = json_object_get(wi, worker_key(pw));
    if (!json_is_object(w)) continue;
    json_t *lv = json_object_get(w, "lotus");
    if (!lv) {
      lv = json_pack("{s:b, s:b, s:[]}", "listed", 1, "enabled", 0, "tasks");
      json_object_set_new(w, "lotus", lv);
    }
    if (!json_is_false(json_object_get(pw, "enabled")))
      json_object_set_new(lv, "enabled", json_true());
    json_t *tasks = json_object_get(lv, "tasks");
    size_t k;
    json_t *t;
    json_array_foreach(json_object_get(pw, "tasks"), k, t) {
      const char *name = json_is_string(t) ? json_string_value(t) : jstr(t, "task");
      bool have = false;
      size_t j;
      json_t *x;
      json_array_foreach(tasks, j, x) have = have || (name && json_is_string(x) &&
                                                      strcmp(json_string_value(x), name) == 0);
      if (name && *name && !have) json_array_append_new(tasks, json_string(name));
    }
    json_array_foreach(json_object_get(pw, "taskTypes"), k, t) {
      const char *name = json_string_value(t);
      bool have = false;
      size_t j;
      json_t *x;
      json_array_foreach(tasks, j, x) have = have || (name && json_is_string(x) &&
                                                      strcmp(json_string_value(x), name) == 0);
      if (name && *name && !have) json_array_append_new(tasks, json_string(name));
    }
    json_t *seen = json_object_get(pw, "lastSeen"); /* when the source reports a heartbeat */
    if (json_is_integer(seen)) json_object_set(lv, "lastSeen", seen);
  }
}

/* workerInfo[host].netState for every worker lotus lists, from `storage list` and a connect. */
static bool has_string_in(const json_t *arr, const char *s) {
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v)
    if (strcmp(json_string_value(v), s) == 0) return true;
  return false;
}

/* `probe` false (the miner is down this round): the last round's results are kept. */
static void add_reach(struct lotus_collector *lc, json_t *rec, bool probe) {
  if (lc->conf.reach_timeout_ms <= 0 || !lc->conf.miner_path || !*lc->conf.miner_path) return;
  json_t *wi = json_object_get(rec, "workerInfo");
  json_t *hosts = json_array();
  const char *host;
  json_t *w;
  json_object_foreach(wi, host, w)
    if (json_object_get(w, "lotus")) json_array_append_new(hosts, json_string(host));
  if (json_array_size(hosts) && probe) {
    /* A `storage list` that fails leaves the workers "unknown" (the last good URLs are used);
     * it is logged, not added to the record's error: the miner's figures are fine. */
    bool timed_out = false;
    char serr[ERROR_MAX] = "";
    if (run_part(lc, &lc->storage, serr, sizeof serr, &timed_out) != 0)
      ef_log(lc->storage_failed++ ? EF_LOG_DEBUG : EF_LOG_WARN, "lotus: reachability: %s", serr);
    else
      lc->storage_failed = 0;
    json_decref(lc->reach);
    lc->reach = lotus_reach_probe(lc->storage.good, hosts, lc->conf.reach_timeout_ms,
                                  lc->conf.reach_max > 0 ? (size_t)lc->conf.reach_max : 0);
  }
  json_t *state;
  json_object_foreach(lc->reach, host, state) {
    json_t *entry = json_object_get(wi, host);
    if (json_is_object(entry) && has_string_in(hosts, host))
      json_object_set(entry, "netState", state);
  }
  json_decref(hosts);
}

/* ---- the proving check ------------------------------------------------------------------ */

/* Run lotus-miner with `args` (NULL-terminated, at most 4) within timeout_ms. */
static int run_miner(struct lotus_collector *lc, const char *const *args, int64_t timeout_ms,
                     char **out, size_t *len, char *msg, size_t msglen) {
  char *argv[6] = {(char *)lc->conf.miner_path, NULL, NULL, NULL, NULL, NULL};
  for (int i = 0; i < 4 && args[i]; i++) argv[i + 1] = (char *)args[i];
  return order_exec(argv, timeout_ms, OUTPUT_MAX, out, len, msg, msglen);
}

/* The current deadline and when the next one opens: from the record (`proving deadlines` +
 * `proving info` of this round, lotus_record_add_proving()). */
static bool next_deadline(const json_t *rec, int *cur, int64_t *next_open) {
  json_t *c = json_object_get(rec, "currentDeadline");
  json_t *n = json_object_get(rec, "nextDeadlineOpen");
  if (!json_is_integer(c) || !json_is_integer(n)) return false;
  *cur = (int)json_integer_value(c);
  *next_open = json_integer_value(n);
  return *cur >= 0 && *cur < LOTUS_DEADLINES;
}

/* When a deadline among the next proving_check_deadlines opens within proving_check_before and
 * was not checked for this opening yet: check it (one a round), and carry the last result. */
static void proving_check(struct lotus_collector *lc, json_t *rec, int64_t now) {
  if (!lc->conf.proving_check || !lc->conf.miner_path || !*lc->conf.miner_path) return;
  int cur = 0;
  int64_t next_open = 0;
  if (jstr(rec, "minerError") == NULL && next_deadline(rec, &cur, &next_open)) {
    int64_t n = lc->conf.proving_check_deadlines;
    for (int64_t k = 0; k < n && k < LOTUS_DEADLINES - 1; k++) {
      int dl = (int)((cur + 1 + k) % LOTUS_DEADLINES);
      int64_t open = next_open + k * LOTUS_DEADLINE_MS;
      if (now < open - lc->conf.proving_check_before_ms || now >= open) continue;
      if (lc->pcheck && dl == lc->pc_deadline && llabs(open - lc->pc_open) < 60000) continue;
      char dls[16], msg[512];
      snprintf(dls, sizeof dls, "%d", dl);
      const char *const args[] = {"proving", "check", "--only-bad", dls, NULL};
      char *out = NULL;
      size_t len = 0;
      int64_t t0 = ef_mono_ms();
      int rc = run_miner(lc, args, lc->conf.proving_check_timeout_ms, &out, &len, msg,
                         sizeof msg);
      json_t *ck = rc == 0 ? ef_lotus_parse_check(out, len) : NULL;
      ef_free(out);
      lotus_record_add_check(rec, ck, dl, now, rc == 0 ? NULL : msg);
      json_decref(ck);
      json_t *pc = json_incref(json_object_get(rec, "provingCheck"));
      /* the opening this check was made for (deadlines[].open of an index before the current
       * one is the past period's) */
      json_object_set_new(pc, "opensAt", json_integer((json_int_t)open));
      ef_log(rc == 0 && json_integer_value(json_object_get(pc, "bad")) == 0 ? EF_LOG_INFO
                                                                          : EF_LOG_WARN,
             "lotus: proving check of deadline %d (opens in %lld s): %s, %lld bad, %lld ms", dl,
             (long long)((open - now) / 1000), rc == 0 ? "done" : msg,
             (long long)json_integer_value(json_object_get(pc, "bad")),
             (long long)(ef_mono_ms() - t0));
      json_decref(lc->pcheck);
      lc->pcheck = pc;
      lc->pc_deadline = dl;
      lc->pc_open = open;
      break;
    }
  }
  if (lc->pcheck) json_object_set_new(rec, "provingCheck", json_deep_copy(lc->pcheck));
}

/* The upload of a miner whose `info` never worked: no miner id, keyed by the device. */
static json_t *device_record(const json_t *rec) {
  json_t *d = json_object();
  static const char *const keys[] = {"minerError", "minerErrorSince", "error", "timestamp", NULL};
  for (const char *const *k = keys; *k; k++) {
    json_t *v = json_object_get(rec, *k);
    if (v) json_object_set(d, *k, v);
  }
  char host[256];
  if (gethostname(host, sizeof host) == 0) {
    host[sizeof host - 1] = '\0';
    json_t *h = json_string(host);
    if (h) json_object_set_new(d, "hostName", h);
  }
  return d;
}

int lotus_collector_run_once(struct lotus_collector *lc, int64_t now_ms, json_t **rec_out) {
  char err[ERROR_MAX] = "", down[ERROR_MAX] = "";
  json_t *rec = lc->rpc ? collect_rpc(lc, now_ms, err, sizeof err, down, sizeof down)
                        : collect_cli(lc, now_ms, err, sizeof err, down, sizeof down);
  stamp_job_starts(lc, rec, now_ms);
  if (*down) {
    if (!lc->down_since) lc->down_since = now_ms;
    json_object_set_new(rec, "minerError", json_string(down));
    json_object_set_new(rec, "minerErrorSince", json_integer((json_int_t)lc->down_since));
  } else {
    lc->down_since = 0;
  }
  add_lotus_view(lc, rec);
  add_reach(lc, rec, !*down);
  proving_check(lc, rec, now_ms);
  if (*err) {
    json_object_set_new(rec, "error", json_string(err));
    ef_log(EF_LOG_WARN, "lotus: %s", err);
  }
  int rc = 0;
  if (jstr(rec, "minerId")) {
    rc = lotus_delta_push(lc->delta, rec);
  } else if (*down) {
    json_t *d = device_record(rec);
    rc = lotus_delta_push(lc->delta, d);
    json_decref(d);
  } else {
    ef_log(EF_LOG_INFO, "lotus: no miner id yet, nothing uploaded");
  }
  if (rec_out) *rec_out = rec;
  else json_decref(rec);
  return rc;
}

/* ---- the thread ------------------------------------------------------------------------- */

static struct timespec abs_after(int64_t ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += (time_t)(ms / 1000);
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

static void *thread_main(void *arg) {
  struct lotus_collector *lc = arg;
  int64_t next = ef_mono_ms();
  pthread_mutex_lock(&lc->mu);
  for (;;) {
    while (!lc->stop && !lc->full_wanted && ef_mono_ms() < next) {
      struct timespec ts = abs_after(next - ef_mono_ms());
      pthread_cond_timedwait(&lc->cond, &lc->mu, &ts);
    }
    if (lc->stop) break;
    bool full = lc->full_wanted;
    lc->full_wanted = false;
    pthread_mutex_unlock(&lc->mu);
    if (full) lotus_delta_full(lc->delta);
    if (ef_mono_ms() >= next) {
      int64_t t0 = ef_mono_ms();
      lotus_collector_run_once(lc, ef_now_ms(), NULL);
      next = t0 + lc->conf.interval_ms;
      if (next < ef_mono_ms()) next = ef_mono_ms();
    }
    pthread_mutex_lock(&lc->mu);
    lotus_delta_get_stats(lc->delta, &lc->stats); /* for lotus_collector_get_stats() */
  }
  pthread_mutex_unlock(&lc->mu);
  return NULL;
}

/* ---- life ------------------------------------------------------------------------------- */

int lotus_collector_new(const struct lotus_conf *conf, lotus_send_fn send, void *ud,
                        struct lotus_collector **out, char *err, size_t errlen) {
  const char *source = conf->source && *conf->source ? conf->source : "cli";
  bool rpc = strcmp(source, "rpc") == 0;
  if (!rpc && strcmp(source, "cli") != 0) {
    snprintf(err, errlen, "lotus_source: '%s' is not cli or rpc", source);
    return EF_ECONFIG;
  }
  if (!rpc && (!conf->miner_path || !*conf->miner_path)) {
    snprintf(err, errlen, "lotus_miner: the lotus-miner program is required for lotus_source cli");
    return EF_ECONFIG;
  }
  if (conf->interval_ms <= 0 || conf->timeout_ms <= 0) {
    snprintf(err, errlen, "lotus_interval and lotus_timeout must be positive");
    return EF_ECONFIG;
  }
  struct lotus_rpc *src = NULL;
  if (rpc) {
    const char *api = conf->api && *conf->api ? conf->api : getenv("MINER_API_INFO");
    const char *node = conf->node_api && *conf->node_api ? conf->node_api
                                                         : getenv("FULLNODE_API_INFO");
    if (!api || !*api) {
      snprintf(err, errlen, "lotus_source rpc needs lotus_api or $MINER_API_INFO");
      return EF_ECONFIG;
    }
    int rc = lotus_rpc_new(api, conf->token, node && *node ? node : NULL, conf->node_token,
                           conf->timeout_ms, &src, err, errlen);
    if (rc != 0) return rc;
  }
  struct lotus_collector *lc = ef_calloc(1, sizeof *lc);
  lc->conf = *conf;
  lc->conf.source = source;
  lc->rpc = rpc;
  lc->rpc_src = src;
  lotus_delta_new(send, ud, &lc->delta);
#define PART(n, a, f, l, m) \
  (struct part) { .name = (n), .args = a, .parse = (f), .list = (l), .out_max = (m) }
#define ARGS(...) {__VA_ARGS__}
  lc->parts[0] = PART("info", ARGS("info"), ef_lotus_parse_info, NULL, OUTPUT_MAX);
  lc->parts[1] = PART("sealing workers", ARGS("sealing", "workers"), ef_lotus_parse_workers,
                      "workers", OUTPUT_MAX);
  lc->parts[2] = PART("sealing jobs", ARGS("sealing", "jobs"), ef_lotus_parse_jobs, "jobs",
                      OUTPUT_MAX);
  lc->parts[3] = PART("sectors list", ARGS("sectors", "list"), ef_lotus_parse_sectors, "sectors",
                      SECTORS_MAX);
  lc->nparts = conf->sectors && !rpc ? 4 : 3;
  if (!rpc) {
    lc->extra[X_DEADLINES] = PART("proving deadlines", ARGS("proving", "deadlines"),
                                  ef_lotus_parse_deadlines, "deadlines", OUTPUT_MAX);
    lc->extra[X_PINFO] = PART("proving info", ARGS("proving", "info"),
                              ef_lotus_parse_proving_info, "currentDeadline", OUTPUT_MAX);
    lc->extra[X_FAULTS] = PART("proving faults", ARGS("proving", "faults"), ef_lotus_parse_faults,
                               "faults", SECTORS_MAX);
    lc->extra[X_CONTROL] = PART("actor control list",
                                ARGS("actor", "control", "list", "--verbose"),
                                ef_lotus_parse_control, "addresses", OUTPUT_MAX);
    lc->extra[X_NETID] = PART("net id", ARGS("net", "id"), ef_lotus_parse_net, "peerId",
                              OUTPUT_MAX);
    lc->extra[X_NETLISTEN] = PART("net listen", ARGS("net", "listen"), ef_lotus_parse_net,
                                  "multiaddrs", OUTPUT_MAX);
    lc->extra[X_MPOOL] = PART("mpool pending", ARGS("mpool", "pending", "--local"),
                              ef_lotus_parse_mpool, "messages", SECTORS_MAX);
    lc->extra[X_MPOOL].lotus = true; /* a `lotus` (full node) command */
  }
  lc->storage = PART("storage list", ARGS("storage", "list"), lotus_reach_parse_storage, "urls",
                     OUTPUT_MAX);
#undef ARGS
#undef PART
  pthread_mutex_init(&lc->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&lc->cond, &ca);
  pthread_condattr_destroy(&ca);
  *out = lc;
  return 0;
}

int lotus_collector_start(struct lotus_collector *lc) {
  if (lc->started) return EF_EBUSY;
  int rc = pthread_create(&lc->thread, NULL, thread_main, lc);
  if (rc != 0) {
    ef_log(EF_LOG_ERROR, "lotus: cannot start the collector thread: %s", strerror(rc));
    return EF_ESYS;
  }
  lc->started = true;
  ef_log(EF_LOG_INFO, "lotus: collecting from %s every %lld ms (time limit %lld ms)",
         lc->rpc ? "the JSON-RPC API" : lc->conf.miner_path, (long long)lc->conf.interval_ms,
         (long long)lc->conf.timeout_ms);
  return 0;
}

void lotus_collector_request_full(struct lotus_collector *lc) {
  if (!lc) return;
  pthread_mutex_lock(&lc->mu);
  lc->full_wanted = true;
  pthread_cond_signal(&lc->cond);
  pthread_mutex_unlock(&lc->mu);
}

void lotus_collector_get_stats(struct lotus_collector *lc, struct lotus_delta_stats *st) {
  /* While the thread runs, the delta is its own: read the copy it takes under mu. */
  pthread_mutex_lock(&lc->mu);
  if (lc->started) *st = lc->stats;
  else lotus_delta_get_stats(lc->delta, st);
  pthread_mutex_unlock(&lc->mu);
}

void lotus_collector_free(struct lotus_collector **plc) {
  if (!plc || !*plc) return;
  struct lotus_collector *lc = *plc;
  if (lc->started) {
    pthread_mutex_lock(&lc->mu);
    lc->stop = true;
    pthread_cond_signal(&lc->cond);
    pthread_mutex_unlock(&lc->mu);
    pthread_join(lc->thread, NULL);
  }
  for (size_t i = 0; i < 4; i++) json_decref(lc->parts[i].good);
  for (size_t i = 0; i < X_COUNT; i++) json_decref(lc->extra[i].good);
  json_decref(lc->storage.good);
  json_decref(lc->pcheck);
  json_decref(lc->reach);
  json_decref(lc->starts);
  lotus_delta_free(&lc->delta);
  lotus_rpc_free(&lc->rpc_src);
  pthread_cond_destroy(&lc->cond);
  pthread_mutex_destroy(&lc->mu);
  ef_free(lc);
  *plc = NULL;
}
