/* SPDX-License-Identifier: MIT */
/* sysinfo.c -- CPU times, memory and root disk as psutil reports them (see sysinfo.h). */
#include "sysinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "edgefleet/error.h"

static FILE *open_proc(const char *proc_root, const char *name) {
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/%s", proc_root ? proc_root : "/proc", name);
  if (n < 0 || (size_t)n >= sizeof path) return NULL;
  return fopen(path, "r");
}

int sysinfo_cpu_read(const char *proc_root, long clk_tck, struct sysinfo_cpu *out) {
  FILE *f = open_proc(proc_root, "stat");
  if (!f) return EF_ESYS;
  char line[1024];
  int rc = EF_EPARSE;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "cpu ", 4) != 0) continue;
    unsigned long long v[8] = {0};
    /* Old kernels have fewer columns; psutil needs at least user, nice, system, idle. */
    int n = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]);
    if (n >= 4) {
      double tck = (double)(clk_tck > 0 ? clk_tck : sysconf(_SC_CLK_TCK));
      if (tck <= 0) tck = 100;
      out->user = (double)v[0] / tck;
      out->nice = (double)v[1] / tck;
      out->system = (double)v[2] / tck;
      out->idle = (double)v[3] / tck;
      out->iowait = (double)v[4] / tck;
      out->irq = (double)v[5] / tck;
      out->softirq = (double)v[6] / tck;
      out->steal = (double)v[7] / tck;
      rc = 0;
    }
    break;
  }
  fclose(f);
  return rc;
}

int sysinfo_mem_read(const char *proc_root, struct sysinfo_mem *out) {
  FILE *f = open_proc(proc_root, "meminfo");
  if (!f) return EF_ESYS;
  char line[256];
  uint64_t total = 0, freek = 0, buffers = 0, cached = 0, sreclaim = 0, avail = 0;
  int have_total = 0, have_free = 0, have_avail = 0;
  while (fgets(line, sizeof line, f)) {
    char key[64];
    unsigned long long kb;
    if (sscanf(line, "%63[^:]: %llu", key, &kb) != 2) continue;
    if (strcmp(key, "MemTotal") == 0) total = kb, have_total = 1;
    else if (strcmp(key, "MemFree") == 0) freek = kb, have_free = 1;
    else if (strcmp(key, "Buffers") == 0) buffers = kb;
    else if (strcmp(key, "Cached") == 0) cached = kb;
    else if (strcmp(key, "SReclaimable") == 0) sreclaim = kb;
    else if (strcmp(key, "MemAvailable") == 0) avail = kb, have_avail = 1;
  }
  fclose(f);
  if (!have_total || !have_free) return EF_EPARSE;
  out->total = total * 1024;
  out->free = freek * 1024;
  out->buffers = buffers * 1024;
  out->cached = (cached + sreclaim) * 1024;
  out->available = have_avail ? avail * 1024 : out->free + out->buffers + out->cached;
  return 0;
}

void sysinfo_disk_compute(uint64_t f_blocks, uint64_t f_bfree, uint64_t f_bavail,
                          uint64_t f_frsize, struct sysinfo_disk *out) {
  out->total = f_blocks * f_frsize;
  uint64_t avail_root = f_bfree * f_frsize, avail_user = f_bavail * f_frsize;
  out->used = out->total >= avail_root ? out->total - avail_root : 0;
  out->free = avail_user;
  uint64_t total_user = out->used + avail_user;
  /* round to 1 decimal without libm; the value is never negative */
  out->percent =
      total_user ? (double)(int64_t)((double)out->used / (double)total_user * 1000.0 + 0.5) / 10.0
                 : 0.0;
}

int sysinfo_disk_read(const char *path, struct sysinfo_disk *out) {
  struct statvfs st;
  if (statvfs(path ? path : "/", &st) != 0) return EF_ESYS;
  sysinfo_disk_compute(st.f_blocks, st.f_bfree, st.f_bavail, st.f_frsize, out);
  return 0;
}

#define MB(x) ((json_int_t)((x) / 1024 / 1024))

json_t *sysinfo_cpu_json(const struct sysinfo_cpu *cpu) {
  return json_pack("{s:f, s:f, s:f, s:f}", "user_cpu_time", cpu->user, "system_cpu_time",
                   cpu->system, "idle_cpu_time", cpu->idle, "io_wait_cpu_time", cpu->iowait);
}

json_t *sysinfo_mem_json(const struct sysinfo_mem *mem) {
  return json_pack("{s:I, s:I, s:I}", "total_memory_mb", MB(mem->total), "free_memory_mb",
                   MB(mem->free), "buff_cache_mb", MB(mem->buffers + mem->cached));
}

json_t *sysinfo_disk_json(const struct sysinfo_disk *disk) {
  return json_pack("{s:I, s:I, s:f}", "root_total_size_mb", MB(disk->total), "root_used_size_mb",
                   MB(disk->used), "root_used_percent", disk->percent);
}

int sysinfo_add_base(json_t *obj, const char *proc_root, const char *disk_path) {
  int n = 0;
  struct sysinfo_cpu cpu;
  struct sysinfo_mem mem;
  struct sysinfo_disk disk;
  if (sysinfo_cpu_read(proc_root, 0, &cpu) == 0) {
    json_object_set_new(obj, "CPU_info", sysinfo_cpu_json(&cpu));
    n++;
  }
  if (sysinfo_mem_read(proc_root, &mem) == 0) {
    json_object_set_new(obj, "Memory_info", sysinfo_mem_json(&mem));
    n++;
  }
  if (sysinfo_disk_read(disk_path, &disk) == 0) {
    json_object_set_new(obj, "Disk_info", sysinfo_disk_json(&disk));
    n++;
  }
  return n;
}
