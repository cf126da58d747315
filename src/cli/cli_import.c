/* SPDX-License-Identifier: MIT */
/* cli_import.c -- `edgefleetctl import-seed mysql://USER:PASS@HOST:PORT/DB [--dry-run]`: moves a
 * fleet from the original system (its MySQL tables `devices`, `group_info`, `relations`) into an
 * edgefleetd, through the REST API, keeping every device's password (its bcrypt hash).
 *
 * DESIGN
 * The old tables are read directly with MariaDB Connector/C (text protocol: every value a
 * string), the URL parsed as the MariaDB store parses its own (src/store/mysql_url.c, so the
 * same TLS and socket options work). What edgefleetd has already is read first (device_query_all,
 * group_query_all, group_devices_query of each group), so a run adds only what is missing:
 * a device whose (sn, model) is registered, a group whose name exists, a relation that is there
 * are skipped and counted, and a second run adds and changes nothing. Devices go in with
 * `password_hash` (device_add; an admin token), their old ids replaced by edgefleet's; relations
 * follow the devices and groups by those new ids. The column mapping is in docs/cli.md
 * (#import-seed). --dry-run reads both sides and prints what a run would do, writing nothing.
 * Neither the URL's password nor any hash is ever printed.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mem.h"

#ifndef EF_WITH_MARIADB

int cli_import_seed(struct cli *c) {
  (void)c;
  fprintf(stderr, "edgefleetctl: import-seed: this build has no MariaDB client (libmariadb was "
                  "not found when it was built)\n");
  return CLI_USAGE;
}

#else

#include <mysql.h>

#include "crypto.h"
#include "mysql_url.h"

/* What a run did, per kind. */
struct imp_count {
  unsigned added, skipped, failed;
};

struct imp {
  struct cli *c;
  MYSQL *db;
  char where[128];
  bool dry;
  /* the old devices: seed id -> edgefleet id (NULL: not imported) */
  size_t ndev;
  char **dev_seed_id, **dev_new_id, **dev_label;
  /* the old groups: seed id -> edgefleet id */
  size_t ngrp;
  char **grp_seed_id, **grp_new_id, **grp_name;
  json_t *members; /* group id -> array of device ids, as edgefleetd has them */
  struct imp_count dev, grp, rel;
};

/* The device columns of the original table besides the keys, and where they go in edgefleet's
 * device JSON (parent NULL: top level). Columns the table lacks are skipped. */
static const struct imp_col {
  const char *column, *parent, *key;
} imp_cols[] = {
    {"device_name", NULL, "device_name"},
    {"device_type", NULL, "device_type"},
    {"software_version", "software", "version"},
    {"software_last_update", "software", "last_update"},
    {"base_version", "base", "version"},
    {"base_last_update", "base", "last_update"},
    {"base_state", "base", "state"},
    {"business_version", "business", "version"},
    {"business_last_update", "business", "last_update"},
    {"business_state", "business", "state"},
    {"wifi_mac", NULL, "wifi_mac"},
    {"lte_imei", NULL, "lte_imei"},
    {"dev_description", NULL, "dev_description"},
};
#define IMP_NCOLS (sizeof imp_cols / sizeof imp_cols[0])
static const char *const imp_nic_cols[] = {"nic1_type", "nic1_mac", "nic1_ipv4",
                                           "nic2_type", "nic2_mac", "nic2_ipv4"};

static void imp_strv_free(char **v, size_t n) {
  if (!v) return;
  for (size_t i = 0; i < n; i++) ef_free(v[i]);
  ef_free(v);
}

/* ----- the old database ----- */

/* Read the URL (or, for "@FILE", the first line of FILE: keeps the password off `ps`). */
static char *imp_url_arg(const char *arg) {
  if (arg[0] != '@') return ef_strdup(arg);
  FILE *f = fopen(arg + 1, "r");
  if (!f) return NULL;
  char line[2048];
  char *r = fgets(line, sizeof line, f) ? ef_strndup(line, strcspn(line, "\r\n")) : NULL;
  fclose(f);
  return r;
}

