/* SPDX-License-Identifier: MIT */
/* wsframe.h -- the client side of RFC 6455 WebSocket framing, just enough for a load generator.
 *
 * Hand-written on purpose: a simulated device must cost a few hundred bytes, and every client
 * library at hand (libwebsockets, wslay, python) keeps kilobytes per connection. Nothing here
 * allocates or owns memory: the caller passes buffers, and decoded payloads point into them.
 *
 * Client frames are always masked (RFC 6455 §5.3); server frames must not be. Payload lengths of
 * 7, 16 and 64 bits are understood both ways. Reassembling fragmented messages is the caller's
 * (it needs per-connection storage); ws_decode only reports fin/opcode per frame.
 */
#ifndef LG_WSFRAME_H
#define LG_WSFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_KEY_LEN 24             /* base64 of 16 random bytes */
#define WS_MAX_HEADER 14          /* 2 + 8 (64-bit length) + 4 (mask) */
#define WS_MAX_RESPONSE_HEAD 4096 /* a longer handshake response is refused */

enum ws_opcode { WS_CONT = 0x0, WS_TEXT = 0x1, WS_BINARY = 0x2, WS_CLOSE = 0x8, WS_PING = 0x9,
                 WS_PONG = 0xA };

struct ws_frame {
  unsigned opcode;
  bool fin;
  const uint8_t *payload; /* points into the decoded buffer */
  size_t len;
};

/* Sec-WebSocket-Key from 16 random bytes: key gets WS_KEY_LEN chars and a NUL. */
void ws_make_key(const uint8_t rnd[16], char key[WS_KEY_LEN + 1]);

/* The HTTP/1.1 upgrade request for ws://host/path into buf; its length, or -1 if cap is short. */
int ws_handshake_request(char *buf, size_t cap, const char *host, const char *path,
                         const char *key);

/* Check the server's handshake response in data[0..len). Returns the length of the response
 * head (through the blank line) when it is complete and accepts `key`, 0 when more bytes are
 * needed, -1 on a refusal or malformed response with *why set (static text). */
long ws_handshake_response(const char *data, size_t len, const char *key, const char **why);

/* Encode one masked frame (fin set) into out, which must hold len + WS_MAX_HEADER bytes.
 * Returns the frame's length. */
size_t ws_encode(uint8_t *out, unsigned opcode, const void *payload, size_t len, uint32_t mask);

/* Decode one server frame at data[0..len). Returns the frame's total length with *f filled,
 * 0 when the frame is not complete yet, -1 on a protocol error (masked server frame, reserved
 * bits or opcode, oversized or fragmented control frame, payload over max_payload) with *why. */
long ws_decode(const uint8_t *data, size_t len, size_t max_payload, struct ws_frame *f,
               const char **why);

#endif
