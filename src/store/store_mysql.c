/* SPDX-License-Identifier: MIT */
/* store_mysql.c -- the MariaDB/MySQL backend of store.h ("mysql://USER:PASS@HOST:PORT/DB?...",
 * the URL's form in mysql_url.h), on MariaDB Connector/C.
 *
 * DESIGN
 * One handle is one connection (one server thread), used by one thread at a time, as store.h
 * says. Every statement is a server-side prepared statement (MYSQL_STMT): the fixed ones are
 * listed once in MYS_STMTS; the multi-row ones (the write-behind inserts and upserts) are built
 * from a row template for 1, 2, 4 ... MYS_MULTI_MAX rows (struct mys_kind). Both are prepared on
 * first use and kept for the life of the connection; a reconnect starts with none, so everything
 * is prepared again on the new connection.
 *
 * Writes of many rows cost few round trips: inserts and upserts are multi-row statements of up
 * to MYS_MULTI_MAX rows (or MYS_MULTI_BYTES of data); the ids the server assigns come back from
 * `INSERT ... RETURNING` (MariaDB 10.5+; on other servers LAST_INSERT_ID() plus the
 * auto_increment_increment, which a single multi-row INSERT makes consecutive). The per-row
 * updates of write_batch's states and token_touch go as one bulk execution (array binding,
 * STMT_ATTR_ARRAY_SIZE) where the server supports it (MariaDB 10.2+), else one execution per row.
 * Each write-behind call is one transaction, rolled back on any error.
 *
 * The connection is lost when the server goes away: the call in flight fails with EF_EUNAVAIL
 * and store_errmsg says which server and why; the connection is closed and its statements
 * forgotten. Later calls connect again, but not before an exponential backoff (MYS_BACKOFF_MIN_MS
 * doubling to MYS_BACKOFF_MAX_MS, reset by a success) has passed: in between they fail at once
 * with EF_EUNAVAIL. Nothing is retried silently: a write that failed is the caller's to redo.
 * MYSQL_OPT_RECONNECT stays off (it would replay nothing but lose the session silently).
 *
 * Schema: its own migrations. `ef_schema` has one row per applied step of mys_steps[] (step,
 * description, time); the version is the highest step. open() takes a named lock
 * (GET_LOCK("ef_migrate:<db>")) so that two servers opening one database migrate it once, runs
 * the missing steps (DDL commits implicitly in MySQL, so every step is written to be re-run
 * safely: IF NOT EXISTS) and then adds any STORE_DEVICE_FIELDS column `devices` lacks. Text is
 * MEDIUMTEXT (16 MiB), keys VARCHAR(255) (a longer value is EF_EINVAL). A
 * database whose version is above the code's is refused. Tables are InnoDB, utf8mb4 with a
 * binary, no-pad collation (text compares as SQLite compares it: byte for byte).
 *
 * Errors (docs/store.md#mariadb--mysql): ER_DUP_ENTRY -> EF_EEXIST, a missing foreign key parent
 * -> EF_ENOENT, disk or table full -> EF_EFULL, read-only -> EF_EREADONLY, lock wait timeout and
 * deadlock -> EF_EBUSY, a crashed table -> EF_ECORRUPT, the connection -> EF_EUNAVAIL, else
 * EF_EDB. No message contains the URL, the password, or a key's value.
 */
#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "edgefleet/error.h"
#include "log.h"
#include "mem.h"
#include "mysql_url.h"
#include "store.h"
#include "store_mysql.h"

#define MYS_BACKOFF_MIN_MS 100
#define MYS_BACKOFF_MAX_MS 5000
#define MYS_MULTI_MAX 256            /* rows in one multi-row statement */
#define MYS_MULTI_LOG2 9             /* statements for 1, 2, 4 ... 256 rows */
#define MYS_MULTI_BYTES (4u << 20)   /* data in one multi-row statement, about */
#define MYS_BULK_MAX 4096            /* rows in one bulk execution */
#define MYS_MAXCOLS 32               /* columns of a result */
#define MYS_TEXTBUF 256              /* a text column read in place up to this size */
#define MYS_INLINE_PARAMS 32
#define MYS_LOCK_WAIT_S 10           /* innodb_lock_wait_timeout of the session */
#define MYS_MIGRATE_LOCK_S 60

/* ===== Schema ===== */

/* "@T@" in a step: the table options (engine, character set, collation). "@DEVICES@": the
 * devices table, generated from STORE_DEVICE_FIELDS (mys_devices_sql). */
static const char *const mys_step1[] = {
    "@DEVICES@",
    "CREATE TABLE IF NOT EXISTS group_info (\n"
    " group_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,\n"
    " group_name VARCHAR(255) NOT NULL,\n"
    " group_description MEDIUMTEXT,\n"
    " created_time BIGINT NOT NULL DEFAULT 0,\n"
    " updated_time BIGINT NOT NULL DEFAULT 0,\n"
    " UNIQUE KEY group_info_name (group_name)) @T@",
    "CREATE TABLE IF NOT EXISTS relations (\n"
    " device_id BIGINT UNSIGNED NOT NULL,\n"
    " group_id BIGINT UNSIGNED NOT NULL,\n"
    " created_time BIGINT NOT NULL DEFAULT 0,\n"
    " PRIMARY KEY (device_id, group_id),\n"
    " KEY relations_group (group_id),\n"
    " CONSTRAINT relations_device FOREIGN KEY (device_id) REFERENCES devices (device_id)\n"
    "   ON DELETE CASCADE,\n"
    " CONSTRAINT relations_group FOREIGN KEY (group_id) REFERENCES group_info (group_id)\n"
    "   ON DELETE CASCADE) @T@",
    "CREATE TABLE IF NOT EXISTS device_logs (\n"
    " log_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n"
    " device_id BIGINT UNSIGNED NOT NULL,\n"
    " event MEDIUMTEXT NOT NULL,\n"
    " detail MEDIUMTEXT,\n"
    " result MEDIUMTEXT,\n"
    " time BIGINT NOT NULL,\n"
    " KEY device_logs_device_time (device_id, time),\n"
    " KEY device_logs_time (time)) @T@",
    "CREATE TABLE IF NOT EXISTS api_tokens (\n"
    " token_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,\n"
    " name MEDIUMTEXT,\n"
    " scope MEDIUMTEXT NOT NULL,\n"
    " kind MEDIUMTEXT NOT NULL,\n"
    " token_hash VARCHAR(255) NOT NULL,\n"
    " created_time BIGINT NOT NULL DEFAULT 0,\n"
    " token_groups MEDIUMTEXT,\n"
    " expires_time BIGINT NOT NULL DEFAULT 0,\n"
    " last_used_time BIGINT NOT NULL DEFAULT 0,\n"
    " UNIQUE KEY api_tokens_hash (token_hash)) @T@",
    "CREATE TABLE IF NOT EXISTS miner_info (\n"
    " miner_id VARCHAR(255) NOT NULL PRIMARY KEY,\n"
    " device_id BIGINT UNSIGNED NOT NULL DEFAULT 0,\n"
    " record MEDIUMTEXT NOT NULL,\n"
    " updated_time BIGINT NOT NULL DEFAULT 0) @T@",
    "CREATE TABLE IF NOT EXISTS worker_info (\n"
    " miner_id VARCHAR(255) NOT NULL,\n"
    " host_name VARCHAR(255) NOT NULL,\n"
    " device_id BIGINT UNSIGNED NOT NULL DEFAULT 0,\n"
    " record MEDIUMTEXT NOT NULL,\n"
    " updated_time BIGINT NOT NULL DEFAULT 0,\n"
    " PRIMARY KEY (miner_id, host_name)) @T@",
    "CREATE TABLE IF NOT EXISTS audit_log (\n"
    " audit_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n"
    " time BIGINT NOT NULL,\n"
    " token_id BIGINT UNSIGNED NOT NULL,\n"
    " token_name MEDIUMTEXT,\n"
    " route MEDIUMTEXT NOT NULL,\n"
    " target MEDIUMTEXT,\n"
    " status INT NOT NULL,\n"
    " outcome MEDIUMTEXT NOT NULL,\n"
    " peer MEDIUMTEXT,\n"
    " KEY audit_log_time (time)) @T@",
    "CREATE TABLE IF NOT EXISTS history (\n"
    " owner VARCHAR(255) NOT NULL,\n"
    " tier INT NOT NULL,\n"
    " time BIGINT NOT NULL,\n"
    " data MEDIUMTEXT NOT NULL,\n"
    " PRIMARY KEY (owner, tier, time),\n"
    " KEY history_tier_time (tier, time)) @T@",
    "CREATE TABLE IF NOT EXISTS alert_log (\n"
    " log_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n"
    " time BIGINT NOT NULL,\n"
    " event MEDIUMTEXT NOT NULL,\n"
    " rule MEDIUMTEXT,\n"
    " fingerprint VARCHAR(255),\n"
    " entry MEDIUMTEXT NOT NULL,\n"
    " KEY alert_log_time (time),\n"
    " KEY alert_log_fingerprint (fingerprint)) @T@",
    "CREATE TABLE IF NOT EXISTS alert_state (\n"
    " state_key VARCHAR(64) NOT NULL PRIMARY KEY,\n"
    " doc MEDIUMTEXT NOT NULL,\n"
    " updated_time BIGINT NOT NULL) @T@",
    NULL,
};

struct mys_step {
  const char *what;
  const char *const *sql; /* NULL-terminated */
};

/* Append only; never edit a step that has shipped (docs/store.md#mariadb--mysql). */
static const struct mys_step mys_steps[] = {
    {"the schema of SQLite version 7: devices, groups, relations, logs, tokens, miners, "
     "audit log, history, alert log and state",
     mys_step1},
};

#define MYS_SCHEMA_VERSION ((int)(sizeof mys_steps / sizeof mys_steps[0]))

static const char *const mys_dev_text_cols[] = {
#define DEV_NAME_(col, parent, key) #col,
    STORE_DEVICE_FIELDS(DEV_NAME_)
#undef DEV_NAME_
};
#define MYS_NDEVCOLS (sizeof mys_dev_text_cols / sizeof mys_dev_text_cols[0])

/* The tables CHECK TABLE looks at. */
#define MYS_TABLES                                                                               \
  "devices, group_info, relations, device_logs, api_tokens, miner_info, worker_info, audit_log, " \
  "history, alert_log, alert_state, ef_schema"

/* ===== Statements ===== */

#define DEV_COL_(col, parent, key) ", " #col
#define DEV_SET_(col, parent, key) ", " #col " = COALESCE(?, " #col ")"
#define DEV_PARAM_(col, parent, key) ",?"

#define DEV_COLS                                                                                   \
  "device_id" STORE_DEVICE_FIELDS(DEV_COL_) ", password, pw_verifier, token_hash, token_expiry, " \
                                            "created_time, updated_time"
#define DEV_TUPLE "(?" STORE_DEVICE_FIELDS(DEV_PARAM_) ",?,?,?,?,?,?)"
#define DEV_NPARAMS (1 + MYS_NDEVCOLS + 6)
#define GRP_COLS "group_id, group_name, group_description, created_time, updated_time"
#define LOG_COLS "log_id, device_id, event, detail, result, time"
#define TOK_COLS                                                                                   \
  "token_id, name, scope, token_hash, created_time, token_groups, expires_time, last_used_time"
#define ALOG_COLS "log_id, time, event, rule, fingerprint, entry"
#define AUD_COLS "audit_id, time, token_id, token_name, route, target, status, outcome, peer"

