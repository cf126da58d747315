/* SPDX-License-Identifier: MIT */
/* test_store.c -- the store contract: what every backend of store.h must do, run against the
 * backend a URL names. PostgreSQL and MariaDB backends run this same file unchanged.
 *
 * The URL: argv[1], else $EF_STORE_URL, else a fresh "sqlite:" file per test in its own
 * mkdtemp() directory, removed afterwards.
 *
 * Every test starts from an EMPTY store (fixed ids, counts and lists depend on it):
 * - without a URL, each test gets a new SQLite file;
 * - with a URL, $EF_STORE_RESET must be a shell command that empties that database; it runs
 *   (/bin/sh, with $EF_STORE_URL set to the URL) before each test, and store_open() then
 *   creates the schema. For example, PostgreSQL:
 *     EF_STORE_RESET='dropdb --if-exists ef_contract && createdb ef_contract'
 *   MariaDB:
 *     EF_STORE_RESET='mariadb -e "DROP DATABASE IF EXISTS ef_c; CREATE DATABASE ef_c"'
 *   SQLite at a fixed path:  EF_STORE_RESET='rm -f FILE FILE-wal FILE-shm'
 *   setup() fails the test when the store it opens is not empty.
 *
 * Only the interface is used here -- no SQL, no files, no error wording: what a backend does its
 * own way (URL forms, files and permissions, migrations, journal mode, message texts, failures
 * injected behind the interface) is tested in that backend's own file (test_store_sqlite.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgefleet/error.h"
#include "mem.h"
#include "store.h"
#include "store_testutil.h"

static const char *g_url;   /* the backend under test; NULL: a fresh SQLite file per test */
static const char *g_reset; /* with g_url: the command that empties its database */

struct fx {
  char dir[PATH_MAX];       /* the SQLite default's temporary directory, else "" */
  char url[PATH_MAX + 64];
  struct store *st;
};

/* The store must hold nothing: no devices, groups, tokens, miner rows, audit rows or logs
 * (pruning every log deletes nothing from an empty store, and counts what a full one had). */
