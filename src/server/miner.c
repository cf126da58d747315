/* SPDX-License-Identifier: MIT */
/* miner.c -- miner records (docs/protocol.md#miner-records) on the server: kept in memory,
 * updated by full uploads and merge patches from the miner's agent (upload_miner_info), and
 * persisted behind. join.c joins them with live worker hardware for readers.
 *
 * DESIGN
 * A record is the agent's JSON document with `workerInfo` an object keyed by host name, so a
 * patch touches one worker without resending the others. The loop keeps every record whole in
 * memory (a storage provider has tens of miners, each a few hundred KiB at most); what changed
 * since the last write is tracked per miner (the miner's own fields) and per worker (their
 * host names), and a timer writes only those rows, in one transaction, on the database thread.
 *
 * Worker hardware is not copied into the record: join.c adds it when the record is read.
 *
 * A worker the agent stops reporting (gone from lotus' list: a patch sets it to null, or a full
 * record lacks it) is kept as `missing: true` with `lastSeen` (the previous upload's time) until
 * an operator removes it (miner_worker_delete); when lotus lists it again the agent's entry
 * replaces the missing one whole. A device whose lotus-miner fails before any miner id is known
 * uploads `{minerError, …}` without minerId: that record is keyed by the device
 * ("device:<id>", `deviceOnly: true`), kept in memory only, and dropped when the same device
 * uploads a real record (docs/protocol.md#miner-down).
 */
#include <string.h>

#include "clock.h"
#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "log.h"
#include "mem.h"
#include "mergepatch.h"
#include "server.h"
#include "wire.h"

struct miner {
  char *id;
  json_t *record;          /* whole record, workerInfo keyed by host name; NULL until full */
  json_t *dirty_workers;   /* host name -> true, for the next write */
  uint64_t device_id;      /* the reporting device, which owns the record */
  size_t bytes;            /* upper bound of the record's size as JSON text (measure()) */
  int64_t updated;         /* ms since the epoch */
  bool dirty;              /* the miner's own fields changed */
  bool device_only;        /* "device:<id>": a miner-down record before any miner id */
};

struct miners {
  struct server *srv;
  struct miner **arr;
  size_t n, cap;
  json_t *index;           /* minerId -> index into arr */
  uv_timer_t timer;
  struct worker_job job;
  struct store_miner *rows; /* the write in flight */
  size_t nrows;
  int write_rc;             /* of the last write */
  bool busy;
  bool stopping;            /* miner_stop: what changed during the last write goes after it */
  miner_listener listener;  /* told of every upload accepted from a device here */
  void *listener_ud;
};


static struct miner *find(struct miners *ms, const char *id) {
  json_t *i = json_object_get(ms->index, id);
  return i ? ms->arr[json_integer_value(i)] : NULL;
}

static struct miner *create(struct miners *ms, const char *id) {
  if (ms->n == ms->cap) {
    ms->cap = ms->cap ? ms->cap * 2 : 16;
    ms->arr = ef_realloc(ms->arr, ms->cap * sizeof *ms->arr);
  }
  struct miner *m = ef_calloc(1, sizeof *m);
  m->id = ef_strdup(id);
  m->dirty_workers = json_object();
  json_object_set_new(ms->index, id, json_integer((json_int_t)ms->n));
  ms->arr[ms->n++] = m;
  return m;
}

/* Forget miner `i` (in memory only: device-only records are never written). */
static void drop(struct miners *ms, size_t i) {
  struct miner *m = ms->arr[i];
  json_object_del(ms->index, m->id);
  ef_free(m->id);
  json_decref(m->record);
  json_decref(m->dirty_workers);
  ef_free(m);
  ms->arr[i] = ms->arr[--ms->n];
  if (i < ms->n) json_object_set_new(ms->index, ms->arr[i]->id, json_integer((json_int_t)i));
}

/* ----- write-behind ----- */

static void write_work(struct store *st, struct worker_job *job) {
  struct miners *ms = container_of(job, struct miners, job);
  ms->write_rc = st->ops->miner_write(st, ms->rows, ms->nrows);
  if (ms->write_rc != 0)
    ef_log(EF_LOG_ERROR, "miner: writing %zu records failed: %s", ms->nrows, store_errmsg(st));
}

/* The database could not be reached: what the rows held is dirty again (their newest content
 * goes with a later write, once it is back). */
