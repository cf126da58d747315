/* SPDX-License-Identifier: MIT */
/* test_lotus_robust.c -- the parsers never crash and always return a JSON object that
 * serialises, whatever comes in: every fixture cut at every 97th byte, with bytes flipped,
 * 1 MB of random binary, random lines built from lotus' own vocabulary. And presentation noise
 * must not change the result: colour codes anywhere, CRLF, tabs expanded to spaces. (`mpool
 * pending` prints JSON, never coloured: its robustness is the fuzz target's.)
 * Every input is a heap block of exactly its length, so ASan sees any over-read. */
#include "lotus_test.h"

static const struct {
  const char *name;
  lotus_parser parse;
  bool tabs; /* has tab indents (expanding them must not matter) */
} fixtures[] = {
    {"info-color-fragment-v1.23.txt", ef_lotus_parse_info, true},
    {"info-miner-v1.36.1-blocks-2026.txt", ef_lotus_parse_info, true},
    {"info-v0.4.0-jun2020.txt", ef_lotus_parse_info, true},
    {"info-v0.4.2-below-min-jul2020.txt", ef_lotus_parse_info, true},
    {"info-v0.5.4-aug2020.txt", ef_lotus_parse_info, true},
    {"info-v0.8.0-vesting-sep2020.txt", ef_lotus_parse_info, true},
    {"info-v1.1.3-nov2020.txt", ef_lotus_parse_info, true},
    {"info-v1.10.0-jun2021.txt", ef_lotus_parse_info, true},
    {"info-v1.11.1-jul2021.txt", ef_lotus_parse_info, true},
    {"info-v1.17.2-oct2022.txt", ef_lotus_parse_info, true},
    {"info-v1.2.2-negative-avail-dec2020.txt", ef_lotus_parse_info, true},
    {"info-v1.23.3-aug2023.txt", ef_lotus_parse_info, true},
    {"info-v1.26.3-zero-power-2024.txt", ef_lotus_parse_info, true},
    {"info-v1.28.0-faulty-aug2024.txt", ef_lotus_parse_info, true},
    {"info-v1.32.1-newminer-2025.txt", ef_lotus_parse_info, true},
    {"jobs-empty.txt", ef_lotus_parse_jobs, false},
    {"jobs-miner-v1.36.1-long-2026.txt", ef_lotus_parse_jobs, false},
    {"jobs-v0.5.0-nostate-aug2020.txt", ef_lotus_parse_jobs, false},
    {"jobs-v0.5.10-assigned-sep2020.txt", ef_lotus_parse_jobs, false},
    {"jobs-v1.1.3-pre1-longids-nov2020.txt", ef_lotus_parse_jobs, false},
    {"jobs-v1.11.1-jul2021.txt", ef_lotus_parse_jobs, false},
    {"jobs-v1.11.1-show-ret-done-jul2021.txt", ef_lotus_parse_jobs, false},
    {"jobs-v1.2.0-retwait-dec2020.txt", ef_lotus_parse_jobs, false},
    {"jobs-v1.23-prepared-2023.txt", ef_lotus_parse_jobs, false},
    {"proving-workers-v1.23-2023.txt", ef_lotus_parse_workers, true},
    {"proving-deadlines-miner-v1.36.1-2026.txt", ef_lotus_parse_deadlines, false},
    {"proving-deadlines-v0.4.2-jul2020.txt", ef_lotus_parse_deadlines, false},
    {"proving-deadlines-v1.10-jun2021.txt", ef_lotus_parse_deadlines, false},
    {"proving-deadlines-color-v1.23-2023.txt", ef_lotus_parse_deadlines, false},
    {"proving-deadlines-v1.32-newminer-2025.txt", ef_lotus_parse_deadlines, false},
    {"proving-faults-v0.4.2-jul2020.txt", ef_lotus_parse_faults, false},
    {"proving-faults-miner-v1.36.1-2026.txt", ef_lotus_parse_faults, false},
    {"proving-info-v0.5.4-goduration-aug2020.txt", ef_lotus_parse_proving_info, false},
    {"proving-info-v1.23-2023.txt", ef_lotus_parse_proving_info, false},
    {"proving-check-only-bad-miner-v1.36.1-2026.txt", ef_lotus_parse_check, false},
    {"proving-check-all-v1.10-jun2021.txt", ef_lotus_parse_check, false},
    {"actor-control-list-verbose-miner-v1.36.1-2026.txt", ef_lotus_parse_control, false},
    {"actor-control-list-v1.23-2023.txt", ef_lotus_parse_control, false},
    {"net-listen-miner-v1.36.1-2026.txt", ef_lotus_parse_net, false},
    {"sectors-list-v0.5.10-sep2020.txt", ef_lotus_parse_sectors, false},
    {"sectors-list-v1.23-2023.txt", ef_lotus_parse_sectors, false},
    {"workers-color-fragment-v1.23.txt", ef_lotus_parse_workers, true},
    {"workers-list-v0.4.2-storage-miner-jul2020.txt", ef_lotus_parse_workers, true},
    {"workers-miner-v1.36.1-2026.txt", ef_lotus_parse_workers, true},
    {"workers-v0.5.10-sep2020.txt", ef_lotus_parse_workers, true},
    {"workers-v1.0.0-cores-total-oct2020.txt", ef_lotus_parse_workers, true},
    {"workers-v1.13.2-gpu-summary-dec2021.txt", ef_lotus_parse_workers, true},
    {"workers-v1.17.0-task-bug-aug2022.txt", ef_lotus_parse_workers, true},
    {"workers-v1.23-tasks-overcommit-2023.txt", ef_lotus_parse_workers, true},
    {"workers-v1.4.1-uuid-disabled-feb2021.txt", ef_lotus_parse_workers, true},
};
#define NFIX (sizeof fixtures / sizeof fixtures[0])

