/* SPDX-License-Identifier: MIT */
/* gpu.c -- the gpu collector: per-GPU name, temperature, utilisation, memory and power, as the
 * status key `gpuInfo` (an array; docs/agent.md#gpu):
 *
 *   {"index": 0, "vendor": "nvidia"|"amd", "name": "...", "temperature": degrees C,
 *    "utilization": %, "memoryUsed": bytes, "memoryTotal": bytes, "power": W}
 *
 * NVIDIA GPUs through NVML (gpu_nvml.h: dlopen()ed at init, so no build or run dependency);
 * `index` is NVML's. AMD GPUs through amdgpu's sysfs files under sys_root/class/drm/cardN/device
 * (vendor 0x1002): product_name, gpu_busy_percent, mem_info_vram_used/_total, and hwmon/hwmonM/
 * temp1_input (millidegrees) and power1_average (else power1_input; microwatts); `index` is N.
 *
 * A figure the GPU does not support (NVML_ERROR_NOT_SUPPORTED, a missing file) is omitted; any
 * other failure omits it too and is logged once per GPU and figure, not at every upload. init
 * fails (and the collector is skipped) when the host has neither NVML with a GPU nor an AMD card.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../agent_conf.h"
#include "collector.h"
#include "edgefleet/error.h"
#include "gpu_nvml.h"
#include "log.h"
#include "mem.h"

#define GPU_MAX 64      /* GPUs per vendor looked at; more are ignored */
#define AMD_VENDOR "0x1002"

/* The figures, as bits of gpu_state.warned[] (a failure is logged once per GPU and figure). */
enum gpu_field { F_HANDLE, F_NAME, F_TEMP, F_UTIL, F_MEM, F_POWER, F_COUNT };

struct gpu_state {
  const struct gpu_nvml *nv; /* NULL: no NVML (or nvmlInit failed); process-wide, not ours */
  char *sys_root;
  char buf[4096]; /* the last sysfs file read */
  unsigned char warned[GPU_MAX]; /* NVIDIA: bit (1 << enum gpu_field) once logged */
  bool count_warned;
};

/* ---- NVIDIA ------------------------------------------------------------------------------ */

/* Whether r is a success; logs a failure other than "not supported" once per GPU and field. */
static bool nv_ok(struct gpu_state *st, unsigned i, enum gpu_field f, nvml_return r) {
  if (r == NVML_SUCCESS) return true;
  if (r == NVML_ERROR_NOT_SUPPORTED || (st->warned[i] & (1u << f))) return false;
  static const char *const what[] = {"handle", "name", "temperature", "utilization", "memory",
                                     "power"};
  ef_log(EF_LOG_WARN, "collector gpu: NVIDIA GPU %u: %s: %s (not logged again)", i, what[f],
         st->nv->nvmlErrorString(r));
  st->warned[i] |= (unsigned char)(1u << f);
  return false;
}

static void nv_collect(struct gpu_state *st, json_t *arr) {
  const struct gpu_nvml *nv = st->nv;
  unsigned count = 0;
  nvml_return r = nv->nvmlDeviceGetCount_v2(&count);
  if (r != NVML_SUCCESS) {
    if (!st->count_warned)
      ef_log(EF_LOG_WARN, "collector gpu: NVML cannot count GPUs: %s (not logged again)",
             nv->nvmlErrorString(r));
    st->count_warned = true;
    return;
  }
  for (unsigned i = 0; i < count && i < GPU_MAX; i++) {
    nvml_device dev = NULL;
    if (!nv_ok(st, i, F_HANDLE, nv->nvmlDeviceGetHandleByIndex_v2(i, &dev))) continue;
    json_t *g = json_pack("{s:I,s:s}", "index", (json_int_t)i, "vendor", "nvidia");
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = "";
    if (nv_ok(st, i, F_NAME, nv->nvmlDeviceGetName(dev, name, sizeof name))) {
      name[sizeof name - 1] = '\0';
      json_t *s = json_string(name); /* NULL when not UTF-8 */
      if (s) json_object_set_new(g, "name", s);
    }
    unsigned temp, mw;
    if (nv_ok(st, i, F_TEMP, nv->nvmlDeviceGetTemperature(dev, NVML_TEMPERATURE_GPU, &temp)) &&
        temp < 150)
      json_object_set_new(g, "temperature", json_integer(temp));
    struct nvml_utilization u;
    if (nv_ok(st, i, F_UTIL, nv->nvmlDeviceGetUtilizationRates(dev, &u)) && u.gpu <= 100)
      json_object_set_new(g, "utilization", json_integer(u.gpu));
    struct nvml_memory m;
    if (nv_ok(st, i, F_MEM, nv->nvmlDeviceGetMemoryInfo(dev, &m)) && m.used <= m.total &&
        m.total <= (unsigned long long)INT64_MAX) {
      json_object_set_new(g, "memoryUsed", json_integer((json_int_t)m.used));
      json_object_set_new(g, "memoryTotal", json_integer((json_int_t)m.total));
    }
    if (nv_ok(st, i, F_POWER, nv->nvmlDeviceGetPowerUsage(dev, &mw)))
      json_object_set_new(g, "power", json_real(round(mw / 100.0) / 10.0)); /* W, 0.1 */
    json_array_append_new(arr, g);
  }
}

