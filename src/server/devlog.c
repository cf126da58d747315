/* SPDX-License-Identifier: MIT */
/* devlog.c -- write-behind of log rows: what devices cause in the database (device_logs rows
 * and devices.dev_state changes; state changes arrive as events of the live registry, live.h)
 * and the audit log's rows of REST calls (audit.c) and the alert log's rows and the alert
 * engine's state (alert_eval.c), which share its batches and its pruning.
 *
 * The loop appends to an in-memory batch (no I/O); every log_flush ms, or at once when the batch
 * reaches BATCH_MAX rows, the batch moves to the database thread as one write_batch (one
 * transaction). One batch is in flight at a time; rows that arrive meanwhile wait for the next.
 * A cron prunes, every log_prune_every (1 h), device logs older than log_retention and audit rows
 * older than audit_retention and alert-log rows older than alert_log_retention; the audit and
 * alert rows in jobs of at most PRUNE_BATCH rows, each the next
 * job only once the last is done, so other database work runs between them.
 *
 * Batches are numbered and committed in order, so the rows on disk are always a prefix of the
 * rows queued. A batch that fails because the database server cannot be reached (EF_EUNAVAIL:
 * PostgreSQL or MariaDB went away) is kept and tried again at each tick, before any later batch,
 * until it is written: its waiters are told of the failure at once, but its rows are not lost.
 * Each of its parts (device logs and states, audit rows, alert rows) is retried only when it was
 * not written yet, so a retry duplicates nothing -- but for a commit whose answer the lost
 * connection swallowed, which is written again (at least once). While the database is away at
 * most KEEP_MAX device-log rows wait behind the kept batch. devlog_sync() lets a caller wait until what it queued is committed (an order's
 * REST answer does, docs/store.md#what-is-durable-when): its waiter rides on the batch being
 * filled, which then goes at once instead of at the next tick (or right after the batch in
 * flight), so waiters that arrive together share one commit.
 */
#include <string.h>

#include "clock.h"
#include "edgefleet/error.h"
#include "log.h"
#include "mem.h"
#include "server.h"

/* Not an option: it bounds one transaction and the memory of a burst, not a time, and is only
 * reached when devices write faster than one batch per log_flush; log_flush is the knob. */
#define BATCH_MAX 4096
/* Device-log rows kept at most while a batch waits for the database to come back (about 60 MB):
 * past it new rows are dropped, counted and logged, rather than the memory of a long outage. */
#define KEEP_MAX (BATCH_MAX * 64)
/* Audit rows deleted by one pruning job at most (one short transaction). */
#define PRUNE_BATCH 5000

struct waiter {
  devlog_sync_cb cb;
  void *ud;
  uint64_t since;           /* a failed batch numbered >= since fails the waiter */
  struct waiter *next;
};

struct batch {
  struct worker_job job;
  struct devlog *dl;
  uint64_t seq;             /* 1, 2, ...: the order of commits */
  struct waiter *waiters;   /* told when this batch is done */
  struct store_log *logs;
  size_t nlogs, cap_logs;
  struct store_state *states;
  size_t nstates, cap_states;
  struct store_audit *audits;
  size_t naudits, cap_audits;
  struct store_alert_log *alerts;
  size_t nalerts, cap_alerts;
  char *alert_state;        /* the newest queued; NULL: unchanged */
  bool logs_done, audits_done, alerts_done; /* the parts written (a retry skips them) */
  int rc;
};

struct devlog {
  struct server *srv;
  uv_timer_t timer;
  struct batch *cur;        /* being filled by the loop */
  struct batch *inflight;   /* on the database thread */
  struct batch *retry;      /* failed with EF_EUNAVAIL: goes again before anything else */
  uint64_t last_seq;        /* of the newest batch */
  uint64_t failed_seq;      /* of the newest batch that failed (0: none) */
  uint64_t dropped;         /* device-log rows dropped while the database was away (KEEP_MAX) */
  int failed_rc;
  int64_t last_prune;
  struct worker_job prune_job;
  uint64_t audit_pruned;    /* by the last pruning job: PRUNE_BATCH means maybe more */
  uint64_t alert_pruned;    /* the same for the alert log */
  bool prune_more;          /* the last job pruned a full batch of either */
  bool prune_busy;
  bool stopping;
};

static struct batch *batch_new(struct devlog *dl) {
  struct batch *b = ef_calloc(1, sizeof *b);
  b->dl = dl;
  b->seq = ++dl->last_seq;
  return b;
}

