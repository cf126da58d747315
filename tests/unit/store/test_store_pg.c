/* SPDX-License-Identifier: MIT */
/* test_store_pg.c -- what is the PostgreSQL backend's own (store_pg.c): URL forms and that no
 * message shows the password, must_exist and check, migrations and the schema version table,
 * uint64 ids at the extremes of bigint, the mapping of SQLSTATEs to edgefleet's errors, losing
 * the server and reconnecting with backoff, and TLS. What every backend must do is in
 * test_store.c, the contract suite (test_store_pg runs it against PostgreSQL).
 *
 * It runs against a real server: tests/helpers/dbserver_pg.py run --tls -- test_store_pg_own
 * (ctest does) exports EF_STORE_URL (a role with a password and its database; the role may create
 * databases), EF_PG_STOP / EF_PG_START / EF_PG_KILL (shell commands that stop, start and SIGKILL
 * the server) and EF_PG_CA / EF_PG_WRONG_CA (the root certificate of the server's CA, and an
 * unrelated one). Without EF_STORE_URL it exits 77 (skipped). Each test gets a fresh database of
 * its own, made and checked with libpq directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "edgefleet/error.h"
#include "mem.h"
#include "store.h"
#include "store_testutil.h"

static const char *g_url;  /* the wrapper's database */
static char g_secret[64];  /* the password as typed, decoded: no message may show it */
static char g_encoded[128];/* and as it sits in the URL */
static int g_port;

struct fx {
  char db[64];   /* this test's database */
  char url[512]; /* its URL */
  struct store *st;
};

/* ===== helpers ===== */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* g_url with its database replaced by `db` and `query` ("?a=b", or "") appended. */
static void url_for(char *buf, size_t len, const char *db, const char *query) {
  const char *slash = strrchr(g_url, '/');
  snprintf(buf, len, "%.*s/%s%s", (int)(slash - g_url), g_url, db, query);
}

/* The first value of `sql` run on database `db` by a libpq connection of its own ("" when no
 * row); fails the test when it fails, unless `may_fail`. */
static char *pg_value(const char *db, const char *sql, bool may_fail) {
  char url[512];
  url_for(url, sizeof url, db, "");
  PGconn *c = PQconnectdb(url);
  if (PQstatus(c) != CONNECTION_OK) fail_msg("libpq connect to %s: %s", db, PQerrorMessage(c));
  PGresult *r = PQexec(c, sql);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && !may_fail)
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  char *out = ef_strdup(st == PGRES_TUPLES_OK && PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
  PQclear(r);
  PQfinish(c);
  return out;
}

static void pg_exec(const char *db, const char *sql) { ef_free(pg_value(db, sql, false)); }

static long pg_long(const char *db, const char *sql) {
  char *v = pg_value(db, sql, false);
  long n = atol(v);
  ef_free(v);
  return n;
}

/* Neither form of the password is in `text`. */
static void assert_no_secret(const char *text) {
  if (strstr(text, g_secret) || strstr(text, g_encoded))
    fail_msg("a message shows the password: %s", text);
  char hex[20]; /* its distinctive part, in case one form is cut */
  snprintf(hex, sizeof hex, "%.19s", g_secret);
  if (strstr(text, hex)) fail_msg("a message shows part of the password: %s", text);
}

static void run_cmd(const char *env) {
  const char *cmd = getenv(env);
  if (!cmd || !cmd[0]) fail_msg("%s is not set: run under tests/helpers/dbserver_pg.py", env);
  if (system(cmd) != 0) fail_msg("%s failed", env);
}

static int teardown(void **state) {
  struct fx *f = *state;
  store_close(&f->st);
  char sql[128];
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->db);
  pg_exec("postgres", sql);
  ef_free(f);
  return 0;
}

/* A fresh, empty database for the test (no store opened yet). */
static int setup(void **state) {
  static int seq;
  struct fx *f = ef_calloc(1, sizeof *f);
  *state = f;
  snprintf(f->db, sizeof f->db, "own_%d_%d", (int)getpid(), ++seq);
  char sql[128];
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->db);
  pg_exec("postgres", sql);
  url_for(f->url, sizeof f->url, f->db, "");
  return 0;
}

static void open_ok(struct fx *f) {
  char err[512];
  store_close(&f->st);
  if (store_open(f->url, &f->st, err, sizeof err) != 0) fail_msg("store_open: %s", err);
}

#define OPS(f) ((f)->st->ops)

/* ===== URLs and secrets ===== */

