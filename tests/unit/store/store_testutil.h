/* SPDX-License-Identifier: MIT */
/* store_testutil.h -- what the store tests share: record builders and a scratch directory.
 * (test_store.c is the contract every backend meets; test_store_sqlite.c the SQLite backend and
 * the URL dispatch of store.c.) */
#ifndef EF_STORE_TESTUTIL_H
#define EF_STORE_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* A device with an sn/model pair, a password hash and created/updated time 1000. The strings
 * are borrowed (the record is passed in, never freed). */
struct store_device st_dev(uint64_t id, const char *sn, const char *model);
/* A group named `name`, described "a group", created/updated time 2000. */
struct store_group st_grp(uint64_t id, const char *name);
/* Logs device_id/"heartbeat" at times from..to (at most 64) in one write_batch; asserts 0. */
void st_add_logs(struct store *st, uint64_t device_id, int from, int to);

/* A fresh directory $TMPDIR/ef-store-XXXXXX (or under /tmp) in dir[len]; 0 or -1. */
int st_mkdtemp(char *dir, size_t len);
/* Remove dir and everything in it. */
void st_rmtree(const char *dir);

#endif
