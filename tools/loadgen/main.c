/* SPDX-License-Identifier: MIT */
/* main.c -- edgefleet-loadgen: the parent process. Parses options, provisions the devices if
 * asked, forks the workers (each ≤ per_proc devices, under the per-process open-file limit),
 * merges their reports into progress lines (stderr, every 5 s) and the summary (stdout, last
 * line), and forwards SIGINT/SIGTERM to them. See docs/loadgen.md. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jsonutil.h"
#include "loadgen.h"
#include "log.h"
#include "mem.h"

#define START_DELAY_US 200000 /* workers get this long to set up before t0 */

struct child {
  pid_t pid;
  int fd;                 /* read end of its report pipe; -1 at EOF */
  struct lg_report cur;   /* being read */
  size_t got;
  struct lg_stats last;   /* latest complete report */
  bool have, final;
};

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

static double ms(uint64_t us) { return (double)us / 1000.0; }

static void merge(const struct child *ch, int n, struct lg_stats *m) {
  memset(m, 0, sizeof *m);
  for (int i = 0; i < n; i++) {
    const struct lg_stats *s = &ch[i].last;
    if (!ch[i].have) continue;
    m->devices += s->devices;
    m->connected += s->connected;
    m->messages += s->messages;
    m->pings += s->pings;
    m->statuses += s->statuses;
    m->replies += s->replies;
    m->misses += s->misses;
    m->unmeasured += s->unmeasured;
    m->disconnects += s->disconnects;
    m->logins += s->logins;
    m->login_fails += s->login_fails;
    m->connect_fails += s->connect_fails;
    m->orders += s->orders;
    m->storm_devices += s->storm_devices;
    m->storm_back += s->storm_back;
    if (s->storm_start_us && (!m->storm_start_us || s->storm_start_us < m->storm_start_us))
      m->storm_start_us = s->storm_start_us;
    if (s->storm_done_us > m->storm_done_us) m->storm_done_us = s->storm_done_us;
    hist_merge(&m->rtt, &s->rtt);
    hist_merge(&m->login, &s->login);
  }
}

/* Read what is available from a child's pipe; complete reports replace `last`. */
static void read_child(struct child *c) {
  for (;;) {
    ssize_t r = read(c->fd, (char *)&c->cur + c->got, sizeof c->cur - c->got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (r == 0 || errno != EAGAIN) {
        close(c->fd);
        c->fd = -1;
      }
      return;
    }
    c->got += (size_t)r;
    if (c->got < sizeof c->cur) continue;
    c->got = 0;
    if (c->cur.magic != LG_REPORT_MAGIC) {
      ef_log(EF_LOG_ERROR, "worker %d: garbled report", (int)c->pid);
      close(c->fd);
      c->fd = -1;
      return;
    }
    c->last = c->cur.st;
    c->have = true;
    if (c->cur.kind == LG_REPORT_FINAL) c->final = true;
  }
}

/* -1 when the storm was not run, -2 when not every device came back. */
static double storm_seconds(const struct lg_config *cfg, const struct lg_stats *m, int nchild,
                            const struct child *ch) {
  if (!cfg->reconnect_storm || !m->storm_start_us) return -1;
  for (int i = 0; i < nchild; i++)
    if (ch[i].have && ch[i].last.storm_back < ch[i].last.storm_devices) return -2;
  return (double)(m->storm_done_us - m->storm_start_us) / 1e6;
}

/* The histogram's non-empty buckets as [[upper edge µs, count], ...], ascending: with the same
 * layout in every process, two such lists merge by adding counts per edge, and the difference of
 * two cumulative snapshots is the histogram of what was recorded between them. */
static json_t *hist_json(const struct hist *h) {
  json_t *a = json_array();
  for (unsigned i = 0; i < HIST_BUCKETS; i++) {
    if (!h->count[i]) continue;
    uint64_t lo, hi;
    hist_bucket_range(i, &lo, &hi);
    json_array_append_new(a, json_pack("[I, I]", (json_int_t)hi, (json_int_t)h->count[i]));
  }
  return a;
}

