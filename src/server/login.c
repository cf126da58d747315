/* SPDX-License-Identifier: MIT */
/* login.c -- the southbound login pipeline (login.h): parse, look the device up on the database
 * thread, check a token there or queue a bcrypt check, issue a session token.
 *
 * A request moves through: lookup job (worker) → [bcrypt FIFO → uv pool] → done. Every exit
 * goes through finish(), which calls the caller once (unless cancelled) and frees the request,
 * or hands it to the token write that frees it.
 */
#include "login.h"

#include <arpa/inet.h>
#include <string.h>

#include "clock.h"
#include "crypto.h"
#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "log.h"
#include "mem.h"
#include "stats.h"
#include "peers.h"
#include "server.h"
#include "wire.h"

/* A verifier is "<key id>:<hex HMAC-SHA-256(key, password)>": the key id (8 hex digits of the
 * key's SHA-256) tells a verifier made with another key (the key file was replaced), which then
 * counts as absent: the login takes the bcrypt path and makes a new one. */
#define VERIFIER_ID_LEN 9
#define VERIFIER_LEN (VERIFIER_ID_LEN + EF_SHA256_HEXLEN)

struct logins {
  struct server *srv;
  unsigned char key[EF_SECRET_LEN]; /* of the password verifiers; read by the database thread */
  char key_id[VERIFIER_ID_LEN + 1]; /* names the key in each verifier: "<8 hex>:" */
  struct login_req *head, *tail; /* waiting for a password check */
  int64_t waiting;               /* in that queue and not cancelled */
  int active;                    /* checks running on the uv thread pool */
  bool stopping;
};

struct login_req {
  struct worker_job job;
  uv_work_t pool;
  struct logins *q;
  struct login_req *next;        /* in q's queue */
  login_done_fn done;            /* NULL once cancelled */
  void *ud;
  uint32_t ip;                   /* the device's address (peers.h) */
  uint64_t id;                   /* requested id, or 0 for sn+model */
  char *sn, *model, *password, *token;
  /* results */
  int rc;
  bool queued;                   /* in q's queue */
  bool refused;                  /* not checked: the server was busy or stopping (stats.h) */
  bool token_ok;
  bool verifier_current;         /* the stored verifier was made with the current key ... */
  bool verifier_ok;              /* ... and the password matched it */
  char new_verifier[VERIFIER_LEN]; /* to store after a bcrypt check, or "" */
  struct store_device dev;
  char new_token[EF_TOKEN_STRLEN];
  char new_hash[EF_SHA256_HEXLEN];
  int64_t new_expiry;
};

static void req_free(struct login_req *r) {
  ef_free(r->sn);
  ef_free(r->model);
  if (r->password) explicit_bzero(r->password, strlen(r->password));
  ef_free(r->password);
  ef_free(r->token);
  store_device_clear(&r->dev);
  explicit_bzero(r->new_token, sizeof r->new_token);
  explicit_bzero(r->new_verifier, sizeof r->new_verifier);
  ef_free(r);
}

static void make_verifier(const struct logins *q, const char *password, char out[VERIFIER_LEN]) {
  memcpy(out, q->key_id, VERIFIER_ID_LEN);
  crypto_hmac_sha256_hex(q->key, sizeof q->key, password, strlen(password),
                         out + VERIFIER_ID_LEN);
}

/* ----- the end of a login: one path ----- */

static void save_token(struct store *st, struct worker_job *job) {
  struct login_req *r = container_of(job, struct login_req, job);
  if (r->new_hash[0] &&
      st->ops->device_set_token(st, r->dev.device_id, r->new_hash, r->new_expiry) != 0)
    ef_log(EF_LOG_WARN, "device %llu: saving session token: %s",
           (unsigned long long)r->dev.device_id, store_errmsg(st));
  if (r->new_verifier[0] &&
      st->ops->device_set_verifier(st, r->dev.device_id, r->new_verifier) != 0)
    ef_log(EF_LOG_WARN, "device %llu: saving password verifier: %s",
           (unsigned long long)r->dev.device_id, store_errmsg(st));
}

static void save_token_done(struct worker_job *job) {
  req_free(container_of(job, struct login_req, job));
}

/* A password login failed: the address's failures count towards its back-off. */
static void count_failure(struct login_req *r) {
  struct peers *p = r->q->srv->peers;
  if (!p || !peers_login_failed(p, r->ip, (int64_t)uv_now(r->q->srv->loop))) return;
  struct in_addr a = {.s_addr = htonl(r->ip)};
  char buf[INET_ADDRSTRLEN];
  ef_log(EF_LOG_WARN, "login: %s failed %lld password logins; refused for %lld s",
         inet_ntop(AF_INET, &a, buf, sizeof buf), (long long)r->q->srv->cfg.login_failures_max,
         (long long)(r->q->srv->cfg.login_backoff / 1000));
}