static void batch_free(struct batch *b) {
  for (size_t i = 0; i < b->nlogs; i++) store_log_clear(&b->logs[i]);
  ef_free(b->logs);
  ef_free(b->states);
  store_audits_free(b->audits, b->naudits);
  store_alert_logs_free(b->alerts, b->nalerts);
  ef_free(b->alert_state);
  ef_free(b);
}

static size_t batch_rows(const struct batch *b) {
  return b->nlogs + b->nstates + b->naudits + b->nalerts + (b->alert_state != NULL);
}

static void batch_work(struct store *st, struct worker_job *job) {
  struct batch *b = container_of(job, struct batch, job);
  b->rc = 0;
  if (b->nlogs + b->nstates && !b->logs_done) {
    b->rc = st->ops->write_batch(st, b->logs, b->nlogs, b->states, b->nstates);
    if (b->rc != 0)
      ef_log(EF_LOG_ERROR, "devlog: writing %zu logs and %zu states failed: %s", b->nlogs,
             b->nstates, store_errmsg(st));
    b->logs_done = b->rc == 0;
  }
  if (b->naudits && !b->audits_done) {
    int rc = st->ops->audit_append(st, b->audits, b->naudits);
    if (rc != 0) {
      ef_log(EF_LOG_ERROR, "devlog: writing %zu audit rows failed: %s", b->naudits,
             store_errmsg(st));
      if (!b->rc) b->rc = rc;
    }
    b->audits_done = rc == 0;
  }
  if ((b->nalerts || b->alert_state) && !b->alerts_done) {
    int rc = st->ops->alert_write(st, b->alerts, b->nalerts, b->alert_state, ef_now_ms());
    if (rc != 0) {
      ef_log(EF_LOG_ERROR, "devlog: writing %zu alert-log rows%s failed: %s", b->nalerts,
             b->alert_state ? " and the alert state" : "", store_errmsg(st));
      if (!b->rc) b->rc = rc;
    }
    b->alerts_done = rc == 0;
  }
}

static void flush(struct devlog *dl);

/* What a waiter that counts from batch `since` is told now that every batch up to the newest
 * finished one is done. */
static int sync_rc(const struct devlog *dl, uint64_t since) {
  return dl->failed_seq && dl->failed_seq >= since ? dl->failed_rc : 0;
}

static void batch_done(struct worker_job *job) {
  struct batch *b = container_of(job, struct batch, job);
  struct devlog *dl = b->dl;
  dl->inflight = NULL;
  if (b->rc) {
    dl->failed_seq = b->seq;
    dl->failed_rc = b->rc;
  }
  struct waiter *w = NULL; /* in the order they came */
  while (b->waiters) {
    struct waiter *next = b->waiters->next;
    b->waiters->next = w;
    w = b->waiters;
    b->waiters = next;
  }
  if (b->rc == EF_EUNAVAIL && !dl->stopping) {
    if (!dl->retry)
      ef_log(EF_LOG_WARN, "devlog: the database is unavailable; %zu rows are kept and written "
             "once it is back", batch_rows(b));
    dl->retry = b; /* its waiters are told now; its rows go again at the next tick */
  } else {
    if (dl->retry == b) {
      dl->retry = NULL;
      if (!b->rc) ef_log(EF_LOG_INFO, "devlog: the database is back; the kept rows are written");
    }
    batch_free(b);
  }
  /* The next batch goes before the waiters run: they may queue rows and wait again. */
  if (!dl->retry && (batch_rows(dl->cur) >= BATCH_MAX || dl->stopping || dl->cur->waiters))
    flush(dl); /* (a batch kept for a retry goes at the next tick, not in a tight loop) */
  while (w) {
    struct waiter *next = w->next;
    w->cb(w->ud, sync_rc(dl, w->since));
    ef_free(w);
    w = next;
  }
}

static void flush(struct devlog *dl) {
  if (dl->inflight) return;
  if (dl->retry) { /* the failed batch first: the rows on disk stay a prefix of those queued */
    dl->inflight = dl->retry;
    worker_submit(dl->srv->worker, &dl->retry->job);
    return;
  }
  if (batch_rows(dl->cur) == 0) return;
  struct batch *b = dl->cur;
  dl->cur = batch_new(dl);
  dl->inflight = b;
  b->job.work = batch_work;
  b->job.done = batch_done;
  worker_submit(dl->srv->worker, &b->job);
}

