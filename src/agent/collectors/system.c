/* SPDX-License-Identifier: MIT */
/* system.c -- the system collector: load, CPU use and temperature, network and disk IO rates,
 * memory extras, host name and uptime, read from /proc and /sys (under proc_root / sys_root).
 *
 * The library already sends CPU_info, Memory_info and Disk_info; this adds what it does not:
 *
 *   load_avg           {"1","5","15"}                                      /proc/loadavg
 *   cpu_usage_percent  busy share of all CPUs over the last interval       /proc/stat deltas
 *   cpu_temperature    hottest CPU sensor, degrees C                       hwmon, else thermal
 *   net_io             [{name, rx, tx, rxpck, txpck}] per second, no lo    /proc/net/dev deltas
 *   disk_io            [{name, read_bps, write_bps}] whole disks only      /proc/diskstats deltas
 *   memory             {available_mb, swap_total_mb, swap_used_mb}         /proc/meminfo
 *   host_name, uptime_s                                   gethostname, /proc/uptime
 *
 * Rates need two samples, so the first collection has no cpu_usage_percent, net_io or disk_io;
 * a counter that went backwards (reboot of a device, wrap) skips that entry once. Whatever is
 * missing or malformed is omitted, never guessed.
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
#include <sys/stat.h>
#include <unistd.h>

#include "../agent_conf.h"
#include "collector.h"
#include "edgefleet/error.h"
#include "log.h"
#include "mem.h"

#define FILE_MAX (1024 * 1024) /* /proc/net/dev of a busy container host stays far below */
#define SECTOR 512             /* /proc/diskstats counts 512-byte sectors on every device */
#define NAME_MAX_LEN 64

struct netdev {
  char name[NAME_MAX_LEN];
  uint64_t rx, tx, rxpck, txpck;
};

struct diskdev {
  char name[NAME_MAX_LEN];
  uint64_t rd, wr; /* sectors */
};

struct system_state {
  char *proc_root, *sys_root;
  char *buf; /* the last file read; reused */
  size_t cap;
  int64_t prev_ms;
  bool have_cpu;
  uint64_t cpu_total, cpu_idle;
  struct netdev *net; /* previous sample */
  size_t n_net;
  struct diskdev *disk;
  size_t n_disk;
};

/* ---- reading ---------------------------------------------------------------------------- */

/* Read root/rel into st->buf (NUL-terminated); NULL when unreadable, empty or too big. */
static const char *read_file(struct system_state *st, const char *root, const char *rel) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s", root, rel) >= (int)sizeof path) return NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t len = 0;
  for (;;) {
    if (len + 4096 + 1 > st->cap) {
      if (st->cap >= FILE_MAX) goto fail;
      st->cap = st->cap ? st->cap * 2 : 16384;
      st->buf = ef_realloc(st->buf, st->cap);
    }
    ssize_t n = read(fd, st->buf + len, st->cap - len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) goto fail;
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  if (len == 0) return NULL;
  st->buf[len] = '\0';
  if (memchr(st->buf, '\0', len)) return NULL; /* binary junk */
  return st->buf;
fail:
  close(fd);
  return NULL;
}

/* Parse whitespace-separated unsigned decimals from s up to the end of its line, at most max;
 * stops at the first word that is not one. Returns how many were parsed. */
static int parse_u64s(const char *s, uint64_t *out, int max) {
  int n = 0;
  while (n < max) {
    while (*s == ' ' || *s == '\t') s++;
    if (!isdigit((unsigned char)*s)) break;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !(*end == '\0' || isspace((unsigned char)*end))) break;
    out[n++] = v;
    s = end;
  }
  return n;
}

/* A finite number followed by whitespace or the end; false otherwise. */
static bool parse_double(const char *s, char **end, double *out) {
  errno = 0;
  double v = strtod(s, end);
  if (*end == s || errno || !isfinite(v)) return false;
  if (**end && !isspace((unsigned char)**end)) return false;
  *out = v;
  return true;
}

/* The first line of the file as an integer (sysfs style); false when not exactly one. */
static bool read_int(struct system_state *st, const char *root, const char *rel, long long *out) {
  const char *s = read_file(st, root, rel);
  if (!s) return false;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end == s || errno) return false;
  while (isspace((unsigned char)*end)) end++;
  if (*end) return false;
  *out = v;
  return true;
}

/* The file's content without trailing whitespace into out; false when unreadable. */
static bool read_word(struct system_state *st, const char *root, const char *rel, char *out,
                      size_t outlen) {
  const char *s = read_file(st, root, rel);
  if (!s) return false;
  size_t n = strcspn(s, "\r\n");
  while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
  if (n >= outlen) return false;
  memcpy(out, s, n);
  out[n] = '\0';
  return true;
}

