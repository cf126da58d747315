/* SPDX-License-Identifier: MIT */
/* test_store_mysql.c -- what is the MariaDB/MySQL backend's own (store_mysql.c, mysql_url.c);
 * the contract every backend meets is test_store.c, run against MariaDB as test_store_mysql.
 *
 * The URL tests need nothing. The others need a server: ctest runs this file through
 * tests/helpers/dbserver_mysql.py, which starts a throw-away MariaDB on 127.0.0.1 and sets
 * EF_STORE_URL (mysql://ef:PASSWORD@127.0.0.1:PORT/ef), EF_STORE_RESET (empties `ef`),
 * EF_MY_STOP / EF_MY_START (stop and start that server), EF_MY_SOCKET and, with openssl,
 * EF_MY_TLS_CA / EF_MY_TLS_OTHER_CA (the CA that signed the server's certificate, and one that
 * did not). Without EF_STORE_URL the server tests are skipped.
 *
 * Covered: URL parsing (percent-encoding, IPv6, socket, TLS options, refusals) and that no
 * message carries the password; the URL as edgefleetd logs it (store_url_redact); a wrong
 * password; must_exist (no database, an empty one);
 * creating a missing database; the migrations (ef_schema, a newer schema refused, a device
 * column added); check; 64-bit ids at the extremes; EF_EEXIST without the key's value in the
 * message; long and non-ASCII text; the unix socket; reconnecting with backoff; TLS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <mysql.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edgefleet/error.h"
#include "mem.h"
#include "mysql_url.h"
#include "store.h"
#include "store_mysql.h"
#include "store_testutil.h"

static const char *g_url;   /* $EF_STORE_URL: the test server's database `ef` */
static const char *g_reset; /* $EF_STORE_RESET */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* The test server's URL with another database name and/or extra query text. */
static char *url_with(const char *db, const char *query) {
  const char *slash = strrchr(g_url, '/');
  assert_non_null(slash);
  return ef_asprintf("%.*s/%s%s%s", (int)(slash - g_url), g_url, db ? db : "ef",
                     query ? "?" : "", query ? query : "");
}

static void reset_db(void) { assert_int_equal(system(g_reset), 0); }

/* Run SQL on the test server as the test user (a connection of our own). */
static void sql(const char *db, const char *text) {
  struct store_mysql_url u;
  char err[256];
  assert_int_equal(store_mysql_url_parse(g_url, &u, err, sizeof err), 0);
  MYSQL *m = mysql_init(NULL);
  if (!mysql_real_connect(m, u.host, u.user, u.password, db, u.port, NULL, 0))
    fail_msg("connect: %s", mysql_error(m));
  if (mysql_query(m, text)) fail_msg("%s: %s", text, mysql_error(m));
  MYSQL_RES *r = mysql_store_result(m);
  if (r) mysql_free_result(r);
  mysql_close(m);
  store_mysql_url_clear(&u);
}

/* The first value of a query's first row, as a new string ("" for none). */
static char *sql_value(const char *db, const char *text) {
  struct store_mysql_url u;
  char err[256];
  assert_int_equal(store_mysql_url_parse(g_url, &u, err, sizeof err), 0);
  MYSQL *m = mysql_init(NULL);
  if (!mysql_real_connect(m, u.host, u.user, u.password, db, u.port, NULL, 0))
    fail_msg("connect: %s", mysql_error(m));
  if (mysql_query(m, text)) fail_msg("%s: %s", text, mysql_error(m));
  MYSQL_RES *r = mysql_store_result(m);
  MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
  char *v = ef_strdup(row && row[0] ? row[0] : "");
  if (r) mysql_free_result(r);
  mysql_close(m);
  store_mysql_url_clear(&u);
  return v;
}

static int server_setup(void **state) {
  (void)state;
  if (g_url) reset_db();
  return 0;
}

#define NEED_SERVER()                                                                            \
  do {                                                                                           \
    if (!g_url) skip();                                                                          \
  } while (0)

/* ===== URLs (no server) ===== */

