/* curl_lazy.c -- libcurl loaded on first use (curl_lazy.h): one dlopen() under pthread_once,
 * one dlsym() per LAZY_CURL_FUNCS line; the library stays loaded until exit.
 */
#include "curl_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct lazy_curl table;
static const struct lazy_curl *loaded; /* &table once every symbol is found */
static char why[512];                  /* the reason when not */

static const char *dl_why(void) {
  const char *e = dlerror();
  return e ? e : "unknown dynamic loader error";
}

static void load(void) {
  const char *so = getenv("EF_LAZY_CURL_SONAME"); /* test hook, see curl_lazy.h */
  if (!so || !*so) so = LAZY_CURL_SONAME;
  void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(why, sizeof why, "JSON-RPC source needs libcurl (%s): %s", so, dl_why());
    return;
  }
  struct lazy_curl t;
  void *sym;
  /* memcpy: ISO C has no object-to-function pointer conversion; POSIX guarantees the layout. */
#define LOAD(name)                                                                      \
  dlerror();                                                                            \
  if (!(sym = dlsym(h, #name))) {                                                       \
    snprintf(why, sizeof why, "JSON-RPC source needs libcurl (%s): %s", so, dl_why()); \
    goto fail_sym;                                                                      \
  }                                                                                     \
  memcpy(&t.name, &sym, sizeof t.name);
  LAZY_CURL_FUNCS(LOAD)
#undef LOAD
  table = t;
  loaded = &table;
  return;

fail_sym:
  dlclose(h); /* nothing refers to it */
}

const struct lazy_curl *lazy_curl(char *err, size_t errlen) {
  pthread_once(&once, load);
  if (!loaded && errlen) snprintf(err, errlen, "%s", why);
  return loaded;
}
