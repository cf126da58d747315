/* test_store.c -- unit tests of the store interface (store.c) and its SQLite backend.
 *
 * Each test gets a fresh database in its own mkdtemp() directory, removed afterwards. Some
 * tests open the file with sqlite3 directly to set up what the store alone cannot (a newer
 * schema version, a dropped column, a failing trigger, a damaged page), or run in a forked
 * child under a file size limit (no space left).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "edgefleet/error.h"
#include "forkrun.h"
#include "mem.h"
#include "store.h"

struct fx {
  char dir[PATH_MAX];
  char path[PATH_MAX + 32];
  struct store *st;
};

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}

static int setup(void **state) {
  struct fx *f = ef_calloc(1, sizeof *f);
  const char *tmp = getenv("TMPDIR");
  snprintf(f->dir, sizeof f->dir, "%s/ef-store-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  if (!mkdtemp(f->dir)) return -1;
  snprintf(f->path, sizeof f->path, "%s/edgefleet.db", f->dir);
  char url[sizeof f->path + 8], err[256];
  snprintf(url, sizeof url, "sqlite:%s", f->path);
  int rc = store_open(url, &f->st, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "store_open: %s\n", err);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fx *f = *state;
  store_close(&f->st);
  chmod(f->dir, 0700);
  nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
  ef_free(f);
  return 0;
}

/* Reopen the fixture's database (after a raw change to the file). */
static int reopen(struct fx *f, char *err, size_t errlen) {
  store_close(&f->st);
  return store_open(f->path, &f->st, err, errlen);
}

static void raw_exec(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) fprintf(stderr, "raw_exec(%s): %s\n", sql, msg);
  sqlite3_free(msg);
  assert_int_equal(rc, SQLITE_OK);
  sqlite3_close(db);
}