static void test_url_parse(void **state) {
  (void)state;
  struct store_mysql_url u;
  char err[256];
  assert_int_equal(store_mysql_url_parse("mysql://us%40er:p%3Aa%2Fs%40s%25w%26d@db.example:3307/"
                                         "fleet%2Dprod?ssl-ca=%2Fetc%2Fca.pem&read_timeout=7",
                                         &u, err, sizeof err),
                   0);
  assert_string_equal(u.user, "us@er");
  assert_string_equal(u.password, "p:a/s@s%w&d");
  assert_string_equal(u.host, "db.example");
  assert_int_equal(u.port, 3307);
  assert_string_equal(u.database, "fleet-prod");
  assert_string_equal(u.ssl_ca, "/etc/ca.pem");
  assert_int_equal(u.ssl_mode, STORE_MYSQL_SSL_VERIFY_IDENTITY); /* ssl-ca alone */
  assert_int_equal(u.read_timeout, 7);
  assert_int_equal(u.connect_timeout, 5);
  char where[128];
  store_mysql_url_where(&u, where, sizeof where);
  assert_string_equal(where, "db.example:3307");
  store_mysql_url_clear(&u);
  assert_null(u.password);

  /* defaults; a raw '@' in the password (the last '@' ends it); IPv6 */
  assert_int_equal(store_mysql_url_parse("mysql://ef:a@b@[::1]/ef", &u, err, sizeof err), 0);
  assert_string_equal(u.password, "a@b");
  assert_string_equal(u.host, "::1");
  assert_int_equal(u.port, 3306);
  assert_int_equal(u.ssl_mode, STORE_MYSQL_SSL_DISABLED);
  store_mysql_url_where(&u, where, sizeof where);
  assert_string_equal(where, "[::1]:3306");
  store_mysql_url_clear(&u);

  /* a socket, no host, no password; ssl=1 and an explicit mode */
  assert_int_equal(store_mysql_url_parse("mysql://ef@/ef?socket=/run/my%20sql.sock&ssl=1", &u,
                                         err, sizeof err),
                   0);
  assert_null(u.password);
  assert_string_equal(u.socket, "/run/my sql.sock");
  assert_int_equal(u.ssl_mode, STORE_MYSQL_SSL_REQUIRED);
  store_mysql_url_where(&u, where, sizeof where);
  assert_string_equal(where, "socket /run/my sql.sock");
  store_mysql_url_clear(&u);
  assert_int_equal(store_mysql_url_parse("mysql://ef:x@h/d?ssl-ca=/c&SSL_MODE=required", &u,
                                         err, sizeof err),
                   0);
  assert_int_equal(u.ssl_mode, STORE_MYSQL_SSL_REQUIRED);
  store_mysql_url_clear(&u);
}

static void test_url_refused_without_password(void **state) {
  (void)state;
  static const char *const bad[] = {
      "mysql://ef:S3cr%2Ft@h:0/db",             /* port 0 */
      "mysql://ef:S3cr%2Ft@h:99999/db",         /* port too big */
      "mysql://ef:S3cr%2Ft@h:12x/db",           /* port not a number */
      "mysql://ef:S3cr%2Ft@h/",                 /* no database */
      "mysql://ef:S3cr%2Ft@h",                  /* no database */
      "mysql://ef:S3cr%zzt@h/db",               /* bad escape in the password */
      "mysql://ef:S3cr%2Ft@h/d%00b",            /* encoded NUL */
      "mysql://ef:S3cr%2Ft@h/db?sslmode=x",     /* unknown option */
      "mysql://ef:S3cr%2Ft@h/db?ssl-mode=maybe",/* bad mode */
      "mysql://ef:S3cr%2Ft@h/db?ssl-cert=/c",   /* cert without key */
      "mysql://ef:S3cr%2Ft@h/db?read-timeout=0",
      "mysql://ef:S3cr%2Ft@/db",                /* no host, no socket */
      "mysql://:S3cr%2Ft@h/db",                 /* no user */
      "mysql://h/db",                           /* no user */
      "mysql://ef:S3cr%2Ft@h/a`b",              /* a backquote in the database name */
      "mysql://ef:S3cr%2Ft@h/db?socket",        /* option without a value */
      "mysql://ef:S3cr%2Ft@[::1/db",            /* unclosed bracket */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct store_mysql_url u;
    char err[256];
    int rc = store_mysql_url_parse(bad[i], &u, err, sizeof err);
    store_mysql_url_clear(&u);
    if (rc != EF_ECONFIG) fail_msg("accepted: %s", bad[i]);
    assert_non_null(strstr(err, "mysql store URL: "));
    assert_null(strstr(err, "S3cr"));
    /* and the same through store_open */
    struct store *st = NULL;
    assert_int_equal(store_open(bad[i], &st, err, sizeof err), EF_ECONFIG);
    assert_null(st);
    assert_null(strstr(err, "S3cr"));
  }
}

