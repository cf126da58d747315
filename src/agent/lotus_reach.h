/* SPDX-License-Identifier: MIT */
/* lotus_reach.h -- the miner host's TCP reachability of its lotus workers (lotus_reach.c). */
#ifndef EF_AGENT_LOTUS_REACH_H
#define EF_AGENT_LOTUS_REACH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* `lotus-miner storage list` output -> {"urls":[{"host","port"}…],"errorCount":0} (distinct
 * HOST:PORT of its `URL:` lines). Never NULL; the caller's reference. */
json_t *lotus_reach_parse_storage(const char *buf, size_t len);

/* Connect to the listen address of each worker host in `hosts` (array of strings), found in
 * `storage` (lotus_reach_parse_storage()), all at once within timeout_ms; at most `max` of them.
 * Returns {host: "reachable"|"unreachable"|"unknown"} (unknown: no address known, or past
 * `max`); the caller's reference. Blocks up to timeout_ms plus name resolution. */
json_t *lotus_reach_probe(const json_t *storage, const json_t *hosts, int64_t timeout_ms,
                          size_t max);

#endif
