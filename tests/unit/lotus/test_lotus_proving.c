/* SPDX-License-Identifier: MIT */
/* test_lotus_proving.c -- the proving and node parsers (parse_proving.c, parse_node.c) on every
 * fixture of tests/data/lotus with the values a person reads off the text; the sector-state table
 * (lotus_states.c): every counter of every `info` fixture with a full state list adds up to
 * `totalSectors`; and `lotus-parse` with the new kinds. */
#include "lotus_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

/* ---- proving deadlines ---------------------------------------------------------------------- */

static void test_deadlines_v042(void **state) {
  (void)state; /* v0.4.x: deadline sectors partitions proven, no Miner line, no faults */
  json_t *o = fixture_parse(ef_lotus_parse_deadlines, "proving-deadlines-v0.4.2-jul2020.txt");
  expect_size(o, "deadlines", 48);
  expect_int(o, "currentDeadline", 17);
  expect_absent(o, "minerId");
  expect_absent(o, "faultySectors");
  for (int i = 0; i < 48; i++) {
    char p[64];
    int sectors = i < 10 ? 5 : i == 10 ? 3 : 0;
    snprintf(p, sizeof p, "deadlines.%d.index", i);
    expect_int(o, p, i);
    snprintf(p, sizeof p, "deadlines.%d.sectors", i);
    expect_int(o, p, sectors);
    snprintf(p, sizeof p, "deadlines.%d.partitions", i);
    expect_int(o, p, sectors ? 1 : 0);
    snprintf(p, sizeof p, "deadlines.%d.provenPartitions", i);
    expect_int(o, p, sectors && i < 17 ? 1 : 0);
    snprintf(p, sizeof p, "deadlines.%d.faults", i);
    expect_absent(o, p);
    snprintf(p, sizeof p, "deadlines.%d.open", i);
    expect_absent(o, p);
    snprintf(p, sizeof p, "deadlines.%d.current", i);
    if (i == 17) expect_bool(o, p, true);
    else expect_absent(o, p);
  }
  json_decref(o);
}

static void test_deadlines_v110(void **state) {
  (void)state; /* v0.5-v1.27: partitions, sectors (faults), proven partitions */
  json_t *o = fixture_parse(ef_lotus_parse_deadlines, "proving-deadlines-v1.10-jun2021.txt");
  expect_str(o, "minerId", "f0107890");
  expect_size(o, "deadlines", 48);
  expect_int(o, "currentDeadline", 31);
  expect_int(o, "faultySectors", 12);
  long sectors = 0;
  for (int i = 0; i < 48; i++) {
    json_t *d = json_array_get(json_object_get(o, "deadlines"), (size_t)i);
    int parts = i < 20 ? 2 : i < 40 ? 1 : 0;
    expect_int(d, "index", i);
    expect_int(d, "partitions", parts);
    expect_int(d, "sectors", i == 7 ? 4686 : parts * 2349);
    expect_int(d, "faults", i == 7 ? 12 : 0);
    expect_int(d, "provenPartitions", i < 31 ? parts : 0);
    expect_absent(d, "open");
    if (i == 31) expect_bool(d, "current", true);
    else expect_absent(d, "current");
    sectors += (long)json_integer_value(json_object_get(d, "sectors"));
  }
  assert_int_equal(sectors, 20 * 4698 - 12 + 20 * 2349);
  json_decref(o);
}

static void test_deadlines_colour_v123(void **state) {
  (void)state; /* colour codes around the miner id; faults in two deadlines */
  json_t *o = fixture_parse(ef_lotus_parse_deadlines, "proving-deadlines-color-v1.23-2023.txt");
  expect_str(o, "minerId", "f01864434");
  expect_int(o, "currentDeadline", 40);
  expect_int(o, "faultySectors", 5 + 2349);
  expect_int(o, "deadlines.0.partitions", 4);
  expect_int(o, "deadlines.0.sectors", 9396);
  expect_int(o, "deadlines.7.sectors", 9396 - 17);
  expect_int(o, "deadlines.7.faults", 5);
  expect_int(o, "deadlines.22.partitions", 2);
  expect_int(o, "deadlines.22.faults", 2349);
  expect_int(o, "deadlines.22.provenPartitions", 1);
  expect_int(o, "deadlines.40.provenPartitions", 0);
  expect_bool(o, "deadlines.40.current", true);
  expect_int(o, "deadlines.47.sectors", 2349);
  expect_size(o, "deadlines", 48);
  json_decref(o);
}

