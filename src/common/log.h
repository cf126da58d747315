/* SPDX-License-Identifier: MIT */
/* log.h -- daemon logging: one line per event, level-filtered before formatting.
 *
 * Daemons (edgefleetd, edgefleet-agent, tools) log through ef_log(); the library never calls it
 * directly, it reports through the user's callback (see edge.h). Lines go to stderr by default,
 * "2026-11-21T08:47:00.123Z I server: message", or to a file set with log_set_file().
 */
#ifndef EF_LOG_H
#define EF_LOG_H

#include <stdarg.h>

enum ef_log_level { EF_LOG_ERROR = 0, EF_LOG_WARN, EF_LOG_INFO, EF_LOG_DEBUG };

extern int ef_log_threshold; /* messages above this level are skipped unformatted */

#define ef_log(level, ...)                                                   \
  do {                                                                       \
    if ((level) <= ef_log_threshold) log_write((level), __VA_ARGS__);        \
  } while (0)

void log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vwrite(int level, const char *fmt, va_list ap);
/* "error", "warn", "info", "debug", NULL: index = enum ef_log_level. The names of every
 * log_level option, a CFG_ENUM row that stores this index (cfg.h). */
extern const char *const log_level_names[];
/* Append to `path` instead of stderr; returns 0 or EF_ESYS. */
int log_set_file(const char *path);
/* Prefix for every line (e.g. "edgefleetd"); the string must outlive the logger. */
void log_set_ident(const char *ident);

#endif
