/* SPDX-License-Identifier: MIT */
/* store_sqlite.c -- the embedded SQLite backend of store.h ("sqlite:PATH" or a bare path).
 *
 * DESIGN
 * One struct (struct sqlite_store) holds the connection and every prepared statement. The
 * statements are listed once, in SQLITE_STMTS; open() prepares them all in prepare_all() with
 * SQLITE_PREPARE_PERSISTENT, close() finalizes them, and every use ends in done() (reset +
 * clear bindings). Column lists of `devices` are generated from STORE_DEVICE_FIELDS, so the
 * struct, the schema and every statement agree by construction.
 *
 * The connection runs in WAL mode with synchronous=NORMAL (a crash loses at most the last
 * transactions, never consistency), foreign keys on, and a busy timeout. Multi-row writes
 * (device_add_batch, write_batch, device_delete) are one BEGIN IMMEDIATE ... COMMIT each, rolled
 * back on any error.
 *
 * Schema: `migrations[]` is the ordered list of SQL steps and PRAGMA user_version counts the
 * steps applied. open() applies the missing steps in one transaction and refuses a database whose
 * version is above the code's. Within the same transaction, any STORE_DEVICE_FIELDS column that
 * `devices` lacks is added as TEXT (add_missing_columns), so a new device column needs no
 * migration step; renaming or dropping a column, or anything else, is a new step at the end of
 * `migrations[]` (never edit a step that has shipped).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "edgefleet/error.h"
#include "log.h"
#include "mem.h"
#include "store.h"

#define BUSY_TIMEOUT_MS 5000

/* ===== Schema ===== */

#define DEV_COLDEF_(col, parent, key) #col " TEXT,\n"

