/* SPDX-License-Identifier: MIT */
/* fuzz_login.c -- a device's first message on /ws (src/server/login.c: login_start parses it,
 * then the lookup, the token check and the bcrypt queue run): each line of the input is the
 * first message of one connection (up to 8), "!cancel" cancels the previous one (its connection
 * closed). The database thread is the unit tests' worker stub (jobs on this thread) over a real
 * in-memory SQLite store with two devices: 1001 (SN1/M1, password "pw", session token "tok")
 * and 1002 (SN2/M2, password "pw2", no token); bcrypt checks run on the uv thread pool at cost 4,
 * at most 2 waiting (so the "server busy" refusal is reachable).
 * Properties: a refused first message (NULL) comes with an error and no callback; every login
 * started gets exactly one answer unless cancelled (then none); a success names the device and
 * a token, when issued, is a full token; nothing is left waiting. */
#include <uv.h>

#include "clock.h"
#include "crypto.h"
#include "fuzz.h"
#include "log.h"
#include "login.h"
#include "peers.h"
#include "server.h"
#include "stubs.h"
#include "wire.h"

#define MAX_LOGINS 8

static struct server srv;
static uv_loop_t loop;
static struct store *st;
static char tok_hash[EF_SHA256_HEXLEN];

struct result {
  int calls;
  bool ok;
  uint64_t device_id;
};

static void on_done(void *ud, const struct login_result *r) {
  struct result *o = ud;
  o->calls++;
  o->ok = r->error == NULL;
  o->device_id = r->device_id;
  if (!r->error) FUZZ_CHECK(r->device_id == 1001 || r->device_id == 1002);
  else FUZZ_CHECK(r->error[0] != '\0');
  if (r->token) FUZZ_CHECK(strlen(r->token) == EF_TOKEN_STRLEN - 1 && r->token_expires > 0);
}

static void add_device(uint64_t id, const char *sn, const char *model, const char *pw) {
  char hash[EF_BCRYPT_MAXLEN];
  FUZZ_CHECK(crypto_bcrypt_hash(pw, 4, hash) == 0);
  struct store_device d = {.device_id = id, .device_name = (char *)sn, .hardware_sn = (char *)sn,
                           .hardware_model = (char *)model, .password = hash};
  FUZZ_CHECK(st->ops->device_add(st, &d) == 0);
}

static void init(void) {
  char err[256];
  FUZZ_CHECK(store_open("sqlite::memory:", &st, err, sizeof err) == 0);
  add_device(1001, "SN1", "M1", "pw");
  add_device(1002, "SN2", "M2", "pw2");
  crypto_sha256_hex("tok", 3, tok_hash);
  FUZZ_CHECK(uv_loop_init(&loop) == 0);
  srv.loop = &loop;
  srv.cfg.token_ttl = 3600 * 1000;
  srv.cfg.bcrypt_jobs = 1;
  srv.cfg.bcrypt_queue_max = 2;
  srv.cfg.login_failures_max = 3; /* the back-off path is reached by a few wrong passwords */
  srv.cfg.login_backoff = 60000;
  srv.peers = peers_new(&(struct peer_limits){.max_connections = 100, .connection_rate = 100,
                                              .max_handshakes = 100, .failures_max = 3,
                                              .failure_window = 60000, .backoff = 60000});
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool quiet;
  if (!quiet) { /* every log line is formatted (its arguments checked), and dropped */
    quiet = log_set_file("/dev/null") == 0;
    ef_log_threshold = EF_LOG_DEBUG;
  }
  static bool ready;
  if (!ready) init(), ready = true;
  /* The stored token as the fixture has it (a password login saves a new one). A token far in
   * the future: "tok" is valid and past half its life is not reached. */
  FUZZ_CHECK(st->ops->device_set_token(st, 1001, tok_hash, ef_now_ms() + 365LL * 86400000) == 0);
  stub_worker_reset(st);
  static const unsigned char key[EF_SECRET_LEN] = "fuzz-verifier-key-0123456789abcd";
  struct logins *q = logins_new(&srv, key);
  struct result res[MAX_LOGINS];
  struct login_req *reqs[MAX_LOGINS];
  bool cancelled[MAX_LOGINS];
  int n = 0;
  memset(res, 0, sizeof res);
  memset(cancelled, 0, sizeof cancelled);

  struct fuzz_split sp = fuzz_split(data, size);
  const char *rec;
  size_t len;
  while (n < MAX_LOGINS && fuzz_next(&sp, '\n', &rec, &len)) {
    if (len == 7 && memcmp(rec, "!cancel", 7) == 0) {
      if (n > 0 && reqs[n - 1] && !cancelled[n - 1] && res[n - 1].calls == 0) {
        login_cancel(reqs[n - 1]);
        cancelled[n - 1] = true;
      }
      continue;
    }
    const char *error = NULL;
    /* Two addresses, so one's back-off leaves the other's logins going. */
    reqs[n] = login_start(q, 0x7f000001u + (uint32_t)(n & 1), rec, len, on_done, &res[n], &error);
    if (!reqs[n]) FUZZ_CHECK(error && error[0]);
    else FUZZ_CHECK(error == NULL);
    FUZZ_CHECK(res[n].calls == 0); /* never answered from inside login_start */
    n++;
  }
  /* The database thread and the thread pool until nothing is left. */
  for (int i = 0; i < 10000; i++) {
    stub_worker_run();
    if (!uv_loop_alive(&loop)) break;
    uv_run(&loop, UV_RUN_ONCE);
  }
  FUZZ_CHECK(stub_worker_pending() == 0 && !uv_loop_alive(&loop));
  for (int i = 0; i < n; i++) {
    if (!reqs[i] || cancelled[i]) FUZZ_CHECK(res[i].calls == 0);
    else FUZZ_CHECK(res[i].calls == 1);
  }
  FUZZ_CHECK(logins_waiting(q) == 0);
  logins_stop(q);
  logins_free(&q);
  return 0;
}
