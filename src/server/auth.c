/* SPDX-License-Identifier: MIT */
/* auth.c -- northbound API tokens: bearer tokens checked against their SHA-256, held in memory,
 * with a scope (read < operator < admin), optional groups, expiry, last use and revocation.
 *
 * Tokens are stored only as hashes. On the first start (no token at all) an admin token is
 * made and written once to <data_dir>/admin.token with mode 0600: the only place it exists in
 * clear. An existing admin.token is never replaced: a database without tokens beside one is
 * refused (main.c refuses a missing database there before it is created). Checking a request
 * costs one SHA-256 and a compare per known token (a handful).
 *
 * Every token has a slot, its own for as long as the server runs: a revoked token keeps its
 * slot with its hash wiped, so it never matches again. Revocation tells the listeners
 * (auth_listen: ws_front closes the dashboards signed in with it).
 *
 * Last use is kept in memory per slot on every request and written behind every
 * `token_used_flush` in one transaction through the database thread (auth_start).
 *
 * Group-limited tokens: their view (the device ids of their groups' members, struct auth_view)
 * is built on the database thread and swapped in on the loop (auth_views_refresh); a view is
 * immutable once made and reference-counted on the loop, so a REST call may read the one it
 * holds on the database thread.
 *
 * Each token has a request rate (auth_rate): the generic cell rate algorithm, a token bucket
 * kept as one time per token, the "theoretical arrival time" `tat` of the next request. At
 * `rate` requests per second each request moves it on by T = 1/rate; a request is let through
 * while tat is at most (burst - 1) * T ahead of now. No timer, no refill loop: integer ns.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "crypto.h"
#include "edgefleet/error.h"
#include "id.h"
#include "log.h"
#include "mem.h"
#include "server.h"
#include "worker.h"

struct slot {
  struct auth_token pub;     /* what auth_slot() shows */
  char *hash;                /* NULL once revoked */
  uint64_t tat;              /* its rate bucket, ns of uv_hrtime() */
  int64_t written;           /* pub.last_used as last written behind */
};

struct waiter {
  void (*cb)(void *ud);
  void *ud;
};

struct listener {
  auth_revoke_cb cb;
  void *ud;
};

struct auth {
  struct slot *slots;
  size_t n;
  /* write-behind of last uses */
  uv_timer_t timer;
  bool started;
  struct worker *worker;
  struct touch_job *touching;  /* in flight, or NULL */
  /* views of group-limited tokens */
  struct view_job *building;   /* in flight, or NULL */
  bool again;                  /* asked for while building: build once more */
  struct waiter *wait_now, *wait_next;
  size_t n_wait_now, n_wait_next;
  struct listener *listeners;
  size_t n_listeners;
};

/* ----- scopes and groups ----- */

enum auth_kind auth_scope_parse(const char *s) {
  if (!s) return AUTH_NONE;
  if (strcmp(s, "admin") == 0) return AUTH_ADMIN;
  if (strcmp(s, "operator") == 0) return AUTH_OPERATOR;
  if (strcmp(s, "read") == 0) return AUTH_READ;
  return AUTH_NONE;
}

const char *auth_scope_name(enum auth_kind k) {
  switch (k) {
  case AUTH_ADMIN: return "admin";
  case AUTH_OPERATOR: return "operator";
  case AUTH_READ: return "read";
  default: return "none";
  }
}

/* "id,id" → a new array; NULL or "" → none. Bad text yields what parses (the store holds only
 * what api_token_add made). */
static uint64_t *parse_groups(const char *s, size_t *n) {
  *n = 0;
  if (!s || !*s) return NULL;
  size_t cap = 1;
  for (const char *p = s; *p; p++) cap += *p == ',';
  uint64_t *g = ef_calloc(cap, sizeof *g);
  for (const char *p = s; *p;) {
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p) break;
    if (v) g[(*n)++] = v;
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') break;
  }
  return g;
}

void auth_view_hold(struct auth_view *v) {
  if (v) v->refs++;
}

void auth_view_drop(struct auth_view *v) {
  if (!v || --v->refs > 0) return;
  u64map_free(&v->devices);
  ef_free(v->groups);
  ef_free(v);
}

