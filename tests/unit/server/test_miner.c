/* SPDX-License-Identifier: MIT */
/* test_miner.c -- miner records (src/server/miner.c) with stubs of the session calls, the
 * database thread and the store: full uploads and merge patches, a patch without its base,
 * malformed uploads, loading at start-up, and the write-behind: each flush (its timer, or
 * miner_stop) writes only what changed since the last one, the miner's own fields as one row
 * and one row per changed worker host, read back from a fake store's miner_write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json_assert.h"

#include "edgefleet/error.h"
#include "jsonutil.h"
#include "server.h"
#include "stubs.h"
#include "wire.h"

static struct server srv;
static uv_loop_t loop;
static struct net_conn conn, conn2;
static struct dsess *sess, *sess2;

#define DEVICE 7
#define OTHER 8

/* upload_miner_info from device `dev` (DEVICE or OTHER), `data` the JSON text of its data. */
static void upload_from(uint64_t dev, bool full, const char *data) {
  char buf[8192];
  snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"Headers\":{%s},\"data\":%s}", WIRE_UPLOAD_MINER,
           full ? "\"full\":true" : "", data);
  json_t *root = jparse_object(buf, strlen(buf));
  assert_non_null(root);
  assert_string_equal(miner_ws_routes[0].type, WIRE_UPLOAD_MINER);
  miner_ws_routes[0].handle(&(struct ws_msg){.srv = &srv, .s = dev == OTHER ? sess2 : sess,
                                             .device_id = dev, .root = root, .raw = buf,
                                             .len = strlen(buf)});
  json_decref(root);
}

static void upload(bool full, const char *data) { upload_from(DEVICE, full, data); }

static void start(void) {
  char err[128] = "";
  assert_int_equal(miner_init(&srv, stub_store(), err, sizeof err), 0);
  miner_start(&srv);
}

/* miner_stop, then what the database thread and the loop would do after it. */
static void stop(void) {
  miner_stop(&srv);
  assert_null(srv.miners);
  stub_worker_run();
  uv_run(&loop, UV_RUN_DEFAULT);
}

/* Wait for the write-behind timer: its flush submits a job (not yet run). */
static void wait_flush(void) {
  size_t before = stub_worker_submitted();
  for (int i = 0; i < 10 && stub_worker_submitted() == before; i++) uv_run(&loop, UV_RUN_ONCE);
  assert_int_equal(stub_worker_submitted(), before + 1);
}

/* The row's record as JSON (new reference), or NULL when the row deletes. */
static json_t *row_record(const struct store_miner *r) {
  assert_non_null(r);
  return r->record ? json_loads(r->record, 0, NULL) : NULL;
}

static int setup(void **state) {
  (void)state;
  memset(&srv, 0, sizeof srv);
  assert_int_equal(uv_loop_init(&loop), 0);
  srv.loop = &loop;
  srv.cfg.max_miners = 1000;
  srv.cfg.miners_per_device = 8;
  srv.cfg.max_miner_record = 4 << 20;
  conn = conn2 = (struct net_conn){0};
  sess = stub_live_sess_new(&conn, DEVICE);
  sess2 = stub_live_sess_new(&conn2, OTHER);
  stub_net_reset();
  stub_store_reset();
  stub_worker_reset(stub_store());
  start();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (srv.miners) stop();
  assert_int_equal(stub_worker_pending(), 0);
  assert_int_equal(uv_loop_close(&loop), 0);
  stub_live_sess_free(sess);
  stub_live_sess_free(sess2);
  stub_net_reset();
  stub_store_reset();
  return 0;
}

#define REC_A "{\"minerId\":\"f01\",\"balance\":\"10\",\"power\":5," \
              "\"workerInfo\":{\"w1\":{\"cpu\":1},\"w2\":{\"cpu\":2}}}"

/* Restart as if REC_A had been written before: the store lists its rows. */
static void restart_with_rec_a(void) {
  size_t writes = stub_store_nwrites();
  stop();
  const struct store_miner rows[] = {
    {.miner_id = "f01", .record = "{\"minerId\":\"f01\",\"balance\":\"10\",\"power\":5}",
     .device_id = DEVICE, .updated_time = 1000},
    {.miner_id = "f01", .host_name = "w1", .record = "{\"cpu\":1}"},
    {.miner_id = "f01", .host_name = "w2", .record = "{\"cpu\":2}"},
  };
  stub_store_set_list(rows, sizeof rows / sizeof *rows);
  start();
  struct miner_info mi;
  assert_true(miner_lookup(srv.miners, "f01", &mi));
  assert_json_eq((json_t *)mi.record, REC_A);
  assert_int_equal(stub_store_nwrites(), writes); /* loading writes nothing */
}

