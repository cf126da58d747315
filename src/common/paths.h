/* SPDX-License-Identifier: MIT */
/* paths.h -- where an edgefleet program looks for its files by default: installed, or in the
 * build tree.
 *
 * A program runs INSTALLED when the directory of its executable (/proc/self/exe, symlinks
 * resolved; " (deleted)" after a package upgrade does not matter) is the bindir or sbindir the
 * build was configured to install into (GNUInstallDirs: /usr/bin or /usr/sbin in the Debian
 * packages, /usr/local/... after `make install`; symlinks resolved on both sides, so /sbin and
 * /usr/sbin are one). Anything else -- the build tree, a copy elsewhere, a DESTDIR staging
 * tree -- runs with the build-tree defaults, the ones edgefleet always had, so that `make demo`
 * and the tests never pick up an installed configuration or data dir.
 *
 *                   installed                              build tree
 *   static_dir      <datadir>/edgefleet/web                the source tree's web/ (if present)
 *   config file     /etc/edgefleet/<program>.conf, if      none
 *                   present and no --config is given
 *   data_dir        /var/lib/edgefleet (server),           ./var (server), . (agent)
 *                   /var/lib/edgefleet-agent (agent)
 *   admin token     /var/lib/edgefleet/admin.token         ./var/admin.token (edgefleetctl)
 *
 * (/etc and /var as configured: <sysconfdir>/edgefleet, <localstatedir>/lib/...; ef_install.h.)
 */
#ifndef EF_PATHS_H
#define EF_PATHS_H

#include <stdbool.h>

#include "ef_install.h"

enum ef_default {
  EF_DEF_WEB,         /* the dashboard: edgefleetd's static_dir, or NULL (API only) */
  EF_DEF_SERVER_CONF, /* edgefleetd's config file when no --config is given, or NULL */
  EF_DEF_AGENT_CONF,  /* edgefleet-agent's, or NULL */
  EF_DEF_SERVER_DATA, /* edgefleetd's data_dir */
  EF_DEF_AGENT_DATA,  /* edgefleet-agent's data_dir, or NULL (the library's default) */
  EF_DEF_ADMIN_TOKEN, /* the admin token edgefleetctl reads when given none */
};

/* Is this program running from its installed location? (Decided once.) */
bool ef_installed(void);
/* The default for `which`, as the table above says: a static string, or NULL for none. The
 * config files count only when they exist; the web dir of the build tree too. */
const char *ef_default_path(enum ef_default which);

#endif