static void test_deadlines_open_v1361(void **state) {
  (void)state; /* v1.28+: the open column */
  json_t *o = fixture_parse(ef_lotus_parse_deadlines, "proving-deadlines-miner-v1.36.1-2026.txt");
  expect_str(o, "minerId", "f03456789");
  expect_size(o, "deadlines", 48);
  expect_int(o, "currentDeadline", 5);
  expect_int(o, "faultySectors", 2);
  expect_str(o, "deadlines.0.open", "11:30:00");
  expect_int(o, "deadlines.0.openSecondOfDay", 11 * 3600 + 1800);
  expect_int(o, "deadlines.3.faults", 2);
  expect_int(o, "deadlines.3.provenPartitions", 3);
  expect_int(o, "deadlines.4.provenPartitions", 3);
  expect_bool(o, "deadlines.5.current", true);
  expect_str(o, "deadlines.5.open", "14:00:00");
  expect_int(o, "deadlines.9.sectors", 7044);
  expect_int(o, "deadlines.9.partitions", 3);
  expect_int(o, "deadlines.10.sectors", 2346);
  expect_str(o, "deadlines.25.open", "00:00:00");
  expect_str(o, "deadlines.47.open", "11:00:00");
  expect_int(o, "deadlines.47.partitions", 1);
  json_decref(o);
}

static void test_deadlines_newminer(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_deadlines, "proving-deadlines-v1.32-newminer-2025.txt");
  expect_str(o, "minerId", "f03311111");
  expect_int(o, "currentDeadline", 0);
  expect_int(o, "faultySectors", 0);
  expect_str(o, "deadlines.0.open", "23:45:30");
  expect_str(o, "deadlines.1.open", "00:15:30");
  expect_int(o, "deadlines.47.sectors", 0);
  expect_int(o, "deadlines.47.partitions", 0);
  json_decref(o);
}

static void test_deadlines_tolerant(void **state) {
  (void)state;
  /* no header (cut output), CRLF, a re-spaced row, an ERROR line, garbage */
  const char *t = "3         2           4686 (12)         2\r\n"
                  "4 2 4698 (0) 0 (current)\r\n"
                  "ERROR: getting deadlines: context deadline exceeded\n"
                  "zzz\n";
  json_t *o = ef_lotus_parse_deadlines(t, strlen(t));
  expect_size(o, "deadlines", 2);
  expect_int(o, "deadlines.0.faults", 12);
  expect_int(o, "currentDeadline", 4);
  expect_int(o, "errorCount", 2);
  json_decref(o);
  o = ef_lotus_parse_deadlines("", 0);
  expect_size(o, "deadlines", 0);
  expect_absent(o, "currentDeadline");
  expect_absent(o, "errors");
  json_decref(o);
}

/* ---- proving faults / info / check ----------------------------------------------------------- */

static void test_faults(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_faults, "proving-faults-v0.4.2-jul2020.txt");
  expect_int(o, "faultySectors", 3);
  expect_int(o, "faults.0.deadline", 7);
  expect_int(o, "faults.0.sector", 1024);
  expect_absent(o, "faults.0.partition");
  expect_int(o, "faults.2.deadline", 22);
  expect_int(o, "faults.2.sector", 3001);
  json_decref(o);
  o = fixture_parse(ef_lotus_parse_faults, "proving-faults-none-v0.4.2-jul2020.txt");
  expect_int(o, "faultySectors", 0);
  expect_size(o, "faults", 0);
  json_decref(o);
  o = fixture_parse(ef_lotus_parse_faults, "proving-faults-miner-v1.36.1-2026.txt");
  expect_str(o, "minerId", "f03456789");
  expect_int(o, "faultySectors", 2);
  expect_int(o, "faults.1.deadline", 3);
  expect_int(o, "faults.1.partition", 1);
  expect_int(o, "faults.1.sector", 20115);
  json_decref(o);
  o = fixture_parse(ef_lotus_parse_faults, "proving-faults-empty-v1.23-2023.txt");
  expect_int(o, "faultySectors", 0);
  json_decref(o);
  o = ef_lotus_parse_faults("ERROR: no connection\n", 21); /* no header: count unknown */
  expect_absent(o, "faultySectors");
  expect_int(o, "errorCount", 1);
  json_decref(o);
}

