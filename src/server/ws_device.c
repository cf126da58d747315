/* ws_device.c -- southbound WebSocket (/ws): login, heartbeat, status upload, order replies.
 *
 * DESIGN
 * A connection is a `struct dsess` (server.h). Its life: LOGIN (first message within
 * login_timeout) → AUTH (the device row is read on the database thread; a password is checked
 * with bcrypt on the uv thread pool, a session token with one SHA-256) → READY → closed.
 * Logged-in sessions are found by id in srv->devices.
 *
 * Heartbeat (SPEC §2, server side) costs no timer work per message: a message only records
 * uv_now() in window_start. The session's one deadline (a node of the server's timing wheel,
 * wheel.h) comes at the end of the window; it moves on by the remainder when a message came
 * meanwhile, or counts a miss (Unknown) and opens a shorter window; at heartbeat_max_misses the
 * connection is closed and the device marked offline.
 *
 * Async work (database lookup, bcrypt) holds a reference on the session, so a device that
 * disconnects mid-login is freed only when its last job has come back.
 */
#include <string.h>

#include "clock.h"
#include "crypto.h"
#include "edgefleet/error.h"
#include "id.h"
#include "jsonutil.h"
#include "log.h"
#include "mem.h"
#include "server.h"

enum phase { PH_LOGIN = 0, PH_AUTH, PH_READY, PH_CLOSED };

static const char PONG[] = "{\"type\":\"ping_pong\",\"Headers\":{},\"data\":\"pong\"}";
static const char STATUS_ACK[] = "{\"type\":\"send_statusInfo_response\",\"Headers\":{},\"data\":{}}";
static const char REPORT_FULL[] = "{\"type\":\"report_full_info\",\"Headers\":{},\"data\":{}}";

const char *dev_state_name(enum dev_state s) {
  switch (s) {
  case DEV_ONLINE: return "online";
  case DEV_UNKNOWN: return "Unknown";
  default: return "offline";
  }
}

/* ----- session life ----- */

static void sess_unref(struct dsess *s) {
  if (--s->refs == 0) {
    ef_free(s->status);
    ef_free(s->close_reason);
    ef_free(s);
  }
}


struct dsess *ws_device_find(struct server *srv, uint64_t device_id) {
  return u64map_get(&srv->devices, device_id);
}

int ws_device_send(struct dsess *s, const char *msg, size_t len) {
  if (!s->conn) return EF_ECLOSED;
  return net_send(s->conn, msg, len);
}

static void send_json(struct dsess *s, json_t *v) {
  char *txt = jdump_decref(v);
  ws_device_send(s, txt, strlen(txt));
  ef_free(txt);
}

static void set_state(struct dsess *s, enum dev_state st, const char *why) {
  if (s->state == st) return;
  s->state = (uint8_t)st;
  devlog_state(s->srv->devlog, s->device_id, st, why);
  front_device_state(s->srv, s->device_id, st);
}

/* The device's session is over: it leaves the map, its order fails, it is logged offline.
 * Runs once, when the server closes (ws_device_drop) or the peer has gone (ws_device_close). */
static void sess_end(struct dsess *s, const char *why) {
  struct server *srv = s->srv;
  if (!s->close_reason) s->close_reason = ef_strdup(why);
  if (s->device_id && u64map_get(&srv->devices, s->device_id) == s) {
    u64map_del(&srv->devices, s->device_id);
    order_abort(s, "device disconnected");
    devlog_add(srv->devlog, s->device_id, "disconnect", s->close_reason, NULL);
    set_state(s, DEV_OFFLINE, s->close_reason);
  }
  s->phase = PH_CLOSED;
}

void ws_device_drop(struct dsess *s, int status, const char *why) {
  if (!s->conn || s->phase == PH_CLOSED) return;
  sess_end(s, why);
  net_close(s->conn, status, why);
}

static void login_fail(struct dsess *s, const char *msg) {
  ef_log(EF_LOG_INFO, "device %s: login failed: %s", s->conn ? net_conn_peer(s->conn) : "?", msg);
  if (s->device_id) devlog_add(s->srv->devlog, s->device_id, "login", msg, "fail");
  send_json(s, json_pack("{s:s, s:s}", "status", "fail", "message", msg));
  ws_device_drop(s, 1008, "login failed");
}

/* ----- heartbeat ----- */

static int64_t tolerance(const struct dsess *s) {
  return s->misses ? s->srv->cfg.heartbeat_tolerance_miss : s->srv->cfg.heartbeat_tolerance;
}

