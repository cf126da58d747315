/* SPDX-License-Identifier: MIT */
/* sysinfo.h -- the seed controller's three status sections (CPU_info, Memory_info, Disk_info),
 * read from /proc and statvfs exactly as Python's psutil reports them.
 *
 * Every reader takes the /proc root ("/proc" in production, a fixture directory in tests), so
 * the parsing is testable on recorded files. Shared by libedgefleet and edgefleet-agent; the agent
 * adds its own sections beside these.
 */
#ifndef EF_SYSINFO_H
#define EF_SYSINFO_H

#include <jansson.h>
#include <stdint.h>

/* psutil.cpu_times(): seconds since boot, summed over all CPUs. */
struct sysinfo_cpu {
  double user, nice, system, idle, iowait, irq, softirq, steal;
};

/* psutil.virtual_memory(), in bytes. cached includes SReclaimable, as psutil does. */
struct sysinfo_mem {
  uint64_t total, free, buffers, cached, available;
};

/* psutil.disk_usage(path), in bytes; percent = used / (used + avail) * 100, 1 decimal. */
struct sysinfo_disk {
  uint64_t total, used, free;
  double percent;
};

/* Parse <proc_root>/stat's aggregate "cpu" line, dividing by clk_tck (sysconf(_SC_CLK_TCK) when
 * clk_tck <= 0). Returns 0, EF_ESYS (cannot read) or EF_EPARSE. */
int sysinfo_cpu_read(const char *proc_root, long clk_tck, struct sysinfo_cpu *out);
/* Parse <proc_root>/meminfo. Returns 0, EF_ESYS or EF_EPARSE (MemTotal/MemFree missing). */
int sysinfo_mem_read(const char *proc_root, struct sysinfo_mem *out);
/* statvfs(path). Returns 0 or EF_ESYS. */
int sysinfo_disk_read(const char *path, struct sysinfo_disk *out);
/* The arithmetic of sysinfo_disk_read on statvfs' fields, for tests. */
void sysinfo_disk_compute(uint64_t f_blocks, uint64_t f_bfree, uint64_t f_bavail,
                          uint64_t f_frsize, struct sysinfo_disk *out);

/* The wire sections (docs/protocol.md#status), new objects owned by the caller:
 *   CPU_info    {user_cpu_time, system_cpu_time, idle_cpu_time, io_wait_cpu_time}  (float s)
 *   Memory_info {total_memory_mb, free_memory_mb, buff_cache_mb}                   (integer MB)
 *   Disk_info   {root_total_size_mb, root_used_size_mb, root_used_percent}         (MB, float %) */
json_t *sysinfo_cpu_json(const struct sysinfo_cpu *cpu);
json_t *sysinfo_mem_json(const struct sysinfo_mem *mem);
json_t *sysinfo_disk_json(const struct sysinfo_disk *disk);

/* Add CPU_info, Memory_info and Disk_info to obj, reading proc_root and disk_path ("/").
 * A section that cannot be read is left out; returns the number of sections added (0..3). */
int sysinfo_add_base(json_t *obj, const char *proc_root, const char *disk_path);

#endif
