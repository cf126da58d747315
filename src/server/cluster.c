/* SPDX-License-Identifier: MIT */
/* cluster.c -- the nodes of a cluster on NATS (cluster.h, docs/cluster.md): the bus of device
 * events, node heartbeats and losses, orders to other nodes, and announcements of changes.
 *
 * DESIGN
 * Subjects, under cluster_name (P):
 *   P.bus        every node publishes here, every node listens (no echo): cluster_wire.h
 *                messages of device records, heartbeats and announcements. One subject and one
 *                subscription, so what one node sends is handled everywhere in the order sent
 *                (a login is never overtaken by its own logout).
 *   P.node.<id>  what is for node <id> alone: orders and their results (JSON).
 * NATS' threads only copy what arrives into `inbox` and wake the loop (uv_async); everything else
 * runs on the loop. Outgoing records gather in `out` and go as one message per cluster_flush.
 *
 * The directory a node keeps of the others' devices is live.c's remote entries; a node that
 * appears (first heartbeat, a restart with a new epoch, or back after a partition) is sent every
 * device this node holds, so it needs no other snapshot. Status uploads are passed on as the
 * device sent them and are not parsed on the way.
 */
#include "cluster.h"

#include <string.h>

#include "edgefleet/error.h"
#include "log.h"
#include "server.h"

#ifndef EF_WITH_NATS

int cluster_start(struct server *srv, char *err, size_t errlen) {
  if (!srv->cfg.nats) return 0;
  snprintf(err, errlen, "nats: this edgefleetd was built without the NATS client (install "
           "libnats-dev and rebuild) and cannot join a cluster");
  return EF_ECONFIG;
}
void cluster_stop(struct server *srv) { (void)srv; }
int cluster_order_give(struct server *srv, unsigned node, uint64_t device_id, const char *type,
                       json_t *params, cluster_order_cb cb, void *ud, const char **why) {
  (void)srv, (void)node, (void)device_id, (void)type, (void)params, (void)cb, (void)ud;
  *why = "this node is not in a cluster";
  return EF_EUNAVAIL;
}
void cluster_announce(struct server *srv, enum cluster_change what, uint64_t id,
                      const char *name, const char *name2) {
  (void)srv, (void)what, (void)id, (void)name, (void)name2;
}
void cluster_announce_alert(struct server *srv, const char *op, const json_t *args) {
  (void)srv, (void)op, (void)args;
}

#else

#include <nats/nats.h>
#include <pthread.h>

#include "alert.h"
#include "clock.h"
#include "cluster_wire.h"
#include "id.h"
#include "jsonutil.h"
#include "mem.h"
#include "u64map.h"
#include "wire.h"

#define MAX_NODES 1024
#define OUT_MAX (256 * 1024)  /* bytes of records that go at once, not at the next flush */
#define DUMP_MAX (512 * 1024) /* bytes of one message of a directory dump */

enum in_kind { IN_BUS, IN_NODE, IN_CONNECTED, IN_DISCONNECTED };

struct in_msg {                /* what a NATS thread hands to the loop */
  enum in_kind kind;
  struct in_msg *next;
  size_t len;
  char data[];
};

struct cnode {
  bool alive;
  int64_t epoch;               /* its start time: a new one is a restart */
  int64_t heard;               /* ef_mono_ms() of its last message */
};

struct pending {               /* an order given through another node */
  struct cluster *cl;
  uint64_t corr;
  unsigned node;
  cluster_order_cb cb;
  void *ud;
  uv_timer_t timer;
};

struct cluster {
  struct server *srv;
  unsigned me;
  int64_t epoch;
  char *bus_subj;
  char *node_prefix;           /* "P.node." */
  natsOptions *opts;
  natsConnection *nc;
  natsSubscription *bus_sub, *node_sub;
  /* NATS threads -> loop */
  pthread_mutex_t mu;
  struct in_msg *in_head, *in_tail;
  uv_async_t async;
  /* on the loop */
  bool connected;
  int64_t connected_since;     /* ef_mono_ms() */
  struct cnode nodes[MAX_NODES];
  struct cwire_buf out;
  size_t out_records;
  uv_timer_t flush_timer, hb_timer, reconcile_timer;
  bool flush_armed;
  struct u64map pending;       /* corr -> struct pending * */
  uint64_t next_corr;
  int closing;                 /* handles still to close */
  int64_t last_bad_log;
};

/* ----- NATS threads: copy and wake the loop ----- */

