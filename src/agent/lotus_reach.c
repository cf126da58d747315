/* SPDX-License-Identifier: MIT */
/* lotus_reach.c -- workers as the miner host reaches them: the listen addresses lotus knows
 * (`lotus-miner storage list` URLs) matched to the workers of `sealing workers`, and a TCP
 * connect to each with a short time limit (docs/lotus-collector.md#worker-reachability).
 *
 * DESIGN
 * `storage list` prints, for every storage path, `URL: http://HOST:PORT/remote` (one line a
 * URL; paths reachable through several workers print several). A URL belongs to the worker whose
 * host name is its HOST, or whose host name resolves to HOST's address. Every chosen address is
 * connected at once (non-blocking sockets, one poll loop), so a round takes at most one time
 * limit whatever the number of workers; at most `max` workers are probed a round (the rest stay
 * "unknown"). Resolving host names may block up to the resolver's own time limit: all of it runs
 * on the collector's thread, never on the library's loop.
 */
#include "lotus_reach.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "jsonutil.h"
#include "mem.h"

/* ---- `storage list` -> URLs ------------------------------------------------------------ */

/* One `URL:` value: scheme://HOST:PORT/... -> {"host","port"}; NULL when it is not one. */
static json_t *url_parse(const char *s, size_t n) {
  const char *end = s + n;
  const char *p = memmem(s, n, "://", 3);
  if (!p) return NULL;
  p += 3;
  const char *hs = p, *he;
  if (p < end && *p == '[') { /* [v6]:port */
    hs = ++p;
    while (p < end && *p != ']') p++;
    if (p >= end) return NULL;
    he = p++;
  } else {
    while (p < end && *p != ':' && *p != '/') p++;
    he = p;
  }
  long port = 80;
  if (p < end && *p == ':') {
    char *e;
    char buf[8] = "";
    size_t k = 0;
    for (p++; p < end && k < sizeof buf - 1 && *p >= '0' && *p <= '9'; p++) buf[k++] = *p;
    buf[k] = '\0';
    port = strtol(buf, &e, 10);
    if (!k || port <= 0 || port > 65535) return NULL;
  }
  if (he == hs || he - hs > 253) return NULL;
  return json_pack("{s:s%, s:i}", "host", hs, (size_t)(he - hs), "port", (int)port);
}

json_t *lotus_reach_parse_storage(const char *buf, size_t len) {
  json_t *urls = json_array();
  json_t *seen = json_object();
  const char *p = buf, *end = buf + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    const char *s = p;
    while (s < le && (*s == ' ' || *s == '\t')) s++;
    if (le - s > 4 && strncmp(s, "URL:", 4) == 0) {
      s += 4;
      while (s < le && (*s == ' ' || *s == '\t')) s++;
      const char *e = le;
      while (e > s && (e[-1] == '\r' || e[-1] == ' ')) e--;
      json_t *u = url_parse(s, (size_t)(e - s));
      if (u) {
        char key[300];
        snprintf(key, sizeof key, "%s:%lld", jstr(u, "host"),
                 (long long)json_integer_value(json_object_get(u, "port")));
        if (!json_object_get(seen, key)) {
          json_object_set_new(seen, key, json_true());
          json_array_append(urls, u);
        }
        json_decref(u);
      }
    }
    p = nl ? nl + 1 : end;
  }
  json_decref(seen);
  json_t *out = json_object();
  json_object_set_new(out, "urls", urls);
  json_object_set_new(out, "errorCount", json_integer(0));
  return out;
}

/* ---- matching -------------------------------------------------------------------------- */

/* The numeric addresses `host` resolves to (TCP), each as text; NULL when none. */
static json_t *addrs_of(const char *host) {
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  if (getaddrinfo(host, NULL, &hints, &res) != 0) return NULL;
  json_t *out = json_array();
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    char txt[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, txt, sizeof txt, NULL, 0, NI_NUMERICHOST) == 0)
      json_array_append_new(out, json_string(txt));
  }
  freeaddrinfo(res);
  return out;
}

static bool has_str(const json_t *arr, const char *s) {
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v)
    if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return true;
  return false;
}

