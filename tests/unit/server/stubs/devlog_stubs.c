/* SPDX-License-Identifier: MIT */
/* devlog_stubs.c -- devlog_add without a database: rows are kept for the test to read.
 * devlog_sync answers at once (rc 0), or, after stub_devlog_hold(true), when the test says
 * stub_devlog_commit(rc). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "server.h"
#include "stubs.h"

static struct stub_devlog_row *rows;
static size_t nrows, cap;

struct held {
  devlog_sync_cb cb;
  void *ud;
};
static struct held held[16];
static size_t nheld;
static bool holding;

uint64_t devlog_add(struct devlog *dl, uint64_t device_id, const char *event, const char *detail,
                    const char *result) {
  (void)dl;
  if (nrows == cap) {
    cap = cap ? cap * 2 : 32;
    rows = ef_realloc(rows, cap * sizeof *rows);
  }
  rows[nrows++] = (struct stub_devlog_row){.device_id = device_id, .event = ef_strdup(event),
                                           .detail = ef_strdup(detail),
                                           .result = ef_strdup(result)};
  return nrows;
}

static struct store_audit *audits;
static size_t naudits;

uint64_t devlog_audit(struct devlog *dl, struct store_audit *row) {
  (void)dl;
  audits = ef_realloc(audits, (naudits + 1) * sizeof *audits);
  audits[naudits++] = *row;
  *row = (struct store_audit){0};
  return nrows + naudits;
}

size_t stub_devlog_naudits(void) { return naudits; }
const struct store_audit *stub_devlog_audit(size_t i) { return i < naudits ? &audits[i] : NULL; }

void devlog_sync(struct devlog *dl, uint64_t since, devlog_sync_cb cb, void *ud) {
  (void)dl;
  (void)since;
  if (!holding) {
    cb(ud, 0);
    return;
  }
  if (nheld == sizeof held / sizeof held[0]) abort();
  held[nheld++] = (struct held){cb, ud};
}

void stub_devlog_hold(bool hold) { holding = hold; }

size_t stub_devlog_commit(int rc) {
  size_t n = nheld;
  nheld = 0;
  for (size_t i = 0; i < n; i++) held[i].cb(held[i].ud, rc);
  return n;
}

void stub_devlog_reset(void) {
  for (size_t i = 0; i < nrows; i++) {
    ef_free(rows[i].event);
    ef_free(rows[i].detail);
    ef_free(rows[i].result);
  }
  ef_free(rows);
  rows = NULL;
  nrows = cap = 0;
  store_audits_free(audits, naudits);
  audits = NULL;
  naudits = 0;
  nheld = 0;
  holding = false;
}

size_t stub_devlog_count(void) { return nrows; }

const struct stub_devlog_row *stub_devlog_row(size_t i) { return i < nrows ? &rows[i] : NULL; }

size_t stub_devlog_count_event(uint64_t device_id, const char *event) {
  size_t n = 0;
  for (size_t i = 0; i < nrows; i++)
    if (strcmp(rows[i].event, event) == 0 && (!device_id || rows[i].device_id == device_id)) n++;
  return n;
}

const struct stub_devlog_row *stub_devlog_last(const char *event) {
  for (size_t i = nrows; i-- > 0;)
    if (strcmp(rows[i].event, event) == 0) return &rows[i];
  return NULL;
}
