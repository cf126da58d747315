/* SPDX-License-Identifier: MIT */
/* notify.c -- notifications (notify.h): per-receiver queues and threads, libcurl requests.
 *
 * On the loop: notify_alert() formats the body of each receiver kind once (webhook JSON,
 * Alertmanager's array, an e-mail) and appends a copy to every receiver's queue, refusing beyond
 * notify_queue_max ("dropped: queue full"). Alertmanager forgets an alert that is not re-sent
 * within its resolve_timeout, so the firing alerts are kept here (by fingerprint) and posted to
 * the Alertmanagers again every notify_resend until they are resolved.
 * On a receiver's thread: take the oldest item, try it (libcurl easy handle of that thread), on
 * failure wait the backoff (notify_backoff doubling up to notify_backoff_max, interrupted by
 * stop) and try again up to notify_retries times; then post the outcome to the loop's list and
 * wake the loop (uv_async), which hands it to the outcome callback.
 * Secrets: URLs (they may carry tokens) and the SMTP password are never logged or reported;
 * receivers are named by kind and position ("webhook1").
 */
#include "notify.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "edgefleet/error.h"
#include "jsonutil.h"
#include "log.h"
#include "mem.h"
#include "server.h"

enum rcv_kind { RCV_WEBHOOK, RCV_ALERTMANAGER, RCV_EMAIL };

struct item {                /* one request for one receiver */
  struct item *next;
  char *fingerprint;
  char *body;
  size_t len;
  bool resend;               /* an Alertmanager re-send: only a failure is logged, no outcome */
};

struct outcome {
  struct outcome *next;
  char *fingerprint;
  char *receiver;
  char *text;
  bool resend;
};

struct rcv {
  struct notify *n;
  enum rcv_kind kind;
  char name[32];
  char *url;
  pthread_t thread;
  bool started;
  pthread_cond_t cond;       /* an item was queued, or stop (with n->lock) */
  struct item *head, *tail;  /* n->lock */
  size_t queued;             /* n->lock */
};

struct notify {
  uv_loop_t *loop;
  uv_async_t wake;           /* outcomes waiting */
  uv_timer_t resend;         /* Alertmanager re-sends */
  int handles;               /* open handles, freed at 0 */
  notify_outcome_fn cb;
  void *ud;
  pthread_mutex_t lock;
  atomic_bool stopping;
  struct outcome *out_head, *out_tail; /* lock */
  struct rcv *rcv;
  size_t nrcv, n_am;
  json_t *am_firing;         /* loop: fingerprint -> Alertmanager alert object */
  /* e-mail */
  char *from;
  struct curl_slist *rcpt;
  char *to_header;
  char *user, *password;
  bool starttls;
  char *ca;
  uint64_t mail_seq;         /* loop */
  /* policy */
  size_t queue_max;
  int64_t retries, backoff, backoff_max, timeout, resend_every;
  bool curl_inited;
};

/* ----- small helpers ----- */

static void rfc3339(int64_t ms, char out[32]) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* A header value on one line: CR and LF become spaces. Caller frees. */
static char *one_line(const char *s) {
  char *d = ef_strdup(s ? s : "");
  for (char *p = d; *p; p++)
    if (*p == '\r' || *p == '\n') *p = ' ';
  return d;
}

/* RFC 2047 encoded-word when `s` is not plain ASCII. Caller frees. */
static char *mime_header(const char *s) {
  char *line = one_line(s);
  bool ascii = true;
  for (const unsigned char *p = (const unsigned char *)line; *p; p++)
    if (*p >= 0x80) ascii = false;
  if (ascii) return line;
  size_t len = strlen(line);
  char *b64 = ef_malloc(4 * ((len + 2) / 3) + 1);
  EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)line, (int)len);
  char *out = ef_asprintf("=?UTF-8?B?%s?=", b64);
  ef_free(b64);
  ef_free(line);
  return out;
}

