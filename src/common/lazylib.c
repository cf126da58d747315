/* SPDX-License-Identifier: MIT */
/* lazylib.c -- loading a shared library on first use (see lazylib.h). */
#include "lazylib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static const char *dl_why(void) {
  const char *e = dlerror();
  return e ? e : "unknown dynamic loader error";
}

int lazylib_open(const char *soname, const char *env_override, const char *purpose,
                 const char *const *names, size_t n, void **syms, char *why, size_t whylen) {
  const char *so = env_override ? getenv(env_override) : NULL;
  if (!so || !*so) so = soname;
  void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!h) goto fail;
  for (size_t i = 0; i < n; i++) {
    dlerror();
    if (!(syms[i] = dlsym(h, names[i]))) goto fail_sym;
  }
  return 0;

fail_sym:
  snprintf(why, whylen, "%s (%s): %s", purpose, so, dl_why());
  dlclose(h);
  return -1;
fail:
  snprintf(why, whylen, "%s (%s): %s", purpose, so, dl_why());
  return -1;
}
