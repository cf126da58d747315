/* SPDX-License-Identifier: MIT */
/* worker.c -- one load-generator worker process: up to ~15,000 simulated devices on one epoll
 * loop, no thread per device.
 *
 * DESIGN
 * A device is a `struct dev` (about 150 bytes while idle): its socket, its state, the times of
 * its outstanding ping and status upload, its session token. Bytes are read into one buffer
 * shared by the worker and parsed in place; a device holds heap memory only for the rare partial
 * frame, fragmented message or unsent output, and frees it as soon as it is consumed.
 *
 * Every device has exactly one deadline (`due`): its connect time while idle, its login
 * deadline while connecting, else the nearest of "ping due", "status due", "reply overdue".
 * The deadlines live in one binary min-heap indexed by device, so re-arming is O(log n) and the
 * loop sleeps in epoll_wait until the earliest one.
 *
 * The device side of docs/protocol.md: log in (sn+model+password first, then device_id+token as the
 * library, falling back to the password if the token is refused), ping `ping_us` after the last
 * successful exchange (a status upload stands in), a status upload every `status_us` with a
 * random phase, a miss when a pong/ack takes longer than `miss_us` (then send again at once; at
 * 3 misses in a row close and reconnect), reconnect `reconnect_us` after a drop, answer
 * give_order with a success echoing order_id ("wait Server Confirm" for restart).
 *
 * MQTT mode (cfg->mqtt, for comparison with a broker doing the same work): the TCP connect is
 * followed by CONNECT (client id = the serial number, clean session, keepalive = the ping
 * interval) instead of the upgrade and login; CONNACK logs the device in. A ping is a PINGREQ
 * (PINGRESP is its reply), a status upload the same JSON published QoS 1 *retained* on
 * `edgefleet/<sn>/status` (PUBACK is its ack). Orders do not exist there.
 *
 * The run: devices start over the ramp; at the end of the duration no new requests are sent and
 * the loop drains (waits for outstanding replies, at most miss_us), then closes every socket and
 * writes the final report. SIGINT/SIGTERM end the run at once, report included.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "jsonutil.h"
#include "loadgen.h"
#include "log.h"
#include "mem.h"
#include "mqttframe.h"
#include "wire.h"
#include "wsframe.h"

#define INF INT64_MAX
#define RBUF_SIZE (64 * 1024)
#define MAX_MESSAGE (1 << 20)      /* largest server message accepted */
#define MAX_FAILS 3                /* misses in a row that make a device reconnect */
#define CONNS_PER_ADDR 20000       /* connects per source address before rotating */
#define ADDR_SLOTS 64              /* source addresses per worker */
#define LOG_FAILS 5                /* failures logged in full per worker; then only counted */

enum dstate { D_IDLE = 0, D_CONNECTING, D_HANDSHAKE, D_LOGIN, D_READY };
enum { F_STORM = 1, F_EPOLLOUT = 2, F_TOKEN_LOGIN = 4 };
enum phase { P_RUN = 0, P_DRAIN, P_STOP };

struct dev {
  int fd;                        /* -1 while idle */
  uint32_t heap_pos;
  uint8_t state, fails, flags;
  int64_t due;                   /* the one deadline (heap key), µs */
  int64_t t_conn;                /* connect start: login latency and deadline */
  int64_t ping_sent, status_sent; /* 0: none outstanding */
  int64_t last_ok;               /* last successful exchange or status sent */
  int64_t next_status;
  char *device_id;               /* from the login reply; owned */
  char *token;                   /* session token; owned */
  uint8_t *rx;                   /* unparsed bytes (partial frame, handshake); owned */
  uint32_t rx_len;
  uint8_t *frag;                 /* a fragmented message being reassembled; owned */
  uint32_t frag_len;
  uint8_t *tx;                   /* unsent output; owned */
  uint32_t tx_len, tx_off;
  char key[WS_KEY_LEN + 1];      /* Sec-WebSocket-Key while the handshake runs */
};

struct worker {
  const struct lg_config *cfg;
  int no, ep, out;
  int64_t first, count;
  struct dev *devs;
  uint32_t *heap;
  struct lg_stats st;
  uint64_t rng;
  uint8_t *rbuf;                 /* shared read buffer */
  uint8_t *wbuf;                 /* shared frame encode buffer */
  size_t wbuf_cap;
  char *msg;                     /* shared message text buffer */
  size_t msg_cap;
  uint64_t nconn;
  int64_t t0, end_at, drain_until, storm_at, next_report;
  int64_t outstanding;           /* pings + statuses awaiting a reply */
  int64_t ready;                 /* devices logged in now */
  uint64_t logged_fails;
  uint16_t packet_id;            /* MQTT: the last PUBLISH id used (never 0) */
  enum phase phase;
  bool storm_pending;
};

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

/* The message of every order result but restart's: the load generator runs no order. */
#define ORDER_DONE "success"

static uint64_t rnd(struct worker *w) { /* xorshift64*: timing jitter and masks, not secrets */
  w->rng ^= w->rng >> 12;
  w->rng ^= w->rng << 25;
  w->rng ^= w->rng >> 27;
  return w->rng * 0x2545F4914F6CDD1Dull;
}

