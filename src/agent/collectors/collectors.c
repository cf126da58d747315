/* SPDX-License-Identifier: MIT */
/* collectors.c -- the table of known collectors and the set that runs the enabled ones. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../agent_conf.h"
#include "clock.h"
#include "collector.h"
#include "edgefleet/error.h"
#include "jsonutil.h"
#include "log.h"
#include "mem.h"

/* Every collector this build has: add a file, a row here, a section in docs/agent.md. */
static const struct ef_collector *const known[] = {
  &collector_system,
  &collector_gpu,
  NULL,
};

struct running {
  const struct ef_collector *c;
  void *state;
  bool enabled;
};

struct collectors {
  struct running *run;
  size_t n;
};

static const struct ef_collector *find(const char *name, size_t len) {
  for (size_t i = 0; known[i]; i++)
    if (strlen(known[i]->name) == len && strncmp(known[i]->name, name, len) == 0) return known[i];
  return NULL;
}

int collectors_add(struct collectors *set, const struct ef_collector *c,
                   const struct agent_conf *conf) {
  void *state = NULL;
  int rc = c->init(&state, conf);
  if (rc != 0) {
    ef_log(EF_LOG_WARN, "collector %s: cannot start (%s), skipped", c->name, ef_strerror(rc));
    return rc;
  }
  set->run = ef_realloc(set->run, (set->n + 1) * sizeof *set->run);
  set->run[set->n++] = (struct running){c, state, true};
  ef_log(EF_LOG_INFO, "collector %s: enabled", c->name);
  return 0;
}

int collectors_new(const struct agent_conf *conf, struct collectors **out, char *err,
                   size_t errlen) {
  struct collectors *set = ef_calloc(1, sizeof *set);
  const char *s = conf->collectors ? conf->collectors : "";
  while (*s) {
    size_t len = strcspn(s, ", \t");
    if (len == 0) {
      s++;
      continue;
    }
    const struct ef_collector *c = find(s, len);
    if (!c) {
      snprintf(err, errlen, "collectors: unknown collector '%.*s' (known: system, gpu)", (int)len, s);
      collectors_free(&set);
      return EF_ECONFIG;
    }
    bool dup = false;
    for (size_t i = 0; i < set->n; i++) dup = dup || set->run[i].c == c;
    s += len;
    if (dup) continue;
    collectors_add(set, c, conf);
  }
  *out = set;
  return 0;
}

json_t *collectors_collect(struct collectors *set, int64_t now_ms) {
  json_t *out = json_object();
  for (size_t i = 0; set && i < set->n; i++) {
    struct running *r = &set->run[i];
    if (!r->enabled) continue;
    int rc = r->c->collect(r->state, now_ms, out);
    if (rc != 0) {
      ef_log(EF_LOG_ERROR, "collector %s: disabled after error %d (%s)", r->c->name, rc,
             ef_strerror(rc));
      r->enabled = false;
    }
  }
  return out;
}

char *collectors_status_cb(void *ud) {
  return jdump_decref(collectors_collect(ud, ef_mono_ms()));
}

int collectors_enabled(const struct collectors *set) {
  int n = 0;
  for (size_t i = 0; set && i < set->n; i++) n += set->run[i].enabled;
  return n;
}

void collectors_free(struct collectors **set) {
  if (!set || !*set) return;
  for (size_t i = 0; i < (*set)->n; i++) (*set)->run[i].c->cleanup((*set)->run[i].state);
  ef_free((*set)->run);
  ef_free(*set);
  *set = NULL;
}
