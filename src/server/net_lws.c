/* SPDX-License-Identifier: MIT */
/* net_lws.c -- net.h on libwebsockets 4.1.6, on the server's own libuv loop (foreign loop).
 *
 * DESIGN (see docs/networking.md for the measurements behind each choice)
 * - One protocol serves both HTTP and WebSocket: lws binds upgrades without a subprotocol to
 *   protocols[0], and we route by path ourselves in FILTER_PROTOCOL_CONNECTION.
 * - The per-connection state lives in lws' per-session data (no extra allocation per device):
 *   a small receive buffer (rx_buffer), reassembly only for messages that span reads.
 * - Sends are written straight away when the socket is not choked; otherwise they queue, the
 *   peer stops being read (rx flow control) until the queue drains, and a queue over
 *   send_queue_max drops the peer. lws 4.1.6 would otherwise buffer without bound.
 * - The listening socket is ours: connections are accepted here and handed to lws
 *   (lws_adopt_socket_vhost), at most HANDSHAKE_MAX of them at a time between accept and the
 *   end of their handshake. lws files every accepted connection's handshake timeout in one
 *   sorted list, walked on each insert; unbounded, a reconnect storm of N devices cost O(N^2)
 *   (12.8 s at 19.5k even without validity timers). Accepting here also ends lws 4.1.6's EMFILE
 *   spin: on EMFILE accepting pauses 100 ms.
 * - lws sizes its direct-indexed fd table from the soft RLIMIT_NOFILE, raised to the hard limit
 *   first. Not fd_limit_per_thread: that turns lws' fd lookup into a linear scan of the whole
 *   table on every socket event (measured: a third of the CPU at 19.5k devices).
 * - No lws "validity" timers: with its default policy lws keeps a 300 s ping timer for every
 *   WebSocket in one sorted list, so each new connection walks all the others (a reconnect
 *   storm was O(N^2): 23 s at 19.5k). The protocol has its own heartbeat.
 * - TLS (tls_cert/tls_key): the vhost gets an SSL_CTX from lws (LWS_SERVER_OPTION_CREATE_VHOST_
 *   SSL_CTX, no file paths given to lws), and our pair and policy (tls.c) are put into it when
 *   lws hands it over (LOAD_EXTRA_SERVER_VERIFY_CERTS); adopted sockets do their TLS handshake
 *   in lws (lws_adopt_socket_vhost allows SSL), still counted as handshaking here. A reload
 *   swaps the pair in that SSL_CTX: new SSL objects take it, open connections keep theirs.
 */
#include <errno.h>
#include <libwebsockets.h>
#include <limits.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgefleet/error.h"
#include "log.h"
#include "mem.h"
#include "net.h"
#include "peers.h"
#include "stats.h"
#include "tls.h"
#include "u64map.h"

struct out_msg {
  struct out_msg *next;
  size_t len;
  unsigned char buf[]; /* LWS_PRE + len */
};

struct net_conn {
  struct lws *wsi;
  struct net *net;
  void *user;
  char *rx;                 /* reassembly of a message spanning several reads */
  size_t rx_len;
  struct out_msg *q_head, *q_tail;
  size_t q_bytes, q_max;
  uint16_t close_status;
  uint32_t ip;              /* the peer's IPv4 address, host order */
  uint8_t kind;
  bool open;                /* on_open done, on_close not yet */
  bool closing;
  bool rx_paused;
  char peer[48];
};

struct net_req {
  struct lws *wsi;          /* NULL once the client has gone */
  struct net *net;
  char method[8];
  char *path, *authorization, *content_type;
  char *query;              /* the URI arguments joined by '&' (net_req_query), or NULL */
  char *file;               /* a dashboard file to send instead of a response */
  char peer[48];            /* the client's address (net_req_peer) */
  char *body;
  size_t body_len, body_expect;
  size_t body_reserved;     /* counted in net.body_bytes until freed */
  int64_t started;          /* uv_now() at its headers: http_deadline counts from here */
  bool dispatched;          /* handed to on_request */
  bool discard;             /* answered by the net layer (413/411); ignore the body */
  bool close_after;
  /* response */
  bool responded, hdr_sent;
  int status;
  char *xhdr_name, *xhdr_value; /* net_req_set_header: "Name:" and its value, or NULL */
  char *ctype;              /* net_req_set_content_type, or NULL: application/json */
  unsigned char *resp;      /* LWS_PRE + resp_len */
  size_t resp_len, resp_sent;
};

enum pss_type { PSS_NONE = 0, PSS_WS, PSS_HTTP };
struct pss {
  uint8_t type;
  union {
    struct net_conn conn;
    struct net_req *req;
  } u;
};

struct net {
  struct lws_context *ctx;
  struct lws_vhost *vh;
  struct net_config cfg;
  struct net_handlers h;
  unsigned char *scratch;   /* LWS_PRE + message, for direct writes */
  size_t scratch_cap;
  int port;
  int listen_fd;            /* ours, not lws': see accept_some() */
  uv_poll_t listen_poll;
  uv_timer_t retry;         /* accept paused after EMFILE */
  bool polling;
  int handshaking;          /* adopted connections not yet upgraded or serving a request */
  size_t body_bytes;        /* request bodies admitted and not yet freed (max_body_total) */
  uv_loop_t *loop;
  uv_timer_t prune;         /* peers_prune() every 10 s */
  uint64_t refused;         /* connections refused by the per-address limits */
  struct u64map waiting;    /* ip + 1 -> struct wait_queue: accepted, waiting for a handshake */
  bool stopping;
  int64_t refused_logged;   /* uv_now() of the last log line about it */
  struct lws_protocols protocols[2];
  char *static_root;        /* realpath of static_dir, or NULL: no dashboard */
  char *vendor_root;        /* realpath of vendor_dir, with static_root */
  SSL_CTX *ssl_ctx;         /* the vhost's (lws owns it), or NULL: plaintext */
  struct tls_pair *pair;    /* at start-up only: applied when lws hands over ssl_ctx */
  struct tls_reload *reload; /* a reload on the thread pool, or NULL */
  bool free_after_reload;   /* net_stop() is done but a reload is still out */
};

/* What the net layer keeps of every connection it accepted, as lws' opaque user data: its
 * address (for the per-address limits) and whether it is still in its handshake. */
struct conn_meta {
  uint32_t ip;              /* IPv4, host order */
  bool handshaking;
};
#define HANDSHAKE_MAX 256

/* ----- WebSocket ----- */