/* Next comma-separated, space-trimmed element of *s (NULL when none is left). Caller frees. */
static char *next_elem(const char **s) {
  for (;;) {
    const char *p = *s;
    if (!p || !*p) return NULL;
    const char *comma = strchr(p, ',');
    const char *end = comma ? comma : p + strlen(p);
    *s = comma ? comma + 1 : end;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    const char *e = end;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t')) e--;
    if (e > p) return ef_strndup(p, (size_t)(e - p));
  }
}

static bool has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static bool has_ctl(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) return true;
  return false;
}

/* ----- the loop side: outcomes ----- */

static void post_outcome(struct notify *n, const char *fp, const char *receiver, const char *text,
                         bool resend) {
  struct outcome *o = ef_calloc(1, sizeof *o);
  o->fingerprint = ef_strdup(fp);
  o->receiver = ef_strdup(receiver);
  o->text = ef_strdup(text);
  o->resend = resend;
  pthread_mutex_lock(&n->lock);
  if (n->out_tail) n->out_tail->next = o;
  else n->out_head = o;
  n->out_tail = o;
  pthread_mutex_unlock(&n->lock);
  uv_async_send(&n->wake);
}

static void free_outcomes(struct outcome *o) {
  while (o) {
    struct outcome *next = o->next;
    ef_free(o->fingerprint);
    ef_free(o->receiver);
    ef_free(o->text);
    ef_free(o);
    o = next;
  }
}

static void on_wake(uv_async_t *a) {
  struct notify *n = a->data;
  pthread_mutex_lock(&n->lock);
  struct outcome *o = n->out_head;
  n->out_head = n->out_tail = NULL;
  pthread_mutex_unlock(&n->lock);
  for (struct outcome *p = o; p; p = p->next) {
    if (p->resend) {
      if (!has_prefix(p->text, "delivered"))
        ef_log(EF_LOG_WARN, "notify: re-sending firing alerts to %s: %s", p->receiver, p->text);
      continue;
    }
    ef_log(has_prefix(p->text, "delivered") ? EF_LOG_DEBUG : EF_LOG_WARN,
           "notify: %s %s: %s", p->receiver, p->fingerprint, p->text);
    if (n->cb) n->cb(n->ud, p->fingerprint, p->receiver, p->text);
  }
  free_outcomes(o);
}

/* ----- the receivers' threads ----- */

static void free_item(struct item *it) {
  if (!it) return;
  ef_free(it->fingerprint);
  ef_free(it->body);
  ef_free(it);
}

static size_t discard(char *p, size_t size, size_t nmemb, void *ud) {
  (void)p;
  (void)ud;
  return size * nmemb;
}

static int abort_on_stop(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
  (void)a;
  (void)b;
  (void)c;
  (void)d;
  struct notify *n = ud;
  return atomic_load(&n->stopping) ? 1 : 0;
}

struct reader {
  const char *p;
  size_t left;
};

static size_t read_body(char *buf, size_t size, size_t nmemb, void *ud) {
  struct reader *r = ud;
  size_t n = size * nmemb;
  if (n > r->left) n = r->left;
  memcpy(buf, r->p, n);
  r->p += n;
  r->left -= n;
  return n;
}

static void common_opts(struct rcv *r, CURL *c, char *errbuf) {
  struct notify *n = r->n;
  curl_easy_setopt(c, CURLOPT_URL, r->url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)n->timeout);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)n->timeout);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, n);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  if (n->ca) curl_easy_setopt(c, CURLOPT_CAINFO, n->ca);
}

/* One attempt: true when delivered; otherwise `reason` says why and *permanent whether a retry
 * cannot help. */
