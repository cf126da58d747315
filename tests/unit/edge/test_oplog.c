/* SPDX-License-Identifier: MIT */
/* test_oplog.c -- operation log lines and TimedRotatingFileHandler-style rotation on a fake
 * clock. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "oplog.h"

static int64_t fake_now;
static int64_t fake_clock(void) { return fake_now; }
static char dir[64], path[128];

static int setup(void **state) {
  (void)state;
  setenv("TZ", "UTC", 1);
  tzset();
  snprintf(dir, sizeof dir, "/tmp/ef-oplog-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(path, sizeof path, "%s/device.log", dir);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  DIR *d = opendir(dir);
  struct dirent *de;
  while (d && (de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
    unlink(p);
  }
  if (d) closedir(d);
  rmdir(dir);
  return 0;
}

static char *slurp(const char *p) {
  static char buf[8192];
  FILE *f = fopen(p, "r");
  if (!f) return NULL;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static int count_rotated(void) {
  int n = 0;
  DIR *d = opendir(dir);
  struct dirent *de;
  while ((de = readdir(d)))
    if (strncmp(de->d_name, "device.log.", 11) == 0) n++;
  closedir(d);
  return n;
}

#define T0 1795250820123LL /* 2026-11-21 08:47:00.123 UTC */
#define DAY 86400000LL

static void test_line_format(void **state) {
  (void)state;
  struct oplog *lg;
  fake_now = T0;
  assert_int_equal(oplog_open(path, DAY, 3, fake_clock, &lg), 0);
  oplog_write(lg, "INFO", "message");
  oplog_write(lg, "ERROR", "bad thing");
  oplog_close(&lg);
  assert_null(lg);
  assert_string_equal(slurp(path), "2026-11-21 08:47:00,123 - INFO - message\n"
                                   "2026-11-21 08:47:00,123 - ERROR - bad thing\n");
  assert_int_equal(oplog_open("/nonexistent/dir/x.log", DAY, 3, fake_clock, &lg) != 0, 1);
}

static void test_rotation(void **state) {
  (void)state;
  struct oplog *lg;
  fake_now = T0;
  assert_int_equal(oplog_open(path, DAY, 2, fake_clock, &lg), 0);
  oplog_write(lg, "INFO", "day 0");
  fake_now = T0 + DAY - 1;
  oplog_write(lg, "INFO", "still day 0");
  assert_int_equal(count_rotated(), 0);
  fake_now = T0 + DAY; /* due: rename to the start of the period */
  oplog_write(lg, "INFO", "day 1");
  assert_int_equal(count_rotated(), 1);
  char rotated[256];
  snprintf(rotated, sizeof rotated, "%s/device.log.2026-11-21_08-47-00", dir);
  char *r = slurp(rotated);
  assert_non_null(r);
  assert_non_null(strstr(r, "still day 0"));
  assert_null(strstr(r, "day 1"));
  assert_non_null(strstr(slurp(path), "day 1"));
  for (int i = 2; i <= 5; i++) {
    fake_now = T0 + i * DAY + 5;
    oplog_write(lg, "INFO", "later");
  }
  assert_int_equal(count_rotated(), 2); /* keep = 2: the oldest were deleted */
  snprintf(rotated, sizeof rotated, "%s/device.log.2026-11-21_08-47-00", dir);
  assert_int_equal(access(rotated, F_OK), -1);
  oplog_close(&lg);
}

static void test_existing_file_age(void **state) {
  (void)state;
  /* An existing file's period starts at its mtime (Python does the same). */
  FILE *f = fopen(path, "w");
  fputs("old line\n", f);
  fclose(f);
  struct oplog *lg;
  fake_now = (int64_t)time(NULL) * 1000 + 2 * DAY;
  assert_int_equal(oplog_open(path, DAY, 0, fake_clock, &lg), 0);
  oplog_write(lg, "INFO", "new");
  oplog_close(&lg);
  assert_int_equal(count_rotated(), 1);
  assert_null(strstr(slurp(path), "old line"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
      cmocka_unit_test_setup_teardown(test_existing_file_age, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
