/* SPDX-License-Identifier: MIT */
/* store_pg.c -- the PostgreSQL backend of store.h ("postgresql://user:password@host:port/db?...",
 * handed to libpq as its connection URI).
 *
 * DESIGN
 * The handle (struct pg_store) holds one libpq connection, the URL it was opened with (to
 * reconnect; it may hold a password, so no message or log line shows it: they name
 * "host:port (database db)" only), and the text of every statement. The statements are listed
 * once, in PG_STMTS; each is prepared on every new connection (prepare_all) under its own name and
 * executed with text parameters. A `?` in PG_STMTS is numbered after the explicit $N of its
 * statement when the handle is made (number_params), so the device statements take one parameter
 * per STORE_DEVICE_FIELDS column and the struct, the schema and every statement agree by
 * construction, as in store_sqlite.c.
 *
 * Ids are uint64 in C and bigint in the database, converted bit for bit (two's complement: the
 * bits SQLite's backend stores): ids up to 2^63-1 -- every snowflake, 63 bits -- keep their order;
 * larger ones come back exactly but sort below zero, as in SQLite.
 *
 * Many rows, one round trip: the write-behind batches (write_batch, audit_append, alert_write,
 * hist_write, miner_write, token_touch) and device_add_batch send each column of their rows as one
 * array parameter and insert or update FROM unnest(...): one statement however many rows, in one
 * transaction (docs/store.md#postgresql-statements-and-batches has the measurements). Upserts
 * take the last row of each key in the batch (DISTINCT ON ... ORDER BY ordinality DESC), as the
 * row-by-row SQLite backend does.
 *
 * Connection loss: an operation that finds the server gone (the connection broken, SQLSTATE class
 * 08, 57P01..57P03) fails with EF_EUNAVAIL and drops the connection. Nothing is retried here: the
 * caller decides. The next operation connects again (and prepares the statements again); when
 * that fails, operations fail at once with EF_EUNAVAIL until a backoff delay has passed (100 ms,
 * doubled by each failed attempt up to 5 s, reset by a connection), so a dead server costs one
 * connection attempt per delay, not one per operation.
 *
 * Schema: `migrations[]` is the ordered list of SQL steps, and table schema_migrations has a row
 * per step applied. open() applies the missing steps in one transaction under an advisory lock
 * (servers opening one database at once migrate it once), refuses a database whose version is
 * above the code's, and adds any STORE_DEVICE_FIELDS column `devices` lacks, as text, as the
 * SQLite backend does. A new schema change is a new step at the end (never edit a shipped one).
 */
#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "edgefleet/error.h"
#include "log.h"
#include "mem.h"
#include "store.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define MIGRATION_LOCK "7306654316245642593" /* pg_advisory_xact_lock key: "efschema" */
#define MAX_PARAMS 32

/* ===== Schema ===== */

#define DEV_COLDEF_(col, parent, key) #col " text,\n"