static bool attempt(struct rcv *r, CURL *c, const struct item *it, char *reason, size_t rlen,
                    bool *permanent) {
  struct notify *n = r->n;
  char errbuf[CURL_ERROR_SIZE] = "";
  struct curl_slist *hdr = NULL;
  struct reader rd = {it->body, it->len};
  curl_easy_reset(c);
  common_opts(r, c, errbuf);
  *permanent = false;
  if (r->kind == RCV_EMAIL) {
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, n->from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, n->rcpt);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(c, CURLOPT_READDATA, &rd);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)it->len);
    curl_easy_setopt(c, CURLOPT_USE_SSL, n->starttls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    if (n->user) {
      curl_easy_setopt(c, CURLOPT_USERNAME, n->user);
      curl_easy_setopt(c, CURLOPT_PASSWORD, n->password ? n->password : "");
    }
  } else {
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "edgefleetd");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, it->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)it->len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(hdr);
  if (rc != CURLE_OK) {
    snprintf(reason, rlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    *permanent = rc == CURLE_LOGIN_DENIED || rc == CURLE_USE_SSL_FAILED ||
                 rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT;
    return false;
  }
  if (r->kind == RCV_EMAIL) return true;
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 200 && code < 300) return true;
  snprintf(reason, rlen, "HTTP %ld", code);
  *permanent = code >= 400 && code < 500 && code != 408 && code != 429;
  return false;
}

/* Wait `ms` unless stopping (n->lock held); true when stopping. */
static bool wait_or_stop(struct rcv *r, int64_t ms) {
  struct notify *n = r->n;
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  while (!atomic_load(&n->stopping))
    if (pthread_cond_timedwait(&r->cond, &n->lock, &until) != 0) break; /* ETIMEDOUT */
  return atomic_load(&n->stopping);
}

static void *rcv_main(void *arg) {
  struct rcv *r = arg;
  struct notify *n = r->n;
  CURL *c = curl_easy_init();
  pthread_mutex_lock(&n->lock);
  for (;;) {
    while (!r->head && !atomic_load(&n->stopping)) pthread_cond_wait(&r->cond, &n->lock);
    if (atomic_load(&n->stopping)) break;
    struct item *it = r->head;
    r->head = it->next;
    if (!r->head) r->tail = NULL;
    r->queued--;
    char reason[CURL_ERROR_SIZE + 32] = "";
    bool ok = false, permanent = false, stopped = false;
    int64_t attempts = 0, delay = n->backoff;
    for (;;) {
      attempts++;
      pthread_mutex_unlock(&n->lock);
      ok = c && attempt(r, c, it, reason, sizeof reason, &permanent);
      if (!c) snprintf(reason, sizeof reason, "no libcurl handle");
      pthread_mutex_lock(&n->lock);
      if (atomic_load(&n->stopping)) stopped = true;
      if (ok || permanent || stopped || attempts > n->retries) break;
      if (wait_or_stop(r, delay)) {
        stopped = true;
        break;
      }
      delay = delay * 2 > n->backoff_max ? n->backoff_max : delay * 2;
    }
    pthread_mutex_unlock(&n->lock);
    if (!stopped) {
      char text[sizeof reason + 64];
      if (ok && attempts == 1) snprintf(text, sizeof text, "delivered");
      else if (ok) snprintf(text, sizeof text, "delivered after %lld attempts", (long long)attempts);
      else if (permanent) snprintf(text, sizeof text, "failed: %s (not retried)", reason);
      else snprintf(text, sizeof text, "failed after %lld attempts: %s", (long long)attempts, reason);
      post_outcome(n, it->fingerprint, r->name, text, it->resend);
    }
    free_item(it);
    pthread_mutex_lock(&n->lock);
    if (stopped) break;
  }
  pthread_mutex_unlock(&n->lock);
  if (c) curl_easy_cleanup(c);
  return NULL;
}

/* ----- formatting (on the loop) ----- */

static json_t *webhook_json(const struct notify_alert *a) {
  char s[32], e[32];
  rfc3339(a->starts_at, s);
  if (a->ends_at) rfc3339(a->ends_at, e);
  json_t *labels = a->labels ? json_deep_copy(a->labels) : json_object();
  return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:o, s:s, s:I, s:o, s:o, s:s}", "version", "1",
                   "status", a->state, "rule", a->rule, "severity", a->severity, "summary",
                   a->summary ? a->summary : "", "labels", labels, "startsAt", s, "startsAtMs",
                   (json_int_t)a->starts_at, "endsAt", a->ends_at ? json_string(e) : json_null(),
                   "endsAtMs", a->ends_at ? json_integer(a->ends_at) : json_null(),
                   "fingerprint", a->fingerprint);
}

