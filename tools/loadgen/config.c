/* SPDX-License-Identifier: MIT */
/* config.c -- edgefleet-loadgen's options: one table feeds defaults, flags and --help; then the
 * derived values (server address, timings in µs) and the checks (loopback only). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "edgefleet/error.h"
#include "edgefleet/version.h"
#include "loadgen.h"
#include "log.h"
#include "mem.h"

static const struct cfg_opt lg_opts[] = {
  CFG_ROW(struct lg_config, server, CFG_STR, 0, 0, NULL,
          "ws://HOST:PORT/PATH of the server, mqtt://HOST:PORT of a broker (loopback only)"),
  CFG_ROW(struct lg_config, protocol, CFG_STR, 0, 0, "ws",
          "ws (edgefleetd) or mqtt (an MQTT 3.1.1 broker doing the same work, for comparison)"),
  CFG_ROW(struct lg_config, devices, CFG_INT, 1, 1000000, NULL, "number of simulated devices"),
  CFG_ROW(struct lg_config, duration, CFG_STR, 0, 0, "60", "run time in seconds (or 500ms, 2m)"),
  CFG_ROW(struct lg_config, schedule, CFG_STR, 0, 0, "real",
          "real (ping 5 s, status 15 s) or fast (/10)"),
  CFG_ROW(struct lg_config, rate_multiplier, CFG_STR, 0, 0, NULL,
          "divide every device interval by this factor (overrides --schedule)"),
  CFG_ROW(struct lg_config, provision, CFG_STR, 0, 0, NULL,
          "API token file: register the devices with device_add_batch first"),
  CFG_ROW(struct lg_config, password, CFG_STR, 0, 0, "loadgen", "device password"),
  CFG_ROW(struct lg_config, sn_prefix, CFG_STR, 0, 0, "LG-",
          "device serial number is PREFIX<index>"),
  CFG_ROW(struct lg_config, model, CFG_STR, 0, 0, "loadgen", "device model"),
  CFG_ROW(struct lg_config, first_index, CFG_INT, 0, 1000000000, "0", "index of the first device"),
  CFG_ROW(struct lg_config, procs, CFG_INT, 0, 256, "0",
          "worker processes [ceil(devices / per_proc)]"),
  CFG_ROW(struct lg_config, per_proc, CFG_INT, 1, 19000, "15000",
          "devices per worker when --procs is 0"),
  CFG_ROW(struct lg_config, ramp, CFG_STR, 0, 0, NULL,
          "spread the first logins over this many seconds [devices / 2000]"),
  CFG_ROW(struct lg_config, status_bytes, CFG_SIZE, 200, 60000, "600", "size of a status upload"),
  CFG_ROW(struct lg_config, ping_interval, CFG_STR, 0, 0, "5",
          "seconds from an exchange to the ping"),
  CFG_ROW(struct lg_config, status_interval, CFG_STR, 0, 0, "15", "seconds between status uploads"),
  CFG_ROW(struct lg_config, miss_timeout, CFG_STR, 0, 0, "3",
          "seconds after which a pong/ack is a miss (not scaled by the schedule)"),
  CFG_ROW(struct lg_config, reconnect_delay, CFG_STR, 0, 0, "10", "seconds before a reconnect"),
  CFG_ROW(struct lg_config, login_timeout, CFG_STR, 0, 0, "30",
          "seconds to wait for a login reply (not scaled)"),
  CFG_ROW(struct lg_config, reconnect_storm, CFG_BOOL, 0, 0, "false",
          "at --storm-at every device drops and reconnects at once"),
  CFG_ROW(struct lg_config, password_only, CFG_BOOL, 0, 0, "false",
          "log in with the password every time, never a session token (the original protocol)"),
  CFG_ROW(struct lg_config, storm_at, CFG_STR, 0, 0, NULL,
          "seconds after the start [duration / 2]"),
  CFG_ROW(struct lg_config, warmup, CFG_STR, 0, 0, "0",
          "seconds after the start before latencies and misses are measured"),
  CFG_ROW(struct lg_config, json, CFG_BOOL, 0, 0, "false",
          "also print the summary as one JSON line"),
  CFG_ROW(struct lg_config, report_json, CFG_BOOL, 0, 0, "false",
          "also print every progress report (each 5 s) as one JSON line on stdout, with the "
          "cumulative latency histogram (rtt_hist)"),
  CFG_ROW(struct lg_config, log_level, CFG_ENUM_OF(log_level_names), 0, 0, "info", "log detail"),
  CFG_END,
};

/* Options that may be given without a value (--json means --json true). */
static const char *const bare_flags[] = {"json", "report-json", "report_json",
                                         "reconnect-storm", "reconnect_storm",
                                         "password-only", "password_only", NULL};

