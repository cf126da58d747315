/* SPDX-License-Identifier: MIT */
/* stats.h -- the server's own counters for /metrics (metrics.c): connections, messages and bytes
 * in and out, HTTP requests, logins by kind and outcome, orders by outcome with a latency
 * histogram, dashboard pushes.
 *
 * DESIGN
 * One struct owned by stats.c, written by the modules where things happen with one-line
 * increments (net_lws.c, ws_device.c, login.c, order.c, ws_front.c) and read by metrics.c.
 * Loop thread only: plain integers, no atomics, no locks; an increment is one add. Counters
 * only grow (Prometheus computes rates); gauges (connections open) are kept as pairs of
 * counters (opened, closed) and subtracted when read. stats.c calls nothing, so any module may
 * call it without making a cycle (tests/unit/server/callgraph.py).
 */
#ifndef EF_STATS_H
#define EF_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Which side a connection or message belongs to (net.h's enum net_ws_kind, and HTTP). */
enum stats_side { STATS_DEVICE = 0, STATS_FRONT = 1, STATS_HTTP = 2, STATS_SIDES };

enum stats_login_kind { STATS_LOGIN_PASSWORD = 0, STATS_LOGIN_TOKEN, STATS_LOGIN_KINDS };
enum stats_login_outcome {
  STATS_LOGIN_SUCCESS = 0, /* logged in */
  STATS_LOGIN_FAIL,        /* wrong credentials, unknown device, expired token */
  STATS_LOGIN_REFUSED,     /* refused before any check: malformed, back-off, queue full */
  STATS_LOGIN_OUTCOMES
};

enum stats_order_outcome {
  STATS_ORDER_SUCCESS = 0, /* the device reported success */
  STATS_ORDER_FAIL,        /* the device reported failure, or disconnected */
  STATS_ORDER_TIMEOUT,     /* no result within order_timeout */
  STATS_ORDER_OUTCOMES
};

/* Upper bounds (seconds) of the order latency histogram's buckets; +Inf follows. */
#define STATS_ORDER_BUCKETS 10
extern const double stats_order_bucket_le[STATS_ORDER_BUCKETS];

struct stats {
  uint64_t conn_opened[STATS_SIDES];  /* WebSocket connections open (HTTP: requests) */
  uint64_t conn_closed[STATS_SIDES];
  uint64_t conn_refused;              /* by the per-address limits, before any handshake */
  uint64_t msgs_in[STATS_SIDES], bytes_in[STATS_SIDES];   /* HTTP: requests, body bytes */
  uint64_t msgs_out[STATS_SIDES], bytes_out[STATS_SIDES]; /* HTTP: answers, body bytes */
  uint64_t logins[STATS_LOGIN_KINDS][STATS_LOGIN_OUTCOMES];
  uint64_t orders[STATS_ORDER_OUTCOMES];
  uint64_t order_buckets[STATS_ORDER_BUCKETS + 1]; /* not cumulative; the last is +Inf */
  double order_seconds_sum;
  uint64_t front_pushes;              /* subscription pushes sent to dashboards */
  uint64_t front_push_bytes;
  uint64_t front_dropped;             /* dashboards dropped for a full output queue */
  uint64_t device_pings;              /* heartbeat pings answered (ws_device.c) */
  uint64_t heartbeat_misses;          /* deadlines passed without a message */
  uint64_t device_rate_drops;         /* devices dropped for exceeding their message rate */
  uint64_t scrapes;                   /* /metrics answers built */
  double scrape_seconds_last;         /* wall time the last one took, all its steps */
  double scrape_step_max_last;        /* its longest step on the loop (seconds) */
};

/* The one instance (loop thread only). */
extern struct stats ef_stats;

static inline void stats_msg_in(enum stats_side s, size_t bytes) {
  ef_stats.msgs_in[s]++;
  ef_stats.bytes_in[s] += bytes;
}
static inline void stats_msg_out(enum stats_side s, size_t bytes) {
  ef_stats.msgs_out[s]++;
  ef_stats.bytes_out[s] += bytes;
}
static inline void stats_login(enum stats_login_kind k, enum stats_login_outcome o) {
  ef_stats.logins[k][o]++;
}
/* An order ended with `o` after `ms` milliseconds. */
void stats_order(enum stats_order_outcome o, int64_t ms);

#endif
