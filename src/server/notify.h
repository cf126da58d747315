/* SPDX-License-Identifier: MIT */
/* notify.h -- notifications: alert transitions delivered to people and to other systems.
 *
 * Receivers come from the server config (the notify_* options, docs/alerts-notify.md): webhooks
 * (a JSON POST each), Prometheus Alertmanagers (their /api/v2/alerts format) and one e-mail
 * (SMTP, STARTTLS required by default, through libcurl). notify_alert() is called on the loop; it
 * formats one request per receiver and queues it on that receiver's bounded queue. Each receiver
 * has its own thread, so delivery never runs on the network loop and a dead receiver never holds
 * up the others. A failed attempt is retried with exponential backoff. The outcome of every
 * delivery (delivered, failed, dropped) travels back to the loop through a uv_async and is handed
 * to the callback given to notify_start().
 */
#ifndef EF_NOTIFY_H
#define EF_NOTIFY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct server_config;

/* One alert transition. Every pointer is borrowed for the call: notify copies what it keeps. */
struct notify_alert {
  const char *rule;          /* the rule's name (Alertmanager's alertname) */
  const char *fingerprint;   /* the alert's identity: same rule and labels, same fingerprint */
  const char *state;         /* "firing" or "resolved" */
  const char *severity;      /* e.g. "critical", "warning"; NULL: none */
  const char *summary;       /* one line for a person */
  const json_t *labels;      /* {"device": .., "miner": .., "host": ..}; NULL: none */
  int64_t starts_at;         /* ms since the epoch */
  int64_t ends_at;           /* ms since the epoch; 0 while firing */
};

/* Called on the loop once per receiver per notify_alert(): `receiver` is "webhook1",
 * "alertmanager1", "email", ...; `outcome` is "delivered", "delivered after N attempts",
 * "failed after N attempts: REASON", "failed: REASON (not retried)" or "dropped: queue full".
 * The strings are valid during the call. */
typedef void (*notify_outcome_fn)(void *ud, const char *fingerprint, const char *receiver,
                                  const char *outcome);

struct notify;

/* Read the notify_* options of `cfg` (an SMTP password file is read here), start one thread
 * per receiver. With no receiver configured *out is still a valid, idle notify. 0, or
 * EF_ECONFIG with err set (an incomplete or unreadable SMTP setting, a bad URL), EF_ESYS. */
int notify_start(uv_loop_t *loop, const struct server_config *cfg, notify_outcome_fn outcome,
                 void *ud, struct notify **out, char *err, size_t errlen);
/* Queue `a` for every receiver (on the loop; never blocks). */
void notify_alert(struct notify *n, const struct notify_alert *a);
/* Receivers configured (0: notify_alert does nothing). */
size_t notify_receivers(const struct notify *n);
/* Stop: an attempt in progress is aborted, queued deliveries are dropped without outcome, the
 * threads are joined. The loop must run once more to release the handles; *np becomes NULL. */
void notify_stop(struct notify **np);

#endif
