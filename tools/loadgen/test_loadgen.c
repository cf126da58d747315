/* SPDX-License-Identifier: MIT */
/* test_loadgen.c -- cmocka unit tests of the load generator's pure parts: the log-linear
 * histogram (bucket edges, quantiles, exact merge), the WebSocket client framing (handshake,
 * masked encode, decode of every length form and of bad frames), the MQTT 3.1.1 packets of the
 * MQTT mode (CONNECT/PUBLISH/PINGREQ bytes, fixed-header decoding) and the seconds parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "loadgen.h"
#include "mqttframe.h"
#include "wsframe.h"

/* ----- histogram ----- */

static void test_hist_buckets(void **state) {
  (void)state;
  unsigned prev = 0;
  for (uint64_t v = 0; v <= HIST_MAX_US; v = v < 100 ? v + 1 : v + v / 7) {
    unsigned b = hist_bucket(v);
    assert_true(b < HIST_BUCKETS);
    assert_true(b >= prev); /* monotonic */
    prev = b;
    uint64_t lo, hi;
    hist_bucket_range(b, &lo, &hi);
    assert_true(lo <= v && v <= hi);
    assert_true((hi - lo) * 16 <= lo || hi - lo == 0); /* at most 1/16 wide */
  }
  assert_int_equal(hist_bucket(HIST_MAX_US * 10), hist_bucket(HIST_MAX_US)); /* clamped */
  assert_int_equal(hist_bucket(7), 7);
}

static void test_hist_quantiles(void **state) {
  (void)state;
  struct hist *h = calloc(1, sizeof *h);
  assert_int_equal(hist_quantile(h, 0.5), 0);
  for (uint64_t v = 1; v <= 1000; v++) hist_record(h, v * 100); /* 100 µs .. 100 ms */
  assert_int_equal(h->n, 1000);
  assert_int_equal(h->max_us, 100000);
  uint64_t p50 = hist_quantile(h, 0.5), p99 = hist_quantile(h, 0.99);
  assert_true(p50 >= 50000 && p50 <= 50000 + 50000 / 16 + 1);
  assert_true(p99 >= 99000 && p99 <= 100000);
  assert_int_equal(hist_quantile(h, 1.0), 100000); /* capped at the exact max */
  free(h);
}

static void test_hist_merge_exact(void **state) {
  (void)state;
  struct hist *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b), *all = calloc(1, sizeof *all);
  for (uint64_t v = 1; v < 200000; v = v * 3 / 2 + 1) {
    hist_record(v % 2 ? a : b, v);
    hist_record(all, v);
  }
  hist_merge(a, b);
  assert_memory_equal(a, all, sizeof *a);
  free(a);
  free(b);
  free(all);
}

/* ----- WebSocket framing ----- */

