/* SPDX-License-Identifier: MIT */
/* front_stubs.c -- ws_front.c's entry point for modules that only tell the dashboards that the
 * device list changed (the REST routes), counted. ws_front.c itself is fuzzed by
 * fuzz_ws_front.c. */
#include "server.h"

unsigned long fuzz_front_devices_changed;

void front_devices_changed(struct server *srv) {
  (void)srv;
  fuzz_front_devices_changed++;
}
