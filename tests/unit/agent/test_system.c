/* SPDX-License-Identifier: MIT */
/* test_system.c -- the system collector on the fixture trees in tests/data/agent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_conf.h"
#include "collector.h"
#include "edgefleet/error.h"
#include "mem.h"

/* A temporary directory holding `proc`, a symlink to one fixture sample, so that a test can move
 * the collector from sample t0 to sample t1 between two collections. */
struct fx {
  char tmp[64];
  char link[PATH_MAX];
  struct agent_conf conf;
  void *state;
};

static const char *data_dir(void) {
  const char *d = getenv("EF_TEST_DATA");
  assert_non_null(d); /* set by ef_unit_test() */
  return d;
}

static void point_proc(struct fx *f, const char *sample) {
  char target[PATH_MAX], tmp_link[PATH_MAX + 8];
  snprintf(target, sizeof target, "%s/agent/%s/proc", data_dir(), sample);
  snprintf(tmp_link, sizeof tmp_link, "%s.new", f->link);
  unlink(tmp_link);
  assert_int_equal(symlink(target, tmp_link), 0);
  assert_int_equal(rename(tmp_link, f->link), 0);
}

static void set_opt(struct fx *f, const char *key, const char *value) {
  char err[256];
  assert_int_equal(agent_conf_set(&f->conf, key, value, err, sizeof err), 0);
}

static void set_sys(struct fx *f, const char *tree) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/agent/%s", data_dir(), tree);
  set_opt(f, "sys_root", path);
}

static int setup(void **state) {
  struct fx *f = ef_calloc(1, sizeof *f);
  snprintf(f->tmp, sizeof f->tmp, "/tmp/efagent-sys-XXXXXX");
  assert_non_null(mkdtemp(f->tmp));
  snprintf(f->link, sizeof f->link, "%s/proc", f->tmp);
  assert_int_equal(agent_conf_init(&f->conf), 0);
  set_opt(f, "proc_root", f->link);
  set_sys(f, "sys");
  point_proc(f, "t0");
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fx *f = *state;
  collector_system.cleanup(f->state);
  unlink(f->link);
  rmdir(f->tmp);
  agent_conf_free(&f->conf);
  ef_free(f);
  return 0;
}

static void start(struct fx *f) {
  assert_int_equal(collector_system.init(&f->state, &f->conf), 0);
}

static json_t *collect(struct fx *f, int64_t now) {
  json_t *out = json_object();
  assert_int_equal(collector_system.collect(f->state, now, out), 0);
  return out;
}

static void assert_num(const json_t *obj, const char *key, double want) {
  json_t *v = json_object_get(obj, key);
  if (!json_is_number(v)) fail_msg("%s: not a number", key);
  double got = json_number_value(v);
  if (fabs(got - want) > 1e-6) fail_msg("%s: got %f, want %f", key, got, want);
}

/* The entry of array `arr` whose name is `name`, or NULL. */
static json_t *entry(const json_t *arr, const char *name) {
  size_t i;
  json_t *e;
  json_array_foreach(arr, i, e) {
    if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0) return e;
  }
  return NULL;
}

static void first_sample_has_values_but_no_rates(void **state) {
  struct fx *f = *state;
  start(f);
  json_t *out = collect(f, 10000);

  json_t *load = json_object_get(out, "load_avg");
  assert_non_null(load);
  assert_num(load, "1", 0.52);
  assert_num(load, "5", 0.58);
  assert_num(load, "15", 0.59);
  assert_int_equal(json_integer_value(json_object_get(out, "uptime_s")), 12345);
  json_t *mem = json_object_get(out, "memory");
  assert_int_equal(json_integer_value(json_object_get(mem, "available_mb")), 12000);
  assert_int_equal(json_integer_value(json_object_get(mem, "swap_total_mb")), 2048);
  assert_int_equal(json_integer_value(json_object_get(mem, "swap_used_mb")), 1024);
  /* coretemp's hottest input (52.0); acpitz's 99.0 is not a CPU sensor; hwmon beats thermal */
  assert_num(out, "cpu_temperature", 52.0);
  assert_true(json_is_string(json_object_get(out, "host_name")));

  assert_null(json_object_get(out, "cpu_usage_percent"));
  assert_null(json_object_get(out, "net_io"));
  assert_null(json_object_get(out, "disk_io"));
  json_decref(out);
}