static const char *const migrations[] = {
    /* 1: the initial schema (docs/store.md#schema-version-1). */
    "CREATE TABLE devices (\n"
    "device_id INTEGER PRIMARY KEY,\n"
    STORE_DEVICE_FIELDS(DEV_COLDEF_)
    "password TEXT,\n"
    "token_hash TEXT,\n"
    "token_expiry INTEGER NOT NULL DEFAULT 0,\n"
    "created_time INTEGER NOT NULL DEFAULT 0,\n"
    "updated_time INTEGER NOT NULL DEFAULT 0,\n"
    "UNIQUE (hardware_sn, hardware_model));\n"
    "CREATE TABLE group_info (\n"
    "group_id INTEGER PRIMARY KEY,\n"
    "group_name TEXT NOT NULL UNIQUE,\n"
    "group_description TEXT,\n"
    "created_time INTEGER NOT NULL DEFAULT 0,\n"
    "updated_time INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE TABLE relations (\n"
    "device_id INTEGER NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,\n"
    "group_id INTEGER NOT NULL REFERENCES group_info(group_id) ON DELETE CASCADE,\n"
    "created_time INTEGER NOT NULL DEFAULT 0,\n"
    "PRIMARY KEY (device_id, group_id)) WITHOUT ROWID;\n"
    "CREATE INDEX relations_group ON relations(group_id);\n"
    "CREATE TABLE device_logs (\n"
    "log_id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "device_id INTEGER NOT NULL,\n"
    "event TEXT NOT NULL,\n"
    "detail TEXT,\n"
    "result TEXT,\n"
    "time INTEGER NOT NULL);\n"
    "CREATE INDEX device_logs_device_time ON device_logs(device_id, time);\n"
    "CREATE INDEX device_logs_time ON device_logs(time);\n"
    "CREATE TABLE api_tokens (\n"
    "token_id INTEGER PRIMARY KEY,\n"
    "name TEXT,\n"
    "kind TEXT NOT NULL,\n"
    "token_hash TEXT NOT NULL UNIQUE,\n"
    "created_time INTEGER NOT NULL DEFAULT 0);\n",
    /* 2: miner and worker records (docs/protocol.md#miner-records), as JSON documents. */
    "CREATE TABLE miner_info (\n"
    "miner_id TEXT PRIMARY KEY,\n"
    "device_id INTEGER NOT NULL DEFAULT 0,\n"
    "record TEXT NOT NULL,\n"
    "updated_time INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE TABLE worker_info (\n"
    "miner_id TEXT NOT NULL,\n"
    "host_name TEXT NOT NULL,\n"
    "device_id INTEGER NOT NULL DEFAULT 0,\n"
    "record TEXT NOT NULL,\n"
    "updated_time INTEGER NOT NULL DEFAULT 0,\n"
    "PRIMARY KEY (miner_id, host_name)) WITHOUT ROWID;\n",
    /* 3: the password verifier of password logins at fleet scale (docs/security.md#verifier). */
    "ALTER TABLE devices ADD COLUMN pw_verifier TEXT;\n",
    /* 4: scoped, named, revocable API tokens (docs/security.md#api-tokens): the scope (kind
     * admin -> admin, read -> read; `kind` stays, written equal to the scope), the groups a
     * token is limited to ("id,id", NULL: all), its expiry and its last use (ms, 0: none). */
    "ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'read';\n"
    "UPDATE api_tokens SET scope = CASE kind WHEN 'admin' THEN 'admin' ELSE 'read' END;\n"
    "ALTER TABLE api_tokens ADD COLUMN groups TEXT;\n"
    "ALTER TABLE api_tokens ADD COLUMN expires_time INTEGER NOT NULL DEFAULT 0;\n"
    "ALTER TABLE api_tokens ADD COLUMN last_used_time INTEGER NOT NULL DEFAULT 0;\n",
    /* 5: the audit log of the REST API's mutations and orders (docs/security.md#audit-log).
     * audit_id orders the rows (the paging cursor); the time index serves since/until and
     * retention. */
    "CREATE TABLE audit_log (\n"
    "audit_id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "time INTEGER NOT NULL,\n"
    "token_id INTEGER NOT NULL,\n"
    "token_name TEXT,\n"
    "route TEXT NOT NULL,\n"
    "target TEXT,\n"
    "status INTEGER NOT NULL,\n"
    "outcome TEXT NOT NULL,\n"
    "peer TEXT);\n"
    "CREATE INDEX audit_log_time ON audit_log(time);\n",
    /* 6: the history of chosen series (docs/history.md): one row per owner ("d:<id>" a device,
     * "m:<minerId>" a miner), tier and time, its series as JSON text. The (tier, time) index
     * serves the roll-up of a bucket and retention. */
    "CREATE TABLE history (\n"
    "owner TEXT NOT NULL,\n"
    "tier INTEGER NOT NULL,\n"
    "time INTEGER NOT NULL,\n"
    "data TEXT NOT NULL,\n"
    "PRIMARY KEY (owner, tier, time)) WITHOUT ROWID;\n"
    "CREATE INDEX history_tier_time ON history(tier, time);\n",
    /* 7: the alert log and the alert engine's saved state (docs/alerts.md#persistence).
     * log_id orders the log (the paging cursor); the time index serves since/until and
     * retention, the fingerprint index a query for one alert. alert_state holds one row per key
     * (today only 'engine': the open alerts, acks and silences as one JSON document). */
    "CREATE TABLE alert_log (\n"
    "log_id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "time INTEGER NOT NULL,\n"
    "event TEXT NOT NULL,\n"
    "rule TEXT,\n"
    "fingerprint TEXT,\n"
    "entry TEXT NOT NULL);\n"
    "CREATE INDEX alert_log_time ON alert_log(time);\n"
    "CREATE INDEX alert_log_fingerprint ON alert_log(fingerprint);\n"
    "CREATE TABLE alert_state (\n"
    "key TEXT PRIMARY KEY,\n"
    "doc TEXT NOT NULL,\n"
    "updated_time INTEGER NOT NULL);\n",
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static const char *const device_text_cols[] = {
#define DEV_NAME_(col, parent, key) #col,
    STORE_DEVICE_FIELDS(DEV_NAME_)
#undef DEV_NAME_
};

/* ===== Statements ===== */

#define DEV_COL_(col, parent, key) ", " #col
#define DEV_PARAM_(col, parent, key) ", ?"
#define DEV_SET_(col, parent, key) ", " #col " = COALESCE(?, " #col ")"

#define DEV_COLS                                                                                   \
  "device_id" STORE_DEVICE_FIELDS(DEV_COL_) ", password, pw_verifier, token_hash, token_expiry, " \
                                            "created_time, updated_time"
#define DEV_PARAMS "?" STORE_DEVICE_FIELDS(DEV_PARAM_) ", ?, ?, ?, ?, ?, ?"
#define GRP_COLS "group_id, group_name, group_description, created_time, updated_time"
#define LOG_COLS "log_id, device_id, event, detail, result, time"
#define TOK_COLS                                                                                   \
  "token_id, name, scope, token_hash, created_time, groups, expires_time, last_used_time, kind"
#define ALOG_COLS "log_id, time, event, rule, fingerprint, entry"
#define AUD_COLS "audit_id, time, token_id, token_name, route, target, status, outcome, peer"

#define SQLITE_STMTS(X)                                                                          \
  X(BEGIN, "BEGIN IMMEDIATE")                                                                    \
  X(COMMIT, "COMMIT")                                                                            \
  X(ROLLBACK, "ROLLBACK")                                                                        \
  X(DEV_INSERT, "INSERT INTO devices (" DEV_COLS ") VALUES (" DEV_PARAMS ")")                    \
  X(DEV_GET, "SELECT " DEV_COLS " FROM devices WHERE device_id = ?")                             \
  X(DEV_FIND, "SELECT " DEV_COLS " FROM devices WHERE hardware_sn = ? AND hardware_model = ?")   \
  X(DEV_LIST, "SELECT " DEV_COLS " FROM devices ORDER BY device_id")                             \
  X(DEV_COUNT, "SELECT count(*) FROM devices")                                                   \
  X(DEV_UPDATE, "UPDATE devices SET updated_time = ?" STORE_DEVICE_FIELDS(DEV_SET_)              \
                ", password = COALESCE(:pw, password),"                                           \
                " pw_verifier = CASE WHEN :pw IS NULL THEN pw_verifier END WHERE device_id = ?")    \
  X(DEV_DELETE, "DELETE FROM devices WHERE device_id = ?")                                       \
  X(DEV_DELETE_LOGS, "DELETE FROM device_logs WHERE device_id = ?")                              \
  X(DEV_SET_TOKEN, "UPDATE devices SET token_hash = ?, token_expiry = ? WHERE device_id = ?")    \
  X(DEV_SET_VERIFIER, "UPDATE devices SET pw_verifier = ? WHERE device_id = ?")                  \
  X(DEV_ALL_OFFLINE, "UPDATE devices SET dev_state = 'offline', updated_time = ? "               \
                     "WHERE dev_state IS NOT 'offline'")                                         \
  X(DEV_EXISTS, "SELECT 1 FROM devices WHERE device_id = ?")                                     \
  X(DEV_SET_STATE, "UPDATE devices SET dev_state = ?, updated_time = ? WHERE device_id = ?")     \
  X(GRP_INSERT, "INSERT INTO group_info (" GRP_COLS ") VALUES (?, ?, ?, ?, ?)")                  \
  X(GRP_GET, "SELECT " GRP_COLS " FROM group_info WHERE group_id = ?")                           \
  X(GRP_LIST, "SELECT " GRP_COLS " FROM group_info ORDER BY group_id")                           \
  X(GRP_UPDATE, "UPDATE group_info SET group_name = COALESCE(?1, group_name), "                  \
                "group_description = COALESCE(?2, group_description), "                          \
                "updated_time = CASE WHEN ?3 > 0 THEN ?3 ELSE updated_time END "                 \
                "WHERE group_id = ?4")                                                           \
  X(GRP_DELETE, "DELETE FROM group_info WHERE group_id = ?")                                     \
  X(GRP_EXISTS, "SELECT 1 FROM group_info WHERE group_id = ?")                                   \
  X(REL_INSERT, "INSERT INTO relations (device_id, group_id, created_time) VALUES (?, ?, ?)")    \
  X(REL_DELETE, "DELETE FROM relations WHERE device_id = ? AND group_id = ?")                    \
  X(REL_EXISTS, "SELECT 1 FROM relations WHERE device_id = ? AND group_id = ?")                  \
  X(REL_DEVICE_GROUPS, "SELECT " GRP_COLS " FROM group_info WHERE group_id IN "                  \
                       "(SELECT group_id FROM relations WHERE device_id = ?) ORDER BY group_id") \
  X(REL_GROUP_DEVICES, "SELECT " DEV_COLS " FROM devices WHERE device_id IN "                    \
                       "(SELECT device_id FROM relations WHERE group_id = ?) "                   \
                       "ORDER BY device_id")                                                     \
  X(REL_GROUP_CLEAR, "DELETE FROM relations WHERE group_id = ?")                                 \
  X(LOG_INSERT, "INSERT INTO device_logs (device_id, event, detail, result, time) "              \
                "VALUES (?, ?, ?, ?, ?)")                                                        \
  X(LOG_QUERY, "SELECT " LOG_COLS " FROM device_logs WHERE device_id = ? AND time < ? "          \
               "ORDER BY time DESC, log_id DESC LIMIT ?")                                        \
  X(LOG_PRUNE, "DELETE FROM device_logs WHERE time < ?")                                         \
  X(AUD_INSERT, "INSERT INTO audit_log (time, token_id, token_name, route, target, status, "     \
                "outcome, peer) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")                                \
  X(AUD_QUERY, "SELECT " AUD_COLS " FROM audit_log WHERE audit_id < ?1 AND time >= ?2 "         \
               "AND time < ?3 AND (?4 IS NULL OR token_name = ?4 "                               \
               "OR CAST(token_id AS TEXT) = ?4) AND (?5 IS NULL OR route = ?5) "                 \
               "AND (?6 IS NULL OR instr(target, ?6) > 0) AND status BETWEEN ?7 AND ?8 "         \
               "ORDER BY audit_id DESC LIMIT ?9")                                                \
  X(AUD_PRUNE, "DELETE FROM audit_log WHERE audit_id IN (SELECT audit_id FROM audit_log "       \
               "WHERE time < ? ORDER BY time LIMIT ?)")                                          \
  X(ALOG_INSERT, "INSERT INTO alert_log (time, event, rule, fingerprint, entry) "               \
                 "VALUES (?, ?, ?, ?, ?)")                                                       \
  X(ALOG_QUERY, "SELECT " ALOG_COLS " FROM alert_log WHERE log_id < ?1 AND time >= ?2 "         \
                "AND time < ?3 AND (?4 IS NULL OR rule = ?4) "                                   \
                "AND (?5 IS NULL OR fingerprint = ?5) AND (?6 IS NULL OR event = ?6) "           \
                "ORDER BY log_id DESC LIMIT ?7")                                                 \
  X(ALOG_PRUNE, "DELETE FROM alert_log WHERE log_id IN (SELECT log_id FROM alert_log "          \
                "WHERE time < ? ORDER BY time LIMIT ?)")                                         \
  X(ASTATE_PUT, "INSERT INTO alert_state (key, doc, updated_time) VALUES ('engine', ?, ?) "     \
                "ON CONFLICT (key) DO UPDATE SET doc = excluded.doc, "                           \
                "updated_time = excluded.updated_time")                                          \
  X(ASTATE_GET, "SELECT doc FROM alert_state WHERE key = 'engine'")                              \
  X(TOK_INSERT, "INSERT INTO api_tokens (" TOK_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?3)")     \
  X(TOK_LIST, "SELECT " TOK_COLS " FROM api_tokens ORDER BY token_id")                          \
  X(TOK_DELETE, "DELETE FROM api_tokens WHERE token_id = ?")                                     \
  X(TOK_TOUCH, "UPDATE api_tokens SET last_used_time = MAX(last_used_time, ?) WHERE token_id = ?") \
  X(MINER_PUT, "INSERT INTO miner_info (miner_id, device_id, record, updated_time) "             \
               "VALUES (?, ?, ?, ?) ON CONFLICT (miner_id) DO UPDATE SET "                      \
               "device_id = excluded.device_id, record = excluded.record, "                     \
               "updated_time = excluded.updated_time")                                          \
  X(WORKER_PUT, "INSERT INTO worker_info (miner_id, host_name, device_id, record, updated_time) " \
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (miner_id, host_name) DO UPDATE SET "       \
                "device_id = excluded.device_id, record = excluded.record, "                    \
                "updated_time = excluded.updated_time")                                         \
  X(WORKER_DEL, "DELETE FROM worker_info WHERE miner_id = ? AND host_name = ?")                 \
  X(MINER_LIST, "SELECT miner_id, NULL, record, device_id, updated_time FROM miner_info "       \
                "UNION ALL SELECT miner_id, host_name, record, device_id, updated_time "        \
                "FROM worker_info ORDER BY 2 NULLS FIRST, 1")                                   \
  X(HIST_PUT, "INSERT OR REPLACE INTO history (owner, tier, time, data) VALUES (?, ?, ?, ?)")   \
  X(HIST_QUERY, "SELECT owner, tier, time, data FROM history WHERE owner = ? AND tier = ? "     \
                "AND time >= ? AND time < ? ORDER BY time LIMIT ?")                             \
  X(HIST_RANGE, "SELECT owner, tier, time, data FROM history INDEXED BY history_tier_time "     \
                "WHERE tier = ? AND time >= ? AND time < ? ORDER BY owner, time")               \
  X(HIST_PRUNE, "DELETE FROM history WHERE (owner, tier, time) IN (SELECT owner, tier, time "  \
                "FROM history INDEXED BY history_tier_time WHERE tier = ? AND time < ? "        \
                "ORDER BY time LIMIT ?)")

enum stmt_id {
#define STMT_ENUM_(name, sql) S_##name,
  SQLITE_STMTS(STMT_ENUM_)
#undef STMT_ENUM_
  S_COUNT_
};

static const char *const stmt_sql[S_COUNT_] = {
#define STMT_SQL_(name, sql) [S_##name] = sql,
    SQLITE_STMTS(STMT_SQL_)
#undef STMT_SQL_
};

struct sqlite_store {
  struct store base; /* first: store.h's handle */
  sqlite3 *db;
  sqlite3_stmt *stmt[S_COUNT_];
  char errmsg[512]; /* the last failure's message, for store_errmsg() */
};

#define S(st) ((struct sqlite_store *)(st))

/* ===== Helpers ===== */

__attribute__((format(printf, 2, 3))) static void set_msg(struct sqlite_store *s,
                                                          const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
  va_end(ap);
}

/* An (extended) sqlite result code as edgefleet's error (docs/store.md#errors). `sys` is the
 * errno behind an I/O failure, or 0. A write that failed for want of room (ENOSPC, a quota, or
 * the file size limit: EFBIG) is EF_EFULL whether sqlite saw a short write (SQLITE_FULL) or a
 * failed one (SQLITE_IOERR_WRITE). */
