/* SPDX-License-Identifier: MIT */
/* test_lotus_parse.c -- every fixture of tests/data/lotus through its parser, checking the
 * values a person reads off the text; plus the tolerant paths (unknown lines, ERROR: lines,
 * the error cap, re-spaced tables) and the lotus-parse command. */
#include "lotus_test.h"

#include <fcntl.h>
#include <unistd.h>

/* ---- info ---------------------------------------------------------------------------------- */

static void test_info_v040(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_info, "info-v0.4.0-jun2020.txt");
  expect_str(o, "minerId", "t0101234");
  expect_str(o, "sectorSize", "32 GiB");
  expect_str(o, "sectorSizeBytes", "34359738368");
  expect_str(o, "rawBytePower", "0 B");
  expect_str(o, "adjustedPower", "0"); /* DeciStr(0) = "0 " */
  expect_str(o, "adjustedPowerBytes", "0");
  expect_str(o, "totalAdjustedPower", "2.93 Pi");
  expect_str(o, "minerBalance", "0");
  expect_str(o, "workerBalance", "12.5"); /* no unit in v0.4.0 */
  expect_str(o, "workerBalanceAtto", "12500000000000000000");
  expect_bool(o, "workerBalanceExact", true);
  expect_int(o, "totalSectors", 3);
  expect_int(o, "sectorStates.PreCommit1", 2);
  expect_int(o, "sectorStates.Packing", 1);
  expect_int(o, "preCommit1", 2);
  expect_absent(o, "expectBlock");
  expect_absent(o, "belowMinPower");
  expect_str(o, "layout", "v0.4-v1.2.1");
  json_decref(o);
}

static void test_info_v042(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_info, "info-v0.4.2-below-min-jul2020.txt");
  expect_str(o, "minerId", "t0102345");
  expect_str(o, "rawBytePower", "640 GiB");
  expect_real(o, "rawPowerPercent", 1.0212);
  expect_str(o, "adjustedPower", "640 Gi");
  expect_real(o, "powerPercent", 0.2268);
  expect_str(o, "committedPower", "672 GiB");
  expect_str(o, "effectivePower", "640 GiB");
  expect_str(o, "faultyPower", "32 GiB");
  expect_real(o, "faultyPercent", 4.76);
  expect_bool(o, "belowMinPower", true);
  expect_str(o, "minerBalance", "1523.456789012345678901 FIL");
  expect_str(o, "minerBalanceAtto", "1523456789012345678901");
  expect_bool(o, "minerBalanceExact", true);
  expect_str(o, "vestingBalance", "1402 FIL"); /* "Locked" = locked funds */
  expect_bool(o, "vestingBalanceExact", true); /* FIL.String(): exact even with 0 decimals */
  expect_str(o, "minerAvailableAtto", "76544443333444444334");
  expect_str(o, "workerBalance", "998.76543210987654321 FIL");
  expect_int(o, "totalSectors", 23);
  expect_int(o, "effectiveSectors", 20);
  expect_int(o, "sectorStates.SealPreCommit1Failed", 1);
  expect_int(o, "failSectors", 1);
  json_decref(o);
}

static void test_info_v054(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_info, "info-v0.5.4-aug2020.txt");
  expect_str(o, "minerId", "t0103456");
  expect_str(o, "expectBlock", "4.1472/day (every 5h47m13s)");
  expect_int(o, "deals.count", 37);
  expect_str(o, "deals.size", "2.5 TiB");
  expect_int(o, "deals.states.Active.count", 30);
  expect_str(o, "deals.states.Active.verifiedSize", "0 B");
  expect_str(o, "pledgeBalance", "136.456789012345678901 FIL");
  expect_str(o, "vestingBalance", "80.234567890123456789 FIL");
  expect_str(o, "preCommitDeposit", "3.12 FIL");
  expect_str(o, "preCommitDepositAtto", "3120000000000000000");
  expect_str(o, "marketBalance", "0.00004125 FIL");
  expect_str(o, "marketBalanceAtto", "41250000000000");
  expect_str(o, "marketLocked", "0 FIL");
  expect_real(o, "expectedSealDurationSeconds", 43200);
  expect_int(o, "sectorStates.WaitDeals", 1); /* printed before Total */
  expect_int(o, "totalSectors", 172);
  expect_int(o, "sectorStates.Proving", 134);
  expect_int(o, "sectorStates.FaultedFinal", 1);
  expect_int(o, "errorSectors", 3); /* Faulty + FaultReported + FaultedFinal */
  expect_int(o, "waitSeed", 12);
  expect_int(o, "committing", 4);
  expect_int(o, "finalizeSector", 3);
  expect_size(o, "sectorStates", 11);
  json_decref(o);
}