static long long raw_int(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  long long v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

static struct store_device dev(uint64_t id, const char *sn, const char *model) {
  struct store_device d = {0};
  d.device_id = id;
  d.hardware_sn = (char *)sn;
  d.hardware_model = (char *)model;
  d.password = "$2b$10$hash";
  d.created_time = 1000;
  d.updated_time = 1000;
  return d;
}

static struct store_group grp(uint64_t id, const char *name) {
  struct store_group g = {0};
  g.group_id = id;
  g.group_name = (char *)name;
  g.group_description = "a group";
  g.created_time = 2000;
  g.updated_time = 2000;
  return g;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define OPS(f) ((f)->st->ops)

/* ===== open, URL, migrations ===== */

static void test_open_bad_urls(void **state) {
  (void)state;
  struct store *st = (struct store *)0x1;
  char err[256];

  assert_int_equal(store_open("foo:bar.db", &st, err, sizeof err), EF_ECONFIG);
  assert_null(st);
  assert_non_null(strstr(err, "foo:"));
  assert_non_null(strstr(err, "sqlite:"));

  /* The scheme is named, never the URL (it may hold a password). */
  assert_int_equal(store_open("postgresql://u:s3cret@db/ef", &st, err, sizeof err), EF_ECONFIG);
  assert_null(strstr(err, "s3cret"));
  assert_non_null(strstr(err, "postgresql:"));

  assert_int_equal(store_open("", &st, err, sizeof err), EF_ECONFIG);
  assert_true(err[0] != '\0');
  assert_int_equal(store_open(NULL, &st, err, sizeof err), EF_ECONFIG);
  assert_int_equal(store_open("sqlite:", &st, err, sizeof err), EF_ECONFIG);
  assert_true(err[0] != '\0');
  assert_int_equal(store_open("sqlite:x.db", NULL, err, sizeof err), EF_EINVAL);
  /* err may be absent. */
  assert_int_equal(store_open("nope:x", &st, NULL, 0), EF_ECONFIG);
}

static void test_open_url_forms(void **state) {
  struct fx *f = *state;
  char url[PATH_MAX + 64], err[256];
  struct store *st = NULL;
  const char *forms[] = {"%s/bare.db", "sqlite:%s/colon.db", "sqlite://%s/slashes.db",
                         "SQLite:%s/case.db"};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    snprintf(url, sizeof url, forms[i], f->dir);
    assert_int_equal(store_open(url, &st, err, sizeof err), 0);
    assert_ptr_equal(st->ops, &store_sqlite_ops);
    struct store_device d = dev(1, "sn", "m");
    assert_int_equal(st->ops->device_add(st, &d), 0);
    store_close(&st);
    assert_null(st);
  }
  struct stat sb;
  snprintf(url, sizeof url, "%s/slashes.db", f->dir);
  assert_int_equal(stat(url, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600); /* holds password hashes */
  store_close(&st); /* NULL is fine */
  store_close(NULL);
}

static void test_open_bad_paths(void **state) {
  struct fx *f = *state;
  char path[PATH_MAX + 64], err[256];
  struct store *st = NULL;

  /* Missing directory. */
  snprintf(path, sizeof path, "%s/no/such/dir/x.db", f->dir);
  assert_int_equal(store_open(path, &st, err, sizeof err), EF_EDB);
  assert_null(st);
  assert_non_null(strstr(err, "directory must exist"));

  /* Parent is a regular file. */
  snprintf(path, sizeof path, "%s/edgefleet.db/x.db", f->dir);
  assert_int_equal(store_open(path, &st, err, sizeof err), EF_EDB);
  assert_true(err[0] != '\0');

  /* The path is a directory. */
  assert_int_equal(store_open(f->dir, &st, err, sizeof err), EF_EDB);
  assert_true(err[0] != '\0');

  /* A file that is not a database. */
  snprintf(path, sizeof path, "%s/junk.db", f->dir);
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  for (int i = 0; i < 200; i++) fputs("this is not a database at all\n", fp);
  fclose(fp);
  assert_int_equal(store_open(path, &st, err, sizeof err), EF_ECORRUPT);
  assert_non_null(strstr(err, "not a database"));
  assert_int_equal(access(path, F_OK), 0); /* not ours: left in place */

  /* An unwritable directory. Root may write anywhere but in sysfs. */
  if (geteuid() == 0) {
    if (access("/sys/kernel", F_OK) == 0) {
      assert_int_equal(store_open("/sys/ef-store-test.db", &st, err, sizeof err), EF_EDB);
      assert_true(err[0] != '\0');
    }
  } else {
    char sub[PATH_MAX + 16];
    snprintf(sub, sizeof sub, "%s/ro", f->dir);
    assert_int_equal(mkdir(sub, 0500), 0);
    snprintf(path, sizeof path, "%s/x.db", sub);
    assert_int_equal(store_open(path, &st, err, sizeof err), EF_EDB);
    assert_non_null(strstr(err, "ermission"));
  }
  assert_null(st);
}

static void test_reopen_keeps_data(void **state) {
  struct fx *f = *state;
  char err[256];
  struct store_device d = dev(42, "SN42", "M1");
  d.device_name = "kept";
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  struct store_group g = grp(7, "g7");
  assert_int_equal(OPS(f)->group_add(f->st, &g), 0);
  assert_int_equal(OPS(f)->relation_add(f->st, 42, 7, 3000), 0);

  assert_int_equal(reopen(f, err, sizeof err), 0);
  assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);
  assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name='devices'"),
                   1);

  /* A version-1 database (before miner records) is migrated to 2 with its data. */
  store_close(&f->st);
  raw_exec(f->path, "DROP TABLE miner_info; DROP TABLE worker_info; PRAGMA user_version = 1");
  assert_int_equal(reopen(f, err, sizeof err), 0);
  assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);
  assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name='miner_info'"),
                   1);

  struct store_device out;
  assert_int_equal(OPS(f)->device_get(f->st, 42, &out), 0);
  assert_string_equal(out.device_name, "kept");
  store_device_clear(&out);
  bool in;
  assert_int_equal(OPS(f)->relation_exists(f->st, 42, 7, &in), 0);
  assert_true(in);
}

static void test_wal_mode(void **state) {
  struct fx *f = *state;
  sqlite3 *db = NULL;
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
  sqlite3_finalize(q);
  sqlite3_close(db);
}

static void test_newer_schema_refused(void **state) {
  struct fx *f = *state;
  char err[256];
  store_close(&f->st);
  raw_exec(f->path, "PRAGMA user_version = 99");
  assert_int_equal(store_open(f->path, &f->st, err, sizeof err), EF_EDB);
  assert_null(f->st);
  assert_non_null(strstr(err, "newer"));
  assert_non_null(strstr(err, "99"));
  /* Untouched. */
  assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 99);
}

static void test_unknown_tables_refused(void **state) {
  struct fx *f = *state;
  char path[PATH_MAX + 64], err[256];
  struct store *st = NULL;
  /* A version-0 database that already has its own `devices`: migration 1 fails, cleanly. */
  snprintf(path, sizeof path, "%s/other.db", f->dir);
  raw_exec(path, "CREATE TABLE devices (x INTEGER)");
  assert_int_equal(store_open(path, &st, err, sizeof err), EF_EDB);
  assert_null(st);
  assert_non_null(strstr(err, "migrate"));
  assert_int_equal(raw_int(path, "PRAGMA user_version"), 0);
  assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name='group_info'"), 0);
}

