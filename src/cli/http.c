/* SPDX-License-Identifier: MIT */
/* http.c -- edgefleetctl's REST calls over blocking libcurl: build the URL, send the token and
 * the JSON body, read the {"status","data"|"type","message"} envelope, and turn each outcome
 * into an exit code with its message on stderr. The token is only ever put in the header. */
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jsonutil.h"
#include "mem.h"

#define MAX_ANSWER ((size_t)1 << 30) /* an answer larger than 1 GiB is refused */

struct buf {
  char *p;
  size_t len, cap;
  bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *ud) {
  struct buf *b = ud;
  size_t add = size * n;
  if (b->len + add + 1 > MAX_ANSWER) {
    b->too_big = true;
    return 0; /* makes curl fail with CURLE_WRITE_ERROR */
  }
  if (b->len + add + 1 > b->cap) {
    b->cap = (b->len + add + 1) * 2;
    b->p = ef_realloc(b->p, b->cap);
  }
  memcpy(b->p + b->len, ptr, add);
  b->len += add;
  b->p[b->len] = '\0';
  return add;
}

int http_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1; }

void http_global_cleanup(void) { curl_global_cleanup(); }

/* Printable text of an answer that is not our JSON: first line, at most 200 bytes. */
static void print_raw(const char *what, long status, const struct buf *b) {
  char snip[201];
  size_t n = 0;
  for (size_t i = 0; b->p && i < b->len && n < sizeof snip - 1; i++) {
    unsigned char ch = (unsigned char)b->p[i];
    if (ch == '\n' || ch == '\r') break;
    snip[n++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
  }
  snip[n] = '\0';
  fprintf(stderr, "edgefleetctl: %s (HTTP %ld)%s%s\n", what, status, n ? ": " : "", snip);
}

/* Turn the answer into an exit code; on success *data gets the envelope's data. */
static int read_envelope(long status, const struct buf *b, json_t **data) {
  json_t *root = b->p ? json_loadb(b->p, b->len, 0, NULL) : NULL;
  const char *st = root ? jstr(root, "status") : NULL;
  int rc = CLI_FAIL;
  if (!st) {
    print_raw(status >= 200 && status < 300 ? "the server's answer is not edgefleet JSON"
                                             : "the server refused the request",
              status, b);
  } else if (strcmp(st, "success") == 0 && status >= 200 && status < 300) {
    json_t *d = json_object_get(root, "data");
    *data = d ? json_incref(d) : json_object();
    rc = CLI_OK;
  } else {
    const char *msg = jstr(root, "message"), *type = jstr(root, "type");
    fprintf(stderr, "edgefleetctl: %s (%s%sHTTP %ld)\n", msg ? msg : "request failed",
            type ? type : "", type ? ", " : "", status);
  }
  json_decref(root);
  return rc;
}

static int transport_error(struct cli *c, CURLcode cc, const char *errbuf, const struct buf *b) {
  if (b->too_big) {
    fprintf(stderr, "edgefleetctl: the server's answer is larger than %zu bytes\n", MAX_ANSWER);
    return CLI_FAIL;
  }
  const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);
  switch (cc) {
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_URL_MALFORMAT:
    fprintf(stderr, "edgefleetctl: bad server address '%s': %s\n", c->o.server, why);
    return CLI_USAGE;
  case CURLE_OPERATION_TIMEDOUT:
    fprintf(stderr, "edgefleetctl: no answer from %s in time: %s\n", c->o.server, why);
    return CLI_CONNECT;
  default:
    fprintf(stderr, "edgefleetctl: cannot reach %s: %s\n", c->o.server, why);
    return CLI_CONNECT;
  }
}

/* One request. `path` is relative to the API base; `body` may be NULL (GET). */
static int request(struct cli *c, CURL *h, const char *method, const char *path, json_t *body,
                   json_t **data) {
  char *url = ef_asprintf("%s%s", c->base, path);
  char *auth = c->o.token ? ef_asprintf("Authorization: Bearer %s", c->o.token) : NULL;
  char *text = body ? jdump(body) : NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  struct buf b = {0};
  struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
  if (auth) hdrs = curl_slist_append(hdrs, auth);
  if (text) hdrs = curl_slist_append(hdrs, "Content-Type: application/json");

  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->o.connect_timeout);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->o.timeout);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "edgefleetctl/0.1");
  /* https: curl verifies the chain and the host name by default; --ca replaces the system's
   * store, --cert/--key present a client certificate */
  if (c->o.ca) curl_easy_setopt(h, CURLOPT_CAINFO, c->o.ca);
  if (c->o.cert) curl_easy_setopt(h, CURLOPT_SSLCERT, c->o.cert);
  if (c->o.key) curl_easy_setopt(h, CURLOPT_SSLKEY, c->o.key);
  if (text) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
    if (strcmp(method, "POST") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  }

  CURLcode cc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (c->o.verbose)
    fprintf(stderr, "edgefleetctl: %s %s -> %s%ld\n", method, url,
            cc == CURLE_OK ? "HTTP " : "transport error, HTTP ", status);
  int rc = cc == CURLE_OK ? read_envelope(status, &b, data) : transport_error(c, cc, errbuf, &b);
  curl_slist_free_all(hdrs);
  ef_free(b.p);
  ef_free(text);
  if (auth) {
    memset(auth, 0, strlen(auth)); /* the token does not linger in freed memory */
    ef_free(auth);
  }
  ef_free(url);
  return rc;
}

int cli_get(struct cli *c, json_t **data, const char *route, ...) {
  CURL *h = curl_easy_init();
  if (!h) {
    fprintf(stderr, "edgefleetctl: cannot initialise libcurl\n");
    return CLI_CONNECT;
  }
  char *path = ef_strdup(route);
  va_list ap;
  va_start(ap, route);
  for (const char *arg; (arg = va_arg(ap, const char *));) {
    char *esc = curl_easy_escape(h, arg, 0);
    char *next = ef_asprintf("%s/%s", path, esc ? esc : "");
    curl_free(esc);
    ef_free(path);
    path = next;
  }
  va_end(ap);
  int rc = request(c, h, "GET", path, NULL, data);
  ef_free(path);
  curl_easy_cleanup(h);
  return rc;
}

int cli_send(struct cli *c, json_t **data, const char *method, const char *route, json_t *body) {
  if (!body) { /* json_pack() refused an argument */
    fprintf(stderr, "edgefleetctl: cannot build the request body\n");
    return CLI_USAGE;
  }
  CURL *h = curl_easy_init();
  if (!h) {
    json_decref(body);
    fprintf(stderr, "edgefleetctl: cannot initialise libcurl\n");
    return CLI_CONNECT;
  }
  int rc = request(c, h, method, route, body, data);
  json_decref(body);
  curl_easy_cleanup(h);
  return rc;
}
