/* SPDX-License-Identifier: MIT */
/* lotus_rpc_deadlines.c -- WindowPoSt, fault, address and message fields of the RPC source
 * (lotus_rpc_deadlines.h).
 *
 * Keys follow the shared record contract (docs/lotus.md): deadlines[] entries are
 * {index, partitions, sectors, faults, recoveries, provenPartitions, open, current}; sectors are
 * a deadline's partitions' AllSectors (the count `lotus-miner proving deadlines` prints), faults
 * their FaultySectors, recoveries their RecoveringSectors, provenPartitions the set bits of the
 * deadline's PostSubmissions. Times are Unix ms derived from epochs (30 s each) and the chain
 * head's timestamp.
 */
#include "lotus_rpc_deadlines.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

enum { EPOCH_MS = 30000 };

int64_t lotus_bitfield_count(const json_t *bf) {
  if (!json_is_array(bf)) return -1;
  int64_t n = 0;
  size_t i;
  json_t *v;
  json_array_foreach(bf, i, v) {
    if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
    if (i % 2) n += json_integer_value(v);
  }
  return n;
}

json_t *lotus_bitfield_list(const json_t *bf, size_t max, bool *truncated) {
  *truncated = false;
  if (lotus_bitfield_count(bf) < 0) return NULL;
  json_t *out = json_array();
  int64_t pos = 0;
  size_t i;
  json_t *v;
  json_array_foreach(bf, i, v) {
    int64_t run = json_integer_value(v);
    if (i % 2 == 0) {
      pos += run;
      continue;
    }
    for (int64_t k = 0; k < run; k++, pos++) {
      if (json_array_size(out) >= max) {
        *truncated = true;
        return out;
      }
      json_array_append_new(out, json_integer(pos));
    }
  }
  return out;
}

int64_t lotus_epoch_ms(const struct lotus_chain_clock *c, int64_t epoch) {
  return c->ms + (epoch - c->epoch) * EPOCH_MS;
}

static bool jint64(const json_t *o, const char *k, int64_t *out) {
  json_t *v = json_object_get(o, k);
  if (!json_is_integer(v)) return false;
  *out = json_integer_value(v);
  return true;
}

void lotus_rpc_put_deadlines(json_t *info, const json_t *dl, const json_t *dls,
                             json_t *const parts[LOTUS_RPC_DEADLINES],
                             const struct lotus_chain_clock *clock) {
  int64_t index = -1, period = 0, open = 0, close = 0, cur = 0, per_dl = 60;
  bool have = jint64(dl, "Index", &index) && jint64(dl, "PeriodStart", &period) &&
              jint64(dl, "Open", &open) && jint64(dl, "Close", &close) &&
              jint64(dl, "CurrentEpoch", &cur);
  jint64(dl, "WPoStChallengeWindow", &per_dl);
  if (have) {
    json_object_set_new(info, "currentDeadline", json_integer(index));
    if (clock) {
      int64_t close_ms = lotus_epoch_ms(clock, close);
      json_object_set_new(info, "deadlineOpen", json_integer(lotus_epoch_ms(clock, open)));
      json_object_set_new(info, "deadlineClose", json_integer(close_ms));
      json_object_set_new(info, "nextDeadlineOpen", json_integer(close_ms));
      int64_t left = (close - cur) * EPOCH_MS / 1000;
      json_object_set_new(info, "deadlineLeftSeconds", json_integer(left > 0 ? left : 0));
    }
  }
  if (!json_is_array(dls)) return;
  json_t *arr = json_array();
  size_t i;
  json_t *d;
  json_array_foreach(dls, i, d) {
    json_t *o = json_pack("{s:I}", "index", (json_int_t)i);
    if (i < LOTUS_RPC_DEADLINES && parts[i] && json_is_array(parts[i])) {
      int64_t sectors = 0, faults = 0, rec = 0;
      size_t k;
      json_t *p;
      json_array_foreach(parts[i], k, p) {
        int64_t a = lotus_bitfield_count(json_object_get(p, "AllSectors"));
        int64_t f = lotus_bitfield_count(json_object_get(p, "FaultySectors"));
        int64_t r = lotus_bitfield_count(json_object_get(p, "RecoveringSectors"));
        sectors += a > 0 ? a : 0;
        faults += f > 0 ? f : 0;
        rec += r > 0 ? r : 0;
      }
      json_object_set_new(o, "partitions", json_integer((json_int_t)json_array_size(parts[i])));
      json_object_set_new(o, "sectors", json_integer(sectors));
      json_object_set_new(o, "faults", json_integer(faults));
      json_object_set_new(o, "recoveries", json_integer(rec));
    }
    int64_t proven = lotus_bitfield_count(json_object_get(d, "PostSubmissions"));
    if (proven >= 0) json_object_set_new(o, "provenPartitions", json_integer(proven));
    if (have && clock)
      json_object_set_new(o, "open", json_integer(lotus_epoch_ms(clock, period + (int64_t)i * per_dl)));
    if (have && (int64_t)i == index) json_object_set_new(o, "current", json_true());
    json_array_append_new(arr, o);
  }
  json_object_set_new(info, "deadlines", arr);
}