static void enqueue(struct cluster *cl, enum in_kind kind, const char *data, size_t len) {
  struct in_msg *m = ef_malloc(sizeof *m + len + 1);
  m->kind = kind;
  m->next = NULL;
  m->len = len;
  if (len) memcpy(m->data, data, len);
  m->data[len] = '\0';
  pthread_mutex_lock(&cl->mu);
  if (cl->in_tail) cl->in_tail->next = m;
  else cl->in_head = m;
  cl->in_tail = m;
  pthread_mutex_unlock(&cl->mu);
  uv_async_send(&cl->async);
}

static void on_nats_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
  (void)nc;
  struct cluster *cl = closure;
  enqueue(cl, sub == cl->bus_sub ? IN_BUS : IN_NODE, natsMsg_GetData(msg),
          (size_t)natsMsg_GetDataLength(msg));
  natsMsg_Destroy(msg);
}

static void on_nats_up(natsConnection *nc, void *closure) {
  (void)nc;
  enqueue(closure, IN_CONNECTED, NULL, 0);
}

static void on_nats_down(natsConnection *nc, void *closure) {
  (void)nc;
  enqueue(closure, IN_DISCONNECTED, NULL, 0);
}

/* ----- sending ----- */

static void publish(struct cluster *cl, const char *subj, const char *data, size_t len) {
  if (!cl->nc || !cl->connected) return;
  natsStatus s = natsConnection_Publish(cl->nc, subj, data, (int)len);
  if (s != NATS_OK)
    ef_log(EF_LOG_WARN, "cluster: publishing on %s failed: %s", subj, natsStatus_GetText(s));
}

static void flush_out(struct cluster *cl) {
  if (cl->out_records) publish(cl, cl->bus_subj, cl->out.p, cl->out.len);
  cwire_begin(&cl->out, cl->me, cl->epoch);
  cl->out_records = 0;
}

static void on_flush_timer(uv_timer_t *t) {
  struct cluster *cl = t->data;
  cl->flush_armed = false;
  flush_out(cl);
}

/* Queue a record for the other nodes; it goes within cluster_flush. */
static void out_add(struct cluster *cl, char kind, uint64_t id, int64_t time, const char *f1,
                    size_t len1, const char *f2, size_t len2) {
  if (!cl->connected) return; /* a node that comes back is sent everything anew */
  cwire_add(&cl->out, kind, id, time, f1, len1, f2, len2);
  cl->out_records++;
  if (cl->out.len >= OUT_MAX) {
    flush_out(cl);
  } else if (!cl->flush_armed) {
    cl->flush_armed = true;
    uv_timer_start(&cl->flush_timer, on_flush_timer, (uint64_t)cl->srv->cfg.cluster_flush, 0);
  }
}

static void out_str(struct cluster *cl, char kind, uint64_t id, int64_t time, const char *f1,
                    const char *f2) {
  out_add(cl, kind, id, time, f1, f1 ? strlen(f1) : 0, f2, f2 ? strlen(f2) : 0);
}

/* Every device this node holds, as login records, to a node that just appeared: it (and any
 * other node, harmlessly: a login already known changes nothing) learns the directory. */
static void send_directory(struct cluster *cl) {
  struct live *l = cl->srv->live;
  uint64_t id;
  size_t n = 0;
  flush_out(cl);
  for (size_t it = 0; live_next_local(l, &it, &id);) {
    struct dsess *s = NULL;
    live_find(l, id, &s);
    cwire_add(&cl->out, 'I', id, live_login_time(l, id), s ? live_sess_peer(s) : "", 
              s ? strlen(live_sess_peer(s)) : 0, NULL, 0);
    enum dev_state st = live_state(l, id);
    if (st != DEV_ONLINE) {
      const char *name = dev_state_name(st);
      cwire_add(&cl->out, 'S', id, ef_now_ms(), name, strlen(name), NULL, 0);
    }
    cl->out_records++;
    n++;
    if (cl->out.len >= DUMP_MAX) flush_out(cl);
  }
  flush_out(cl);
  ef_log(EF_LOG_DEBUG, "cluster: sent the directory of %zu devices", n);
}

/* ----- nodes ----- */

static bool link_stable(const struct cluster *cl) {
  return cl->connected && ef_mono_ms() - cl->connected_since >= cl->srv->cfg.cluster_node_timeout;
}

static bool is_leader(const struct cluster *cl) {
  for (unsigned n = 0; n < cl->me; n++)
    if (cl->nodes[n].alive) return false;
  return true;
}

static void fail_pending_of(struct cluster *cl, unsigned node, int http, const char *why);

