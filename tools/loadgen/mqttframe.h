/* SPDX-License-Identifier: MIT */
/* mqttframe.h -- the client side of MQTT 3.1.1 packets (OASIS, 2014), just what the load
 * generator's MQTT mode needs to drive a broker with the same work as edgefleetd's devices:
 * CONNECT (clean session, keepalive), PUBLISH (QoS 0/1, retain), PINGREQ, DISCONNECT, and the
 * decoding of any server packet's fixed header (CONNACK, PUBACK, PINGRESP, ...).
 *
 * Hand-written for the same reason as wsframe.h: a few hundred bytes per simulated device.
 * Nothing here allocates: the caller passes buffers, decoded bodies point into them.
 */
#ifndef LG_MQTTFRAME_H
#define LG_MQTTFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mqtt_type { MQTT_CONNECT = 1, MQTT_CONNACK = 2, MQTT_PUBLISH = 3, MQTT_PUBACK = 4,
                 MQTT_SUBSCRIBE = 8, MQTT_SUBACK = 9, MQTT_PINGREQ = 12, MQTT_PINGRESP = 13,
                 MQTT_DISCONNECT = 14 };

#define MQTT_MAX_HEADER 5 /* type byte + up to 4 bytes of remaining length */
#define MQTT_MAX_REMAINING 268435455u

struct mqtt_packet {
  unsigned type;        /* enum mqtt_type */
  unsigned flags;       /* low nibble of the first byte */
  const uint8_t *body;  /* variable header + payload; points into the decoded buffer */
  size_t len;
};

/* CONNECT with protocol level 4, clean session, no will, no credentials, keepalive in seconds
 * (0..65535). Returns the packet's length, or 0 when cap is too small or the id is over 65535
 * bytes. */
size_t mqtt_connect(uint8_t *out, size_t cap, const char *client_id, unsigned keepalive_s);

/* PUBLISH of payload[0..n) on topic with QoS 0 or 1 (packet_id used, and non-zero, only for
 * QoS 1) and the retain flag. Its length, or 0 when cap is too small or the arguments are bad. */
size_t mqtt_publish(uint8_t *out, size_t cap, const char *topic, const void *payload, size_t n,
                    unsigned qos, bool retain, uint16_t packet_id);

/* PINGREQ / DISCONNECT: two bytes each. Returns 2. */
size_t mqtt_pingreq(uint8_t out[2]);
size_t mqtt_disconnect(uint8_t out[2]);

/* Decode one packet at data[0..len). Its total length with *p filled, 0 when incomplete, -1 on a
 * malformed fixed header (type 0 or 15, remaining length over 4 bytes, body over max_body) with
 * *why set (static text). */
long mqtt_decode(const uint8_t *data, size_t len, size_t max_body, struct mqtt_packet *p,
                 const char **why);

/* The packet id of a PUBACK body; -1 when the body is not 2 bytes. */
int mqtt_puback_id(const struct mqtt_packet *p);

/* The CONNACK return code (0 = accepted); -1 when the body is not 2 bytes. */
int mqtt_connack_code(const struct mqtt_packet *p);

#endif