static int write_now(struct net_conn *c, const char *msg, size_t len) {
  struct net *n = c->net;
  if (n->scratch_cap < LWS_PRE + len) {
    n->scratch_cap = LWS_PRE + len + 1024;
    ef_free(n->scratch);
    n->scratch = ef_malloc(n->scratch_cap);
  }
  memcpy(n->scratch + LWS_PRE, msg, len);
  int w = lws_write(c->wsi, n->scratch + LWS_PRE, len, LWS_WRITE_TEXT);
  return w < (int)len ? EF_EIO : 0;
}

static void kill_conn(struct net_conn *c) {
  c->closing = true;
  lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
}

static inline enum stats_side side_of(const struct net_conn *c) {
  return c->kind == NET_WS_DEVICE ? STATS_DEVICE : STATS_FRONT;
}

int net_send(struct net_conn *c, const char *msg, size_t len) {
  if (!c->open || c->closing) return EF_ECLOSED;
  stats_msg_out(side_of(c), len);
  if (!c->q_head && !lws_send_pipe_choked(c->wsi)) {
    if (write_now(c, msg, len) != 0) {
      kill_conn(c);
      return EF_EIO;
    }
    return 0;
  }
  if (c->q_bytes + len > c->q_max) {
    ef_log(EF_LOG_WARN, "net: %s does not read; %zu bytes queued, dropping it", c->peer,
           c->q_bytes);
    kill_conn(c);
    return EF_EAGAIN;
  }
  struct out_msg *m = ef_malloc(sizeof *m + LWS_PRE + len);
  m->next = NULL;
  m->len = len;
  memcpy(m->buf + LWS_PRE, msg, len);
  if (c->q_tail) c->q_tail->next = m;
  else c->q_head = m;
  c->q_tail = m;
  c->q_bytes += len;
  if (!c->rx_paused) {
    lws_rx_flow_control(c->wsi, 0);
    c->rx_paused = true;
  }
  lws_callback_on_writable(c->wsi);
  return 0;
}

void net_close(struct net_conn *c, int status, const char *reason) {
  if (!c->open || c->closing) return;
  c->closing = true;
  c->close_status = (uint16_t)status;
  (void)reason;
  lws_callback_on_writable(c->wsi);
  /* A peer that never lets us write still goes, a little later. */
  lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 2);
}

const char *net_conn_peer(struct net_conn *c) { return c->peer; }
uint32_t net_conn_ip(const struct net_conn *c) { return c->ip; }
enum net_ws_kind net_conn_kind(const struct net_conn *c) { return (enum net_ws_kind)c->kind; }
void net_conn_set_queue_max(struct net_conn *c, size_t bytes) { c->q_max = bytes; }

/* lws 4.1.6 frames a close for lws_write() protocol 4 ("LWS_WRITE_CLOSE is handled by
 * lws_close_reason()", lws-write.h), but lws_close_reason() + returning -1 from a WRITEABLE
 * callback sends nothing: a failed POLLOUT handler marks the socket unusable and lws kills it
 * without the frame. So the frame is written here, then the caller returns -1. */
#define EF_LWS_WRITE_CLOSE ((enum lws_write_protocol)4)

static void send_close(struct lws *wsi, uint16_t status) {
  unsigned char b[LWS_PRE + 2];
  b[LWS_PRE] = (unsigned char)(status >> 8);
  b[LWS_PRE + 1] = (unsigned char)(status & 0xff);
  lws_write(wsi, b + LWS_PRE, 2, EF_LWS_WRITE_CLOSE);
}

/* Tell the server the connection is over, once; it is gone for the server from here on. */
static void notify_closed(struct net_conn *c) {
  if (!c->open) return;
  c->open = false;
  ef_stats.conn_closed[side_of(c)]++;
  c->net->h.on_close(c->user, c);
}

static int ws_writeable(struct net_conn *c) {
  if (!c->open && !c->closing) return -1;
  struct out_msg *m = c->q_head;
  if (m) {
    c->q_head = m->next;
    if (!c->q_head) c->q_tail = NULL;
    c->q_bytes -= m->len;
    int w = lws_write(c->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
    ef_free(m);
    if (w < 0) return -1;
    if (c->q_head) {
      lws_callback_on_writable(c->wsi);
      return 0;
    }
    if (c->rx_paused) {
      lws_rx_flow_control(c->wsi, 1);
      c->rx_paused = false;
    }
  }
  if (c->closing) {
    send_close(c->wsi, c->close_status ? c->close_status : 1000);
    return -1;
  }
  return 0;
}

/* The peer broke the protocol: the server forgets it now (not after lws' close handshake), the
 * close frame says why. Returns -1 for lws to close. */
static int refuse(struct net_conn *c, uint16_t status, const char *why) {
  ef_log(EF_LOG_INFO, "net: %s %s; closing with %u", c->peer, why, status);
  ef_free(c->rx);
  c->rx = NULL;
  c->rx_len = 0;
  notify_closed(c);
  send_close(c->wsi, status);
  return -1;
}

static int ws_receive(struct net_conn *c, const char *in, size_t len) {
  struct net *n = c->net;
  if (c->closing || !c->open) return 0;
  if (lws_frame_is_binary(c->wsi)) /* the protocol is JSON text: 1003, unsupported data */
    return refuse(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "sent a binary frame");
  bool last = lws_is_final_fragment(c->wsi) && lws_remaining_packet_payload(c->wsi) == 0;
  if (c->rx_len + len > n->cfg.max_message)
    return refuse(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "sent a message over max_message");
  if (last && !c->rx) { /* the common case: the whole message in one read, used in place */
    stats_msg_in(side_of(c), len);
    n->h.on_message(c->user, c, in, len);
    return 0;
  }
  c->rx = ef_realloc(c->rx, c->rx_len + len + 1);
  memcpy(c->rx + c->rx_len, in, len);
  c->rx_len += len;
  if (!last) return 0;
  c->rx[c->rx_len] = '\0';
  char *m = c->rx;
  size_t mlen = c->rx_len;
  c->rx = NULL;
  c->rx_len = 0;
  stats_msg_in(side_of(c), mlen);
  n->h.on_message(c->user, c, m, mlen);
  ef_free(m);
  return 0;
}

static void ws_closed(struct net_conn *c) {
  notify_closed(c);
  while (c->q_head) {
    struct out_msg *m = c->q_head;
    c->q_head = m->next;
    ef_free(m);
  }
  c->q_tail = NULL;
  ef_free(c->rx);
  c->rx = NULL;
}

/* ----- HTTP ----- */

const char *net_req_method(const struct net_req *r) { return r->method; }
const char *net_req_path(const struct net_req *r) { return r->path; }
const char *net_req_query(const struct net_req *r) { return r->query ? r->query : ""; }

/* The URI arguments (lws keeps each as a fragment) joined by '&'; NULL when none. */
static char *query_dup(struct lws *wsi) {
  int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
  if (total <= 0) return NULL;
  size_t cap = (size_t)total + 64, len = 0;
  char *q = ef_malloc(cap);
  q[0] = '\0';
  for (int i = 0;; i++) {
    char frag[1024];
    int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0) break;
    if (len + (size_t)n + 2 > cap) break;
    if (len) q[len++] = '&';
    memcpy(q + len, frag, (size_t)n);
    len += (size_t)n;
    q[len] = '\0';
  }
  return q;
}
const char *net_req_peer(const struct net_req *r) { return r->peer; }
const char *net_req_body(const struct net_req *r) { return r->body ? r->body : ""; }
size_t net_req_body_len(const struct net_req *r) { return r->body_len; }