static int64_t rnd_below(struct worker *w, int64_t n) {
  return n > 0 ? (int64_t)(rnd(w) % (uint64_t)n) : 0;
}

/* ----- deadline heap ----- */

static void heap_swap(struct worker *w, uint32_t i, uint32_t j) {
  uint32_t a = w->heap[i], b = w->heap[j];
  w->heap[i] = b;
  w->heap[j] = a;
  w->devs[b].heap_pos = i;
  w->devs[a].heap_pos = j;
}

static void sift_up(struct worker *w, uint32_t i) {
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (w->devs[w->heap[p]].due <= w->devs[w->heap[i]].due) break;
    heap_swap(w, i, p);
    i = p;
  }
}

static void sift_down(struct worker *w, uint32_t i) {
  uint32_t n = (uint32_t)w->count;
  for (;;) {
    uint32_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && w->devs[w->heap[l]].due < w->devs[w->heap[m]].due) m = l;
    if (r < n && w->devs[w->heap[r]].due < w->devs[w->heap[m]].due) m = r;
    if (m == i) break;
    heap_swap(w, i, m);
    i = m;
  }
}

static void set_due(struct worker *w, struct dev *d, int64_t t) {
  int64_t old = d->due;
  d->due = t;
  if (t < old) sift_up(w, d->heap_pos);
  else if (t > old) sift_down(w, d->heap_pos);
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* The deadline of a connected device, from its state and outstanding requests. */
static void rearm(struct worker *w, struct dev *d) {
  const struct lg_config *c = w->cfg;
  int64_t t = INF;
  if (d->state == D_IDLE) return; /* the caller set the connect time */
  if (d->state != D_READY) {
    t = d->t_conn + c->login_timeout_us;
  } else {
    if (d->ping_sent) t = d->ping_sent + c->miss_us;
    else if (w->phase == P_RUN) t = d->last_ok + c->ping_us;
    if (d->status_sent) t = min64(t, d->status_sent + c->miss_us);
    else if (w->phase == P_RUN) t = min64(t, d->next_status);
  }
  set_due(w, d, t);
}

/* ----- connection life ----- */

static void log_fail(struct worker *w, struct dev *d, const char *what, const char *why) {
  if (w->logged_fails++ < LOG_FAILS)
    ef_log(EF_LOG_WARN, "device %s%lld: %s: %s", w->cfg->sn_prefix,
           (long long)(w->first + (d - w->devs)), what, why);
  else if (w->logged_fails == LOG_FAILS + 1)
    ef_log(EF_LOG_WARN, "worker %d: more failures; counting only", w->no);
}

static void clear_requests(struct worker *w, struct dev *d) {
  if (d->ping_sent) w->outstanding--;
  if (d->status_sent) w->outstanding--;
  d->ping_sent = d->status_sent = 0;
}

enum drop_kind { DROP_FAIL, DROP_LOST, DROP_STORM, DROP_END };

/* Close the connection; schedule the reconnect (none once the run is ending). DROP_LOST counts
 * a disconnect when the device was logged in. */
static void dev_drop(struct worker *w, struct dev *d, enum drop_kind kind, int64_t now) {
  if (d->fd >= 0) close(d->fd); /* also leaves the epoll set */
  d->fd = -1;
  if (d->state == D_READY) {
    w->ready--;
    if (kind == DROP_LOST) w->st.disconnects++;
  }
  clear_requests(w, d);
  ef_free(d->rx);
  ef_free(d->frag);
  ef_free(d->tx);
  d->rx = d->frag = d->tx = NULL;
  d->rx_len = d->frag_len = d->tx_len = d->tx_off = 0;
  d->flags &= (uint8_t)~(F_EPOLLOUT | F_TOKEN_LOGIN);
  d->state = D_IDLE;
  d->fails = 0;
  int64_t delay = w->cfg->reconnect_us + rnd_below(w, w->cfg->reconnect_us / 10 + 1);
  if (kind == DROP_STORM) delay = 0;
  set_due(w, d, w->phase == P_RUN && kind != DROP_END ? now + delay : INF);
}

static void set_epollout(struct worker *w, struct dev *d, bool on) {
  if (on == !!(d->flags & F_EPOLLOUT)) return;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0),
                           .data.u32 = (uint32_t)(d - w->devs)};
  epoll_ctl(w->ep, EPOLL_CTL_MOD, d->fd, &ev);
  d->flags ^= F_EPOLLOUT;
}

/* Send bytes, queueing what the socket does not take. -1 when the device was dropped. */
static int send_raw(struct worker *w, struct dev *d, const void *p, size_t n, int64_t now) {
  if (d->tx) { /* keep the order: queue behind what waits */
    d->tx = ef_realloc(d->tx, d->tx_len + n);
    memcpy(d->tx + d->tx_len, p, n);
    d->tx_len += (uint32_t)n;
    return 0;
  }
  ssize_t r;
  do r = send(d->fd, p, n, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno != EAGAIN) {
    log_fail(w, d, "send", strerror(errno));
    dev_drop(w, d, DROP_LOST, now);
    return -1;
  }
  if (r < 0) r = 0;
  if ((size_t)r < n) {
    d->tx_len = (uint32_t)(n - (size_t)r);
    d->tx_off = 0;
    d->tx = ef_memdup((const uint8_t *)p + r, d->tx_len);
    set_epollout(w, d, true);
  }
  return 0;
}