static void test_missing_column_added(void **state) {
  struct fx *f = *state;
  char err[256];
  store_close(&f->st);
  raw_exec(f->path, "ALTER TABLE devices DROP COLUMN lte_imei");
  assert_int_equal(
      raw_int(f->path, "SELECT count(*) FROM pragma_table_info('devices') WHERE name='lte_imei'"),
      0);
  assert_int_equal(store_open(f->path, &f->st, err, sizeof err), 0);
  struct store_device d = dev(5, "s", "m"), out;
  d.lte_imei = "861234567890123";
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  assert_int_equal(OPS(f)->device_get(f->st, 5, &out), 0);
  assert_string_equal(out.lte_imei, "861234567890123");
  store_device_clear(&out);
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
  struct store_device d = dev(1001, NULL, NULL), out;
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
  struct store_device big = dev(UINT64_MAX - 5, "big", "m");
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
  struct store_device d = dev(1, "SN1", "M1"), out;
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);

  struct store_device same_pair = dev(2, "SN1", "M1");
  assert_int_equal(OPS(f)->device_add(f->st, &same_pair), EF_EEXIST);
  assert_non_null(strstr(store_errmsg(f->st), "UNIQUE"));
  struct store_device same_id = dev(1, "SN9", "M9");
  assert_int_equal(OPS(f)->device_add(f->st, &same_id), EF_EEXIST);
  struct store_device other_model = dev(3, "SN1", "M2");
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
    struct store_device d = dev(ids[i], sn[i], "m");
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

