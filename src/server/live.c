/* SPDX-License-Identifier: MIT */
/* live.c -- the registry of connected devices (live.h): sessions by device id, each one's state
 * and latest status, host names, and the listeners told of every change; and the devices other
 * nodes of a cluster hold (remote entries, written by cluster.c). */
#include "live.h"

#include <string.h>

#include "clock.h"
#include "dsess.h"
#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "mem.h"
#include "u64map.h"

#define LISTENERS_MAX 8

/* A device connected to another node. */
struct rdev {
  unsigned node;
  uint8_t state;           /* enum dev_state */
  int64_t login_time;      /* ms since the epoch */
  char *status;            /* the latest upload_status_info message, as received there */
  uint32_t status_len;
  int64_t status_time;     /* ms since the epoch; 0: none yet */
};

struct live {
  struct u64map devices;   /* device_id -> struct dsess *, logged-in sessions only */
  struct u64map remote;    /* device_id -> struct rdev *, devices on other nodes */
  json_t *hosts;           /* host name -> device_id of the agent on that host */
  struct {
    live_listener fn;
    void *ud;
  } listeners[LISTENERS_MAX];
  int nlisteners;
};

struct live *live_new(void) {
  struct live *l = ef_calloc(1, sizeof *l);
  u64map_init(&l->devices);
  u64map_init(&l->remote);
  l->hosts = json_object();
  return l;
}

void live_free(struct live **lp) {
  struct live *l = *lp;
  if (!l) return;
  u64map_free(&l->devices);
  uint64_t id;
  void *v;
  for (size_t it = 0; u64map_next(&l->remote, &it, &id, &v);) {
    struct rdev *r = v;
    ef_free(r->status);
    ef_free(r);
  }
  u64map_free(&l->remote);
  json_decref(l->hosts);
  ef_free(l);
  *lp = NULL;
}

void live_listen(struct live *l, live_listener fn, void *ud) {
  if (l->nlisteners == LISTENERS_MAX) abort(); /* a start-up wiring error, not a runtime one */
  l->listeners[l->nlisteners].fn = fn;
  l->listeners[l->nlisteners].ud = ud;
  l->nlisteners++;
}

static void emit(struct live *l, const struct live_change *c) {
  for (int i = 0; i < l->nlisteners; i++) l->listeners[i].fn(l->listeners[i].ud, c);
}

/* ----- lookups ----- */

static struct dsess *find(const struct live *l, uint64_t id) {
  return id ? u64map_get(&l->devices, id) : NULL;
}

static struct rdev *find_remote(const struct live *l, uint64_t id) {
  return id ? u64map_get(&l->remote, id) : NULL;
}

/* What the reads need of a device, local or remote: false when it is connected nowhere. */
struct seen {
  enum dev_state state;
  const char *status;
  size_t status_len;
  int64_t status_time;
  int64_t login_time;
};

static bool seen(const struct live *l, uint64_t id, struct seen *out) {
  struct dsess *d = find(l, id);
  if (d) {
    *out = (struct seen){(enum dev_state)d->state, d->status, d->status_len, d->status_time,
                         d->login_time};
    return true;
  }
  struct rdev *r = find_remote(l, id);
  if (r) {
    *out = (struct seen){(enum dev_state)r->state, r->status, r->status_len, r->status_time,
                         r->login_time};
    return true;
  }
  return false;
}

enum live_where live_find(const struct live *l, uint64_t device_id, struct dsess **s) {
  struct dsess *d = find(l, device_id);
  if (s) *s = d;
  return d ? LIVE_LOCAL : find_remote(l, device_id) ? LIVE_REMOTE : LIVE_ABSENT;
}

bool live_remote_node(const struct live *l, uint64_t device_id, unsigned *node) {
  struct rdev *r = find(l, device_id) ? NULL : find_remote(l, device_id);
  if (r && node) *node = r->node;
  return r != NULL;
}