static void test_ws_handshake(void **state) {
  (void)state;
  /* RFC 6455 §1.3's example key and accept */
  const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
  char req[512];
  int n = ws_handshake_request(req, sizeof req, "127.0.0.1:9090", "/ws", key);
  assert_true(n > 0);
  assert_non_null(strstr(req, "GET /ws HTTP/1.1\r\n"));
  assert_non_null(strstr(req, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
  assert_int_equal(ws_handshake_request(req, 20, "h", "/ws", key), -1);

  const char *ok = "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\n"
                   "Connection: keep-alive, Upgrade\r\n"
                   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi";
  const char *why = NULL;
  long h = ws_handshake_response(ok, strlen(ok), key, &why);
  assert_int_equal(h, (long)strlen(ok) - 4); /* the frame after the head is not consumed */
  assert_int_equal(ws_handshake_response(ok, 40, key, &why), 0); /* incomplete */

  const char *bad_accept = "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOX=\r\n\r\n";
  assert_int_equal(ws_handshake_response(bad_accept, strlen(bad_accept), key, &why), -1);
  assert_non_null(strstr(why, "Accept"));
  const char *refused = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
  assert_int_equal(ws_handshake_response(refused, strlen(refused), key, &why), -1);
  const char *no_upgrade = "HTTP/1.1 101 OK\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  assert_int_equal(ws_handshake_response(no_upgrade, strlen(no_upgrade), key, &why), -1);
  char *big = malloc(WS_MAX_RESPONSE_HEAD + 10);
  memset(big, 'a', WS_MAX_RESPONSE_HEAD + 10);
  assert_int_equal(ws_handshake_response(big, WS_MAX_RESPONSE_HEAD + 10, key, &why), -1);
  free(big);

  uint8_t rnd[16] = {0};
  char k[WS_KEY_LEN + 1];
  ws_make_key(rnd, k);
  assert_string_equal(k, "AAAAAAAAAAAAAAAAAAAAAA==");
}

/* Unmask a client frame made by ws_encode and check it carries `len` bytes of `p`. */
static void check_client_frame(const uint8_t *f, size_t flen, const uint8_t *p, size_t len) {
  assert_int_equal(f[0], 0x81);
  assert_true(f[1] & 0x80); /* masked */
  size_t h = 2, plen = f[1] & 0x7f;
  if (plen == 126) {
    plen = (size_t)f[2] << 8 | f[3];
    h = 4;
  } else if (plen == 127) {
    plen = 0;
    for (int i = 0; i < 8; i++) plen = plen << 8 | f[2 + i];
    h = 10;
  }
  assert_int_equal(plen, len);
  assert_int_equal(flen, h + 4 + len);
  const uint8_t *m = f + h;
  for (size_t i = 0; i < len; i++) assert_int_equal(f[h + 4 + i] ^ m[i & 3], p[i]);
}

static void test_ws_encode(void **state) {
  (void)state;
  size_t sizes[] = {0, 1, 125, 126, 600, 65535, 65536, 70000};
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    size_t len = sizes[s];
    uint8_t *p = malloc(len + 1), *out = malloc(len + WS_MAX_HEADER);
    for (size_t i = 0; i < len; i++) p[i] = (uint8_t)(i * 7 + 3);
    size_t n = ws_encode(out, WS_TEXT, p, len, 0xA1B2C3D4u);
    check_client_frame(out, n, p, len);
    free(p);
    free(out);
  }
}

static void test_ws_decode(void **state) {
  (void)state;
  struct ws_frame f;
  const char *why = NULL;
  const uint8_t small[] = {0x81, 0x02, 'h', 'i'};
  assert_int_equal(ws_decode(small, sizeof small, 1 << 20, &f, &why), 4);
  assert_true(f.fin);
  assert_int_equal(f.opcode, WS_TEXT);
  assert_int_equal(f.len, 2);
  assert_memory_equal(f.payload, "hi", 2);
  for (size_t cut = 0; cut < sizeof small; cut++) /* every prefix is "need more" */
    assert_int_equal(ws_decode(small, cut, 1 << 20, &f, &why), 0);

  /* 16-bit and 64-bit lengths, a fragment (fin clear) */
  uint8_t *buf = calloc(1, 70000 + 10);
  buf[0] = 0x01;
  buf[1] = 126;
  buf[2] = 0x01;
  buf[3] = 0x2c; /* 300 */
  assert_int_equal(ws_decode(buf, 4 + 299, 1 << 20, &f, &why), 0);
  assert_int_equal(ws_decode(buf, 4 + 300, 1 << 20, &f, &why), 304);
  assert_false(f.fin);
  assert_int_equal(f.len, 300);
  buf[0] = 0x80; /* final continuation */
  buf[1] = 127;
  memset(buf + 2, 0, 8);
  buf[7] = 0x01;
  buf[8] = 0x11;
  buf[9] = 0x70; /* 70000 */
  assert_int_equal(ws_decode(buf, 10 + 70000, 1 << 20, &f, &why), 10 + 70000);
  assert_int_equal(f.opcode, WS_CONT);
  assert_int_equal(f.len, 70000);
  assert_int_equal(ws_decode(buf, 10 + 70000, 1000, &f, &why), -1); /* over the limit */
  buf[2] = 0x80; /* top bit of a 64-bit length */
  assert_int_equal(ws_decode(buf, 10, 1 << 20, &f, &why), -1);
  free(buf);

  const uint8_t masked[] = {0x81, 0x82, 1, 2, 3, 4, 'h', 'i'};
  assert_int_equal(ws_decode(masked, sizeof masked, 1 << 20, &f, &why), -1);
  const uint8_t rsv[] = {0xC1, 0x00};
  assert_int_equal(ws_decode(rsv, sizeof rsv, 1 << 20, &f, &why), -1);
  const uint8_t opcode3[] = {0x83, 0x00};
  assert_int_equal(ws_decode(opcode3, sizeof opcode3, 1 << 20, &f, &why), -1);
  const uint8_t frag_ping[] = {0x09, 0x00};
  assert_int_equal(ws_decode(frag_ping, sizeof frag_ping, 1 << 20, &f, &why), -1);
  const uint8_t big_ping[] = {0x89, 126, 0x00, 0x80};
  assert_int_equal(ws_decode(big_ping, sizeof big_ping, 1 << 20, &f, &why), -1);
  const uint8_t close_frame[] = {0x88, 0x02, 0x03, 0xe8};
  assert_int_equal(ws_decode(close_frame, sizeof close_frame, 1 << 20, &f, &why), 4);
  assert_int_equal(f.opcode, WS_CLOSE);
}

/* ----- MQTT ----- */

static void test_mqtt_connect(void **state) {
  (void)state;
  uint8_t buf[64];
  size_t n = mqtt_connect(buf, sizeof buf, "LG-7", 5);
  static const uint8_t want[] = {0x10, 16, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 5,
                                 0, 4, 'L', 'G', '-', '7'};
  assert_int_equal(n, sizeof want);
  assert_memory_equal(buf, want, sizeof want);
  assert_int_equal(mqtt_connect(buf, 10, "LG-7", 5), 0); /* too small */
  assert_int_equal(mqtt_connect(buf, sizeof buf, "x", 70000), 0);
}

static void test_mqtt_publish(void **state) {
  (void)state;
  uint8_t buf[1024], payload[600];
  memset(payload, 'p', sizeof payload);
  size_t n = mqtt_publish(buf, sizeof buf, "edgefleet/LG-1/status", payload, 600, 1, true, 0x1234);
  size_t rem = 2 + 21 + 2 + 600; /* 625: two varint bytes */
  assert_int_equal(n, 1 + 2 + rem);
  assert_int_equal(buf[0], 0x33); /* PUBLISH, QoS 1, retain */
  assert_int_equal(buf[1], (rem & 0x7f) | 0x80);
  assert_int_equal(buf[2], rem >> 7);
  assert_int_equal(buf[3], 0);
  assert_int_equal(buf[4], 21);
  assert_memory_equal(buf + 5, "edgefleet/LG-1/status", 21);
  assert_int_equal(buf[26], 0x12);
  assert_int_equal(buf[27], 0x34);
  assert_memory_equal(buf + 28, payload, 600);
  /* decoding our own packet gives back the body */
  struct mqtt_packet p;
  const char *why = NULL;
  assert_int_equal(mqtt_decode(buf, n, 1 << 20, &p, &why), (long)n);
  assert_int_equal(p.type, MQTT_PUBLISH);
  assert_int_equal(p.flags, 3);
  assert_int_equal(p.len, rem);
  for (size_t cut = 0; cut < n; cut++) /* every prefix is incomplete, not an error */
    assert_int_equal(mqtt_decode(buf, cut, 1 << 20, &p, &why), 0);
  assert_int_equal(mqtt_decode(buf, n, 100, &p, &why), -1); /* over max_body */
  /* QoS 0 has no packet id; QoS 1 needs one; QoS 2 and empty topics are refused */
  assert_int_equal(mqtt_publish(buf, sizeof buf, "t", "x", 1, 0, false, 0), 1 + 1 + 3 + 1);
  assert_int_equal(buf[0], 0x30);
  assert_int_equal(mqtt_publish(buf, sizeof buf, "t", "x", 1, 1, false, 0), 0);
  assert_int_equal(mqtt_publish(buf, sizeof buf, "t", "x", 1, 2, false, 1), 0);
  assert_int_equal(mqtt_publish(buf, sizeof buf, "", "x", 1, 0, false, 0), 0);
  assert_int_equal(mqtt_publish(buf, 20, "t", payload, 600, 0, false, 0), 0);
}

static void test_mqtt_decode(void **state) {
  (void)state;
  struct mqtt_packet p;
  const char *why = NULL;
  uint8_t ping[2];
  assert_int_equal(mqtt_pingreq(ping), 2);
  assert_int_equal(ping[0], 0xC0);
  assert_int_equal(mqtt_disconnect(ping), 2);
  assert_int_equal(ping[0], 0xE0);
  static const uint8_t connack[] = {0x20, 2, 0, 0}, refused[] = {0x20, 2, 0, 5},
                       puback[] = {0x40, 2, 0xab, 0xcd}, pingresp[] = {0xD0, 0};
  assert_int_equal(mqtt_decode(connack, 4, 100, &p, &why), 4);
  assert_int_equal(p.type, MQTT_CONNACK);
  assert_int_equal(mqtt_connack_code(&p), 0);
  assert_int_equal(mqtt_decode(refused, 4, 100, &p, &why), 4);
  assert_int_equal(mqtt_connack_code(&p), 5);
  assert_int_equal(mqtt_decode(puback, 4, 100, &p, &why), 4);
  assert_int_equal(p.type, MQTT_PUBACK);
  assert_int_equal(mqtt_puback_id(&p), 0xabcd);
  assert_int_equal(mqtt_decode(pingresp, 2, 100, &p, &why), 2);
  assert_int_equal(p.type, MQTT_PINGRESP);
  assert_int_equal(p.len, 0);
  assert_int_equal(mqtt_puback_id(&p), -1);
  assert_int_equal(mqtt_connack_code(&p), -1);
  /* two packets back to back: the first one's length */
  static const uint8_t two[] = {0xD0, 0, 0x40, 2, 0, 1};
  assert_int_equal(mqtt_decode(two, sizeof two, 100, &p, &why), 2);
  assert_int_equal(mqtt_decode(two + 2, 4, 100, &p, &why), 4);
  /* bad: reserved types, a 5-byte remaining length */
  static const uint8_t zero[] = {0x00, 0}, fifteen[] = {0xF0, 0},
                       longlen[] = {0x30, 0xff, 0xff, 0xff, 0xff, 0x01};
  assert_int_equal(mqtt_decode(zero, 2, 100, &p, &why), -1);
  assert_int_equal(mqtt_decode(fifteen, 2, 100, &p, &why), -1);
  why = NULL;
  assert_int_equal(mqtt_decode(longlen, sizeof longlen, 1u << 30, &p, &why), -1);
  assert_non_null(why);
  assert_int_equal(mqtt_decode(longlen, 3, 1u << 30, &p, &why), 0); /* still incomplete */
}

static void test_parse_seconds(void **state) {
  (void)state;
  assert_int_equal(config_parse_seconds("6"), 6000000);
  assert_int_equal(config_parse_seconds("1.5"), 1500000);
  assert_int_equal(config_parse_seconds("500ms"), 500000);
  assert_int_equal(config_parse_seconds("2m"), 120000000);
  assert_int_equal(config_parse_seconds("3s"), 3000000);
  assert_int_equal(config_parse_seconds("0"), 0);
  assert_int_equal(config_parse_seconds("-1"), -1);
  assert_int_equal(config_parse_seconds("abc"), -1);
  assert_int_equal(config_parse_seconds("5x"), -1);
  assert_int_equal(config_parse_seconds(""), -1);
  assert_int_equal(config_parse_seconds("nan"), -1);
  assert_int_equal(config_parse_seconds("1e30"), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hist_buckets),   cmocka_unit_test(test_hist_quantiles),
      cmocka_unit_test(test_hist_merge_exact), cmocka_unit_test(test_ws_handshake),
      cmocka_unit_test(test_ws_encode),      cmocka_unit_test(test_ws_decode),
      cmocka_unit_test(test_mqtt_connect),   cmocka_unit_test(test_mqtt_publish),
      cmocka_unit_test(test_mqtt_decode),    cmocka_unit_test(test_parse_seconds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
