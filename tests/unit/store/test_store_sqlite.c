/* SPDX-License-Identifier: MIT */
/* test_store_sqlite.c -- what is the SQLite backend's own (store_sqlite.c), and the URL dispatch
 * of store.c: URL forms and refused schemes, file paths and permissions, WAL, the schema version
 * in PRAGMA user_version and its migrations, error texts, and failures injected with SQL behind
 * the interface. What every backend must do is in test_store.c, the contract suite.
 *
 * Each test with a fixture gets a fresh database in its own mkdtemp() directory, removed
 * afterwards. Some tests open the file with sqlite3 directly to set up what the store alone
 * cannot (a newer schema version, a dropped column, a failing trigger).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgefleet/error.h"
#include "forkrun.h"
#include "mem.h"
#include "store.h"
#include "store_testutil.h"

struct fx {
  char dir[PATH_MAX];
  char path[PATH_MAX + 32];
  struct store *st;
};

static int teardown(void **state) {
  struct fx *f = *state;
  store_close(&f->st);
  if (f->dir[0]) st_rmtree(f->dir);
  ef_free(f);
  return 0;
}

static int setup(void **state) {
  struct fx *f = ef_calloc(1, sizeof *f);
  *state = f;
  if (st_mkdtemp(f->dir, sizeof f->dir) != 0) {
    f->dir[0] = '\0';
    teardown(state);
    return -1;
  }
  snprintf(f->path, sizeof f->path, "%s/edgefleet.db", f->dir);
  char url[sizeof f->path + 8], err[256];
  snprintf(url, sizeof url, "sqlite:%s", f->path);
  if (store_open(url, &f->st, err, sizeof err) != 0) {
    fprintf(stderr, "store_open: %s\n", err);
    teardown(state);
    return -1;
  }
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

#define OPS(f) ((f)->st->ops)

/* ===== store.c: URLs, and the record helpers ===== */

/* Unknown schemes are refused by name (postgresql:// and mysql:// are backends now: their URLs
 * are their own tests', test_store_pg.c and test_store_mysql.c). */
static void test_open_bad_urls(void **state) {
  (void)state;
  struct store *st = (struct store *)0x1;
  char err[256];

  assert_int_equal(store_open("foo:bar.db", &st, err, sizeof err), EF_ECONFIG);
  assert_null(st);
  assert_non_null(strstr(err, "foo:"));
  assert_non_null(strstr(err, "sqlite:"));

  /* The scheme is named, never the URL (it may hold a password). */
  assert_int_equal(store_open("nosuchdb://u:s3cret@db/ef", &st, err, sizeof err), EF_ECONFIG);
  assert_null(strstr(err, "s3cret"));
  assert_non_null(strstr(err, "nosuchdb:"));

  assert_int_equal(store_open("", &st, err, sizeof err), EF_ECONFIG);
  assert_true(err[0] != '\0');
  assert_int_equal(store_open(NULL, &st, err, sizeof err), EF_ECONFIG);
  assert_int_equal(store_open("sqlite:", &st, err, sizeof err), EF_ECONFIG);
  assert_true(err[0] != '\0');
  assert_int_equal(store_open("sqlite:x.db", NULL, err, sizeof err), EF_EINVAL);
  /* err may be absent. */
  assert_int_equal(store_open("nope:x", &st, NULL, 0), EF_ECONFIG);
}

