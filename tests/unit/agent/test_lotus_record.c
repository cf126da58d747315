/* SPDX-License-Identifier: MIT */
/* test_lotus_record.c -- the lotus collector: record builder from fixture outputs, the delta
 * engine, the CLI source through a stand-in lotus-miner script (failures included), and the
 * JSON-RPC source against fixture answers served on 127.0.0.1. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "edgefleet/error.h"
#include "jsonutil.h"
#include "lotus_collector.h"
#include "lotus_parse.h"
#include "lotus_record.h"
#include "lotus_rpc.h"
#include "mem.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static char *read_file(const char *dir, const char *name, size_t *len) {
  const char *data = getenv("EF_TEST_DATA");
  char path[1024];
  snprintf(path, sizeof path, "%s/%s/%s", data ? data : "tests/data", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = ef_malloc((size_t)n + 1);
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  buf[got] = '\0';
  if (len) *len = got;
  return buf;
}

static json_t *parse_fixture(json_t *(*parse)(const char *, size_t), const char *name) {
  size_t n;
  char *buf = read_file("lotus", name, &n);
  assert_non_null(buf);
  json_t *j = parse(buf, n);
  ef_free(buf);
  return j;
}

static json_int_t iget(const json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  assert_true(json_is_integer(v));
  return json_integer_value(v);
}

static json_t *worker(const json_t *rec, const char *host) {
  json_t *w = jobj(jobj(rec, "workerInfo"), host);
  if (!w) fprintf(stderr, "no worker %s in %s\n", host, jdump(rec));
  assert_non_null(w);
  return w;
}

static json_t *queue(const json_t *w, const char *q, const char *task) {
  return json_object_get(jobj(w, q), task);
}

/* ---- the state table -------------------------------------------------------------------- */

static void state_table(void **st) {
  (void)st;
  const char *sub = "x";
  assert_string_equal(lotus_state_counter("PreCommit1", &sub), "preCommit1");
  assert_null(sub);
  assert_string_equal(lotus_state_counter("PreCommitWait", &sub), "preCommitWait");
  assert_null(sub); /* one counter per state */
  assert_string_equal(lotus_state_counter("CommitWait", &sub), "commitWait");
  assert_string_equal(lotus_state_counter("FaultedFinal", NULL), "errorSectors");
  assert_string_equal(lotus_state_counter("FailedUnrecoverable", NULL), "failSectors");
  assert_string_equal(lotus_state_counter("WaitSeed", NULL), "waitSeed");
  assert_string_equal(lotus_state_counter("SealPreCommit1Failed", NULL), "failSectors");
  assert_string_equal(lotus_state_counter("FaultReported", NULL), "errorSectors");
  assert_string_equal(lotus_state_counter("Packing", &sub), "otherSectors");
  assert_string_equal(lotus_state_counter("Failed", NULL), "otherSectors"); /* no such state */
  assert_string_equal(lotus_state_counter(NULL, NULL), "otherSectors");
  assert_string_equal(lotus_task_short("seal/v0/precommit/2"), "PC2");
  assert_string_equal(lotus_task_short("seal/v0/bogus"), "seal/v0/bogus");
}

/* ---- the record from CLI fixtures -------------------------------------------------------- */

static void record_from_fixtures(void **st) {
  (void)st;
  json_t *info = parse_fixture(ef_lotus_parse_info, "info-v1.10.0-jun2021.txt");
  json_t *workers = parse_fixture(ef_lotus_parse_workers, "workers-v1.4.1-uuid-disabled-feb2021.txt");
  json_t *jobs = parse_fixture(ef_lotus_parse_jobs, "jobs-v1.2.0-retwait-dec2020.txt");
  json_t *rec = lotus_record_build(info, workers, jobs, NULL, 1700000000123);

  assert_string_equal(jstr(rec, "minerId"), "f0107890");
  assert_int_equal(iget(rec, "timestamp"), 1700000000123);
  assert_string_equal(jstr(rec, "minerBalance"), "96543.211 FIL");
  assert_string_equal(jstr(rec, "minerBalanceAtto"), "96543211000000000000000");
  assert_string_equal(jstr(rec, "workerBalance"), "23.457 FIL");
  assert_string_equal(jstr(rec, "postBalance"), "198.765 FIL");
  assert_string_equal(jstr(rec, "preCommitDeposit"), "1234.568 FIL");
  assert_string_equal(jstr(rec, "minerAvailable"), "1728.395 FIL");
  assert_non_null(jstr(rec, "rawBytePower"));
  assert_non_null(jstr(rec, "rawBytePowerBytes"));
  assert_non_null(jstr(rec, "expectBlock"));
  assert_null(json_object_get(rec, "uptime"));
  /* sector counters through the state table */
  assert_int_equal(iget(rec, "totalSectors"), 40123);
  assert_int_equal(iget(rec, "effectiveSectors"), 39610);
  assert_int_equal(iget(rec, "preCommit1"), 256);
  assert_int_equal(iget(rec, "preCommit2"), 18);
  assert_int_equal(iget(rec, "preCommitWait"), 64 + 32);
  assert_int_equal(iget(rec, "waitSeed"), 88);
  assert_int_equal(iget(rec, "committing"), 3);
  assert_int_equal(iget(rec, "commitWait"), 40);
  assert_int_equal(iget(rec, "finalizeSector"), 5);
  assert_int_equal(iget(rec, "deletedSectors"), 1);
  assert_int_equal(iget(rec, "failSectors"), 0);
  assert_int_equal(iget(rec, "errorSectors"), 0);
  assert_int_equal(iget(jobj(rec, "sectorStates"), "SubmitCommitAggregate"), 40);

  /* workers keyed by host; jobs under the right host */
  json_t *pc1 = worker(rec, "pc1-01");
  assert_string_equal(jstr(pc1, "workerId"), "62eea798-f6ae-40cc-a243-a67e93713515");
  assert_true(json_is_true(json_object_get(pc1, "enabled")));
  json_t *l = queue(pc1, "currentQueue", "PC1");
  assert_int_equal(json_array_size(l), 2);
  assert_string_equal(jstr(json_array_get(l, 0), "id"), "77388209");
  assert_string_equal(jstr(json_array_get(l, 0), "sector"), "1215");
  assert_string_equal(jstr(json_array_get(l, 0), "time"), "3h41m7.2s");
  /* the elapsed seconds, from which the collector stamps the job's start */
  assert_float_equal(json_number_value(json_object_get(json_array_get(l, 0), "seconds")),
                     13267.2, 1e-6);
  assert_string_equal(jstr(pc1, "taskState"), "running");
  assert_int_equal(json_object_size(jobj(pc1, "pendingQueue")), 0);
  assert_int_equal(iget(jobj(pc1, "cpu"), "total"), 128);

  /* a running job in currentQueue, ret-wait and assigned ones in pendingQueue */
  json_t *pc2 = worker(rec, "pc2-01");
  assert_int_equal(json_array_size(queue(pc2, "currentQueue", "PC2")), 1);
  assert_string_equal(jstr(json_array_get(queue(pc2, "currentQueue", "PC2"), 0), "id"), "f1f8d398");
  json_t *pend = queue(pc2, "pendingQueue", "PC2");
  assert_int_equal(json_array_size(pend), 2);
  assert_string_equal(jstr(json_array_get(pend, 0), "state"), "ret-wait");
  assert_string_equal(jstr(json_array_get(pend, 1), "state"), "assigned(0)");
  assert_int_equal(json_array_size(json_object_get(pc2, "gpus")), 2);

  /* the disabled worker still runs a job */
  json_t *dis = worker(rec, "pc1-02");
  assert_true(json_is_false(json_object_get(dis, "enabled")));
  assert_string_equal(jstr(dis, "taskState"), "running");

  /* an idle worker with no jobs: empty queues, taskType empty */
  json_t *sp = worker(rec, "sp-miner01");
  assert_int_equal(json_array_size(queue(sp, "currentQueue", "AP")), 1);
  assert_int_equal(json_array_size(queue(sp, "currentQueue", "FIN")), 1);
  assert_int_equal(json_array_size(queue(sp, "pendingQueue", "AP")), 2);
  json_t *tt = json_object_get(sp, "taskType");
  assert_int_equal(json_array_size(tt), 2);
  assert_string_equal(json_string_value(json_array_get(tt, 0)), "AP");  /* table order */
  assert_string_equal(json_string_value(json_array_get(tt, 1)), "FIN");

  /* c2-01 has jobs but is not in the workers output: it still shows */
  json_t *c2 = worker(rec, "c2-01");
  assert_int_equal(json_array_size(queue(c2, "currentQueue", "C2")), 1);
  assert_string_equal(jstr(json_array_get(queue(c2, "pendingQueue", "C2"), 0), "state"), "returned");
  assert_null(json_object_get(c2, "enabled"));
  assert_int_equal(json_object_size(jobj(rec, "workerInfo")), 5);

  json_decref(rec);
  json_decref(info);
  json_decref(workers);
  json_decref(jobs);
}

