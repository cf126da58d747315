/* SPDX-License-Identifier: MIT */
/* client.c -- the client's life: loop and lws context setup, connect, login, message dispatch,
 * reconnect with jitter and a retry limit over the `server` list, and the two-stage shutdown.
 *
 * DESIGN. States: IDLE -> CONNECTING -> LOGIN (socket up, login sent) -> ONLINE -> WAIT (timer to
 * the next attempt) -> CONNECTING ... Every way a connection ends (connect error, close by either
 * side, our own drop) funnels into conn_lost(), the one place that decides what comes next: it
 * asks failover.c which server is next and how long to wait (or to give up).
 * Stopping (ef_client_stop, retry limit, restart) is always deferred to the async callback so
 * that lws is never destroyed from inside one of its own callbacks.
 */
#include <errno.h>
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "clock.h"
#include "edge_internal.h"
#include "mem.h"
#include "oplog.h"
#include "proto.h"
#include "token.h"

#define OUTQ_MAX 1024

static const char *level_names[] = {"ERROR", "WARNING", "INFO", "DEBUG"};

/* lws logs through one process-wide function; it is forwarded to the client that is running. */
static ef_client *_Atomic lws_log_client;

static void vreport(ef_client *c, int level, bool to_oplog, const char *fmt, va_list ap) {
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (level < 0) level = 0;
  if (level > 3) level = 3;
  if (to_oplog && c->oplog) oplog_write(c->oplog, level_names[level], msg);
  if (c->log_cb) c->log_cb(c->log_ud, level, msg);
}

void client_log(ef_client *c, int level, const char *fmt, ...) {
  if (!c || !c->log_cb) return;
  va_list ap;
  va_start(ap, fmt);
  vreport(c, level, false, fmt, ap);
  va_end(ap);
}

void client_oplog(ef_client *c, int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(c, level, true, fmt, ap);
  va_end(ap);
}

static void lws_emit(int level, const char *line) {
  ef_client *c = lws_log_client;
  if (!c) return;
  char buf[512];
  snprintf(buf, sizeof buf, "%s", line);
  size_t n = strlen(buf);
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
  client_log(c, level == LLL_ERR ? 0 : level == LLL_WARN ? 1 : 3, "lws: %s", buf);
}

static void event(ef_client *c, enum ef_client_event ev, const char *detail) {
  if (c->event_cb) c->event_cb(c->event_ud, ev, detail);
}

static uint64_t rng_next(ef_client *c) { /* xorshift64*: jitter only, not security */
  c->rng ^= c->rng >> 12;
  c->rng ^= c->rng << 25;
  c->rng ^= c->rng >> 27;
  return c->rng * 2685821657736338717ULL;
}

static uint64_t client_rand(void *ud) { return rng_next(ud); } /* failover_rand_fn */

/* ===== public setters ===== */

int ef_client_new(ef_client **out) {
  if (!out) return EF_EINVAL;
  ef_client *c = ef_calloc(1, sizeof *c);
  if (options_defaults(&c->conf) != 0) {
    options_free(&c->conf);
    ef_free(c);
    return EF_ECONFIG;
  }
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  /* The seed picks the first server and every jitter: devices started in the same ms (a fleet
   * of containers, each its own pid 1) must still differ, so the kernel's random bytes when it
   * has them. */
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) seed = 0;
  c->rng = seed ^ (uint64_t)ef_now_ms() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)c;
  if (!c->rng) c->rng = 88172645463325252ULL;
  atomic_init(&c->stop_req, false);
  atomic_init(&c->async_ready, false);
  *out = c;
  return 0;
}

void ef_client_free(ef_client **pc) {
  if (!pc || !*pc) return;
  ef_client *c = *pc;
  options_free(&c->conf);
  orders_free_handlers(c);
  miner_free_all(c);
  ef_free(c->confirmed_id);
  pthread_cond_destroy(&c->cv);
  pthread_mutex_destroy(&c->mu);
  ef_free(c);
  *pc = NULL;
}

void ef_client_on_status(ef_client *c, ef_status_cb cb, void *ud) {
  if (!c || c->running) return;
  c->status_cb = cb;
  c->status_ud = ud;
}