/* The first job of a pruning prunes the device logs; every job, up to PRUNE_BATCH audit rows
 * and up to PRUNE_BATCH alert-log rows. */
static void prune_work(struct store *st, struct worker_job *job) {
  struct devlog *dl = container_of(job, struct devlog, prune_job);
  uint64_t n = 0;
  int64_t now = ef_now_ms();
  if (!dl->prune_more && dl->srv->cfg.log_retention > 0) {
    if (st->ops->log_prune(st, now - dl->srv->cfg.log_retention, &n) != 0)
      ef_log(EF_LOG_ERROR, "devlog: pruning failed: %s", store_errmsg(st));
    else if (n)
      ef_log(EF_LOG_INFO, "devlog: pruned %llu device log rows", (unsigned long long)n);
  }
  dl->audit_pruned = 0;
  if (dl->srv->cfg.audit_retention > 0) {
    if (st->ops->audit_prune(st, now - dl->srv->cfg.audit_retention, PRUNE_BATCH, &n) != 0)
      ef_log(EF_LOG_ERROR, "devlog: pruning the audit log failed: %s", store_errmsg(st));
    else {
      dl->audit_pruned = n;
      if (n) ef_log(EF_LOG_INFO, "devlog: pruned %llu audit rows", (unsigned long long)n);
    }
  }
  dl->alert_pruned = 0;
  if (dl->srv->cfg.alert_log_retention > 0) {
    if (st->ops->alert_log_prune(st, now - dl->srv->cfg.alert_log_retention, PRUNE_BATCH, &n) !=
        0)
      ef_log(EF_LOG_ERROR, "devlog: pruning the alert log failed: %s", store_errmsg(st));
    else {
      dl->alert_pruned = n;
      if (n) ef_log(EF_LOG_INFO, "devlog: pruned %llu alert-log rows", (unsigned long long)n);
    }
  }
  dl->prune_more = dl->audit_pruned == PRUNE_BATCH || dl->alert_pruned == PRUNE_BATCH;
}

static void prune_done(struct worker_job *job) {
  struct devlog *dl = container_of(job, struct devlog, prune_job);
  if (dl->prune_more && !dl->stopping) { /* more to prune: the next batch */
    worker_submit(dl->srv->worker, &dl->prune_job);
    return;
  }
  dl->audit_pruned = dl->alert_pruned = 0;
  dl->prune_more = false;
  dl->prune_busy = false;
}

static void on_timer(uv_timer_t *t) {
  struct devlog *dl = t->data;
  flush(dl);
  int64_t now = ef_mono_ms();
  if ((dl->srv->cfg.log_retention > 0 || dl->srv->cfg.audit_retention > 0 ||
       dl->srv->cfg.alert_log_retention > 0) && !dl->prune_busy &&
      now - dl->last_prune >= dl->srv->cfg.log_prune_every) {
    dl->last_prune = now;
    dl->prune_busy = true;
    dl->prune_job.work = prune_work;
    dl->prune_job.done = prune_done;
    worker_submit(dl->srv->worker, &dl->prune_job);
  }
}

static void devlog_state(struct devlog *dl, uint64_t device_id, enum dev_state st,
                         const char *why);

/* A live registry event: the state change, and the login or disconnect row around it.
 * The node that holds a device records its changes; a session yielded to another node is
 * noted (disconnect) but its state is the other node's to write. */
static void on_live(void *ud, const struct live_change *c) {
  struct devlog *dl = ud;
  if (c->event == LIVE_LOGOUT && (c->persist || (c->replaced && !c->remote)))
    devlog_add(dl, c->device_id, "disconnect", c->why, NULL);
  if (!c->persist) return;
  devlog_state(dl, c->device_id, c->state, c->why);
  if (c->event == LIVE_LOGIN) devlog_add(dl, c->device_id, "login", c->peer, "success");
}

int devlog_start(struct server *srv, struct devlog **out) {
  struct devlog *dl = ef_calloc(1, sizeof *dl);
  dl->srv = srv;
  dl->cur = batch_new(dl);
  /* first prune a minute after start (after one period when that is shorter) */
  int64_t first = srv->cfg.log_prune_every < 60000 ? srv->cfg.log_prune_every : 60000;
  dl->last_prune = ef_mono_ms() - srv->cfg.log_prune_every + first;
  uv_timer_init(srv->loop, &dl->timer);
  dl->timer.data = dl;
  uv_timer_start(&dl->timer, on_timer, (uint64_t)srv->cfg.log_flush, (uint64_t)srv->cfg.log_flush);
  live_listen(srv->live, on_live, dl);
  *out = dl;
  return 0;
}