static int flush_tx(struct worker *w, struct dev *d, int64_t now) {
  while (d->tx && d->tx_off < d->tx_len) {
    ssize_t r = send(d->fd, d->tx + d->tx_off, d->tx_len - d->tx_off, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return 0;
    if (r < 0) {
      log_fail(w, d, "send", strerror(errno));
      dev_drop(w, d, DROP_LOST, now);
      return -1;
    }
    d->tx_off += (uint32_t)r;
  }
  ef_free(d->tx);
  d->tx = NULL;
  d->tx_len = d->tx_off = 0;
  set_epollout(w, d, false);
  return 0;
}

static int send_frame(struct worker *w, struct dev *d, unsigned op, const void *p, size_t n,
                      int64_t now) {
  if (n + WS_MAX_HEADER > w->wbuf_cap) {
    w->wbuf_cap = n + WS_MAX_HEADER;
    w->wbuf = ef_realloc(w->wbuf, w->wbuf_cap);
  }
  size_t len = ws_encode(w->wbuf, op, p, n, (uint32_t)rnd(w));
  return send_raw(w, d, w->wbuf, len, now);
}

static int send_text(struct worker *w, struct dev *d, const char *txt, size_t n, int64_t now) {
  w->st.messages++;
  return send_frame(w, d, WS_TEXT, txt, n, now);
}

static void dev_connect(struct worker *w, struct dev *d, int64_t now) {
  const struct lg_config *c = w->cfg;
  int fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    w->st.connect_fails++;
    log_fail(w, d, "socket", strerror(errno));
    set_due(w, d, now + c->reconnect_us + 1000);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (c->addr.ss_family == AF_INET) {
    /* Source 127.0.0.(2+k): each address has its own ~28k ephemeral ports towards the server;
     * the port is picked at connect() time thanks to IP_BIND_ADDRESS_NO_PORT. */
    uint32_t slot = (uint32_t)w->no * ADDR_SLOTS + (uint32_t)((w->nconn / CONNS_PER_ADDR) %
                                                              ADDR_SLOTS);
    struct sockaddr_in src = {.sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(0x7f000002u + slot)};
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
      w->st.connect_fails++;
      log_fail(w, d, "bind", strerror(errno));
      close(fd);
      set_due(w, d, now + c->reconnect_us + 1000);
      return;
    }
  }
  w->nconn++;
  int rc = connect(fd, (const struct sockaddr *)&c->addr, c->addrlen);
  if (rc != 0 && errno != EINPROGRESS) {
    w->st.connect_fails++;
    log_fail(w, d, "connect", strerror(errno));
    close(fd);
    set_due(w, d, now + c->reconnect_us + 1000);
    return;
  }
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)(d - w->devs)};
  if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
    w->st.connect_fails++;
    log_fail(w, d, "epoll_ctl", strerror(errno));
    close(fd);
    set_due(w, d, now + c->reconnect_us + 1000);
    return;
  }
  d->fd = fd;
  d->flags |= F_EPOLLOUT;
  d->state = D_CONNECTING;
  d->t_conn = now;
  rearm(w, d);
}

/* The TCP connect finished: send the upgrade request. */
static void dev_connected(struct worker *w, struct dev *d, int64_t now) {
  int err = 0;
  socklen_t el = sizeof err;
  if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) err = errno;
  if (err) {
    w->st.connect_fails++;
    log_fail(w, d, "connect", strerror(err));
    dev_drop(w, d, DROP_FAIL, now);
    return;
  }
  if (w->cfg->mqtt) {
    char id[160];
    uint8_t pkt[256];
    snprintf(id, sizeof id, "%s%lld", w->cfg->sn_prefix, (long long)(w->first + (d - w->devs)));
    size_t n = mqtt_connect(pkt, sizeof pkt, id, w->cfg->keepalive_s);
    d->state = D_LOGIN;
    set_epollout(w, d, false);
    w->st.messages++;
    if (n > 0) send_raw(w, d, pkt, n, now);
    return;
  }
  uint8_t r[16];
  uint64_t a = rnd(w), b = rnd(w);
  memcpy(r, &a, 8);
  memcpy(r + 8, &b, 8);
  ws_make_key(r, d->key);
  char req[1024];
  int n = ws_handshake_request(req, sizeof req, w->cfg->host, w->cfg->path, d->key);
  d->state = D_HANDSHAKE;
  set_epollout(w, d, false);
  if (n > 0) send_raw(w, d, req, (size_t)n, now);
}

static void send_login(struct worker *w, struct dev *d, int64_t now) {
  const struct lg_config *c = w->cfg;
  json_t *m;
  if (d->token && d->device_id && !c->password_only) {
    m = json_pack("{s:s, s:s}", "device_id", d->device_id, "token", d->token);
    d->flags |= F_TOKEN_LOGIN;
  } else {
    char sn[160];
    snprintf(sn, sizeof sn, "%s%lld", c->sn_prefix, (long long)(w->first + (d - w->devs)));
    m = json_pack("{s:s, s:s, s:s}", "device_sn", sn, "device_model", c->model, "password",
                  c->password);
  }
  char *txt = jdump_decref(m);
  d->state = D_LOGIN;
  send_text(w, d, txt, strlen(txt), now);
  ef_free(txt);
}

