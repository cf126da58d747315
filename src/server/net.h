/* SPDX-License-Identifier: MIT */
/* net.h -- edgefleetd's thin seam over libwebsockets: listen, WebSocket connections, HTTP requests.
 *
 * Everything lws-specific lives behind this header (net_lws.c), so the rest of the server sees
 * only: a connection that delivers whole messages and accepts sends, and an HTTP request with a
 * complete body that is answered once. Swapping lws for another stack touches one file.
 *
 * Threads: every function here is for the loop thread only.
 *
 * WebSocket connections (struct net_conn)
 *  - on_open(kind) when the upgrade on a known path completes (`/ws` devices, `/front`
 *    dashboards); the value it returns is the connection's user pointer.
 *  - on_message(user, conn, msg, len) once per complete text message (fragments reassembled,
 *    at most max_message bytes; a larger one closes the connection with 1009). msg is
 *    valid only during the call and NOT NUL-terminated (it may point into lws' buffer).
 *  - on_close(user, conn) exactly once, whoever closed; conn is invalid after it returns. After
 *    net_close() it comes only once the close frame is out (or 2 s later): a server that
 *    closes a peer ends its own state for that peer at once and treats on_close as the release.
 *  - net_send() writes at once when the socket can take it, otherwise queues a copy. While
 *    anything is queued the peer is not read (backpressure); past send_queue_max queued bytes
 *    the send fails with EF_EAGAIN and the connection is closed (a peer that does not read
 *    must not grow server memory).
 *
 * HTTP requests (struct net_req)
 *  - on_headers(req), for a request with a body, before any of it is read (see below).
 *  - on_request(req) once the whole body has arrived (Content-Length required for a body;
 *    bodies over max_body are answered 413 by the net layer itself, a Transfer-Encoding or
 *    a Content-Length that is not one number 400 and the connection closed, bodies beyond
 *    max_body_total in flight 503).
 *  - The handler must answer every request exactly once with net_req_respond(), now or later
 *    (after database work or a device's reply). If the client has gone meanwhile, the answer
 *    is dropped and the request freed all the same. The request is invalid after respond.
 */
#ifndef EF_NET_H
#define EF_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct net;
struct net_conn;
struct net_req;

enum net_ws_kind { NET_WS_DEVICE = 1, NET_WS_FRONT = 2 };

struct net_handlers {
  void *ud; /* passed to on_open and on_request */
  void *(*on_open)(void *ud, struct net_conn *conn, enum net_ws_kind kind);
  void (*on_message)(void *user, struct net_conn *conn, const char *msg, size_t len);
  void (*on_close)(void *user, struct net_conn *conn);
  void (*on_request)(void *ud, struct net_req *req);
  /* Optional: a request with a body has its headers, the body is not read yet. The handler
   * may answer now (net_req_respond): the body is then never read, the connection closes
   * after the answer, and on_request does not follow. Otherwise on_request follows. */
  void (*on_headers)(void *ud, struct net_req *req);
};

struct net_config {
  const char *host;          /* address to bind, e.g. "127.0.0.1" or "0.0.0.0" */
  int port;                  /* 0 = pick a free one (see net_port) */
  size_t rx_buffer;          /* per-connection receive buffer (bytes) */
  size_t max_message;        /* largest WebSocket message accepted */
  size_t max_body;           /* largest HTTP request body accepted */
  size_t max_body_total;     /* request body bytes admitted at once, all connections */
  int64_t http_deadline_ms;  /* a request's body, at most; then the connection is closed */
  size_t send_queue_max;     /* queued outgoing bytes per connection before it is dropped */
  const char *static_dir;    /* served at "/" (dashboard), or NULL */
  const char *vendor_dir;    /* served at "/vendor/" with static_dir (Debian's libjs-*) */
  struct peers *peers;       /* per-address limits (peers.h; borrowed), or NULL for none */
  /* TLS (docs/security.md#tls): with tls_cert and tls_key every connection is TLS 1.2+; with
   * tls_ca too, a client certificate is asked for and, when sent, must verify against tls_ca
   * (else the handshake fails), and a /ws upgrade without one verified is refused (403).
   * REST and /front do not need one. NULL: plaintext. */
  const char *tls_cert;      /* PEM certificate, its chain after it */
  const char *tls_key;       /* PEM private key, unencrypted */
  const char *tls_ca;        /* PEM CA certificates for client certificates, or NULL */
  bool reuse_port;           /* SO_REUSEPORT: share the port with other processes */
};