/* A label name as Alertmanager accepts it: [a-zA-Z_][a-zA-Z0-9_]*. */
static void label_name(const char *k, char *out, size_t outlen) {
  size_t i = 0;
  for (; k[i] && i + 1 < outlen; i++) {
    char ch = k[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
              (i > 0 && ch >= '0' && ch <= '9');
    out[i] = ok ? ch : '_';
  }
  out[i] = '\0';
}

static json_t *am_json(const struct notify_alert *a) {
  json_t *labels = json_object();
  if (a->labels && json_is_object(a->labels)) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a->labels, k, v) {
      char name[128], num[64];
      label_name(k, name, sizeof name);
      if (!name[0]) continue;
      if (json_is_string(v)) json_object_set_new(labels, name, json_string(json_string_value(v)));
      else if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        json_object_set_new(labels, name, json_string(num));
      } else if (json_is_real(v)) {
        snprintf(num, sizeof num, "%g", json_real_value(v));
        json_object_set_new(labels, name, json_string(num));
      } else if (json_is_boolean(v))
        json_object_set_new(labels, name, json_string(json_is_true(v) ? "true" : "false"));
    }
  }
  json_object_set_new(labels, "alertname", json_string(a->rule));
  if (a->severity) json_object_set_new(labels, "severity", json_string(a->severity));
  char s[32], e[32];
  rfc3339(a->starts_at, s);
  json_t *al = json_pack("{s:o, s:{s:s, s:s}, s:s}", "labels", labels, "annotations", "summary",
                         a->summary ? a->summary : "", "edgefleet_fingerprint", a->fingerprint,
                         "startsAt", s);
  if (a->ends_at) {
    rfc3339(a->ends_at, e);
    json_object_set_new(al, "endsAt", json_string(e));
  }
  return al;
}

static char *mail_text(struct notify *n, const struct notify_alert *a, size_t *len) {
  char s[32], e[32], date[64], host[64] = "edgefleetd";
  rfc3339(a->starts_at, s);
  if (a->ends_at) rfc3339(a->ends_at, e);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  char upper[16];
  snprintf(upper, sizeof upper, "%s", a->state);
  for (char *p = upper; *p; p++)
    if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
  char *subj_raw = ef_asprintf("[%s] %s: %s", upper, a->rule, a->summary ? a->summary : "");
  char *subject = mime_header(subj_raw);
  char *summary = one_line(a->summary);
  char *labels = ef_strdup("");
  if (a->labels && json_is_object(a->labels)) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a->labels, k, v) {
      char *val = json_is_string(v) ? one_line(json_string_value(v)) : jdump(v);
      char *kk = one_line(k);
      char *more = ef_asprintf("%s  %s = %s\r\n", labels, kk, val);
      ef_free(kk);
      ef_free(val);
      ef_free(labels);
      labels = more;
    }
  }
  char *text = ef_asprintf(
      "From: <%s>\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
      "Message-ID: <edgefleet.%lld.%llu@%s>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
      "X-Edgefleet-Fingerprint: %s\r\n\r\n"
      "Alert:       %s\r\nState:       %s\r\nSeverity:    %s\r\nSummary:     %s\r\n"
      "Started:     %s\r\nEnded:       %s\r\nFingerprint: %s\r\nLabels:\r\n%s",
      n->from, n->to_header, subject, date, (long long)ef_now_ms(),
      (unsigned long long)++n->mail_seq, host, a->fingerprint, a->rule, a->state,
      a->severity ? a->severity : "-", summary, s, a->ends_at ? e : "-", a->fingerprint,
      labels);
  ef_free(subj_raw);
  ef_free(subject);
  ef_free(summary);
  ef_free(labels);
  *len = strlen(text);
  return text;
}