static void arm(struct dsess *s, int64_t in_ms) {
  wheel_add(&s->srv->wheel, &s->deadline, (int64_t)uv_now(s->srv->loop) + in_ms);
}

void ws_device_deadline(struct wheel_node *n, void *ud) {
  (void)ud;
  struct dsess *s = container_of(n, struct dsess, deadline);
  struct server *srv = s->srv;
  if (s->phase != PH_READY) { /* login deadline */
    if (s->phase == PH_LOGIN) login_fail(s, "TimeOut.");
    return;
  }
  int64_t now = (int64_t)uv_now(srv->loop);
  int64_t left = s->window_start + tolerance(s) - now;
  if (left > 0) {
    arm(s, left);
    return;
  }
  s->misses++;
  s->window_start = now;
  devlog_add(srv->devlog, s->device_id, "heartbeat_loss", NULL, "fail");
  if (s->misses >= srv->cfg.heartbeat_max_misses) {
    ef_log(EF_LOG_INFO, "device %llu: %u heartbeats missed, closing",
           (unsigned long long)s->device_id, s->misses);
    ws_device_drop(s, 1000, "heartbeat lost");
    return;
  }
  set_state(s, DEV_UNKNOWN, "heartbeat missed");
  arm(s, tolerance(s));
}

/* ----- login ----- */

struct login {
  struct worker_job job;
  uv_work_t pool;
  struct login *next;           /* in srv->bcrypt_head's queue */
  struct dsess *s;
  uint64_t id;                  /* requested id, or 0 for sn+model */
  char *sn, *model, *password, *token;
  /* results */
  int rc;
  bool token_ok;
  struct store_device dev;
  char new_token[EF_TOKEN_STRLEN];
  char new_hash[EF_SHA256_HEXLEN];
  int64_t new_expiry;
};

static void login_free(struct login *l) {
  ef_free(l->sn);
  ef_free(l->model);
  if (l->password) explicit_bzero(l->password, strlen(l->password));
  ef_free(l->password);
  ef_free(l->token);
  store_device_clear(&l->dev);
  explicit_bzero(l->new_token, sizeof l->new_token);
  ef_free(l);
}

static void login_lookup(struct store *st, struct worker_job *job) {
  struct login *l = container_of(job, struct login, job);
  l->rc = l->id ? st->ops->device_get(st, l->id, &l->dev)
                : st->ops->device_find(st, l->sn, l->model, &l->dev);
  if (l->rc == 0 && l->token && l->dev.token_hash && l->dev.token_expiry > ef_now_ms()) {
    char h[EF_SHA256_HEXLEN];
    crypto_sha256_hex(l->token, strlen(l->token), h);
    l->token_ok = crypto_streq(h, l->dev.token_hash);
  }
}

static void save_token(struct store *st, struct worker_job *job) {
  struct login *l = container_of(job, struct login, job);
  if (st->ops->device_set_token(st, l->dev.device_id, l->new_hash, l->new_expiry) != 0)
    ef_log(EF_LOG_WARN, "device %llu: saving session token: %s",
           (unsigned long long)l->dev.device_id, store_errmsg(st));
}

static void save_token_done(struct worker_job *job) {
  login_free(container_of(job, struct login, job));
}

static void login_ok(struct login *l, bool issue_token) {
  struct dsess *s = l->s;
  struct server *srv = s->srv;
  char idbuf[EF_ID_STRLEN];
  s->device_id = l->dev.device_id;
  id_format(s->device_id, idbuf);

  /* A device that logs in again before its old connection timed out: the new one wins. */
  struct dsess *old = u64map_put(&srv->devices, s->device_id, s);
  if (old && old != s) {
    old->device_id = 0; /* no longer the device's session: its close changes no state */
    old->phase = PH_CLOSED;
    order_abort(old, "device reconnected");
    if (old->conn) net_close(old->conn, 1000, "replaced by a new login");
  }

  json_t *data = json_pack("{s:s}", "device_id", idbuf);
  if (issue_token && crypto_token(l->new_token) == 0) {
    crypto_sha256_hex(l->new_token, strlen(l->new_token), l->new_hash);
    l->new_expiry = ef_now_ms() + srv->cfg.token_ttl;
    json_object_set_new(data, "token", json_string(l->new_token));
    json_object_set_new(data, "token_expires", json_integer(l->new_expiry));
    /* Written behind; the job queue is FIFO, so a reconnect's lookup sees it. */
    l->job.work = save_token;
    l->job.done = save_token_done;
    worker_submit(srv->worker, &l->job);
    l = NULL;
  }
  send_json(s, json_pack("{s:s, s:o}", "status", "success", "data", data));
  /* A miner's agent answers with its whole record; other devices ignore it (SPEC §2). */
  ws_device_send(s, REPORT_FULL, sizeof REPORT_FULL - 1);
  if (l) login_free(l);

  s->phase = PH_READY;
  s->misses = 0;
  s->window_start = (int64_t)uv_now(srv->loop);
  s->state = DEV_OFFLINE;
  set_state(s, DEV_ONLINE, "login");
  devlog_add(srv->devlog, s->device_id, "login", net_conn_peer(s->conn), "success");
  ef_log(EF_LOG_DEBUG, "device %s logged in from %s", idbuf, net_conn_peer(s->conn));
  arm(s, srv->cfg.heartbeat_tolerance);
}