static void test_proving_info(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_proving_info, "proving-info-v0.5.4-goduration-aug2020.txt");
  expect_str(o, "minerId", "t01000");
  expect_int(o, "currentEpoch", 61234);
  expect_int(o, "faultySectors", 12);
  expect_real(o, "faultyPercent", 0.26);
  expect_int(o, "recoverySectors", 4);
  expect_int(o, "currentDeadline", 4);
  expect_int(o, "deadlineSectors", 2349);
  expect_int(o, "deadlineOpenEpoch", 61234);
  expect_real(o, "deadlineOpenInSeconds", 0);
  expect_real(o, "deadlineCloseInSeconds", 1500); /* Go duration "25m0s" */
  expect_real(o, "deadlineChallengeInSeconds", -500);
  expect_real(o, "provingPeriodStartInSeconds", -6000);
  json_decref(o);
  o = fixture_parse(ef_lotus_parse_proving_info, "proving-info-v1.23-2023.txt");
  expect_str(o, "minerId", "f01864434");
  expect_int(o, "faultySectors", 2354);
  expect_real(o, "faultyPercent", 2.0);
  expect_int(o, "recoverySectors", 5);
  expect_int(o, "currentDeadline", 19);
  expect_real(o, "deadlineCloseInSeconds", 1800); /* durafmt "30 minutes" */
  expect_real(o, "deadlineFaultCutoffInSeconds", -2100);
  expect_real(o, "provingPeriodStartInSeconds", -(9 * 3600 + 1800)); /* with a date */
  expect_real(o, "nextPeriodStartInSeconds", 14 * 3600 + 1800);
  expect_int(o, "nextPeriodStartEpoch", 3127147);
  json_decref(o);
}

static void test_check(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_check, "proving-check-only-bad-miner-v1.36.1-2026.txt");
  expect_int(o, "bad", 2);
  expect_int(o, "good", 0);
  expect_int(o, "badSectors.0.deadline", 3);
  expect_int(o, "badSectors.0.partition", 1);
  expect_int(o, "badSectors.0.sector", 20114);
  expect_str(o, "badSectors.0.error",
             "reading sealed sector: stat /srv/lotus/sealed/s-t03456789-20114: no such file or "
             "directory");
  expect_int(o, "badSectors.1.sector", 20115);
  json_decref(o);
  o = fixture_parse(ef_lotus_parse_check, "proving-check-only-bad-clean-v1.23-2023.txt");
  expect_int(o, "bad", 0);
  expect_size(o, "badSectors", 0);
  json_decref(o);
  o = fixture_parse(ef_lotus_parse_check, "proving-check-all-v1.10-jun2021.txt");
  expect_int(o, "bad", 1);
  expect_int(o, "good", 2);
  expect_str(o, "badSectors.0.error", "sector not found");
  json_decref(o);
  o = ef_lotus_parse_check("oops\n", 5);
  expect_int(o, "errorCount", 2); /* the line, and no header */
  json_decref(o);
}

/* ---- control list, mpool, net ---------------------------------------------------------------- */

static void test_control(void **state) {
  (void)state;
  json_t *o =
      fixture_parse(ef_lotus_parse_control, "actor-control-list-verbose-miner-v1.36.1-2026.txt");
  expect_str(o, "owner", "f03456780");
  expect_str(o, "worker", "f03456781");
  expect_str(o, "beneficiary", "f03456780");
  expect_size(o, "control", 2);
  expect_str(o, "control.0", "f03456782");
  expect_str(o, "control.1", "f03456783");
  expect_size(o, "addresses", 5);
  expect_str(o, "addresses.1.key",
             "f3vbqdrsm3crdpnsbtqrvnpdsfh7h2dxwfmsusbfylt36l2ezazgjnhgpdw6r5ihbtkhgozgmtp5ep2v6bdg6a");
  expect_str(o, "addresses.4.key", "f1y5ozl5bbh3ht2zw4dbnmdy5nw2eggpcqgguhkga");
  json_decref(o);
  o = fixture_parse(ef_lotus_parse_control, "actor-control-list-v1.23-2023.txt");
  expect_str(o, "owner", "f01864430");
  expect_str(o, "addresses.0.keyPrefix", "f3qfrx");
  expect_absent(o, "addresses.0.key");
  expect_str(o, "control.0", "f01864432");
  json_decref(o);
}