static lotus_parser const all_parsers[] = {ef_lotus_parse_info, ef_lotus_parse_jobs,
                                           ef_lotus_parse_workers, ef_lotus_parse_sectors};

/* Deterministic PRNG (xorshift64*), so a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Parse a copy of exactly len bytes; the result must be an object that serialises. */
static json_t *parse_exact(lotus_parser p, const char *buf, size_t len) {
  char *copy = ef_memdup(buf, len ? len : 1);
  json_t *o = p(copy, len);
  ef_free(copy);
  assert_true(json_is_object(o));
  char *txt = json_dumps(o, JSON_COMPACT);
  assert_non_null(txt); /* every string is valid UTF-8 */
  free(txt);
  return o;
}

static void check(lotus_parser p, const char *buf, size_t len) {
  json_decref(parse_exact(p, buf, len));
}

static void assert_same(const char *what, const char *name, json_t *a, json_t *b) {
  if (!json_equal(a, b)) {
    char *ta = json_dumps(a, JSON_COMPACT), *tb = json_dumps(b, JSON_COMPACT);
    fail_msg("%s changed the result of %s:\n%s\nvs\n%s", what, name, ta, tb);
  }
}

static void test_truncated(void **state) {
  (void)state;
  for (size_t f = 0; f < NFIX; f++) {
    size_t len;
    char *buf = fixture_load(fixtures[f].name, &len);
    for (size_t off = 0; off < len; off += 97)
      for (size_t k = 0; k < sizeof all_parsers / sizeof all_parsers[0]; k++)
        check(all_parsers[k], buf, off);
    /* cut inside the first line as well, at every byte */
    for (size_t off = 0; off < len && off < 80; off++) check(fixtures[f].parse, buf, off);
    ef_free(buf);
  }
}

static void test_flipped(void **state) {
  (void)state;
  for (size_t f = 0; f < NFIX; f++) {
    size_t len;
    char *buf = fixture_load(fixtures[f].name, &len);
    if (len == 0) {
      ef_free(buf);
      continue;
    }
    char *m = ef_malloc(len);
    for (int round = 0; round < 60; round++) {
      memcpy(m, buf, len);
      int flips = 1 + (int)(rnd() % 12);
      for (int i = 0; i < flips; i++) {
        size_t at = rnd() % len;
        switch (rnd() % 4) {
        case 0: m[at] = (char)(rnd() & 0xff); break;
        case 1: m[at] ^= (char)(1u << (rnd() % 8)); break;
        case 2: m[at] = "\n\t :|[]()/%\x1b\r0"[rnd() % 15]; break;
        default: m[at] = '\0'; break;
        }
      }
      check(fixtures[f].parse, m, len);
    }
    ef_free(m);
    ef_free(buf);
  }
}

/* Insert colour escapes at random places (inside words and numbers too), as fatih/color and
 * worse would: the stripped text is the same, so the result must be the same. */
static void test_colour_everywhere(void **state) {
  (void)state;
  static const char *const codes[] = {"\x1b[0m", "\x1b[32m", "\x1b[41;30m", "\x1b[1m",
                                      "\x1b[39m", "\x1b[m"};
  for (size_t f = 0; f < NFIX; f++) {
    size_t len;
    char *buf = fixture_load(fixtures[f].name, &len);
    json_t *clean = parse_exact(fixtures[f].parse, buf, len);
    for (int round = 0; round < 5; round++) {
      char *col = ef_malloc(len * 6 + 16);
      size_t n = 0;
      bool in_escape = false; /* never split an escape the fixture already has */
      for (size_t i = 0; i <= len; i++) {
        if (i < len && buf[i] == '\x1b') in_escape = true;
        if (!in_escape && rnd() % 4 == 0) {
          const char *c = codes[rnd() % 6];
          memcpy(col + n, c, strlen(c));
          n += strlen(c);
        }
        if (i < len) col[n++] = buf[i];
        if (in_escape && i < len && buf[i] >= 0x40 && buf[i] <= 0x7e && buf[i] != '[')
          in_escape = false;
      }
      json_t *o = parse_exact(fixtures[f].parse, col, n);
      assert_same("colour codes", fixtures[f].name, clean, o);
      json_decref(o);
      ef_free(col);
    }
    json_decref(clean);
    ef_free(buf);
  }
}

