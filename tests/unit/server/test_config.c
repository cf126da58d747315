/* SPDX-License-Identifier: MIT */
/* test_config.c -- config_init()'s TLS rules (docs/security.md#tls): tls_cert and tls_key go
 * together, tls_ca needs them, and a listen address (IPv4) that is not loopback needs TLS or
 * allow_plaintext = true; config_listen_is_loopback() decides what loopback is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "edgefleet/error.h"
#include "server.h"

/* config_init() on "edgefleetd" + the given flags: its result, err filled. */
static int init(char *err, size_t errlen, int argc, char **flags) {
  char *argv[16] = {"edgefleetd"};
  for (int i = 0; i < argc; i++) argv[i + 1] = flags[i];
  struct server_config cfg;
  err[0] = '\0';
  int rc = config_init(&cfg, argc + 1, argv, err, errlen);
  config_free(&cfg);
  return rc;
}

#define INIT(...)                                                                             \
  init(err, sizeof err, (int)(sizeof(char *[]){__VA_ARGS__} / sizeof(char *)),                \
       (char *[]){__VA_ARGS__})

static void test_loopback(void **state) {
  (void)state;
  assert_true(config_listen_is_loopback("127.0.0.1:9090"));
  assert_true(config_listen_is_loopback("127.8.9.10:0"));
  assert_true(config_listen_is_loopback("localhost:80"));
  assert_false(config_listen_is_loopback("0.0.0.0:9090"));
  assert_false(config_listen_is_loopback("10.0.0.1:9090"));
  assert_false(config_listen_is_loopback("128.0.0.1:9090"));
  assert_false(config_listen_is_loopback("127.0.0.1.example.org:9090"));
  assert_false(config_listen_is_loopback(":9090"));
  assert_false(config_listen_is_loopback(""));
}

static void test_plaintext_rule(void **state) {
  (void)state;
  char err[512];
  assert_int_equal(INIT("--listen", "127.0.0.1:0"), 0);
  assert_int_equal(INIT("--listen", "0.0.0.0:9090"), EF_ECONFIG);
  assert_non_null(strstr(err, "refusing to listen on 0.0.0.0:9090 without TLS"));
  assert_non_null(strstr(err, "allow_plaintext"));
  assert_int_equal(INIT("--listen", "192.0.2.1:9090", "--allow-plaintext", "true"), 0);
  assert_int_equal(INIT("--listen", "0.0.0.0:9090", "--tls-cert", "c.pem", "--tls-key", "k.pem"),
                   0);
  assert_int_equal(INIT("--listen", "0.0.0.0:9090", "--allow-plaintext", "maybe"), EF_ECONFIG);
  /* not an IPv4 address: the listener refuses it with its own reason, later */
  assert_int_equal(INIT("--listen", "example:80"), 0);
}

static void test_tls_pairs(void **state) {
  (void)state;
  char err[512];
  assert_int_equal(INIT("--tls-cert", "c.pem"), EF_ECONFIG);
  assert_non_null(strstr(err, "tls_cert and tls_key go together"));
  assert_int_equal(INIT("--tls-key", "k.pem"), EF_ECONFIG);
  assert_int_equal(INIT("--tls-ca", "ca.pem"), EF_ECONFIG);
  assert_non_null(strstr(err, "tls_ca (mutual TLS) needs tls_cert"));
  assert_int_equal(INIT("--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-ca", "ca.pem"), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loopback),
      cmocka_unit_test(test_plaintext_rule),
      cmocka_unit_test(test_tls_pairs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