static int set_opt(void *ud, const char *key, const char *value, char *err, size_t errlen) {
  return cfg_table_set(lg_opts, ud, key, value, err, errlen);
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: edgefleet-loadgen --server ws://HOST:PORT/ws --devices N --duration SECONDS\n"
          "         [--schedule real|fast] [--provision TOKEN_FILE] [--OPTION VALUE ...]\n"
          "Simulates N devices speaking the southbound protocol; prints progress to stderr and\n"
          "the summary as the last line of stdout. Times are seconds unless given a unit\n"
          "(ms, s, m, h, d), as every edgefleet duration.\n"
          "With --protocol mqtt --server mqtt://HOST:PORT the same devices drive an MQTT 3.1.1\n"
          "broker instead: PINGREQ per ping, a QoS 1 retained PUBLISH per status upload.\n\n");
  cfg_table_usage(lg_opts, out);
}

/* The common duration syntax (cfg.h: a bare number is seconds; ms, s, m, h, d), in µs. */
int64_t config_parse_seconds(const char *s) {
  int64_t ms;
  if (!s || cfg_parse_duration_ms(s, &ms) != 0 || ms > 1000000000000LL) return -1;
  return ms * 1000;
}

/* argv with every bare flag followed by "true", so cfg_parse_args sees a value. */
static char **expand_bare(int argc, char **argv, int *out_argc) {
  char **v = ef_calloc((size_t)argc * 2 + 1, sizeof *v);
  int n = 0;
  for (int i = 0; i < argc; i++) {
    v[n++] = argv[i];
    if (i == 0 || strncmp(argv[i], "--", 2) || strchr(argv[i], '=')) continue;
    bool bare = false;
    for (const char *const *b = bare_flags; *b; b++)
      if (!strcmp(argv[i] + 2, *b)) bare = true;
    if (bare && (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2))) v[n++] = "true";
  }
  *out_argc = n;
  return v;
}

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "edgefleet-loadgen: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  return -1;
}

static int seconds_opt(const char *name, const char *val, int64_t *out, bool allow_zero) {
  int64_t us = config_parse_seconds(val);
  if (us < 0 || (!allow_zero && us == 0)) {
    fprintf(stderr, "edgefleet-loadgen: --%s: '%s' is not a %sduration in seconds\n", name, val,
            allow_zero ? "" : "positive ");
    return -1;
  }
  *out = us;
  return 0;
}

static bool is_loopback(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
  }
  return false;
}

