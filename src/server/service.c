/* SPDX-License-Identifier: MIT */
/* service.c -- sd_notify readiness and watchdog (see service.h). */
#include "service.h"

#include "server.h"

#ifdef EF_WITH_SYSTEMD
#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "log.h"

static uv_timer_t watchdog;
static bool watchdog_on;

static void ping(uv_timer_t *t) {
  struct server *srv = t->data;
  char status[96];
  snprintf(status, sizeof status, "WATCHDOG=1\nSTATUS=%" PRIu64 " device connections",
           srv->n_sessions);
  sd_notify(0, status);
}

void service_ready(struct server *srv) {
  char status[96];
  snprintf(status, sizeof status, "READY=1\nSTATUS=%" PRIu64 " device connections",
           srv->n_sessions);
  if (sd_notify(0, status) <= 0) return; /* not under systemd (or no Type=notify socket) */
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  uint64_t every = usec / 2000; /* ms: twice per WatchdogSec */
  if (every == 0) every = 1;
  uv_timer_init(srv->loop, &watchdog);
  watchdog.data = srv;
  uv_timer_start(&watchdog, ping, every, every);
  watchdog_on = true;
  ef_log(EF_LOG_INFO, "systemd: ready; watchdog pinged every %" PRIu64 " ms", every);
}

void service_stopping(void) {
  sd_notify(0, "STOPPING=1");
  if (watchdog_on) uv_close((uv_handle_t *)&watchdog, NULL);
  watchdog_on = false;
}

bool service_notify_built(void) { return true; }

#else /* no libsystemd: a service of Type=exec (the unit is configured so) */

void service_ready(struct server *srv) { (void)srv; }
void service_stopping(void) {}
bool service_notify_built(void) { return false; }

#endif