const char *net_req_header(const struct net_req *r, const char *name) {
  if (strcmp(name, "authorization") == 0) return r->authorization;
  if (strcmp(name, "content-type") == 0) return r->content_type;
  return NULL;
}

static void req_free(struct net_req *r) {
  r->net->body_bytes -= r->body_reserved;
  ef_free(r->path);
  ef_free(r->file);
  ef_free(r->authorization);
  ef_free(r->content_type);
  ef_free(r->query);
  ef_free(r->body);
  ef_free(r->resp);
  ef_free(r->xhdr_name);
  ef_free(r->xhdr_value);
  ef_free(r->ctype);
  ef_free(r);
}

void net_req_set_header(struct net_req *r, const char *name, const char *value) {
  ef_free(r->xhdr_name);
  ef_free(r->xhdr_value);
  r->xhdr_name = ef_asprintf("%s:", name); /* lws writes the name as given, colon included */
  r->xhdr_value = ef_strdup(value);
}

void net_req_set_content_type(struct net_req *r, const char *type) {
  ef_free(r->ctype);
  r->ctype = ef_strdup(type);
}

void net_req_respond(struct net_req *r, int status, const char *body, size_t len) {
  if (!r->wsi) { /* client gone */
    req_free(r);
    return;
  }
  r->responded = true;
  r->status = status;
  stats_msg_out(STATS_HTTP, len);
  r->resp = ef_malloc(LWS_PRE + len + 1);
  memcpy(r->resp + LWS_PRE, body, len);
  r->resp_len = len;
  lws_callback_on_writable(r->wsi);
}

static char *hdr_dup(struct lws *wsi, enum lws_token_indexes t) {
  int len = lws_hdr_total_length(wsi, t);
  if (len <= 0) return NULL;
  char *s = ef_malloc((size_t)len + 1);
  if (lws_hdr_copy(wsi, s, len + 1, t) < 0) {
    ef_free(s);
    return NULL;
  }
  return s;
}

/* Hand a complete request to the server. Its answer may take a while (an order waits up to
 * order_timeout, which config.c keeps below http_deadline), so lws' HTTP timeout is lifted
 * while the handler owns the request: every phase of a connection is bounded all the same
 * (headers by lws' timeout_secs, a body by http_deadline in http_body(), the answer by the
 * handler, idle keep-alive by keepalive_timeout). Not a per-request lws_set_timeout(): lws
 * files each one in a sorted list walked on insert, which cost ~5-9 µs per request in
 * bench/api. */
static void dispatch(struct net *n, struct net_req *r) {
  r->dispatched = true;
  stats_msg_in(STATS_HTTP, r->body_len);
  lws_set_timeout(r->wsi, NO_PENDING_TIMEOUT, 0);
  n->h.on_request(n->h.ud, r);
}

/* The net layer answers by itself; `close`: the rest of the connection's bytes cannot be
 * trusted (a body not read, a malformed request) and it is closed after the answer. */
static void http_answer(struct net_req *r, int status, const char *msg, bool close) {
  char body[256];
  int n = snprintf(body, sizeof body, "{\"status\":\"fail\",\"type\":\"GENERAL_ERROR\",\"message\":\"%s\"}", msg);
  r->discard = true;
  r->close_after = close;
  r->dispatched = true;
  net_req_respond(r, status, body, (size_t)n);
}

static void http_answer_now(struct net_req *r, int status, const char *msg) {
  http_answer(r, status, msg, true);
}

/* ----- dashboard files ----- */

static const struct { const char *ext, *type; } mime_types[] = {
  {".html", "text/html"}, {".js", "application/javascript"},
  {".mjs", "application/javascript"}, {".css", "text/css"}, {".json", "application/json"},
  {".map", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
  {".ico", "image/x-icon"}, {".txt", "text/plain"}, {".woff2", "font/woff2"},
};

static const char *mime_type(const char *file) {
  const char *dot = strrchr(file, '.');
  for (size_t i = 0; dot && i < sizeof mime_types / sizeof *mime_types; i++)
    if (strcmp(dot, mime_types[i].ext) == 0) return mime_types[i].type;
  return "application/octet-stream";
}

/* The regular file that `path` names under the dashboard root (or, for /vendor/..., the
 * libraries' root), every symlink resolved: false when it is missing or resolves outside its
 * root (a symlink or a ".." out of the tree). */
static bool static_file(const struct net *n, const char *path, char *out) {
  const char *root = n->static_root, *rel = path;
  if (n->vendor_root && strncmp(path, "/vendor/", 8) == 0) {
    root = n->vendor_root;
    rel = path + 7;
  }
  if (!root || rel[0] != '/' || strstr(rel, "/..")) return false;
  char want[PATH_MAX];
  size_t rl = strlen(rel);
  int k = snprintf(want, sizeof want, "%s%s%s", root, rel, rel[rl - 1] == '/' ? "index.html" : "");
  if (k < 0 || (size_t)k >= sizeof want || !realpath(want, out)) return false;
  size_t rootlen = strlen(root);
  struct stat st;
  return strncmp(out, root, rootlen) == 0 && out[rootlen] == '/' && stat(out, &st) == 0 &&
         S_ISREG(st.st_mode);
}

/* A GET outside /service/ when the dashboard is served: the file, or a 404 on a connection that
 * stays open. lws sends the file and reports LWS_CALLBACK_HTTP_FILE_COMPLETION when done. */
static int serve_static(struct net_req *r, struct lws *wsi) {
  char file[PATH_MAX];
  if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
    http_answer(r, 405, "files are read with GET", false);
    return 0;
  }
  if (!static_file(r->net, r->path, file)) {
    http_answer(r, 404, "no such file", false);
    return 0;
  }
  /* Sent from the writeable callback, as REST answers are: lws_serve_http_file() called from
   * LWS_CALLBACK_HTTP completes small files at once, inside lws' own request processing, and
   * the next pipelined request was then lost or garbled (lws answered 403). */
  r->file = ef_strdup(file);
  r->dispatched = r->responded = true;
  lws_callback_on_writable(wsi);
  return 0;
}