static void test_device_update(void **state) {
  struct fx *f = *state;
  struct store_device d = dev(1, "SN1", "M1"), out;
  d.device_name = "old";
  d.dev_description = "desc";
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  struct store_device d2 = dev(2, "SN2", "M2");
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

static void add_logs(struct fx *f, uint64_t device_id, int from, int to) {
  struct store_log logs[64];
  size_t n = 0;
  for (int t = from; t <= to; t++) {
    logs[n] = (struct store_log){.device_id = device_id, .event = "heartbeat", .time = t};
    n++;
  }
  assert_int_equal(OPS(f)->write_batch(f->st, logs, n, NULL, 0), 0);
}

static void test_device_delete_cascades(void **state) {
  struct fx *f = *state;
  struct store_device a = dev(1, "A", "m"), b = dev(2, "B", "m");
  assert_int_equal(OPS(f)->device_add(f->st, &a), 0);
  assert_int_equal(OPS(f)->device_add(f->st, &b), 0);
  struct store_group g = grp(10, "g");
  assert_int_equal(OPS(f)->group_add(f->st, &g), 0);
  assert_int_equal(OPS(f)->relation_add(f->st, 1, 10, 1), 0);
  assert_int_equal(OPS(f)->relation_add(f->st, 2, 10, 1), 0);
  add_logs(f, 1, 1, 5);
  add_logs(f, 2, 1, 3);

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
  struct store_device c = dev(3, "C", "m");
  assert_int_equal(OPS(f)->device_add(f->st, &c), 0);
}

static void test_device_token(void **state) {
  struct fx *f = *state;
  struct store_device d = dev(1, "A", "m"), out;
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

static void test_device_all_offline(void **state) {
  struct fx *f = *state;
  struct store_device a = dev(1, "A", "m"), b = dev(2, "B", "m"), c = dev(3, "C", "m");
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
    ds[i] = dev(100 + (uint64_t)i, sn[i], "m");
  }
  size_t failed = 77;
  assert_int_equal(OPS(f)->device_add_batch(f->st, ds, 100, &failed), 0);
  assert_int_equal(OPS(f)->device_add_batch(f->st, ds, 0, &failed), 0);

  /* A second batch whose 6th record collides with the first: nothing of it stays. */
  struct store_device more[10];
  char sn2[10][16];
  for (int i = 0; i < 10; i++) {
    snprintf(sn2[i], sizeof sn2[i], "C%03d", i);
    more[i] = dev(1000 + (uint64_t)i, sn2[i], "m");
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
  assert_int_equal(raw_int(f->path, "SELECT count(*) FROM devices"), 100);

  /* Fixed, it goes in whole. */
  more[8].device_id = 2000;
  assert_int_equal(OPS(f)->device_add_batch(f->st, more, 10, &failed), 0);
  assert_int_equal(raw_int(f->path, "SELECT count(*) FROM devices"), 110);
  assert_int_equal(OPS(f)->device_add_batch(f->st, NULL, 3, &failed), EF_EINVAL);
}

/* ===== groups and relations ===== */

static void test_groups(void **state) {
  struct fx *f = *state;
  struct store_group a = grp(2, "alpha"), b = grp(1, "beta"), out;
  assert_int_equal(OPS(f)->group_add(f->st, &a), 0);
  assert_int_equal(OPS(f)->group_add(f->st, &b), 0);
  struct store_group dup = grp(3, "alpha");
  assert_int_equal(OPS(f)->group_add(f->st, &dup), EF_EEXIST);
  struct store_group dupid = grp(2, "gamma");
  assert_int_equal(OPS(f)->group_add(f->st, &dupid), EF_EEXIST);
  struct store_group noname = grp(4, NULL);
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
  struct store_device d1 = dev(1, "A", "m"), d2 = dev(2, "B", "m");
  assert_int_equal(OPS(f)->device_add(f->st, &d1), 0);
  assert_int_equal(OPS(f)->device_add(f->st, &d2), 0);
  struct store_group g1 = grp(10, "g1"), g2 = grp(20, "g2");
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
  assert_int_equal(raw_int(f->path, "SELECT count(*) FROM relations WHERE group_id = 20"), 0);
  assert_int_equal(OPS(f)->device_groups(f->st, 2, &gs, &n), 0);
  assert_int_equal(n, 0);
  store_groups_free(gs, n);
}

/* ===== write_batch and logs ===== */

static void test_write_batch(void **state) {
  struct fx *f = *state;
  struct store_device a = dev(1, "A", "m"), b = dev(2, "B", "m"), out;
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

static void test_write_batch_rollback(void **state) {
  struct fx *f = *state;
  struct store_device a = dev(1, "A", "m"), out;
  a.dev_state = "offline";
  assert_int_equal(OPS(f)->device_add(f->st, &a), 0);
  /* A trigger that makes the third insert fail, mid-transaction. */
  raw_exec(f->path, "CREATE TRIGGER boom BEFORE INSERT ON device_logs WHEN NEW.event = 'boom' "
                    "BEGIN SELECT RAISE(ABORT, 'boom refused'); END");
  struct store_log logs[3] = {
      {.device_id = 1, .event = "a", .time = 1},
      {.device_id = 1, .event = "b", .time = 2},
      {.device_id = 1, .event = "boom", .time = 3},
  };
  struct store_state st1 = {.device_id = 1, .state = "online", .time = 3};
  assert_int_equal(OPS(f)->write_batch(f->st, logs, 3, &st1, 1), EF_EDB);
  assert_non_null(strstr(store_errmsg(f->st), "boom refused"));
  for (int i = 0; i < 3; i++) assert_int_equal(logs[i].log_id, 0);
  assert_int_equal(raw_int(f->path, "SELECT count(*) FROM device_logs"), 0);
  assert_int_equal(OPS(f)->device_get(f->st, 1, &out), 0);
  assert_string_equal(out.dev_state, "offline");
  store_device_clear(&out);
  /* And the store still works. */
  assert_int_equal(OPS(f)->write_batch(f->st, logs, 2, &st1, 1), 0);
  assert_int_equal(raw_int(f->path, "SELECT count(*) FROM device_logs"), 2);
}

static void test_log_query(void **state) {
  struct fx *f = *state;
  add_logs(f, 1, 1, 10);
  add_logs(f, 2, 1, 4);
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
  add_logs(f, 1, 1, 10);
  add_logs(f, 2, 1, 4);
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
  assert_int_equal(raw_int(f->path, "SELECT count(*) FROM device_logs"), 0);

  /* Ids are not reused after a prune. */
  struct store_log l = {.device_id = 1, .event = "e", .time = 2000};
  assert_int_equal(OPS(f)->write_batch(f->st, &l, 1, NULL, 0), 0);
  assert_true(l.log_id > 14);
}

/* ===== API tokens ===== */

static void test_tokens(void **state) {
  struct fx *f = *state;
  struct store_token *arr;
  size_t n;
  assert_int_equal(OPS(f)->token_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 0);
  store_tokens_free(arr, n);

  struct store_token a = {.token_id = 2, .name = "ops", .kind = "admin", .token_hash = "h1",
                          .created_time = 1};
  struct store_token b = {.token_id = 1, .name = NULL, .kind = "read", .token_hash = "h2",
                          .created_time = 2};
  assert_int_equal(OPS(f)->token_add(f->st, &a), 0);
  assert_int_equal(OPS(f)->token_add(f->st, &b), 0);
  struct store_token dup = {.token_id = 3, .kind = "read", .token_hash = "h1"};
  assert_int_equal(OPS(f)->token_add(f->st, &dup), EF_EEXIST);
  struct store_token nohash = {.token_id = 4, .kind = "read"};
  assert_int_equal(OPS(f)->token_add(f->st, &nohash), EF_EINVAL);
  assert_int_equal(OPS(f)->token_add(f->st, NULL), EF_EINVAL);

  assert_int_equal(OPS(f)->token_list(f->st, &arr, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(arr[0].token_id, 1);
  assert_null(arr[0].name);
  assert_string_equal(arr[0].kind, "read");
  assert_string_equal(arr[1].name, "ops");
  assert_string_equal(arr[1].token_hash, "h1");
  assert_int_equal(arr[1].created_time, 1);
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
  char err[256];
  assert_int_equal(reopen(f, err, sizeof err), 0);
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

static void test_free_helpers_null(void **state) {
  (void)state;
  store_device_clear(NULL);
  store_devices_free(NULL, 5);
  store_group_clear(NULL);
  store_groups_free(NULL, 5);
  store_log_clear(NULL);
  store_logs_free(NULL, 5);
  store_tokens_free(NULL, 5);
}

/* ===== speed (printed, not asserted) ===== */

static void test_timing(void **state) {
  struct fx *f = *state;
  enum { NDEV = 20000, NLOG = 2000, NSTATE = 500 };
  struct store_device *ds = ef_calloc(NDEV, sizeof *ds);
  for (size_t i = 0; i < NDEV; i++) {
    ds[i] = dev(1000000 + i, NULL, "T1000");
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

/* ----- opening with options; storage failures ----- */

static long file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* must_exist: a missing or empty database is refused, and nothing is created or written. */
static void test_open_must_exist(void **state) {
  struct fx *f = *state;
  char path[PATH_MAX + 64], err[256];
  struct store *st = NULL;
  struct store_open_opts must = {.must_exist = true};

  snprintf(path, sizeof path, "%s/missing.db", f->dir);
  assert_int_equal(store_open_with(path, &must, &st, err, sizeof err), EF_ENOENT);
  assert_null(st);
  assert_non_null(strstr(err, "does not exist"));
  assert_int_equal(access(path, F_OK), -1); /* not created */
  assert_int_equal(store_open_with("sqlite::memory:", &must, &st, err, sizeof err), EF_ENOENT);

  snprintf(path, sizeof path, "%s/empty.db", f->dir);
  int fd = open(path, O_WRONLY | O_CREAT, 0600);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(store_open_with(path, &must, &st, err, sizeof err), EF_ENOENT);
  assert_non_null(strstr(err, "no schema"));
  assert_int_equal(file_size(path), 0); /* untouched */

  /* A database with its schema opens, and so does a new one without the option. */
  store_close(&f->st);
  assert_int_equal(store_open_with(f->path, &must, &f->st, err, sizeof err), 0);
  assert_int_equal(store_open_with(path, NULL, &st, err, sizeof err), 0);
  store_close(&st);
}

/* Overwrite the start (page header, cell pointers) of index `name`'s root page. */
static void damage_index(const char *path, const char *name) {
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT rootpage FROM sqlite_master WHERE name = '%s'", name);
  long long root = raw_int(path, sql);
  long long psize = raw_int(path, "PRAGMA page_size");
  raw_exec(path, "PRAGMA wal_checkpoint(TRUNCATE)"); /* every page in the main file */
  int fd = open(path, O_WRONLY);
  assert_true(fd >= 0);
  unsigned char junk[64];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)(0xA5 ^ (i * 37));
  assert_int_equal(pwrite(fd, junk, sizeof junk, (off_t)((root - 1) * psize)), sizeof junk);
  close(fd);
}

/* A damaged index: refused by either check at open; without a check, the first statement that
 * reads it fails with EF_ECORRUPT. */
static void test_damaged_index(void **state) {
  struct fx *f = *state;
  char err[512];
  for (int i = 0; i < 300; i++) {
    char sn[32];
    snprintf(sn, sizeof sn, "SN-%04d", i);
    struct store_device d = dev((uint64_t)i + 1, sn, "M");
    assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  }
  store_close(&f->st);
  damage_index(f->path, "sqlite_autoindex_devices_1"); /* UNIQUE (hardware_sn, hardware_model) */

  struct store_open_opts quick = {.check = STORE_CHECK_QUICK};
  struct store_open_opts full = {.check = STORE_CHECK_FULL};
  assert_int_equal(store_open_with(f->path, &quick, &f->st, err, sizeof err), EF_ECORRUPT);
  assert_null(f->st);
  assert_non_null(strstr(err, "is damaged (PRAGMA quick_check: "));
  assert_non_null(strstr(err, "restore it from a backup"));
  assert_int_equal(store_open_with(f->path, &full, &f->st, err, sizeof err), EF_ECORRUPT);
  assert_non_null(strstr(err, "PRAGMA integrity_check"));

  assert_int_equal(store_open(f->path, &f->st, err, sizeof err), 0); /* no check: opens */
  struct store_device out;
  assert_int_equal(OPS(f)->device_find(f->st, "SN-0007", "M", &out), EF_ECORRUPT);
  assert_non_null(strstr(store_errmsg(f->st), "malformed"));
  struct store_device d = dev(9999, "SN-9999", "M");
  assert_int_equal(OPS(f)->device_add(f->st, &d), EF_ECORRUPT);
}

/* In a child under a 1 MiB file size limit: writes fail with EFBIG (SIGXFSZ ignored, as
 * edgefleetd does), which is "no space left": EF_EFULL. Reads still work. */
struct full_report {
  int add_rc, batch_rc, get_rc, added;
  char msg[256];
};

static void fill_up(const void *arg, void *out) {
  const struct fx *f = arg;
  struct full_report *r = out;
  char err[256];
  struct store *st = NULL;
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = {1 << 20, 1 << 20};
  if (setrlimit(RLIMIT_FSIZE, &lim) != 0 || store_open(f->path, &st, err, sizeof err) != 0) {
    r->add_rc = 1;
    return;
  }
  static char big[16384];
  memset(big, 'x', sizeof big - 1);
  for (int i = 0; i < 1000; i++) {
    char sn[32];
    snprintf(sn, sizeof sn, "FULL-%04d", i);
    struct store_device d = dev((uint64_t)i + 100, sn, "M");
    d.dev_description = big;
    r->add_rc = st->ops->device_add(st, &d);
    if (r->add_rc) break;
    r->added++;
  }
  snprintf(r->msg, sizeof r->msg, "%s", store_errmsg(st));
  struct store_log log = {.device_id = 100, .event = "e", .detail = big, .time = 1};
  struct store_log logs[64];
  for (int i = 0; i < 64; i++) logs[i] = log;
  r->batch_rc = st->ops->write_batch(st, logs, 64, NULL, 0);
  struct store_device got;
  r->get_rc = st->ops->device_get(st, 100, &got);
  store_device_clear(&got);
  store_close(&st);
}

static void test_no_space_left(void **state) {
  struct fx *f = *state;
  store_close(&f->st);
  struct full_report r;
  forkrun(fill_up, f, &r, sizeof r);
  assert_true(r.added > 0);
  assert_int_equal(r.add_rc, EF_EFULL);
  assert_int_equal(r.batch_rc, EF_EFULL);
  assert_int_equal(r.get_rc, 0);
  assert_non_null(strstr(r.msg, "File too large")); /* the errno behind sqlite's message */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_open_bad_urls),
      cmocka_unit_test(test_free_helpers_null),
#define T_(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
      T_(test_open_url_forms),
      T_(test_open_bad_paths),
      T_(test_reopen_keeps_data),
      T_(test_wal_mode),
      T_(test_newer_schema_refused),
      T_(test_unknown_tables_refused),
      T_(test_missing_column_added),
      T_(test_device_roundtrip),
      T_(test_device_null_fields),
      T_(test_device_duplicates_and_missing),
      T_(test_device_list_order),
      T_(test_device_update),
      T_(test_device_delete_cascades),
      T_(test_device_token),
      T_(test_device_all_offline),
      T_(test_device_batch),
      T_(test_groups),
      T_(test_relations),
      T_(test_write_batch),
      T_(test_write_batch_rollback),
      T_(test_log_query),
      T_(test_log_prune),
      T_(test_tokens),
      T_(test_miners),
      T_(test_open_must_exist),
      T_(test_damaged_index),
      T_(test_no_space_left),
      T_(test_timing),
#undef T_
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