/* store_url_redact (store.c): what edgefleetd logs of a mysql:// database URL. */
static void test_url_redacted(void **state) {
  (void)state;
  static const char *const cases[][2] = {
      {"mysql://ef:S3cr%40t@127.0.0.1:3306/ef?ssl-ca=/x",
       "mysql://ef:***@127.0.0.1:3306/ef?ssl-ca=/x"},
      {"mysql://ef:a@b@h/d", "mysql://ef:***@h/d"},
      {"mysql://ef@h/d?socket=/run/m.sock", "mysql://ef@h/d?socket=/run/m.sock"},
      {"mysql://ef:S3cr3t@/ef?socket=/run/m.sock", "mysql://ef:***@/ef?socket=/run/m.sock"},
  };
  char buf[128];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    assert_string_equal(store_url_redact(cases[i][0], buf, sizeof buf), cases[i][1]);
}

/* ===== Connecting ===== */

static void test_wrong_password(void **state) {
  (void)state;
  NEED_SERVER();
  /* the test URL with its password replaced */
  const char *at = strrchr(g_url, '@');
  char *url = ef_asprintf("mysql://ef:Wr%%40ngPassw0rd%s", at);
  struct store *st = NULL;
  char err[512];
  assert_int_equal(store_open(url, &st, err, sizeof err), EF_EAUTH);
  assert_null(st);
  assert_non_null(strstr(err, "Access denied"));
  assert_null(strstr(err, "Wr@ngPassw0rd"));
  assert_null(strstr(err, "Wr%40ngPassw0rd"));
  ef_free(url);
  /* nothing listens on port 1: unavailable, at once */
  url = ef_strdup("mysql://ef:Wr%40ng@127.0.0.1:1/ef?connect-timeout=2");
  double t0 = now_s();
  assert_int_equal(store_open(url, &st, err, sizeof err), EF_EUNAVAIL);
  assert_true(now_s() - t0 < 2.0);
  assert_non_null(strstr(err, "database unavailable: cannot connect to 127.0.0.1:1"));
  assert_null(strstr(err, "Wr@ng"));
  ef_free(url);
}

