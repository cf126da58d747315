/* SPDX-License-Identifier: MIT */
/* metrics.h -- Prometheus `/metrics` (text exposition format 0.0.4): the server's counters
 * (stats.h), devices by state and per connected device, every miner record, firing alerts.
 * docs/metrics.md lists every family.
 *
 * DESIGN
 * A scrape never stalls the loop: the answer is built in steps. The first step writes the
 * server's and the miners' families and takes a snapshot of the connected device ids (kept by a
 * live.h listener); each later step, one per loop turn (an idle handle) so network events run in between,
 * writes the families of `metrics_step` devices into one buffer per family; the last step joins
 * them and answers. Scrapes that arrive while one is being built wait for it and share its text.
 * The number of registered devices (for state="offline") is read on the database thread at
 * most once a minute.
 *
 * Two ways in: `GET /metrics` on the main listener with an API token of scope read or above not
 * limited to groups (main.c routes it here), and `metrics_listen`, a separate plain-HTTP
 * address that asks for no token (a small HTTP/1.1 server of its own on the loop, one request
 * per connection, at most 16 connections at once).
 */
#ifndef EF_METRICS_H
#define EF_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct net_req;
struct metrics;

/* Start: the live listener, and the metrics_listen address when configured. 0, or EF_ECONFIG /
 * EF_ESYS (the address cannot be bound: err says why). */
int metrics_start(struct server *srv, char *err, size_t errlen);
/* Answer scrapes being built with 503, close metrics_listen and its connections. Before
 * net_stop (answers go out on requests still valid). Frees once the loop has closed handles. */
void metrics_stop(struct server *srv);
/* The path main.c routes to metrics_request. */
bool metrics_is_path(const char *path);
/* GET /metrics on the main listener (token checked here). */
void metrics_request(struct server *srv, struct net_req *req);
/* A /metrics request with a body, before it is read: answered now (405 not GET, 400 GET). */
void metrics_headers(struct net_req *req);

/* ----- the hook for alerts (alert.c) -----
 * edgefleet_alerts_firing{rule}: at each scrape metrics calls the source registered at start,
 * which calls sink(ctx, rule, n) once per rule with n alerts of that rule firing now (rules with
 * none may be given with 0). main.c connects alert.c's source at start-up; without one the
 * family has no samples. Loop thread; the rule string is copied before sink returns. */
typedef void (*metrics_alert_sink)(void *ctx, const char *rule, int64_t firing);
typedef void (*metrics_alert_source)(void *ud, metrics_alert_sink sink, void *ctx);
void metrics_set_alert_source(struct metrics *m, metrics_alert_source fn, void *ud);

/* ----- the text, for tests ----- */
/* A growing buffer of exposition text. */
struct mbuf {
  char *p;
  size_t len, cap;
};
void mbuf_add(struct mbuf *b, const char *s, size_t n);
void mbuf_printf(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mbuf_free(struct mbuf *b);
/* "# HELP name help\n# TYPE name type\n". */
void metrics_family(struct mbuf *b, const char *name, const char *type, const char *help);
/* One sample: name{labels} value; labels are name/value pairs ended by NULL, values escaped
 * (backslash, double quote, newline). NaN and infinities are written as Prometheus spells them. */
void metrics_sample(struct mbuf *b, const char *name, double v, ...);
/* The families of one miner record (a json_t *) into `fam`, one buffer per miner family
 * (metrics_miner_families of them, in order), and their headers with metrics_miner_headers. */
extern const size_t metrics_miner_families;
void metrics_miner(struct mbuf *fam, const char *miner_id, const void *record, int64_t updated,
                   int64_t now_ms);
/* The families of one device's status upload (`data`, a json_t *) into `fam`
 * (metrics_device_families buffers). */
extern const size_t metrics_device_families;
void metrics_device(struct mbuf *fam, uint64_t device_id, bool online, int64_t status_time,
                    const void *data, int64_t now_ms);
/* Join per-family buffers (headers first) into out; the buffers are emptied. kind: 0 miner,
 * 1 device. */
void metrics_join(struct mbuf *out, struct mbuf *fam, int kind);
/* The alert family from a source (NULL: headers only). */
void metrics_alerts(struct mbuf *out, metrics_alert_source fn, void *ud);

#endif
