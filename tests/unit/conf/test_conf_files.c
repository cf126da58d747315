/* SPDX-License-Identifier: MIT */
/* test_conf_files.c -- the annotated example files at the top of the tree name every option of
 * the tables they document, and only those:
 *
 *   edgefleetd.conf        the server's table (config_opts(), src/server/config.c)
 *   edgefleet-agent.conf   the agent's table (agent_opts, src/agent/agent_conf.c) and the
 *                          library's, as ef_client_option() lists it (src/edge/options.c),
 *                          plus `order.NAME` lines
 *
 * A line names an option when it is `name = value`, or the same commented out (`# name = value`,
 * `#name =`): that is how both files show a default or an example. A row missing from its file,
 * a name no table knows and a name given twice are each an error. The lines that are not
 * commented out must also parse as the programs parse them, and in edgefleetd.conf (which says
 * "every option set to its default") each must equal the row's default.
 *
 * EF_SOURCE is the source tree (tests/unit/conf/CMakeLists.txt).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_conf.h"
#include "cfg.h"
#include "edgefleet/edge.h"
#include "edgefleet/error.h"
#include "server.h"

#define MAX_NAMES 128
#define MAX_MENTIONS 256

/* The option names a file may use. */
struct names {
  const char *v[MAX_NAMES];
  size_t n;
};

/* One option named by a line of a file. */
struct mention {
  char key[64];
  char value[512]; /* only for lines that are not commented out */
  int line;
  bool commented;
};

struct scan {
  struct mention v[MAX_MENTIONS];
  size_t n;
  int problems; /* lines that are neither a comment, blank, nor `name = value` */
};

static void example_path(char *buf, size_t len, const char *name) {
  const char *src = getenv("EF_SOURCE");
  if (!src) fail_msg("EF_SOURCE (the source tree) is not set");
  snprintf(buf, len, "%s/%s", src, name);
}

static void add_name(struct names *ns, const char *name) {
  assert_true(ns->n < MAX_NAMES);
  ns->v[ns->n++] = name;
}

static void add_table(struct names *ns, const struct cfg_opt *opts) {
  for (const struct cfg_opt *o = opts; o->name; o++) add_name(ns, o->name);
}

static void add_library(struct names *ns) {
  const char *name;
  for (size_t i = 0; ef_client_option(i, &name, NULL, NULL) == 0; i++) add_name(ns, name);
}

