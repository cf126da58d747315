/* SPDX-License-Identifier: MIT */
/* wsframe.c -- RFC 6455 client framing: upgrade request/response, masked encode, decode. */
#include "wsframe.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void ws_make_key(const uint8_t rnd[16], char key[WS_KEY_LEN + 1]) {
  EVP_EncodeBlock((unsigned char *)key, rnd, 16); /* writes 24 chars + NUL */
}

int ws_handshake_request(char *buf, size_t cap, const char *host, const char *path,
                         const char *key) {
  int n = snprintf(buf, cap,
                   "GET %s HTTP/1.1\r\n"
                   "Host: %s\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "\r\n",
                   path, host, key);
  return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* The value of header `name` in head (lines after the status line), trimmed, or NULL. */
static const char *header(const char *head, size_t hlen, const char *name, size_t *vlen) {
  size_t nlen = strlen(name);
  const char *p = memchr(head, '\n', hlen), *end = head + hlen;
  while (p && p + 1 < end) {
    const char *line = p + 1;
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    if (!eol) return NULL;
    if ((size_t)(eol - line) > nlen && line[nlen] == ':' && !strncasecmp(line, name, nlen)) {
      const char *v = line + nlen + 1, *ve = eol;
      while (v < ve && (*v == ' ' || *v == '\t')) v++;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      *vlen = (size_t)(ve - v);
      return v;
    }
    p = eol;
  }
  return NULL;
}

static bool contains_token(const char *v, size_t vlen, const char *tok) {
  size_t tlen = strlen(tok);
  for (size_t i = 0; i + tlen <= vlen; i++)
    if (!strncasecmp(v + i, tok, tlen)) return true;
  return false;
}

long ws_handshake_response(const char *data, size_t len, const char *key, const char **why) {
  const char *end = NULL;
  for (size_t i = 3; i < len; i++)
    if (data[i] == '\n' && data[i - 1] == '\r' && data[i - 2] == '\n' && data[i - 3] == '\r') {
      end = data + i + 1;
      break;
    }
  if (!end) {
    if (len >= WS_MAX_RESPONSE_HEAD) return *why = "handshake response too long", -1;
    return 0;
  }
  size_t hlen = (size_t)(end - data);
  if (hlen < 12 || strncmp(data, "HTTP/1.1 ", 9) != 0)
    return *why = "handshake response is not HTTP/1.1", -1;
  if (strncmp(data + 9, "101", 3) != 0) return *why = "server refused the WebSocket upgrade", -1;
  size_t vlen = 0;
  const char *v = header(data, hlen, "Upgrade", &vlen);
  if (!v || vlen != 9 || strncasecmp(v, "websocket", 9))
    return *why = "handshake response without Upgrade: websocket", -1;
  v = header(data, hlen, "Connection", &vlen);
  if (!v || !contains_token(v, vlen, "upgrade"))
    return *why = "handshake response without Connection: Upgrade", -1;
  v = header(data, hlen, "Sec-WebSocket-Accept", &vlen);
  if (!v) return *why = "handshake response without Sec-WebSocket-Accept", -1;

  char cat[WS_KEY_LEN + sizeof GUID];
  memcpy(cat, key, WS_KEY_LEN);
  memcpy(cat + WS_KEY_LEN, GUID, sizeof GUID - 1);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  char expect[32];
  if (!EVP_Digest(cat, WS_KEY_LEN + sizeof GUID - 1, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
    return *why = "SHA-1 unavailable", -1;
  EVP_EncodeBlock((unsigned char *)expect, md, 20); /* 28 chars */
  if (vlen != 28 || memcmp(v, expect, 28) != 0)
    return *why = "wrong Sec-WebSocket-Accept in handshake response", -1;
  return (long)hlen;
}

size_t ws_encode(uint8_t *out, unsigned opcode, const void *payload, size_t len, uint32_t mask) {
  size_t h = 0;
  out[h++] = (uint8_t)(0x80 | (opcode & 0x0F));
  if (len < 126) {
    out[h++] = (uint8_t)(0x80 | len);
  } else if (len <= 0xFFFF) {
    out[h++] = 0x80 | 126;
    out[h++] = (uint8_t)(len >> 8);
    out[h++] = (uint8_t)len;
  } else {
    out[h++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) out[h++] = (uint8_t)((uint64_t)len >> (8 * i));
  }
  uint8_t m[4] = {(uint8_t)(mask >> 24), (uint8_t)(mask >> 16), (uint8_t)(mask >> 8),
                  (uint8_t)mask};
  memcpy(out + h, m, 4);
  h += 4;
  const uint8_t *p = payload;
  for (size_t i = 0; i < len; i++) out[h + i] = p[i] ^ m[i & 3];
  return h + len;
}

long ws_decode(const uint8_t *data, size_t len, size_t max_payload, struct ws_frame *f,
               const char **why) {
  if (len < 2) return 0;
  unsigned b0 = data[0], b1 = data[1];
  if (b0 & 0x70) return *why = "reserved bits set in a server frame", -1;
  if (b1 & 0x80) return *why = "masked server frame", -1;
  f->fin = (b0 & 0x80) != 0;
  f->opcode = b0 & 0x0F;
  bool control = f->opcode & 0x08;
  if ((f->opcode > WS_BINARY && !control) || f->opcode > WS_PONG)
    return *why = "reserved opcode in a server frame", -1;
  size_t h = 2;
  uint64_t plen = b1 & 0x7F;
  if (plen == 126) {
    if (len < 4) return 0;
    plen = (uint64_t)data[2] << 8 | data[3];
    h = 4;
  } else if (plen == 127) {
    if (len < 10) return 0;
    plen = 0;
    for (int i = 0; i < 8; i++) plen = plen << 8 | data[2 + i];
    h = 10;
    if (plen >> 63) return *why = "64-bit frame length with the top bit set", -1;
  }
  if (control && (plen > 125 || !f->fin))
    return *why = "oversized or fragmented control frame", -1;
  if (plen > max_payload) return *why = "server frame larger than the limit", -1;
  if (len - h < plen) return 0;
  f->payload = data + h;
  f->len = (size_t)plen;
  return (long)(h + plen);
}
