/* SPDX-License-Identifier: MIT */
/* test_orders.c -- custom orders: template split, {param} substitution, the runner's limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "edgefleet/error.h"
#include "mem.h"
#include "orders.h"

static char msg[16384];

/* Build an order from a template (timeout in ms), run it, return order_run's code. */
static int run(const char *tmpl, int64_t timeout_ms, const char *params) {
  struct agent_order o = {.name = "t", .tmpl = (char *)tmpl, .timeout_ms = timeout_ms};
  char err[256];
  assert_int_equal(order_template_split(tmpl, &o.argv, &o.argc, err, sizeof err), 0);
  memset(msg, 'X', sizeof msg);
  int rc = order_run(&o, params, msg, sizeof msg);
  order_argv_free(o.argv);
  return rc;
}

/* No child of this process is left, reaped or not. */
static void assert_no_children(void) {
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
}

static void split_words_and_quotes(void **state) {
  (void)state;
  char **argv;
  int argc;
  char err[256];
  assert_int_equal(order_template_split("  prog \"a b\"  c\"d e\"f \"\" \"q\\\"x\\\\\" t\\n ",
                                        &argv, &argc, err, sizeof err), 0);
  assert_int_equal(argc, 6);
  assert_string_equal(argv[0], "prog");
  assert_string_equal(argv[1], "a b");
  assert_string_equal(argv[2], "cd ef");
  assert_string_equal(argv[3], "");
  assert_string_equal(argv[4], "q\"x\\");
  assert_string_equal(argv[5], "t\\n"); /* backslashes outside quotes are plain characters */
  assert_null(argv[6]);
  order_argv_free(argv);

  assert_int_equal(order_template_split("prog \"open", &argv, &argc, err, sizeof err), EF_ECONFIG);
  assert_non_null(strstr(err, "unterminated"));
  assert_int_equal(order_template_split("   ", &argv, &argc, err, sizeof err), EF_ECONFIG);
  assert_non_null(strstr(err, "empty"));
  assert_int_equal(order_template_split("", &argv, &argc, err, sizeof err), EF_ECONFIG);
}

static void echo_with_substitution(void **state) {
  (void)state;
  assert_int_equal(run("/bin/echo hello {name}! n={n} r={r} b={b} \"{not a name}\" {} "
                       "x{name}y {{name}}",
                       5000, "{\"name\":\"world\",\"n\":42,\"r\":1.5,\"b\":true}"), 0);
  assert_string_equal(msg, "hello world! n=42 r=1.5 b=true {not a name} {} xworldy {world}");
}

static void quoted_argument_keeps_spaces(void **state) {
  (void)state;
  assert_int_equal(run("/usr/bin/printf [%s] \"two  spaces\" \"{text} here\"", 5000,
                       "{\"text\":\"a  b\"}"), 0);
  assert_string_equal(msg, "[two  spaces][a  b here]");
}

static void params_are_never_shell_text(void **state) {
  (void)state;
  assert_int_equal(run("/bin/echo {text}", 5000, "{\"text\":\"$(id); rm -rf / `id` | cat\"}"), 0);
  assert_string_equal(msg, "$(id); rm -rf / `id` | cat");
}

static void missing_param_fails(void **state) {
  (void)state;
  assert_int_not_equal(run("/bin/echo {text} {other}", 5000, "{\"text\":\"x\"}"), 0);
  assert_string_equal(msg, "missing param 'other'");
  assert_int_not_equal(run("/bin/echo {text}", 5000, NULL), 0); /* no params at all */
  assert_string_equal(msg, "missing param 'text'");
}

static void bad_params_fail(void **state) {
  (void)state;
  assert_int_not_equal(run("/bin/echo {o}", 5000, "{\"o\":{\"a\":1}}"), 0);
  assert_non_null(strstr(msg, "must be a string, number or boolean"));
  assert_int_not_equal(run("/bin/echo {o}", 5000, "{\"o\":null}"), 0);
  assert_int_not_equal(run("/bin/echo hi", 5000, "not json"), 0);
  assert_string_equal(msg, "params is not a JSON object");
  assert_int_not_equal(run("/bin/echo hi", 5000, "[1,2]"), 0);
}

static void program_is_not_substituted(void **state) {
  (void)state;
  assert_int_not_equal(run("{prog} x", 5000, "{\"prog\":\"/bin/echo\"}"), 0);
  assert_string_equal(msg, "cannot run '{prog}': No such file or directory");
}

static void nonzero_exit_fails_with_output(void **state) {
  (void)state;
  assert_int_not_equal(run("/bin/sh -c \"echo out; echo oops >&2; exit 3\"", 5000, "{}"), 0);
  assert_string_equal(msg, "exit 3: out\noops");
  assert_int_not_equal(run("/bin/false", 5000, "{}"), 0);
  assert_string_equal(msg, "exit 1");
}

static void success_without_output_says_ok(void **state) {
  (void)state;
  assert_int_equal(run("/bin/true", 5000, "{}"), 0);
  assert_string_equal(msg, "ok");
  /* stdin is /dev/null: cat ends at once */
  assert_int_equal(run("/bin/cat", 5000, "{}"), 0);
  assert_string_equal(msg, "ok");
  assert_no_children();
}

static void killed_by_signal_fails(void **state) {
  (void)state;
  assert_int_not_equal(run("/bin/sh -c \"echo bye; kill -9 $$\"", 5000, "{}"), 0);
  assert_string_equal(msg, "killed by signal 9: bye");
}

