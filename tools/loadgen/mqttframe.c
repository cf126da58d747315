/* SPDX-License-Identifier: MIT */
/* mqttframe.c -- MQTT 3.1.1 client packet encoding and fixed-header decoding (see
 * mqttframe.h). Pure functions over caller buffers. */
#include "mqttframe.h"

#include <string.h>

/* Remaining length as 1..4 bytes of base-128 varint; returns the bytes written. */
static size_t put_varint(uint8_t *out, size_t v) {
  size_t n = 0;
  do {
    uint8_t b = (uint8_t)(v % 128);
    v /= 128;
    if (v) b |= 0x80;
    out[n++] = b;
  } while (v);
  return n;
}

static size_t varint_len(size_t v) {
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

static size_t put_str(uint8_t *out, const char *s, size_t n) {
  out[0] = (uint8_t)(n >> 8);
  out[1] = (uint8_t)n;
  memcpy(out + 2, s, n);
  return n + 2;
}

size_t mqtt_connect(uint8_t *out, size_t cap, const char *client_id, unsigned keepalive_s) {
  size_t idlen = strlen(client_id);
  if (idlen > 65535 || keepalive_s > 65535) return 0;
  size_t rem = 10 + 2 + idlen; /* "MQTT" header (6) + level + flags + keepalive (4) + id */
  size_t total = 1 + varint_len(rem) + rem;
  if (total > cap) return 0;
  size_t at = 0;
  out[at++] = MQTT_CONNECT << 4;
  at += put_varint(out + at, rem);
  at += put_str(out + at, "MQTT", 4);
  out[at++] = 4;    /* protocol level 3.1.1 */
  out[at++] = 0x02; /* clean session */
  out[at++] = (uint8_t)(keepalive_s >> 8);
  out[at++] = (uint8_t)keepalive_s;
  at += put_str(out + at, client_id, idlen);
  return at;
}

size_t mqtt_publish(uint8_t *out, size_t cap, const char *topic, const void *payload, size_t n,
                    unsigned qos, bool retain, uint16_t packet_id) {
  size_t tlen = strlen(topic);
  if (qos > 1 || tlen == 0 || tlen > 65535 || (qos == 1 && packet_id == 0)) return 0;
  size_t rem = 2 + tlen + (qos ? 2 : 0) + n;
  if (rem > MQTT_MAX_REMAINING) return 0;
  size_t total = 1 + varint_len(rem) + rem;
  if (total > cap) return 0;
  size_t at = 0;
  out[at++] = (uint8_t)(MQTT_PUBLISH << 4 | qos << 1 | (retain ? 1 : 0));
  at += put_varint(out + at, rem);
  at += put_str(out + at, topic, tlen);
  if (qos) {
    out[at++] = (uint8_t)(packet_id >> 8);
    out[at++] = (uint8_t)packet_id;
  }
  if (n) memcpy(out + at, payload, n);
  return at + n;
}

size_t mqtt_pingreq(uint8_t out[2]) {
  out[0] = MQTT_PINGREQ << 4;
  out[1] = 0;
  return 2;
}

size_t mqtt_disconnect(uint8_t out[2]) {
  out[0] = MQTT_DISCONNECT << 4;
  out[1] = 0;
  return 2;
}

long mqtt_decode(const uint8_t *data, size_t len, size_t max_body, struct mqtt_packet *p,
                 const char **why) {
  if (len < 2) return 0;
  unsigned type = data[0] >> 4;
  if (type == 0 || type == 15) {
    *why = "reserved MQTT packet type";
    return -1;
  }
  size_t rem = 0, mult = 1, at = 1;
  for (;;) {
    if (at >= len) return 0;
    if (at > 4) {
      *why = "MQTT remaining length over 4 bytes";
      return -1;
    }
    uint8_t b = data[at++];
    rem += (size_t)(b & 0x7f) * mult;
    mult *= 128;
    if (!(b & 0x80)) break;
  }
  if (rem > max_body) {
    *why = "MQTT packet too large";
    return -1;
  }
  if (len - at < rem) return 0;
  p->type = type;
  p->flags = data[0] & 0x0f;
  p->body = data + at;
  p->len = rem;
  return (long)(at + rem);
}

int mqtt_puback_id(const struct mqtt_packet *p) {
  if (p->len != 2) return -1;
  return p->body[0] << 8 | p->body[1];
}

int mqtt_connack_code(const struct mqtt_packet *p) {
  if (p->len != 2) return -1;
  return p->body[1];
}