/* Jobs with an empty host name find their worker by id (v1.1.3-pre1 ret-wait rows, RPC). */
static void jobs_matched_by_worker_id(void **st) {
  (void)st;
  json_t *workers = json_loads(
      "{\"workers\":[{\"id\":\"284be1b8-3c4a-be21-6637-03aa\",\"hostName\":\"sealer-01\","
      "\"enabled\":true,\"tasks\":[]},{\"id\":\"7\",\"hostName\":\"\",\"enabled\":true}]}", 0, NULL);
  json_t *jobs = json_loads(
      "{\"jobs\":[{\"id\":\"a\",\"sector\":\"1\",\"worker\":\"284be1b8\",\"hostName\":\"\","
      "\"task\":\"PC1\",\"state\":\"running\",\"time\":\"1s\"},"
      "{\"id\":\"b\",\"sector\":\"2\",\"worker\":\"7\",\"hostName\":\"\",\"task\":\"GET\","
      "\"state\":\"prepared\",\"time\":\"1s\"},"
      "{\"id\":\"c\",\"sector\":\"3\",\"worker\":\"0000000000\",\"hostName\":\"\",\"task\":\"C2\","
      "\"state\":\"ret-wait\",\"time\":\"n/a\"}]}", 0, NULL);
  assert_non_null(workers);
  assert_non_null(jobs);
  json_t *rec = lotus_record_build(NULL, workers, jobs, NULL, 1);
  assert_null(json_object_get(rec, "minerId"));
  json_t *s = worker(rec, "sealer-01");
  json_t *j = json_array_get(queue(s, "currentQueue", "PC1"), 0);
  assert_string_equal(jstr(j, "id"), "a");
  assert_string_equal(jstr(j, "hostName"), "sealer-01"); /* filled from the worker */
  json_t *anon = worker(rec, "7"); /* no host name: keyed by worker id */
  assert_string_equal(jstr(json_array_get(queue(anon, "pendingQueue", "GET"), 0), "id"), "b");
  assert_string_equal(jstr(anon, "taskState"), "idle");
  json_t *lost = worker(rec, "0000000000");
  assert_int_equal(json_array_size(queue(lost, "pendingQueue", "C2")), 1);
  json_decref(rec);

  /* garbage shapes never crash */
  json_t *bad = json_loads("{\"workers\":[1,\"x\",null],\"jobs\":{}}", 0, NULL);
  rec = lotus_record_build(bad, bad, bad, bad, 0);
  assert_int_equal(json_object_size(jobj(rec, "workerInfo")), 0);
  json_decref(rec);
  json_decref(bad);
  json_decref(workers);
  json_decref(jobs);
}

/* ---- the delta engine ------------------------------------------------------------------- */

struct sent {
  char *json[16];
  int full[16];
  int n;
  int fail;
};

static int capture(void *ud, const char *json, int full) {
  struct sent *s = ud;
  if (s->fail) return EF_EBUSY;
  assert_true(s->n < 16);
  s->json[s->n] = ef_strdup(json);
  s->full[s->n++] = full;
  return 0;
}

static void sent_free(struct sent *s) {
  for (int i = 0; i < s->n; i++) ef_free(s->json[i]);
  s->n = 0;
}

static json_t *sent_json(struct sent *s, int i) {
  json_t *j = json_loads(s->json[i], 0, NULL);
  assert_non_null(j);
  return j;
}