/* ---- AMD (amdgpu sysfs) ------------------------------------------------------------------ */

/* dir/rel into st->buf without trailing whitespace; NULL when unreadable or empty. */
static const char *read_word(struct gpu_state *st, const char *dir, const char *rel) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s", dir, rel) >= (int)sizeof path) return NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  ssize_t n;
  do n = read(fd, st->buf, sizeof st->buf - 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0) return NULL;
  while (n > 0 && isspace((unsigned char)st->buf[n - 1])) n--;
  st->buf[n] = '\0';
  if (n == 0 || memchr(st->buf, '\0', (size_t)n)) return NULL;
  return st->buf;
}

/* dir/rel as one non-negative integer; false when not exactly that. */
static bool read_u64(struct gpu_state *st, const char *dir, const char *rel, unsigned long long *out) {
  const char *s = read_word(st, dir, rel);
  if (!s || !isdigit((unsigned char)*s)) return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

/* The card numbers N of sys_root/class/drm/cardN whose device is AMD's, ascending; how many. */
static size_t amd_cards(struct gpu_state *st, unsigned *cards) {
  char dir[PATH_MAX];
  if (snprintf(dir, sizeof dir, "%s/class/drm", st->sys_root) >= (int)sizeof dir) return 0;
  DIR *d = opendir(dir);
  if (!d) return 0;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < GPU_MAX) {
    unsigned num;
    char tail;
    /* card0, not card0-DP-1 (a connector) nor renderD128 */
    if (sscanf(e->d_name, "card%u%c", &num, &tail) != 1 || !isdigit((unsigned char)e->d_name[4]))
      continue;
    char rel[64];
    snprintf(rel, sizeof rel, "card%u/device/vendor", num);
    const char *v = read_word(st, dir, rel);
    if (!v || strcmp(v, AMD_VENDOR) != 0) continue;
    size_t k = n++;
    for (; k > 0 && cards[k - 1] > num; k--) cards[k] = cards[k - 1];
    cards[k] = num;
  }
  closedir(d);
  return n;
}

/* The first hwmon directory of a card's device into out; false when it has none. */
static bool amd_hwmon(const char *dev, char *out, size_t outlen) {
  char dir[PATH_MAX];
  if (snprintf(dir, sizeof dir, "%s/hwmon", dev) >= (int)sizeof dir) return false;
  DIR *d = opendir(dir);
  if (!d) return false;
  struct dirent *e;
  bool found = false;
  while (!found && (e = readdir(d)))
    if (strncmp(e->d_name, "hwmon", 5) == 0 &&
        snprintf(out, outlen, "%s/%s", dir, e->d_name) < (int)outlen)
      found = true;
  closedir(d);
  return found;
}

