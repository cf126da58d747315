/* SPDX-License-Identifier: MIT */
/* test_gpu.c -- the gpu collector (src/agent/collectors/gpu.c) against the NVML-shaped fake
 * library (tests/fake-nvml, loaded through EF_LAZY_NVML_SONAME) and the fake amdgpu sysfs tree
 * tests/data/agent/gpu-amd: the figures per GPU, the error paths (power not supported, an
 * unknown error logged once, a lost GPU, nvmlInit failing, no GPU at all), NVML mapped only
 * when the collector starts, nvmlShutdown balancing nvmlInit, and a missing library or symbol
 * (in forked children: a process loads NVML once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_conf.h"
#include "collector.h"
#include "edgefleet/error.h"
#include "forkrun.h"
#include "gpu_nvml.h"
#include "log.h"

static const char *fake_lib(void) {
  const char *p = getenv("EF_FAKE_NVML_LIB");
  assert_non_null(p); /* set by tests/unit/agent/CMakeLists.txt */
  return p;
}

static bool mapped(const char *so) {
  void *h = dlopen(so, RTLD_NOW | RTLD_NOLOAD);
  if (h) dlclose(h); /* NOLOAD took a reference */
  return h != NULL;
}

/* nvmlInit_v2 calls not shut down yet, from the fake itself. */
static int fake_inits(void) {
  void *h = dlopen(fake_lib(), RTLD_NOW | RTLD_NOLOAD);
  assert_non_null(h);
  int (*fn)(void);
  void *sym = dlsym(h, "fake_nvml_inits");
  assert_non_null(sym);
  memcpy(&fn, &sym, sizeof fn);
  int n = fn();
  dlclose(h);
  return n;
}

static void conf_for(struct agent_conf *conf, const char *tree) {
  char path[PATH_MAX], err[256];
  const char *d = getenv("EF_TEST_DATA");
  assert_non_null(d);
  snprintf(path, sizeof path, "%s/agent/%s", d, tree);
  assert_int_equal(agent_conf_init(conf), 0);
  assert_int_equal(agent_conf_set(conf, "sys_root", path, err, sizeof err), 0);
}

/* One collection by a fresh collector on sys tree `tree` with EF_FAKE_NVML=mode (NULL: none);
 * *rc gets init's code; the gpuInfo array (the caller's) or NULL. */
static json_t *collect_once(const char *tree, const char *mode, int *rc) {
  struct agent_conf conf;
  conf_for(&conf, tree);
  if (mode) setenv("EF_FAKE_NVML", mode, 1);
  else unsetenv("EF_FAKE_NVML");
  void *st = NULL;
  json_t *gi = NULL;
  *rc = collector_gpu.init(&st, &conf);
  if (*rc == 0) {
    json_t *out = json_object();
    assert_int_equal(collector_gpu.collect(st, 1000, out), 0);
    gi = json_incref(json_object_get(out, "gpuInfo"));
    json_decref(out);
    collector_gpu.cleanup(st);
  } else {
    assert_null(st);
  }
  unsetenv("EF_FAKE_NVML");
  agent_conf_free(&conf);
  return gi;
}

static json_int_t geti(json_t *g, const char *k) {
  json_t *v = json_object_get(g, k);
  assert_true(json_is_integer(v));
  return json_integer_value(v);
}

static double getr(json_t *g, const char *k) {
  json_t *v = json_object_get(g, k);
  assert_true(json_is_number(v));
  return json_number_value(v);
}

static const char *gets(json_t *g, const char *k) {
  const char *s = json_string_value(json_object_get(g, k));
  assert_non_null(s);
  return s;
}

#define MIB (1024LL * 1024LL)

