/* SPDX-License-Identifier: MIT */
/* store_mysql.h -- what the MariaDB/MySQL backend (store_mysql.c) offers beyond store.h: a look
 * at its own connection, for diagnostics and its tests. */
#ifndef EF_STORE_MYSQL_H
#define EF_STORE_MYSQL_H

#include <stddef.h>

#include "store.h"

/* The value of a session status variable of st's connection (SHOW SESSION STATUS LIKE name),
 * e.g. "Ssl_cipher" ("" when the connection is not encrypted), into buf. 0, EF_ENOENT when the
 * server has no such variable, EF_EINVAL when st is not a "mysql:" store, or the store's
 * errors (EF_EUNAVAIL, ...). */
int store_mysql_session_status(struct store *st, const char *name, char *buf, size_t len);

#endif
