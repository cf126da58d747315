/* SPDX-License-Identifier: MIT */
/* fake_nvml.c -- an NVML-shaped stand-in for libnvidia-ml.so.1, built by the tests and loaded by
 * the agent's gpu collector through EF_LAZY_NVML_SONAME (src/agent/collectors/gpu_nvml.h).
 *
 * It exports the ten functions the collector resolves, with the signatures and return codes of
 * NVML's public API reference (declared here, not taken from NVIDIA's header). Two GPUs answer
 * with figures of the shape a real driver gives (the values are written down for these models,
 * not captured from a device: no GPU was at hand):
 *
 *   0  "NVIDIA GeForce RTX 3090"  67 C, 98 % busy, 10240 of 24576 MiB, 341.512 W
 *   1  "NVIDIA RTX A5000"         41 C,  0 % busy,   312 of 24564 MiB, power NOT_SUPPORTED
 *
 * (GeForce boards without power telemetry and vGPU guests answer NVML_ERROR_NOT_SUPPORTED for
 * the power reading; here the second GPU does.) The environment variable EF_FAKE_NVML, read at
 * every call, selects an error path:
 *   init-fails   nvmlInit_v2 answers NVML_ERROR_DRIVER_NOT_LOADED (9)
 *   no-gpus      nvmlDeviceGetCount_v2 counts 0
 *   temp-error   GPU 0's temperature answers NVML_ERROR_UNKNOWN (999)
 *   lost         GPU 1 answers NVML_ERROR_GPU_IS_LOST (15) for its handle
 * fake_nvml_inits() (not NVML) tells the tests how many nvmlInit_v2 are not yet shut down.
 */
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
enum {
  SUCCESS = 0,
  UNINITIALIZED = 1,
  INVALID_ARGUMENT = 2,
  NOT_SUPPORTED = 3,
  INSUFFICIENT_SIZE = 7,
  DRIVER_NOT_LOADED = 9,
  GPU_IS_LOST = 15,
  UNKNOWN = 999,
};

struct fake_gpu {
  const char *name;
  unsigned temp, util_gpu, util_mem;
  unsigned long long total, used;
  unsigned power_mw; /* 0: NOT_SUPPORTED */
};

#define MIB (1024ULL * 1024ULL)
static const struct fake_gpu gpus[] = {
  {"NVIDIA GeForce RTX 3090", 67, 98, 45, 24576 * MIB, 10240 * MIB, 341512},
  {"NVIDIA RTX A5000", 41, 0, 0, 24564 * MIB, 312 * MIB, 0},
};
#define N_GPUS (sizeof gpus / sizeof *gpus)

typedef const struct fake_gpu *nvmlDevice_t;
typedef struct {
  unsigned int gpu, memory;
} nvmlUtilization_t;
typedef struct {
  unsigned long long total, free, used;
} nvmlMemory_t;

static int inits; /* outstanding nvmlInit_v2 calls */

static int mode(const char *m) {
  const char *e = getenv("EF_FAKE_NVML");
  return e && strcmp(e, m) == 0;
}

/* The GPU behind a handle, or NULL when the handle is not one of ours. */
static const struct fake_gpu *gpu(nvmlDevice_t d) {
  for (size_t i = 0; i < N_GPUS; i++)
    if (d == &gpus[i]) return d;
  return NULL;
}

int fake_nvml_inits(void) { return inits; }

nvmlReturn_t nvmlInit_v2(void) {
  if (mode("init-fails")) return DRIVER_NOT_LOADED;
  inits++;
  return SUCCESS;
}

nvmlReturn_t nvmlShutdown(void) {
  if (inits == 0) return UNINITIALIZED;
  inits--;
  return SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
  case SUCCESS: return "Success";
  case UNINITIALIZED: return "Uninitialized";
  case INVALID_ARGUMENT: return "Invalid Argument";
  case NOT_SUPPORTED: return "Not Supported";
  case INSUFFICIENT_SIZE: return "Insufficient Size";
  case DRIVER_NOT_LOADED: return "Driver Not Loaded";
  case GPU_IS_LOST: return "GPU is lost";
  default: return "Unknown Error";
  }
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
  if (!inits) return UNINITIALIZED;
  if (!count) return INVALID_ARGUMENT;
  *count = mode("no-gpus") ? 0 : (unsigned)N_GPUS;
  return SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
  if (!inits) return UNINITIALIZED;
  if (index >= N_GPUS || !device) return INVALID_ARGUMENT;
  if (index == 1 && mode("lost")) return GPU_IS_LOST;
  *device = &gpus[index];
  return SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int length) {
  const struct fake_gpu *g = gpu(d);
  if (!inits) return UNINITIALIZED;
  if (!g || !name) return INVALID_ARGUMENT;
  if (strlen(g->name) + 1 > length) return INSUFFICIENT_SIZE;
  memcpy(name, g->name, strlen(g->name) + 1);
  return SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *temp) {
  const struct fake_gpu *g = gpu(d);
  if (!inits) return UNINITIALIZED;
  if (!g || sensor != 0 || !temp) return INVALID_ARGUMENT; /* 0: NVML_TEMPERATURE_GPU */
  if (g == &gpus[0] && mode("temp-error")) return UNKNOWN;
  *temp = g->temp;
  return SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u) {
  const struct fake_gpu *g = gpu(d);
  if (!inits) return UNINITIALIZED;
  if (!g || !u) return INVALID_ARGUMENT;
  u->gpu = g->util_gpu;
  u->memory = g->util_mem;
  return SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
  const struct fake_gpu *g = gpu(d);
  if (!inits) return UNINITIALIZED;
  if (!g || !m) return INVALID_ARGUMENT;
  m->total = g->total;
  m->used = g->used;
  m->free = g->total - g->used;
  return SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) {
  const struct fake_gpu *g = gpu(d);
  if (!inits) return UNINITIALIZED;
  if (!g || !mw) return INVALID_ARGUMENT;
  if (!g->power_mw) return NOT_SUPPORTED;
  *mw = g->power_mw;
  return SUCCESS;
}
