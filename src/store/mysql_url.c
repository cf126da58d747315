/* SPDX-License-Identifier: MIT */
/* mysql_url.c -- parses the MariaDB/MySQL store's connection URL (mysql_url.h says its form).
 *
 * The URL is cut at its delimiters first ("//", the last '@' before the path, '/', '?', '&',
 * '='), and only then is each piece percent-decoded, so an encoded delimiter inside the user,
 * the password, the database or a value stays data. A decoded NUL is refused. Messages name
 * the piece that is wrong, never the password or the whole URL.
 */
#include "mysql_url.h"

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edgefleet/error.h"
#include "mem.h"

#define MYURL_DEFAULT_PORT 3306
#define MYURL_CONNECT_TIMEOUT 5
#define MYURL_RW_TIMEOUT 30

__attribute__((format(printf, 3, 4))) static int myurl_fail(char *err, size_t errlen,
                                                            const char *fmt, ...) {
  if (err && errlen) {
    int w = snprintf(err, errlen, "mysql store URL: ");
    if (w > 0 && (size_t)w < errlen) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(err + w, errlen - (size_t)w, fmt, ap);
      va_end(ap);
    }
  }
  return EF_ECONFIG;
}

static int myurl_hex(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decode s[0..n) into a new string; NULL (and *bad set) on a malformed escape or an
 * encoded NUL. '+' stays '+' (this is not a form). */
static char *myurl_decode(const char *s, size_t n, bool *bad) {
  char *out = ef_malloc(n + 1), *o = out;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '%') {
      *o++ = s[i];
      continue;
    }
    if (i + 2 >= n) { /* fewer than two hex digits follow */
      *bad = true;
      ef_free(out);
      return NULL;
    }
    int h = myurl_hex((unsigned char)s[i + 1]), l = myurl_hex((unsigned char)s[i + 2]);
    if (h < 0 || l < 0 || (h == 0 && l == 0)) {
      *bad = true;
      ef_free(out);
      return NULL;
    }
    *o++ = (char)(h * 16 + l);
    i += 2;
  }
  *o = '\0';
  return out;
}

static bool myurl_num(const char *v, unsigned max, unsigned *out) {
  if (!v[0] || strlen(v) > 9) return false;
  for (const char *p = v; *p; p++)
    if (!isdigit((unsigned char)*p)) return false;
  unsigned long n = strtoul(v, NULL, 10);
  if (n > max) return false;
  *out = (unsigned)n;
  return true;
}

/* The option name with '_' read as '-'. */
static bool myurl_is(const char *name, const char *want) {
  for (; *name && *want; name++, want++) {
    char c = *name == '_' ? '-' : (char)tolower((unsigned char)*name);
    if (c != *want) return false;
  }
  return !*name && !*want;
}

static int myurl_ssl_mode(const char *v, enum store_mysql_ssl *out) {
  if (myurl_is(v, "disabled") || myurl_is(v, "disable")) *out = STORE_MYSQL_SSL_DISABLED;
  else if (myurl_is(v, "required") || myurl_is(v, "require"))
    *out = STORE_MYSQL_SSL_REQUIRED;
  else if (myurl_is(v, "verify-identity") || myurl_is(v, "verify-full"))
    *out = STORE_MYSQL_SSL_VERIFY_IDENTITY;
  else return -1;
  return 0;
}

static void myurl_set(char **slot, char *v) {
  ef_free(*slot);
  *slot = v;
}