static double round1(double v) { return round(v * 10.0) / 10.0; }

/* ---- sections --------------------------------------------------------------------------- */

static void do_loadavg(struct system_state *st, json_t *out) {
  const char *s = read_file(st, st->proc_root, "loadavg");
  if (!s) return;
  double v[3];
  char *end = (char *)s;
  for (int i = 0; i < 3; i++)
    if (!parse_double(end, &end, &v[i]) || v[i] < 0) return;
  json_object_set_new(out, "load_avg",
                      json_pack("{s:f,s:f,s:f}", "1", v[0], "5", v[1], "15", v[2]));
}

static void do_uptime(struct system_state *st, json_t *out) {
  const char *s = read_file(st, st->proc_root, "uptime");
  if (!s) return;
  char *end;
  double v;
  if (!parse_double(s, &end, &v) || v < 0 || v > 9e15) return;
  json_object_set_new(out, "uptime_s", json_integer((json_int_t)v));
}

static void do_stat(struct system_state *st, int64_t dt, json_t *out) {
  const char *s = read_file(st, st->proc_root, "stat");
  bool ok = s && strncmp(s, "cpu ", 4) == 0;
  uint64_t f[8] = {0};
  int n = ok ? parse_u64s(s + 4, f, 8) : 0;
  if (n < 4) {
    st->have_cpu = false;
    return;
  }
  uint64_t total = 0;
  for (int i = 0; i < n; i++) total += f[i]; /* user nice system idle iowait irq softirq steal */
  uint64_t idle = f[3] + (n > 4 ? f[4] : 0);
  if (st->have_cpu && dt > 0 && total > st->cpu_total && idle >= st->cpu_idle &&
      idle - st->cpu_idle <= total - st->cpu_total) {
    double dtot = (double)(total - st->cpu_total), didle = (double)(idle - st->cpu_idle);
    json_object_set_new(out, "cpu_usage_percent", json_real(round1(100.0 * (dtot - didle) / dtot)));
  }
  st->have_cpu = true;
  st->cpu_total = total;
  st->cpu_idle = idle;
}

static void do_meminfo(struct system_state *st, json_t *out) {
  const char *s = read_file(st, st->proc_root, "meminfo");
  if (!s) return;
  static const char *keys[] = {"MemAvailable", "SwapTotal", "SwapFree"};
  uint64_t kb[3];
  bool have[3] = {false, false, false};
  for (const char *line = s; *line;) {
    const char *colon = strchr(line, ':'), *nl = strchr(line, '\n');
    if (colon && (!nl || colon < nl))
      for (int i = 0; i < 3; i++)
        if ((size_t)(colon - line) == strlen(keys[i]) && !strncmp(line, keys[i], strlen(keys[i])))
          have[i] = parse_u64s(colon + 1, &kb[i], 1) == 1;
    if (!nl) break;
    line = nl + 1;
  }
  json_t *mem = json_object();
  if (have[0]) json_object_set_new(mem, "available_mb", json_integer((json_int_t)(kb[0] / 1024)));
  if (have[1] && have[2] && kb[2] <= kb[1]) {
    json_object_set_new(mem, "swap_total_mb", json_integer((json_int_t)(kb[1] / 1024)));
    json_object_set_new(mem, "swap_used_mb", json_integer((json_int_t)((kb[1] - kb[2]) / 1024)));
  }
  if (json_object_size(mem)) json_object_set_new(out, "memory", mem);
  else json_decref(mem);
}

/* Per-second rate of a counter that grew by `delta` units of `unit` in dt_ms. */
static double rate(uint64_t delta, double unit, int64_t dt_ms) {
  return round1((double)delta * unit * 1000.0 / (double)dt_ms);
}

