/* SPDX-License-Identifier: MIT */
/* mem.h -- the one allocator seam. Out of memory aborts with a message (as Redis' zmalloc):
 * callers never check for NULL. Used by daemons and, for simplicity, the library too. */
#ifndef EF_MEM_H
#define EF_MEM_H

#include <stddef.h>

void *ef_malloc(size_t n);
void *ef_calloc(size_t n, size_t size);
void *ef_realloc(void *p, size_t n);
char *ef_strdup(const char *s);          /* NULL in, NULL out */
char *ef_strndup(const char *s, size_t n);
void *ef_memdup(const void *p, size_t n);
/* printf into a new string. */
char *ef_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ef_free(void *p);

#endif
