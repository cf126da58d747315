/* SPDX-License-Identifier: MIT */
/* test_curl_lazy.c -- libcurl loaded on first use (src/agent/curl_lazy.h): not mapped before
 * the first call, the same table at every call, and a clear error (also as the RPC source's
 * collection error) when the library or one of its symbols cannot be had. Each failing load runs
 * in a forked child, because a process loads (or fails to load) only once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "forkrun.h"
#include "curl_lazy.h"
#include "edgefleet/error.h"
#include "lotus_rpc.h"

static bool mapped(const char *so) {
  void *h = dlopen(so, RTLD_NOW | RTLD_NOLOAD);
  if (h) dlclose(h); /* NOLOAD took a reference */
  return h != NULL;
}

static void loads_once(void **state) {
  (void)state;
  assert_false(mapped(LAZY_CURL_SONAME)); /* nothing linked it in */
  char err[256] = "untouched";
  const struct lazy_curl *cu = lazy_curl(err, sizeof err);
  assert_non_null(cu);
  assert_string_equal(err, "untouched"); /* err only written on failure */
  assert_true(mapped(LAZY_CURL_SONAME));
#define NON_NULL(name) assert_non_null(cu->name);
  LAZY_CURL_FUNCS(NON_NULL)
#undef NON_NULL
  assert_string_equal(cu->curl_easy_strerror(CURLE_OK), "No error");
  assert_ptr_equal(lazy_curl(NULL, 0), cu); /* the same table, again */
}

struct child_report {
  int first_null, second_null, same_text, rpc_rc;
  char first[512], second[512], rpc_err[512];
};

/* In a child with EF_LAZY_CURL_SONAME=so: two lazy_curl() calls and one RPC collection. */
static void child(const void *arg, void *out) {
  struct child_report *r = out; /* zeroed by forkrun */
  setenv("EF_LAZY_CURL_SONAME", arg, 1);
  r->first_null = lazy_curl(r->first, sizeof r->first) == NULL;
  r->second_null = lazy_curl(r->second, sizeof r->second) == NULL;
  r->same_text = strcmp(r->first, r->second) == 0;
  char tiny[8];
  (void)lazy_curl(tiny, sizeof tiny); /* truncated, terminated */
  (void)lazy_curl(NULL, 0);
  if (strlen(tiny) != sizeof tiny - 1) r->same_text = 0;
  struct lotus_rpc *rpc = NULL;
  json_t *info, *workers, *jobs;
  r->rpc_rc = lotus_rpc_new("http://127.0.0.1:1", NULL, NULL, NULL, 500, &rpc, r->rpc_err,
                            sizeof r->rpc_err);
  if (r->rpc_rc == 0)
    r->rpc_rc = lotus_rpc_collect(rpc, 0, &info, &workers, &jobs, r->rpc_err, sizeof r->rpc_err);
  lotus_rpc_free(&rpc);
}

static void run_child(const char *so, struct child_report *rep) {
  forkrun(child, so, rep, sizeof *rep);
}

static void missing_library(void **state) {
  (void)state;
  struct child_report r;
  run_child("libef-no-such-curl.so.4", &r);
  assert_true(r.first_null);
  assert_true(r.second_null);
  assert_true(r.same_text);
  const char *want = "JSON-RPC source needs libcurl (libef-no-such-curl.so.4): ";
  assert_memory_equal(r.first, want, strlen(want));
  assert_non_null(strstr(r.first, "cannot open shared object file"));
  /* The RPC source starts, and each collection reports why it cannot work. */
  assert_int_equal(r.rpc_rc, EF_EIO);
  assert_string_equal(r.rpc_err, r.first);
}

static void missing_symbol(void **state) {
  (void)state;
  struct child_report r;
  run_child("libm.so.6", &r); /* loads, but has no curl_* */
  assert_true(r.first_null);
  assert_true(r.second_null);
  assert_true(r.same_text);
  const char *want = "JSON-RPC source needs libcurl (libm.so.6): ";
  assert_memory_equal(r.first, want, strlen(want));
  assert_non_null(strstr(r.first, "undefined symbol: curl_global_init"));
  assert_int_equal(r.rpc_rc, EF_EIO);
  assert_string_equal(r.rpc_err, r.first);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(missing_library),
      cmocka_unit_test(missing_symbol),
      cmocka_unit_test(loads_once), /* last: loads libcurl into this process */
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