static void delta_uploads(void **st) {
  (void)st;
  struct sent s = {0};
  struct lotus_delta *d;
  lotus_delta_new(capture, &s, &d);
  const char *a =
      "{\"minerId\":\"f01\",\"minerBalance\":\"1 FIL\",\"totalSectors\":7,\"timestamp\":1,"
      "\"workerInfo\":{\"w1\":{\"hostName\":\"w1\",\"currentQueue\":{\"PC1\":[{\"id\":\"x\"}]},"
      "\"pendingQueue\":{}},\"w2\":{\"hostName\":\"w2\",\"currentQueue\":{},\"pendingQueue\":{}}}}";
  json_t *ra = json_loads(a, 0, NULL);
  assert_int_equal(lotus_delta_push(d, ra), 1);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.full[0], 1);
  json_t *j = sent_json(&s, 0);
  assert_true(json_equal(j, ra));
  json_decref(j);

  /* only the timestamp differs: nothing */
  json_object_set_new(ra, "timestamp", json_integer(2));
  assert_int_equal(lotus_delta_push(d, ra), 0);
  assert_int_equal(s.n, 1);

  /* the PC1 job finished, w2 is gone, the balance moved: a patch of just that */
  json_t *rb = json_deep_copy(ra);
  json_object_set_new(rb, "timestamp", json_integer(3));
  json_object_set_new(rb, "minerBalance", json_string("2 FIL"));
  json_object_del(jobj(jobj(jobj(rb, "workerInfo"), "w1"), "currentQueue"), "PC1");
  json_object_del(jobj(rb, "workerInfo"), "w2");
  assert_int_equal(lotus_delta_push(d, rb), 1);
  assert_int_equal(s.full[1], 0);
  j = sent_json(&s, 1);
  json_t *want = json_loads(
      "{\"minerId\":\"f01\",\"minerBalance\":\"2 FIL\",\"timestamp\":3,\"workerInfo\":"
      "{\"w1\":{\"currentQueue\":{\"PC1\":null}},\"w2\":null}}", 0, NULL);
  assert_true(json_equal(j, want));
  json_decref(want);
  json_decref(j);

  /* deadlineLeftSeconds counts down like the timestamp: alone, nothing is sent */
  json_object_set_new(rb, "deadlineLeftSeconds", json_integer(600));
  json_object_set_new(rb, "timestamp", json_integer(4));
  assert_int_equal(lotus_delta_push(d, rb), 0);
  json_object_set_new(rb, "deadlineLeftSeconds", json_integer(590));
  json_object_set_new(rb, "timestamp", json_integer(14));
  assert_int_equal(lotus_delta_push(d, rb), 0);
  assert_int_equal(s.n, 2);

  /* the server asks for a full record: the last one, at once, with the last timestamp and
   * deadlineLeftSeconds */
  assert_int_equal(lotus_delta_full(d), 1);
  assert_int_equal(s.full[2], 1);
  j = sent_json(&s, 2);
  assert_string_equal(jstr(j, "minerBalance"), "2 FIL");
  assert_null(jobj(jobj(j, "workerInfo"), "w2"));
  assert_int_equal(json_integer_value(json_object_get(j, "deadlineLeftSeconds")), 590);
  assert_int_equal(json_integer_value(json_object_get(j, "timestamp")), 14);
  json_decref(j);

  /* a refused send makes the next upload full */
  s.fail = 1;
  json_object_set_new(rb, "totalSectors", json_integer(8));
  assert_true(lotus_delta_push(d, rb) < 0);
  s.fail = 0;
  json_object_set_new(rb, "totalSectors", json_integer(9));
  assert_int_equal(lotus_delta_push(d, rb), 1);
  assert_int_equal(s.full[3], 1);

  struct lotus_delta_stats stats;
  lotus_delta_get_stats(d, &stats);
  assert_int_equal(stats.full_count, 3);
  assert_int_equal(stats.patch_count, 1);
  assert_int_equal(stats.unchanged, 3);
  assert_int_equal(stats.patch_bytes, strlen(s.json[1]));
  json_decref(ra);
  json_decref(rb);
  lotus_delta_free(&d);
  assert_null(d);
  sent_free(&s);
}

/* ---- the CLI source through a stand-in lotus-miner ------------------------------------- */

static char tmpdir[256];

/* A shell script answering `info`, `sealing workers`, `sealing jobs`, the proving, address,
 * net (and, as `lotus`, mpool) commands with fixture files, or hanging when $dir/hang exists,
 * or failing when $dir/fail (all) or $dir/fail-WORD1-WORD2 (that command) exists; each call's
 * arguments are appended to $dir/calls. */
static void write_fake(const char *path) {
  const char *data = getenv("EF_TEST_DATA");
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f,
          "#!/bin/sh\n"
          "D=%s/lotus\n"
          "[ -e %s/hang ] && exec sleep 30\n"
          "[ -e %s/fail ] && { echo 'ERROR: could not get API info' >&2; exit 1; }\n"
          "[ -e %s/garbage ] && { printf '\\001\\002 binary junk\\n\\377\\376'; exit 0; }\n"
          "echo \"$*\" >> %s/calls\n"
          "[ -e %s/fail-$1-$2 ] && { echo \"ERROR: $1 $2 failed\" >&2; exit 1; }\n"
          "case \"$1 $2\" in\n"
          "  'info ') cat $D/info-v1.10.0-jun2021.txt;;\n"
          "  'sealing workers') cat $D/workers-v1.4.1-uuid-disabled-feb2021.txt;;\n"
          "  'sealing jobs') cat $D/jobs-v1.2.0-retwait-dec2020.txt;;\n"
          "  'sectors list') cat $D/sectors-list-v1.23-2023.txt;;\n"
          "  'proving deadlines') cat $D/proving-deadlines-color-v1.23-2023.txt;;\n"
          /* durafmt times ("in 30 minutes"), as every lotus since v0.9 prints them; the index
           * of the deadlines fixture's (current) one */
          "  'proving info') sed 's/Index:       19/Index:       40/' "
          "$D/proving-info-v1.23-2023.txt;;\n"
          "  'proving faults') cat $D/proving-faults-miner-v1.36.1-2026.txt;;\n"
          "  'proving check') cat $D/proving-check-only-bad-miner-v1.36.1-2026.txt;;\n"
          "  'actor control') cat $D/actor-control-list-verbose-miner-v1.36.1-2026.txt;;\n"
          "  'net id') cat $D/net-id-miner-v1.36.1-2026.txt;;\n"
          "  'net listen') cat $D/net-listen-miner-v1.36.1-2026.txt;;\n"
          "  'mpool pending') cat $D/mpool-pending-local-v1.36.1-2026.txt;;\n"
          "  *) echo \"ERROR: unknown command $1\" >&2; exit 1;;\n"
          "esac\n",
          data ? data : "tests/data", tmpdir, tmpdir, tmpdir, tmpdir, tmpdir);
  fclose(f);
  chmod(path, 0755);
}