/* srv->leader follows the nodes alive. */
static void lead_check(struct cluster *cl) {
  bool lead = is_leader(cl);
  if (lead != cl->srv->leader)
    ef_log(EF_LOG_INFO, "cluster: this node %s", lead ? "leads now" : "no longer leads");
  cl->srv->leader = lead;
}

static void node_lost(struct cluster *cl, unsigned node, const char *how) {
  struct cnode *cn = &cl->nodes[node];
  if (!cn->alive) return;
  cn->alive = false;
  /* The leader records the loss in the database, once it is itself sure of the link: a node cut
   * off from NATS sees every other node go and must not write them all offline. */
  bool persist = is_leader(cl) && link_stable(cl);
  char why[64];
  snprintf(why, sizeof why, "node %u %s", node, how);
  size_t n = live_remote_node_lost(cl->srv->live, node, why, persist);
  fail_pending_of(cl, node, 502, "device disconnected");
  ef_log(EF_LOG_WARN, "cluster: %s; its %zu devices are offline here%s", why, n,
         persist ? " (recorded)" : "");
  lead_check(cl);
}

/* A message from `node` with `epoch`: it is alive; one that is new is sent the directory. */
static void node_heard(struct cluster *cl, unsigned node, int64_t epoch) {
  struct cnode *cn = &cl->nodes[node];
  if (cn->alive && cn->epoch != epoch) node_lost(cl, node, "restarted");
  cn->heard = ef_mono_ms();
  if (cn->alive) return;
  cn->alive = true;
  cn->epoch = epoch;
  ef_log(EF_LOG_INFO, "cluster: node %u joined", node);
  lead_check(cl);
  send_directory(cl);
}

static void on_hb_timer(uv_timer_t *t) {
  struct cluster *cl = t->data;
  int64_t now = ef_mono_ms();
  for (unsigned n = 0; n < MAX_NODES; n++)
    if (cl->nodes[n].alive && now - cl->nodes[n].heard > cl->srv->cfg.cluster_node_timeout)
      node_lost(cl, n, "lost (no heartbeat)");
  out_add(cl, 'H', live_count(cl->srv->live), ef_now_ms(), NULL, 0, NULL, 0);
  flush_out(cl);
}

/* ----- announcements ----- */

static void views_rebuilt(void *ud) { front_devices_changed(ud); }

/* An alert-engine change made on another node (cluster_announce_alert), made here too. */
static void apply_alert(struct server *srv, const json_t *c) {
  struct alerts *a = alerting_alerts(srv);
  const char *op = jstr(c, "op");
  const json_t *x = json_object_get(c, "args");
  if (!a || !op || !json_is_object(x)) return;
  char err[256];
  int64_t now = ef_now_ms();
  int rc = 0;
  bool rules = false;
  if (strcmp(op, "rule_add") == 0) {
    rc = alerts_rule_add(a, json_object_get(x, "body"), err, sizeof err);
    rules = true;
  } else if (strcmp(op, "rule_update") == 0 && jstr(x, "name")) {
    rc = alerts_rule_update(a, jstr(x, "name"), json_object_get(x, "body"), err, sizeof err);
    rules = true;
  } else if (strcmp(op, "rule_delete") == 0 && jstr(x, "name")) {
    rc = alerts_rule_delete(a, jstr(x, "name"), now);
    rules = true;
  } else if (strcmp(op, "silence") == 0) {
    json_t *until = json_object_get(x, "until");
    if (json_is_integer(until))
      alerts_silence(a, jstr(x, "rule"), jstr(x, "fingerprint"), json_integer_value(until),
                     jstr(x, "comment"), jstr(x, "by"), now);
  } else if (strcmp(op, "ack") == 0 && jstr(x, "fingerprint")) {
    rc = alerts_ack(a, jstr(x, "fingerprint"), jstr(x, "by") ? jstr(x, "by") : "api", now);
  }
  if (rules && rc == 0) alerting_rules_changed(srv); /* this node's rules file, and evaluate */
  if (rc) ef_log(EF_LOG_WARN, "cluster: alert change %s from another node not applied here", op);
}

void cluster_announce_alert(struct server *srv, const char *op, const json_t *args) {
  struct cluster *cl = srv->cluster;
  if (!cl) return;
  json_t *c = json_pack("{s:s, s:s, s:O}", "k", "alert", "op", op, "args", args);
  char *txt = jdump_decref(c);
  out_str(cl, 'C', 0, ef_now_ms(), NULL, txt);
  ef_free(txt);
}

