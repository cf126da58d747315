/* SPDX-License-Identifier: MIT */
/* test_common.c -- unit tests of src/common: config table, ids, integer map, crypto, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "crypto.h"
#include "edgefleet/error.h"
#include "edgefleet/version.h"
#include "id.h"
#include "jsonutil.h"
#include "mem.h"
#include "paths.h"
#include "u64map.h"

/* ----- cfg ----- */

struct conf {
  char *name;
  int64_t count, wait, size, colour;
  bool flag;
};

static const char *const colours[] = {"red", "green", "blue", NULL};

static const struct cfg_opt opts[] = {
  CFG_ROW(struct conf, name, CFG_STR, 0, 0, "edge", "a name"),
  CFG_ROW(struct conf, count, CFG_INT, 1, 10, "3", "a count"),
  CFG_ROW(struct conf, wait, CFG_MS, 10, 60000, "7.5s", "a duration"),
  CFG_ROW(struct conf, size, CFG_SIZE, 0, 1 << 30, "64k", "a size"),
  CFG_ROW(struct conf, flag, CFG_BOOL, 0, 0, "true", "a flag"),
  CFG_ROW(struct conf, colour, CFG_ENUM_OF(colours), 0, 0, "green", "a colour"),
  CFG_END,
};

static int set(void *ud, const char *k, const char *v, char *err, size_t errlen) {
  return cfg_table_set(opts, ud, k, v, err, errlen);
}

static void test_cfg_defaults_and_units(void **state) {
  (void)state;
  struct conf c;
  char err[256];
  assert_int_equal(cfg_table_defaults(opts, &c), 0);
  assert_string_equal(c.name, "edge");
  assert_int_equal(c.count, 3);
  assert_int_equal(c.wait, 7500);
  assert_int_equal(c.size, 65536);
  assert_true(c.flag);
  assert_int_equal(cfg_table_set(opts, &c, "wait", "250ms", err, sizeof err), 0);
  assert_int_equal(c.wait, 250);
  assert_int_equal(cfg_table_set(opts, &c, "wait", "1m", err, sizeof err), 0);
  assert_int_equal(c.wait, 60000);
  assert_int_equal(cfg_table_set(opts, &c, "wait", "2m", err, sizeof err), EF_ECONFIG);
  assert_non_null(strstr(err, "out of range"));
  assert_int_equal(cfg_table_set(opts, &c, "wait", "soon", err, sizeof err), EF_ECONFIG);
  assert_int_equal(cfg_table_set(opts, &c, "count", "11", err, sizeof err), EF_ECONFIG);
  assert_int_equal(cfg_table_set(opts, &c, "count", "4x", err, sizeof err), EF_ECONFIG);
  assert_int_equal(cfg_table_set(opts, &c, "size", "1.5m", err, sizeof err), 0);
  assert_int_equal(c.size, 1572864);
  assert_int_equal(cfg_table_set(opts, &c, "flag", "off", err, sizeof err), 0);
  assert_false(c.flag);
  assert_int_equal(cfg_table_set(opts, &c, "flag", "maybe", err, sizeof err), EF_ECONFIG);
  assert_int_equal(cfg_table_set(opts, &c, "nope", "1", err, sizeof err), EF_ENOENT);
  cfg_table_free(opts, &c);
  assert_null(c.name);
}

/* A bare number in a duration is seconds; ms is a suffix. An old-style value (a bare number
 * that meant milliseconds) that is now out of range says what it would be with ms. */