static void test_info_v080_v113(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_info, "info-v0.8.0-vesting-sep2020.txt");
  expect_str(o, "minerId", "t0104567");
  expect_str(o, "vestingBalance", "301.234567890123456789 FIL");
  expect_str(o, "workerBalance", "150 FIL");
  expect_bool(o, "workerBalanceExact", true);
  expect_str(o, "expectBlock", "0.5952/day (every 40h19m11s)");
  expect_int(o, "sectorStates.Proving", 240);
  json_decref(o);

  o = fixture_parse(ef_lotus_parse_info, "info-v1.1.3-nov2020.txt");
  expect_str(o, "chainSync", "sync ok"); /* "Full node: [sync ok]" */
  expect_str(o, "minerId", "f0105678");
  expect_str(o, "committedPower", "96.56 TiB");
  expect_str(o, "minerAvailable", "0.2469135802469136 FIL");
  expect_str(o, "minerAvailableAtto", "246913580246913600");
  expect_str(o, "marketBalance", "0.5 FIL");
  expect_bool(o, "marketBalanceExact", true);
  expect_int(o, "totalSectors", 3140);
  expect_str(o, "layout", "v0.4-v1.2.1");
  json_decref(o);
}

static void test_info_v122_negative(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_info, "info-v1.2.2-negative-avail-dec2020.txt");
  expect_str(o, "minerId", "f0106789");
  expect_str(o, "sectorSize", "32 GiB");
  expect_str(o, "adjustedPower", "153 Ti");
  expect_str(o, "rawBytePower", "152.8 TiB");
  expect_str(o, "baseFee", "1.234 nFIL");
  expect_str(o, "baseFeeAtto", "1234000000");
  expect_str(o, "minerBalance", "13456.789 FIL");
  expect_bool(o, "minerBalanceExact", false); /* FIL.Short() rounds */
  expect_str(o, "minerAvailable", "-174075296752975308642 aFIL");
  expect_str(o, "minerAvailableAtto", "-174075296752975308642");
  expect_bool(o, "minerAvailableExact", true);
  expect_str(o, "totalSpendableAtto", "-161729617851740740752");
  expect_str(o, "marketBalance", "0");
  expect_str(o, "marketAvailable", "0");
  expect_bool(o, "marketAvailableExact", true);
  expect_absent(o, "postBalance");
  expect_str(o, "layout", "v1.2.2+");
  expect_int(o, "errorSectors", 4);
  json_decref(o);
}

static void test_info_v110_v111(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_info, "info-v1.10.0-jun2021.txt");
  expect_str(o, "minerId", "f0107890");
  expect_str(o, "baseFee", "152.481 pFIL");
  expect_str(o, "postBalance", "198.765 FIL");
  expect_str(o, "postBalanceAtto", "198765000000000000000");
  expect_int(o, "sectorStates.SubmitPreCommitBatch", 64);
  expect_int(o, "totalSectors", 40123);
  expect_int(o, "deletedSectors", 1);
  expect_int(o, "deals.count", 128);
  json_decref(o);

  o = fixture_parse(ef_lotus_parse_info, "info-v1.11.1-jul2021.txt");
  expect_size(o, "subsystems", 4);
  expect_str(o, "subsystems.3", "Markets");
  expect_size(o, "marketsSubsystems", 4);
  expect_str(o, "expectBlock", "9.94/week (every 16h54m12s)");
  expect_str(o, "expectBlock99", "116h44m11s");
  expect_real(o, "expectBlock99Seconds", 420251);
  expect_str(o, "minerAvailable", "938.01 FIL");
  expect_str(o, "marketBalance", "50 FIL");
  expect_str(o, "marketLocked", "12.346 FIL");
  expect_str(o, "marketAvailable", "37.654 FIL");
  expect_str(o, "totalSpendable", "1024.8 FIL");
  expect_int(o, "storageDeals.count", 245);
  expect_int(o, "storageDeals.states.AwaitingPreCommit.count", 9);
  expect_str(o, "storageDeals.states.AwaitingPreCommit.size", "288 GiB");
  expect_int(o, "storageDeals.states.Sealing.verifiedCount", 21);
  expect_int(o, "retrievalDeals.count", 31);
  expect_str(o, "retrievalDeals.size", "1.234 TiB");
  expect_int(o, "sectorStates.CommitAggregateWait", 4);
  json_decref(o);
}