static void apply_change(struct cluster *cl, const char *json, size_t len) {
  struct server *srv = cl->srv;
  json_t *c = jparse_object(json, len);
  const char *k = c ? jstr(c, "k") : NULL;
  uint64_t id = 0;
  if (c) id_parse(jstr(c, "id"), &id);
  if (!k) {
  } else if (strcmp(k, "devices") == 0) {
    if (!auth_views_refresh(srv->auth, views_rebuilt, srv)) front_devices_changed(srv);
  } else if (strcmp(k, "tokens") == 0) {
    auth_reload(srv->auth);
  } else if (strcmp(k, "deleted") == 0 && id) {
    live_drop(srv->live, id, 1008, "device deleted");
  } else if (strcmp(k, "bind") == 0 && id && jstr(c, "m")) {
    miner_bind_remote(srv->miners, jstr(c, "m"), id);
  } else if (strcmp(k, "wdel") == 0 && jstr(c, "m") && jstr(c, "h")) {
    miner_worker_delete(srv->miners, jstr(c, "m"), jstr(c, "h"));
  } else if (strcmp(k, "alert") == 0) {
    apply_alert(srv, c);
  }
  json_decref(c);
}

void cluster_announce(struct server *srv, enum cluster_change what, uint64_t id,
                      const char *name, const char *name2) {
  struct cluster *cl = srv->cluster;
  if (!cl) return;
  static const char *const kinds[] = {
    [CLUSTER_DEVICES] = "devices", [CLUSTER_TOKENS] = "tokens",
    [CLUSTER_DEVICE_DELETED] = "deleted", [CLUSTER_MINER_BIND] = "bind",
    [CLUSTER_WORKER_DELETE] = "wdel"};
  char idbuf[EF_ID_STRLEN];
  json_t *c = json_pack("{s:s}", "k", kinds[what]);
  if (id) json_object_set_new(c, "id", json_string(id_format(id, idbuf)));
  if (name) json_object_set_new(c, "m", json_string(name));
  if (name2) json_object_set_new(c, "h", json_string(name2));
  char *txt = jdump_decref(c);
  out_str(cl, 'C', 0, ef_now_ms(), NULL, txt);
  ef_free(txt);
}

/* ----- the bus: records from another node ----- */

static enum dev_state state_parse(const char *s, size_t n) {
  if (n == strlen(WIRE_STATE_ONLINE) && memcmp(s, WIRE_STATE_ONLINE, n) == 0) return DEV_ONLINE;
  if (n == strlen(WIRE_STATE_UNKNOWN) && memcmp(s, WIRE_STATE_UNKNOWN, n) == 0) return DEV_UNKNOWN;
  return DEV_OFFLINE;
}

/* Device `id` logged in on `node` at `at`: the newer login wins (on one time, the higher node). */
static void remote_login(struct cluster *cl, unsigned node, uint64_t id, int64_t at,
                         const char *peer) {
  struct live *l = cl->srv->live;
  if (live_find(l, id, NULL) == LIVE_LOCAL) {
    int64_t mine = live_login_time(l, id);
    if (mine > at || (mine == at && cl->me > node)) return; /* ours is newer: it will yield */
    char why[64];
    snprintf(why, sizeof why, "replaced by a login on node %u", node);
    live_yield(l, id, why);
  }
  live_remote_login(l, id, node, at, peer);
}

static void bad_message(struct cluster *cl, const char *what) {
  int64_t now = ef_mono_ms();
  if (now - cl->last_bad_log < 10000) return;
  cl->last_bad_log = now;
  ef_log(EF_LOG_WARN, "cluster: %s ignored", what);
}

static void handle_bus(struct cluster *cl, const char *msg, size_t len) {
  struct cwire_reader r;
  struct cwire_rec rec;
  if (!cwire_valid(msg, len) || !cwire_open(&r, msg, len)) {
    bad_message(cl, "a malformed bus message");
    return;
  }
  if (r.node == cl->me) {
    if (r.epoch != cl->epoch) bad_message(cl, "a message from another node with this node_id");
    return;
  }
  node_heard(cl, r.node, r.epoch);
  struct live *l = cl->srv->live;
  char small[256];
  while (cwire_next(&r, &rec) == 1) {
    snprintf(small, sizeof small, "%.*s", (int)(rec.len1 < 255 ? rec.len1 : 255), rec.f1);
    switch (rec.kind) {
    case 'I': remote_login(cl, r.node, rec.id, rec.time, small); break;
    case 'S': {
      char why[256];
      snprintf(why, sizeof why, "%.*s", (int)(rec.len2 < 255 ? rec.len2 : 255), rec.f2);
      live_remote_state(l, rec.id, r.node, state_parse(rec.f1, rec.len1), why);
      break;
    }
    case 'O': live_remote_logout(l, rec.id, r.node, small, false); break;
    case 'U': live_remote_status(l, rec.id, r.node, rec.f2, rec.len2, rec.time, small); break;
    case 'M': miner_apply_remote(cl->srv->miners, rec.id, rec.f2, rec.len2); break;
    case 'H': break; /* alive: node_heard() above saw its header */
    case 'B': node_lost(cl, r.node, "stopped"); return;
    case 'Q': send_directory(cl); break; /* it (re)connected: it may have dropped ours */
    case 'C': apply_change(cl, rec.f2, rec.len2); break;
    }
  }
}

