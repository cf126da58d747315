/* SPDX-License-Identifier: MIT */
/* gpu_nvml.h -- NVIDIA's management library (NVML, libnvidia-ml.so.1) loaded on first use by the
 * gpu collector: no build dependency (NVIDIA's header is not in Debian main, so the few types and
 * functions used are declared here from NVML's public API reference) and no run dependency (a
 * host without the driver simply has no NVIDIA GPUs).
 *
 * gpu_nvml() dlopen()s "libnvidia-ml.so.1" (RTLD_NOW | RTLD_LOCAL) once per process, under
 * pthread_once, resolves every function of GPU_NVML_FUNCS with dlsym() and keeps the library
 * loaded until exit. The versioned names (nvmlInit_v2, ..._v2) are the ones the driver has
 * exported since 2011; the unversioned nvmlInit/nvmlDeviceGetCount are the old ABI.
 *
 * Test hook: when the environment variable EF_LAZY_NVML_SONAME is set (read once, at the first
 * call), that file is opened instead: the tests point it at the fake library tests/fake-nvml.
 */
#ifndef EF_AGENT_GPU_NVML_H
#define EF_AGENT_GPU_NVML_H

#include <stddef.h>

#define GPU_NVML_SONAME "libnvidia-ml.so.1"

/* nvmlReturn_t: the codes this agent tells apart (the rest are reported by nvmlErrorString). */
typedef int nvml_return;
#define NVML_SUCCESS 0
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_GPU_IS_LOST 15

typedef struct nvml_device_st *nvml_device; /* nvmlDevice_t: an opaque handle */

#define NVML_TEMPERATURE_GPU 0          /* nvmlTemperatureSensors_t: the GPU die */
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96

struct nvml_utilization { /* nvmlUtilization_t */
  unsigned int gpu;       /* % of the last sample period a kernel ran */
  unsigned int memory;    /* % of it device memory was read or written */
};

struct nvml_memory {           /* nvmlMemory_t (version 1) */
  unsigned long long total;    /* bytes */
  unsigned long long free;
  unsigned long long used;
};

/* Every NVML function the agent calls: X(name, return type, parameter list). */
#define GPU_NVML_FUNCS(X)                                                                   \
  X(nvmlInit_v2, nvml_return, (void))                                                       \
  X(nvmlShutdown, nvml_return, (void))                                                      \
  X(nvmlErrorString, const char *, (nvml_return result))                                   \
  X(nvmlDeviceGetCount_v2, nvml_return, (unsigned int *count))                              \
  X(nvmlDeviceGetHandleByIndex_v2, nvml_return, (unsigned int index, nvml_device *device))  \
  X(nvmlDeviceGetName, nvml_return, (nvml_device device, char *name, unsigned int length))  \
  X(nvmlDeviceGetTemperature, nvml_return,                                                  \
    (nvml_device device, int sensor, unsigned int *temp))                                   \
  X(nvmlDeviceGetUtilizationRates, nvml_return,                                             \
    (nvml_device device, struct nvml_utilization *utilization))                             \
  X(nvmlDeviceGetMemoryInfo, nvml_return, (nvml_device device, struct nvml_memory *memory)) \
  X(nvmlDeviceGetPowerUsage, nvml_return, (nvml_device device, unsigned int *milliwatts))

#define GPU_NVML_MEMBER_(name, ret, params) ret(*name) params;
struct gpu_nvml {
  GPU_NVML_FUNCS(GPU_NVML_MEMBER_)
};
#undef GPU_NVML_MEMBER_

/* The loaded table (the same one at every call), or NULL with the reason in err ("NVIDIA GPUs
 * need NVML (libnvidia-ml.so.1): <the loader's reason>"; err untouched on success). */
const struct gpu_nvml *gpu_nvml(char *err, size_t errlen);

#endif
