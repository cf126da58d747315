/* SPDX-License-Identifier: MIT */
/* test_lotus_units.c -- FIL / size / duration texts <-> exact values (lotus_units.h). */
#include "lotus_test.h"

#include "edgefleet/error.h"

static void atto_is(const char *text, const char *want, bool want_rounded) {
  char atto[EF_LOTUS_ATTO_MAX];
  bool rounded = !want_rounded;
  int rc = ef_lotus_fil_to_atto(text, strlen(text), atto, sizeof atto, &rounded);
  if (rc) fail_msg("'%s': rc %d", text, rc);
  assert_string_equal(atto, want);
  if (rounded != want_rounded) fail_msg("'%s': maybe_rounded %d", text, rounded);
}

static void test_fil_to_atto(void **state) {
  (void)state;
  atto_is("1234.5 FIL", "1234500000000000000000", true);    /* could be FIL.Short() */
  atto_is("318.123456789012345678 FIL", "318123456789012345678", false);
  atto_is("0.00004125 FIL", "41250000000000", false);
  atto_is("244.058 mFIL", "244058000000000000", true);
  atto_is("39.522 FIL", "39522000000000000000", true);
  atto_is("4.5 \xce\xbc" "FIL", "4500000000000", true);      /* μ U+03BC */
  atto_is("4.5 uFIL", "4500000000000", true);
  atto_is("1.234 nFIL", "1234000000", true);
  atto_is("152.481 pFIL", "152481000", true);
  atto_is("7 fFIL", "7000", true);
  atto_is("100 aFIL", "100", false);                          /* aFIL is never rounded */
  atto_is("-174075296752975308642 aFIL", "-174075296752975308642", false);
  atto_is("-10334 FIL", "-10334000000000000000000", true);
  atto_is("0", "0", false);
  atto_is("0 FIL", "0", false);
  atto_is("-0 FIL", "0", false);
  atto_is("12.5", "12500000000000000000", false);             /* v0.4.0: no unit */
  atto_is("  250\t", "250000000000000000000", false);
}

static void test_fil_to_atto_bad(void **state) {
  (void)state;
  const char *bad[] = {"", "FIL", "abc", "1.2.3 FIL", "12 XFIL", "1.5 aFIL", "12FIL",
                       "0.0000000000000000001 FIL", "--1 FIL", "1e3 FIL", "n/a"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char atto[EF_LOTUS_ATTO_MAX] = "x";
    int rc = ef_lotus_fil_to_atto(bad[i], strlen(bad[i]), atto, sizeof atto, NULL);
    if (rc == 0) fail_msg("'%s' accepted as %s", bad[i], atto);
    assert_string_equal(atto, "");
  }
  char small[4];
  assert_int_equal(ef_lotus_fil_to_atto("1 FIL", 5, small, sizeof small, NULL), EF_ETOOBIG);
  /* Not NUL-terminated: only len bytes are read. */
  char atto[EF_LOTUS_ATTO_MAX];
  assert_int_equal(ef_lotus_fil_to_atto("12 FILxxxx", 6, atto, sizeof atto, NULL), 0);
  assert_string_equal(atto, "12000000000000000000");
}

static void short_is(const char *atto, const char *want) {
  char out[EF_LOTUS_FIL_MAX];
  int rc = ef_lotus_fil_short(atto, out, sizeof out);
  if (rc) fail_msg("%s: rc %d", atto, rc);
  assert_string_equal(out, want);
}

static void test_fil_short(void **state) {
  (void)state;
  short_is("244058000000000000", "244.058 mFIL");       /* docs/protocol.md#miner-records */
  short_is("221871000000000000", "221.871 mFIL");
  short_is("39522000000000000000", "39.522 FIL");
  short_is("0", "0");
  short_is("-0", "0");
  short_is("1", "1 aFIL");
  short_is("100", "100 aFIL");
  short_is("999", "999 aFIL");
  short_is("1000", "1 fFIL");
  short_is("1234000000", "1.234 nFIL");
  short_is("152481000", "152.481 pFIL");
  short_is("4500000000000", "4.5 \xce\xbc" "FIL");
  short_is("845678901234567890123456", "845678.901 FIL");
  short_is("845678901500000000000000", "845678.902 FIL"); /* half away from zero */
  short_is("845678901499999999999999", "845678.901 FIL");
  short_is("999999500000000000", "1000 mFIL");            /* rounding carries, unit kept */
  short_is("-10334000000000000000000", "-10334 FIL");
  short_is("-1500000000000000", "-1.5 mFIL");
  short_is("-1234567", "-1.235 pFIL");
  short_is("5000000000000000000000", "5000 FIL");
  short_is("000123", "123 aFIL");
  char out[EF_LOTUS_FIL_MAX];
  assert_int_equal(ef_lotus_fil_short("12a", out, sizeof out), EF_EPARSE);
  assert_int_equal(ef_lotus_fil_short("", out, sizeof out), EF_EPARSE);
  assert_int_equal(ef_lotus_fil_short(NULL, out, sizeof out), EF_EINVAL);
  char tiny[4];
  assert_int_equal(ef_lotus_fil_short("39522000000000000000", tiny, sizeof tiny), EF_ETOOBIG);
  assert_string_equal(tiny, "");
}