/* ws://HOST:PORT/PATH (mqtt://HOST:PORT) -> host, port, path, resolved loopback address. */
static int parse_server(struct lg_config *c) {
  const char *u = c->server;
  if (!u) return fail("--server %s is required", c->mqtt ? "mqtt://HOST:PORT" : "ws://HOST:PORT/PATH");
  const char *h;
  if (c->mqtt) {
    if (strncmp(u, "mqtt://", 7)) return fail("--server %s: must start with mqtt:// (--protocol mqtt)", u);
    h = u + 7;
  } else {
    if (!strncmp(u, "wss://", 6)) return fail("--server %s: wss:// is not supported (plain ws:// only)", u);
    if (!strncmp(u, "mqtt://", 7)) return fail("--server %s: an MQTT broker needs --protocol mqtt", u);
    if (strncmp(u, "ws://", 5)) return fail("--server %s: must start with ws://", u);
    h = u + 5;
  }
  const char *slash = strchr(h, '/');
  size_t hplen = slash ? (size_t)(slash - h) : strlen(h);
  snprintf(c->path, sizeof c->path, "%s", slash ? slash : "/ws");
  if (hplen == 0 || hplen >= sizeof c->host) return fail("--server %s: bad host", u);
  char hp[256];
  memcpy(hp, h, hplen);
  hp[hplen] = '\0';
  memcpy(c->host, hp, hplen + 1);
  char *host = hp, *port = NULL;
  if (hp[0] == '[') { /* [::1]:port */
    char *rb = strchr(hp, ']');
    if (!rb) return fail("--server %s: bad IPv6 host", u);
    *rb = '\0';
    host = hp + 1;
    if (rb[1] == ':') port = rb + 2;
    else if (rb[1]) return fail("--server %s: bad host", u);
  } else {
    char *colon = strrchr(hp, ':');
    if (colon) {
      *colon = '\0';
      port = colon + 1;
    }
  }
  if (c->mqtt && slash && strcmp(slash, "/") != 0)
    return fail("--server %s: an MQTT server URL has no path", u);
  long p = c->mqtt ? 1883 : 80;
  if (port) {
    char *end;
    p = strtol(port, &end, 10);
    if (!*port || *end || p < 1 || p > 65535) return fail("--server %s: bad port", u);
  }
  c->port = (int)p;
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
  char pbuf[8];
  snprintf(pbuf, sizeof pbuf, "%ld", p);
  int rc = getaddrinfo(host, pbuf, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "edgefleet-loadgen: --server %s: cannot resolve '%s': %s\n", u, host,
            gai_strerror(rc));
    return -1;
  }
  /* Prefer IPv4 (source addresses 127.0.0.2... need it); only loopback is allowed. */
  const struct addrinfo *pick = NULL;
  for (const struct addrinfo *a = res; a; a = a->ai_next) {
    if (!is_loopback(a->ai_addr)) {
      freeaddrinfo(res);
      fprintf(stderr, "edgefleet-loadgen: --server %s: '%s' is not a loopback address; this "
                      "tool only talks to a server on this machine (127.0.0.0/8 or ::1)\n", u, host);
      return -1;
    }
    if (!pick || (pick->ai_family != AF_INET && a->ai_family == AF_INET)) pick = a;
  }
  if (!pick) {
    freeaddrinfo(res);
    return fail("--server %s: no address", u);
  }
  memcpy(&c->addr, pick->ai_addr, pick->ai_addrlen);
  c->addrlen = pick->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

