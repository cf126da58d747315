/* SPDX-License-Identifier: MIT */
/* store_testutil.c -- see store_testutil.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "store_testutil.h"

struct store_device st_dev(uint64_t id, const char *sn, const char *model) {
  struct store_device d = {0};
  d.device_id = id;
  d.hardware_sn = (char *)sn;
  d.hardware_model = (char *)model;
  d.password = "$2b$10$hash";
  d.created_time = 1000;
  d.updated_time = 1000;
  return d;
}

struct store_group st_grp(uint64_t id, const char *name) {
  struct store_group g = {0};
  g.group_id = id;
  g.group_name = (char *)name;
  g.group_description = "a group";
  g.created_time = 2000;
  g.updated_time = 2000;
  return g;
}

void st_add_logs(struct store *st, uint64_t device_id, int from, int to) {
  struct store_log logs[64];
  size_t n = 0;
  for (int t = from; t <= to && n < 64; t++) {
    logs[n] = (struct store_log){.device_id = device_id, .event = "heartbeat", .time = t};
    n++;
  }
  assert_int_equal(st->ops->write_batch(st, logs, n, NULL, 0), 0);
}

int st_mkdtemp(char *dir, size_t len) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, len, "%s/ef-store-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  return mkdtemp(dir) ? 0 : -1;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}

void st_rmtree(const char *dir) {
  chmod(dir, 0700);
  nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}