/* Append a copy of body to r's queue, or report it dropped. On the loop. */
static void enqueue(struct notify *n, struct rcv *r, const char *fp, const char *body, size_t len,
                    bool resend) {
  pthread_mutex_lock(&n->lock);
  bool full = r->queued >= n->queue_max;
  if (!full) {
    struct item *it = ef_calloc(1, sizeof *it);
    it->fingerprint = ef_strdup(fp);
    it->body = ef_memdup(body, len + 1);
    it->len = len;
    it->resend = resend;
    if (r->tail) r->tail->next = it;
    else r->head = it;
    r->tail = it;
    r->queued++;
    pthread_cond_signal(&r->cond);
  }
  pthread_mutex_unlock(&n->lock);
  if (full) post_outcome(n, fp, r->name, "dropped: queue full", resend);
}

void notify_alert(struct notify *n, const struct notify_alert *a) {
  if (!n || n->nrcv == 0 || !a->rule || !a->fingerprint || !a->state) return;
  char *webhook = NULL, *am = NULL, *mail = NULL;
  size_t wl = 0, al = 0, ml = 0;
  for (size_t i = 0; i < n->nrcv; i++) {
    struct rcv *r = &n->rcv[i];
    switch (r->kind) {
    case RCV_WEBHOOK:
      if (!webhook) {
        webhook = jdump_decref(webhook_json(a));
        wl = strlen(webhook);
      }
      enqueue(n, r, a->fingerprint, webhook, wl, false);
      break;
    case RCV_ALERTMANAGER:
      if (!am) {
        json_t *one = am_json(a);
        if (strcmp(a->state, "firing") == 0)
          json_object_set(n->am_firing, a->fingerprint, one);
        else json_object_del(n->am_firing, a->fingerprint);
        am = jdump_decref(json_pack("[o]", one));
        al = strlen(am);
      }
      enqueue(n, r, a->fingerprint, am, al, false);
      break;
    case RCV_EMAIL:
      if (!mail) mail = mail_text(n, a, &ml);
      enqueue(n, r, a->fingerprint, mail, ml, false);
      break;
    }
  }
  ef_free(webhook);
  ef_free(am);
  ef_free(mail);
}

static void on_resend(uv_timer_t *t) {
  struct notify *n = t->data;
  if (json_object_size(n->am_firing) == 0) return;
  json_t *all = json_array();
  const char *k;
  json_t *v;
  json_object_foreach(n->am_firing, k, v) json_array_append(all, v);
  char *body = jdump_decref(all);
  size_t len = strlen(body);
  for (size_t i = 0; i < n->nrcv; i++)
    if (n->rcv[i].kind == RCV_ALERTMANAGER) enqueue(n, &n->rcv[i], "", body, len, true);
  ef_free(body);
}

size_t notify_receivers(const struct notify *n) { return n ? n->nrcv : 0; }

/* ----- start and stop ----- */

static void add_rcv(struct notify *n, enum rcv_kind kind, const char *prefix, size_t idx,
                    char *url) {
  n->rcv = ef_realloc(n->rcv, (n->nrcv + 1) * sizeof *n->rcv);
  struct rcv *r = &n->rcv[n->nrcv++];
  memset(r, 0, sizeof *r);
  r->kind = kind;
  r->url = url;
  if (idx) snprintf(r->name, sizeof r->name, "%s%zu", prefix, idx);
  else snprintf(r->name, sizeof r->name, "%s", prefix);
}

static int add_urls(struct notify *n, const char *list, enum rcv_kind kind, const char *prefix,
                    const char *option, char *err, size_t errlen) {
  const char *p = list;
  size_t idx = 0;
  char *u;
  while ((u = next_elem(&p))) {
    if (!(has_prefix(u, "http://") || has_prefix(u, "https://")) || has_ctl(u)) {
      snprintf(err, errlen, "%s: element %zu is not an http:// or https:// URL", option, idx + 1);
      ef_free(u);
      return EF_ECONFIG;
    }
    if (kind == RCV_ALERTMANAGER) {
      size_t l = strlen(u);
      while (l > 0 && u[l - 1] == '/') u[--l] = '\0';
      char *full = ef_asprintf("%s/api/v2/alerts", u);
      ef_free(u);
      u = full;
      n->n_am++;
    }
    add_rcv(n, kind, prefix, ++idx, u);
  }
  return 0;
}