static void do_netdev(struct system_state *st, int64_t dt, json_t *out) {
  const char *s = read_file(st, st->proc_root, "net/dev");
  struct netdev *cur = NULL;
  size_t n_cur = 0;
  for (const char *line = s; line && *line;) {
    const char *nl = strchr(line, '\n'), *colon = strchr(line, ':');
    if (colon && (!nl || colon < nl)) {
      const char *name = line;
      while (name < colon && isspace((unsigned char)*name)) name++;
      size_t len = (size_t)(colon - name);
      uint64_t f[10];
      if (len > 0 && len < NAME_MAX_LEN && !(len == 2 && strncmp(name, "lo", 2) == 0) &&
          parse_u64s(colon + 1, f, 10) == 10) {
        cur = ef_realloc(cur, (n_cur + 1) * sizeof *cur);
        struct netdev *d = &cur[n_cur++];
        memcpy(d->name, name, len);
        d->name[len] = '\0';
        d->rx = f[0];
        d->rxpck = f[1];
        d->tx = f[8];
        d->txpck = f[9];
      }
    }
    if (!nl) break;
    line = nl + 1;
  }
  json_t *arr = json_array();
  for (size_t i = 0; dt > 0 && i < n_cur; i++) {
    const struct netdev *c = &cur[i], *p = NULL;
    for (size_t k = 0; k < st->n_net && !p; k++)
      if (strcmp(st->net[k].name, c->name) == 0) p = &st->net[k];
    if (!p || c->rx < p->rx || c->tx < p->tx || c->rxpck < p->rxpck || c->txpck < p->txpck)
      continue;
    json_array_append_new(arr, json_pack("{s:s,s:f,s:f,s:f,s:f}", "name", c->name, "rx",
                                         rate(c->rx - p->rx, 1, dt), "tx",
                                         rate(c->tx - p->tx, 1, dt), "rxpck",
                                         rate(c->rxpck - p->rxpck, 1, dt), "txpck",
                                         rate(c->txpck - p->txpck, 1, dt)));
  }
  if (json_array_size(arr)) json_object_set_new(out, "net_io", arr);
  else json_decref(arr);
  ef_free(st->net);
  st->net = cur;
  st->n_net = n_cur;
}

