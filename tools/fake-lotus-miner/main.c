/* SPDX-License-Identifier: MIT */
/* main.c -- fake-lotus-miner: a stand-in for `lotus-miner` in tests and demos. It answers `info`,
 * `sealing workers`, `sealing jobs`, `sectors list`, `proving deadlines|faults|check`, `actor
 * control list`, `net id`, `mpool pending --local` (what `lotus` prints) and `--version` like
 * miner/v1.36.1 does on a pipe, from a simulated miner whose state file advances with the wall
 * clock (see sim.h); with --rpc it serves the same state as lotus' JSON-RPC API (rpc.c). It can
 * misbehave on purpose (FAKE_LOTUS_MODE=hang|garbage|slow|fail). docs/fake-lotus-miner.md is
 * the manual.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "clock.h"
#include "edgefleet/error.h"
#include "mem.h"
#include "print.h"
#include "rpc.h"
#include "sim.h"

#define VERSION_LINE "lotus-miner version 1.36.1+mainnet+git.d7491c12d"

static const char usage[] =
  "usage: fake-lotus-miner [options] COMMAND\n"
  "commands (lotus-miner miner/v1.36.1 output):\n"
  "  info [--hide-sectors-info]   sealing workers   sealing jobs   sectors list   --version\n"
  "  proving deadlines   proving faults   proving info   proving check --only-bad DEADLINE\n"
  "  actor control list [--verbose]   net id   net listen   mpool pending --local (lotus')\n"
  "options (anywhere on the line; --opt=value works too):\n"
  "  --state FILE        state file (env FAKE_LOTUS_STATE; default $TMPDIR/fake-lotus-miner.json)\n"
  "  --speed X           simulated seconds per wall-clock second (env FAKE_LOTUS_SPEED; default 1)\n"
  "  --seed N            PRNG seed of a new state (env FAKE_LOTUS_SEED; default 1)\n"
  "  --workers N         workers of a new state, 1..64 (env FAKE_LOTUS_WORKERS; default 3)\n"
  "  --sectors N         proving sectors of a new state (default 1000)\n"
  "  --miner ID          miner id of a new state, f0.../t0... (env FAKE_LOTUS_MINER; default f01234)\n"
  "  --duration NAME=S   simulated seconds of a task (AP PC1 PC2 C1 C2 FIN GET) or a wait\n"
  "                      (PreCommitWait WaitSeed CommitWait); repeatable, kept in the state\n"
  "  --now MS            use MS (Unix ms) as the wall clock (env FAKE_LOTUS_NOW; for tests)\n"
  "  --reset             start a new state even if the file exists\n"
  "scenario changes (stored in the state; see the manual):\n"
  "  --bad-sector N      sector N becomes unreadable (proving check; Faulty at its window)\n"
  "  --fix-sector N      sector N is readable again (a Faulty one then recovers)\n"
  "  --miss-deadline N   the next window of deadline N is missed (its sectors turn Faulty)\n"
  "  --vanish-worker HOST / --return-worker HOST   a worker leaves / rejoins lotus' list\n"
  "JSON-RPC server:\n"
  "  --rpc HOST:PORT     serve lotus' JSON-RPC API on 127.0.0.1:PORT (0: any free port,\n"
  "                      printed as \"listening on 127.0.0.1:PORT\"); until killed\n"
  "  --token T           bearer token the server demands (env FAKE_LOTUS_TOKEN)\n"
  "env FAKE_LOTUS_MODE: hang (never answers), garbage (random bytes), slow (2 s delay),\n"
  "                     fail (exit 1 with lotus' API error)\n";

struct opts {
  const char *state;
  struct sim_options sim;
  bool speed_set, reset, hide_sectors, version, now_fixed, verbose;
  int64_t now;
  const char *words[4];
  int nwords;
  int64_t bad_sector, fix_sector, miss_deadline; /* -1 = not given */
  const char *vanish, *back, *rpc, *token;
};

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "Incorrect Usage: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n\n%s", usage);
  return 1;
}

static bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *out) {
  char *end;
  errno = 0;
  long long v = s ? strtoll(s, &end, 10) : 0;
  if (!s || !*s || *end || errno || v < min || v > max)
    return false;
  *out = v;
  return true;
}

static bool parse_speed(const char *s, double *out) {
  char *end;
  double v = s ? strtod(s, &end) : 0;
  if (!s || !*s || *end || !(v >= 1e-6 && v <= 1e9))
    return false;
  *out = v;
  return true;
}

