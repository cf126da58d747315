/* SPDX-License-Identifier: MIT */
/* lotus_provecheck.h -- the optional check of the next WindowPoSt deadline(s) before they open:
 * `lotus-miner proving check --only-bad DL` (docs/lotus-collector.md#proving-check). */
#ifndef EF_AGENT_LOTUS_PROVECHECK_H
#define EF_AGENT_LOTUS_PROVECHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOTUS_DEADLINES 48               /* WindowPoSt deadlines a proving period */
#define LOTUS_DEADLINE_MS (30 * 60000LL) /* 60 epochs of 30 s */
#define LOTUS_BAD_MAX 1000               /* bad sector numbers kept in the record */

/* `proving check --only-bad` output -> {"badSectors":[n…], "bad":N} (+"badTruncated":true past
 * LOTUS_BAD_MAX): every row whose first three words are numbers (deadline, partition, sector)
 * is a bad sector. A minimal reading until the parser of docs/lotus.md has one. Never NULL. */
json_t *lotus_provecheck_parse(const char *buf, size_t len);

/* `proving info` output -> the current deadline's index and the time until it closes (= the
 * next one opens), from `Deadline Index:` and the `(in 12m30s)` of `Deadline Close:`. */
bool lotus_provecheck_info(const char *buf, size_t len, int *index, int64_t *close_in_ms);

#endif
