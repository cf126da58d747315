/* SPDX-License-Identifier: MIT */
/* lotus_parse.h -- pure parsers of `lotus-miner` CLI output, every release from mid-2020
 * (v0.4, `lotus-storage-miner`) to miner/v1.36.1 (2026), into JSON (docs/lotus.md).
 *
 * Each parser takes a buffer and its length (not necessarily NUL-terminated; may hold ANSI colour
 * codes, CRLF, binary garbage, truncated output) and always returns a new JSON object (the
 * caller's reference; never NULL). Parse problems are not fatal: what was understood is in the
 * object, and an "errors" array (at most LOTUS_MAX_ERRORS texts "line N: ...") plus an
 * "errorCount" say what was not. No global state; safe from any thread.
 */
#ifndef EF_LOTUS_PARSE_H
#define EF_LOTUS_PARSE_H

#include <jansson.h>
#include <stddef.h>

#include "lotus_units.h"

/* `lotus-miner info` -> the miner-record fields it shows, "sectorStates", ... (docs/lotus.md) */
json_t *ef_lotus_parse_info(const char *buf, size_t len);
/* `lotus-miner sealing jobs` -> {"jobs":[{id, sector, worker, hostName, task, state, time,
 * seconds?}]} in printed order. */
json_t *ef_lotus_parse_jobs(const char *buf, size_t len);
/* `sealing workers`, `proving workers`, v0.4 `workers list` -> {"workers":[...]} in order. */
json_t *ef_lotus_parse_workers(const char *buf, size_t len);
/* `lotus-miner sectors list` (v0.5 key/value and v0.9+ table) -> {"sectors":[...]}. */
json_t *ef_lotus_parse_sectors(const char *buf, size_t len);

/* `edgefleet-agent lotus-parse info|workers|jobs|sectors FILE` (FILE "-" = stdin): prints the
 * parsed JSON (2-space indent) to stdout and returns 0; usage errors return 2, an unreadable
 * file 1, each with a message on stderr. argv[0] is the command name ("lotus-parse"). */
int lotus_parse_main(int argc, char **argv);

#endif