#define MYS_STMTS(X)                                                                             \
  X(DEV_GET, "SELECT " DEV_COLS " FROM devices WHERE device_id = ?")                             \
  X(DEV_FIND, "SELECT " DEV_COLS " FROM devices WHERE hardware_sn = ? AND hardware_model = ?")   \
  X(DEV_LIST, "SELECT " DEV_COLS " FROM devices ORDER BY device_id")                             \
  X(DEV_COUNT, "SELECT count(*) FROM devices")                                                   \
  X(DEV_UPDATE, "UPDATE devices SET updated_time = ?" STORE_DEVICE_FIELDS(DEV_SET_)              \
                ", pw_verifier = CASE WHEN ? IS NULL THEN pw_verifier END,"                      \
                " password = COALESCE(?, password) WHERE device_id = ?")                         \
  X(DEV_DELETE, "DELETE FROM devices WHERE device_id = ?")                                       \
  X(DEV_DELETE_LOGS, "DELETE FROM device_logs WHERE device_id = ?")                              \
  X(DEV_SET_TOKEN, "UPDATE devices SET token_hash = ?, token_expiry = ? WHERE device_id = ?")    \
  X(DEV_SET_VERIFIER, "UPDATE devices SET pw_verifier = ? WHERE device_id = ?")                  \
  X(DEV_ALL_OFFLINE, "UPDATE devices SET dev_state = 'offline', updated_time = ? "               \
                     "WHERE NOT (dev_state <=> 'offline')")                                      \
  X(DEV_EXISTS, "SELECT 1 FROM devices WHERE device_id = ?")                                     \
  X(DEV_SET_STATE, "UPDATE devices SET dev_state = ?, updated_time = ? WHERE device_id = ?")     \
  X(GRP_INSERT, "INSERT INTO group_info (" GRP_COLS ") VALUES (?, ?, ?, ?, ?)")                  \
  X(GRP_GET, "SELECT " GRP_COLS " FROM group_info WHERE group_id = ?")                           \
  X(GRP_LIST, "SELECT " GRP_COLS " FROM group_info ORDER BY group_id")                           \
  X(GRP_UPDATE, "UPDATE group_info SET group_name = COALESCE(?, group_name), "                   \
                "group_description = COALESCE(?, group_description), "                           \
                "updated_time = CASE WHEN ? > 0 THEN ? ELSE updated_time END "                   \
                "WHERE group_id = ?")                                                            \
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
  X(LOG_QUERY, "SELECT " LOG_COLS " FROM device_logs WHERE device_id = ? AND time < ? "          \
               "ORDER BY time DESC, log_id DESC LIMIT ?")                                        \
  X(LOG_PRUNE, "DELETE FROM device_logs WHERE time < ?")                                         \
  X(AUD_QUERY, "SELECT " AUD_COLS " FROM audit_log WHERE audit_id < ? AND time >= ? "           \
               "AND time < ? AND (? IS NULL OR token_name = ? "                                  \
               "OR CAST(token_id AS CHAR) = ?) AND (? IS NULL OR route = ?) "                    \
               "AND (? IS NULL OR INSTR(target, ?) > 0) AND status BETWEEN ? AND ? "             \
               "ORDER BY audit_id DESC LIMIT ?")                                                 \
  X(AUD_PRUNE, "DELETE FROM audit_log WHERE time < ? ORDER BY time, audit_id LIMIT ?")           \
  X(ALOG_QUERY, "SELECT " ALOG_COLS " FROM alert_log WHERE log_id < ? AND time >= ? "           \
                "AND time < ? AND (? IS NULL OR rule = ?) "                                      \
                "AND (? IS NULL OR fingerprint = ?) AND (? IS NULL OR event = ?) "               \
                "ORDER BY log_id DESC LIMIT ?")                                                  \
  X(ALOG_PRUNE, "DELETE FROM alert_log WHERE time < ? ORDER BY time, log_id LIMIT ?")            \
  X(ASTATE_PUT, "INSERT INTO alert_state (state_key, doc, updated_time) VALUES ('engine', ?, ?) " \
                "ON DUPLICATE KEY UPDATE doc = VALUES(doc), updated_time = VALUES(updated_time)") \
  X(ASTATE_GET, "SELECT doc FROM alert_state WHERE state_key = 'engine'")                        \
  X(TOK_INSERT, "INSERT INTO api_tokens (" TOK_COLS ", kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)") \
  X(TOK_LIST, "SELECT " TOK_COLS " FROM api_tokens ORDER BY token_id")                          \
  X(TOK_DELETE, "DELETE FROM api_tokens WHERE token_id = ?")                                     \
  X(TOK_TOUCH, "UPDATE api_tokens SET last_used_time = GREATEST(last_used_time, ?) "            \
               "WHERE token_id = ?")                                                             \
  X(MINER_LIST, "SELECT miner_id, NULL, record, device_id, updated_time FROM miner_info "       \
                "UNION ALL SELECT miner_id, host_name, record, device_id, updated_time "        \
                "FROM worker_info ORDER BY 2, 1")                                               \
  X(HIST_QUERY, "SELECT owner, tier, time, data FROM history WHERE owner = ? AND tier = ? "     \
                "AND time >= ? AND time < ? ORDER BY time LIMIT ?")                             \
  X(HIST_RANGE, "SELECT owner, tier, time, data FROM history FORCE INDEX (history_tier_time) "  \
                "WHERE tier = ? AND time >= ? AND time < ? ORDER BY owner, time")               \
  X(HIST_PRUNE, "DELETE FROM history WHERE tier = ? AND time < ? ORDER BY time LIMIT ?")

enum mys_stmt_id {
#define STMT_ENUM_(name, sql) M_##name,
  MYS_STMTS(STMT_ENUM_)
#undef STMT_ENUM_
  M_COUNT_
};

static const char *const mys_stmt_sql[M_COUNT_] = {
#define STMT_SQL_(name, sql) [M_##name] = sql,
    MYS_STMTS(STMT_SQL_)
#undef STMT_SQL_
};

/* ----- parameters ----- */

union mys_num {
  uint64_t u;
  int64_t i;
  int32_t i32;
};

/* The parameters of one execution, in order. The arrays are sized once (init): MYSQL_BIND
 * points into `num`, which must not move. */
struct mys_params {
  MYSQL_BIND *b;
  union mys_num *num;
  size_t n, cap;
  size_t bytes; /* the text bound so far */
  MYSQL_BIND ib[MYS_INLINE_PARAMS];
  union mys_num inum[MYS_INLINE_PARAMS];
};

static void mys_params_init(struct mys_params *p, size_t cap) {
  p->n = 0;
  p->bytes = 0;
  p->cap = cap;
  if (cap <= MYS_INLINE_PARAMS) {
    p->b = p->ib;
    p->num = p->inum;
    memset(p->ib, 0, sizeof p->ib);
  } else {
    p->b = ef_calloc(cap, sizeof *p->b);
    p->num = ef_calloc(cap, sizeof *p->num);
  }
}

static void mys_params_free(struct mys_params *p) {
  if (p->b != p->ib) {
    ef_free(p->b);
    ef_free(p->num);
  }
  p->b = NULL;
  p->num = NULL;
}

static MYSQL_BIND *mys_param_next(struct mys_params *p) {
  if (p->n >= p->cap) abort(); /* a statement's parameter count is fixed: a bug */
  MYSQL_BIND *b = &p->b[p->n];
  memset(b, 0, sizeof *b);
  return b;
}

static void p_u64(struct mys_params *p, uint64_t v) {
  MYSQL_BIND *b = mys_param_next(p);
  p->num[p->n].u = v;
  b->buffer_type = MYSQL_TYPE_LONGLONG;
  b->buffer = &p->num[p->n].u;
  b->is_unsigned = 1;
  p->n++;
  p->bytes += 8;
}

static void p_i64(struct mys_params *p, int64_t v) {
  MYSQL_BIND *b = mys_param_next(p);
  p->num[p->n].i = v;
  b->buffer_type = MYSQL_TYPE_LONGLONG;
  b->buffer = &p->num[p->n].i;
  p->n++;
  p->bytes += 8;
}

static void p_int(struct mys_params *p, int v) {
  MYSQL_BIND *b = mys_param_next(p);
  p->num[p->n].i32 = v;
  b->buffer_type = MYSQL_TYPE_LONG;
  b->buffer = &p->num[p->n].i32;
  p->n++;
  p->bytes += 4;
}

static void p_text(struct mys_params *p, const char *s) {
  MYSQL_BIND *b = mys_param_next(p);
  if (!s) {
    b->buffer_type = MYSQL_TYPE_NULL;
  } else {
    size_t len = strlen(s);
    b->buffer_type = MYSQL_TYPE_STRING;
    b->buffer = (void *)s;
    b->buffer_length = (unsigned long)len;
    p->bytes += len;
  }
  p->n++;
  p->bytes += 1;
}

/* ----- multi-row statements ----- */

/* A statement repeated over rows: head, then `tuple` once per row (joined by ","), then tail
 * (and `returning` when the server has INSERT ... RETURNING). */
struct mys_kind {
  const char *head, *tuple, *tail, *returning;
  unsigned ncols;
  void (*bind)(struct mys_params *p, const void *rows, size_t i);
  void (*set_id)(void *rows, size_t i, uint64_t id); /* NULL: no ids */
};

static void mys_bind_device(struct mys_params *p, const void *rows, size_t i) {
  const struct store_device *d = (const struct store_device *)rows + i;
  p_u64(p, d->device_id);
#define DEV_BIND_(col, parent, key) p_text(p, d->col);
  STORE_DEVICE_FIELDS(DEV_BIND_)
#undef DEV_BIND_
  p_text(p, d->password);
  p_text(p, d->pw_verifier);
  p_text(p, d->token_hash);
  p_i64(p, d->token_expiry);
  p_i64(p, d->created_time);
  p_i64(p, d->updated_time);
}

static void mys_bind_log(struct mys_params *p, const void *rows, size_t i) {
  const struct store_log *l = (const struct store_log *)rows + i;
  p_u64(p, l->device_id);
  p_text(p, l->event);
  p_text(p, l->detail);
  p_text(p, l->result);
  p_i64(p, l->time);
}

static void mys_set_log_id(void *rows, size_t i, uint64_t id) {
  ((struct store_log *)rows)[i].log_id = id;
}

static void mys_bind_audit(struct mys_params *p, const void *rows, size_t i) {
  const struct store_audit *a = (const struct store_audit *)rows + i;
  p_i64(p, a->time);
  p_u64(p, a->token_id);
  p_text(p, a->token_name);
  p_text(p, a->route);
  p_text(p, a->target);
  p_int(p, a->status);
  p_text(p, a->outcome);
  p_text(p, a->peer);
}

static void mys_set_audit_id(void *rows, size_t i, uint64_t id) {
  ((struct store_audit *)rows)[i].audit_id = id;
}

static void mys_bind_alert(struct mys_params *p, const void *rows, size_t i) {
  const struct store_alert_log *l = (const struct store_alert_log *)rows + i;
  p_i64(p, l->time);
  p_text(p, l->event);
  p_text(p, l->rule);
  p_text(p, l->fingerprint);
  p_text(p, l->entry);
}

static void mys_set_alert_id(void *rows, size_t i, uint64_t id) {
  ((struct store_alert_log *)rows)[i].log_id = id;
}

static void mys_bind_hist(struct mys_params *p, const void *rows, size_t i) {
  const struct store_hist *h = (const struct store_hist *)rows + i;
  p_text(p, h->owner);
  p_int(p, h->tier);
  p_i64(p, h->time);
  p_text(p, h->data);
}

static void mys_bind_miner(struct mys_params *p, const void *rows, size_t i) {
  const struct store_miner *m = (const struct store_miner *)rows + i;
  p_text(p, m->miner_id);
  p_u64(p, m->device_id);
  p_text(p, m->record);
  p_i64(p, m->updated_time);
}

static void mys_bind_worker(struct mys_params *p, const void *rows, size_t i) {
  const struct store_miner *m = (const struct store_miner *)rows + i;
  p_text(p, m->miner_id);
  p_text(p, m->host_name);
  p_u64(p, m->device_id);
  p_text(p, m->record);
  p_i64(p, m->updated_time);
}

static void mys_bind_worker_key(struct mys_params *p, const void *rows, size_t i) {
  const struct store_miner *m = (const struct store_miner *)rows + i;
  p_text(p, m->miner_id);
  p_text(p, m->host_name);
}

enum mys_kind_id { K_DEV_INS, K_LOG_INS, K_AUD_INS, K_ALOG_INS, K_HIST_PUT, K_MINER_PUT,
                   K_WORKER_PUT, K_WORKER_DEL, K_COUNT_ };

static const struct mys_kind mys_kinds[K_COUNT_] = {
    [K_DEV_INS] = {"INSERT INTO devices (" DEV_COLS ") VALUES ", DEV_TUPLE, "", NULL,
                   DEV_NPARAMS, mys_bind_device, NULL},
    [K_LOG_INS] = {"INSERT INTO device_logs (device_id, event, detail, result, time) VALUES ",
                   "(?,?,?,?,?)", "", " RETURNING log_id", 5, mys_bind_log, mys_set_log_id},
    [K_AUD_INS] = {"INSERT INTO audit_log (time, token_id, token_name, route, target, status, "
                   "outcome, peer) VALUES ",
                   "(?,?,?,?,?,?,?,?)", "", " RETURNING audit_id", 8, mys_bind_audit,
                   mys_set_audit_id},
    [K_ALOG_INS] = {"INSERT INTO alert_log (time, event, rule, fingerprint, entry) VALUES ",
                    "(?,?,?,?,?)", "", " RETURNING log_id", 5, mys_bind_alert, mys_set_alert_id},
    [K_HIST_PUT] = {"INSERT INTO history (owner, tier, time, data) VALUES ", "(?,?,?,?)",
                    " ON DUPLICATE KEY UPDATE data = VALUES(data)", NULL, 4, mys_bind_hist,
                    NULL},
    [K_MINER_PUT] = {"INSERT INTO miner_info (miner_id, device_id, record, updated_time) VALUES ",
                     "(?,?,?,?)",
                     " ON DUPLICATE KEY UPDATE device_id = VALUES(device_id), "
                     "record = VALUES(record), updated_time = VALUES(updated_time)",
                     NULL, 4, mys_bind_miner, NULL},
    [K_WORKER_PUT] = {"INSERT INTO worker_info (miner_id, host_name, device_id, record, "
                      "updated_time) VALUES ",
                      "(?,?,?,?,?)",
                      " ON DUPLICATE KEY UPDATE device_id = VALUES(device_id), "
                      "record = VALUES(record), updated_time = VALUES(updated_time)",
                      NULL, 5, mys_bind_worker, NULL},
    [K_WORKER_DEL] = {"DELETE FROM worker_info WHERE (miner_id, host_name) IN (", "(?,?)", ")",
                      NULL, 2, mys_bind_worker_key, NULL},
};