/* ----- the device's requests ----- */

static int send_ping(struct worker *w, struct dev *d, int64_t now) {
  if (!d->ping_sent) w->outstanding++;
  d->ping_sent = now;
  w->st.pings++;
  if (w->cfg->mqtt) {
    uint8_t pkt[2];
    w->st.messages++;
    return send_raw(w, d, pkt, mqtt_pingreq(pkt), now);
  }
  return send_text(w, d, WIRE_PING_FRAME, sizeof WIRE_PING_FRAME - 1, now);
}

#define U(x) ((unsigned long long)(x))

/* A ~status_bytes upload shaped like the agent's: the three base sections plus extra fields. */
static int send_status(struct worker *w, struct dev *d, int64_t now) {
  const struct lg_config *c = w->cfg;
  long long idx = (long long)(w->first + (d - w->devs));
  uint64_t r = rnd(w);
  int n = snprintf(w->msg, w->msg_cap,
      WIRE_FRAME_HEAD(WIRE_UPLOAD_STATUS) "{\"device_id\":\"%s\","
      "\"CPU_info\":{\"user_cpu_time\":%llu,\"system_cpu_time\":%llu,\"idle_cpu_time\":%llu,"
      "\"io_wait_cpu_time\":%llu},"
      "\"Memory_info\":{\"total_memory_mb\":16384,\"free_memory_mb\":%llu,\"buff_cache_mb\":%llu},"
      "\"Disk_info\":{\"root_total_size_mb\":491520,\"root_used_size_mb\":%llu,"
      "\"root_used_percent\":%.1f},\"dev_state\":\"" WIRE_STATE_ONLINE "\",\"host_name\":\"lg-%lld\","
      "\"uptime_s\":%lld,\"load_avg\":[%.2f,%.2f,%.2f],\"cpu_temperature\":%.1f,"
      "\"software_version\":\"loadgen-1\"",
      d->device_id ? d->device_id : "", U(1000000 + (r & 0xffff)), U(300000 + (r >> 16 & 0xfff)),
      U(9000000 + (r >> 28 & 0xfffff)), U(2000 + (r >> 48 & 0xff)), U(4096 + (r >> 8 & 0x1fff)),
      U(2048 + (r >> 21 & 0x3ff)), U(100000 + (r >> 31 & 0xffff)),
      20.0 + (double)(r >> 40 & 0x3f), idx, (long long)((now - w->t0) / 1000000),
      (double)(r & 0xff) / 64.0, (double)(r >> 8 & 0xff) / 64.0, (double)(r >> 16 & 0xff) / 64.0,
      35.0 + (double)(r >> 24 & 0x1f));
  if (n < 0 || (size_t)n + 16 >= w->msg_cap) return 0; /* cannot happen: msg_cap has room */
  size_t len = (size_t)n;
  const size_t tail = 3; /* "}}" and the pad's closing quote */
  if (len + 8 + tail < (size_t)c->status_bytes) { /* ,"pad":"xxx": exactly status_bytes */
    size_t pad = (size_t)c->status_bytes - len - 8 - tail;
    memcpy(w->msg + len, ",\"pad\":\"", 8);
    len += 8;
    memset(w->msg + len, 'x', pad);
    len += pad;
    w->msg[len++] = '"';
  }
  memcpy(w->msg + len, "}}", 2);
  len += 2;
  if (!d->status_sent) w->outstanding++;
  d->status_sent = now;
  d->last_ok = now; /* a status upload stands in for a ping */
  w->st.statuses++;
  if (w->cfg->mqtt) { /* the same document, published QoS 1 retained */
    char topic[200];
    snprintf(topic, sizeof topic, "edgefleet/%s/status", d->device_id ? d->device_id : "?");
    if (len + sizeof topic + MQTT_MAX_HEADER + 4 > w->wbuf_cap) {
      w->wbuf_cap = len + sizeof topic + MQTT_MAX_HEADER + 4;
      w->wbuf = ef_realloc(w->wbuf, w->wbuf_cap);
    }
    if (++w->packet_id == 0) w->packet_id = 1;
    size_t plen = mqtt_publish(w->wbuf, w->wbuf_cap, topic, w->msg, len, 1, true, w->packet_id);
    w->st.messages++;
    return send_raw(w, d, w->wbuf, plen, now);
  }
  return send_text(w, d, w->msg, len, now);
}

/* A reply came for the request sent at *sent. */
static void got_reply(struct worker *w, struct dev *d, int64_t *sent, int64_t now) {
  if (!*sent) return; /* a late reply to a request already counted as a miss */
  int64_t lat = now - *sent;
  bool measured = *sent >= w->t0 + w->cfg->warmup_us;
  if (measured) hist_record(&w->st.rtt, (uint64_t)lat);
  else w->st.unmeasured++;
  w->st.replies++;
  w->outstanding--;
  *sent = 0;
  if (lat > w->cfg->miss_us) { /* the loop was late to notice: still a miss */
    if (measured) w->st.misses++;
    d->fails++;
  } else {
    d->fails = 0;
  }
  d->last_ok = now;
}