static void redirty(struct miners *ms) {
  for (size_t i = 0; i < ms->nrows; i++) {
    struct miner *m = find(ms, ms->rows[i].miner_id);
    if (!m) continue;
    if (!ms->rows[i].host_name) m->dirty = true;
    else json_object_set_new(m->dirty_workers, ms->rows[i].host_name, json_true());
  }
}

static void flush(struct miners *ms);

static void write_done(struct worker_job *job) {
  struct miners *ms = container_of(job, struct miners, job);
  if (ms->write_rc == EF_EUNAVAIL && !ms->stopping) redirty(ms);
  store_miners_free(ms->rows, ms->nrows);
  ms->rows = NULL;
  ms->nrows = 0;
  ms->busy = false;
  if (ms->stopping) flush(ms); /* worker_stop() runs this and the write it submits */
}

static void add_row(struct miners *ms, size_t *cap, const struct miner *m, const char *host,
                    const json_t *rec) {
  if (ms->nrows == *cap) {
    *cap = *cap ? *cap * 2 : 16;
    ms->rows = ef_realloc(ms->rows, *cap * sizeof *ms->rows);
  }
  ms->rows[ms->nrows++] = (struct store_miner){
    .miner_id = ef_strdup(m->id), .host_name = ef_strdup(host),
    .record = rec ? jdump(rec) : NULL, .device_id = m->device_id, .updated_time = m->updated};
}

static void flush(struct miners *ms) {
  if (ms->busy) return;
  size_t cap = 0;
  for (size_t i = 0; i < ms->n; i++) {
    struct miner *m = ms->arr[i];
    if (!m->record || m->device_only) continue;
    json_t *workers = jobj(m->record, "workerInfo");
    if (m->dirty) {
      json_t *own = json_copy(m->record); /* shallow: workerInfo is stored per row */
      json_object_del(own, "workerInfo");
      add_row(ms, &cap, m, NULL, own);
      json_decref(own);
      m->dirty = false;
    }
    const char *host;
    json_t *v;
    json_object_foreach(m->dirty_workers, host, v)
      add_row(ms, &cap, m, host, workers ? jobj(workers, host) : NULL);
    json_object_clear(m->dirty_workers);
  }
  if (!ms->nrows) return;
  ms->busy = true;
  ms->job.work = write_work;
  ms->job.done = write_done;
  worker_submit(ms->srv->worker, &ms->job);
}

static void on_timer(uv_timer_t *t) { flush(t->data); }

/* ----- uploads ----- */

/* Note what `patch` changes in m's record (before it is applied): the worker hosts it names and
 * whether any of the miner's own fields change. minerId names the record in every upload (the
 * agent adds it to each patch) and changes nothing; workerInfo null drops every worker. */
static void mark_dirty(struct miner *m, const json_t *patch) {
  json_t *w = json_object_get(patch, "workerInfo");
  json_t *hosts = json_is_object(w) ? w : w ? jobj(m->record, "workerInfo") : NULL;
  const char *host;
  json_t *v;
  json_object_foreach(hosts, host, v) json_object_set_new(m->dirty_workers, host, json_true());
  size_t own = json_object_size(patch) - (w ? 1 : 0) - (json_object_get(patch, "minerId") ? 1 : 0);
  if (own) m->dirty = true;
}

/* Devices speak only for themselves: a miner belongs to the device that first reported it (an
 * admin can move it: miner_bind), so another device's upload for it is refused. */
static const char *owner_refusal(const struct miners *ms, const struct miner *m, uint64_t dev) {
  (void)ms;
  return m->device_id && m->device_id != dev ? "this miner is reported by another device" : NULL;
}

/* A new miner: within max_miners, and within miners_per_device for the reporting device. */
static const char *admit_new(const struct miners *ms, uint64_t dev) {
  const struct server_config *c = &ms->srv->cfg;
  if ((int64_t)ms->n >= c->max_miners) return "too many miners on this server (max_miners)";
  int64_t own = 0;
  for (size_t i = 0; i < ms->n; i++) own += ms->arr[i]->device_id == dev && !ms->arr[i]->device_only;
  return own >= c->miners_per_device ? "too many miners for one device (miners_per_device)"
                                     : NULL;
}

/* A record may not grow past max_miner_record bytes (as JSON text). The bytes of the uploads
 * since the last full one bound its size from above; only when that bound passes the limit is
 * the record measured (and the bound reset), so the cost stays one dump per limit's worth of
 * patches. */