/* ----- the handle ----- */

struct mys_store {
  struct store base; /* first: store.h's handle */
  struct store_mysql_url url;
  char where[128];   /* "127.0.0.1:3306": the server, for messages */
  MYSQL *db;         /* NULL while disconnected */
  MYSQL_STMT *stmt[M_COUNT_];
  MYSQL_STMT *multi[K_COUNT_][MYS_MULTI_LOG2];
  bool returning;    /* INSERT ... RETURNING */
  bool bulk;         /* array binding (COM_STMT_BULK_EXECUTE) */
  uint64_t ai_increment;
  unsigned backoff_ms;   /* the last wait between connection attempts; 0: connected */
  int64_t retry_at;      /* monotonic ms: no connection attempt before */
  char lost[420];        /* why there is no connection */
  char errmsg[512];      /* the last failure's message, for store_errmsg() */
  char textbuf[MYS_MAXCOLS][MYS_TEXTBUF];
};

#define S(st) ((struct mys_store *)(st))

/* ===== Helpers ===== */

static int64_t mys_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 2, 3))) static void mys_msg(struct mys_store *s, const char *fmt,
                                                          ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
  va_end(ap);
}

static int mys_invalid(struct mys_store *s, const char *what) {
  mys_msg(s, "invalid argument: %s", what);
  return EF_EINVAL;
}

static int mys_missing(struct mys_store *s, const char *what, uint64_t id) {
  mys_msg(s, "no such %s: %" PRIu64, what, id);
  return EF_ENOENT;
}

/* Errors that mean the connection is gone (or unusable): the handle reconnects. */
static bool mys_conn_error(unsigned e) {
  switch (e) {
  case CR_CONNECTION_ERROR:
  case CR_CONN_HOST_ERROR:
  case CR_IPSOCK_ERROR:
  case CR_UNKNOWN_HOST:
  case CR_SERVER_GONE_ERROR:
  case CR_SERVER_LOST:
  case CR_SERVER_LOST_EXTENDED:
  case CR_SSL_CONNECTION_ERROR:
  case CR_COMMANDS_OUT_OF_SYNC:
  case ER_CONNECTION_KILLED:
  case ER_SERVER_SHUTDOWN:
  case ER_NET_READ_ERROR:
  case ER_NET_READ_INTERRUPTED:
  case ER_NET_ERROR_ON_WRITE:
  case ER_NET_WRITE_INTERRUPTED:
  case ER_ABORTING_CONNECTION:
  case ER_NEW_ABORTING_CONNECTION:
  case ER_CON_COUNT_ERROR:
    return true;
  default:
    return false;
  }
}

/* A server error code as edgefleet's (docs/store.md#mariadb--mysql). */
static int mys_map(unsigned e) {
  if (mys_conn_error(e)) return EF_EUNAVAIL;
  switch (e) {
  case ER_DUP_ENTRY:
  case ER_DUP_ENTRY_WITH_KEY_NAME:
  case ER_DUP_KEY:
    return EF_EEXIST;
  case ER_NO_REFERENCED_ROW:
  case ER_NO_REFERENCED_ROW_2:
    return EF_ENOENT;
  case ER_RECORD_FILE_FULL:
  case ER_DISK_FULL:
    return EF_EFULL;
  case ER_OPTION_PREVENTS_STATEMENT:
  case ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION:
  case ER_OPEN_AS_READONLY:
  case ER_READ_ONLY_MODE:
    return EF_EREADONLY;
  case ER_LOCK_WAIT_TIMEOUT:
  case ER_LOCK_DEADLOCK:
    return EF_EBUSY;
  case ER_DATA_TOO_LONG: /* a key column's 255 characters, or MEDIUMTEXT's 16 MiB */
  case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: /* not UTF-8 */
    return EF_EINVAL;
  case ER_CRASHED_ON_USAGE:
  case ER_CRASHED_ON_REPAIR:
  case ER_NOT_KEYFILE:
  case ER_INDEX_CORRUPT:
    return EF_ECORRUPT;
  case CR_OUT_OF_MEMORY:
  case ER_OUTOFMEMORY:
  case ER_OUT_OF_RESOURCES:
    return EF_ENOMEM;
  default:
    return EF_EDB;
  }
}

static void mys_close_stmts(struct mys_store *s) {
  for (int i = 0; i < M_COUNT_; i++) {
    if (s->stmt[i]) mysql_stmt_close(s->stmt[i]);
    s->stmt[i] = NULL;
  }
  for (int k = 0; k < K_COUNT_; k++)
    for (int j = 0; j < MYS_MULTI_LOG2; j++) {
      if (s->multi[k][j]) mysql_stmt_close(s->multi[k][j]);
      s->multi[k][j] = NULL;
    }
}

/* The connection is gone: forget it and its statements; the next connection attempt waits for
 * the backoff. */
static int mys_drop(struct mys_store *s, const char *why) {
  char reason[256]; /* why may be the message of a statement or connection closed below */
  snprintf(reason, sizeof reason, "%s", why);
  why = reason;
  mys_close_stmts(s);
  if (s->db) mysql_close(s->db);
  s->db = NULL;
  s->backoff_ms = MYS_BACKOFF_MIN_MS;
  s->retry_at = mys_now_ms() + s->backoff_ms;
  snprintf(s->lost, sizeof s->lost, "connection to %s lost: %s", s->where, why);
  mys_msg(s, "database unavailable: %s", s->lost);
  ef_log(EF_LOG_WARN, "store: %s", s->errmsg);
  return EF_EUNAVAIL;
}

/* Record a failure with code e and the server's message msg; map it. A duplicate key's message
 * quotes the value (a token hash, say): only the key's name is kept. */
static int mys_fail_with(struct mys_store *s, unsigned e, const char *msg) {
  if (mys_conn_error(e)) return mys_drop(s, msg);
  if (e == ER_DUP_ENTRY || e == ER_DUP_ENTRY_WITH_KEY_NAME) {
    const char *key = strstr(msg, "for key '");
    if (key) {
      key += 9;
      mys_msg(s, "duplicate key: the unique key '%.*s' is taken", (int)strcspn(key, "'"), key);
    } else {
      mys_msg(s, "duplicate key: a unique key is taken");
    }
  } else {
    mys_msg(s, "%s (MariaDB error %u)", msg, e);
  }
  return mys_map(e);
}

static int mys_stmt_fail(struct mys_store *s, MYSQL_STMT *q) {
  return mys_fail_with(s, mysql_stmt_errno(q), mysql_stmt_error(q));
}

static int mys_db_fail(struct mys_store *s) {
  return mys_fail_with(s, mysql_errno(s->db), mysql_error(s->db));
}

/* ===== Connecting ===== */

static const char *mys_collation(MYSQL *db) {
  /* utf8mb4 compared byte for byte, trailing spaces significant: as SQLite compares text. */
  return strstr(mysql_get_server_info(db), "MariaDB") ? "utf8mb4_nopad_bin" : "utf8mb4_0900_bin";
}

/* Connect with the URL's options. *unknown_db: the server said the database does not exist
 * (ER_BAD_DB_ERROR); with_db false connects without one. err gets a message (no password). */