static int imp_connect(struct imp *m, const char *arg) {
  char err[256];
  char *url = imp_url_arg(arg);
  if (!url) {
    fprintf(stderr, "edgefleetctl: import-seed: cannot read the URL from %s\n", arg + 1);
    return CLI_USAGE;
  }
  struct store_mysql_url u;
  int rc = store_mysql_url_parse(url, &u, err, sizeof err);
  explicit_bzero(url, strlen(url));
  ef_free(url);
  if (rc) {
    store_mysql_url_clear(&u);
    fprintf(stderr, "edgefleetctl: import-seed: %s\n", err);
    return CLI_USAGE;
  }
  store_mysql_url_where(&u, m->where, sizeof m->where);
  m->db = mysql_init(NULL);
  unsigned int ct = u.connect_timeout, rt = u.read_timeout;
  mysql_optionsv(m->db, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
  mysql_optionsv(m->db, MYSQL_OPT_READ_TIMEOUT, &rt);
  mysql_optionsv(m->db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (u.ssl_mode != STORE_MYSQL_SSL_DISABLED) {
    my_bool on = 1, verify = u.ssl_mode == STORE_MYSQL_SSL_VERIFY_IDENTITY;
    mysql_optionsv(m->db, MYSQL_OPT_SSL_ENFORCE, &on);
    mysql_optionsv(m->db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    if (u.ssl_ca) mysql_optionsv(m->db, MYSQL_OPT_SSL_CA, u.ssl_ca);
    if (u.ssl_capath) mysql_optionsv(m->db, MYSQL_OPT_SSL_CAPATH, u.ssl_capath);
    if (u.ssl_cert) mysql_optionsv(m->db, MYSQL_OPT_SSL_CERT, u.ssl_cert);
    if (u.ssl_key) mysql_optionsv(m->db, MYSQL_OPT_SSL_KEY, u.ssl_key);
  }
  bool ok = mysql_real_connect(m->db, u.socket ? "localhost" : u.host, u.user, u.password,
                               u.database, u.port, u.socket, 0) != NULL;
  store_mysql_url_clear(&u);
  if (!ok) {
    fprintf(stderr, "edgefleetctl: import-seed: cannot connect to %s: %s\n", m->where,
            mysql_error(m->db));
    return CLI_CONNECT;
  }
  return CLI_OK;
}

/* Does the old table `table` have column `col`? */
static bool imp_has_column(struct imp *m, const char *table, const char *col) {
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND "
           "TABLE_NAME = '%s' AND COLUMN_NAME = '%s'",
           table, col);
  if (mysql_query(m->db, sql)) return false;
  MYSQL_RES *r = mysql_store_result(m->db);
  MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
  bool has = row && row[0] && atoi(row[0]) > 0;
  if (r) mysql_free_result(r);
  return has;
}

static MYSQL_RES *imp_select(struct imp *m, const char *sql, const char *what) {
  if (mysql_query(m->db, sql)) {
    fprintf(stderr, "edgefleetctl: import-seed: cannot read %s on %s: %s\n", what, m->where,
            mysql_error(m->db));
    return NULL;
  }
  MYSQL_RES *r = mysql_store_result(m->db);
  if (!r)
    fprintf(stderr, "edgefleetctl: import-seed: cannot read %s on %s: %s\n", what, m->where,
            mysql_error(m->db));
  return r;
}

static void imp_set(json_t *obj, const char *parent, const char *key, const char *v) {
  if (!v) return;
  if (parent) {
    json_t *p = json_object_get(obj, parent);
    if (!p) {
      p = json_object();
      json_object_set_new(obj, parent, p);
    }
    obj = p;
  }
  json_object_set_new(obj, key, json_string(v));
}

/* ----- edgefleetd's side ----- */

static void imp_line(struct imp *m, const char *kind, const char *what, const char *how,
                     const char *id) {
  (void)m;
  printf("%-8s  %-40s  %s%s%s%s\n", kind, what, how, id ? " (id " : "", id ? id : "",
         id ? ")" : "");
}

static const char *imp_str(const json_t *o, const char *path) {
  const json_t *v = out_path(o, path);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Devices: the old rows, each added unless its (sn, model) is registered. */
static int imp_devices(struct imp *m) {
  json_t *have = NULL;
  int rc = cli_get(m->c, &have, "device_query_all", NULL);
  if (rc) return rc;
  bool has[IMP_NCOLS], nic = true;
  char sql[1024];
  size_t used = (size_t)snprintf(sql, sizeof sql,
                                 "SELECT device_id, hardware_sn, hardware_model, password");
  for (size_t i = 0; i < IMP_NCOLS; i++) {
    has[i] = imp_has_column(m, "devices", imp_cols[i].column);
    if (has[i]) used += (size_t)snprintf(sql + used, sizeof sql - used, ", %s", imp_cols[i].column);
  }
  for (size_t i = 0; i < 6; i++) nic = nic && imp_has_column(m, "devices", imp_nic_cols[i]);
  if (nic)
    for (size_t i = 0; i < 6; i++)
      used += (size_t)snprintf(sql + used, sizeof sql - used, ", %s", imp_nic_cols[i]);
  snprintf(sql + used, sizeof sql - used, " FROM devices ORDER BY device_id");
  MYSQL_RES *r = imp_select(m, sql, "the table devices");
  if (!r) {
    json_decref(have);
    return CLI_FAIL;
  }
  size_t n = (size_t)mysql_num_rows(r);
  m->dev_seed_id = ef_calloc(n + 1, sizeof *m->dev_seed_id);
  m->dev_new_id = ef_calloc(n + 1, sizeof *m->dev_new_id);
  m->dev_label = ef_calloc(n + 1, sizeof *m->dev_label);
  MYSQL_ROW row;
  while ((row = mysql_fetch_row(r)) != NULL) {
    size_t k = m->ndev++;
    const char *sid = row[0], *sn = row[1], *model = row[2], *hash = row[3];
    m->dev_seed_id[k] = ef_strdup(sid ? sid : "");
    m->dev_label[k] = ef_asprintf("%s/%s", sn ? sn : "-", model ? model : "-");
    if (!sn || !sn[0] || !model || !model[0]) {
      imp_line(m, "device", m->dev_label[k], "FAILED: no hardware_sn or hardware_model", NULL);
      m->dev.failed++;
      continue;
    }
    const char *found = NULL;
    for (size_t i = 0; i < json_array_size(have) && !found; i++) {
      const json_t *d = json_array_get(have, i);
      const char *hs = imp_str(d, "hardware.sn"), *hm = imp_str(d, "hardware.model");
      if (hs && hm && !strcmp(hs, sn) && !strcmp(hm, model)) found = imp_str(d, "device_id");
    }
    if (found) {
      m->dev_new_id[k] = ef_strdup(found);
      imp_line(m, "device", m->dev_label[k], "skipped: already registered", found);
      m->dev.skipped++;
      continue;
    }
    if (!crypto_bcrypt_hash_valid(hash)) {
      imp_line(m, "device", m->dev_label[k],
               "FAILED: its password is not a bcrypt hash ($2a$, $2b$ or $2y$)", NULL);
      m->dev.failed++;
      continue;
    }
    if (m->dry) {
      imp_line(m, "device", m->dev_label[k], "would be added", NULL);
      m->dev_new_id[k] = ef_strdup("(new)");
      m->dev.added++;
      continue;
    }
    json_t *body = json_object();
    imp_set(body, "hardware", "sn", sn);
    imp_set(body, "hardware", "model", model);
    json_object_set_new(body, "password_hash", json_string(hash));
    size_t col = 4;
    for (size_t i = 0; i < IMP_NCOLS; i++)
      if (has[i]) imp_set(body, imp_cols[i].parent, imp_cols[i].key, row[col++]);
    if (nic) {
      json_t *nics = json_array();
      for (int j = 0; j < 2; j++) {
        const char *t = row[col + 3 * j], *mac = row[col + 3 * j + 1], *ip = row[col + 3 * j + 2];
        if (!(t && t[0]) && !(mac && mac[0]) && !(ip && ip[0])) continue;
        json_t *e = json_object();
        imp_set(e, NULL, "type", t);
        imp_set(e, NULL, "mac", mac);
        imp_set(e, NULL, "ipv4", ip);
        json_array_append_new(nics, e);
      }
      if (json_array_size(nics)) json_object_set_new(body, "nic", nics);
      else json_decref(nics);
    }
    json_t *data = NULL;
    rc = cli_send(m->c, &data, "POST", "device_add", body);
    if (rc == CLI_CONNECT) {
      mysql_free_result(r);
      json_decref(have);
      return rc;
    }
    const char *id = rc == CLI_OK ? imp_str(data, "device_id") : NULL;
    if (id) {
      m->dev_new_id[k] = ef_strdup(id);
      imp_line(m, "device", m->dev_label[k], "added", id);
      m->dev.added++;
    } else {
      imp_line(m, "device", m->dev_label[k], "FAILED (the server's message is above)", NULL);
      m->dev.failed++;
    }
    json_decref(data);
  }
  mysql_free_result(r);
  json_decref(have);
  return CLI_OK;
}

/* Groups: matched by name; the others added. */
static int imp_groups(struct imp *m) {
  json_t *have = NULL;
  int rc = cli_get(m->c, &have, "group_query_all", NULL);
  if (rc) return rc;
  bool desc = imp_has_column(m, "group_info", "group_description");
  MYSQL_RES *r = imp_select(m,
                            desc ? "SELECT group_id, group_name, group_description FROM group_info "
                                   "ORDER BY group_id"
                                 : "SELECT group_id, group_name, NULL FROM group_info "
                                   "ORDER BY group_id",
                            "the table group_info");
  if (!r) {
    json_decref(have);
    return CLI_FAIL;
  }
  size_t n = (size_t)mysql_num_rows(r);
  m->grp_seed_id = ef_calloc(n + 1, sizeof *m->grp_seed_id);
  m->grp_new_id = ef_calloc(n + 1, sizeof *m->grp_new_id);
  m->grp_name = ef_calloc(n + 1, sizeof *m->grp_name);
  MYSQL_ROW row;
  while ((row = mysql_fetch_row(r)) != NULL) {
    size_t k = m->ngrp++;
    m->grp_seed_id[k] = ef_strdup(row[0] ? row[0] : "");
    m->grp_name[k] = ef_strdup(row[1] ? row[1] : "");
    if (!row[1] || !row[1][0]) {
      imp_line(m, "group", "-", "FAILED: no group_name", NULL);
      m->grp.failed++;
      continue;
    }
    const char *found = NULL;
    for (size_t i = 0; i < json_array_size(have) && !found; i++) {
      const json_t *g = json_array_get(have, i);
      const char *name = imp_str(g, "group_name");
      if (name && !strcmp(name, row[1])) found = imp_str(g, "group_id");
    }
    if (found) {
      m->grp_new_id[k] = ef_strdup(found);
      imp_line(m, "group", row[1], "skipped: a group of this name exists", found);
      m->grp.skipped++;
      continue;
    }
    if (m->dry) {
      imp_line(m, "group", row[1], "would be added", NULL);
      m->grp_new_id[k] = ef_strdup("(new)");
      m->grp.added++;
      continue;
    }
    json_t *body = json_pack("{s:s}", "group_name", row[1]), *data = NULL;
    if (row[2]) json_object_set_new(body, "group_description", json_string(row[2]));
    rc = cli_send(m->c, &data, "POST", "group_add", body);
    if (rc == CLI_CONNECT) {
      mysql_free_result(r);
      json_decref(have);
      return rc;
    }
    const char *id = rc == CLI_OK ? imp_str(data, "group_id") : NULL;
    if (id) {
      m->grp_new_id[k] = ef_strdup(id);
      imp_line(m, "group", row[1], "added", id);
      m->grp.added++;
    } else {
      imp_line(m, "group", row[1], "FAILED (the server's message is above)", NULL);
      m->grp.failed++;
    }
    json_decref(data);
  }
  mysql_free_result(r);
  json_decref(have);
  return CLI_OK;
}

static size_t imp_find(char **ids, size_t n, const char *id) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(ids[i], id)) return i;
  return n;
}

/* Is device `dev` in group `grp` on edgefleetd (its members read once per group)? */
static int imp_member(struct imp *m, const char *grp, const char *dev, bool *in) {
  *in = false;
  json_t *list = json_object_get(m->members, grp);
  if (!list) {
    int rc = cli_get(m->c, &list, "group_devices_query", grp, NULL);
    if (rc) return rc;
    json_object_set_new(m->members, grp, list);
  }
  for (size_t i = 0; i < json_array_size(list) && !*in; i++) {
    const char *id = imp_str(json_array_get(list, i), "device_id");
    *in = id && !strcmp(id, dev);
  }
  return CLI_OK;
}

static int imp_relations(struct imp *m) {
  MYSQL_RES *r = imp_select(m, "SELECT device_id, group_id FROM relations "
                               "ORDER BY group_id, device_id",
                            "the table relations");
  if (!r) return CLI_FAIL;
  MYSQL_ROW row;
  while ((row = mysql_fetch_row(r)) != NULL) {
    size_t d = imp_find(m->dev_seed_id, m->ndev, row[0] ? row[0] : "");
    size_t g = imp_find(m->grp_seed_id, m->ngrp, row[1] ? row[1] : "");
    char what[200];
    snprintf(what, sizeof what, "%s -> %s", d < m->ndev ? m->dev_label[d] : "?",
             g < m->ngrp ? m->grp_name[g] : "?");
    if (d == m->ndev || g == m->ngrp) {
      imp_line(m, "relation", what, "FAILED: its device or group is not in the old tables", NULL);
      m->rel.failed++;
      continue;
    }
    const char *dev = m->dev_new_id[d], *grp = m->grp_new_id[g];
    if (!dev || !grp) {
      imp_line(m, "relation", what, "FAILED: its device or group was not imported", NULL);
      m->rel.failed++;
      continue;
    }
    bool in = false;
    if (strcmp(dev, "(new)") != 0 && strcmp(grp, "(new)") != 0) {
      int rc = imp_member(m, grp, dev, &in);
      if (rc) {
        mysql_free_result(r);
        return rc;
      }
    }
    if (in) {
      imp_line(m, "relation", what, "skipped: already there", NULL);
      m->rel.skipped++;
      continue;
    }
    if (m->dry) {
      imp_line(m, "relation", what, "would be added", NULL);
      m->rel.added++;
      continue;
    }
    json_t *data = NULL;
    int rc = cli_send(m->c, &data, "POST", "relation_add",
                      json_pack("{s:s,s:s}", "device_id", dev, "group_id", grp));
    json_decref(data);
    if (rc == CLI_CONNECT) {
      mysql_free_result(r);
      return rc;
    }
    if (rc == CLI_OK) {
      imp_line(m, "relation", what, "added", NULL);
      m->rel.added++;
    } else {
      imp_line(m, "relation", what, "FAILED (the server's message is above)", NULL);
      m->rel.failed++;
    }
  }
  mysql_free_result(r);
  return CLI_OK;
}

static void imp_summary(const struct imp *m) {
  const char *verb = m->dry ? "to add" : "added";
  printf("%ssummary: devices: %u %s, %u skipped, %u failed; groups: %u %s, %u skipped, %u "
         "failed; relations: %u %s, %u skipped, %u failed\n",
         m->dry ? "dry run (nothing written): " : "", m->dev.added, verb, m->dev.skipped,
         m->dev.failed, m->grp.added, verb, m->grp.skipped, m->grp.failed, m->rel.added, verb,
         m->rel.skipped, m->rel.failed);
}

int cli_import_seed(struct cli *c) {
  struct imp m;
  memset(&m, 0, sizeof m);
  m.c = c;
  m.dry = c->o.dry_run;
  m.members = json_object();
  int rc = imp_connect(&m, c->args[0]);
  if (rc) goto fail_db;
  rc = imp_devices(&m);
  if (rc) goto fail_db;
  rc = imp_groups(&m);
  if (rc) goto fail_db;
  rc = imp_relations(&m);
  if (rc) goto fail_db;
  imp_summary(&m);
  rc = m.dev.failed || m.grp.failed || m.rel.failed ? CLI_FAIL : CLI_OK;

fail_db:
  if (m.db) mysql_close(m.db);
  imp_strv_free(m.dev_seed_id, m.ndev);
  imp_strv_free(m.dev_new_id, m.ndev);
  imp_strv_free(m.dev_label, m.ndev);
  imp_strv_free(m.grp_seed_id, m.ngrp);
  imp_strv_free(m.grp_new_id, m.ngrp);
  imp_strv_free(m.grp_name, m.ngrp);
  json_decref(m.members);
  return rc;
}

#endif