static json_t *stats_json(const struct lg_config *cfg, const struct lg_stats *m, double storm_s,
                          double elapsed_s) {
  json_t *j = json_pack(
      "{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I,"
      " s:I, s:f, s:f, s:f, s:I, s:f, s:f}",
      "devices", (json_int_t)cfg->devices, "connected", (json_int_t)m->connected,
      "messages", (json_int_t)m->messages, "pings", (json_int_t)m->pings,
      "statuses", (json_int_t)m->statuses, "replies", (json_int_t)m->replies,
      "p50_ms", ms(hist_quantile(&m->rtt, 0.50)), "p90_ms", ms(hist_quantile(&m->rtt, 0.90)),
      "p99_ms", ms(hist_quantile(&m->rtt, 0.99)), "p999_ms", ms(hist_quantile(&m->rtt, 0.999)),
      "max_ms", ms(m->rtt.max_us), "mean_ms", m->rtt.n ? ms(m->rtt.sum_us / m->rtt.n) : 0.0,
      "misses", (json_int_t)m->misses, "disconnects", (json_int_t)m->disconnects,
      "logins", (json_int_t)m->logins, "login_fails", (json_int_t)m->login_fails,
      "connect_fails", (json_int_t)m->connect_fails, "orders", (json_int_t)m->orders,
      "login_p50_ms", ms(hist_quantile(&m->login, 0.50)),
      "login_p99_ms", ms(hist_quantile(&m->login, 0.99)), "login_max_ms", ms(m->login.max_us),
      "procs", (json_int_t)cfg->procs, "rate_multiplier", cfg->multiplier,
      "elapsed_s", elapsed_s);
  json_object_set_new(j, "warmup_s", json_real((double)cfg->warmup_us / 1e6));
  json_object_set_new(j, "unmeasured", json_integer((json_int_t)m->unmeasured));
  json_object_set_new(j, "rtt_hist", hist_json(&m->rtt));
  json_object_set_new(j, "rtt_n", json_integer((json_int_t)m->rtt.n));
  json_object_set_new(j, "rtt_sum_us", json_integer((json_int_t)m->rtt.sum_us));
  json_object_set_new(j, "rtt_max_us", json_integer((json_int_t)m->rtt.max_us));
  if (cfg->reconnect_storm) {
    json_object_set_new(j, "storm_s", storm_s >= 0 ? json_real(storm_s) : json_null());
    json_object_set_new(j, "storm_devices", json_integer((json_int_t)m->storm_devices));
    json_object_set_new(j, "storm_back", json_integer((json_int_t)m->storm_back));
  }
  return j;
}

static void print_json(const struct lg_config *cfg, const struct lg_stats *m, double storm_s,
                       double elapsed_s) {
  char *txt = jdump_decref(stats_json(cfg, m, storm_s, elapsed_s));
  printf("%s\n", txt);
  ef_free(txt);
}

static void progress(const struct lg_config *cfg, const struct child *ch, int n, int64_t t0) {
  struct lg_stats m;
  merge(ch, n, &m);
  if (cfg->report_json) { /* the cumulative figures as of the workers' latest reports */
    json_t *j = stats_json(cfg, &m, -1, (double)(lg_mono_us() - t0) / 1e6);
    json_object_set_new(j, "report", json_true());
    char *txt = jdump_decref(j);
    printf("%s\n", txt);
    fflush(stdout);
    ef_free(txt);
  }
  fprintf(stderr, "loadgen: t=%.0fs connected=%llu/%llu messages=%llu p50_ms=%.3f p99_ms=%.3f "
          "max_ms=%.3f misses=%llu disconnects=%llu login_fails=%llu\n",
          (double)(lg_mono_us() - t0) / 1e6, (unsigned long long)m.connected,
          (unsigned long long)m.devices, (unsigned long long)m.messages,
          ms(hist_quantile(&m.rtt, 0.5)), ms(hist_quantile(&m.rtt, 0.99)), ms(m.rtt.max_us),
          (unsigned long long)m.misses, (unsigned long long)m.disconnects,
          (unsigned long long)m.login_fails);
}