static const char *measure(struct miner *m, size_t incoming, size_t max) {
  char *txt = jdump(m->record);
  m->bytes = strlen(txt);
  ef_free(txt);
  return m->bytes + incoming > max ? "miner record too large (max_miner_record)" : NULL;
}

static char *device_key(uint64_t dev, char *buf, size_t len) {
  char idbuf[EF_ID_STRLEN];
  snprintf(buf, len, "device:%s", id_format(dev, idbuf));
  return buf;
}

static void set_device_only(struct miner *m, json_t *data, uint64_t dev) {
  json_decref(m->record);
  m->record = json_deep_copy(data);
  json_object_set_new(m->record, "deviceOnly", json_true());
  json_object_set_new(m->record, "workerInfo", json_object());
  m->device_id = dev;
  m->updated = ef_now_ms();
}

/* A miner-down upload before any miner id: the record is keyed by the device. */
static void device_only_upload(const struct ws_msg *wm, json_t *data) {
  struct miners *ms = wm->srv->miners;
  char key[EF_ID_STRLEN + 8];
  device_key(wm->device_id, key, sizeof key);
  struct miner *m = find(ms, key);
  if (!m) {
    const char *refusal = admit_new(ms, wm->device_id);
    if (refusal) {
      devlog_add(ms->srv->devlog, wm->device_id, "miner_refused", key, refusal);
      live_sess_error(wm->s, refusal);
      return;
    }
    m = create(ms, key);
    m->device_only = true;
  }
  set_device_only(m, data, wm->device_id);
  live_sess_send(wm->s, WIRE_MINER_ACK_FRAME, sizeof WIRE_MINER_ACK_FRAME - 1);
  if (ms->listener) ms->listener(ms->listener_ud, wm->device_id, wm->raw, wm->len);
}

/* A good upload from device `dev`: its device-only (miner-down) record is over. */
static void drop_device_only(struct miners *ms, uint64_t dev) {
  char key[EF_ID_STRLEN + 8];
  json_t *i = json_object_get(ms->index, device_key(dev, key, sizeof key));
  if (i) drop(ms, (size_t)json_integer_value(i));
}

/* The entry a worker that vanished from the agent's list keeps: what it was, without jobs. */
static json_t *missing_entry(const json_t *old, int64_t last_seen) {
  json_t *w = json_is_object(old) ? json_deep_copy(old) : json_object();
  if (!json_is_true(json_object_get(w, "missing"))) {
    json_object_set_new(w, "missing", json_true());
    json_object_set_new(w, "lastSeen", json_integer((json_int_t)last_seen));
  }
  json_object_set_new(w, "currentQueue", json_object());
  json_object_set_new(w, "pendingQueue", json_object());
  json_object_set_new(w, "taskState", json_string("missing"));
  json_t *lotus = json_object_get(w, "lotus");
  if (json_is_object(lotus)) json_object_set_new(lotus, "listed", json_false());
  json_object_del(w, "netState");
  return w;
}

/* Before `data` is applied to m's record: the hosts it drops (null in a patch, absent from a
 * full record) become missing entries in *keep; hosts it names that were missing are removed so
 * that the agent's new entry replaces them whole. */
static json_t *vanishing(struct miner *m, const json_t *data, bool full, bool local) {
  json_t *keep = json_object();
  json_t *old = m->record ? jobj(m->record, "workerInfo") : NULL;
  json_t *nw = json_object_get(data, "workerInfo");
  const char *host;
  json_t *w;
  json_object_foreach(old, host, w) {
    json_t *v = json_is_object(nw) ? json_object_get(nw, host) : NULL;
    bool gone = full ? !json_is_object(v) : (json_is_null(nw) || json_is_null(v));
    if (gone) {
      json_object_set_new(keep, host, missing_entry(w, m->updated));
      if (local) json_object_set_new(m->dirty_workers, host, json_true());
    }
  }
  void *tmp;
  json_object_foreach_safe(old, tmp, host, w)
    if (json_is_true(json_object_get(w, "missing")) && json_is_object(nw) &&
        json_is_object(json_object_get(nw, host)))
      json_object_del(old, host);
  return keep;
}