static void nvidia_figures(void **state) {
  (void)state;
  assert_false(mapped(fake_lib())); /* nothing maps NVML before the collector starts */
  int rc;
  json_t *gi = collect_once("gpu-none", NULL, &rc);
  assert_int_equal(rc, 0);
  assert_true(mapped(fake_lib()));
  assert_int_equal(fake_inits(), 0); /* cleanup shut NVML down again */
  assert_int_equal(json_array_size(gi), 2);

  json_t *g = json_array_get(gi, 0);
  assert_int_equal(geti(g, "index"), 0);
  assert_string_equal(gets(g, "vendor"), "nvidia");
  assert_string_equal(gets(g, "name"), "NVIDIA GeForce RTX 3090");
  assert_int_equal(geti(g, "temperature"), 67);
  assert_int_equal(geti(g, "utilization"), 98);
  assert_int_equal(geti(g, "memoryUsed"), 10240 * MIB);
  assert_int_equal(geti(g, "memoryTotal"), 24576 * MIB);
  assert_float_equal(getr(g, "power"), 341.5, 1e-9); /* 341512 mW */
  assert_int_equal(json_object_size(g), 8);

  g = json_array_get(gi, 1);
  assert_int_equal(geti(g, "index"), 1);
  assert_string_equal(gets(g, "name"), "NVIDIA RTX A5000");
  assert_int_equal(geti(g, "temperature"), 41);
  assert_int_equal(geti(g, "utilization"), 0);
  assert_int_equal(geti(g, "memoryUsed"), 312 * MIB);
  assert_int_equal(geti(g, "memoryTotal"), 24564 * MIB);
  assert_null(json_object_get(g, "power")); /* NVML_ERROR_NOT_SUPPORTED: absent, not 0 */
  assert_int_equal(json_object_size(g), 7);
  json_decref(gi);
}

static void amd_and_nvidia(void **state) {
  (void)state;
  int rc;
  json_t *gi = collect_once("gpu-amd", NULL, &rc);
  assert_int_equal(rc, 0);
  assert_int_equal(json_array_size(gi), 4); /* 2 NVIDIA, then card0 and card2 (card1 is 0x10de) */
  assert_string_equal(gets(json_array_get(gi, 1), "vendor"), "nvidia");

  json_t *g = json_array_get(gi, 2);
  assert_int_equal(geti(g, "index"), 0);
  assert_string_equal(gets(g, "vendor"), "amd");
  assert_string_equal(gets(g, "name"), "AMD Radeon RX 6800 XT");
  assert_float_equal(getr(g, "temperature"), 71.0, 1e-9);
  assert_int_equal(geti(g, "utilization"), 87);
  assert_int_equal(geti(g, "memoryUsed"), 9476571136LL);
  assert_int_equal(geti(g, "memoryTotal"), 17163091968LL);
  assert_float_equal(getr(g, "power"), 254.0, 1e-9); /* power1_average, µW */
  assert_int_equal(json_object_size(g), 8);

  g = json_array_get(gi, 3);
  assert_int_equal(geti(g, "index"), 2);
  assert_string_equal(gets(g, "name"), "AMD GPU 0x744c"); /* no product_name */
  assert_float_equal(getr(g, "temperature"), 45.5, 1e-9);
  assert_float_equal(getr(g, "power"), 31.0, 1e-9); /* power1_input when no average */
  assert_int_equal(geti(g, "utilization"), 3);
  assert_null(json_object_get(g, "memoryUsed")); /* no mem_info files */
  assert_null(json_object_get(g, "memoryTotal"));
  json_decref(gi);
}

/* Runs `fn` with stderr going to a file; returns what was written (static buffer). */
static const char *stderr_of(void (*fn)(void)) {
  static char text[8192];
  char path[] = "/tmp/efgpu-log-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  fn();
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  ssize_t n = pread(fd, text, sizeof text - 1, 0);
  close(fd);
  unlink(path);
  text[n > 0 ? n : 0] = '\0';
  return text;
}

static void three_collections_temp_error(void) {
  struct agent_conf conf;
  conf_for(&conf, "gpu-none");
  setenv("EF_FAKE_NVML", "temp-error", 1);
  void *st = NULL;
  assert_int_equal(collector_gpu.init(&st, &conf), 0);
  for (int i = 0; i < 3; i++) {
    json_t *out = json_object();
    assert_int_equal(collector_gpu.collect(st, 1000 * (i + 1), out), 0);
    json_t *gi = json_object_get(out, "gpuInfo");
    assert_int_equal(json_array_size(gi), 2);
    json_t *g0 = json_array_get(gi, 0);
    assert_null(json_object_get(g0, "temperature")); /* failed: absent */
    assert_non_null(json_object_get(g0, "power"));   /* the rest still there */
    assert_int_equal(geti(json_array_get(gi, 1), "temperature"), 41);
    json_decref(out);
  }
  collector_gpu.cleanup(st);
  unsetenv("EF_FAKE_NVML");
  agent_conf_free(&conf);
}