/* Whether `name` from /proc/diskstats is a whole disk: it has a /sys/block entry. */
static bool whole_disk(const struct system_state *st, const char *name) {
  if (strncmp(name, "loop", 4) == 0 || strncmp(name, "ram", 3) == 0) return false;
  char path[PATH_MAX], dev[NAME_MAX_LEN];
  snprintf(dev, sizeof dev, "%s", name);
  for (char *p = dev; *p; p++)
    if (*p == '/') *p = '!'; /* cciss/c0d0 is /sys/block/cciss!c0d0 */
  if (snprintf(path, sizeof path, "%s/block/%s", st->sys_root, dev) >= (int)sizeof path)
    return false;
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void do_diskstats(struct system_state *st, int64_t dt, json_t *out) {
  const char *s = read_file(st, st->proc_root, "diskstats");
  struct diskdev *cur = NULL;
  size_t n_cur = 0;
  for (const char *line = s; line && *line;) {
    const char *nl = strchr(line, '\n');
    uint64_t mm[2], f[7];
    char name[NAME_MAX_LEN];
    const char *p = line;
    if (parse_u64s(p, mm, 2) == 2) {
      for (int i = 0; i < 2; i++) { /* skip major and minor */
        while (isspace((unsigned char)*p)) p++;
        while (isdigit((unsigned char)*p)) p++;
      }
      while (*p == ' ' || *p == '\t') p++;
      size_t len = strcspn(p, " \t\n");
      if (len > 0 && len < sizeof name) {
        memcpy(name, p, len);
        name[len] = '\0';
        /* reads merged sectors ms writes merged sectors */
        if (parse_u64s(p + len, f, 7) == 7 && whole_disk(st, name)) {
          cur = ef_realloc(cur, (n_cur + 1) * sizeof *cur);
          memcpy(cur[n_cur].name, name, len + 1);
          cur[n_cur].rd = f[2];
          cur[n_cur].wr = f[6];
          n_cur++;
        }
      }
    }
    if (!nl) break;
    line = nl + 1;
  }
  json_t *arr = json_array();
  for (size_t i = 0; dt > 0 && i < n_cur; i++) {
    const struct diskdev *c = &cur[i], *p = NULL;
    for (size_t k = 0; k < st->n_disk && !p; k++)
      if (strcmp(st->disk[k].name, c->name) == 0) p = &st->disk[k];
    if (!p || c->rd < p->rd || c->wr < p->wr) continue;
    json_array_append_new(arr, json_pack("{s:s,s:f,s:f}", "name", c->name, "read_bps",
                                         rate(c->rd - p->rd, SECTOR, dt), "write_bps",
                                         rate(c->wr - p->wr, SECTOR, dt)));
  }
  if (json_array_size(arr)) json_object_set_new(out, "disk_io", arr);
  else json_decref(arr);
  ef_free(st->disk);
  st->disk = cur;
  st->n_disk = n_cur;
}

static bool cpu_hwmon_name(const char *n) {
  return strcmp(n, "coretemp") == 0 || strcmp(n, "k10temp") == 0 ||
         strcmp(n, "zenpower") == 0 || strncmp(n, "cpu", 3) == 0;
}

static bool cpu_zone_type(const char *t) {
  return strcmp(t, "x86_pkg_temp") == 0 || strncmp(t, "cpu", 3) == 0;
}

/* Fold one millidegree reading into *best (the hottest plausible one). */
static void consider(long long milli, double *best, bool *found) {
  double c = (double)milli / 1000.0;
  if (c <= -40.0 || c >= 150.0) return; /* a sensor that reads nonsense */
  if (!*found || c > *best) *best = c;
  *found = true;
}

static bool temp_hwmon(struct system_state *st, double *best) {
  char dir[PATH_MAX], rel[PATH_MAX];
  bool found = false;
  snprintf(dir, sizeof dir, "%s/class/hwmon", st->sys_root);
  DIR *d = opendir(dir);
  if (!d) return false;
  struct dirent *e;
  while ((e = readdir(d))) {
    char name[64];
    if (e->d_name[0] == '.') continue;
    snprintf(rel, sizeof rel, "class/hwmon/%s/name", e->d_name);
    if (!read_word(st, st->sys_root, rel, name, sizeof name) || !cpu_hwmon_name(name)) continue;
    snprintf(dir, sizeof dir, "%s/class/hwmon/%s", st->sys_root, e->d_name);
    DIR *h = opendir(dir);
    if (!h) continue;
    struct dirent *t;
    while ((t = readdir(h))) {
      unsigned idx;
      char tail[16];
      long long milli;
      if (sscanf(t->d_name, "temp%u_%15s", &idx, tail) != 2 || strcmp(tail, "input") != 0)
        continue;
      snprintf(rel, sizeof rel, "class/hwmon/%s/%s", e->d_name, t->d_name);
      if (read_int(st, st->sys_root, rel, &milli)) consider(milli, best, &found);
    }
    closedir(h);
  }
  closedir(d);
  return found;
}

static bool temp_thermal(struct system_state *st, double *best) {
  char dir[PATH_MAX], rel[PATH_MAX];
  bool found = false;
  snprintf(dir, sizeof dir, "%s/class/thermal", st->sys_root);
  DIR *d = opendir(dir);
  if (!d) return false;
  struct dirent *e;
  while ((e = readdir(d))) {
    char type[64];
    long long milli;
    if (strncmp(e->d_name, "thermal_zone", 12) != 0) continue;
    snprintf(rel, sizeof rel, "class/thermal/%s/type", e->d_name);
    if (!read_word(st, st->sys_root, rel, type, sizeof type) || !cpu_zone_type(type)) continue;
    snprintf(rel, sizeof rel, "class/thermal/%s/temp", e->d_name);
    if (read_int(st, st->sys_root, rel, &milli)) consider(milli, best, &found);
  }
  closedir(d);
  return found;
}

static void do_temperature(struct system_state *st, json_t *out) {
  double c = 0;
  if (temp_hwmon(st, &c) || temp_thermal(st, &c))
    json_object_set_new(out, "cpu_temperature", json_real(round1(c)));
}

static void do_hostname(json_t *out) {
  char name[256];
  if (gethostname(name, sizeof name) != 0) return;
  name[sizeof name - 1] = '\0';
  json_t *s = json_string(name); /* NULL if not UTF-8 */
  if (s) json_object_set_new(out, "host_name", s);
}

/* ---- contract --------------------------------------------------------------------------- */

static void system_cleanup(void *state) {
  struct system_state *st = state;
  if (!st) return;
  ef_free(st->proc_root);
  ef_free(st->sys_root);
  ef_free(st->buf);
  ef_free(st->net);
  ef_free(st->disk);
  ef_free(st);
}

static int system_init(void **state, const struct agent_conf *conf) {
  struct stat sb;
  if (stat(conf->proc_root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    ef_log(EF_LOG_ERROR, "collector system: proc_root %s is not a directory", conf->proc_root);
    return EF_ECONFIG;
  }
  struct system_state *st = ef_calloc(1, sizeof *st);
  st->proc_root = ef_strdup(conf->proc_root);
  st->sys_root = ef_strdup(conf->sys_root);
  *state = st;
  return 0;
}

static int system_collect(void *state, int64_t now_ms, json_t *out) {
  struct system_state *st = state;
  int64_t dt = st->prev_ms ? now_ms - st->prev_ms : 0;
  do_loadavg(st, out);
  do_stat(st, dt, out);
  do_temperature(st, out);
  do_netdev(st, dt, out);
  do_diskstats(st, dt, out);
  do_meminfo(st, out);
  do_uptime(st, out);
  do_hostname(out);
  st->prev_ms = now_ms > 0 ? now_ms : 1;
  return 0;
}

const struct ef_collector collector_system = {
  .name = "system",
  .init = system_init,
  .collect = system_collect,
  .cleanup = system_cleanup,
};