static const char *const migrations[] = {
    /* 1: the SQLite backend's schema at its version 7
     * (docs/store.md#postgresql-schema-migrations-types). Text that queries sort by (miner ids,
     * host names, history owners) compares bytewise (COLLATE "C"), as SQLite's does, whatever
     * the database's locale. */
    "CREATE TABLE devices (\n"
    "device_id bigint PRIMARY KEY,\n"
    STORE_DEVICE_FIELDS(DEV_COLDEF_)
    "password text,\n"
    "pw_verifier text,\n"
    "token_hash text,\n"
    "token_expiry bigint NOT NULL DEFAULT 0,\n"
    "created_time bigint NOT NULL DEFAULT 0,\n"
    "updated_time bigint NOT NULL DEFAULT 0,\n"
    "UNIQUE (hardware_sn, hardware_model));\n"
    "CREATE TABLE group_info (\n"
    "group_id bigint PRIMARY KEY,\n"
    "group_name text NOT NULL UNIQUE,\n"
    "group_description text,\n"
    "created_time bigint NOT NULL DEFAULT 0,\n"
    "updated_time bigint NOT NULL DEFAULT 0);\n"
    "CREATE TABLE relations (\n"
    "device_id bigint NOT NULL REFERENCES devices ON DELETE CASCADE,\n"
    "group_id bigint NOT NULL REFERENCES group_info ON DELETE CASCADE,\n"
    "created_time bigint NOT NULL DEFAULT 0,\n"
    "PRIMARY KEY (device_id, group_id));\n"
    "CREATE INDEX relations_group ON relations (group_id);\n"
    "CREATE TABLE device_logs (\n"
    "log_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "device_id bigint NOT NULL,\n"
    "event text NOT NULL,\n"
    "detail text,\n"
    "result text,\n"
    "time bigint NOT NULL);\n"
    "CREATE INDEX device_logs_device_time ON device_logs (device_id, time);\n"
    "CREATE INDEX device_logs_time ON device_logs (time);\n"
    "CREATE TABLE api_tokens (\n"
    "token_id bigint PRIMARY KEY,\n"
    "name text,\n"
    "scope text NOT NULL,\n"
    "token_hash text NOT NULL UNIQUE,\n"
    "created_time bigint NOT NULL DEFAULT 0,\n"
    "groups text,\n"
    "expires_time bigint NOT NULL DEFAULT 0,\n"
    "last_used_time bigint NOT NULL DEFAULT 0);\n"
    "CREATE TABLE miner_info (\n"
    "miner_id text COLLATE \"C\" PRIMARY KEY,\n"
    "device_id bigint NOT NULL DEFAULT 0,\n"
    "record text NOT NULL,\n"
    "updated_time bigint NOT NULL DEFAULT 0);\n"
    "CREATE TABLE worker_info (\n"
    "miner_id text COLLATE \"C\" NOT NULL,\n"
    "host_name text COLLATE \"C\" NOT NULL,\n"
    "device_id bigint NOT NULL DEFAULT 0,\n"
    "record text NOT NULL,\n"
    "updated_time bigint NOT NULL DEFAULT 0,\n"
    "PRIMARY KEY (miner_id, host_name));\n"
    "CREATE TABLE audit_log (\n"
    "audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "time bigint NOT NULL,\n"
    "token_id bigint NOT NULL,\n"
    "token_name text,\n"
    "route text NOT NULL,\n"
    "target text,\n"
    "status integer NOT NULL,\n"
    "outcome text NOT NULL,\n"
    "peer text);\n"
    "CREATE INDEX audit_log_time ON audit_log (time);\n"
    "CREATE TABLE history (\n"
    "owner text COLLATE \"C\" NOT NULL,\n"
    "tier integer NOT NULL,\n"
    "time bigint NOT NULL,\n"
    "data text NOT NULL,\n"
    "PRIMARY KEY (owner, tier, time));\n"
    "CREATE INDEX history_tier_time ON history (tier, time);\n"
    "CREATE TABLE alert_log (\n"
    "log_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "time bigint NOT NULL,\n"
    "event text NOT NULL,\n"
    "rule text,\n"
    "fingerprint text,\n"
    "entry text NOT NULL);\n"
    "CREATE INDEX alert_log_time ON alert_log (time);\n"
    "CREATE INDEX alert_log_fingerprint ON alert_log (fingerprint);\n"
    "CREATE TABLE alert_state (\n"
    "key text PRIMARY KEY,\n"
    "doc text NOT NULL,\n"
    "updated_time bigint NOT NULL);\n",
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* Every table of the current schema (what open's check looks for). */
static const char *const pg_tables[] = {
    "devices",   "group_info", "relations", "device_logs", "api_tokens", "miner_info",
    "worker_info", "audit_log", "history",  "alert_log",   "alert_state", "schema_migrations",
};

static const char *const device_text_cols[] = {
#define DEV_NAME_(col, parent, key) #col,
    STORE_DEVICE_FIELDS(DEV_NAME_)
#undef DEV_NAME_
};

#define NDEV_TEXT (sizeof device_text_cols / sizeof device_text_cols[0])

static const size_t device_text_off[] = {
#define DEV_OFF_(col, parent, key) offsetof(struct store_device, col),
    STORE_DEVICE_FIELDS(DEV_OFF_)
#undef DEV_OFF_
};

/* ===== Statements ===== */

#define DEV_COL_(col, parent, key) ", " #col
#define DEV_PARAM_(col, parent, key) ", ?"
#define DEV_ARRAY_(col, parent, key) ", ?::text[]"
#define DEV_SET_(col, parent, key) ", " #col " = COALESCE(?, " #col ")"

#define DEV_COLS                                                                                   \
  "device_id" STORE_DEVICE_FIELDS(DEV_COL_) ", password, pw_verifier, token_hash, token_expiry, " \
                                            "created_time, updated_time"
#define DEV_PARAMS "?" STORE_DEVICE_FIELDS(DEV_PARAM_) ", ?, ?, ?, ?, ?, ?"
#define DEV_ARRAYS                                                                                 \
  "?::bigint[]" STORE_DEVICE_FIELDS(DEV_ARRAY_) ", ?::text[], ?::text[], ?::text[], ?::bigint[], " \
                                                "?::bigint[], ?::bigint[]"
#define GRP_COLS "group_id, group_name, group_description, created_time, updated_time"
#define LOG_COLS "log_id, device_id, event, detail, result, time"
#define TOK_COLS                                                                                   \
  "token_id, name, scope, token_hash, created_time, groups, expires_time, last_used_time"
#define ALOG_COLS "log_id, time, event, rule, fingerprint, entry"
#define AUD_COLS "audit_id, time, token_id, token_name, route, target, status, outcome, peer"
#define HIST_COLS "owner, tier, time, data"

#define PG_STMTS(X)                                                                              \
  X(DEV_INSERT, "INSERT INTO devices (" DEV_COLS ") VALUES (" DEV_PARAMS ")")                    \
  X(DEV_INSERT_MANY, "INSERT INTO devices (" DEV_COLS ") SELECT * FROM unnest(" DEV_ARRAYS ")") \
  X(DEV_GET, "SELECT " DEV_COLS " FROM devices WHERE device_id = $1")                            \
  X(DEV_FIND, "SELECT " DEV_COLS " FROM devices WHERE hardware_sn = $1 AND hardware_model = $2") \
  X(DEV_LIST, "SELECT " DEV_COLS " FROM devices ORDER BY device_id")                             \
  X(DEV_COUNT, "SELECT count(*) FROM devices")                                                   \
  X(DEV_UPDATE, "UPDATE devices SET password = COALESCE($1::text, password), "                   \
                "pw_verifier = CASE WHEN $1::text IS NULL THEN pw_verifier END, "                \
                "updated_time = $2" STORE_DEVICE_FIELDS(DEV_SET_) " WHERE device_id = $3")       \
  X(DEV_DELETE, "WITH d AS (DELETE FROM devices WHERE device_id = $1 RETURNING device_id), "     \
                "l AS (DELETE FROM device_logs WHERE device_id = $1 AND EXISTS "                 \
                "(SELECT 1 FROM d)) SELECT count(*) FROM d")                                     \
  X(DEV_SET_TOKEN, "UPDATE devices SET token_hash = $1, token_expiry = $2 WHERE device_id = $3") \
  X(DEV_SET_VERIFIER, "UPDATE devices SET pw_verifier = $1 WHERE device_id = $2")                \
  X(DEV_ALL_OFFLINE, "UPDATE devices SET dev_state = 'offline', updated_time = $1 "              \
                     "WHERE dev_state IS DISTINCT FROM 'offline'")                               \
  X(DEV_EXISTS, "SELECT 1 FROM devices WHERE device_id = $1")                                    \
  X(DEV_SET_STATES, "UPDATE devices d SET dev_state = u.state, updated_time = u.time FROM "      \
                    "(SELECT DISTINCT ON (id) id, state, time FROM unnest($1::bigint[], "        \
                    "$2::text[], $3::bigint[]) WITH ORDINALITY AS x (id, state, time, n) "       \
                    "ORDER BY id, n DESC) u WHERE d.device_id = u.id")                           \
  X(GRP_INSERT, "INSERT INTO group_info (" GRP_COLS ") VALUES ($1, $2, $3, $4, $5)")             \
  X(GRP_GET, "SELECT " GRP_COLS " FROM group_info WHERE group_id = $1")                          \
  X(GRP_LIST, "SELECT " GRP_COLS " FROM group_info ORDER BY group_id")                          \
  X(GRP_UPDATE, "UPDATE group_info SET group_name = COALESCE($1, group_name), "                  \
                "group_description = COALESCE($2, group_description), "                          \
                "updated_time = CASE WHEN $3::bigint > 0 THEN $3 ELSE updated_time END "         \
                "WHERE group_id = $4")                                                           \
  X(GRP_DELETE, "DELETE FROM group_info WHERE group_id = $1")                                    \
  X(GRP_EXISTS, "SELECT 1 FROM group_info WHERE group_id = $1")                                  \
  X(REL_INSERT, "INSERT INTO relations (device_id, group_id, created_time) VALUES ($1, $2, $3)") \
  X(REL_DELETE, "DELETE FROM relations WHERE device_id = $1 AND group_id = $2")                  \
  X(REL_EXISTS, "SELECT 1 FROM relations WHERE device_id = $1 AND group_id = $2")                \
  X(REL_DEVICE_GROUPS, "SELECT " GRP_COLS " FROM group_info WHERE group_id IN "                  \
                       "(SELECT group_id FROM relations WHERE device_id = $1) ORDER BY group_id") \
  X(REL_GROUP_DEVICES, "SELECT " DEV_COLS " FROM devices WHERE device_id IN "                    \
                       "(SELECT device_id FROM relations WHERE group_id = $1) "                  \
                       "ORDER BY device_id")                                                     \
  X(REL_GROUP_CLEAR, "DELETE FROM relations WHERE group_id = $1")                                \
  X(LOG_INSERT_MANY, "INSERT INTO device_logs (device_id, event, detail, result, time) "         \
                     "SELECT d, e, x, r, t FROM unnest($1::bigint[], $2::text[], $3::text[], "   \
                     "$4::text[], $5::bigint[]) WITH ORDINALITY AS u (d, e, x, r, t, n) "        \
                     "ORDER BY n RETURNING log_id")                                              \
  X(LOG_QUERY, "SELECT " LOG_COLS " FROM device_logs WHERE device_id = $1 AND time < $2 "        \
               "ORDER BY time DESC, log_id DESC LIMIT $3")                                       \
  X(LOG_PRUNE, "DELETE FROM device_logs WHERE time < $1")                                        \
  X(AUD_INSERT_MANY, "INSERT INTO audit_log (time, token_id, token_name, route, target, "        \
                     "status, outcome, peer) SELECT a, b, c, d, e, f, g, h FROM "                \
                     "unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], "   \
                     "$6::integer[], $7::text[], $8::text[]) WITH ORDINALITY AS "                \
                     "u (a, b, c, d, e, f, g, h, n) ORDER BY n RETURNING audit_id")              \
  X(AUD_QUERY, "SELECT " AUD_COLS " FROM audit_log WHERE audit_id < $1 AND time >= $2 "         \
               "AND time < $3 AND ($4::text IS NULL OR token_name = $4 "                        \
               "OR token_id = $10::bigint) AND ($5::text IS NULL OR route = $5) "                \
               "AND ($6::text IS NULL OR strpos(target, $6) > 0) "                               \
               "AND status BETWEEN $7 AND $8 ORDER BY audit_id DESC LIMIT $9")                   \
  X(AUD_PRUNE, "DELETE FROM audit_log WHERE audit_id IN (SELECT audit_id FROM audit_log "       \
               "WHERE time < $1 ORDER BY time, audit_id LIMIT $2)")                              \
  X(ALOG_INSERT_MANY, "INSERT INTO alert_log (time, event, rule, fingerprint, entry) "          \
                      "SELECT a, b, c, d, e FROM unnest($1::bigint[], $2::text[], $3::text[], "  \
                      "$4::text[], $5::text[]) WITH ORDINALITY AS u (a, b, c, d, e, n) "         \
                      "ORDER BY n RETURNING log_id")                                             \
  X(ALOG_QUERY, "SELECT " ALOG_COLS " FROM alert_log WHERE log_id < $1 AND time >= $2 "         \
                "AND time < $3 AND ($4::text IS NULL OR rule = $4) "                             \
                "AND ($5::text IS NULL OR fingerprint = $5) "                                    \
                "AND ($6::text IS NULL OR event = $6) ORDER BY log_id DESC LIMIT $7")            \
  X(ALOG_PRUNE, "DELETE FROM alert_log WHERE log_id IN (SELECT log_id FROM alert_log "          \
                "WHERE time < $1 ORDER BY time, log_id LIMIT $2)")                               \
  X(ASTATE_PUT, "INSERT INTO alert_state (key, doc, updated_time) VALUES ('engine', $1, $2) "   \
                "ON CONFLICT (key) DO UPDATE SET doc = excluded.doc, "                           \
                "updated_time = excluded.updated_time")                                          \
  X(ASTATE_GET, "SELECT doc FROM alert_state WHERE key = 'engine'")                              \
  X(TOK_INSERT, "INSERT INTO api_tokens (" TOK_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)") \
  X(TOK_LIST, "SELECT " TOK_COLS " FROM api_tokens ORDER BY token_id")                          \
  X(TOK_DELETE, "DELETE FROM api_tokens WHERE token_id = $1")                                    \
  X(TOK_TOUCH_MANY, "UPDATE api_tokens t SET last_used_time = GREATEST(t.last_used_time, u.m) " \
                    "FROM (SELECT id, max(time) AS m FROM unnest($1::bigint[], $2::bigint[]) "   \
                    "AS x (id, time) GROUP BY id) u WHERE t.token_id = u.id")                    \
  X(MINER_PUT_MANY, "INSERT INTO miner_info (miner_id, device_id, record, updated_time) "        \
                    "SELECT DISTINCT ON (m) m, d, r, t FROM unnest($1::text[], $2::bigint[], "   \
                    "$3::text[], $4::bigint[]) WITH ORDINALITY AS x (m, d, r, t, n) "            \
                    "ORDER BY m, n DESC ON CONFLICT (miner_id) DO UPDATE SET "                   \
                    "device_id = excluded.device_id, record = excluded.record, "                 \
                    "updated_time = excluded.updated_time")                                      \
  X(WORKER_SYNC_MANY, "WITH u AS (SELECT DISTINCT ON (m, h) m, h, d, r, t FROM "                \
                      "unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[]) "  \
                      "WITH ORDINALITY AS x (m, h, d, r, t, n) ORDER BY m, h, n DESC), "         \
                      "gone AS (DELETE FROM worker_info w USING u WHERE u.r IS NULL "            \
                      "AND w.miner_id = u.m AND w.host_name = u.h) "                             \
                      "INSERT INTO worker_info (miner_id, host_name, device_id, record, "        \
                      "updated_time) SELECT m, h, d, r, t FROM u WHERE r IS NOT NULL "           \
                      "ON CONFLICT (miner_id, host_name) DO UPDATE SET "                         \
                      "device_id = excluded.device_id, record = excluded.record, "               \
                      "updated_time = excluded.updated_time")                                    \
  X(MINER_LIST, "SELECT miner_id, NULL::text, record, device_id, updated_time FROM miner_info " \
                "UNION ALL SELECT miner_id, host_name, record, device_id, updated_time "         \
                "FROM worker_info ORDER BY 2 NULLS FIRST, 1")                                    \
  X(HIST_PUT_MANY, "INSERT INTO history (" HIST_COLS ") SELECT DISTINCT ON (o, k, t) o, k, t, d " \
                   "FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::text[]) "           \
                   "WITH ORDINALITY AS x (o, k, t, d, n) ORDER BY o, k, t, n DESC "              \
                   "ON CONFLICT (owner, tier, time) DO UPDATE SET data = excluded.data")         \
  X(HIST_QUERY, "SELECT " HIST_COLS " FROM history WHERE owner = $1 AND tier = $2 "              \
                "AND time >= $3 AND time < $4 ORDER BY time LIMIT $5")                           \
  X(HIST_RANGE, "SELECT " HIST_COLS " FROM history WHERE tier = $1 AND time >= $2 "              \
                "AND time < $3 ORDER BY owner, time")                                            \
  X(HIST_PRUNE, "DELETE FROM history WHERE (owner, tier, time) IN (SELECT owner, tier, time "   \
                "FROM history WHERE tier = $1 AND time < $2 ORDER BY time LIMIT $3)")

enum stmt_id {
#define STMT_ENUM_(name, sql) S_##name,
  PG_STMTS(STMT_ENUM_)
#undef STMT_ENUM_
  S_COUNT_
};

static const char *const stmt_sql[S_COUNT_] = {
#define STMT_SQL_(name, sql) [S_##name] = sql,
    PG_STMTS(STMT_SQL_)
#undef STMT_SQL_
};

/* The server-side name each statement is prepared under. */
static const char *const stmt_name[S_COUNT_] = {
#define STMT_NAME_(name, sql) [S_##name] = "ef_" #name,
    PG_STMTS(STMT_NAME_)
#undef STMT_NAME_
};

struct pg_store {
  struct store base; /* first: store.h's handle */
  PGconn *conn;      /* NULL while disconnected */
  bool prepared;     /* every statement is prepared on conn */
  char *url;         /* the URL (it may hold a password: never shown) */
  char where[192];   /* "host:port (database db)": what messages name */
  int backoff_ms;    /* the delay after the last failed connection attempt; 0: none failed */
  int64_t next_try;  /* ef_mono_ms() before which no attempt is made */
  char last_err[256];    /* why the connection was lost or the last attempt failed */
  char *sql[S_COUNT_];   /* stmt_sql with every `?` numbered */
  char errmsg[512];      /* the last failure's message, for store_errmsg() */
};