/* ----- listeners: this node's devices, for the others ----- */

/* The listeners' ud is the server: they outlive the cluster (cluster_stop), and do nothing then. */
static void on_live(void *ud, const struct live_change *c) {
  struct cluster *cl = ((struct server *)ud)->cluster;
  if (!cl || c->remote) return;
  switch (c->event) {
  case LIVE_LOGIN:
    out_str(cl, 'I', c->device_id, live_login_time(cl->srv->live, c->device_id), c->peer, NULL);
    break;
  case LIVE_STATE: out_str(cl, 'S', c->device_id, ef_now_ms(), dev_state_name(c->state), c->why); break;
  case LIVE_LOGOUT: out_str(cl, 'O', c->device_id, ef_now_ms(), c->why, NULL); break;
  }
}

static void on_status(void *ud, uint64_t device_id, const json_t *data, const char *raw,
                      size_t len, int64_t time) {
  struct cluster *cl = ((struct server *)ud)->cluster;
  if (!cl) return;
  const char *host = jstr(data, "lotus_worker_name");
  if (!host || !*host) host = jstr(data, "host_name");
  out_add(cl, 'U', device_id, time, host, host ? strlen(host) : 0, raw, len);
}

static void on_miner(void *ud, uint64_t device_id, const char *raw, size_t len) {
  struct cluster *cl = ((struct server *)ud)->cluster;
  if (cl) out_add(cl, 'M', device_id, ef_now_ms(), NULL, 0, raw, len);
}

/* ----- orders through another node ----- */

static void node_subject(const struct cluster *cl, unsigned node, char *buf, size_t len) {
  snprintf(buf, len, "%s%u", cl->node_prefix, node);
}

static void pending_closed(uv_handle_t *h) { ef_free(h->data); }

static void pending_end(struct pending *p, bool ok, int http, const char *message, int log_rc) {
  u64map_del(&p->cl->pending, p->corr);
  uv_timer_stop(&p->timer);
  p->cb(p->ud, ok, http, message, log_rc);
  uv_close((uv_handle_t *)&p->timer, pending_closed);
}

static void on_pending_timeout(uv_timer_t *t) {
  pending_end(t->data, false, 504, "order timed out: no result from the device", 0);
}

static void fail_pending_of(struct cluster *cl, unsigned node, int http, const char *why) {
  uint64_t corr;
  void *v;
  size_t n = 0;
  struct pending **list = NULL;
  for (size_t it = 0; u64map_next(&cl->pending, &it, &corr, &v);)
    if (node == MAX_NODES || ((struct pending *)v)->node == node) {
      list = ef_realloc(list, (n + 1) * sizeof *list);
      list[n++] = v;
    }
  for (size_t i = 0; i < n; i++) pending_end(list[i], false, http, why, 0);
  ef_free(list);
}

int cluster_order_give(struct server *srv, unsigned node, uint64_t device_id, const char *type,
                       json_t *params, cluster_order_cb cb, void *ud, const char **why) {
  struct cluster *cl = srv->cluster;
  if (!cl || !cl->connected || node >= MAX_NODES || !cl->nodes[node].alive) {
    *why = WIRE_MSG_OFFLINE;
    return EF_EOFFLINE;
  }
  struct pending *p = ef_calloc(1, sizeof *p);
  p->cl = cl;
  p->corr = ++cl->next_corr;
  p->node = node;
  p->cb = cb;
  p->ud = ud;
  uv_timer_init(srv->loop, &p->timer);
  p->timer.data = p;
  /* The node that gives the order times it out after order_timeout and answers 504 itself;
   * this timer only covers a node that dies or a bus that loses the answer. */
  uv_timer_start(&p->timer, on_pending_timeout,
                 (uint64_t)(srv->cfg.order_timeout + 2 * srv->cfg.cluster_node_timeout), 0);
  u64map_put(&cl->pending, p->corr, p);
  char idbuf[EF_ID_STRLEN], subj[256];
  json_t *req = json_pack("{s:s, s:I, s:i, s:s, s:s}", "t", "order", "c", (json_int_t)p->corr,
                          "f", (int)cl->me, "d", id_format(device_id, idbuf), "o", type);
  if (params) json_object_set(req, "p", params);
  char *txt = jdump_decref(req);
  node_subject(cl, node, subj, sizeof subj);
  publish(cl, subj, txt, strlen(txt));
  ef_free(txt);
  return 0;
}

