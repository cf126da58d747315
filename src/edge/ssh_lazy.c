/* ssh_lazy.c -- libssh loaded on first use (ssh_lazy.h): one dlopen() under pthread_once,
 * one dlsym() per LAZY_SSH_FUNCS line; the library stays loaded until exit.
 */
#include "ssh_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct lazy_ssh table;
static const struct lazy_ssh *loaded; /* &table once every symbol is found */
static char why[512];                 /* the reason when not */

static const char *dl_why(void) {
  const char *e = dlerror();
  return e ? e : "unknown dynamic loader error";
}

static void load(void) {
  const char *so = getenv("EF_LAZY_SSH_SONAME"); /* test hook, see ssh_lazy.h */
  if (!so || !*so) so = LAZY_SSH_SONAME;
  void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(why, sizeof why, "upload_log needs libssh (%s): %s", so, dl_why());
    return;
  }
  struct lazy_ssh t;
  void *sym;
  /* memcpy: ISO C has no object-to-function pointer conversion; POSIX guarantees the layout. */
#define LOAD(name)                                                                      \
  dlerror();                                                                            \
  if (!(sym = dlsym(h, #name))) {                                                       \
    snprintf(why, sizeof why, "upload_log needs libssh (%s): %s", so, dl_why());       \
    goto fail_sym;                                                                      \
  }                                                                                     \
  memcpy(&t.name, &sym, sizeof t.name);
  LAZY_SSH_FUNCS(LOAD)
#undef LOAD
  table = t;
  loaded = &table;
  return;

fail_sym:
  dlclose(h); /* nothing refers to it */
}

const struct lazy_ssh *lazy_ssh(char *err, size_t errlen) {
  pthread_once(&once, load);
  if (!loaded && errlen) snprintf(err, errlen, "%s", why);
  return loaded;
}