enum dev_state live_state(const struct live *l, uint64_t device_id) {
  struct seen v;
  return seen(l, device_id, &v) ? v.state : DEV_OFFLINE;
}

static json_t *status_data(const struct seen *v) {
  if (!v->status) return NULL;
  json_t *m = jparse_object(v->status, v->status_len);
  json_t *data = json_incref(jobj(m, "data"));
  json_decref(m);
  return data;
}

json_t *live_status_data(const struct live *l, uint64_t device_id) {
  struct seen v;
  return seen(l, device_id, &v) ? status_data(&v) : NULL;
}

json_t *live_status(const struct live *l, uint64_t device_id) {
  struct seen v;
  if (!seen(l, device_id, &v)) return NULL;
  json_t *st = status_data(&v);
  if (!st) st = json_object();
  char idbuf[EF_ID_STRLEN];
  json_object_set_new(st, "device_id", json_string(id_format(device_id, idbuf)));
  json_object_set_new(st, "dev_state", json_string(dev_state_name(v.state)));
  json_object_set_new(st, "status_time", json_integer(v.status_time));
  return st;
}

int64_t live_status_time(const struct live *l, uint64_t device_id) {
  struct seen v;
  return seen(l, device_id, &v) ? v.status_time : -1;
}

int64_t live_login_time(const struct live *l, uint64_t device_id) {
  struct seen v;
  return seen(l, device_id, &v) ? v.login_time : -1;
}

uint64_t live_host_device(const struct live *l, const char *host) {
  json_t *v = json_object_get(l->hosts, host);
  return v ? (uint64_t)json_integer_value(v) : 0;
}

static void overlay_one(const struct live *l, json_t *d) {
  uint64_t id = 0;
  if (!id_parse(jstr(d, "device_id"), &id)) return;
  json_object_set_new(d, "dev_state", json_string(dev_state_name(live_state(l, id))));
}

void live_overlay_state(const struct live *l, json_t *devices) {
  size_t i;
  json_t *d;
  if (json_is_object(devices)) overlay_one(l, devices);
  else json_array_foreach(devices, i, d) overlay_one(l, d);
}

size_t live_count(const struct live *l) { return l->devices.len; }
size_t live_count_remote(const struct live *l) { return l->remote.len; }

bool live_next_local(const struct live *l, size_t *iter, uint64_t *device_id) {
  void *v;
  return u64map_next(&l->devices, iter, device_id, &v) != 0;
}

bool live_next_remote(const struct live *l, size_t *iter, uint64_t *device_id) {
  void *v;
  return u64map_next(&l->remote, iter, device_id, &v) != 0;
}

/* ----- acting on a device ----- */

int live_send(struct live *l, uint64_t device_id, const char *msg, size_t len) {
  struct dsess *d = find(l, device_id);
  return d ? live_sess_send(d, msg, len) : EF_ENOENT;
}

void live_drop(struct live *l, uint64_t device_id, int status, const char *why) {
  struct dsess *d = find(l, device_id);
  if (d) live_sess_drop(d, status, why);
}

void live_yield(struct live *l, uint64_t device_id, const char *why) {
  struct dsess *d = find(l, device_id);
  if (!d) return;
  d->yielded = true;
  live_sess_drop(d, 1000, why);
}

/* ----- a session: handlers ----- */

uint64_t live_sess_device(const struct dsess *s) { return s->device_id; }
enum dev_state live_sess_state(const struct dsess *s) { return (enum dev_state)s->state; }
const char *live_sess_peer(const struct dsess *s) { return s->conn ? net_conn_peer(s->conn) : "?"; }

int live_sess_send(struct dsess *s, const char *msg, size_t len) {
  if (!s->conn || s->phase == PH_CLOSED) return EF_ECLOSED;
  return net_send(s->conn, msg, len);
}

void live_sess_send_json(struct dsess *s, json_t *v) {
  char *txt = jdump_decref(v);
  live_sess_send(s, txt, strlen(txt));
  ef_free(txt);
}