/* ----- uploads ----- */

static void test_full_upload(void **state) {
  (void)state;
  upload(true, REC_A);
  assert_int_equal(stub_net_count(&conn, STUB_NET_SEND), 1);
  assert_string_equal(stub_net_sent(&conn, 0), WIRE_MINER_ACK_FRAME);
  struct miner_info mi;
  assert_true(miner_lookup(srv.miners, "f01", &mi));
  assert_string_equal(mi.id, "f01");
  assert_json_eq((json_t *)mi.record, REC_A);
  assert_int_equal(mi.device_id, DEVICE);
  assert_true(mi.updated > 0);
  assert_true(miner_at(srv.miners, 0, &mi));
  assert_string_equal(mi.id, "f01");
  assert_false(miner_at(srv.miners, 1, &mi));
  assert_false(miner_lookup(srv.miners, "f02", &mi));
}

static void test_full_without_workers(void **state) {
  (void)state;
  upload(true, "{\"minerId\":\"f01\",\"power\":1}");
  struct miner_info mi;
  assert_true(miner_lookup(srv.miners, "f01", &mi));
  assert_json_eq((json_t *)mi.record, "{\"minerId\":\"f01\",\"power\":1,\"workerInfo\":{}}");
}

static void test_patch_without_base(void **state) {
  (void)state;
  upload(false, "{\"minerId\":\"f02\",\"power\":3}");
  /* acknowledged, and the whole record asked for */
  assert_int_equal(stub_net_count(&conn, STUB_NET_SEND), 2);
  assert_string_equal(stub_net_sent(&conn, 0), WIRE_MINER_ACK_FRAME);
  assert_string_equal(stub_net_sent(&conn, 1), WIRE_REPORT_FULL_FRAME);
  struct miner_info mi;
  assert_false(miner_lookup(srv.miners, "f02", &mi));
  assert_true(miner_at(srv.miners, 0, &mi)); /* known, without a record */
  assert_null(mi.record);
  stop();
  assert_int_equal(stub_worker_submitted(), 0); /* nothing to write */

  /* the full record that follows is taken */
  start();
  upload(false, "{\"minerId\":\"f02\",\"power\":3}");
  upload(true, "{\"minerId\":\"f02\",\"power\":4}");
  upload(false, "{\"minerId\":\"f02\",\"power\":5}");
  assert_true(miner_lookup(srv.miners, "f02", &mi));
  assert_int_equal(json_integer_value(json_object_get(mi.record, "power")), 5);
  assert_string_equal(stub_net_last(&conn), WIRE_MINER_ACK_FRAME);
  assert_int_equal(stub_net_count(&conn, STUB_NET_SEND), 6); /* 2, then 2 again, ack, ack */
}

static void test_patch_merges(void **state) {
  (void)state;
  upload(true, REC_A);
  upload(false, "{\"minerId\":\"f01\",\"balance\":\"11\",\"power\":null,"
                "\"workerInfo\":{\"w1\":null,\"w2\":{\"mem\":8},\"w3\":{\"cpu\":3}}}");
  assert_int_equal(stub_net_count(&conn, STUB_NET_SEND), 2);
  assert_string_equal(stub_net_last(&conn), WIRE_MINER_ACK_FRAME);
  struct miner_info mi;
  assert_true(miner_lookup(srv.miners, "f01", &mi));
  /* w1, gone from the agent's list, stays as missing until an operator removes it */
  json_t *w1 = json_object_get(json_object_get(mi.record, "workerInfo"), "w1");
  assert_true(json_is_true(json_object_get(w1, "missing")));
  assert_true(json_is_integer(json_object_get(w1, "lastSeen")));
  assert_int_equal(miner_worker_delete(srv.miners, "f01", "w1"), 0);
  assert_json_eq((json_t *)mi.record,
                 "{\"minerId\":\"f01\",\"balance\":\"11\","
                 "\"workerInfo\":{\"w2\":{\"cpu\":2,\"mem\":8},\"w3\":{\"cpu\":3}}}");
}

static void assert_error_frame(size_t i, const char *message) {
  json_t *f = stub_net_sent_json(&conn, i);
  assert_string_equal(jstr(f, "type"), WIRE_ERROR);
  assert_string_equal(jstr(jobj(f, "data"), "message"), message);
  json_decref(f);
}