static void answer_order(struct worker *w, struct dev *d, json_t *m, int64_t now) {
  json_t *hdr = jobj(m, "Headers");
  const char *type = hdr ? jstr(hdr, "order_type") : NULL;
  const char *oid = hdr ? jstr(hdr, "order_id") : NULL;
  bool restart = type && strcmp(type, WIRE_ORDER_RESTART) == 0;
  json_t *h = json_pack("{s:s}", "message", restart ? WIRE_RESTART_WAIT : ORDER_DONE);
  if (oid) json_object_set_new(h, "order_id", json_string(oid));
  json_t *reply = json_pack("{s:s, s:s, s:o, s:{s:s}}", "type", WIRE_UPLOAD_RESULT,
                            "status", WIRE_STATUS_SUCCESS, "Headers", h, "data", "device_id",
                            d->device_id ? d->device_id : "");
  char *txt = jdump_decref(reply);
  w->st.orders++;
  send_text(w, d, txt, strlen(txt), now);
  ef_free(txt);
}

static void logged_in(struct worker *w, struct dev *d, int64_t now);

static void login_reply(struct worker *w, struct dev *d, const char *txt, size_t n, int64_t now) {
  json_t *m = jparse_object(txt, n);
  const char *status = m ? jstr(m, "status") : NULL;
  json_t *data = m ? jobj(m, "data") : NULL;
  const char *id = data ? jstr(data, "device_id") : NULL;
  if (!status || strcmp(status, WIRE_STATUS_SUCCESS) != 0 || !id) {
    const char *why = m && jstr(m, "message") ? jstr(m, "message") : "unexpected login reply";
    w->st.login_fails++;
    log_fail(w, d, "login refused", why);
    bool retry_now = d->flags & F_TOKEN_LOGIN; /* a refused token: the password next */
    if (retry_now) {
      ef_free(d->token);
      d->token = NULL;
    }
    if (m) json_decref(m);
    dev_drop(w, d, DROP_FAIL, now);
    if (retry_now && w->phase == P_RUN) set_due(w, d, now);
    return;
  }
  if (!d->device_id || strcmp(d->device_id, id) != 0) {
    ef_free(d->device_id);
    d->device_id = ef_strdup(id);
  }
  const char *tok = jstr(data, "token");
  if (tok && *tok) {
    ef_free(d->token);
    d->token = ef_strdup(tok);
  }
  json_decref(m);
  logged_in(w, d, now);
}

/* The device is logged in (login reply, or MQTT CONNACK). */
static void logged_in(struct worker *w, struct dev *d, int64_t now) {
  hist_record(&w->st.login, (uint64_t)(now - d->t_conn));
  w->st.logins++;
  w->ready++;
  d->state = D_READY;
  d->fails = 0;
  d->last_ok = now;
  d->next_status = now + rnd_below(w, w->cfg->status_us); /* random phase */
  if (d->flags & F_STORM) {
    d->flags &= (uint8_t)~F_STORM;
    if (++w->st.storm_back == w->st.storm_devices) w->st.storm_done_us = now;
  }
}

static void dev_message(struct worker *w, struct dev *d, const char *txt, size_t n, int64_t now) {
  if (d->state == D_LOGIN) {
    login_reply(w, d, txt, n, now);
    return;
  }
  if (d->state != D_READY) return;
  if (n == sizeof WIRE_PONG_FRAME - 1 && !memcmp(txt, WIRE_PONG_FRAME, n)) { /* the common cases, unparsed */
    got_reply(w, d, &d->ping_sent, now);
    return;
  }
  if (n == sizeof WIRE_STATUS_ACK_FRAME - 1 && !memcmp(txt, WIRE_STATUS_ACK_FRAME, n)) {
    got_reply(w, d, &d->status_sent, now);
    return;
  }
  json_t *m = jparse_object(txt, n);
  const char *type = m ? jstr(m, "type") : NULL;
  if (!type) {
    log_fail(w, d, "server message", "not a JSON object with a type");
  } else if (!strcmp(type, WIRE_PING_PONG)) {
    got_reply(w, d, &d->ping_sent, now);
  } else if (!strcmp(type, WIRE_STATUS_ACK)) {
    got_reply(w, d, &d->status_sent, now);
  } else if (!strcmp(type, WIRE_GIVE_ORDER)) {
    answer_order(w, d, m, now);
  } else if (!strcmp(type, WIRE_ERROR)) {
    json_t *data = jobj(m, "data");
    log_fail(w, d, "server error", data && jstr(data, "message") ? jstr(data, "message") : "?");
  } /* restart_confirm, report_full_info, anything else: nothing to do */
  if (m) json_decref(m);
}

/* ----- reading ----- */

