/* SPDX-License-Identifier: MIT */
/* lotus_rpc.h -- the lotus collector's JSON-RPC source: asks the miner's API (and, when known,
 * the full node's) over HTTP with libcurl and turns the answers into the shapes the CLI parsers
 * produce (docs/lotus.md), so that lotus_record_build() serves both sources.
 *
 * Blocking (each call has a curl time limit): use it from the collector's thread only.
 */
#ifndef EF_AGENT_LOTUS_RPC_H
#define EF_AGENT_LOTUS_RPC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct lotus_rpc;

/* Split lotus' API info "TOKEN:/ip4/1.2.3.4/tcp/2345/http" (also /dns/NAME/, /ip6/ and a plain
 * "http://host:port[/path]" without token) into the endpoint URL ("http://1.2.3.4:2345/rpc/v0"
 * when no path is given) and the token ("" when none). EF_EPARSE on anything else. */
int lotus_api_info_parse(const char *info, char *url, size_t url_cap, char *token,
                         size_t token_cap);

/* miner_api is required (API info or URL); miner_token overrides its token; node_api may be NULL
 * (then the chain state fields are not collected). EF_ECONFIG with err set on a bad address. */
int lotus_rpc_new(const char *miner_api, const char *miner_token, const char *node_api,
                  const char *node_token, int64_t timeout_ms, struct lotus_rpc **out, char *err,
                  size_t errlen);
void lotus_rpc_free(struct lotus_rpc **r);

/* One collection. Sets *info, *workers, *jobs (new references in the parser shapes, each NULL
 * when that part could not be had) and writes what failed into err ("" when nothing did), e.g.
 * "rpc Filecoin.WorkerStats: missing permission to invoke 'WorkerStats' (need 'admin')".
 * now_ms is the clock the job times are measured against. Returns 0 when the miner answered at
 * all, EF_EIO when it did not. */
int lotus_rpc_collect(struct lotus_rpc *r, int64_t now_ms, json_t **info, json_t **workers,
                      json_t **jobs, char *err, size_t errlen);

/* The converters lotus_rpc_collect() uses, exposed for tests: the `result` of WorkerStats ->
 * {"workers":[...]}, of WorkerJobs (with WorkerStats' for host names, may be NULL) ->
 * {"jobs":[...]}. New references, never NULL. */
json_t *lotus_rpc_workers(const json_t *stats);
json_t *lotus_rpc_jobs(const json_t *jobs, const json_t *stats, int64_t now_ms);

#endif