/* The body length a request declares: 0 with *len (0 when there is no Content-Length), 1 when it
 * uses Transfer-Encoding, 2 when Content-Length is not one plain decimal number (lws joins
 * repeated headers with commas, so "2, 40" is caught here too). */
static int body_length(struct lws *wsi, long long *len) {
  *len = 0;
  if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) return 1;
  char *cl = hdr_dup(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
  if (!cl) return lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 ? 2 : 0;
  size_t digits = strspn(cl, "0123456789");
  int rc = digits == 0 || digits > 15 || cl[digits] ? 2 : 0;
  if (rc == 0) *len = atoll(cl);
  ef_free(cl);
  return rc;
}

static int http_begin(struct net *n, struct pss *pss, struct lws *wsi) {
  static const struct { enum lws_token_indexes tok; const char *name; } methods[] = {
    {WSI_TOKEN_GET_URI, "GET"}, {WSI_TOKEN_POST_URI, "POST"}, {WSI_TOKEN_PUT_URI, "PUT"},
    {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_PATCH_URI, "PATCH"},
    {WSI_TOKEN_OPTIONS_URI, "OPTIONS"}, {WSI_TOKEN_HEAD_URI, "HEAD"},
  };
  struct net_req *r = ef_calloc(1, sizeof *r);
  r->wsi = wsi;
  r->net = n;
  r->started = (int64_t)uv_now(n->loop);
  lws_get_peer_simple(wsi, r->peer, sizeof r->peer);
  pss->type = PSS_HTTP;
  pss->u.req = r;
  for (size_t i = 0; i < sizeof methods / sizeof *methods && !r->path; i++)
    if ((r->path = hdr_dup(wsi, methods[i].tok))) snprintf(r->method, sizeof r->method, "%s", methods[i].name);
  if (!r->path) {
    r->path = ef_strdup("/");
    http_answer_now(r, 400, "unsupported method");
    return 0;
  }
  /* /metrics (metrics.c) is the server's, not a dashboard file. */
  if (n->static_root && strncmp(r->path, "/service/", 9) != 0 && strcmp(r->path, "/metrics") != 0)
    return serve_static(r, wsi);
  r->authorization = hdr_dup(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
  r->content_type = hdr_dup(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
  r->query = query_dup(wsi);

  bool body_method = strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
                     strcmp(r->method, "PATCH") == 0;
  long long len = 0;
  int framing = body_length(wsi, &len);
  /* RFC 9112 6.3: a message whose framing is ambiguous is refused and the connection closed,
   * so no bytes of it can be read as a second request (request smuggling). */
  if (framing != 0) {
    http_answer_now(r, 400, framing == 1 ? "Transfer-Encoding is not supported: send Content-Length"
                                          : "invalid or repeated Content-Length");
    return 0;
  }
  if (body_method && !lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH)) {
    http_answer_now(r, 411, "Content-Length required (chunked bodies are not supported)");
    return 0;
  }
  if ((unsigned long long)len > n->cfg.max_body) {
    http_answer_now(r, 413, "request body too large");
    return 0;
  }
  /* lws delivers BODY callbacks for any positive length, and an empty BODY + COMPLETION for an
   * explicit zero-length POST; everything else is complete now. */
  bool wait_body = len > 0 || (strcmp(r->method, "POST") == 0 && body_method);
  if (!wait_body) {
    dispatch(n, r);
    return 0;
  }
  /* Before a byte of the body is read: the server checks route, method and token now, so an
   * unauthenticated client cannot make it buffer anything. Its answer ends the connection. */
  if (n->h.on_headers) n->h.on_headers(n->h.ud, r);
  if (r->responded) {
    r->discard = r->close_after = r->dispatched = true;
    return 0;
  }
  if (n->body_bytes + (size_t)len > n->cfg.max_body_total) {
    http_answer_now(r, 503, "server busy: too many request bodies in flight, try again later");
    return 0;
  }
  n->body_bytes += (size_t)len;
  r->body_reserved = (size_t)len;
  r->body_expect = (size_t)len;
  return 0;
}

/* A chunk of the body. -1: the request is past its deadline, close the connection (lws gives
 * each chunk a fresh timeout, so a body trickled in would otherwise last as long as the client
 * likes). */
static int http_body(struct net_req *r, const char *in, size_t len) {
  if ((int64_t)uv_now(r->net->loop) - r->started > r->net->cfg.http_deadline_ms) {
    ef_log(EF_LOG_INFO, "net: a request body still arriving after http_deadline; closing");
    return -1;
  }
  if (r->discard || r->dispatched || len == 0) return 0;
  if (r->body_len + len > r->net->cfg.max_body) {
    http_answer_now(r, 413, "request body too large");
    return 0;
  }
  if (!r->body) r->body = ef_malloc(r->body_expect + 1);
  if (r->body_len + len > r->body_expect) {
    r->body = ef_realloc(r->body, r->body_len + len + 1);
    r->body_expect = r->body_len + len;
  }
  memcpy(r->body + r->body_len, in, len);
  r->body_len += len;
  r->body[r->body_len] = '\0';
  return 0;
}

static int http_writeable(struct pss *pss, struct lws *wsi) {
  struct net_req *r = pss->u.req;
  if (!r || !r->responded) return 0;
  if (r->file) { /* a dashboard file: lws sends it, LWS_CALLBACK_HTTP_FILE_COMPLETION follows */
    pss->u.req = NULL;
    pss->type = PSS_NONE;
    int rc = lws_serve_http_file(wsi, r->file, mime_type(r->file), NULL, 0);
    req_free(r);
    return rc < 0 ? -1 : 0;
  }
  if (!r->hdr_sent) {
    unsigned char hb[LWS_PRE + 512], *start = hb + LWS_PRE, *p = start, *end = hb + sizeof hb - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)r->status,
                                    r->ctype ? r->ctype : "application/json", r->resp_len,
                                    &p, end))
      return -1;
    if (r->close_after &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close",
                                     5, &p, end))
      return -1;
    if (r->xhdr_name &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)r->xhdr_name,
                                    (const unsigned char *)r->xhdr_value,
                                    (int)strlen(r->xhdr_value), &p, end))
      return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
    r->hdr_sent = true;
    if (r->resp_len) {
      lws_callback_on_writable(wsi);
      return 0;
    }
  }
  size_t chunk = r->resp_len - r->resp_sent;
  if (chunk > 65536) chunk = 65536;
  bool last = r->resp_sent + chunk == r->resp_len;
  if (chunk && lws_write(wsi, r->resp + LWS_PRE + r->resp_sent, chunk,
                         last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)chunk)
    return -1;
  r->resp_sent += chunk;
  if (!last) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  bool close_after = r->close_after;
  pss->u.req = NULL;
  pss->type = PSS_NONE;
  req_free(r);
  if (close_after) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void http_closed(struct pss *pss) {
  struct net_req *r = pss->u.req;
  pss->u.req = NULL;
  pss->type = PSS_NONE;
  if (!r) return;
  if (r->dispatched && !r->responded) {
    r->wsi = NULL; /* the handler still owes an answer; it will free the request */
    return;
  }
  req_free(r);
}