static void touch(const char *name, bool on) {
  char p[300];
  snprintf(p, sizeof p, "%s/%s", tmpdir, name);
  if (on) fclose(fopen(p, "w"));
  else unlink(p);
}

static void cli_source(void **st) {
  (void)st;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lotus-record-test-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  char fake[300];
  snprintf(fake, sizeof fake, "%s/lotus-miner", tmpdir);
  write_fake(fake);

  struct sent s = {0};
  struct lotus_conf conf = {.source = "cli", .miner_path = fake, .interval_ms = 1000,
                            .timeout_ms = 400};
  struct lotus_collector *lc;
  char err[256];
  assert_int_equal(lotus_collector_new(&conf, capture, &s, &lc, err, sizeof err), 0);
  json_t *rec = NULL;
  assert_int_equal(lotus_collector_run_once(lc, 1000, &rec), 1);
  assert_int_equal(s.full[0], 1);
  assert_string_equal(jstr(rec, "minerId"), "f0107890");
  assert_null(json_object_get(rec, "error"));
  assert_int_equal(json_array_size(queue(worker(rec, "pc1-01"), "currentQueue", "PC1")), 2);
  json_decref(rec);

  /* the same outputs again: nothing to send */
  assert_int_equal(lotus_collector_run_once(lc, 2000, NULL), 0);

  /* hanging: an error within the time limit, the last good values kept, other commands skipped */
  touch("hang", true);
  int64_t t0 = ef_mono_ms();
  assert_int_equal(lotus_collector_run_once(lc, 3000, &rec), 1);
  assert_true(ef_mono_ms() - t0 < 3000);
  const char *e = jstr(rec, "error");
  assert_non_null(e);
  assert_non_null(strstr(e, "lotus-miner info: timed out after 400ms"));
  assert_non_null(strstr(e, "skipped"));
  assert_string_equal(jstr(rec, "minerBalance"), "96543.211 FIL");
  assert_int_equal(json_array_size(queue(worker(rec, "pc1-01"), "currentQueue", "PC1")), 2);
  json_decref(rec);
  /* only the error, the miner-down pair (minerError, minerErrorSince), minerId, timestamp and
   * deadlineLeftSeconds (sent with every upload, relative to its timestamp) */
  json_t *patch = sent_json(&s, 1);
  assert_int_equal(s.full[1], 0);
  assert_int_equal(json_object_size(patch), 6);
  assert_true(json_is_integer(json_object_get(patch, "deadlineLeftSeconds")));
  assert_non_null(jstr(patch, "error"));
  assert_non_null(strstr(jstr(patch, "minerError"), "lotus-miner info: timed out"));
  assert_int_equal(json_integer_value(json_object_get(patch, "minerErrorSince")), 3000);
  json_decref(patch);
  touch("hang", false);

  /* failing and garbage output: errors naming the command, values kept */
  touch("fail", true);
  assert_int_equal(lotus_collector_run_once(lc, 4000, &rec), 1);
  e = jstr(rec, "error");
  assert_non_null(strstr(e, "lotus-miner info: exit 1: ERROR: could not get API info"));
  assert_non_null(strstr(e, "lotus-miner sealing jobs: exit 1"));
  json_decref(rec);
  touch("fail", false);
  touch("garbage", true);
  lotus_collector_run_once(lc, 5000, &rec);
  assert_non_null(strstr(jstr(rec, "error"), "lotus-miner info: unrecognised output"));
  assert_string_equal(jstr(rec, "minerId"), "f0107890");
  json_decref(rec);
  touch("garbage", false);

  /* recovered: the error goes away as a null */
  int n = s.n;
  assert_int_equal(lotus_collector_run_once(lc, 6000, NULL), 1);
  patch = sent_json(&s, n);
  assert_true(json_is_null(json_object_get(patch, "error")));
  json_decref(patch);
  lotus_collector_free(&lc);

  /* Jobs carry a stable start instead of lotus' ever-changing elapsed time: collected again
   * 10 s later (the output unchanged, so the printed time is 10 s short), the start is the
   * same and nothing is uploaded. */
  assert_int_equal(lotus_collector_new(&conf, capture, &s, &lc, err, sizeof err), 0);
  int64_t t = 1790000000000LL;
  lotus_collector_run_once(lc, t, &rec);
  json_t *j0 = json_array_get(queue(worker(rec, "pc1-01"), "currentQueue", "PC1"), 0);
  assert_string_equal(jstr(j0, "id"), "77388209");
  assert_null(json_object_get(j0, "time"));
  assert_null(json_object_get(j0, "seconds"));
  json_int_t start = json_integer_value(json_object_get(j0, "start"));
  assert_true(start > 0 && start <= t && start % 1000 == 0);
  json_decref(rec);
  n = s.n;
  lotus_collector_run_once(lc, t + 1500, &rec); /* within the jitter: same start, no upload */
  j0 = json_array_get(queue(worker(rec, "pc1-01"), "currentQueue", "PC1"), 0);
  assert_int_equal(json_integer_value(json_object_get(j0, "start")), start);
  assert_int_equal(s.n, n);
  json_decref(rec);
  lotus_collector_run_once(lc, t + 60000, &rec); /* the same printed time a minute later: a
                                                    new start (lotus restarted the job) */
  j0 = json_array_get(queue(worker(rec, "pc1-01"), "currentQueue", "PC1"), 0);
  assert_int_equal(json_integer_value(json_object_get(j0, "start")), start + 60000);
  json_decref(rec);
  lotus_collector_free(&lc);

  /* a missing program */
  conf.miner_path = "/nonexistent/lotus-miner";
  assert_int_equal(lotus_collector_new(&conf, capture, &s, &lc, err, sizeof err), 0);
  /* a miner down before any miner id is known is loud: a record without minerId, which the
   * server keys by the device (docs/protocol.md#miner-down); sent once while it stays the same */
  n = s.n;
  assert_int_equal(lotus_collector_run_once(lc, 1, &rec), 1);
  assert_non_null(strstr(jstr(rec, "error"), "lotus-miner info: not found"));
  json_decref(rec);
  assert_int_equal(s.n, n + 1);
  assert_int_equal(s.full[n], 1);
  json_t *down = sent_json(&s, n);
  assert_null(json_object_get(down, "minerId"));
  assert_null(json_object_get(down, "workerInfo"));
  assert_non_null(strstr(jstr(down, "minerError"), "lotus-miner info: not found"));
  assert_int_equal(json_integer_value(json_object_get(down, "minerErrorSince")), 1);
  assert_non_null(jstr(down, "hostName"));
  json_decref(down);
  assert_int_equal(lotus_collector_run_once(lc, 2, NULL), 0); /* unchanged: nothing */
  lotus_collector_free(&lc);

  /* bad configurations */
  conf.source = "carrier-pigeon";
  assert_int_equal(lotus_collector_new(&conf, capture, &s, &lc, err, sizeof err), EF_ECONFIG);
  conf.source = "cli";
  conf.miner_path = NULL;
  assert_int_equal(lotus_collector_new(&conf, capture, &s, &lc, err, sizeof err), EF_ECONFIG);
  sent_free(&s);

  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  assert_int_equal(system(cmd), 0);
}