#define S(st) ((struct pg_store *)(st))

/* ===== Messages ===== */

__attribute__((format(printf, 2, 3))) static void set_msg(struct pg_store *s, const char *fmt,
                                                          ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
  va_end(ap);
}

/* libpq's multi-line message on one line: runs of whitespace become one space, no trailing
 * space or period-less newline. */
static void one_line(char *dst, size_t len, const char *src) {
  size_t o = 0;
  bool space = false;
  if (!len) return;
  for (const char *p = src ? src : ""; *p && o + 1 < len; p++) {
    if (isspace((unsigned char)*p)) {
      space = o > 0;
      continue;
    }
    if (space && o + 2 < len) dst[o++] = ' ';
    space = false;
    dst[o++] = *p;
  }
  dst[o] = '\0';
}

/* The quoted parts of a libpq URL-parsing message replaced by "...": they may quote the
 * password ("invalid percent-encoded token: \"...\""). */
static void redact_quoted(char *dst, size_t len, const char *src) {
  char tmp[256];
  size_t o = 0;
  bool in = false;
  for (const char *p = src ? src : ""; *p && o + 6 < sizeof tmp; p++) {
    if (*p == '"') {
      if (!in) {
        memcpy(tmp + o, "\"...\"", 5);
        o += 5;
      }
      in = !in;
    } else if (!in) {
      tmp[o++] = *p;
    }
  }
  tmp[o] = '\0';
  one_line(dst, len, tmp);
}

static int invalid(struct pg_store *s, const char *what) {
  set_msg(s, "invalid argument: %s", what);
  return EF_EINVAL;
}

static int missing(struct pg_store *s, const char *what, uint64_t id) {
  set_msg(s, "no such %s: %llu", what, (unsigned long long)id);
  return EF_ENOENT;
}

/* A SQLSTATE as edgefleet's error (docs/store.md#postgresql-errors). */
static int map_state(const char *state) {
  static const struct {
    const char *state;
    int err;
  } map[] = {
      {"23505", EF_EEXIST},   {"23503", EF_ENOENT},   {"53100", EF_EFULL},
      {"25006", EF_EREADONLY}, {"57014", EF_EBUSY},   {"55P03", EF_EBUSY},
      {"40001", EF_EBUSY},    {"40P01", EF_EBUSY},    {"53200", EF_ENOMEM},
      {"XX001", EF_ECORRUPT}, {"XX002", EF_ECORRUPT}, {"58030", EF_EIO},
      {"57P01", EF_EUNAVAIL}, {"57P02", EF_EUNAVAIL}, {"57P03", EF_EUNAVAIL},
  };
  if (!state) return EF_EDB;
  if (strncmp(state, "08", 2) == 0) return EF_EUNAVAIL;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(state, map[i].state) == 0) return map[i].err;
  return EF_EDB;
}

/* ===== The connection ===== */

static void on_notice(void *arg, const char *message) {
  struct pg_store *s = arg;
  char line[256];
  one_line(line, sizeof line, message);
  ef_log(EF_LOG_DEBUG, "store: %s: %s", s->where, line);
}

/* A new connection to url. Settings before "dbname" are defaults the URL may override
 * (connect_timeout=5, TCP keepalives that find a vanished server within about a minute);
 * client_encoding after it is imposed. */
static PGconn *connect_url(const char *url) {
  static const char *const keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval",
                                     "keepalives_count", "fallback_application_name", "dbname",
                                     "client_encoding", NULL};
  const char *const vals[] = {"5", "30", "10", "3", "edgefleetd", url, "UTF8", NULL};
  return PQconnectdbParams(keys, vals, 1);
}

static void drop_conn(struct pg_store *s) {
  PQfinish(s->conn); /* NULL is a no-op */
  s->conn = NULL;
  s->prepared = false;
}

/* The connection broke (msg: libpq's or the server's words): drop it. The next operation
 * connects again at once; the backoff starts when that fails. */
static int lost(struct pg_store *s, const char *msg) {
  ef_log(EF_LOG_WARN, "store: connection to %s lost: %s", s->where, msg);
  snprintf(s->last_err, sizeof s->last_err, "%s", msg);
  drop_conn(s);
  s->backoff_ms = 0;
  s->next_try = 0;
  set_msg(s, "database unavailable: connection to %s lost: %s", s->where, msg);
  return EF_EUNAVAIL;
}

/* The failed result r (NULL: none came) of a statement as edgefleet's error, its message in
 * errmsg (the server's words and SQLSTATE, never the statement's values). */
static int fail(struct pg_store *s, const PGresult *r) {
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  char msg[256];
  one_line(msg, sizeof msg, primary ? primary : PQerrorMessage(s->conn));
  int ret = map_state(state);
  if (PQstatus(s->conn) != CONNECTION_OK || ret == EF_EUNAVAIL) return lost(s, msg);
  if (state) set_msg(s, "%s (SQLSTATE %s)", msg, state);
  else set_msg(s, "%s", msg);
  return ret;
}

/* Run a command without parameters or prepared statement (BEGIN, migrations, checks); *out
 * gets the result when asked for (the caller clears it). */
static int exec_simple(struct pg_store *s, const char *sql, PGresult **out) {
  if (out) *out = NULL;
  PGresult *r = PQexec(s->conn, sql);
  ExecStatusType st = PQresultStatus(r);
  if (r && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
    if (out) *out = r;
    else PQclear(r);
    return 0;
  }
  int ret = fail(s, r);
  PQclear(r);
  return ret;
}

/* Prepare every statement on the connection. */
static int prepare_all(struct pg_store *s) {
  for (int i = 0; i < S_COUNT_; i++) {
    PGresult *r = PQprepare(s->conn, stmt_name[i], s->sql[i], 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      int ret = fail(s, r);
      PQclear(r);
      if (ret != EF_EUNAVAIL) {
        char keep[sizeof s->errmsg];
        memcpy(keep, s->errmsg, sizeof keep);
        set_msg(s, "cannot prepare statement %s on %s: %s", stmt_name[i], s->where, keep);
      }
      return ret;
    }
    PQclear(r);
  }
  s->prepared = true;
  return 0;
}

/* Connect (when the backoff allows it) and prepare the statements. */
static int reconnect(struct pg_store *s) {
  PGconn *c = connect_url(s->url);
  if (PQstatus(c) != CONNECTION_OK) {
    one_line(s->last_err, sizeof s->last_err, PQerrorMessage(c));
    PQfinish(c);
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (s->backoff_ms > BACKOFF_MAX_MS) s->backoff_ms = BACKOFF_MAX_MS;
    s->next_try = ef_mono_ms() + s->backoff_ms;
    set_msg(s, "database unavailable: cannot connect to %s: %s (next attempt in %d ms)",
            s->where, s->last_err, s->backoff_ms);
    return EF_EUNAVAIL;
  }
  s->conn = c;
  PQsetNoticeProcessor(c, on_notice, s);
  int ret = prepare_all(s);
  if (ret) return ret;
  ef_log(EF_LOG_INFO, "store: reconnected to %s", s->where);
  s->backoff_ms = 0;
  s->next_try = 0;
  return 0;
}

/* Make the connection usable for the next operation: notice a connection the server closed
 * while it was idle (before anything is sent on it), end a transaction a failure left open,
 * connect again after a loss unless the backoff delay runs. EF_EUNAVAIL with a message when
 * there is no connection. */
static int ready(struct pg_store *s) {
  if (s->conn) {
    if (PQconsumeInput(s->conn) && PQstatus(s->conn) == CONNECTION_OK) {
      PGTransactionStatusType ts = PQtransactionStatus(s->conn);
      if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
        int ret = exec_simple(s, "ROLLBACK", NULL);
        if (ret) return ret;
      } else if (ts != PQTRANS_IDLE) {
        drop_conn(s); /* a command still running or a broken state: start afresh */
        return reconnect(s);
      }
      return s->prepared ? 0 : prepare_all(s);
    }
    char msg[256];
    one_line(msg, sizeof msg, PQerrorMessage(s->conn));
    ef_log(EF_LOG_WARN, "store: connection to %s lost: %s", s->where, msg);
    snprintf(s->last_err, sizeof s->last_err, "%s", msg);
    drop_conn(s);
    s->backoff_ms = 0;
    s->next_try = 0;
  }
  int64_t now = ef_mono_ms();
  if (now < s->next_try) {
    set_msg(s, "database unavailable: %s cannot be reached; next attempt in %lld ms (last "
               "error: %s)",
            s->where, (long long)(s->next_try - now), s->last_err);
    return EF_EUNAVAIL;
  }
  return reconnect(s);
}

/* ===== Parameters and results ===== */

/* Bit for bit: uint64 ids as bigint and back (the file's header). */
static int64_t id_to_db(uint64_t v) {
  int64_t r;
  memcpy(&r, &v, sizeof r);
  return r;
}

static uint64_t id_from_db(int64_t v) {
  uint64_t r;
  memcpy(&r, &v, sizeof r);
  return r;
}

/* The text parameters of one statement. */
struct params {
  int n;
  const char *val[MAX_PARAMS];
  char num[MAX_PARAMS][24];
  char *own[MAX_PARAMS]; /* array literals made for this call (params_free) */
};

static void p_text(struct params *p, const char *v) { p->val[p->n++] = v; } /* NULL: SQL NULL */

static void p_i64(struct params *p, int64_t v) {
  snprintf(p->num[p->n], sizeof p->num[p->n], "%lld", (long long)v);
  p->val[p->n] = p->num[p->n];
  p->n++;
}

static void p_id(struct params *p, uint64_t id) { p_i64(p, id_to_db(id)); }

static void p_own(struct params *p, char *v) {
  p->own[p->n] = v;
  p->val[p->n++] = v;
}

static void params_free(struct params *p) {
  for (int i = 0; i < p->n; i++) ef_free(p->own[i]);
}

/* An array literal, {"text",NULL,...} or {1,2,...}, grown one element at a time. */
struct arr {
  char *buf;
  size_t len, cap;
};

static void arr_grow(struct arr *a, size_t more) {
  if (a->len + more + 3 <= a->cap) return;
  a->cap = (a->len + more + 3) * 2;
  a->buf = ef_realloc(a->buf, a->cap);
}

static void arr_sep(struct arr *a) {
  arr_grow(a, 1);
  char c = a->len ? ',' : '{';
  a->buf[a->len++] = c;
}

static void arr_text(struct arr *a, const char *v) {
  arr_sep(a);
  if (!v) {
    arr_grow(a, 4);
    memcpy(a->buf + a->len, "NULL", 4);
    a->len += 4;
    return;
  }
  arr_grow(a, 2 * strlen(v) + 2);
  a->buf[a->len++] = '"';
  for (; *v; v++) {
    if (*v == '"' || *v == '\\') a->buf[a->len++] = '\\';
    a->buf[a->len++] = *v;
  }
  a->buf[a->len++] = '"';
}

