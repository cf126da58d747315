/* SPDX-License-Identifier: MIT */
/* lotus_record.h -- the miner record (docs/protocol.md#miner-records) from what the parsers (or the
 * JSON-RPC source) produced: pure functions, no I/O, no global state, safe from any thread.
 *
 * Inputs are the parser shapes of docs/lotus.md: `info` the object of ef_lotus_parse_info(),
 * `workers` {"workers":[...]} of ef_lotus_parse_workers(), `jobs` {"jobs":[...]} of
 * ef_lotus_parse_jobs(), `sectors` {"sectors":[...]} of ef_lotus_parse_sectors(). The RPC source
 * (lotus_rpc.c) builds the same shapes from API answers, so both sources share this builder.
 * docs/lotus-collector.md lists every field of the record and the sector-state table.
 */
#ifndef EF_AGENT_LOTUS_RECORD_H
#define EF_AGENT_LOTUS_RECORD_H

#include <jansson.h>
#include <stdint.h>

/* The sector-state counters of the record: the main counter a lotus sector state adds to
 * (preCommit1, preCommit2, waitSeed, committing, finalizeSector, effectiveSectors, errorSectors,
 * deletedSectors, failSectors), or NULL for a state that feeds none (Packing, Empty, ...).
 * *sub (may be NULL) receives the second counter the state also adds to, or NULL:
 * PreCommitting..PreCommitWait count in preCommit2 and preCommitWaitSectors, SubmitCommit..
 * CommitWait in committing and commitWaitSectors. Every "...Failed" state feeds failSectors. */
const char *lotus_state_counter(const char *state, const char **sub);

/* Build the record. Every argument is borrowed and may be NULL (that part is then missing:
 * no miner fields without `info`, no workers without `workers`, ...). `now_ms` becomes
 * "timestamp". Returns a new object (the caller's reference), never NULL; "minerId" is absent
 * when `info` has none. */
json_t *lotus_record_build(const json_t *info, const json_t *workers, const json_t *jobs,
                           const json_t *sectors, int64_t now_ms);

/* The short task name lotus prints for a sealing task type ("seal/v0/precommit/1" -> "PC1",
 * "post/v0/windowproof" -> "WDP"); the text itself when unknown. Borrowed/static. */
const char *lotus_task_short(const char *task_type);

#endif