void ef_client_on_log(ef_client *c, ef_log_cb cb, void *ud) {
  if (!c || c->running) return;
  c->log_cb = cb;
  c->log_ud = ud;
}

void ef_client_on_event(ef_client *c, ef_event_cb cb, void *ud) {
  if (!c || c->running) return;
  c->event_cb = cb;
  c->event_ud = ud;
}

void ef_client_on_full_request(ef_client *c, ef_full_cb cb, void *ud) {
  if (!c || c->running) return;
  c->full_cb = cb;
  c->full_ud = ud;
}

const char *ef_client_device_id(const ef_client *c) { return c ? c->confirmed_id : NULL; }

void ef_client_stop(ef_client *c) {
  if (!c) return;
  atomic_store(&c->stop_req, true);
  if (atomic_load(&c->async_ready)) uv_async_send(&c->async); /* async-signal-safe */
}

void client_wake(ef_client *c) {
  pthread_mutex_lock(&c->mu);
  if (atomic_load(&c->async_ready)) uv_async_send(&c->async);
  pthread_mutex_unlock(&c->mu);
}

/* Leave ef_client_run() with rc (loop thread). */
static void request_exit(ef_client *c, int rc) {
  if (rc) c->run_rc = rc;
  atomic_store(&c->stop_req, true);
  client_wake(c);
}

/* ===== sending ===== */

static void outq_clear(ef_client *c) {
  while (c->out_head) {
    struct outmsg *m = c->out_head;
    c->out_head = m->next;
    ef_free(m);
  }
  c->out_tail = NULL;
}

void client_send(ef_client *c, const char *text) {
  if (!c->wsi || c->close_requested || (c->state != CONN_LOGIN && c->state != CONN_ONLINE))
    return;
  size_t len = strlen(text), n = 0;
  for (struct outmsg *m = c->out_head; m; m = m->next) n++;
  if (n >= OUTQ_MAX) {
    client_drop(c, "output queue full");
    return;
  }
  struct outmsg *m = ef_malloc(sizeof *m + LWS_PRE + len);
  m->next = NULL;
  m->len = len;
  memcpy(m->buf + LWS_PRE, text, len);
  if (c->out_tail) c->out_tail->next = m;
  else c->out_head = m;
  c->out_tail = m;
  lws_callback_on_writable(c->wsi);
}

void client_send_owned(ef_client *c, char *text) {
  if (text) client_send(c, text);
  ef_free(text);
}

void client_drop(ef_client *c, const char *why) {
  if (!c->wsi || c->close_requested) return;
  client_oplog(c, 1, "closing the connection: %s", why);
  c->close_requested = true;
  lws_callback_on_writable(c->wsi);
}

/* ===== connection lifecycle ===== */

static void on_reconnect_timer(uv_timer_t *t);
static void conn_lost(ef_client *c, const char *why);

static void start_connect(ef_client *c) {
  c->state = CONN_CONNECTING;
  c->conn_gen++;
  c->close_requested = false;
  c->logged_in_this_conn = false;
  c->rx_len = 0;
  const struct failover_server *srv = &c->fo.v[c->fo.cur];
  c->url = srv->url;
  if (c->fo.n > 1)
    client_oplog(c, 2, "Ready to connect to Server. %s (server %zu of %zu)", srv->text,
                 c->fo.cur + 1, c->fo.n);
  else
    client_oplog(c, 2, "Ready to connect to Server. %s", srv->text);
  struct lws_client_connect_info i;
  memset(&i, 0, sizeof i);
  i.context = c->ctx;
  i.address = c->url.host;
  i.port = c->url.port;
  i.path = c->url.path;
  i.host = c->url.host;
  i.origin = c->url.host;
  i.local_protocol_name = "edgefleet";
  /* wss: the chain must verify against ca_file or the system's store, and the name in the URL
   * (DNS name or IP address) must be the certificate's (lws: X509_VERIFY_PARAM_set1_host/ip) */
  if (c->url.tls) i.ssl_connection = LCCSCF_USE_SSL;
  c->tls_why[0] = '\0';
  c->connecting = NULL;
  struct lws *wsi = lws_client_connect_via_info(&i);
  if (c->state == CONN_CONNECTING) c->connecting = wsi;
  if (!wsi && c->state == CONN_CONNECTING) { /* failed without a CONNECTION_ERROR callback */
    client_log(c, 1, "connect to %s:%d failed at once", c->url.host, c->url.port);
    conn_lost(c, "connect failed");
  }
}

