/* SPDX-License-Identifier: MIT */
/* mysql_url.h -- the connection URL of the MariaDB/MySQL store (store_mysql.c), parsed.
 *
 *   mysql://USER:PASSWORD@HOST:PORT/DATABASE?OPTION=VALUE&...
 *
 * USER, PASSWORD, DATABASE and option values are percent-decoded (a password with '@', ':' or
 * '/' is written %40, %3A, %2F); HOST may be a name, an IPv4 address or a bracketed IPv6 one;
 * PORT defaults to 3306. Options (a '_' may stand for each '-'):
 *   socket=PATH                 a unix socket instead of TCP (HOST may then be empty)
 *   ssl-mode=disabled|required|verify-identity
 *                               TLS: none; encrypted, the server unverified; encrypted and the
 *                               server's certificate verified against ssl-ca (or the system's
 *                               CAs) and its name or IP matched to HOST
 *   ssl-ca=FILE  ssl-capath=DIR ssl-cert=FILE  ssl-key=FILE  ssl-crl=FILE  ssl-cipher=LIST
 *                               as the mariadb client's options; ssl-ca or ssl-capath alone
 *                               means ssl-mode=verify-identity, ssl-cert alone ssl-mode=required
 *   ssl=0|1                     ssl-mode=disabled | required (the mariadb client's --ssl)
 *   connect-timeout=S  read-timeout=S  write-timeout=S
 *                               seconds (defaults 5, 30, 30)
 *
 * No message of this module contains the password (nor the whole URL).
 */
#ifndef EF_MYSQL_URL_H
#define EF_MYSQL_URL_H

#include <stddef.h>

enum store_mysql_ssl {
  STORE_MYSQL_SSL_DISABLED = 0,
  STORE_MYSQL_SSL_REQUIRED,
  STORE_MYSQL_SSL_VERIFY_IDENTITY,
};

struct store_mysql_url {
  char *user, *password; /* NULL when absent */
  char *host;            /* "" with a socket and no host */
  unsigned port;
  char *database;
  char *socket;          /* NULL: TCP */
  enum store_mysql_ssl ssl_mode;
  char *ssl_ca, *ssl_capath, *ssl_cert, *ssl_key, *ssl_crl, *ssl_cipher;
  unsigned connect_timeout, read_timeout, write_timeout; /* seconds */
};

/* Parse url into *out (zeroed first; free with store_mysql_url_clear even on failure). 0, or
 * EF_ECONFIG with err saying what is wrong (never quoting the password). */
int store_mysql_url_parse(const char *url, struct store_mysql_url *out, char *err,
                          size_t errlen);
/* Free the members (the password's memory is wiped first) and zero the struct. */
void store_mysql_url_clear(struct store_mysql_url *u);
/* Where the server is, for messages: "127.0.0.1:3306", "[::1]:3306" or "socket /run/x.sock". */
void store_mysql_url_where(const struct store_mysql_url *u, char *buf, size_t len);

#endif