/* Create the listener on `loop` (owned by the caller, who runs it). Raises RLIMIT_NOFILE to its
 * hard limit and sizes lws' fd table below it. 0 or EF_E*. When the address cannot be bound it
 * fails before touching the loop (EF_ECONFIG, EF_ESYS); EF_EIO means lws itself failed and the
 * loop must not be run again (lws 4.1.6 leaves handles on it): the caller exits. */
int net_start(uv_loop_t *loop, const struct net_config *cfg, const struct net_handlers *h,
              struct net **out);
/* The port actually bound. */
int net_port(const struct net *n);
/* Re-read tls_cert and tls_key (SIGHUP): read and checked on the libuv thread pool, then new
 * handshakes use them; open connections keep their session. A failure (missing file, no PEM,
 * a key that does not match) keeps the pair in use and logs why. Without TLS it logs that there
 * is nothing to reload. */
void net_tls_reload(struct net *n);
/* Close every connection and the listener. After it returns, run the loop until it has no more
 * handles, then the caller may close the loop. on_close is called for open connections. */
void net_stop(struct net *n);
/* After the loop has ended: finish freeing what lws left of the network (see net_lws.c). */
void net_finish(void);

int net_send(struct net_conn *c, const char *msg, size_t len);
/* Close with a WebSocket status (1000 normal, 1008 policy, 1009 too big, 1011 error) and a
 * short reason. on_close follows (possibly later, from the loop). Safe to call twice. */
void net_close(struct net_conn *c, int status, const char *reason);
/* Peer address as text ("127.0.0.5"), for logs. */
const char *net_conn_peer(struct net_conn *c);
/* Peer IPv4 address, host order (peers.h). */
uint32_t net_conn_ip(const struct net_conn *c);
enum net_ws_kind net_conn_kind(const struct net_conn *c);
/* Lower this connection's queued-output limit (default send_queue_max). */
void net_conn_set_queue_max(struct net_conn *c, size_t bytes);

const char *net_req_method(const struct net_req *r);   /* "GET", "POST", ... */
const char *net_req_path(const struct net_req *r);     /* URI path, undecoded, no query */
/* The query's arguments, each as lws decoded it, joined by '&' ("from=1&to=2"); "" when none. */
const char *net_req_query(const struct net_req *r);
/* A request header by lower-case name ("authorization", "content-type"), or NULL. */
const char *net_req_header(const struct net_req *r, const char *name);
/* The peer's address as text ("127.0.0.1"), for the audit log; "" when unknown. */
const char *net_req_peer(const struct net_req *r);
const char *net_req_body(const struct net_req *r);     /* NUL-terminated; "" when none */
size_t net_req_body_len(const struct net_req *r);
/* Answer with `status`, Content-Type application/json and `body` (copied). Frees the request. */
void net_req_respond(struct net_req *r, int status, const char *body, size_t len);
/* One more header for the answer of `r` (e.g. "Retry-After", "2"), set before net_req_respond:
 * a second call replaces the first. Both strings are copied; neither may hold CR or LF. */
void net_req_set_header(struct net_req *r, const char *name, const char *value);
/* The answer's Content-Type instead of application/json (copied), set before net_req_respond. */
void net_req_set_content_type(struct net_req *r, const char *type);

#endif