/* MQTT: parse packets in buf[0..len); the bytes consumed, or -1 after dropping the device. */
static long parse_mqtt(struct worker *w, struct dev *d, const uint8_t *buf, size_t len,
                       int64_t now) {
  size_t at = 0;
  while (at < len) {
    struct mqtt_packet p;
    const char *why = NULL;
    long pl = mqtt_decode(buf + at, len - at, MAX_MESSAGE, &p, &why);
    if (pl == 0) break;
    if (pl < 0) {
      log_fail(w, d, "MQTT protocol error", why);
      dev_drop(w, d, d->state == D_READY ? DROP_LOST : DROP_FAIL, now);
      return -1;
    }
    at += (size_t)pl;
    if (d->state == D_LOGIN) {
      int code = p.type == MQTT_CONNACK ? mqtt_connack_code(&p) : -1;
      if (code != 0) {
        w->st.login_fails++;
        log_fail(w, d, "CONNECT refused", code < 0 ? "no CONNACK" : "CONNACK return code != 0");
        dev_drop(w, d, DROP_FAIL, now);
        return -1;
      }
      if (!d->device_id) { /* the topic's id: the serial number (the MQTT client id) */
        char sn[160];
        snprintf(sn, sizeof sn, "%s%lld", w->cfg->sn_prefix, (long long)(w->first + (d - w->devs)));
        d->device_id = ef_strdup(sn);
      }
      logged_in(w, d, now);
    } else if (d->state == D_READY) {
      if (p.type == MQTT_PINGRESP) got_reply(w, d, &d->ping_sent, now);
      else if (p.type == MQTT_PUBACK) got_reply(w, d, &d->status_sent, now);
      /* anything else (a PUBLISH without a subscription, ...): ignored */
    }
  }
  return (long)at;
}

/* Parse frames in buf[0..len); returns the bytes consumed, or -1 after dropping the device. */
static long parse(struct worker *w, struct dev *d, const uint8_t *buf, size_t len, int64_t now) {
  if (w->cfg->mqtt) return parse_mqtt(w, d, buf, len, now);
  size_t at = 0;
  if (d->state == D_HANDSHAKE) {
    const char *why = NULL;
    long h = ws_handshake_response((const char *)buf, len, d->key, &why);
    if (h == 0) return 0;
    if (h < 0) {
      w->st.connect_fails++;
      log_fail(w, d, "WebSocket handshake", why);
      dev_drop(w, d, DROP_FAIL, now);
      return -1;
    }
    at = (size_t)h;
    send_login(w, d, now);
    if (d->fd < 0) return -1;
  }
  while (at < len) {
    struct ws_frame f;
    const char *why = NULL;
    long fl = ws_decode(buf + at, len - at, MAX_MESSAGE, &f, &why);
    if (fl == 0) break;
    if (fl < 0) {
      log_fail(w, d, "protocol error", why);
      dev_drop(w, d, d->state == D_READY ? DROP_LOST : DROP_FAIL, now);
      return -1;
    }
    at += (size_t)fl;
    if (f.opcode == WS_PING) {
      if (send_frame(w, d, WS_PONG, f.payload, f.len, now)) return -1;
    } else if (f.opcode == WS_CLOSE) {
      send_frame(w, d, WS_CLOSE, f.payload, f.len >= 2 ? 2 : 0, now);
      if (d->fd < 0) return -1;
      if (d->state == D_LOGIN) {
        w->st.login_fails++;
        log_fail(w, d, "login", "server closed the connection");
      }
      dev_drop(w, d, d->state == D_READY ? DROP_LOST : DROP_FAIL, now);
      return -1;
    } else if (f.opcode == WS_TEXT || f.opcode == WS_BINARY || f.opcode == WS_CONT) {
      bool start = f.opcode != WS_CONT;
      if (start == (d->frag != NULL) || d->frag_len + f.len > MAX_MESSAGE) {
        log_fail(w, d, "protocol error", "bad fragmentation or message too large");
        dev_drop(w, d, d->state == D_READY ? DROP_LOST : DROP_FAIL, now);
        return -1;
      }
      if (start && f.fin) {
        dev_message(w, d, (const char *)f.payload, f.len, now);
      } else {
        d->frag = ef_realloc(d->frag, d->frag_len + f.len + 1);
        memcpy(d->frag + d->frag_len, f.payload, f.len);
        d->frag_len += (uint32_t)f.len;
        if (f.fin) {
          uint8_t *msg = d->frag;
          size_t mlen = d->frag_len;
          d->frag = NULL;
          d->frag_len = 0;
          dev_message(w, d, (const char *)msg, mlen, now);
          ef_free(msg);
        }
      }
    } /* unsolicited pongs: ignored */
    if (d->fd < 0) return -1;
  }
  return (long)at;
}

