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
/* `lotus-miner proving deadlines` -> {"deadlines":[{index, open?, openSecondOfDay?, partitions,
 * sectors, faults?, provenPartitions, current?}], "currentDeadline"?, "faultySectors"?}. */
json_t *ef_lotus_parse_deadlines(const char *buf, size_t len);
/* `lotus-miner proving faults` -> {"faults":[{deadline, partition?, sector}], "faultySectors"?}. */
json_t *ef_lotus_parse_faults(const char *buf, size_t len);
/* `lotus-miner proving info` -> {currentDeadline, faultySectors, recoverySectors,
 * deadlineOpenEpoch, deadlineOpenInSeconds, ...} (docs/lotus.md#proving-info). */
json_t *ef_lotus_parse_proving_info(const char *buf, size_t len);
/* `lotus-miner proving check [--only-bad] DL` -> {"badSectors":[{deadline, partition, sector,
 * error?}], "bad", "good"}. */
json_t *ef_lotus_parse_check(const char *buf, size_t len);
/* `lotus-miner actor control list [--verbose]` -> {"addresses":[{name,id,key|keyPrefix}],
 * "owner"?, "worker"?, "beneficiary"?, "control":[ids]}. */
json_t *ef_lotus_parse_control(const char *buf, size_t len);
/* `lotus mpool pending --local` -> {"messages": N, "from": {address: count}, "fromOther"?}. */
json_t *ef_lotus_parse_mpool(const char *buf, size_t len);
/* `lotus-miner net id` and/or `net listen` -> {"peerId"?, "multiaddrs":[...]}. */
json_t *ef_lotus_parse_net(const char *buf, size_t len);

/* Sector states (lotus_states.c, docs/lotus.md#sector-states). The counter a lotus sector state
 * adds to: exactly one of ef_lotus_sector_counters (NULL-terminated); never NULL (unknown states
 * are "otherSectors", unknown "...Failed" states "failSectors"). */
extern const char *const ef_lotus_sector_counters[];
const char *ef_lotus_state_counter(const char *state);
/* The i-th state of the table (NULL past the end), its counter in *counter. */
const char *ef_lotus_state_name(size_t i, const char **counter);
/* obj[counter] = sum of `states` ({"State": N}) per counter, every counter set (0 when none). */
void ef_lotus_add_sector_counters(json_t *obj, const json_t *states);

/* `edgefleet-agent lotus-parse KIND FILE` (kinds: info workers jobs sectors deadlines faults
 * proving-info check control mpool net) (FILE "-" = stdin): prints the
 * parsed JSON (2-space indent) to stdout and returns 0; usage errors return 2, an unreadable
 * file 1, each with a message on stderr. argv[0] is the command name ("lotus-parse"). */
int lotus_parse_main(int argc, char **argv);

#endif