static int map_rc(int rc, int sys) {
  switch (rc) {
  case SQLITE_CONSTRAINT_UNIQUE:
  case SQLITE_CONSTRAINT_PRIMARYKEY:
    return EF_EEXIST;
  case SQLITE_CONSTRAINT_FOREIGNKEY:
    return EF_ENOENT;
  }
  switch (rc & 0xff) {
  case SQLITE_FULL:
    return EF_EFULL;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    return EF_ECORRUPT;
  case SQLITE_READONLY:
    return EF_EREADONLY;
  case SQLITE_IOERR:
  case SQLITE_CANTOPEN:
    return sys == ENOSPC || sys == EDQUOT || sys == EFBIG ? EF_EFULL : EF_EIO;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return EF_EBUSY;
  case SQLITE_NOMEM:
    return EF_ENOMEM;
  default:
    return EF_EDB;
  }
}

/* The errno behind an I/O failure of the last call on db. sqlite records it only for some
 * failures (not for a failed WAL write), so errno itself, cleared before each step (step()),
 * is the fallback; read it before any other call can change it. */
static int sys_errno(sqlite3 *db, int rc, int saved_errno) {
  int prim = rc & 0xff;
  if (prim != SQLITE_IOERR && prim != SQLITE_FULL && prim != SQLITE_CANTOPEN) return 0;
  int e = sqlite3_system_errno(db);
  return e ? e : saved_errno;
}

/* sqlite's message, with the system error behind an I/O failure ("disk I/O error (File too
 * large)"). */
static void db_message(sqlite3 *db, int sys, char *buf, size_t len) {
  if (sys) snprintf(buf, len, "%s (%s)", sqlite3_errmsg(db), strerror(sys));
  else snprintf(buf, len, "%s", sqlite3_errmsg(db));
}

/* Record sqlite's message for errmsg() and map the (extended) result code. Call it right after
 * the failed call. */
static int db_fail(struct sqlite_store *s, int rc) {
  int sys = sys_errno(s->db, rc, errno);
  db_message(s->db, sys, s->errmsg, sizeof s->errmsg);
  return map_rc(rc, sys);
}

/* sqlite3_step with errno cleared first, for db_fail's fallback. */
static int step(sqlite3_stmt *st) {
  errno = 0;
  return sqlite3_step(st);
}

/* db_fail for a connection without a store yet (open): the error of the last call on db. */
static int db_err(sqlite3 *db, int saved_errno) {
  int rc = sqlite3_extended_errcode(db);
  return map_rc(rc, sys_errno(db, rc, saved_errno));
}

static int invalid(struct sqlite_store *s, const char *what) {
  set_msg(s, "invalid argument: %s", what);
  return EF_EINVAL;
}

static int missing(struct sqlite_store *s, const char *what, uint64_t id) {
  set_msg(s, "no such %s: %llu", what, (unsigned long long)id);
  return EF_ENOENT;
}

static void done(sqlite3_stmt *st) {
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

static int bind_text(sqlite3_stmt *st, int i, const char *v) {
  return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC); /* NULL binds SQL NULL */
}

static int bind_id(sqlite3_stmt *st, int i, uint64_t v) {
  return sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

/* Check the bind results of a statement; on failure the statement is reset. */
static int bound(struct sqlite_store *s, sqlite3_stmt *st, int brc) {
  if (brc == SQLITE_OK) return 0;
  set_msg(s, "cannot bind a parameter: %s", sqlite3_errmsg(s->db));
  done(st);
  return EF_EDB;
}

/* Step a statement that returns no row, then reset it. */
static int run(struct sqlite_store *s, sqlite3_stmt *st) {
  int rc = step(st);
  int ret = rc == SQLITE_DONE ? 0 : db_fail(s, rc);
  done(st);
  return ret;
}

/* Step a statement whose only question is whether it yields a row. */
static int exists(struct sqlite_store *s, sqlite3_stmt *st, bool *out) {
  int rc = step(st);
  int ret = 0;
  if (rc == SQLITE_ROW) *out = true;
  else if (rc == SQLITE_DONE) *out = false;
  else ret = db_fail(s, rc);
  done(st);
  return ret;
}

static int row_exists(struct sqlite_store *s, enum stmt_id id, uint64_t key, bool *out) {
  sqlite3_stmt *st = s->stmt[id];
  int brc = bind_id(st, 1, key);
  if (brc) return bound(s, st, brc);
  return exists(s, st, out);
}

static int tx_begin(struct sqlite_store *s) { return run(s, s->stmt[S_BEGIN]); }

static void tx_rollback(struct sqlite_store *s) {
  if (sqlite3_get_autocommit(s->db)) return; /* sqlite already rolled back */
  char keep[sizeof s->errmsg];
  memcpy(keep, s->errmsg, sizeof keep);
  if (run(s, s->stmt[S_ROLLBACK]) != 0)
    ef_log(EF_LOG_ERROR, "store: rollback failed: %s", s->errmsg);
  memcpy(s->errmsg, keep, sizeof keep);
}

static int tx_commit(struct sqlite_store *s) {
  int rc = run(s, s->stmt[S_COMMIT]);
  if (rc) tx_rollback(s);
  return rc;
}

static char *col_text(sqlite3_stmt *st, int i) {
  return ef_strdup((const char *)sqlite3_column_text(st, i)); /* NULL column -> NULL */
}

/* ===== Rows ===== */

/* How to read one row of a result into a record, and to free one. */
struct row_type {
  size_t size;
  void (*read)(sqlite3_stmt *st, void *out);
  void (*clear)(void *rec);
};

static void read_device(sqlite3_stmt *st, void *out) {
  struct store_device *d = out;
  int i = 0;
  d->device_id = (uint64_t)sqlite3_column_int64(st, i++);
#define DEV_READ_(col, parent, key) d->col = col_text(st, i++);
  STORE_DEVICE_FIELDS(DEV_READ_)
#undef DEV_READ_
  d->password = col_text(st, i++);
  d->pw_verifier = col_text(st, i++);
  d->token_hash = col_text(st, i++);
  d->token_expiry = sqlite3_column_int64(st, i++);
  d->created_time = sqlite3_column_int64(st, i++);
  d->updated_time = sqlite3_column_int64(st, i++);
}

static void read_group(sqlite3_stmt *st, void *out) {
  struct store_group *g = out;
  g->group_id = (uint64_t)sqlite3_column_int64(st, 0);
  g->group_name = col_text(st, 1);
  g->group_description = col_text(st, 2);
  g->created_time = sqlite3_column_int64(st, 3);
  g->updated_time = sqlite3_column_int64(st, 4);
}

static void read_log(sqlite3_stmt *st, void *out) {
  struct store_log *l = out;
  l->log_id = (uint64_t)sqlite3_column_int64(st, 0);
  l->device_id = (uint64_t)sqlite3_column_int64(st, 1);
  l->event = col_text(st, 2);
  l->detail = col_text(st, 3);
  l->result = col_text(st, 4);
  l->time = sqlite3_column_int64(st, 5);
}

static void read_token(sqlite3_stmt *st, void *out) {
  struct store_token *t = out;
  t->token_id = (uint64_t)sqlite3_column_int64(st, 0);
  t->name = col_text(st, 1);
  t->scope = col_text(st, 2);
  t->token_hash = col_text(st, 3);
  t->created_time = sqlite3_column_int64(st, 4);
  t->groups = col_text(st, 5);
  t->expires_time = sqlite3_column_int64(st, 6);
  t->last_used_time = sqlite3_column_int64(st, 7);
}

static void read_audit(sqlite3_stmt *st, void *out) {
  struct store_audit *a = out;
  a->audit_id = (uint64_t)sqlite3_column_int64(st, 0);
  a->time = sqlite3_column_int64(st, 1);
  a->token_id = (uint64_t)sqlite3_column_int64(st, 2);
  a->token_name = col_text(st, 3);
  a->route = col_text(st, 4);
  a->target = col_text(st, 5);
  a->status = sqlite3_column_int(st, 6);
  a->outcome = col_text(st, 7);
  a->peer = col_text(st, 8);
}

static void clear_device(void *rec) { store_device_clear(rec); }
static void clear_group(void *rec) { store_group_clear(rec); }
static void clear_log(void *rec) { store_log_clear(rec); }
static void clear_token(void *rec) { store_tokens_free_members(rec); }

static const struct row_type device_rows = {sizeof(struct store_device), read_device,
                                            clear_device};
static const struct row_type group_rows = {sizeof(struct store_group), read_group, clear_group};
static const struct row_type log_rows = {sizeof(struct store_log), read_log, clear_log};
static void clear_audit(void *rec) { store_audit_clear(rec); }
static const struct row_type audit_rows = {sizeof(struct store_audit), read_audit, clear_audit};
static const struct row_type token_rows = {sizeof(struct store_token), read_token, clear_token};

static void read_miner(sqlite3_stmt *st, void *out) {
  struct store_miner *m = out;
  m->miner_id = col_text(st, 0);
  m->host_name = col_text(st, 1);
  m->record = col_text(st, 2);
  m->device_id = (uint64_t)sqlite3_column_int64(st, 3);
  m->updated_time = sqlite3_column_int64(st, 4);
}

static void clear_miner(void *rec) { store_miner_clear(rec); }

static const struct row_type miner_rows = {sizeof(struct store_miner), read_miner, clear_miner};

static void read_alert_log(sqlite3_stmt *st, void *out) {
  struct store_alert_log *l = out;
  l->log_id = (uint64_t)sqlite3_column_int64(st, 0);
  l->time = sqlite3_column_int64(st, 1);
  l->event = col_text(st, 2);
  l->rule = col_text(st, 3);
  l->fingerprint = col_text(st, 4);
  l->entry = col_text(st, 5);
}

static void clear_alert_log(void *rec) { store_alert_log_clear(rec); }

static const struct row_type alert_log_rows = {sizeof(struct store_alert_log), read_alert_log,
                                               clear_alert_log};

static void read_hist(sqlite3_stmt *st, void *out) {
  struct store_hist *h = out;
  h->owner = col_text(st, 0);
  h->tier = sqlite3_column_int(st, 1);
  h->time = sqlite3_column_int64(st, 2);
  h->data = col_text(st, 3);
}
static void clear_hist(void *rec) { store_hist_clear(rec); }
static const struct row_type hist_rows = {sizeof(struct store_hist), read_hist, clear_hist};

/* Step a bound statement for exactly one row into *out (zeroed first). EF_ENOENT if none. */
static int fetch_one(struct sqlite_store *s, sqlite3_stmt *st, const struct row_type *t,
                     void *out) {
  int rc = step(st);
  int ret = 0;
  if (rc == SQLITE_ROW) t->read(st, out);
  else if (rc == SQLITE_DONE) ret = EF_ENOENT;
  else ret = db_fail(s, rc);
  done(st);
  return ret;
}

/* Step a bound statement to the end into a new array (*out, *n); NULL, 0 when empty or on
 * failure. The array is the caller's. */
static int fetch_all(struct sqlite_store *s, sqlite3_stmt *st, const struct row_type *t,
                     void **out, size_t *n) {
  char *arr = NULL;
  size_t len = 0, cap = 0;
  int rc, ret = 0;
  while ((rc = step(st)) == SQLITE_ROW) {
    if (len == cap) {
      cap = cap ? cap * 2 : 16;
      arr = ef_realloc(arr, cap * t->size);
    }
    void *rec = arr + len * t->size;
    memset(rec, 0, t->size);
    t->read(st, rec);
    len++;
  }
  if (rc != SQLITE_DONE) {
    ret = db_fail(s, rc);
    for (size_t i = 0; i < len; i++) t->clear(arr + i * t->size);
    ef_free(arr);
    arr = NULL;
    len = 0;
  }
  done(st);
  *out = arr;
  *n = len;
  return ret;
}

/* ===== Open, migrate, close ===== */

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen) {
  char *msg = NULL;
  errno = 0;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) {
    int ret = db_err(db, errno);
    store_set_err(err, errlen, "%s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return ret;
  }
  return 0;
}