/* ---- connecting ------------------------------------------------------------------------ */

struct probe {
  const char *host;  /* the worker (borrowed from the hosts array) */
  int fd;            /* -1: done */
  bool ok;
};

/* Start a non-blocking connect to host:port; fd or -1 (failed at once: unreachable). */
static int start_connect(const char *host, int port, bool *ok) {
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res = NULL;
  char ps[8];
  snprintf(ps, sizeof ps, "%d", port);
  *ok = false;
  if (getaddrinfo(host, ps, &hints, &res) != 0 || !res) return -1;
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    int rc = connect(fd, res->ai_addr, res->ai_addrlen);
    if (rc == 0 || errno != EINPROGRESS) { /* done at once: connected, or refused */
      *ok = rc == 0;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

json_t *lotus_reach_probe(const json_t *storage, const json_t *hosts, int64_t timeout_ms,
                          size_t max) {
  json_t *out = json_object();
  size_t nh = json_array_size(hosts);
  struct probe *pr = ef_calloc(nh ? nh : 1, sizeof *pr);
  struct pollfd *pf = ef_calloc(nh ? nh : 1, sizeof *pf);
  size_t np = 0;
  const json_t *urls = json_object_get(storage, "urls");
  json_t *uaddrs = NULL; /* per URL, its host's addresses (resolved when first needed) */
  for (size_t h = 0; h < nh; h++) {
    const char *host = json_string_value(json_array_get(hosts, h));
    if (!host || !*host) continue;
    json_object_set_new(out, host, json_string("unknown"));
    if (np >= max) continue;
    json_t *mine = NULL; /* host's addresses, resolved only when no URL names it */
    const json_t *url = NULL;
    size_t i;
    json_t *u;
    json_array_foreach(urls, i, u)
      if (strcasecmp(jstr(u, "host"), host) == 0) {
        url = u;
        break;
      }
    if (!url && json_array_size(urls)) {
      if (!uaddrs) { /* each URL host resolved once a round */
        uaddrs = json_array();
        json_array_foreach(urls, i, u) {
          json_t *a = addrs_of(jstr(u, "host"));
          json_array_append_new(uaddrs, a ? a : json_array());
        }
      }
      mine = addrs_of(host);
      json_array_foreach(urls, i, u) {
        size_t k;
        json_t *a;
        json_array_foreach(json_array_get(uaddrs, i), k, a)
          if (has_str(mine, json_string_value(a))) url = u;
        if (url) break;
      }
      json_decref(mine);
    }
    if (!url) continue;
    bool ok;
    int fd = start_connect(jstr(url, "host"), (int)json_integer_value(json_object_get(url, "port")),
                           &ok);
    if (fd < 0) {
      json_object_set_new(out, host, json_string(ok ? "reachable" : "unreachable"));
      continue;
    }
    pr[np] = (struct probe){.host = host, .fd = fd};
    np++;
  }
  int64_t deadline = ef_mono_ms() + timeout_ms;
  size_t open = np;
  while (open > 0) {
    int64_t left = deadline - ef_mono_ms();
    if (left <= 0) break;
    size_t n = 0;
    for (size_t i = 0; i < np; i++)
      if (pr[i].fd >= 0) pf[n++] = (struct pollfd){.fd = pr[i].fd, .events = POLLOUT};
    int rc = poll(pf, (nfds_t)n, (int)(left > 1000000 ? 1000000 : left));
    if (rc < 0 && errno != EINTR) break;
    for (size_t k = 0; rc > 0 && k < n; k++) {
      if (!pf[k].revents) continue;
      for (size_t i = 0; i < np; i++) {
        if (pr[i].fd != pf[k].fd) continue;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt(pr[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        pr[i].ok = soerr == 0;
        close(pr[i].fd);
        pr[i].fd = -1;
        open--;
      }
    }
  }
  for (size_t i = 0; i < np; i++) {
    if (pr[i].fd >= 0) close(pr[i].fd); /* timed out */
    json_object_set_new(out, pr[i].host, json_string(pr[i].ok ? "reachable" : "unreachable"));
  }
  json_decref(uaddrs);
  ef_free(pf);
  ef_free(pr);
  return out;
}
