/* SPDX-License-Identifier: MIT */
/* peers.h -- what each source address may do: connections at once, new connections per second,
 * connections in their handshake, and failed password logins (docs/security.md#limits).
 *
 * One entry per IPv4 address seen recently, found by one hash probe. The net layer counts
 * connections in and out; the login path counts failures and asks before a password check.
 * An address that failed login_failures_max password logins within login_failure_window is
 * refused password logins for login_backoff; its session-token logins, and every other
 * address, are unaffected. Entries idle for a while are dropped by peers_prune().
 *
 * Loop thread only. The defaults let a fleet of 10k devices behind one NAT address reconnect
 * at once (docs/security.md#limits says how).
 */
#ifndef EF_PEERS_H
#define EF_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct peer_limits {
  int64_t max_connections;    /* open connections per address */
  int64_t connection_rate;    /* new connections per second per address (burst: one second's) */
  int64_t max_handshakes;     /* connections per address accepted and not yet past their
                                 handshake (the listener's handshake slots are shared by all) */
  int64_t failures_max;       /* failed password logins per address per window ... */
  int64_t failure_window;     /* ms */
  int64_t backoff;            /* ms an address is then refused password logins */
};

enum peer_verdict {
  PEER_OK = 0,
  PEER_TOO_MANY,              /* max_connections reached */
  PEER_TOO_FAST,              /* connection_rate exceeded */
};

struct peers;

struct peers *peers_new(const struct peer_limits *lim);
void peers_free(struct peers **p);

/* A connection from `ip` arrives: counted as open and PEER_OK, or refused (nothing counted).
 * now: a monotonic ms clock. */
enum peer_verdict peers_connect(struct peers *p, uint32_t ip, int64_t now);
/* May a connection of `ip` start its handshake now (below max_handshakes)? When true it is
 * counted as in its handshake; when false it waits (the net layer queues it). */
bool peers_handshake_start(struct peers *p, uint32_t ip);
/* The connection is past its handshake (upgraded, or serving a request). */
void peers_handshake_done(struct peers *p, uint32_t ip);
/* The connection closed; `handshaking`: it was counted in its handshake and never got past it. */
void peers_disconnect(struct peers *p, uint32_t ip, bool handshaking);
/* May `ip` try a password login now? false while it is backing off. */
bool peers_login_allowed(struct peers *p, uint32_t ip, int64_t now);
/* A password login from `ip` failed; true when this failure starts its back-off. */
bool peers_login_failed(struct peers *p, uint32_t ip, int64_t now);
/* Drop entries with no connection and nothing left to remember. */
void peers_prune(struct peers *p, int64_t now);
/* Addresses remembered now (tests, metrics). */
size_t peers_count(const struct peers *p);
const char *peer_verdict_text(enum peer_verdict v);

#endif