static void conn_lost(ef_client *c, const char *why) {
  if (c->state != CONN_CONNECTING && c->state != CONN_LOGIN && c->state != CONN_ONLINE) return;
  bool was_up = c->wsi != NULL;
  c->wsi = NULL;
  c->connecting = NULL;
  c->state = CONN_WAIT;
  heartbeat_stop(c);
  uv_timer_stop(&c->t_login);
  outq_clear(c);
  c->rx_len = 0;
  c->close_requested = false;
  if (c->shutting_down) return;
  const char *from = c->fo.v[c->fo.cur].text; /* fo.v outlives every attempt */
  client_oplog(c, 1, "disconnected from Server: %s (%s)", why, from);
  if (was_up) event(c, EF_EV_DISCONNECTED, why);
  if (c->restart_exec) return;
  if (c->reconnect_now) { /* the same server again at once (a refused token: the password) */
    c->reconnect_now = false;
    uv_timer_start(&c->t_reconnect, on_reconnect_timer, 0, 0);
    return;
  }
  bool dropped = c->logged_in_this_conn;
  int64_t up_ms = dropped ? ef_mono_ms() - c->online_since : 0;
  struct failover_timing t = {c->conf.reconnect_interval, c->conf.reconnect_jitter,
                              c->conf.max_retries};
  struct failover_step s = failover_next(&c->fo, dropped ? FAILOVER_DROPPED : FAILOVER_FAILED,
                                         up_ms, &t, client_rand, c);
  if (s.give_up) {
    if (c->fo.n > 1)
      client_oplog(c, 0, "giving up after %lld failed connection attempts (%lld on each of the "
                         "%zu servers)", (long long)c->fo.failed, (long long)c->conf.max_retries,
                   c->fo.n);
    else
      client_oplog(c, 0, "giving up after %lld failed connection attempts",
                   (long long)c->fo.failed);
    request_exit(c, EF_ECLOSED);
    return;
  }
  unsigned long long ms = (unsigned long long)s.delay_ms;
  const char *next = c->fo.v[s.next].text;
  if (c->fo.n == 1)
    client_oplog(c, 2, "Server Offline. try-reconnect %llu ms later.", ms);
  else if (s.round_done)
    client_oplog(c, 2, "Server Offline. try-reconnect %llu ms later: all %zu servers failed; "
                       "next %s", ms, c->fo.n, next);
  else if (s.full_wait) /* a short-lived connection: no quick move */
    client_oplog(c, 2, "Server Offline. try-reconnect %llu ms later: the connection to %s "
                       "lasted %lld ms only (less than reconnect_interval); next %s",
                 ms, from, (long long)up_ms, next);
  else
    client_oplog(c, 2, "moving on to the next server %s in %llu ms: %s %s", next, ms, from,
                 dropped ? "dropped the connection" : "failed");
  uv_timer_start(&c->t_reconnect, on_reconnect_timer, s.delay_ms, 0);
}

static void on_reconnect_timer(uv_timer_t *t) {
  ef_client *c = t->data;
  if (c->shutting_down || c->restart_exec) return;
  start_connect(c);
}

static void on_login_timeout(uv_timer_t *t) {
  ef_client *c = t->data;
  client_oplog(c, 0, "no login reply within %lld ms", (long long)c->conf.login_timeout);
  event(c, EF_EV_LOGIN_FAILED, "login timed out");
  client_drop(c, "login timed out");
}

static void send_login(ef_client *c) {
  struct token t = {0};
  const char *token = NULL, *id = c->conf.device_id;
  if (!c->skip_token) {
    int rc = token_load(c->conf.data_dir, ef_now_ms(), &t);
    if (rc == 0 && (!c->conf.device_id || !*c->conf.device_id ||
                    strcmp(c->conf.device_id, t.device_id) == 0)) {
      token = t.token;
      id = t.device_id;
    } else if (rc == EF_ETIMEDOUT) {
      client_oplog(c, 2, "session token expired; logging in with the password");
    }
  }
  c->skip_token = false;
  c->token_login = token != NULL;
  char *msg = proto_login(id, c->conf.device_sn, c->conf.device_model, c->conf.password, token);
  if (token) client_oplog(c, 2, "login with session token as device %s", id);
  else if (id && *id) client_oplog(c, 2, "login with password as device %s", id);
  else client_oplog(c, 2, "login with password as %s / %s", c->conf.device_sn, c->conf.device_model);
  client_send_owned(c, msg);
  token_clear(&t);
  uv_timer_start(&c->t_login, on_login_timeout, (uint64_t)c->conf.login_timeout, 0);
}

