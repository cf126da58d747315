/* SPDX-License-Identifier: MIT */
/* test_token.c -- session token file: write (0600), read, expiry, malformed files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "edgefleet/error.h"
#include "token.h"

static char dir[64], path[128];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/ef-token-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(path, sizeof path, "%s/%s", dir, TOKEN_FILE);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  unlink(path);
  rmdir(dir);
  return 0;
}

static void write_file(const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void test_roundtrip(void **state) {
  (void)state;
  struct token t;
  assert_int_equal(token_load(dir, 1000, &t), EF_ENOENT);
  assert_int_equal(token_save(dir, "123", "tok", 5000), 0);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(token_load(dir, 4999, &t), 0);
  assert_string_equal(t.device_id, "123");
  assert_string_equal(t.token, "tok");
  assert_int_equal(t.expires, 5000);
  token_clear(&t);
  assert_null(t.token);
  /* replaced atomically */
  assert_int_equal(token_save(dir, "123", "tok2", 0), 0);
  assert_int_equal(token_load(dir, 1LL << 50, &t), 0); /* 0 = no known expiry */
  assert_string_equal(t.token, "tok2");
  token_clear(&t);
  token_delete(dir);
  assert_int_equal(access(path, F_OK), -1);
  token_delete(dir); /* absent: no error */
}

static void test_expired(void **state) {
  (void)state;
  struct token t;
  assert_int_equal(token_save(dir, "123", "tok", 5000), 0);
  assert_int_equal(token_load(dir, 5000, &t), EF_ETIMEDOUT);
  assert_int_equal(access(path, F_OK), -1); /* removed */
}

static void test_malformed(void **state) {
  (void)state;
  static const char *bad[] = {"", "not json", "[1]", "{\"device_id\":\"1\"}",
                              "{\"device_id\":\"\",\"token\":\"t\"}",
                              "{\"device_id\":\"1\",\"token\":\"t\",\"expires\":\"x\"}",
                              "{\"device_id\":1,\"token\":\"t\"}"};
  struct token t;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_file(bad[i]);
    assert_int_equal(token_load(dir, 0, &t), EF_ENOENT);
    assert_int_equal(access(path, F_OK), -1);
  }
  assert_int_equal(token_save("/nonexistent/dir", "1", "t", 0), EF_ESYS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
