#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""seeds.py -- writes the seeds of tests/fuzz/corpus that are binary or derived from other files:
wsframe, mqttframe (byte streams), lotus_rpc (the answers of tests/data/lotus-rpc joined into
whole collections) and cluster_wire (bus messages, whose byte counts are best computed). The other seeds are plain text files, written by hand.

Run from anywhere: python3 tests/fuzz/seeds.py. It rewrites only the files it names (seed-*),
never a crash reproducer (crash-*, regress-*)."""
import base64
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ----- wsframe: mode byte (bit 0: 1 MiB limit, bit 1: handshake first), then the stream -----
KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = base64.b64encode(hashlib.sha1(KEY + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
HEAD = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + ACCEPT + b"\r\n\r\n")


def ws(opcode, payload, fin=True):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        return bytes([b0, n]) + payload
    if n <= 0xFFFF:
        return bytes([b0, 126]) + struct.pack(">H", n) + payload
    return bytes([b0, 127]) + struct.pack(">Q", n) + payload


LOGIN_OK = b'{"status":"success","data":{"device_id":"1001"}}'
FULL = b'{"type":"report_full_info","Headers":{},"data":{}}'
PONG = b'{"type":"ping_pong","Headers":{},"data":"pong"}'
write("wsframe", "seed-handshake-login", b"\x03" + HEAD + ws(1, LOGIN_OK) + ws(1, FULL))
write("wsframe", "seed-fragments", b"\x01" + ws(1, PONG[:10], False) + ws(0, PONG[10:30], False)
      + ws(9, b"ping!") + ws(0, PONG[30:]))
write("wsframe", "seed-lengths", b"\x01" + ws(2, b"x" * 200) + ws(1, b"y" * 70000) + ws(10, b""))
write("wsframe", "seed-close", b"\x01" + ws(1, PONG) + ws(8, b"\x03\xe8bye"))
write("wsframe", "seed-refused", b"\x03HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
write("wsframe", "seed-small-limit", b"\x40" + ws(1, b"0123456789abcdef" * 2))

# ----- mqttframe: mode byte (bit 0: 1 MiB limit, else limit mode >> 1), then the stream -----


def mqtt(ptype, flags, body):
    n, rem = len(body), b""
    while True:
        b = n % 128
        n //= 128
        rem += bytes([b | (0x80 if n else 0)])
        if not n:
            break
    return bytes([ptype << 4 | flags]) + rem + body


write("mqttframe", "seed-connack-puback", b"\x01" + mqtt(2, 0, b"\x00\x00") + mqtt(4, 0, b"\x12\x34")
      + mqtt(13, 0, b""))
write("mqttframe", "seed-publish", b"\x01" + mqtt(3, 3, b"\x00\x0bdevices/1/s\x00\x07" + b"{}" * 40)
      + mqtt(9, 0, b"\x00\x01\x00"))
write("mqttframe", "seed-refused", b"\x01" + mqtt(2, 0, b"\x00\x05"))
write("mqttframe", "seed-long", b"\x01" + mqtt(3, 0, b"\x00\x01t" + b"p" * 20000))
write("mqttframe", "seed-small-limit", b"\x20" + mqtt(3, 1, b"\x00\x03a/b" + b"z" * 30))

# ----- lotus_rpc: "Method BODY" records separated by NUL -----


def rpc(name):
    with open(os.path.join(ROOT, "tests", "data", "lotus-rpc", "rpc-" + name + ".json"), "rb") as f:
        return f.read()


ALL = ["ActorAddress", "ActorSectorSize", "SectorsSummary", "StateMinerPower", "WalletBalance",
       "StateMinerAvailableBalance", "StateMinerInfo",
       # issue 11: power by sector count, deadlines, faults, messages
       "StateMinerSectorCount", "ChainHead", "StateMinerProvingDeadline", "StateMinerDeadlines",
       "StateMinerPartitions", "StateMinerFaults", "StateMinerRecoveries", "StateAccountKey",
       "MpoolPending"]


def collection(parts):
    return b"\0".join(m.encode() + b" " + body for m, body in parts)


base = [(m, rpc(m)) for m in ALL] + [("StateReadState", rpc("StateReadState-miner"))]
write("lotus_rpc", "seed-all", collection(base + [("WorkerStats", rpc("WorkerStats")),
                                                  ("WorkerJobs", rpc("WorkerJobs"))]))
write("lotus_rpc", "seed-v0.5", collection(base + [("WorkerStats", rpc("WorkerStats-v0.5")),
                                                   ("WorkerJobs", rpc("WorkerJobs-v0.5"))]))
write("lotus_rpc", "seed-no-permission",
      collection([("ActorAddress", rpc("ActorAddress")),
                  ("WorkerStats", rpc("error-missing-permission")),
                  ("WorkerJobs", rpc("WorkerJobs"))]) + b"\0!SectorsSummary\0node tok:/dns/node/tcp/1234/http")
write("lotus_rpc", "seed-api-info", collection([("ActorAddress", rpc("ActorAddress"))])
      + b"\0api eyJhbGciOiJIUzI1NiJ9.x.y:/ip4/10.0.0.5/tcp/2345/http\0node http://[::1]:1234")


# ----- cluster_wire: bus messages (src/server/cluster_wire.h) -----
def bus(node, epoch, *recs):
    out = b"EF1 %d %d\n" % (node, epoch)
    for kind, rid, time, f1, f2 in recs:
        out += b"%c %d %d %d %d\n" % (kind, rid, time, len(f1), len(f2)) + f1 + f2
    return out


T = 1700000000000
STATUS = (b'{"type":"upload_status_info","data":{"host_name":"w1","cpu_usage":12.5,'
          b'"total_memory_mb":64000,"free_memory_mb":1000}}')
MINER = b'{"type":"upload_miner_info","data":{"miner_id":"f01234","workers":[]}}'
write("cluster_wire", "seed-header-only", bus(0, T))
write("cluster_wire", "seed-sessions", bus(1, T, (ord("I"), 42, T + 1, b"10.0.0.5", b""),
                                           (ord("S"), 42, T + 2, b"Unknown", b"heartbeat missed"),
                                           (ord("S"), 42, T + 3, b"online", b"message received"),
                                           (ord("O"), 42, T + 4, b"connection closed", b"")))
write("cluster_wire", "seed-uploads", bus(2, T, (ord("U"), 43, T + 5, b"w1", STATUS),
                                          (ord("U"), 44, T + 6, b"", b'{"data":{}}'),
                                          (ord("M"), 43, T + 7, b"", MINER)))
write("cluster_wire", "seed-node", bus(3, T, (ord("H"), 2, T + 8, b"", b""),
                                       (ord("C"), 0, T + 9, b"", b'{"k":"deleted","id":"42"}'),
                                       (ord("C"), 0, T + 10, b"", b'{"k":"bind","m":"f01234"}'),
                                       (ord("B"), 0, T + 11, b"", b"")))
write("cluster_wire", "seed-extremes", bus(1023, 2**63 - 1,
                                           (ord("I"), 2**64 - 1, 2**63 - 1, b"[::1]", b""),
                                           (ord("H"), 0, 0, b"", b"")))
write("cluster_wire", "seed-binary", bus(5, 0, (ord("U"), 1, 1, bytes(range(256)), b"\n\0 I 1 2 3 4\n"),
                                         (ord("C"), 2, 2, b"EF1 0 0\n", bytes(range(255, -1, -1)))))
write("cluster_wire", "seed-leading-zeros", b"EF1 007 000\nI 0042 01 01 00\nx")