struct remote_order {          /* an order given here for another node's caller */
  struct server *srv;          /* (the cluster may be stopped before the order ends) */
  unsigned from;
  json_int_t corr;
};

static void send_result(struct cluster *cl, unsigned to, json_int_t corr, bool ok, int http,
                        const char *message, int log_rc) {
  char subj[256];
  json_t *res = json_pack("{s:s, s:I, s:b, s:i, s:s, s:i}", "t", "result", "c", corr, "ok", ok,
                          "h", http, "m", message ? message : "", "l", log_rc);
  char *txt = jdump_decref(res);
  node_subject(cl, to, subj, sizeof subj);
  publish(cl, subj, txt, strlen(txt));
  ef_free(txt);
}

static void remote_order_done(void *ud, bool ok, int http, const char *message, int log_rc) {
  struct remote_order *ro = ud;
  if (ro->srv->cluster) send_result(ro->srv->cluster, ro->from, ro->corr, ok, http, message, log_rc);
  ef_free(ro);
}

static void handle_node(struct cluster *cl, const char *msg, size_t len) {
  json_t *m = jparse_object(msg, len);
  const char *t = m ? jstr(m, "t") : NULL;
  json_t *corr = m ? json_object_get(m, "c") : NULL;
  if (!t || !json_is_integer(corr)) {
    bad_message(cl, "a malformed node message");
  } else if (strcmp(t, "order") == 0) {
    json_t *from = json_object_get(m, "f");
    uint64_t dev = 0;
    const char *type = jstr(m, "o");
    json_t *params = json_object_get(m, "p");
    if (!json_is_integer(from) || json_integer_value(from) < 0 ||
        json_integer_value(from) >= MAX_NODES || !id_parse(jstr(m, "d"), &dev) || !type ||
        (params && !json_is_object(params))) {
      bad_message(cl, "a malformed order request");
    } else {
      struct remote_order *ro = ef_calloc(1, sizeof *ro);
      *ro = (struct remote_order){cl->srv, (unsigned)json_integer_value(from),
                                  json_integer_value(corr)};
      const char *why = NULL;
      int rc = order_give(cl->srv, dev, type, params, remote_order_done, ro, &why);
      if (rc != 0) { /* the refusals a caller on this node gets: 409 with the reason */
        send_result(cl, ro->from, ro->corr, false, 409, why, 0);
        ef_free(ro);
      }
    }
  } else if (strcmp(t, "result") == 0) {
    struct pending *p = u64map_get(&cl->pending, (uint64_t)json_integer_value(corr));
    json_t *ok = json_object_get(m, "ok"), *h = json_object_get(m, "h"), *l = json_object_get(m, "l");
    if (p && json_is_boolean(ok) && json_is_integer(h) && json_is_integer(l))
      pending_end(p, json_is_true(ok), (int)json_integer_value(h), jstr(m, "m"),
                  (int)json_integer_value(l));
  }
  json_decref(m);
}

/* ----- the loop's side of the inbox ----- */

static void on_async(uv_async_t *a) {
  struct cluster *cl = a->data;
  pthread_mutex_lock(&cl->mu);
  struct in_msg *m = cl->in_head;
  cl->in_head = cl->in_tail = NULL;
  pthread_mutex_unlock(&cl->mu);
  while (m) {
    struct in_msg *next = m->next;
    switch (m->kind) {
    case IN_BUS: handle_bus(cl, m->data, m->len); break;
    case IN_NODE: handle_node(cl, m->data, m->len); break;
    case IN_CONNECTED:
      if (!cl->connected) {
        cl->connected = true;
        cl->connected_since = ef_mono_ms();
        ef_log(EF_LOG_INFO, "cluster: connected to NATS as node %u", cl->me);
        cwire_begin(&cl->out, cl->me, cl->epoch);
        cl->out_records = 0;
        /* Say so at once, and ask for the directories: after a short cut the others may not
         * have missed this node (they send nothing then), but it dropped theirs. */
        out_add(cl, 'Q', 0, ef_now_ms(), NULL, 0, NULL, 0);
        on_hb_timer(&cl->hb_timer);
      }
      break;
    case IN_DISCONNECTED:
      if (cl->connected) {
        cl->connected = false;
        ef_log(EF_LOG_WARN, "cluster: NATS connection lost; serving this node's devices alone "
               "until it is back");
        for (unsigned n = 0; n < MAX_NODES; n++) node_lost(cl, n, "unreachable (NATS lost)");
      }
      break;
    }
    ef_free(m);
    m = next;
  }
}