static void test_errors(void **state) {
  (void)state;
  upload(true, "{\"power\":1}");
  upload(true, "{\"minerId\":\"\",\"power\":1}");
  upload(true, "{\"minerId\":5}");
  upload(true, "\"not an object\"");
  upload(true, "{\"minerId\":\"f01\",\"workerInfo\":[{\"hostName\":\"w1\"}]}");
  upload(false, "{\"minerId\":\"f01\",\"workerInfo\":\"w1\"}");
  assert_int_equal(stub_net_count(&conn, STUB_NET_SEND), 6);
  for (size_t i = 0; i < 4; i++) assert_error_frame(i, "upload_miner_info needs data.minerId");
  assert_error_frame(4, "workerInfo must be an object keyed by host name");
  assert_error_frame(5, "workerInfo must be an object keyed by host name");
  struct miner_info mi;
  assert_false(miner_at(srv.miners, 0, &mi)); /* nothing was created */

  upload(true, "{\"minerId\":\"f01\",\"workerInfo\":null}"); /* null is "no workers" */
  assert_string_equal(stub_net_last(&conn), WIRE_MINER_ACK_FRAME);
  assert_true(miner_lookup(srv.miners, "f01", &mi));
}

/* ----- devices speak only for themselves ----- */

static void test_owner(void **state) {
  (void)state;
  upload(true, REC_A);
  upload_from(OTHER, true, "{\"minerId\":\"f01\",\"balance\":\"0\"}");
  upload_from(OTHER, false, "{\"minerId\":\"f01\",\"workerInfo\":{\"w1\":null}}");
  assert_int_equal(stub_net_count(&conn2, STUB_NET_SEND), 2);
  json_t *m = json_loads(stub_net_last(&conn2), 0, NULL);
  assert_string_equal(jstr(jobj(m, "data"), "message"), "this miner is reported by another device");
  json_decref(m);
  struct miner_info mi;
  assert_true(miner_lookup(srv.miners, "f01", &mi));
  assert_string_equal(jstr(mi.record, "balance"), "10"); /* unchanged */
  assert_non_null(jobj(jobj(mi.record, "workerInfo"), "w1"));
  assert_int_equal(mi.device_id, DEVICE);
  /* An admin moves it: the other device is heard, the first one refused. */
  assert_int_equal(miner_bind(srv.miners, "f01", OTHER), 0);
  assert_int_equal(miner_bind(srv.miners, "f99", OTHER), EF_ENOENT);
  upload_from(OTHER, false, "{\"minerId\":\"f01\",\"balance\":\"1\"}");
  assert_string_equal(stub_net_last(&conn2), WIRE_MINER_ACK_FRAME);
  upload(false, "{\"minerId\":\"f01\",\"balance\":\"2\"}");
  assert_true(miner_lookup(srv.miners, "f01", &mi));
  assert_string_equal(jstr(mi.record, "balance"), "1");
}

static void test_caps(void **state) {
  (void)state;
  srv.cfg.miners_per_device = 2;
  srv.cfg.max_miners = 3;
  upload(true, "{\"minerId\":\"f01\"}");
  upload(true, "{\"minerId\":\"f02\"}");
  upload(true, "{\"minerId\":\"f03\"}");
  json_t *m = json_loads(stub_net_last(&conn), 0, NULL);
  assert_string_equal(jstr(jobj(m, "data"), "message"),
                      "too many miners for one device (miners_per_device)");
  json_decref(m);
  upload_from(OTHER, true, "{\"minerId\":\"f03\"}");
  upload_from(OTHER, true, "{\"minerId\":\"f04\"}");
  m = json_loads(stub_net_last(&conn2), 0, NULL);
  assert_string_equal(jstr(jobj(m, "data"), "message"),
                      "too many miners on this server (max_miners)");
  json_decref(m);
  struct miner_info mi;
  assert_false(miner_lookup(srv.miners, "f04", &mi));

  /* A record does not grow past max_miner_record: patches that would are refused. */
  srv.cfg.max_miner_record = 4096;
  char patch[1200];
  int refused = 0;
  for (int i = 0; i < 10; i++) {
    snprintf(patch, sizeof patch, "{\"minerId\":\"f01\",\"k%d\":\"%0900d\"}", i, 0);
    upload(false, patch);
    refused += strstr(stub_net_last(&conn), "max_miner_record") != NULL;
  }
  assert_true(miner_lookup(srv.miners, "f01", &mi));
  char *txt = json_dumps(mi.record, 0);
  assert_true(strlen(txt) <= 4096);
  free(txt);
  assert_true(refused >= 5);
}

