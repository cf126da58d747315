/* SPDX-License-Identifier: MIT */
/* collector.h -- the contract every edgefleet-agent collector follows, and the set that runs them.
 *
 * A collector is a row in a table (collectors.c), not a branch in a switch:
 *
 *   init(&state, conf)        allocate the collector's state (the collector's own, freed by
 *                             cleanup); non-zero means "cannot run here" and skips it.
 *   collect(state, now, out)  add this collector's members to the status object `out` (borrowed).
 *                             `now` is a monotonic clock in ms: rates are (delta / elapsed).
 *                             0 = fine (fields it could not read are simply omitted);
 *                             non-zero disables the collector for the rest of the run, after it
 *                             logged why (as netdata's proc.plugin does).
 *   cleanup(state)            free the state (NULL is a no-op).
 *
 * Collectors run on the library's loop thread (inside the status provider), so collect() must be
 * fast: a few small file reads, never a child process or a network call. No statics: all state
 * lives in the state struct. Each collector documents its fields in docs/agent.md.
 */
#ifndef EF_AGENT_COLLECTOR_H
#define EF_AGENT_COLLECTOR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct agent_conf;

struct ef_collector {
  const char *name;
  int (*init)(void **state, const struct agent_conf *conf);
  int (*collect)(void *state, int64_t now_ms, json_t *out);
  void (*cleanup)(void *state);
};

/* The collectors this build knows (system.c, gpu.c). */
extern const struct ef_collector collector_system;
extern const struct ef_collector collector_gpu;

/* The set of enabled collectors named by conf->collectors. */
struct collectors;

/* Initialise every collector named in conf->collectors (comma or space separated). An unknown
 * name is EF_ECONFIG with err set; a collector whose init fails is logged and skipped. *out is
 * the caller's; free it with collectors_free(). */
int collectors_new(const struct agent_conf *conf, struct collectors **out, char *err,
                   size_t errlen);
/* Initialise `c` and add it to the set (collectors_new() uses it; tests add their own). Returns
 * init's code; on failure the collector is logged and not added. */
int collectors_add(struct collectors *set, const struct ef_collector *c,
                   const struct agent_conf *conf);
/* Run every enabled collector into one new object (the caller's reference). */
json_t *collectors_collect(struct collectors *set, int64_t now_ms);
/* The status provider for ef_client_on_status(): ud is a struct collectors *; returns compact
 * JSON text from malloc (the caller frees it with free()). */
char *collectors_status_cb(void *ud);
/* How many collectors are still enabled. */
int collectors_enabled(const struct collectors *set);
void collectors_free(struct collectors **set);

#endif
