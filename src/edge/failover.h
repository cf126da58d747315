/* SPDX-License-Identifier: MIT */
/* failover.h -- the server list of libedgefleet and the choice of the next connection attempt.
 *
 * The `server` option holds one URL or several separated by commas (the nodes of one cluster,
 * any of which serves any device). The client starts at a randomly chosen one, so that a fleet
 * spreads over the nodes, and moves round robin to the next one whenever an attempt fails or an
 * established connection ends. The waits:
 *
 *   - after a connection that had logged in ends (a node died, a heartbeat gave up): the next
 *     URL after a short random wait in [0, reconnect_jitter], so that the devices of a dead node
 *     reach the others soon but not in the same millisecond. A connection that stayed logged in
 *     for less than reconnect_interval does not earn the short wait (a node that takes logins and
 *     drops them must not make its devices flap between the nodes at jitter speed);
 *   - after a failed attempt (connect error, refused or unanswered login): the next URL after
 *     [0, reconnect_jitter] while the round still has untried URLs;
 *   - once every URL of the list has failed in this round (the one whose connection ended
 *     counts as used): reconnect_interval + [0, reconnect_jitter] before the next URL, a new
 *     round. With a single URL every wait is this one, as before lists existed.
 *
 * max_retries counts rounds: the client gives up after max_retries x (number of URLs) attempts
 * in a row without a login (with one URL: max_retries attempts). A login resets the count.
 *
 * Pure: no sockets, clocks or globals. The caller passes the time a connection was up and the
 * random source, so the unit tests script both (tests/unit/edge/test_failover.c).
 */
#ifndef EF_EDGE_FAILOVER_H
#define EF_EDGE_FAILOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One URL's parts (options_parse_url(), edge_internal.h). */
struct edge_url {
  char host[256];
  char path[512];
  int port;
  bool tls; /* wss:// */
};

#define FAILOVER_MAX 32       /* URLs in one `server` list */
#define FAILOVER_TEXT_MAX 800 /* one URL as written (ws[s]:// + host + port + path) */

struct failover_server {
  struct edge_url url;
  char text[FAILOVER_TEXT_MAX]; /* as written, without the blanks around it: for the logs */
};

struct failover {
  struct failover_server *v; /* n entries, owned */
  size_t n;
  size_t cur;       /* the server of the current attempt, or of the next one */
  size_t round_pos; /* servers used up in this round: failed, or the one that dropped us */
  int64_t failed;   /* attempts in a row without a login */
};

/* A random 64-bit number (uniform enough for jitter: not for security). */
typedef uint64_t (*failover_rand_fn)(void *ud);

/* The options the choice reads, in ms (reconnect_interval, reconnect_jitter) and attempts. */
struct failover_timing {
  int64_t interval, jitter, max_retries;
};

/* How the last attempt ended. */
enum failover_end {
  FAILOVER_FAILED,  /* no login on it: connect error, login refused or timed out */
  FAILOVER_DROPPED, /* it had logged in and then closed, either side */
};

/* What to do next. */
struct failover_step {
  bool give_up;       /* max_retries rounds failed: stop (the other fields are unset) */
  size_t next;        /* index of the next attempt's server (also f->cur) */
  uint64_t delay_ms;  /* wait before it */
  bool full_wait;     /* delay is reconnect_interval + jitter, not the short [0, jitter] */
  bool round_done;    /* full_wait because every URL of the round has failed */
};

/* Check and split a comma-separated list of ws:// / wss:// URLs (blanks around each are
 * ignored; an empty item, more than FAILOVER_MAX URLs or a bad URL is EF_ECONFIG with err set).
 * out may be NULL to check only; otherwise it is filled (cur 0, counts 0) and must be given to
 * failover_free(). */
int failover_parse(const char *list, struct failover *out, char *err, size_t errlen);
void failover_free(struct failover *f);

/* Start at a random server, with no failures counted. */
void failover_start(struct failover *f, failover_rand_fn rnd, void *ud);
/* A login succeeded on f->cur: the failure count and the round start again. */
void failover_logged_in(struct failover *f);
/* The attempt on f->cur ended as `how`; up_ms is how long it had been logged in (DROPPED).
 * Moves f->cur and returns the wait before the next attempt, or give_up. */
struct failover_step failover_next(struct failover *f, enum failover_end how, int64_t up_ms,
                                   const struct failover_timing *t, failover_rand_fn rnd,
                                   void *ud);
/* Whether any URL of the list is wss:// (TLS). */
bool failover_any_tls(const struct failover *f);

#endif
