/* SPDX-License-Identifier: MIT */
/* service.h -- edgefleetd as a systemd service (packaging/systemd/edgefleetd.service.in,
 * Type=notify): READY=1 once it accepts connections, WATCHDOG=1 from the event loop at half of
 * WatchdogSec (so a loop that is stuck stops the pings and systemd restarts the server), the
 * number of device connections as STATUS=, STOPPING=1 at shutdown.
 * Through libsystemd's sd_notify() when the build found libsystemd (EF_WITH_SYSTEMD,
 * cmake/EfDeps.cmake); without it, and whenever $NOTIFY_SOCKET is unset (not started by
 * systemd), every call does nothing. */
#ifndef EF_SERVICE_H
#define EF_SERVICE_H

#include <stdbool.h>

struct server;

/* Ready: tell systemd and start the watchdog timer on srv->loop (when WatchdogSec is set). */
void service_ready(struct server *srv);
/* Shutting down: tell systemd and close the watchdog timer (so that the loop can end). */
void service_stopping(void);
/* Built with libsystemd? (for --version) */
bool service_notify_built(void);

#endif
