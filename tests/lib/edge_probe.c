/* SPDX-License-Identifier: MIT */
/* edge_probe.c -- a device program on libedgefleet for the tests in tests/lib: options from argv
 * (--key value, any ef_client_set key), `echo` (returns its params), `sleep` ({"ms":N}) and
 * `fail` order handlers, events and the exit code on stdout, library log on stderr.
 * Extra flags: --miner JSON (queue a patch before running), --full-json JSON (sent as the full
 * record on report_full_info), --status-extra JSON (status provider output).
 * Exit: 0 after SIGTERM/SIGINT, 3 when the retry limit was reached, 2 on bad options, 1 else. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edgefleet/edge.h"

static ef_client *g_client;
static const char *g_full_json = "{\"minerId\":\"f01000\",\"full\":1}";
static const char *g_status_extra;

static void on_signal(int sig) {
  (void)sig;
  ef_client_stop(g_client);
}

static void on_log(void *ud, int level, const char *msg) {
  (void)ud;
  fprintf(stderr, "LOG %d %s\n", level, msg);
}

static void on_event(void *ud, enum ef_client_event ev, const char *detail) {
  (void)ud;
  static const char *names[] = {"connected", "logged_in", "disconnected", "login_failed"};
  printf("EVENT %s %s\n", names[ev], detail ? detail : "-");
}

static int order_echo(void *ud, const char *order, const char *params, char *msg, size_t len) {
  (void)ud;
  (void)order;
  snprintf(msg, len, "%s", params);
  return 0;
}

static int order_sleep(void *ud, const char *order, const char *params, char *msg, size_t len) {
  (void)ud;
  (void)order;
  json_t *p = json_loads(params, 0, NULL);
  json_int_t ms = json_integer_value(json_object_get(p, "ms"));
  json_decref(p);
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  snprintf(msg, len, "slept %lld ms", (long long)ms);
  return 0;
}

static int order_fail(void *ud, const char *order, const char *params, char *msg, size_t len) {
  (void)ud;
  (void)order;
  (void)params;
  snprintf(msg, len, "failed on purpose");
  return 1;
}

static void on_full(void *ud) {
  ef_client *c = ud;
  printf("EVENT full_request -\n");
  ef_client_send_miner(c, g_full_json, 1);
}

static char *status_extra(void *ud) {
  (void)ud;
  return g_status_extra ? strdup(g_status_extra) : NULL;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("START pid=%d argc=%d\n", (int)getpid(), argc);
  if (ef_client_new(&g_client) != 0) return 1;
  ef_client_on_log(g_client, on_log, NULL);
  ef_client_on_event(g_client, on_event, NULL);
  ef_client_on_full_request(g_client, on_full, g_client);
  ef_client_on_status(g_client, status_extra, NULL);
  ef_client_on_order(g_client, "echo", order_echo, NULL);
  ef_client_on_order(g_client, "sleep", order_sleep, NULL);
  ef_client_on_order(g_client, "fail", order_fail, NULL);
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
      fprintf(stderr, "usage: edge_probe --key value ...\n");
      ef_client_free(&g_client);
      return 2;
    }
    const char *k = argv[i] + 2, *v = argv[++i];
    int rc;
    if (strcmp(k, "miner") == 0) rc = ef_client_send_miner(g_client, v, 0);
    else if (strcmp(k, "full-json") == 0) g_full_json = v, rc = 0;
    else if (strcmp(k, "status-extra") == 0) g_status_extra = v, rc = 0;
    else if (strcmp(k, "config") == 0) rc = ef_client_load_config(g_client, v);
    else rc = ef_client_set(g_client, k, v);
    if (rc != 0) {
      printf("OPTION %s %s\n", k, ef_err_name(rc));
      ef_client_free(&g_client);
      return 2;
    }
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  int rc = ef_client_run(g_client);
  printf("EXIT %s\n", rc ? ef_err_name(rc) : "OK");
  ef_client_free(&g_client);
  return rc == 0 ? 0 : rc == EF_ECLOSED ? 3 : 1;
}
