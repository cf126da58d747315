/* SPDX-License-Identifier: MIT */
/* lotus_test.h -- helpers shared by the lotus parser tests: fixture loading (tests/data/lotus),
 * one-line JSON assertions and the lotus-parse command with its output captured. Header-only (static functions) so each test stays one file. */
#ifndef EF_LOTUS_TEST_H
#define EF_LOTUS_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lotus_parse.h"
#include "mem.h"

typedef json_t *(*lotus_parser)(const char *buf, size_t len);

/* The bytes of tests/data/lotus/<name> (caller frees with ef_free), exactly len bytes long, so
 * that ASan catches any read past the end. */
static inline char *fixture_load(const char *name, size_t *len) {
  const char *d = getenv("EF_TEST_DATA");
  assert_non_null(d); /* set by ef_unit_test() */
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/lotus/%s", d, name);
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  assert_true(n >= 0);
  char *buf = ef_malloc(n ? (size_t)n : 1);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* Parse a fixture; fails the test when the parser reports errors for it. */
static inline json_t *fixture_parse(lotus_parser p, const char *name) {
  size_t len;
  char *buf = fixture_load(name, &len);
  json_t *out = p(buf, len);
  ef_free(buf);
  assert_true(json_is_object(out));
  json_t *errors = json_object_get(out, "errors");
  if (errors) {
    char *txt = json_dumps(errors, 0);
    fail_msg("%s: unexpected parse errors: %s", name, txt);
  }
  return out;
}

/* Run lotus_parse_main (edgefleet-agent lotus-parse) with stdout captured into *out (the
 * caller's, ef_free). */
static inline int run_cli(char **argv, int argc, char **out) {
  char path[] = "/tmp/lotus-cli-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  fflush(stdout);
  int saved = dup(STDOUT_FILENO);
  dup2(fd, STDOUT_FILENO);
  int rc = lotus_parse_main(argc, argv);
  fflush(stdout);
  dup2(saved, STDOUT_FILENO);
  close(saved);
  off_t n = lseek(fd, 0, SEEK_END);
  lseek(fd, 0, SEEK_SET);
  *out = ef_calloc(1, (size_t)n + 1);
  assert_int_equal(read(fd, *out, (size_t)n), n);
  close(fd);
  unlink(path);
  return rc;
}

/* Walk "a.b.2.c" (array indexes as numbers, -1 = last). */
static inline json_t *jpath(json_t *v, const char *path) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  char *save = NULL;
  for (char *tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save)) {
    if (json_is_array(v)) {
      long i = strtol(tok, NULL, 10);
      if (i < 0) i += (long)json_array_size(v);
      v = i < 0 ? NULL : json_array_get(v, (size_t)i);
    } else {
      v = json_object_get(v, tok);
    }
  }
  return v;
}

#define expect_str(obj, path, want)                                                       \
  do {                                                                                    \
    json_t *v_ = jpath((obj), (path));                                                    \
    if (!json_is_string(v_)) fail_msg("%s: not a string", (path));                        \
    assert_string_equal(json_string_value(v_), (want));                                   \
  } while (0)
#define expect_int(obj, path, want)                                                       \
  do {                                                                                    \
    json_t *v_ = jpath((obj), (path));                                                    \
    if (!json_is_integer(v_)) fail_msg("%s: not an integer", (path));                     \
    assert_int_equal(json_integer_value(v_), (want));                                     \
  } while (0)
#define expect_real(obj, path, want)                                                      \
  do {                                                                                    \
    json_t *v_ = jpath((obj), (path));                                                    \
    if (!json_is_real(v_)) fail_msg("%s: not a real", (path));                            \
    assert_float_equal(json_real_value(v_), (want), 1e-9);                                \
  } while (0)
#define expect_bool(obj, path, want)                                                      \
  do {                                                                                    \
    json_t *v_ = jpath((obj), (path));                                                    \
    if (!json_is_boolean(v_)) fail_msg("%s: not a boolean", (path));                      \
    assert_int_equal(json_is_true(v_), (want));                                           \
  } while (0)
#define expect_absent(obj, path)                                                          \
  do {                                                                                    \
    if (jpath((obj), (path))) fail_msg("%s: present, expected absent", (path));           \
  } while (0)
#define expect_size(obj, path, want)                                                      \
  do {                                                                                    \
    json_t *v_ = jpath((obj), (path));                                                    \
    if (!v_) fail_msg("%s: absent", (path));                                              \
    assert_int_equal(json_is_array(v_) ? json_array_size(v_) : json_object_size(v_), (want)); \
  } while (0)

#endif
