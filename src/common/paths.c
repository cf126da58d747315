/* SPDX-License-Identifier: MIT */
/* paths.c -- installed or build-tree defaults (see paths.h). */
#include "paths.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SERVER_DATA EF_INSTALL_STATEDIR "/edgefleet"

static bool same_dir(const char *a, const char *b) {
  char ra[PATH_MAX], rb[PATH_MAX];
  return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

bool ef_installed(void) {
  static int installed = -1;
  if (installed >= 0) return installed;
  installed = 0;
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return false;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return false;
  *slash = '\0';
  installed = same_dir(exe, EF_INSTALL_SBINDIR) || same_dir(exe, EF_INSTALL_BINDIR);
  return installed;
}

static bool is_dir(const char *p) {
  struct stat st;
  return *p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && !S_ISDIR(st.st_mode);
}

const char *ef_default_path(enum ef_default which) {
  bool inst = ef_installed();
  switch (which) {
  case EF_DEF_WEB:
    return inst ? EF_INSTALL_WEBDIR : is_dir(EF_SOURCE_WEBDIR) ? EF_SOURCE_WEBDIR : NULL;
  case EF_DEF_SERVER_CONF:
    return inst && is_file(EF_INSTALL_CONFDIR "/edgefleetd.conf")
               ? EF_INSTALL_CONFDIR "/edgefleetd.conf"
               : NULL;
  case EF_DEF_AGENT_CONF:
    return inst && is_file(EF_INSTALL_CONFDIR "/edgefleet-agent.conf")
               ? EF_INSTALL_CONFDIR "/edgefleet-agent.conf"
               : NULL;
  case EF_DEF_SERVER_DATA: return inst ? SERVER_DATA : "./var";
  case EF_DEF_AGENT_DATA: return inst ? EF_INSTALL_STATEDIR "/edgefleet-agent" : NULL;
  case EF_DEF_ADMIN_TOKEN: return inst ? SERVER_DATA "/admin.token" : "./var/admin.token";
  }
  return NULL;
}
