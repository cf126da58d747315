/* SPDX-License-Identifier: MIT */
/* lotus_record.h -- the miner record (docs/protocol.md#miner-records) from what the parsers (or the
 * JSON-RPC source) produced: pure functions, no I/O, no global state, safe from any thread.
 *
 * Inputs are the parser shapes of docs/lotus.md: `info` the object of ef_lotus_parse_info(),
 * `workers` {"workers":[...]} of ef_lotus_parse_workers(), `jobs` {"jobs":[...]} of
 * ef_lotus_parse_jobs(), `sectors` {"sectors":[...]} of ef_lotus_parse_sectors(). The RPC source
 * (lotus_rpc.c) builds the same shapes from API answers, so both sources share this builder.
 * docs/lotus-collector.md lists every field of the record; docs/lotus.md#sector-states has the
 * sector-state table and #the-record-from-the-cli-source the CLI parts.
 */
#ifndef EF_AGENT_LOTUS_RECORD_H
#define EF_AGENT_LOTUS_RECORD_H

#include <jansson.h>
#include <stdint.h>

/* The sector-state counter a lotus sector state adds to: exactly one of preCommit1, preCommit2,
 * preCommitWait, waitSeed, committing, commitWait, finalizeSector, effectiveSectors,
 * errorSectors, failSectors, deletedSectors, snapSectors, otherSectors (never NULL; the table is
 * ef_lotus_state_counter() of lotus_states.c, docs/lotus.md#sector-states). *sub (may be NULL)
 * is always set to NULL (kept for the earlier two-counter form). */
const char *lotus_state_counter(const char *state, const char **sub);

/* Build the record. Every argument is borrowed and may be NULL (that part is then missing:
 * no miner fields without `info`, no workers without `workers`, ...). `now_ms` becomes
 * "timestamp". Returns a new object (the caller's reference), never NULL; "minerId" is absent
 * when `info` has none. */
json_t *lotus_record_build(const json_t *info, const json_t *workers, const json_t *jobs,
                           const json_t *sectors, int64_t now_ms);

/* The CLI source's further parts (docs/lotus.md#the-record-from-the-cli-source). Each adds its
 * keys to `rec` (the record of lotus_record_build()); every input is borrowed and may be NULL.
 *
 * proving: `deadlines` of ef_lotus_parse_deadlines() (`lotus-miner proving deadlines`), `pinfo`
 * of ef_lotus_parse_proving_info() (`proving info`), `faults` of ef_lotus_parse_faults()
 * (`proving faults`) -> deadlines[], currentDeadline, deadlineOpen/Close, nextDeadlineOpen,
 * deadlineLeftSeconds, faultySectors, faults[] (<= 1000, faultsTruncated), recoverySectors.
 * Times need the current deadline's open time: from `proving info` (any era) or the `open`
 * column (v1.28+, local time of day, read in the agent's time zone). */
void lotus_record_add_proving(json_t *rec, const json_t *deadlines, const json_t *pinfo,
                              const json_t *faults, int64_t now_ms);
/* ownerAddress, workerAddress, controlAddresses from ef_lotus_parse_control()
 * (`lotus-miner actor control list --verbose`). */
void lotus_record_add_addresses(json_t *rec, const json_t *control);
/* totalMessages: the messages of ef_lotus_parse_mpool() (`lotus mpool pending --local`) sent
 * from an address of `control` (all of them when `control` is NULL or empty). `error` (e.g.
 * "no lotus binary configured") instead sets totalMessagesError and no count. */
void lotus_record_add_messages(json_t *rec, const json_t *mpool, const json_t *control,
                               const char *error);
/* peerId, multiaddrs from ef_lotus_parse_net() (`lotus-miner net id` + `net listen` output). */
void lotus_record_add_net(json_t *rec, const json_t *net);
/* provingCheck {deadline, checkedAt, badSectors (<= 1000), bad, badTruncated?, opensAt?, error?}
 * from ef_lotus_parse_check() (`lotus-miner proving check --only-bad DL`); `error` (may be
 * NULL): why the check failed. opensAt is the `open` of deadline DL in rec's deadlines[] (call
 * lotus_record_add_proving() first). */
void lotus_record_add_check(json_t *rec, const json_t *check, int deadline, int64_t now_ms,
                            const char *error);

/* The short task name lotus prints for a sealing task type ("seal/v0/precommit/1" -> "PC1",
 * "post/v0/windowproof" -> "WDP"); the text itself when unknown. Borrowed/static. */
const char *lotus_task_short(const char *task_type);

#endif
