/* SPDX-License-Identifier: MIT */
/* loadgen.h -- edgefleet-loadgen's shared types: the run's configuration, per-worker statistics
 * (what a worker process reports to the parent over its pipe), and the parts' entry points.
 *
 * Process model: the parent parses options, optionally provisions the devices over REST, then
 * forks `procs` workers. Worker w simulates the devices [first, first + count) on one epoll loop
 * and writes a `struct lg_report` to its pipe every 5 s and once at the end. The parent merges
 * the reports (histograms merge exactly) and prints progress and the summary.
 */
#ifndef LG_LOADGEN_H
#define LG_LOADGEN_H

#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "hist.h"

#define LG_PROGRESS_US 5000000 /* workers report, and the parent prints, every 5 s */

struct lg_config {
  /* table fields (config.c): char *, int64_t or bool */
  char *server;             /* ws://HOST:PORT/PATH, or mqtt://HOST:PORT with protocol mqtt */
  char *protocol;           /* ws (edgefleetd) | mqtt (a broker, for comparison) */
  int64_t devices;
  char *duration;           /* seconds (or 500ms, 2m, ...) */
  char *schedule;           /* real | fast */
  char *rate_multiplier;    /* overrides schedule: intervals are divided by this */
  char *provision;          /* API token file: register the devices first */
  char *password;
  char *sn_prefix;
  char *model;
  int64_t first_index;      /* device numbers start here (several loadgens side by side) */
  int64_t procs;            /* 0: ceil(devices / per_proc) */
  int64_t per_proc;
  char *ramp;               /* seconds; default devices / 2000 */
  int64_t status_bytes;
  char *ping_interval, *status_interval, *miss_timeout, *reconnect_delay, *login_timeout;
  bool reconnect_storm;
  bool password_only;       /* never present a session token (clients of the original protocol) */
  char *storm_at;           /* seconds after the start; default duration / 2 */
  char *warmup;             /* requests sent before this (seconds after the start) are not
                               measured: no latency, no miss */
  bool json;
  bool report_json;         /* each progress report also as a JSON line on stdout */
  int64_t log_level;        /* enum ef_log_level (log.h) */

  /* derived by config_load() */
  char host[256];           /* as given in the URL, for the Host header */
  char path[256];
  int port;
  struct sockaddr_storage addr; /* the resolved server address (loopback only) */
  socklen_t addrlen;
  bool mqtt;                /* protocol is mqtt */
  unsigned keepalive_s;     /* MQTT CONNECT keepalive: the ping interval, rounded up */
  double multiplier;
  int64_t duration_us, ramp_us, storm_at_us, warmup_us;
  int64_t ping_us, status_us, miss_us, reconnect_us, login_timeout_us;
};

/* Counters of one worker; all cumulative, so the latest report supersedes earlier ones. */
struct lg_stats {
  uint64_t devices;         /* simulated by this worker */
  uint64_t connected;       /* logged in now (at the end: at the stop time) */
  uint64_t messages;        /* text messages sent by devices (login, ping, status, results) */
  uint64_t pings, statuses; /* of which heartbeats and status uploads */
  uint64_t replies;         /* pongs and acks received */
  uint64_t misses;          /* pong/ack later than miss_timeout, or never */
  uint64_t unmeasured;      /* replies and misses of requests sent during the warm-up */
  uint64_t disconnects;     /* closed by the server or failed after login */
  uint64_t logins, login_fails, connect_fails;
  uint64_t orders;          /* give_order answered */
  uint64_t storm_devices;   /* logged in when the storm began */
  uint64_t storm_back;      /* of those, logged in again */
  int64_t storm_start_us, storm_done_us; /* CLOCK_MONOTONIC; done 0 while incomplete */
  struct hist rtt;          /* ping -> pong, status -> ack */
  struct hist login;        /* connect -> login reply */
};

#define LG_REPORT_MAGIC 0x4c47524bu /* "LGRK" */
enum { LG_REPORT_PROGRESS = 1, LG_REPORT_FINAL = 2 };
struct lg_report {
  uint32_t magic, kind;
  struct lg_stats st;
};

/* config.c: parse argv into cfg (defaults, flags, checks). 0, or -1 after printing the error;
 * 1 when --help was printed. */
int config_load(struct lg_config *cfg, int argc, char **argv);
void config_free(struct lg_config *cfg);
/* A duration in seconds ("6", "1.5") or with a unit ("500ms", "2m"): µs, or -1. */
int64_t config_parse_seconds(const char *s);

/* provision.c: register devices [first, first + n) through device_add_batch. 0 or -1 (logged). */
int provision_devices(const struct lg_config *cfg);

/* worker.c: simulate devices [first, first + count); reports go to fd `out`. t0_us is the
 * common start (CLOCK_MONOTONIC µs). Called with SIGINT/SIGTERM blocked: it installs its
 * handlers, then sets the signal mask to `mask`. Returns the process exit code. */
int worker_run(const struct lg_config *cfg, int worker_no, int64_t first, int64_t count,
               int64_t t0_us, int out, const sigset_t *mask);

static inline int64_t lg_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