static void bcrypt_work(uv_work_t *w) {
  struct login *l = container_of(w, struct login, pool);
  l->rc = crypto_bcrypt_verify(l->password, l->dev.password) ? 0 : EF_EAUTH;
}

/* Start queued password checks while fewer than bcrypt_jobs run; a login whose device has gone
 * meanwhile is dropped without hashing. */
static void bcrypt_done(uv_work_t *w, int status);

static void bcrypt_pump(struct server *srv) {
  while (srv->bcrypt_head && srv->bcrypt_active < srv->cfg.bcrypt_jobs) {
    struct login *l = srv->bcrypt_head;
    srv->bcrypt_head = l->next;
    if (!srv->bcrypt_head) srv->bcrypt_tail = NULL;
    srv->bcrypt_waiting--;
    struct dsess *s = l->s;
    if (s->phase != PH_AUTH || !s->conn) {
      sess_unref(s);
      login_free(l);
      continue;
    }
    if (uv_queue_work(srv->loop, &l->pool, bcrypt_work, bcrypt_done) != 0) {
      s->refs--;
      login_fail(s, "Unknown Error");
      login_free(l);
      continue;
    }
    srv->bcrypt_active++;
  }
}

static void bcrypt_enqueue(struct server *srv, struct login *l) {
  if (srv->bcrypt_waiting >= srv->cfg.bcrypt_queue_max) {
    /* A flood of password logins must not grow memory without bound; the device retries. */
    struct dsess *s = l->s;
    s->refs--;
    login_fail(s, "server busy, try again later");
    login_free(l);
    return;
  }
  srv->bcrypt_waiting++;
  l->next = NULL;
  if (srv->bcrypt_tail) srv->bcrypt_tail->next = l;
  else srv->bcrypt_head = l;
  srv->bcrypt_tail = l;
  bcrypt_pump(srv);
}

static void bcrypt_done(uv_work_t *w, int status) {
  struct login *l = container_of(w, struct login, pool);
  struct dsess *s = l->s;
  struct server *srv = s->srv;
  srv->bcrypt_active--;
  bcrypt_pump(srv);
  if (s->phase != PH_AUTH || !s->conn) {
    sess_unref(s);
    login_free(l);
    return;
  }
  s->refs--; /* the session is open, so it cannot reach 0 here */
  if (status != 0 || l->rc != 0) {
    s->device_id = l->dev.device_id; /* for the log row */
    login_fail(s, "password Not Correct");
    login_free(l);
    return;
  }
  login_ok(l, true);
}

static void lookup_done(struct worker_job *job) {
  struct login *l = container_of(job, struct login, job);
  struct dsess *s = l->s;
  if (s->phase != PH_AUTH || !s->conn) {
    sess_unref(s);
    login_free(l);
    return;
  }
  if (l->rc == EF_ENOENT) {
    s->refs--;
    login_fail(s, "Device NOT FOUND.");
    login_free(l);
    return;
  }
  if (l->rc != 0) {
    s->refs--;
    login_fail(s, "server database error, try again later");
    login_free(l);
    return;
  }
  if (l->token_ok) {
    s->refs--;
    /* Re-issue only when the token has used half its life; else the device keeps it. */
    bool renew = l->dev.token_expiry - ef_now_ms() < s->srv->cfg.token_ttl / 2;
    login_ok(l, renew);
    return;
  }
  if (!l->password) {
    s->refs--;
    s->device_id = l->dev.device_id;
    login_fail(s, "invalid or expired token");
    login_free(l);
    return;
  }
  bcrypt_enqueue(s->srv, l);
}