static void unknown_error_logged_once(void **state) {
  (void)state;
  int saved = ef_log_threshold;
  ef_log_threshold = EF_LOG_WARN;
  const char *log = stderr_of(three_collections_temp_error);
  ef_log_threshold = saved;
  const char *hit = strstr(log, "NVIDIA GPU 0: temperature: Unknown Error");
  assert_non_null(hit);
  assert_null(strstr(hit + 1, "NVIDIA GPU 0: temperature")); /* once, not per upload */
  assert_null(strstr(log, "power")); /* NOT_SUPPORTED is not an error worth a line */
}

static void error_paths(void **state) {
  (void)state;
  int rc;
  json_t *gi = collect_once("gpu-none", "lost", &rc); /* GPU 1 lost: GPU 0 only */
  assert_int_equal(rc, 0);
  assert_int_equal(json_array_size(gi), 1);
  assert_int_equal(geti(json_array_get(gi, 0), "index"), 0);
  json_decref(gi);

  gi = collect_once("gpu-none", "init-fails", &rc); /* no driver, no AMD card: skipped */
  assert_int_equal(rc, EF_ENOENT);
  assert_null(gi);
  gi = collect_once("gpu-amd", "init-fails", &rc); /* no driver, AMD cards: those */
  assert_int_equal(rc, 0);
  assert_int_equal(json_array_size(gi), 2);
  assert_string_equal(gets(json_array_get(gi, 0), "vendor"), "amd");
  json_decref(gi);

  gi = collect_once("gpu-none", "no-gpus", &rc); /* driver without GPUs, no AMD card */
  assert_int_equal(rc, EF_ENOENT);
  assert_int_equal(fake_inits(), 0); /* its nvmlInit was shut down again */
}

static void enabled_by_name(void **state) {
  (void)state;
  struct agent_conf conf;
  char err[256] = "";
  conf_for(&conf, "gpu-amd");
  assert_int_equal(agent_conf_set(&conf, "collectors", "gpu", err, sizeof err), 0);
  struct collectors *set = NULL;
  assert_int_equal(collectors_new(&conf, &set, err, sizeof err), 0);
  assert_int_equal(collectors_enabled(set), 1);
  char *text = collectors_status_cb(set);
  json_t *obj = json_loads(text, 0, NULL);
  free(text);
  assert_int_equal(json_array_size(json_object_get(obj, "gpuInfo")), 4);
  json_decref(obj);
  collectors_free(&set);
  agent_conf_free(&conf);
}

struct child_report {
  int null1, null2, init_rc, n_amd;
  char why[512];
};

/* In a child with EF_LAZY_NVML_SONAME=so: two loads, then the collector on the AMD tree. */
static void child(const void *arg, void *out) {
  struct child_report *r = out;
  setenv("EF_LAZY_NVML_SONAME", arg, 1);
  r->null1 = gpu_nvml(r->why, sizeof r->why) == NULL;
  r->null2 = gpu_nvml(NULL, 0) == NULL;
  int rc;
  json_t *gi = collect_once("gpu-amd", NULL, &rc);
  r->init_rc = rc;
  r->n_amd = (int)json_array_size(gi);
  json_decref(gi);
}

static void missing_library(void **state) {
  (void)state;
  struct child_report r;
  forkrun(child, "libef-no-such-nvml.so.1", &r, sizeof r);
  assert_true(r.null1 && r.null2);
  assert_non_null(strstr(r.why, "NVIDIA GPUs need NVML (libef-no-such-nvml.so.1): "));
  assert_int_equal(r.init_rc, 0); /* the AMD cards are still collected */
  assert_int_equal(r.n_amd, 2);
}

static void missing_symbol(void **state) {
  (void)state;
  struct child_report r;
  forkrun(child, "libm.so.6", &r, sizeof r); /* a real library, but not NVML */
  assert_true(r.null1 && r.null2);
  assert_non_null(strstr(r.why, "NVIDIA GPUs need NVML (libm.so.6): "));
  assert_non_null(strstr(r.why, "nvmlInit_v2"));
  assert_int_equal(r.n_amd, 2);
}

int main(void) {
  setenv("EF_LAZY_NVML_SONAME", fake_lib(), 1);
  const struct CMUnitTest tests[] = {
    /* first: the children must not inherit a loaded NVML, nor the parent have one */
    cmocka_unit_test(missing_library),
    cmocka_unit_test(missing_symbol),
    cmocka_unit_test(nvidia_figures), /* checks NVML is not mapped before */
    cmocka_unit_test(amd_and_nvidia),
    cmocka_unit_test(unknown_error_logged_once),
    cmocka_unit_test(error_paths),
    cmocka_unit_test(enabled_by_name),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