static void test_info_v1172(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_info, "info-v1.17.2-oct2022.txt");
  expect_str(o, "minerId", "f0109012");
  expect_int(o, "activeAlerts", 2);
  expect_str(o, "baseFee", "1.121 nFIL");
  expect_str(o, "faultyPower", "1.25 TiB");
  expect_real(o, "faultyPercent", 0.04);
  expect_str(o, "beneficiary", "f01234567");
  expect_str(o, "beneficiaryQuota", "5000000000000000000000");
  expect_str(o, "beneficiaryUsedQuota", "1234500000000000000000");
  expect_str(o, "beneficiaryExpiration", "3560000");
  expect_int(o, "workerCounts.Seal", 42);
  expect_int(o, "workerCounts.WinPoSt", 1);
  expect_int(o, "sectorStates.Available", 120);
  expect_int(o, "effectiveSectors", 104150 + 120);
  expect_int(o, "errorSectors", 40);
  expect_int(o, "storageDeals.count", 3311);
  expect_int(o, "retrievalDeals.count", 0);
  json_decref(o);
}

static void test_info_v1233(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_info, "info-v1.23.3-aug2023.txt");
  expect_str(o, "minerId", "f01230123");
  expect_size(o, "subsystems", 3);
  expect_str(o, "subsystems.0", "Mining");
  expect_absent(o, "marketsSubsystems");
  expect_str(o, "uptime", "412h7m3s");
  expect_real(o, "uptimeSeconds", 412 * 3600 + 7 * 60 + 3);
  expect_str(o, "startedAt", "2023-07-22 09:15:40 +0000 UTC");
  expect_str(o, "chainSync", "sync slow (1m2s behind)");
  expect_str(o, "adjustedPower", "18.8 Pi");
  expect_str(o, "totalAdjustedPower", "25.4 Ei");
  expect_real(o, "powerPercent", 0.0721);
  expect_str(o, "rawBytePower", "2.345 PiB");
  expect_str(o, "totalRawPower", "11.23 EiB");
  expect_str(o, "minerBalance", "845678.901 FIL");
  expect_str(o, "minerBalanceAtto", "845678901000000000000000");
  expect_bool(o, "minerBalanceExact", false);
  expect_str(o, "preCommitDeposit", "0");
  expect_bool(o, "preCommitDepositExact", true);
  expect_str(o, "pledgeBalance", "801234.568 FIL");
  expect_str(o, "workerBalance", "45.679 FIL");
  expect_str(o, "postBalance", "12.346 FIL");
  expect_int(o, "totalSectors", 75081);
  expect_int(o, "sectorStates.Proving", 75040);
  expect_int(o, "workerCounts.Seal", 6);
  json_decref(o);
}

static void test_info_zero_power(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_info, "info-v1.26.3-zero-power-2024.txt");
  expect_str(o, "minerId", "f02999999");
  expect_str(o, "adjustedPower", "0"); /* "Power: 0  / 28.9 Ei" */
  expect_str(o, "adjustedPowerBytes", "0");
  expect_str(o, "totalAdjustedPower", "28.9 Ei");
  expect_str(o, "uptime", "51m3s");
  expect_bool(o, "belowMinPower", true);
  expect_absent(o, "expectBlock");
  expect_str(o, "minerBalance", "0");
  expect_str(o, "minerBalanceAtto", "0");
  expect_str(o, "workerBalance", "10 FIL");
  expect_int(o, "totalSectors", 1);
  expect_int(o, "workerCounts.Seal", 1);
  json_decref(o);

  o = fixture_parse(ef_lotus_parse_info, "info-v1.32.1-newminer-2025.txt");
  expect_str(o, "minerId", "f03412345");
  expect_str(o, "adjustedPower", "0 B"); /* v1.32.1+ */
  expect_str(o, "adjustedPowerBytes", "0");
  expect_str(o, "workerBalance", "25 FIL");
  expect_int(o, "sectorStates.WaitDeals", 1);
  expect_int(o, "preCommit1", 3);
  expect_int(o, "totalSectors", 4);
  json_decref(o);
}

static void test_info_faulty(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_info, "info-v1.28.0-faulty-aug2024.txt");
  expect_str(o, "minerId", "f02012345");
  expect_int(o, "activeAlerts", 1);
  expect_str(o, "startedAt", "2024-08-14 03:40:02 +0800 CST");
  expect_str(o, "faultyPower", "148.8 TiB");
  expect_real(o, "faultyPercent", 2.84);
  expect_str(o, "minerBalance", "1534567.89 FIL");
  expect_str(o, "minerAvailable", "-10334 FIL");
  expect_str(o, "minerAvailableAtto", "-10334000000000000000000");
  expect_bool(o, "minerAvailableExact", false);
  expect_str(o, "marketAvailable", "1 FIL");
  expect_str(o, "marketLocked", "0");
  expect_int(o, "sectorStates.FaultReported", 4748);
  expect_int(o, "errorSectors", 12 + 4748);
  expect_int(o, "deletedSectors", 8);
  expect_int(o, "totalSectors", 167780);
  json_decref(o);
}

