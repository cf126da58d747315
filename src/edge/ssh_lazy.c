/* SPDX-License-Identifier: MIT */
/* ssh_lazy.c -- libssh loaded on first use (ssh_lazy.h): one dlopen() under pthread_once,
 * one dlsym() per LAZY_SSH_FUNCS line; the library stays loaded until exit.
 */
#include "ssh_lazy.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lazylib.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct lazy_ssh table;
static const struct lazy_ssh *loaded; /* &table once every symbol is found */
static char why[512];                  /* the reason when not */

#define NAME_(name) #name,
static const char *const names[] = {LAZY_SSH_FUNCS(NAME_)};
#undef NAME_

static void load(void) {
  void *syms[sizeof names / sizeof *names];
  if (lazylib_open(LAZY_SSH_SONAME, "EF_LAZY_SSH_SONAME", "upload_log needs libssh", names,
                   sizeof names / sizeof *names, syms, why, sizeof why) != 0)
    return;
  size_t i = 0;
  /* memcpy: ISO C has no object-to-function pointer conversion; POSIX guarantees the layout. */
#define COPY_(name) memcpy(&table.name, &syms[i++], sizeof table.name);
  LAZY_SSH_FUNCS(COPY_)
#undef COPY_
  loaded = &table;
}

const struct lazy_ssh *lazy_ssh(char *err, size_t errlen) {
  pthread_once(&once, load);
  if (!loaded && errlen) snprintf(err, errlen, "%s", why);
  return loaded;
}