static void on_login_reply(ef_client *c, const struct proto_msg *m) {
  uv_timer_stop(&c->t_login);
  if (m->success) {
    const char *id = m->device_id && *m->device_id ? m->device_id : c->conf.device_id;
    if (!id && c->confirmed_id) id = c->confirmed_id;
    char *nid = ef_strdup(id);
    ef_free(c->confirmed_id);
    c->confirmed_id = nid;
    c->state = CONN_ONLINE;
    c->failures = 0;
    failover_logged_in(&c->fo);
    c->online_since = ef_mono_ms();
    c->logged_in_this_conn = true;
    if (m->token && *m->token && c->confirmed_id) {
      if (token_save(c->conf.data_dir, c->confirmed_id, m->token, m->token_expires) != 0)
        client_log(c, 1, "cannot save the session token in %s: %s", c->conf.data_dir,
                   strerror(errno));
    }
    client_oplog(c, 2, "login success as device %s on %s",
                 c->confirmed_id ? c->confirmed_id : "?", c->fo.v[c->fo.cur].text);
    event(c, EF_EV_LOGGED_IN, c->confirmed_id);
    heartbeat_start(c);
    miner_flush(c);
    return;
  }
  const char *why = m->message ? m->message : "login refused";
  if (c->token_login) {
    token_delete(c->conf.data_dir);
    client_oplog(c, 1, "session token refused (%s); retrying with the password", why);
    c->skip_token = true;
    c->reconnect_now = true;
    client_drop(c, "token refused");
    return;
  }
  client_oplog(c, 0, "login failed: %s", why);
  event(c, EF_EV_LOGIN_FAILED, why);
  client_drop(c, "login failed");
}

static void on_message(ef_client *c, const char *text, size_t len) {
  struct proto_msg m;
  if (proto_parse(text, len, &m) != 0) {
    client_log(c, 1, "ignoring a malformed message from the server (%zu bytes)", len);
    return;
  }
  if (c->state == CONN_LOGIN) {
    if (m.type == PROTO_LOGIN_REPLY) on_login_reply(c, &m);
    else client_log(c, 3, "ignoring a message before the login reply");
    proto_msg_free(&m);
    return;
  }
  switch (m.type) {
  case PROTO_PONG: heartbeat_on_pong(c); break;
  case PROTO_STATUS_ACK: heartbeat_on_status_ack(c); break;
  case PROTO_GIVE_ORDER: orders_on_give(c, &m); break;
  case PROTO_RESTART_CONFIRM: orders_on_restart_confirm(c); break;
  case PROTO_REPORT_FULL:
    client_log(c, 2, "server asks for a full miner record");
    if (c->full_cb) c->full_cb(c->full_ud);
    break;
  case PROTO_MINER_ACK: client_log(c, 3, "miner upload acknowledged"); break;
  case PROTO_LOGIN_REPLY:
  case PROTO_UNKNOWN: client_log(c, 3, "ignoring an unknown message"); break;
  }
  proto_msg_free(&m);
}

/* Called by OpenSSL for each certificate of the server's chain, from the root to the server's
 * own (depth 0). A failure is kept with its reason (expired, hostname mismatch, unable to get
 * local issuer certificate, ...) for the connection error that follows; with pinned_pubkey the
 * server's key must also be one of the pins. 0 accepts, 1 refuses. */
