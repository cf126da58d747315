/* SPDX-License-Identifier: MIT */
/* mem.c -- allocation wrappers that abort on OOM, so no caller handles it twice. */
#include "mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void oom(size_t n) {
  char msg[96];
  int len = snprintf(msg, sizeof msg, "edgefleet: out of memory allocating %zu bytes\n", n);
  ssize_t w = write(2, msg, (size_t)len);
  (void)w;
  abort();
}

void *ef_malloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) oom(n);
  return p;
}

void *ef_calloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) oom(n * size);
  return p;
}

void *ef_realloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) oom(n);
  return q;
}

char *ef_strdup(const char *s) { return s ? ef_memdup(s, strlen(s) + 1) : NULL; }

char *ef_strndup(const char *s, size_t n) {
  char *d = ef_malloc(n + 1);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

void *ef_memdup(const void *p, size_t n) {
  void *d = ef_malloc(n);
  memcpy(d, p, n);
  return d;
}

char *ef_asprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0) oom(0);
  return s;
}

void ef_free(void *p) { free(p); }