static bool valid_miner(const char *m) {
  if (!m || (m[0] != 'f' && m[0] != 't') || m[1] != '0' || !m[2] || strlen(m) > 20)
    return false;
  for (const char *p = m + 2; *p; p++)
    if (*p < '0' || *p > '9')
      return false;
  return true;
}

static int set_duration(struct opts *o, const char *spec) {
  const char *eq = strchr(spec, '=');
  int64_t secs;
  if (!eq || !parse_i64(eq + 1, 1, 365LL * 86400, &secs))
    return usage_error("--duration wants NAME=SECONDS, got \"%s\"", spec);
  for (int i = 0; i < SIM_NDUR; i++)
    if (strlen(sim_dur_names[i]) == (size_t)(eq - spec) &&
        strncmp(sim_dur_names[i], spec, (size_t)(eq - spec)) == 0) {
      o->sim.dur[i] = secs;
      return 0;
    }
  return usage_error("--duration: unknown task or wait in \"%s\"", spec);
}

/* Environment defaults first, then the command line. */
static int parse(int argc, char **argv, struct opts *o) {
  static char default_state[4096];
  const char *tmp = getenv("TMPDIR");
  snprintf(default_state, sizeof default_state, "%s/fake-lotus-miner.json",
           tmp && *tmp ? tmp : "/tmp");
  o->state = getenv("FAKE_LOTUS_STATE") && *getenv("FAKE_LOTUS_STATE") ? getenv("FAKE_LOTUS_STATE")
                                                                       : default_state;
  o->sim.miner = "f01234";
  o->sim.seed = 1;
  o->sim.workers = 3;
  o->sim.sectors = 1000;
  o->sim.speed = 1;
  o->now = ef_now_ms();
  int64_t v;
  const char *e;
  if ((e = getenv("FAKE_LOTUS_SPEED")) && *e) {
    if (!parse_speed(e, &o->sim.speed))
      return usage_error("FAKE_LOTUS_SPEED must be a number in 1e-6..1e9, got \"%s\"", e);
    o->speed_set = true;
  }
  if ((e = getenv("FAKE_LOTUS_SEED")) && *e) {
    if (!parse_i64(e, 0, INT64_MAX, &v))
      return usage_error("FAKE_LOTUS_SEED must be a non-negative integer, got \"%s\"", e);
    o->sim.seed = (uint64_t)v;
  }
  if ((e = getenv("FAKE_LOTUS_WORKERS")) && *e) {
    if (!parse_i64(e, 1, 64, &v))
      return usage_error("FAKE_LOTUS_WORKERS must be 1..64, got \"%s\"", e);
    o->sim.workers = (int)v;
  }
  if ((e = getenv("FAKE_LOTUS_MINER")) && *e)
    o->sim.miner = e;
  if ((e = getenv("FAKE_LOTUS_NOW")) && *e) {
    if (!parse_i64(e, 0, INT64_MAX / 4, &o->now))
      return usage_error("FAKE_LOTUS_NOW must be Unix milliseconds, got \"%s\"", e);
    o->now_fixed = true;
  }
  o->bad_sector = o->fix_sector = o->miss_deadline = -1;
  if ((e = getenv("FAKE_LOTUS_TOKEN")) && *e)
    o->token = e;

  for (int i = 1; i < argc; i++) {
    char *arg = argv[i];
    if (arg[0] != '-' || !arg[1]) {
      if (o->nwords == 4)
        return usage_error("too many arguments at \"%s\"", arg);
      o->words[o->nwords++] = arg;
      continue;
    }
    if (strcmp(arg, "--version") == 0 || strcmp(arg, "-v") == 0) {
      o->version = true;
      continue;
    }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(usage, stdout);
      exit(0);
    }
    if (strcmp(arg, "--reset") == 0) {
      o->reset = true;
      continue;
    }
    if (strcmp(arg, "--verbose") == 0) {
      o->verbose = true;
      continue;
    }
    if (strcmp(arg, "--hide-sectors-info") == 0) {
      o->hide_sectors = true;
      continue;
    }
    /* lotus flags that change nothing here */
    if (strncmp(arg, "--color", 7) == 0 || strcmp(arg, "--show-ret-done") == 0 ||
        strcmp(arg, "--fast") == 0 || strcmp(arg, "--only-bad") == 0 ||
        strcmp(arg, "--local") == 0)
      continue;
    /* options with a value: --opt VALUE or --opt=VALUE */
    static const char *const valued[] = {"--state", "--speed", "--seed", "--workers", "--sectors",
                                         "--miner", "--duration", "--now", "--blocks",
                                         "--bad-sector", "--fix-sector", "--miss-deadline",
                                         "--vanish-worker", "--return-worker", "--rpc", "--token"};
    const char *name = NULL, *val = NULL;
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
      size_t len = strlen(valued[k]);
      if (strncmp(arg, valued[k], len) == 0 && (arg[len] == '\0' || arg[len] == '=')) {
        name = valued[k];
        val = arg[len] == '=' ? arg + len + 1 : (i + 1 < argc ? argv[++i] : NULL);
      }
    }
    if (!name)
      return usage_error("flag provided but not defined: %s", arg);
    if (!val)
      return usage_error("flag needs an argument: %s", name);
    if (strcmp(name, "--state") == 0) {
      if (!*val)
        return usage_error("%s", "--state wants a file name");
      o->state = val;
    } else if (strcmp(name, "--speed") == 0) {
      if (!parse_speed(val, &o->sim.speed))
        return usage_error("--speed must be a number in 1e-6..1e9, got \"%s\"", val);
      o->speed_set = true;
    } else if (strcmp(name, "--seed") == 0) {
      if (!parse_i64(val, 0, INT64_MAX, &v))
        return usage_error("--seed must be a non-negative integer, got \"%s\"", val);
      o->sim.seed = (uint64_t)v;
    } else if (strcmp(name, "--workers") == 0) {
      if (!parse_i64(val, 1, 64, &v))
        return usage_error("--workers must be 1..64, got \"%s\"", val);
      o->sim.workers = (int)v;
    } else if (strcmp(name, "--sectors") == 0) {
      if (!parse_i64(val, 0, 1000000, &v))
        return usage_error("--sectors must be 0..1000000, got \"%s\"", val);
      o->sim.sectors = (int)v;
    } else if (strcmp(name, "--miner") == 0) {
      o->sim.miner = val;
    } else if (strcmp(name, "--duration") == 0) {
      if (set_duration(o, val) != 0)
        return 1;
    } else if (strcmp(name, "--now") == 0) {
      if (!parse_i64(val, 0, INT64_MAX / 4, &o->now))
        return usage_error("--now must be Unix milliseconds, got \"%s\"", val);
      o->now_fixed = true;
    } else if (strcmp(name, "--bad-sector") == 0 || strcmp(name, "--fix-sector") == 0) {
      if (!parse_i64(val, 0, INT64_MAX / 4, &v))
        return usage_error("sector numbers are non-negative integers, got \"%s\"", val);
      *(name[2] == 'b' ? &o->bad_sector : &o->fix_sector) = v;
    } else if (strcmp(name, "--miss-deadline") == 0) {
      if (!parse_i64(val, 0, SIM_DEADLINES - 1, &v))
        return usage_error("--miss-deadline wants a deadline 0..47, got \"%s\"", val);
      o->miss_deadline = v;
    } else if (strcmp(name, "--vanish-worker") == 0) {
      o->vanish = val;
    } else if (strcmp(name, "--return-worker") == 0) {
      o->back = val;
    } else if (strcmp(name, "--rpc") == 0) {
      o->rpc = val;
    } else if (strcmp(name, "--token") == 0) {
      if (!*val)
        return usage_error("%s", "--token wants a value");
      o->token = val;
    } /* --blocks N: accepted, no blocks table */
  }
  if (!valid_miner(o->sim.miner))
    return usage_error("the miner id must look like f01234 or t01000, got \"%s\"", o->sim.miner);
  return 0;
}

