/* SPDX-License-Identifier: MIT */
/* lotus_states.c -- the one table from lotus' sealing state machine (storage/pipeline/
 * sector_state.go, and the states of earlier releases: v0.4 `Unsealed`, `SealFailed`,
 * `SealCommitFailed`) to the record's sector counters (docs/lotus.md#sector-states).
 *
 * Every state feeds exactly one counter, so the counters of a full state list add up to
 * `totalSectors`. Rules beyond the table: any other name ending in "Failed" is a failSectors
 * state, anything else (unknown, newer, the empty name) is otherSectors.
 */
#include <stdint.h>
#include <string.h>

#include "lotus_parse.h"

struct state_row {
  const char *state;
  const char *counter;
};

static const struct state_row rows[] = {
    /* before sealing: deals, pieces, packing, import */
    {"Empty", "otherSectors"},
    {"WaitDeals", "otherSectors"},
    {"AddPiece", "otherSectors"},
    {"Packing", "otherSectors"},
    {"ReceiveSector", "otherSectors"},
    /* sealing */
    {"GetTicket", "preCommit1"},
    {"PreCommit1", "preCommit1"},
    {"Unsealed", "preCommit1"}, /* v0.4: the state that ran PreCommit1+2 */
    {"PreCommit2", "preCommit2"},
    {"PreCommitting", "preCommitWait"},
    {"SubmitPreCommitBatch", "preCommitWait"},
    {"PreCommitBatchWait", "preCommitWait"},
    {"PreCommitWait", "preCommitWait"},
    {"WaitSeed", "waitSeed"},
    {"Committing", "committing"},
    {"CommitFinalize", "committing"},
    {"SubmitCommit", "commitWait"},
    {"SubmitCommitAggregate", "commitWait"},
    {"CommitAggregateWait", "commitWait"},
    {"CommitWait", "commitWait"},
    {"FinalizeSector", "finalizeSector"},
    /* proving */
    {"Proving", "effectiveSectors"},
    {"Available", "effectiveSectors"},
    /* faults: the sectors counted in the Faulty power */
    {"Faulty", "errorSectors"},
    {"FaultReported", "errorSectors"},
    {"FaultedFinal", "errorSectors"},
    /* snap deals / CC upgrade */
    {"SnapDealsWaitDeals", "snapSectors"},
    {"SnapDealsAddPiece", "snapSectors"},
    {"SnapDealsPacking", "snapSectors"},
    {"UpdateReplica", "snapSectors"},
    {"ProveReplicaUpdate", "snapSectors"},
    {"SubmitReplicaUpdate", "snapSectors"},
    {"WaitMutable", "snapSectors"},
    {"ReplicaUpdateWait", "snapSectors"},
    {"UpdateActivating", "snapSectors"},
    {"ReleaseSectorKey", "snapSectors"},
    {"FinalizeReplicaUpdate", "snapSectors"},
    {"AbortUpgrade", "snapSectors"},
    /* error modes (besides every "...Failed") */
    {"FailedUnrecoverable", "failSectors"},
    {"DealsExpired", "failSectors"},
    {"RecoverDealIDs", "failSectors"},
    {"SnapDealsDealsExpired", "failSectors"},
    {"SnapDealsRecoverDealIDs", "failSectors"},
    /* termination and removal (TerminateFailed, RemoveFailed: failSectors by the rule) */
    {"Terminating", "deletedSectors"},
    {"TerminateWait", "deletedSectors"},
    {"TerminateFinality", "deletedSectors"},
    {"Removing", "deletedSectors"},
    {"Removed", "deletedSectors"},
    {NULL, NULL},
};

const char *const ef_lotus_sector_counters[] = {
    "preCommit1",       "preCommit2",   "preCommitWait", "waitSeed",       "committing",
    "commitWait",       "finalizeSector", "effectiveSectors", "errorSectors", "failSectors",
    "deletedSectors",   "snapSectors",  "otherSectors",  NULL,
};

const char *ef_lotus_state_counter(const char *state) {
  if (!state) return "otherSectors";
  for (const struct state_row *r = rows; r->state; r++)
    if (strcmp(r->state, state) == 0) return r->counter;
  size_t n = strlen(state);
  if (n > 6 && strcmp(state + n - 6, "Failed") == 0) return "failSectors";
  return "otherSectors";
}

const char *ef_lotus_state_name(size_t i, const char **counter) {
  if (i >= sizeof rows / sizeof rows[0] - 1) return NULL;
  if (counter) *counter = rows[i].counter;
  return rows[i].state;
}

void ef_lotus_add_sector_counters(json_t *obj, const json_t *states) {
  for (const char *const *c = ef_lotus_sector_counters; *c; c++)
    json_object_set_new(obj, *c, json_integer(0));
  const char *name;
  json_t *v;
  json_object_foreach((json_t *)states, name, v) {
    if (!json_is_integer(v)) continue;
    const char *c = ef_lotus_state_counter(name);
    /* unsigned: absurd inputs wrap instead of overflowing (they never add up anyway) */
    uint64_t sum = (uint64_t)json_integer_value(json_object_get(obj, c)) +
                   (uint64_t)json_integer_value(v);
    json_object_set_new(obj, c, json_integer((json_int_t)sum));
  }
}
