/* SPDX-License-Identifier: MIT */
/* log.c -- daemon logging to stderr or a file, thread-safe by one write(2) per line. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edgefleet/error.h"

int ef_log_threshold = EF_LOG_INFO;
static int log_fd = 2;
static const char *log_ident = "edgefleet";

void log_set_ident(const char *ident) { log_ident = ident; }

int log_set_file(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return EF_ESYS;
  if (log_fd > 2) close(log_fd);
  log_fd = fd;
  return 0;
}

const char *const log_level_names[] = {"error", "warn", "info", "debug", NULL};

void log_vwrite(int level, const char *fmt, va_list ap) {
  static const char tag[] = "EWID";
  char line[2048];
  struct timespec ts;
  struct tm tm;
  int saved = errno;

  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %c %s: ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, ts.tv_nsec / 1000000, tag[level & 3], log_ident);
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof line - 2) len = sizeof line - 2;
  line[len++] = '\n';
  ssize_t w = write(log_fd, line, len);
  (void)w;
  errno = saved;
}

void log_write(int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_vwrite(level, fmt, ap);
  va_end(ap);
}