/* Read a one-row, one-column pragma; its text goes to buf (may be NULL), its value returned in
 * *num (may be NULL). */
static int pragma_value(sqlite3 *db, const char *sql, char *buf, size_t buflen, int *num,
                        char *err, size_t errlen) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    rc = step(st);
    if (rc == SQLITE_ROW) {
      const char *text = (const char *)sqlite3_column_text(st, 0);
      if (buf) snprintf(buf, buflen, "%s", text ? text : "");
      if (num) *num = sqlite3_column_int(st, 0);
      rc = SQLITE_OK;
    }
  }
  int ret = 0;
  if (rc != SQLITE_OK) {
    ret = db_err(db, errno);
    store_set_err(err, errlen, "%s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  return ret;
}

/* Add each STORE_DEVICE_FIELDS column that `devices` lacks (a field added to store.h). */
static int add_missing_columns(sqlite3 *db, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  int ret = 0;
  int rc = sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('devices') WHERE name = ?",
                              -1, &q, NULL);
  if (rc != SQLITE_OK) goto fail_sqlite;
  for (size_t i = 0; i < sizeof device_text_cols / sizeof device_text_cols[0]; i++) {
    sqlite3_bind_text(q, 1, device_text_cols[i], -1, SQLITE_STATIC);
    rc = step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW) continue;
    if (rc != SQLITE_DONE) goto fail_sqlite;
    char sql[160];
    snprintf(sql, sizeof sql, "ALTER TABLE devices ADD COLUMN %s TEXT", device_text_cols[i]);
    ret = exec_sql(db, sql, err, errlen);
    if (ret) goto fail_stmt;
    ef_log(EF_LOG_INFO, "store: added column devices.%s", device_text_cols[i]);
  }
  sqlite3_finalize(q);
  return 0;

fail_sqlite:
  store_set_err(err, errlen, "%s", sqlite3_errmsg(db));
  ret = EF_EDB;
fail_stmt:
  sqlite3_finalize(q);
  return ret;
}

/* Bring the schema to SCHEMA_VERSION in one transaction. */
static int migrate(sqlite3 *db, const char *path, char *err, size_t errlen) {
  char msg[256] = "";
  int version = 0, ret;

  ret = exec_sql(db, "BEGIN IMMEDIATE", msg, sizeof msg);
  if (ret) goto fail;
  ret = pragma_value(db, "PRAGMA user_version", NULL, 0, &version, msg, sizeof msg);
  if (ret) goto fail_tx;
  if (version > SCHEMA_VERSION || version < 0) {
    exec_sql(db, "ROLLBACK", NULL, 0);
    store_set_err(err, errlen,
            "database '%s' has schema version %d, but this program knows versions up to %d: "
            "it was written by a newer edgefleet; upgrade edgefleet or use another database",
            path, version, SCHEMA_VERSION);
    return EF_EDB;
  }
  for (int v = version; v < SCHEMA_VERSION; v++) {
    ret = exec_sql(db, migrations[v], msg, sizeof msg);
    if (ret) goto fail_tx;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
    ret = exec_sql(db, sql, msg, sizeof msg);
    if (ret) goto fail_tx;
  }
  ret = add_missing_columns(db, msg, sizeof msg);
  if (ret) goto fail_tx;
  ret = exec_sql(db, "COMMIT", msg, sizeof msg);
  if (ret) goto fail_tx;
  if (version < SCHEMA_VERSION)
    ef_log(EF_LOG_INFO, "store: %s migrated from schema version %d to %d", path, version,
           SCHEMA_VERSION);
  return 0;

fail_tx:
  exec_sql(db, "ROLLBACK", NULL, 0);
fail:
  store_set_err(err, errlen, "cannot migrate database '%s' from schema version %d: %s", path, version,
          msg);
  return EF_EDB;
}

static int prepare_all(struct sqlite_store *s, char *err, size_t errlen) {
  for (int i = 0; i < S_COUNT_; i++) {
    int rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                                NULL);
    if (rc != SQLITE_OK) {
      store_set_err(err, errlen, "cannot prepare statement %d (%s): %s", i, stmt_sql[i],
              sqlite3_errmsg(s->db));
      return EF_EDB;
    }
  }
  return 0;
}

static void finalize_all(struct sqlite_store *s) {
  for (int i = 0; i < S_COUNT_; i++) {
    sqlite3_finalize(s->stmt[i]); /* NULL is a no-op */
    s->stmt[i] = NULL;
  }
}

/* "sqlite:PATH", "sqlite://PATH" or a bare PATH -> PATH. */
static const char *url_path(const char *url) {
  if (strncasecmp(url, "sqlite:", 7) == 0) {
    url += 7;
    if (strncmp(url, "//", 2) == 0) url += 2;
  }
  return url;
}

/* A database that has never been given a schema: no table, user_version 0 (a new or empty
 * file). */
static int schema_missing(sqlite3 *db, bool *missing, char *err, size_t errlen) {
  int version = 0, tables = 0;
  int ret = pragma_value(db, "PRAGMA user_version", NULL, 0, &version, err, errlen);
  if (ret == 0)
    ret = pragma_value(db, "SELECT count(*) FROM sqlite_master", NULL, 0, &tables, err, errlen);
  *missing = version == 0 && tables == 0;
  return ret;
}

/* PRAGMA quick_check or integrity_check: 0 when it says "ok"; EF_ECORRUPT with its first
 * findings in err when the file is damaged. */
static int check_integrity(sqlite3 *db, const char *path, enum store_check check, char *err,
                           size_t errlen) {
  const char *pragma = check == STORE_CHECK_FULL ? "integrity_check" : "quick_check";
  char sql[64], found[200] = "";
  snprintf(sql, sizeof sql, "PRAGMA %s(3)", pragma);
  sqlite3_stmt *q = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
  bool ok = false;
  size_t used = 0;
  while (rc == SQLITE_OK && (rc = step(q)) == SQLITE_ROW) {
    rc = SQLITE_OK;
    const char *row = (const char *)sqlite3_column_text(q, 0);
    if (!row) continue;
    if (strcmp(row, "ok") == 0) {
      ok = true;
      continue;
    }
    /* The findings, one per line ("*** in database main ***" heads them), joined by "; ". */
    for (const char *line = row; *line && used < sizeof found - 1;) {
      size_t n = strcspn(line, "\n");
      if (n && strncmp(line, "***", 3) != 0) {
        int w = snprintf(found + used, sizeof found - used, "%s%.*s", used ? "; " : "", (int)n,
                         line);
        if (w > 0) used += (size_t)w;
        if (used > sizeof found - 1) used = sizeof found - 1; /* truncated: full */
      }
      line += n + (line[n] == '\n');
    }
  }
  int ret = 0;
  if (rc != SQLITE_DONE) {
    ret = db_err(db, errno);
    if (ret == EF_ECORRUPT) snprintf(found, sizeof found, "%s", sqlite3_errmsg(db));
    else store_set_err(err, errlen, "cannot check database '%s': %s", path, sqlite3_errmsg(db));
  } else if (!ok) {
    ret = EF_ECORRUPT;
  }
  sqlite3_finalize(q);
  if (ret == EF_ECORRUPT)
    store_set_err(err, errlen,
            "database '%s' is damaged (PRAGMA %s: %s): restore it from a backup, or save what "
            "is readable with the sqlite3 shell's .recover (docs/store.md#a-damaged-database)",
            path, pragma, found[0] ? found : "not ok");
  return ret;
}

