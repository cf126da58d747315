/* SPDX-License-Identifier: MIT */
/* auth_stubs.c -- auth_check / auth_identify against fixed bearer tokens (admin, read, operator,
 * a group-limited operator, an expired one), auth_rate as a request budget per token set by the
 * test (stubs.h); calls counted; revocation listeners kept for the test to call. */
#include <string.h>

#include "server.h"
#include "stubs.h"

static size_t calls;
static struct stub_auth_rate rates[STUB_SLOTS];
static long budget[STUB_SLOTS] = {-1, -1, -1, -1};
static bool revoked[STUB_SLOTS];
static struct auth_view limited_view; /* group 1, device 11 */
static uint64_t limited_groups[] = {STUB_LIMITED_GROUP};
static struct auth_token tokens[STUB_SLOTS] = {
  {.token_id = 100, .name = "admin", .scope = AUTH_ADMIN},
  {.token_id = 101, .name = "read", .scope = AUTH_READ},
  {.token_id = 102, .name = "operator", .scope = AUTH_OPERATOR},
  {.token_id = 103, .name = "limited", .scope = AUTH_OPERATOR, .view = &limited_view},
};
static auth_revoke_cb revoke_cb;
static void *revoke_ud;

static const char *const secrets[STUB_SLOTS] = {
  "Bearer " STUB_ADMIN_TOKEN, "Bearer " STUB_READ_TOKEN, "Bearer " STUB_OPERATOR_TOKEN,
  "Bearer " STUB_LIMITED_TOKEN,
};

enum auth_kind auth_identify(struct auth *a, const char *authorization, size_t *slot) {
  (void)a;
  calls++;
  if (!authorization) return AUTH_NONE;
  if (strcmp(authorization, "Bearer " STUB_EXPIRED_TOKEN) == 0) return AUTH_EXPIRED;
  for (size_t i = 0; i < STUB_SLOTS; i++)
    if (!revoked[i] && strcmp(authorization, secrets[i]) == 0) {
      if (slot) *slot = i;
      if (!limited_view.groups) {
        limited_view.refs = 1;
        limited_view.groups = limited_groups;
        limited_view.ngroups = 1;
        u64map_init(&limited_view.devices);
        u64map_put(&limited_view.devices, STUB_LIMITED_DEVICE, (void *)1);
      }
      return tokens[i].scope;
    }
  return AUTH_NONE;
}

enum auth_kind auth_check(struct auth *a, const char *authorization) {
  return auth_identify(a, authorization, NULL);
}

const struct auth_token *auth_slot(const struct auth *a, size_t slot) {
  (void)a;
  return slot < STUB_SLOTS ? &tokens[slot] : NULL;
}

bool auth_slot_valid(const struct auth *a, size_t slot, int64_t now_ms) {
  (void)a;
  (void)now_ms;
  return slot < STUB_SLOTS && !revoked[slot];
}

const char *auth_scope_name(enum auth_kind k) {
  return k == AUTH_ADMIN ? "admin" : k == AUTH_OPERATOR ? "operator" : k == AUTH_READ ? "read"
                                                                                      : "none";
}

void auth_view_hold(struct auth_view *v) {
  if (v) v->refs++;
}

void auth_view_drop(struct auth_view *v) {
  if (v) v->refs--; /* the stub's one view is static */
}

bool auth_views_refresh(struct auth *a, void (*cb)(void *ud), void *ud) {
  (void)a;
  (void)cb;
  (void)ud;
  return false;
}

void auth_listen(struct auth *a, auth_revoke_cb cb, void *ud) {
  (void)a;
  revoke_cb = cb;
  revoke_ud = ud;
}

void stub_auth_revoke(size_t slot) {
  revoked[slot] = true;
  if (revoke_cb) revoke_cb(revoke_ud, slot);
}

unsigned stub_auth_view_refs(void) { return limited_view.refs; }

int64_t auth_rate(struct auth *a, size_t slot, int64_t rate, int64_t burst, uint64_t now_ns,
                  bool peek) {
  (void)a;
  (void)now_ns;
  if (slot >= STUB_SLOTS) return 0;
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
  memset(revoked, 0, sizeof revoked);
  for (size_t i = 0; i < STUB_SLOTS; i++) budget[i] = -1;
}

size_t stub_auth_calls(void) { return calls; }
void stub_auth_set_budget(size_t slot, long n) { budget[slot] = n; }
const struct stub_auth_rate *stub_auth_rate_of(size_t slot) { return &rates[slot]; }
