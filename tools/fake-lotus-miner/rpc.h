/* SPDX-License-Identifier: MIT */
/* rpc.h -- fake-lotus-miner's JSON-RPC 2.0 server (--rpc): lotus' miner and full-node API
 * methods the agent's RPC source calls, answered from the simulated state. */
#ifndef FLM_RPC_H
#define FLM_RPC_H

#include <jansson.h>

#include "sim.h"

/* Loads the state at the moment of a request; NULL on failure (reason on stderr). The server
 * frees what it gets (sim_free). */
typedef struct sim *(*rpc_state_fn)(void *ud);

/* Serve on addr ("127.0.0.1:PORT", "localhost:PORT"; port 0 picks a free one) until killed;
 * prints "listening on 127.0.0.1:PORT" to stdout when ready. token NULL: no check. Returns an
 * exit code (1) only when it cannot listen. */
int rpc_serve(const char *addr, const char *token, rpc_state_fn load, void *ud);

/* One request body -> the answer object (new reference), for the given state. Exposed for the
 * server only; `s` may be NULL when the state could not be loaded. */
json_t *rpc_answer(struct sim *s, const json_t *req);

#endif