static void test_mpool(void **state) {
  (void)state;
  json_t *o = fixture_parse(ef_lotus_parse_mpool, "mpool-pending-local-v1.36.1-2026.txt");
  expect_int(o, "messages", 4);
  expect_int(o,
             "from.f3vbqdrsm3crdpnsbtqrvnpdsfh7h2dxwfmsusbfylt36l2ezazgjnhgpdw6r5ihbtkhgozgmtp5ep2v6bdg6a",
             2);
  expect_size(o, "from", 3);
  json_decref(o);
  o = fixture_parse(ef_lotus_parse_mpool, "mpool-pending-empty.txt");
  expect_int(o, "messages", 0);
  json_decref(o);
  const char *t = "{\"Message\":{\"From\":\"f01\"}}\nnot json\n{\"From\":\"f02\"}{\"X\":1}";
  o = ef_lotus_parse_mpool(t, strlen(t));
  expect_int(o, "messages", 2);
  expect_int(o, "errorCount", 2);
  json_decref(o);
}

static void test_net(void **state) {
  (void)state;
  const char *pid = "12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf";
  json_t *o = fixture_parse(ef_lotus_parse_net, "net-id-miner-v1.36.1-2026.txt");
  expect_str(o, "peerId", pid);
  expect_size(o, "multiaddrs", 0);
  json_decref(o);
  o = fixture_parse(ef_lotus_parse_net, "net-listen-miner-v1.36.1-2026.txt");
  expect_str(o, "peerId", pid);
  expect_size(o, "multiaddrs", 3);
  expect_str(o, "multiaddrs.0",
             "/ip4/203.0.113.7/tcp/24001/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf");
  json_decref(o);
}

/* ---- sector states --------------------------------------------------------------------------- */

static json_int_t counters_sum(json_t *o) {
  json_int_t sum = 0;
  for (const char *const *c = ef_lotus_sector_counters; *c; c++) {
    json_t *v = json_object_get(o, *c);
    if (!json_is_integer(v)) fail_msg("counter %s missing", *c);
    sum += json_integer_value(v);
  }
  return sum;
}

/* Every info fixture that prints a full state list: the counters add up to totalSectors. */
static void test_counters_sum_to_total(void **state) {
  (void)state;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s/lotus", getenv("EF_TEST_DATA"));
  DIR *d = opendir(dir);
  assert_non_null(d);
  int full = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, "info-", 5) != 0) continue;
    size_t len;
    char *buf = fixture_load(e->d_name, &len);
    json_t *o = ef_lotus_parse_info(buf, len);
    ef_free(buf);
    json_t *st = json_object_get(o, "sectorStates");
    json_t *total = json_object_get(o, "totalSectors");
    if (st && json_is_integer(total)) {
      json_int_t listed = 0;
      const char *k;
      json_t *v;
      json_object_foreach(st, k, v) listed += json_integer_value(v);
      assert_int_equal(counters_sum(o), listed); /* one counter per state, always */
      if (listed == json_integer_value(total)) { /* a full list (not a cut fragment) */
        full++;
        if (counters_sum(o) != json_integer_value(total))
          fail_msg("%s: counters add up to %lld, total %lld", e->d_name,
                   (long long)counters_sum(o), (long long)json_integer_value(total));
      }
    }
    json_decref(o);
  }
  closedir(d);
  assert_true(full >= 15); /* every info fixture but the colour fragment */
}