static void test_url_forms(void **state) {
  struct fx *f = *state;
  struct store *st = NULL;
  char err[512], url[512];

  /* Not a URI libpq takes. */
  assert_int_equal(store_open("postgresql:ef", &st, err, sizeof err), EF_ECONFIG);
  assert_non_null(strstr(err, "postgresql://"));
  /* A bad percent-encoding in the password: libpq quotes the token; the message must not. */
  assert_int_equal(store_open("postgresql://ef:pw-0123456789abcdef%zz@127.0.0.1/ef", &st, err,
                              sizeof err),
                   EF_ECONFIG);
  assert_null(strstr(err, "0123456789abcdef"));
  assert_non_null(strstr(err, "invalid PostgreSQL store URL"));
  url_for(url, sizeof url, f->db, "?nosuchparam=1");
  assert_int_equal(store_open(url, &st, err, sizeof err), EF_ECONFIG);
  assert_no_secret(err);

  /* The scheme in any case (store.c matches it so). */
  url_for(url, sizeof url, f->db, "?connect_timeout=3");
  memcpy(url, "PostgreSQL", 10);
  assert_int_equal(store_open(url, &st, err, sizeof err), 0);
  store_close(&st);

  /* A wrong password: refused, named by host, port and database, never the password. */
  char bad[512];
  snprintf(bad, sizeof bad, "postgresql://ef:%s-wrong@127.0.0.1:%d/%s", g_encoded, g_port, f->db);
  assert_int_equal(store_open(bad, &st, err, sizeof err), EF_EUNAVAIL);
  assert_no_secret(err);
  char where[128];
  snprintf(where, sizeof where, "127.0.0.1:%d (database %s)", g_port, f->db);
  assert_non_null(strstr(err, where));
  assert_non_null(strstr(err, "password authentication failed"));

  /* Nobody listening: EF_EUNAVAIL, at once. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
  close(fd); /* a port nobody listens on */
  snprintf(bad, sizeof bad, "postgresql://ef:%s@127.0.0.1:%d/ef", g_encoded, ntohs(a.sin_port));
  double t0 = now_ms();
  assert_int_equal(store_open(bad, &st, err, sizeof err), EF_EUNAVAIL);
  assert_true(now_ms() - t0 < 3000);
  assert_non_null(strstr(err, "database unavailable: cannot connect to 127.0.0.1:"));
  assert_no_secret(err);

  /* A database that does not exist: EF_ENOENT, and it is not created. */
  url_for(url, sizeof url, "own_nosuchdb", "");
  assert_int_equal(store_open(url, &st, err, sizeof err), EF_ENOENT);
  assert_non_null(strstr(err, "does not exist"));
  assert_no_secret(err);
  assert_int_equal(pg_long("postgres", "SELECT count(*) FROM pg_database WHERE datname = "
                                       "'own_nosuchdb'"), 0);

  /* The password in a query parameter works too, and stays as secret. */
  snprintf(url, sizeof url, "postgresql://ef@127.0.0.1:%d/%s?password=%s", g_port, f->db,
           g_encoded);
  assert_int_equal(store_open(url, &st, err, sizeof err), 0);
  struct store_device d = st_dev(1, "A", "m");
  assert_int_equal(st->ops->device_add(st, &d), 0);
  assert_int_equal(st->ops->device_add(st, &d), EF_EEXIST);
  assert_no_secret(store_errmsg(st));
  store_close(&st);
}

/* ===== must_exist, migrations, check ===== */

