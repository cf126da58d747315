/* SPDX-License-Identifier: MIT */
/* oplog.c -- rotating operation log (see oplog.h). */
#include "oplog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "edgefleet/error.h"
#include "mem.h"

struct oplog {
  char *path;
  FILE *f;
  int64_t rotate_ms;
  int keep;
  oplog_clock_fn now;
  int64_t rollover_at;
};

static int64_t default_now(void) { return ef_now_ms(); }

static FILE *open_append(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return NULL;
  FILE *f = fdopen(fd, "a");
  if (!f) close(fd);
  return f;
}

int oplog_open(const char *path, int64_t rotate_ms, int keep, oplog_clock_fn now_fn,
               struct oplog **out) {
  struct oplog *lg = ef_calloc(1, sizeof *lg);
  lg->path = ef_strdup(path);
  lg->rotate_ms = rotate_ms > 0 ? rotate_ms : 86400000;
  lg->keep = keep;
  lg->now = now_fn ? now_fn : default_now;
  lg->f = open_append(path);
  if (!lg->f) {
    ef_free(lg->path);
    ef_free(lg);
    return EF_ESYS;
  }
  /* As Python: the period starts at the existing file's mtime, else now. */
  struct stat st;
  int64_t start = lg->now();
  if (stat(path, &st) == 0 && st.st_size > 0)
    start = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
  lg->rollover_at = start + lg->rotate_ms;
  *out = lg;
  return 0;
}

void oplog_close(struct oplog **lg) {
  if (!lg || !*lg) return;
  if ((*lg)->f) fclose((*lg)->f);
  ef_free((*lg)->path);
  ef_free(*lg);
  *lg = NULL;
}

const char *oplog_path(const struct oplog *lg) { return lg->path; }

void oplog_flush(struct oplog *lg) {
  if (lg && lg->f) fflush(lg->f);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "<base>.YYYY-MM-DD_HH-MM-SS": 19 characters after the dot, digits at the right places. */
static int is_rotated_name(const char *name, const char *base) {
  size_t bl = strlen(base);
  if (strncmp(name, base, bl) != 0 || name[bl] != '.') return 0;
  const char *s = name + bl + 1, *pat = "dddd-dd-dd_dd-dd-dd";
  if (strlen(s) != strlen(pat)) return 0;
  for (size_t i = 0; pat[i]; i++)
    if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i]) return 0;
  return 1;
}

static void delete_old(struct oplog *lg) {
  if (lg->keep <= 0) return;
  char *dir = ef_strdup(lg->path);
  char *slash = strrchr(dir, '/');
  const char *base = slash ? slash + 1 : lg->path;
  if (slash) *slash = '\0';
  DIR *d = opendir(slash ? (*dir ? dir : "/") : ".");
  if (!d) goto fail_opendir;
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!is_rotated_name(de->d_name, base)) continue;
    if (n == cap) names = ef_realloc(names, (cap = cap ? cap * 2 : 8) * sizeof *names);
    names[n++] = ef_strdup(de->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_str); /* the timestamp format sorts by time */
  for (size_t i = 0; i < n; i++) {
    if (i + (size_t)lg->keep < n) {
      char *p = slash ? ef_asprintf("%s/%s", dir, names[i]) : ef_strdup(names[i]);
      unlink(p);
      ef_free(p);
    }
    ef_free(names[i]);
  }
  ef_free(names);
fail_opendir:
  ef_free(dir);
}

static void rotate(struct oplog *lg, int64_t now) {
  if (lg->f) fclose(lg->f);
  lg->f = NULL;
  time_t t = (time_t)((lg->rollover_at - lg->rotate_ms) / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  char suffix[32];
  strftime(suffix, sizeof suffix, "%Y-%m-%d_%H-%M-%S", &tm);
  char *dst = ef_asprintf("%s.%s", lg->path, suffix);
  unlink(dst); /* as Python: an existing file of that name is replaced */
  rename(lg->path, dst);
  ef_free(dst);
  delete_old(lg);
  lg->f = open_append(lg->path);
  int64_t next = now + lg->rotate_ms;
  lg->rollover_at = next;
}

void oplog_write(struct oplog *lg, const char *level, const char *msg) {
  if (!lg) return;
  int64_t now = lg->now();
  if (now >= lg->rollover_at) rotate(lg, now);
  if (!lg->f) {
    lg->f = open_append(lg->path);
    if (!lg->f) return;
  }
  time_t t = (time_t)(now / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  char ts[32];
  strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
  fprintf(lg->f, "%s,%03d - %s - %s\n", ts, (int)(now % 1000), level, msg);
  fflush(lg->f);
}