static int read_secret(const char *path, char **out, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "notify_smtp_password_file: cannot open %s", path);
    return EF_ECONFIG;
  }
  char buf[1024];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
  *out = ef_strdup(buf);
  OPENSSL_cleanse(buf, sizeof buf);
  return 0;
}

static int setup_mail(struct notify *n, const struct server_config *cfg, char *err,
                      size_t errlen) {
  if (!cfg->notify_smtp) {
    if (cfg->notify_smtp_from || cfg->notify_smtp_to || cfg->notify_smtp_user) {
      snprintf(err, errlen, "notify_smtp_from, _to and _user need notify_smtp (the server)");
      return EF_ECONFIG;
    }
    return 0;
  }
  if (!(has_prefix(cfg->notify_smtp, "smtp://") || has_prefix(cfg->notify_smtp, "smtps://")) ||
      has_ctl(cfg->notify_smtp)) {
    snprintf(err, errlen, "notify_smtp must be an smtp:// or smtps:// URL");
    return EF_ECONFIG;
  }
  if (!cfg->notify_smtp_from || !cfg->notify_smtp_to) {
    snprintf(err, errlen, "notify_smtp needs notify_smtp_from and notify_smtp_to");
    return EF_ECONFIG;
  }
  if (has_ctl(cfg->notify_smtp_from) || strpbrk(cfg->notify_smtp_from, "<>,") ||
      !strchr(cfg->notify_smtp_from, '@')) {
    snprintf(err, errlen, "notify_smtp_from: one address, user@host");
    return EF_ECONFIG;
  }
  n->from = ef_strdup(cfg->notify_smtp_from);
  const char *p = cfg->notify_smtp_to;
  char *a;
  n->to_header = ef_strdup("");
  while ((a = next_elem(&p))) {
    if (has_ctl(a) || strpbrk(a, "<> ") || !strchr(a, '@')) {
      snprintf(err, errlen, "notify_smtp_to: \"%s\" is not an address user@host", a);
      ef_free(a);
      return EF_ECONFIG;
    }
    char *br = ef_asprintf("<%s>", a);
    n->rcpt = curl_slist_append(n->rcpt, br);
    char *h = ef_asprintf("%s%s<%s>", n->to_header, n->to_header[0] ? ", " : "", a);
    ef_free(n->to_header);
    n->to_header = h;
    ef_free(br);
    ef_free(a);
  }
  if (!n->rcpt) {
    snprintf(err, errlen, "notify_smtp_to: no address");
    return EF_ECONFIG;
  }
  if (cfg->notify_smtp_password_file && !cfg->notify_smtp_user) {
    snprintf(err, errlen, "notify_smtp_password_file needs notify_smtp_user");
    return EF_ECONFIG;
  }
  n->user = ef_strdup(cfg->notify_smtp_user);
  if (cfg->notify_smtp_password_file &&
      read_secret(cfg->notify_smtp_password_file, &n->password, err, errlen) != 0)
    return EF_ECONFIG;
  n->starttls = cfg->notify_smtp_starttls;
  add_rcv(n, RCV_EMAIL, "email", 0, ef_strdup(cfg->notify_smtp));
  return 0;
}

static void free_notify(struct notify *n) {
  for (size_t i = 0; i < n->nrcv; i++) {
    struct item *it = n->rcv[i].head;
    while (it) {
      struct item *next = it->next;
      free_item(it);
      it = next;
    }
    ef_free(n->rcv[i].url);
  }
  ef_free(n->rcv);
  free_outcomes(n->out_head);
  json_decref(n->am_firing);
  ef_free(n->from);
  curl_slist_free_all(n->rcpt);
  ef_free(n->to_header);
  ef_free(n->user);
  if (n->password) {
    OPENSSL_cleanse(n->password, strlen(n->password));
    ef_free(n->password);
  }
  ef_free(n->ca);
  if (n->curl_inited) curl_global_cleanup();
  ef_free(n);
}

static void on_handle_closed(uv_handle_t *h) {
  struct notify *n = h->data;
  if (--n->handles == 0) free_notify(n);
}