/* ----- the lws callback ----- */

static void handshake_done(struct net *n, struct lws *wsi);
static void conn_gone(struct net *n, struct lws *wsi);

static int route_ws(struct lws *wsi) {
  char uri[64];
  if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0) return 0;
  if (strcmp(uri, "/ws") == 0) return NET_WS_DEVICE;
  if (strcmp(uri, "/front") == 0) return NET_WS_FRONT;
  return 0;
}

/* ----- TLS ----- */

/* lws hands over the vhost's SSL_CTX: our policy and the pair loaded by net_start(). */
static int tls_ctx_ready(struct net *n, SSL_CTX *ctx) {
  char err[512];
  if (!n || !n->pair) return 0;
  if (tls_ctx_policy(ctx) != 0) {
    ef_log(EF_LOG_ERROR, "net: cannot set the TLS protocol and cipher policy");
    return 1;
  }
  if (tls_pair_apply(n->pair, ctx, err, sizeof err) != 0) {
    ef_log(EF_LOG_ERROR, "net: %s", err);
    return 1;
  }
  n->ssl_ctx = ctx;
  return 0;
}

/* The connection's client certificate was sent and verified against tls_ca. */
static bool peer_cert_verified(struct lws *wsi) {
  SSL *ssl = lws_get_ssl(wsi);
  if (!ssl) return false;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  X509 *x = SSL_get0_peer_certificate(ssl);
  bool have = x != NULL;
#else
  X509 *x = SSL_get_peer_certificate(ssl);
  bool have = x != NULL;
  X509_free(x);
#endif
  return have && SSL_get_verify_result(ssl) == X509_V_OK;
}

/* A /ws upgrade without a verified client certificate, with tls_ca set: 403, then closed. */
static int refuse_no_client_cert(struct lws *wsi) {
  char peer[48];
  lws_get_peer_simple(wsi, peer, sizeof peer);
  ef_log(EF_LOG_INFO, "net: %s: /ws refused: no client certificate (tls_ca requires one for "
         "devices)", peer);
  /* written by hand: lws_return_http_status() says HTTP/1.0 this early, which WebSocket
   * clients reject as a malformed answer instead of reading the status */
  static const char resp[] = "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n"
                             "content-length: 41\r\nconnection: close\r\n\r\n"
                             "a client certificate is required for /ws\n";
  unsigned char buf[LWS_PRE + sizeof resp];
  memcpy(buf + LWS_PRE, resp, sizeof resp - 1);
  lws_write(wsi, buf + LWS_PRE, sizeof resp - 1, LWS_WRITE_HTTP_HEADERS);
  return 1;
}

/* A client certificate that does not verify against tls_ca: the handshake fails; say why. */
static void client_cert_refused(struct lws *wsi, X509_STORE_CTX *xs) {
  char peer[48] = "?";
  lws_get_peer_simple(wsi, peer, sizeof peer);
  int e = X509_STORE_CTX_get_error(xs);
  ef_log(EF_LOG_INFO, "net: %s: client certificate refused: %s (depth %d)", peer,
         X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(xs));
}

struct tls_reload {
  uv_work_t work;
  struct net *n;
  struct tls_pair *pair;
  int rc;
  char err[512];
};

static void net_free_now(struct net *n);

static void reload_work(uv_work_t *w) { /* thread pool: file reads */
  struct tls_reload *r = w->data;
  r->rc = tls_pair_load(r->n->cfg.tls_cert, r->n->cfg.tls_key, &r->pair, r->err, sizeof r->err);
}

static void reload_done(uv_work_t *w, int status) {
  struct tls_reload *r = w->data;
  struct net *n = r->n;
  n->reload = NULL;
  if (status == 0 && r->rc == 0 && !n->stopping)
    r->rc = tls_pair_apply(r->pair, n->ssl_ctx, r->err, sizeof r->err);
  if (n->stopping) {
    /* shutting down: nothing to say */
  } else if (status != 0 || r->rc != 0) {
    ef_log(EF_LOG_ERROR, "net: TLS reload failed, still serving the previous certificate: %s",
           status ? uv_strerror(status) : r->err);
  } else {
    char what[512];
    tls_pair_describe(r->pair, what, sizeof what);
    ef_log(EF_LOG_INFO, "net: TLS certificate reloaded from %s (%s); new connections use it, "
           "open ones keep theirs", n->cfg.tls_cert, what);
  }
  tls_pair_free(&r->pair);
  ef_free(r);
  if (n->free_after_reload) net_free_now(n);
}

void net_tls_reload(struct net *n) {
  if (!n->ssl_ctx) {
    ef_log(EF_LOG_INFO, "net: TLS is not configured (tls_cert, tls_key): nothing to reload");
    return;
  }
  if (n->reload) {
    ef_log(EF_LOG_INFO, "net: a TLS reload is under way already");
    return;
  }
  struct tls_reload *r = ef_calloc(1, sizeof *r);
  r->n = n;
  r->work.data = r;
  if (uv_queue_work(n->loop, &r->work, reload_work, reload_done) != 0) {
    ef_log(EF_LOG_ERROR, "net: cannot start the TLS reload");
    ef_free(r);
    return;
  }
  n->reload = r;
}

