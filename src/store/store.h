/* SPDX-License-Identifier: MIT */
/* store.h -- edgefleetd's persistent store: one interface, one file per backend.
 *
 * DESIGN
 * A backend is a table of functions (struct store_ops) chosen once from the URL scheme by
 * store_open(): "sqlite:PATH" (the embedded default, store_sqlite.c) and later
 * "postgresql://..." (store_pg.c). All calls are synchronous and blocking: the server makes them
 * only on its database thread (src/server/worker.c), never on the network loop. A store handle
 * is used by one thread at a time.
 *
 * Records cross the interface as plain structs of strings; ids are 64-bit snowflakes, times are
 * ms since the epoch. The device's columns are listed once, in STORE_DEVICE_FIELDS, which feeds
 * the struct, each backend's SQL and the server's JSON mapping, so a new column is one line.
 *
 * Ownership: records a call returns (out-parameters, arrays) belong to the caller and are freed
 * with the matching store_*_free(). Records passed in stay the caller's.
 * Errors: 0, EF_ENOENT (no such row), EF_EEXIST (unique key taken), EF_EINVAL, or the backend
 * failed (store_errmsg() has its message): EF_EFULL (no space left for the database: disk full,
 * quota, file size limit), EF_ECORRUPT (the database is damaged or not a database),
 * EF_EREADONLY (it cannot be written), EF_EIO (another I/O failure), EF_EBUSY (locked by another
 * process past the busy timeout), EF_ENOMEM, EF_EDB (anything else).
 */
#ifndef EF_STORE_H
#define EF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* X(column, json_parent, json_key): the device's text columns and where they sit in the REST
 * JSON (json_parent NULL = top level). `nic` holds the JSON text of the NIC array. */
#define STORE_DEVICE_FIELDS(X)                                  \
  X(device_name,          NULL,       "device_name")            \
  X(device_type,          NULL,       "device_type")            \
  X(hardware_sn,          "hardware", "sn")                     \
  X(hardware_model,       "hardware", "model")                  \
  X(software_version,     "software", "version")                \
  X(software_last_update, "software", "last_update")            \
  X(base_version,         "base",     "version")                \
  X(base_last_update,     "base",     "last_update")            \
  X(base_state,           "base",     "state")                  \
  X(business_version,     "business", "version")                \
  X(business_last_update, "business", "last_update")            \
  X(business_state,       "business", "state")                  \
  X(nic,                  NULL,       "nic")                    \
  X(wifi_mac,             NULL,       "wifi_mac")               \
  X(lte_imei,             NULL,       "lte_imei")               \
  X(dev_description,      NULL,       "dev_description")        \
  X(dev_state,            NULL,       "dev_state")

struct store_device {
  uint64_t device_id;
#define STORE_DEV_MEMBER_(col, parent, key) char *col;
  STORE_DEVICE_FIELDS(STORE_DEV_MEMBER_)
#undef STORE_DEV_MEMBER_
  char *password;     /* bcrypt hash; never leaves the server */
  char *pw_verifier;  /* hex HMAC-SHA-256(server secret, password) once a login proved it, or
                         NULL; never leaves the server; a new password clears it */
  char *token_hash;   /* hex SHA-256 of the current session token, or NULL */
  int64_t token_expiry;
  int64_t created_time, updated_time;
};

struct store_group {
  uint64_t group_id;
  char *group_name;
  char *group_description;
  int64_t created_time, updated_time;
};

struct store_log {           /* one device_logs row */
  uint64_t log_id;           /* assigned by the store on append */
  uint64_t device_id;
  char *event;               /* connect, login, heartbeat_loss, state, status_upload, order, ... */
  char *detail;              /* free text or JSON text */
  char *result;              /* success | fail | state name */
  int64_t time;
};

struct store_state {         /* a device row's new dev_state */
  uint64_t device_id;
  const char *state;         /* "online" | "Unknown" | "offline" (static strings) */
  int64_t time;
};

struct store_token {         /* an API token of the northbound interface */
  uint64_t token_id;
  char *name;
  char *scope;               /* "admin" | "operator" | "read" */
  char *token_hash;          /* hex SHA-256 */
  int64_t created_time;      /* ms since the epoch */
  char *groups;              /* the group ids it is limited to, "id,id" in decimal; NULL: all */
  int64_t expires_time;      /* ms since the epoch; 0: never */
  int64_t last_used_time;    /* ms since the epoch; 0: never used (written behind, auth.c) */
};

