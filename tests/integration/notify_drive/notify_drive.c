/* SPDX-License-Identifier: MIT */
/* notify_drive.c -- a test driver of notify.c alone: 70-notify.py feeds it alert transitions and
 * reads back every delivery's outcome, with real receivers on loopback.
 *
 *   notify_drive [--notify-webhook URL ...]   (every edgefleetd option is accepted)
 *
 * stdin, one line each: an alert as JSON {rule, fingerprint, state, severity, summary, labels,
 * starts_at, ends_at} (ms), given to notify_alert(); or "stop": notify_stop() and exit 0.
 * stdout: "ready N" (N receivers) once started, then one JSON line per outcome
 * {fingerprint, receiver, outcome}, in the order the loop receives them.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "jsonutil.h"
#include "log.h"
#include "mem.h"
#include "notify.h"
#include "server.h"

static struct notify *g_notify;
static uv_pipe_t g_in;
static char *g_buf;
static size_t g_len;

static void on_outcome(void *ud, const char *fp, const char *receiver, const char *outcome) {
  (void)ud;
  char *line = jdump_decref(json_pack("{s:s, s:s, s:s}", "fingerprint", fp, "receiver", receiver,
                                      "outcome", outcome));
  printf("%s\n", line);
  fflush(stdout);
  ef_free(line);
}

static void stop(void) {
  notify_stop(&g_notify);
  uv_read_stop((uv_stream_t *)&g_in);
  if (!uv_is_closing((uv_handle_t *)&g_in)) uv_close((uv_handle_t *)&g_in, NULL);
}

static void line(const char *s, size_t n) {
  if (n == 4 && memcmp(s, "stop", 4) == 0) {
    stop();
    return;
  }
  json_t *a = jparse_object(s, n);
  if (!a) {
    fprintf(stderr, "notify_drive: not a JSON object: %.*s\n", (int)n, s);
    return;
  }
  json_t *labels = jobj(a, "labels");
  struct notify_alert na = {
      .rule = jstr(a, "rule"), .fingerprint = jstr(a, "fingerprint"), .state = jstr(a, "state"),
      .severity = jstr(a, "severity"), .summary = jstr(a, "summary"), .labels = labels,
      .starts_at = json_integer_value(json_object_get(a, "starts_at")),
      .ends_at = json_integer_value(json_object_get(a, "ends_at"))};
  notify_alert(g_notify, &na);
  json_decref(a);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  (void)h;
  (void)hint;
  static char chunk[65536];
  *b = uv_buf_init(chunk, sizeof chunk);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b) {
  (void)st;
  if (nread < 0) { /* EOF: as "stop" */
    stop();
    return;
  }
  g_buf = ef_realloc(g_buf, g_len + (size_t)nread + 1);
  memcpy(g_buf + g_len, b->base, (size_t)nread);
  g_len += (size_t)nread;
  char *nl;
  while (g_notify && (nl = memchr(g_buf, '\n', g_len))) {
    size_t n = (size_t)(nl - g_buf);
    line(g_buf, n);
    memmove(g_buf, nl + 1, g_len - n - 1);
    g_len -= n + 1;
  }
}

int main(int argc, char **argv) {
  struct server_config cfg;
  char err[512];
  /* as edgefleetd: a peer that closed (e.g. the SMTP QUIT at cleanup) is an error, not a signal */
  signal(SIGPIPE, SIG_IGN);
  if (config_init(&cfg, argc, argv, err, sizeof err) != 0) {
    fprintf(stderr, "notify_drive: %s\n", err);
    return 2;
  }
  ef_log_threshold = (int)cfg.log_level;
  uv_loop_t *loop = uv_default_loop();
  if (notify_start(loop, &cfg, on_outcome, NULL, &g_notify, err, sizeof err) != 0) {
    fprintf(stderr, "notify_drive: %s\n", err);
    uv_run(loop, UV_RUN_DEFAULT);
    config_free(&cfg);
    return 2;
  }
  printf("ready %zu\n", notify_receivers(g_notify));
  fflush(stdout);
  uv_pipe_init(loop, &g_in, 0);
  uv_pipe_open(&g_in, 0);
  uv_read_start((uv_stream_t *)&g_in, on_alloc, on_read);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  ef_free(g_buf);
  config_free(&cfg);
  return 0;
}