static int net_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len) {
  struct pss *pss = user;
  struct net *n = lws_context_user(lws_get_context(wsi));

  switch (reason) {
  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    if (!route_ws(wsi)) return 1; /* unknown path: refuse the upgrade */
    if (n->cfg.tls_ca && route_ws(wsi) == NET_WS_DEVICE && !peer_cert_verified(wsi))
      return refuse_no_client_cert(wsi);
    break;

  case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: /* `user`: the vhost's SSL_CTX */
    return tls_ctx_ready(n, user);

  case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION: /* len: OpenSSL's preverify_ok */
    if (!len) client_cert_refused(wsi, user);
    return len ? 0 : 1; /* 0 = accept */

  case LWS_CALLBACK_ESTABLISHED: {
    handshake_done(n, wsi);
    struct net_conn *c = &pss->u.conn;
    memset(pss, 0, sizeof *pss);
    pss->type = PSS_WS;
    c->wsi = wsi;
    c->net = n;
    c->kind = (uint8_t)route_ws(wsi);
    c->q_max = n->cfg.send_queue_max;
    struct conn_meta *meta = lws_get_opaque_user_data(wsi);
    c->ip = meta ? meta->ip : 0;
    lws_get_peer_simple(wsi, c->peer, sizeof c->peer);
    c->open = true;
    c->user = n->h.on_open(n->h.ud, c, (enum net_ws_kind)c->kind);
    if (!c->user) {
      c->open = false;
      return -1;
    }
    ef_stats.conn_opened[side_of(c)]++;
    break;
  }
  case LWS_CALLBACK_RECEIVE:
    if (pss->type != PSS_WS) return -1;
    return ws_receive(&pss->u.conn, in, len);

  case LWS_CALLBACK_SERVER_WRITEABLE:
    if (pss->type != PSS_WS) return 0;
    return ws_writeable(&pss->u.conn);

  case LWS_CALLBACK_CLOSED:
    if (pss && pss->type == PSS_WS) ws_closed(&pss->u.conn);
    break;

  case LWS_CALLBACK_FILTER_HTTP_CONNECTION: /* headers in: a request, REST or a file */
    handshake_done(n, wsi);
    break;

  case LWS_CALLBACK_HTTP:
    handshake_done(n, wsi);
    if (pss->type == PSS_HTTP && pss->u.req) http_closed(pss); /* pipelined leftovers */
    return http_begin(n, pss, wsi);

  case LWS_CALLBACK_HTTP_BODY:
    if (pss->type == PSS_HTTP && pss->u.req) return http_body(pss->u.req, in, len);
    break;

  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    if (pss->type == PSS_HTTP && pss->u.req && !pss->u.req->dispatched) dispatch(n, pss->u.req);
    break;

  case LWS_CALLBACK_HTTP_WRITEABLE:
    if (pss->type != PSS_HTTP) return 0;
    return http_writeable(pss, wsi);

  case LWS_CALLBACK_CLOSED_HTTP:
  case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    if (pss && pss->type == PSS_HTTP) http_closed(pss);
    break;

  case LWS_CALLBACK_HTTP_FILE_COMPLETION: /* a dashboard file was sent: keep-alive goes on */
    return lws_http_transaction_completed(wsi) ? -1 : 0;

  case LWS_CALLBACK_WSI_DESTROY:
    if (n) conn_gone(n, wsi);
    if (pss && pss->type == PSS_HTTP) http_closed(pss);
    if (pss && pss->type == PSS_WS) ws_closed(&pss->u.conn);
    break;

  default:
    break;
  }
  return 0;
}

/* ----- lifecycle ----- */

static void lws_to_ef_log(int level, const char *line) {
  size_t len = strlen(line);
  while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
  ef_log(level == LLL_ERR ? EF_LOG_ERROR : EF_LOG_WARN, "lws: %.*s", (int)len, line);
}

/* Raise the soft open-file limit to the hard one (capped: lws distrusts more than 10M). */
static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rl.rlim_cur = rl.rlim_max > 1000000 ? 1000000 : rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

/* The listening socket, bound before lws is involved: lws 4.1.6 on a foreign loop leaves its
 * handles on that loop when creating the context fails, and the loop is then unusable. */
static int listen_on(const char *host, int port, bool reuse_port, int *fd_out, int *port_out) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    ef_log(EF_LOG_ERROR, "net: '%s' is not an IPv4 address (e.g. 127.0.0.1 or 0.0.0.0)", host);
    return EF_ECONFIG;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return EF_ESYS;
  int one = 1;
  socklen_t len = sizeof sa;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  /* Cluster nodes on one host share the port; the kernel spreads new connections over them. */
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    ef_log(EF_LOG_ERROR, "net: SO_REUSEPORT: %s", strerror(errno));
    close(fd);
    return EF_ESYS;
  }
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4096) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    ef_log(EF_LOG_ERROR, "net: cannot listen on %s:%d: %s", host, port, strerror(errno));
    close(fd);
    return EF_ESYS;
  }
  *fd_out = fd;
  *port_out = ntohs(sa.sin_port);
  return 0;
}

static void on_acceptable(uv_poll_t *p, int status, int events);

static void set_polling(struct net *n, bool on) {
  if (on == n->polling || n->listen_fd < 0) return;
  n->polling = on;
  if (on) uv_poll_start(&n->listen_poll, UV_READABLE, on_acceptable);
  else uv_poll_stop(&n->listen_poll);
}

static void on_retry(uv_timer_t *t) {
  struct net *n = t->data;
  set_polling(n, n->handshaking < HANDSHAKE_MAX);
}

/* What lws 4.1.6 does to the sockets it accepts itself (lws_plat_set_socket_options), done for
 * ours: non-blocking and close-on-exec come from accept4(); TCP_NODELAY must be set here, or
 * Nagle's algorithm meets the client's delayed ACK and every response after the first on a
 * keep-alive connection waits ~40 ms. lws adds SO_KEEPALIVE only when a vhost sets ka_time,
 * which ours does not (devices have heartbeats, HTTP connections a deadline). */
static void tune_accepted(int fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
    ef_log(EF_LOG_WARN, "net: TCP_NODELAY: %s", strerror(errno));
}

/* A connection refused by the per-address limits: closed at once, logged at most once a
 * second (a flood must not flood the log too). */
static void refuse_accept(struct net *n, int fd, uint32_t ip, enum peer_verdict v) {
  close(fd);
  n->refused++;
  ef_stats.conn_refused++;
  int64_t now = (int64_t)uv_now(n->loop);
  if (now - n->refused_logged < 1000) return;
  struct in_addr a = {.s_addr = htonl(ip)};
  char buf[INET_ADDRSTRLEN];
  ef_log(EF_LOG_WARN, "net: refused %s: %s (%llu refused so far)",
         inet_ntop(AF_INET, &a, buf, sizeof buf), peer_verdict_text(v),
         (unsigned long long)n->refused);
  n->refused_logged = now;
}

/* Hand an accepted connection, counted in its handshake, to lws. */
static void adopt(struct net *n, int fd, uint32_t ip) {
  struct lws *wsi = lws_adopt_socket_vhost(n->vh, fd); /* on failure lws closes fd */
  if (!wsi) {
    if (n->cfg.peers) peers_disconnect(n->cfg.peers, ip, true);
    return;
  }
  struct conn_meta *meta = ef_malloc(sizeof *meta);
  *meta = (struct conn_meta){.ip = ip, .handshaking = true};
  lws_set_opaque_user_data(wsi, meta);
  n->handshaking++;
}