static void timeout_kills_and_reaps(void **state) {
  (void)state;
  int64_t t0 = ef_mono_ms();
  assert_int_not_equal(run("/bin/sleep 30", 1000, "{}"), 0);
  int64_t took = ef_mono_ms() - t0;
  assert_string_equal(msg, "timed out after 1s");
  assert_true(took >= 1000);
  assert_true(took < 2500);
  assert_no_children();
}

static void timeout_escalates_to_sigkill(void **state) {
  (void)state;
  /* the shell ignores SIGTERM and so does its sleep: SIGKILL 1 s later ends the group */
  int64_t t0 = ef_mono_ms();
  assert_int_not_equal(run("/bin/sh -c \"trap '' TERM; sleep 30; echo never\"", 500, "{}"), 0);
  int64_t took = ef_mono_ms() - t0;
  assert_string_equal(msg, "timed out after 500ms");
  assert_true(took >= 1500);
  assert_true(took < 3500);
  assert_no_children();
}

static void background_grandchild_does_not_hold_the_result(void **state) {
  (void)state;
  /* the shell exits at once; its background sleep keeps the output pipe open for 3 s */
  int64_t t0 = ef_mono_ms();
  assert_int_equal(run("/bin/sh -c \"sleep 3 & echo started\"", 5000, "{}"), 0);
  assert_true(ef_mono_ms() - t0 < 1000);
  assert_string_equal(msg, "started");
}

static void big_output_is_truncated(void **state) {
  (void)state;
  /* 200 kB, far more than a pipe buffer: the runner must keep draining or the child blocks */
  assert_int_equal(run("/bin/sh -c \"yes abcdefg | head -c 200000\"", 5000, "{}"), 0);
  const char *note = " [output truncated at 4096 bytes]";
  size_t len = strlen(msg);
  assert_int_equal(len, 4095 + strlen(note)); /* the last byte of 4096 is a newline, trimmed */
  assert_string_equal(msg + len - strlen(note), note);
  assert_memory_equal(msg, "abcdefg\nabcdefg\n", 16);

  assert_int_not_equal(run("/bin/sh -c \"yes x | head -c 10000; exit 2\"", 5000, "{}"), 0);
  assert_memory_equal(msg, "exit 2: x\nx\n", 12);
  assert_non_null(strstr(msg, note));
}

static void missing_program_is_a_clear_failure(void **state) {
  (void)state;
  assert_int_not_equal(run("/nonexistent/prog --flag", 5000, "{}"), 0);
  assert_string_equal(msg, "cannot run '/nonexistent/prog': No such file or directory");
  assert_int_not_equal(run("no-such-program-edgefleet x", 5000, "{}"), 0);
  assert_string_equal(msg, "cannot run 'no-such-program-edgefleet': No such file or directory");
  assert_int_not_equal(run("/etc/passwd", 5000, "{}"), 0);
  assert_string_equal(msg, "cannot run '/etc/passwd': Permission denied");
  assert_no_children();
}

static void program_found_in_path(void **state) {
  (void)state;
  assert_int_equal(run("echo via PATH", 5000, "{}"), 0);
  assert_string_equal(msg, "via PATH");
}

static void daemon_fds_do_not_leak(void **state) {
  (void)state;
  int fd = open("/dev/null", O_RDONLY); /* not close-on-exec on purpose */
  assert_true(fd >= 0);
  assert_int_equal(dup2(fd, 100), 100);
  assert_int_equal(run("/bin/ls /proc/self/fd", 5000, "{}"), 0);
  /* ls sees its stdin, stdout, stderr and its own directory handle, nothing of ours */
  assert_string_equal(msg, "0\n1\n2\n3");
  close(100);
  close(fd);
}

static void output_is_made_valid_utf8(void **state) {
  (void)state;
  assert_int_equal(run("/usr/bin/printf \"\\377ok \\303\\251 \\303\"", 5000, "{}"), 0);
  assert_string_equal(msg, "?ok \xc3\xa9 ?");
}

static void small_message_buffer(void **state) {
  (void)state;
  struct agent_order o = {.name = "t", .tmpl = "/bin/echo", .timeout_ms = 5000};
  char err[256], small[8];
  assert_int_equal(order_template_split("/bin/echo abcdefghijkl", &o.argv, &o.argc, err,
                                        sizeof err), 0);
  assert_int_equal(order_run(&o, "{}", small, sizeof small), 0);
  assert_string_equal(small, "abcdefg");
  assert_int_equal(order_handler(&o, "t", "{}", small, sizeof small), 0);
  assert_string_equal(small, "abcdefg");
  order_argv_free(o.argv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(split_words_and_quotes),
    cmocka_unit_test(echo_with_substitution),
    cmocka_unit_test(quoted_argument_keeps_spaces),
    cmocka_unit_test(params_are_never_shell_text),
    cmocka_unit_test(missing_param_fails),
    cmocka_unit_test(bad_params_fail),
    cmocka_unit_test(program_is_not_substituted),
    cmocka_unit_test(nonzero_exit_fails_with_output),
    cmocka_unit_test(success_without_output_says_ok),
    cmocka_unit_test(killed_by_signal_fails),
    cmocka_unit_test(timeout_kills_and_reaps),
    cmocka_unit_test(timeout_escalates_to_sigkill),
    cmocka_unit_test(background_grandchild_does_not_hold_the_result),
    cmocka_unit_test(big_output_is_truncated),
    cmocka_unit_test(missing_program_is_a_clear_failure),
    cmocka_unit_test(program_found_in_path),
    cmocka_unit_test(daemon_fds_do_not_leak),
    cmocka_unit_test(output_is_made_valid_utf8),
    cmocka_unit_test(small_message_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
