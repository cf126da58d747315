/* SPDX-License-Identifier: MIT */
/* test_lotus_record_cli.c -- the miner record's CLI-source parts (lotus_record.h:
 * lotus_record_add_proving/_addresses/_messages/_net/_check) from the fixtures of
 * tests/data/lotus, and the sector counters of the record adding up to totalSectors on every
 * `info` fixture that prints a full state list. Time zone: UTC (set here), so that the `open`
 * column's local times of day are fixed instants. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lotus_parse.h"
#include "lotus_record.h"
#include "mem.h"

#define T_2026_01_01 1767225600000LL /* 2026-01-01T00:00:00Z in ms */
#define MIN 60000LL

static json_t *parse_fixture(json_t *(*parse)(const char *, size_t), const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/lotus/%s", getenv("EF_TEST_DATA"), name);
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = ef_malloc((size_t)n + 1);
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  json_t *j = parse(buf, got);
  ef_free(buf);
  assert_null(json_object_get(j, "errors"));
  return j;
}

static json_int_t iget(const json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  if (!json_is_integer(v)) fail_msg("%s: not an integer", k);
  return json_integer_value(v);
}

static json_t *dl(const json_t *rec, size_t i) {
  return json_array_get(json_object_get(rec, "deadlines"), i);
}

/* v1.36.1: the open column gives the times; no proving info. */
static void proving_from_deadlines(void **st) {
  (void)st;
  json_t *d = parse_fixture(ef_lotus_parse_deadlines, "proving-deadlines-miner-v1.36.1-2026.txt");
  json_t *f = parse_fixture(ef_lotus_parse_faults, "proving-faults-miner-v1.36.1-2026.txt");
  int64_t now = T_2026_01_01 + 14 * 60 * MIN + 10 * MIN; /* 14:10, deadline 5 opened at 14:00 */
  json_t *rec = json_object();
  lotus_record_add_proving(rec, d, NULL, f, now);
  int64_t open5 = T_2026_01_01 + 14 * 60 * MIN;
  assert_int_equal(iget(rec, "currentDeadline"), 5);
  assert_int_equal(iget(rec, "deadlineOpen"), open5);
  assert_int_equal(iget(rec, "deadlineClose"), open5 + 30 * MIN);
  assert_int_equal(iget(rec, "nextDeadlineOpen"), open5 + 30 * MIN);
  assert_int_equal(iget(rec, "deadlineLeftSeconds"), 20 * 60);
  assert_int_equal(json_array_size(json_object_get(rec, "deadlines")), 48);
  assert_int_equal(iget(dl(rec, 0), "open"), T_2026_01_01 + (11 * 60 + 30) * MIN);
  assert_int_equal(iget(dl(rec, 47), "open"), T_2026_01_01 + (24 + 11) * 60 * MIN); /* tomorrow */
  assert_int_equal(iget(dl(rec, 3), "faults"), 2);
  assert_int_equal(iget(dl(rec, 3), "provenPartitions"), 3);
  assert_int_equal(iget(dl(rec, 3), "sectors"), 7044);
  assert_int_equal(iget(dl(rec, 3), "partitions"), 3);
  assert_null(json_object_get(dl(rec, 3), "recoveries")); /* the CLI does not print them */
  assert_true(json_is_true(json_object_get(dl(rec, 5), "current")));
  assert_null(json_object_get(dl(rec, 4), "current"));
  assert_int_equal(iget(rec, "faultySectors"), 2);
  json_t *faults = json_object_get(rec, "faults");
  assert_int_equal(json_array_size(faults), 2);
  assert_int_equal(json_integer_value(json_array_get(faults, 0)), 20114);
  assert_null(json_object_get(rec, "faultsTruncated"));
  assert_null(json_object_get(rec, "recoverySectors"));
  json_decref(rec);

  /* just after midnight the current deadline (opened 14:00) is of the day before */
  rec = json_object();
  lotus_record_add_proving(rec, d, NULL, NULL, T_2026_01_01 + 24 * 60 * MIN + 5 * MIN);
  assert_int_equal(iget(rec, "deadlineOpen"), open5);
  assert_int_equal(iget(rec, "deadlineLeftSeconds"), 0);
  json_decref(rec);
  json_decref(d);
  json_decref(f);
}