/* An address at max_handshakes_per_address: its next connection waits, accepted but not yet
 * given to lws, until one of its handshakes ends. Connections that send nothing thus hold up
 * only their own address, never the handshake slots of everyone else. */
struct waiting {
  struct waiting *next;
  int fd;
  int64_t since;            /* uv_now() when accepted */
};
#define WAIT_MAX_MS 10000   /* as long as lws gives a handshake (timeout_secs) */
struct wait_queue {
  struct waiting *head, *tail;
};

static void wait_turn(struct net *n, int fd, uint32_t ip) {
  struct wait_queue *q = u64map_get(&n->waiting, (uint64_t)ip + 1);
  if (!q) {
    q = ef_calloc(1, sizeof *q);
    u64map_put(&n->waiting, (uint64_t)ip + 1, q);
  }
  struct waiting *w = ef_malloc(sizeof *w);
  *w = (struct waiting){.fd = fd, .since = (int64_t)uv_now(n->loop)};
  if (q->tail) q->tail->next = w;
  else q->head = w;
  q->tail = w;
}

/* Take the first waiting connection of q (dropping the queue when it empties): its fd. */
static int pop_waiting(struct net *n, uint64_t key, struct wait_queue *q, int64_t *since) {
  struct waiting *w = q->head;
  q->head = w->next;
  if (!q->head) {
    u64map_del(&n->waiting, key);
    ef_free(q);
  }
  int fd = w->fd;
  *since = w->since;
  ef_free(w);
  return fd;
}

/* One of ip's handshakes ended: its first connection that has not waited too long, if any,
 * starts its own; those that waited longer than a handshake may take are closed. */
static void next_turn(struct net *n, uint32_t ip) {
  uint64_t key = (uint64_t)ip + 1;
  int64_t now = (int64_t)uv_now(n->loop), since;
  struct wait_queue *q;
  while ((q = u64map_get(&n->waiting, key))) {
    int fd = pop_waiting(n, key, q, &since);
    if (now - since > WAIT_MAX_MS) {
      close(fd);
      peers_disconnect(n->cfg.peers, ip, false);
    } else if (peers_handshake_start(n->cfg.peers, ip)) {
      adopt(n, fd, ip);
      return;
    }
  }
}

/* Now and then: close connections that waited longer than a handshake may take (their address
 * is busy with handshakes that all take their full time: a flood of silent connections). */
static void expire_waiting(struct net *n) {
  int64_t now = (int64_t)uv_now(n->loop), since;
  uint64_t key;
  void *v;
  for (size_t it = 0; u64map_next(&n->waiting, &it, &key, &v);) {
    struct wait_queue *q = v;
    if (now - q->head->since <= WAIT_MAX_MS) continue;
    while (u64map_get(&n->waiting, key) == q && now - q->head->since > WAIT_MAX_MS) {
      close(pop_waiting(n, key, q, &since));
      peers_disconnect(n->cfg.peers, (uint32_t)(key - 1), false);
    }
    it = 0; /* a queue may have gone: start over (rare, few addresses) */
  }
}

static void close_waiting(struct net *n) {
  uint64_t k;
  void *v;
  for (size_t it = 0; u64map_next(&n->waiting, &it, &k, &v);) {
    struct wait_queue *q = v;
    while (q->head) {
      struct waiting *w = q->head;
      q->head = w->next;
      close(w->fd);
      ef_free(w);
    }
    ef_free(q);
  }
  u64map_free(&n->waiting);
}

/* Accept while fewer than HANDSHAKE_MAX connections are in their handshake. */
static void accept_some(struct net *n) {
  while (n->handshaking < HANDSHAKE_MAX) {
    struct sockaddr_in sa;
    socklen_t salen = sizeof sa;
    int fd = accept4(n->listen_fd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) { /* out of fds: pause instead of spinning */
        ef_log(EF_LOG_WARN, "net: out of file descriptors, not accepting for 100 ms");
        set_polling(n, false);
        uv_timer_start(&n->retry, on_retry, 100, 0);
      } else if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      return;
    }
    uint32_t ip = ntohl(sa.sin_addr.s_addr);
    enum peer_verdict v =
        n->cfg.peers ? peers_connect(n->cfg.peers, ip, (int64_t)uv_now(n->loop)) : PEER_OK;
    if (v != PEER_OK) {
      refuse_accept(n, fd, ip, v);
      continue;
    }
    tune_accepted(fd);
    if (n->cfg.peers && !peers_handshake_start(n->cfg.peers, ip)) wait_turn(n, fd, ip);
    else adopt(n, fd, ip);
  }
  set_polling(n, false); /* handshake_done() starts it again */
}

static void on_acceptable(uv_poll_t *p, int status, int events) {
  (void)events;
  if (status == 0) accept_some(p->data);
}

/* The connection is past its handshake (upgraded, serving a request) or gone. */
static void handshake_done(struct net *n, struct lws *wsi) {
  struct conn_meta *meta = lws_get_opaque_user_data(wsi);
  if (!meta || !meta->handshaking) return;
  meta->handshaking = false;
  n->handshaking--;
  if (n->cfg.peers) {
    peers_handshake_done(n->cfg.peers, meta->ip);
    if (n->waiting.len && !n->stopping) next_turn(n, meta->ip);
  }
  if (!uv_is_active((uv_handle_t *)&n->retry)) set_polling(n, true);
}

/* lws frees the connection. */
static void conn_gone(struct net *n, struct lws *wsi) {
  handshake_done(n, wsi);
  struct conn_meta *meta = lws_get_opaque_user_data(wsi);
  if (!meta) return;
  lws_set_opaque_user_data(wsi, NULL);
  if (n->cfg.peers) peers_disconnect(n->cfg.peers, meta->ip, false);
  ef_free(meta);
}

/* Addresses with nothing left to remember are forgotten now and then. */
static void on_prune(uv_timer_t *t) {
  struct net *n = t->data;
  expire_waiting(n);
  peers_prune(n->cfg.peers, (int64_t)uv_now(n->loop));
}

