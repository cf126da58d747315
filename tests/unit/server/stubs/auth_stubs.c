/* SPDX-License-Identifier: MIT */
/* auth_stubs.c -- auth_check / auth_identify against two fixed bearer tokens, and auth_rate as
 * a request budget per token set by the test (stubs.h); calls counted. */
#include <string.h>

#include "server.h"
#include "stubs.h"

static size_t calls;
static struct stub_auth_rate rates[2];
static long budget[2] = {-1, -1};

enum auth_kind auth_identify(const struct auth *a, const char *authorization, size_t *slot) {
  (void)a;
  calls++;
  if (!authorization) return AUTH_NONE;
  if (strcmp(authorization, "Bearer " STUB_ADMIN_TOKEN) == 0) {
    if (slot) *slot = STUB_ADMIN_SLOT;
    return AUTH_ADMIN;
  }
  if (strcmp(authorization, "Bearer " STUB_READ_TOKEN) == 0) {
    if (slot) *slot = STUB_READ_SLOT;
    return AUTH_READ;
  }
  return AUTH_NONE;
}

bool auth_token_who(const struct auth *a, size_t slot, uint64_t *id, const char **name) {
  (void)a;
  if (slot > 1) return false;
  if (id) *id = slot == STUB_ADMIN_SLOT ? STUB_ADMIN_ID : STUB_READ_ID;
  if (name) *name = slot == STUB_ADMIN_SLOT ? "admin" : "reader";
  return true;
}

enum auth_kind auth_check(const struct auth *a, const char *authorization) {
  return auth_identify(a, authorization, NULL);
}

int64_t auth_rate(struct auth *a, size_t slot, int64_t rate, int64_t burst, uint64_t now_ns,
                  bool peek) {
  (void)a;
  (void)now_ns;
  if (slot > 1) return 0;
  struct stub_auth_rate *r = &rates[slot];
  r->rate = rate;
  r->burst = burst;
  if (peek) r->peeks++;
  if (budget[slot] == 0) {
    r->refused++;
    return STUB_RATE_WAIT_MS;
  }
  if (!peek) {
    r->takes++;
    if (budget[slot] > 0) budget[slot]--;
  }
  return 0;
}

void stub_auth_reset(void) {
  calls = 0;
  memset(rates, 0, sizeof rates);
  budget[0] = budget[1] = -1;
}

size_t stub_auth_calls(void) { return calls; }
void stub_auth_set_budget(size_t slot, long n) { budget[slot] = n; }
const struct stub_auth_rate *stub_auth_rate_of(size_t slot) { return &rates[slot]; }