static void arr_i64(struct arr *a, int64_t v) {
  char num[24];
  int w = snprintf(num, sizeof num, "%lld", (long long)v);
  arr_sep(a);
  arr_grow(a, (size_t)w);
  memcpy(a->buf + a->len, num, (size_t)w);
  a->len += (size_t)w;
}

/* The finished literal, the caller's (p_own); the struct is empty again. */
static char *arr_end(struct arr *a) {
  arr_grow(a, 2);
  if (!a->len) a->buf[a->len++] = '{';
  a->buf[a->len++] = '}';
  a->buf[a->len] = '\0';
  char *out = a->buf;
  memset(a, 0, sizeof *a);
  return out;
}

/* Run prepared statement `id`; *out gets its result (the caller clears it). */
static int exec_stmt(struct pg_store *s, enum stmt_id id, const struct params *p,
                     PGresult **out) {
  *out = NULL;
  PGresult *r = PQexecPrepared(s->conn, stmt_name[id], p ? p->n : 0, p ? p->val : NULL, NULL,
                               NULL, 0);
  ExecStatusType st = PQresultStatus(r);
  if (r && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
    *out = r;
    return 0;
  }
  int ret = fail(s, r);
  PQclear(r);
  return ret;
}

/* Run a statement that returns no row; *changes (may be NULL) is the count of rows it touched. */
static int run(struct pg_store *s, enum stmt_id id, const struct params *p, uint64_t *changes) {
  PGresult *r;
  int ret = exec_stmt(s, id, p, &r);
  if (ret == 0 && changes) *changes = strtoull(PQcmdTuples(r), NULL, 10);
  PQclear(r);
  return ret;
}

static char *col_text(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? NULL : ef_strdup(PQgetvalue(r, row, col));
}

static int64_t col_i64(const PGresult *r, int row, int col) {
  return strtoll(PQgetvalue(r, row, col), NULL, 10); /* NULL reads "": 0 */
}

static uint64_t col_id(const PGresult *r, int row, int col) {
  return id_from_db(col_i64(r, row, col));
}

/* ===== Rows ===== */

struct row_type {
  size_t size;
  void (*read)(const PGresult *r, int row, void *out);
  void (*clear)(void *rec);
};

static void read_device(const PGresult *r, int row, void *out) {
  struct store_device *d = out;
  int i = 0;
  d->device_id = col_id(r, row, i++);
  for (size_t f = 0; f < NDEV_TEXT; f++)
    *(char **)((char *)d + device_text_off[f]) = col_text(r, row, i++);
  d->password = col_text(r, row, i++);
  d->pw_verifier = col_text(r, row, i++);
  d->token_hash = col_text(r, row, i++);
  d->token_expiry = col_i64(r, row, i++);
  d->created_time = col_i64(r, row, i++);
  d->updated_time = col_i64(r, row, i++);
}

static void read_group(const PGresult *r, int row, void *out) {
  struct store_group *g = out;
  g->group_id = col_id(r, row, 0);
  g->group_name = col_text(r, row, 1);
  g->group_description = col_text(r, row, 2);
  g->created_time = col_i64(r, row, 3);
  g->updated_time = col_i64(r, row, 4);
}

static void read_log(const PGresult *r, int row, void *out) {
  struct store_log *l = out;
  l->log_id = col_id(r, row, 0);
  l->device_id = col_id(r, row, 1);
  l->event = col_text(r, row, 2);
  l->detail = col_text(r, row, 3);
  l->result = col_text(r, row, 4);
  l->time = col_i64(r, row, 5);
}

static void read_token(const PGresult *r, int row, void *out) {
  struct store_token *t = out;
  t->token_id = col_id(r, row, 0);
  t->name = col_text(r, row, 1);
  t->scope = col_text(r, row, 2);
  t->token_hash = col_text(r, row, 3);
  t->created_time = col_i64(r, row, 4);
  t->groups = col_text(r, row, 5);
  t->expires_time = col_i64(r, row, 6);
  t->last_used_time = col_i64(r, row, 7);
}

static void read_audit(const PGresult *r, int row, void *out) {
  struct store_audit *a = out;
  a->audit_id = col_id(r, row, 0);
  a->time = col_i64(r, row, 1);
  a->token_id = col_id(r, row, 2);
  a->token_name = col_text(r, row, 3);
  a->route = col_text(r, row, 4);
  a->target = col_text(r, row, 5);
  a->status = (int)col_i64(r, row, 6);
  a->outcome = col_text(r, row, 7);
  a->peer = col_text(r, row, 8);
}

static void read_miner(const PGresult *r, int row, void *out) {
  struct store_miner *m = out;
  m->miner_id = col_text(r, row, 0);
  m->host_name = col_text(r, row, 1);
  m->record = col_text(r, row, 2);
  m->device_id = col_id(r, row, 3);
  m->updated_time = col_i64(r, row, 4);
}

static void read_alert_log(const PGresult *r, int row, void *out) {
  struct store_alert_log *l = out;
  l->log_id = col_id(r, row, 0);
  l->time = col_i64(r, row, 1);
  l->event = col_text(r, row, 2);
  l->rule = col_text(r, row, 3);
  l->fingerprint = col_text(r, row, 4);
  l->entry = col_text(r, row, 5);
}

static void read_hist(const PGresult *r, int row, void *out) {
  struct store_hist *h = out;
  h->owner = col_text(r, row, 0);
  h->tier = (int)col_i64(r, row, 1);
  h->time = col_i64(r, row, 2);
  h->data = col_text(r, row, 3);
}

static void clear_device(void *rec) { store_device_clear(rec); }
static void clear_group(void *rec) { store_group_clear(rec); }
static void clear_log(void *rec) { store_log_clear(rec); }
static void clear_token(void *rec) { store_tokens_free_members(rec); }
static void clear_audit(void *rec) { store_audit_clear(rec); }
static void clear_miner(void *rec) { store_miner_clear(rec); }
static void clear_alert_log(void *rec) { store_alert_log_clear(rec); }
static void clear_hist(void *rec) { store_hist_clear(rec); }

static const struct row_type device_rows = {sizeof(struct store_device), read_device,
                                            clear_device};
static const struct row_type group_rows = {sizeof(struct store_group), read_group, clear_group};
static const struct row_type log_rows = {sizeof(struct store_log), read_log, clear_log};
static const struct row_type token_rows = {sizeof(struct store_token), read_token, clear_token};
static const struct row_type audit_rows = {sizeof(struct store_audit), read_audit, clear_audit};
static const struct row_type miner_rows = {sizeof(struct store_miner), read_miner, clear_miner};
static const struct row_type alert_log_rows = {sizeof(struct store_alert_log), read_alert_log,
                                               clear_alert_log};
static const struct row_type hist_rows = {sizeof(struct store_hist), read_hist, clear_hist};

/* Exactly one row of statement `id` into *out (zeroed by the caller). EF_ENOENT if none. */
static int fetch_one(struct pg_store *s, enum stmt_id id, const struct params *p,
                     const struct row_type *t, void *out) {
  PGresult *r;
  int ret = exec_stmt(s, id, p, &r);
  if (ret) return ret;
  if (PQntuples(r) > 0) t->read(r, 0, out);
  else ret = EF_ENOENT;
  PQclear(r);
  return ret;
}

/* Every row of statement `id` into a new array (*out, *n); NULL, 0 when none or on failure. */
static int fetch_all(struct pg_store *s, enum stmt_id id, const struct params *p,
                     const struct row_type *t, void **out, size_t *n) {
  *out = NULL;
  *n = 0;
  PGresult *r;
  int ret = exec_stmt(s, id, p, &r);
  if (ret) return ret;
  int rows = PQntuples(r);
  if (rows > 0) {
    char *arr = ef_calloc((size_t)rows, t->size);
    for (int i = 0; i < rows; i++) t->read(r, i, arr + (size_t)i * t->size);
    *out = arr;
    *n = (size_t)rows;
  }
  PQclear(r);
  return 0;
}

/* Whether statement `id` yields a row. */
static int exists(struct pg_store *s, enum stmt_id id, const struct params *p, bool *out) {
  PGresult *r;
  int ret = exec_stmt(s, id, p, &r);
  if (ret == 0) *out = PQntuples(r) > 0;
  PQclear(r);
  return ret;
}

static int row_exists(struct pg_store *s, enum stmt_id id, uint64_t key, bool *out) {
  struct params p = {0};
  p_id(&p, key);
  return exists(s, id, &p, out);
}

/* ===== Transactions ===== */

static int tx_begin(struct pg_store *s) { return exec_simple(s, "BEGIN", NULL); }

/* Roll back after a failure, keeping the failure's message (a lost connection needs none). */
static void tx_rollback(struct pg_store *s) {
  if (!s->conn || PQtransactionStatus(s->conn) == PQTRANS_IDLE) return;
  char keep[sizeof s->errmsg];
  memcpy(keep, s->errmsg, sizeof keep);
  if (exec_simple(s, "ROLLBACK", NULL) != 0)
    ef_log(EF_LOG_ERROR, "store: rollback failed: %s", s->errmsg);
  memcpy(s->errmsg, keep, sizeof keep);
}

static int tx_commit(struct pg_store *s) {
  int ret = exec_simple(s, "COMMIT", NULL);
  if (ret) tx_rollback(s);
  return ret;
}

/* The ids a multi-row INSERT ... RETURNING assigned, ascending: the order of its rows (the
 * statement inserts them in ordinality order, and an identity only grows). *ids: n of them. */
