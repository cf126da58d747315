/* SPDX-License-Identifier: MIT */
/* cli_miner.c -- `edgefleetctl miner ...`: the lotus miner records the agents upload
 * (miner_query_all, miner_query in docs/api.md). */
#include "cli.h"

static const struct col miner_cols[] = {
  {"MINER", "minerId", NULL, COL_TEXT},
  {"DEVICE", "deviceId", NULL, COL_TEXT},
  {"BALANCE", "minerBalance", NULL, COL_TEXT},
  {"POWER", "adjustedPower", NULL, COL_TEXT},
  {"SECTORS", "totalSectors", NULL, COL_TEXT},
  {"WORKERS", "workerInfo", NULL, COL_COUNT},
  {"UPDATED", "updatedTime", NULL, COL_TIME},
  {NULL, NULL, NULL, COL_TEXT},
};

static void show_miners(json_t *arr) { out_table(arr, miner_cols); }

int cli_miner_list(struct cli *c) {
  json_t *data;
  int rc = cli_get(c, &data, "miner_query_all", NULL);
  return rc ? rc : cli_out(c, data, show_miners);
}

int cli_miner_show(struct cli *c) {
  json_t *data;
  int rc = cli_get(c, &data, "miner_query", c->args[0], NULL);
  return rc ? rc : cli_out(c, data, out_kv);
}