/* The pair and CA of a TLS configuration, read and checked before anything listens. */
static int tls_prepare(const struct net_config *cfg, struct tls_pair **pair) {
  char err[512];
  if (!cfg->tls_cert) return 0;
  if ((cfg->tls_ca && tls_check_ca(cfg->tls_ca, err, sizeof err) != 0) ||
      tls_pair_load(cfg->tls_cert, cfg->tls_key, pair, err, sizeof err) != 0) {
    ef_log(EF_LOG_ERROR, "net: %s", err);
    return EF_ECONFIG;
  }
  char what[512];
  tls_pair_describe(*pair, what, sizeof what);
  ef_log(EF_LOG_INFO, "net: TLS 1.2+ with %s (%s)%s%s", cfg->tls_cert, what,
         cfg->tls_ca ? "; /ws requires a client certificate signed by " : "",
         cfg->tls_ca ? cfg->tls_ca : "");
  return 0;
}

/* lws 4.1.6 on a foreign loop frees its context in the close callback of its last handle, but
 * bails out there when it believes itself inside its service, and then leaves the context
 * allocated (LeakSanitizer saw it at every exit once more handles shared the loop). It writes
 * NULL to info.pcontext when it has really freed it, so the context still here after the loop
 * has ended is one lws gave up on: net_finish() completes its destroy. One context a process. */
static struct lws_context *ctx_unfreed;

void net_finish(void) {
  struct lws_context *c = ctx_unfreed;
  if (c) lws_context_destroy(c); /* lws writes NULL to ctx_unfreed when done */
  ctx_unfreed = NULL;
}

int net_start(uv_loop_t *loop, const struct net_config *cfg, const struct net_handlers *h,
              struct net **out) {
  int lfd, port;
  struct tls_pair *pair = NULL;
  int rc = tls_prepare(cfg, &pair);
  if (rc != 0) return rc;
  rc = listen_on(cfg->host, cfg->port, cfg->reuse_port, &lfd, &port);
  if (rc != 0) {
    tls_pair_free(&pair);
    return rc;
  }
  struct net *n = ef_calloc(1, sizeof *n);
  n->pair = pair;
  n->cfg = *cfg;
  n->h = *h;
  n->listen_fd = -1;
  n->loop = loop;
  u64map_init(&n->waiting);

  lws_set_log_level(LLL_ERR | LLL_WARN, lws_to_ef_log);

  n->protocols[0] = (struct lws_protocols){
    .name = "edgefleet",
    .callback = net_callback,
    .per_session_data_size = sizeof(struct pss),
    .rx_buffer_size = cfg->rx_buffer,
    /* Without it lws 4.1.6 caps every send() at rx_buffer_size: a 512-byte receive buffer would
     * dribble a large push or REST answer out 532 bytes per loop turn. */
    .tx_packet_size = 65536,
  };

  static const lws_retry_bo_t no_validity_pings; /* all zero: see DESIGN */
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  void *loops[1] = {loop};
  raise_fd_limit(); /* lws sizes its fd table from it */
  /* VALIDATE_UTF8: a text message that is not UTF-8 closes the connection with 1007 (RFC 6455
   * 8.1), in lws' parser, before it reaches ws_receive(). */
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6 |
                 LWS_SERVER_OPTION_VALIDATE_UTF8;
  if (n->pair) { /* certificates: tls_ctx_ready(); client certificates asked, not required */
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                    LWS_SERVER_OPTION_CREATE_VHOST_SSL_CTX;
    /* HTTP/1.1 only, as in plaintext: lws would offer h2, and browsers then carry /front
     * as WebSocket over HTTP/2 (RFC 8441), which this layer does not route */
    info.alpn = "http/1.1";
    if (cfg->tls_ca) {
      info.options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT |
                      LWS_SERVER_OPTION_PEER_CERT_NOT_REQUIRED;
      info.ssl_ca_filepath = cfg->tls_ca;
    }
  }
  info.foreign_loops = loops;
  info.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* we listen: accept_some() */
  info.protocols = n->protocols;
  info.user = n;
  info.retry_and_idle_policy = &no_validity_pings;
  info.timeout_secs = 10;
  info.keepalive_timeout = 30;
  /* Dashboard files are served by serve_static(), not lws mounts: a mount broke pipelined
   * requests (two in one read got no answer at all) and followed symlinks out of its root. */
  if (cfg->static_dir && !(n->static_root = realpath(cfg->static_dir, NULL)))
    ef_log(EF_LOG_WARN, "net: static_dir %s: %s; no dashboard", cfg->static_dir, strerror(errno));
  if (cfg->static_dir && cfg->vendor_dir && !(n->vendor_root = realpath(cfg->vendor_dir, NULL)))
    ef_log(EF_LOG_WARN, "net: vendor_dir %s: %s", cfg->vendor_dir, strerror(errno));

  /* On failure the loop has lws' leftovers on it: the caller must not run it again. */
  info.pcontext = &ctx_unfreed;
  n->ctx = ctx_unfreed = lws_create_context(&info);
  n->vh = n->ctx ? lws_get_vhost_by_name(n->ctx, "default") : NULL;
  tls_pair_free(&n->pair);
  if (!n->vh || (pair && !n->ssl_ctx)) {
    if (n->ctx) ef_log(EF_LOG_ERROR, "net: lws did not set up TLS");
    close(lfd);
    free(n->static_root);
    free(n->vendor_root);
    ef_free(n);
    return EF_EIO;
  }
  n->listen_fd = lfd;
  n->port = port;
  uv_poll_init(loop, &n->listen_poll, lfd);
  n->listen_poll.data = n;
  uv_timer_init(loop, &n->retry);
  n->retry.data = n;
  uv_timer_init(loop, &n->prune);
  n->prune.data = n;
  if (cfg->peers) uv_timer_start(&n->prune, on_prune, 10000, 10000);
  set_polling(n, true);
  *out = n;
  return 0;
}

int net_port(const struct net *n) { return n->port; }

static void net_free_now(struct net *n) {
  free(n->static_root); /* from realpath() */
  free(n->vendor_root);
  ef_free(n->scratch);
  ef_free(n);
}

static void net_free(uv_handle_t *h) {
  struct net *n = h->data;
  if (n->reload) n->free_after_reload = true; /* reload_done() frees it */
  else net_free_now(n);
}

static void retry_closed(uv_handle_t *h) {
  struct net *n = h->data;
  uv_close((uv_handle_t *)&n->prune, net_free);
}

static void listen_closed(uv_handle_t *h) {
  struct net *n = h->data;
  uv_close((uv_handle_t *)&n->retry, retry_closed);
}

void net_stop(struct net *n) {
  if (!n) return;
  n->stopping = true;
  close_waiting(n);
  set_polling(n, false);
  close(n->listen_fd);
  n->listen_fd = -1;
  lws_context_destroy(n->ctx); /* closes every wsi: CLOSED callbacks run from here */
  n->ctx = NULL;
  n->ssl_ctx = NULL;          /* freed with the vhost */
  uv_close((uv_handle_t *)&n->listen_poll, listen_closed);
}
