/* SPDX-License-Identifier: MIT */
/* curl_lazy.c -- libcurl loaded on first use (curl_lazy.h): one dlopen() under pthread_once,
 * one dlsym() per LAZY_CURL_FUNCS line; the library stays loaded until exit.
 */
#include "curl_lazy.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lazylib.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct lazy_curl table;
static const struct lazy_curl *loaded; /* &table once every symbol is found */
static char why[512];                  /* the reason when not */

#define NAME_(name) #name,
static const char *const names[] = {LAZY_CURL_FUNCS(NAME_)};
#undef NAME_

static void load(void) {
  void *syms[sizeof names / sizeof *names];
  if (lazylib_open(LAZY_CURL_SONAME, "EF_LAZY_CURL_SONAME", "JSON-RPC source needs libcurl", names,
                   sizeof names / sizeof *names, syms, why, sizeof why) != 0)
    return;
  size_t i = 0;
  /* memcpy: ISO C has no object-to-function pointer conversion; POSIX guarantees the layout. */
#define COPY_(name) memcpy(&table.name, &syms[i++], sizeof table.name);
  LAZY_CURL_FUNCS(COPY_)
#undef COPY_
  loaded = &table;
}

const struct lazy_curl *lazy_curl(char *err, size_t errlen) {
  pthread_once(&once, load);
  if (!loaded && errlen) snprintf(err, errlen, "%s", why);
  return loaded;
}