static void test_cfg_duration_seconds(void **state) {
  (void)state;
  struct conf c;
  char err[256];
  int64_t v = 0;
  assert_int_equal(cfg_table_defaults(opts, &c), 0);
  static const struct { const char *text; int64_t ms; } ok[] = {
    {"5", 5000},    {"0.5", 500},   {"1.25", 1250}, {"0", 0},       {"10ms", 10},
    {"10s", 10000}, {"2m", 120000}, {"1h", 3600000}, {"1d", 86400000}, {"1e-3", 1},
  };
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    assert_int_equal(cfg_parse_duration_ms(ok[i].text, &v), 0);
    assert_int_equal(v, ok[i].ms);
  }
  assert_int_equal(cfg_parse_duration_ms("10 s", &v), EF_EINVAL);
  assert_int_equal(cfg_parse_duration_ms("10sec", &v), EF_EINVAL);

  assert_int_equal(cfg_table_set(opts, &c, "wait", "30", err, sizeof err), 0);
  assert_int_equal(c.wait, 30000);
  /* "100" meant 100 ms: now 100 s, out of [10 ms, 60 s] */
  assert_int_equal(cfg_table_set(opts, &c, "wait", "100", err, sizeof err), EF_ECONFIG);
  assert_string_equal(err, "wait: 100 s is out of range [0.01 s, 60 s]; did you mean 100ms?");
  /* no hint when it would be out of range as ms too, nor for a value with a unit */
  assert_int_equal(cfg_table_set(opts, &c, "wait", "100000", err, sizeof err), EF_ECONFIG);
  assert_string_equal(err, "wait: 100000 s is out of range [0.01 s, 60 s]");
  assert_int_equal(cfg_table_set(opts, &c, "wait", "2m", err, sizeof err), EF_ECONFIG);
  assert_string_equal(err, "wait: 2m is out of range [0.01 s, 60 s]");
  assert_int_equal(cfg_table_set(opts, &c, "wait", "5ms", err, sizeof err), EF_ECONFIG);
  assert_string_equal(err, "wait: 5ms is out of range [0.01 s, 60 s]");
  assert_int_equal(c.wait, 30000);

  /* As a flag the message names the flag; from a file, the file and line. */
  char *argv[] = {"prog", "--wait", "1000"};
  assert_int_equal(cfg_parse_args(3, argv, 1, set, &c, err, sizeof err), EF_ECONFIG);
  assert_string_equal(err,
                      "--wait: 1000 s is out of range [0.01 s, 60 s]; did you mean 1000ms?");
  const char *text = "count = 4\nwait = 20000\n";
  assert_int_equal(cfg_parse_mem("a.conf", text, strlen(text), set, &c, err, sizeof err),
                   EF_ECONFIG);
  assert_string_equal(err,
                      "a.conf:2: wait: 20000 s is out of range [0.01 s, 60 s]; did you mean 20000ms?");

  char buf[48];
  assert_string_equal(cfg_format_seconds(86400000, buf, sizeof buf), "86400 s");
  assert_string_equal(cfg_format_seconds(100, buf, sizeof buf), "0.1 s");
  assert_string_equal(cfg_format_seconds(7500, buf, sizeof buf), "7.5 s");
  assert_string_equal(cfg_format_seconds(1, buf, sizeof buf), "0.001 s");
  assert_string_equal(cfg_format_seconds(0, buf, sizeof buf), "0 s");
  cfg_table_free(opts, &c);
}

/* The man page rows are the --help rows: every option, as a flag or as a file line. */
static void test_cfg_man(void **state) {
  (void)state;
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  cfg_man_header(out, "prog.conf", 5, "a manual", "what -it- is");
  cfg_table_man(opts, out, false);
  cfg_table_man(opts, out, true);
  cfg_man_block(out, ".SH SEE ALSO\n.BR other-prog (1)\nsee -x\n");
  cfg_man_text(out, ".a text line, not a request");
  fclose(out);
  assert_non_null(strstr(text, ".TH PROG.CONF 5 \"\" \"edgefleet " EF_VERSION_STRING "\""));
  assert_non_null(strstr(text, "prog.conf \\- what \\-it\\- is\n"));
  assert_non_null(strstr(text, ".TP\n\\fB\\-\\-wait\\fR \\fIVALUE\\fR\na duration [default: 7.5s]\n"));
  assert_non_null(strstr(text, ".TP\n\\fBwait\\fR = \\fIVALUE\\fR\n"));
  assert_non_null(strstr(text, "a colour: red, green, blue [default: green]"));
  assert_non_null(strstr(text, ".BR other\\-prog (1)\n"));
  assert_non_null(strstr(text, "\nsee \\-x\n"));
  assert_non_null(strstr(text, "\n\\&.a text line, not a request\n"));
  for (const struct cfg_opt *o = opts; o->name; o++) {
    char flag[64];
    snprintf(flag, sizeof flag, "\\fB\\-\\-%s\\fR", o->name);
    assert_non_null(strstr(text, flag));
  }
  free(text);
}