static int check_empty(struct fx *f) {
  struct store *st = f->st;
  size_t nd = 0, ng = 0, nt = 0, nm = 0, na = 0;
  uint64_t nlogs = 0;
  struct store_audit *as = NULL;
  struct store_device *ds = NULL;
  struct store_group *gs = NULL;
  struct store_token *ts = NULL;
  struct store_miner *ms = NULL;
  int rc = st->ops->device_list(st, &ds, &nd);
  if (rc == 0) rc = st->ops->group_list(st, &gs, &ng);
  if (rc == 0) rc = st->ops->token_list(st, &ts, &nt);
  if (rc == 0) rc = st->ops->miner_list(st, &ms, &nm);
  if (rc == 0) rc = st->ops->log_prune(st, INT64_MAX, &nlogs);
  if (rc == 0) rc = st->ops->audit_query(st, &(struct store_audit_filter){.limit = 1}, &as, &na);
  store_audits_free(as, na);
  store_devices_free(ds, nd);
  store_groups_free(gs, ng);
  store_tokens_free(ts, nt);
  store_miners_free(ms, nm);
  if (rc != 0) {
    fprintf(stderr, "store contract: listing a new store failed (%d): %s\n", rc,
            store_errmsg(st));
    return -1;
  }
  if (nd || ng || nt || nm || nlogs || na) {
    fprintf(stderr, "store contract: the store is not empty at the start of a test (%zu devices, "
            "%zu groups, %zu tokens, %zu miner rows, %llu logs, %zu audit rows): does "
            "EF_STORE_RESET empty it?\n",
            nd, ng, nt, nm, (unsigned long long)nlogs, na);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  struct fx *f = *state;
  store_close(&f->st);
  if (f->dir[0]) st_rmtree(f->dir);
  ef_free(f);
  return 0;
}

/* A test's empty store. On failure the test fails and nothing is left behind (cmocka runs no
 * teardown after a failed setup). */
static int setup(void **state) {
  struct fx *f = ef_calloc(1, sizeof *f);
  *state = f;
  int rc = 0;
  if (g_url) {
    snprintf(f->url, sizeof f->url, "%s", g_url);
    if ((rc = system(g_reset)) != 0)
      fprintf(stderr, "store contract: EF_STORE_RESET failed (status %d)\n", rc);
  } else if ((rc = st_mkdtemp(f->dir, sizeof f->dir)) != 0) {
    f->dir[0] = '\0';
    perror("store contract: mkdtemp");
  } else {
    snprintf(f->url, sizeof f->url, "sqlite:%s/edgefleet.db", f->dir);
  }
  if (rc == 0) {
    char err[256];
    if ((rc = store_open(f->url, &f->st, err, sizeof err)) != 0)
      fprintf(stderr, "store contract: store_open: %s\n", err);
  }
  if (rc == 0) rc = check_empty(f);
  if (rc != 0) {
    teardown(state);
    return -1;
  }
  return 0;
}

/* Close the store and open the same URL again: what was written must be there. */
static void reopen(struct fx *f) {
  char err[256];
  store_close(&f->st);
  if (store_open(f->url, &f->st, err, sizeof err) != 0) fail_msg("reopening the store: %s", err);
}

static size_t count_devices(struct fx *f) {
  struct store_device *arr;
  size_t n;
  assert_int_equal(f->st->ops->device_list(f->st, &arr, &n), 0);
  store_devices_free(arr, n);
  return n;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define OPS(f) ((f)->st->ops)

/* ===== persistence ===== */

static void test_reopen_keeps_data(void **state) {
  struct fx *f = *state;
  struct store_device d = st_dev(42, "SN42", "M1");
  d.device_name = "kept";
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  struct store_group g = st_grp(7, "g7");
  assert_int_equal(OPS(f)->group_add(f->st, &g), 0);
  assert_int_equal(OPS(f)->relation_add(f->st, 42, 7, 3000), 0);
  st_add_logs(f->st, 42, 1, 3);
  struct store_token t = {.token_id = 9, .name = "n", .scope = "operator", .token_hash = "h",
                          .created_time = 1, .groups = "7", .expires_time = 50,
                          .last_used_time = 0};
  assert_int_equal(OPS(f)->token_add(f->st, &t), 0);

  reopen(f);
  struct store_device out;
  assert_int_equal(OPS(f)->device_get(f->st, 42, &out), 0);
  assert_string_equal(out.device_name, "kept");
  store_device_clear(&out);
  bool in = false;
  assert_int_equal(OPS(f)->relation_exists(f->st, 42, 7, &in), 0);
  assert_true(in);
  struct store_log *logs;
  size_t n;
  assert_int_equal(OPS(f)->log_query(f->st, 42, 0, 10, &logs, &n), 0);
  assert_int_equal(n, 3);
  store_logs_free(logs, n);
  struct store_token *ts;
  assert_int_equal(OPS(f)->token_list(f->st, &ts, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(ts[0].token_hash, "h");
  assert_string_equal(ts[0].scope, "operator");
  assert_string_equal(ts[0].groups, "7");
  assert_int_equal(ts[0].expires_time, 50);
  store_tokens_free(ts, n);
}

/* ===== devices ===== */

static void fill_all(struct store_device *d) {
  static char buf[32][32];
  int i = 0;
#define FILL_(col, parent, key) \
  snprintf(buf[i], sizeof buf[i], "%s-%d", #col, i), d->col = buf[i], i++;
  STORE_DEVICE_FIELDS(FILL_)
#undef FILL_
}

static void test_device_roundtrip(void **state) {
  struct fx *f = *state;
  struct store_device d = st_dev(1001, NULL, NULL), out;
  fill_all(&d);
  d.token_hash = "abcd";
  d.token_expiry = 99;
  d.created_time = 11;
  d.updated_time = 12;
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  assert_int_equal(OPS(f)->device_get(f->st, 1001, &out), 0);
  assert_int_equal(out.device_id, 1001);
#define CMP_(col, parent, key) assert_string_equal(out.col, d.col);
  STORE_DEVICE_FIELDS(CMP_)
#undef CMP_
  assert_string_equal(out.password, d.password);
  assert_string_equal(out.token_hash, "abcd");
  assert_int_equal(out.token_expiry, 99);
  assert_int_equal(out.created_time, 11);
  assert_int_equal(out.updated_time, 12);
  store_device_clear(&out);
  assert_null(out.device_name);
  assert_int_equal(out.device_id, 0);

  assert_int_equal(OPS(f)->device_find(f->st, d.hardware_sn, d.hardware_model, &out), 0);
  assert_int_equal(out.device_id, 1001);
  store_device_clear(&out);

  /* A 64-bit id with the top bit set survives. */
  struct store_device big = st_dev(UINT64_MAX - 5, "big", "m");
  assert_int_equal(OPS(f)->device_add(f->st, &big), 0);
  assert_int_equal(OPS(f)->device_get(f->st, UINT64_MAX - 5, &out), 0);
  assert_true(out.device_id == UINT64_MAX - 5);
  store_device_clear(&out);
}

static void test_device_null_fields(void **state) {
  struct fx *f = *state;
  struct store_device d = {0}, out;
  d.device_id = 3;
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  assert_int_equal(OPS(f)->device_get(f->st, 3, &out), 0);
#define NUL_(col, parent, key) assert_null(out.col);
  STORE_DEVICE_FIELDS(NUL_)
#undef NUL_
  assert_null(out.password);
  assert_null(out.token_hash);
  store_device_clear(&out);

  /* Empty strings stay empty strings, not NULL. */
  d.device_id = 4;
  d.device_name = "";
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  assert_int_equal(OPS(f)->device_get(f->st, 4, &out), 0);
  assert_non_null(out.device_name);
  assert_string_equal(out.device_name, "");
  store_device_clear(&out);

  /* NULL sn/model do not collide with each other (SQL NULLs are distinct). */
  d.device_id = 5;
  d.device_name = NULL;
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
}

static void test_device_duplicates_and_missing(void **state) {
  struct fx *f = *state;
  struct store_device d = st_dev(1, "SN1", "M1"), out;
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);

  struct store_device same_pair = st_dev(2, "SN1", "M1");
  assert_int_equal(OPS(f)->device_add(f->st, &same_pair), EF_EEXIST);
  assert_true(store_errmsg(f->st)[0] != '\0'); /* its wording is the backend's */
  struct store_device same_id = st_dev(1, "SN9", "M9");
  assert_int_equal(OPS(f)->device_add(f->st, &same_id), EF_EEXIST);
  struct store_device other_model = st_dev(3, "SN1", "M2");
  assert_int_equal(OPS(f)->device_add(f->st, &other_model), 0);

  assert_int_equal(OPS(f)->device_get(f->st, 999, &out), EF_ENOENT);
  assert_null(out.device_name);
  assert_true(store_errmsg(f->st)[0] != '\0');
  assert_int_equal(OPS(f)->device_find(f->st, "SN1", "nope", &out), EF_ENOENT);
  assert_int_equal(OPS(f)->device_find(f->st, NULL, "M1", &out), EF_EINVAL);
  assert_int_equal(OPS(f)->device_get(f->st, 1, NULL), EF_EINVAL);
  assert_int_equal(OPS(f)->device_add(f->st, NULL), EF_EINVAL);
}

static void test_device_list_order(void **state) {
  struct fx *f = *state;
  struct store_device *arr = (struct store_device *)0x1;
  size_t n = 99;
  assert_int_equal(OPS(f)->device_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 0);
  store_devices_free(arr, n);

  uint64_t ids[] = {50, 3, 1000, 7};
  char sn[4][8];
  for (int i = 0; i < 4; i++) {
    snprintf(sn[i], sizeof sn[i], "s%d", i);
    struct store_device d = st_dev(ids[i], sn[i], "m");
    assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  }
  assert_int_equal(OPS(f)->device_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 4);
  assert_int_equal(arr[0].device_id, 3);
  assert_int_equal(arr[1].device_id, 7);
  assert_int_equal(arr[2].device_id, 50);
  assert_int_equal(arr[3].device_id, 1000);
  assert_string_equal(arr[3].hardware_sn, "s2");
  store_devices_free(arr, n);
}

static void test_device_count(void **state) {
  struct fx *f = *state;
  uint64_t n = 99;
  assert_int_equal(OPS(f)->device_count(f->st, &n), 0);
  assert_int_equal(n, 0);

  uint64_t ids[] = {50, 3, 1000, 7};
  char sn[4][8];
  for (int i = 0; i < 4; i++) {
    snprintf(sn[i], sizeof sn[i], "s%d", i);
    struct store_device d = st_dev(ids[i], sn[i], "m");
    assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  }
  assert_int_equal(OPS(f)->device_count(f->st, &n), 0);
  assert_int_equal(n, 4);
  assert_int_equal(OPS(f)->device_delete(f->st, 7), 0);
  assert_int_equal(OPS(f)->device_count(f->st, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(n, count_devices(f)); /* the same number device_list gives */
  assert_int_equal(OPS(f)->device_count(f->st, NULL), EF_EINVAL);
}

static void test_device_update(void **state) {
  struct fx *f = *state;
  struct store_device d = st_dev(1, "SN1", "M1"), out;
  d.device_name = "old";
  d.dev_description = "desc";
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  struct store_device d2 = st_dev(2, "SN2", "M2");
  assert_int_equal(OPS(f)->device_add(f->st, &d2), 0);

  struct store_device p = {0};
  p.device_id = 1;
  p.device_name = "new";
  p.password = "$2b$10$other";
  p.updated_time = 5000;
  assert_int_equal(OPS(f)->device_update(f->st, &p), 0);
  assert_int_equal(OPS(f)->device_get(f->st, 1, &out), 0);
  assert_string_equal(out.device_name, "new");
  assert_string_equal(out.dev_description, "desc"); /* NULL in patch: unchanged */
  assert_string_equal(out.hardware_sn, "SN1");
  assert_string_equal(out.password, "$2b$10$other");
  assert_int_equal(out.updated_time, 5000);
  assert_int_equal(out.created_time, 1000);
  store_device_clear(&out);

  /* Password untouched when NULL. */
  memset(&p, 0, sizeof p);
  p.device_id = 1;
  p.wifi_mac = "aa:bb";
  p.updated_time = 6000;
  assert_int_equal(OPS(f)->device_update(f->st, &p), 0);
  assert_int_equal(OPS(f)->device_get(f->st, 1, &out), 0);
  assert_string_equal(out.password, "$2b$10$other");
  assert_string_equal(out.wifi_mac, "aa:bb");
  store_device_clear(&out);

  /* An all-NULL patch on an existing row is not "missing". */
  memset(&p, 0, sizeof p);
  p.device_id = 1;
  assert_int_equal(OPS(f)->device_update(f->st, &p), 0);

  p.device_id = 777;
  p.device_name = "x";
  assert_int_equal(OPS(f)->device_update(f->st, &p), EF_ENOENT);

  /* Taking another device's sn/model. */
  memset(&p, 0, sizeof p);
  p.device_id = 1;
  p.hardware_sn = "SN2";
  p.hardware_model = "M2";
  assert_int_equal(OPS(f)->device_update(f->st, &p), EF_EEXIST);
  assert_int_equal(OPS(f)->device_get(f->st, 1, &out), 0);
  assert_string_equal(out.hardware_sn, "SN1");
  store_device_clear(&out);
  assert_int_equal(OPS(f)->device_update(f->st, NULL), EF_EINVAL);
}

static void test_device_delete_cascades(void **state) {
  struct fx *f = *state;
  struct store_device a = st_dev(1, "A", "m"), b = st_dev(2, "B", "m");
  assert_int_equal(OPS(f)->device_add(f->st, &a), 0);
  assert_int_equal(OPS(f)->device_add(f->st, &b), 0);
  struct store_group g = st_grp(10, "g");
  assert_int_equal(OPS(f)->group_add(f->st, &g), 0);
  assert_int_equal(OPS(f)->relation_add(f->st, 1, 10, 1), 0);
  assert_int_equal(OPS(f)->relation_add(f->st, 2, 10, 1), 0);
  st_add_logs(f->st, 1, 1, 5);
  st_add_logs(f->st, 2, 1, 3);

  assert_int_equal(OPS(f)->device_delete(f->st, 1), 0);
  struct store_device out;
  assert_int_equal(OPS(f)->device_get(f->st, 1, &out), EF_ENOENT);
  bool in = true;
  assert_int_equal(OPS(f)->relation_exists(f->st, 1, 10, &in), 0);
  assert_false(in);
  struct store_log *logs;
  size_t n;
  assert_int_equal(OPS(f)->log_query(f->st, 1, 0, 100, &logs, &n), 0);
  assert_int_equal(n, 0);
  store_logs_free(logs, n);
  /* The other device keeps its relation and logs. */
  assert_int_equal(OPS(f)->relation_exists(f->st, 2, 10, &in), 0);
  assert_true(in);
  assert_int_equal(OPS(f)->log_query(f->st, 2, 0, 100, &logs, &n), 0);
  assert_int_equal(n, 3);
  store_logs_free(logs, n);

  assert_int_equal(OPS(f)->device_delete(f->st, 1), EF_ENOENT);
  /* The failed delete left no transaction open. */
  struct store_device c = st_dev(3, "C", "m");
  assert_int_equal(OPS(f)->device_add(f->st, &c), 0);

  /* Nothing of it is left behind: the same id again starts with no groups and no logs. */
  struct store_device again = st_dev(1, "A2", "m");
  assert_int_equal(OPS(f)->device_add(f->st, &again), 0);
  struct store_group *gs;
  assert_int_equal(OPS(f)->device_groups(f->st, 1, &gs, &n), 0);
  assert_int_equal(n, 0);
  store_groups_free(gs, n);
  assert_int_equal(OPS(f)->log_query(f->st, 1, 0, 100, &logs, &n), 0);
  assert_int_equal(n, 0);
  store_logs_free(logs, n);
}

static void test_device_token(void **state) {
  struct fx *f = *state;
  struct store_device d = st_dev(1, "A", "m"), out;
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  assert_int_equal(OPS(f)->device_set_token(f->st, 1, "deadbeef", 123456), 0);
  assert_int_equal(OPS(f)->device_get(f->st, 1, &out), 0);
  assert_string_equal(out.token_hash, "deadbeef");
  assert_int_equal(out.token_expiry, 123456);
  store_device_clear(&out);
  assert_int_equal(OPS(f)->device_set_token(f->st, 1, NULL, 0), 0);
  assert_int_equal(OPS(f)->device_get(f->st, 1, &out), 0);
  assert_null(out.token_hash);
  assert_int_equal(out.token_expiry, 0);
  store_device_clear(&out);
  assert_int_equal(OPS(f)->device_set_token(f->st, 2, "x", 1), EF_ENOENT);
}

/* The password verifier: kept, returned, untouched by other updates, forgotten with a new
 * password (the old password's verifier must not let it in). */
static void test_device_verifier(void **state) {
  struct fx *f = *state;
  struct store_device d = st_dev(1, "A", "m"), out;
  d.password = "$2b$04$hash1";
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  assert_int_equal(OPS(f)->device_get(f->st, 1, &out), 0);
  assert_null(out.pw_verifier);
  store_device_clear(&out);
  assert_int_equal(OPS(f)->device_set_verifier(f->st, 1, "abcd"), 0);
  struct store_device patch = {.device_id = 1, .device_name = "renamed", .updated_time = 5};
  assert_int_equal(OPS(f)->device_update(f->st, &patch), 0);
  assert_int_equal(OPS(f)->device_find(f->st, "A", "m", &out), 0);
  assert_string_equal(out.pw_verifier, "abcd");
  store_device_clear(&out);
  patch.password = "$2b$04$hash2";
  assert_int_equal(OPS(f)->device_update(f->st, &patch), 0);
  assert_int_equal(OPS(f)->device_get(f->st, 1, &out), 0);
  assert_null(out.pw_verifier);
  assert_string_equal(out.password, "$2b$04$hash2");
  store_device_clear(&out);
  assert_int_equal(OPS(f)->device_set_verifier(f->st, 2, "x"), EF_ENOENT);
}

static void test_device_all_offline(void **state) {
  struct fx *f = *state;
  struct store_device a = st_dev(1, "A", "m"), b = st_dev(2, "B", "m"), c = st_dev(3, "C", "m");
  a.dev_state = "online";
  c.dev_state = "offline";
  b.dev_state = NULL;
  assert_int_equal(OPS(f)->device_add(f->st, &a), 0);
  assert_int_equal(OPS(f)->device_add(f->st, &b), 0);
  assert_int_equal(OPS(f)->device_add(f->st, &c), 0);
  assert_int_equal(OPS(f)->device_all_offline(f->st, 9000), 0);
  struct store_device *arr;
  size_t n;
  assert_int_equal(OPS(f)->device_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 3);
  for (size_t i = 0; i < n; i++) assert_string_equal(arr[i].dev_state, "offline");
  assert_int_equal(arr[0].updated_time, 9000);
  assert_int_equal(arr[1].updated_time, 9000);
  assert_int_equal(arr[2].updated_time, 1000); /* already offline: untouched */
  store_devices_free(arr, n);
}

static void test_device_batch(void **state) {
  struct fx *f = *state;
  struct store_device ds[100];
  char sn[100][16];
  for (int i = 0; i < 100; i++) {
    snprintf(sn[i], sizeof sn[i], "B%03d", i);
    ds[i] = st_dev(100 + (uint64_t)i, sn[i], "m");
  }
  size_t failed = 77;
  assert_int_equal(OPS(f)->device_add_batch(f->st, ds, 100, &failed), 0);
  assert_int_equal(OPS(f)->device_add_batch(f->st, ds, 0, &failed), 0);

  /* A second batch whose 6th record collides with the first: nothing of it stays. */
  struct store_device more[10];
  char sn2[10][16];
  for (int i = 0; i < 10; i++) {
    snprintf(sn2[i], sizeof sn2[i], "C%03d", i);
    more[i] = st_dev(1000 + (uint64_t)i, sn2[i], "m");
  }
  more[5].hardware_sn = "B042";
  assert_int_equal(OPS(f)->device_add_batch(f->st, more, 10, &failed), EF_EEXIST);
  assert_int_equal(failed, 5);
  struct store_device *arr;
  size_t n;
  assert_int_equal(OPS(f)->device_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 100);
  store_devices_free(arr, n);

  /* A duplicate inside the batch itself. */
  more[5].hardware_sn = sn2[5];
  more[8].device_id = more[2].device_id;
  assert_int_equal(OPS(f)->device_add_batch(f->st, more, 10, NULL), EF_EEXIST);
  assert_int_equal(OPS(f)->device_add_batch(f->st, more, 10, &failed), EF_EEXIST);
  assert_int_equal(failed, 8);
  assert_int_equal(count_devices(f), 100);

  /* Fixed, it goes in whole. */
  more[8].device_id = 2000;
  assert_int_equal(OPS(f)->device_add_batch(f->st, more, 10, &failed), 0);
  assert_int_equal(count_devices(f), 110);
  assert_int_equal(OPS(f)->device_add_batch(f->st, NULL, 3, &failed), EF_EINVAL);
}

/* ===== groups and relations ===== */

static void test_groups(void **state) {
  struct fx *f = *state;
  struct store_group a = st_grp(2, "alpha"), b = st_grp(1, "beta"), out;
  assert_int_equal(OPS(f)->group_add(f->st, &a), 0);
  assert_int_equal(OPS(f)->group_add(f->st, &b), 0);
  struct store_group dup = st_grp(3, "alpha");
  assert_int_equal(OPS(f)->group_add(f->st, &dup), EF_EEXIST);
  struct store_group dupid = st_grp(2, "gamma");
  assert_int_equal(OPS(f)->group_add(f->st, &dupid), EF_EEXIST);
  struct store_group noname = st_grp(4, NULL);
  assert_int_equal(OPS(f)->group_add(f->st, &noname), EF_EINVAL);

  assert_int_equal(OPS(f)->group_get(f->st, 2, &out), 0);
  assert_string_equal(out.group_name, "alpha");
  assert_string_equal(out.group_description, "a group");
  assert_int_equal(out.created_time, 2000);
  store_group_clear(&out);
  assert_int_equal(OPS(f)->group_get(f->st, 99, &out), EF_ENOENT);

  struct store_group *arr;
  size_t n;
  assert_int_equal(OPS(f)->group_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(arr[0].group_id, 1);
  assert_string_equal(arr[1].group_name, "alpha");
  store_groups_free(arr, n);

  /* Partial update. */
  struct store_group p = {.group_id = 2, .group_description = "changed", .updated_time = 2500};
  assert_int_equal(OPS(f)->group_update(f->st, &p), 0);
  assert_int_equal(OPS(f)->group_get(f->st, 2, &out), 0);
  assert_string_equal(out.group_name, "alpha");
  assert_string_equal(out.group_description, "changed");
  assert_int_equal(out.updated_time, 2500);
  store_group_clear(&out);
  p = (struct store_group){.group_id = 2, .group_name = "beta"};
  assert_int_equal(OPS(f)->group_update(f->st, &p), EF_EEXIST);
  p = (struct store_group){.group_id = 2, .group_name = "alpha2"};
  assert_int_equal(OPS(f)->group_update(f->st, &p), 0);
  assert_int_equal(OPS(f)->group_get(f->st, 2, &out), 0);
  assert_string_equal(out.group_name, "alpha2");
  assert_int_equal(out.updated_time, 2500); /* 0 in the patch: kept */
  store_group_clear(&out);
  p.group_id = 99;
  assert_int_equal(OPS(f)->group_update(f->st, &p), EF_ENOENT);

  assert_int_equal(OPS(f)->group_delete(f->st, 1), 0);
  assert_int_equal(OPS(f)->group_delete(f->st, 1), EF_ENOENT);
  assert_int_equal(OPS(f)->group_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 1);
  store_groups_free(arr, n);
}

static void test_relations(void **state) {
  struct fx *f = *state;
  struct store_device d1 = st_dev(1, "A", "m"), d2 = st_dev(2, "B", "m");
  assert_int_equal(OPS(f)->device_add(f->st, &d1), 0);
  assert_int_equal(OPS(f)->device_add(f->st, &d2), 0);
  struct store_group g1 = st_grp(10, "g1"), g2 = st_grp(20, "g2");
  assert_int_equal(OPS(f)->group_add(f->st, &g1), 0);
  assert_int_equal(OPS(f)->group_add(f->st, &g2), 0);

  assert_int_equal(OPS(f)->relation_add(f->st, 1, 10, 1), 0);
  assert_int_equal(OPS(f)->relation_add(f->st, 1, 20, 1), 0);
  assert_int_equal(OPS(f)->relation_add(f->st, 2, 10, 1), 0);
  assert_int_equal(OPS(f)->relation_add(f->st, 1, 10, 1), EF_EEXIST);
  assert_int_equal(OPS(f)->relation_add(f->st, 9, 10, 1), EF_ENOENT);
  assert_int_equal(OPS(f)->relation_add(f->st, 1, 99, 1), EF_ENOENT);

  bool in;
  assert_int_equal(OPS(f)->relation_exists(f->st, 2, 10, &in), 0);
  assert_true(in);
  assert_int_equal(OPS(f)->relation_exists(f->st, 2, 20, &in), 0);
  assert_false(in);

  struct store_group *gs;
  size_t n;
  assert_int_equal(OPS(f)->device_groups(f->st, 1, &gs, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(gs[0].group_name, "g1");
  assert_string_equal(gs[1].group_name, "g2");
  store_groups_free(gs, n);
  assert_int_equal(OPS(f)->device_groups(f->st, 9, &gs, &n), EF_ENOENT);
  assert_null(gs);

  struct store_device *ds;
  assert_int_equal(OPS(f)->group_devices(f->st, 10, &ds, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(ds[0].device_id, 1);
  assert_string_equal(ds[1].hardware_sn, "B");
  store_devices_free(ds, n);
  assert_int_equal(OPS(f)->group_devices(f->st, 99, &ds, &n), EF_ENOENT);

  assert_int_equal(OPS(f)->relation_delete(f->st, 1, 20), 0);
  assert_int_equal(OPS(f)->relation_delete(f->st, 1, 20), EF_ENOENT);
  assert_int_equal(OPS(f)->device_groups(f->st, 1, &gs, &n), 0);
  assert_int_equal(n, 1);
  store_groups_free(gs, n);

  assert_int_equal(OPS(f)->group_clear(f->st, 10), 0);
  assert_int_equal(OPS(f)->group_devices(f->st, 10, &ds, &n), 0);
  assert_int_equal(n, 0);
  store_devices_free(ds, n);
  assert_int_equal(OPS(f)->group_clear(f->st, 10), 0); /* empty group: fine */
  assert_int_equal(OPS(f)->group_clear(f->st, 99), EF_ENOENT);

  /* group_delete cascades to relations. */
  assert_int_equal(OPS(f)->relation_add(f->st, 2, 20, 1), 0);
  assert_int_equal(OPS(f)->group_delete(f->st, 20), 0);
  /* ... leaving none behind: a new group with the same id has no devices. */
  struct store_group g2again = st_grp(20, "g2-again");
  assert_int_equal(OPS(f)->group_add(f->st, &g2again), 0);
  assert_int_equal(OPS(f)->group_devices(f->st, 20, &ds, &n), 0);
  assert_int_equal(n, 0);
  store_devices_free(ds, n);
  assert_int_equal(OPS(f)->device_groups(f->st, 2, &gs, &n), 0);
  assert_int_equal(n, 0);
  store_groups_free(gs, n);
}

/* ===== write_batch and logs ===== */

static void test_write_batch(void **state) {
  struct fx *f = *state;
  struct store_device a = st_dev(1, "A", "m"), b = st_dev(2, "B", "m"), out;
  assert_int_equal(OPS(f)->device_add(f->st, &a), 0);
  assert_int_equal(OPS(f)->device_add(f->st, &b), 0);

  struct store_log logs[3] = {
      {.device_id = 1, .event = "login", .detail = "{\"ip\":\"1.2.3.4\"}", .result = "success",
       .time = 100},
      {.device_id = 2, .event = "connect", .time = 101},
      {.device_id = 77, .event = "state", .result = "offline", .time = 102}, /* no such device */
  };
  struct store_state states[3] = {
      {.device_id = 1, .state = "online", .time = 100},
      {.device_id = 2, .state = "Unknown", .time = 101},
      {.device_id = 77, .state = "offline", .time = 102}, /* deleted meanwhile: skipped */
  };
  assert_int_equal(OPS(f)->write_batch(f->st, logs, 3, states, 3), 0);
  assert_true(logs[0].log_id > 0);
  assert_true(logs[1].log_id > logs[0].log_id);
  assert_true(logs[2].log_id > logs[1].log_id);

  assert_int_equal(OPS(f)->device_get(f->st, 1, &out), 0);
  assert_string_equal(out.dev_state, "online");
  assert_int_equal(out.updated_time, 100);
  store_device_clear(&out);
  assert_int_equal(OPS(f)->device_get(f->st, 2, &out), 0);
  assert_string_equal(out.dev_state, "Unknown");
  store_device_clear(&out);

  struct store_log *got;
  size_t n;
  assert_int_equal(OPS(f)->log_query(f->st, 1, 0, 10, &got, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(got[0].log_id, logs[0].log_id);
  assert_int_equal(got[0].device_id, 1);
  assert_string_equal(got[0].event, "login");
  assert_string_equal(got[0].detail, "{\"ip\":\"1.2.3.4\"}");
  assert_string_equal(got[0].result, "success");
  assert_int_equal(got[0].time, 100);
  store_logs_free(got, n);
  assert_int_equal(OPS(f)->log_query(f->st, 2, 0, 10, &got, &n), 0);
  assert_int_equal(n, 1);
  assert_null(got[0].detail);
  assert_null(got[0].result);
  store_logs_free(got, n);
  assert_int_equal(OPS(f)->log_query(f->st, 77, 0, 10, &got, &n), 0);
  assert_int_equal(n, 1); /* the log of an unknown device is kept */
  store_logs_free(got, n);

  /* Only states, only logs, nothing. */
  assert_int_equal(OPS(f)->write_batch(f->st, NULL, 0, states, 1), 0);
  assert_int_equal(OPS(f)->write_batch(f->st, logs, 1, NULL, 0), 0);
  assert_int_equal(OPS(f)->write_batch(f->st, NULL, 0, NULL, 0), 0);
  assert_int_equal(OPS(f)->write_batch(f->st, NULL, 2, NULL, 0), EF_EINVAL);
  struct store_log noevent = {.device_id = 1, .time = 5};
  assert_int_equal(OPS(f)->write_batch(f->st, &noevent, 1, NULL, 0), EF_EINVAL);
}

static void test_log_query(void **state) {
  struct fx *f = *state;
  st_add_logs(f->st, 1, 1, 10);
  st_add_logs(f->st, 2, 1, 4);
  struct store_log same[2] = {{.device_id = 1, .event = "x", .time = 20},
                              {.device_id = 1, .event = "y", .time = 20}};
  assert_int_equal(OPS(f)->write_batch(f->st, same, 2, NULL, 0), 0);

  struct store_log *got;
  size_t n;
  assert_int_equal(OPS(f)->log_query(f->st, 1, 0, 4, &got, &n), 0);
  assert_int_equal(n, 4);
  assert_string_equal(got[0].event, "y"); /* same time: newest (highest id) first */
  assert_string_equal(got[1].event, "x");
  assert_int_equal(got[2].time, 10);
  assert_int_equal(got[3].time, 9);
  store_logs_free(got, n);

  assert_int_equal(OPS(f)->log_query(f->st, 1, 8, 100, &got, &n), 0);
  assert_int_equal(n, 7);
  for (size_t i = 0; i < n; i++) assert_int_equal(got[i].time, 7 - (int64_t)i);
  store_logs_free(got, n);

  assert_int_equal(OPS(f)->log_query(f->st, 1, -5, SIZE_MAX, &got, &n), 0);
  assert_int_equal(n, 12);
  store_logs_free(got, n);
  assert_int_equal(OPS(f)->log_query(f->st, 1, 0, 0, &got, &n), 0);
  assert_int_equal(n, 0);
  store_logs_free(got, n);
  assert_int_equal(OPS(f)->log_query(f->st, 1, 1, 10, &got, &n), 0);
  assert_int_equal(n, 0);
  store_logs_free(got, n);
  assert_int_equal(OPS(f)->log_query(f->st, 3, 0, 10, &got, &n), 0);
  assert_int_equal(n, 0);
  assert_null(got);
  assert_int_equal(OPS(f)->log_query(f->st, 1, 0, 10, NULL, &n), EF_EINVAL);
}

static void test_log_prune(void **state) {
  struct fx *f = *state;
  st_add_logs(f->st, 1, 1, 10);
  st_add_logs(f->st, 2, 1, 4);
  uint64_t deleted = 99;
  assert_int_equal(OPS(f)->log_prune(f->st, 5, &deleted), 0);
  assert_int_equal(deleted, 8); /* times 1..4 of both devices */
  struct store_log *got;
  size_t n;
  assert_int_equal(OPS(f)->log_query(f->st, 1, 0, 100, &got, &n), 0);
  assert_int_equal(n, 6);
  assert_int_equal(got[n - 1].time, 5);
  store_logs_free(got, n);
  assert_int_equal(OPS(f)->log_prune(f->st, 5, &deleted), 0);
  assert_int_equal(deleted, 0);
  assert_int_equal(OPS(f)->log_prune(f->st, 1000, NULL), 0);
  for (uint64_t id = 1; id <= 2; id++) {
    assert_int_equal(OPS(f)->log_query(f->st, id, 0, 100, &got, &n), 0);
    assert_int_equal(n, 0);
    store_logs_free(got, n);
  }

  /* Ids are not reused after a prune. */
  struct store_log l = {.device_id = 1, .event = "e", .time = 2000};
  assert_int_equal(OPS(f)->write_batch(f->st, &l, 1, NULL, 0), 0);
  assert_true(l.log_id > 14);
}

/* ===== the audit log ===== */

/* Row i of a test log: token 1 "ops" or token 2 "ci" by parity, routes by thirds, equal times in
 * pairs (paging must not skip or repeat rows of the same ms). */
static void audit_fill(struct fx *f, size_t n) {
  static const char *const routes[] = {"device_add", "give_order", "group_delete"};
  struct store_audit *rows = ef_calloc(n, sizeof *rows);
  char target[32];
  for (size_t i = 0; i < n; i++) {
    snprintf(target, sizeof target, "device=%zu", 100 + i);
    rows[i] = (struct store_audit){.time = 1000 + (int64_t)(i / 2), .token_id = 1 + i % 2,
                                   .token_name = ef_strdup(i % 2 ? "ci" : "ops"),
                                   .route = ef_strdup(routes[i % 3]),
                                   .target = ef_strdup(target),
                                   .status = i % 4 == 3 ? 404 : 200,
                                   .outcome = ef_strdup(i % 4 == 3 ? "Device NOT FOUND." : "ok"),
                                   .peer = ef_strdup("127.0.0.1")};
  }
  assert_int_equal(OPS(f)->audit_append(f->st, rows, n), 0);
  for (size_t i = 1; i < n; i++) assert_true(rows[i].audit_id > rows[i - 1].audit_id);
  store_audits_free(rows, n);
}

static size_t audit_count(struct fx *f, const struct store_audit_filter *flt) {
  struct store_audit *got;
  size_t n;
  assert_int_equal(OPS(f)->audit_query(f->st, flt, &got, &n), 0);
  store_audits_free(got, n);
  return n;
}

static void test_audit_append_query(void **state) {
  struct fx *f = *state;
  struct store_audit_filter all = {0};
  assert_int_equal(audit_count(f, &all), 0);
  audit_fill(f, 12);

  struct store_audit *got;
  size_t n;
  assert_int_equal(OPS(f)->audit_query(f->st, &all, &got, &n), 0);
  assert_int_equal(n, 12);
  /* newest first, every member back */
  assert_string_equal(got[0].target, "device=111");
  assert_int_equal(got[0].time, 1005);
  assert_int_equal(got[0].token_id, 2);
  assert_string_equal(got[0].token_name, "ci");
  assert_string_equal(got[0].route, "group_delete");
  assert_int_equal(got[0].status, 404);
  assert_string_equal(got[0].outcome, "Device NOT FOUND.");
  assert_string_equal(got[0].peer, "127.0.0.1");
  for (size_t i = 1; i < n; i++) assert_true(got[i].audit_id < got[i - 1].audit_id);
  store_audits_free(got, n);

  /* filters */
  assert_int_equal(audit_count(f, &(struct store_audit_filter){.token = "ops"}), 6);
  assert_int_equal(audit_count(f, &(struct store_audit_filter){.token = "2"}), 6);
  assert_int_equal(audit_count(f, &(struct store_audit_filter){.token = "nobody"}), 0);
  assert_int_equal(audit_count(f, &(struct store_audit_filter){.route = "give_order"}), 4);
  assert_int_equal(audit_count(f, &(struct store_audit_filter){.target = "device=105"}), 1);
  assert_int_equal(audit_count(f, &(struct store_audit_filter){.since = 1002}), 8);
  assert_int_equal(audit_count(f, &(struct store_audit_filter){.until = 1002}), 4);
  assert_int_equal(audit_count(f, &(struct store_audit_filter){.since = 1001, .until = 1002}), 2);
  assert_int_equal(audit_count(f, &(struct store_audit_filter){.status_min = 400}), 3);
  assert_int_equal(
      audit_count(f, &(struct store_audit_filter){.status_min = 200, .status_max = 299}), 9);
  assert_int_equal(
      audit_count(f, &(struct store_audit_filter){.token = "ci", .route = "group_delete"}), 2);
  assert_int_equal(audit_count(f, &(struct store_audit_filter){.limit = 5}), 5);

  /* bad calls */
  assert_int_equal(OPS(f)->audit_query(f->st, NULL, &got, &n), EF_EINVAL);
  struct store_audit bad = {.route = "x"};
  assert_int_equal(OPS(f)->audit_append(f->st, &bad, 1), EF_EINVAL);
  assert_int_equal(OPS(f)->audit_append(f->st, NULL, 0), 0);
  assert_int_equal(audit_count(f, &all), 12);
}

/* Pages of 5 by the audit_id cursor cover every row once, although times repeat. */
static void test_audit_paging(void **state) {
  struct fx *f = *state;
  audit_fill(f, 23);
  bool seen[23] = {false};
  size_t total = 0, pages = 0;
  uint64_t cursor = 0;
  for (;;) {
    struct store_audit *got;
    size_t n;
    struct store_audit_filter flt = {.before_id = cursor, .limit = 5};
    assert_int_equal(OPS(f)->audit_query(f->st, &flt, &got, &n), 0);
    pages++;
    for (size_t i = 0; i < n; i++) {
      int k = atoi(got[i].target + strlen("device=")) - 100;
      assert_true(k >= 0 && k < 23);
      assert_false(seen[k]);
      seen[k] = true;
    }
    total += n;
    if (n) cursor = got[n - 1].audit_id;
    store_audits_free(got, n);
    if (n < 5) break;
  }
  assert_int_equal(total, 23);
  assert_int_equal(pages, 5);
}

static void test_audit_prune(void **state) {
  struct fx *f = *state;
  audit_fill(f, 20); /* times 1000..1009, two rows each */
  uint64_t deleted = 99;
  /* bounded: at most 3 a call, the oldest first */
  assert_int_equal(OPS(f)->audit_prune(f->st, 1004, 3, &deleted), 0);
  assert_int_equal(deleted, 3);
  assert_int_equal(OPS(f)->audit_prune(f->st, 1004, 3, &deleted), 0);
  assert_int_equal(deleted, 3);
  assert_int_equal(OPS(f)->audit_prune(f->st, 1004, 3, &deleted), 0);
  assert_int_equal(deleted, 2); /* fewer than asked: nothing older is left */
  assert_int_equal(audit_count(f, &(struct store_audit_filter){0}), 12);
  assert_int_equal(audit_count(f, &(struct store_audit_filter){.until = 1004}), 0);
  assert_int_equal(OPS(f)->audit_prune(f->st, 1004, 100, &deleted), 0);
  assert_int_equal(deleted, 0);
  assert_int_equal(OPS(f)->audit_prune(f->st, 5000, 0, &deleted), 0);
  assert_int_equal(deleted, 0);
  assert_int_equal(OPS(f)->audit_prune(f->st, 5000, 1000, NULL), 0);
  assert_int_equal(audit_count(f, &(struct store_audit_filter){0}), 0);
  /* Ids are not reused after a prune: a cursor stays meaningful. */
  struct store_audit a = {.time = 1, .route = "r", .outcome = "ok"};
  assert_int_equal(OPS(f)->audit_append(f->st, &a, 1), 0);
  assert_true(a.audit_id > 20);
}

/* ===== the alert log and the alert engine's state ===== */

/* Row i: rules by parity ("r0", "r1"), fingerprints by thirds, events firing/resolved by parity
 * of i/2, equal times in pairs; the entry holds i. */
static void alert_fill(struct fx *f, size_t n) {
  struct store_alert_log *rows = ef_calloc(n, sizeof *rows);
  char buf[64];
  for (size_t i = 0; i < n; i++) {
    rows[i].time = 2000 + (int64_t)(i / 2);
    rows[i].event = ef_strdup(i / 2 % 2 ? "resolved" : "firing");
    snprintf(buf, sizeof buf, "r%zu", i % 2);
    rows[i].rule = ef_strdup(buf);
    snprintf(buf, sizeof buf, "r%zu|device=%zu", i % 2, i % 3);
    rows[i].fingerprint = ef_strdup(buf);
    snprintf(buf, sizeof buf, "{\"i\":%zu}", i);
    rows[i].entry = ef_strdup(buf);
  }
  assert_int_equal(OPS(f)->alert_write(f->st, rows, n, NULL, 0), 0);
  for (size_t i = 1; i < n; i++) assert_true(rows[i].log_id > rows[i - 1].log_id);
  store_alert_logs_free(rows, n);
}

static size_t alert_count(struct fx *f, const struct store_alert_log_filter *flt) {
  struct store_alert_log *got;
  size_t n;
  assert_int_equal(OPS(f)->alert_log_query(f->st, flt, &got, &n), 0);
  store_alert_logs_free(got, n);
  return n;
}

static void test_alert_log(void **state) {
  struct fx *f = *state;
  struct store_alert_log_filter all = {0};
  assert_int_equal(alert_count(f, &all), 0);
  alert_fill(f, 12);
  struct store_alert_log *got;
  size_t n;
  assert_int_equal(OPS(f)->alert_log_query(f->st, &all, &got, &n), 0);
  assert_int_equal(n, 12);
  /* newest first, every member back */
  assert_string_equal(got[0].entry, "{\"i\":11}");
  assert_int_equal(got[0].time, 2005);
  assert_string_equal(got[0].event, "resolved");
  assert_string_equal(got[0].rule, "r1");
  assert_string_equal(got[0].fingerprint, "r1|device=2");
  for (size_t i = 1; i < n; i++) assert_true(got[i].log_id < got[i - 1].log_id);
  store_alert_logs_free(got, n);
  /* filters */
  assert_int_equal(alert_count(f, &(struct store_alert_log_filter){.rule = "r0"}), 6);
  assert_int_equal(alert_count(f, &(struct store_alert_log_filter){.fingerprint = "r0|device=0"}),
                   2);
  assert_int_equal(alert_count(f, &(struct store_alert_log_filter){.event = "firing"}), 6);
  assert_int_equal(alert_count(f, &(struct store_alert_log_filter){.rule = "r1",
                                                                   .event = "firing"}), 3);
  assert_int_equal(alert_count(f, &(struct store_alert_log_filter){.since = 2002}), 8);
  assert_int_equal(alert_count(f, &(struct store_alert_log_filter){.until = 2002}), 4);
  assert_int_equal(alert_count(f, &(struct store_alert_log_filter){.since = 2001, .until = 2002}),
                   2);
  assert_int_equal(alert_count(f, &(struct store_alert_log_filter){.rule = "nope"}), 0);
  assert_int_equal(alert_count(f, &(struct store_alert_log_filter){.limit = 5}), 5);
  /* pages of 5 by the cursor: every row once, although times repeat */
  bool seen[12] = {false};
  size_t total = 0;
  uint64_t cursor = 0;
  for (;;) {
    struct store_alert_log_filter flt = {.before_id = cursor, .limit = 5};
    assert_int_equal(OPS(f)->alert_log_query(f->st, &flt, &got, &n), 0);
    for (size_t i = 0; i < n; i++) {
      int k = atoi(got[i].entry + strlen("{\"i\":"));
      assert_true(k >= 0 && k < 12);
      assert_false(seen[k]);
      seen[k] = true;
    }
    total += n;
    if (n) cursor = got[n - 1].log_id;
    store_alert_logs_free(got, n);
    if (n < 5) break;
  }
  assert_int_equal(total, 12);
  /* bad calls change nothing */
  assert_int_equal(OPS(f)->alert_log_query(f->st, NULL, &got, &n), EF_EINVAL);
  struct store_alert_log bad = {.event = "firing"};
  assert_int_equal(OPS(f)->alert_write(f->st, &bad, 1, "{}", 1), EF_EINVAL);
  char *doc = NULL;
  assert_int_equal(OPS(f)->alert_state_get(f->st, &doc), EF_ENOENT);
  assert_null(doc);
  assert_int_equal(OPS(f)->alert_write(f->st, NULL, 0, NULL, 0), 0);
  assert_int_equal(alert_count(f, &all), 12);
}

static void test_alert_state(void **state) {
  struct fx *f = *state;
  char *doc = NULL;
  assert_int_equal(OPS(f)->alert_state_get(f->st, &doc), EF_ENOENT);
  /* a state alone, then a state with rows: the newest state replaces the last */
  assert_int_equal(OPS(f)->alert_write(f->st, NULL, 0, "{\"alerts\":[]}", 10), 0);
  assert_int_equal(OPS(f)->alert_state_get(f->st, &doc), 0);
  assert_string_equal(doc, "{\"alerts\":[]}");
  ef_free(doc);
  struct store_alert_log row = {.time = 5, .event = ef_strdup("silenced"),
                                .entry = ef_strdup("{\"silence\":1}")};
  assert_int_equal(OPS(f)->alert_write(f->st, &row, 1, "{\"silences\":[1]}", 11), 0);
  assert_true(row.log_id > 0);
  store_alert_log_clear(&row);
  assert_int_equal(OPS(f)->alert_state_get(f->st, &doc), 0);
  assert_string_equal(doc, "{\"silences\":[1]}");
  ef_free(doc);
  /* rows without a state keep it */
  alert_fill(f, 2);
  assert_int_equal(OPS(f)->alert_state_get(f->st, &doc), 0);
  assert_string_equal(doc, "{\"silences\":[1]}");
  ef_free(doc);
  struct store_alert_log *got;
  size_t n;
  assert_int_equal(OPS(f)->alert_log_query(f->st, &(struct store_alert_log_filter){
                                                      .event = "silenced"}, &got, &n), 0);
  assert_int_equal(n, 1);
  assert_null(got[0].rule);
  assert_null(got[0].fingerprint);
  store_alert_logs_free(got, n);
  /* a failed write (a bad row) keeps the old state too */
  struct store_alert_log bad = {.entry = "{}"};
  assert_int_equal(OPS(f)->alert_write(f->st, &bad, 1, "{\"x\":1}", 12), EF_EINVAL);
  assert_int_equal(OPS(f)->alert_state_get(f->st, &doc), 0);
  assert_string_equal(doc, "{\"silences\":[1]}");
  ef_free(doc);
}

static void test_alert_log_prune(void **state) {
  struct fx *f = *state;
  alert_fill(f, 20); /* times 2000..2009, two rows each */
  uint64_t deleted = 99;
  assert_int_equal(OPS(f)->alert_log_prune(f->st, 2004, 3, &deleted), 0);
  assert_int_equal(deleted, 3);
  assert_int_equal(OPS(f)->alert_log_prune(f->st, 2004, 3, &deleted), 0);
  assert_int_equal(deleted, 3);
  assert_int_equal(OPS(f)->alert_log_prune(f->st, 2004, 3, &deleted), 0);
  assert_int_equal(deleted, 2);
  assert_int_equal(alert_count(f, &(struct store_alert_log_filter){0}), 12);
  assert_int_equal(alert_count(f, &(struct store_alert_log_filter){.until = 2004}), 0);
  assert_int_equal(OPS(f)->alert_log_prune(f->st, 9000, 0, &deleted), 0);
  assert_int_equal(deleted, 0);
  assert_int_equal(OPS(f)->alert_log_prune(f->st, 9000, 1000, NULL), 0);
  assert_int_equal(alert_count(f, &(struct store_alert_log_filter){0}), 0);
  /* ids are not reused after a prune: a cursor stays meaningful */
  struct store_alert_log l = {.time = 1, .event = "firing", .entry = "{}"};
  assert_int_equal(OPS(f)->alert_write(f->st, &l, 1, NULL, 0), 0);
  assert_true(l.log_id > 20);
}

/* ===== API tokens and miner records ===== */

static void test_tokens(void **state) {
  struct fx *f = *state;
  struct store_token *arr;
  size_t n;
  assert_int_equal(OPS(f)->token_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 0);
  store_tokens_free(arr, n);

  struct store_token a = {.token_id = 2, .name = "ops", .scope = "admin", .token_hash = "h1",
                          .created_time = 1};
  struct store_token b = {.token_id = 1, .name = NULL, .scope = "read", .token_hash = "h2",
                          .created_time = 2, .groups = "5,6", .expires_time = 99};
  assert_int_equal(OPS(f)->token_add(f->st, &a), 0);
  assert_int_equal(OPS(f)->token_add(f->st, &b), 0);
  struct store_token dup = {.token_id = 3, .scope = "read", .token_hash = "h1"};
  assert_int_equal(OPS(f)->token_add(f->st, &dup), EF_EEXIST);
  struct store_token nohash = {.token_id = 4, .scope = "read"};
  assert_int_equal(OPS(f)->token_add(f->st, &nohash), EF_EINVAL);
  struct store_token noscope = {.token_id = 4, .token_hash = "h4"};
  assert_int_equal(OPS(f)->token_add(f->st, &noscope), EF_EINVAL);
  assert_int_equal(OPS(f)->token_add(f->st, NULL), EF_EINVAL);

  assert_int_equal(OPS(f)->token_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(arr[0].token_id, 1);
  assert_null(arr[0].name);
  assert_string_equal(arr[0].scope, "read");
  assert_string_equal(arr[0].groups, "5,6");
  assert_int_equal(arr[0].expires_time, 99);
  assert_int_equal(arr[0].last_used_time, 0);
  assert_string_equal(arr[1].name, "ops");
  assert_string_equal(arr[1].scope, "admin");
  assert_null(arr[1].groups);
  assert_int_equal(arr[1].expires_time, 0);
  assert_string_equal(arr[1].token_hash, "h1");
  assert_int_equal(arr[1].created_time, 1);
  store_tokens_free(arr, n);

  /* Last uses: in one call, never backwards, unknown ids skipped. */
  uint64_t ids[] = {1, 2, 77};
  int64_t times[] = {500, 700, 900};
  assert_int_equal(OPS(f)->token_touch(f->st, ids, times, 3), 0);
  int64_t older[] = {400};
  assert_int_equal(OPS(f)->token_touch(f->st, ids, older, 1), 0);
  assert_int_equal(OPS(f)->token_touch(f->st, NULL, NULL, 0), 0);
  assert_int_equal(OPS(f)->token_touch(f->st, NULL, NULL, 1), EF_EINVAL);
  assert_int_equal(OPS(f)->token_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(arr[0].last_used_time, 500);
  assert_int_equal(arr[1].last_used_time, 700);
  store_tokens_free(arr, n);

  /* Revoke: the row goes; a second time, or an unknown id, is EF_ENOENT. */
  assert_int_equal(OPS(f)->token_delete(f->st, 1), 0);
  assert_int_equal(OPS(f)->token_delete(f->st, 1), EF_ENOENT);
  assert_int_equal(OPS(f)->token_delete(f->st, 77), EF_ENOENT);
  assert_int_equal(OPS(f)->token_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(arr[0].token_id, 2);
  store_tokens_free(arr, n);
}

static void test_miners(void **state) {
  struct fx *f = *state;
  struct store_miner *arr;
  size_t n;
  struct store_miner rows[] = {
      {.miner_id = "f01234", .record = "{\"minerBalance\":\"1 FIL\"}", .device_id = 7,
       .updated_time = 10},
      {.miner_id = "f01234", .host_name = "w2", .record = "{\"cpu\":1}", .device_id = 7,
       .updated_time = 10},
      {.miner_id = "f01234", .host_name = "w1", .record = "{\"cpu\":2}", .device_id = 7,
       .updated_time = 10},
      {.miner_id = "f0999", .record = "{}", .device_id = 8, .updated_time = 11},
  };
  assert_int_equal(OPS(f)->miner_write(f->st, rows, 4), 0);
  /* Upsert one worker, delete another, update the miner. */
  struct store_miner upd[] = {
      {.miner_id = "f01234", .record = "{\"minerBalance\":\"2 FIL\"}", .device_id = 9,
       .updated_time = 20},
      {.miner_id = "f01234", .host_name = "w2", .record = NULL},
      {.miner_id = "f01234", .host_name = "w1", .record = "{\"cpu\":3}", .device_id = 9,
       .updated_time = 20},
  };
  assert_int_equal(OPS(f)->miner_write(f->st, upd, 3), 0);
  reopen(f);
  assert_int_equal(OPS(f)->miner_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 3); /* two miners first, then worker w1 */
  assert_string_equal(arr[0].miner_id, "f01234");
  assert_null(arr[0].host_name);
  assert_string_equal(arr[0].record, "{\"minerBalance\":\"2 FIL\"}");
  assert_int_equal(arr[0].device_id, 9);
  assert_int_equal(arr[0].updated_time, 20);
  assert_string_equal(arr[1].miner_id, "f0999");
  assert_string_equal(arr[2].host_name, "w1");
  assert_string_equal(arr[2].record, "{\"cpu\":3}");
  store_miners_free(arr, n);

  /* Bad rows change nothing. */
  struct store_miner bad[] = {{.miner_id = "f0777", .record = "{}"}, {.miner_id = NULL}};
  assert_int_equal(OPS(f)->miner_write(f->st, bad, 2), EF_EINVAL);
  struct store_miner norec[] = {{.miner_id = "f0777"}};
  assert_int_equal(OPS(f)->miner_write(f->st, norec, 1), EF_EINVAL);
  assert_int_equal(OPS(f)->miner_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 3);
  store_miners_free(arr, n);
}

/* ===== speed (printed, not asserted) ===== */

static void test_timing(void **state) {
  struct fx *f = *state;
  enum { NDEV = 20000, NLOG = 2000, NSTATE = 500 };
  struct store_device *ds = ef_calloc(NDEV, sizeof *ds);
  for (size_t i = 0; i < NDEV; i++) {
    ds[i] = st_dev(1000000 + i, NULL, "T1000");
    ds[i].hardware_sn = ef_asprintf("SN%08zu", i);
    ds[i].device_name = ds[i].hardware_sn;
  }
  double t0 = now_s();
  size_t failed;
  assert_int_equal(OPS(f)->device_add_batch(f->st, ds, NDEV, &failed), 0);
  double t_batch = now_s() - t0;

  struct store_log *logs = ef_calloc(NLOG, sizeof *logs);
  struct store_state *states = ef_calloc(NSTATE, sizeof *states);
  for (size_t i = 0; i < NLOG; i++)
    logs[i] = (struct store_log){.device_id = 1000000 + i % NDEV, .event = "status_upload",
                                 .detail = "{\"cpu\":12.5,\"mem\":40.1}", .result = "success",
                                 .time = 5000 + (int64_t)i};
  for (size_t i = 0; i < NSTATE; i++)
    states[i] = (struct store_state){.device_id = 1000000 + i * 7, .state = "online",
                                     .time = 6000};
  t0 = now_s();
  assert_int_equal(OPS(f)->write_batch(f->st, logs, NLOG, states, NSTATE), 0);
  double t_write = now_s() - t0;

  t0 = now_s();
  struct store_device *all;
  size_t n;
  assert_int_equal(OPS(f)->device_list(f->st, &all, &n), 0);
  double t_list = now_s() - t0;
  assert_int_equal(n, NDEV);
  assert_string_equal(all[7].dev_state, "online");
  store_devices_free(all, n);

  printf("[ timing ] device_add_batch(%d): %.1f ms; write_batch(%d logs + %d states): %.2f ms; "
         "device_list(%d): %.1f ms\n",
         NDEV, t_batch * 1e3, NLOG, NSTATE, t_write * 1e3, NDEV, t_list * 1e3);

  for (size_t i = 0; i < NDEV; i++) ef_free(ds[i].hardware_sn);
  ef_free(ds);
  ef_free(logs);
  ef_free(states);
}

/* History rows (docs/history.md): upsert by (owner, tier, time), a range of one owner oldest
 * first, a tier's rows of all owners by owner then time, bounded pruning of one tier. */
static void test_history(void **state) {
  struct fx *f = *state;
  struct store_hist rows[] = {
      {.owner = "d:1", .tier = 0, .time = 30, .data = "{\"cpu\":3}"},
      {.owner = "d:1", .tier = 0, .time = 10, .data = "{\"cpu\":1}"},
      {.owner = "d:1", .tier = 0, .time = 20, .data = "{\"cpu\":2}"},
      {.owner = "m:f01", .tier = 0, .time = 15, .data = "{\"faults\":0}"},
      {.owner = "d:1", .tier = 1, .time = 0, .data = "{\"cpu\":[1,2,3,3]}"},
  };
  assert_int_equal(OPS(f)->hist_write(f->st, rows, 5), 0);
  struct store_hist upd = {.owner = "d:1", .tier = 0, .time = 20, .data = "{\"cpu\":22}"};
  assert_int_equal(OPS(f)->hist_write(f->st, &upd, 1), 0);
  struct store_hist *arr;
  size_t n;
  assert_int_equal(OPS(f)->hist_query(f->st, "d:1", 0, 0, 100, 0, &arr, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(arr[0].time, 10);
  assert_string_equal(arr[1].data, "{\"cpu\":22}");
  assert_int_equal(arr[2].time, 30);
  assert_int_equal(arr[2].tier, 0);
  store_hists_free(arr, n);
  /* from <= time < to, and the limit */
  assert_int_equal(OPS(f)->hist_query(f->st, "d:1", 0, 10, 30, 1, &arr, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(arr[0].time, 10);
  store_hists_free(arr, n);
  assert_int_equal(OPS(f)->hist_query(f->st, "d:2", 0, 0, 100, 0, &arr, &n), 0);
  assert_int_equal(n, 0);
  store_hists_free(arr, n);
  assert_int_equal(OPS(f)->hist_range(f->st, 0, 10, 25, &arr, &n), 0);
  assert_int_equal(n, 3);
  assert_string_equal(arr[0].owner, "d:1");
  assert_int_equal(arr[1].time, 20);
  assert_string_equal(arr[2].owner, "m:f01");
  store_hists_free(arr, n);
  uint64_t del = 0;
  assert_int_equal(OPS(f)->hist_prune(f->st, 0, 25, 2, &del), 0);
  assert_int_equal(del, 2); /* the two oldest raw rows: 10 and 15 */
  assert_int_equal(OPS(f)->hist_prune(f->st, 0, 25, 10, &del), 0);
  assert_int_equal(del, 1);
  assert_int_equal(OPS(f)->hist_range(f->st, 0, 0, 100, &arr, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(arr[0].time, 30);
  store_hists_free(arr, n);
  /* the other tier is untouched */
  assert_int_equal(OPS(f)->hist_query(f->st, "d:1", 1, 0, 100, 0, &arr, &n), 0);
  assert_int_equal(n, 1);
  store_hists_free(arr, n);
  /* a row without data is refused and changes nothing */
  struct store_hist bad[] = {{.owner = "d:9", .time = 1, .data = "{}"}, {.owner = "d:9"}};
  assert_int_equal(OPS(f)->hist_write(f->st, bad, 2), EF_EINVAL);
  assert_int_equal(OPS(f)->hist_query(f->st, "d:9", 0, 0, 100, 0, &arr, &n), 0);
  assert_int_equal(n, 0);
  store_hists_free(arr, n);
}

int main(int argc, char **argv) {
  g_url = argc > 1 ? argv[1] : getenv("EF_STORE_URL");
  if (g_url && !g_url[0]) g_url = NULL;
  if (g_url) {
    g_reset = getenv("EF_STORE_RESET");
    if (!g_reset || !g_reset[0]) {
      fprintf(stderr, "test_store: a store URL needs EF_STORE_RESET, a shell command that "
                      "empties that database before each test (see the top of test_store.c)\n");
      return 2;
    }
    setenv("EF_STORE_URL", g_url, 1); /* for the reset command */
    /* The scheme only: a URL may carry a password. */
    const char *colon = strchr(g_url, ':');
    printf("[ store    ] contract on %.*s (reset before each test)\n",
           colon ? (int)(colon - g_url + 1) : 0, g_url);
  } else {
    printf("[ store    ] contract on sqlite: (a new file per test)\n");
  }
  const struct CMUnitTest tests[] = {
#define T_(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
      T_(test_reopen_keeps_data),
      T_(test_device_roundtrip),
      T_(test_device_null_fields),
      T_(test_device_duplicates_and_missing),
      T_(test_device_list_order),
      T_(test_device_count),
      T_(test_device_update),
      T_(test_device_delete_cascades),
      T_(test_device_token),
      T_(test_device_verifier),
      T_(test_device_all_offline),
      T_(test_device_batch),
      T_(test_groups),
      T_(test_relations),
      T_(test_write_batch),
      T_(test_log_query),
      T_(test_log_prune),
      T_(test_audit_append_query),
      T_(test_audit_paging),
      T_(test_audit_prune),
      T_(test_alert_log),
      T_(test_alert_state),
      T_(test_alert_log_prune),
      T_(test_tokens),
      T_(test_miners),
      T_(test_history),
      T_(test_timing),
#undef T_
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