static void second_sample_gives_rates(void **state) {
  struct fx *f = *state;
  start(f);
  json_decref(collect(f, 10000));
  point_proc(f, "t1");
  json_t *out = collect(f, 15000); /* 5 s later */

  /* total 10000 -> 11000 jiffies, idle+iowait 8500 -> 9100: busy 400 of 1000 */
  assert_num(out, "cpu_usage_percent", 40.0);
  assert_num(json_object_get(out, "load_avg"), "1", 1.25);
  assert_int_equal(json_integer_value(json_object_get(out, "uptime_s")), 12350);

  json_t *net = json_object_get(out, "net_io");
  assert_true(json_is_array(net));
  /* lo skipped, eth1 went backwards (skipped once), docker0 is new (no previous sample) */
  assert_int_equal(json_array_size(net), 2);
  assert_null(entry(net, "lo"));
  assert_null(entry(net, "eth1"));
  assert_null(entry(net, "docker0"));
  json_t *eth0 = entry(net, "eth0");
  assert_non_null(eth0);
  assert_num(eth0, "rx", 512000.0 / 5);  /* 102400 B/s */
  assert_num(eth0, "tx", 256000.0 / 5);  /* 51200 B/s */
  assert_num(eth0, "rxpck", 500.0 / 5);  /* 100/s */
  assert_num(eth0, "txpck", 250.0 / 5);  /* 50/s */
  json_t *wlan0 = entry(net, "wlan0");
  assert_non_null(wlan0);
  assert_num(wlan0, "rx", 1.0);
  assert_num(wlan0, "tx", 0.0);
  assert_num(wlan0, "rxpck", 0.2);
  assert_num(wlan0, "txpck", 0.0);

  json_t *disk = json_object_get(out, "disk_io");
  assert_true(json_is_array(disk));
  /* whole disks only: no loop0, ram0, sda1, nvme0n1p1 */
  assert_int_equal(json_array_size(disk), 2);
  json_t *sda = entry(disk, "sda");
  assert_non_null(sda);
  assert_num(sda, "read_bps", 10240.0 * 512 / 5);  /* 1 MiB/s */
  assert_num(sda, "write_bps", 20480.0 * 512 / 5); /* 2 MiB/s */
  json_t *nvme = entry(disk, "nvme0n1");
  assert_non_null(nvme);
  assert_num(nvme, "read_bps", 0.0);
  assert_num(nvme, "write_bps", 1000.0 * 512 / 5);
  json_decref(out);

  /* the same sample again 1 s later: zero rates; no CPU share when no jiffy elapsed */
  out = collect(f, 16000);
  assert_null(json_object_get(out, "cpu_usage_percent"));
  assert_num(entry(json_object_get(out, "net_io"), "eth0"), "rx", 0.0);
  assert_num(entry(json_object_get(out, "disk_io"), "sda"), "write_bps", 0.0);
  json_decref(out);
}

static void no_time_elapsed_gives_no_rates(void **state) {
  struct fx *f = *state;
  start(f);
  json_decref(collect(f, 10000));
  point_proc(f, "t1");
  json_t *out = collect(f, 10000);
  assert_null(json_object_get(out, "net_io"));
  assert_null(json_object_get(out, "disk_io"));
  assert_non_null(json_object_get(out, "load_avg"));
  json_decref(out);
}

static void missing_files_omit_fields(void **state) {
  struct fx *f = *state;
  set_opt(f, "proc_root", f->tmp); /* an empty directory (but for the proc link) */
  set_opt(f, "sys_root", "/nonexistent/sys");
  start(f);
  for (int i = 0; i < 2; i++) {
    json_t *out = collect(f, 10000 + i * 5000);
    /* only the host name, which does not come from proc_root */
    assert_int_equal(json_object_size(out), 1);
    assert_non_null(json_object_get(out, "host_name"));
    json_decref(out);
  }
}

static void garbage_files_give_no_fields(void **state) {
  struct fx *f = *state;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/agent/garbage/proc", data_dir());
  set_opt(f, "proc_root", path);
  set_sys(f, "garbage/sys");
  start(f);
  for (int i = 0; i < 3; i++) {
    json_t *out = collect(f, 10000 + i * 5000);
    const char *key;
    json_t *v;
    json_object_foreach(out, key, v) {
      if (strcmp(key, "host_name") != 0) fail_msg("unexpected field %s from garbage", key);
    }
    json_decref(out);
  }
}

static void garbage_after_good_sample_gives_no_rates(void **state) {
  struct fx *f = *state;
  start(f);
  json_decref(collect(f, 10000));
  point_proc(f, "garbage");
  json_t *out = collect(f, 15000);
  assert_null(json_object_get(out, "cpu_usage_percent"));
  assert_null(json_object_get(out, "net_io"));
  assert_null(json_object_get(out, "disk_io"));
  json_decref(out);
  /* and back to a good one: no rates either, the previous sample was unusable */
  point_proc(f, "t1");
  out = collect(f, 20000);
  assert_null(json_object_get(out, "cpu_usage_percent"));
  assert_null(json_object_get(out, "net_io"));
  json_decref(out);
}