static int verify_server_cert(ef_client *c, X509_STORE_CTX *xs, int preverify_ok) {
  int depth = X509_STORE_CTX_get_error_depth(xs);
  if (!preverify_ok) {
    int e = X509_STORE_CTX_get_error(xs);
    if (!c->tls_why[0])
      snprintf(c->tls_why, sizeof c->tls_why, "server certificate refused: %s (depth %d)",
               X509_verify_cert_error_string(e), depth);
    return 1;
  }
  if (depth == 0 && c->pins.n) {
    unsigned char h[32];
    X509 *leaf = X509_STORE_CTX_get_current_cert(xs);
    if (!leaf || tls_spki_sha256(leaf, h) != 0 || !tls_pins_match(&c->pins, h)) {
      snprintf(c->tls_why, sizeof c->tls_why,
               "server certificate refused: its public key is not one of pinned_pubkey");
      X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
      return 1;
    }
  }
  return 0;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len) {
  struct lws_context *ctx = lws_get_context(wsi);
  ef_client *c = ctx ? lws_context_user(ctx) : NULL;
  if (!c) return lws_callback_http_dummy(wsi, reason, user, in, len);
  switch (reason) {
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    if (c->state == CONN_CONNECTING) {
      char why[600];
      if (c->tls_why[0]) /* the verify callback's reason says more than lws' summary */
        snprintf(why, sizeof why, "connection error: TLS: %s", c->tls_why);
      else
        snprintf(why, sizeof why, "connection error: %s", in ? (const char *)in : "unknown");
      conn_lost(c, why);
    }
    return 0;
  case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION: /* user: X509_STORE_CTX, len:
                                                                 OpenSSL's verdict so far */
    return verify_server_cert(c, user, (int)len);
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    if (c->state != CONN_CONNECTING || c->shutting_down) return -1;
    c->wsi = wsi;
    c->connecting = NULL;
    c->state = CONN_LOGIN;
    client_oplog(c, 2, "successfully connect to Server.");
    event(c, EF_EV_CONNECTED, NULL);
    send_login(c);
    return 0;
  case LWS_CALLBACK_CLIENT_RECEIVE:
    if (wsi != c->wsi) return -1;
    if (c->rx_len + len > (size_t)c->conf.max_message) {
      client_oplog(c, 0, "message larger than max_message (%lld bytes): closing",
                   (long long)c->conf.max_message);
      c->rx_len = 0;
      return -1;
    }
    c->rx = ef_realloc(c->rx, c->rx_len + len + 1);
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
      size_t n = c->rx_len;
      c->rx_len = 0;
      c->rx[n] = '\0';
      on_message(c, c->rx, n);
    }
    return 0;
  case LWS_CALLBACK_CLIENT_WRITEABLE: {
    if (wsi != c->wsi) return -1;
    if (c->close_requested) {
      lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
      return -1;
    }
    struct outmsg *m = c->out_head;
    if (!m) return 0;
    c->out_head = m->next;
    if (!c->out_head) c->out_tail = NULL;
    int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
    bool short_write = n < (int)m->len;
    ef_free(m);
    if (short_write) {
      client_log(c, 0, "write failed");
      return -1;
    }
    if (c->out_head) lws_callback_on_writable(wsi);
    return 0;
  }
  case LWS_CALLBACK_CLIENT_CLOSED:
    if (wsi == c->wsi) conn_lost(c, "connection closed");
    return 0;
  case LWS_CALLBACK_WSI_DESTROY:
    /* lws 4.1.6 frees an attempt the server closed after the TLS handshake (TLS 1.3: a client
     * certificate refused by a server with tls_ca) without CLIENT_CONNECTION_ERROR: without
     * this the client would wait for that attempt forever */
    if (c->state == CONN_CONNECTING && wsi == c->connecting) {
      char why[600];
      snprintf(why, sizeof why, "connection error: %s%s",
               c->tls_why[0] ? "TLS: " : "closed by the server during the handshake (with "
                                          "TLS: was our client certificate refused?)",
               c->tls_why);
      conn_lost(c, why);
    }
    break;
  default: break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"edgefleet", ws_callback, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ===== loop ===== */

static void close_handle(uv_handle_t *h) {
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void begin_shutdown(ef_client *c) {
  c->shutting_down = true;
  heartbeat_stop(c);
  uv_timer_stop(&c->t_reconnect);
  uv_timer_stop(&c->t_login);
  uv_timer_stop(&c->t_restart);
  close_handle((uv_handle_t *)&c->t_reconnect);
  close_handle((uv_handle_t *)&c->t_login);
  close_handle((uv_handle_t *)&c->t_ping);
  close_handle((uv_handle_t *)&c->t_status);
  close_handle((uv_handle_t *)&c->t_restart);
  pthread_mutex_lock(&c->mu);
  atomic_store(&c->async_ready, false);
  pthread_mutex_unlock(&c->mu);
  close_handle((uv_handle_t *)&c->async);
  if (c->wsi) client_oplog(c, 2, "closing the connection");
  /* First stage: lws closes its connections and handles on the loop; run() finishes it. */
  if (c->ctx) lws_context_destroy(c->ctx);
}

static void on_async(uv_async_t *a) {
  ef_client *c = a->data;
  if (c->shutting_down) return;
  if (atomic_load(&c->stop_req)) {
    begin_shutdown(c);
    return;
  }
  orders_flush_results(c);
  miner_flush(c);
}

static void on_start(uv_timer_t *t) { start_connect(t->data); }

static int mkdir_p(const char *dir) {
  char *p = ef_strdup(dir);
  int rc = 0;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(p, 0755) != 0 && errno != EEXIST) rc = -1;
    *s = '/';
  }
  if (mkdir(p, 0755) != 0 && errno != EEXIST) rc = -1;
  ef_free(p);
  return rc;
}