static void dev_readable(struct worker *w, struct dev *d, int64_t now) {
  for (;;) {
    ssize_t r = recv(d->fd, w->rbuf, RBUF_SIZE, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return;
    if (r <= 0) {
      bool ready = d->state == D_READY;
      if (!ready) {
        if (d->state == D_LOGIN) w->st.login_fails++;
        else w->st.connect_fails++;
      }
      log_fail(w, d, ready ? "disconnected" : "closed before login",
               r == 0 ? "connection closed by the server" : strerror(errno));
      dev_drop(w, d, ready ? DROP_LOST : DROP_FAIL, now);
      return;
    }
    const uint8_t *buf = w->rbuf;
    size_t len = (size_t)r;
    uint8_t *held = NULL;
    if (d->rx) { /* bytes left from the last read come first */
      held = ef_realloc(d->rx, d->rx_len + len);
      memcpy(held + d->rx_len, w->rbuf, len);
      len += d->rx_len;
      buf = held;
      d->rx = NULL;
      d->rx_len = 0;
    }
    long used = parse(w, d, buf, len, now);
    if (used >= 0 && (size_t)used < len) {
      if (len - (size_t)used > MAX_MESSAGE + WS_MAX_HEADER) { /* cannot happen: decode caps */
        dev_drop(w, d, DROP_LOST, now);
        used = -1;
      } else {
        d->rx_len = (uint32_t)(len - (size_t)used);
        d->rx = ef_memdup(buf + used, d->rx_len);
      }
    }
    ef_free(held);
    if (used < 0) return;
    if (d->state != D_IDLE) rearm(w, d);
    if (r < RBUF_SIZE) return;
  }
}

static void dev_event(struct worker *w, struct dev *d, uint32_t events, int64_t now) {
  if (d->fd < 0) return;
  if (d->state == D_CONNECTING) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) dev_connected(w, d, now);
    return;
  }
  if ((events & EPOLLOUT) && flush_tx(w, d, now)) return;
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) dev_readable(w, d, now);
}

/* ----- timers ----- */

static void miss(struct worker *w, struct dev *d, int64_t *sent, bool is_ping, int64_t now) {
  if (*sent >= w->t0 + w->cfg->warmup_us) w->st.misses++;
  else w->st.unmeasured++;
  *sent = 0;
  w->outstanding--;
  if (++d->fails >= MAX_FAILS) {
    log_fail(w, d, "reconnecting", "3 heartbeats or acks missed in a row");
    dev_drop(w, d, DROP_LOST, now);
    return;
  }
  if (w->phase != P_RUN) return;
  if (is_ping) send_ping(w, d, now); /* on a miss, send again at once */
  else send_status(w, d, now);
}

static void dev_timer(struct worker *w, struct dev *d, int64_t now) {
  const struct lg_config *c = w->cfg;
  switch (d->state) {
  case D_IDLE:
    if (w->phase == P_RUN) dev_connect(w, d, now);
    else set_due(w, d, INF);
    return;
  case D_CONNECTING:
  case D_HANDSHAKE:
  case D_LOGIN:
    if (d->state == D_LOGIN) w->st.login_fails++;
    else w->st.connect_fails++;
    log_fail(w, d, "login", "no login reply in time");
    dev_drop(w, d, DROP_FAIL, now);
    return;
  default:
    break;
  }
  if (d->ping_sent && now >= d->ping_sent + c->miss_us) miss(w, d, &d->ping_sent, true, now);
  if (d->fd < 0) return;
  if (d->status_sent && now >= d->status_sent + c->miss_us)
    miss(w, d, &d->status_sent, false, now);
  if (d->fd < 0) return;
  if (w->phase == P_RUN && !d->status_sent && now >= d->next_status) {
    d->next_status = now + c->status_us;
    if (send_status(w, d, now)) return;
  }
  if (w->phase == P_RUN && !d->ping_sent && now >= d->last_ok + c->ping_us)
    if (send_ping(w, d, now)) return;
  rearm(w, d);
}

/* ----- the run ----- */

static void report(struct worker *w, uint32_t kind) {
  struct lg_report *r = ef_calloc(1, sizeof *r);
  r->magic = LG_REPORT_MAGIC;
  r->kind = kind;
  r->st = w->st;
  if (kind == LG_REPORT_PROGRESS) r->st.connected = (uint64_t)w->ready;
  const char *p = (const char *)r;
  size_t n = sizeof *r;
  while (n) { /* blocking: the parent does nothing but read these pipes */
    ssize_t k = write(w->out, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      ef_log(EF_LOG_ERROR, "worker %d: writing the report: %s", w->no, strerror(errno));
      break;
    }
    p += k;
    n -= (size_t)k;
  }
  ef_free(r);
}

static void storm(struct worker *w, int64_t now) {
  w->storm_pending = false;
  w->st.storm_start_us = now;
  for (int64_t i = 0; i < w->count; i++) {
    struct dev *d = &w->devs[i];
    if (d->state != D_READY) continue;
    d->flags |= F_STORM;
    w->st.storm_devices++;
    dev_drop(w, d, DROP_STORM, now);
  }
  if (w->st.storm_devices == 0) w->st.storm_done_us = now;
  ef_log(EF_LOG_INFO, "worker %d: reconnect storm: %llu devices dropped", w->no,
         (unsigned long long)w->st.storm_devices);
}

static void begin_drain(struct worker *w, int64_t now) {
  w->phase = P_DRAIN;
  w->st.connected = (uint64_t)w->ready;
  w->drain_until = now + w->cfg->miss_us + 100000;
  for (int64_t i = 0; i < w->count; i++) { /* nothing new: only reply deadlines stay */
    struct dev *d = &w->devs[i];
    if (d->state == D_READY) rearm(w, d);
    else if (d->state == D_IDLE) set_due(w, d, INF);
  }
}