static struct auth_view *view_new(const uint64_t *groups, size_t n) {
  struct auth_view *v = ef_calloc(1, sizeof *v);
  v->refs = 1;
  v->groups = ef_calloc(n ? n : 1, sizeof *v->groups);
  if (n) memcpy(v->groups, groups, n * sizeof *groups);
  v->ngroups = n;
  u64map_init(&v->devices);
  return v;
}

/* ----- tokens ----- */

/* Never over an existing file: it holds the token of another database (auth_init). */
static int write_token_file(const char *data_dir, const char *token, char *err, size_t errlen) {
  char *path = ef_asprintf("%s/admin.token", data_dir);
  int rc = 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, token, strlen(token)) != (ssize_t)strlen(token) ||
      write(fd, "\n", 1) != 1) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    rc = EF_ESYS;
  }
  if (fd >= 0) close(fd);
  ef_free(path);
  return rc;
}

void auth_add(struct auth *a, const struct store_token *t) {
  a->slots = ef_realloc(a->slots, (a->n + 1) * sizeof *a->slots);
  struct slot *s = &a->slots[a->n++];
  memset(s, 0, sizeof *s);
  s->pub.token_id = t->token_id;
  s->pub.name = ef_strdup(t->name ? t->name : "");
  s->pub.scope = auth_scope_parse(t->scope);
  s->pub.expires = t->expires_time;
  s->hash = ef_strdup(t->token_hash);
  s->pub.last_used = s->written = t->last_used_time;
  size_t ng;
  uint64_t *g = parse_groups(t->groups, &ng);
  /* A group-limited token sees nothing until its view is built (auth_views_refresh). */
  if (t->groups) s->pub.view = view_new(g, ng);
  ef_free(g);
}

int auth_init(struct store *st, const char *data_dir, struct auth **out, char *err,
              size_t errlen) {
  struct auth *a = ef_calloc(1, sizeof *a);
  struct store_token *toks = NULL;
  size_t n = 0;
  int rc = st->ops->token_list(st, &toks, &n);
  if (rc != 0) {
    snprintf(err, errlen, "reading API tokens: %s", store_errmsg(st));
    goto fail;
  }
  if (n == 0) {
    char *path = ef_asprintf("%s/admin.token", data_dir);
    bool exists = access(path, F_OK) == 0;
    if (exists)
      snprintf(err, errlen,
               "the database has no API token but %s exists: it belongs to another database; "
               "restore that database, or remove admin.token to start afresh",
               path);
    ef_free(path);
    if (exists) {
      rc = EF_EEXIST;
      goto fail;
    }
    char token[EF_TOKEN_STRLEN], hash[EF_SHA256_HEXLEN];
    struct store_token t;
    if ((rc = auth_new_token("admin", "admin", &t, token, hash)) != 0) {
      snprintf(err, errlen, "no randomness for the admin token");
      goto fail;
    }
    if ((rc = st->ops->token_add(st, &t)) != 0) {
      snprintf(err, errlen, "storing the admin token: %s", store_errmsg(st));
      goto fail;
    }
    if ((rc = write_token_file(data_dir, token, err, errlen)) != 0) goto fail;
    explicit_bzero(token, sizeof token);
    ef_log(EF_LOG_INFO, "auth: created the admin API token in %s/admin.token", data_dir);
    store_tokens_free(toks, n);
    toks = NULL;
    if ((rc = st->ops->token_list(st, &toks, &n)) != 0) goto fail;
  }
  for (size_t i = 0; i < n; i++) auth_add(a, &toks[i]);
  store_tokens_free(toks, n);
  *out = a;
  return 0;

fail:
  store_tokens_free(toks, n);
  auth_free(&a);
  return rc ? rc : EF_EIO;
}

int auth_new_token(const char *name, const char *scope, struct store_token *t, char *out,
                   char *hash) {
  int rc = crypto_token(out);
  if (rc != 0) return rc;
  crypto_sha256_hex(out, strlen(out), hash);
  *t = (struct store_token){.token_id = id_next(), .name = (char *)name, .scope = (char *)scope,
                            .token_hash = hash, .created_time = ef_now_ms()};
  return 0;
}