static void handle_login(struct dsess *s, const char *msg, size_t len) {
  json_t *m = jparse_object(msg, len);
  if (!m) {
    login_fail(s, "Invalid Json");
    return;
  }
  const char *pw = jstr(m, "password"), *tok = jstr(m, "token");
  json_t *jid = json_object_get(m, "device_id");
  const char *sn = jstr(m, "device_sn"), *model = jstr(m, "device_model");
  uint64_t id = 0;
  const char *err = NULL;
  if (!pw && !tok) err = json_object_get(m, "password") ? "password must be a string"
                                                        : "Not provide password";
  else if (jid && json_is_string(jid) && !id_parse(json_string_value(jid), &id))
    err = "Device NOT FOUND.";
  else if (jid && json_is_integer(jid) && json_integer_value(jid) > 0)
    id = (uint64_t)json_integer_value(jid);
  else if (jid && !id) err = "device_id must be a string";
  else if (!jid && !(sn && model)) err = "Missing required Parameters!";
  else if (tok && !id) err = "a token login needs device_id";
  if (err) {
    json_decref(m);
    login_fail(s, err);
    return;
  }
  struct login *l = ef_calloc(1, sizeof *l);
  l->s = s;
  l->id = id;
  l->sn = id ? NULL : ef_strdup(sn);
  l->model = id ? NULL : ef_strdup(model);
  l->password = ef_strdup(pw);
  l->token = ef_strdup(tok);
  json_decref(m);

  s->phase = PH_AUTH;
  s->refs++;
  l->job.work = login_lookup;
  l->job.done = lookup_done;
  worker_submit(s->srv->worker, &l->job);
}

/* ----- messages of a logged-in device ----- */

/* The ping exactly as the library, the load generator (compact) and the original controller
 * (Python's json.dumps: ", " and ": ") write it; any other spelling takes the parsed path. */
static bool is_ping(const char *msg, size_t len) {
  static const char compact[] = "{\"type\":\"ping_pong\",\"Headers\":{},\"data\":\"ping\"}";
  static const char spaced[] = "{\"type\": \"ping_pong\", \"Headers\": {}, \"data\": \"ping\"}";
  return (len == sizeof compact - 1 && memcmp(msg, compact, len) == 0) ||
         (len == sizeof spaced - 1 && memcmp(msg, spaced, len) == 0);
}

void ws_device_error(struct dsess *s, const char *message) {
  send_json(s, json_pack("{s:s, s:{}, s:{s:s}}", "type", "error", "Headers", "data", "message",
                         message));
}

/* The message is kept as received (no re-serialisation on the hot path); reads parse it. */
static void handle_status(struct dsess *s, json_t *m, const char *msg, size_t len) {
  json_t *data = jobj(m, "data");
  if (!data) {
    ws_device_error(s, "upload_status_info needs a data object");
    return;
  }
  const char *host = jstr(data, "host_name");
  if (host && *host) miner_host_seen(s->srv, host, s->device_id);
  if (!s->status || s->status_len < len) {
    ef_free(s->status);
    s->status = ef_malloc(len + 1);
  }
  memcpy(s->status, msg, len);
  s->status[len] = '\0';
  s->status_len = (uint32_t)len;
  s->status_time = ef_now_ms();
  ws_device_send(s, STATUS_ACK, sizeof STATUS_ACK - 1);
  /* The first upload of a session is logged, then one per log_status_every: a fleet's log
   * shows that devices report without a row per upload (19.5k devices: 4.7 M rows an hour). */
  const struct server_config *cfg = &s->srv->cfg;
  if (cfg->log_status_uploads &&
      (!s->status_logged || s->status_time - s->status_logged >= cfg->log_status_every)) {
    s->status_logged = s->status_time;
    devlog_add(s->srv->devlog, s->device_id, "status_upload", NULL, "success");
  }
}