/* A test binary is not installed: the build tree's defaults (paths.h). */
static void test_paths_build_tree(void **state) {
  (void)state;
  assert_false(ef_installed());
  assert_string_equal(ef_default_path(EF_DEF_SERVER_DATA), "./var");
  assert_string_equal(ef_default_path(EF_DEF_ADMIN_TOKEN), "./var/admin.token");
  assert_null(ef_default_path(EF_DEF_SERVER_CONF));
  assert_null(ef_default_path(EF_DEF_AGENT_CONF));
  assert_null(ef_default_path(EF_DEF_AGENT_DATA));
  const char *web = ef_default_path(EF_DEF_WEB); /* the source tree's, when it has one */
  if (*EF_SOURCE_WEBDIR) assert_string_equal(web, EF_SOURCE_WEBDIR);
  else assert_null(web);
}

static void test_cfg_enum(void **state) {
  (void)state;
  struct conf c;
  char err[256];
  assert_int_equal(cfg_table_defaults(opts, &c), 0);
  assert_int_equal(c.colour, 1);
  assert_int_equal(cfg_table_set(opts, &c, "colour", "BLUE", err, sizeof err), 0);
  assert_int_equal(c.colour, 2);
  assert_int_equal(cfg_table_set(opts, &c, "colour", "mauve", err, sizeof err), EF_ECONFIG);
  assert_string_equal(err, "colour: 'mauve' is not one of red, green, blue");
  assert_int_equal(c.colour, 2);
  assert_int_equal(cfg_table_set(opts, &c, "colour", "", err, sizeof err), EF_ECONFIG);
  assert_int_equal(cfg_parse_enum(colours, "red"), 0);
  assert_int_equal(cfg_parse_enum(colours, "re"), -1);
  char small[8];
  assert_string_equal(cfg_enum_list(colours, small, sizeof small), "red, gr");

  /* --help shows the names from the row */
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  cfg_table_usage(opts, out);
  fclose(out);
  assert_non_null(strstr(text, "--colour"));
  assert_non_null(strstr(text, "a colour: red, green, blue [green]"));
  free(text);
  cfg_table_free(opts, &c);
}

static void test_cfg_file_and_args(void **state) {
  (void)state;
  char path[] = "/tmp/ef-cfg-XXXXXX";
  int fd = mkstemp(path);
  const char *text = "# comment\n\nname = box  # trailing\ncount 5\nwait=2s\n";
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  struct conf c;
  char err[256];
  cfg_table_defaults(opts, &c);
  assert_int_equal(cfg_parse_file(path, set, &c, err, sizeof err), 0);
  assert_string_equal(c.name, "box");
  assert_int_equal(c.count, 5);
  assert_int_equal(c.wait, 2000);

  char *argv[] = {"prog", "--config", path, "--count=7", "--wait", "9s", "--name", "x y"};
  assert_string_equal(cfg_config_arg(8, argv, 1), path);
  assert_int_equal(cfg_parse_args(8, argv, 1, set, &c, err, sizeof err), 0);
  assert_int_equal(c.count, 7);
  assert_int_equal(c.wait, 9000);
  assert_string_equal(c.name, "x y");

  char *bad[] = {"prog", "--count"};
  assert_int_equal(cfg_parse_args(2, bad, 1, set, &c, err, sizeof err), EF_ECONFIG);
  assert_non_null(strstr(err, "needs a value"));
  char *pos[] = {"prog", "stray"};
  assert_int_equal(cfg_parse_args(2, pos, 1, set, &c, err, sizeof err), EF_ECONFIG);

  /* An unknown key in a file names the file and the line. */
  fd = open(path, O_WRONLY | O_TRUNC);
  const char *badtext = "count = 2\nbogus = 1\n";
  assert_int_equal(write(fd, badtext, strlen(badtext)), (ssize_t)strlen(badtext));
  close(fd);
  assert_int_equal(cfg_parse_file(path, set, &c, err, sizeof err), EF_ECONFIG);
  char want[300];
  snprintf(want, sizeof want, "%s:2: unknown option 'bogus'", path);
  assert_string_equal(err, want);
  assert_int_equal(cfg_parse_file("/nonexistent/x.conf", set, &c, err, sizeof err), EF_ECONFIG);
  unlink(path);
  cfg_table_free(opts, &c);
}

