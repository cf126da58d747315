/* SPDX-License-Identifier: MIT */
/* store.c -- picks the store backend from the URL scheme, shows a URL without its password
 * (store_url_redact), and frees the records stores return.
 *
 * The backends compiled in are the rows of `backends[]`; the first row is the embedded default
 * that a bare path (no "scheme:" prefix) means. Adding a backend is one row here plus its file.
 */
#include "store.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "edgefleet/error.h"
#include "mem.h"

static const struct store_ops *const backends[] = {
    &store_sqlite_ops, /* default for a bare path */
#ifdef EF_WITH_POSTGRES
    &store_pg_ops,
#endif
#ifdef EF_WITH_MARIADB
    &store_mysql_ops,
#endif
};

#define NBACKENDS (sizeof backends / sizeof backends[0])

/* Length of url's "scheme:" prefix (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"),
 * colon included, or 0 when url has none and so is a bare path. A single letter is taken as a
 * path ("c:..."), not a scheme. */
static size_t scheme_len(const char *url) {
  if (!isalpha((unsigned char)url[0])) return 0;
  size_t i = 1;
  while (isalnum((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.') i++;
  if (url[i] != ':' || i < 2) return 0;
  return i + 1;
}

void store_set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

int store_open(const char *url, struct store **out, char *err, size_t errlen) {
  return store_open_with(url, NULL, out, err, errlen);
}

int store_open_with(const char *url, const struct store_open_opts *opts, struct store **out,
                    char *err, size_t errlen) {
  static const struct store_open_opts defaults = {0};
  if (!opts) opts = &defaults;
  if (err && errlen) err[0] = '\0';
  if (!out) return EF_EINVAL;
  *out = NULL;
  if (!url || !url[0]) {
    store_set_err(err, errlen, "empty store URL");
    return EF_ECONFIG;
  }

  const struct store_ops *ops = NULL;
  size_t slen = scheme_len(url);
  if (slen == 0) {
    ops = backends[0];
  } else {
    for (size_t i = 0; i < NBACKENDS; i++) {
      size_t blen = strlen(backends[i]->scheme);
      if (blen == slen && strncasecmp(url, backends[i]->scheme, slen) == 0) {
        ops = backends[i];
        break;
      }
    }
  }
  if (!ops) {
    /* Name the scheme only: a URL may carry a password. */
    char scheme[32];
    snprintf(scheme, sizeof scheme, "%.*s", (int)(slen < sizeof scheme ? slen : sizeof scheme - 1),
             url);
    char supported[128] = "";
    size_t used = 0;
    for (size_t i = 0; i < NBACKENDS && used < sizeof supported; i++) {
      int w = snprintf(supported + used, sizeof supported - used, "%s%s", i ? ", " : "",
                       backends[i]->scheme);
      if (w < 0) break;
      used += (size_t)w;
    }
    store_set_err(err, errlen, "unknown store scheme '%s' (supported: %s, or a bare file path)",
                  scheme, supported);
    return EF_ECONFIG;
  }

  struct store *st = NULL;
  int rc = ops->open(url, opts, &st, err, errlen);
  if (rc != 0) return rc;
  *out = st;
  return 0;
}

void store_close(struct store **st) {
  if (!st || !*st) return;
  (*st)->ops->close(*st);
  *st = NULL;
}

const char *store_url_redact(const char *url, char *buf, size_t len) {
  if (!buf || !len) return buf;
  buf[0] = '\0';
  if (!url) return buf;
  size_t o = 0;
  const char *p = url;
  /* the user part: scheme://user:password@host */
  const char *auth = strstr(url, "://");
  if (scheme_len(url) && auth && auth + 1 == url + scheme_len(url)) {
    auth += 3;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *c = auth; c < auth + alen; c++)
      if (*c == '@') at = c; /* the last one: a password may hold an unencoded '@' */
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon) {
      o = (size_t)snprintf(buf, len, "%.*s***", (int)(colon + 1 - url), url);
      p = at;
    }
  }
  /* the rest, with the value of each password= parameter hidden */
  const char *query = strchr(p, '?');
  while (o < len - 1 && *p) {
    if (query && p > query && (p[-1] == '?' || p[-1] == '&') &&
        strncasecmp(p, "password=", 9) == 0) {
      o += (size_t)snprintf(buf + o, len - o, "%.9s***", p);
      p += 9 + strcspn(p + 9, "&#");
      continue;
    }
    buf[o++] = *p++;
  }
  if (o >= len) o = len - 1;
  buf[o] = '\0';
  return buf;
}

void store_device_clear(struct store_device *d) {
  if (!d) return;
#define STORE_DEV_FREE_(col, parent, key) ef_free(d->col);
  STORE_DEVICE_FIELDS(STORE_DEV_FREE_)
#undef STORE_DEV_FREE_
  ef_free(d->password);
  ef_free(d->pw_verifier);
  ef_free(d->token_hash);
  memset(d, 0, sizeof *d);
}

void store_devices_free(struct store_device *arr, size_t n) {
  if (!arr) return;
  for (size_t i = 0; i < n; i++) store_device_clear(&arr[i]);
  ef_free(arr);
}

void store_group_clear(struct store_group *g) {
  if (!g) return;
  ef_free(g->group_name);
  ef_free(g->group_description);
  memset(g, 0, sizeof *g);
}

void store_groups_free(struct store_group *arr, size_t n) {
  if (!arr) return;
  for (size_t i = 0; i < n; i++) store_group_clear(&arr[i]);
  ef_free(arr);
}

void store_log_clear(struct store_log *l) {
  if (!l) return;
  ef_free(l->event);
  ef_free(l->detail);
  ef_free(l->result);
  memset(l, 0, sizeof *l);
}

void store_logs_free(struct store_log *arr, size_t n) {
  if (!arr) return;
  for (size_t i = 0; i < n; i++) store_log_clear(&arr[i]);
  ef_free(arr);
}

void store_tokens_free_members(struct store_token *t) {
  if (!t) return;
  ef_free(t->name);
  ef_free(t->scope);
  ef_free(t->token_hash);
  ef_free(t->groups);
  memset(t, 0, sizeof *t);
}

void store_audit_clear(struct store_audit *a) {
  if (!a) return;
  ef_free(a->token_name);
  ef_free(a->route);
  ef_free(a->target);
  ef_free(a->outcome);
  ef_free(a->peer);
  memset(a, 0, sizeof *a);
}

void store_audits_free(struct store_audit *arr, size_t n) {
  if (!arr) return;
  for (size_t i = 0; i < n; i++) store_audit_clear(&arr[i]);
  ef_free(arr);
}

void store_tokens_free(struct store_token *arr, size_t n) {
  if (!arr) return;
  for (size_t i = 0; i < n; i++) store_tokens_free_members(&arr[i]);
  ef_free(arr);
}

void store_miner_clear(struct store_miner *m) {
  if (!m) return;
  ef_free(m->miner_id);
  ef_free(m->host_name);
  ef_free(m->record);
  memset(m, 0, sizeof *m);
}

void store_miners_free(struct store_miner *arr, size_t n) {
  if (!arr) return;
  for (size_t i = 0; i < n; i++) store_miner_clear(&arr[i]);
  ef_free(arr);
}

void store_alert_log_clear(struct store_alert_log *l) {
  if (!l) return;
  ef_free(l->event);
  ef_free(l->rule);
  ef_free(l->fingerprint);
  ef_free(l->entry);
  memset(l, 0, sizeof *l);
}

void store_alert_logs_free(struct store_alert_log *arr, size_t n) {
  if (!arr) return;
  for (size_t i = 0; i < n; i++) store_alert_log_clear(&arr[i]);
  ef_free(arr);
}

void store_hist_clear(struct store_hist *h) {
  if (!h) return;
  ef_free(h->owner);
  ef_free(h->data);
  memset(h, 0, sizeof *h);
}

void store_hists_free(struct store_hist *arr, size_t n) {
  if (!arr) return;
  for (size_t i = 0; i < n; i++) store_hist_clear(&arr[i]);
  ef_free(arr);
}
