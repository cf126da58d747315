/* SPDX-License-Identifier: MIT */
/* test_lotus_reach.c -- the worker reachability check (lotus_reach.c): `storage list` URLs,
 * matching a worker by the URL's literal host or by its resolved address, connects to a port
 * that listens / refuses, the `max` bound; and the proving check's minimal readings
 * (lotus_provecheck.c): bad sectors of `proving check --only-bad`, the schedule from
 * `proving info`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "jsonutil.h"
#include "lotus_provecheck.h"
#include "lotus_reach.h"

static const char STORAGE[] =
  "8a6e1c0f-8f8a-4d5b-9a3e-0c0c0c0c0c0c:\n"
  "        [##########                  ] 2.5 TiB/7.2 TiB 34%%\n"
  "        Unsealed: 1; Sealed: 10; Caches: 2; Updated: 0; Update-caches: 0; Reserved: 0 B\n"
  "        Weight: 10; Use: Seal \n"
  "        Local: /mnt/seal\n"
  "        URL: http://127.0.0.1:%d/remote\n"
  "\n"
  "b1b1b1b1-8f8a-4d5b-9a3e-0c0c0c0c0c0c:\n"
  "        Weight: 10; Use: Store\n"
  "        URL: http://127.0.0.1:%d/remote\n"
  "        URL: http://127.0.0.1:%d/remote\n"  /* the same again: one probe */
  "        URL: http://[::1]:3456/remote\n"
  "        URL: garbage\n";

static int listen_port(int *fd) {
  *fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(*fd, 8), 0);
  socklen_t l = sizeof a;
  getsockname(*fd, (struct sockaddr *)&a, &l);
  return ntohs(a.sin_port);
}

static void storage_urls(void **state) {
  (void)state;
  char buf[2048];
  snprintf(buf, sizeof buf, STORAGE, 1111, 2222, 2222);
  json_t *st = lotus_reach_parse_storage(buf, strlen(buf));
  json_t *urls = json_object_get(st, "urls");
  assert_int_equal(json_array_size(urls), 3);
  assert_string_equal(jstr(json_array_get(urls, 0), "host"), "127.0.0.1");
  assert_int_equal(json_integer_value(json_object_get(json_array_get(urls, 0), "port")), 1111);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(urls, 1), "port")), 2222);
  assert_string_equal(jstr(json_array_get(urls, 2), "host"), "::1");
  json_decref(st);
  st = lotus_reach_parse_storage("", 0);
  assert_int_equal(json_array_size(json_object_get(st, "urls")), 0);
  json_decref(st);
}

static void probe(void **state) {
  (void)state;
  int lfd;
  int up = listen_port(&lfd);
  int cfd;
  int down = listen_port(&cfd);
  close(cfd); /* refused from now on */
  char buf[2048];
  snprintf(buf, sizeof buf,
           "x:\n URL: http://localhost:%d/remote\n URL: http://127.0.0.2:%d/remote\n", up, down);
  json_t *st = lotus_reach_parse_storage(buf, strlen(buf));
  /* "localhost": the URL's literal host; "127.0.0.1": by address (localhost resolves to it);
   * "127.0.0.2": refused; "127.0.0.9": no URL (numeric names: no DNS query in a test) */
  json_t *hosts = json_pack("[s, s, s, s]", "localhost", "127.0.0.2", "127.0.0.9",
                            "127.0.0.1");
  json_t *r = lotus_reach_probe(st, hosts, 2000, 16);
  assert_string_equal(jstr(r, "localhost"), "reachable");
  assert_string_equal(jstr(r, "127.0.0.1"), "reachable");
  assert_string_equal(jstr(r, "127.0.0.2"), "unreachable");
  assert_string_equal(jstr(r, "127.0.0.9"), "unknown");
  json_decref(r);
  /* at most `max` probed: the rest unknown */
  r = lotus_reach_probe(st, hosts, 2000, 1);
  assert_string_equal(jstr(r, "localhost"), "reachable");
  assert_string_equal(jstr(r, "127.0.0.2"), "unknown");
  json_decref(r);
  json_decref(hosts);
  json_decref(st);
  close(lfd);
}

static void proving_check_output(void **state) {
  (void)state;
  static const char out[] = "deadline  partition  sector  status\n"
                            "12        0          5       bad (sealed file missing)\n"
                            "12        1          1234    bad (cache: no such file)\n"
                            "note: 12 3 x\n";
  json_t *pc = lotus_provecheck_parse(out, sizeof out - 1);
  assert_int_equal(json_integer_value(json_object_get(pc, "bad")), 2);
  json_t *bad = json_object_get(pc, "badSectors");
  assert_int_equal(json_integer_value(json_array_get(bad, 0)), 5);
  assert_int_equal(json_integer_value(json_array_get(bad, 1)), 1234);
  assert_null(json_object_get(pc, "badTruncated"));
  json_decref(pc);
  pc = lotus_provecheck_parse("deadline  partition  sector  status\n", 36);
  assert_int_equal(json_integer_value(json_object_get(pc, "bad")), 0);
  json_decref(pc);
}

static void proving_info(void **state) {
  (void)state;
  static const char out[] = "Miner: f01234\nCurrent Epoch:           1000\n"
                            "Deadline Index:       47\nDeadline Sectors:     0\n"
                            "Deadline Open:        980 (10m0s ago)\n"
                            "Deadline Close:       1040 (in 20m30s)\n";
  int idx = -1;
  int64_t in = 0;
  assert_true(lotus_provecheck_info(out, sizeof out - 1, &idx, &in));
  assert_int_equal(idx, 47);
  assert_int_equal(in, 20 * 60000 + 30000);
  assert_false(lotus_provecheck_info("Deadline Index: 48\n", 19, &idx, &in));
  assert_false(lotus_provecheck_info("", 0, &idx, &in));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(storage_urls),
    cmocka_unit_test(probe),
    cmocka_unit_test(proving_check_output),
    cmocka_unit_test(proving_info),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