/* nan, inf and values past CFG_VALUE_MAX as a duration or a size: refused with a clear message
 * and the field left as it was. Before the fix, "nan" passed every range check (every comparison
 * with nan is false) and was converted to int64_t: undefined behaviour, which clang's
 * -fsanitize=float-cast-overflow reports (gcc's UBSan does not); tests/fuzz found it again. */
static void test_cfg_nonfinite(void **state) {
  (void)state;
  struct conf c;
  char err[256];
  int64_t v = 77;
  assert_int_equal(cfg_table_defaults(opts, &c), 0);
  static const char *const not_numbers[] = {"nan", "NaN", "-nan", "nan(123)", "nans", "nanms",
                                            "nank", "NANm", "-1", "-inf", "-0.5s", "x", ""};
  for (size_t i = 0; i < sizeof not_numbers / sizeof *not_numbers; i++) {
    const char *t = not_numbers[i];
    assert_int_equal(cfg_parse_duration_ms(t, &v), EF_EINVAL);
    assert_int_equal(cfg_parse_size(t, &v), EF_EINVAL);
    assert_int_equal(v, 77);
    assert_int_equal(cfg_table_set(opts, &c, "wait", t, err, sizeof err), EF_ECONFIG);
    assert_non_null(strstr(err, "is not a duration"));
    assert_int_equal(cfg_table_set(opts, &c, "size", t, err, sizeof err), EF_ECONFIG);
    assert_non_null(strstr(err, "is not a size"));
  }
  static const char *const too_big[] = {"inf", "INF", "infinity", "infs", "infk", "1e400",
                                        "1e300d", "9e15s", "1e16", "1e308g", "0x1p1023",
                                        "9000000000000001"};
  for (size_t i = 0; i < sizeof too_big / sizeof *too_big; i++) {
    const char *t = too_big[i];
    if (strcmp(t, "9e15s") != 0 && strcmp(t, "1e300d") != 0)
      assert_int_equal(cfg_parse_size(t, &v), EF_ETOOBIG);
    if (strcmp(t, "infk") != 0 && strcmp(t, "1e308g") != 0)
      assert_int_equal(cfg_parse_duration_ms(t, &v), EF_ETOOBIG);
    assert_int_equal(v, 77);
  }
  assert_int_equal(cfg_table_set(opts, &c, "wait", "inf", err, sizeof err), EF_ECONFIG);
  assert_string_equal(err, "wait: 'inf' is out of range [0.01 s, 60 s]");
  assert_int_equal(cfg_table_set(opts, &c, "size", "1e400k", err, sizeof err), EF_ECONFIG);
  assert_string_equal(err, "size: '1e400k' is out of range [0, 1073741824]");
  assert_int_equal(cfg_table_set(opts, &c, "count", "99999999999999999999", err, sizeof err),
                   EF_ECONFIG);
  assert_string_equal(err, "count: '99999999999999999999' is out of range [1, 10]");
  assert_int_equal(c.wait, 7500); /* untouched by every refusal */
  assert_int_equal(c.size, 65536);
  assert_int_equal(c.count, 3);

  /* The largest values still parse, exactly. */
  assert_int_equal(cfg_parse_duration_ms("9e15ms", &v), 0);
  assert_int_equal(v, 9000000000000000LL);
  assert_int_equal(cfg_parse_size("8e15", &v), 0);
  assert_int_equal(v, 8000000000000000LL);
  assert_int_equal(cfg_parse_duration_ms("1e-3s", &v), 0);
  assert_int_equal(v, 1);
  assert_int_equal(cfg_parse_size("0", &v), 0);
  assert_int_equal(v, 0);

  /* From a file (the fuzzer's way in): the line is named. */
  const char *text = "count = 4\nwait = nan\n";
  assert_int_equal(cfg_parse_mem("mem.conf", text, strlen(text), set, &c, err, sizeof err),
                   EF_ECONFIG);
  assert_string_equal(err, "mem.conf:2: wait: 'nan' is not a duration (e.g. 500ms, 7.5s)");
  assert_int_equal(c.count, 4);
  assert_int_equal(c.wait, 7500);
  cfg_table_free(opts, &c);
}