void live_sess_error(struct dsess *s, const char *message) {
  live_sess_send_json(s, json_pack("{s:s, s:{}, s:{s:s}}", "type", WIRE_ERROR, "Headers", "data",
                                   "message", message));
}

/* Keep a copy of raw[len] in *buf (reused when it is large enough). */
static void keep_status(char **buf, uint32_t *buflen, const char *raw, size_t len) {
  if (!*buf || *buflen < len) {
    ef_free(*buf);
    *buf = ef_malloc(len + 1);
  }
  memcpy(*buf, raw, len);
  (*buf)[len] = '\0';
  *buflen = (uint32_t)len;
}

void live_sess_set_status(struct dsess *s, const char *raw, size_t len, int64_t time) {
  keep_status(&s->status, &s->status_len, raw, len);
  s->status_time = time;
}

static bool set_host(struct live *l, uint64_t device_id, const char *host) {
  json_t *v = json_object_get(l->hosts, host);
  uint64_t holder = v ? (uint64_t)json_integer_value(v) : 0;
  if (holder == device_id) return true;
  /* A host's figures come from one device: another may take the name over only once the
   * holder is gone (an agent reinstalled with a new identity), never while it is connected. */
  if (holder && (find(l, holder) || find_remote(l, holder))) return false;
  json_object_set_new(l->hosts, host, json_integer((json_int_t)device_id));
  return true;
}

bool live_sess_set_host(struct dsess *s, const char *host) {
  return set_host(s->live, s->device_id, host);
}

int64_t live_sess_status_logged(const struct dsess *s) { return s->status_logged; }
void live_sess_set_status_logged(struct dsess *s, int64_t time) { s->status_logged = time; }

/* ----- a session: its owner (dsess.h) ----- */

struct dsess *live_sess_new(struct live *l, struct server *srv, struct net_conn *conn) {
  struct dsess *s = ef_calloc(1, sizeof *s);
  s->live = l;
  s->srv = srv;
  s->conn = conn;
  return s;
}

void live_sess_free(struct dsess *s) {
  ef_free(s->status);
  ef_free(s->close_reason);
  ef_free(s);
}

void live_sess_login(struct dsess *s, uint64_t device_id) {
  struct live *l = s->live;
  s->device_id = device_id;
  struct dsess *old = u64map_put(&l->devices, device_id, s);
  bool replaced = old && old != s;
  if (replaced) {
    /* A device that logs in again before its old connection timed out: the new one wins, and
     * the old one's close changes no state. */
    old->device_id = 0;
    old->phase = PH_CLOSED;
    if (old->conn) net_close(old->conn, 1000, "replaced by a new login");
  }
  s->phase = PH_READY;
  s->misses = 0;
  s->state = DEV_ONLINE;
  s->login_time = ef_now_ms();
  /* It was on another node a moment ago: that entry is over (the node yields its session when
   * it hears of this login). */
  struct rdev *r = u64map_del(&l->remote, device_id);
  if (r) {
    ef_free(r->status);
    ef_free(r);
  }
  emit(l, &(struct live_change){.event = LIVE_LOGIN, .device_id = device_id, .state = DEV_ONLINE,
                                .why = "login", .peer = live_sess_peer(s),
                                .replaced = replaced || r, .persist = true});
}

void live_sess_set_state(struct dsess *s, enum dev_state st, const char *why) {
  if (s->state == st || s->phase != PH_READY) return;
  s->state = (uint8_t)st;
  emit(s->live, &(struct live_change){.event = LIVE_STATE, .device_id = s->device_id,
                                      .state = st, .why = why, .persist = true});
}

void live_sess_end(struct dsess *s, const char *why) {
  if (s->phase == PH_CLOSED) return;
  if (!s->close_reason) s->close_reason = ef_strdup(why);
  s->phase = PH_CLOSED;
  if (s->device_id && find(s->live, s->device_id) == s) {
    u64map_del(&s->live->devices, s->device_id);
    s->state = DEV_OFFLINE;
    emit(s->live, &(struct live_change){.event = LIVE_LOGOUT, .device_id = s->device_id,
                                        .state = DEV_OFFLINE, .why = s->close_reason,
                                        .replaced = s->yielded, .persist = !s->yielded});
  }
}