static int sqlite_open(const char *url, const struct store_open_opts *opts, struct store **out,
                       char *err, size_t errlen) {
  static const struct store_open_opts defaults = {0};
  char msg[256] = "";
  bool created = false;
  int ret;

  if (err && errlen) err[0] = '\0';
  if (!out || !url) return EF_EINVAL;
  *out = NULL;
  if (!opts) opts = &defaults;
  const char *path = url_path(url);
  if (!path[0]) {
    store_set_err(err, errlen, "store URL '%s' has no database path", url);
    return EF_ECONFIG;
  }

  /* Create a missing file ourselves, private (it holds password hashes); sqlite makes its
   * -wal and -shm files with the same mode. The directory must exist. */
  bool memory = strcmp(path, ":memory:") == 0;
  if (opts->must_exist && (memory || access(path, F_OK) != 0)) {
    store_set_err(err, errlen, "database '%s' does not exist", path);
    return EF_ENOENT;
  }
  if (!memory && !opts->must_exist) {
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      close(fd);
      created = true;
    } else if (errno != EEXIST) {
      store_set_err(err, errlen, "cannot create database '%s': %s%s", path, strerror(errno),
              errno == ENOENT ? " (its directory must exist)" : "");
      return EF_EDB;
    }
  }

  struct sqlite_store *s = ef_calloc(1, sizeof *s);
  s->base.ops = &store_sqlite_ops;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (!opts->must_exist) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
  if (rc != SQLITE_OK) {
    store_set_err(err, errlen, "cannot open database '%s': %s", path,
            s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    ret = EF_EDB;
    goto fail_db;
  }
  sqlite3_extended_result_codes(s->db, 1);
  sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);

  /* Before anything writes to the file (the WAL switch, a migration). */
  if (opts->must_exist) {
    bool missing = false;
    ret = schema_missing(s->db, &missing, msg, sizeof msg);
    if (ret) {
      store_set_err(err, errlen, "cannot read database '%s': %s", path, msg);
      goto fail_db;
    }
    if (missing) {
      store_set_err(err, errlen, "database '%s' is empty (it has no schema)", path);
      ret = EF_ENOENT;
      goto fail_db;
    }
  }
  if (opts->check != STORE_CHECK_NONE && !created) {
    ret = check_integrity(s->db, path, opts->check, err, errlen);
    if (ret) goto fail_db;
  }

  char mode[32] = "";
  ret = pragma_value(s->db, "PRAGMA journal_mode = WAL", mode, sizeof mode, NULL, msg,
                     sizeof msg);
  if (ret == 0) ret = exec_sql(s->db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
                               msg, sizeof msg);
  if (ret) {
    store_set_err(err, errlen, "cannot use database '%s': %s", path, msg);
    goto fail_db;
  }
  if (!memory && strcasecmp(mode, "wal") != 0)
    ef_log(EF_LOG_WARN, "store: %s: WAL mode unavailable, journal_mode is %s", path, mode);
  if (sqlite3_db_readonly(s->db, "main") == 1) {
    store_set_err(err, errlen, "cannot use database '%s': it is read-only", path);
    ret = EF_EREADONLY;
    goto fail_db;
  }

  ret = migrate(s->db, path, err, errlen);
  if (ret) goto fail_db;
  ret = prepare_all(s, err, errlen);
  if (ret) goto fail_stmts;

  *out = &s->base;
  return 0;

fail_stmts:
  finalize_all(s);
fail_db:
  sqlite3_close(s->db); /* NULL is a no-op */
  ef_free(s);
  if (created) unlink(path);
  return ret;
}

static void sqlite_close(struct store *st) {
  struct sqlite_store *s = S(st);
  if (!s) return;
  finalize_all(s);
  if (sqlite3_close(s->db) != SQLITE_OK)
    ef_log(EF_LOG_ERROR, "store: close failed: %s", sqlite3_errmsg(s->db));
  ef_free(s);
}

static const char *sqlite_errmsg(struct store *st) { return S(st)->errmsg; }

/* ===== Devices ===== */

static int bind_device(sqlite3_stmt *st, const struct store_device *d) {
  int i = 1, brc = 0;
  brc |= bind_id(st, i++, d->device_id);
#define DEV_BIND_(col, parent, key) brc |= bind_text(st, i++, d->col);
  STORE_DEVICE_FIELDS(DEV_BIND_)
#undef DEV_BIND_
  brc |= bind_text(st, i++, d->password);
  brc |= bind_text(st, i++, d->pw_verifier);
  brc |= bind_text(st, i++, d->token_hash);
  brc |= sqlite3_bind_int64(st, i++, d->token_expiry);
  brc |= sqlite3_bind_int64(st, i++, d->created_time);
  brc |= sqlite3_bind_int64(st, i++, d->updated_time);
  return brc;
}

static int insert_device(struct sqlite_store *s, const struct store_device *d) {
  sqlite3_stmt *st = s->stmt[S_DEV_INSERT];
  int brc = bind_device(st, d);
  if (brc) return bound(s, st, brc);
  return run(s, st);
}

static int sqlite_device_add(struct store *st, const struct store_device *d) {
  if (!d) return invalid(S(st), "device is NULL");
  return insert_device(S(st), d);
}

static int sqlite_device_add_batch(struct store *st, const struct store_device *d, size_t n,
                                   size_t *failed) {
  struct sqlite_store *s = S(st);
  if (failed) *failed = 0;
  if (n == 0) return 0;
  if (!d) return invalid(s, "devices is NULL");
  int ret = tx_begin(s);
  if (ret) return ret;
  for (size_t i = 0; i < n; i++) {
    ret = insert_device(s, &d[i]);
    if (ret) {
      if (failed) *failed = i;
      tx_rollback(s);
      return ret;
    }
  }
  return tx_commit(s);
}

static int sqlite_device_get(struct store *st, uint64_t id, struct store_device *out) {
  struct sqlite_store *s = S(st);
  if (!out) return invalid(s, "out is NULL");
  memset(out, 0, sizeof *out);
  sqlite3_stmt *q = s->stmt[S_DEV_GET];
  int brc = bind_id(q, 1, id);
  if (brc) return bound(s, q, brc);
  int ret = fetch_one(s, q, &device_rows, out);
  return ret == EF_ENOENT ? missing(s, "device", id) : ret;
}

static int sqlite_device_find(struct store *st, const char *sn, const char *model,
                              struct store_device *out) {
  struct sqlite_store *s = S(st);
  if (!out) return invalid(s, "out is NULL");
  memset(out, 0, sizeof *out);
  if (!sn || !model) return invalid(s, "sn and model are required");
  sqlite3_stmt *q = s->stmt[S_DEV_FIND];
  int brc = bind_text(q, 1, sn) | bind_text(q, 2, model);
  if (brc) return bound(s, q, brc);
  int ret = fetch_one(s, q, &device_rows, out);
  if (ret == EF_ENOENT) set_msg(s, "no device with sn '%s' and model '%s'", sn, model);
  return ret;
}

static int sqlite_device_list(struct store *st, struct store_device **out, size_t *n) {
  struct sqlite_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  void *arr;
  int ret = fetch_all(s, s->stmt[S_DEV_LIST], &device_rows, &arr, n);
  *out = arr;
  return ret;
}

static int sqlite_device_count(struct store *st, uint64_t *out) {
  struct sqlite_store *s = S(st);
  if (!out) return invalid(s, "out is NULL");
  *out = 0;
  sqlite3_stmt *q = s->stmt[S_DEV_COUNT];
  int rc = step(q), ret = 0;
  if (rc == SQLITE_ROW) *out = (uint64_t)sqlite3_column_int64(q, 0);
  else if (rc == SQLITE_DONE) {
    set_msg(s, "count(*) of devices returned no row");
    ret = EF_EDB;
  } else ret = db_fail(s, rc);
  done(q);
  return ret;
}

static int sqlite_device_update(struct store *st, const struct store_device *p) {
  struct sqlite_store *s = S(st);
  if (!p) return invalid(s, "patch is NULL");
  sqlite3_stmt *q = s->stmt[S_DEV_UPDATE];
  int i = 1, brc = 0;
  brc |= sqlite3_bind_int64(q, i++, p->updated_time);
#define DEV_BIND_(col, parent, key) brc |= bind_text(q, i++, p->col);
  STORE_DEVICE_FIELDS(DEV_BIND_)
#undef DEV_BIND_
  brc |= bind_text(q, i++, p->password); /* :pw, twice: a new password forgets the verifier */
  brc |= bind_id(q, i++, p->device_id);
  if (brc) return bound(s, q, brc);
  int ret = run(s, q);
  if (ret == 0 && sqlite3_changes(s->db) == 0) ret = missing(s, "device", p->device_id);
  return ret;
}