/* Lines of $tmpdir/calls that begin with `prefix`. */
static int calls(const char *prefix) {
  char p[300], line[256];
  snprintf(p, sizeof p, "%s/calls", tmpdir);
  FILE *f = fopen(p, "r");
  if (!f) return 0;
  int n = 0;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, prefix, strlen(prefix)) == 0) n++;
  fclose(f);
  return n;
}

/* The CLI source's further parts: deadlines, faults, addresses, peer, messages, and the proving
 * check scheduled from `proving info`'s durafmt text ("Deadline Close: 3125467 (in 30
 * minutes)"), which the collector's former reader took only as a Go duration ("in 30m0s"): with
 * it, no check was ever scheduled on a lotus since v0.9 and provingCheck stayed absent here. */
static void cli_source_parts(void **st) {
  (void)st;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lotus-record-test-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  char fake[300], lotus[300];
  snprintf(fake, sizeof fake, "%s/lotus-miner", tmpdir);
  snprintf(lotus, sizeof lotus, "%s/lotus", tmpdir);
  write_fake(fake);
  write_fake(lotus);

  struct sent s = {0};
  struct lotus_conf conf = {.source = "cli", .miner_path = fake, .interval_ms = 1000,
                            .timeout_ms = 4000, .lotus_path = lotus,
                            .slow_interval_ms = 300000, .proving_check = true,
                            .proving_check_before_ms = 31 * 60000,
                            .proving_check_deadlines = 1,
                            .proving_check_timeout_ms = 4000};
  struct lotus_collector *lc;
  char err[256];
  assert_int_equal(lotus_collector_new(&conf, capture, &s, &lc, err, sizeof err), 0);
  const int64_t T = 1790000000000LL;
  json_t *rec = NULL;
  assert_int_equal(lotus_collector_run_once(lc, T, &rec), 1);
  if (json_object_get(rec, "error")) fprintf(stderr, "error: %s\n", jstr(rec, "error"));
  assert_null(json_object_get(rec, "error"));
  /* proving: 48 deadlines, the current one from `proving info`, its window from the durafmt */
  assert_int_equal(json_array_size(json_object_get(rec, "deadlines")), 48);
  assert_int_equal(iget(rec, "currentDeadline"), 40);
  json_int_t open = iget(rec, "deadlineOpen");
  assert_true(llabs(open - T) <= 15000);
  assert_int_equal(iget(rec, "deadlineClose"), open + 30 * 60000);
  assert_int_equal(iget(rec, "nextDeadlineOpen"), open + 30 * 60000);
  assert_int_equal(iget(rec, "recoverySectors"), 5);
  assert_int_equal(iget(rec, "faultySectors"),
                   (json_int_t)json_array_size(json_object_get(rec, "faults")));
  assert_true(iget(rec, "faultySectors") > 0);
  /* the proving check of the next deadline, which opens within proving_check_before */
  json_t *pc = json_object_get(rec, "provingCheck");
  assert_non_null(pc);
  assert_int_equal(iget(pc, "deadline"), 41);
  assert_int_equal(iget(pc, "bad"), 2);
  assert_int_equal(json_integer_value(json_array_get(json_object_get(pc, "badSectors"), 0)),
                   20114);
  assert_int_equal(iget(pc, "opensAt"), open + 30 * 60000);
  assert_int_equal(iget(pc, "checkedAt"), T);
  assert_null(json_object_get(pc, "error"));
  assert_int_equal(calls("proving check --only-bad 41"), 1);
  /* addresses, peer, messages of the miner's addresses */
  assert_string_equal(jstr(rec, "ownerAddress"), "f03456780");
  assert_string_equal(jstr(rec, "workerAddress"), "f03456781");
  assert_true(json_is_array(json_object_get(rec, "controlAddresses")));
  assert_string_equal(jstr(rec, "peerId"), "12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf");
  assert_int_equal(json_array_size(json_object_get(rec, "multiaddrs")), 3);
  json_int_t msgs = iget(rec, "totalMessages");
  assert_true(msgs >= 2 && msgs < 4); /* not f1abc..., which is no address of the miner */
  assert_null(json_object_get(rec, "totalMessagesError"));
  assert_int_equal(calls("mpool pending --local"), 1);
  json_decref(rec);

  /* a round later: the slow parts are not read again, the check not repeated (the fixture's
   * unchanged "now" moves the opening by the round's 30 s: still the same opening); a failing
   * optional command is named in the error and stops nothing (its last good parse stays) */
  touch("fail-proving-faults", true);
  assert_int_equal(lotus_collector_run_once(lc, T + 30000, &rec), 1);
  assert_non_null(strstr(jstr(rec, "error"), "lotus-miner proving faults: exit 1"));
  assert_null(json_object_get(rec, "minerError"));
  assert_true(iget(rec, "faultySectors") > 0);
  assert_int_equal(iget(rec, "currentDeadline"), 40);
  assert_string_equal(jstr(rec, "ownerAddress"), "f03456780");
  assert_int_equal(iget(json_object_get(rec, "provingCheck"), "deadline"), 41);
  assert_int_equal(calls("actor control list --verbose"), 1);
  assert_int_equal(calls("net id"), 1);
  assert_int_equal(calls("proving check"), 1);
  assert_int_equal(calls("proving faults"), 2);
  assert_int_equal(calls("mpool pending"), 2);
  json_decref(rec);
  touch("fail-proving-faults", false);
  /* a failed slow part is read again the next round, not only after slow_interval */
  touch("fail-net-id", true);
  lotus_collector_run_once(lc, T + 400000, &rec); /* slow parts due */
  assert_non_null(strstr(jstr(rec, "error"), "lotus-miner net id: exit 1"));
  assert_non_null(jstr(rec, "peerId")); /* the last good one */
  json_decref(rec);
  touch("fail-net-id", false);
  lotus_collector_run_once(lc, T + 401000, &rec);
  assert_null(json_object_get(rec, "error"));
  assert_int_equal(calls("net id"), 3);
  assert_int_equal(calls("actor control"), 3);
  json_decref(rec);
  lotus_collector_free(&lc);

  /* without a lotus program: no count, the reason instead */
  conf.lotus_path = NULL;
  conf.proving_check = false;
  assert_int_equal(lotus_collector_new(&conf, capture, &s, &lc, err, sizeof err), 0);
  lotus_collector_run_once(lc, T, &rec);
  assert_null(json_object_get(rec, "totalMessages"));
  assert_string_equal(jstr(rec, "totalMessagesError"), "no lotus binary configured");
  assert_null(json_object_get(rec, "provingCheck"));
  json_decref(rec);
  /* deadlineLeftSeconds changes every round but alone sends nothing */
  int n = s.n;
  assert_int_equal(lotus_collector_run_once(lc, T + 2000, NULL), 0);
  assert_int_equal(s.n, n);
  lotus_collector_free(&lc);
  sent_free(&s);

  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  assert_int_equal(system(cmd), 0);
}