void live_sess_drop(struct dsess *s, int status, const char *why) {
  if (!s->conn || s->phase == PH_CLOSED) return;
  live_sess_end(s, why);
  net_close(s->conn, status, why);
}

void live_note_all(struct live *l, const char *why) {
  uint64_t id;
  void *v;
  for (size_t it = 0; u64map_next(&l->devices, &it, &id, &v);) {
    struct dsess *s = v;
    if (!s->close_reason) s->close_reason = ef_strdup(why);
  }
}

/* ----- devices on other nodes (cluster.c) ----- */

static void rdev_free(struct rdev *r) {
  ef_free(r->status);
  ef_free(r);
}

void live_remote_login(struct live *l, uint64_t id, unsigned node, int64_t at, const char *peer) {
  if (!id || find(l, id)) return; /* the caller yields a local session first */
  struct rdev *r = find_remote(l, id);
  if (r && r->node == node && r->login_time == at) return; /* known (a directory sent again) */
  bool replaced = r != NULL;
  if (!r) {
    r = ef_calloc(1, sizeof *r);
    u64map_put(&l->remote, id, r);
  }
  ef_free(r->status);
  *r = (struct rdev){.node = node, .state = DEV_ONLINE, .login_time = at};
  emit(l, &(struct live_change){.event = LIVE_LOGIN, .device_id = id, .state = DEV_ONLINE,
                                .why = "login", .peer = peer, .replaced = replaced,
                                .remote = true, .node = node});
}

void live_remote_state(struct live *l, uint64_t id, unsigned node, enum dev_state st,
                       const char *why) {
  struct rdev *r = find_remote(l, id);
  if (!r || r->node != node || r->state == st) return;
  r->state = (uint8_t)st;
  emit(l, &(struct live_change){.event = LIVE_STATE, .device_id = id, .state = st, .why = why,
                                .remote = true, .node = node});
}

static void remote_end(struct live *l, uint64_t id, struct rdev *r, const char *why,
                       bool persist) {
  unsigned node = r->node;
  u64map_del(&l->remote, id);
  rdev_free(r);
  emit(l, &(struct live_change){.event = LIVE_LOGOUT, .device_id = id, .state = DEV_OFFLINE,
                                .why = why, .remote = true, .node = node, .persist = persist});
}

void live_remote_logout(struct live *l, uint64_t id, unsigned node, const char *why,
                        bool persist) {
  struct rdev *r = find_remote(l, id);
  if (r && r->node == node) remote_end(l, id, r, why, persist);
}

void live_remote_status(struct live *l, uint64_t id, unsigned node, const char *raw, size_t len,
                        int64_t time, const char *host) {
  struct rdev *r = find_remote(l, id);
  if (!r || r->node != node) return;
  keep_status(&r->status, &r->status_len, raw, len);
  r->status_time = time;
  if (host && *host) set_host(l, id, host);
}

size_t live_remote_node_lost(struct live *l, unsigned node, const char *why, bool persist) {
  /* Collected first: listeners run between the removals, and the map may not change while it
   * is iterated. One pass over the remote entries, once per lost node. */
  size_t n = 0, cap = 0;
  uint64_t *ids = NULL, id;
  void *v;
  for (size_t it = 0; u64map_next(&l->remote, &it, &id, &v);) {
    if (((struct rdev *)v)->node != node) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 256;
      ids = ef_realloc(ids, cap * sizeof *ids);
    }
    ids[n++] = id;
  }
  for (size_t i = 0; i < n; i++) {
    struct rdev *r = find_remote(l, ids[i]);
    if (r && r->node == node) remote_end(l, ids[i], r, why, persist);
  }
  ef_free(ids);
  return n;
}
