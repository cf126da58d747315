/* SPDX-License-Identifier: MIT */
/* rest_routes_stubs.c -- the route tables rest.c routes through (rest.h declares them extern;
 * rest_device.c & co define the real ones), here with stages that only count and record, so a
 * test can tell which stages of which route ran. */
#include <stdio.h>

#include "jsonutil.h"
#include "mem.h"
#include "rest.h"
#include "stubs.h"

struct stub_rest_stages stub_rest;

void stub_rest_reset(void) {
  ef_free(stub_rest.last_body);
  stub_rest = (struct stub_rest_stages){0};
}

static void note(struct rest_call *c) {
  snprintf(stub_rest.last_route, sizeof stub_rest.last_route, "%s", c->route->name);
  for (int i = 0; i < 2; i++)
    snprintf(stub_rest.last_args[i], sizeof stub_rest.last_args[i], "%s",
             c->args[i] ? c->args[i] : "");
  ef_free(stub_rest.last_body);
  stub_rest.last_body = c->body ? jdump(c->body) : NULL;
}

static int st_pool(struct rest_call *c) {
  stub_rest.pool++; /* on the uv thread pool: the test waits for the loop before reading */
  (void)c;
  return REST_NEXT;
}

static int st_db(struct rest_call *c, struct store *st) {
  (void)st;
  stub_rest.db++;
  note(c);
  return REST_NEXT;
}

/* A db stage that fails: the loop stage must then not run. */
static int st_db_fail(struct rest_call *c, struct store *st) {
  (void)st;
  stub_rest.db++;
  note(c);
  return rest_fail(c, 409, REST_GENERAL, "%s already exists.", "thing");
}

static int st_loop(struct rest_call *c) {
  stub_rest.loop++;
  note(c);
  return rest_ok(c, json_pack("{s:s, s:s?, s:s?}", "route", c->route->name, "arg0", c->args[0],
                              "arg1", c->args[1]));
}

/* A loop stage that answers later (an order): the test calls rest_finish(stub_rest.later). */
static int st_loop_later(struct rest_call *c) {
  stub_rest.loop++;
  note(c);
  stub_rest.later = c;
  return REST_LATER;
}

const struct rest_route rest_device_routes[] = {
  {"POST", "device_add", 0, REST_OPERATOR | REST_FLEET, st_pool, st_db, st_loop},
  {"GET", "device_query", 1, REST_READ, NULL, st_db, st_loop},
  {"GET", "device_log_query", 1, REST_READ, NULL, NULL, st_loop},
  {"GET", "device_log_query", 2, REST_READ, NULL, NULL, st_loop},
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};

const struct rest_route rest_group_routes[] = {
  {"PUT POST", "group_update", 0, REST_OPERATOR, NULL, NULL, st_loop},
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};

const struct rest_route rest_relation_routes[] = {
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};

const struct rest_route rest_live_routes[] = {
  {"POST", "device_order", 1, REST_OPERATOR, NULL, NULL, st_loop_later},
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};

const struct rest_route rest_token_routes[] = {
  {"POST", "token_add", 0, REST_ADMIN | REST_FLEET, NULL, st_db_fail, st_loop},
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};

const struct rest_route rest_audit_routes[] = {
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};

const struct rest_route rest_alert_routes[] = {
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};

const struct rest_route rest_history_routes[] = {
  {NULL, NULL, 0, 0, NULL, NULL, NULL},
};