static void walk_close(uv_handle_t *h, void *arg) {
  (void)arg;
  close_handle(h);
}

static void finish_loop(ef_client *c) {
  if (c->ctx) {
    lws_context_destroy(c->ctx); /* second stage, now that the loop has drained */
    c->ctx = NULL;
  }
  uv_run(&c->loop, UV_RUN_NOWAIT);
  if (uv_loop_close(&c->loop) == UV_EBUSY) {
    uv_walk(&c->loop, walk_close, NULL);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    uv_loop_close(&c->loop);
  }
}

/* The TLS options fit the URLs and their files can be read (lws would only log a failure).
 * They apply to every wss:// URL of the list. */
static int tls_check_conf(ef_client *c) {
  const struct edge_conf *f = &c->conf;
  memset(&c->pins, 0, sizeof c->pins);
  bool tls_opts = f->ca_file || f->cert_file || f->key_file || f->pinned_pubkey;
  if (!failover_any_tls(&c->fo)) {
    if (tls_opts)
      client_log(c, 1, "ca_file, cert_file, key_file and pinned_pubkey apply to wss:// only; "
                       "%s is ws:// (no TLS)", f->server);
    return 0;
  }
  for (size_t i = 0; i < c->fo.n; i++)
    if (!c->fo.v[i].url.tls)
      client_log(c, 1, "server %s is ws:// (no TLS) beside wss:// ones: its traffic is not "
                       "encrypted", c->fo.v[i].text);
  if (f->key_file && !f->cert_file) {
    client_log(c, 0, "key_file without cert_file");
    return EF_ECONFIG;
  }
  const char *files[][2] = {{"ca_file", f->ca_file}, {"cert_file", f->cert_file},
                            {"key_file", f->key_file}};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++)
    if (files[i][1] && access(files[i][1], R_OK) != 0) {
      client_log(c, 0, "%s %s: %s", files[i][0], files[i][1], strerror(errno));
      return EF_ECONFIG;
    }
  char err[256];
  if (f->pinned_pubkey && *f->pinned_pubkey &&
      tls_pins_parse(f->pinned_pubkey, &c->pins, err, sizeof err) != 0) {
    client_log(c, 0, "%s", err);
    return EF_ECONFIG;
  }
  return 0;
}

