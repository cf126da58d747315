/* SPDX-License-Identifier: MIT */
/* fuzz_wsframe.c -- the load generator's WebSocket client decoders (tools/loadgen/wsframe.c) on
 * what a server could send: the input is the byte stream of one connection, read as the
 * loadgen's worker does (worker.c: parse): first the handshake response, then frames until the
 * bytes end, fragments reassembled. The first input byte picks max_payload (the loadgen's 1 MiB,
 * or a small one) and whether there is a handshake at all. Properties: a decoded frame lies
 * inside the input, a control frame is final and at most 125 bytes, nothing exceeds
 * max_payload, and every proper prefix of a frame that decodes is "incomplete" (0), never an
 * error nor another frame -- so a frame split across reads decodes the same. An encoded frame
 * (masked, as the client sends) must be refused by the server-frame decoder. */
#include "fuzz.h"
#include "wsframe.h"

#define MAX_MESSAGE (1 << 20) /* tools/loadgen/worker.c */

/* A fixed Sec-WebSocket-Key: seeds carry its Sec-WebSocket-Accept. */
static const char KEY[] = "dGhlIHNhbXBsZSBub25jZQ==";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t mode = data[0];
  data++;
  size--;
  size_t max_payload = (mode & 1) ? MAX_MESSAGE : (size_t)(mode >> 2);
  size_t at = 0;
  if (mode & 2) {
    const char *why = NULL;
    long h = ws_handshake_response((const char *)data, size, KEY, &why);
    if (h < 0) {
      FUZZ_CHECK(why != NULL);
      return 0;
    }
    if (h == 0) {
      FUZZ_CHECK(size < WS_MAX_RESPONSE_HEAD);
      return 0;
    }
    FUZZ_CHECK((size_t)h <= size);
    /* The head ends with its blank line, and a prefix without it is incomplete. */
    FUZZ_CHECK(h >= 4 && memcmp(data + h - 4, "\r\n\r\n", 4) == 0);
    FUZZ_CHECK(ws_handshake_response((const char *)data, (size_t)h - 1, KEY, &why) == 0 ||
               (size_t)h - 1 >= WS_MAX_RESPONSE_HEAD);
    at = (size_t)h;
  }
  uint8_t *frag = NULL;
  size_t frag_len = 0;
  bool in_frag = false;
  while (at < size) {
    struct ws_frame f;
    const char *why = NULL;
    long fl = ws_decode(data + at, size - at, max_payload, &f, &why);
    if (fl == 0) break;
    if (fl < 0) {
      FUZZ_CHECK(why != NULL);
      break;
    }
    FUZZ_CHECK((size_t)fl <= size - at && fl >= 2);
    FUZZ_CHECK(f.len <= max_payload && f.payload >= data + at && f.payload + f.len == data + at + fl);
    FUZZ_CHECK(f.opcode <= WS_PONG);
    if (f.opcode & 8) FUZZ_CHECK(f.fin && f.len <= 125);
    /* Every proper prefix is incomplete (checked at a few cut points: all for small frames). */
    for (long cut = 0; cut < fl; cut += (fl < 64 ? 1 : fl / 16 + 1)) {
      struct ws_frame g;
      const char *w2 = NULL;
      FUZZ_CHECK(ws_decode(data + at, (size_t)cut, max_payload, &g, &w2) == 0);
    }
    at += (size_t)fl;
    if (f.opcode == WS_TEXT || f.opcode == WS_BINARY || f.opcode == WS_CONT) {
      bool start = f.opcode != WS_CONT;
      if (start == in_frag || frag_len + f.len > MAX_MESSAGE) break; /* the loadgen drops it */
      if (!(start && f.fin)) {
        uint8_t *n = realloc(frag, frag_len + f.len + 1);
        if (!n) abort();
        frag = n;
        if (f.len) memcpy(frag + frag_len, f.payload, f.len);
        frag_len += f.len;
        in_frag = !f.fin;
        if (f.fin) frag_len = 0;
      }
    } else if (f.opcode == WS_PING || f.opcode == WS_CLOSE) {
      /* The client answers with its own (masked) frame: which a server-frame decoder refuses. */
      uint8_t out[125 + WS_MAX_HEADER];
      size_t n = ws_encode(out, f.opcode == WS_PING ? WS_PONG : WS_CLOSE, f.payload, f.len,
                           0x12345678u);
      FUZZ_CHECK(n == f.len + 6);
      struct ws_frame g;
      const char *w2 = NULL;
      FUZZ_CHECK(ws_decode(out, n, max_payload, &g, &w2) == -1 && w2);
      /* Unmasked by hand, it is the frame that was answered. */
      for (size_t i = 0; i < f.len; i++) out[6 + i] ^= out[2 + (i & 3)];
      out[1] &= 0x7f;
      memmove(out + 2, out + 6, f.len);
      g = (struct ws_frame){0};
      FUZZ_CHECK(ws_decode(out, f.len + 2, 125, &g, &w2) == (long)(f.len + 2));
      FUZZ_CHECK(g.len == f.len && (f.len == 0 || memcmp(g.payload, f.payload, f.len) == 0));
      if (f.opcode == WS_CLOSE) break;
    }
  }
  free(frag);
  return 0;
}