struct store_audit {         /* one audit_log row: a mutation or order of the REST API */
  uint64_t audit_id;         /* assigned by the store on append: increasing, the paging cursor */
  int64_t time;              /* ms since the epoch, when the call was answered */
  uint64_t token_id;         /* the calling API token */
  char *token_name;          /* its name then (NULL: unnamed) */
  char *route;               /* "device_add", "give_order", ... */
  char *target;              /* the ids the call names, compact: "device=12 group=34" (or NULL) */
  int status;                /* the HTTP status of the answer */
  char *outcome;             /* "ok" or the error message */
  char *peer;                /* the caller's address, "127.0.0.1" */
};

/* What audit_query selects; zero means no bound (a zeroed struct selects everything). Newest
 * first: rows with audit_id < before_id (the cursor of the next page). */
struct store_audit_filter {
  int64_t since, until;      /* since <= time < until (ms; 0: unbounded) */
  const char *token;         /* a token's name, or its id as decimal text */
  const char *route;         /* exact route name */
  const char *target;        /* a substring of the target */
  int status_min, status_max;/* status in [min, max] (0: unbounded) */
  uint64_t before_id;        /* audit_id < before_id (0: from the newest) */
  size_t limit;              /* rows at most (0: none) */
};

struct store_miner {         /* a miner_info row (host_name NULL) or a worker_info row */
  char *miner_id;
  char *host_name;
  char *record;              /* JSON text; NULL in miner_write deletes the worker row */
  uint64_t device_id;        /* the device that reported it */
  int64_t updated_time;
};

/* ----- the alert log and the alert engine's state (docs/alerts.md#persistence) ----- */
struct store_alert_log {     /* one alert_log row: a transition, ack, silence or delivery */
  uint64_t log_id;           /* assigned by the store on append: increasing, the paging cursor */
  int64_t time;              /* ms since the epoch */
  char *event;               /* pending, firing, resolved, cancelled, acked, silenced, delivery */
  char *rule;                /* NULL for a silence by fingerprint only */
  char *fingerprint;         /* NULL for a silence by rule */
  char *entry;               /* the whole entry, JSON text (what alert_log_query answers) */
};
/* What alert_log_query selects; zero means no bound. Newest first: rows with log_id < before_id
 * (the cursor of the next page). */
struct store_alert_log_filter {
  int64_t since, until;      /* since <= time < until (ms; 0: unbounded) */
  const char *rule, *fingerprint, *event; /* exact matches (NULL: any) */
  uint64_t before_id;        /* log_id < before_id (0: from the newest) */
  size_t limit;              /* rows at most (0: none) */
};

/* One row of the history (docs/history.md): the series of one owner at one time, in one tier. */
struct store_hist {
  char *owner;               /* "d:<device_id>" (a device) or "m:<minerId>" (a miner) */
  int tier;                  /* 0: raw samples; 1, 2: aggregates (history.c's tiers) */
  int64_t time;              /* ms: the sample's time, or the start of the aggregate's bucket */
  char *data;                /* JSON text: {"series":value,...} (tier 0) or
                                {"series":[min,avg,max,count],...} (aggregates) */
};

struct store;

/* What store_open_with() checks before it uses a database. */
enum store_check {
  STORE_CHECK_NONE = 0,
  STORE_CHECK_QUICK, /* the file's structure (SQLite: PRAGMA quick_check) */
  STORE_CHECK_FULL,  /* and that every index matches its table (PRAGMA integrity_check) */
};

struct store_open_opts {
  /* The database must already exist with a schema: a missing or empty one is refused with
   * EF_ENOENT, and nothing is created or written. */
  bool must_exist;
  /* A damaged database is refused with EF_ECORRUPT, its findings in err. */
  enum store_check check;
};

struct store_ops {
  const char *scheme; /* URL prefix this backend serves, e.g. "sqlite:" */
  /* opts is never NULL. */
  int (*open)(const char *url, const struct store_open_opts *opts, struct store **out, char *err,
              size_t errlen);
  void (*close)(struct store *st);
  const char *(*errmsg)(struct store *st);

