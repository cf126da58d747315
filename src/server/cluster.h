/* SPDX-License-Identifier: MIT */
/* cluster.h -- several edgefleetd nodes as one server: a shared database and a NATS bus
 * (docs/cluster.md).
 *
 * Every node keeps, beside its own devices, a directory of the devices the other nodes hold and
 * their latest status uploads (live.h's remote entries) and a copy of every miner record; so
 * reads, dashboards and pushes answer on any node from memory, as on a single node. What a node
 * must do on another goes over NATS:
 *   - each node broadcasts its devices' logins, state changes, logouts, status uploads and miner
 *     uploads, batched every cluster_flush (cluster_wire.h), and a heartbeat;
 *   - an order for a device on another node is sent to that node, which gives it and sends the
 *     result back (same order_id, timeouts and errors as on one node);
 *   - changes of devices, groups, tokens and miner bindings made through one node's REST API are
 *     announced, and the others refresh what they keep in memory.
 * A node unheard for cluster_node_timeout is lost: its devices go offline everywhere, and the
 * lowest-numbered node alive (the leader) writes that to the database. A device that logs in on
 * a second node ends its session on the first (the newer login wins).
 *
 * NATS' client runs its own threads; what it receives is queued and handled on the loop, which
 * is the only thread that touches the server's state. Without `nats` in the configuration the
 * module does nothing and the server is a single node, as before.
 *
 * Callers: main.c (life), rest_*.c (orders to remote devices, announcements). cluster.c calls
 * into live, order, miner, auth and front; none of them calls cluster.c (they tell it through
 * their listeners), and whether this node leads is srv->leader, which cluster.c keeps.
 */
#ifndef EF_CLUSTER_H
#define EF_CLUSTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;

/* Join the cluster named by srv->cfg.nats (nothing when unset). Connecting is asynchronous: the
 * node serves its own devices while NATS is unreachable. EF_ECONFIG with err when the build has
 * no NATS client or the options are wrong. */
int cluster_start(struct server *srv, char *err, size_t errlen);
/* Leave: stop the timers, close the NATS connection (its threads are joined). Before the loop's
 * last run. */
void cluster_stop(struct server *srv);

/* Give order `type` to device_id, which `node` holds: the result comes as from order_give()
 * (cb called exactly once, later). 0, or EF_EOFFLINE when the bus is down or `node` is not alive
 * (cb not called; *why is the offline answer, as order_give's). */
typedef void (*cluster_order_cb)(void *ud, bool ok, int http_status, const char *message,
                                 int log_rc);
int cluster_order_give(struct server *srv, unsigned node, uint64_t device_id, const char *type,
                       json_t *params, cluster_order_cb cb, void *ud, const char **why);

/* What changed through this node's REST API, for the other nodes. */
enum cluster_change {
  CLUSTER_DEVICES,        /* devices, groups or relations: lists and group views refresh */
  CLUSTER_TOKENS,         /* API tokens added or revoked: reloaded from the database */
  CLUSTER_DEVICE_DELETED, /* `id`: its session (on whichever node) ends */
  CLUSTER_MINER_BIND,     /* miner `name` moved to device `id` */
  CLUSTER_WORKER_DELETE,  /* worker `name2` of miner `name` forgotten */
};
/* Announce a change (nothing on a single node). Strings are copied. */
void cluster_announce(struct server *srv, enum cluster_change what, uint64_t id,
                      const char *name, const char *name2);
/* Announce a change of the alert engine made here (alert.h), for the others to make too: `op`
 * "rule_add" {body}, "rule_update" {name, body}, "rule_delete" {name}, "silence" {rule?,
 * fingerprint?, until, comment?, by?}, "ack" {fingerprint, by}; args borrowed. */
void cluster_announce_alert(struct server *srv, const char *op, const json_t *args);

#endif
