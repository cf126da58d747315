/* SPDX-License-Identifier: MIT */
/* test_options.c -- the option table behind ef_client_set / ef_client_load_config, and the
 * server URL parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "edge_internal.h"
#include "edgefleet/edge.h"

static void test_defaults(void **state) {
  (void)state;
  struct edge_conf c;
  assert_int_equal(options_defaults(&c), 0);
  assert_int_equal(c.ping_interval, 5000);
  assert_int_equal(c.pong_timeout, 3000);
  assert_int_equal(c.status_interval, 15000);
  assert_int_equal(c.max_failures, 3);
  assert_int_equal(c.reconnect_interval, 10000);
  assert_int_equal(c.reconnect_jitter, 5000);
  assert_int_equal(c.max_retries, 5);
  assert_int_equal(c.restart_wait, 3000);
  assert_int_equal(c.log_rotate, 86400000);
  assert_int_equal(c.log_keep, 3);
  assert_int_equal(c.sftp_port, 22);
  assert_int_equal(c.max_message, 1024 * 1024);
  assert_string_equal(c.data_dir, ".");
  assert_string_equal(c.log_file, "device.log");
  assert_null(c.server);
  options_free(&c);
}

static void test_set(void **state) {
  (void)state;
  ef_client *c;
  assert_int_equal(ef_client_new(&c), 0);
  assert_int_equal(ef_client_set(c, "ping-interval", "300ms"), 0);
  assert_int_equal(ef_client_set(c, "device_id", "abc"), 0);
  assert_int_equal(ef_client_set(c, "server", "ws://h:1/ws"), 0);
  assert_int_equal(ef_client_set(c, "no_such_option", "1"), EF_ENOENT);
  assert_int_equal(ef_client_set(c, "max_retries", "-1"), EF_ECONFIG);
  assert_int_equal(ef_client_set(c, "pong_timeout", "fast"), EF_ECONFIG);
  assert_int_equal(ef_client_set(c, "server", "wss://h/ws"), 0);
  assert_int_equal(ef_client_set(c, "ca_file", "/etc/ca.pem"), 0);
  assert_int_equal(ef_client_set(c, "pinned_pubkey", "sha256/abc"), EF_ECONFIG);
  assert_int_equal(ef_client_set(c, "server", "http://h/ws"), EF_ECONFIG);
  assert_int_equal(ef_client_set(c, NULL, "x"), EF_EINVAL);
  assert_int_equal(ef_client_on_order(c, "restart", NULL, NULL), EF_EINVAL);
  assert_int_equal(ef_client_send_miner(c, "[1]", 0), EF_EPARSE);
  assert_int_equal(ef_client_send_miner(c, "{\"a\":1}", 0), 0); /* freed with the client */
  assert_null(ef_client_device_id(c));
  ef_client_free(&c);
  assert_null(c);
  ef_client_free(&c);
  ef_client_free(NULL);
}

static void test_config_file(void **state) {
  (void)state;
  char path[] = "/tmp/ef-conf-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *text = "# device\nserver = ws://127.0.0.1:9090/ws\ndevice-id 42\n"
                     "status_interval = 2s\n";
  assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
  close(fd);
  ef_client *c;
  ef_client_new(&c);
  assert_int_equal(ef_client_load_config(c, path), 0);
  assert_int_equal(c->conf.status_interval, 2000);
  assert_string_equal(c->conf.device_id, "42");
  FILE *f = fopen(path, "a");
  fputs("unknown_key = 1\n", f);
  fclose(f);
  assert_int_equal(ef_client_load_config(c, path), EF_ECONFIG);
  assert_int_equal(ef_client_load_config(c, "/nonexistent.conf"), EF_ECONFIG);
  unlink(path);
  /* run refuses an incomplete configuration without touching the network */
  ef_client *d;
  ef_client_new(&d);
  assert_int_equal(ef_client_run(d), EF_ECONFIG); /* no server */
  ef_client_set(d, "server", "ws://127.0.0.1:1/ws");
  assert_int_equal(ef_client_run(d), EF_ECONFIG); /* no identity */
  ef_client_free(&d);
  ef_client_free(&c);
}