/* The thread: a collection at once, a full request answered without waiting for the next. */
static void collector_thread(void **st) {
  (void)st;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lotus-record-test-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  char fake[300];
  snprintf(fake, sizeof fake, "%s/lotus-miner", tmpdir);
  write_fake(fake);
  struct sent s = {0};
  struct lotus_conf conf = {.source = "cli", .miner_path = fake, .interval_ms = 60000,
                            .timeout_ms = 2000};
  struct lotus_collector *lc;
  char err[256];
  assert_int_equal(lotus_collector_new(&conf, capture, &s, &lc, err, sizeof err), 0);
  assert_int_equal(lotus_collector_start(lc), 0);
  struct lotus_delta_stats stats = {0};
  for (int i = 0; i < 500 && stats.full_count < 1; i++) {
    usleep(10000);
    lotus_collector_get_stats(lc, &stats);
  }
  assert_int_equal(stats.full_count, 1);
  lotus_collector_request_full(lc);
  for (int i = 0; i < 200 && stats.full_count < 2; i++) {
    usleep(10000);
    lotus_collector_get_stats(lc, &stats);
  }
  assert_int_equal(stats.full_count, 2);
  int64_t t0 = ef_mono_ms();
  lotus_collector_free(&lc); /* stops a thread sleeping for a minute at once */
  assert_true(ef_mono_ms() - t0 < 1000);
  sent_free(&s);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  assert_int_equal(system(cmd), 0);
}

/* ---- the RPC source against a loopback HTTP server -------------------------------------- */

struct http_srv {
  int fd;
  int port;
  pthread_t th;
  char methods[4096];     /* every method asked, space separated */
  bool deny_workers;      /* answer WorkerStats with the missing-permission error */
  bool saw_bad_auth;
};

