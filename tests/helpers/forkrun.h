/* SPDX-License-Identifier: MIT */
/* forkrun.h -- run a piece of a cmocka test in a forked child and get its report back.
 *
 * For code that does something once per process (a library loaded under pthread_once): each
 * case runs in a fresh child. fn(arg, out) fills `out` (out_len bytes, zeroed first) in the
 * child; the parent asserts that the child exited 0 and that the whole report arrived.
 */
#ifndef EF_TEST_FORKRUN_H
#define EF_TEST_FORKRUN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static inline void forkrun(void (*fn)(const void *arg, void *out), const void *arg, void *out,
                           size_t out_len) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    memset(out, 0, out_len);
    fn(arg, out);
    ssize_t n = write(fds[1], out, out_len);
    _exit(n == (ssize_t)out_len ? 0 : 1);
  }
  close(fds[1]);
  size_t got = 0;
  while (got < out_len) {
    ssize_t n = read(fds[0], (char *)out + got, out_len - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fds[0]);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(got, out_len);
}

#endif