uint64_t devlog_add(struct devlog *dl, uint64_t device_id, const char *event, const char *detail,
                    const char *result) {
  struct batch *b = dl->cur;
  uint64_t seq = b->seq;
  if (dl->retry && b->nlogs >= KEEP_MAX) {
    if (dl->dropped++ % 100000 == 0)
      ef_log(EF_LOG_ERROR, "devlog: the database is still unavailable; %llu device-log rows "
             "dropped so far (%d kept)", (unsigned long long)dl->dropped, KEEP_MAX);
    return seq;
  }
  if (b->nlogs == b->cap_logs) {
    b->cap_logs = b->cap_logs ? b->cap_logs * 2 : 64;
    b->logs = ef_realloc(b->logs, b->cap_logs * sizeof *b->logs);
  }
  b->logs[b->nlogs++] = (struct store_log){
    .device_id = device_id, .event = ef_strdup(event), .detail = ef_strdup(detail),
    .result = ef_strdup(result), .time = ef_now_ms()};
  if (batch_rows(b) >= BATCH_MAX) flush(dl);
  return seq;
}

uint64_t devlog_audit(struct devlog *dl, struct store_audit *row) {
  struct batch *b = dl->cur;
  uint64_t seq = b->seq;
  if (b->naudits == b->cap_audits) {
    b->cap_audits = b->cap_audits ? b->cap_audits * 2 : 16;
    b->audits = ef_realloc(b->audits, b->cap_audits * sizeof *b->audits);
  }
  b->audits[b->naudits++] = *row;
  *row = (struct store_audit){0};
  if (batch_rows(b) >= BATCH_MAX) flush(dl);
  return seq;
}

uint64_t devlog_alert_log(struct devlog *dl, struct store_alert_log *row) {
  struct batch *b = dl->cur;
  uint64_t seq = b->seq;
  if (b->nalerts == b->cap_alerts) {
    b->cap_alerts = b->cap_alerts ? b->cap_alerts * 2 : 16;
    b->alerts = ef_realloc(b->alerts, b->cap_alerts * sizeof *b->alerts);
  }
  b->alerts[b->nalerts++] = *row;
  *row = (struct store_alert_log){0};
  if (batch_rows(b) >= BATCH_MAX) flush(dl);
  return seq;
}

uint64_t devlog_alert_state(struct devlog *dl, char *state) {
  struct batch *b = dl->cur;
  ef_free(b->alert_state);
  b->alert_state = state;
  return b->seq;
}

void devlog_sync(struct devlog *dl, uint64_t since, devlog_sync_cb cb, void *ud) {
  struct batch *b = batch_rows(dl->cur) ? dl->cur : dl->inflight;
  if (!b) { /* everything queued is done */
    cb(ud, sync_rc(dl, since));
    return;
  }
  struct waiter *w = ef_malloc(sizeof *w);
  *w = (struct waiter){.cb = cb, .ud = ud, .since = since, .next = b->waiters};
  b->waiters = w;
  if (b == dl->cur) flush(dl); /* now, or as soon as the batch in flight is done */
}

static void devlog_state(struct devlog *dl, uint64_t device_id, enum dev_state st, const char *why) {
  struct batch *b = dl->cur;
  if (b->nstates == b->cap_states) {
    b->cap_states = b->cap_states ? b->cap_states * 2 : 64;
    b->states = ef_realloc(b->states, b->cap_states * sizeof *b->states);
  }
  b->states[b->nstates++] = (struct store_state){
    .device_id = device_id, .state = dev_state_name(st), .time = ef_now_ms()};
  devlog_add(dl, device_id, "state", why, dev_state_name(st));
}

static void free_devlog(uv_handle_t *h) {
  struct devlog *dl = h->data;
  batch_free(dl->cur);
  ef_free(dl);
}

void devlog_stop(struct devlog **dlp) {
  struct devlog *dl = *dlp;
  if (!dl) return;
  dl->stopping = true;
  flush(dl); /* what is still queued goes when the in-flight batch is done (batch_done) */
  uv_timer_stop(&dl->timer);
  /* worker_stop() runs every pending done(), which flushes the rest; the struct must live until
   * then, so it is freed with its timer handle, after the loop's last run. */
  uv_close((uv_handle_t *)&dl->timer, free_devlog);
  *dlp = NULL;
}
