/* SPDX-License-Identifier: MIT */
/* store_stubs.c -- a fake store for the modules that write miner records: miner_write keeps a
 * copy of the rows it was given, miner_list hands back rows the test set. Every other operation
 * is NULL, so a module that reaches for one crashes the test instead of passing by accident. */
#include <string.h>

#include "mem.h"
#include "stubs.h"

static struct store_miner *written, *listed;
static size_t nwritten, nlisted, nwrites;
static int fail_next;

static void copy_rows(const struct store_miner *in, size_t n, struct store_miner **out) {
  *out = n ? ef_calloc(n, sizeof **out) : NULL;
  for (size_t i = 0; i < n; i++)
    (*out)[i] = (struct store_miner){.miner_id = ef_strdup(in[i].miner_id),
                                     .host_name = ef_strdup(in[i].host_name),
                                     .record = ef_strdup(in[i].record),
                                     .device_id = in[i].device_id,
                                     .updated_time = in[i].updated_time};
}

static int fake_miner_write(struct store *st, const struct store_miner *rows, size_t n) {
  (void)st;
  nwrites++;
  store_miners_free(written, nwritten);
  copy_rows(rows, n, &written);
  nwritten = n;
  int rc = fail_next;
  fail_next = 0;
  return rc;
}

static int fake_miner_list(struct store *st, struct store_miner **out, size_t *n) {
  (void)st;
  copy_rows(listed, nlisted, out);
  *n = nlisted;
  return 0;
}

static const char *fake_errmsg(struct store *st) {
  (void)st;
  return "fake store error";
}

static const struct store_ops fake_ops = {
  .scheme = "fake:",
  .errmsg = fake_errmsg,
  .miner_write = fake_miner_write,
  .miner_list = fake_miner_list,
};

static struct store fake = {.ops = &fake_ops};

struct store *stub_store(void) { return &fake; }

void stub_store_reset(void) {
  store_miners_free(written, nwritten);
  store_miners_free(listed, nlisted);
  written = listed = NULL;
  nwritten = nlisted = nwrites = 0;
  fail_next = 0;
}

void stub_store_fail_next(int rc) { fail_next = rc; }

void stub_store_set_list(const struct store_miner *rows, size_t n) {
  store_miners_free(listed, nlisted);
  copy_rows(rows, n, &listed);
  nlisted = n;
}

size_t stub_store_nwrites(void) { return nwrites; }
size_t stub_store_nrows(void) { return nwritten; }
const struct store_miner *stub_store_row(size_t i) { return i < nwritten ? &written[i] : NULL; }

const struct store_miner *stub_store_find(const char *miner_id, const char *host) {
  for (size_t i = 0; i < nwritten; i++) {
    const struct store_miner *r = &written[i];
    if (strcmp(r->miner_id, miner_id) != 0) continue;
    if (host ? r->host_name && strcmp(r->host_name, host) == 0 : !r->host_name) return r;
  }
  return NULL;
}