/* v1.23: no open column; `proving info` gives the times and the recoveries. */
static void proving_from_info(void **st) {
  (void)st;
  json_t *d = parse_fixture(ef_lotus_parse_deadlines, "proving-deadlines-color-v1.23-2023.txt");
  json_t *pi = parse_fixture(ef_lotus_parse_proving_info, "proving-info-v1.23-2023.txt");
  int64_t open = 1690999200000; /* on the 30 s grid */
  json_t *rec = json_object();
  lotus_record_add_proving(rec, d, pi, NULL, open + 7000); /* "now" in proving info: 7 s late */
  assert_int_equal(iget(rec, "currentDeadline"), 40); /* the deadlines list wins */
  assert_int_equal(iget(rec, "deadlineOpen"), open);
  assert_int_equal(iget(rec, "deadlineClose"), open + 30 * MIN);
  assert_int_equal(iget(rec, "deadlineLeftSeconds"), 30 * 60 - 7);
  assert_int_equal(iget(dl(rec, 39), "open"), open - 30 * MIN);
  assert_int_equal(iget(dl(rec, 22), "faults"), 2349);
  assert_int_equal(iget(rec, "faultySectors"), 2354); /* proving info: Faults */
  assert_int_equal(iget(rec, "recoverySectors"), 5);
  assert_null(json_object_get(rec, "faults")); /* no `proving faults` list */
  json_decref(rec);

  /* proving info read just before the boundary, the deadlines just after (or the reverse):
   * its window is the neighbour's, moved by one */
  json_t *pi39 = json_deep_copy(pi);
  json_object_set_new(pi39, "currentDeadline", json_integer(39));
  rec = json_object();
  lotus_record_add_proving(rec, d, pi39, NULL, open);
  assert_int_equal(iget(rec, "currentDeadline"), 40);
  assert_int_equal(iget(rec, "deadlineOpen"), open + 30 * MIN);
  assert_int_equal(iget(rec, "nextDeadlineOpen"), open + 60 * MIN);
  json_decref(rec);
  json_object_set_new(pi39, "currentDeadline", json_integer(41));
  rec = json_object();
  lotus_record_add_proving(rec, d, pi39, NULL, open);
  assert_int_equal(iget(rec, "deadlineOpen"), open - 30 * MIN);
  json_decref(rec);
  json_decref(pi39);

  /* proving info alone (v0.5.4, 25 s blocks: the window is what it says) */
  json_t *pi5 = parse_fixture(ef_lotus_parse_proving_info, "proving-info-v0.5.4-goduration-aug2020.txt");
  rec = json_object();
  lotus_record_add_proving(rec, NULL, pi5, NULL, open);
  assert_int_equal(iget(rec, "currentDeadline"), 4);
  assert_int_equal(iget(rec, "deadlineClose"), open + 25 * MIN);
  assert_int_equal(iget(rec, "recoverySectors"), 4);
  assert_int_equal(iget(rec, "faultySectors"), 12);
  assert_null(json_object_get(rec, "deadlines"));
  json_decref(rec);

  /* nothing known: nothing written */
  rec = json_object();
  lotus_record_add_proving(rec, NULL, NULL, NULL, open);
  assert_int_equal(json_object_size(rec), 0);
  json_decref(rec);
  json_decref(pi5);
  json_decref(d);
  json_decref(pi);
}

static void addresses_messages_net(void **st) {
  (void)st;
  json_t *ctl =
      parse_fixture(ef_lotus_parse_control, "actor-control-list-verbose-miner-v1.36.1-2026.txt");
  json_t *mp = parse_fixture(ef_lotus_parse_mpool, "mpool-pending-local-v1.36.1-2026.txt");
  json_t *net = parse_fixture(ef_lotus_parse_net, "net-listen-miner-v1.36.1-2026.txt");
  json_t *rec = json_object();
  lotus_record_add_addresses(rec, ctl);
  lotus_record_add_messages(rec, mp, ctl, NULL);
  lotus_record_add_net(rec, net);
  assert_string_equal(json_string_value(json_object_get(rec, "ownerAddress")), "f03456780");
  assert_string_equal(json_string_value(json_object_get(rec, "workerAddress")), "f03456781");
  assert_int_equal(json_array_size(json_object_get(rec, "controlAddresses")), 2);
  assert_int_equal(iget(rec, "totalMessages"), 3); /* worker 2 + control-0 1; not the stranger */
  assert_string_equal(json_string_value(json_object_get(rec, "peerId")),
                      "12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf");
  assert_int_equal(json_array_size(json_object_get(rec, "multiaddrs")), 3);
  json_decref(rec);

  rec = json_object();
  lotus_record_add_messages(rec, mp, NULL, NULL); /* no addresses known: every local message */
  assert_int_equal(iget(rec, "totalMessages"), 4);
  json_decref(rec);
  rec = json_object();
  lotus_record_add_messages(rec, NULL, ctl, "no lotus binary configured");
  assert_null(json_object_get(rec, "totalMessages"));
  assert_string_equal(json_string_value(json_object_get(rec, "totalMessagesError")),
                      "no lotus binary configured");
  json_decref(rec);
  json_decref(ctl);
  json_decref(mp);
  json_decref(net);
}

