/* SPDX-License-Identifier: MIT */
/* login.h -- the southbound login pipeline: a device's first message to its answer.
 *
 * A login names the device (device_id, or device_sn + device_model) and proves it with a session
 * token (one SHA-256, on the database thread with the device lookup) or a password (bcrypt, on
 * the uv thread pool). Password checks wait in one FIFO and at most bcrypt_jobs run at once, so
 * a storm of password logins cannot starve the network loop; past bcrypt_queue_max waiting the
 * login is refused "server busy" (docs/protocol.md#login).
 *
 * A successful password login, or a token login past half its life, is issued a new session
 * token; its hash is written behind on the database thread (the job queue is FIFO, so the
 * device's next lookup sees it).
 *
 * Password logins at fleet scale (docs/security.md#verifier): after a bcrypt check succeeds,
 * the device keeps a verifier, HMAC-SHA-256(server secret, password), and its later password
 * logins are checked against that on the database thread, without bcrypt. The secret lives in
 * a file of its own, not in the database. A verifier is authoritative; a new password clears
 * it. Failed password logins count against the device's address (peers.h): past
 * login_failures_max the address's password logins are refused for login_backoff.
 *
 * The caller gets exactly one completion per started login, unless it cancels first (the
 * connection closed): work already running then finishes and is thrown away.
 */
#ifndef EF_LOGIN_H
#define EF_LOGIN_H

#include <stddef.h>
#include <stdint.h>

struct server;
struct logins;
struct login_req;

struct login_result {
  uint64_t device_id;      /* the device, once it was found (0 otherwise) */
  const char *error;       /* NULL on success, else the answer for the device (wire.h) */
  const char *token;       /* success: a newly issued session token, or NULL (keep yours) */
  int64_t token_expires;   /* ms since the epoch, with token */
};

/* Called on the loop thread; r and its strings are valid only during the call. */
typedef void (*login_done_fn)(void *ud, const struct login_result *r);

/* The pipeline of a server: its worker, loop, peers and the bcrypt/token options of srv->cfg;
 * `key`: the verifier secret (copied). */
struct logins *logins_new(struct server *srv, const unsigned char key[32]);
/* Shutdown: nothing new starts; logins waiting for bcrypt wait for their cancel. */
void logins_stop(struct logins *q);
/* After the loop's last run: free what is left (every login has been cancelled or done). */
void logins_free(struct logins **q);

/* Start the login in `msg` (the device's first message). Returns the request, whose `done` comes
 * later, or NULL with *error set when the message itself is not a login (nothing started). */
struct login_req *login_start(struct logins *q, uint32_t ip, const char *msg, size_t len,
                              login_done_fn done, void *ud, const char **error);
/* The caller is gone: `done` will not be called; the request frees itself. */
void login_cancel(struct login_req *r);

/* Password logins waiting for a bcrypt check now. */
int64_t logins_waiting(const struct logins *q);

#endif