static void amd_collect(struct gpu_state *st, json_t *arr) {
  unsigned cards[GPU_MAX];
  size_t n = amd_cards(st, cards);
  for (size_t i = 0; i < n; i++) {
    char dev[PATH_MAX], hw[PATH_MAX];
    if (snprintf(dev, sizeof dev, "%s/class/drm/card%u/device", st->sys_root, cards[i]) >=
        (int)sizeof dev)
      continue;
    json_t *g = json_pack("{s:I,s:s}", "index", (json_int_t)cards[i], "vendor", "amd");
    const char *s = read_word(st, dev, "product_name");
    json_t *name = s ? json_string(s) : NULL;
    if (!name && (s = read_word(st, dev, "device"))) { /* the PCI device id, e.g. 0x73bf */
      char fallback[64];
      snprintf(fallback, sizeof fallback, "AMD GPU %.16s", s);
      name = json_string(fallback);
    }
    if (name) json_object_set_new(g, "name", name);
    unsigned long long v, total;
    if (amd_hwmon(dev, hw, sizeof hw)) {
      if (read_u64(st, hw, "temp1_input", &v) && v < 150000)
        json_object_set_new(g, "temperature", json_real(round(v / 100.0) / 10.0));
      if ((read_u64(st, hw, "power1_average", &v) || read_u64(st, hw, "power1_input", &v)) &&
          v < 100000000000ULL)
        json_object_set_new(g, "power", json_real(round(v / 100000.0) / 10.0));
    }
    if (read_u64(st, dev, "gpu_busy_percent", &v) && v <= 100)
      json_object_set_new(g, "utilization", json_integer((json_int_t)v));
    if (read_u64(st, dev, "mem_info_vram_used", &v) &&
        read_u64(st, dev, "mem_info_vram_total", &total) && v <= total &&
        total <= (unsigned long long)INT64_MAX) {
      json_object_set_new(g, "memoryUsed", json_integer((json_int_t)v));
      json_object_set_new(g, "memoryTotal", json_integer((json_int_t)total));
    }
    json_array_append_new(arr, g);
  }
}

/* ---- contract --------------------------------------------------------------------------- */

static void gpu_cleanup(void *state) {
  struct gpu_state *st = state;
  if (!st) return;
  if (st->nv) st->nv->nvmlShutdown(); /* NVML counts inits: this undoes ours only */
  ef_free(st->sys_root);
  ef_free(st);
}

static int gpu_init(void **state, const struct agent_conf *conf) {
  struct gpu_state *st = ef_calloc(1, sizeof *st);
  st->sys_root = ef_strdup(conf->sys_root);
  char why[512] = "";
  unsigned nv_count = 0;
  const struct gpu_nvml *nv = gpu_nvml(why, sizeof why);
  if (nv) {
    nvml_return r = nv->nvmlInit_v2();
    if (r != NVML_SUCCESS) {
      snprintf(why, sizeof why, "NVML: nvmlInit: %s", nv->nvmlErrorString(r));
    } else {
      st->nv = nv;
      if ((r = nv->nvmlDeviceGetCount_v2(&nv_count)) != NVML_SUCCESS)
        snprintf(why, sizeof why, "NVML: no GPU count: %s", nv->nvmlErrorString(r));
      else if (nv_count == 0)
        snprintf(why, sizeof why, "NVML: no NVIDIA GPU");
    }
  }
  unsigned cards[GPU_MAX];
  size_t amd = amd_cards(st, cards);
  if (nv_count == 0 && amd == 0) {
    ef_log(EF_LOG_WARN, "collector gpu: no GPU found (%s; no AMD card under %s/class/drm)", why,
           st->sys_root);
    gpu_cleanup(st);
    return EF_ENOENT;
  }
  if (nv_count)
    ef_log(EF_LOG_INFO, "collector gpu: %u NVIDIA GPU(s) through NVML, %zu AMD card(s)", nv_count,
           amd);
  else
    ef_log(EF_LOG_INFO, "collector gpu: %zu AMD card(s), no NVIDIA GPU (%s)", amd, why);
  *state = st;
  return 0;
}

static int gpu_collect(void *state, int64_t now_ms, json_t *out) {
  (void)now_ms;
  struct gpu_state *st = state;
  json_t *arr = json_array();
  if (st->nv) nv_collect(st, arr);
  amd_collect(st, arr);
  if (json_array_size(arr)) json_object_set_new(out, "gpuInfo", arr);
  else json_decref(arr);
  return 0;
}

const struct ef_collector collector_gpu = {
  .name = "gpu",
  .init = gpu_init,
  .collect = gpu_collect,
  .cleanup = gpu_cleanup,
};