void ws_device_message(struct dsess *s, const char *msg, size_t len) {
  struct server *srv = s->srv;
  if (s->phase == PH_LOGIN) {
    handle_login(s, msg, len);
    return;
  }
  if (s->phase != PH_READY) return; /* AUTH: a message before the login reply is dropped */

  s->window_start = (int64_t)uv_now(srv->loop);
  if (s->misses) {
    s->misses = 0;
    set_state(s, DEV_ONLINE, "message received");
  }
  if (is_ping(msg, len)) { /* the most frequent message, recognised without a JSON parse */
    ws_device_send(s, PONG, sizeof PONG - 1);
    return;
  }
  json_t *m = jparse_object(msg, len);
  if (!m) {
    ws_device_error(s, "Invalid Json");
    return;
  }
  const char *type = jstr(m, "type");
  if (!type) ws_device_error(s, "message without type");
  else if (strcmp(type, "ping_pong") == 0) ws_device_send(s, PONG, sizeof PONG - 1);
  else if (strcmp(type, "upload_status_info") == 0) handle_status(s, m, msg, len);
  else if (strcmp(type, "upload_instruction_result") == 0) order_result(s, m);
  else if (strcmp(type, "upload_miner_info") == 0) miner_upload(srv, s, m);
  else ef_log(EF_LOG_DEBUG, "device %llu: ignoring message type %s",
              (unsigned long long)s->device_id, type);
  json_decref(m);
}

/* ----- open / close ----- */

void ws_device_start(struct server *srv) {
  /* Slots fine enough for the shortest deadline (tests run windows of a few hundred ms), and
   * enough of them to span the longest; longer ones are re-filed (wheel.h). */
  const struct server_config *c = &srv->cfg;
  int64_t shortest = c->login_timeout < c->heartbeat_tolerance_miss ? c->login_timeout : c->heartbeat_tolerance_miss;
  int64_t longest = c->login_timeout > c->heartbeat_tolerance ? c->login_timeout : c->heartbeat_tolerance;
  int64_t slot = shortest / 8;
  if (slot < 5) slot = 5;
  if (slot > 100) slot = 100;
  size_t nslots = (size_t)(longest / slot + 2);
  if (nslots > 4096) nslots = 4096;
  wheel_init(&srv->wheel, srv->loop, slot, nslots, ws_device_deadline, srv);
}

void ws_device_stop(struct server *srv) { wheel_stop(&srv->wheel); }

void *ws_device_open(struct server *srv, struct net_conn *conn) {
  if (srv->stopping) return NULL;
  struct dsess *s = ef_calloc(1, sizeof *s);
  s->srv = srv;
  s->conn = conn;
  s->refs = 1; /* released when the connection closes */
  arm(s, srv->cfg.login_timeout);
  srv->n_sessions++;
  return s;
}

void ws_device_close(struct dsess *s) {
  s->conn = NULL;
  s->srv->n_sessions--;
  if (s->phase != PH_CLOSED) sess_end(s, "connection closed");
  wheel_del(&s->deadline);
  sess_unref(s);
}

static void overlay_one(struct server *srv, json_t *d) {
  uint64_t id = 0;
  if (!id_parse(jstr(d, "device_id"), &id)) return;
  struct dsess *s = ws_device_find(srv, id);
  json_object_set_new(d, "dev_state", json_string(dev_state_name(s ? s->state : DEV_OFFLINE)));
}

json_t *ws_device_status_data(const struct dsess *s) {
  if (!s->status) return NULL;
  json_t *m = jparse_object(s->status, s->status_len);
  json_t *data = json_incref(jobj(m, "data"));
  json_decref(m);
  return data;
}

json_t *ws_device_status(const struct dsess *s) {
  json_t *st = ws_device_status_data(s);
  if (!st) st = json_object();
  char idbuf[EF_ID_STRLEN];
  json_object_set_new(st, "device_id", json_string(id_format(s->device_id, idbuf)));
  json_object_set_new(st, "dev_state", json_string(dev_state_name(s->state)));
  json_object_set_new(st, "status_time", json_integer(s->status_time));
  return st;
}

void ws_device_overlay_state(struct server *srv, json_t *devices) {
  size_t i;
  json_t *d;
  if (json_is_object(devices)) overlay_one(srv, devices);
  else json_array_foreach(devices, i, d) overlay_one(srv, d);
}

void ws_device_close_all(struct server *srv) {
  /* Logins still waiting for a password check will not get one. */
  while (srv->bcrypt_head) {
    struct login *l = srv->bcrypt_head;
    srv->bcrypt_head = l->next;
    sess_unref(l->s);
    login_free(l);
  }
  srv->bcrypt_tail = NULL;
  srv->bcrypt_waiting = 0;
  uint64_t id;
  void *v;
  for (size_t it = 0; u64map_next(&srv->devices, &it, &id, &v);) {
    struct dsess *s = v;
    if (!s->close_reason) s->close_reason = ef_strdup("server shutdown");
  }
}