static bool known(const struct names *ns, const char *key) {
  for (size_t i = 0; i < ns->n; i++)
    if (strcmp(ns->v[i], key) == 0) return true;
  return false;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

/* Fill `m` when `line` names an option, as `name = value` or commented out. Prose in comments
 * ("# Syntax: `option = value`") does not: the name must come first, right after the '#'. */
static bool parse_line(const char *line, struct mention *m) {
  const char *p = line;
  while (*p == ' ' || *p == '\t') p++;
  m->commented = *p == '#';
  if (m->commented) {
    p++;
    while (*p == ' ' || *p == '\t') p++;
  }
  size_t k = 0;
  if (!isalpha((unsigned char)*p)) return false;
  while (isalnum((unsigned char)p[k]) || p[k] == '_' || p[k] == '-' || p[k] == '.') k++;
  const char *eq = p + k;
  while (*eq == ' ' || *eq == '\t') eq++;
  if (*eq != '=' || k >= sizeof m->key) return false;
  memcpy(m->key, p, k);
  m->key[k] = '\0';
  for (char *c = m->key; *c; c++)
    if (*c == '-') *c = '_'; /* as cfg_parse_file reads it */
  m->value[0] = '\0';
  if (!m->commented) {
    char v[sizeof m->value];
    snprintf(v, sizeof v, "%s", eq + 1);
    v[strcspn(v, "#")] = '\0';
    snprintf(m->value, sizeof m->value, "%s", trim(v));
  }
  return true;
}

static void scan_file(const char *path, struct scan *out) {
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("%s: cannot open", path);
  memset(out, 0, sizeof *out);
  char line[4096];
  for (int lineno = 1; fgets(line, sizeof line, f); lineno++) {
    assert_true(out->n < MAX_MENTIONS);
    struct mention *m = &out->v[out->n];
    if (parse_line(line, m)) {
      m->line = lineno;
      out->n++;
      continue;
    }
    char *s = trim(line);
    if (*s && *s != '#') {
      print_error("%s:%d: not `name = value`: %s\n", path, lineno, s);
      out->problems++;
    }
  }
  fclose(f);
}

/* The number of problems of `path`, each printed: every name in `ns` must be named once, and
 * nothing else (but order.NAME lines when `orders`). */
static int check_file(const char *path, const struct names *ns, bool orders) {
  static struct scan sc;
  scan_file(path, &sc);
  int problems = sc.problems;
  for (size_t i = 0; i < sc.n; i++) {
    const struct mention *m = &sc.v[i];
    if (orders && strncmp(m->key, "order.", 6) == 0) continue;
    if (!known(ns, m->key)) {
      print_error("%s:%d: '%s' is not an option\n", path, m->line, m->key);
      problems++;
      continue;
    }
    for (size_t j = 0; j < i; j++)
      if (strcmp(sc.v[j].key, m->key) == 0) {
        print_error("%s:%d: '%s' again (first on line %d)\n", path, m->line, m->key,
                    sc.v[j].line);
        problems++;
        break;
      }
  }
  for (size_t k = 0; k < ns->n; k++) {
    bool found = false;
    for (size_t i = 0; i < sc.n && !found; i++) found = strcmp(sc.v[i].key, ns->v[k]) == 0;
    if (!found) {
      print_error("%s: option '%s' is missing (add it, commented out if it has no default: "
                  "`# %s = ...`)\n", path, ns->v[k], ns->v[k]);
      problems++;
    }
  }
  return problems;
}

static void server_names(struct names *ns) {
  memset(ns, 0, sizeof *ns);
  add_table(ns, config_opts());
}

static void agent_names(struct names *ns) {
  memset(ns, 0, sizeof *ns);
  add_table(ns, agent_opts);
  add_library(ns);
}

/* ----- completeness ----- */

static void server_conf_names_every_option(void **state) {
  (void)state;
  char path[PATH_MAX];
  struct names ns;
  example_path(path, sizeof path, "edgefleetd.conf");
  server_names(&ns);
  assert_true(ns.n >= 30);
  assert_int_equal(check_file(path, &ns, false), 0);
}

static void agent_conf_names_every_option(void **state) {
  (void)state;
  char path[PATH_MAX];
  struct names ns;
  example_path(path, sizeof path, "edgefleet-agent.conf");
  agent_names(&ns);
  assert_true(ns.n >= 40);
  assert_int_equal(check_file(path, &ns, true), 0);
}

/* The agent and the library share one namespace (agent_conf.h): a name in both tables would
 * reach only the agent. */
static void agent_and_library_names_differ(void **state) {
  (void)state;
  const char *name;
  for (size_t i = 0; ef_client_option(i, &name, NULL, NULL) == 0; i++)
    for (const struct cfg_opt *o = agent_opts; o->name; o++)
      if (strcmp(o->name, name) == 0) fail_msg("'%s' is an agent and a library option", name);
}

/* The check itself: a copy of edgefleetd.conf without one option's line and with a name no table
 * has must give those two problems more than the file itself. */
static void check_catches_missing_and_unknown(void **state) {
  (void)state;
  char path[PATH_MAX], tmp[] = "/tmp/ef-conf-files-XXXXXX", line[4096];
  example_path(path, sizeof path, "edgefleetd.conf");
  int fd = mkstemp(tmp);
  assert_true(fd >= 0);
  FILE *in = fopen(path, "r"), *out = fdopen(fd, "w");
  assert_non_null(in);
  assert_non_null(out);
  int dropped = 0;
  while (fgets(line, sizeof line, in)) {
    struct mention m;
    if (!dropped && parse_line(line, &m) && strcmp(m.key, "heartbeat_tolerance") == 0) {
      dropped = 1;
      continue;
    }
    fputs(line, out);
  }
  fputs("# heartbeat_tolerence = 7.5s\n", out);
  fclose(in);
  fclose(out);
  assert_int_equal(dropped, 1);
  struct names ns;
  server_names(&ns);
  int problems = check_file(tmp, &ns, false);
  unlink(tmp);
  assert_int_equal(problems, check_file(path, &ns, false) + 2);
}

/* ----- values ----- */

/* Whether `a` and `b` hold the same value in the field of row `o`. */
static bool same_field(const struct cfg_opt *o, const void *a, const void *b) {
  const char *fa = (const char *)a + o->offset, *fb = (const char *)b + o->offset;
  switch (o->type) {
  case CFG_STR: {
    const char *sa = *(char *const *)fa, *sb = *(char *const *)fb;
    return sa == sb || (sa && sb && strcmp(sa, sb) == 0);
  }
  case CFG_BOOL: return *(const bool *)fa == *(const bool *)fb;
  default: return *(const int64_t *)fa == *(const int64_t *)fb;
  }
}

/* edgefleetd.conf parses as edgefleetd parses it, and shows every default it sets. */
static void server_conf_parses_with_defaults(void **state) {
  (void)state;
  char path[PATH_MAX], err[1024] = "";
  example_path(path, sizeof path, "edgefleetd.conf");
  struct server_config cfg;
  char *argv[] = {"edgefleetd", "--config", path, NULL};
  if (config_init(&cfg, 3, argv, err, sizeof err) != 0) fail_msg("%s", err);
  config_free(&cfg);

  static struct scan sc;
  scan_file(path, &sc);
  const struct cfg_opt *opts = config_opts();
  for (size_t i = 0; i < sc.n; i++) {
    const struct mention *m = &sc.v[i];
    if (m->commented) continue;
    const struct cfg_opt *o = opts;
    while (o->name && strcmp(o->name, m->key) != 0) o++;
    assert_non_null(o->name);
    struct server_config def, got;
    memset(&def, 0, sizeof def);
    memset(&got, 0, sizeof got);
    assert_int_equal(cfg_table_defaults(opts, &def), 0);
    assert_int_equal(cfg_table_defaults(opts, &got), 0);
    assert_int_equal(cfg_table_set(opts, &got, m->key, m->value, err, sizeof err), 0);
    bool same = same_field(o, &def, &got);
    cfg_table_free(opts, &def);
    cfg_table_free(opts, &got);
    if (!same)
      fail_msg("%s:%d: %s = %s is not the default (%s)", path, m->line, m->key, m->value,
               o->def ? o->def : "none");
  }
}

/* What edgefleet-agent's setter does (src/agent/main.c): the agent's table, then the library. */
struct agent_setup {
  struct agent_conf conf;
  ef_client *client;
};

static int agent_set(void *ud, const char *key, const char *value, char *err, size_t errlen) {
  struct agent_setup *su = ud;
  int rc = agent_conf_set(&su->conf, key, value, err, errlen);
  if (rc != EF_ENOENT) return rc;
  rc = ef_client_set(su->client, key, value);
  if (rc != 0) snprintf(err, errlen, "%s = %s: %s", key, value, ef_strerror(rc));
  return rc;
}

static void agent_conf_parses(void **state) {
  (void)state;
  char path[PATH_MAX], err[1024] = "";
  example_path(path, sizeof path, "edgefleet-agent.conf");
  struct agent_setup su;
  assert_int_equal(agent_conf_init(&su.conf), 0);
  assert_int_equal(ef_client_new(&su.client), 0);
  int rc = cfg_parse_file(path, agent_set, &su, err, sizeof err);
  size_t orders = su.conf.n_orders;
  ef_client_free(&su.client);
  agent_conf_free(&su.conf);
  if (rc != 0) fail_msg("%s", err);
  assert_true(orders >= 2); /* the two example orders */
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(server_conf_names_every_option),
    cmocka_unit_test(agent_conf_names_every_option),
    cmocka_unit_test(agent_and_library_names_differ),
    cmocka_unit_test(check_catches_missing_and_unknown),
    cmocka_unit_test(server_conf_parses_with_defaults),
    cmocka_unit_test(agent_conf_parses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