static int sqlite_device_delete(struct store *st, uint64_t id) {
  struct sqlite_store *s = S(st);
  int ret = tx_begin(s);
  if (ret) return ret;
  sqlite3_stmt *q = s->stmt[S_DEV_DELETE];
  int brc = bind_id(q, 1, id);
  ret = brc ? bound(s, q, brc) : run(s, q); /* relations go by ON DELETE CASCADE */
  if (ret) goto fail_tx;
  if (sqlite3_changes(s->db) == 0) {
    ret = missing(s, "device", id);
    goto fail_tx;
  }
  q = s->stmt[S_DEV_DELETE_LOGS];
  brc = bind_id(q, 1, id);
  ret = brc ? bound(s, q, brc) : run(s, q);
  if (ret) goto fail_tx;
  return tx_commit(s);

fail_tx:
  tx_rollback(s);
  return ret;
}

static int sqlite_device_set_token(struct store *st, uint64_t id, const char *token_hash,
                                   int64_t expiry) {
  struct sqlite_store *s = S(st);
  sqlite3_stmt *q = s->stmt[S_DEV_SET_TOKEN];
  int brc = bind_text(q, 1, token_hash) | sqlite3_bind_int64(q, 2, expiry) | bind_id(q, 3, id);
  if (brc) return bound(s, q, brc);
  int ret = run(s, q);
  if (ret == 0 && sqlite3_changes(s->db) == 0) ret = missing(s, "device", id);
  return ret;
}

static int sqlite_device_set_verifier(struct store *st, uint64_t id, const char *verifier) {
  struct sqlite_store *s = S(st);
  sqlite3_stmt *q = s->stmt[S_DEV_SET_VERIFIER];
  int brc = bind_text(q, 1, verifier) | bind_id(q, 2, id);
  if (brc) return bound(s, q, brc);
  int ret = run(s, q);
  if (ret == 0 && sqlite3_changes(s->db) == 0) ret = missing(s, "device", id);
  return ret;
}

static int sqlite_device_all_offline(struct store *st, int64_t now) {
  struct sqlite_store *s = S(st);
  sqlite3_stmt *q = s->stmt[S_DEV_ALL_OFFLINE];
  int brc = sqlite3_bind_int64(q, 1, now);
  if (brc) return bound(s, q, brc);
  return run(s, q);
}

/* ===== Groups ===== */

static int sqlite_group_add(struct store *st, const struct store_group *g) {
  struct sqlite_store *s = S(st);
  if (!g || !g->group_name) return invalid(s, "group_name is required");
  sqlite3_stmt *q = s->stmt[S_GRP_INSERT];
  int brc = bind_id(q, 1, g->group_id) | bind_text(q, 2, g->group_name) |
            bind_text(q, 3, g->group_description) | sqlite3_bind_int64(q, 4, g->created_time) |
            sqlite3_bind_int64(q, 5, g->updated_time);
  if (brc) return bound(s, q, brc);
  return run(s, q);
}

static int sqlite_group_get(struct store *st, uint64_t id, struct store_group *out) {
  struct sqlite_store *s = S(st);
  if (!out) return invalid(s, "out is NULL");
  memset(out, 0, sizeof *out);
  sqlite3_stmt *q = s->stmt[S_GRP_GET];
  int brc = bind_id(q, 1, id);
  if (brc) return bound(s, q, brc);
  int ret = fetch_one(s, q, &group_rows, out);
  return ret == EF_ENOENT ? missing(s, "group", id) : ret;
}

static int sqlite_group_list(struct store *st, struct store_group **out, size_t *n) {
  struct sqlite_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  void *arr;
  int ret = fetch_all(s, s->stmt[S_GRP_LIST], &group_rows, &arr, n);
  *out = arr;
  return ret;
}

static int sqlite_group_update(struct store *st, const struct store_group *p) {
  struct sqlite_store *s = S(st);
  if (!p) return invalid(s, "patch is NULL");
  sqlite3_stmt *q = s->stmt[S_GRP_UPDATE];
  int brc = bind_text(q, 1, p->group_name) | bind_text(q, 2, p->group_description) |
            sqlite3_bind_int64(q, 3, p->updated_time) | bind_id(q, 4, p->group_id);
  if (brc) return bound(s, q, brc);
  int ret = run(s, q);
  if (ret == 0 && sqlite3_changes(s->db) == 0) ret = missing(s, "group", p->group_id);
  return ret;
}

static int sqlite_group_delete(struct store *st, uint64_t id) {
  struct sqlite_store *s = S(st);
  sqlite3_stmt *q = s->stmt[S_GRP_DELETE];
  int brc = bind_id(q, 1, id);
  if (brc) return bound(s, q, brc);
  int ret = run(s, q); /* relations go by ON DELETE CASCADE */
  if (ret == 0 && sqlite3_changes(s->db) == 0) ret = missing(s, "group", id);
  return ret;
}

/* ===== Relations ===== */

static int sqlite_relation_add(struct store *st, uint64_t device_id, uint64_t group_id,
                               int64_t now) {
  struct sqlite_store *s = S(st);
  sqlite3_stmt *q = s->stmt[S_REL_INSERT];
  int brc = bind_id(q, 1, device_id) | bind_id(q, 2, group_id) | sqlite3_bind_int64(q, 3, now);
  if (brc) return bound(s, q, brc);
  int ret = run(s, q); /* a missing device or group fails the foreign key: EF_ENOENT */
  if (ret == EF_ENOENT)
    set_msg(s, "no such device %llu or group %llu", (unsigned long long)device_id,
            (unsigned long long)group_id);
  return ret;
}

static int sqlite_relation_delete(struct store *st, uint64_t device_id, uint64_t group_id) {
  struct sqlite_store *s = S(st);
  sqlite3_stmt *q = s->stmt[S_REL_DELETE];
  int brc = bind_id(q, 1, device_id) | bind_id(q, 2, group_id);
  if (brc) return bound(s, q, brc);
  int ret = run(s, q);
  if (ret == 0 && sqlite3_changes(s->db) == 0) {
    set_msg(s, "device %llu is not in group %llu", (unsigned long long)device_id,
            (unsigned long long)group_id);
    ret = EF_ENOENT;
  }
  return ret;
}

static int sqlite_relation_exists(struct store *st, uint64_t device_id, uint64_t group_id,
                                  bool *out) {
  struct sqlite_store *s = S(st);
  if (!out) return invalid(s, "out is NULL");
  *out = false;
  sqlite3_stmt *q = s->stmt[S_REL_EXISTS];
  int brc = bind_id(q, 1, device_id) | bind_id(q, 2, group_id);
  if (brc) return bound(s, q, brc);
  return exists(s, q, out);
}

static int sqlite_device_groups(struct store *st, uint64_t device_id, struct store_group **out,
                                size_t *n) {
  struct sqlite_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  *out = NULL;
  *n = 0;
  bool found;
  int ret = row_exists(s, S_DEV_EXISTS, device_id, &found);
  if (ret) return ret;
  if (!found) return missing(s, "device", device_id);
  sqlite3_stmt *q = s->stmt[S_REL_DEVICE_GROUPS];
  int brc = bind_id(q, 1, device_id);
  if (brc) return bound(s, q, brc);
  void *arr;
  ret = fetch_all(s, q, &group_rows, &arr, n);
  *out = arr;
  return ret;
}

static int sqlite_group_devices(struct store *st, uint64_t group_id, struct store_device **out,
                                size_t *n) {
  struct sqlite_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  *out = NULL;
  *n = 0;
  bool found;
  int ret = row_exists(s, S_GRP_EXISTS, group_id, &found);
  if (ret) return ret;
  if (!found) return missing(s, "group", group_id);
  sqlite3_stmt *q = s->stmt[S_REL_GROUP_DEVICES];
  int brc = bind_id(q, 1, group_id);
  if (brc) return bound(s, q, brc);
  void *arr;
  ret = fetch_all(s, q, &device_rows, &arr, n);
  *out = arr;
  return ret;
}

static int sqlite_group_clear(struct store *st, uint64_t group_id) {
  struct sqlite_store *s = S(st);
  bool found;
  int ret = row_exists(s, S_GRP_EXISTS, group_id, &found);
  if (ret) return ret;
  if (!found) return missing(s, "group", group_id);
  sqlite3_stmt *q = s->stmt[S_REL_GROUP_CLEAR];
  int brc = bind_id(q, 1, group_id);
  if (brc) return bound(s, q, brc);
  return run(s, q);
}

/* ===== Logs and state: the write-behind batch ===== */

static int sqlite_write_batch(struct store *st, struct store_log *logs, size_t nlogs,
                              const struct store_state *states, size_t nstates) {
  struct sqlite_store *s = S(st);
  if ((nlogs && !logs) || (nstates && !states)) return invalid(s, "logs or states is NULL");
  for (size_t i = 0; i < nlogs; i++)
    if (!logs[i].event) return invalid(s, "a log has no event");
  if (nlogs == 0 && nstates == 0) return 0;

  int ret = tx_begin(s);
  if (ret) return ret;
  sqlite3_stmt *q = s->stmt[S_LOG_INSERT];
  for (size_t i = 0; i < nlogs; i++) {
    const struct store_log *l = &logs[i];
    int brc = bind_id(q, 1, l->device_id) | bind_text(q, 2, l->event) |
              bind_text(q, 3, l->detail) | bind_text(q, 4, l->result) |
              sqlite3_bind_int64(q, 5, l->time);
    ret = brc ? bound(s, q, brc) : run(s, q);
    if (ret) goto fail_tx;
    logs[i].log_id = (uint64_t)sqlite3_last_insert_rowid(s->db);
  }
  q = s->stmt[S_DEV_SET_STATE];
  for (size_t i = 0; i < nstates; i++) {
    /* A device deleted meanwhile matches no row: skipped, as it should be. */
    int brc = bind_text(q, 1, states[i].state) | sqlite3_bind_int64(q, 2, states[i].time) |
              bind_id(q, 3, states[i].device_id);
    ret = brc ? bound(s, q, brc) : run(s, q);
    if (ret) goto fail_tx;
  }
  ret = tx_commit(s);
  if (ret) goto fail_ids;
  return 0;

fail_tx:
  tx_rollback(s);
fail_ids:
  for (size_t i = 0; i < nlogs; i++) logs[i].log_id = 0;
  return ret;
}