  /* devices. `d->device_id`, `password` and times are set by the caller. */
  int (*device_add)(struct store *st, const struct store_device *d);
  /* All or nothing, in one transaction; on EF_EEXIST *failed is the index of the duplicate. */
  int (*device_add_batch)(struct store *st, const struct store_device *d, size_t n,
                          size_t *failed);
  int (*device_get)(struct store *st, uint64_t id, struct store_device *out);
  int (*device_find)(struct store *st, const char *sn, const char *model,
                     struct store_device *out);
  /* Every device, ordered by id. *out is an array of *n records. */
  int (*device_list)(struct store *st, struct store_device **out, size_t *n);
  /* The number of devices (one count(*), no rows loaded). */
  int (*device_count)(struct store *st, uint64_t *out);
  /* Set the non-NULL text fields of `patch` (and `password` when non-NULL, which clears the
   * verifier) on device patch->device_id, and updated_time = patch->updated_time. EF_ENOENT,
   * EF_EEXIST (sn/model). */
  int (*device_update)(struct store *st, const struct store_device *patch);
  /* Deletes the device, its relations and its logs. */
  int (*device_delete)(struct store *st, uint64_t id);
  int (*device_set_token)(struct store *st, uint64_t id, const char *token_hash, int64_t expiry);
  /* Keep the password verifier of a device (docs/security.md#verifier). */
  int (*device_set_verifier)(struct store *st, uint64_t id, const char *verifier);
  /* Mark every device offline (server start: nobody is connected yet). */
  int (*device_all_offline)(struct store *st, int64_t now);

  /* groups. group_name is unique. */
  int (*group_add)(struct store *st, const struct store_group *g);
  int (*group_get)(struct store *st, uint64_t id, struct store_group *out);
  int (*group_list)(struct store *st, struct store_group **out, size_t *n);
  int (*group_update)(struct store *st, const struct store_group *patch); /* non-NULL fields */
  int (*group_delete)(struct store *st, uint64_t id); /* and its relations */

  /* relations (device <-> group, many to many) */
  int (*relation_add)(struct store *st, uint64_t device_id, uint64_t group_id, int64_t now);
  int (*relation_delete)(struct store *st, uint64_t device_id, uint64_t group_id);
  int (*relation_exists)(struct store *st, uint64_t device_id, uint64_t group_id, bool *out);
  int (*device_groups)(struct store *st, uint64_t device_id, struct store_group **out, size_t *n);
  int (*group_devices)(struct store *st, uint64_t group_id, struct store_device **out, size_t *n);
  int (*group_clear)(struct store *st, uint64_t group_id); /* delete all its relations */

  /* The write-behind batch of the network loop: logs and state changes in one transaction.
   * log_id of each log is assigned here. */
  int (*write_batch)(struct store *st, struct store_log *logs, size_t nlogs,
                     const struct store_state *states, size_t nstates);
  /* Newest first; at most `limit` rows with time < before (before <= 0: no bound). */
  int (*log_query)(struct store *st, uint64_t device_id, int64_t before, size_t limit,
                   struct store_log **out, size_t *n);
  /* Delete logs older than `older_than`; *deleted is the count. */
  int (*log_prune)(struct store *st, int64_t older_than, uint64_t *deleted);

  /* The audit log (docs/security.md#audit-log). Append in one transaction; audit_id of each row
   * is assigned here. */
  int (*audit_append)(struct store *st, struct store_audit *rows, size_t n);
  /* Rows matching `f`, newest first (by audit_id). */
  int (*audit_query)(struct store *st, const struct store_audit_filter *f,
                     struct store_audit **out, size_t *n);
  /* Delete at most `max` of the oldest rows with time < older_than; *deleted is the count (fewer
   * than max: none is left). Bounded so one call never holds the database long. */
  int (*audit_prune)(struct store *st, int64_t older_than, size_t max, uint64_t *deleted);

  /* API tokens */
  int (*token_add)(struct store *st, const struct store_token *t);
  int (*token_list)(struct store *st, struct store_token **out, size_t *n); /* by token_id */
  /* Revoke: delete the row. EF_ENOENT when there is none. */
  int (*token_delete)(struct store *st, uint64_t token_id);
  /* Last uses, in one transaction: last_used_time = max(itself, times[i]) of token ids[i]; an
   * unknown id is skipped. */
  int (*token_touch)(struct store *st, const uint64_t *ids, const int64_t *times, size_t n);