int miner_worker_delete(struct miners *ms, const char *id, const char *host) {
  struct miner *m = find(ms, id);
  json_t *wi = m && m->record ? jobj(m->record, "workerInfo") : NULL;
  json_t *w = wi ? json_object_get(wi, host) : NULL;
  if (!w) return EF_ENOENT;
  if (!json_is_true(json_object_get(w, "missing"))) return EF_EBUSY;
  json_object_del(wi, host);
  json_object_set_new(m->dirty_workers, host, json_true()); /* a NULL row deletes it */
  return 0;
}

/* Apply an upload `data` (a full record or a merge patch of len bytes) from device `dev` to m.
 * `local`: it came from a device here, and what it changes is written behind; an upload another
 * node of the cluster applied is that node's to write. */
static void apply(struct miners *ms, struct miner *m, json_t *data, bool full, size_t len,
                  uint64_t dev, bool local) {
  drop_device_only(ms, dev);
  json_t *keep = vanishing(m, data, full, local);
  if (full) {
    json_t *old = m->record ? m->record : json_object();
    json_t *diff = local ? mergepatch_diff(old, data) : NULL;
    if (diff) mark_dirty(m, diff);
    if (!m->record && local) m->dirty = true;
    json_decref(diff);
    json_decref(old);
    m->record = json_deep_copy(data);
    m->bytes = len;
  } else {
    if (local) mark_dirty(m, data);
    mergepatch_apply(&m->record, data);
    m->bytes += len;
  }
  if (!jobj(m->record, "workerInfo")) json_object_set_new(m->record, "workerInfo", json_object());
  json_object_update(jobj(m->record, "workerInfo"), keep);
  json_decref(keep);
  if (m->device_id != dev && local) m->dirty = true; /* the owner is stored with the record */
  m->device_id = dev;
  m->updated = ef_now_ms();
}

/* upload_miner_info from a miner's agent: a full record or a merge patch. */
static void handle_upload(const struct ws_msg *wm) {
  struct miners *ms = wm->srv->miners;
  struct dsess *s = wm->s;
  json_t *msg = wm->root;
  json_t *data = jobj(msg, "data");
  const char *id = data ? jstr(data, "minerId") : NULL;
  json_t *hdr = jobj(msg, "Headers");
  bool full = hdr && json_is_true(json_object_get(hdr, "full"));
  json_t *workers = data ? json_object_get(data, "workerInfo") : NULL;
  if (data && !json_object_get(data, "minerId") && full && jstr(data, "minerError") &&
      !workers) {
    device_only_upload(wm, data);
    return;
  }
  if (!id || !*id || (workers && !json_is_object(workers) && !json_is_null(workers))) {
    live_sess_error(s, !id || !*id ? "upload_miner_info needs data.minerId"
                                   : "workerInfo must be an object keyed by host name");
    return;
  }
  struct miner *m = find(ms, id);
  const char *refusal = m ? owner_refusal(ms, m, wm->device_id) : admit_new(ms, wm->device_id);
  size_t max = (size_t)ms->srv->cfg.max_miner_record;
  if (!refusal && m && !full && m->record && m->bytes + wm->len > max)
    refusal = measure(m, wm->len, max);
  if (refusal) {
    ef_log(EF_LOG_WARN, "device %llu: upload_miner_info for %s refused: %s",
           (unsigned long long)wm->device_id, id, refusal);
    devlog_add(ms->srv->devlog, wm->device_id, "miner_refused", id, refusal);
    live_sess_error(s, refusal);
    return;
  }
  if (!m) m = create(ms, id);
  if (!full && !m->record) {
    /* A patch without its base (the server restarted): ask for the whole record. */
    live_sess_send(s, WIRE_MINER_ACK_FRAME, sizeof WIRE_MINER_ACK_FRAME - 1);
    live_sess_send(s, WIRE_REPORT_FULL_FRAME, sizeof WIRE_REPORT_FULL_FRAME - 1);
    return;
  }
  apply(ms, m, data, full, wm->len, wm->device_id, true);
  live_sess_send(s, WIRE_MINER_ACK_FRAME, sizeof WIRE_MINER_ACK_FRAME - 1);
  if (ms->listener) ms->listener(ms->listener_ud, wm->device_id, wm->raw, wm->len);
}

void miner_listen(struct miners *ms, miner_listener fn, void *ud) {
  ms->listener = fn;
  ms->listener_ud = ud;
}

