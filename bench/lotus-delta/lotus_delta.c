/* SPDX-License-Identifier: MIT */
/* lotus_delta.c -- bench: what the lotus collector uploads in one simulated hour, with merge
 * patches (what the agent does) against full records every time.
 *
 *   lotus-delta FAKE_LOTUS_MINER [--workers 50] [--interval 10] [--seconds 3600] [--seed 1]
 *
 * Runs the collector's real code (lotus_collector_run_once: the CLI source through the order
 * runner, the parsers, the record builder, the delta engine) against tools/fake-lotus-miner, with
 * the fake's clock (FAKE_LOTUS_NOW) stepped by the interval, so an hour takes seconds. Prints a
 * table; docs/lotus-collector.md shows a run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonutil.h"
#include "lotus_collector.h"
#include "mem.h"

struct count {
  unsigned long long bytes, n;
};

static int count_send(void *ud, const char *json, int full) {
  (void)full;
  struct count *c = ud;
  c->bytes += strlen(json);
  c->n++;
  return 0;
}

static long arg_long(int argc, char **argv, const char *name, long def) {
  for (int i = 2; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return strtol(argv[i + 1], NULL, 10);
  return def;
}

int main(int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: lotus-delta FAKE_LOTUS_MINER [--workers N] [--interval S] "
                    "[--seconds S] [--seed N]\n");
    return 2;
  }
  long workers = arg_long(argc, argv, "--workers", 50);
  long interval = arg_long(argc, argv, "--interval", 10);
  long seconds = arg_long(argc, argv, "--seconds", 3600);
  long seed = arg_long(argc, argv, "--seed", 1);
  if (workers < 1 || workers > 64 || interval < 1 || seconds < interval) {
    fprintf(stderr, "lotus-delta: bad --workers (1..64), --interval or --seconds\n");
    return 2;
  }
  char state[] = "/tmp/lotus-delta-XXXXXX";
  int fd = mkstemp(state);
  if (fd < 0) {
    perror("lotus-delta: mkstemp");
    return 1;
  }
  close(fd);
  unlink(state);
  long long t0 = 1790000000000LL; /* a fixed wall clock: the run is reproducible */
  char cmd[1024], now[32];
  snprintf(cmd, sizeof cmd, "'%s' --state %s --reset --workers %ld --seed %ld --now %lld info "
           ">/dev/null", argv[1], state, workers, seed, t0);
  if (system(cmd) != 0) {
    fprintf(stderr, "lotus-delta: cannot create the fake's state (%s)\n", cmd);
    return 1;
  }
  setenv("FAKE_LOTUS_STATE", state, 1);

  struct count sent = {0};
  struct lotus_conf conf = {.source = "cli", .miner_path = argv[1], .interval_ms = interval * 1000,
                            .timeout_ms = 8000};
  struct lotus_collector *lc;
  char err[256];
  if (lotus_collector_new(&conf, count_send, &sent, &lc, err, sizeof err) != 0) {
    fprintf(stderr, "lotus-delta: %s\n", err);
    return 1;
  }
  unsigned long long full_bytes = 0, runs = 0, max_full = 0, errors = 0;
  for (long t = interval; t <= seconds; t += interval) {
    snprintf(now, sizeof now, "%lld", t0 + (long long)t * 1000);
    setenv("FAKE_LOTUS_NOW", now, 1);
    json_t *rec = NULL;
    lotus_collector_run_once(lc, t0 + (long long)t * 1000, &rec);
    if (json_object_get(rec, "error")) errors++;
    char *text = jdump(rec);
    size_t n = strlen(text);
    full_bytes += n;
    if (n > max_full) max_full = n;
    runs++;
    ef_free(text);
    json_decref(rec);
  }
  struct lotus_delta_stats st;
  lotus_collector_get_stats(lc, &st);
  lotus_collector_free(&lc);
  snprintf(cmd, sizeof cmd, "rm -f %s %s.lock", state, state);
  if (system(cmd) != 0) fprintf(stderr, "lotus-delta: could not remove %s\n", state);

  double per_hour = 3600.0 / (double)seconds;
  printf("lotus-delta: %ld workers, one collection every %lds, %lds simulated (%llu collections, "
         "%llu with errors)\n\n", workers, interval, seconds, runs, errors);
  printf("%-28s %10s %14s %12s\n", "upload mode", "uploads", "bytes/hour", "bytes/upload");
  printf("%-28s %10llu %14.0f %12.0f\n", "full record every time", runs,
         (double)full_bytes * per_hour, (double)full_bytes / (double)runs);
  printf("%-28s %10llu %14.0f %12.0f\n", "first full, then patches", sent.n,
         (double)sent.bytes * per_hour, sent.n ? (double)sent.bytes / (double)sent.n : 0.0);
  printf("%-28s %10llu %14.0f %12.0f\n", "  of which full", (unsigned long long)st.full_count,
         (double)st.full_bytes * per_hour,
         st.full_count ? (double)st.full_bytes / (double)st.full_count : 0.0);
  printf("%-28s %10llu %14.0f %12.0f\n", "  of which patches", (unsigned long long)st.patch_count,
         (double)st.patch_bytes * per_hour,
         st.patch_count ? (double)st.patch_bytes / (double)st.patch_count : 0.0);
  printf("%-28s %10llu\n", "collections sending nothing", (unsigned long long)st.unchanged);
  printf("\nlargest record %llu bytes; patches save %.1f%% of the bytes\n", max_full,
         full_bytes ? 100.0 * (1.0 - (double)sent.bytes / (double)full_bytes) : 0.0);
  return 0;
}
