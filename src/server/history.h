/* SPDX-License-Identifier: MIT */
/* history.h -- the history of chosen series (docs/history.md): samples of each device's status
 * and each miner's record kept in the store in retention tiers, and read back by range.
 *
 * DESIGN
 * Samples are taken on the loop (a status upload: at most one per device per
 * history_raw_every; miners: every history_raw_every from the records in memory), turned into a
 * small JSON text of numbers, and queued; every history_flush the queue goes to the database
 * thread as one transaction (write-behind, never on the loop). Tier 1 and 2 aggregates
 * (min/avg/max/count per bucket) are rolled up on the database thread from the tier below once a
 * bucket has closed, and every tier is pruned to its retention there.
 *
 * Reads (rest_history.c, ws_front.c) pick the tier for the range and step
 * (history_pick_tier), read it on the database thread (history_read) and shape the answer
 * (history_json).
 */
#ifndef EF_HISTORY_H
#define EF_HISTORY_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

struct server;
struct history;

#define HISTORY_TIERS 3
#define HISTORY_MAX_POINTS 20000 /* rows read for one answer at most */

/* Start: the flush/sample/roll-up timer and the status listener (NULL when history is off). */
void history_start(struct server *srv);
/* Write what is queued (through the worker, before it stops); free after the loop. */
void history_stop(struct server *srv);

/* A device's series from the `data` of its status upload: a new object of numbers (may be
 * empty). Pure: any thread. */
json_t *history_device_sample(const json_t *data);
/* A miner's series from its stored record (workerInfo keyed by host). Pure: any thread. */
json_t *history_miner_sample(const json_t *record);
/* "123.4 mFIL" → 0.1234; false when it is not a FIL amount. */
bool history_parse_fil(const char *s, double *out);

/* The tier a read of [from, to) with `step` ms per point (0: as stored) uses: the finest tier
 * that still holds `from` (now − retention ≤ from), or, when `step` is at least a coarser
 * tier's step, that coarser tier. */
int history_pick_tier(const struct server *srv, int64_t from, int64_t step, int64_t now);
/* The step in ms of a tier (0 for raw samples). */
int64_t history_tier_step(const struct server *srv, int tier);

/* Read the history of `owner` ("d:<id>", "m:<minerId>") over [from, to) with `step` ms per
 * point (0: as stored) on the database thread, after the samples queued so far are written;
 * then, on the loop, done(ud, rc, answer): rc 0 and answer (owned by the callee) {"from","to",
 * "step","tier","truncated","series"}, or a store error and NULL. */
typedef void (*history_done)(void *ud, int rc, json_t *answer);
void history_read(struct server *srv, const char *owner, int64_t from, int64_t to, int64_t step,
                  history_done done, void *ud);
/* The tier's name in answers: "raw", then the aggregate steps ("5m", "1h"). */
const char *history_tier_name(int tier);

/* Rows as the answer's "series": {"name":[[t, avg, min, max], ...]}, bucketed by `step` (0: one
 * point per row). Pure. */
json_t *history_series_json(const struct store_hist *rows, size_t n, int64_t step);

#endif