static void test_info_blocks_2026(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_info, "info-miner-v1.36.1-blocks-2026.txt");
  expect_str(o, "minerId", "f03456789");
  expect_str(o, "uptime", "96h0m12s");
  expect_str(o, "effectivePower", "1.5 PiB");
  expect_str(o, "effectivePowerBytes", "1688849860263936");
  expect_real(o, "faultyPercent", 0.0);
  expect_str(o, "beneficiary", "f03456000");
  expect_int(o, "workerCounts.WdPoSt", 1);
  expect_int(o, "totalSectors", 49160);
  expect_size(o, "blocks", 2);
  expect_str(o, "blocks.0.epoch", "5123456");
  expect_str(o, "blocks.0.time", "2026-06-30 14:03:00 +0000");
  expect_str(o, "blocks.0.blockId",
             "bafy2bzacebq3rnqaxq6h3l6u5xhctqz3l2m4q5k6l7m8n9o0p1q2r3s4t5u6v");
  expect_str(o, "blocks.1.reward", "9.024691357802469134 FIL");
  expect_str(o, "blocks.1.rewardAtto", "9024691357802469134");
  json_decref(o);
}

static void test_info_colour(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_info, "info-color-fragment-v1.23.txt");
  expect_str(o, "chainSync", "sync ok");
  expect_str(o, "baseFee", "100 aFIL");
  expect_str(o, "minerId", "f01230123");
  expect_str(o, "adjustedPower", "18.8 Pi");
  expect_str(o, "rawBytePower", "2.345 PiB");
  expect_str(o, "expectBlock", "18.91/week (every 8h53m8s)");
  expect_str(o, "expectBlock99", "61h22m5s");
  expect_str(o, "minerBalance", "845678.901 FIL");
  expect_str(o, "minerAvailable", "4320.877 FIL"); /* line starts with a colour code */
  expect_str(o, "workerBalance", "45.679 FIL");    /* reset of the previous line first */
  expect_str(o, "totalSpendable", "4378.901 FIL");
  expect_int(o, "totalSectors", 75081);
  expect_int(o, "sectorStates.Proving", 75040);
  expect_int(o, "sectorStates.Removed", 2);
  json_decref(o);
}

static void test_info_tolerant(void **state) {
  (void)state;
  const char *txt = "Mode: poster\r\n"
                    "Miner: f0999 (64 GiB sectors)\r\n"
                    "ERROR: getting alerts: connection refused\r\n"
                    "this is not lotus output\r\n"
                    "Miner Balance:    1.5 mFIL\r\n"
                    "\t: 3\r\n"; /* no "Sectors:" above: not a state */
  json_t *o = ef_lotus_parse_info(txt, strlen(txt));
  expect_str(o, "extra.Mode", "poster");
  expect_str(o, "minerId", "f0999");
  expect_str(o, "sectorSizeBytes", "68719476736");
  expect_str(o, "minerBalanceAtto", "1500000000000000");
  expect_int(o, "errorCount", 3);
  expect_str(o, "errors.0", "line 3: lotus-miner: ERROR: getting alerts: connection refused");
  expect_str(o, "errors.1", "line 4: unrecognised line: this is not lotus output");
  json_decref(o);

  /* An empty state name ("\t: N") inside Sectors is a state. */
  const char *sec = "Sectors:\n\tTotal: 4\n\t: 1\n\tProving: 3\n";
  o = ef_lotus_parse_info(sec, strlen(sec));
  assert_int_equal(json_integer_value(json_object_get(jpath(o, "sectorStates"), "")), 1);
  expect_int(o, "totalSectors", 4);
  expect_absent(o, "errors");
  json_decref(o);

  /* The error list is capped; the count is not. */
  char many[64 * 40];
  size_t n = 0;
  for (int i = 0; i < 40; i++) n += (size_t)snprintf(many + n, sizeof many - n, "junk %d\n", i);
  o = ef_lotus_parse_info(many, n);
  expect_size(o, "errors", 20);
  expect_int(o, "errorCount", 40);
  json_decref(o);

  o = ef_lotus_parse_info(NULL, 0);
  assert_true(json_is_object(o));
  assert_int_equal(json_object_size(o), 0);
  json_decref(o);
}

/* ---- jobs ---------------------------------------------------------------------------------- */