/* One name=value of the query; v is the decoded value (taken). */
static int myurl_option(struct store_mysql_url *u, const char *name, char *v, bool *mode_set,
                        char *err, size_t errlen) {
  unsigned n;
  int ret = 0;
  if (myurl_is(name, "socket")) {
    myurl_set(&u->socket, v);
    return 0;
  }
  if (myurl_is(name, "ssl-ca")) return myurl_set(&u->ssl_ca, v), 0;
  if (myurl_is(name, "ssl-capath")) return myurl_set(&u->ssl_capath, v), 0;
  if (myurl_is(name, "ssl-cert")) return myurl_set(&u->ssl_cert, v), 0;
  if (myurl_is(name, "ssl-key")) return myurl_set(&u->ssl_key, v), 0;
  if (myurl_is(name, "ssl-crl")) return myurl_set(&u->ssl_crl, v), 0;
  if (myurl_is(name, "ssl-cipher")) return myurl_set(&u->ssl_cipher, v), 0;
  if (myurl_is(name, "ssl-mode")) {
    if (myurl_ssl_mode(v, &u->ssl_mode) != 0)
      ret = myurl_fail(err, errlen,
                       "ssl-mode '%s' is not one of disabled, required, verify-identity", v);
    else *mode_set = true;
  } else if (myurl_is(name, "ssl")) {
    if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0)
      u->ssl_mode = STORE_MYSQL_SSL_REQUIRED;
    else if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0)
      u->ssl_mode = STORE_MYSQL_SSL_DISABLED;
    else ret = myurl_fail(err, errlen, "ssl must be 0 or 1");
    if (ret == 0) *mode_set = true;
  } else if (myurl_is(name, "connect-timeout") || myurl_is(name, "read-timeout") ||
             myurl_is(name, "write-timeout")) {
    if (!myurl_num(v, 86400, &n) || n == 0)
      ret = myurl_fail(err, errlen, "%s must be a number of seconds from 1 to 86400", name);
    else if (myurl_is(name, "connect-timeout")) u->connect_timeout = n;
    else if (myurl_is(name, "read-timeout")) u->read_timeout = n;
    else u->write_timeout = n;
  } else {
    ret = myurl_fail(err, errlen,
                     "unknown option '%.40s' (known: socket, ssl, ssl-mode, ssl-ca, ssl-capath, "
                     "ssl-cert, ssl-key, ssl-crl, ssl-cipher, connect-timeout, read-timeout, "
                     "write-timeout)",
                     name);
  }
  ef_free(v);
  return ret;
}

static int myurl_query(struct store_mysql_url *u, const char *q, char *err, size_t errlen) {
  bool mode_set = false;
  while (*q) {
    size_t len = strcspn(q, "&");
    const char *eq = memchr(q, '=', len);
    if (len == 0) {
      q++;
      continue;
    }
    if (!eq)
      return myurl_fail(err, errlen, "option '%.*s' has no '=VALUE'", (int)(len > 40 ? 40 : len),
                        q);
    char name[48];
    size_t nlen = (size_t)(eq - q);
    if (nlen == 0 || nlen >= sizeof name) return myurl_fail(err, errlen, "bad option name");
    memcpy(name, q, nlen);
    name[nlen] = '\0';
    bool bad = false;
    char *v = myurl_decode(eq + 1, len - nlen - 1, &bad);
    if (!v) return myurl_fail(err, errlen, "bad percent-encoding in option '%s'", name);
    int ret = myurl_option(u, name, v, &mode_set, err, errlen);
    if (ret) return ret;
    q += len;
    if (*q == '&') q++;
  }
  if (!mode_set) {
    if (u->ssl_ca || u->ssl_capath) u->ssl_mode = STORE_MYSQL_SSL_VERIFY_IDENTITY;
    else if (u->ssl_cert) u->ssl_mode = STORE_MYSQL_SSL_REQUIRED;
  }
  if ((u->ssl_cert == NULL) != (u->ssl_key == NULL))
    return myurl_fail(err, errlen, "ssl-cert and ssl-key go together");
  return 0;
}

/* HOST[:PORT] or [V6]:PORT of s[0..n). */
static int myurl_hostport(struct store_mysql_url *u, const char *s, size_t n, char *err,
                          size_t errlen) {
  const char *port = NULL;
  size_t hlen = n;
  if (n && s[0] == '[') {
    const char *close = memchr(s, ']', n);
    if (!close) return myurl_fail(err, errlen, "unclosed '[' in the host");
    u->host = ef_strndup(s + 1, (size_t)(close - s - 1));
    if (close + 1 < s + n) {
      if (close[1] != ':') return myurl_fail(err, errlen, "junk after the IPv6 address");
      port = close + 2;
    }
  } else {
    const char *colon = memchr(s, ':', n);
    if (colon) {
      hlen = (size_t)(colon - s);
      port = colon + 1;
    }
    for (size_t i = 0; i < hlen; i++)
      if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_')
        return myurl_fail(err, errlen, "bad character in the host name");
    u->host = ef_strndup(s, hlen);
  }
  u->port = MYURL_DEFAULT_PORT;
  if (port) {
    char buf[8];
    size_t plen = (size_t)(s + n - port);
    if (plen == 0 || plen >= sizeof buf) return myurl_fail(err, errlen, "bad port");
    memcpy(buf, port, plen);
    buf[plen] = '\0';
    if (!myurl_num(buf, 65535, &u->port) || u->port == 0)
      return myurl_fail(err, errlen, "bad port '%s'", buf);
  }
  return 0;
}