static void thermal_zones_when_no_hwmon(void **state) {
  struct fx *f = *state;
  set_sys(f, "sys_thermal");
  start(f);
  json_t *out = collect(f, 10000);
  /* x86_pkg_temp 61.0 and cpu-thermal 47.25: the hottest; acpitz 95.0 is not the CPU */
  assert_num(out, "cpu_temperature", 61.0);
  json_decref(out);
}

static void init_fails_without_proc(void **state) {
  struct fx *f = *state;
  set_opt(f, "proc_root", "/nonexistent/proc");
  assert_int_not_equal(collector_system.init(&f->state, &f->conf), 0);
  assert_null(f->state);
}

/* ---- the set of collectors -------------------------------------------------------------- */

static int fake_calls;

static int fake_init(void **st, const struct agent_conf *conf) {
  (void)conf;
  *st = ef_strdup("fake");
  return 0;
}

static int fake_collect(void *st, int64_t now, json_t *out) {
  (void)st;
  (void)now;
  fake_calls++;
  json_object_set_new(out, "fake", json_integer(fake_calls));
  return fake_calls >= 2 ? EF_EIO : 0; /* the second call fails */
}

static const struct ef_collector fake = {"fake", fake_init, fake_collect, ef_free};

static void set_runs_and_disables(void **state) {
  struct fx *f = *state;
  struct collectors *set = NULL;
  char err[256] = "";
  assert_int_equal(collectors_new(&f->conf, &set, err, sizeof err), 0);
  assert_int_equal(collectors_enabled(set), 1);
  fake_calls = 0;
  assert_int_equal(collectors_add(set, &fake, &f->conf), 0);
  assert_int_equal(collectors_enabled(set), 2);

  char *text = collectors_status_cb(set);
  json_error_t jerr;
  json_t *obj = json_loads(text, 0, &jerr);
  free(text);
  assert_true(json_is_object(obj));
  assert_non_null(json_object_get(obj, "load_avg"));
  assert_int_equal(json_integer_value(json_object_get(obj, "fake")), 1);
  json_decref(obj);

  json_decref(collectors_collect(set, 20000)); /* fake fails here */
  assert_int_equal(collectors_enabled(set), 1);
  obj = collectors_collect(set, 30000);
  assert_null(json_object_get(obj, "fake"));
  assert_non_null(json_object_get(obj, "load_avg"));
  assert_int_equal(fake_calls, 2);
  json_decref(obj);
  collectors_free(&set);
  assert_null(set);
  collectors_free(&set); /* no-op */
}

static void set_rejects_unknown_names(void **state) {
  struct fx *f = *state;
  struct collectors *set = NULL;
  char err[256] = "";
  set_opt(f, "collectors", "system, tpu");
  assert_int_equal(collectors_new(&f->conf, &set, err, sizeof err), EF_ECONFIG);
  assert_null(set);
  assert_non_null(strstr(err, "'tpu'"));

  set_opt(f, "collectors", "system,system");
  assert_int_equal(collectors_new(&f->conf, &set, err, sizeof err), 0);
  assert_int_equal(collectors_enabled(set), 1);
  collectors_free(&set);

  set_opt(f, "collectors", "");
  assert_int_equal(collectors_new(&f->conf, &set, err, sizeof err), 0);
  assert_int_equal(collectors_enabled(set), 0);
  char *text = collectors_status_cb(set);
  assert_string_equal(text, "{}");
  free(text);
  collectors_free(&set);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(first_sample_has_values_but_no_rates, setup, teardown),
    cmocka_unit_test_setup_teardown(second_sample_gives_rates, setup, teardown),
    cmocka_unit_test_setup_teardown(no_time_elapsed_gives_no_rates, setup, teardown),
    cmocka_unit_test_setup_teardown(missing_files_omit_fields, setup, teardown),
    cmocka_unit_test_setup_teardown(garbage_files_give_no_fields, setup, teardown),
    cmocka_unit_test_setup_teardown(garbage_after_good_sample_gives_no_rates, setup, teardown),
    cmocka_unit_test_setup_teardown(thermal_zones_when_no_hwmon, setup, teardown),
    cmocka_unit_test_setup_teardown(init_fails_without_proc, setup, teardown),
    cmocka_unit_test_setup_teardown(set_runs_and_disables, setup, teardown),
    cmocka_unit_test_setup_teardown(set_rejects_unknown_names, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