static void test_jobs_old(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_jobs, "jobs-empty.txt");
  expect_size(o, "jobs", 0);
  json_decref(o);

  o = fixture_parse(ef_lotus_parse_jobs, "jobs-v0.5.0-nostate-aug2020.txt");
  expect_size(o, "jobs", 5);
  expect_str(o, "jobs.0.id", "41");
  expect_str(o, "jobs.0.sector", "212");
  expect_str(o, "jobs.0.worker", "2");
  expect_str(o, "jobs.0.hostName", "sealer-02");
  expect_str(o, "jobs.0.task", "PC1");
  expect_str(o, "jobs.0.state", "running"); /* no State column in v0.5.0-v0.5.4 */
  expect_str(o, "jobs.0.time", "4h12m0.3s");
  expect_real(o, "jobs.0.seconds", 15120.3);
  expect_str(o, "jobs.-1.id", "47");
  expect_str(o, "jobs.-1.task", "FIN");
  expect_real(o, "jobs.-1.seconds", 12);
  json_decref(o);

  o = fixture_parse(ef_lotus_parse_jobs, "jobs-v0.5.10-assigned-sep2020.txt");
  expect_size(o, "jobs", 7);
  expect_str(o, "jobs.0.state", "running");
  expect_str(o, "jobs.4.id", "0");
  expect_str(o, "jobs.4.sector", "307");
  expect_str(o, "jobs.4.state", "assigned(0)");
  expect_str(o, "jobs.-1.hostName", "gpu-01");
  expect_str(o, "jobs.-1.task", "C2");
  expect_str(o, "jobs.-1.time", "400ms");
  expect_real(o, "jobs.-1.seconds", 0.4);
  json_decref(o);

  o = fixture_parse(ef_lotus_parse_jobs, "jobs-v1.1.3-pre1-longids-nov2020.txt");
  expect_size(o, "jobs", 4);
  expect_str(o, "jobs.0.id", "b9f0eed4a612");
  expect_str(o, "jobs.0.worker", "0000000000000000000000");
  expect_str(o, "jobs.0.hostName", ""); /* empty cell, kept in place by the header offsets */
  expect_str(o, "jobs.0.task", "C2");
  expect_str(o, "jobs.0.state", "ret-wait");
  expect_str(o, "jobs.0.time", "n/a");
  expect_absent(o, "jobs.0.seconds");
  expect_str(o, "jobs.-1.id", "41183fcd3670");
  expect_str(o, "jobs.-1.worker", "804294bfa1fd61a80469f7");
  expect_str(o, "jobs.-1.hostName", "gpu-01");
  json_decref(o);
}

static void test_jobs_v12_v111(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_jobs, "jobs-v1.2.0-retwait-dec2020.txt");
  expect_size(o, "jobs", 12);
  expect_str(o, "jobs.0.state", "returned");
  expect_str(o, "jobs.0.worker", "00000000");
  expect_str(o, "jobs.1.state", "ret-wait");
  expect_str(o, "jobs.1.hostName", "pc2-01");
  expect_str(o, "jobs.-1.id", "00000000");
  expect_str(o, "jobs.-1.state", "assigned(1)");
  expect_str(o, "jobs.-1.time", "0s");
  expect_real(o, "jobs.-1.seconds", 0);
  json_decref(o);

  o = fixture_parse(ef_lotus_parse_jobs, "jobs-v1.11.1-jul2021.txt");
  expect_size(o, "jobs", 13);
  expect_str(o, "jobs.1.time", "455123h12m0.3s"); /* unknown start */
  expect_absent(o, "jobs.1.seconds");
  expect_str(o, "jobs.3.worker", "24f71a21");
  expect_real(o, "jobs.3.seconds", 3 * 3600 + 41 * 60 + 7.2);
  json_decref(o);

  o = fixture_parse(ef_lotus_parse_jobs, "jobs-v1.11.1-show-ret-done-jul2021.txt");
  expect_size(o, "jobs", 13);
  expect_str(o, "jobs.0.id", "3ff3d611");
  expect_str(o, "jobs.0.state", "ret-done");
  json_decref(o);
}

static void test_jobs_new(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_jobs, "jobs-v1.23-prepared-2023.txt");
  expect_size(o, "jobs", 41);
  expect_str(o, "jobs.0.state", "ret-wait");
  expect_str(o, "jobs.32.task", "DC");
  expect_str(o, "jobs.35.task", "FUS");
  expect_str(o, "jobs.36.state", "prepared");
  expect_str(o, "jobs.36.sector", "30573");
  expect_str(o, "jobs.-1.state", "assigned(2)");
  expect_real(o, "jobs.-1.seconds", 0.6);
  json_decref(o);

  o = fixture_parse(ef_lotus_parse_jobs, "jobs-miner-v1.36.1-long-2026.txt");
  expect_size(o, "jobs", 103);
  expect_str(o, "jobs.0.id", "469d2c3f");
  expect_str(o, "jobs.0.hostName", "pc2-02");
  expect_str(o, "jobs.0.state", "ret-wait");
  expect_str(o, "jobs.1.worker", "c01e8d01");
  expect_real(o, "jobs.1.seconds", 6 * 3600 + 59 * 60 + 31.6);
  expect_str(o, "jobs.-1.sector", "30675");
  expect_str(o, "jobs.-1.hostName", "ap-01");
  expect_str(o, "jobs.-1.state", "assigned(8)");
  expect_str(o, "jobs.-1.time", "100ms");
  json_decref(o);
}