static void test_every_state(void **state) {
  (void)state; /* every state family once */
  json_t *o = fixture_parse(ef_lotus_parse_info, "info-v1.28.0-every-state-2024.txt");
  expect_int(o, "totalSectors", 20722);
  assert_int_equal(counters_sum(o), 20722);
  expect_int(o, "effectiveSectors", 20480 + 120);
  expect_int(o, "preCommit1", 14);
  expect_int(o, "preCommit2", 2);
  expect_int(o, "preCommitWait", 6 + 12);
  expect_int(o, "waitSeed", 9);
  expect_int(o, "committing", 1 + 2);
  expect_int(o, "commitWait", 4 + 3);
  expect_int(o, "finalizeSector", 1);
  expect_int(o, "snapSectors", 2 + 1 + 1 + 1 + 1);
  expect_int(o, "errorSectors", 5 + 2 + 1);        /* FaultedFinal included */
  /* FailedUnrecoverable 3, CommitFailed, FinalizeReplicaUpdateFailed, DealsExpired, RemoveFailed */
  expect_int(o, "failSectors", 3 + 1 + 1 + 1 + 1);
  expect_int(o, "deletedSectors", 2 + 1 + 1 + 40);
  expect_int(o, "otherSectors", 2 + 1);
  expect_str(o, "preCommitDeposit", "12.346 FIL");
  json_decref(o);
  /* the table: each state once, to one known counter */
  const char *counter;
  for (size_t i = 0; ef_lotus_state_name(i, &counter); i++) {
    const char *name = ef_lotus_state_name(i, NULL);
    assert_string_equal(ef_lotus_state_counter(name), counter);
    for (size_t j = 0; j < i; j++) assert_string_not_equal(ef_lotus_state_name(j, NULL), name);
    bool known = false;
    for (const char *const *c = ef_lotus_sector_counters; *c; c++)
      if (strcmp(*c, counter) == 0) known = true;
    assert_true(known);
  }
  assert_string_equal(ef_lotus_state_counter("SealFailed"), "failSectors"); /* v0.4 */
  assert_string_equal(ef_lotus_state_counter("TerminateFailed"), "failSectors");
  assert_string_equal(ef_lotus_state_counter("SomeFutureState"), "otherSectors");
  assert_string_equal(ef_lotus_state_counter(""), "otherSectors");
}

/* ---- lotus-parse ----------------------------------------------------------------------------- */

static void test_cli_kinds(void **state) {
  (void)state;
  static const struct {
    const char *kind, *file, *key;
  } cases[] = {
      {"deadlines", "proving-deadlines-miner-v1.36.1-2026.txt", "currentDeadline"},
      {"faults", "proving-faults-miner-v1.36.1-2026.txt", "faultySectors"},
      {"proving-info", "proving-info-v1.23-2023.txt", "recoverySectors"},
      {"check", "proving-check-only-bad-miner-v1.36.1-2026.txt", "bad"},
      {"control", "actor-control-list-v1.23-2023.txt", "owner"},
      {"mpool", "mpool-pending-local-v1.36.1-2026.txt", "messages"},
      {"net", "net-listen-miner-v1.36.1-2026.txt", "peerId"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/lotus/%s", getenv("EF_TEST_DATA"), cases[i].file);
    char *argv[] = {"lotus-parse", (char *)cases[i].kind, file, NULL};
    char *out;
    assert_int_equal(run_cli(argv, 3, &out), 0);
    json_t *o = json_loads(out, 0, NULL);
    if (!o || !json_object_get(o, cases[i].key))
      fail_msg("%s: no %s", cases[i].kind, cases[i].key);
    assert_null(json_object_get(o, "errors"));
    json_decref(o);
    ef_free(out);
  }
  /* item 9's names: deadlines[] with index/partitions/sectors/faults/provenPartitions/open */
  char file[PATH_MAX];
  snprintf(file, sizeof file, "%s/lotus/proving-deadlines-miner-v1.36.1-2026.txt",
           getenv("EF_TEST_DATA"));
  char *argv[] = {"lotus-parse", "deadlines", file, NULL};
  char *out;
  assert_int_equal(run_cli(argv, 3, &out), 0);
  json_t *o = json_loads(out, 0, NULL);
  json_t *d3 = jpath(o, "deadlines.3");
  expect_int(d3, "index", 3);
  expect_int(d3, "partitions", 3);
  expect_int(d3, "sectors", 7044);
  expect_int(d3, "faults", 2);
  expect_int(d3, "provenPartitions", 3);
  expect_str(d3, "open", "13:00:00");
  expect_int(o, "currentDeadline", 5);
  json_decref(o);
  ef_free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_deadlines_v042),       cmocka_unit_test(test_deadlines_v110),
      cmocka_unit_test(test_deadlines_colour_v123), cmocka_unit_test(test_deadlines_open_v1361),
      cmocka_unit_test(test_deadlines_newminer),   cmocka_unit_test(test_deadlines_tolerant),
      cmocka_unit_test(test_faults),               cmocka_unit_test(test_proving_info),
      cmocka_unit_test(test_check),                cmocka_unit_test(test_control),
      cmocka_unit_test(test_mpool),                cmocka_unit_test(test_net),
      cmocka_unit_test(test_counters_sum_to_total), cmocka_unit_test(test_every_state),
      cmocka_unit_test(test_cli_kinds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
