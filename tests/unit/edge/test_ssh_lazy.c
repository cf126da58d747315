/* SPDX-License-Identifier: MIT */
/* test_ssh_lazy.c -- libssh loaded on first use (src/edge/ssh_lazy.h): not mapped before the
 * first call, the same table at every call, and a clear error (also as upload_log's failure
 * message) when the library or one of its symbols cannot be had. Each failing load runs in a
 * forked child, because a process loads (or fails to load) only once.
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

#include "edge_internal.h"
#include "edgefleet/error.h"
#include "forkrun.h"
#include "ssh_lazy.h"

static bool mapped(const char *so) {
  void *h = dlopen(so, RTLD_NOW | RTLD_NOLOAD);
  if (h) dlclose(h); /* NOLOAD took a reference */
  return h != NULL;
}

static void loads_once(void **state) {
  (void)state;
  assert_false(mapped(LAZY_SSH_SONAME)); /* nothing linked it in */
  char err[256] = "untouched";
  const struct lazy_ssh *sh = lazy_ssh(err, sizeof err);
  assert_non_null(sh);
  assert_string_equal(err, "untouched"); /* err only written on failure */
  assert_true(mapped(LAZY_SSH_SONAME));
#define NON_NULL(name) assert_non_null(sh->name);
  LAZY_SSH_FUNCS(NON_NULL)
#undef NON_NULL
  ssh_session s = sh->ssh_new(); /* the table really calls into libssh */
  assert_non_null(s);
  assert_int_equal(sh->ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1"), SSH_OK);
  sh->ssh_free(s);
  assert_ptr_equal(lazy_ssh(NULL, 0), sh); /* the same table, again */
}

struct child_report {
  int first_null, second_null, same_text, upload_rc;
  char first[512], second[512], upload_msg[512];
};

/* In a child with EF_LAZY_SSH_SONAME=so: two lazy_ssh() calls and one upload. */
static void child(const void *arg, void *out) {
  struct child_report *r = out; /* zeroed by forkrun */
  setenv("EF_LAZY_SSH_SONAME", arg, 1);
  r->first_null = lazy_ssh(r->first, sizeof r->first) == NULL;
  r->second_null = lazy_ssh(r->second, sizeof r->second) == NULL;
  r->same_text = strcmp(r->first, r->second) == 0;
  char tiny[8];
  (void)lazy_ssh(tiny, sizeof tiny); /* truncated, terminated */
  (void)lazy_ssh(NULL, 0);
  if (strlen(tiny) != sizeof tiny - 1) r->same_text = 0;
  struct edge_conf conf;
  memset(&conf, 0, sizeof conf);
  conf.sftp_host = "127.0.0.1";
  conf.sftp_user = "nobody";
  conf.sftp_port = 1;
  conf.sftp_timeout = 500;
  r->upload_rc = sftp_upload(&conf, "/nonexistent/ef-test.log", "/tmp/x.log", r->upload_msg,
                             sizeof r->upload_msg);
}

static void run_child(const char *so, struct child_report *rep) {
  forkrun(child, so, rep, sizeof *rep);
}

static void missing_library(void **state) {
  (void)state;
  struct child_report r;
  run_child("libef-no-such-ssh.so.4", &r);
  assert_true(r.first_null);
  assert_true(r.second_null);
  assert_true(r.same_text);
  const char *want = "upload_log needs libssh (libef-no-such-ssh.so.4): ";
  assert_memory_equal(r.first, want, strlen(want));
  assert_non_null(strstr(r.first, "cannot open shared object file"));
  /* The order fails with that reason (and touches no file). */
  assert_int_equal(r.upload_rc, EF_ESYS);
  assert_string_equal(r.upload_msg, r.first);
}

static void missing_symbol(void **state) {
  (void)state;
  struct child_report r;
  run_child("libm.so.6", &r); /* loads, but has no ssh_* */
  assert_true(r.first_null);
  assert_true(r.second_null);
  assert_true(r.same_text);
  const char *want = "upload_log needs libssh (libm.so.6): ";
  assert_memory_equal(r.first, want, strlen(want));
  assert_non_null(strstr(r.first, "undefined symbol: ssh_new"));
  assert_int_equal(r.upload_rc, EF_ESYS);
  assert_string_equal(r.upload_msg, r.first);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(missing_library),
      cmocka_unit_test(missing_symbol),
      cmocka_unit_test(loads_once), /* last: loads libssh into this process */
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