static void test_jobs_respaced(void **state) {
  (void)state;
  /* Single-spaced (re-typed or pasted) rows do not line up: split on blanks instead. */
  const char *txt = "ID        Sector  Worker    Hostname    Task  State        Time\n"
                    "abc 12 w1 host-a PC1 running 1m\n"
                    "def 13 w2 C2 ret-wait n/a\n" /* empty hostname */
                    "not a job at all\n";
  json_t *o = ef_lotus_parse_jobs(txt, strlen(txt));
  expect_size(o, "jobs", 2);
  expect_str(o, "jobs.0.hostName", "host-a");
  expect_real(o, "jobs.0.seconds", 60);
  expect_str(o, "jobs.1.hostName", "");
  expect_str(o, "jobs.1.task", "C2");
  expect_int(o, "errorCount", 1);
  json_decref(o);
}

/* ---- workers ------------------------------------------------------------------------------- */

static void test_workers_2020(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_workers, "workers-list-v0.4.2-storage-miner-jul2020.txt");
  expect_size(o, "workers", 2);
  expect_str(o, "workers.0.id", "0");
  expect_str(o, "workers.0.hostName", "miner-01");
  expect_bool(o, "workers.0.enabled", true);
  expect_int(o, "workers.0.cpu.used", 0);
  expect_absent(o, "workers.0.cpu.total"); /* "N core(s) in use" */
  expect_str(o, "workers.0.gpus.0.name", "GeForce GTX 1080 Ti");
  expect_bool(o, "workers.0.gpus.0.used", false);
  expect_int(o, "workers.1.cpu.used", 16);
  expect_int(o, "workers.1.ram.percent", 48);
  expect_str(o, "workers.1.ram.used", "60.1 GiB");
  expect_str(o, "workers.1.ram.total", "125 GiB");
  expect_int(o, "workers.1.ram.totalBytes", 125LL << 30);
  expect_int(o, "workers.1.vmem.percent", 36);
  expect_bool(o, "workers.1.gpus.0.used", true);
  json_decref(o);

  o = fixture_parse(ef_lotus_parse_workers, "workers-v0.5.10-sep2020.txt");
  expect_size(o, "workers", 4);
  expect_size(o, "workers.1.gpus", 0);
  expect_str(o, "workers.3.hostName", "gpu-01");
  expect_int(o, "workers.3.cpu.used", 48);
  expect_size(o, "workers.3.gpus", 2);
  expect_str(o, "workers.3.gpus.1.name", "GeForce RTX 2080 Ti");
  json_decref(o);

  o = fixture_parse(ef_lotus_parse_workers, "workers-v1.0.0-cores-total-oct2020.txt");
  expect_size(o, "workers", 3);
  expect_int(o, "workers.1.cpu.used", 3);
  expect_int(o, "workers.1.cpu.total", 128);
  expect_int(o, "workers.2.cpu.total", 48);
  expect_str(o, "workers.2.gpus.0.name", "GeForce RTX 3090");
  json_decref(o);
}

static void test_workers_uuid(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_workers, "workers-v1.4.1-uuid-disabled-feb2021.txt");
  expect_size(o, "workers", 4);
  expect_bool(o, "workers.0.enabled", true);
  expect_str(o, "workers.1.id", "791923e3-ccbe-4646-be01-c18026474fe0");
  expect_str(o, "workers.1.hostName", "pc1-02");
  expect_bool(o, "workers.1.enabled", false);
  expect_size(o, "workers.2.gpus", 2);
  expect_str(o, "workers.3.hostName", "sp-miner01");
  expect_int(o, "workers.3.cpu.total", 32);
  json_decref(o);

  o = fixture_parse(ef_lotus_parse_workers, "workers-v1.13.2-gpu-summary-dec2021.txt");
  expect_size(o, "workers", 5);
  expect_int(o, "workers.2.gpu.percent", 100);
  expect_real(o, "workers.2.gpu.used", 1.0);
  expect_int(o, "workers.2.gpu.total", 1);
  expect_str(o, "workers.2.gpus.0.name", "NVIDIA RTX A5000");
  expect_str(o, "workers.1.ram.used", "1.471 TiB"); /* more than the total: upstream */
  expect_int(o, "workers.1.ram.usedBytes", 1617381604458LL);
  expect_int(o, "workers.1.ram.totalBytes", 1007LL << 30);
  expect_int(o, "workers.3.gpu.percent", 50);
  expect_int(o, "workers.3.gpu.total", 2);
  expect_int(o, "workers.4.gpu.percent", 0);
  expect_size(o, "workers.1.tasks", 0);
  json_decref(o);
}

