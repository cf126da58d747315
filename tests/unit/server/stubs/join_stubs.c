/* SPDX-License-Identifier: MIT */
/* join_stubs.c -- join.c's readers of miner records, answering views the test set and counting
 * the calls (how often a reader such as ws_front.c renders a miner). */
#include <string.h>

#include "server.h"
#include "stubs.h"

static json_t *views;        /* minerId -> view */
static json_t *view_calls;   /* minerId -> count */
static size_t view_calls_all, summaries_calls;

void stub_join_reset(void) {
  json_decref(views);
  json_decref(view_calls);
  views = json_object();
  view_calls = json_object();
  view_calls_all = summaries_calls = 0;
}

void stub_join_set_view(const char *miner_id, json_t *view) {
  if (!views) stub_join_reset();
  if (view) json_object_set_new(views, miner_id, view);
  else json_object_del(views, miner_id);
}

size_t stub_join_view_calls(const char *miner_id) {
  if (!miner_id) return view_calls_all;
  return view_calls ? (size_t)json_integer_value(json_object_get(view_calls, miner_id)) : 0;
}

size_t stub_join_summaries_calls(void) { return summaries_calls; }

static json_t *view_of(const char *miner_id) {
  json_t *v = views ? json_object_get(views, miner_id) : NULL;
  return v ? json_deep_copy(v) : NULL;
}

json_t *join_miner_view(struct server *srv, const char *miner_id) {
  (void)srv;
  if (!views) stub_join_reset();
  view_calls_all++;
  json_t *n = json_object_get(view_calls, miner_id);
  json_object_set_new(view_calls, miner_id, json_integer(n ? json_integer_value(n) + 1 : 1));
  return view_of(miner_id);
}

json_t *join_miner(struct server *srv, const char *miner_id) {
  (void)srv;
  return view_of(miner_id);
}

json_t *join_summaries(struct server *srv) {
  (void)srv;
  summaries_calls++;
  json_t *arr = json_array();
  const char *id;
  json_t *v;
  if (views)
    json_object_foreach(views, id, v) json_array_append_new(arr, json_pack("{s:s}", "minerId", id));
  return arr;
}

bool join_miner_device(struct server *srv, const char *id, uint64_t *device_id) {
  (void)srv;
  json_t *v = views ? json_object_get(views, id) : NULL;
  if (!v) return false;
  *device_id = (uint64_t)json_integer_value(json_object_get(v, "device_id"));
  return true;
}

json_t *join_miner_list(struct server *srv) {
  (void)srv;
  json_t *arr = json_array();
  const char *id;
  json_t *v;
  if (views) json_object_foreach(views, id, v) json_array_append_new(arr, json_deep_copy(v));
  return arr;
}