void lotus_rpc_put_faults(json_t *info, const json_t *faults, const json_t *recoveries) {
  int64_t n = lotus_bitfield_count(faults);
  if (n >= 0) {
    bool trunc;
    json_object_set_new(info, "faultySectors", json_integer(n));
    json_object_set_new(info, "faults", lotus_bitfield_list(faults, LOTUS_RPC_FAULTS_MAX, &trunc));
    if (trunc) json_object_set_new(info, "faultsTruncated", json_true());
  }
  n = lotus_bitfield_count(recoveries);
  if (n >= 0) json_object_set_new(info, "recoverySectors", json_integer(n));
}

/* ---- multiaddrs ---- */

static int b64val(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

static size_t b64dec(const char *s, unsigned char *out, size_t cap, bool *ok) {
  size_t n = 0;
  unsigned acc = 0;
  int bits = 0;
  *ok = true;
  for (; *s && *s != '='; s++) {
    int v = b64val(*s);
    if (v < 0 || n >= cap) {
      *ok = false;
      return 0;
    }
    acc = acc << 6 | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (unsigned char)(acc >> bits & 0xff);
    }
  }
  return n;
}

static bool varint(const unsigned char *p, size_t n, size_t *at, uint64_t *v) {
  *v = 0;
  for (int shift = 0; *at < n && shift < 63; shift += 7) {
    unsigned char b = p[(*at)++];
    *v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

bool lotus_multiaddr_text(const char *b64, char *out, size_t cap) {
  unsigned char buf[256];
  bool ok;
  size_t n = b64 ? b64dec(b64, buf, sizeof buf, &ok) : 0;
  if (!b64 || !ok || n == 0 || cap == 0) return false;
  size_t at = 0, o = 0;
  out[0] = '\0';
#define PUT(...)                                                          \
  do {                                                                    \
    int w_ = snprintf(out + o, cap - o, __VA_ARGS__);                     \
    if (w_ < 0 || (size_t)w_ >= cap - o) return false;                    \
    o += (size_t)w_;                                                      \
  } while (0)
  while (at < n) {
    uint64_t code;
    if (!varint(buf, n, &at, &code)) return false;
    if (code == 4) { /* ip4 */
      if (at + 4 > n) return false;
      PUT("/ip4/%u.%u.%u.%u", buf[at], buf[at + 1], buf[at + 2], buf[at + 3]);
      at += 4;
    } else if (code == 41) { /* ip6 */
      if (at + 16 > n) return false;
      char text[INET6_ADDRSTRLEN];
      if (!inet_ntop(AF_INET6, buf + at, text, sizeof text)) return false;
      PUT("/ip6/%s", text);
      at += 16;
    } else if (code == 6 || code == 273) { /* tcp, udp */
      if (at + 2 > n) return false;
      PUT("/%s/%u", code == 6 ? "tcp" : "udp", buf[at] << 8 | buf[at + 1]);
      at += 2;
    } else if (code == 53 || code == 54 || code == 55 || code == 56) { /* dns, dns4, dns6, dnsaddr */
      uint64_t len;
      if (!varint(buf, n, &at, &len) || len > n - at) return false;
      for (uint64_t k = 0; k < len; k++) {
        unsigned char c = buf[at + k];
        if (!(c == '.' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z')))
          return false;
      }
      PUT("/%s/%.*s", code == 53 ? "dns" : code == 54 ? "dns4" : code == 55 ? "dns6" : "dnsaddr",
          (int)len, (const char *)buf + at);
      at += (size_t)len;
    } else if (code == 460) {
      PUT("/quic");
    } else if (code == 461) {
      PUT("/quic-v1");
    } else if (code == 477) {
      PUT("/ws");
    } else if (code == 478) {
      PUT("/wss");
    } else {
      return false;
    }
  }
#undef PUT
  return true;
}

void lotus_rpc_put_addresses(json_t *info, const json_t *mi) {
  const char *owner = json_string_value(json_object_get(mi, "Owner"));
  const char *worker = json_string_value(json_object_get(mi, "Worker"));
  const char *peer = json_string_value(json_object_get(mi, "PeerId"));
  if (owner) json_object_set_new(info, "ownerAddress", json_string(owner));
  if (worker) json_object_set_new(info, "workerAddress", json_string(worker));
  if (peer) json_object_set_new(info, "peerId", json_string(peer));
  size_t i;
  json_t *v;
  json_t *ctl = json_object_get(mi, "ControlAddresses");
  if (json_is_array(ctl) || json_is_null(ctl)) { /* lotus sends null for none */
    json_t *arr = json_array();
    json_array_foreach(ctl, i, v)
      if (json_is_string(v)) json_array_append(arr, v);
    json_object_set_new(info, "controlAddresses", arr);
  }
  json_t *mas = json_object_get(mi, "Multiaddrs");
  if (json_is_array(mas) || json_is_null(mas)) {
    json_t *arr = json_array();
    json_array_foreach(mas, i, v) {
      char text[300];
      if (lotus_multiaddr_text(json_string_value(v), text, sizeof text))
        json_array_append_new(arr, json_string(text));
    }
    json_object_set_new(info, "multiaddrs", arr);
  }
}

int64_t lotus_rpc_count_messages(const json_t *pending, const json_t *addrs) {
  int64_t n = 0;
  size_t i, k;
  json_t *m, *a;
  json_array_foreach(pending, i, m) {
    const char *from = json_string_value(json_object_get(json_object_get(m, "Message"), "From"));
    if (!from) continue;
    json_array_foreach(addrs, k, a)
      if (json_is_string(a) && strcmp(json_string_value(a), from) == 0) {
        n++;
        break;
      }
  }
  return n;
}

void lotus_rpc_add_record(json_t *rec, const json_t *info) {
  static const char *const keys[] = {
    "deadlines", "currentDeadline", "deadlineOpen", "deadlineClose", "deadlineLeftSeconds",
    "nextDeadlineOpen", "faultySectors", "faults", "faultsTruncated", "recoverySectors",
    "ownerAddress", "workerAddress", "controlAddresses", "peerId", "multiaddrs",
    "totalMessages", "totalMessagesError", "preCommitDeposit", "preCommitDepositAtto",
    "preCommitDepositExact", NULL};
  if (!rec || !info) return;
  for (const char *const *k = keys; *k; k++) {
    json_t *v = json_object_get(info, *k);
    if (v) json_object_set_new(rec, *k, json_deep_copy(v));
  }
}