static int sqlite_log_query(struct store *st, uint64_t device_id, int64_t before, size_t limit,
                            struct store_log **out, size_t *n) {
  struct sqlite_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *q = s->stmt[S_LOG_QUERY];
  sqlite3_int64 lim = limit > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)limit;
  int brc = bind_id(q, 1, device_id) | sqlite3_bind_int64(q, 2, before > 0 ? before : INT64_MAX) |
            sqlite3_bind_int64(q, 3, lim);
  if (brc) return bound(s, q, brc);
  void *arr;
  int ret = fetch_all(s, q, &log_rows, &arr, n);
  *out = arr;
  return ret;
}

static int sqlite_log_prune(struct store *st, int64_t older_than, uint64_t *deleted) {
  struct sqlite_store *s = S(st);
  if (deleted) *deleted = 0;
  sqlite3_stmt *q = s->stmt[S_LOG_PRUNE];
  int brc = sqlite3_bind_int64(q, 1, older_than);
  if (brc) return bound(s, q, brc);
  int ret = run(s, q);
  if (ret == 0 && deleted) *deleted = (uint64_t)sqlite3_changes64(s->db);
  return ret;
}

/* ===== The audit log ===== */

static int sqlite_audit_append(struct store *st, struct store_audit *rows, size_t n) {
  struct sqlite_store *s = S(st);
  if (n && !rows) return invalid(s, "rows is NULL");
  for (size_t i = 0; i < n; i++)
    if (!rows[i].route || !rows[i].outcome)
      return invalid(s, "an audit row has no route or outcome");
  if (n == 0) return 0;
  int ret = tx_begin(s);
  if (ret) return ret;
  sqlite3_stmt *q = s->stmt[S_AUD_INSERT];
  for (size_t i = 0; i < n; i++) {
    const struct store_audit *a = &rows[i];
    int brc = sqlite3_bind_int64(q, 1, a->time) | bind_id(q, 2, a->token_id) |
              bind_text(q, 3, a->token_name) | bind_text(q, 4, a->route) |
              bind_text(q, 5, a->target) | sqlite3_bind_int(q, 6, a->status) |
              bind_text(q, 7, a->outcome) | bind_text(q, 8, a->peer);
    ret = brc ? bound(s, q, brc) : run(s, q);
    if (ret) goto fail_tx;
    rows[i].audit_id = (uint64_t)sqlite3_last_insert_rowid(s->db);
  }
  ret = tx_commit(s);
  if (ret) goto fail_ids;
  return 0;

fail_tx:
  tx_rollback(s);
fail_ids:
  for (size_t i = 0; i < n; i++) rows[i].audit_id = 0;
  return ret;
}

/* A page of a log (audit, alerts), newest first: rows with id < before_id (0: from the newest),
 * at most limit (0: no bound), as the bounds the statements take. */
static void page_bounds(uint64_t before_id, size_t limit, sqlite3_int64 *before,
                        sqlite3_int64 *lim) {
  *before = before_id && before_id <= (uint64_t)INT64_MAX ? (sqlite3_int64)before_id : INT64_MAX;
  *lim = limit == 0 || limit > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)limit;
}

static int sqlite_audit_query(struct store *st, const struct store_audit_filter *f,
                              struct store_audit **out, size_t *n) {
  struct sqlite_store *s = S(st);
  if (!f || !out || !n) return invalid(s, "f, out or n is NULL");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *q = s->stmt[S_AUD_QUERY];
  sqlite3_int64 before, lim;
  page_bounds(f->before_id, f->limit, &before, &lim);
  int brc = sqlite3_bind_int64(q, 1, before) |
            sqlite3_bind_int64(q, 2, f->since > 0 ? f->since : INT64_MIN) |
            sqlite3_bind_int64(q, 3, f->until > 0 ? f->until : INT64_MAX) |
            bind_text(q, 4, f->token) | bind_text(q, 5, f->route) | bind_text(q, 6, f->target) |
            sqlite3_bind_int(q, 7, f->status_min > 0 ? f->status_min : INT_MIN) |
            sqlite3_bind_int(q, 8, f->status_max > 0 ? f->status_max : INT_MAX) |
            sqlite3_bind_int64(q, 9, lim);
  if (brc) return bound(s, q, brc);
  void *arr;
  int ret = fetch_all(s, q, &audit_rows, &arr, n);
  *out = arr;
  return ret;
}

/* A bounded prune: statement `id` deletes at most ?2 of the oldest rows with time < ?1. */
static int prune_oldest(struct sqlite_store *s, enum stmt_id id, int64_t older_than, size_t max,
                        uint64_t *deleted) {
  if (deleted) *deleted = 0;
  if (max == 0) return 0;
  sqlite3_stmt *q = s->stmt[id];
  int brc = sqlite3_bind_int64(q, 1, older_than) |
            sqlite3_bind_int64(q, 2, max > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)max);
  if (brc) return bound(s, q, brc);
  int ret = run(s, q);
  if (ret == 0 && deleted) *deleted = (uint64_t)sqlite3_changes64(s->db);
  return ret;
}

static int sqlite_audit_prune(struct store *st, int64_t older_than, size_t max,
                              uint64_t *deleted) {
  return prune_oldest(S(st), S_AUD_PRUNE, older_than, max, deleted);
}

/* ===== API tokens ===== */

static int sqlite_token_add(struct store *st, const struct store_token *t) {
  struct sqlite_store *s = S(st);
  if (!t || !t->token_hash || !t->scope) return invalid(s, "token_hash and scope are required");
  sqlite3_stmt *q = s->stmt[S_TOK_INSERT];
  int brc = bind_id(q, 1, t->token_id) | bind_text(q, 2, t->name) | bind_text(q, 3, t->scope) |
            bind_text(q, 4, t->token_hash) | sqlite3_bind_int64(q, 5, t->created_time) |
            bind_text(q, 6, t->groups) | sqlite3_bind_int64(q, 7, t->expires_time) |
            sqlite3_bind_int64(q, 8, t->last_used_time);
  if (brc) return bound(s, q, brc);
  return run(s, q);
}

static int sqlite_token_delete(struct store *st, uint64_t id) {
  struct sqlite_store *s = S(st);
  sqlite3_stmt *q = s->stmt[S_TOK_DELETE];
  int brc = bind_id(q, 1, id);
  if (brc) return bound(s, q, brc);
  int ret = run(s, q);
  if (ret == 0 && sqlite3_changes(s->db) == 0) ret = EF_ENOENT;
  return ret;
}

static int sqlite_token_touch(struct store *st, const uint64_t *ids, const int64_t *times,
                              size_t n) {
  struct sqlite_store *s = S(st);
  if (n && (!ids || !times)) return invalid(s, "ids or times is NULL");
  if (n == 0) return 0;
  int ret = tx_begin(s);
  if (ret) return ret;
  sqlite3_stmt *q = s->stmt[S_TOK_TOUCH];
  for (size_t i = 0; i < n; i++) {
    /* A token deleted meanwhile matches no row: skipped. */
    int brc = sqlite3_bind_int64(q, 1, times[i]) | bind_id(q, 2, ids[i]);
    ret = brc ? bound(s, q, brc) : run(s, q);
    if (ret) {
      tx_rollback(s);
      return ret;
    }
  }
  return tx_commit(s);
}

static int sqlite_token_list(struct store *st, struct store_token **out, size_t *n) {
  struct sqlite_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  void *arr;
  int ret = fetch_all(s, s->stmt[S_TOK_LIST], &token_rows, &arr, n);
  *out = arr;
  return ret;
}

/* ===== Miner records ===== */

static int put_miner_row(struct sqlite_store *s, const struct store_miner *m) {
  sqlite3_stmt *q;
  int brc;
  if (!m->host_name) {
    q = s->stmt[S_MINER_PUT];
    brc = bind_text(q, 1, m->miner_id) | bind_id(q, 2, m->device_id) | bind_text(q, 3, m->record) |
          sqlite3_bind_int64(q, 4, m->updated_time);
  } else if (m->record) {
    q = s->stmt[S_WORKER_PUT];
    brc = bind_text(q, 1, m->miner_id) | bind_text(q, 2, m->host_name) |
          bind_id(q, 3, m->device_id) | bind_text(q, 4, m->record) |
          sqlite3_bind_int64(q, 5, m->updated_time);
  } else {
    q = s->stmt[S_WORKER_DEL];
    brc = bind_text(q, 1, m->miner_id) | bind_text(q, 2, m->host_name);
  }
  return brc ? bound(s, q, brc) : run(s, q);
}

