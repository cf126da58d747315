/* SPDX-License-Identifier: MIT */
/* lazylib.h -- a shared library loaded on first use: dlopen() it and dlsym() a list of names.
 *
 * For dependencies most processes never touch (libcurl for the lotus JSON-RPC source, libssh for
 * upload_log): linked normally they cost their whole dependency chain in every process's RSS.
 * Callers wrap this in pthread_once and keep the library loaded until exit.
 */
#ifndef EF_LAZYLIB_H
#define EF_LAZYLIB_H

#include <stddef.h>

/* Open `soname` (or the value of the environment variable `env_override` when that is set and
 * not empty: a test hook) and resolve names[0..n) into syms[0..n). 0, or -1 with `why` set to
 * "<purpose> (<soname>): <the loader's reason>" and the library closed again. */
int lazylib_open(const char *soname, const char *env_override, const char *purpose,
                 const char *const *names, size_t n, void **syms, char *why, size_t whylen);

#endif
