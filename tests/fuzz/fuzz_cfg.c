/* SPDX-License-Identifier: MIT */
/* fuzz_cfg.c -- the config parser (src/common/cfg.c) on arbitrary file text: the text is parsed
 * as an edgefleetd.conf (the server's real option table, src/server/config.c), as an
 * edgefleet-agent.conf (the agent's table and its order.NAME templates, src/agent/agent_conf.c)
 * and against a table with a row of every option type, bounds from narrow to the whole int64_t
 * range; its lines are also parsed as command-line flags. After every value accepted, the field
 * must be inside the row's bounds (durations, sizes, integers), a valid enum index or a bool; a
 * refusal must come with a message. Seeds: the example conf files and corpus/cfg. */
#include <limits.h>

#include "agent_conf.h"
#include "cfg.h"
#include "edgefleet/error.h"
#include "fuzz.h"
#include "server.h"

struct every {
  char *str;
  int64_t i, narrow_i, ms, narrow_ms, size, narrow_size, e;
  bool b;
};

static const char *const colours[] = {"red", "green", "blue", NULL};

static const struct cfg_opt every_opts[] = {
  CFG_ROW(struct every, str, CFG_STR, 0, 0, "edge", "a string"),
  CFG_ROW(struct every, i, CFG_INT, INT64_MIN, INT64_MAX, "0", "any integer"),
  CFG_ROW(struct every, narrow_i, CFG_INT, -5, 5, "1", "a small integer"),
  CFG_ROW(struct every, ms, CFG_MS, 0, INT64_MAX, "0", "any duration"),
  CFG_ROW(struct every, narrow_ms, CFG_MS, 10, 86400000, "7.5s", "a duration"),
  CFG_ROW(struct every, size, CFG_SIZE, 0, INT64_MAX, "0", "any size"),
  CFG_ROW(struct every, narrow_size, CFG_SIZE, 128, 1 << 20, "64k", "a size"),
  CFG_ROW(struct every, b, CFG_BOOL, 0, 0, "true", "a flag"),
  CFG_ROW(struct every, e, CFG_ENUM_OF(colours), 0, 0, "green", "a colour"),
  CFG_END,
};

/* A cfg_set_fn that checks what the table's setter did. */
struct checked {
  const struct cfg_opt *opts;
  void *conf;
  cfg_set_fn set; /* the program's own setter (the agent's handles order.NAME) */
};

static int table_set(void *ud, const char *key, const char *value, char *err, size_t errlen) {
  struct checked *c = ud;
  return cfg_table_set(c->opts, c->conf, key, value, err, errlen);
}

static int checked_set(void *ud, const char *key, const char *value, char *err, size_t errlen) {
  struct checked *c = ud;
  err[0] = '\0';
  int rc = c->set(c->set == table_set ? ud : c->conf, key, value, err, errlen);
  FUZZ_CHECK(rc == 0 || rc == EF_ENOENT || rc == EF_ECONFIG);
  if (rc == EF_ECONFIG) FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', errlen));
  if (rc != 0) return rc;
  for (const struct cfg_opt *o = c->opts; o->name; o++) {
    if (strcmp(o->name, key) != 0) continue;
    const char *field = (const char *)c->conf + o->offset;
    switch (o->type) {
    case CFG_STR: FUZZ_CHECK(strcmp(*(char *const *)field, value) == 0); break;
    case CFG_BOOL: break; /* a bool: nothing else to hold */
    case CFG_ENUM: {
      int64_t v = *(const int64_t *)field;
      FUZZ_CHECK(v >= 0 && o->names && v < INT_MAX && o->names[v]);
      break;
    }
    case CFG_INT:
    case CFG_MS:
    case CFG_SIZE: {
      int64_t v = *(const int64_t *)field;
      FUZZ_CHECK(v >= o->min && v <= o->max);
      if (o->type != CFG_INT) FUZZ_CHECK(v >= 0 && v <= (int64_t)CFG_VALUE_MAX);
      break;
    }
    }
  }
  return 0;
}

static void parse_text(const uint8_t *data, size_t size, const struct cfg_opt *opts, void *conf,
                       cfg_set_fn set) {
  char err[512];
  err[0] = '\0';
  struct checked c = {.opts = opts, .conf = conf, .set = set};
  int rc = cfg_parse_mem("fuzz.conf", (const char *)data, size, checked_set, &c, err, sizeof err);
  FUZZ_CHECK(rc == 0 || (rc == EF_ECONFIG && strncmp(err, "fuzz.conf:", 10) == 0));
}

/* The input's lines as argv[1..]: --key value / --key=value flags. */
static void parse_flags(const uint8_t *data, size_t size) {
  char *argv[65];
  int argc = 0;
  argv[argc++] = fuzz_strndup("prog", 4);
  struct fuzz_split sp = fuzz_split(data, size);
  const char *rec;
  size_t len;
  while (argc < 65 && fuzz_next(&sp, '\n', &rec, &len)) argv[argc++] = fuzz_strndup(rec, len);
  struct every e;
  FUZZ_CHECK(cfg_table_defaults(every_opts, &e) == 0);
  struct checked c = {.opts = every_opts, .conf = &e, .set = table_set};
  char err[512];
  cfg_config_arg(argc, argv, 1);
  int rc = cfg_parse_args(argc, argv, 1, checked_set, &c, err, sizeof err);
  FUZZ_CHECK(rc == 0 || (rc == EF_ECONFIG && err[0]));
  cfg_table_free(every_opts, &e);
  for (int i = 0; i < argc; i++) free(argv[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct server_config sc;
  memset(&sc, 0, sizeof sc);
  FUZZ_CHECK(cfg_table_defaults(config_opts(), &sc) == 0);
  parse_text(data, size, config_opts(), &sc, table_set);
  cfg_table_free(config_opts(), &sc);

  struct agent_conf ac;
  FUZZ_CHECK(agent_conf_init(&ac) == 0);
  parse_text(data, size, agent_opts, &ac, agent_conf_setter);
  agent_conf_free(&ac);

  struct every e;
  FUZZ_CHECK(cfg_table_defaults(every_opts, &e) == 0);
  parse_text(data, size, every_opts, &e, table_set);
  cfg_table_free(every_opts, &e);

  parse_flags(data, size);
  return 0;
}