static void test_workers_tasks(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_workers, "workers-v1.17.0-task-bug-aug2022.txt");
  expect_size(o, "workers", 5);
  expect_size(o, "workers.1.tasks", 1);
  expect_str(o, "workers.1.tasks.0.task", "PC1");
  expect_int(o, "workers.1.tasks.0.running", 14);
  expect_int(o, "workers.1.tasks.0.max", 14);
  expect_size(o, "workers.3.tasks", 1); /* only the last entry (upstream bug) */
  expect_str(o, "workers.3.tasks.0.task", "PC2");
  expect_absent(o, "workers.3.tasks.0.max");
  json_decref(o);

  const char *const newest[] = {"workers-v1.23-tasks-overcommit-2023.txt",
                                "workers-miner-v1.36.1-2026.txt"};
  for (size_t i = 0; i < 2; i++) {
    o = fixture_parse(ef_lotus_parse_workers, newest[i]);
    expect_size(o, "workers", 6);
    expect_bool(o, "workers.0.enabled", false);
    expect_size(o, "workers.3.tasks", 2);
    expect_str(o, "workers.3.tasks.0.task", "GET");
    expect_int(o, "workers.3.tasks.0.running", 2);
    expect_str(o, "workers.5.id", "f42cda11-8058-482f-b923-116b2d36dd5c");
    expect_str(o, "workers.5.hostName", "pc1-03");
    expect_int(o, "workers.5.cpu.used", 104); /* bar wider than 64 columns */
    expect_int(o, "workers.5.cpu.total", 96);
    expect_int(o, "workers.5.ram.percent", 104);
    expect_str(o, "workers.5.vmem.used", "790.1 GiB");
    expect_size(o, "workers.5.tasks", 3);
    expect_str(o, "workers.5.tasks.2.task", "AP");
    expect_int(o, "workers.5.tasks.2.running", 1);
    expect_int(o, "workers.5.tasks.2.max", 2);
    json_decref(o);
  }

  o = fixture_parse(ef_lotus_parse_workers, "proving-workers-v1.23-2023.txt");
  expect_size(o, "workers", 2);
  expect_str(o, "workers.0.hostName", "wdpost-01");
  expect_str(o, "workers.0.gpus.0.name", "NVIDIA RTX A4000");
  expect_int(o, "workers.1.cpu.total", 16);
  expect_str(o, "workers.1.ram.total", "62 GiB");
  json_decref(o);
}

static void test_workers_colour(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_workers, "workers-color-fragment-v1.23.txt");
  expect_size(o, "workers", 2);
  expect_str(o, "workers.0.hostName", "pc1-01");
  expect_str(o, "workers.0.tasks.0.task", "PC1");
  expect_int(o, "workers.0.tasks.0.running", 14);
  expect_int(o, "workers.0.cpu.used", 14);
  expect_int(o, "workers.0.cpu.total", 128);
  expect_str(o, "workers.1.hostName", "pc1-02");
  expect_bool(o, "workers.1.enabled", false);
  expect_str(o, "workers.1.gpus.0.name", "NVIDIA GeForce RTX 3090");
  expect_bool(o, "workers.1.gpus.0.used", false);
  json_decref(o);
}

static void test_workers_tolerant(void **state) {
  (void)state;
  const char *txt = "        CPU:  [||] 2/4 core(s) in use\n" /* before any worker */
                    "Worker 7, host \n"                       /* empty hostname */
                    "    GMEM: 12 GiB\n"                      /* a private patch's line */
                    "    CPU:  [|||] lots of cores\n"
                    "    RAM:  [|] 3% 1 GiB/32 GiB\n";
  json_t *o = ef_lotus_parse_workers(txt, strlen(txt));
  expect_size(o, "workers", 1);
  expect_str(o, "workers.0.id", "7");
  expect_str(o, "workers.0.hostName", "");
  expect_str(o, "workers.0.extra.GMEM", "12 GiB");
  expect_absent(o, "workers.0.cpu");
  expect_int(o, "workers.0.ram.usedBytes", 1LL << 30);
  expect_int(o, "errorCount", 2);
  json_decref(o);
}

/* ---- sectors ------------------------------------------------------------------------------- */