/* Tell the caller (error NULL: success, issuing a token when `issue`) and free the request. */
static void finish(struct login_req *r, const char *error, bool issue) {
  struct server *srv = r->q->srv;
  struct login_result res = {.device_id = r->rc == EF_ENOENT ? 0 : r->dev.device_id,
                             .error = error};
  stats_login(r->token_ok || !r->password ? STATS_LOGIN_TOKEN : STATS_LOGIN_PASSWORD,
              !error ? STATS_LOGIN_SUCCESS : r->refused ? STATS_LOGIN_REFUSED : STATS_LOGIN_FAIL);
  bool saving = !error && r->done && r->new_verifier[0];
  if (!error && issue && r->done && crypto_token(r->new_token) == 0) {
    crypto_sha256_hex(r->new_token, strlen(r->new_token), r->new_hash);
    r->new_expiry = ef_now_ms() + srv->cfg.token_ttl;
    res.token = r->new_token;
    res.token_expires = r->new_expiry;
    saving = true;
  }
  if (r->done) r->done(r->ud, &res);
  if (saving) { /* written behind; the request goes with the job */
    r->job.work = save_token;
    r->job.done = save_token_done;
    worker_submit(srv->worker, &r->job);
  } else {
    req_free(r);
  }
}

/* A password login that failed on its credentials (not on the server): it counts. */
static void finish_wrong(struct login_req *r, const char *error) {
  if (r->password) count_failure(r);
  finish(r, error, false);
}

/* ----- bcrypt, one FIFO ----- */

static void bcrypt_work(uv_work_t *w) {
  struct login_req *r = container_of(w, struct login_req, pool);
  r->rc = crypto_bcrypt_verify(r->password, r->dev.password) ? 0 : EF_EAUTH;
  if (r->rc == 0) /* proven: later logins check this instead of bcrypt */
    make_verifier(r->q, r->password, r->new_verifier);
}

static void bcrypt_done(uv_work_t *w, int status);

/* Start queued checks while fewer than bcrypt_jobs run; cancelled ones go without hashing. */
static void pump(struct logins *q) {
  while (q->head && q->active < q->srv->cfg.bcrypt_jobs && !q->stopping) {
    struct login_req *r = q->head;
    q->head = r->next;
    if (!q->head) q->tail = NULL;
    r->queued = false;
    if (!r->done) {
      req_free(r);
      continue;
    }
    q->waiting--;
    if (uv_queue_work(q->srv->loop, &r->pool, bcrypt_work, bcrypt_done) != 0) {
      finish(r, "Unknown Error", false);
      continue;
    }
    q->active++;
  }
}

static void bcrypt_done(uv_work_t *w, int status) {
  struct login_req *r = container_of(w, struct login_req, pool);
  struct logins *q = r->q;
  q->active--;
  pump(q);
  if (status != 0) finish(r, "Unknown Error", false);
  else if (r->rc != 0) finish_wrong(r, WIRE_MSG_BAD_PASSWORD);
  else finish(r, NULL, true);
}

static void enqueue(struct logins *q, struct login_req *r) {
  if (q->stopping) {
    r->refused = true;
    finish(r, "server shutting down", false);
    return;
  }
  if (q->waiting >= q->srv->cfg.bcrypt_queue_max) {
    /* A flood of password logins must not grow memory without bound; the device retries. */
    r->refused = true;
    finish(r, "server busy, try again later", false);
    return;
  }
  q->waiting++;
  r->queued = true;
  r->next = NULL;
  if (q->tail) q->tail->next = r;
  else q->head = r;
  q->tail = r;
  pump(q);
}

/* ----- the lookup, on the database thread ----- */


static void lookup_work(struct store *st, struct worker_job *job) {
  struct login_req *r = container_of(job, struct login_req, job);
  r->rc = r->id ? st->ops->device_get(st, r->id, &r->dev)
                : st->ops->device_find(st, r->sn, r->model, &r->dev);
  if (r->rc == 0 && r->token && r->dev.token_hash && r->dev.token_expiry > ef_now_ms()) {
    char h[EF_SHA256_HEXLEN];
    crypto_sha256_hex(r->token, strlen(r->token), h);
    r->token_ok = crypto_streq(h, r->dev.token_hash);
  }
  if (r->rc == 0 && !r->token_ok && r->password && r->dev.pw_verifier &&
      strncmp(r->dev.pw_verifier, r->q->key_id, VERIFIER_ID_LEN) == 0) {
    char v[VERIFIER_LEN];
    make_verifier(r->q, r->password, v);
    r->verifier_current = true;
    r->verifier_ok = crypto_streq(v, r->dev.pw_verifier);
    explicit_bzero(v, sizeof v);
  }
}