/* A line longer than CFG_LINE_MAX is refused whole: it used to be read as two lines, the second
 * one starting mid-value. */
static void test_cfg_long_line(void **state) {
  (void)state;
  struct conf c;
  char err[256];
  assert_int_equal(cfg_table_defaults(opts, &c), 0);
  size_t n = CFG_LINE_MAX + 100;
  char *text = ef_malloc(n + 32);
  size_t at = (size_t)sprintf(text, "name = ");
  memset(text + at, 'a', n - at);
  memcpy(text + n, "\ncount 2\n", 10);
  assert_int_equal(cfg_parse_mem("long.conf", text, n + 9, set, &c, err, sizeof err), EF_ECONFIG);
  char want[128];
  snprintf(want, sizeof want, "long.conf:1: line longer than %d characters", CFG_LINE_MAX);
  assert_string_equal(err, want);
  assert_string_equal(c.name, "edge");
  /* Exactly CFG_LINE_MAX characters is fine, with or without a newline at the end. */
  memcpy(text + CFG_LINE_MAX, "\ncount 2\n", 10);
  assert_int_equal(cfg_parse_mem("ok.conf", text, CFG_LINE_MAX + 9, set, &c, err, sizeof err), 0);
  assert_int_equal(strlen(c.name), CFG_LINE_MAX - 7);
  assert_int_equal(c.count, 2);
  assert_int_equal(cfg_parse_mem("ok.conf", text, CFG_LINE_MAX, set, &c, err, sizeof err), 0);
  /* NUL bytes end a line's text; an empty text is an empty file. */
  assert_int_equal(cfg_parse_mem("nul.conf", "count 5\0junk\nwait 1s\n", 21, set, &c, err,
                                 sizeof err), 0);
  assert_int_equal(c.count, 5);
  assert_int_equal(c.wait, 1000);
  assert_int_equal(cfg_parse_mem("empty.conf", "", 0, set, &c, err, sizeof err), 0);
  ef_free(text);
  cfg_table_free(opts, &c);
}

/* ----- ids ----- */

static void test_ids(void **state) {
  (void)state;
  uint64_t prev = 0;
  for (int i = 0; i < 20000; i++) { /* spans several ms: sequence rollover included */
    uint64_t id = id_next();
    assert_true(id > prev);
    prev = id;
  }
  char buf[EF_ID_STRLEN];
  uint64_t back;
  assert_true(id_parse(id_format(prev, buf), &back));
  assert_true(back == prev);
  assert_false(id_parse("", &back));
  assert_false(id_parse("0", &back));
  assert_false(id_parse("-5", &back));
  assert_false(id_parse("12a", &back));
  assert_false(id_parse(" 12", &back));
  assert_false(id_parse("99999999999999999999999", &back));
  assert_false(id_parse(NULL, &back));
}

/* ----- u64map: random operations against a plain array ----- */