static void stop_threads(struct notify *n) {
  pthread_mutex_lock(&n->lock);
  atomic_store(&n->stopping, true);
  for (size_t i = 0; i < n->nrcv; i++) pthread_cond_broadcast(&n->rcv[i].cond);
  pthread_mutex_unlock(&n->lock);
  for (size_t i = 0; i < n->nrcv; i++) {
    if (n->rcv[i].started) pthread_join(n->rcv[i].thread, NULL);
    pthread_cond_destroy(&n->rcv[i].cond);
  }
}

int notify_start(uv_loop_t *loop, const struct server_config *cfg, notify_outcome_fn outcome,
                 void *ud, struct notify **out, char *err, size_t errlen) {
  struct notify *n = ef_calloc(1, sizeof *n);
  n->loop = loop;
  n->cb = outcome;
  n->ud = ud;
  n->am_firing = json_object();
  n->queue_max = (size_t)cfg->notify_queue_max;
  n->retries = cfg->notify_retries;
  n->backoff = cfg->notify_backoff;
  n->backoff_max = cfg->notify_backoff_max < cfg->notify_backoff ? cfg->notify_backoff
                                                                   : cfg->notify_backoff_max;
  n->timeout = cfg->notify_timeout;
  n->resend_every = cfg->notify_resend;
  n->ca = ef_strdup(cfg->notify_ca);
  atomic_init(&n->stopping, false);
  int rc = EF_ECONFIG;
  if (add_urls(n, cfg->notify_webhook, RCV_WEBHOOK, "webhook", "notify_webhook", err, errlen) ||
      add_urls(n, cfg->notify_alertmanager, RCV_ALERTMANAGER, "alertmanager",
               "notify_alertmanager", err, errlen) ||
      setup_mail(n, cfg, err, errlen))
    goto fail_config;
  rc = EF_ESYS;
  if (n->nrcv) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      snprintf(err, errlen, "libcurl initialisation failed");
      goto fail_config;
    }
    n->curl_inited = true;
  }
  pthread_mutex_init(&n->lock, NULL);
  if (uv_async_init(loop, &n->wake, on_wake) != 0) goto fail_async;
  n->wake.data = n;
  n->handles++;
  uv_timer_init(loop, &n->resend);
  n->resend.data = n;
  n->handles++;
  if (n->n_am) uv_timer_start(&n->resend, on_resend, (uint64_t)n->resend_every,
                              (uint64_t)n->resend_every);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  for (size_t i = 0; i < n->nrcv; i++) {
    n->rcv[i].n = n;
    pthread_cond_init(&n->rcv[i].cond, &ca);
  }
  pthread_condattr_destroy(&ca);
  for (size_t i = 0; i < n->nrcv; i++) {
    if (pthread_create(&n->rcv[i].thread, NULL, rcv_main, &n->rcv[i]) != 0) {
      snprintf(err, errlen, "cannot start the notification threads");
      goto fail_threads;
    }
    n->rcv[i].started = true;
  }
  if (n->nrcv)
    ef_log(EF_LOG_INFO, "notify: %zu webhook(s), %zu alertmanager(s), e-mail %s",
           n->nrcv - n->n_am - (n->rcpt ? 1 : 0), n->n_am, n->rcpt ? "on" : "off");
  *out = n;
  return 0;

fail_threads:
  stop_threads(n);
  uv_close((uv_handle_t *)&n->wake, on_handle_closed);
  uv_close((uv_handle_t *)&n->resend, on_handle_closed); /* freed when the loop runs */
  pthread_mutex_destroy(&n->lock);
  return rc;
fail_async:
  pthread_mutex_destroy(&n->lock);
fail_config:
  free_notify(n);
  return rc;
}

void notify_stop(struct notify **np) {
  struct notify *n = *np;
  if (!n) return;
  *np = NULL;
  stop_threads(n);
  pthread_mutex_destroy(&n->lock);
  uv_timer_stop(&n->resend);
  uv_close((uv_handle_t *)&n->wake, on_handle_closed);
  uv_close((uv_handle_t *)&n->resend, on_handle_closed);
}