int store_mysql_url_parse(const char *url, struct store_mysql_url *u, char *err,
                          size_t errlen) {
  memset(u, 0, sizeof *u);
  if (err && errlen) err[0] = '\0';
  u->connect_timeout = MYURL_CONNECT_TIMEOUT;
  u->read_timeout = u->write_timeout = MYURL_RW_TIMEOUT;
  if (!url || strncasecmp(url, "mysql://", 8) != 0)
    return myurl_fail(err, errlen, "must start with mysql://");
  const char *p = url + 8;
  size_t auth_end = strcspn(p, "/?"); /* the authority: [userinfo@]host[:port] */
  const char *at = NULL;
  for (size_t i = 0; i < auth_end; i++)
    if (p[i] == '@') at = p + i; /* the last '@': a raw '@' in a password is forgiven */
  bool bad = false;
  if (at) {
    size_t ulen = (size_t)(at - p);
    const char *colon = memchr(p, ':', ulen);
    size_t namelen = colon ? (size_t)(colon - p) : ulen;
    u->user = myurl_decode(p, namelen, &bad);
    if (!u->user) return myurl_fail(err, errlen, "bad percent-encoding in the user name");
    if (colon) {
      u->password = myurl_decode(colon + 1, ulen - namelen - 1, &bad);
      if (!u->password) return myurl_fail(err, errlen, "bad percent-encoding in the password");
    }
    if (!u->user[0]) return myurl_fail(err, errlen, "empty user name");
    auth_end -= ulen + 1;
    p = at + 1;
  }
  int ret = myurl_hostport(u, p, auth_end, err, errlen);
  if (ret) return ret;
  p += auth_end;
  if (*p == '/') {
    p++;
    size_t dlen = strcspn(p, "?");
    u->database = myurl_decode(p, dlen, &bad);
    if (!u->database) return myurl_fail(err, errlen, "bad percent-encoding in the database name");
    p += dlen;
  }
  if (*p == '?') {
    ret = myurl_query(u, p + 1, err, errlen);
    if (ret) return ret;
  }
  if (!u->database || !u->database[0])
    return myurl_fail(err, errlen,
                      "names no database (mysql://USER:PASSWORD@HOST:PORT/DATABASE)");
  if (strlen(u->database) > 64 || strpbrk(u->database, "`'\"/\\."))
    return myurl_fail(err, errlen,
                      "bad database name (at most 64 characters, no ` ' \" / \\ .)");
  if (!u->host[0] && !u->socket)
    return myurl_fail(err, errlen, "names no host (or socket=PATH)");
  if (!u->user) return myurl_fail(err, errlen, "names no user (mysql://USER:PASSWORD@HOST/DB)");
  return 0;
}

void store_mysql_url_clear(struct store_mysql_url *u) {
  if (!u) return;
  if (u->password) {
    volatile char *v = u->password;
    while (*v) *v++ = '\0';
  }
  ef_free(u->user);
  ef_free(u->password);
  ef_free(u->host);
  ef_free(u->database);
  ef_free(u->socket);
  ef_free(u->ssl_ca);
  ef_free(u->ssl_capath);
  ef_free(u->ssl_cert);
  ef_free(u->ssl_key);
  ef_free(u->ssl_crl);
  ef_free(u->ssl_cipher);
  memset(u, 0, sizeof *u);
}

void store_mysql_url_where(const struct store_mysql_url *u, char *buf, size_t len) {
  if (u->socket) snprintf(buf, len, "socket %s", u->socket);
  else if (strchr(u->host, ':')) snprintf(buf, len, "[%s]:%u", u->host, u->port);
  else snprintf(buf, len, "%s:%u", u->host, u->port);
}