  /* Miner records (docs/protocol.md#miner-records), written behind: upserted in one transaction;
   * a worker row with record NULL is deleted. */
  int (*miner_write)(struct store *st, const struct store_miner *rows, size_t n);
  /* Every miner row, then every worker row (start-up load). */
  int (*miner_list)(struct store *st, struct store_miner **out, size_t *n);
  /* The alert engine (docs/alerts.md#persistence), written behind by devlog.c: append the log
   * rows (log_id of each assigned here) and, when `state` is not NULL, replace the engine's
   * saved state (open alerts, acks, silences: one JSON document) -- in one transaction. */
  int (*alert_write)(struct store *st, struct store_alert_log *rows, size_t n, const char *state,
                     int64_t now);
  /* The saved state (*out: JSON text, the caller's), or EF_ENOENT when none was saved. */
  int (*alert_state_get)(struct store *st, char **out);
  /* Log rows matching `f`, newest first (by log_id). */
  int (*alert_log_query)(struct store *st, const struct store_alert_log_filter *f,
                         struct store_alert_log **out, size_t *n);
  /* Delete at most `max` of the oldest log rows with time < older_than; *deleted is the count
   * (fewer than max: none is left). */
  int (*alert_log_prune)(struct store *st, int64_t older_than, size_t max, uint64_t *deleted);

  /* History (docs/history.md): rows upserted in one transaction (a row of the same owner, tier
   * and time is replaced). */
  int (*hist_write)(struct store *st, const struct store_hist *rows, size_t n);
  /* The rows of `owner` in `tier` with from <= time < to, oldest first, at most `limit` (0: no
   * bound). */
  int (*hist_query)(struct store *st, const char *owner, int tier, int64_t from, int64_t to,
                    size_t limit, struct store_hist **out, size_t *n);
  /* Every owner's rows of `tier` with from <= time < to, by owner then time (the roll-up of a
   * bucket into the next tier). */
  int (*hist_range)(struct store *st, int tier, int64_t from, int64_t to,
                    struct store_hist **out, size_t *n);
  /* Delete at most `max` rows of `tier` with time < older_than; *deleted is the count. */
  int (*hist_prune)(struct store *st, int tier, int64_t older_than, size_t max,
                    uint64_t *deleted);
};

struct store {
  const struct store_ops *ops; /* first member of every backend's handle */
};

/* Open the backend named by url's scheme and migrate its schema to the current version.
 * "sqlite:PATH" or a bare path means SQLite. On failure err says why. */
int store_open(const char *url, struct store **out, char *err, size_t errlen);
/* store_open with options (NULL: the defaults, as store_open: create a missing database, no
 * check). */
int store_open_with(const char *url, const struct store_open_opts *opts, struct store **out,
                    char *err, size_t errlen);
void store_close(struct store **st);
/* `url` as a message or log line may show it: a password in it ("scheme://user:PASSWORD@...", or
 * a "password=" parameter) replaced by "***". Written to buf[len] (cut short if need be, never
 * inside a password); returns buf. */
const char *store_url_redact(const char *url, char *buf, size_t len);
static inline const char *store_errmsg(struct store *st) { return st->ops->errmsg(st); }

void store_device_clear(struct store_device *d); /* free members, zero the struct */
void store_devices_free(struct store_device *arr, size_t n);
void store_group_clear(struct store_group *g);
void store_groups_free(struct store_group *arr, size_t n);
void store_log_clear(struct store_log *l);
void store_logs_free(struct store_log *arr, size_t n);
void store_tokens_free_members(struct store_token *t); /* free members, zero the struct */
void store_audit_clear(struct store_audit *a);
void store_audits_free(struct store_audit *arr, size_t n);
void store_tokens_free(struct store_token *arr, size_t n);
void store_miner_clear(struct store_miner *m);
void store_miners_free(struct store_miner *arr, size_t n);
void store_alert_log_clear(struct store_alert_log *l); /* free members, zero the struct */
void store_alert_logs_free(struct store_alert_log *arr, size_t n);
void store_hist_clear(struct store_hist *h);
void store_hists_free(struct store_hist *arr, size_t n);

/* For the backends: format an open() error into err[errlen] (either may be NULL/0). */
__attribute__((format(printf, 3, 4))) void store_set_err(char *err, size_t errlen,
                                                         const char *fmt, ...);

/* The backends compiled in (for store_open and tests). */
extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;    /* "postgresql:" (EF_WITH_POSTGRES) */
extern const struct store_ops store_mysql_ops; /* "mysql:" (EF_WITH_MARIADB) */

#endif
