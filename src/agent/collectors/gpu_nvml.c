/* SPDX-License-Identifier: MIT */
/* gpu_nvml.c -- NVML loaded on first use (gpu_nvml.h): one dlopen() under pthread_once, one
 * dlsym() per GPU_NVML_FUNCS line; the library stays loaded until exit.
 */
#include "gpu_nvml.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lazylib.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct gpu_nvml table;
static const struct gpu_nvml *loaded; /* &table once every symbol is found */
static char why[512];                 /* the reason when not */

#define NAME_(name, ret, params) #name,
static const char *const names[] = {GPU_NVML_FUNCS(NAME_)};
#undef NAME_

static void load(void) {
  void *syms[sizeof names / sizeof *names];
  if (lazylib_open(GPU_NVML_SONAME, "EF_LAZY_NVML_SONAME", "NVIDIA GPUs need NVML", names,
                   sizeof names / sizeof *names, syms, why, sizeof why) != 0)
    return;
  size_t i = 0;
  /* memcpy: ISO C has no object-to-function pointer conversion; POSIX guarantees the layout. */
#define COPY_(name, ret, params) memcpy(&table.name, &syms[i++], sizeof table.name);
  GPU_NVML_FUNCS(COPY_)
#undef COPY_
  loaded = &table;
}

const struct gpu_nvml *gpu_nvml(char *err, size_t errlen) {
  pthread_once(&once, load);
  if (!loaded && err && errlen) snprintf(err, errlen, "%s", why);
  return loaded;
}