/* ----- write-behind ----- */

static void test_flush_on_timer(void **state) {
  (void)state;
  upload(true, REC_A);
  assert_int_equal(stub_worker_submitted(), 0); /* nothing is written on the upload */
  wait_flush();
  assert_int_equal(stub_store_nwrites(), 0);
  stub_worker_run();
  assert_int_equal(stub_store_nwrites(), 1);
  assert_int_equal(stub_store_nrows(), 3);

  const struct store_miner *own = stub_store_find("f01", NULL);
  json_t *rec = row_record(own);
  assert_json_eq(rec, "{\"minerId\":\"f01\",\"balance\":\"10\",\"power\":5}"); /* no workers */
  json_decref(rec);
  assert_int_equal(own->device_id, DEVICE);
  assert_true(own->updated_time > 0);
  rec = row_record(stub_store_find("f01", "w1"));
  assert_json_eq(rec, "{\"cpu\":1}");
  json_decref(rec);
  rec = row_record(stub_store_find("f01", "w2"));
  assert_json_eq(rec, "{\"cpu\":2}");
  json_decref(rec);
  stop(); /* nothing changed since */
  assert_int_equal(stub_store_nwrites(), 1);
}

/* After a first write, a patch of one worker writes that worker's row only. */
static void test_patch_writes_changed_worker(void **state) {
  (void)state;
  upload(true, REC_A);
  wait_flush();
  stub_worker_run();
  assert_int_equal(stub_store_nrows(), 3);

  /* as the agent sends it: the changed worker, with minerId naming the record */
  upload(false, "{\"minerId\":\"f01\",\"workerInfo\":{\"w2\":{\"cpu\":9}}}");
  stop();
  assert_int_equal(stub_store_nwrites(), 2);
  assert_int_equal(stub_store_nrows(), 1);
  json_t *rec = row_record(stub_store_find("f01", "w2"));
  assert_json_eq(rec, "{\"cpu\":9}");
  json_decref(rec);
}

/* A full upload is diffed against the record: only what differs is written, a worker that is
 * gone is a row without a record (deleted). */
static void test_full_writes_diff(void **state) {
  (void)state;
  restart_with_rec_a();

  upload(true, "{\"minerId\":\"f01\",\"balance\":\"10\",\"power\":5,"
               "\"workerInfo\":{\"w1\":{\"cpu\":4}}}");
  stop();
  assert_int_equal(stub_store_nwrites(), 1);
  assert_int_equal(stub_store_nrows(), 2);
  assert_null(stub_store_find("f01", NULL)); /* the miner's own fields did not change */
  json_t *rec = row_record(stub_store_find("f01", "w1"));
  assert_json_eq(rec, "{\"cpu\":4}");
  json_decref(rec);
  /* w2, absent from the full record, is written as missing (kept until an operator removes it) */
  assert_non_null(stub_store_find("f01", "w2"));
  rec = row_record(stub_store_find("f01", "w2"));
  assert_true(json_is_true(json_object_get(rec, "missing")));
  json_decref(rec);
}

/* workerInfo null, in a patch or as the difference of a full upload, drops every worker: each
 * one's row goes. */
static void test_workers_dropped(void **state) {
  (void)state;
  restart_with_rec_a();
  upload(false, "{\"minerId\":\"f01\",\"workerInfo\":null}");
  struct miner_info mi;
  assert_true(miner_lookup(srv.miners, "f01", &mi));
  /* every worker goes missing (kept, without jobs) */
  json_t *wi = json_object_get(mi.record, "workerInfo");
  assert_int_equal(json_object_size(wi), 2);
  assert_true(json_is_true(json_object_get(json_object_get(wi, "w1"), "missing")));
  assert_true(json_is_true(json_object_get(json_object_get(wi, "w2"), "missing")));
  stop();
  assert_int_equal(stub_store_nrows(), 2);
  assert_non_null(stub_store_find("f01", "w1")->record);
  assert_non_null(stub_store_find("f01", "w2")->record);
  assert_null(stub_store_find("f01", NULL));

  /* an operator removes them: the rows are deleted */
  restart_with_rec_a();
  upload(true, "{\"minerId\":\"f01\",\"balance\":\"10\",\"power\":5}");
  assert_int_equal(miner_worker_delete(srv.miners, "f01", "w1"), 0);
  assert_int_equal(miner_worker_delete(srv.miners, "f01", "w2"), 0);
  stop();
  assert_int_equal(stub_store_nrows(), 2);
  assert_null(stub_store_find("f01", "w1")->record);
  assert_null(stub_store_find("f01", "w2")->record);
}