static void test_url(void **state) {
  (void)state;
  struct edge_url u;
  char err[256];
  assert_int_equal(options_parse_url("ws://example.org:9090/ws", &u, err, sizeof err), 0);
  assert_string_equal(u.host, "example.org");
  assert_int_equal(u.port, 9090);
  assert_string_equal(u.path, "/ws");
  assert_int_equal(options_parse_url("ws://10.0.0.1", &u, err, sizeof err), 0);
  assert_int_equal(u.port, 80);
  assert_string_equal(u.path, "/");
  assert_int_equal(options_parse_url("ws://[::1]:81/a/b?x=1", &u, err, sizeof err), 0);
  assert_string_equal(u.host, "::1");
  assert_int_equal(u.port, 81);
  assert_string_equal(u.path, "/a/b?x=1");
  assert_false(u.tls);
  /* wss://: TLS, port 443 unless given */
  assert_int_equal(options_parse_url("wss://fleet.example.org/ws", &u, err, sizeof err), 0);
  assert_true(u.tls);
  assert_string_equal(u.host, "fleet.example.org");
  assert_int_equal(u.port, 443);
  assert_int_equal(options_parse_url("WSS://10.0.0.1:9443", &u, err, sizeof err), 0);
  assert_true(u.tls);
  assert_int_equal(u.port, 9443);
  assert_string_equal(u.path, "/");
  static const char *bad[] = {"", "ws://", "ws://:80/", "ws://h:0/", "ws://h:70000/",
                              "ws://h:x/", "ws://[::1/", "wss://", "wss://h:0/", "tcp://h/",
                              "ws://h:/", "https://h/"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(options_parse_url(bad[i], &u, err, sizeof err), EF_ECONFIG);
  options_parse_url("tcp://h/", &u, err, sizeof err);
  assert_non_null(strstr(err, "must start with ws:// or wss://"));
}

/* pinned_pubkey: curl's sha256//<base64> form, ';' between several. */
static void test_pins(void **state) {
  (void)state;
  struct edge_pins p;
  char err[256];
  const char *a = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; /* SHA-256 of "" */
  const char *b = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  assert_int_equal(tls_pins_parse(a, &p, err, sizeof err), 0);
  assert_int_equal(p.n, 1);
  static const unsigned char empty_sha[32] = {
      0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
      0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
  assert_true(tls_pins_match(&p, empty_sha));
  char two[200];
  snprintf(two, sizeof two, "%s;%s", b, a);
  assert_int_equal(tls_pins_parse(two, &p, err, sizeof err), 0);
  assert_int_equal(p.n, 2);
  assert_true(tls_pins_match(&p, empty_sha));
  assert_int_equal(tls_pins_parse(b, &p, err, sizeof err), 0);
  assert_false(tls_pins_match(&p, empty_sha));
  static const char *bad[] = {"", "sha256//", "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                              "sha1//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                              "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF==",
                              "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
                              "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hS!FU=",
                              "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = tls_pins_parse(bad[i], &p, err, sizeof err);
    if (i == sizeof bad / sizeof bad[0] - 1) assert_int_equal(rc, 0); /* a trailing ';' is fine */
    else assert_int_equal(rc, EF_ECONFIG);
  }
  assert_non_null(strstr(err, "pinned_pubkey"));
}

/* Every option the library lists for --help is one ef_client_set() accepts, once each. */
static void test_option_list(void **state) {
  (void)state;
  ef_client *c;
  assert_int_equal(ef_client_new(&c), 0);
  const char *name, *def, *help, *seen[64];
  size_t n = 0;
  for (; ef_client_option(n, &name, &def, &help) == 0; n++) {
    assert_true(n < 64);
    assert_non_null(name);
    assert_non_null(help);
    for (size_t k = 0; k < n; k++) assert_string_not_equal(seen[k], name);
    seen[n] = name;
    if (def) assert_int_equal(ef_client_set(c, name, def), 0);
  }
  assert_true(n >= 25);
  assert_int_equal(ef_client_option(n, &name, &def, &help), EF_ENOENT);
  assert_int_equal(ef_client_option(0, NULL, NULL, NULL), 0);
  ef_client_free(&c);
}

/* The library's version is the headers' (one build), and durations are seconds unless given a
 * unit, with the old milliseconds hinted at when out of range. */
static void test_version_and_seconds(void **state) {
  (void)state;
  assert_string_equal(ef_version(), EF_VERSION_STRING);
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", EF_VERSION_MAJOR, EF_VERSION_MINOR, EF_VERSION_PATCH);
  assert_string_equal(ef_version(), want);
  assert_true(EF_VERSION_NUMBER >= EF_VERSION_AT(0, 1, 0));
  struct edge_conf conf;
  char err[256];
  assert_int_equal(options_defaults(&conf), 0);
  assert_int_equal(options_set(&conf, "status_interval", "20", err, sizeof err), 0);
  assert_int_equal(conf.status_interval, 20000);
  assert_int_equal(options_set(&conf, "status-interval", "250ms", err, sizeof err), 0);
  assert_int_equal(conf.status_interval, 250);
  assert_int_equal(options_set(&conf, "status_interval", "100000", err, sizeof err), EF_ECONFIG);
  assert_string_equal(err, "status_interval: 100000 s is out of range [0.01 s, 86400 s]; "
                           "did you mean 100000ms?");
  options_free(&conf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_version_and_seconds),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_set),
      cmocka_unit_test(test_config_file),
      cmocka_unit_test(test_url),
      cmocka_unit_test(test_pins),
      cmocka_unit_test(test_option_list),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