static int sqlite_miner_write(struct store *st, const struct store_miner *rows, size_t n) {
  struct sqlite_store *s = S(st);
  if (n && !rows) return invalid(s, "rows is NULL");
  for (size_t i = 0; i < n; i++)
    if (!rows[i].miner_id || (!rows[i].host_name && !rows[i].record))
      return invalid(s, "a miner row needs miner_id and record");
  if (n == 0) return 0;
  int ret = tx_begin(s);
  if (ret) return ret;
  for (size_t i = 0; i < n; i++)
    if ((ret = put_miner_row(s, &rows[i])) != 0) {
      tx_rollback(s);
      return ret;
    }
  return tx_commit(s);
}

static int sqlite_miner_list(struct store *st, struct store_miner **out, size_t *n) {
  struct sqlite_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  void *arr;
  int ret = fetch_all(s, s->stmt[S_MINER_LIST], &miner_rows, &arr, n);
  *out = arr;
  return ret;
}

/* ===== The alert log and the alert engine's state ===== */

static int sqlite_alert_write(struct store *st, struct store_alert_log *rows, size_t n,
                              const char *state, int64_t now) {
  struct sqlite_store *s = S(st);
  if (n && !rows) return invalid(s, "rows is NULL");
  for (size_t i = 0; i < n; i++)
    if (!rows[i].event || !rows[i].entry)
      return invalid(s, "an alert log row has no event or entry");
  if (n == 0 && !state) return 0;
  int ret = tx_begin(s);
  if (ret) return ret;
  sqlite3_stmt *q = s->stmt[S_ALOG_INSERT];
  for (size_t i = 0; i < n; i++) {
    const struct store_alert_log *l = &rows[i];
    int brc = sqlite3_bind_int64(q, 1, l->time) | bind_text(q, 2, l->event) |
              bind_text(q, 3, l->rule) | bind_text(q, 4, l->fingerprint) |
              bind_text(q, 5, l->entry);
    ret = brc ? bound(s, q, brc) : run(s, q);
    if (ret) goto fail_tx;
    rows[i].log_id = (uint64_t)sqlite3_last_insert_rowid(s->db);
  }
  if (state) {
    q = s->stmt[S_ASTATE_PUT];
    int brc = bind_text(q, 1, state) | sqlite3_bind_int64(q, 2, now);
    ret = brc ? bound(s, q, brc) : run(s, q);
    if (ret) goto fail_tx;
  }
  ret = tx_commit(s);
  if (ret) goto fail_ids;
  return 0;

fail_tx:
  tx_rollback(s);
fail_ids:
  for (size_t i = 0; i < n; i++) rows[i].log_id = 0;
  return ret;
}

static int sqlite_alert_state_get(struct store *st, char **out) {
  struct sqlite_store *s = S(st);
  if (!out) return invalid(s, "out is NULL");
  *out = NULL;
  sqlite3_stmt *q = s->stmt[S_ASTATE_GET];
  int rc = step(q), ret = 0;
  if (rc == SQLITE_ROW) *out = col_text(q, 0);
  else if (rc == SQLITE_DONE) ret = EF_ENOENT;
  else ret = db_fail(s, rc);
  done(q);
  return ret;
}

static int sqlite_alert_log_query(struct store *st, const struct store_alert_log_filter *f,
                                  struct store_alert_log **out, size_t *n) {
  struct sqlite_store *s = S(st);
  if (!f || !out || !n) return invalid(s, "f, out or n is NULL");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *q = s->stmt[S_ALOG_QUERY];
  sqlite3_int64 before, lim;
  page_bounds(f->before_id, f->limit, &before, &lim);
  int brc = sqlite3_bind_int64(q, 1, before) |
            sqlite3_bind_int64(q, 2, f->since > 0 ? f->since : INT64_MIN) |
            sqlite3_bind_int64(q, 3, f->until > 0 ? f->until : INT64_MAX) |
            bind_text(q, 4, f->rule) | bind_text(q, 5, f->fingerprint) |
            bind_text(q, 6, f->event) | sqlite3_bind_int64(q, 7, lim);
  if (brc) return bound(s, q, brc);
  void *arr;
  int ret = fetch_all(s, q, &alert_log_rows, &arr, n);
  *out = arr;
  return ret;
}

/* ===== History ===== */

static int sqlite_hist_write(struct store *st, const struct store_hist *rows, size_t n) {
  struct sqlite_store *s = S(st);
  if (n && !rows) return invalid(s, "rows is NULL");
  for (size_t i = 0; i < n; i++)
    if (!rows[i].owner || !rows[i].data) return invalid(s, "a history row needs owner and data");
  if (n == 0) return 0;
  int ret = tx_begin(s);
  if (ret) return ret;
  sqlite3_stmt *q = s->stmt[S_HIST_PUT];
  for (size_t i = 0; i < n; i++) {
    const struct store_hist *h = &rows[i];
    int brc = bind_text(q, 1, h->owner) | sqlite3_bind_int(q, 2, h->tier) |
              sqlite3_bind_int64(q, 3, h->time) | bind_text(q, 4, h->data);
    ret = brc ? bound(s, q, brc) : run(s, q);
    if (ret) {
      tx_rollback(s);
      return ret;
    }
  }
  return tx_commit(s);
}

static int sqlite_hist_query(struct store *st, const char *owner, int tier, int64_t from,
                             int64_t to, size_t limit, struct store_hist **out, size_t *n) {
  struct sqlite_store *s = S(st);
  if (!owner || !out || !n) return invalid(s, "owner, out or n is NULL");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *q = s->stmt[S_HIST_QUERY];
  sqlite3_int64 lim = limit == 0 || limit > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)limit;
  int brc = bind_text(q, 1, owner) | sqlite3_bind_int(q, 2, tier) |
            sqlite3_bind_int64(q, 3, from) | sqlite3_bind_int64(q, 4, to) |
            sqlite3_bind_int64(q, 5, lim);
  if (brc) return bound(s, q, brc);
  void *arr;
  int ret = fetch_all(s, q, &hist_rows, &arr, n);
  *out = arr;
  return ret;
}

static int sqlite_hist_range(struct store *st, int tier, int64_t from, int64_t to,
                             struct store_hist **out, size_t *n) {
  struct sqlite_store *s = S(st);
  if (!out || !n) return invalid(s, "out or n is NULL");
  *out = NULL;
  *n = 0;
  sqlite3_stmt *q = s->stmt[S_HIST_RANGE];
  int brc = sqlite3_bind_int(q, 1, tier) | sqlite3_bind_int64(q, 2, from) |
            sqlite3_bind_int64(q, 3, to);
  if (brc) return bound(s, q, brc);
  void *arr;
  int ret = fetch_all(s, q, &hist_rows, &arr, n);
  *out = arr;
  return ret;
}

static int sqlite_alert_log_prune(struct store *st, int64_t older_than, size_t max,
                                  uint64_t *deleted) {
  return prune_oldest(S(st), S_ALOG_PRUNE, older_than, max, deleted);
}

static int sqlite_hist_prune(struct store *st, int tier, int64_t older_than, size_t max,
                             uint64_t *deleted) {
  struct sqlite_store *s = S(st);
  if (deleted) *deleted = 0;
  if (max == 0) return 0;
  sqlite3_stmt *q = s->stmt[S_HIST_PRUNE];
  int brc = sqlite3_bind_int(q, 1, tier) | sqlite3_bind_int64(q, 2, older_than) |
            sqlite3_bind_int64(q, 3, max > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)max);
  if (brc) return bound(s, q, brc);
  int ret = run(s, q);
  if (ret == 0 && deleted) *deleted = (uint64_t)sqlite3_changes64(s->db);
  return ret;
}

const struct store_ops store_sqlite_ops = {
    .scheme = "sqlite:",
    .open = sqlite_open,
    .close = sqlite_close,
    .errmsg = sqlite_errmsg,
    .device_add = sqlite_device_add,
    .device_add_batch = sqlite_device_add_batch,
    .device_get = sqlite_device_get,
    .device_find = sqlite_device_find,
    .device_list = sqlite_device_list,
    .device_count = sqlite_device_count,
    .device_update = sqlite_device_update,
    .device_delete = sqlite_device_delete,
    .device_set_token = sqlite_device_set_token,
    .device_set_verifier = sqlite_device_set_verifier,
    .device_all_offline = sqlite_device_all_offline,
    .group_add = sqlite_group_add,
    .group_get = sqlite_group_get,
    .group_list = sqlite_group_list,
    .group_update = sqlite_group_update,
    .group_delete = sqlite_group_delete,
    .relation_add = sqlite_relation_add,
    .relation_delete = sqlite_relation_delete,
    .relation_exists = sqlite_relation_exists,
    .device_groups = sqlite_device_groups,
    .group_devices = sqlite_group_devices,
    .group_clear = sqlite_group_clear,
    .write_batch = sqlite_write_batch,
    .log_query = sqlite_log_query,
    .log_prune = sqlite_log_prune,
    .audit_append = sqlite_audit_append,
    .audit_query = sqlite_audit_query,
    .audit_prune = sqlite_audit_prune,
    .token_add = sqlite_token_add,
    .token_list = sqlite_token_list,
    .token_delete = sqlite_token_delete,
    .token_touch = sqlite_token_touch,
    .miner_write = sqlite_miner_write,
    .miner_list = sqlite_miner_list,
    .alert_write = sqlite_alert_write,
    .alert_state_get = sqlite_alert_state_get,
    .alert_log_query = sqlite_alert_log_query,
    .alert_log_prune = sqlite_alert_log_prune,
    .hist_write = sqlite_hist_write,
    .hist_query = sqlite_hist_query,
    .hist_range = sqlite_hist_range,
    .hist_prune = sqlite_hist_prune,
};