/* A URL as logs may show it: its password, in the user part or a parameter, hidden. */
static void test_url_redact(void **state) {
  (void)state;
  char buf[256];
  static const char *const cases[][2] = {
      {"postgresql://ef:s3cret@127.0.0.1:5432/ef", "postgresql://ef:***@127.0.0.1:5432/ef"},
      {"postgresql://ef:s%40c:r@h/db?sslmode=require", "postgresql://ef:***@h/db?sslmode=require"},
      {"postgresql://ef@h/db?sslmode=require&password=s3cret&x=1",
       "postgresql://ef@h/db?sslmode=require&password=***&x=1"},
      {"postgresql://h/db?PASSWORD=s3cret", "postgresql://h/db?PASSWORD=***"},
      {"postgresql://ef@h:1/db", "postgresql://ef@h:1/db"},
      {"mysql://ef:p@ss@db:3306/x?ssl-mode=REQUIRED", "mysql://ef:***@db:3306/x?ssl-mode=REQUIRED"},
      {"postgresql://127.0.0.1/ef?user=a", "postgresql://127.0.0.1/ef?user=a"},
      {"postgresql://h/db?path=/a@b:c", "postgresql://h/db?path=/a@b:c"},
      {"sqlite:/var/lib/a:b@c.db", "sqlite:/var/lib/a:b@c.db"},
      {"./edgefleet.db", "./edgefleet.db"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    assert_string_equal(store_url_redact(cases[i][0], buf, sizeof buf), cases[i][1]);
  assert_string_equal(store_url_redact(NULL, buf, sizeof buf), "");
  /* Cut short, it never ends inside the password. */
  char small[16];
  store_url_redact("postgresql://ef:s3cret@h/db", small, sizeof small);
  assert_null(strstr(small, "s3c"));
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

/* ===== the SQLite file ===== */

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
    struct store_device d = st_dev(1, "sn", "m");
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

/* ===== schema: PRAGMA user_version and migrations ===== */

#define SCHEMA_NOW 7 /* the steps of migrations[] */

/* PRAGMA user_version counts the migrations applied (SCHEMA_NOW); an older file is migrated with
 * its data: version 4 gives API tokens a scope from their kind (admin -> admin, read -> read). */
static void test_schema_version_and_migration(void **state) {
  struct fx *f = *state;
  char err[256];
  struct store_device d = st_dev(42, "SN42", "M1");
  d.device_name = "kept";
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  struct store_group g = st_grp(7, "g7");
  assert_int_equal(OPS(f)->group_add(f->st, &g), 0);
  assert_int_equal(OPS(f)->relation_add(f->st, 42, 7, 3000), 0);

  assert_int_equal(reopen(f, err, sizeof err), 0);
  assert_int_equal(raw_int(f->path, "PRAGMA user_version"), SCHEMA_NOW);
  assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name='devices'"),
                   1);

  /* A version-1 database (before miner records, verifiers, token scopes, the audit log and the
   * alert tables, history) is
   * migrated to the current version with its data. */
  store_close(&f->st);
  raw_exec(f->path, "DROP TABLE miner_info; DROP TABLE worker_info; DROP TABLE audit_log; "
                    "DROP TABLE alert_log; DROP TABLE alert_state; DROP TABLE history; "
                    "ALTER TABLE devices DROP COLUMN pw_verifier; "
                    "ALTER TABLE api_tokens DROP COLUMN scope; "
                    "ALTER TABLE api_tokens DROP COLUMN groups; "
                    "ALTER TABLE api_tokens DROP COLUMN expires_time; "
                    "ALTER TABLE api_tokens DROP COLUMN last_used_time; "
                    "INSERT INTO api_tokens (token_id, name, kind, token_hash, created_time) "
                    "VALUES (1, 'a', 'admin', 'h1', 5), (2, NULL, 'read', 'h2', 6); "
                    "PRAGMA user_version = 1");
  assert_int_equal(reopen(f, err, sizeof err), 0);
  assert_int_equal(raw_int(f->path, "PRAGMA user_version"), SCHEMA_NOW);
  struct store_token *ts;
  size_t nt;
  assert_int_equal(OPS(f)->token_list(f->st, &ts, &nt), 0);
  assert_int_equal(nt, 2);
  assert_string_equal(ts[0].scope, "admin");
  assert_string_equal(ts[1].scope, "read");
  assert_null(ts[0].groups);
  assert_int_equal(ts[0].expires_time, 0);
  assert_int_equal(ts[1].last_used_time, 0);
  assert_int_equal(ts[1].created_time, 6);
  store_tokens_free(ts, nt);
  assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name='miner_info'"),
                   1);
  assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name='audit_log'"),
                   1);
  assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                    "('alert_log', 'alert_state')"), 2);

  struct store_device out;
  assert_int_equal(OPS(f)->device_get(f->st, 42, &out), 0);
  assert_string_equal(out.device_name, "kept");
  store_device_clear(&out);
  bool in;
  assert_int_equal(OPS(f)->relation_exists(f->st, 42, 7, &in), 0);
  assert_true(in);
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
  struct store_device d = st_dev(5, "s", "m"), out;
  d.lte_imei = "861234567890123";
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  assert_int_equal(OPS(f)->device_get(f->st, 5, &out), 0);
  assert_string_equal(out.lte_imei, "861234567890123");
  store_device_clear(&out);
}

/* ===== SQLite's errors ===== */

/* The message of a taken unique key is SQLite's own, and names the constraint. */
static void test_errmsg_names_constraint(void **state) {
  struct fx *f = *state;
  struct store_device a = st_dev(1, "SN1", "M1"), b = st_dev(2, "SN1", "M1");
  assert_int_equal(OPS(f)->device_add(f->st, &a), 0);
  assert_int_equal(OPS(f)->device_add(f->st, &b), EF_EEXIST);
  assert_non_null(strstr(store_errmsg(f->st), "UNIQUE"));
}

static void test_write_batch_rollback(void **state) {
  struct fx *f = *state;
  struct store_device a = st_dev(1, "A", "m"), out;
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
    struct store_device d = st_dev((uint64_t)i + 1, sn, "M");
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
  struct store_device d = st_dev(9999, "SN-9999", "M");
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
    struct store_device d = st_dev((uint64_t)i + 100, sn, "M");
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
      cmocka_unit_test(test_url_redact),
      cmocka_unit_test(test_free_helpers_null),
#define T_(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
      T_(test_open_url_forms),
      T_(test_open_bad_paths),
      T_(test_wal_mode),
      T_(test_schema_version_and_migration),
      T_(test_newer_schema_refused),
      T_(test_unknown_tables_refused),
      T_(test_missing_column_added),
      T_(test_errmsg_names_constraint),
      T_(test_write_batch_rollback),
      T_(test_open_must_exist),
      T_(test_damaged_index),
      T_(test_no_space_left),
#undef T_
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