static void test_must_exist(void **state) {
  (void)state;
  NEED_SERVER();
  sql(NULL, "DROP DATABASE IF EXISTS ef_new");
  char *url = url_with("ef_new", NULL);
  struct store *st = NULL;
  char err[512];
  struct store_open_opts must = {.must_exist = true};
  /* no such database: refused, and not created */
  assert_int_equal(store_open_with(url, &must, &st, err, sizeof err), EF_ENOENT);
  assert_non_null(strstr(err, "does not exist"));
  char *n = sql_value(NULL, "SELECT COUNT(*) FROM information_schema.SCHEMATA "
                            "WHERE SCHEMA_NAME = 'ef_new'");
  assert_string_equal(n, "0");
  ef_free(n);
  /* an empty database: refused, nothing written */
  assert_int_equal(store_open_with(g_url, &must, &st, err, sizeof err), EF_ENOENT);
  assert_non_null(strstr(err, "no edgefleet schema"));
  n = sql_value(NULL, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ef'");
  assert_string_equal(n, "0");
  ef_free(n);
  /* without must_exist a missing database is created with the schema ... */
  assert_int_equal(store_open(url, &st, err, sizeof err), 0);
  struct store_device d = st_dev(1, "A", "m");
  assert_int_equal(st->ops->device_add(st, &d), 0);
  store_close(&st);
  /* ... and then must_exist opens it */
  assert_int_equal(store_open_with(url, &must, &st, err, sizeof err), 0);
  struct store_device out;
  assert_int_equal(st->ops->device_get(st, 1, &out), 0);
  store_device_clear(&out);
  store_close(&st);
  /* a check of a sound database passes */
  struct store_open_opts quick = {.check = STORE_CHECK_QUICK}, full = {.check = STORE_CHECK_FULL};
  assert_int_equal(store_open_with(url, &quick, &st, err, sizeof err), 0);
  store_close(&st);
  assert_int_equal(store_open_with(url, &full, &st, err, sizeof err), 0);
  store_close(&st);
  sql(NULL, "DROP DATABASE ef_new");
  ef_free(url);
}

static void test_migrations(void **state) {
  (void)state;
  NEED_SERVER();
  struct store *st = NULL;
  char err[512];
  assert_int_equal(store_open(g_url, &st, err, sizeof err), 0);
  store_close(&st);
  char *v = sql_value("ef", "SELECT CONCAT(COUNT(*), ':', MAX(step)) FROM ef_schema");
  assert_string_equal(v, "1:1");
  ef_free(v);
  /* InnoDB, utf8mb4, 64-bit unsigned ids */
  v = sql_value("ef", "SELECT CONCAT(ENGINE, ':', TABLE_COLLATION) FROM information_schema.TABLES "
                      "WHERE TABLE_SCHEMA = 'ef' AND TABLE_NAME = 'devices'");
  assert_string_equal(v, "InnoDB:utf8mb4_nopad_bin");
  ef_free(v);
  v = sql_value("ef", "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                      "'ef' AND TABLE_NAME = 'device_logs' AND COLUMN_NAME = 'log_id'");
  assert_string_equal(v, "bigint(20) unsigned");
  ef_free(v);

  /* a device column the database lacks is added at open */
  sql("ef", "ALTER TABLE devices DROP COLUMN lte_imei");
  assert_int_equal(store_open(g_url, &st, err, sizeof err), 0);
  struct store_device d = st_dev(5, "A", "m"), out;
  d.lte_imei = "860000000000001";
  assert_int_equal(st->ops->device_add(st, &d), 0);
  assert_int_equal(st->ops->device_get(st, 5, &out), 0);
  assert_string_equal(out.lte_imei, "860000000000001");
  store_device_clear(&out);
  store_close(&st);

  /* a database of a newer edgefleet is refused and left alone */
  sql("ef", "INSERT INTO ef_schema (step, description, applied_time) VALUES (99, 'future', 1)");
  assert_int_equal(store_open(g_url, &st, err, sizeof err), EF_EDB);
  assert_null(st);
  assert_non_null(strstr(err, "schema version 99"));
  assert_non_null(strstr(err, "newer edgefleet"));
  v = sql_value("ef", "SELECT COUNT(*) FROM devices");
  assert_string_equal(v, "1");
  ef_free(v);
}

/* ===== Values ===== */

static void test_uint64_extremes(void **state) {
  (void)state;
  NEED_SERVER();
  struct store *st = NULL;
  char err[512];
  assert_int_equal(store_open(g_url, &st, err, sizeof err), 0);
  const uint64_t ids[] = {UINT64_MAX, UINT64_MAX - 1, (uint64_t)INT64_MAX + 1, 1, 0};
  char sn[5][16];
  for (int i = 0; i < 5; i++) {
    snprintf(sn[i], sizeof sn[i], "X%d", i);
    struct store_device d = st_dev(ids[i], sn[i], "m");
    assert_int_equal(st->ops->device_add(st, &d), 0);
  }
  struct store_device *arr;
  size_t n;
  assert_int_equal(st->ops->device_list(st, &arr, &n), 0);
  assert_int_equal(n, 5);
  /* unsigned order (docs/store.md: SQLite orders ids above INT64_MAX first) */
  assert_true(arr[0].device_id == 0);
  assert_true(arr[1].device_id == 1);
  assert_true(arr[2].device_id == (uint64_t)INT64_MAX + 1);
  assert_true(arr[3].device_id == UINT64_MAX - 1);
  assert_true(arr[4].device_id == UINT64_MAX);
  store_devices_free(arr, n);

  struct store_group g = st_grp(UINT64_MAX, "top");
  assert_int_equal(st->ops->group_add(st, &g), 0);
  assert_int_equal(st->ops->relation_add(st, UINT64_MAX, UINT64_MAX, INT64_MAX), 0);
  bool in = false;
  assert_int_equal(st->ops->relation_exists(st, UINT64_MAX, UINT64_MAX, &in), 0);
  assert_true(in);
  struct store_group *gs;
  assert_int_equal(st->ops->device_groups(st, UINT64_MAX, &gs, &n), 0);
  assert_int_equal(n, 1);
  assert_true(gs[0].group_id == UINT64_MAX);
  store_groups_free(gs, n);

  struct store_log l = {.device_id = UINT64_MAX, .event = "e", .time = INT64_MIN};
  struct store_log l2 = {.device_id = UINT64_MAX, .event = "f", .time = INT64_MAX - 1};
  assert_int_equal(st->ops->write_batch(st, &l, 1, NULL, 0), 0);
  assert_int_equal(st->ops->write_batch(st, &l2, 1, NULL, 0), 0);
  struct store_log *logs;
  assert_int_equal(st->ops->log_query(st, UINT64_MAX, 0, SIZE_MAX, &logs, &n), 0);
  assert_int_equal(n, 2);
  assert_true(logs[0].time == INT64_MAX - 1);
  assert_true(logs[1].time == INT64_MIN);
  assert_true(logs[1].device_id == UINT64_MAX);
  store_logs_free(logs, n);

  struct store_token t = {.token_id = UINT64_MAX, .scope = "admin", .token_hash = "h",
                          .expires_time = INT64_MAX, .created_time = INT64_MIN};
  assert_int_equal(st->ops->token_add(st, &t), 0);
  uint64_t tid = UINT64_MAX;
  int64_t when = INT64_MAX;
  assert_int_equal(st->ops->token_touch(st, &tid, &when, 1), 0);
  struct store_token *ts;
  assert_int_equal(st->ops->token_list(st, &ts, &n), 0);
  assert_int_equal(n, 1);
  assert_true(ts[0].token_id == UINT64_MAX);
  assert_true(ts[0].expires_time == INT64_MAX);
  assert_true(ts[0].created_time == INT64_MIN);
  assert_true(ts[0].last_used_time == INT64_MAX);
  store_tokens_free(ts, n);

  struct store_audit a = {.time = 1, .token_id = UINT64_MAX, .route = "r", .outcome = "ok",
                          .status = 200};
  assert_int_equal(st->ops->audit_append(st, &a, 1), 0);
  struct store_audit *as;
  assert_int_equal(st->ops->audit_query(st, &(struct store_audit_filter){
                                                .token = "18446744073709551615"},
                                        &as, &n),
                   0);
  assert_int_equal(n, 1);
  assert_true(as[0].token_id == UINT64_MAX);
  store_audits_free(as, n);

  struct store_miner m = {.miner_id = "f0", .record = "{}", .device_id = UINT64_MAX};
  assert_int_equal(st->ops->miner_write(st, &m, 1), 0);
  struct store_miner *ms;
  assert_int_equal(st->ops->miner_list(st, &ms, &n), 0);
  assert_true(ms[0].device_id == UINT64_MAX);
  store_miners_free(ms, n);
  store_close(&st);
}

static void test_text_and_duplicates(void **state) {
  (void)state;
  NEED_SERVER();
  struct store *st = NULL;
  char err[512];
  assert_int_equal(store_open(g_url, &st, err, sizeof err), 0);
  /* long text (past the read buffer, in several columns of one row) and 4-byte UTF-8 */
  size_t big = 300000;
  char *detail = ef_malloc(big + 1), *nic = ef_malloc(5000);
  for (size_t i = 0; i < big; i++) detail[i] = (char)('a' + i % 26);
  detail[big] = '\0';
  memset(nic, 'n', 4999);
  nic[4999] = '\0';
  struct store_device d = st_dev(1, "SN\xf0\x9f\x98\x80", "m\xc3\xa9"), out;
  d.nic = nic;
  d.dev_description = detail;
  d.device_name = "";
  assert_int_equal(st->ops->device_add(st, &d), 0);
  assert_int_equal(st->ops->device_find(st, "SN\xf0\x9f\x98\x80", "m\xc3\xa9", &out), 0);
  assert_string_equal(out.nic, nic);
  assert_string_equal(out.dev_description, detail);
  assert_string_equal(out.device_name, "");
  store_device_clear(&out);
  /* case and trailing spaces are significant, as in SQLite */
  struct store_device d2 = st_dev(2, "sn\xf0\x9f\x98\x80", "m\xc3\xa9"),
                      d3 = st_dev(3, "SN\xf0\x9f\x98\x80 ", "m\xc3\xa9");
  assert_int_equal(st->ops->device_add(st, &d2), 0);
  assert_int_equal(st->ops->device_add(st, &d3), 0);
  struct store_log l = {.device_id = 1, .event = "status_upload", .detail = detail, .time = 5};
  assert_int_equal(st->ops->write_batch(st, &l, 1, NULL, 0), 0);
  struct store_log *logs;
  size_t n;
  assert_int_equal(st->ops->log_query(st, 1, 0, 10, &logs, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(logs[0].detail, detail);
  store_logs_free(logs, n);

  /* a duplicate names the key, never the value (a token hash is a secret's digest) */
  struct store_token t = {.token_id = 1, .scope = "admin", .token_hash = "c0ffee5ecret"};
  assert_int_equal(st->ops->token_add(st, &t), 0);
  t.token_id = 2;
  assert_int_equal(st->ops->token_add(st, &t), EF_EEXIST);
  assert_non_null(strstr(store_errmsg(st), "api_tokens_hash"));
  assert_null(strstr(store_errmsg(st), "c0ffee"));
  struct store_device dup = st_dev(9, "SN\xf0\x9f\x98\x80", "m\xc3\xa9");
  assert_int_equal(st->ops->device_add(st, &dup), EF_EEXIST);
  assert_non_null(strstr(store_errmsg(st), "devices_sn_model"));
  /* a key column holds 255 characters: a longer sn is refused as invalid, not a server fault */
  char longsn[300];
  memset(longsn, 's', sizeof longsn - 1);
  longsn[sizeof longsn - 1] = '\0';
  struct store_device toolong = st_dev(10, longsn, "m");
  assert_int_equal(st->ops->device_add(st, &toolong), EF_EINVAL);
  assert_non_null(strstr(store_errmsg(st), "hardware_sn"));
  ef_free(detail);
  ef_free(nic);
  store_close(&st);
}

static void test_unix_socket(void **state) {
  (void)state;
  NEED_SERVER();
  const char *sock = getenv("EF_MY_SOCKET");
  if (!sock) skip();
  struct store_mysql_url u;
  char err[512];
  assert_int_equal(store_mysql_url_parse(g_url, &u, err, sizeof err), 0);
  char *url = ef_asprintf("mysql://ef:%s@/ef?socket=%s", u.password, sock);
  store_mysql_url_clear(&u);
  struct store *st = NULL;
  assert_int_equal(store_open(url, &st, err, sizeof err), 0);
  struct store_device d = st_dev(1, "A", "m");
  assert_int_equal(st->ops->device_add(st, &d), 0);
  store_close(&st);
  ef_free(url);
}

/* ===== Reconnecting ===== */

static void test_reconnect(void **state) {
  (void)state;
  NEED_SERVER();
  const char *stop = getenv("EF_MY_STOP"), *start = getenv("EF_MY_START");
  if (!stop || !start) skip();
  struct store *st = NULL;
  char err[512];
  assert_int_equal(store_open(g_url, &st, err, sizeof err), 0);
  struct store_device d = st_dev(1, "A", "m"), out;
  assert_int_equal(st->ops->device_add(st, &d), 0);
  st_add_logs(st, 1, 1, 3);

  assert_int_equal(system(stop), 0);
  /* the call in flight: unavailable, quickly, saying where and why */
  double t0 = now_s();
  assert_int_equal(st->ops->device_get(st, 1, &out), EF_EUNAVAIL);
  assert_true(now_s() - t0 < 1.0);
  struct store_mysql_url u;
  assert_int_equal(store_mysql_url_parse(g_url, &u, err, sizeof err), 0);
  char lost[160];
  snprintf(lost, sizeof lost, "database unavailable: connection to 127.0.0.1:%u lost: ", u.port);
  if (!strstr(store_errmsg(st), lost)) fail_msg("message: %s", store_errmsg(st));
  assert_null(strstr(store_errmsg(st), u.password));
  /* within the backoff: at once, without trying */
  t0 = now_s();
  struct store_log l = {.device_id = 1, .event = "lost", .time = 100};
  assert_int_equal(st->ops->write_batch(st, &l, 1, NULL, 0), EF_EUNAVAIL);
  assert_int_equal(l.log_id, 0);
  assert_true(now_s() - t0 < 0.05);
  assert_non_null(strstr(store_errmsg(st), "next attempt in"));
  /* after it: one attempt (refused), and the backoff doubles */
  sleep_ms(150);
  assert_int_equal(st->ops->device_get(st, 1, &out), EF_EUNAVAIL);
  if (!strstr(store_errmsg(st), "cannot connect to 127.0.0.1"))
    fail_msg("message: %s", store_errmsg(st));
  t0 = now_s();
  assert_int_equal(st->ops->device_get(st, 1, &out), EF_EUNAVAIL);
  assert_true(now_s() - t0 < 0.05);
  int wait_ms = atoi(strstr(store_errmsg(st), "next attempt in ") + 16);
  assert_true(wait_ms > 100 && wait_ms <= 200);

  assert_int_equal(system(start), 0);
  sleep_ms(250); /* past the backoff */
  /* the next call connects again; statements are prepared anew on the new connection */
  assert_int_equal(st->ops->device_get(st, 1, &out), 0);
  assert_string_equal(out.hardware_sn, "A");
  store_device_clear(&out);
  struct store_log *logs;
  size_t n;
  assert_int_equal(st->ops->log_query(st, 1, 0, 10, &logs, &n), 0);
  assert_int_equal(n, 3); /* the failed write was not retried behind the caller's back */
  store_logs_free(logs, n);
  assert_int_equal(st->ops->write_batch(st, &l, 1, NULL, 0), 0);
  assert_true(l.log_id > 0);
  struct store_device d2 = st_dev(2, "B", "m");
  assert_int_equal(st->ops->device_add(st, &d2), 0);
  store_mysql_url_clear(&u);
  store_close(&st);
}

/* ===== TLS ===== */

static void test_tls(void **state) {
  (void)state;
  NEED_SERVER();
  const char *ca = getenv("EF_MY_TLS_CA"), *other = getenv("EF_MY_TLS_OTHER_CA");
  if (!ca || !other) skip();
  struct store *st = NULL;
  char err[512], cipher[128];
  /* plain: no cipher */
  assert_int_equal(store_open(g_url, &st, err, sizeof err), 0);
  assert_int_equal(store_mysql_session_status(st, "Ssl_cipher", cipher, sizeof cipher), 0);
  assert_string_equal(cipher, "");
  store_close(&st);
  /* verified against the CA that signed the server's certificate (for 127.0.0.1) */
  char *q = ef_asprintf("ssl-mode=verify-identity&ssl-ca=%s", ca);
  char *url = url_with(NULL, q);
  assert_int_equal(store_open(url, &st, err, sizeof err), 0);
  assert_int_equal(store_mysql_session_status(st, "Ssl_cipher", cipher, sizeof cipher), 0);
  assert_true(cipher[0] != '\0');
  struct store_device d = st_dev(1, "A", "m");
  assert_int_equal(st->ops->device_add(st, &d), 0);
  store_close(&st);
  ef_free(url);
  ef_free(q);
  /* encrypted, unverified */
  url = url_with(NULL, "ssl-mode=required");
  assert_int_equal(store_open(url, &st, err, sizeof err), 0);
  assert_int_equal(store_mysql_session_status(st, "Ssl_cipher", cipher, sizeof cipher), 0);
  assert_true(cipher[0] != '\0');
  store_close(&st);
  ef_free(url);
  /* another CA: refused, clearly */
  q = ef_asprintf("ssl-ca=%s", other);
  url = url_with(NULL, q);
  assert_int_equal(store_open(url, &st, err, sizeof err), EF_EUNAVAIL);
  assert_null(st);
  if (!strstr(err, "cannot connect to 127.0.0.1") ||
      (!strstr(err, "certificate") && !strstr(err, "TLS") && !strstr(err, "SSL")))
    fail_msg("message: %s", err);
  ef_free(url);
  ef_free(q);
}

int main(void) {
  g_url = getenv("EF_STORE_URL");
  g_reset = getenv("EF_STORE_RESET");
  if (g_url && (!g_url[0] || strncmp(g_url, "mysql:", 6) != 0 || !g_reset)) g_url = NULL;
  if (!g_url)
    printf("[ mysql    ] no server (EF_STORE_URL, EF_STORE_RESET): the URL tests only\n");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_url_parse),
      cmocka_unit_test(test_url_refused_without_password),
      cmocka_unit_test(test_url_redacted),
      cmocka_unit_test_setup(test_wrong_password, server_setup),
      cmocka_unit_test_setup(test_must_exist, server_setup),
      cmocka_unit_test_setup(test_migrations, server_setup),
      cmocka_unit_test_setup(test_uint64_extremes, server_setup),
      cmocka_unit_test_setup(test_text_and_duplicates, server_setup),
      cmocka_unit_test_setup(test_unix_socket, server_setup),
      cmocka_unit_test_setup(test_reconnect, server_setup),
      cmocka_unit_test_setup(test_tls, server_setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
