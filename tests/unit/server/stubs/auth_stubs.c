/* auth_stubs.c -- auth_check against two fixed bearer tokens (stubs.h), calls counted. */
#include <string.h>

#include "server.h"
#include "stubs.h"

static size_t calls;

enum auth_kind auth_check(const struct auth *a, const char *authorization) {
  (void)a;
  calls++;
  if (!authorization) return AUTH_NONE;
  if (strcmp(authorization, "Bearer " STUB_ADMIN_TOKEN) == 0) return AUTH_ADMIN;
  if (strcmp(authorization, "Bearer " STUB_READ_TOKEN) == 0) return AUTH_READ;
  return AUTH_NONE;
}

void stub_auth_reset(void) { calls = 0; }
size_t stub_auth_calls(void) { return calls; }