static void test_sectors(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_sectors, "sectors-list-v0.5.10-sep2020.txt");
  expect_size(o, "sectors", 5);
  expect_str(o, "sectors.0.id", "0");
  expect_str(o, "sectors.0.state", "Proving");
  expect_str(o, "sectors.0.tktH", "1012");
  expect_str(o, "sectors.1.deals", "[5945 5969]");
  expect_str(o, "sectors.2.sSet", "NO");
  expect_str(o, "sectors.2.active", "NO");
  expect_str(o, "sectors.4.state", "Faulty");
  expect_str(o, "sectors.4.toUpgrade", "true");
  json_decref(o);

  o = fixture_parse(ef_lotus_parse_sectors, "sectors-list-v1.23-2023.txt");
  expect_size(o, "sectors", 7);
  expect_str(o, "sectors.0.id", "1");
  expect_str(o, "sectors.0.onChain", "YES");
  expect_str(o, "sectors.0.deals", "CC");
  expect_str(o, "sectors.0.dealWeight", "");
  expect_str(o, "sectors.1.expiration", "4480111 (in 3 years 3 weeks)");
  expect_str(o, "sectors.1.dealWeight", "32GiB");
  expect_str(o, "sectors.1.verifiedPower", "288GiB");
  expect_str(o, "sectors.3.state", "UpdateReplica");
  expect_str(o, "sectors.3.dealWeight", "[32GiB]");
  expect_str(o, "sectors.4.expiration", "n/a");
  expect_str(o, "sectors.5.active", "NO");
  expect_str(o, "sectors.6.deals", "DDO:1");
  json_decref(o);

  const char *txt = "ID  State       OnChain  Active  Expiration  Deals  \n"
                    "9   CommitFailed  NO       NO      n/a         CC     \n"
                    "\tError: commit failed: too bad\n";
  o = ef_lotus_parse_sectors(txt, strlen(txt));
  /* the long state pushes the row out of line: reported, not guessed */
  expect_size(o, "sectors", 0);
  expect_int(o, "errorCount", 2);
  json_decref(o);
  const char *ok = "ID  State         OnChain  Active  Expiration  Deals  \n"
                   "9   CommitFailed  NO       NO      n/a         CC     \n"
                   "\tError: commit failed: too bad\n";
  o = ef_lotus_parse_sectors(ok, strlen(ok));
  expect_size(o, "sectors", 1);
  expect_str(o, "sectors.0.state", "CommitFailed");
  expect_str(o, "sectors.0.error", "commit failed: too bad");
  expect_absent(o, "errors");
  json_decref(o);
}

/* ---- the command ---------------------------------------------------------------------------- */

static void test_cli(void **state) {
  (void)state;
  char file[PATH_MAX];
  snprintf(file, sizeof file, "%s/lotus/info-v1.23.3-aug2023.txt", getenv("EF_TEST_DATA"));
  char *out;
  char *ok[] = {"lotus-parse", "info", file, NULL};
  assert_int_equal(run_cli(ok, 3, &out), 0);
  json_error_t e;
  json_t *o = json_loads(out, 0, &e);
  assert_non_null(o);
  expect_str(o, "minerId", "f01230123");
  assert_non_null(strstr(out, "\n  \"minerId\": \"f01230123\",\n")); /* 2-space indent */
  json_decref(o);
  ef_free(out);

  char *missing[] = {"lotus-parse", "jobs", "/nonexistent/file", NULL};
  assert_int_equal(run_cli(missing, 3, &out), 1);
  assert_string_equal(out, "");
  ef_free(out);
  char *kind[] = {"lotus-parse", "blocks", file, NULL};
  assert_int_equal(run_cli(kind, 3, &out), 2);
  ef_free(out);
  char *few[] = {"lotus-parse", "info", NULL};
  assert_int_equal(run_cli(few, 2, &out), 2);
  ef_free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_info_v040),      cmocka_unit_test(test_info_v042),
      cmocka_unit_test(test_info_v054),      cmocka_unit_test(test_info_v080_v113),
      cmocka_unit_test(test_info_v122_negative), cmocka_unit_test(test_info_v110_v111),
      cmocka_unit_test(test_info_v1172),     cmocka_unit_test(test_info_v1233),
      cmocka_unit_test(test_info_zero_power), cmocka_unit_test(test_info_faulty),
      cmocka_unit_test(test_info_blocks_2026), cmocka_unit_test(test_info_colour),
      cmocka_unit_test(test_info_tolerant),  cmocka_unit_test(test_jobs_old),
      cmocka_unit_test(test_jobs_v12_v111),  cmocka_unit_test(test_jobs_new),
      cmocka_unit_test(test_jobs_respaced),  cmocka_unit_test(test_workers_2020),
      cmocka_unit_test(test_workers_uuid),   cmocka_unit_test(test_workers_tasks),
      cmocka_unit_test(test_workers_colour), cmocka_unit_test(test_workers_tolerant),
      cmocka_unit_test(test_sectors),        cmocka_unit_test(test_cli),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