enum auth_kind auth_check(struct auth *a, const char *authorization) {
  return auth_identify(a, authorization, NULL);
}

enum auth_kind auth_identify(struct auth *a, const char *authorization, size_t *slot) {
  if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return AUTH_NONE;
  const char *tok = authorization + 7;
  while (*tok == ' ') tok++;
  size_t len = strlen(tok);
  while (len && tok[len - 1] == ' ') len--;
  if (!len) return AUTH_NONE;
  char hash[EF_SHA256_HEXLEN];
  crypto_sha256_hex(tok, len, hash);
  for (size_t i = 0; i < a->n; i++) {
    struct slot *s = &a->slots[i];
    if (!s->hash || !crypto_streq(hash, s->hash)) continue;
    if (slot) *slot = i;
    int64_t now = ef_now_ms();
    if (s->pub.expires && now >= s->pub.expires) return AUTH_EXPIRED;
    if (now > s->pub.last_used) s->pub.last_used = now;
    return s->pub.scope;
  }
  return AUTH_NONE;
}

const struct auth_token *auth_slot(const struct auth *a, size_t slot) {
  return slot < a->n ? &a->slots[slot].pub : NULL;
}

bool auth_slot_valid(const struct auth *a, size_t slot, int64_t now_ms) {
  if (slot >= a->n || !a->slots[slot].hash) return false;
  int64_t exp = a->slots[slot].pub.expires;
  return !exp || now_ms < exp;
}

int64_t auth_rate(struct auth *a, size_t slot, int64_t rate, int64_t burst, uint64_t now_ns,
                  bool peek) {
  if (rate <= 0 || slot >= a->n) return 0;
  uint64_t t = 1000000000ull / (uint64_t)rate;
  if (t == 0) t = 1;
  uint64_t tau = t * (uint64_t)(burst > 1 ? burst - 1 : 0); /* how far ahead tat may be */
  uint64_t *tatp = &a->slots[slot].tat;
  uint64_t tat = *tatp > now_ns ? *tatp : now_ns;
  if (tat - now_ns > tau) {
    uint64_t wait = tat - tau - now_ns;
    return (int64_t)((wait + 999999) / 1000000);
  }
  if (!peek) *tatp = tat + t;
  return 0;
}

void auth_listen(struct auth *a, auth_revoke_cb cb, void *ud) {
  a->listeners = ef_realloc(a->listeners, (a->n_listeners + 1) * sizeof *a->listeners);
  a->listeners[a->n_listeners++] = (struct listener){cb, ud};
}

bool auth_revoke(struct auth *a, uint64_t token_id) {
  for (size_t i = 0; i < a->n; i++) {
    struct slot *s = &a->slots[i];
    if (s->pub.token_id != token_id || !s->hash) continue;
    explicit_bzero(s->hash, strlen(s->hash));
    ef_free(s->hash);
    s->hash = NULL;
    s->written = s->pub.last_used; /* nothing left to write: the row is gone */
    for (size_t l = 0; l < a->n_listeners; l++) a->listeners[l].cb(a->listeners[l].ud, i);
    return true;
  }
  return false;
}

/* ----- reload: another node of a cluster added or revoked tokens ----- */

struct reload_job {
  struct worker_job job;
  struct auth *a;
  struct store_token *rows;
  size_t n;
  int rc;
};

static void reload_work(struct store *st, struct worker_job *job) {
  struct reload_job *r = container_of(job, struct reload_job, job);
  r->rc = st->ops->token_list(st, &r->rows, &r->n);
}

static bool listed(const struct store_token *rows, size_t n, uint64_t id) {
  for (size_t i = 0; i < n; i++)
    if (rows[i].token_id == id) return true;
  return false;
}

