/* SPDX-License-Identifier: MIT */
/* fuzz_mqttframe.c -- the load generator's MQTT 3.1.1 decoder (tools/loadgen/mqttframe.c) on what
 * a broker could send: the input (after one mode byte that picks max_body: the loadgen's 1 MiB or
 * a small limit) is a connection's byte stream, decoded packet after packet as the loadgen's
 * worker does, CONNACK and PUBACK bodies read. Properties: a packet lies inside the input, its
 * body is at most max_body, every proper prefix of a packet that decodes is incomplete (0), and
 * the encoders round-trip: a PUBLISH built from the packet's bytes (topic, payload, QoS, retain,
 * id) decodes to the same type, flags and length. */
#include "fuzz.h"
#include "mqttframe.h"

#define MAX_MESSAGE (1 << 20) /* tools/loadgen/worker.c */

static void roundtrip_publish(const struct mqtt_packet *p) {
  /* A topic from the body's first bytes (no NUL: mqtt_publish takes a C string). */
  char topic[64];
  size_t tl = 0;
  for (; tl < p->len && tl < sizeof topic - 1 && p->body[tl]; tl++) topic[tl] = (char)p->body[tl];
  topic[tl] = '\0';
  unsigned qos = p->flags >> 1 & 1;
  bool retain = p->flags & 1;
  uint16_t id = (uint16_t)(p->len >= 2 ? p->body[0] << 8 | p->body[1] : 1);
  if (qos && !id) id = 1;
  size_t cap = p->len + sizeof topic + 2 + 2 + MQTT_MAX_HEADER; /* body, topic, id, header */
  uint8_t *out = malloc(cap);
  if (!out) abort();
  size_t n = mqtt_publish(out, cap, topic, p->body, p->len, qos, retain, id);
  if (tl == 0) {
    FUZZ_CHECK(n == 0); /* an empty topic is refused */
  } else {
    FUZZ_CHECK(n > 0 && n <= cap);
    struct mqtt_packet q;
    const char *why = NULL;
    long ql = mqtt_decode(out, n, cap, &q, &why);
    FUZZ_CHECK(ql == (long)n);
    FUZZ_CHECK(q.type == MQTT_PUBLISH && q.flags == (qos << 1 | (retain ? 1u : 0u)));
    FUZZ_CHECK(q.len == 2 + tl + (qos ? 2 : 0) + p->len);
    FUZZ_CHECK(memcmp(q.body + 2, topic, tl) == 0);
    FUZZ_CHECK(p->len == 0 || memcmp(q.body + q.len - p->len, p->body, p->len) == 0);
  }
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t mode = data[0];
  data++;
  size--;
  size_t max_body = (mode & 1) ? MAX_MESSAGE : (size_t)(mode >> 1);
  size_t at = 0;
  while (at < size) {
    struct mqtt_packet p;
    const char *why = NULL;
    long pl = mqtt_decode(data + at, size - at, max_body, &p, &why);
    if (pl == 0) break;
    if (pl < 0) {
      FUZZ_CHECK(why != NULL);
      break;
    }
    FUZZ_CHECK(pl >= 2 && (size_t)pl <= size - at);
    FUZZ_CHECK(p.len <= max_body && p.body + p.len == data + at + pl);
    FUZZ_CHECK(p.type >= 1 && p.type <= 14 && p.flags <= 15);
    for (long cut = 0; cut < pl; cut += (pl < 64 ? 1 : pl / 16 + 1)) {
      struct mqtt_packet q;
      const char *w2 = NULL;
      FUZZ_CHECK(mqtt_decode(data + at, (size_t)cut, max_body, &q, &w2) == 0);
    }
    int code = mqtt_connack_code(&p), id = mqtt_puback_id(&p);
    FUZZ_CHECK(p.len == 2 ? code >= 0 && code <= 255 && id >= 0 && id <= 65535
                          : code == -1 && id == -1);
    if (p.len <= MAX_MESSAGE) roundtrip_publish(&p);
    at += (size_t)pl;
  }
  uint8_t two[2];
  FUZZ_CHECK(mqtt_pingreq(two) == 2 && mqtt_disconnect(two) == 2);
  return 0;
}