static void test_own_fields_row(void **state) {
  (void)state;
  restart_with_rec_a();
  upload(false, "{\"minerId\":\"f01\",\"power\":6}");
  upload(true, "{\"minerId\":\"f02\",\"workerInfo\":{\"x1\":{}}}");
  stop();
  assert_int_equal(stub_store_nrows(), 3); /* f01's own row; f02's own row and x1 */
  json_t *rec = row_record(stub_store_find("f01", NULL));
  assert_json_eq(rec, "{\"minerId\":\"f01\",\"balance\":\"10\",\"power\":6}");
  json_decref(rec);
  assert_non_null(stub_store_find("f02", NULL));
  assert_non_null(stub_store_find("f02", "x1"));
}

/* Changes made while a write is on the database thread go in the next write, even when the
 * server stops before the next tick. */
static void test_changes_during_write(void **state) {
  (void)state;
  upload(true, REC_A);
  wait_flush(); /* the write is submitted, not yet done */
  upload(false, "{\"minerId\":\"f01\",\"workerInfo\":{\"w1\":{\"cpu\":7}}}");
  stop();
  assert_int_equal(stub_store_nwrites(), 2);
  assert_int_equal(stub_store_nrows(), 1);
  json_t *rec = row_record(stub_store_find("f01", "w1"));
  assert_json_eq(rec, "{\"cpu\":7}");
  json_decref(rec);
}

static void test_write_failure(void **state) {
  (void)state;
  upload(true, REC_A);
  stub_store_fail_next(EF_EDB);
  stop(); /* logged; the loop goes on */
  assert_int_equal(stub_store_nwrites(), 1);
}

/* ----- start-up ----- */

static void test_load(void **state) {
  (void)state;
  stop();
  const struct store_miner rows[] = {
    {.miner_id = "f01", .record = "{\"minerId\":\"f01\",\"power\":5}", .device_id = DEVICE,
     .updated_time = 1000},
    {.miner_id = "f02", .record = "not json"},
    {.miner_id = "f01", .host_name = "w1", .record = "{\"cpu\":1}"},
    {.miner_id = "f09", .host_name = "w9", .record = "{\"cpu\":9}"}, /* no miner row */
  };
  stub_store_set_list(rows, sizeof rows / sizeof *rows);
  start();
  struct miner_info mi;
  assert_true(miner_lookup(srv.miners, "f01", &mi));
  assert_json_eq((json_t *)mi.record,
                 "{\"minerId\":\"f01\",\"power\":5,\"workerInfo\":{\"w1\":{\"cpu\":1}}}");
  assert_int_equal(mi.device_id, DEVICE); /* its owner, as stored */
  assert_int_equal(mi.updated, 1000);
  assert_false(miner_lookup(srv.miners, "f02", &mi));
  assert_false(miner_lookup(srv.miners, "f09", &mi));
  assert_false(miner_at(srv.miners, 1, &mi));

  /* a loaded record is a base for its owner's patches, and nothing is written until something
   * changes */
  upload(false, "{\"minerId\":\"f01\",\"workerInfo\":{\"w1\":{\"cpu\":2}}}");
  assert_int_equal(stub_net_count(&conn, STUB_NET_SEND), 1);
  stop();
  assert_int_equal(stub_store_nwrites(), 1);
  assert_int_equal(stub_store_nrows(), 1);
  assert_non_null(stub_store_find("f01", "w1"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_full_upload, setup, teardown),
    cmocka_unit_test_setup_teardown(test_full_without_workers, setup, teardown),
    cmocka_unit_test_setup_teardown(test_patch_without_base, setup, teardown),
    cmocka_unit_test_setup_teardown(test_patch_merges, setup, teardown),
    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_owner, setup, teardown),
    cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
    cmocka_unit_test_setup_teardown(test_flush_on_timer, setup, teardown),
    cmocka_unit_test_setup_teardown(test_patch_writes_changed_worker, setup, teardown),
    cmocka_unit_test_setup_teardown(test_full_writes_diff, setup, teardown),
    cmocka_unit_test_setup_teardown(test_workers_dropped, setup, teardown),
    cmocka_unit_test_setup_teardown(test_own_fields_row, setup, teardown),
    cmocka_unit_test_setup_teardown(test_changes_during_write, setup, teardown),
    cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
    cmocka_unit_test_setup_teardown(test_load, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