static void proving_check(void **st) {
  (void)st;
  json_t *ck = parse_fixture(ef_lotus_parse_check, "proving-check-only-bad-miner-v1.36.1-2026.txt");
  json_t *d = parse_fixture(ef_lotus_parse_deadlines, "proving-deadlines-miner-v1.36.1-2026.txt");
  json_t *rec = json_object();
  lotus_record_add_proving(rec, d, NULL, NULL, T_2026_01_01 + 14 * 60 * MIN + 10 * MIN);
  lotus_record_add_check(rec, ck, 3, 1767225600000, NULL);
  json_t *pc = json_object_get(rec, "provingCheck");
  assert_int_equal(iget(pc, "opensAt"), T_2026_01_01 + 13 * 60 * MIN); /* deadline 3: 13:00 */
  assert_null(json_object_get(pc, "badTruncated"));
  assert_int_equal(iget(pc, "deadline"), 3);
  assert_int_equal(iget(pc, "checkedAt"), 1767225600000);
  assert_int_equal(iget(pc, "bad"), 2);
  assert_int_equal(json_integer_value(json_array_get(json_object_get(pc, "badSectors"), 1)), 20115);
  assert_null(json_object_get(pc, "error"));
  lotus_record_add_check(rec, NULL, 4, 1767225600000, "lotus-miner: timed out after 120 s");
  pc = json_object_get(rec, "provingCheck");
  assert_int_equal(iget(pc, "bad"), 0);
  assert_string_equal(json_string_value(json_object_get(pc, "error")),
                      "lotus-miner: timed out after 120 s");
  json_decref(rec);
  json_decref(ck);
  json_decref(d);
}

/* The record's counters (lotus_record_build) add up to totalSectors on every full list. */
static void counters_add_up(void **st) {
  (void)st;
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/lotus", getenv("EF_TEST_DATA"));
  DIR *dp = opendir(dir);
  assert_non_null(dp);
  int checked = 0;
  struct dirent *e;
  while ((e = readdir(dp))) {
    if (strncmp(e->d_name, "info-", 5) != 0 || strstr(e->d_name, "fragment")) continue;
    json_t *info = parse_fixture(ef_lotus_parse_info, e->d_name);
    json_t *rec = lotus_record_build(info, NULL, NULL, NULL, 1);
    json_int_t sum = 0;
    for (const char *const *c = ef_lotus_sector_counters; *c; c++) sum += iget(rec, *c);
    if (sum != iget(rec, "totalSectors"))
      fail_msg("%s: counters %lld != totalSectors %lld", e->d_name, (long long)sum,
               (long long)iget(rec, "totalSectors"));
    assert_null(json_object_get(rec, "preCommitWaitSectors"));
    assert_null(json_object_get(rec, "commitWaitSectors"));
    checked++;
    json_decref(rec);
    json_decref(info);
  }
  closedir(dp);
  assert_true(checked >= 15);
  /* the case: 3 FailedUnrecoverable and a FaultedFinal are counted */
  json_t *info = parse_fixture(ef_lotus_parse_info, "info-v1.28.0-every-state-2024.txt");
  json_t *rec = lotus_record_build(info, NULL, NULL, NULL, 1);
  assert_int_equal(iget(rec, "failSectors"), 7);
  assert_int_equal(iget(rec, "errorSectors"), 8);
  assert_int_equal(iget(rec, "preCommitWait"), 18);
  assert_int_equal(iget(rec, "commitWait"), 7);
  assert_string_equal(json_string_value(json_object_get(rec, "preCommitDeposit")), "12.346 FIL");
  assert_string_equal(json_string_value(json_object_get(rec, "chainSync")), "sync ok");
  assert_null(json_object_get(rec, "chainSyncBehindSeconds"));
  json_decref(rec);
  json_decref(info);
  /* chain behind, deal count */
  info = json_pack("{s:s, s:{s:i}}", "chainSync", "sync slow (1m2s behind)", "deals", "count", 37);
  rec = lotus_record_build(info, NULL, NULL, NULL, 1);
  assert_int_equal(iget(rec, "chainSyncBehindSeconds"), 62);
  assert_int_equal(iget(rec, "dealCount"), 37);
  json_decref(rec);
  json_decref(info);
  info = json_pack("{s:s, s:{s:i}}", "chainSync", "sync behind! (1h2m3s behind)", "storageDeals",
                   "count", 5);
  rec = lotus_record_build(info, NULL, NULL, NULL, 1);
  assert_int_equal(iget(rec, "chainSyncBehindSeconds"), 3723);
  assert_int_equal(iget(rec, "dealCount"), 5);
  json_decref(rec);
  json_decref(info);
}

int main(void) {
  setenv("TZ", "UTC", 1);
  tzset();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(proving_from_deadlines), cmocka_unit_test(proving_from_info),
      cmocka_unit_test(addresses_messages_net), cmocka_unit_test(proving_check),
      cmocka_unit_test(counters_add_up),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