static void test_fil_string(void **state) {
  (void)state;
  char out[EF_LOTUS_FIL_MAX];
  struct {
    const char *atto, *want;
  } cases[] = {
      {"318123456789012345678", "318.123456789012345678 FIL"},
      {"41250000000000", "0.00004125 FIL"},
      {"0", "0 FIL"},
      {"150000000000000000000", "150 FIL"},
      {"1", "0.000000000000000001 FIL"},
      {"-2500000000000000000", "-2.5 FIL"},
      {"500000000", "0.0000000005 FIL"}, /* docs/lotus.md: types.FIL(500000000) */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(ef_lotus_fil_string(cases[i].atto, out, sizeof out), 0);
    assert_string_equal(out, cases[i].want);
  }
  /* Round trip: every String() rendering parses back to the same integer. */
  char atto[EF_LOTUS_ATTO_MAX];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ef_lotus_fil_string(cases[i].atto, out, sizeof out);
    assert_int_equal(ef_lotus_fil_to_atto(out, strlen(out), atto, sizeof atto, NULL), 0);
    assert_string_equal(atto, cases[i].atto);
  }
}

static void bytes_is(const char *text, const char *want) {
  char b[48];
  int rc = ef_lotus_size_to_bytes(text, strlen(text), b, sizeof b);
  if (rc) fail_msg("'%s': rc %d", text, rc);
  assert_string_equal(b, want);
}

static void test_sizes(void **state) {
  (void)state;
  bytes_is("32 GiB", "34359738368");
  bytes_is("0 B", "0");
  bytes_is("0 ", "0");             /* DeciStr(0) until v1.32 */
  bytes_is("0", "0");
  bytes_is("1.5 PiB", "1688849860263936");
  bytes_is("18.8 Pi", "21166918248641331");   /* 18.8 * 2^50 = 21166918248641331.2 */
  bytes_is("1e+03 Ki", "1024000");
  bytes_is("1.02e+03 GiB", "1095216660480");
  bytes_is("32GiB", "34359738368");           /* go-units, sectors list */
  bytes_is("512 B", "512");
  bytes_is("11.23 EiB", "12947308496734891540");
  bytes_is("2 ZiB", "2361183241434822606848"); /* beyond uint64: still exact as text */
  uint64_t u;
  assert_int_equal(ef_lotus_size_to_u64("123.2 GiB", 9, &u), 0);
  assert_int_equal(u, 132284992717ULL);
  assert_int_equal(ef_lotus_size_to_u64("2 ZiB", 5, &u), EF_ETOOBIG);
  const char *bad[] = {"", "GiB", "12 XiB", "12 GB", "1.2.3 GiB", "e+03 Ki", "n/a"};
  char b[48];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (ef_lotus_size_to_bytes(bad[i], strlen(bad[i]), b, sizeof b) == 0)
      fail_msg("'%s' accepted", bad[i]);

  char out[32];
  struct {
    uint64_t v;
    const char *want;
  } fmt[] = {{0, "0 B"},
             {34359738368ULL, "32 GiB"},
             {1688849860263936ULL, "1.5 PiB"},
             {1023, "1023 B"},
             {1024, "1 KiB"},
             {132284992717ULL, "123.2 GiB"},
             {UINT64_MAX, "16 EiB"}};
  for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
    assert_int_equal(ef_lotus_size_str(fmt[i].v, out, sizeof out), 0);
    assert_string_equal(out, fmt[i].want);
  }
}

static void dur_is(const char *text, int64_t want_ns) {
  int64_t ns = -42;
  int rc = ef_lotus_duration_parse(text, strlen(text), &ns);
  if (rc) fail_msg("'%s': rc %d", text, rc);
  assert_int_equal(ns, want_ns);
}

static void test_durations(void **state) {
  (void)state;
  const int64_t S = 1000000000LL;
  dur_is("1h2m3.4s", 3723 * S + 400000000LL);
  dur_is("17m44.8s", (17 * 60 + 44) * S + 800000000LL);
  dur_is("400ms", 400000000LL);
  dur_is("0s", 0);
  dur_is("0", 0);
  dur_is("1.5\xc2\xb5s", 1500);   /* µs as Go prints it */
  dur_is("2us", 2000);
  dur_is("12ns", 12);
  dur_is("-3s", -3 * S);
  dur_is("455123h12m0.3s", (455123LL * 3600 + 720) * S + 300000000LL);
  dur_is("2562047h47m16.8s", (2562047LL * 3600 + 47 * 60 + 16) * S + 800000000LL);
  int64_t ns;
  const char *bad[] = {"", "n/a", "5", "h", ".s", "1x", "3m 2s", "-", "99999999999h"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (ef_lotus_duration_parse(bad[i], strlen(bad[i]), &ns) == 0)
      fail_msg("'%s' accepted", bad[i]);

  char out[64];
  struct {
    int64_t ns;
    const char *want;
  } fmt[] = {{0, "0s"},
             {3723 * S + 400000000LL, "1h2m3.4s"},
             {400000000LL, "400ms"},
             {1500, "1.5\xc2\xb5s"},
             {12, "12ns"},
             {5 * 60 * S, "5m0s"},
             {2 * 3600 * S, "2h0m0s"},
             {41 * S + 200000000LL, "41.2s"},
             {-3 * S, "-3s"},
             {INT64_MAX, "2562047h47m16.854775807s"}};
  for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
    assert_int_equal(ef_lotus_duration_str(fmt[i].ns, out, sizeof out), 0);
    assert_string_equal(out, fmt[i].want);
    /* and back */
    assert_int_equal(ef_lotus_duration_parse(out, strlen(out), &ns), 0);
    assert_int_equal(ns, fmt[i].ns);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fil_to_atto), cmocka_unit_test(test_fil_to_atto_bad),
      cmocka_unit_test(test_fil_short),   cmocka_unit_test(test_fil_string),
      cmocka_unit_test(test_sizes),       cmocka_unit_test(test_durations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
