/* SPDX-License-Identifier: MIT */
/* login_stubs.c -- login.h without the pipeline, for fuzz targets that start after the login:
 * login_start takes any first message and keeps the request until the target answers it with
 * fuzz_login_finish() (a login is never answered from inside login_start, as login.c's is not).
 * login.c itself is fuzzed by fuzz_login.c. */
#include <stdlib.h>

#include "fuzz_stubs.h"
#include "login.h"
#include "mem.h"

struct login_req {
  login_done_fn done;
  void *ud;
};

static struct login_req *pending;

struct login_req *login_start(struct logins *q, uint32_t ip, const char *msg, size_t len,
                              login_done_fn done, void *ud, const char **error) {
  (void)q;
  (void)ip;
  (void)msg;
  if (len == 0) { /* as login.c: an empty message is not a login */
    *error = "Invalid Json";
    return NULL;
  }
  if (pending) abort(); /* one login at a time in these targets */
  struct login_req *r = ef_calloc(1, sizeof *r);
  r->done = done;
  r->ud = ud;
  pending = r;
  return r;
}

void login_cancel(struct login_req *r) {
  if (r != pending) abort();
  ef_free(r);
  pending = NULL;
}

bool fuzz_login_finish(const struct login_result *res) {
  struct login_req *r = pending;
  if (!r) return false;
  pending = NULL;
  login_done_fn done = r->done;
  void *ud = r->ud;
  ef_free(r);
  done(ud, res);
  return true;
}

int64_t logins_waiting(const struct logins *q) {
  (void)q;
  return pending ? 1 : 0;
}