static void finish(struct worker *w, int64_t now) {
  if (w->phase == P_RUN) w->st.connected = (uint64_t)w->ready; /* interrupted */
  w->phase = P_STOP;
  for (int64_t i = 0; i < w->count; i++) {
    struct dev *d = &w->devs[i];
    if (d->ping_sent) w->st.misses++; /* never answered */
    if (d->status_sent) w->st.misses++;
    if (d->fd >= 0) dev_drop(w, d, DROP_END, now);
    ef_free(d->device_id);
    ef_free(d->token);
  }
}

static int setup(struct worker *w) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      (rlim_t)w->count + 32 > rl.rlim_cur) {
    ef_log(EF_LOG_ERROR, "worker %d: %lld devices need more open files than the limit %llu; "
           "use more --procs", w->no, (long long)w->count, (unsigned long long)rl.rlim_cur);
    return -1;
  }
  w->ep = epoll_create1(EPOLL_CLOEXEC);
  if (w->ep < 0) {
    ef_log(EF_LOG_ERROR, "worker %d: epoll_create1: %s", w->no, strerror(errno));
    return -1;
  }
  if (getrandom(&w->rng, sizeof w->rng, 0) != sizeof w->rng) w->rng = (uint64_t)lg_mono_us();
  w->rng ^= (uint64_t)(w->no + 1) * 0x9E3779B97F4A7C15ull;
  if (!w->rng) w->rng = 1;
  w->rbuf = ef_malloc(RBUF_SIZE);
  w->msg_cap = (size_t)w->cfg->status_bytes + 1024;
  w->msg = ef_malloc(w->msg_cap);
  w->wbuf_cap = w->msg_cap + WS_MAX_HEADER;
  w->wbuf = ef_malloc(w->wbuf_cap);
  w->devs = ef_calloc((size_t)w->count, sizeof *w->devs);
  w->heap = ef_calloc((size_t)w->count, sizeof *w->heap);
  /* Start times spread evenly over the ramp by global index; the heap is built in order. */
  const struct lg_config *c = w->cfg;
  for (int64_t i = 0; i < w->count; i++) {
    struct dev *d = &w->devs[i];
    d->fd = -1;
    d->due = w->t0 + (c->devices > 1 ? c->ramp_us * (w->first - c->first_index + i) / c->devices
                                     : 0);
    d->heap_pos = (uint32_t)i;
    w->heap[i] = (uint32_t)i;
  }
  return 0;
}

int worker_run(const struct lg_config *cfg, int worker_no, int64_t first, int64_t count,
               int64_t t0_us, int out, const sigset_t *mask) {
  static char ident[32];
  snprintf(ident, sizeof ident, "loadgen[%d]", worker_no);
  log_set_ident(ident);
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  sigprocmask(SIG_SETMASK, mask, NULL);

  struct worker w = {.cfg = cfg, .no = worker_no, .out = out, .first = first, .count = count,
                     .t0 = t0_us, .ep = -1};
  w.end_at = t0_us + cfg->duration_us;
  w.storm_pending = cfg->reconnect_storm;
  w.storm_at = t0_us + cfg->storm_at_us;
  w.next_report = t0_us + LG_PROGRESS_US;
  w.st.devices = (uint64_t)count;
  int rc = 1;
  if (setup(&w) != 0) goto fail_setup;

  struct epoll_event evs[512];
  while (w.phase != P_STOP) {
    int64_t now = lg_mono_us();
    if (stop_flag) break;
    if (w.phase == P_RUN && now >= w.end_at) begin_drain(&w, now);
    if (w.phase == P_DRAIN && (w.outstanding <= 0 || now >= w.drain_until)) break;
    if (w.storm_pending && w.phase == P_RUN && now >= w.storm_at) storm(&w, now);
    if (now >= w.next_report) {
      report(&w, LG_REPORT_PROGRESS);
      w.next_report += LG_PROGRESS_US;
    }
    while (w.devs[w.heap[0]].due <= now) {
      struct dev *d = &w.devs[w.heap[0]];
      dev_timer(&w, d, now);
      if (d->due <= now) set_due(&w, d, now + 1000); /* never spin on one device */
    }
    int64_t next = min64(w.devs[w.heap[0]].due, w.next_report);
    next = min64(next, w.phase == P_RUN ? w.end_at : w.drain_until);
    if (w.storm_pending) next = min64(next, w.storm_at);
    now = lg_mono_us();
    int timeout = next <= now ? 0 : (int)min64((next - now + 999) / 1000, 1000);
    int n = epoll_wait(w.ep, evs, 512, timeout);
    if (n < 0 && errno != EINTR) {
      ef_log(EF_LOG_ERROR, "worker %d: epoll_wait: %s", w.no, strerror(errno));
      break;
    }
    now = lg_mono_us();
    for (int i = 0; i < n; i++) dev_event(&w, &w.devs[evs[i].data.u32], evs[i].events, now);
  }
  finish(&w, lg_mono_us());
  report(&w, LG_REPORT_FINAL);
  rc = 0;

  ef_free(w.devs);
  ef_free(w.heap);
  ef_free(w.rbuf);
  ef_free(w.msg);
  ef_free(w.wbuf);
  close(w.ep);
fail_setup:
  return rc;
}