void miner_apply_remote(struct miners *ms, uint64_t device_id, const char *raw, size_t len) {
  json_t *msg = jparse_object(raw, len);
  json_t *data = jobj(msg, "data");
  json_t *hdr = jobj(msg, "Headers");
  bool full = hdr && json_is_true(json_object_get(hdr, "full"));
  const char *id = data ? jstr(data, "minerId") : NULL;
  if (data && !json_object_get(data, "minerId") && full && jstr(data, "minerError") &&
      !json_object_get(data, "workerInfo")) {
    char key[EF_ID_STRLEN + 8];
    device_key(device_id, key, sizeof key);
    struct miner *m = find(ms, key);
    if (!m) {
      m = create(ms, key);
      m->device_only = true;
    }
    set_device_only(m, data, device_id);
  } else if (id && *id) {
    struct miner *m = find(ms, id);
    if (!m) m = create(ms, id);
    if (full || m->record) apply(ms, m, data, full, len, device_id, false);
    /* else: a patch without its base; the full record its node asked for follows */
  }
  json_decref(msg);
}

const struct ws_route miner_ws_routes[] = {
  {WIRE_UPLOAD_MINER, handle_upload},
  {NULL, NULL},
};

/* ----- reading ----- */

static bool info(const struct miner *m, struct miner_info *out) {
  *out = (struct miner_info){.id = m->id, .record = m->record, .device_id = m->device_id,
                             .updated = m->updated};
  return true;
}

bool miner_lookup(const struct miners *ms, const char *id, struct miner_info *out) {
  struct miner *m = find((struct miners *)ms, id);
  return m && m->record && info(m, out);
}

int miner_bind(struct miners *ms, const char *id, uint64_t device_id) {
  struct miner *m = find(ms, id);
  if (!m) return EF_ENOENT;
  m->device_id = device_id;
  m->dirty = true;
  return 0;
}

void miner_bind_remote(struct miners *ms, const char *id, uint64_t device_id) {
  struct miner *m = find(ms, id);
  if (m) m->device_id = device_id;
}

bool miner_at(const struct miners *ms, size_t i, struct miner_info *out) {
  if (i >= ms->n) return false;
  return info(ms->arr[i], out);
}

/* ----- life ----- */

int miner_init(struct server *srv, struct store *st, char *err, size_t errlen) {
  struct miners *ms = ef_calloc(1, sizeof *ms);
  ms->srv = srv;
  ms->index = json_object();
  srv->miners = ms;

  struct store_miner *rows;
  size_t n;
  if (st->ops->miner_list(st, &rows, &n) != 0) {
    snprintf(err, errlen, "reading miner records: %s", store_errmsg(st));
    return EF_EDB;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *rec = jparse_object(rows[i].record, strlen(rows[i].record));
    if (!rec) continue;
    struct miner *m = find(ms, rows[i].miner_id);
    if (!rows[i].host_name) {
      if (!m) m = create(ms, rows[i].miner_id);
      m->record = rec;
      json_object_set_new(m->record, "workerInfo", json_object());
      m->device_id = rows[i].device_id;
      m->updated = rows[i].updated_time;
    } else if (m && m->record) {
      json_object_set_new(jobj(m->record, "workerInfo"), rows[i].host_name, rec);
    } else {
      json_decref(rec);
    }
  }
  store_miners_free(rows, n);
  if (ms->n) ef_log(EF_LOG_INFO, "miner: %zu miner records loaded", ms->n);
  return 0;
}

void miner_start(struct server *srv) {
  struct miners *ms = srv->miners;
  uv_timer_init(srv->loop, &ms->timer);
  ms->timer.data = ms;
  uv_timer_start(&ms->timer, on_timer, (uint64_t)srv->cfg.miner_flush,
                 (uint64_t)srv->cfg.miner_flush);
}

static void miners_free(uv_handle_t *h) {
  struct miners *ms = h->data;
  for (size_t i = 0; i < ms->n; i++) {
    struct miner *m = ms->arr[i];
    ef_free(m->id);
    json_decref(m->record);
    json_decref(m->dirty_workers);
    ef_free(m);
  }
  ef_free(ms->arr);
  json_decref(ms->index);
  ef_free(ms);
}

void miner_stop(struct server *srv) {
  struct miners *ms = srv->miners;
  if (!ms) return;
  ms->stopping = true;
  flush(ms); /* the last write runs before worker_stop() returns (or after the one in flight) */
  uv_timer_stop(&ms->timer);
  uv_close((uv_handle_t *)&ms->timer, miners_free);
  srv->miners = NULL;
}