static void reload_done(struct worker_job *job) {
  struct reload_job *r = container_of(job, struct reload_job, job);
  struct auth *a = r->a;
  if (r->rc != 0) {
    ef_log(EF_LOG_ERROR, "auth: reloading the API tokens failed (%s); the next change retries",
           ef_strerror(r->rc));
  } else {
    bool limited = false;
    for (size_t i = 0; i < r->n; i++) { /* new rows */
      bool known = false;
      for (size_t k = 0; k < a->n && !known; k++) known = a->slots[k].pub.token_id == r->rows[i].token_id;
      if (!known) {
        auth_add(a, &r->rows[i]);
        limited |= r->rows[i].groups != NULL;
      }
    }
    for (size_t k = 0; k < a->n; k++) /* deleted rows */
      if (a->slots[k].hash && !listed(r->rows, r->n, a->slots[k].pub.token_id))
        auth_revoke(a, a->slots[k].pub.token_id);
    if (limited) auth_views_refresh(a, NULL, NULL);
  }
  store_tokens_free(r->rows, r->n);
  ef_free(r);
}

void auth_reload(struct auth *a) {
  if (!a->started) return;
  struct reload_job *r = ef_calloc(1, sizeof *r);
  r->a = a;
  r->job.work = reload_work;
  r->job.done = reload_done;
  worker_submit(a->worker, &r->job);
}

/* ----- last use, written behind ----- */

struct touch_job {
  struct worker_job job;
  struct auth *a;
  uint64_t *ids;
  int64_t *times;
  size_t n;
  int rc;
};

static void touch_work(struct store *st, struct worker_job *job) {
  struct touch_job *t = container_of(job, struct touch_job, job);
  t->rc = st->ops->token_touch(st, t->ids, t->times, t->n);
}

static void touch_done(struct worker_job *job) {
  struct touch_job *t = container_of(job, struct touch_job, job);
  static int64_t logged; /* a database that is away fails every flush: once a minute is enough */
  if (t->rc && ef_mono_ms() - logged >= 60000) {
    logged = ef_mono_ms();
    ef_log(EF_LOG_WARN, "auth: writing the last use of %zu API tokens: %s (kept; retried)", t->n,
           ef_strerror(t->rc));
  }
  if (t->a) t->a->touching = NULL;
  ef_free(t->ids);
  ef_free(t->times);
  ef_free(t);
}

void auth_flush_used(struct auth *a) {
  if (!a->worker || a->touching) return;
  size_t n = 0;
  for (size_t i = 0; i < a->n; i++) n += a->slots[i].hash && a->slots[i].pub.last_used > a->slots[i].written;
  if (!n) return;
  struct touch_job *t = ef_calloc(1, sizeof *t);
  t->a = a;
  t->ids = ef_calloc(n, sizeof *t->ids);
  t->times = ef_calloc(n, sizeof *t->times);
  for (size_t i = 0; i < a->n; i++) {
    struct slot *s = &a->slots[i];
    if (!s->hash || s->pub.last_used <= s->written) continue;
    t->ids[t->n] = s->pub.token_id;
    t->times[t->n++] = s->pub.last_used;
    s->written = s->pub.last_used;
  }
  t->job.work = touch_work;
  t->job.done = touch_done;
  a->touching = t;
  worker_submit(a->worker, &t->job);
}

static void on_flush_timer(uv_timer_t *h) { auth_flush_used(h->data); }

void auth_start(struct auth *a, uv_loop_t *loop, struct worker *w, int64_t flush_ms) {
  a->worker = w;
  uv_timer_init(loop, &a->timer);
  a->timer.data = a;
  a->started = true;
  uv_timer_start(&a->timer, on_flush_timer, (uint64_t)flush_ms, (uint64_t)flush_ms);
  auth_views_refresh(a, NULL, NULL);
}

void auth_stop(struct auth *a) {
  if (!a || !a->started) return;
  auth_flush_used(a);
  uv_timer_stop(&a->timer);
  uv_close((uv_handle_t *)&a->timer, NULL);
  a->started = false;
  /* The worker is stopped next (main.c): its jobs' done() run there, with a still alive. */
}

/* ----- views of group-limited tokens ----- */

struct view_one {
  uint64_t token_id;
  struct auth_view *view; /* built on the database thread */
};

struct view_job {
  struct worker_job job;
  struct auth *a;
  struct view_one *v;
  size_t n;
  int rc;
};

