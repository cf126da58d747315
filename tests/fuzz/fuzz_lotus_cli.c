/* SPDX-License-Identifier: MIT */
/* fuzz_lotus_cli.c -- the lotus-miner output parsers (src/agent/collectors/lotus/): every input
 * goes through each of them (every kind of `edgefleet-agent lotus-parse`: info, workers, jobs,
 * sectors, deadlines, faults, proving-info, check, control, mpool, net), then the results
 * through the record builder and its CLI-source parts (src/agent/lotus_record.c), as the
 * collector does. A short input is also read as each unit the parsers use (a FIL amount, a
 * size, a Go duration). Properties: every parser returns an object that serialises, whose
 * errorCount matches its errors; the record is an object with workerInfo an object, its
 * deadlines have indexes, its sector counters add up to the states listed; FIL amounts and
 * durations round-trip exactly through their formatters (fil_to_atto(fil_string(x)) == x,
 * duration_parse(duration_str(ns)) == ns). Seeds: every fixture of tests/data/lotus. */
#include <jansson.h>

#include "edgefleet/error.h"
#include "fuzz.h"
#include "lotus_parse.h"
#include "lotus_record.h"
#include "lotus_units.h"

#define NOW_MS 1700000000000LL

static json_t *parse(json_t *(*fn)(const char *, size_t), const uint8_t *data, size_t size) {
  json_t *v = fn((const char *)data, size);
  FUZZ_CHECK(json_is_object(v));
  json_t *errors = json_object_get(v, "errors"), *count = json_object_get(v, "errorCount");
  if (errors || count) {
    FUZZ_CHECK(json_is_array(errors) && json_is_integer(count));
    FUZZ_CHECK(json_array_size(errors) >= 1 &&
               (json_int_t)json_array_size(errors) <= json_integer_value(count));
  }
  char *text = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15));
  FUZZ_CHECK(text != NULL);
  free(text);
  return v;
}

static void units(const char *s, size_t n) {
  char atto[EF_LOTUS_ATTO_MAX], fil[EF_LOTUS_FIL_MAX], again[EF_LOTUS_ATTO_MAX];
  bool rounded = false;
  if (ef_lotus_fil_to_atto(s, n, atto, sizeof atto, &rounded) == 0) {
    /* Exact both ways: the full rendering reads back as the same attoFIL. */
    FUZZ_CHECK(ef_lotus_fil_string(atto, fil, sizeof fil) == 0);
    FUZZ_CHECK(ef_lotus_fil_to_atto(fil, strlen(fil), again, sizeof again, NULL) == 0);
    FUZZ_CHECK(strcmp(atto, again) == 0);
    char shortfil[EF_LOTUS_FIL_MAX];
    FUZZ_CHECK(ef_lotus_fil_short(atto, shortfil, sizeof shortfil) == 0);
    FUZZ_CHECK(ef_lotus_fil_to_atto(shortfil, strlen(shortfil), again, sizeof again, NULL) == 0);
  } else {
    FUZZ_CHECK(atto[0] == '\0');
  }
  char bytes[64];
  uint64_t u = 0;
  int rb = ef_lotus_size_to_bytes(s, n, bytes, sizeof bytes);
  int ru = ef_lotus_size_to_u64(s, n, &u);
  if (ru == 0) {
    FUZZ_CHECK(rb == 0);
    char dec[32];
    snprintf(dec, sizeof dec, "%llu", (unsigned long long)u);
    FUZZ_CHECK(strcmp(dec, bytes) == 0);
    char str[64];
    FUZZ_CHECK(ef_lotus_size_str(u, str, sizeof str) == 0);
    uint64_t back = 0; /* rounded to 4 digits it may pass 2^64-1 ("16 EiB") */
    int rc = ef_lotus_size_to_u64(str, strlen(str), &back);
    FUZZ_CHECK(rc == 0 || rc == EF_ETOOBIG);
  }
  int64_t ns = 0;
  if (ef_lotus_duration_parse(s, n, &ns) == 0) {
    char d[64];
    int64_t back = 0;
    FUZZ_CHECK(ef_lotus_duration_str(ns, d, sizeof d) == 0);
    FUZZ_CHECK(ef_lotus_duration_parse(d, strlen(d), &back) == 0);
    FUZZ_CHECK(back == ns);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *info = parse(ef_lotus_parse_info, data, size);
  json_t *workers = parse(ef_lotus_parse_workers, data, size);
  json_t *jobs = parse(ef_lotus_parse_jobs, data, size);
  json_t *sectors = parse(ef_lotus_parse_sectors, data, size);
  json_t *deadlines = parse(ef_lotus_parse_deadlines, data, size);
  json_t *faults = parse(ef_lotus_parse_faults, data, size);
  json_t *pinfo = parse(ef_lotus_parse_proving_info, data, size);
  json_t *check = parse(ef_lotus_parse_check, data, size);
  json_t *control = parse(ef_lotus_parse_control, data, size);
  json_t *mpool = parse(ef_lotus_parse_mpool, data, size);
  json_t *net = parse(ef_lotus_parse_net, data, size);
  json_t *rec = lotus_record_build(info, workers, jobs, sectors, NOW_MS);
  FUZZ_CHECK(json_is_object(rec));
  lotus_record_add_proving(rec, deadlines, pinfo, faults, NOW_MS);
  lotus_record_add_addresses(rec, control);
  lotus_record_add_messages(rec, mpool, control, NULL);
  lotus_record_add_net(rec, net);
  lotus_record_add_check(rec, check, 0, NOW_MS, NULL);
  /* every deadline the record lists has an index; the faults list is capped */
  size_t di;
  json_t *dv;
  json_array_foreach(json_object_get(rec, "deadlines"), di, dv)
    FUZZ_CHECK(json_is_integer(json_object_get(dv, "index")));
  FUZZ_CHECK(json_array_size(json_object_get(rec, "faults")) <= 1000);
  /* one counter per state: the counters add up to the states listed */
  json_t *st = json_object_get(rec, "sectorStates");
  if (json_is_object(st)) {
    uint64_t listed = 0, counted = 0; /* unsigned: wraps alike on both sides */
    const char *k;
    json_t *v;
    json_object_foreach(st, k, v)
      if (json_is_integer(v)) listed += (uint64_t)json_integer_value(v);
    for (const char *const *c = ef_lotus_sector_counters; *c; c++)
      counted += (uint64_t)json_integer_value(json_object_get(rec, *c));
    FUZZ_CHECK(listed == counted);
  }
  json_t *wi = json_object_get(rec, "workerInfo");
  FUZZ_CHECK(!wi || json_is_object(wi));
  char *text = json_dumps(rec, JSON_COMPACT);
  FUZZ_CHECK(text != NULL);
  free(text);
  json_decref(rec);
  /* The record from each part alone (the collector builds one when the others failed). */
  json_decref(lotus_record_build(info, NULL, NULL, NULL, NOW_MS));
  json_decref(lotus_record_build(NULL, workers, jobs, NULL, NOW_MS));
  json_decref(info);
  json_decref(workers);
  json_decref(jobs);
  json_decref(sectors);
  json_decref(deadlines);
  json_decref(faults);
  json_decref(pinfo);
  json_decref(check);
  json_decref(control);
  json_decref(mpool);
  json_decref(net);
  if (size <= 128) units((const char *)data, size);
  return 0;
}
