/* SPDX-License-Identifier: MIT */
/* test_sysinfo.c -- sysinfo readers on fixture /proc files (tests/data/sysinfo) and psutil's
 * disk arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "edgefleet/error.h"
#include "sysinfo.h"

#define assert_close(a, b, eps) assert_true((a) - (b) < (eps) && (b) - (a) < (eps))

static char root[1024], bad[1024];

static int setup(void **state) {
  (void)state;
  const char *d = getenv("EF_TEST_DATA");
  snprintf(root, sizeof root, "%s/sysinfo/proc", d ? d : "tests/data");
  snprintf(bad, sizeof bad, "%s/sysinfo/bad", d ? d : "tests/data");
  return 0;
}

static void test_cpu(void **state) {
  (void)state;
  struct sysinfo_cpu c;
  assert_int_equal(sysinfo_cpu_read(root, 100, &c), 0);
  assert_close(c.user, 1234.56, 1e-9);
  assert_close(c.nice, 7.89, 1e-9);
  assert_close(c.system, 456.78, 1e-9);
  assert_close(c.idle, 98765.43, 1e-9);
  assert_close(c.iowait, 21.0, 1e-9);
  assert_close(c.softirq, 34.56, 1e-9);
  json_t *j = sysinfo_cpu_json(&c);
  assert_close(json_real_value(json_object_get(j, "user_cpu_time")), 1234.56, 1e-9);
  assert_close(json_real_value(json_object_get(j, "io_wait_cpu_time")), 21.0, 1e-9);
  assert_int_equal(json_object_size(j), 4);
  json_decref(j);
  assert_int_equal(sysinfo_cpu_read(bad, 100, &c), EF_EPARSE);
  assert_int_equal(sysinfo_cpu_read("/nonexistent", 100, &c), EF_ESYS);
}

static void test_mem(void **state) {
  (void)state;
  struct sysinfo_mem m;
  assert_int_equal(sysinfo_mem_read(root, &m), 0);
  assert_int_equal(m.total, 16303428ULL * 1024);
  assert_int_equal(m.cached, (5678901ULL + 456789) * 1024); /* psutil adds SReclaimable */
  json_t *j = sysinfo_mem_json(&m);
  /* psutil: total // 1024 // 1024 etc. */
  assert_int_equal(json_integer_value(json_object_get(j, "total_memory_mb")), 15921);
  assert_int_equal(json_integer_value(json_object_get(j, "free_memory_mb")), 1205);
  assert_int_equal(json_integer_value(json_object_get(j, "buff_cache_mb")),
                   ((345678LL + 5678901 + 456789) * 1024) / 1024 / 1024);
  json_decref(j);
  assert_int_equal(sysinfo_mem_read(bad, &m), EF_EPARSE);
}

static void test_disk(void **state) {
  (void)state;
  struct sysinfo_disk d;
  /* 1000 blocks of 4 KiB, 400 free, 350 available to users */
  sysinfo_disk_compute(1000, 400, 350, 4096, &d);
  assert_int_equal(d.total, 4096000);
  assert_int_equal(d.used, 600 * 4096);
  assert_close(d.percent, 63.2, 1e-9); /* 600 / 950 = 63.157.. -> 63.2 */
  sysinfo_disk_compute(0, 0, 0, 4096, &d);
  assert_close(d.percent, 0.0, 1e-9);
  sysinfo_disk_compute(262144, 131072, 131072, 4096, &d);
  json_t *j = sysinfo_disk_json(&d);
  assert_int_equal(json_integer_value(json_object_get(j, "root_total_size_mb")), 1024);
  assert_int_equal(json_integer_value(json_object_get(j, "root_used_size_mb")), 512);
  assert_close(json_real_value(json_object_get(j, "root_used_percent")), 50.0, 1e-9);
  json_decref(j);
  assert_int_equal(sysinfo_disk_read("/", &d), 0);
  assert_true(d.total > 0 && d.percent >= 0 && d.percent <= 100);
}

static void test_add_base(void **state) {
  (void)state;
  json_t *o = json_object();
  assert_int_equal(sysinfo_add_base(o, root, "/"), 3);
  assert_non_null(json_object_get(o, "CPU_info"));
  assert_non_null(json_object_get(o, "Memory_info"));
  assert_non_null(json_object_get(o, "Disk_info"));
  json_decref(o);
  o = json_object();
  assert_int_equal(sysinfo_add_base(o, bad, "/nonexistent/x"), 0);
  assert_int_equal(json_object_size(o), 0);
  json_decref(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cpu),
      cmocka_unit_test(test_mem),
      cmocka_unit_test(test_disk),
      cmocka_unit_test(test_add_base),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