static void view_work(struct store *st, struct worker_job *job) {
  struct view_job *j = container_of(job, struct view_job, job);
  for (size_t i = 0; i < j->n && !j->rc; i++) {
    struct auth_view *v = j->v[i].view;
    for (size_t g = 0; g < v->ngroups && !j->rc; g++) {
      struct store_device *ds = NULL;
      size_t nd = 0;
      int rc = st->ops->group_devices(st, v->groups[g], &ds, &nd);
      if (rc == EF_ENOENT) rc = 0; /* a deleted group: nothing of it */
      for (size_t d = 0; rc == 0 && d < nd; d++)
        u64map_put(&v->devices, ds[d].device_id, (void *)1);
      store_devices_free(ds, nd);
      j->rc = rc;
    }
  }
}

static void start_build(struct auth *a);

static void run_waiters(struct waiter *w, size_t n) {
  for (size_t i = 0; i < n; i++) w[i].cb(w[i].ud);
  ef_free(w);
}

static void view_done(struct worker_job *job) {
  struct view_job *j = container_of(job, struct view_job, job);
  struct auth *a = j->a;
  if (j->rc)
    ef_log(EF_LOG_ERROR, "auth: building the views of group-limited tokens: %s",
           ef_strerror(j->rc));
  for (size_t i = 0; i < j->n; i++) {
    for (size_t s = 0; !j->rc && s < a->n; s++)
      if (a->slots[s].pub.token_id == j->v[i].token_id && a->slots[s].hash &&
          a->slots[s].pub.view) {
        auth_view_drop(a->slots[s].pub.view);
        a->slots[s].pub.view = j->v[i].view;
        j->v[i].view = NULL;
      }
    auth_view_drop(j->v[i].view);
  }
  ef_free(j->v);
  ef_free(j);
  a->building = NULL;
  struct waiter *w = a->wait_now;
  size_t n = a->n_wait_now;
  a->wait_now = NULL;
  a->n_wait_now = 0;
  if (a->again) {
    a->again = false;
    a->wait_now = a->wait_next;
    a->n_wait_now = a->n_wait_next;
    a->wait_next = NULL;
    a->n_wait_next = 0;
    start_build(a);
  }
  run_waiters(w, n);
}

static void start_build(struct auth *a) {
  struct view_job *j = ef_calloc(1, sizeof *j);
  j->a = a;
  j->v = ef_calloc(a->n ? a->n : 1, sizeof *j->v);
  for (size_t s = 0; s < a->n; s++) {
    struct auth_view *old = a->slots[s].pub.view;
    if (!a->slots[s].hash || !old) continue;
    j->v[j->n].token_id = a->slots[s].pub.token_id;
    j->v[j->n++].view = view_new(old->groups, old->ngroups);
  }
  j->job.work = view_work;
  j->job.done = view_done;
  a->building = j;
  worker_submit(a->worker, &j->job);
}

static void add_waiter(struct waiter **w, size_t *n, void (*cb)(void *), void *ud) {
  if (!cb) return;
  *w = ef_realloc(*w, (*n + 1) * sizeof **w);
  (*w)[(*n)++] = (struct waiter){cb, ud};
}

bool auth_views_refresh(struct auth *a, void (*cb)(void *ud), void *ud) {
  if (!a->worker) return false;
  bool any = false;
  for (size_t s = 0; s < a->n && !any; s++) any = a->slots[s].hash && a->slots[s].pub.view;
  if (!any && !a->building) return false;
  if (a->building) {
    a->again = true;
    add_waiter(&a->wait_next, &a->n_wait_next, cb, ud);
    return true;
  }
  add_waiter(&a->wait_now, &a->n_wait_now, cb, ud);
  start_build(a);
  return true;
}

void auth_free(struct auth **ap) {
  struct auth *a = *ap;
  if (!a) return;
  for (size_t i = 0; i < a->n; i++) {
    ef_free((char *)a->slots[i].pub.name);
    ef_free(a->slots[i].hash);
    auth_view_drop(a->slots[i].pub.view);
  }
  ef_free(a->slots);
  ef_free(a->wait_now);
  ef_free(a->wait_next);
  ef_free(a->listeners);
  ef_free(a);
  *ap = NULL;
}
