/* SPDX-License-Identifier: MIT */
/* test_conf.c -- the agent's option table and order lines, from a file and the command line. */
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

#include "agent_conf.h"
#include "edgefleet/error.h"
#include "log.h"
#include "mem.h"

struct fx {
  char path[PATH_MAX];
  struct agent_conf conf;
  char err[512];
};

static int setup(void **state) {
  struct fx *f = ef_calloc(1, sizeof *f);
  snprintf(f->path, sizeof f->path, "/tmp/efagent-conf-XXXXXX");
  int fd = mkstemp(f->path);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(agent_conf_init(&f->conf), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fx *f = *state;
  unlink(f->path);
  agent_conf_free(&f->conf);
  ef_free(f);
  return 0;
}

/* Write `text` to the fixture's file and parse it with the agent's setter. */
static int parse(struct fx *f, const char *text) {
  FILE *fp = fopen(f->path, "w");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
  f->err[0] = '\0';
  return cfg_parse_file(f->path, agent_conf_setter, &f->conf, f->err, sizeof f->err);
}

/* The error must be exactly "<file>:<line>: <what>". */
static void assert_err(struct fx *f, int line, const char *what) {
  char want[PATH_MAX + 600];
  snprintf(want, sizeof want, "%s:%d: %s", f->path, line, what);
  assert_string_equal(f->err, want);
}

static void defaults(void **state) {
  struct fx *f = *state;
  assert_string_equal(f->conf.proc_root, "/proc");
  assert_string_equal(f->conf.sys_root, "/sys");
  assert_string_equal(f->conf.collectors, "system");
  assert_int_equal(f->conf.log_level, EF_LOG_INFO);
  assert_int_equal(f->conf.lotus_source, LOTUS_SOURCE_CLI);
  assert_int_equal(f->conf.order_timeout, 8000);
  assert_int_equal(f->conf.n_orders, 0);
}

static void file_with_options_and_orders(void **state) {
  struct fx *f = *state;
  assert_int_equal(parse(f, "# agent\n"
                            "proc_root = /tmp/fake/proc\n"
                            "sys-root /tmp/fake/sys\n"
                            "\n"
                            "order.say = /bin/echo {text}   # trailing comment\n"
                            "order.reboot_app = /usr/bin/systemctl restart \"my app\"\n"
                            "order_timeout = 2.5s\n"),
                   0);
  assert_string_equal(f->conf.proc_root, "/tmp/fake/proc");
  assert_string_equal(f->conf.sys_root, "/tmp/fake/sys");
  assert_int_equal(f->conf.order_timeout, 2500);
  assert_int_equal(f->conf.n_orders, 2);
  const struct agent_order *say = agent_conf_order(&f->conf, "say");
  assert_non_null(say);
  assert_int_equal(say->argc, 2);
  assert_string_equal(say->argv[0], "/bin/echo");
  assert_string_equal(say->argv[1], "{text}");
  assert_string_equal(say->tmpl, "/bin/echo {text}");
  assert_int_equal(say->timeout_ms, 2500); /* order_timeout applies to orders read before it */
  const struct agent_order *app = agent_conf_order(&f->conf, "reboot_app");
  assert_non_null(app);
  assert_int_equal(app->argc, 3);
  assert_string_equal(app->argv[2], "my app");
  assert_null(agent_conf_order(&f->conf, "nope"));
}

static void unknown_option_names_file_and_line(void **state) {
  struct fx *f = *state;
  assert_int_equal(parse(f, "proc_root = /p\n# comment\n\nbogus_option = 1\nsys_root = /s\n"),
                   EF_ECONFIG);
  assert_err(f, 4, "unknown option 'bogus_option'");
}

static void bad_values_name_file_and_line(void **state) {
  struct fx *f = *state;
  assert_int_equal(parse(f, "order_timeout = soon\n"), EF_ECONFIG);
  assert_err(f, 1, "order_timeout: 'soon' is not a duration (e.g. 500ms, 7.5s)");
  assert_int_equal(parse(f, "\norder_timeout = 2h\n"), EF_ECONFIG);
  assert_non_null(strstr(f->err, ":2: order_timeout: 2h is out of range"));
  assert_int_equal(parse(f, "log_level = loud\n"), EF_ECONFIG);
  assert_err(f, 1, "log_level: 'loud' is not one of error, warn, info, debug");
  assert_int_equal(parse(f, "log_level = Debug\nlotus_source = rpc\n"), 0); /* names: any case */
  assert_int_equal(f->conf.log_level, EF_LOG_DEBUG);
  assert_int_equal(f->conf.lotus_source, LOTUS_SOURCE_RPC);
  assert_int_equal(parse(f, "lotus_source = grpc\n"), EF_ECONFIG);
  assert_err(f, 1, "lotus_source: 'grpc' is not one of cli, rpc");
  assert_int_equal(parse(f, "proc_root =\n"), EF_ECONFIG);
  assert_err(f, 1, "proc_root: must not be empty");
}

static void bad_orders_name_file_and_line(void **state) {
  struct fx *f = *state;
  assert_int_equal(parse(f, "order.ok = /bin/true\norder.x = /bin/echo \"open\n"), EF_ECONFIG);
  assert_err(f, 2, "order.x: unterminated \" in '/bin/echo \"open'");
  assert_int_equal(parse(f, "order.empty =\n"), EF_ECONFIG);
  assert_err(f, 1, "order.empty: empty command");
  assert_int_equal(parse(f, "order.restart = /sbin/reboot\n"), EF_ECONFIG);
  assert_err(f, 1, "order 'restart' is built into the library and cannot be configured");
  assert_int_equal(parse(f, "order.upload_log = /bin/true\n"), EF_ECONFIG);
  assert_int_equal(parse(f, "order. = /bin/true\n"), EF_ECONFIG);
  assert_non_null(strstr(f->err, ":1: order name '' must be"));
  assert_int_equal(parse(f, "order.a/b = /bin/true\n"), EF_ECONFIG);
  assert_non_null(strstr(f->err, "order name 'a/b'"));
}

static void command_line_overrides_file(void **state) {
  struct fx *f = *state;
  assert_int_equal(parse(f, "order.say = /bin/echo {text}\nproc_root = /p\n"), 0);
  char *argv[] = {"agent", "--config", f->path, "--proc-root", "/q",
                  "--order.say=/bin/printf %s {text}", "--order-timeout", "1s", NULL};
  int argc = 8;
  assert_string_equal(cfg_config_arg(argc, argv, 1), f->path);
  assert_int_equal(cfg_parse_args(argc, argv, 1, agent_conf_setter, &f->conf, f->err,
                                  sizeof f->err), 0);
  assert_string_equal(f->conf.proc_root, "/q");
  assert_int_equal(f->conf.n_orders, 1); /* replaced, not added */
  const struct agent_order *say = agent_conf_order(&f->conf, "say");
  assert_int_equal(say->argc, 3);
  assert_string_equal(say->argv[0], "/bin/printf");
  assert_int_equal(say->timeout_ms, 1000);

  char *bad[] = {"agent", "--bogus", "1", NULL};
  assert_int_equal(cfg_parse_args(3, bad, 1, agent_conf_setter, &f->conf, f->err,
                                  sizeof f->err), EF_ECONFIG);
  assert_string_equal(f->err, "unknown option --bogus");
}

static void missing_file_is_an_error(void **state) {
  struct fx *f = *state;
  assert_int_equal(cfg_parse_file("/nonexistent/agent.conf", agent_conf_setter, &f->conf, f->err,
                                  sizeof f->err), EF_ECONFIG);
  assert_string_equal(f->err, "/nonexistent/agent.conf: No such file or directory");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(defaults, setup, teardown),
    cmocka_unit_test_setup_teardown(file_with_options_and_orders, setup, teardown),
    cmocka_unit_test_setup_teardown(unknown_option_names_file_and_line, setup, teardown),
    cmocka_unit_test_setup_teardown(bad_values_name_file_and_line, setup, teardown),
    cmocka_unit_test_setup_teardown(bad_orders_name_file_and_line, setup, teardown),
    cmocka_unit_test_setup_teardown(command_line_overrides_file, setup, teardown),
    cmocka_unit_test_setup_teardown(missing_file_is_an_error, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
