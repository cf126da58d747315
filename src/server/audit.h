/* SPDX-License-Identifier: MIT */
/* audit.h -- the audit log of the REST API (docs/security.md#audit-log): one row for every call
 * of a route that changes something or gives an order, with the time, the calling token's id and
 * name, the route, its target (the ids the call names), its outcome (HTTP status and "ok" or the
 * error message) and the caller's address. Never a body, a password or a token.
 *
 * What is recorded: every call that rest.c admitted to a route other than a pure query (rest.h:
 * a route that accepts a method other than GET and is not `reads_only`), when it ends
 * (rest_finish), whatever its outcome; and refusals of such a route after the token was known
 * (403, 400 bad Content-Type or JSON, 429). 429s are recorded at most once a second per token,
 * the next row counting those left out, so a token flooding the server cannot flood the log.
 * Requests without a valid token (401), to no route (404) or with a wrong method (405) are not
 * recorded: they name no token, and anyone could fill the log with them (the server log and
 * the per-address limits see them).
 *
 * Rows are written behind by devlog.c (devlog_audit): never on the loop, batched with the device
 * log, and pruned with it, after audit_retention.
 */
#ifndef EF_AUDIT_H
#define EF_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "rest.h"

#define AUDIT_TARGET_MAX 256   /* bytes of a target, at most (longer: cut, "…" at the end) */
#define AUDIT_OUTCOME_MAX 256  /* bytes of an outcome */

struct audit;

int audit_start(struct server *srv);
void audit_stop(struct server *srv);

/* Whether calls of route `r` are recorded. Pure. */
bool audit_route_audited(const struct rest_route *r);

/* The target of a call, compact: "device=12", "device=12 group=34", "devices=3 [1,2,3]",
 * "group=9 order=reboot", "miner=f01234 device=12", built from the id members of the body and,
 * for an add, of the answer's data (the new id); path arguments as "arg=..." . Values are cut
 * to ids' characters ([A-Za-z0-9._:-], others '?'). NULL when the call names nothing. Pure;
 * the text is the caller's (ef_free). */
char *audit_target(const char *const *args, int nargs, const json_t *body, const json_t *data);

/* The outcome text of an answer: "ok" (2xx; a group order adds ": N succeeded, M failed"), else
 * `emsg` (cut to AUDIT_OUTCOME_MAX). Pure; the caller's (ef_free). */
char *audit_outcome(int status, const char *emsg, const json_t *data);

/* Record call `c` as it is answered (rest_finish, before the answer frees the request). */
void audit_call(struct rest_call *c);

/* Record the refusal of a request to route `r` by the token in `slot` (rest.c, before it
 * answers): status and message as answered. */
void audit_refusal(struct server *srv, struct net_req *req, const struct rest_route *r,
                   size_t slot, int status, const char *msg);

#endif