/* FAKE_LOTUS_MODE. Returns -1 to carry on, else the exit code. */
static int misbehave(void) {
  const char *mode = getenv("FAKE_LOTUS_MODE");
  if (!mode || !*mode || strcmp(mode, "normal") == 0)
    return -1;
  if (strcmp(mode, "hang") == 0) {
    for (;;)
      pause();
  }
  if (strcmp(mode, "slow") == 0) {
    sleep(2);
    return -1;
  }
  if (strcmp(mode, "fail") == 0) {
    fprintf(stderr, "ERROR: could not get API info for StorageMiner: could not get api endpoint: "
                    "API not running (no endpoint)\n");
    return 1;
  }
  if (strcmp(mode, "garbage") == 0) {
    unsigned char buf[2048];
    uint64_t x = (uint64_t)ef_now_ms() ^ ((uint64_t)getpid() << 32);
    for (size_t i = 0; i < sizeof buf; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      buf[i] = (unsigned char)(x >> 24);
    }
    fwrite(buf, 1, sizeof buf, stdout);
    return 0;
  }
  fprintf(stderr, "fake-lotus-miner: unknown FAKE_LOTUS_MODE \"%s\" (want hang, garbage, slow, "
                  "fail or normal)\n", mode);
  return 2;
}

enum cmd { CMD_INFO, CMD_WORKERS, CMD_JOBS, CMD_SECTORS, CMD_DEADLINES, CMD_FAULTS, CMD_CHECK,
           CMD_CONTROL, CMD_NETID, CMD_LISTEN, CMD_MPOOL, CMD_PINFO, CMD_NONE };