static void raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int main(int argc, char **argv) {
  struct lg_config cfg;
  log_set_ident("loadgen");
  int rc = config_load(&cfg, argc, argv);
  if (rc != 0) {
    config_free(&cfg);
    return rc > 0 ? 0 : 2;
  }
  raise_nofile();
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (cfg.provision && provision_devices(&cfg) != 0) {
    config_free(&cfg);
    return 1;
  }
  if (got_signal) {
    config_free(&cfg);
    return 1;
  }

  int n = (int)cfg.procs;
  struct child *ch = ef_calloc((size_t)n, sizeof *ch);
  int64_t t0 = lg_mono_us() + START_DELAY_US;
  int64_t per = cfg.devices / n, extra = cfg.devices % n, first = cfg.first_index;
  int started = 0;
  rc = 0;
  fflush(stdout);
  fflush(stderr);
  /* Signals wait until each worker has installed its own handlers (worker_run unblocks). */
  sigset_t block, prev;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &prev);
  for (int i = 0; i < n; i++) {
    int64_t count = per + (i < extra ? 1 : 0);
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
      ef_log(EF_LOG_ERROR, "pipe: %s", strerror(errno));
      rc = 1;
      break;
    }
    pid_t pid = fork();
    if (pid < 0) {
      ef_log(EF_LOG_ERROR, "fork: %s", strerror(errno));
      close(p[0]);
      close(p[1]);
      rc = 1;
      break;
    }
    if (pid == 0) {
      close(p[0]);
      for (int k = 0; k < started; k++) close(ch[k].fd);
      ef_free(ch);
      int wrc = worker_run(&cfg, i, first, count, t0, p[1], &prev);
      close(p[1]);
      config_free(&cfg);
      _exit(wrc);
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    ch[i].pid = pid;
    ch[i].fd = p[0];
    started++;
    first += count;
  }
  sigprocmask(SIG_SETMASK, &prev, NULL);
  if (rc) /* a failed start: stop the workers already running */
    for (int i = 0; i < started; i++) kill(ch[i].pid, SIGTERM);

  /* Collect reports until every pipe is closed. */
  int64_t next_progress = t0 + LG_PROGRESS_US + 300000;
  bool forwarded = false;
  struct pollfd *pfd = ef_calloc((size_t)n, sizeof *pfd);
  for (;;) {
    if (got_signal && !forwarded) {
      for (int i = 0; i < started; i++) kill(ch[i].pid, SIGTERM);
      forwarded = true;
    }
    int np = 0;
    for (int i = 0; i < started; i++)
      if (ch[i].fd >= 0) pfd[np++] = (struct pollfd){.fd = ch[i].fd, .events = POLLIN};
    if (np == 0) break;
    int64_t now = lg_mono_us();
    if (now >= next_progress) {
      progress(&cfg, ch, started, t0);
      next_progress += LG_PROGRESS_US;
    }
    int timeout = (int)((next_progress - now + 999) / 1000);
    if (poll(pfd, (nfds_t)np, timeout < 0 ? 0 : timeout) < 0 && errno != EINTR) {
      ef_log(EF_LOG_ERROR, "poll: %s", strerror(errno));
      break;
    }
    for (int i = 0; i < started; i++)
      if (ch[i].fd >= 0) read_child(&ch[i]);
  }
  ef_free(pfd);
  for (int i = 0; i < started; i++) {
    int st = 0;
    while (waitpid(ch[i].pid, &st, 0) < 0 && errno == EINTR) {}
    if (!ch[i].final) {
      if (WIFSIGNALED(st))
        ef_log(EF_LOG_ERROR, "worker %d died of signal %d", i, WTERMSIG(st));
      else
        ef_log(EF_LOG_ERROR, "worker %d exited (%d) without its final report", i,
               WIFEXITED(st) ? WEXITSTATUS(st) : -1);
      rc = 1;
    } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      rc = 1;
    }
  }

  struct lg_stats m;
  merge(ch, started, &m);
  double storm_s = storm_seconds(&cfg, &m, started, ch);
  double elapsed = (double)(lg_mono_us() - t0) / 1e6;
  if (cfg.json) print_json(&cfg, &m, storm_s, elapsed);
  printf("devices=%lld connected=%llu messages=%llu p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
         "misses=%llu disconnects=%llu",
         (long long)cfg.devices, (unsigned long long)m.connected, (unsigned long long)m.messages,
         ms(hist_quantile(&m.rtt, 0.5)), ms(hist_quantile(&m.rtt, 0.99)), ms(m.rtt.max_us),
         (unsigned long long)m.misses, (unsigned long long)m.disconnects);
  if (cfg.reconnect_storm) {
    if (storm_s >= 0) printf(" storm_s=%.3f", storm_s);
    else printf(" storm_s=incomplete");
  }
  printf("\n");
  fflush(stdout);
  if (cfg.reconnect_storm && storm_s < 0)
    ef_log(EF_LOG_WARN, "reconnect storm: %llu of %llu devices back before the end",
           (unsigned long long)m.storm_back, (unsigned long long)m.storm_devices);
  ef_free(ch);
  config_free(&cfg);
  return rc;
}