static void lookup_done(struct worker_job *job) {
  struct login_req *r = container_of(job, struct login_req, job);
  struct server *srv = r->q->srv;
  if (!r->done) finish(r, "cancelled", false);
  else if (r->rc == EF_ENOENT) finish_wrong(r, WIRE_MSG_NOT_FOUND);
  else if (r->rc != 0) finish(r, "server database error, try again later", false);
  else if (r->token_ok) /* re-issue only once the token has used half its life */
    finish(r, NULL, r->dev.token_expiry - ef_now_ms() < srv->cfg.token_ttl / 2);
  else if (!r->password) finish(r, "invalid or expired token", false);
  /* A current verifier is authoritative (a new password clears it): no bcrypt either way. */
  else if (r->verifier_current && r->verifier_ok) finish(r, NULL, true);
  else if (r->verifier_current) finish_wrong(r, WIRE_MSG_BAD_PASSWORD);
  else enqueue(r->q, r);
}

/* ----- start, cancel ----- */

struct login_req *login_start(struct logins *q, uint32_t ip, const char *msg, size_t len,
                              login_done_fn done, void *ud, const char **error) {
  json_t *m = jparse_object(msg, len);
  if (!m) {
    *error = WIRE_MSG_INVALID_JSON;
    return NULL;
  }
  const char *pw = jstr(m, "password"), *tok = jstr(m, "token");
  json_t *jid = json_object_get(m, "device_id");
  const char *sn = jstr(m, "device_sn"), *model = jstr(m, "device_model");
  uint64_t id = 0;
  const char *err = NULL;
  if (!pw && !tok) err = json_object_get(m, "password") ? "password must be a string"
                                                        : WIRE_MSG_NO_PASSWORD;
  else if (jid && json_is_string(jid) && !id_parse(json_string_value(jid), &id))
    err = WIRE_MSG_NOT_FOUND;
  else if (jid && json_is_integer(jid) && json_integer_value(jid) > 0)
    id = (uint64_t)json_integer_value(jid);
  else if (jid && !id) err = "device_id must be a string";
  else if (!jid && !(sn && model)) err = WIRE_MSG_MISSING_PARAMS;
  else if (tok && !id) err = "a token login needs device_id";
  else if (!tok && q->srv->peers &&
           !peers_login_allowed(q->srv->peers, ip, (int64_t)uv_now(q->srv->loop)))
    err = "too many failed logins from this address, try again later";
  if (err) {
    stats_login(tok ? STATS_LOGIN_TOKEN : STATS_LOGIN_PASSWORD, STATS_LOGIN_REFUSED);
    json_decref(m);
    *error = err;
    return NULL;
  }
  struct login_req *r = ef_calloc(1, sizeof *r);
  r->q = q;
  r->done = done;
  r->ud = ud;
  r->ip = ip;
  r->id = id;
  r->sn = id ? NULL : ef_strdup(sn);
  r->model = id ? NULL : ef_strdup(model);
  r->password = ef_strdup(pw);
  r->token = ef_strdup(tok);
  json_decref(m);
  r->job.work = lookup_work;
  r->job.done = lookup_done;
  worker_submit(q->srv->worker, &r->job);
  return r;
}

void login_cancel(struct login_req *r) {
  if (!r->done) return;
  r->done = NULL;
  r->ud = NULL;
  /* Waiting in the FIFO: it no longer counts against bcrypt_queue_max (pump frees it). */
  if (r->queued) r->q->waiting--;
}

/* ----- life ----- */

struct logins *logins_new(struct server *srv, const unsigned char key[EF_SECRET_LEN]) {
  struct logins *q = ef_calloc(1, sizeof *q);
  q->srv = srv;
  memcpy(q->key, key, sizeof q->key);
  char h[EF_SHA256_HEXLEN];
  crypto_sha256_hex((const char *)key, EF_SECRET_LEN, h);
  memcpy(q->key_id, h, VERIFIER_ID_LEN - 1);
  q->key_id[VERIFIER_ID_LEN - 1] = ':';
  return q;
}

void logins_stop(struct logins *q) {
  if (q) q->stopping = true;
}

void logins_free(struct logins **qp) {
  struct logins *q = *qp;
  if (!q) return;
  while (q->head) {
    struct login_req *r = q->head;
    q->head = r->next;
    req_free(r);
  }
  explicit_bzero(q->key, sizeof q->key);
  ef_free(q);
  *qp = NULL;
}

int64_t logins_waiting(const struct logins *q) { return q->waiting; }