static int mys_connect_raw(struct mys_store *s, bool with_db, MYSQL **out, bool *unknown_db,
                           char *err, size_t errlen) {
  const struct store_mysql_url *u = &s->url;
  *out = NULL;
  if (unknown_db) *unknown_db = false;
  MYSQL *db = mysql_init(NULL);
  if (!db) {
    store_set_err(err, errlen, "out of memory");
    return EF_ENOMEM;
  }
  unsigned int ct = u->connect_timeout, rt = u->read_timeout, wt = u->write_timeout;
  unsigned int no = 0;
  my_bool off = 0, on = 1;
  mysql_optionsv(db, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
  mysql_optionsv(db, MYSQL_OPT_READ_TIMEOUT, &rt);
  mysql_optionsv(db, MYSQL_OPT_WRITE_TIMEOUT, &wt);
  mysql_optionsv(db, MYSQL_OPT_RECONNECT, &off);
  mysql_optionsv(db, MYSQL_OPT_LOCAL_INFILE, &no);
  mysql_optionsv(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  mysql_optionsv(db, MYSQL_INIT_COMMAND,
                 "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,"
                 "ERROR_FOR_DIVISION_BY_ZERO'");
  mysql_optionsv(db, MYSQL_INIT_COMMAND, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  char lockwait[64];
  snprintf(lockwait, sizeof lockwait, "SET SESSION innodb_lock_wait_timeout = %d",
           MYS_LOCK_WAIT_S);
  mysql_optionsv(db, MYSQL_INIT_COMMAND, lockwait);
  if (u->ssl_mode != STORE_MYSQL_SSL_DISABLED) {
    mysql_optionsv(db, MYSQL_OPT_SSL_ENFORCE, &on);
    if (u->ssl_key) mysql_optionsv(db, MYSQL_OPT_SSL_KEY, u->ssl_key);
    if (u->ssl_cert) mysql_optionsv(db, MYSQL_OPT_SSL_CERT, u->ssl_cert);
    if (u->ssl_ca) mysql_optionsv(db, MYSQL_OPT_SSL_CA, u->ssl_ca);
    if (u->ssl_capath) mysql_optionsv(db, MYSQL_OPT_SSL_CAPATH, u->ssl_capath);
    if (u->ssl_cipher) mysql_optionsv(db, MYSQL_OPT_SSL_CIPHER, u->ssl_cipher);
    if (u->ssl_crl) mysql_optionsv(db, MYSQL_OPT_SSL_CRL, u->ssl_crl);
    my_bool verify = u->ssl_mode == STORE_MYSQL_SSL_VERIFY_IDENTITY;
    mysql_optionsv(db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
  }
  const char *host = u->socket ? "localhost" : u->host;
  if (!mysql_real_connect(db, host, u->user, u->password, with_db ? u->database : NULL, u->port,
                          u->socket, CLIENT_FOUND_ROWS)) {
    unsigned e = mysql_errno(db);
    if (unknown_db && e == ER_BAD_DB_ERROR) *unknown_db = true;
    store_set_err(err, errlen, "cannot connect to %s: %s", s->where, mysql_error(db));
    int ret = e == ER_BAD_DB_ERROR ? EF_ENOENT
              : (e == ER_ACCESS_DENIED_ERROR || e == ER_DBACCESS_DENIED_ERROR) ? EF_EAUTH
              : mys_conn_error(e) || e >= 2000 ? EF_EUNAVAIL
                                               : mys_map(e);
    mysql_close(db);
    return ret;
  }
  *out = db;
  return 0;
}

/* What this server can do, learnt once per connection. */
static void mys_learn_server(struct mys_store *s) {
  MYSQL *db = s->db;
  unsigned long v = mysql_get_server_version(db);
  bool maria = strstr(mysql_get_server_info(db), "MariaDB") != NULL;
  s->returning = maria && v >= 100500;
  unsigned long ext = 0;
  s->bulk = maria && mariadb_get_infov(db, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES,
                                       &ext) == 0 &&
            (ext & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) != 0;
  s->ai_increment = 1;
  if (!s->returning && mysql_query(db, "SELECT @@auto_increment_increment") == 0) {
    MYSQL_RES *r = mysql_store_result(db);
    MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
    if (row && row[0]) s->ai_increment = strtoull(row[0], NULL, 10);
    if (s->ai_increment == 0) s->ai_increment = 1;
    mysql_free_result(r);
  }
}

/* Make sure there is a connection: connect again when the backoff allows, else EF_EUNAVAIL at
 * once. */
static int mys_ready(struct mys_store *s) {
  if (s->db) return 0;
  int64_t now = mys_now_ms();
  if (now < s->retry_at) {
    mys_msg(s, "database unavailable: %s (next attempt in %" PRId64 " ms)", s->lost,
            s->retry_at - now);
    return EF_EUNAVAIL;
  }
  char why[400];
  int ret = mys_connect_raw(s, true, &s->db, NULL, why, sizeof why);
  if (ret == 0) {
    mys_learn_server(s);
    s->backoff_ms = 0;
    s->retry_at = 0;
    ef_log(EF_LOG_INFO, "store: reconnected to %s", s->where);
    return 0;
  }
  s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : MYS_BACKOFF_MIN_MS;
  if (s->backoff_ms > MYS_BACKOFF_MAX_MS) s->backoff_ms = MYS_BACKOFF_MAX_MS;
  s->retry_at = mys_now_ms() + s->backoff_ms;
  snprintf(s->lost, sizeof s->lost, "%s", why);
  mys_msg(s, "database unavailable: %s", why);
  ef_log(EF_LOG_DEBUG, "store: %s (next attempt in %u ms)", s->errmsg, s->backoff_ms);
  return EF_EUNAVAIL;
}

/* A prepared statement of the connection, prepared on first use. NULL with *ret set on failure
 * (connecting again when needed). */
static MYSQL_STMT *mys_prepare(struct mys_store *s, MYSQL_STMT **slot, const char *sql, int *ret) {
  *ret = mys_ready(s);
  if (*ret) return NULL;
  if (*slot) return *slot;
  MYSQL_STMT *q = mysql_stmt_init(s->db);
  if (!q) {
    *ret = mys_db_fail(s);
    return NULL;
  }
  if (mysql_stmt_prepare(q, sql, (unsigned long)strlen(sql))) {
    unsigned e = mysql_stmt_errno(q);
    char msg[400];
    snprintf(msg, sizeof msg, "%s", mysql_stmt_error(q));
    mysql_stmt_close(q);
    if (mys_conn_error(e)) {
      *ret = mys_drop(s, msg);
    } else {
      mys_msg(s, "cannot prepare a statement (%.80s...): %s (MariaDB error %u)", sql, msg, e);
      *ret = mys_map(e);
    }
    return NULL;
  }
  *slot = q;
  return q;
}

static MYSQL_STMT *mys_stmt(struct mys_store *s, enum mys_stmt_id id, int *ret) {
  return mys_prepare(s, &s->stmt[id], mys_stmt_sql[id], ret);
}

/* The statement of kind k for 2^lg rows. */
static MYSQL_STMT *mys_multi(struct mys_store *s, enum mys_kind_id k, unsigned lg, int *ret) {
  *ret = mys_ready(s);
  if (*ret) return NULL;
  if (s->multi[k][lg]) return s->multi[k][lg];
  const struct mys_kind *kd = &mys_kinds[k];
  size_t rows = (size_t)1 << lg, tl = strlen(kd->tuple);
  size_t len = strlen(kd->head) + rows * (tl + 1) + strlen(kd->tail) +
               (kd->returning ? strlen(kd->returning) : 0) + 1;
  char *sql = ef_malloc(len), *o = sql;
  o += sprintf(o, "%s", kd->head);
  for (size_t i = 0; i < rows; i++) {
    if (i) *o++ = ',';
    memcpy(o, kd->tuple, tl);
    o += tl;
  }
  o += sprintf(o, "%s", kd->tail);
  if (kd->returning && s->returning) sprintf(o, "%s", kd->returning);
  else *o = '\0';
  MYSQL_STMT *q = mys_prepare(s, &s->multi[k][lg], sql, ret);
  ef_free(sql);
  return q;
}

/* Bind and execute. */
static int mys_exec(struct mys_store *s, MYSQL_STMT *q, struct mys_params *p) {
  if (mysql_stmt_param_count(q) != (p ? p->n : 0)) {
    mys_msg(s, "internal error: a statement takes %lu parameters, %zu given",
            mysql_stmt_param_count(q), p ? p->n : 0);
    return EF_EDB;
  }
  if (p && p->n && mysql_stmt_bind_param(q, p->b)) return mys_stmt_fail(s, q);
  if (mysql_stmt_execute(q)) return mys_stmt_fail(s, q);
  return 0;
}

/* Execute a statement that returns no rows; *affected (may be NULL) is the count of rows it
 * matched (CLIENT_FOUND_ROWS). */
static int mys_run(struct mys_store *s, enum mys_stmt_id id, struct mys_params *p,
                   uint64_t *affected) {
  int ret;
  MYSQL_STMT *q = mys_stmt(s, id, &ret);
  if (!q) return ret;
  ret = mys_exec(s, q, p);
  if (ret == 0 && affected) *affected = (uint64_t)mysql_stmt_affected_rows(q);
  return ret;
}

/* Plain text SQL (transactions, DDL). */
static int mys_query(struct mys_store *s, const char *sql) {
  int ret = mys_ready(s);
  if (ret) return ret;
  if (mysql_real_query(s->db, sql, (unsigned long)strlen(sql))) return mys_db_fail(s);
  MYSQL_RES *r = mysql_store_result(s->db);
  if (r) mysql_free_result(r);
  else if (mysql_field_count(s->db) != 0) return mys_db_fail(s);
  return 0;
}

static int mys_begin(struct mys_store *s) { return mys_query(s, "START TRANSACTION"); }

static void mys_rollback(struct mys_store *s) {
  if (!s->db) return; /* the connection went, and the transaction with it */
  char keep[sizeof s->errmsg];
  memcpy(keep, s->errmsg, sizeof keep);
  if (mysql_rollback(s->db)) {
    unsigned e = mysql_errno(s->db);
    if (mys_conn_error(e)) mys_drop(s, mysql_error(s->db));
    else ef_log(EF_LOG_ERROR, "store: rollback failed: %s", mysql_error(s->db));
  }
  memcpy(s->errmsg, keep, sizeof keep);
}

static int mys_commit(struct mys_store *s) {
  if (!s->db) return EF_EUNAVAIL;
  if (mysql_commit(s->db)) {
    int ret = mys_db_fail(s);
    mys_rollback(s);
    return ret;
  }
  return 0;
}

/* ===== Rows ===== */

enum mys_ct { CT_U64, CT_I64, CT_INT, CT_TEXT };

struct mys_col {
  unsigned char type;
  size_t off;
};

struct mys_rowtype {
  size_t size;
  size_t ncols;
  const struct mys_col *cols;
  void (*clear)(void *rec);
};

#define C_(type, st, m) {type, offsetof(st, m)}

static const struct mys_col mys_dev_cols[] = {
    C_(CT_U64, struct store_device, device_id),
#define DEV_RCOL_(col, parent, key) C_(CT_TEXT, struct store_device, col),
    STORE_DEVICE_FIELDS(DEV_RCOL_)
#undef DEV_RCOL_
    C_(CT_TEXT, struct store_device, password),
    C_(CT_TEXT, struct store_device, pw_verifier),
    C_(CT_TEXT, struct store_device, token_hash),
    C_(CT_I64, struct store_device, token_expiry),
    C_(CT_I64, struct store_device, created_time),
    C_(CT_I64, struct store_device, updated_time),
};
static const struct mys_col mys_grp_cols[] = {
    C_(CT_U64, struct store_group, group_id), C_(CT_TEXT, struct store_group, group_name),
    C_(CT_TEXT, struct store_group, group_description),
    C_(CT_I64, struct store_group, created_time), C_(CT_I64, struct store_group, updated_time)};
static const struct mys_col mys_log_cols[] = {
    C_(CT_U64, struct store_log, log_id), C_(CT_U64, struct store_log, device_id),
    C_(CT_TEXT, struct store_log, event),  C_(CT_TEXT, struct store_log, detail),
    C_(CT_TEXT, struct store_log, result), C_(CT_I64, struct store_log, time)};
static const struct mys_col mys_tok_cols[] = {
    C_(CT_U64, struct store_token, token_id),     C_(CT_TEXT, struct store_token, name),
    C_(CT_TEXT, struct store_token, scope),       C_(CT_TEXT, struct store_token, token_hash),
    C_(CT_I64, struct store_token, created_time), C_(CT_TEXT, struct store_token, groups),
    C_(CT_I64, struct store_token, expires_time), C_(CT_I64, struct store_token, last_used_time)};
static const struct mys_col mys_aud_cols[] = {
    C_(CT_U64, struct store_audit, audit_id),    C_(CT_I64, struct store_audit, time),
    C_(CT_U64, struct store_audit, token_id),    C_(CT_TEXT, struct store_audit, token_name),
    C_(CT_TEXT, struct store_audit, route),      C_(CT_TEXT, struct store_audit, target),
    C_(CT_INT, struct store_audit, status),      C_(CT_TEXT, struct store_audit, outcome),
    C_(CT_TEXT, struct store_audit, peer)};
static const struct mys_col mys_miner_cols[] = {
    C_(CT_TEXT, struct store_miner, miner_id), C_(CT_TEXT, struct store_miner, host_name),
    C_(CT_TEXT, struct store_miner, record),   C_(CT_U64, struct store_miner, device_id),
    C_(CT_I64, struct store_miner, updated_time)};
static const struct mys_col mys_alog_cols[] = {
    C_(CT_U64, struct store_alert_log, log_id), C_(CT_I64, struct store_alert_log, time),
    C_(CT_TEXT, struct store_alert_log, event), C_(CT_TEXT, struct store_alert_log, rule),
    C_(CT_TEXT, struct store_alert_log, fingerprint),
    C_(CT_TEXT, struct store_alert_log, entry)};
static const struct mys_col mys_hist_cols[] = {
    C_(CT_TEXT, struct store_hist, owner), C_(CT_INT, struct store_hist, tier),
    C_(CT_I64, struct store_hist, time), C_(CT_TEXT, struct store_hist, data)};

struct mys_id_row {
  uint64_t id;
};
static const struct mys_col mys_id_cols[] = {C_(CT_U64, struct mys_id_row, id)};
struct mys_text_row {
  char *text;
};
static const struct mys_col mys_text_cols[] = {C_(CT_TEXT, struct mys_text_row, text)};

static void mys_clear_device(void *rec) { store_device_clear(rec); }
static void mys_clear_group(void *rec) { store_group_clear(rec); }
static void mys_clear_log(void *rec) { store_log_clear(rec); }
static void mys_clear_token(void *rec) { store_tokens_free_members(rec); }
static void mys_clear_audit(void *rec) { store_audit_clear(rec); }
static void mys_clear_miner(void *rec) { store_miner_clear(rec); }
static void mys_clear_alert(void *rec) { store_alert_log_clear(rec); }
static void mys_clear_hist(void *rec) { store_hist_clear(rec); }
static void mys_clear_none(void *rec) { (void)rec; }
static void mys_clear_text(void *rec) {
  struct mys_text_row *t = rec;
  ef_free(t->text);
  t->text = NULL;
}

#define ROWTYPE_(name, st, cols, clear)                                                         \
  static const struct mys_rowtype name = {sizeof(st), sizeof cols / sizeof cols[0], cols, clear}
ROWTYPE_(mys_device_rows, struct store_device, mys_dev_cols, mys_clear_device);
ROWTYPE_(mys_group_rows, struct store_group, mys_grp_cols, mys_clear_group);
ROWTYPE_(mys_log_rows, struct store_log, mys_log_cols, mys_clear_log);
ROWTYPE_(mys_token_rows, struct store_token, mys_tok_cols, mys_clear_token);
ROWTYPE_(mys_audit_rows, struct store_audit, mys_aud_cols, mys_clear_audit);
ROWTYPE_(mys_miner_rows, struct store_miner, mys_miner_cols, mys_clear_miner);
ROWTYPE_(mys_alert_rows, struct store_alert_log, mys_alog_cols, mys_clear_alert);
ROWTYPE_(mys_hist_rows, struct store_hist, mys_hist_cols, mys_clear_hist);
ROWTYPE_(mys_id_rows, struct mys_id_row, mys_id_cols, mys_clear_none);
ROWTYPE_(mys_text_rows, struct mys_text_row, mys_text_cols, mys_clear_text);

/* Read every row of an executed statement into a new array (*out, *n: NULL, 0 when empty or on
 * failure; the caller's). */
static int mys_fetch_all(struct mys_store *s, MYSQL_STMT *q, const struct mys_rowtype *t,
                         void **out, size_t *n) {
  MYSQL_BIND rb[MYS_MAXCOLS];
  unsigned long len[MYS_MAXCOLS];
  my_bool nul[MYS_MAXCOLS], trunc[MYS_MAXCOLS];
  union mys_num num[MYS_MAXCOLS];
  char *arr = NULL;
  size_t cnt = 0, cap = 0;
  int ret = 0;
  *out = NULL;
  *n = 0;
  if (t->ncols > MYS_MAXCOLS || mysql_stmt_field_count(q) != t->ncols) {
    mys_msg(s, "internal error: a result has %u columns, %zu expected",
            mysql_stmt_field_count(q), t->ncols);
    mysql_stmt_free_result(q);
    return EF_EDB;
  }
  memset(rb, 0, sizeof rb);
  for (size_t c = 0; c < t->ncols; c++) {
    rb[c].length = &len[c];
    rb[c].is_null = &nul[c];
    rb[c].error = &trunc[c];
    switch (t->cols[c].type) {
    case CT_U64:
    case CT_I64:
      rb[c].buffer_type = MYSQL_TYPE_LONGLONG;
      rb[c].buffer = &num[c].i;
      rb[c].is_unsigned = t->cols[c].type == CT_U64;
      break;
    case CT_INT:
      rb[c].buffer_type = MYSQL_TYPE_LONG;
      rb[c].buffer = &num[c].i32;
      break;
    default:
      rb[c].buffer_type = MYSQL_TYPE_STRING;
      rb[c].buffer = s->textbuf[c];
      rb[c].buffer_length = MYS_TEXTBUF;
      break;
    }
  }
  if (mysql_stmt_bind_result(q, rb)) {
    ret = mys_stmt_fail(s, q);
    goto fail_result;
  }
  for (;;) {
    int rc = mysql_stmt_fetch(q);
    if (rc == MYSQL_NO_DATA) break;
    if (rc == 1) {
      ret = mys_stmt_fail(s, q);
      goto fail_rows;
    }
    if (cnt == cap) {
      cap = cap ? cap * 2 : 16;
      arr = ef_realloc(arr, cap * t->size);
    }
    char *rec = arr + cnt * t->size;
    memset(rec, 0, t->size);
    cnt++;
    for (size_t c = 0; c < t->ncols; c++) {
      void *field = rec + t->cols[c].off;
      if (nul[c]) continue; /* NULL text: NULL; NULL number: 0 */
      switch (t->cols[c].type) {
      case CT_U64:
        *(uint64_t *)field = num[c].u;
        break;
      case CT_I64:
        *(int64_t *)field = num[c].i;
        break;
      case CT_INT:
        *(int *)field = num[c].i32;
        break;
      default:
        if (len[c] <= MYS_TEXTBUF) {
          *(char **)field = ef_strndup(s->textbuf[c], len[c]);
        } else { /* longer than the buffer: fetch it whole */
          char *big = ef_malloc(len[c] + 1);
          MYSQL_BIND one;
          unsigned long got = 0;
          memset(&one, 0, sizeof one);
          one.buffer_type = MYSQL_TYPE_STRING;
          one.buffer = big;
          one.buffer_length = len[c] + 1;
          one.length = &got;
          if (mysql_stmt_fetch_column(q, &one, (unsigned)c, 0)) {
            ef_free(big);
            ret = mys_stmt_fail(s, q);
            goto fail_rows;
          }
          big[got < len[c] ? got : len[c]] = '\0';
          *(char **)field = big;
        }
        break;
      }
    }
  }
  mysql_stmt_free_result(q);
  *out = arr;
  *n = cnt;
  return 0;

fail_rows:
  for (size_t i = 0; i < cnt; i++) t->clear(arr + i * t->size);
  ef_free(arr);
fail_result:
  if (s->db) mysql_stmt_free_result(q);
  return ret;
}

/* Execute statement id with p and read all its rows. */
static int mys_select(struct mys_store *s, enum mys_stmt_id id, struct mys_params *p,
                      const struct mys_rowtype *t, void **out, size_t *n) {
  *out = NULL;
  *n = 0;
  int ret;
  MYSQL_STMT *q = mys_stmt(s, id, &ret);
  if (!q) return ret;
  ret = mys_exec(s, q, p);
  if (ret) return ret;
  return mys_fetch_all(s, q, t, out, n);
}

/* Exactly one row into *out (zeroed); EF_ENOENT when there is none. */
static int mys_select_one(struct mys_store *s, enum mys_stmt_id id, struct mys_params *p,
                          const struct mys_rowtype *t, void *out) {
  void *arr;
  size_t n;
  memset(out, 0, t->size);
  int ret = mys_select(s, id, p, t, &arr, &n);
  if (ret) return ret;
  if (n == 0) return EF_ENOENT;
  memcpy(out, arr, t->size);
  for (size_t i = 1; i < n; i++) t->clear((char *)arr + i * t->size);
  ef_free(arr);
  return 0;
}

static int mys_exists(struct mys_store *s, enum mys_stmt_id id, struct mys_params *p,
                      bool *found) {
  void *arr;
  size_t n;
  *found = false;
  int ret = mys_select(s, id, p, &mys_id_rows, &arr, &n);
  ef_free(arr);
  if (ret == 0) *found = n > 0;
  return ret;
}

static int mys_row_exists(struct mys_store *s, enum mys_stmt_id id, uint64_t key, bool *found) {
  struct mys_params p;
  mys_params_init(&p, 1);
  p_u64(&p, key);
  return mys_exists(s, id, &p, found);
}

/* ===== Multi-row and bulk writes ===== */

/* Rows [from, from + count) of `rows` through kind k's multi-row statements (the caller holds a
 * transaction). Ids, when the kind has them, are set in the rows. On failure *at is the first
 * row of the statement that failed. */
static int mys_write_rows(struct mys_store *s, enum mys_kind_id k, void *rows, size_t from,
                          size_t count, size_t *at) {
  const struct mys_kind *kd = &mys_kinds[k];
  size_t i = from, end = from + count;
  while (i < end) {
    unsigned lg = 0;
    while (lg + 1 < MYS_MULTI_LOG2 && ((size_t)2 << lg) <= end - i) lg++;
    struct mys_params p;
    for (;;) { /* halve while the data is too big for one statement */
      size_t nrows = (size_t)1 << lg;
      mys_params_init(&p, nrows * kd->ncols);
      for (size_t r = 0; r < nrows; r++) kd->bind(&p, rows, i + r);
      if (lg == 0 || p.bytes <= MYS_MULTI_BYTES) break;
      mys_params_free(&p);
      lg--;
    }
    size_t nrows = (size_t)1 << lg;
    int ret;
    MYSQL_STMT *q = mys_multi(s, k, lg, &ret);
    if (q) ret = mys_exec(s, q, &p);
    mys_params_free(&p);
    if (ret == 0 && kd->set_id) {
      if (s->returning && kd->returning) {
        void *ids;
        size_t nids;
        ret = mys_fetch_all(s, q, &mys_id_rows, &ids, &nids);
        if (ret == 0 && nids != nrows) {
          mys_msg(s, "internal error: %zu ids returned for %zu rows", nids, nrows);
          ret = EF_EDB;
        }
        for (size_t r = 0; ret == 0 && r < nrows; r++)
          kd->set_id(rows, i + r, ((struct mys_id_row *)ids)[r].id);
        ef_free(ids);
      } else {
        uint64_t first = (uint64_t)mysql_stmt_insert_id(q);
        for (size_t r = 0; r < nrows; r++) kd->set_id(rows, i + r, first + r * s->ai_increment);
      }
    }
    if (ret) {
      if (at) *at = i;
      return ret;
    }
    i += nrows;
  }
  return 0;
}

/* One statement over n rows of parameters: a bulk execution (array binding) when the server
 * has it, else one execution per row. bind(p, i) binds row i's parameters: texts and 64-bit
 * numbers only (the arrays below hold those). */
static int mys_bulk(struct mys_store *s, enum mys_stmt_id id, size_t n, unsigned ncols,
                    void (*bind)(struct mys_params *p, const void *ctx, size_t i),
                    const void *ctx) {
  int ret;
  MYSQL_STMT *q = mys_stmt(s, id, &ret);
  if (!q) return ret;
  if (!s->bulk || n == 1) {
    for (size_t i = 0; i < n; i++) {
      struct mys_params p;
      mys_params_init(&p, ncols);
      bind(&p, ctx, i);
      ret = mys_exec(s, q, &p);
      if (ret) return ret;
    }
    return 0;
  }
  /* Column-wise arrays: numbers in arrays of 8 bytes, texts as arrays of pointers with their
   * lengths and NULL indicators. */
  for (size_t from = 0; from < n; from += MYS_BULK_MAX) {
    size_t rows = n - from < MYS_BULK_MAX ? n - from : MYS_BULK_MAX;
    MYSQL_BIND cols[8];
    union mys_num *nums = ef_calloc(rows * ncols, sizeof *nums);
    char **texts = ef_calloc(rows * ncols, sizeof *texts);
    unsigned long *lens = ef_calloc(rows * ncols, sizeof *lens);
    char *ind = ef_calloc(rows * ncols, 1);
    memset(cols, 0, sizeof cols);
    for (size_t r = 0; r < rows; r++) {
      struct mys_params p;
      mys_params_init(&p, ncols);
      bind(&p, ctx, from + r);
      for (unsigned c = 0; c < ncols; c++) {
        size_t at = (size_t)c * rows + r;
        MYSQL_BIND *b = &p.b[c];
        if (r == 0) {
          cols[c].buffer_type = b->buffer_type == MYSQL_TYPE_NULL ? MYSQL_TYPE_STRING
                                                                  : b->buffer_type;
          cols[c].is_unsigned = b->is_unsigned;
        }
        if (b->buffer_type == MYSQL_TYPE_NULL) {
          ind[at] = STMT_INDICATOR_NULL;
        } else if (b->buffer_type == MYSQL_TYPE_STRING) {
          texts[at] = b->buffer;
          lens[at] = b->buffer_length;
          ind[at] = STMT_INDICATOR_NONE;
        } else {
          nums[at] = p.num[c];
          ind[at] = STMT_INDICATOR_NONE;
        }
      }
      mys_params_free(&p);
    }
    for (unsigned c = 0; c < ncols; c++) {
      size_t base = (size_t)c * rows;
      if (cols[c].buffer_type == MYSQL_TYPE_STRING) {
        cols[c].buffer = &texts[base];
        cols[c].length = &lens[base];
      } else {
        cols[c].buffer = &nums[base];
      }
      cols[c].u.indicator = &ind[base];
    }
    unsigned int asize = (unsigned int)rows;
    if (mysql_stmt_attr_set(q, STMT_ATTR_ARRAY_SIZE, &asize) ||
        mysql_stmt_bind_param(q, cols) || mysql_stmt_execute(q))
      ret = mys_stmt_fail(s, q);
    if (s->db) {
      unsigned int zero = 0;
      mysql_stmt_attr_set(q, STMT_ATTR_ARRAY_SIZE, &zero);
    }
    ef_free(nums);
    ef_free(texts);
    ef_free(lens);
    ef_free(ind);
    if (ret) return ret;
  }
  return 0;
}

/* ===== Open, migrate, close ===== */

/* The first column of the first row of a text query into buf ("" for none or NULL). */
static int mys_query_value(struct mys_store *s, const char *sql, char *buf, size_t len) {
  buf[0] = '\0';
  if (mysql_real_query(s->db, sql, (unsigned long)strlen(sql))) return mys_db_fail(s);
  MYSQL_RES *r = mysql_store_result(s->db);
  if (!r) return mysql_field_count(s->db) ? mys_db_fail(s) : 0;
  MYSQL_ROW row = mysql_fetch_row(r);
  if (row && row[0]) snprintf(buf, len, "%s", row[0]);
  mysql_free_result(r);
  return 0;
}

/* The devices table of step 1: its columns from STORE_DEVICE_FIELDS. */
static char *mys_devices_sql(const char *opts) {
  size_t cap = 4096, used = 0;
  char *sql = ef_malloc(cap);
  used += (size_t)snprintf(sql + used, cap - used,
                           "CREATE TABLE IF NOT EXISTS devices (\n"
                           " device_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,\n");
  for (size_t i = 0; i < MYS_NDEVCOLS; i++) {
    const char *c = mys_dev_text_cols[i];
    bool key = strcmp(c, "hardware_sn") == 0 || strcmp(c, "hardware_model") == 0;
    used += (size_t)snprintf(sql + used, cap - used, " %s %s,\n", c,
                             key ? "VARCHAR(255)" : "MEDIUMTEXT");
  }
  snprintf(sql + used, cap - used,
           " password MEDIUMTEXT,\n pw_verifier MEDIUMTEXT,\n token_hash MEDIUMTEXT,\n"
           " token_expiry BIGINT NOT NULL DEFAULT 0,\n"
           " created_time BIGINT NOT NULL DEFAULT 0,\n"
           " updated_time BIGINT NOT NULL DEFAULT 0,\n"
           " UNIQUE KEY devices_sn_model (hardware_sn, hardware_model)) %s",
           opts);
  return sql;
}

/* A step's statement with "@T@" replaced by the table options. */
static char *mys_expand(const char *stmt, const char *opts) {
  if (strcmp(stmt, "@DEVICES@") == 0) return mys_devices_sql(opts);
  const char *t = strstr(stmt, "@T@");
  if (!t) return ef_strdup(stmt);
  return ef_asprintf("%.*s%s%s", (int)(t - stmt), stmt, opts, t + 3);
}

static int mys_schema_present(struct mys_store *s, bool *present) {
  char v[32];
  int ret = mys_query_value(s,
                            "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                            "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ef_schema'",
                            v, sizeof v);
  *present = ret == 0 && atoi(v) > 0;
  return ret;
}

/* Add the STORE_DEVICE_FIELDS columns `devices` lacks (a field added to store.h). */
static int mys_add_missing_columns(struct mys_store *s) {
  if (mysql_query(s->db, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE "
                         "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'devices'"))
    return mys_db_fail(s);
  MYSQL_RES *r = mysql_store_result(s->db);
  if (!r) return mys_db_fail(s);
  bool have[MYS_NDEVCOLS] = {false};
  MYSQL_ROW row;
  while ((row = mysql_fetch_row(r)) != NULL)
    for (size_t i = 0; i < MYS_NDEVCOLS; i++)
      if (row[0] && strcasecmp(row[0], mys_dev_text_cols[i]) == 0) have[i] = true;
  mysql_free_result(r);
  for (size_t i = 0; i < MYS_NDEVCOLS; i++) {
    if (have[i]) continue;
    char sql[160];
    snprintf(sql, sizeof sql, "ALTER TABLE devices ADD COLUMN IF NOT EXISTS %s MEDIUMTEXT",
             mys_dev_text_cols[i]);
    int ret = mys_query(s, sql);
    if (ret) return ret;
    ef_log(EF_LOG_INFO, "store: added column devices.%s", mys_dev_text_cols[i]);
  }
  return 0;
}

/* Bring the schema to MYS_SCHEMA_VERSION under the migration lock. */
static int mys_migrate(struct mys_store *s, char *err, size_t errlen) {
  char lock[160], v[32], opts[160];
  int ret, version = 0;
  snprintf(lock, sizeof lock, "SELECT GET_LOCK('ef_migrate:%s', %d)", s->url.database,
           MYS_MIGRATE_LOCK_S);
  ret = mys_query_value(s, lock, v, sizeof v);
  if (ret) goto fail;
  if (strcmp(v, "1") != 0) {
    mys_msg(s, "another process holds the migration lock of the database");
    ret = EF_EBUSY;
    goto fail;
  }
  snprintf(opts, sizeof opts, "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=%s",
           mys_collation(s->db));
  char *sql = ef_asprintf("CREATE TABLE IF NOT EXISTS ef_schema (\n"
                          " step INT NOT NULL PRIMARY KEY,\n"
                          " description VARCHAR(255) NOT NULL,\n"
                          " applied_time BIGINT NOT NULL) %s",
                          opts);
  ret = mys_query(s, sql);
  ef_free(sql);
  if (ret) goto fail_lock;
  ret = mys_query_value(s, "SELECT COALESCE(MAX(step), 0) FROM ef_schema", v, sizeof v);
  if (ret) goto fail_lock;
  version = atoi(v);
  if (version > MYS_SCHEMA_VERSION || version < 0) {
    mys_query(s, "DO RELEASE_LOCK(CONCAT('ef_migrate:', DATABASE()))");
    store_set_err(err, errlen,
                "database '%s' on %s has schema version %d, but this program knows versions up "
                "to %d: it was written by a newer edgefleet; upgrade edgefleet or use another "
                "database",
                s->url.database, s->where, version, MYS_SCHEMA_VERSION);
    return EF_EDB;
  }
  for (int step = version; step < MYS_SCHEMA_VERSION; step++) {
    for (const char *const *q = mys_steps[step].sql; *q; q++) {
      char *stmt = mys_expand(*q, opts);
      ret = mys_query(s, stmt);
      ef_free(stmt);
      if (ret) goto fail_lock;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char *rec = ef_asprintf("INSERT INTO ef_schema (step, description, applied_time) VALUES "
                            "(%d, '%s', %lld)",
                            step + 1, mys_steps[step].what,
                            (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    ret = mys_query(s, rec);
    ef_free(rec);
    if (ret) goto fail_lock;
  }
  ret = mys_add_missing_columns(s);
  if (ret) goto fail_lock;
  snprintf(lock, sizeof lock, "DO RELEASE_LOCK('ef_migrate:%s')", s->url.database);
  mys_query(s, lock);
  if (version < MYS_SCHEMA_VERSION)
    ef_log(EF_LOG_INFO, "store: database '%s' on %s migrated from schema version %d to %d",
           s->url.database, s->where, version, MYS_SCHEMA_VERSION);
  return 0;

fail_lock:
  if (s->db) {
    char keep[sizeof s->errmsg];
    memcpy(keep, s->errmsg, sizeof keep);
    snprintf(lock, sizeof lock, "DO RELEASE_LOCK('ef_migrate:%s')", s->url.database);
    mys_query(s, lock);
    memcpy(s->errmsg, keep, sizeof keep);
  }
fail:
  store_set_err(err, errlen, "cannot migrate database '%s' on %s from schema version %d: %s",
              s->url.database, s->where, version, s->errmsg);
  return ret;
}

/* CHECK TABLE ... QUICK or EXTENDED: EF_ECORRUPT with the findings when a table is damaged. */
static int mys_check(struct mys_store *s, enum store_check check, char *err, size_t errlen) {
  const char *how = check == STORE_CHECK_FULL ? "EXTENDED" : "QUICK";
  char sql[256], found[300] = "";
  size_t used = 0;
  snprintf(sql, sizeof sql, "CHECK TABLE " MYS_TABLES " %s", how);
  if (mysql_query(s->db, sql)) {
    int ret = mys_db_fail(s);
    store_set_err(err, errlen, "cannot check database '%s' on %s: %s", s->url.database, s->where,
                s->errmsg);
    return ret;
  }
  MYSQL_RES *r = mysql_store_result(s->db);
  if (!r) {
    int ret = mys_db_fail(s);
    store_set_err(err, errlen, "cannot check database '%s' on %s: %s", s->url.database, s->where,
                s->errmsg);
    return ret;
  }
  MYSQL_ROW row;
  bool bad = false;
  while ((row = mysql_fetch_row(r)) != NULL) {
    /* Table, Op, Msg_type, Msg_text */
    const char *type = row[2] ? row[2] : "", *text = row[3] ? row[3] : "";
    bool ok = (strcasecmp(type, "status") == 0 && strcasecmp(text, "OK") == 0) ||
              strcasecmp(type, "note") == 0 || strcasecmp(type, "info") == 0 ||
              strcasecmp(type, "warning") == 0;
    if (ok) continue;
    bad = true;
    if (used < sizeof found - 1) {
      int w = snprintf(found + used, sizeof found - used, "%s%s: %s", used ? "; " : "",
                       row[0] ? row[0] : "?", text);
      if (w > 0) used += (size_t)w;
      if (used > sizeof found - 1) used = sizeof found - 1;
    }
  }
  mysql_free_result(r);
  if (!bad) return 0;
  store_set_err(err, errlen,
              "database '%s' on %s is damaged (CHECK TABLE %s: %s): repair it on the server "
              "(docs/store.md#mariadb--mysql)",
              s->url.database, s->where, how, found);
  return EF_ECORRUPT;
}

static void mys_free(struct mys_store *s) {
  mys_close_stmts(s);
  if (s->db) mysql_close(s->db);
  store_mysql_url_clear(&s->url);
  ef_free(s);
}

/* The database is missing: create it (utf8mb4), then connect to it. */
static int mys_create_database(struct mys_store *s, char *err, size_t errlen) {
  MYSQL *db = NULL;
  int ret = mys_connect_raw(s, false, &db, NULL, err, errlen);
  if (ret) return ret;
  char sql[160];
  snprintf(sql, sizeof sql, "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4",
           s->url.database);
  if (mysql_query(db, sql) || mysql_select_db(db, s->url.database)) {
    unsigned e = mysql_errno(db);
    store_set_err(err, errlen, "database '%s' does not exist on %s and cannot be created: %s",
                s->url.database, s->where, mysql_error(db));
    mysql_close(db);
    return mys_conn_error(e) ? EF_EUNAVAIL : mys_map(e);
  }
  ef_log(EF_LOG_INFO, "store: created database '%s' on %s", s->url.database, s->where);
  s->db = db;
  return 0;
}

/* mysql_init() initialises the library on first use, which is not thread-safe: do it once. */
static pthread_once_t mys_lib_once = PTHREAD_ONCE_INIT;
static void mys_lib_init(void) { mysql_library_init(0, NULL, NULL); }

static int mys_open(const char *url, const struct store_open_opts *opts, struct store **out,
                    char *err, size_t errlen) {
  static const struct store_open_opts defaults = {0};
  pthread_once(&mys_lib_once, mys_lib_init);
  if (err && errlen) err[0] = '\0';
  if (!out || !url) return EF_EINVAL;
  *out = NULL;
  if (!opts) opts = &defaults;
  struct mys_store *s = ef_calloc(1, sizeof *s);
  s->base.ops = &store_mysql_ops;
  int ret = store_mysql_url_parse(url, &s->url, err, errlen);
  if (ret) goto fail;
  store_mysql_url_where(&s->url, s->where, sizeof s->where);

  char why[400];
  bool unknown_db = false;
  ret = mys_connect_raw(s, true, &s->db, &unknown_db, why, sizeof why);
  if (ret && unknown_db) {
    if (opts->must_exist) {
      store_set_err(err, errlen, "database '%s' does not exist on %s", s->url.database, s->where);
      ret = EF_ENOENT;
      goto fail;
    }
    ret = mys_create_database(s, err, errlen);
    if (ret) goto fail;
  } else if (ret) {
    store_set_err(err, errlen, "%s%s", ret == EF_EUNAVAIL ? "database unavailable: " : "", why);
    goto fail;
  }
  mys_learn_server(s);

  bool present = false;
  ret = mys_schema_present(s, &present);
  if (ret) {
    store_set_err(err, errlen, "cannot read database '%s' on %s: %s", s->url.database, s->where,
                s->errmsg);
    goto fail;
  }
  if (opts->must_exist && !present) {
    store_set_err(err, errlen, "database '%s' on %s has no edgefleet schema (no table ef_schema)",
                s->url.database, s->where);
    ret = EF_ENOENT;
    goto fail;
  }
  if (opts->check != STORE_CHECK_NONE && present) {
    ret = mys_check(s, opts->check, err, errlen);
    if (ret) goto fail;
  }
  ret = mys_migrate(s, err, errlen);
  if (ret) goto fail;
  s->errmsg[0] = '\0';
  const char *cipher = mysql_get_ssl_cipher(s->db);
  ef_log(EF_LOG_INFO, "store: connected to database '%s' on %s (%s %s, %s%s)", s->url.database,
         s->where, strstr(mysql_get_server_info(s->db), "MariaDB") ? "MariaDB" : "MySQL",
         mysql_get_server_info(s->db), cipher ? "TLS " : "no TLS", cipher ? cipher : "");
  *out = &s->base;
  return 0;

fail:
  mys_free(s);
  return ret;
}

static void mys_close(struct store *st) {
  if (st) mys_free(S(st));
}

static const char *mys_errmsg(struct store *st) { return S(st)->errmsg; }

/* ===== Devices ===== */

static int mys_device_add(struct store *st, const struct store_device *d) {
  struct mys_store *s = S(st);
  if (!d) return mys_invalid(s, "device is NULL");
  return mys_write_rows(s, K_DEV_INS, (void *)d, 0, 1, NULL);
}

/* Which record made a multi-row insert fail, in a transaction the caller rolls back: the rows
 * before the failing statement's (`at`) go in again as they did, then its rows one by one up to
 * `end`. The index, or SIZE_MAX when none fails this time. */
static size_t mys_find_failing(struct mys_store *s, const struct store_device *d, size_t at,
                               size_t end) {
  if (at && mys_write_rows(s, K_DEV_INS, (void *)d, 0, at, NULL) != 0) return SIZE_MAX;
  for (size_t i = at; i < end; i++)
    if (mys_write_rows(s, K_DEV_INS, (void *)d, i, 1, NULL) != 0) return i;
  return SIZE_MAX;
}

static int mys_device_add_batch(struct store *st, const struct store_device *d, size_t n,
                                size_t *failed) {
  struct mys_store *s = S(st);
  if (failed) *failed = 0;
  if (n == 0) return 0;
  if (!d) return mys_invalid(s, "devices is NULL");
  int ret = mys_begin(s);
  if (ret) return ret;
  size_t at = 0;
  ret = mys_write_rows(s, K_DEV_INS, (void *)d, 0, n, &at);
  if (ret == 0) return mys_commit(s);
  mys_rollback(s);
  if (ret != EF_EUNAVAIL && s->db && mys_begin(s) == 0) {
    /* Which record: replay up to the failing statement's end (mys_find_failing), and roll
     * that back too. */
    char keep[sizeof s->errmsg];
    memcpy(keep, s->errmsg, sizeof keep);
    size_t end = at + MYS_MULTI_MAX < n ? at + MYS_MULTI_MAX : n;
    size_t i = mys_find_failing(s, d, at, end);
    if (i != SIZE_MAX) at = i;
    mys_rollback(s);
    if (s->db) memcpy(s->errmsg, keep, sizeof keep);
  }
  if (failed) *failed = at;
  return ret;
}

static int mys_device_get(struct store *st, uint64_t id, struct store_device *out) {
  struct mys_store *s = S(st);
  if (!out) return mys_invalid(s, "out is NULL");
  struct mys_params p;
  mys_params_init(&p, 1);
  p_u64(&p, id);
  int ret = mys_select_one(s, M_DEV_GET, &p, &mys_device_rows, out);
  return ret == EF_ENOENT ? mys_missing(s, "device", id) : ret;
}

static int mys_device_find(struct store *st, const char *sn, const char *model,
                           struct store_device *out) {
  struct mys_store *s = S(st);
  if (!out) return mys_invalid(s, "out is NULL");
  memset(out, 0, sizeof *out);
  if (!sn || !model) return mys_invalid(s, "sn and model are required");
  struct mys_params p;
  mys_params_init(&p, 2);
  p_text(&p, sn);
  p_text(&p, model);
  int ret = mys_select_one(s, M_DEV_FIND, &p, &mys_device_rows, out);
  if (ret == EF_ENOENT) mys_msg(s, "no device with sn '%s' and model '%s'", sn, model);
  return ret;
}

static int mys_device_list(struct store *st, struct store_device **out, size_t *n) {
  struct mys_store *s = S(st);
  if (!out || !n) return mys_invalid(s, "out or n is NULL");
  void *arr;
  int ret = mys_select(s, M_DEV_LIST, NULL, &mys_device_rows, &arr, n);
  *out = arr;
  return ret;
}

static int mys_device_count(struct store *st, uint64_t *out) {
  struct mys_store *s = S(st);
  if (!out) return mys_invalid(s, "out is NULL");
  *out = 0;
  struct mys_id_row row;
  int ret = mys_select_one(s, M_DEV_COUNT, NULL, &mys_id_rows, &row);
  if (ret == EF_ENOENT) {
    mys_msg(s, "count(*) of devices returned no row");
    ret = EF_EDB;
  }
  if (ret == 0) *out = row.id;
  return ret;
}

static int mys_device_update(struct store *st, const struct store_device *d) {
  struct mys_store *s = S(st);
  if (!d) return mys_invalid(s, "patch is NULL");
  struct mys_params p;
  mys_params_init(&p, 1 + MYS_NDEVCOLS + 3);
  p_i64(&p, d->updated_time);
#define DEV_BIND_(col, parent, key) p_text(&p, d->col);
  STORE_DEVICE_FIELDS(DEV_BIND_)
#undef DEV_BIND_
  p_text(&p, d->password); /* a new password forgets the verifier */
  p_text(&p, d->password);
  p_u64(&p, d->device_id);
  uint64_t matched = 0;
  int ret = mys_run(s, M_DEV_UPDATE, &p, &matched);
  mys_params_free(&p);
  if (ret == 0 && matched == 0) ret = mys_missing(s, "device", d->device_id);
  return ret;
}

static int mys_device_delete(struct store *st, uint64_t id) {
  struct mys_store *s = S(st);
  int ret = mys_begin(s);
  if (ret) return ret;
  struct mys_params p;
  mys_params_init(&p, 1);
  p_u64(&p, id);
  uint64_t matched = 0;
  ret = mys_run(s, M_DEV_DELETE, &p, &matched); /* relations go by ON DELETE CASCADE */
  if (ret) goto fail_tx;
  if (matched == 0) {
    ret = mys_missing(s, "device", id);
    goto fail_tx;
  }
  ret = mys_run(s, M_DEV_DELETE_LOGS, &p, NULL);
  if (ret) goto fail_tx;
  return mys_commit(s);

fail_tx:
  mys_rollback(s);
  return ret;
}

static int mys_device_set_token(struct store *st, uint64_t id, const char *token_hash,
                                int64_t expiry) {
  struct mys_store *s = S(st);
  struct mys_params p;
  mys_params_init(&p, 3);
  p_text(&p, token_hash);
  p_i64(&p, expiry);
  p_u64(&p, id);
  uint64_t matched = 0;
  int ret = mys_run(s, M_DEV_SET_TOKEN, &p, &matched);
  if (ret == 0 && matched == 0) ret = mys_missing(s, "device", id);
  return ret;
}

static int mys_device_set_verifier(struct store *st, uint64_t id, const char *verifier) {
  struct mys_store *s = S(st);
  struct mys_params p;
  mys_params_init(&p, 2);
  p_text(&p, verifier);
  p_u64(&p, id);
  uint64_t matched = 0;
  int ret = mys_run(s, M_DEV_SET_VERIFIER, &p, &matched);
  if (ret == 0 && matched == 0) ret = mys_missing(s, "device", id);
  return ret;
}

static int mys_device_all_offline(struct store *st, int64_t now) {
  struct mys_store *s = S(st);
  struct mys_params p;
  mys_params_init(&p, 1);
  p_i64(&p, now);
  return mys_run(s, M_DEV_ALL_OFFLINE, &p, NULL);
}

/* ===== Groups ===== */

static int mys_group_add(struct store *st, const struct store_group *g) {
  struct mys_store *s = S(st);
  if (!g || !g->group_name) return mys_invalid(s, "group_name is required");
  struct mys_params p;
  mys_params_init(&p, 5);
  p_u64(&p, g->group_id);
  p_text(&p, g->group_name);
  p_text(&p, g->group_description);
  p_i64(&p, g->created_time);
  p_i64(&p, g->updated_time);
  return mys_run(s, M_GRP_INSERT, &p, NULL);
}

static int mys_group_get(struct store *st, uint64_t id, struct store_group *out) {
  struct mys_store *s = S(st);
  if (!out) return mys_invalid(s, "out is NULL");
  struct mys_params p;
  mys_params_init(&p, 1);
  p_u64(&p, id);
  int ret = mys_select_one(s, M_GRP_GET, &p, &mys_group_rows, out);
  return ret == EF_ENOENT ? mys_missing(s, "group", id) : ret;
}

static int mys_group_list(struct store *st, struct store_group **out, size_t *n) {
  struct mys_store *s = S(st);
  if (!out || !n) return mys_invalid(s, "out or n is NULL");
  void *arr;
  int ret = mys_select(s, M_GRP_LIST, NULL, &mys_group_rows, &arr, n);
  *out = arr;
  return ret;
}

static int mys_group_update(struct store *st, const struct store_group *g) {
  struct mys_store *s = S(st);
  if (!g) return mys_invalid(s, "patch is NULL");
  struct mys_params p;
  mys_params_init(&p, 5);
  p_text(&p, g->group_name);
  p_text(&p, g->group_description);
  p_i64(&p, g->updated_time);
  p_i64(&p, g->updated_time);
  p_u64(&p, g->group_id);
  uint64_t matched = 0;
  int ret = mys_run(s, M_GRP_UPDATE, &p, &matched);
  if (ret == 0 && matched == 0) ret = mys_missing(s, "group", g->group_id);
  return ret;
}

static int mys_group_delete(struct store *st, uint64_t id) {
  struct mys_store *s = S(st);
  struct mys_params p;
  mys_params_init(&p, 1);
  p_u64(&p, id);
  uint64_t matched = 0;
  int ret = mys_run(s, M_GRP_DELETE, &p, &matched); /* relations go by ON DELETE CASCADE */
  if (ret == 0 && matched == 0) ret = mys_missing(s, "group", id);
  return ret;
}

/* ===== Relations ===== */

static int mys_relation_add(struct store *st, uint64_t device_id, uint64_t group_id,
                            int64_t now) {
  struct mys_store *s = S(st);
  struct mys_params p;
  mys_params_init(&p, 3);
  p_u64(&p, device_id);
  p_u64(&p, group_id);
  p_i64(&p, now);
  int ret = mys_run(s, M_REL_INSERT, &p, NULL); /* a missing parent fails the foreign key */
  if (ret == EF_ENOENT)
    mys_msg(s, "no such device %" PRIu64 " or group %" PRIu64, device_id, group_id);
  return ret;
}

static int mys_relation_delete(struct store *st, uint64_t device_id, uint64_t group_id) {
  struct mys_store *s = S(st);
  struct mys_params p;
  mys_params_init(&p, 2);
  p_u64(&p, device_id);
  p_u64(&p, group_id);
  uint64_t matched = 0;
  int ret = mys_run(s, M_REL_DELETE, &p, &matched);
  if (ret == 0 && matched == 0) {
    mys_msg(s, "device %" PRIu64 " is not in group %" PRIu64, device_id, group_id);
    ret = EF_ENOENT;
  }
  return ret;
}

static int mys_relation_exists(struct store *st, uint64_t device_id, uint64_t group_id,
                               bool *out) {
  struct mys_store *s = S(st);
  if (!out) return mys_invalid(s, "out is NULL");
  struct mys_params p;
  mys_params_init(&p, 2);
  p_u64(&p, device_id);
  p_u64(&p, group_id);
  return mys_exists(s, M_REL_EXISTS, &p, out);
}

static int mys_device_groups(struct store *st, uint64_t device_id, struct store_group **out,
                             size_t *n) {
  struct mys_store *s = S(st);
  if (!out || !n) return mys_invalid(s, "out or n is NULL");
  *out = NULL;
  *n = 0;
  bool found;
  int ret = mys_row_exists(s, M_DEV_EXISTS, device_id, &found);
  if (ret) return ret;
  if (!found) return mys_missing(s, "device", device_id);
  struct mys_params p;
  mys_params_init(&p, 1);
  p_u64(&p, device_id);
  void *arr;
  ret = mys_select(s, M_REL_DEVICE_GROUPS, &p, &mys_group_rows, &arr, n);
  *out = arr;
  return ret;
}

static int mys_group_devices(struct store *st, uint64_t group_id, struct store_device **out,
                             size_t *n) {
  struct mys_store *s = S(st);
  if (!out || !n) return mys_invalid(s, "out or n is NULL");
  *out = NULL;
  *n = 0;
  bool found;
  int ret = mys_row_exists(s, M_GRP_EXISTS, group_id, &found);
  if (ret) return ret;
  if (!found) return mys_missing(s, "group", group_id);
  struct mys_params p;
  mys_params_init(&p, 1);
  p_u64(&p, group_id);
  void *arr;
  ret = mys_select(s, M_REL_GROUP_DEVICES, &p, &mys_device_rows, &arr, n);
  *out = arr;
  return ret;
}

static int mys_group_clear(struct store *st, uint64_t group_id) {
  struct mys_store *s = S(st);
  bool found;
  int ret = mys_row_exists(s, M_GRP_EXISTS, group_id, &found);
  if (ret) return ret;
  if (!found) return mys_missing(s, "group", group_id);
  struct mys_params p;
  mys_params_init(&p, 1);
  p_u64(&p, group_id);
  return mys_run(s, M_REL_GROUP_CLEAR, &p, NULL);
}

/* ===== Logs and state: the write-behind batch ===== */

static void mys_bind_state(struct mys_params *p, const void *ctx, size_t i) {
  const struct store_state *st = (const struct store_state *)ctx + i;
  p_text(p, st->state);
  p_i64(p, st->time);
  p_u64(p, st->device_id);
}

static int mys_write_batch(struct store *st, struct store_log *logs, size_t nlogs,
                           const struct store_state *states, size_t nstates) {
  struct mys_store *s = S(st);
  if ((nlogs && !logs) || (nstates && !states)) return mys_invalid(s, "logs or states is NULL");
  for (size_t i = 0; i < nlogs; i++)
    if (!logs[i].event) return mys_invalid(s, "a log has no event");
  if (nlogs == 0 && nstates == 0) return 0;
  int ret = mys_begin(s);
  if (ret) return ret;
  ret = mys_write_rows(s, K_LOG_INS, logs, 0, nlogs, NULL);
  if (ret) goto fail_tx;
  /* A device deleted meanwhile matches no row: skipped, as it should be. */
  if (nstates) ret = mys_bulk(s, M_DEV_SET_STATE, nstates, 3, mys_bind_state, states);
  if (ret) goto fail_tx;
  ret = mys_commit(s);
  if (ret) goto fail_ids;
  return 0;

fail_tx:
  mys_rollback(s);
fail_ids:
  for (size_t i = 0; i < nlogs; i++) logs[i].log_id = 0;
  return ret;
}

static int mys_log_query(struct store *st, uint64_t device_id, int64_t before, size_t limit,
                         struct store_log **out, size_t *n) {
  struct mys_store *s = S(st);
  if (!out || !n) return mys_invalid(s, "out or n is NULL");
  struct mys_params p;
  mys_params_init(&p, 3);
  p_u64(&p, device_id);
  p_i64(&p, before > 0 ? before : INT64_MAX);
  p_u64(&p, (uint64_t)limit);
  void *arr;
  int ret = mys_select(s, M_LOG_QUERY, &p, &mys_log_rows, &arr, n);
  *out = arr;
  return ret;
}

static int mys_log_prune(struct store *st, int64_t older_than, uint64_t *deleted) {
  struct mys_store *s = S(st);
  if (deleted) *deleted = 0;
  struct mys_params p;
  mys_params_init(&p, 1);
  p_i64(&p, older_than);
  uint64_t n = 0;
  int ret = mys_run(s, M_LOG_PRUNE, &p, &n);
  if (ret == 0 && deleted) *deleted = n;
  return ret;
}

/* ===== The audit log ===== */

static int mys_audit_append(struct store *st, struct store_audit *rows, size_t n) {
  struct mys_store *s = S(st);
  if (n && !rows) return mys_invalid(s, "rows is NULL");
  for (size_t i = 0; i < n; i++)
    if (!rows[i].route || !rows[i].outcome)
      return mys_invalid(s, "an audit row has no route or outcome");
  if (n == 0) return 0;
  int ret = mys_begin(s);
  if (ret) return ret;
  ret = mys_write_rows(s, K_AUD_INS, rows, 0, n, NULL);
  if (ret) {
    mys_rollback(s);
  } else {
    ret = mys_commit(s);
  }
  if (ret)
    for (size_t i = 0; i < n; i++) rows[i].audit_id = 0;
  return ret;
}

/* A page of a log (audit, alerts), newest first: ids below before_id (0: from the newest), at
 * most limit (0: no bound). */
static void mys_page(struct mys_params *p, uint64_t before_id) {
  p_u64(p, before_id ? before_id : UINT64_MAX);
}

static int mys_audit_query(struct store *st, const struct store_audit_filter *f,
                           struct store_audit **out, size_t *n) {
  struct mys_store *s = S(st);
  if (!f || !out || !n) return mys_invalid(s, "f, out or n is NULL");
  struct mys_params p;
  mys_params_init(&p, 13);
  mys_page(&p, f->before_id);
  p_i64(&p, f->since > 0 ? f->since : INT64_MIN);
  p_i64(&p, f->until > 0 ? f->until : INT64_MAX);
  p_text(&p, f->token);
  p_text(&p, f->token);
  p_text(&p, f->token);
  p_text(&p, f->route);
  p_text(&p, f->route);
  p_text(&p, f->target);
  p_text(&p, f->target);
  p_int(&p, f->status_min > 0 ? f->status_min : INT_MIN);
  p_int(&p, f->status_max > 0 ? f->status_max : INT_MAX);
  p_u64(&p, f->limit ? (uint64_t)f->limit : UINT64_MAX);
  void *arr;
  int ret = mys_select(s, M_AUD_QUERY, &p, &mys_audit_rows, &arr, n);
  *out = arr;
  return ret;
}

/* A bounded prune: statement id deletes at most ?2 of the oldest rows with time < ?1. */
static int mys_prune_oldest(struct mys_store *s, enum mys_stmt_id id, int64_t older_than,
                            size_t max, uint64_t *deleted) {
  if (deleted) *deleted = 0;
  if (max == 0) return 0;
  struct mys_params p;
  mys_params_init(&p, 2);
  p_i64(&p, older_than);
  p_u64(&p, (uint64_t)max);
  uint64_t n = 0;
  int ret = mys_run(s, id, &p, &n);
  if (ret == 0 && deleted) *deleted = n;
  return ret;
}

static int mys_audit_prune(struct store *st, int64_t older_than, size_t max,
                           uint64_t *deleted) {
  return mys_prune_oldest(S(st), M_AUD_PRUNE, older_than, max, deleted);
}

/* ===== API tokens ===== */

static int mys_token_add(struct store *st, const struct store_token *t) {
  struct mys_store *s = S(st);
  if (!t || !t->token_hash || !t->scope) return mys_invalid(s, "token_hash and scope are required");
  struct mys_params p;
  mys_params_init(&p, 9);
  p_u64(&p, t->token_id);
  p_text(&p, t->name);
  p_text(&p, t->scope);
  p_text(&p, t->token_hash);
  p_i64(&p, t->created_time);
  p_text(&p, t->groups);
  p_i64(&p, t->expires_time);
  p_i64(&p, t->last_used_time);
  p_text(&p, t->scope); /* kind: written equal to the scope, as in SQLite */
  return mys_run(s, M_TOK_INSERT, &p, NULL);
}

static int mys_token_list(struct store *st, struct store_token **out, size_t *n) {
  struct mys_store *s = S(st);
  if (!out || !n) return mys_invalid(s, "out or n is NULL");
  void *arr;
  int ret = mys_select(s, M_TOK_LIST, NULL, &mys_token_rows, &arr, n);
  *out = arr;
  return ret;
}

static int mys_token_delete(struct store *st, uint64_t id) {
  struct mys_store *s = S(st);
  struct mys_params p;
  mys_params_init(&p, 1);
  p_u64(&p, id);
  uint64_t matched = 0;
  int ret = mys_run(s, M_TOK_DELETE, &p, &matched);
  if (ret == 0 && matched == 0) ret = mys_missing(s, "token", id);
  return ret;
}

struct mys_touch {
  const uint64_t *ids;
  const int64_t *times;
};

static void mys_bind_touch(struct mys_params *p, const void *ctx, size_t i) {
  const struct mys_touch *t = ctx;
  p_i64(p, t->times[i]);
  p_u64(p, t->ids[i]);
}

static int mys_token_touch(struct store *st, const uint64_t *ids, const int64_t *times,
                           size_t n) {
  struct mys_store *s = S(st);
  if (n && (!ids || !times)) return mys_invalid(s, "ids or times is NULL");
  if (n == 0) return 0;
  int ret = mys_begin(s);
  if (ret) return ret;
  struct mys_touch t = {ids, times};
  ret = mys_bulk(s, M_TOK_TOUCH, n, 2, mys_bind_touch, &t); /* unknown ids match nothing */
  if (ret) {
    mys_rollback(s);
    return ret;
  }
  return mys_commit(s);
}

/* ===== Miner records ===== */

static enum mys_kind_id mys_miner_kind(const struct store_miner *m) {
  return !m->host_name ? K_MINER_PUT : m->record ? K_WORKER_PUT : K_WORKER_DEL;
}

static int mys_miner_write(struct store *st, const struct store_miner *rows, size_t n) {
  struct mys_store *s = S(st);
  if (n && !rows) return mys_invalid(s, "rows is NULL");
  for (size_t i = 0; i < n; i++)
    if (!rows[i].miner_id || (!rows[i].host_name && !rows[i].record))
      return mys_invalid(s, "a miner row needs miner_id and record");
  if (n == 0) return 0;
  int ret = mys_begin(s);
  if (ret) return ret;
  /* Runs of rows of one kind, in order: a later row of a run overrides an earlier one as it
   * would one statement later. */
  for (size_t i = 0; i < n;) {
    enum mys_kind_id k = mys_miner_kind(&rows[i]);
    size_t j = i + 1;
    while (j < n && mys_miner_kind(&rows[j]) == k) j++;
    ret = mys_write_rows(s, k, (void *)rows, i, j - i, NULL);
    if (ret) {
      mys_rollback(s);
      return ret;
    }
    i = j;
  }
  return mys_commit(s);
}

static int mys_miner_list(struct store *st, struct store_miner **out, size_t *n) {
  struct mys_store *s = S(st);
  if (!out || !n) return mys_invalid(s, "out or n is NULL");
  void *arr;
  int ret = mys_select(s, M_MINER_LIST, NULL, &mys_miner_rows, &arr, n);
  *out = arr;
  return ret;
}

/* ===== The alert log and the alert engine's state ===== */

static int mys_alert_write(struct store *st, struct store_alert_log *rows, size_t n,
                           const char *state, int64_t now) {
  struct mys_store *s = S(st);
  if (n && !rows) return mys_invalid(s, "rows is NULL");
  for (size_t i = 0; i < n; i++)
    if (!rows[i].event || !rows[i].entry)
      return mys_invalid(s, "an alert log row has no event or entry");
  if (n == 0 && !state) return 0;
  int ret = mys_begin(s);
  if (ret) return ret;
  ret = mys_write_rows(s, K_ALOG_INS, rows, 0, n, NULL);
  if (ret) goto fail_tx;
  if (state) {
    struct mys_params p;
    mys_params_init(&p, 2);
    p_text(&p, state);
    p_i64(&p, now);
    ret = mys_run(s, M_ASTATE_PUT, &p, NULL);
    if (ret) goto fail_tx;
  }
  ret = mys_commit(s);
  if (ret) goto fail_ids;
  return 0;

fail_tx:
  mys_rollback(s);
fail_ids:
  for (size_t i = 0; i < n; i++) rows[i].log_id = 0;
  return ret;
}

static int mys_alert_state_get(struct store *st, char **out) {
  struct mys_store *s = S(st);
  if (!out) return mys_invalid(s, "out is NULL");
  *out = NULL;
  struct mys_text_row row;
  int ret = mys_select_one(s, M_ASTATE_GET, NULL, &mys_text_rows, &row);
  if (ret == EF_ENOENT) mys_msg(s, "no saved alert state");
  if (ret == 0) *out = row.text;
  return ret;
}

static int mys_alert_log_query(struct store *st, const struct store_alert_log_filter *f,
                               struct store_alert_log **out, size_t *n) {
  struct mys_store *s = S(st);
  if (!f || !out || !n) return mys_invalid(s, "f, out or n is NULL");
  struct mys_params p;
  mys_params_init(&p, 10);
  mys_page(&p, f->before_id);
  p_i64(&p, f->since > 0 ? f->since : INT64_MIN);
  p_i64(&p, f->until > 0 ? f->until : INT64_MAX);
  p_text(&p, f->rule);
  p_text(&p, f->rule);
  p_text(&p, f->fingerprint);
  p_text(&p, f->fingerprint);
  p_text(&p, f->event);
  p_text(&p, f->event);
  p_u64(&p, f->limit ? (uint64_t)f->limit : UINT64_MAX);
  void *arr;
  int ret = mys_select(s, M_ALOG_QUERY, &p, &mys_alert_rows, &arr, n);
  *out = arr;
  return ret;
}

static int mys_alert_log_prune(struct store *st, int64_t older_than, size_t max,
                               uint64_t *deleted) {
  return mys_prune_oldest(S(st), M_ALOG_PRUNE, older_than, max, deleted);
}

/* ===== History ===== */

static int mys_hist_write(struct store *st, const struct store_hist *rows, size_t n) {
  struct mys_store *s = S(st);
  if (n && !rows) return mys_invalid(s, "rows is NULL");
  for (size_t i = 0; i < n; i++)
    if (!rows[i].owner || !rows[i].data)
      return mys_invalid(s, "a history row needs owner and data");
  if (n == 0) return 0;
  int ret = mys_begin(s);
  if (ret) return ret;
  ret = mys_write_rows(s, K_HIST_PUT, (void *)rows, 0, n, NULL);
  if (ret) {
    mys_rollback(s);
    return ret;
  }
  return mys_commit(s);
}

static int mys_hist_query(struct store *st, const char *owner, int tier, int64_t from,
                          int64_t to, size_t limit, struct store_hist **out, size_t *n) {
  struct mys_store *s = S(st);
  if (!owner || !out || !n) return mys_invalid(s, "owner, out or n is NULL");
  struct mys_params p;
  mys_params_init(&p, 5);
  p_text(&p, owner);
  p_int(&p, tier);
  p_i64(&p, from);
  p_i64(&p, to);
  p_u64(&p, limit ? (uint64_t)limit : UINT64_MAX);
  void *arr;
  int ret = mys_select(s, M_HIST_QUERY, &p, &mys_hist_rows, &arr, n);
  *out = arr;
  return ret;
}

static int mys_hist_range(struct store *st, int tier, int64_t from, int64_t to,
                          struct store_hist **out, size_t *n) {
  struct mys_store *s = S(st);
  if (!out || !n) return mys_invalid(s, "out or n is NULL");
  struct mys_params p;
  mys_params_init(&p, 3);
  p_int(&p, tier);
  p_i64(&p, from);
  p_i64(&p, to);
  void *arr;
  int ret = mys_select(s, M_HIST_RANGE, &p, &mys_hist_rows, &arr, n);
  *out = arr;
  return ret;
}

static int mys_hist_prune(struct store *st, int tier, int64_t older_than, size_t max,
                          uint64_t *deleted) {
  struct mys_store *s = S(st);
  if (deleted) *deleted = 0;
  if (max == 0) return 0;
  struct mys_params p;
  mys_params_init(&p, 3);
  p_int(&p, tier);
  p_i64(&p, older_than);
  p_u64(&p, (uint64_t)max);
  uint64_t n = 0;
  int ret = mys_run(s, M_HIST_PRUNE, &p, &n);
  if (ret == 0 && deleted) *deleted = n;
  return ret;
}

/* ===== Diagnostics (store_mysql.h) ===== */

int store_mysql_session_status(struct store *st, const char *name, char *buf, size_t len) {
  if (!st || st->ops != &store_mysql_ops || !name || !buf || !len) return EF_EINVAL;
  struct mys_store *s = S(st);
  buf[0] = '\0';
  if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
      strlen(name))
    return mys_invalid(s, "a status variable's name is letters, digits and '_'");
  int ret = mys_ready(s);
  if (ret) return ret;
  char sql[160];
  snprintf(sql, sizeof sql, "SHOW SESSION STATUS LIKE '%.100s'", name);
  if (mysql_query(s->db, sql)) return mys_db_fail(s);
  MYSQL_RES *r = mysql_store_result(s->db);
  if (!r) return mys_db_fail(s);
  MYSQL_ROW row = mysql_fetch_row(r);
  if (row && row[1]) snprintf(buf, len, "%s", row[1]);
  else ret = EF_ENOENT;
  mysql_free_result(r);
  return ret;
}

const struct store_ops store_mysql_ops = {
    .scheme = "mysql:",
    .open = mys_open,
    .close = mys_close,
    .errmsg = mys_errmsg,
    .device_add = mys_device_add,
    .device_add_batch = mys_device_add_batch,
    .device_get = mys_device_get,
    .device_find = mys_device_find,
    .device_list = mys_device_list,
    .device_count = mys_device_count,
    .device_update = mys_device_update,
    .device_delete = mys_device_delete,
    .device_set_token = mys_device_set_token,
    .device_set_verifier = mys_device_set_verifier,
    .device_all_offline = mys_device_all_offline,
    .group_add = mys_group_add,
    .group_get = mys_group_get,
    .group_list = mys_group_list,
    .group_update = mys_group_update,
    .group_delete = mys_group_delete,
    .relation_add = mys_relation_add,
    .relation_delete = mys_relation_delete,
    .relation_exists = mys_relation_exists,
    .device_groups = mys_device_groups,
    .group_devices = mys_group_devices,
    .group_clear = mys_group_clear,
    .write_batch = mys_write_batch,
    .log_query = mys_log_query,
    .log_prune = mys_log_prune,
    .audit_append = mys_audit_append,
    .audit_query = mys_audit_query,
    .audit_prune = mys_audit_prune,
    .token_add = mys_token_add,
    .token_list = mys_token_list,
    .token_delete = mys_token_delete,
    .token_touch = mys_token_touch,
    .miner_write = mys_miner_write,
    .miner_list = mys_miner_list,
    .alert_write = mys_alert_write,
    .alert_state_get = mys_alert_state_get,
    .alert_log_query = mys_alert_log_query,
    .alert_log_prune = mys_alert_log_prune,
    .hist_write = mys_hist_write,
    .hist_query = mys_hist_query,
    .hist_range = mys_hist_range,
    .hist_prune = mys_hist_prune,
};