/* ----- start-up: devices the database says are online but no node holds ----- */

struct reconcile_job {
  struct worker_job job;
  struct u64map held;          /* every device some node holds */
  size_t n;
  int rc;
};

static void reconcile_work(struct store *st, struct worker_job *job) {
  struct reconcile_job *r = container_of(job, struct reconcile_job, job);
  struct store_device *devs = NULL;
  size_t n = 0;
  if ((r->rc = st->ops->device_list(st, &devs, &n)) != 0) return;
  struct store_state *states = ef_calloc(n ? n : 1, sizeof *states);
  int64_t now = ef_now_ms();
  for (size_t i = 0; i < n; i++)
    if (devs[i].dev_state && strcmp(devs[i].dev_state, WIRE_STATE_OFFLINE) != 0 &&
        !u64map_get(&r->held, devs[i].device_id))
      states[r->n++] = (struct store_state){devs[i].device_id, WIRE_STATE_OFFLINE, now};
  if (r->n) r->rc = st->ops->write_batch(st, NULL, 0, states, r->n);
  ef_free(states);
  store_devices_free(devs, n);
}

static void reconcile_done(struct worker_job *job) {
  struct reconcile_job *r = container_of(job, struct reconcile_job, job);
  if (r->rc) ef_log(EF_LOG_ERROR, "cluster: marking unheld devices offline failed: %s",
                    ef_strerror(r->rc));
  else if (r->n) ef_log(EF_LOG_INFO, "cluster: %zu devices no node holds marked offline", r->n);
  u64map_free(&r->held);
  ef_free(r);
}

static void on_reconcile(uv_timer_t *t) {
  struct cluster *cl = t->data;
  if (!link_stable(cl)) { /* not sure yet who holds what */
    uv_timer_start(&cl->reconcile_timer, on_reconcile, (uint64_t)cl->srv->cfg.cluster_node_timeout, 0);
    return;
  }
  if (!is_leader(cl)) return; /* the leader did (or will do) it */
  struct reconcile_job *r = ef_calloc(1, sizeof *r);
  u64map_init(&r->held);
  struct live *l = cl->srv->live;
  uint64_t id;
  for (size_t it = 0; live_next_local(l, &it, &id);) u64map_put(&r->held, id, (void *)1);
  /* remote devices: every node's directory has arrived by now (link stable) */
  for (size_t it = 0; live_next_remote(l, &it, &id);) u64map_put(&r->held, id, (void *)1);
  r->job.work = reconcile_work;
  r->job.done = reconcile_done;
  worker_submit(cl->srv->worker, &r->job);
}

/* ----- life ----- */

static int nats_fail(natsStatus s, const char *what, char *err, size_t errlen) {
  snprintf(err, errlen, "nats: %s: %s", what, natsStatus_GetText(s));
  return EF_ECONFIG;
}

