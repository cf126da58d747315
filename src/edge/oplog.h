/* SPDX-License-Identifier: MIT */
/* oplog.h -- the device's local operation log: "2026-11-21 08:47:00,123 - INFO - message" lines
 * (Python logging's default format, local time), rotated like Python's TimedRotatingFileHandler:
 * once the file is `rotate_ms` old it is renamed to "<file>.YYYY-MM-DD_HH-MM-SS" (the start of the
 * period) and only the newest `keep` rotated files are kept (0 keeps all). Not thread-safe: one
 * thread writes. */
#ifndef EF_EDGE_OPLOG_H
#define EF_EDGE_OPLOG_H

#include <stdint.h>

struct oplog;
typedef int64_t (*oplog_clock_fn)(void); /* wall clock in ms since epoch */

/* Open (append) `path`; now_fn NULL means ef_now_ms. Returns 0 or EF_ESYS. *out is the caller's,
 * closed with oplog_close(). */
int oplog_open(const char *path, int64_t rotate_ms, int keep, oplog_clock_fn now_fn,
               struct oplog **out);
void oplog_close(struct oplog **lg);
/* Append one line at level ("INFO", "ERROR", ...); rotates first when due. */
void oplog_write(struct oplog *lg, const char *level, const char *msg);
/* The file path (owned by the log). */
const char *oplog_path(const struct oplog *lg);
/* Force the file to disk state (fflush) before it is read by someone else. */
void oplog_flush(struct oplog *lg);

#endif