int config_load(struct lg_config *c, int argc, char **argv) {
  char err[512];
  memset(c, 0, sizeof *c);
  cfg_table_defaults(lg_opts, c);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 1;
    }
    if (!strcmp(argv[i], "--version")) {
      printf("edgefleet-loadgen %s\n", EF_VERSION_STRING);
      return 1;
    }
  }
  int n;
  char **v = expand_bare(argc, argv, &n);
  int rc = cfg_parse_args(n, v, 1, set_opt, c, err, sizeof err);
  ef_free(v);
  if (rc != 0) {
    fprintf(stderr, "edgefleet-loadgen: %s (see --help)\n", err);
    return -1;
  }
  ef_log_threshold = (int)c->log_level; /* checked against log_level_names by the table */
  if (!c->devices) return fail("%s", "--devices N is required");
  if (!strcmp(c->protocol, "mqtt")) c->mqtt = true;
  else if (strcmp(c->protocol, "ws") != 0) return fail("--protocol %s: use ws or mqtt", c->protocol);
  if (c->mqtt && c->provision)
    return fail("%s", "--provision is for edgefleetd; an MQTT broker needs no registration");
  if (parse_server(c)) return -1;

  if (c->rate_multiplier) {
    char *end;
    c->multiplier = strtod(c->rate_multiplier, &end);
    if (*end || end == c->rate_multiplier || !isfinite(c->multiplier) || c->multiplier < 0.01 ||
        c->multiplier > 10000)
      return fail("--rate-multiplier %s: must be a number from 0.01 to 10000", c->rate_multiplier);
  } else if (!strcmp(c->schedule, "real")) {
    c->multiplier = 1;
  } else if (!strcmp(c->schedule, "fast")) {
    c->multiplier = 10;
  } else {
    return fail("--schedule %s: use real or fast", c->schedule);
  }

  if (seconds_opt("duration", c->duration, &c->duration_us, false) ||
      seconds_opt("ping-interval", c->ping_interval, &c->ping_us, false) ||
      seconds_opt("status-interval", c->status_interval, &c->status_us, false) ||
      seconds_opt("miss-timeout", c->miss_timeout, &c->miss_us, false) ||
      seconds_opt("reconnect-delay", c->reconnect_delay, &c->reconnect_us, true) ||
      seconds_opt("warmup", c->warmup, &c->warmup_us, true) ||
      seconds_opt("login-timeout", c->login_timeout, &c->login_timeout_us, false))
    return -1;
  c->ping_us = (int64_t)((double)c->ping_us / c->multiplier);
  c->status_us = (int64_t)((double)c->status_us / c->multiplier);
  c->reconnect_us = (int64_t)((double)c->reconnect_us / c->multiplier);
  if (c->ping_us < 1000 || c->status_us < 1000)
    return fail("%s", "ping and status intervals must stay at least 1 ms after scaling");
  /* MQTT keepalive is whole seconds; the broker allows 1.5x before it drops a client. */
  c->keepalive_s = (unsigned)((c->ping_us + 999999) / 1000000);
  if (c->keepalive_s > 65535) c->keepalive_s = 65535;

  if (c->ramp) {
    if (seconds_opt("ramp", c->ramp, &c->ramp_us, true)) return -1;
  } else {
    c->ramp_us = c->devices * 1000000 / 2000;
  }
  if (c->ramp_us >= c->duration_us) return fail("%s", "--ramp must be shorter than --duration");
  if (c->warmup_us >= c->duration_us)
    return fail("%s", "--warmup must be shorter than --duration");
  if (c->storm_at) {
    if (seconds_opt("storm-at", c->storm_at, &c->storm_at_us, false)) return -1;
    if (!c->reconnect_storm) return fail("%s", "--storm-at needs --reconnect-storm");
  } else {
    c->storm_at_us = c->duration_us / 2;
  }
  if (c->reconnect_storm && (c->storm_at_us <= c->ramp_us || c->storm_at_us >= c->duration_us))
    return fail("%s", "--storm-at must fall after the ramp and before the end of --duration");
  if (!*c->password || strlen(c->password) > 200) return fail("%s", "--password: 1 to 200 chars");
  if (strlen(c->sn_prefix) > 100 || strlen(c->model) > 100 || !*c->model)
    return fail("%s", "--sn-prefix and --model: at most 100 chars (model not empty)");
  if (strpbrk(c->sn_prefix, "\"\\") || strpbrk(c->model, "\"\\") || strpbrk(c->password, "\"\\"))
    return fail("%s", "--sn-prefix, --model and --password must not contain quotes or backslashes");
  if (c->procs == 0) c->procs = (c->devices + c->per_proc - 1) / c->per_proc;
  if (c->procs > c->devices) c->procs = c->devices;
  if ((c->devices + c->procs - 1) / c->procs > 19000)
    return fail("%s", "more than 19000 devices per worker would pass the open-file limit: "
                      "raise --procs");
  return 0;
}

void config_free(struct lg_config *c) { cfg_table_free(lg_opts, c); }