static void test_must_exist(void **state) {
  struct fx *f = *state;
  struct store *st = NULL;
  char err[512], url[512];
  struct store_open_opts must = {.must_exist = true};
  /* An empty database: refused, nothing created in it. */
  assert_int_equal(store_open_with(f->url, &must, &st, err, sizeof err), EF_ENOENT);
  assert_non_null(strstr(err, "no edgefleet schema"));
  assert_no_secret(err);
  assert_int_equal(pg_long(f->db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
                   0);
  /* A missing database: refused too. */
  url_for(url, sizeof url, "own_missing", "");
  assert_int_equal(store_open_with(url, &must, &st, err, sizeof err), EF_ENOENT);
  /* Once it has the schema: opened. */
  open_ok(f);
  store_close(&f->st);
  assert_int_equal(store_open_with(f->url, &must, &st, err, sizeof err), 0);
  store_close(&st);
}

static void test_migrations(void **state) {
  struct fx *f = *state;
  char err[512];
  open_ok(f);
  long version = pg_long(f->db, "SELECT max(version) FROM schema_migrations");
  long steps = pg_long(f->db, "SELECT count(*) FROM schema_migrations");
  assert_true(version >= 1);
  assert_int_equal(steps, version); /* a row per step, 1..N */
  assert_int_equal(pg_long(f->db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
                   12);
  struct store_device d = st_dev(7, "SN7", "M");
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);

  /* Re-opened at the current version: nothing applied again, the data kept. */
  open_ok(f);
  assert_int_equal(pg_long(f->db, "SELECT count(*) FROM schema_migrations"), steps);
  struct store_device out;
  assert_int_equal(OPS(f)->device_get(f->st, 7, &out), 0);
  store_device_clear(&out);
  store_close(&f->st);

  /* A device column that is missing (a field added to store.h) is added back. */
  pg_exec(f->db, "ALTER TABLE devices DROP COLUMN wifi_mac");
  open_ok(f);
  assert_int_equal(pg_long(f->db, "SELECT count(*) FROM pg_attribute WHERE attrelid = "
                                  "'devices'::regclass AND attname = 'wifi_mac' AND NOT "
                                  "attisdropped"),
                   1);
  assert_int_equal(OPS(f)->device_get(f->st, 7, &out), 0);
  assert_null(out.wifi_mac);
  store_device_clear(&out);
  store_close(&f->st);

  /* A schema newer than the program: refused, unchanged. */
  pg_exec(f->db, "INSERT INTO schema_migrations VALUES (999, 0)");
  struct store *st = NULL;
  assert_int_equal(store_open(f->url, &st, err, sizeof err), EF_EDB);
  assert_non_null(strstr(err, "schema version 999"));
  assert_non_null(strstr(err, "newer edgefleet"));
  assert_int_equal(pg_long(f->db, "SELECT count(*) FROM schema_migrations"), steps + 1);
  pg_exec(f->db, "DELETE FROM schema_migrations WHERE version = 999");

  /* check: a healthy database passes both levels; a missing table is damage. */
  struct store_open_opts quick = {.check = STORE_CHECK_QUICK};
  struct store_open_opts full = {.check = STORE_CHECK_FULL};
  assert_int_equal(store_open_with(f->url, &quick, &st, err, sizeof err), 0);
  store_close(&st);
  assert_int_equal(store_open_with(f->url, &full, &st, err, sizeof err), 0);
  store_close(&st);
  pg_exec(f->db, "DROP TABLE alert_state");
  assert_int_equal(store_open_with(f->url, &quick, &st, err, sizeof err), EF_ECORRUPT);
  assert_non_null(strstr(err, "alert_state"));
  assert_int_equal(store_open_with(f->url, &full, &st, err, sizeof err), EF_ECORRUPT);
  /* Without the check, the statements that use it cannot be prepared. */
  assert_int_equal(store_open(f->url, &st, err, sizeof err), EF_EDB);
  assert_non_null(strstr(err, "alert_state"));
}

struct opener {
  const char *url;
  int rc;
  char err[256];
};

static void *open_thread(void *arg) {
  struct opener *o = arg;
  struct store *st = NULL;
  o->rc = store_open(o->url, &st, o->err, sizeof o->err);
  store_close(&st);
  return NULL;
}

/* Servers starting at once on a new database migrate it once (the advisory lock). */
static void test_concurrent_migration(void **state) {
  struct fx *f = *state;
  struct opener o[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    o[i] = (struct opener){.url = f->url};
    assert_int_equal(pthread_create(&th[i], NULL, open_thread, &o[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    if (o[i].rc) fail_msg("opener %d: %s", i, o[i].err);
  }
  assert_int_equal(pg_long(f->db, "SELECT count(*) FROM schema_migrations"),
                   pg_long(f->db, "SELECT max(version) FROM schema_migrations"));
}

/* ===== ids ===== */

static void test_id_extremes(void **state) {
  struct fx *f = *state;
  open_ok(f);
  static const uint64_t ids[] = {1, INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX - 1,
                                 UINT64_MAX};
  enum { N = sizeof ids / sizeof ids[0] };
  char sn[N][16];
  for (size_t i = 0; i < N; i++) {
    snprintf(sn[i], sizeof sn[i], "X%zu", i);
    struct store_device d = st_dev(ids[i], sn[i], "m");
    assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
    struct store_device out;
    assert_int_equal(OPS(f)->device_get(f->st, ids[i], &out), 0);
    assert_true(out.device_id == ids[i]);
    store_device_clear(&out);
    struct store_group g = st_grp(ids[i], sn[i]);
    assert_int_equal(OPS(f)->group_add(f->st, &g), 0);
    assert_int_equal(OPS(f)->relation_add(f->st, ids[i], ids[i], 1), 0);
    struct store_token t = {.token_id = ids[i], .scope = "read", .token_hash = sn[i]};
    assert_int_equal(OPS(f)->token_add(f->st, &t), 0);
  }
  /* Stored bit for bit as bigint: 2^64-1 is -1. */
  assert_int_equal(pg_long(f->db, "SELECT count(*) FROM devices WHERE device_id = -1"), 1);
  char *v = pg_value(f->db, "SELECT min(device_id) FROM devices", false);
  assert_string_equal(v, "-9223372036854775808");
  ef_free(v);
  /* Listed by the stored value, as SQLite does: ids above 2^63-1 first. */
  struct store_device *arr;
  size_t n;
  assert_int_equal(OPS(f)->device_list(f->st, &arr, &n), 0);
  assert_int_equal(n, N);
  assert_true(arr[0].device_id == (uint64_t)INT64_MAX + 1);
  assert_true(arr[1].device_id == UINT64_MAX - 1);
  assert_true(arr[2].device_id == UINT64_MAX);
  assert_true(arr[3].device_id == 1);
  assert_true(arr[4].device_id == INT64_MAX);
  store_devices_free(arr, n);
  /* Relations, logs, states, tokens and the audit log's token id round-trip too. */
  bool in = false;
  assert_int_equal(OPS(f)->relation_exists(f->st, UINT64_MAX, UINT64_MAX, &in), 0);
  assert_true(in);
  struct store_group *gs;
  assert_int_equal(OPS(f)->device_groups(f->st, UINT64_MAX, &gs, &n), 0);
  assert_int_equal(n, 1);
  assert_true(gs[0].group_id == UINT64_MAX);
  store_groups_free(gs, n);
  struct store_log l = {.device_id = UINT64_MAX, .event = "e", .time = 5};
  struct store_state s = {.device_id = (uint64_t)INT64_MAX + 1, .state = "online", .time = 6};
  assert_int_equal(OPS(f)->write_batch(f->st, &l, 1, &s, 1), 0);
  struct store_log *logs;
  assert_int_equal(OPS(f)->log_query(f->st, UINT64_MAX, 0, 10, &logs, &n), 0);
  assert_int_equal(n, 1);
  assert_true(logs[0].device_id == UINT64_MAX);
  store_logs_free(logs, n);
  struct store_device out;
  assert_int_equal(OPS(f)->device_get(f->st, (uint64_t)INT64_MAX + 1, &out), 0);
  assert_string_equal(out.dev_state, "online");
  store_device_clear(&out);
  struct store_token *ts;
  assert_int_equal(OPS(f)->token_list(f->st, &ts, &n), 0);
  assert_int_equal(n, N);
  assert_true(ts[2].token_id == UINT64_MAX);
  store_tokens_free(ts, n);
  uint64_t touch_id = UINT64_MAX;
  int64_t when = 77;
  assert_int_equal(OPS(f)->token_touch(f->st, &touch_id, &when, 1), 0);
  struct store_audit a = {.time = 1, .token_id = UINT64_MAX, .route = "r", .outcome = "ok"};
  assert_int_equal(OPS(f)->audit_append(f->st, &a, 1), 0);
  struct store_audit *as;
  assert_int_equal(OPS(f)->audit_query(f->st, &(struct store_audit_filter){
                                                  .token = "18446744073709551615"},
                                       &as, &n),
                   0);
  assert_int_equal(n, 1);
  assert_true(as[0].token_id == UINT64_MAX);
  store_audits_free(as, n);
  /* A cursor above 2^63-1 means "from the newest". */
  assert_int_equal(OPS(f)->audit_query(f->st, &(struct store_audit_filter){
                                                  .before_id = UINT64_MAX},
                                       &as, &n),
                   0);
  assert_int_equal(n, 1);
  store_audits_free(as, n);
  assert_int_equal(OPS(f)->device_delete(f->st, UINT64_MAX), 0);
  assert_int_equal(OPS(f)->device_get(f->st, UINT64_MAX, &out), EF_ENOENT);
}

/* ===== SQLSTATEs as edgefleet's errors ===== */

static void test_error_mapping(void **state) {
  struct fx *f = *state;
  open_ok(f);
  struct store_device d = st_dev(1, "A", "m");
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  /* 23505 */
  assert_int_equal(OPS(f)->device_add(f->st, &d), EF_EEXIST);
  assert_non_null(strstr(store_errmsg(f->st), "23505"));
  /* 23503 (a foreign key): EF_ENOENT, as SQLite's */
  assert_int_equal(OPS(f)->relation_add(f->st, 1, 99, 1), EF_ENOENT);
  /* a failed batch stops at the record that fails, whatever its error */
  struct store_device batch[3] = {st_dev(10, "B", "m"), st_dev(11, "C", "m"), st_dev(1, "D", "m")};
  size_t failed = 0;
  assert_int_equal(OPS(f)->device_add_batch(f->st, batch, 3, &failed), EF_EEXIST);
  assert_int_equal(failed, 2);
  assert_non_null(strstr(store_errmsg(f->st), "23505"));

  /* 25006: a read-only session */
  char url[600];
  snprintf(url, sizeof url, "%s?options=-c%%20default_transaction_read_only%%3Don", f->url);
  struct store *ro = NULL;
  char err[512];
  assert_int_equal(store_open(url, &ro, err, sizeof err), 0);
  struct store_device d2 = st_dev(2, "B2", "m");
  assert_int_equal(ro->ops->device_add(ro, &d2), EF_EREADONLY);
  assert_non_null(strstr(store_errmsg(ro), "25006"));
  struct store_device out;
  assert_int_equal(ro->ops->device_get(ro, 1, &out), 0); /* reads go on */
  store_device_clear(&out);
  store_close(&ro);

  /* 55P03 (lock_timeout) and 57014 (statement_timeout): EF_EBUSY. Another session holds the
   * devices table locked. */
  char lurl[512];
  url_for(lurl, sizeof lurl, f->db, "");
  PGconn *locker = PQconnectdb(lurl);
  assert_int_equal(PQstatus(locker), CONNECTION_OK);
  snprintf(url, sizeof url, "%s?options=-c%%20lock_timeout%%3D200", f->url);
  struct store *busy = NULL;
  assert_int_equal(store_open(url, &busy, err, sizeof err), 0);
  PQclear(PQexec(locker, "BEGIN"));
  PGresult *r = PQexec(locker, "LOCK TABLE devices IN ACCESS EXCLUSIVE MODE");
  assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  assert_int_equal(busy->ops->device_get(busy, 1, &out), EF_EBUSY);
  assert_non_null(strstr(store_errmsg(busy), "55P03"));
  store_close(&busy);
  snprintf(url, sizeof url, "%s?options=-c%%20statement_timeout%%3D200", f->url);
  PQclear(PQexec(locker, "ROLLBACK"));
  assert_int_equal(store_open(url, &busy, err, sizeof err), 0);
  PQclear(PQexec(locker, "BEGIN"));
  PQclear(PQexec(locker, "LOCK TABLE devices IN ACCESS EXCLUSIVE MODE"));
  assert_int_equal(busy->ops->device_get(busy, 1, &out), EF_EBUSY);
  assert_non_null(strstr(store_errmsg(busy), "57014"));
  PQclear(PQexec(locker, "ROLLBACK"));
  /* the handle works on once the lock is gone */
  assert_int_equal(busy->ops->device_get(busy, 1, &out), 0);
  store_device_clear(&out);
  store_close(&busy);
  PQfinish(locker);
}

/* ===== losing the server ===== */

/* A listener on the server's port while it is stopped: counts connection attempts (each is
 * accepted and closed at once: libpq sees the connection end during its start-up). */
struct counter {
  int fd;
  atomic_int accepted;
  atomic_bool stop;
  pthread_t th;
};

static void *count_thread(void *arg) {
  struct counter *c = arg;
  while (!atomic_load(&c->stop)) {
    int s = accept(c->fd, NULL, NULL);
    if (s < 0) continue;
    atomic_fetch_add(&c->accepted, 1);
    close(s);
  }
  return NULL;
}

static void counter_start(struct counter *c) {
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct timeval tv = {.tv_usec = 50000};
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv); /* accept() wakes to see stop */
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(c->fd, (struct sockaddr *)&a, sizeof a) != 0) fail_msg("bind port %d", g_port);
  assert_int_equal(listen(c->fd, 64), 0);
  atomic_init(&c->accepted, 0);
  atomic_init(&c->stop, false);
  assert_int_equal(pthread_create(&c->th, NULL, count_thread, c), 0);
}

static void counter_stop(struct counter *c) {
  atomic_store(&c->stop, true);
  pthread_join(c->th, NULL);
  close(c->fd);
}

/* The server stops under an open store: the next operation fails with EF_EUNAVAIL at once and
 * says so; a write is not retried; operations within the backoff do not try to connect; once the
 * server is back the next operation after the backoff works, statements prepared again. */
static void test_reconnect(void **state) {
  struct fx *f = *state;
  open_ok(f);
  struct store_device d = st_dev(1, "A", "m"), out;
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  assert_int_equal(OPS(f)->device_get(f->st, 1, &out), 0);
  store_device_clear(&out);

  run_cmd("EF_PG_STOP");
  double t0 = now_ms();
  struct store_log l = {.device_id = 1, .event = "lost", .time = 9};
  assert_int_equal(OPS(f)->write_batch(f->st, &l, 1, NULL, 0), EF_EUNAVAIL);
  assert_true(now_ms() - t0 < 2000);
  assert_int_equal(l.log_id, 0);
  const char *msg = store_errmsg(f->st);
  char where[128];
  snprintf(where, sizeof where, "127.0.0.1:%d (database %s)", g_port, f->db);
  assert_true(strncmp(msg, "database unavailable: ", 22) == 0);
  assert_non_null(strstr(msg, where));
  assert_no_secret(msg);
  printf("[ pg       ] after the stop: %s\n", msg);

  /* Within the backoff: failed at once, without an attempt; the attempts thin out (100 ms
   * doubling): in 1.5 s at most a handful, whatever the number of operations. */
  struct counter c;
  counter_start(&c);
  int ops = 0, within = 0;
  double worst = 0;
  t0 = now_ms();
  while (now_ms() - t0 < 1500) {
    double t1 = now_ms();
    assert_int_equal(OPS(f)->device_get(f->st, 1, &out), EF_EUNAVAIL);
    double took = now_ms() - t1;
    if (took > worst) worst = took;
    assert_no_secret(store_errmsg(f->st));
    if (strstr(store_errmsg(f->st), "next attempt in")) within++;
    ops++;
    usleep(10000);
  }
  counter_stop(&c);
  int attempts = atomic_load(&c.accepted);
  printf("[ pg       ] 1.5 s without a server: %d operations, %d connection attempts, the "
         "slowest operation %.1f ms\n",
         ops, attempts, worst);
  assert_true(ops >= 50);
  assert_true(attempts >= 2 && attempts <= 6);
  assert_true(within >= ops - attempts - 1);
  assert_true(worst < 500);

  run_cmd("EF_PG_START");
  t0 = now_ms();
  int rc;
  while ((rc = OPS(f)->device_get(f->st, 1, &out)) == EF_EUNAVAIL && now_ms() - t0 < 8000)
    usleep(20000);
  double back = now_ms() - t0;
  assert_int_equal(rc, 0);
  store_device_clear(&out);
  printf("[ pg       ] the server back: the first operation succeeded after %.0f ms\n", back);
  assert_true(back < 6500); /* the longest backoff (5 s) and the start */
  /* Everything works again; the write that failed was not made behind the caller's back. */
  struct store_log *logs;
  size_t n;
  assert_int_equal(OPS(f)->log_query(f->st, 1, 0, 10, &logs, &n), 0);
  assert_int_equal(n, 0);
  assert_int_equal(OPS(f)->write_batch(f->st, &l, 1, NULL, 0), 0);
  assert_true(l.log_id > 0);
  struct store_device d2 = st_dev(2, "B", "m");
  assert_int_equal(OPS(f)->device_add(f->st, &d2), 0);
  assert_int_equal(OPS(f)->device_add(f->st, &d2), EF_EEXIST);
}

/* The server crashes (SIGKILL) instead: the same, without the server's goodbye. */
static void test_server_killed(void **state) {
  struct fx *f = *state;
  open_ok(f);
  struct store_device d = st_dev(1, "A", "m"), out;
  assert_int_equal(OPS(f)->device_add(f->st, &d), 0);
  run_cmd("EF_PG_KILL");
  assert_int_equal(OPS(f)->device_get(f->st, 1, &out), EF_EUNAVAIL);
  assert_non_null(strstr(store_errmsg(f->st), "database unavailable: "));
  run_cmd("EF_PG_START");
  double t0 = now_ms();
  int rc;
  while ((rc = OPS(f)->device_get(f->st, 1, &out)) == EF_EUNAVAIL && now_ms() - t0 < 8000)
    usleep(20000);
  assert_int_equal(rc, 0);
  store_device_clear(&out);
}

/* ===== TLS ===== */

static void test_tls(void **state) {
  struct fx *f = *state;
  const char *ca = getenv("EF_PG_CA"), *wrong = getenv("EF_PG_WRONG_CA");
  if (!ca || !wrong) fail_msg("EF_PG_CA / EF_PG_WRONG_CA not set: run with dbserver_pg.py --tls");
  char query[600], url[1200], err[512];
  snprintf(query, sizeof query, "?sslmode=verify-full&sslrootcert=%s&application_name=ef_tls_%d",
           ca, (int)getpid());
  url_for(url, sizeof url, f->db, query);
  struct store *st = NULL;
  assert_int_equal(store_open(url, &st, err, sizeof err), 0);
  struct store_device d = st_dev(1, "A", "m");
  assert_int_equal(st->ops->device_add(st, &d), 0);
  /* A connection with that URL is encrypted ... */
  PGconn *c = PQconnectdb(url);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  PGresult *r = PQexec(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  assert_string_equal(PQgetvalue(r, 0, 0), "t");
  PQclear(r);
  /* ... and so is the store's own. */
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT bool_and(s.ssl) AND count(*) = 2 FROM pg_stat_ssl s JOIN "
                            "pg_stat_activity a USING (pid) WHERE a.application_name = "
                            "'ef_tls_%d'", (int)getpid());
  r = PQexec(c, sql);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  assert_string_equal(PQgetvalue(r, 0, 0), "t");
  PQclear(r);
  PQfinish(c);
  store_close(&st);

  /* A server certificate the given root did not sign: refused, clearly. */
  snprintf(query, sizeof query, "?sslmode=verify-full&sslrootcert=%s", wrong);
  url_for(url, sizeof url, f->db, query);
  assert_int_equal(store_open(url, &st, err, sizeof err), EF_EUNAVAIL);
  printf("[ pg       ] a wrong root certificate: %s\n", err);
  assert_non_null(strstr(err, "certificate verify failed"));
  assert_no_secret(err);
  /* sslmode=disable: plain. */
  url_for(url, sizeof url, f->db, "?sslmode=disable");
  c = PQconnectdb(url);
  r = PQexec(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
  assert_string_equal(PQgetvalue(r, 0, 0), "f");
  PQclear(r);
  PQfinish(c);
  assert_int_equal(store_open(url, &st, err, sizeof err), 0);
  store_close(&st);
}

/* ===== speed (printed) ===== */

static void test_batch_speed(void **state) {
  struct fx *f = *state;
  open_ok(f);
  enum { NDEV = 5000, NLOG = 4096 };
  struct store_device *ds = ef_calloc(NDEV, sizeof *ds);
  char (*sn)[16] = ef_calloc(NDEV, sizeof *sn);
  for (size_t i = 0; i < NDEV; i++) {
    snprintf(sn[i], sizeof sn[i], "S%zu", i);
    ds[i] = st_dev(1 + i, sn[i], "m");
  }
  assert_int_equal(OPS(f)->device_add_batch(f->st, ds, NDEV, NULL), 0);
  struct store_log *logs = ef_calloc(NLOG, sizeof *logs);
  struct store_state *states = ef_calloc(NDEV, sizeof *states);
  for (size_t i = 0; i < NLOG; i++)
    logs[i] = (struct store_log){.device_id = 1 + i % NDEV, .event = "status_upload",
                                 .detail = "{\"cpu\":12.5,\"mem\":40.1}", .result = "success",
                                 .time = 5000 + (int64_t)i};
  for (size_t i = 0; i < 500; i++)
    states[i] = (struct store_state){.device_id = 1 + i * 3, .state = "online", .time = 6000};
  double best = 1e9;
  for (int round = 0; round < 3; round++) {
    double t0 = now_ms();
    assert_int_equal(OPS(f)->write_batch(f->st, logs, NLOG, states, 500), 0);
    double t = now_ms() - t0;
    if (t < best) best = t;
  }
  for (size_t i = 1; i < NLOG; i++) assert_true(logs[i].log_id == logs[i - 1].log_id + 1);
  printf("[ timing ] write_batch(%d logs + 500 states): best of 3 %.1f ms\n", NLOG, best);
  ef_free(ds);
  ef_free(sn);
  ef_free(logs);
  ef_free(states);
}

/* The ways to insert a write-behind batch, side by side on a scratch table with device_logs'
 * columns and indexes (printed, not asserted; docs/store.md#postgresql-statements-and-batches): a
 * prepared INSERT per row (a round trip each), the same INSERTs in libpq's pipeline mode (one
 * round trip, a statement per row), and the backend's way, one INSERT ... SELECT FROM unnest() of
 * array parameters. */
static void check_ok(PGconn *c, PGresult *r) {
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_PIPELINE_SYNC)
    fail_msg("%s", PQerrorMessage(c));
  PQclear(r);
}

static void test_batch_methods(void **state) {
  struct fx *f = *state;
  enum { N = 4096 };
  PGconn *c = PQconnectdb(f->url);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  check_ok(c, PQexec(c, "CREATE TABLE scratch (log_id bigint GENERATED ALWAYS AS IDENTITY "
                        "PRIMARY KEY, device_id bigint NOT NULL, event text NOT NULL, detail "
                        "text, result text, time bigint NOT NULL); CREATE INDEX ON scratch "
                        "(device_id, time); CREATE INDEX ON scratch (time)"));
  check_ok(c, PQprepare(c, "one", "INSERT INTO scratch (device_id, event, detail, result, time) "
                               "VALUES ($1, $2, $3, $4, $5) RETURNING log_id", 0, NULL));
  check_ok(c, PQprepare(c, "many", "INSERT INTO scratch (device_id, event, detail, result, time) "
                                "SELECT d, e, x, r, t FROM unnest($1::bigint[], $2::text[], "
                                "$3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY AS "
                                "u (d, e, x, r, t, n) ORDER BY n RETURNING log_id", 0, NULL));
  static const char detail[] = "{\"cpu\":12.5,\"mem\":40.1}";
  char dev[24], tm[24];
  double best[3] = {1e9, 1e9, 1e9};
  for (int round = 0; round < 3; round++) {
    double t0 = now_ms();
    check_ok(c, PQexec(c, "BEGIN"));
    for (int i = 0; i < N; i++) {
      snprintf(dev, sizeof dev, "%d", 1000 + i % 500);
      snprintf(tm, sizeof tm, "%d", 5000 + i);
      const char *v[5] = {dev, "status_upload", detail, "success", tm};
      check_ok(c, PQexecPrepared(c, "one", 5, v, NULL, NULL, 0));
    }
    check_ok(c, PQexec(c, "COMMIT"));
    double t = now_ms() - t0;
    if (t < best[0]) best[0] = t;

    t0 = now_ms();
    assert_int_equal(PQenterPipelineMode(c), 1);
    PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
    for (int i = 0; i < N; i++) {
      snprintf(dev, sizeof dev, "%d", 1000 + i % 500);
      snprintf(tm, sizeof tm, "%d", 5000 + i);
      const char *v[5] = {dev, "status_upload", detail, "success", tm};
      assert_int_equal(PQsendQueryPrepared(c, "one", 5, v, NULL, NULL, 0), 1);
    }
    PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
    PQpipelineSync(c);
    for (int i = 0; i < N + 2; i++) {
      check_ok(c, PQgetResult(c));
      assert_null(PQgetResult(c)); /* the end of that command's results */
    }
    check_ok(c, PQgetResult(c)); /* the sync */
    assert_int_equal(PQexitPipelineMode(c), 1);
    t = now_ms() - t0;
    if (t < best[1]) best[1] = t;

    t0 = now_ms();
    struct store_log *logs = ef_calloc(N, sizeof *logs);
    for (int i = 0; i < N; i++)
      logs[i] = (struct store_log){.device_id = 1000 + (uint64_t)(i % 500),
                                   .event = "status_upload", .detail = (char *)detail,
                                   .result = "success", .time = 5000 + i};
    char *cols[5];
    size_t cap = (size_t)N * 48 + 16;
    for (int k = 0; k < 5; k++) {
      cols[k] = ef_malloc(cap);
      cols[k][0] = '\0';
    }
    size_t len[5] = {0};
    for (int i = 0; i < N; i++) { /* the array literals, as store_pg.c writes them */
      const char *sep = i ? "," : "{";
      len[0] += (size_t)snprintf(cols[0] + len[0], cap - len[0], "%s%llu", sep,
                                 (unsigned long long)logs[i].device_id);
      len[1] += (size_t)snprintf(cols[1] + len[1], cap - len[1], "%s\"status_upload\"", sep);
      len[2] += (size_t)snprintf(cols[2] + len[2], cap - len[2],
                                 "%s\"{\\\"cpu\\\":12.5,\\\"mem\\\":40.1}\"", sep);
      len[3] += (size_t)snprintf(cols[3] + len[3], cap - len[3], "%s\"success\"", sep);
      len[4] += (size_t)snprintf(cols[4] + len[4], cap - len[4], "%s%lld", sep,
                                 (long long)logs[i].time);
    }
    for (int k = 0; k < 5; k++) snprintf(cols[k] + len[k], cap - len[k], "}");
    const char *v[5] = {cols[0], cols[1], cols[2], cols[3], cols[4]};
    PGresult *r = PQexecPrepared(c, "many", 5, v, NULL, NULL, 0);
    assert_int_equal(PQntuples(r), N);
    check_ok(c, r);
    t = now_ms() - t0;
    if (t < best[2]) best[2] = t;
    for (int k = 0; k < 5; k++) ef_free(cols[k]);
    ef_free(logs);
  }
  PQfinish(c);
  printf("[ timing ] %d log rows in one transaction, best of 3: a round trip per row %.1f ms, "
         "pipeline mode %.1f ms, unnest() of arrays %.1f ms\n",
         N, best[0], best[1], best[2]);
}

/* The password of g_url, as typed (decoded) and as written. */
static void read_secret(void) {
  const char *p = strstr(g_url, "://");
  const char *at = p ? strchr(p + 3, '@') : NULL;
  const char *colon = p ? strchr(p + 3, ':') : NULL;
  if (!at || !colon || colon > at) return;
  snprintf(g_encoded, sizeof g_encoded, "%.*s", (int)(at - colon - 1), colon + 1);
  size_t o = 0;
  for (const char *c = colon + 1; c < at && o + 1 < sizeof g_secret; c++) {
    if (*c == '%' && c + 2 < at) {
      char hex[3] = {c[1], c[2], 0};
      g_secret[o++] = (char)strtol(hex, NULL, 16);
      c += 2;
    } else {
      g_secret[o++] = *c;
    }
  }
  g_secret[o] = '\0';
  const char *port = strchr(at, ':');
  g_port = port ? atoi(port + 1) : 5432;
}

int main(void) {
  g_url = getenv("EF_STORE_URL");
  if (!g_url || strncmp(g_url, "postgresql://", 13) != 0) {
    printf("test_store_pg: no PostgreSQL server (EF_STORE_URL): run it as "
           "`tests/helpers/dbserver_pg.py run --tls -- test_store_pg_own` (ctest does)\n");
    return 77;
  }
  read_secret();
  if (strlen(g_secret) < 19) {
    printf("test_store_pg: EF_STORE_URL has no password to look for in messages\n");
    return 1;
  }
  const struct CMUnitTest tests[] = {
#define T_(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
      T_(test_url_forms),
      T_(test_must_exist),
      T_(test_migrations),
      T_(test_concurrent_migration),
      T_(test_id_extremes),
      T_(test_error_mapping),
      T_(test_reconnect),
      T_(test_server_killed),
      T_(test_tls),
      T_(test_batch_speed),
      T_(test_batch_methods),
#undef T_
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