static void answer(int c, int status, const char *body, size_t n) {
  char hdr[256];
  int h = snprintf(hdr, sizeof hdr,
                   "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                   status, status == 200 ? "OK" : "Unauthorized", n);
  if (write(c, hdr, (size_t)h) < 0 || write(c, body, n) < 0) return;
}

static void serve_conn(struct http_srv *hs, int c) {
  char buf[65536];
  size_t len = 0;
  for (;;) {
    char *end;
    while (!(end = strstr(buf, "\r\n\r\n"))) {
      ssize_t n = read(c, buf + len, sizeof buf - 1 - len);
      if (n <= 0) return;
      len += (size_t)n;
      buf[len] = '\0';
    }
    size_t hlen = (size_t)(end + 4 - buf);
    const char *cl = strcasestr(buf, "Content-Length:");
    size_t blen = cl ? (size_t)atol(cl + 15) : 0;
    while (len < hlen + blen) {
      ssize_t n = read(c, buf + len, sizeof buf - 1 - len);
      if (n <= 0) return;
      len += (size_t)n;
      buf[len] = '\0';
    }
    bool auth = strstr(buf, "Authorization: Bearer s3cret\r\n") != NULL;
    json_t *req = json_loadb(buf + hlen, blen, 0, NULL);
    const char *m = jstr(req, "method");
    char name[128] = "";
    if (m && strncmp(m, "Filecoin.", 9) == 0) snprintf(name, sizeof name, "%s", m + 9);
    strncat(hs->methods, name, sizeof hs->methods - strlen(hs->methods) - 2);
    strcat(hs->methods, " ");
    char file[160];
    if (strcmp(name, "StateReadState") == 0) snprintf(file, sizeof file, "rpc-StateReadState-miner.json");
    else if (hs->deny_workers && strcmp(name, "WorkerStats") == 0)
      snprintf(file, sizeof file, "rpc-error-missing-permission.json");
    else snprintf(file, sizeof file, "rpc-%s.json", name);
    size_t n = 0;
    char *body = *name ? read_file("lotus-rpc", file, &n) : NULL;
    if (!auth) {
      hs->saw_bad_auth = true;
      answer(c, 401, "Unauthorized", 12);
    } else if (body) {
      answer(c, 200, body, n);
    } else {
      const char *nf = "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,\"message\":\"method not found\"}}";
      answer(c, 200, nf, strlen(nf));
    }
    ef_free(body);
    json_decref(req);
    memmove(buf, buf + hlen + blen, len - hlen - blen);
    len -= hlen + blen;
    buf[len] = '\0';
  }
}

static void *serve(void *arg) {
  struct http_srv *hs = arg;
  for (;;) {
    int c = accept(hs->fd, NULL, NULL);
    if (c < 0) return NULL;
    serve_conn(hs, c);
    close(c);
  }
}

static void http_start(struct http_srv *hs) {
  memset(hs, 0, sizeof *hs);
  hs->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(hs->fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(hs->fd, 8), 0);
  socklen_t al = sizeof a;
  getsockname(hs->fd, (struct sockaddr *)&a, &al);
  hs->port = ntohs(a.sin_port);
  assert_int_equal(pthread_create(&hs->th, NULL, serve, hs), 0);
}

static void http_stop(struct http_srv *hs) {
  shutdown(hs->fd, SHUT_RDWR);
  close(hs->fd);
  pthread_join(hs->th, NULL);
}

static void api_info(void **st) {
  (void)st;
  char url[256], tok[256];
  assert_int_equal(lotus_api_info_parse("eyJhbGc.x.y:/ip4/10.0.0.5/tcp/2345/http", url,
                                        sizeof url, tok, sizeof tok), 0);
  assert_string_equal(url, "http://10.0.0.5:2345/rpc/v0");
  assert_string_equal(tok, "eyJhbGc.x.y");
  assert_int_equal(lotus_api_info_parse("t:/dns/miner.lan/tcp/1234/http", url, sizeof url, tok,
                                        sizeof tok), 0);
  assert_string_equal(url, "http://miner.lan:1234/rpc/v0");
  assert_int_equal(lotus_api_info_parse("http://127.0.0.1:2345", url, sizeof url, tok, sizeof tok), 0);
  assert_string_equal(url, "http://127.0.0.1:2345/rpc/v0");
  assert_string_equal(tok, "");
  assert_int_equal(lotus_api_info_parse("t:/ip6/::1/tcp/2345/http", url, sizeof url, tok, sizeof tok), 0);
  assert_string_equal(url, "http://[::1]:2345/rpc/v0");
  assert_int_equal(lotus_api_info_parse("nonsense", url, sizeof url, tok, sizeof tok), EF_EPARSE);
  assert_int_equal(lotus_api_info_parse("t:/ip4/1.2.3.4/udp/1", url, sizeof url, tok, sizeof tok),
                   EF_EPARSE);
  assert_int_equal(lotus_api_info_parse("", url, sizeof url, tok, sizeof tok), EF_EPARSE);
}

static void rpc_source(void **st) {
  (void)st;
  struct http_srv hs;
  http_start(&hs);
  char api[128];
  snprintf(api, sizeof api, "s3cret:/ip4/127.0.0.1/tcp/%d/http", hs.port);
  struct lotus_rpc *r;
  char err[1024];
  assert_int_equal(lotus_rpc_new(api, NULL, api, NULL, 3000, &r, err, sizeof err), 0);
  json_t *info, *workers, *jobs;
  int64_t now = 1692885600000; /* 2023-08-24T14:00:00Z */
  assert_int_equal(lotus_rpc_collect(r, now, &info, &workers, &jobs, err, sizeof err), 0);
  assert_string_equal(err, "");
  assert_false(hs.saw_bad_auth);
  json_t *rec = lotus_record_build(info, workers, jobs, NULL, now);

  assert_string_equal(jstr(rec, "minerId"), "f01230123");
  assert_string_equal(jstr(rec, "sectorSize"), "32 GiB");
  assert_string_equal(jstr(rec, "rawBytePowerBytes"), "2640311599439872");
  assert_string_equal(jstr(rec, "rawBytePower"), "2.345 PiB");
  assert_string_equal(jstr(rec, "minerAvailable"), "4320.877 FIL");
  assert_string_equal(jstr(rec, "minerAvailableAtto"), "4320876543209876543210");
  assert_string_equal(jstr(rec, "workerBalance"), "45.679 FIL");
  assert_string_equal(jstr(rec, "postBalance"), "91.358 FIL"); /* two controls, same fixture */
  assert_string_equal(jstr(rec, "pledgeBalance"), "801234.568 FIL");
  assert_string_equal(jstr(rec, "preCommitDeposit"), "0");
  assert_int_equal(iget(rec, "totalSectors"), 75040 + 38 + 24 + 2 + 6 + 3 + 1 + 2 + 4);
  assert_int_equal(iget(rec, "preCommit1"), 24);
  assert_int_equal(iget(rec, "committing"), 0);
  assert_int_equal(iget(rec, "commitWait"), 3); /* CommitAggregateWait */
  assert_int_equal(iget(rec, "errorSectors"), 4);

  json_t *pc1 = worker(rec, "pc1-01");
  assert_string_equal(jstr(pc1, "workerId"), "5b5bc47c-993b-40e5-84f4-ad1ba9d6d726");
  json_t *tt = json_object_get(pc1, "taskType");
  assert_string_equal(json_string_value(json_array_get(tt, 0)), "AP");
  assert_string_equal(json_string_value(json_array_get(tt, 1)), "PC1");
  assert_int_equal(iget(jobj(pc1, "cpu"), "total"), 128);
  assert_true(json_is_false(json_object_get(worker(rec, "pc1-02"), "enabled")));
  assert_int_equal(json_array_size(json_object_get(worker(rec, "pc2-01"), "gpus")), 2);

  /* jobs: the workers of WorkerJobs are not in WorkerStats: keyed by worker id */
  json_t *w = worker(rec, "978f1a40");
  json_t *j = json_array_get(queue(w, "currentQueue", "PC1"), 0);
  assert_string_equal(jstr(j, "id"), "425a91ff");
  assert_string_equal(jstr(j, "sector"), "30590");
  assert_string_equal(jstr(j, "state"), "running");
  assert_string_equal(jstr(j, "time"), "4h52m8.4s"); /* 14:00:00 - 09:07:51.50 */
  j = json_array_get(queue(w, "pendingQueue", "PC1"), 0);
  assert_string_equal(jstr(j, "state"), "assigned(1)");
  assert_string_equal(jstr(j, "id"), "00000000");
  w = worker(rec, "e67eede4");
  assert_string_equal(jstr(json_array_get(queue(w, "pendingQueue", "PC2"), 0), "state"), "prepared");
  w = worker(rec, "pc2-02"); /* the ret-wait job carries its host name */
  j = json_array_get(queue(w, "pendingQueue", "PC2"), 0);
  assert_string_equal(jstr(j, "state"), "ret-wait");
  assert_string_equal(jstr(j, "time"), "n/a");
  assert_string_equal(jstr(j, "worker"), "00000000");
  json_decref(rec);
  json_decref(info);
  json_decref(workers);
  json_decref(jobs);
  assert_int_equal(strncmp(hs.methods, "ActorAddress ", 13), 0);
  assert_non_null(strstr(hs.methods, "StateMinerPower"));
  assert_non_null(strstr(hs.methods, "WorkerJobs"));

  /* a read-only token: WorkerStats refused, the rest still there */
  hs.deny_workers = true;
  assert_int_equal(lotus_rpc_collect(r, now, &info, &workers, &jobs, err, sizeof err), 0);
  assert_non_null(strstr(err, "rpc Filecoin.WorkerStats: missing permission to invoke 'WorkerStats'"));
  assert_null(workers);
  assert_non_null(jobs);
  assert_string_equal(jstr(info, "minerId"), "f01230123");
  json_decref(info);
  json_decref(jobs);
  lotus_rpc_free(&r);

  /* a wrong token: HTTP 401, nothing collected */
  snprintf(api, sizeof api, "wrong:/ip4/127.0.0.1/tcp/%d/http", hs.port);
  assert_int_equal(lotus_rpc_new(api, NULL, NULL, NULL, 3000, &r, err, sizeof err), 0);
  assert_int_equal(lotus_rpc_collect(r, now, &info, &workers, &jobs, err, sizeof err), EF_EIO);
  assert_non_null(strstr(err, "rpc Filecoin.ActorAddress: HTTP 401"));
  assert_null(info);
  lotus_rpc_free(&r);
  http_stop(&hs);

  /* nobody listening: a clear error within the time limit */
  snprintf(api, sizeof api, "http://127.0.0.1:%d", hs.port);
  assert_int_equal(lotus_rpc_new(api, "tok", NULL, NULL, 1000, &r, err, sizeof err), 0);
  assert_int_equal(lotus_rpc_collect(r, now, &info, &workers, &jobs, err, sizeof err), EF_EIO);
  assert_non_null(strstr(err, "rpc Filecoin.ActorAddress: "));
  lotus_rpc_free(&r);

  assert_int_equal(lotus_rpc_new("garbage", NULL, NULL, NULL, 1000, &r, err, sizeof err), EF_ECONFIG);
  assert_non_null(strstr(err, "lotus_api"));
}

/* The older WorkerStats/WorkerJobs shapes (v0.5: numeric ids, RunWait 1 = assigned(0)). */
static void rpc_old_shapes(void **st) {
  (void)st;
  size_t n;
  char *s = read_file("lotus-rpc", "rpc-WorkerStats-v0.5.json", &n);
  char *j = read_file("lotus-rpc", "rpc-WorkerJobs-v0.5.json", &n);
  json_t *sr = json_loads(s, 0, NULL), *jr = json_loads(j, 0, NULL);
  json_t *stats = json_object_get(sr, "result");
  json_t *w = lotus_rpc_workers(stats);
  json_t *jobs = lotus_rpc_jobs(json_object_get(jr, "result"), stats, 1599120000000);
  json_t *rec = lotus_record_build(NULL, w, jobs, NULL, 0);
  json_t *sealer = worker(rec, "sealer-01");
  json_t *job = json_array_get(queue(sealer, "currentQueue", "PC1"), 0);
  assert_string_equal(jstr(job, "id"), "86");
  assert_string_equal(jstr(job, "worker"), "1");
  json_t *miner = worker(rec, "miner-01");
  assert_string_equal(jstr(json_array_get(queue(miner, "pendingQueue", "AP"), 0), "state"),
                      "assigned(0)");
  assert_true(json_is_true(json_object_get(miner, "enabled")));
  json_decref(rec);
  json_decref(w);
  json_decref(jobs);
  json_decref(sr);
  json_decref(jr);
  ef_free(s);
  ef_free(j);
}

/* Reals where WorkerStats and WorkerJobs have integers: truncated, and 0 when out of range.
 * Before the fix 1e300 CPUs was converted to an integer as it was, undefined behaviour (clang's
 * -fsanitize=float-cast-overflow; x86 made it INT64_MIN). Found by tests/fuzz (lotus_rpc). */
static void rpc_huge_reals(void **st) {
  (void)st;
  json_t *stats = json_loads(
      "{\"w1\":{\"Info\":{\"Hostname\":\"h1\",\"Resources\":{\"CPUs\":1e300,"
      "\"MemPhysical\":-1e300,\"MemUsed\":2.5e3}},\"CpuUse\":7.9,\"MemUsedMin\":1e19},"
      "\"w2\":{\"Info\":{\"Hostname\":\"h2\",\"Resources\":{\"CPUs\":-9.3e18}},"
      "\"CpuUse\":9.1e18}}", 0, NULL);
  assert_non_null(stats);
  json_t *w = lotus_rpc_workers(stats);
  json_t *arr = json_object_get(w, "workers");
  assert_int_equal(json_array_size(arr), 2);
  json_t *cpu1 = json_object_get(json_array_get(arr, 0), "cpu");
  assert_int_equal(json_integer_value(json_object_get(cpu1, "total")), 0); /* 1e300 */
  assert_int_equal(json_integer_value(json_object_get(cpu1, "used")), 7);
  json_t *cpu2 = json_object_get(json_array_get(arr, 1), "cpu");
  assert_int_equal(json_integer_value(json_object_get(cpu2, "total")), 0); /* -9.3e18 */
  assert_int_equal(json_integer_value(json_object_get(cpu2, "used")), 9100000000000000000LL);
  json_t *jobs = json_loads("{\"w1\":[{\"ID\":{\"ID\":\"abcdefgh12\"},\"RunWait\":1e300,"
                            "\"Task\":\"seal/v0/precommit/1\"},{\"ID\":{\"ID\":\"x\"},"
                            "\"RunWait\":-1.5}]}", 0, NULL);
  json_t *jl = lotus_rpc_jobs(jobs, stats, 1599120000000);
  json_t *ja = json_object_get(jl, "jobs");
  assert_int_equal(json_array_size(ja), 2);
  assert_string_equal(jstr(json_array_get(ja, 0), "state"), "running"); /* 1e300: 0 */
  assert_string_equal(jstr(json_array_get(ja, 1), "state"), "ret-wait"); /* -1.5: -1 */
  json_decref(jl);
  json_decref(jobs);
  json_decref(w);
  json_decref(stats);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(state_table),
    cmocka_unit_test(record_from_fixtures),
    cmocka_unit_test(jobs_matched_by_worker_id),
    cmocka_unit_test(delta_uploads),
    cmocka_unit_test(cli_source),
    cmocka_unit_test(cli_source_parts),
    cmocka_unit_test(collector_thread),
    cmocka_unit_test(api_info),
    cmocka_unit_test(rpc_source),
    cmocka_unit_test(rpc_old_shapes),
    cmocka_unit_test(rpc_huge_reals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