static int command(const struct opts *o, enum cmd *out) {
  const char *w0 = o->nwords > 0 ? o->words[0] : "", *w1 = o->nwords > 1 ? o->words[1] : "";
  if (strcmp(w0, "info") == 0 && o->nwords == 1)
    *out = CMD_INFO;
  else if (strcmp(w0, "sealing") == 0 && strcmp(w1, "workers") == 0 && o->nwords == 2)
    *out = CMD_WORKERS;
  else if (strcmp(w0, "sealing") == 0 && strcmp(w1, "jobs") == 0 && o->nwords == 2)
    *out = CMD_JOBS;
  else if (strcmp(w0, "sectors") == 0 && strcmp(w1, "list") == 0 && o->nwords == 2)
    *out = CMD_SECTORS;
  else if (strcmp(w0, "proving") == 0 && strcmp(w1, "deadlines") == 0 && o->nwords == 2)
    *out = CMD_DEADLINES;
  else if (strcmp(w0, "proving") == 0 && strcmp(w1, "faults") == 0 && o->nwords == 2)
    *out = CMD_FAULTS;
  else if (strcmp(w0, "proving") == 0 && strcmp(w1, "info") == 0 && o->nwords == 2)
    *out = CMD_PINFO;
  else if (strcmp(w0, "proving") == 0 && strcmp(w1, "check") == 0 && o->nwords == 3)
    *out = CMD_CHECK;
  else if (strcmp(w0, "actor") == 0 && strcmp(w1, "control") == 0 && o->nwords == 3 &&
           strcmp(o->words[2], "list") == 0)
    *out = CMD_CONTROL;
  else if (strcmp(w0, "net") == 0 && strcmp(w1, "id") == 0 && o->nwords == 2)
    *out = CMD_NETID;
  else if (strcmp(w0, "net") == 0 && strcmp(w1, "listen") == 0 && o->nwords == 2)
    *out = CMD_LISTEN;
  else if (strcmp(w0, "mpool") == 0 && strcmp(w1, "pending") == 0 && o->nwords == 2)
    *out = CMD_MPOOL;
  else
    return -1;
  return 0;
}

/* Load (or create) the state under its lock, advance it to now, save it. */
/* The scenario options, applied at the current simulated time. */
static int apply_scenario(const struct opts *o, struct sim *s) {
  char err[128];
  if ((o->bad_sector >= 0 && !sim_set_bad(s, o->bad_sector, true, err, sizeof err)) ||
      (o->fix_sector >= 0 && !sim_set_bad(s, o->fix_sector, false, err, sizeof err)) ||
      (o->vanish && !sim_set_gone(s, o->vanish, true, err, sizeof err)) ||
      (o->back && !sim_set_gone(s, o->back, false, err, sizeof err))) {
    fprintf(stderr, "fake-lotus-miner: %s\n", err);
    return 1;
  }
  if (o->miss_deadline >= 0)
    s->miss_deadline = (int)o->miss_deadline;
  return 0;
}