/* CRLF line ends, and tab indents expanded to 8 spaces (pasted output). */
static void test_crlf_and_tabs(void **state) {
  (void)state;
  for (size_t f = 0; f < NFIX; f++) {
    size_t len;
    char *buf = fixture_load(fixtures[f].name, &len);
    json_t *clean = parse_exact(fixtures[f].parse, buf, len);
    char *crlf = ef_malloc(len * 2 + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
      if (buf[i] == '\n') crlf[n++] = '\r';
      crlf[n++] = buf[i];
    }
    json_t *o = parse_exact(fixtures[f].parse, crlf, n);
    assert_same("CRLF", fixtures[f].name, clean, o);
    json_decref(o);
    if (fixtures[f].tabs) {
      char *sp = ef_malloc(len * 8 + 1);
      n = 0;
      for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\t') {
          memcpy(sp + n, "        ", 8);
          n += 8;
        } else {
          sp[n++] = buf[i];
        }
      }
      o = parse_exact(fixtures[f].parse, sp, n);
      assert_same("tabs as spaces", fixtures[f].name, clean, o);
      json_decref(o);
      ef_free(sp);
    }
    ef_free(crlf);
    json_decref(clean);
    ef_free(buf);
  }
}

static void test_random_binary(void **state) {
  (void)state;
  size_t len = 1 << 20;
  char *buf = ef_malloc(len);
  for (size_t i = 0; i < len; i++) buf[i] = (char)(rnd() & 0xff);
  for (size_t k = 0; k < sizeof all_parsers / sizeof all_parsers[0]; k++) {
    json_t *o = parse_exact(all_parsers[k], buf, len);
    assert_non_null(json_object_get(o, "errors"));
    assert_true(json_array_size(json_object_get(o, "errors")) <= 20);
    json_decref(o);
  }
  /* one enormous line, and a line of only escapes */
  memset(buf, 'A', len);
  for (size_t k = 0; k < sizeof all_parsers / sizeof all_parsers[0]; k++) check(all_parsers[k], buf, len);
  for (size_t i = 0; i + 1 < len; i += 2) buf[i] = '\x1b', buf[i + 1] = '[';
  for (size_t k = 0; k < sizeof all_parsers / sizeof all_parsers[0]; k++) check(all_parsers[k], buf, len);
  ef_free(buf);
}

/* Lines made of lotus' own words in random order reach the deep branches that pure noise
 * does not (half-formed "Worker" heads, bars without numbers, "Key:" with odd values). */
static void test_vocabulary(void **state) {
  (void)state;
  static const char *const words[] = {
      "Worker ", ", host ", " (disabled)", "\tTASK: ", "PC1(", "12/12) ", "\tCPU:  [", "|||",
      "] ", "14/128 core(s) in use", "\tRAM:  [", "77% ", "1.471 TiB/1007 GiB", "\tGPU: ",
      "NVIDIA, used", "1.00/2 gpu(s) in use", "Miner Balance:    ", "845678.901 FIL", "-10334",
      " aFIL", " mFIL", "Sectors:", "\tTotal: ", "\tProving: ", "75040", "Power: ", "0  / ",
      "18.8 Pi", " (0.0721%)", "\tRaw: ", "Chain: [sync ok] [basefee ", "]", "Miner: ",
      "f01230123", " (32 GiB sectors)", "StartTime: ", "412h7m3s", " (started at ", ")",
      "Produced newest blocks:", " Epoch | Time | Block ID | Reward", " 5123456 | a | b | ",
      "Storage Deals: ", "245, 7.66 TiB", "      Active:  ", "212  6.625 TiB", "(Verified: ",
      "Workers: ", "Seal(6) ", "Enabled subsystems: [", "ID  Sector  Worker  Hostname  Task  State  Time",
      "00000000  ", "30512   ", "pc2-02  ", "PC2   ", "ret-wait  ", "assigned(1)  ", "n/a",
      "ID  State  OnChain  Active  Expiration  Deals", "1   Proving  YES  YES  ", "0: Proving ",
      "sSet: YES ", "toUpgrade:false", "\tError: ", ":", "::", "(", "[", "%", "/", "e+99 ",
      "99999999999999999999999999", "\x1b[3", "\x1b", "\xce\xbc", "\xff", "\t", "  ", "\n",
      "\n", "\n", "ERROR: x", "Beneficiary:\t", "\t: 3", "Expected block win rate: "};
  const size_t nw = sizeof words / sizeof words[0];
  char *buf = ef_malloc(1 << 16);
  for (int round = 0; round < 300; round++) {
    size_t n = 0;
    while (n < (1 << 16) - 128) {
      const char *w = words[rnd() % nw];
      size_t wl = strlen(w);
      memcpy(buf + n, w, wl);
      n += wl;
      if (rnd() % 200 == 0) break;
    }
    for (size_t k = 0; k < sizeof all_parsers / sizeof all_parsers[0]; k++)
      check(all_parsers[k], buf, n);
  }
  ef_free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_truncated),     cmocka_unit_test(test_flipped),
      cmocka_unit_test(test_colour_everywhere), cmocka_unit_test(test_crlf_and_tabs),
      cmocka_unit_test(test_random_binary), cmocka_unit_test(test_vocabulary),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