static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int returned_ids(struct pg_store *s, const PGresult *r, size_t n, int64_t **ids) {
  *ids = NULL;
  if ((size_t)PQntuples(r) != n) {
    set_msg(s, "an insert of %zu rows returned %d ids", n, PQntuples(r));
    return EF_EDB;
  }
  int64_t *v = ef_calloc(n ? n : 1, sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = col_i64(r, (int)i, 0);
  qsort(v, n, sizeof *v, cmp_i64);
  *ids = v;
  return 0;
}

/* ===== Open, migrate, check, close ===== */

/* "host:port (database db)" from the URL's parsed options. */
static void describe(PQconninfoOption *opts, char *buf, size_t len) {
  const char *host = NULL, *hostaddr = NULL, *port = NULL, *db = NULL, *user = NULL;
  for (PQconninfoOption *o = opts; o->keyword; o++) {
    if (!o->val || !o->val[0]) continue;
    if (strcmp(o->keyword, "host") == 0) host = o->val;
    else if (strcmp(o->keyword, "hostaddr") == 0) hostaddr = o->val;
    else if (strcmp(o->keyword, "port") == 0) port = o->val;
    else if (strcmp(o->keyword, "dbname") == 0) db = o->val;
    else if (strcmp(o->keyword, "user") == 0) user = o->val;
  }
  if (!host) host = hostaddr ? hostaddr : "localhost";
  snprintf(buf, len, "%s:%s (database %s)", host, port ? port : "5432",
           db ? db : user ? user : "(default)");
}

/* sql with each `?` outside quotes numbered $N, after the highest explicit $N of it. */
static char *number_params(const char *sql) {
  int next = 0;
  size_t marks = 0;
  for (const char *p = sql; *p; p++) {
    if (*p == '$' && isdigit((unsigned char)p[1])) {
      int v = atoi(p + 1);
      if (v > next) next = v;
    }
    if (*p == '?') marks++;
  }
  char *out = ef_malloc(strlen(sql) + marks * 4 + 1);
  size_t o = 0;
  char quote = 0;
  for (const char *p = sql; *p; p++) {
    if (quote) {
      if (*p == quote) quote = 0;
    } else if (*p == '\'' || *p == '"') {
      quote = *p;
    } else if (*p == '?') {
      o += (size_t)sprintf(out + o, "$%d", ++next);
      continue;
    }
    out[o++] = *p;
  }
  out[o] = '\0';
  return out;
}

/* One value (a count, a version, a boolean as 't'/'f') of a query without parameters. */
static int query_value(struct pg_store *s, const char *sql, char *buf, size_t len) {
  PGresult *r;
  int ret = exec_simple(s, sql, &r);
  if (ret) return ret;
  snprintf(buf, len, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
  PQclear(r);
  return 0;
}

/* Whether the database has an edgefleet schema (its version table). */
static int schema_present(struct pg_store *s, bool *present) {
  char v[8];
  int ret = query_value(s, "SELECT to_regclass('schema_migrations') IS NOT NULL", v, sizeof v);
  *present = ret == 0 && v[0] == 't';
  return ret;
}

/* Add each STORE_DEVICE_FIELDS column that `devices` lacks (a field added to store.h). */
static int add_missing_columns(struct pg_store *s) {
  PGresult *r;
  int ret = exec_simple(s, "SELECT attname FROM pg_attribute WHERE attrelid = 'devices'::regclass "
                           "AND attnum > 0 AND NOT attisdropped", &r);
  if (ret) return ret;
  for (size_t i = 0; i < NDEV_TEXT && ret == 0; i++) {
    bool have = false;
    for (int row = 0; row < PQntuples(r) && !have; row++)
      have = strcmp(PQgetvalue(r, row, 0), device_text_cols[i]) == 0;
    if (have) continue;
    char sql[160];
    snprintf(sql, sizeof sql, "ALTER TABLE devices ADD COLUMN %s text", device_text_cols[i]);
    ret = exec_simple(s, sql, NULL);
    if (ret == 0) ef_log(EF_LOG_INFO, "store: added column devices.%s", device_text_cols[i]);
  }
  PQclear(r);
  return ret;
}

/* Bring the schema to SCHEMA_VERSION in one transaction; *created: it had none. */
static int migrate(struct pg_store *s, bool *created) {
  int version = 0;
  bool present = false;
  char buf[32];
  *created = false;
  int ret = tx_begin(s);
  if (ret) goto fail;
  ret = exec_simple(s, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", NULL);
  if (ret == 0) ret = schema_present(s, &present);
  if (ret) goto fail_tx;
  if (!present) {
    ret = exec_simple(s, "CREATE TABLE schema_migrations (version integer PRIMARY KEY, "
                         "applied_time bigint NOT NULL)", NULL);
    if (ret) goto fail_tx;
  } else {
    ret = query_value(s, "SELECT coalesce(max(version), 0) FROM schema_migrations", buf,
                      sizeof buf);
    if (ret) goto fail_tx;
    version = atoi(buf);
  }
  if (version > SCHEMA_VERSION || version < 0) {
    tx_rollback(s);
    set_msg(s, "%s has schema version %d, but this program knows versions up to %d: it was "
               "written by a newer edgefleet; upgrade edgefleet or use another database",
            s->where, version, SCHEMA_VERSION);
    return EF_EDB;
  }
  for (int v = version; v < SCHEMA_VERSION; v++) {
    ret = exec_simple(s, migrations[v], NULL);
    if (ret) goto fail_tx;
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO schema_migrations VALUES (%d, %lld)", v + 1,
             (long long)ef_now_ms());
    ret = exec_simple(s, sql, NULL);
    if (ret) goto fail_tx;
  }
  ret = add_missing_columns(s);
  if (ret) goto fail_tx;
  ret = tx_commit(s);
  if (ret) goto fail;
  *created = version == 0;
  if (version < SCHEMA_VERSION)
    ef_log(EF_LOG_INFO, "store: %s migrated from schema version %d to %d", s->where, version,
           SCHEMA_VERSION);
  return 0;

fail_tx:
  tx_rollback(s);
fail: {
  char keep[sizeof s->errmsg];
  memcpy(keep, s->errmsg, sizeof keep);
  set_msg(s, "cannot migrate %s from schema version %d: %s", s->where, version, keep);
}
  return ret == EF_EUNAVAIL ? ret : EF_EDB;
}

/* store_open_opts.check on a database that had a schema: every table is there (QUICK), and every
 * row of each can be read (FULL: a damaged page fails the read, with data checksums on). */
static int check_schema(struct pg_store *s, enum store_check check) {
  char sql[512] = "SELECT string_agg(t, ', ') FROM unnest(ARRAY[", found[256];
  size_t used = strlen(sql);
  for (size_t i = 0; i < sizeof pg_tables / sizeof pg_tables[0]; i++)
    used += (size_t)snprintf(sql + used, sizeof sql - used, "%s'%s'", i ? ", " : "",
                             pg_tables[i]);
  snprintf(sql + used, sizeof sql - used, "]) AS t WHERE to_regclass(t) IS NULL");
  int ret = query_value(s, sql, found, sizeof found);
  if (ret) return ret;
  if (found[0]) {
    set_msg(s, "%s is damaged: tables missing: %s (schema version %d): restore it from a backup",
            s->where, found, SCHEMA_VERSION);
    return EF_ECORRUPT;
  }
  if (check != STORE_CHECK_FULL) return 0;
  for (size_t i = 0; i < sizeof pg_tables / sizeof pg_tables[0]; i++) {
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT * FROM %s) AS t", pg_tables[i]);
    ret = query_value(s, sql, found, sizeof found);
    if (ret) {
      char keep[sizeof s->errmsg];
      memcpy(keep, s->errmsg, sizeof keep);
      set_msg(s, "%s: reading table %s failed: %s", s->where, pg_tables[i], keep);
      return ret;
    }
  }
  return 0;
}

static void pg_free(struct pg_store *s) {
  drop_conn(s);
  for (int i = 0; i < S_COUNT_; i++) ef_free(s->sql[i]);
  if (s->url) {
    memset(s->url, 0, strlen(s->url)); /* it may hold a password */
    ef_free(s->url);
  }
  ef_free(s);
}

static int pg_open(const char *url, const struct store_open_opts *opts, struct store **out,
                   char *err, size_t errlen) {
  static const struct store_open_opts defaults = {0};
  static const char prefix[] = "postgresql://";
  if (err && errlen) err[0] = '\0';
  if (!out || !url) return EF_EINVAL;
  *out = NULL;
  if (!opts) opts = &defaults;
  if (strncasecmp(url, prefix, sizeof prefix - 1) != 0) {
    store_set_err(err, errlen, "a PostgreSQL store URL has the form "
                         "postgresql://[user[:password]@][host][:port][/dbname][?param=value&...]");
    return EF_ECONFIG;
  }

  struct pg_store *s = ef_calloc(1, sizeof *s);
  s->base.ops = &store_pg_ops;
  s->url = ef_strdup(url);
  memcpy(s->url, prefix, sizeof prefix - 1); /* libpq knows the scheme in lower case only */
  int ret;
  char *perr = NULL;
  PQconninfoOption *copts = PQconninfoParse(s->url, &perr);
  if (!copts) {
    char msg[256];
    redact_quoted(msg, sizeof msg, perr ? perr : "out of memory");
    PQfreemem(perr);
    store_set_err(err, errlen, "invalid PostgreSQL store URL: %s", msg);
    ret = EF_ECONFIG;
    goto fail;
  }
  describe(copts, s->where, sizeof s->where);
  PQconninfoFree(copts);
  for (int i = 0; i < S_COUNT_; i++) s->sql[i] = number_params(stmt_sql[i]);

  s->conn = connect_url(s->url);
  if (PQstatus(s->conn) != CONNECTION_OK) {
    char msg[256];
    one_line(msg, sizeof msg, PQerrorMessage(s->conn));
    if (strstr(msg, "FATAL: database \"") && strstr(msg, "does not exist")) {
      store_set_err(err, errlen, "cannot open %s: %s: create the database, or correct the URL",
              s->where, msg);
      ret = EF_ENOENT;
    } else {
      store_set_err(err, errlen, "database unavailable: cannot connect to %s: %s", s->where, msg);
      ret = EF_EUNAVAIL;
    }
    goto fail;
  }
  PQsetNoticeProcessor(s->conn, on_notice, s);
  if (PQserverVersion(s->conn) < 100000) {
    store_set_err(err, errlen, "%s runs PostgreSQL %d: edgefleet needs version 10 or later", s->where,
            PQserverVersion(s->conn) / 10000);
    ret = EF_ECONFIG;
    goto fail;
  }

  /* Before anything is written. */
  if (opts->must_exist) {
    bool present = false;
    ret = schema_present(s, &present);
    if (ret) goto fail_msg;
    if (!present) {
      store_set_err(err, errlen, "%s has no edgefleet schema (no table schema_migrations)", s->where);
      ret = EF_ENOENT;
      goto fail;
    }
  }
  bool created = false;
  ret = migrate(s, &created);
  if (ret) goto fail_msg;
  if (opts->check != STORE_CHECK_NONE && !created) {
    ret = check_schema(s, opts->check);
    if (ret) goto fail_msg;
  }
  ret = prepare_all(s);
  if (ret) goto fail_msg;
  *out = &s->base;
  return 0;

fail_msg:
  store_set_err(err, errlen, "%s", s->errmsg);
fail:
  pg_free(s);
  return ret;
}

static void pg_close(struct store *st) {
  if (st) pg_free(S(st));
}

static const char *pg_errmsg(struct store *st) { return S(st)->errmsg; }

/* ===== Devices ===== */

static const char *device_text(const struct store_device *d, size_t f) {
  return *(char *const *)((const char *)d + device_text_off[f]);
}

static void bind_device(struct params *p, const struct store_device *d) {
  p_id(p, d->device_id);
  for (size_t f = 0; f < NDEV_TEXT; f++) p_text(p, device_text(d, f));
  p_text(p, d->password);
  p_text(p, d->pw_verifier);
  p_text(p, d->token_hash);
  p_i64(p, d->token_expiry);
  p_i64(p, d->created_time);
  p_i64(p, d->updated_time);
}

static int pg_device_add(struct store *st, const struct store_device *d) {
  struct pg_store *s = S(st);
  if (!d) return invalid(s, "device is NULL");
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  bind_device(&p, d);
  return run(s, S_DEV_INSERT, &p, NULL);
}

/* After a failed batch: the index of the first record that fails, inserting them one by one in
 * a transaction rolled back at the end (*ret: its error). */
static size_t locate_failure(struct pg_store *s, const struct store_device *d, size_t n,
                             int *ret) {
  size_t i = 0;
  char keep[sizeof s->errmsg];
  memcpy(keep, s->errmsg, sizeof keep);
  if (tx_begin(s) != 0) goto out;
  for (; i < n; i++) {
    struct params p = {0};
    bind_device(&p, &d[i]);
    int rc = run(s, S_DEV_INSERT, &p, NULL);
    if (rc) {
      *ret = rc;
      tx_rollback(s);
      return i;
    }
  }
  tx_rollback(s);
out:
  memcpy(s->errmsg, keep, sizeof keep); /* not found: the batch's own error stands */
  return 0;
}

static int pg_device_add_batch(struct store *st, const struct store_device *d, size_t n,
                               size_t *failed) {
  struct pg_store *s = S(st);
  if (failed) *failed = 0;
  if (n == 0) return 0;
  if (!d) return invalid(s, "devices is NULL");
  int ret = ready(s);
  if (ret) return ret;
  enum { NCOLS = 1 + NDEV_TEXT + 6 };
  struct arr cols[NCOLS];
  memset(cols, 0, sizeof cols);
  for (size_t i = 0; i < n; i++) {
    size_t c = 0;
    arr_i64(&cols[c++], id_to_db(d[i].device_id));
    for (size_t f = 0; f < NDEV_TEXT; f++) arr_text(&cols[c++], device_text(&d[i], f));
    arr_text(&cols[c++], d[i].password);
    arr_text(&cols[c++], d[i].pw_verifier);
    arr_text(&cols[c++], d[i].token_hash);
    arr_i64(&cols[c++], d[i].token_expiry);
    arr_i64(&cols[c++], d[i].created_time);
    arr_i64(&cols[c++], d[i].updated_time);
  }
  struct params p = {0};
  for (size_t c = 0; c < NCOLS; c++) p_own(&p, arr_end(&cols[c]));
  ret = run(s, S_DEV_INSERT_MANY, &p, NULL); /* one statement: all or nothing */
  params_free(&p);
  if (ret && ret != EF_EUNAVAIL) {
    size_t at = locate_failure(s, d, n, &ret);
    if (failed) *failed = at;
  }
  return ret;
}

static int pg_device_get(struct store *st, uint64_t id, struct store_device *out) {
  struct pg_store *s = S(st);
  if (!out) return invalid(s, "out is NULL");
  memset(out, 0, sizeof *out);
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_id(&p, id);
  ret = fetch_one(s, S_DEV_GET, &p, &device_rows, out);
  return ret == EF_ENOENT ? missing(s, "device", id) : ret;
}

static int pg_device_find(struct store *st, const char *sn, const char *model,
                          struct store_device *out) {
  struct pg_store *s = S(st);
  if (!out) return invalid(s, "out is NULL");
  memset(out, 0, sizeof *out);
  if (!sn || !model) return invalid(s, "sn and model are required");
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_text(&p, sn);
  p_text(&p, model);
  ret = fetch_one(s, S_DEV_FIND, &p, &device_rows, out);
  if (ret == EF_ENOENT) set_msg(s, "no device with sn '%s' and model '%s'", sn, model);
  return ret;
}

/* A list of every row of a statement without parameters. */
static int list_all(struct pg_store *s, enum stmt_id id, const struct row_type *t, void **out,
                    size_t *n) {
  *out = NULL;
  *n = 0;
  int ret = ready(s);
  if (ret) return ret;
  return fetch_all(s, id, NULL, t, out, n);
}

static int pg_device_list(struct store *st, struct store_device **out, size_t *n) {
  struct pg_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  void *arr;
  int ret = list_all(s, S_DEV_LIST, &device_rows, &arr, n);
  *out = arr;
  return ret;
}

static int pg_device_count(struct store *st, uint64_t *out) {
  struct pg_store *s = S(st);
  if (!out) return invalid(s, "out is NULL");
  *out = 0;
  int ret = ready(s);
  if (ret) return ret;
  PGresult *r;
  ret = exec_stmt(s, S_DEV_COUNT, NULL, &r);
  if (ret) return ret;
  if (PQntuples(r) > 0) {
    *out = (uint64_t)col_i64(r, 0, 0);
  } else {
    set_msg(s, "count(*) of devices returned no row");
    ret = EF_EDB;
  }
  PQclear(r);
  return ret;
}

static int pg_device_update(struct store *st, const struct store_device *patch) {
  struct pg_store *s = S(st);
  if (!patch) return invalid(s, "patch is NULL");
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_text(&p, patch->password); /* $1: a new password forgets the verifier */
  p_i64(&p, patch->updated_time);
  p_id(&p, patch->device_id);
  for (size_t f = 0; f < NDEV_TEXT; f++) p_text(&p, device_text(patch, f));
  uint64_t changed = 0;
  ret = run(s, S_DEV_UPDATE, &p, &changed);
  if (ret == 0 && changed == 0) ret = missing(s, "device", patch->device_id);
  return ret;
}

static int pg_device_delete(struct store *st, uint64_t id) {
  struct pg_store *s = S(st);
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_id(&p, id);
  PGresult *r;
  ret = exec_stmt(s, S_DEV_DELETE, &p, &r); /* one statement: the row, its relations (ON DELETE
                                                CASCADE) and its logs */
  if (ret) return ret;
  bool gone = col_i64(r, 0, 0) > 0;
  PQclear(r);
  return gone ? 0 : missing(s, "device", id);
}

static int update_device(struct pg_store *s, enum stmt_id id, struct params *p,
                         uint64_t device_id) {
  int ret = ready(s);
  if (ret) return ret;
  uint64_t changed = 0;
  ret = run(s, id, p, &changed);
  if (ret == 0 && changed == 0) ret = missing(s, "device", device_id);
  return ret;
}

static int pg_device_set_token(struct store *st, uint64_t id, const char *token_hash,
                               int64_t expiry) {
  struct params p = {0};
  p_text(&p, token_hash);
  p_i64(&p, expiry);
  p_id(&p, id);
  return update_device(S(st), S_DEV_SET_TOKEN, &p, id);
}

static int pg_device_set_verifier(struct store *st, uint64_t id, const char *verifier) {
  struct params p = {0};
  p_text(&p, verifier);
  p_id(&p, id);
  return update_device(S(st), S_DEV_SET_VERIFIER, &p, id);
}

static int pg_device_all_offline(struct store *st, int64_t now) {
  struct pg_store *s = S(st);
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_i64(&p, now);
  return run(s, S_DEV_ALL_OFFLINE, &p, NULL);
}

/* ===== Groups ===== */

static int pg_group_add(struct store *st, const struct store_group *g) {
  struct pg_store *s = S(st);
  if (!g || !g->group_name) return invalid(s, "group_name is required");
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_id(&p, g->group_id);
  p_text(&p, g->group_name);
  p_text(&p, g->group_description);
  p_i64(&p, g->created_time);
  p_i64(&p, g->updated_time);
  return run(s, S_GRP_INSERT, &p, NULL);
}

static int pg_group_get(struct store *st, uint64_t id, struct store_group *out) {
  struct pg_store *s = S(st);
  if (!out) return invalid(s, "out is NULL");
  memset(out, 0, sizeof *out);
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_id(&p, id);
  ret = fetch_one(s, S_GRP_GET, &p, &group_rows, out);
  return ret == EF_ENOENT ? missing(s, "group", id) : ret;
}

static int pg_group_list(struct store *st, struct store_group **out, size_t *n) {
  struct pg_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  void *arr;
  int ret = list_all(s, S_GRP_LIST, &group_rows, &arr, n);
  *out = arr;
  return ret;
}

static int pg_group_update(struct store *st, const struct store_group *patch) {
  struct pg_store *s = S(st);
  if (!patch) return invalid(s, "patch is NULL");
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_text(&p, patch->group_name);
  p_text(&p, patch->group_description);
  p_i64(&p, patch->updated_time);
  p_id(&p, patch->group_id);
  uint64_t changed = 0;
  ret = run(s, S_GRP_UPDATE, &p, &changed);
  if (ret == 0 && changed == 0) ret = missing(s, "group", patch->group_id);
  return ret;
}

static int pg_group_delete(struct store *st, uint64_t id) {
  struct pg_store *s = S(st);
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_id(&p, id);
  uint64_t changed = 0;
  ret = run(s, S_GRP_DELETE, &p, &changed); /* relations go by ON DELETE CASCADE */
  if (ret == 0 && changed == 0) ret = missing(s, "group", id);
  return ret;
}

/* ===== Relations ===== */

static int pg_relation_add(struct store *st, uint64_t device_id, uint64_t group_id,
                           int64_t now) {
  struct pg_store *s = S(st);
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_id(&p, device_id);
  p_id(&p, group_id);
  p_i64(&p, now);
  ret = run(s, S_REL_INSERT, &p, NULL); /* a missing device or group fails the foreign key */
  if (ret == EF_ENOENT)
    set_msg(s, "no such device %llu or group %llu", (unsigned long long)device_id,
            (unsigned long long)group_id);
  return ret;
}

static int pg_relation_delete(struct store *st, uint64_t device_id, uint64_t group_id) {
  struct pg_store *s = S(st);
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_id(&p, device_id);
  p_id(&p, group_id);
  uint64_t changed = 0;
  ret = run(s, S_REL_DELETE, &p, &changed);
  if (ret == 0 && changed == 0) {
    set_msg(s, "device %llu is not in group %llu", (unsigned long long)device_id,
            (unsigned long long)group_id);
    ret = EF_ENOENT;
  }
  return ret;
}

static int pg_relation_exists(struct store *st, uint64_t device_id, uint64_t group_id,
                              bool *out) {
  struct pg_store *s = S(st);
  if (!out) return invalid(s, "out is NULL");
  *out = false;
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_id(&p, device_id);
  p_id(&p, group_id);
  return exists(s, S_REL_EXISTS, &p, out);
}

/* The rows of `list` for key `id` of an existing parent (EF_ENOENT when `check` finds none). */
static int children(struct pg_store *s, enum stmt_id check, const char *what, enum stmt_id list,
                    uint64_t id, const struct row_type *t, void **out, size_t *n) {
  *out = NULL;
  *n = 0;
  int ret = ready(s);
  if (ret) return ret;
  bool found;
  ret = row_exists(s, check, id, &found);
  if (ret) return ret;
  if (!found) return missing(s, what, id);
  struct params p = {0};
  p_id(&p, id);
  return fetch_all(s, list, &p, t, out, n);
}

static int pg_device_groups(struct store *st, uint64_t device_id, struct store_group **out,
                            size_t *n) {
  struct pg_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  void *arr;
  int ret = children(s, S_DEV_EXISTS, "device", S_REL_DEVICE_GROUPS, device_id, &group_rows,
                     &arr, n);
  *out = arr;
  return ret;
}

static int pg_group_devices(struct store *st, uint64_t group_id, struct store_device **out,
                            size_t *n) {
  struct pg_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  void *arr;
  int ret = children(s, S_GRP_EXISTS, "group", S_REL_GROUP_DEVICES, group_id, &device_rows, &arr,
                     n);
  *out = arr;
  return ret;
}

static int pg_group_clear(struct store *st, uint64_t group_id) {
  struct pg_store *s = S(st);
  int ret = ready(s);
  if (ret) return ret;
  bool found;
  ret = row_exists(s, S_GRP_EXISTS, group_id, &found);
  if (ret) return ret;
  if (!found) return missing(s, "group", group_id);
  struct params p = {0};
  p_id(&p, group_id);
  return run(s, S_REL_GROUP_CLEAR, &p, NULL);
}

/* ===== Logs and state: the write-behind batch ===== */

static int pg_write_batch(struct store *st, struct store_log *logs, size_t nlogs,
                          const struct store_state *states, size_t nstates) {
  struct pg_store *s = S(st);
  if ((nlogs && !logs) || (nstates && !states)) return invalid(s, "logs or states is NULL");
  for (size_t i = 0; i < nlogs; i++)
    if (!logs[i].event) return invalid(s, "a log has no event");
  if (nlogs == 0 && nstates == 0) return 0;
  int ret = ready(s);
  if (ret) return ret;

  bool tx = nlogs && nstates;
  int64_t *ids = NULL;
  if (tx && (ret = tx_begin(s)) != 0) return ret;
  if (nlogs) {
    struct arr c[5];
    memset(c, 0, sizeof c);
    for (size_t i = 0; i < nlogs; i++) {
      arr_i64(&c[0], id_to_db(logs[i].device_id));
      arr_text(&c[1], logs[i].event);
      arr_text(&c[2], logs[i].detail);
      arr_text(&c[3], logs[i].result);
      arr_i64(&c[4], logs[i].time);
    }
    struct params p = {0};
    for (size_t k = 0; k < 5; k++) p_own(&p, arr_end(&c[k]));
    PGresult *r;
    ret = exec_stmt(s, S_LOG_INSERT_MANY, &p, &r);
    params_free(&p);
    if (ret) goto fail_tx;
    ret = returned_ids(s, r, nlogs, &ids);
    PQclear(r);
    if (ret) goto fail_tx;
  }
  if (nstates) {
    /* A device deleted meanwhile matches no row: skipped, as it should be. */
    struct arr c[3];
    memset(c, 0, sizeof c);
    for (size_t i = 0; i < nstates; i++) {
      arr_i64(&c[0], id_to_db(states[i].device_id));
      arr_text(&c[1], states[i].state);
      arr_i64(&c[2], states[i].time);
    }
    struct params p = {0};
    for (size_t k = 0; k < 3; k++) p_own(&p, arr_end(&c[k]));
    ret = run(s, S_DEV_SET_STATES, &p, NULL);
    params_free(&p);
    if (ret) goto fail_tx;
  }
  if (tx && (ret = tx_commit(s)) != 0) goto fail_ids;
  for (size_t i = 0; i < nlogs; i++) logs[i].log_id = id_from_db(ids[i]);
  ef_free(ids);
  return 0;

fail_tx:
  if (tx) tx_rollback(s);
fail_ids:
  for (size_t i = 0; i < nlogs; i++) logs[i].log_id = 0;
  ef_free(ids);
  return ret;
}

static int64_t bound_limit(size_t limit) {
  return limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
}

static int pg_log_query(struct store *st, uint64_t device_id, int64_t before, size_t limit,
                        struct store_log **out, size_t *n) {
  struct pg_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  *out = NULL;
  *n = 0;
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_id(&p, device_id);
  p_i64(&p, before > 0 ? before : INT64_MAX);
  p_i64(&p, bound_limit(limit));
  void *arr;
  ret = fetch_all(s, S_LOG_QUERY, &p, &log_rows, &arr, n);
  *out = arr;
  return ret;
}

static int pg_log_prune(struct store *st, int64_t older_than, uint64_t *deleted) {
  struct pg_store *s = S(st);
  if (deleted) *deleted = 0;
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_i64(&p, older_than);
  return run(s, S_LOG_PRUNE, &p, deleted);
}

/* ===== The audit log ===== */

static int pg_audit_append(struct store *st, struct store_audit *rows, size_t n) {
  struct pg_store *s = S(st);
  if (n && !rows) return invalid(s, "rows is NULL");
  for (size_t i = 0; i < n; i++)
    if (!rows[i].route || !rows[i].outcome)
      return invalid(s, "an audit row has no route or outcome");
  if (n == 0) return 0;
  int ret = ready(s);
  if (ret) return ret;
  struct arr c[8];
  memset(c, 0, sizeof c);
  for (size_t i = 0; i < n; i++) {
    const struct store_audit *a = &rows[i];
    arr_i64(&c[0], a->time);
    arr_i64(&c[1], id_to_db(a->token_id));
    arr_text(&c[2], a->token_name);
    arr_text(&c[3], a->route);
    arr_text(&c[4], a->target);
    arr_i64(&c[5], a->status);
    arr_text(&c[6], a->outcome);
    arr_text(&c[7], a->peer);
  }
  struct params p = {0};
  for (size_t k = 0; k < 8; k++) p_own(&p, arr_end(&c[k]));
  PGresult *r;
  ret = exec_stmt(s, S_AUD_INSERT_MANY, &p, &r); /* one statement: all or nothing */
  params_free(&p);
  int64_t *ids = NULL;
  if (ret == 0) {
    ret = returned_ids(s, r, n, &ids);
    PQclear(r);
  }
  for (size_t i = 0; i < n; i++) rows[i].audit_id = ret ? 0 : id_from_db(ids[i]);
  ef_free(ids);
  return ret;
}

/* A page of a log (audit, alerts), newest first: rows with id < before_id (0: from the newest),
 * at most limit (0: no bound). */
static void page_bounds(struct params *p, uint64_t before_id) {
  p_i64(p, before_id && before_id <= (uint64_t)INT64_MAX ? (int64_t)before_id : INT64_MAX);
}

/* The token filter as an id, when it is one written as SQLite's CAST(token_id AS TEXT) would
 * write it (decimal, no sign, no leading zero); NULL otherwise. */
static const char *token_filter_id(const char *token, char *buf, size_t len) {
  if (!token || !token[0] || (token[0] == '0' && token[1])) return NULL;
  for (const char *c = token; *c; c++)
    if (!isdigit((unsigned char)*c)) return NULL;
  errno = 0;
  unsigned long long v = strtoull(token, NULL, 10);
  if (errno) return NULL;
  snprintf(buf, len, "%lld", (long long)id_to_db(v));
  return buf;
}

static int pg_audit_query(struct store *st, const struct store_audit_filter *f,
                          struct store_audit **out, size_t *n) {
  struct pg_store *s = S(st);
  if (!f || !out || !n) return invalid(s, "f, out or n is NULL");
  *out = NULL;
  *n = 0;
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  char tokid[24];
  page_bounds(&p, f->before_id);
  p_i64(&p, f->since > 0 ? f->since : INT64_MIN);
  p_i64(&p, f->until > 0 ? f->until : INT64_MAX);
  p_text(&p, f->token);
  p_text(&p, f->route);
  p_text(&p, f->target);
  p_i64(&p, f->status_min > 0 ? f->status_min : INT_MIN);
  p_i64(&p, f->status_max > 0 ? f->status_max : INT_MAX);
  p_i64(&p, f->limit ? bound_limit(f->limit) : INT64_MAX);
  p_text(&p, token_filter_id(f->token, tokid, sizeof tokid));
  void *arr;
  ret = fetch_all(s, S_AUD_QUERY, &p, &audit_rows, &arr, n);
  *out = arr;
  return ret;
}

/* A bounded prune: statement `id` deletes at most $2 of the oldest rows with time < $1. */
static int prune_oldest(struct pg_store *s, enum stmt_id id, int64_t older_than, size_t max,
                        uint64_t *deleted) {
  if (deleted) *deleted = 0;
  if (max == 0) return 0;
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_i64(&p, older_than);
  p_i64(&p, bound_limit(max));
  return run(s, id, &p, deleted);
}

static int pg_audit_prune(struct store *st, int64_t older_than, size_t max, uint64_t *deleted) {
  return prune_oldest(S(st), S_AUD_PRUNE, older_than, max, deleted);
}

/* ===== API tokens ===== */

static int pg_token_add(struct store *st, const struct store_token *t) {
  struct pg_store *s = S(st);
  if (!t || !t->token_hash || !t->scope) return invalid(s, "token_hash and scope are required");
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_id(&p, t->token_id);
  p_text(&p, t->name);
  p_text(&p, t->scope);
  p_text(&p, t->token_hash);
  p_i64(&p, t->created_time);
  p_text(&p, t->groups);
  p_i64(&p, t->expires_time);
  p_i64(&p, t->last_used_time);
  return run(s, S_TOK_INSERT, &p, NULL);
}

static int pg_token_list(struct store *st, struct store_token **out, size_t *n) {
  struct pg_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  void *arr;
  int ret = list_all(s, S_TOK_LIST, &token_rows, &arr, n);
  *out = arr;
  return ret;
}

static int pg_token_delete(struct store *st, uint64_t token_id) {
  struct pg_store *s = S(st);
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_id(&p, token_id);
  uint64_t changed = 0;
  ret = run(s, S_TOK_DELETE, &p, &changed);
  if (ret == 0 && changed == 0) {
    set_msg(s, "no such token: %llu", (unsigned long long)token_id);
    ret = EF_ENOENT;
  }
  return ret;
}

static int pg_token_touch(struct store *st, const uint64_t *ids, const int64_t *times,
                          size_t n) {
  struct pg_store *s = S(st);
  if (n && (!ids || !times)) return invalid(s, "ids or times is NULL");
  if (n == 0) return 0;
  int ret = ready(s);
  if (ret) return ret;
  struct arr c[2];
  memset(c, 0, sizeof c);
  for (size_t i = 0; i < n; i++) {
    arr_i64(&c[0], id_to_db(ids[i]));
    arr_i64(&c[1], times[i]);
  }
  struct params p = {0};
  p_own(&p, arr_end(&c[0]));
  p_own(&p, arr_end(&c[1]));
  ret = run(s, S_TOK_TOUCH_MANY, &p, NULL); /* unknown ids match no row: skipped */
  params_free(&p);
  return ret;
}

/* ===== Miner records ===== */

static int pg_miner_write(struct store *st, const struct store_miner *rows, size_t n) {
  struct pg_store *s = S(st);
  if (n && !rows) return invalid(s, "rows is NULL");
  for (size_t i = 0; i < n; i++)
    if (!rows[i].miner_id || (!rows[i].host_name && !rows[i].record))
      return invalid(s, "a miner row needs miner_id and record");
  if (n == 0) return 0;
  int ret = ready(s);
  if (ret) return ret;
  struct arr m[4], w[5];
  memset(m, 0, sizeof m);
  memset(w, 0, sizeof w);
  size_t nminers = 0, nworkers = 0;
  for (size_t i = 0; i < n; i++) {
    const struct store_miner *r = &rows[i];
    if (!r->host_name) {
      arr_text(&m[0], r->miner_id);
      arr_i64(&m[1], id_to_db(r->device_id));
      arr_text(&m[2], r->record);
      arr_i64(&m[3], r->updated_time);
      nminers++;
    } else { /* record NULL: the worker row is deleted */
      arr_text(&w[0], r->miner_id);
      arr_text(&w[1], r->host_name);
      arr_i64(&w[2], id_to_db(r->device_id));
      arr_text(&w[3], r->record);
      arr_i64(&w[4], r->updated_time);
      nworkers++;
    }
  }
  struct params pm = {0}, pw = {0};
  for (size_t k = 0; k < 4; k++) p_own(&pm, arr_end(&m[k]));
  for (size_t k = 0; k < 5; k++) p_own(&pw, arr_end(&w[k]));
  bool tx = nminers && nworkers;
  if (tx) ret = tx_begin(s);
  if (ret == 0 && nminers) ret = run(s, S_MINER_PUT_MANY, &pm, NULL);
  if (ret == 0 && nworkers) ret = run(s, S_WORKER_SYNC_MANY, &pw, NULL);
  if (tx) {
    if (ret == 0) ret = tx_commit(s);
    else tx_rollback(s);
  }
  params_free(&pm);
  params_free(&pw);
  return ret;
}

static int pg_miner_list(struct store *st, struct store_miner **out, size_t *n) {
  struct pg_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  void *arr;
  int ret = list_all(s, S_MINER_LIST, &miner_rows, &arr, n);
  *out = arr;
  return ret;
}

/* ===== The alert log and the alert engine's state ===== */

static int pg_alert_write(struct store *st, struct store_alert_log *rows, size_t n,
                          const char *state, int64_t now) {
  struct pg_store *s = S(st);
  if (n && !rows) return invalid(s, "rows is NULL");
  for (size_t i = 0; i < n; i++)
    if (!rows[i].event || !rows[i].entry)
      return invalid(s, "an alert log row has no event or entry");
  if (n == 0 && !state) return 0;
  int ret = ready(s);
  if (ret) return ret;
  bool tx = n && state;
  int64_t *ids = NULL;
  if (tx && (ret = tx_begin(s)) != 0) return ret;
  if (n) {
    struct arr c[5];
    memset(c, 0, sizeof c);
    for (size_t i = 0; i < n; i++) {
      arr_i64(&c[0], rows[i].time);
      arr_text(&c[1], rows[i].event);
      arr_text(&c[2], rows[i].rule);
      arr_text(&c[3], rows[i].fingerprint);
      arr_text(&c[4], rows[i].entry);
    }
    struct params p = {0};
    for (size_t k = 0; k < 5; k++) p_own(&p, arr_end(&c[k]));
    PGresult *r;
    ret = exec_stmt(s, S_ALOG_INSERT_MANY, &p, &r);
    params_free(&p);
    if (ret) goto fail_tx;
    ret = returned_ids(s, r, n, &ids);
    PQclear(r);
    if (ret) goto fail_tx;
  }
  if (state) {
    struct params p = {0};
    p_text(&p, state);
    p_i64(&p, now);
    ret = run(s, S_ASTATE_PUT, &p, NULL);
    if (ret) goto fail_tx;
  }
  if (tx && (ret = tx_commit(s)) != 0) goto fail_ids;
  for (size_t i = 0; i < n; i++) rows[i].log_id = id_from_db(ids[i]);
  ef_free(ids);
  return 0;

fail_tx:
  if (tx) tx_rollback(s);
fail_ids:
  for (size_t i = 0; i < n; i++) rows[i].log_id = 0;
  ef_free(ids);
  return ret;
}

static int pg_alert_state_get(struct store *st, char **out) {
  struct pg_store *s = S(st);
  if (!out) return invalid(s, "out is NULL");
  *out = NULL;
  int ret = ready(s);
  if (ret) return ret;
  PGresult *r;
  ret = exec_stmt(s, S_ASTATE_GET, NULL, &r);
  if (ret) return ret;
  if (PQntuples(r) > 0) *out = col_text(r, 0, 0);
  else ret = EF_ENOENT;
  PQclear(r);
  if (ret == EF_ENOENT) set_msg(s, "no alert state saved");
  return ret;
}

static int pg_alert_log_query(struct store *st, const struct store_alert_log_filter *f,
                              struct store_alert_log **out, size_t *n) {
  struct pg_store *s = S(st);
  if (!f || !out || !n) return invalid(s, "f, out or n is NULL");
  *out = NULL;
  *n = 0;
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  page_bounds(&p, f->before_id);
  p_i64(&p, f->since > 0 ? f->since : INT64_MIN);
  p_i64(&p, f->until > 0 ? f->until : INT64_MAX);
  p_text(&p, f->rule);
  p_text(&p, f->fingerprint);
  p_text(&p, f->event);
  p_i64(&p, f->limit ? bound_limit(f->limit) : INT64_MAX);
  void *arr;
  ret = fetch_all(s, S_ALOG_QUERY, &p, &alert_log_rows, &arr, n);
  *out = arr;
  return ret;
}

static int pg_alert_log_prune(struct store *st, int64_t older_than, size_t max,
                              uint64_t *deleted) {
  return prune_oldest(S(st), S_ALOG_PRUNE, older_than, max, deleted);
}

/* ===== History ===== */

static int pg_hist_write(struct store *st, const struct store_hist *rows, size_t n) {
  struct pg_store *s = S(st);
  if (n && !rows) return invalid(s, "rows is NULL");
  for (size_t i = 0; i < n; i++)
    if (!rows[i].owner || !rows[i].data) return invalid(s, "a history row needs owner and data");
  if (n == 0) return 0;
  int ret = ready(s);
  if (ret) return ret;
  struct arr c[4];
  memset(c, 0, sizeof c);
  for (size_t i = 0; i < n; i++) {
    arr_text(&c[0], rows[i].owner);
    arr_i64(&c[1], rows[i].tier);
    arr_i64(&c[2], rows[i].time);
    arr_text(&c[3], rows[i].data);
  }
  struct params p = {0};
  for (size_t k = 0; k < 4; k++) p_own(&p, arr_end(&c[k]));
  ret = run(s, S_HIST_PUT_MANY, &p, NULL); /* one statement: all or nothing */
  params_free(&p);
  return ret;
}

static int pg_hist_query(struct store *st, const char *owner, int tier, int64_t from, int64_t to,
                         size_t limit, struct store_hist **out, size_t *n) {
  struct pg_store *s = S(st);
  if (!owner || !out || !n) return invalid(s, "owner, out or n is NULL");
  *out = NULL;
  *n = 0;
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_text(&p, owner);
  p_i64(&p, tier);
  p_i64(&p, from);
  p_i64(&p, to);
  p_i64(&p, limit ? bound_limit(limit) : INT64_MAX);
  void *arr;
  ret = fetch_all(s, S_HIST_QUERY, &p, &hist_rows, &arr, n);
  *out = arr;
  return ret;
}

static int pg_hist_range(struct store *st, int tier, int64_t from, int64_t to,
                         struct store_hist **out, size_t *n) {
  struct pg_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  *out = NULL;
  *n = 0;
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_i64(&p, tier);
  p_i64(&p, from);
  p_i64(&p, to);
  void *arr;
  ret = fetch_all(s, S_HIST_RANGE, &p, &hist_rows, &arr, n);
  *out = arr;
  return ret;
}

static int pg_hist_prune(struct store *st, int tier, int64_t older_than, size_t max,
                         uint64_t *deleted) {
  struct pg_store *s = S(st);
  if (deleted) *deleted = 0;
  if (max == 0) return 0;
  int ret = ready(s);
  if (ret) return ret;
  struct params p = {0};
  p_i64(&p, tier);
  p_i64(&p, older_than);
  p_i64(&p, bound_limit(max));
  return run(s, S_HIST_PRUNE, &p, deleted);
}

const struct store_ops store_pg_ops = {
    .scheme = "postgresql:",
    .open = pg_open,
    .close = pg_close,
    .errmsg = pg_errmsg,
    .device_add = pg_device_add,
    .device_add_batch = pg_device_add_batch,
    .device_get = pg_device_get,
    .device_find = pg_device_find,
    .device_list = pg_device_list,
    .device_count = pg_device_count,
    .device_update = pg_device_update,
    .device_delete = pg_device_delete,
    .device_set_token = pg_device_set_token,
    .device_set_verifier = pg_device_set_verifier,
    .device_all_offline = pg_device_all_offline,
    .group_add = pg_group_add,
    .group_get = pg_group_get,
    .group_list = pg_group_list,
    .group_update = pg_group_update,
    .group_delete = pg_group_delete,
    .relation_add = pg_relation_add,
    .relation_delete = pg_relation_delete,
    .relation_exists = pg_relation_exists,
    .device_groups = pg_device_groups,
    .group_devices = pg_group_devices,
    .group_clear = pg_group_clear,
    .write_batch = pg_write_batch,
    .log_query = pg_log_query,
    .log_prune = pg_log_prune,
    .audit_append = pg_audit_append,
    .audit_query = pg_audit_query,
    .audit_prune = pg_audit_prune,
    .token_add = pg_token_add,
    .token_list = pg_token_list,
    .token_delete = pg_token_delete,
    .token_touch = pg_token_touch,
    .miner_write = pg_miner_write,
    .miner_list = pg_miner_list,
    .alert_write = pg_alert_write,
    .alert_state_get = pg_alert_state_get,
    .alert_log_query = pg_alert_log_query,
    .alert_log_prune = pg_alert_log_prune,
    .hist_write = pg_hist_write,
    .hist_query = pg_hist_query,
    .hist_range = pg_hist_range,
    .hist_prune = pg_hist_prune,
};