static int load_advance_save(const struct opts *o, int64_t now, struct sim **out) {
  char err[512] = "";
  int rc = 1;
  char *lock_path = ef_asprintf("%s.lock", o->state);
  int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0) {
    fprintf(stderr, "fake-lotus-miner: cannot open lock %s: %s\n", lock_path, strerror(errno));
    goto fail_lock;
  }
  if (flock(lock, LOCK_EX) != 0) {
    fprintf(stderr, "fake-lotus-miner: cannot lock %s: %s\n", lock_path, strerror(errno));
    goto fail_flock;
  }
  struct sim *s = NULL;
  int lr = o->reset ? EF_ENOENT : sim_load(o->state, &s, err, sizeof err);
  if (lr == EF_ENOENT) {
    s = sim_create(&o->sim, o->now);
  } else if (lr != 0) {
    fprintf(stderr, "fake-lotus-miner: bad state file %s: %s (delete it or use --reset)\n",
            o->state, err);
    goto fail_flock;
  } else {
    if (o->speed_set)
      s->speed = o->sim.speed;
    for (int i = 0; i < SIM_NDUR; i++)
      if (o->sim.dur[i] > 0)
        s->dur[i] = o->sim.dur[i];
  }
  sim_advance(s, now);
  if (apply_scenario(o, s) != 0) {
    sim_free(&s);
    goto fail_flock;
  }
  if (sim_save(s, o->state, err, sizeof err) != 0) {
    fprintf(stderr, "fake-lotus-miner: %s\n", err);
    sim_free(&s);
    goto fail_flock;
  }
  *out = s;
  rc = 0;
fail_flock:
  close(lock);
fail_lock:
  ef_free(lock_path);
  return rc;
}

/* The RPC server's view of the state: loaded, advanced to now (the fixed --now, or the real
 * clock at each request), saved -- exactly what a CLI run at that moment would see. */
static struct sim *state_for_rpc(void *ud) {
  const struct opts *o = ud;
  struct sim *s;
  return load_advance_save(o, o->now_fixed ? o->now : ef_now_ms(), &s) == 0 ? s : NULL;
}

int main(int argc, char **argv) {
  int bad = misbehave();
  if (bad >= 0)
    return bad;
  struct opts o = {0};
  if (parse(argc, argv, &o) != 0)
    return 1;
  if (o.version) {
    printf("%s\n", VERSION_LINE);
    return 0;
  }
  enum cmd cmd = CMD_NONE;
  bool scenario = o.bad_sector >= 0 || o.fix_sector >= 0 || o.miss_deadline >= 0 || o.vanish ||
                  o.back;
  if (o.rpc && (scenario || o.nwords))
    return usage_error("%s", "--rpc serves until killed: give scenario changes and commands in "
                             "separate runs on the same --state");
  if (o.rpc)
    return rpc_serve(o.rpc, o.token, state_for_rpc, &o);
  if (o.nwords == 0 && scenario) {
    struct sim *s;
    if (load_advance_save(&o, o.now, &s) != 0)
      return 1;
    sim_free(&s);
    return 0;
  }
  if (o.nwords == 0) {
    fputs(usage, stdout);
    return 0;
  }
  if (command(&o, &cmd) != 0) {
    fprintf(stderr, "ERROR: unknown command \"%s%s%s\"\n\n%s", o.words[0], o.nwords > 1 ? " " : "",
            o.nwords > 1 ? o.words[1] : "", usage);
    return 1;
  }
  struct sim *s;
  int64_t dl = 0;
  if (cmd == CMD_CHECK && !parse_i64(o.words[2], 0, SIM_DEADLINES - 1, &dl)) {
    fprintf(stderr, "ERROR: deadline index must be 0..47, got \"%s\"\n", o.words[2]);
    return 1;
  }
  if (load_advance_save(&o, o.now, &s) != 0)
    return 1;
  switch (cmd) {
  case CMD_DEADLINES: print_deadlines(s, stdout); break;
  case CMD_FAULTS: print_faults(s, stdout); break;
  case CMD_PINFO: print_proving_info(s, stdout); break;
  case CMD_CHECK: print_check_bad(s, (int)dl, stdout); break;
  case CMD_CONTROL: print_control(s, o.verbose, stdout); break;
  case CMD_NETID: print_net_id(s, stdout); break;
  case CMD_LISTEN: print_net_listen(s, stdout); break;
  case CMD_MPOOL: print_mpool(s, stdout); break;
  case CMD_NONE: break;
  case CMD_INFO: print_info(s, stdout, o.hide_sectors); break;
  case CMD_WORKERS: print_workers(s, stdout); break;
  case CMD_JOBS: print_jobs(s, stdout); break;
  case CMD_SECTORS: print_sectors(s, stdout); break;
  }
  sim_free(&s);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "fake-lotus-miner: cannot write the output: %s\n", strerror(errno));
    return 1;
  }
  return 0;
}