int cluster_start(struct server *srv, char *err, size_t errlen) {
  const struct server_config *cfg = &srv->cfg;
  if (!cfg->nats) return 0;
  struct cluster *cl = ef_calloc(1, sizeof *cl);
  cl->srv = srv;
  cl->me = (unsigned)cfg->node_id;
  cl->epoch = ef_now_ms();
  cl->bus_subj = ef_asprintf("%s.bus", cfg->cluster_name);
  cl->node_prefix = ef_asprintf("%s.node.", cfg->cluster_name);
  pthread_mutex_init(&cl->mu, NULL);
  u64map_init(&cl->pending);
  cwire_begin(&cl->out, cl->me, cl->epoch);
  uv_async_init(srv->loop, &cl->async, on_async);
  cl->async.data = cl;
  uv_timer_init(srv->loop, &cl->flush_timer);
  uv_timer_init(srv->loop, &cl->hb_timer);
  uv_timer_init(srv->loop, &cl->reconcile_timer);
  cl->flush_timer.data = cl->hb_timer.data = cl->reconcile_timer.data = cl;
  srv->cluster = cl;

  /* URLs: comma-separated, as NATS' own clients take them */
  char *urls = ef_strdup(cfg->nats), *save = NULL;
  const char *list[16];
  int n = 0;
  for (char *u = strtok_r(urls, ",", &save); u && n < 16; u = strtok_r(NULL, ",", &save))
    list[n++] = u;
  natsStatus s;
  char name[64], subj[256];
  snprintf(name, sizeof name, "edgefleetd node %u", cl->me);
  int rc = 0;
  if ((s = natsOptions_Create(&cl->opts)) != NATS_OK ||
      (s = natsOptions_SetServers(cl->opts, list, n)) != NATS_OK) {
    rc = nats_fail(s, "the server URLs", err, errlen);
    goto fail;
  }
  natsOptions_SetName(cl->opts, name);
  natsOptions_SetNoEcho(cl->opts, true);
  natsOptions_SetMaxReconnect(cl->opts, -1);
  natsOptions_SetReconnectWait(cl->opts, 250);
  natsOptions_SetTimeout(cl->opts, 2000);
  natsOptions_SetPingInterval(cl->opts, 2000);
  natsOptions_SetMaxPingsOut(cl->opts, 2);
  natsOptions_SetDisconnectedCB(cl->opts, on_nats_down, cl);
  natsOptions_SetReconnectedCB(cl->opts, on_nats_up, cl);
  natsOptions_SetRetryOnFailedConnect(cl->opts, true, on_nats_up, cl);
  s = natsConnection_Connect(&cl->nc, cl->opts);
  if (s == NATS_OK) enqueue(cl, IN_CONNECTED, NULL, 0);
  else if (s != NATS_NOT_YET_CONNECTED) {
    rc = nats_fail(s, "connecting", err, errlen);
    goto fail;
  }
  node_subject(cl, cl->me, subj, sizeof subj);
  if ((s = natsConnection_Subscribe(&cl->bus_sub, cl->nc, cl->bus_subj, on_nats_msg, cl)) !=
          NATS_OK ||
      (s = natsConnection_Subscribe(&cl->node_sub, cl->nc, subj, on_nats_msg, cl)) != NATS_OK) {
    rc = nats_fail(s, "subscribing", err, errlen);
    goto fail;
  }
  /* bursts of a whole fleet's statuses: let the subscription hold them until the loop reads */
  natsSubscription_SetPendingLimits(cl->bus_sub, 1000000, 1024 * 1024 * 1024);
  ef_free(urls);
  live_listen(srv->live, on_live, srv);
  status_listen(srv, on_status, srv);
  miner_listen(srv->miners, on_miner, srv);
  uv_timer_start(&cl->hb_timer, on_hb_timer, (uint64_t)cfg->cluster_heartbeat,
                 (uint64_t)cfg->cluster_heartbeat);
  uv_timer_start(&cl->reconcile_timer, on_reconcile, (uint64_t)cfg->cluster_node_timeout, 0);
  ef_log(EF_LOG_INFO, "cluster: node %u joining %s on %s", cl->me, cfg->cluster_name, cfg->nats);
  return 0;

fail:
  ef_free(urls);
  cluster_stop(srv);
  return rc;
}

static void closed(uv_handle_t *h) {
  struct cluster *cl = h->data;
  if (--cl->closing) return;
  pthread_mutex_destroy(&cl->mu);
  ef_free(cl);
}

void cluster_stop(struct server *srv) {
  struct cluster *cl = srv->cluster;
  if (!cl) return;
  if (cl->connected) { /* tell the others at once rather than by a timeout */
    out_add(cl, 'B', 0, ef_now_ms(), NULL, 0, NULL, 0);
    flush_out(cl);
  }
  if (cl->nc) {
    natsConnection_FlushTimeout(cl->nc, 500);
    natsSubscription_Destroy(cl->bus_sub);
    natsSubscription_Destroy(cl->node_sub);
    natsConnection_Close(cl->nc);
    natsConnection_Destroy(cl->nc);
  }
  natsOptions_Destroy(cl->opts);
  nats_CloseAndWait(2000); /* NATS' threads are gone: nothing enqueues any more */
  cl->connected = false;
  fail_pending_of(cl, MAX_NODES, 503, "the server is stopping");
  struct in_msg *m = cl->in_head;
  while (m) {
    struct in_msg *next = m->next;
    ef_free(m);
    m = next;
  }
  cl->in_head = cl->in_tail = NULL;
  u64map_free(&cl->pending);
  cwire_free(&cl->out);
  ef_free(cl->bus_subj);
  ef_free(cl->node_prefix);
  srv->cluster = NULL;
  cl->closing = 4;
  uv_close((uv_handle_t *)&cl->async, closed);
  uv_close((uv_handle_t *)&cl->flush_timer, closed);
  uv_close((uv_handle_t *)&cl->hb_timer, closed);
  uv_close((uv_handle_t *)&cl->reconcile_timer, closed);
}

#endif /* EF_WITH_NATS */
