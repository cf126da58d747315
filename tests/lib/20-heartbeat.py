# SPDX-License-Identifier: MIT
"""Device heartbeat and status (docs/protocol.md#heartbeat): ping_interval 300ms, pong_timeout 200ms,
status_interval 900ms: cadence, a status standing in for a ping, pong misses dropping the
connection after max_failures, a missed status ack resent at once."""
import time

import edgetest  # first: it picks a python3 that has websockets
from edgetest import check

import websockets


def kind(m):
    return {"ping_pong": "ping", "upload_status_info": "status"}.get(m.get("type"), m.get("type"))


async def main(t):
    # --- cadence over 3 s
    p = await t.probe("--status-extra", '{"probe":1,"dev_state":"bogus"}')
    c = await t.accept()
    await c.login()
    t0 = time.monotonic()
    got = await c.serve(3.0)
    check(got and kind(got[0][1]) == "status", "status right after login")
    d = got[0][1]["data"]
    check(got[0][1]["Headers"] == {}, "status Headers {}")
    check(set(d["CPU_info"]) == {"user_cpu_time", "system_cpu_time", "idle_cpu_time",
                                 "io_wait_cpu_time"}, f"CPU_info {d['CPU_info']}")
    check(set(d["Memory_info"]) == {"total_memory_mb", "free_memory_mb", "buff_cache_mb"},
          f"Memory_info {d['Memory_info']}")
    check(set(d["Disk_info"]) == {"root_total_size_mb", "root_used_size_mb",
                                  "root_used_percent"}, f"Disk_info {d['Disk_info']}")
    check(isinstance(d["CPU_info"]["idle_cpu_time"], float), "cpu times are floats")
    check(isinstance(d["Memory_info"]["total_memory_mb"], int), "memory MB are ints")
    check(d["device_id"] == "123" and d["dev_state"] == "online", f"id/state {d}")
    check(d["probe"] == 1, "status provider members merged")
    statuses = [ts for ts, m in got if kind(m) == "status"]
    pings = [ts for ts, m in got if kind(m) == "ping"]
    check(3 <= len(statuses) <= 5, f"{len(statuses)} statuses in 3 s")
    for a, b in zip(statuses, statuses[1:]):
        check(0.8 <= b - a <= 1.15, f"status interval {b - a:.3f}")
    check(len(pings) >= 4, f"{len(pings)} pings in 3 s")
    last_any = t0
    for ts, m in got:
        check(ts - last_any <= 0.5, f"silence of {ts - last_any:.3f}s")
        if kind(m) == "ping":
            prev = [x for x, mm in got if x < ts and kind(mm) in ("ping", "status")]
            check(not prev or ts - max(prev) >= 0.27,
                  f"ping only {ts - max(prev):.3f}s after the previous ping/status")
        last_any = ts
    check(all(m["data"] == "ping" and m["Headers"] == {} for _, m in got if kind(m) == "ping"),
          "ping format")
    await p.stop()

    # --- no pongs: ping, ping at once after each 200 ms miss, 3 misses -> close, reconnect
    p = await t.probe("--status-interval", "10s")
    c = await t.accept()
    await c.login()
    _, st = await c.recv()
    check(kind(st) == "status", "status first")
    await c.send({"type": "send_statusInfo_response", "Headers": {}, "data": {}})
    pings = []
    try:
        while True:
            ts, m = await c.recv(2.0)
            check(kind(m) == "ping", f"only pings expected, got {m}")
            pings.append(ts)
    except websockets.exceptions.ConnectionClosed:
        closed_at = time.monotonic()
    check(len(pings) == 3, f"{len(pings)} unanswered pings before the close")
    for a, b in zip(pings, pings[1:]):
        check(0.17 <= b - a <= 0.35, f"re-ping after a miss took {b - a:.3f}s")
    check(0.15 <= closed_at - pings[-1] <= 0.4, "closed after the third miss")
    c = await t.accept(timeout=2.0)
    m = await c.login()
    check("password" in m, "logged in again")
    await p.line("EVENT disconnected")
    await p.stop()
    check("Timeout! no pong" in p.oplog(), "misses in the operation log")

    # --- status ack missing: resend at once; pongs keep flowing
    p = await t.probe("--status-interval", "10s")
    c = await t.accept()
    await c.login()
    t1, st = await c.recv()
    check(kind(st) == "status", "status first")
    await c.until(lambda m: kind(m) == "status")
    t2 = time.monotonic()
    check(0.15 <= t2 - t1 <= 0.4, f"status resent after {t2 - t1:.3f}s")
    await c.send({"type": "send_statusInfo_response", "Headers": {}, "data": {}})
    got = await c.serve(1.0)
    check(not [m for _, m in got if kind(m) == "status"], "no more statuses once acked")
    check(len([m for _, m in got if kind(m) == "ping"]) >= 2, "pings continue")
    await p.stop()

edgetest.run(main)