static void test_u64map(void **state) {
  (void)state;
  enum { N = 5000 };
  static void *ref[N];
  struct u64map m;
  u64map_init(&m);
  srand(7);
  for (int round = 0; round < 200000; round++) {
    uint64_t k = (uint64_t)(rand() % N) + 1;
    void *v = (void *)(uintptr_t)(round + 1);
    switch (rand() % 3) {
    case 0:
    case 1:
      assert_ptr_equal(u64map_put(&m, k << 22, v), ref[k - 1]);
      ref[k - 1] = v;
      break;
    default:
      assert_ptr_equal(u64map_del(&m, k << 22), ref[k - 1]);
      ref[k - 1] = NULL;
    }
  }
  size_t live = 0;
  for (int i = 0; i < N; i++) {
    assert_ptr_equal(u64map_get(&m, (uint64_t)(i + 1) << 22), ref[i]);
    live += ref[i] != NULL;
  }
  assert_int_equal(m.len, live);
  size_t seen = 0, it = 0;
  uint64_t k;
  void *v;
  while (u64map_next(&m, &it, &k, &v)) seen++;
  assert_int_equal(seen, live);
  assert_null(u64map_get(&m, 0));
  u64map_free(&m);
}

/* ----- crypto ----- */

static void test_crypto(void **state) {
  (void)state;
  char h[EF_SHA256_HEXLEN];
  crypto_sha256_hex("abc", 3, h);
  assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  char t1[EF_TOKEN_STRLEN], t2[EF_TOKEN_STRLEN];
  assert_int_equal(crypto_token(t1), 0);
  assert_int_equal(crypto_token(t2), 0);
  assert_int_equal(strlen(t1), 43);
  assert_string_not_equal(t1, t2);
  assert_int_equal(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);

  char hash[EF_BCRYPT_MAXLEN];
  assert_int_equal(crypto_bcrypt_hash("secret", 4, hash), 0);
  assert_memory_equal(hash, "$2b$04$", 7);
  assert_true(crypto_bcrypt_verify("secret", hash));
  assert_false(crypto_bcrypt_verify("Secret", hash));
  assert_int_equal(crypto_bcrypt_hash("secret", 3, hash), EF_EINVAL);
  /* Hashes made by Python's bcrypt (the original server's) verify. */
  assert_true(crypto_bcrypt_verify("testpassword",
                                   "$2b$04$bWz150i3D2vtk.k01TsaiOYITbmPekDkm2.xhkilE3dfnvz0ykbmW"));
  assert_true(crypto_bcrypt_verify("p\xc3\xa4ss w0rd",
                                   "$2b$05$vprdSAiQcpJp.9O.vVOBuOx/T3YDI0h/5OJixAyxffIQ8Kp5fcgRa"));
  assert_false(crypto_bcrypt_verify("testpassword", "plain"));
  assert_false(crypto_bcrypt_verify("testpassword", "$2b$04$short"));
  assert_false(crypto_bcrypt_verify(NULL, hash));
  /* $2a$ and $2y$ (PHP's) hashes made by python3-bcrypt verify too: a migrated fleet's
   * (edgefleetctl import-seed) */
  static const char h2a[] = "$2a$04$Odx7KuBOBx3IKjou9COa8.lF.0VDfFX/Hr8PKyXhIpz0z/qMHMEtm";
  static const char h2y[] = "$2y$04$Bc1E0ps0PdV3GAmyAuj0ne.NkmUPNwLU1j..9UZBpkuJKJyBJKEQu";
  assert_true(crypto_bcrypt_verify("old-pass-2a", h2a));
  assert_false(crypto_bcrypt_verify("old-pass-2y", h2a));
  assert_true(crypto_bcrypt_verify("old-pass-2y", h2y));
  assert_false(crypto_bcrypt_verify("old-pass-2a", h2y));
  /* the shape of a hash given to device_add as password_hash */
  assert_true(crypto_bcrypt_hash_valid(h2a));
  assert_true(crypto_bcrypt_hash_valid(h2y));
  assert_true(crypto_bcrypt_hash_valid(hash));
  assert_true(crypto_bcrypt_hash_valid(
      "$2b$31$bWz150i3D2vtk.k01TsaiOYITbmPekDkm2.xhkilE3dfnvz0ykbmW"));
  static const char *const bad[] = {
      "",
      "plain",
      "$2b$04$short",
      "$2x$04$bWz150i3D2vtk.k01TsaiOYITbmPekDkm2.xhkilE3dfnvz0ykbmW", /* $2x$: not accepted */
      "$2$04$bWz150i3D2vtk.k01TsaiOYITbmPekDkm2.xhkilE3dfnvz0ykbmWW",
      "$2b$03$bWz150i3D2vtk.k01TsaiOYITbmPekDkm2.xhkilE3dfnvz0ykbmW", /* cost 3 */
      "$2b$32$bWz150i3D2vtk.k01TsaiOYITbmPekDkm2.xhkilE3dfnvz0ykbmW", /* cost 32 */
      "$2b$4a$bWz150i3D2vtk.k01TsaiOYITbmPekDkm2.xhkilE3dfnvz0ykbmW",
      "$2b$04$bWz150i3D2vtk.k01TsaiOYITbmPekDkm2.xhkilE3dfnvz0ykbm",  /* 59 */
      "$2b$04$bWz150i3D2vtk.k01TsaiOYITbmPekDkm2.xhkilE3dfnvz0ykbmWx", /* 61 */
      "$2b$04$bWz150i3D2vtk.k01TsaiOYITbmPekDkm2.xhkilE3dfnvz0ykb+W", /* not bcrypt base64 */
      "$2b$04$bWz150i3D2vtk.k01TsaiOYITbmPekDkm2.xhkilE3dfnvz0ykb$W",
      "$1$04$abWz150i3D2vtk.k01TsaiOYITbmPekDkm2.xhkilE3dfnvz0ykbmW", /* not bcrypt */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (crypto_bcrypt_hash_valid(bad[i])) fail_msg("accepted: %s", bad[i]);
  assert_false(crypto_bcrypt_hash_valid(NULL));
}

/* ----- errors and json helpers ----- */

static void test_errors_and_json(void **state) {
  (void)state;
  assert_string_equal(ef_strerror(EF_ENOENT), "not found");
  assert_string_equal(ef_err_name(EF_EBUSY), "EBUSY");
  assert_string_equal(ef_strerror(12345), "unknown error");
  assert_true(EF_EINVAL < 0 && EF_EOFFLINE < 0);

  const char *txt = "{\"a\":\"x\",\"b\":{},\"c\":1}";
  json_t *o = jparse_object(txt, strlen(txt));
  assert_non_null(o);
  assert_string_equal(jstr(o, "a"), "x");
  assert_null(jstr(o, "c"));
  assert_non_null(jobj(o, "b"));
  assert_null(jobj(o, "a"));
  char *s = jdump(o);
  assert_string_equal(s, "{\"a\":\"x\",\"b\":{},\"c\":1}");
  ef_free(s);
  json_decref(o);
  assert_null(jparse_object("[1,2]", 5));
  assert_null(jparse_object("{\"a\":1,\"a\":2}", 13)); /* duplicate keys rejected */
  assert_null(jparse_object("{bad", 4));
  assert_null(jparse_object("\xff\xfe", 2));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cfg_defaults_and_units),
    cmocka_unit_test(test_cfg_enum),
    cmocka_unit_test(test_cfg_duration_seconds),
    cmocka_unit_test(test_cfg_man),
    cmocka_unit_test(test_paths_build_tree),
    cmocka_unit_test(test_cfg_file_and_args),
    cmocka_unit_test(test_cfg_nonfinite),
    cmocka_unit_test(test_cfg_long_line),
    cmocka_unit_test(test_ids),
    cmocka_unit_test(test_u64map),
    cmocka_unit_test(test_crypto),
    cmocka_unit_test(test_errors_and_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