int ef_client_run(ef_client *c) {
  if (!c) return EF_EINVAL;
  if (c->running) return EF_EBUSY;
  char err[1024];
  int rc = failover_parse(c->conf.server, &c->fo, err, sizeof err);
  if (rc) {
    client_log(c, 0, "%s", err);
    return rc;
  }
  bool by_id = c->conf.device_id && *c->conf.device_id;
  bool by_sn = c->conf.device_sn && *c->conf.device_sn && c->conf.device_model &&
               *c->conf.device_model;
  if (!by_id && !by_sn) {
    client_log(c, 0, "device_id, or device_sn and device_model, must be set");
    rc = EF_ECONFIG;
    goto fail_conf;
  }
  if (!c->conf.password || !*c->conf.password) {
    client_log(c, 0, "password must be set");
    rc = EF_ECONFIG;
    goto fail_conf;
  }
  rc = tls_check_conf(c);
  if (rc) goto fail_conf;
  if (mkdir_p(c->conf.data_dir) != 0) {
    client_log(c, 0, "cannot create data_dir %s: %s", c->conf.data_dir, strerror(errno));
    rc = EF_ESYS;
    goto fail_conf;
  }
  char *logpath = ef_asprintf("%s/%s", c->conf.data_dir, c->conf.log_file);
  rc = oplog_open(logpath, c->conf.log_rotate, (int)c->conf.log_keep, NULL, &c->oplog);
  if (rc) client_log(c, 0, "cannot open the operation log %s: %s", logpath, strerror(errno));
  ef_free(logpath);
  if (rc) {
    rc = EF_ESYS;
    goto fail_conf;
  }

  c->running = true;
  c->run_rc = 0;
  c->shutting_down = false;
  c->restart_exec = c->restart_armed = false;
  failover_start(&c->fo, client_rand, c); /* a random first server spreads a fleet */
  c->state = CONN_IDLE;
  if (uv_loop_init(&c->loop) != 0) {
    rc = EF_ESYS;
    goto fail_loop;
  }
  uv_async_init(&c->loop, &c->async, on_async);
  c->async.data = c;
  uv_timer_t *timers[] = {&c->t_reconnect, &c->t_login, &c->t_ping, &c->t_status, &c->t_restart};
  for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
    uv_timer_init(&c->loop, timers[i]);
    timers[i]->data = c;
  }

  lws_log_client = c;
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_emit);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  void *loops[1] = {&c->loop};
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = protocols;
  info.options = LWS_SERVER_OPTION_LIBUV;
  info.foreign_loops = loops;
  info.user = c;
  info.gid = -1;
  info.uid = -1;
  /* lws counts whole seconds: round up, so that 1500ms is not cut to 1 s */
  info.timeout_secs = (unsigned)((c->conf.connect_timeout + 999) / 1000);
  if (failover_any_tls(&c->fo)) { /* the same TLS options for every wss:// URL */
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    /* with ca_file, that file only: not the system's CAs besides */
    if (c->conf.ca_file) info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.client_ssl_ca_filepath = c->conf.ca_file;
    info.client_ssl_cert_filepath = c->conf.cert_file;
    info.client_ssl_private_key_filepath =
        c->conf.key_file ? c->conf.key_file : c->conf.cert_file;
  }
  c->ctx = lws_create_context(&info);
  if (!c->ctx) {
    client_log(c, 0, "cannot create the websocket context (is libwebsockets-evlib-uv installed?)");
    rc = EF_ESYS;
    goto fail_ctx;
  }
  if (orders_start(c) != 0) {
    rc = EF_ESYS;
    goto fail_worker;
  }
  atomic_store(&c->async_ready, true);
  if (atomic_load(&c->stop_req)) uv_async_send(&c->async);
  else uv_timer_start(&c->t_reconnect, on_start, 0, 0);

  uv_run(&c->loop, UV_RUN_DEFAULT);
  finish_loop(c);
  orders_stop(c);
  goto done;

fail_worker:
fail_ctx:
  /* Close our handles, let a failed-but-returned lws context finish, then close the loop. */
  atomic_store(&c->async_ready, false);
  c->shutting_down = true;
  uv_walk(&c->loop, walk_close, NULL);
  uv_run(&c->loop, UV_RUN_DEFAULT);
  finish_loop(c);
fail_loop:
done:
  lws_log_client = NULL;
  outq_clear(c);
  ef_free(c->rx);
  c->rx = NULL;
  c->rx_len = 0;
  c->wsi = NULL;
  c->state = CONN_IDLE;
  bool reexec = c->restart_exec && rc == 0;
  atomic_store(&c->stop_req, false);
  if (reexec) {
    rc = orders_reexec(c); /* returns only on failure */
  } else if (rc == 0) {
    rc = c->run_rc;
    client_oplog(c, 2, "client stopped");
  }
  oplog_close(&c->oplog);
  c->running = false;
fail_conf:
  failover_free(&c->fo);
  return rc;
}
