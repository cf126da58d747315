/* SPDX-License-Identifier: MIT */
/* lotus_rpc_deadlines.h -- pure converters of the RPC source (lotus_rpc.c) for the WindowPoSt
 * and message fields of the miner record (docs/lotus.md): go-bitfield JSON, deadlines, faults,
 * pending messages, StateMinerInfo addresses and multiaddrs. No I/O; exposed for tests. */
#ifndef EF_AGENT_LOTUS_RPC_DEADLINES_H
#define EF_AGENT_LOTUS_RPC_DEADLINES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define LOTUS_RPC_DEADLINES 48
#define LOTUS_RPC_FAULTS_MAX 1000

/* go-bitfield's JSON (RLE runs: [zeros, ones, zeros, ...]): the number of set bits, -1 when
 * `bf` is not such an array. */
int64_t lotus_bitfield_count(const json_t *bf);
/* The set bits in ascending order into a new JSON array of at most `max` integers; *truncated
 * true when there were more. NULL when `bf` is not a bitfield. */
json_t *lotus_bitfield_list(const json_t *bf, size_t max, bool *truncated);

/* Epoch -> Unix ms, from one known (epoch, ms) pair (the chain head) and 30 s epochs. */
struct lotus_chain_clock {
  int64_t epoch, ms;
};
int64_t lotus_epoch_ms(const struct lotus_chain_clock *c, int64_t epoch);

/* info gains deadlines[], currentDeadline, deadlineOpen/Close, deadlineLeftSeconds and
 * nextDeadlineOpen from StateMinerProvingDeadline's `dl`, StateMinerDeadlines' `dls` and
 * StateMinerPartitions' answers `parts[i]` (NULL when that call failed: the deadline then lacks
 * sectors/faults/recoveries/partitions). clock NULL: no times. */
void lotus_rpc_put_deadlines(json_t *info, const json_t *dl, const json_t *dls,
                             json_t *const parts[LOTUS_RPC_DEADLINES],
                             const struct lotus_chain_clock *clock);

/* info gains faultySectors, faults (at most 1000, faultsTruncated) from StateMinerFaults, and
 * recoverySectors from StateMinerRecoveries (either may be NULL). */
void lotus_rpc_put_faults(json_t *info, const json_t *faults, const json_t *recoveries);

/* info gains ownerAddress, workerAddress, controlAddresses, peerId and multiaddrs (decoded to
 * text; undecodable ones skipped) from StateMinerInfo. */
void lotus_rpc_put_addresses(json_t *info, const json_t *minfo);
/* A binary multiaddr (base64 in lotus' JSON) -> "/ip4/1.2.3.4/tcp/24001"; false when it holds a
 * protocol this decoder does not know. */
bool lotus_multiaddr_text(const char *b64, char *out, size_t cap);

/* The number of messages in MpoolPending's `pending` sent from one of `addrs` (strings). */
int64_t lotus_rpc_count_messages(const json_t *pending, const json_t *addrs);

/* The RPC source's record keys that lotus_record_build() does not copy from `info` (the CLI
 * source gets them from lotus_record_add_proving/addresses/net/messages instead): deadlines[],
 * currentDeadline, deadlineOpen, deadlineClose, deadlineLeftSeconds, nextDeadlineOpen,
 * faultySectors, faults, faultsTruncated, recoverySectors, ownerAddress, workerAddress,
 * controlAddresses, peerId, multiaddrs, totalMessages, totalMessagesError and the
 * preCommitDeposit trio, copied from `info` (borrowed) into `rec`. The collector calls it on the
 * record of an RPC collection. */
void lotus_rpc_add_record(json_t *rec, const json_t *info);

#endif
