#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""11-heartbeat.py -- the server side of the heartbeat (docs/protocol.md#heartbeat) with shortened
timings: tolerance 600 ms while a device has no misses, 400 ms after one, 3 misses drop it.
A silent device: Unknown at ~0.6 s, misses at ~1.0 s and ~1.4 s, then offline and closed."""
import asyncio
import time

from efharness import PONG, Suite, check, await_until

T = Suite("11-heartbeat", heartbeat_tolerance="600ms", heartbeat_tolerance_miss="400ms",
          login_timeout="2s")


async def keep_pinging(dev, every, until):
    """Ping every `every` s until the event `until` is set; returns the worst round trip."""
    worst = 0.0
    while not until.is_set():
        t0 = time.monotonic()
        await dev.ping(2)
        worst = max(worst, time.monotonic() - t0)
        await asyncio.sleep(every)
    return worst


@T.test
async def pong_frame_exact(srv):
    did = srv.add_device("SN-H1", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        await dev.send_json({"type": "ping_pong", "Headers": {}, "data": "ping"})
        raw = await dev.recv_text(2)
        check(raw == '{"type":"ping_pong","Headers":{},"data":"pong"}', "pong frame", repr(raw))
        # extra fields in a ping are ignored (forward compatible)
        await dev.send_json({"type": "ping_pong", "Headers": {"x": 1}, "data": "ping", "new": 2})
        check(await dev.recv_json(2) == PONG, "pong")


@T.test
async def pinging_device_stays_online(srv):
    did = srv.add_device("SN-H2", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        stop = asyncio.Event()
        pinger = asyncio.create_task(keep_pinging(dev, 0.25, stop))
        # the state is written behind (--log-flush): wait for it once, then sample
        await await_until(lambda: srv.dev_state(did) == "online", 1, what="online")
        states = set()
        t_end = time.monotonic() + 2.5  # > 4 tolerance windows
        while time.monotonic() < t_end:
            states.add(await asyncio.to_thread(srv.dev_state, did))
            await asyncio.sleep(0.1)
        stop.set()
        await pinger
        check(states == {"online"}, "a pinging device left online:", states)
        logs = srv.logs(did)
        check(not any(l["event"] == "heartbeat_loss" for l in logs), logs)


@T.test
async def silent_device_unknown_then_offline(srv):
    did = srv.add_device("SN-H3", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        t0 = time.monotonic()
        seen = []
        closed_at = None
        recv = asyncio.create_task(dev.wait_closed(5))
        while not recv.done() and time.monotonic() - t0 < 5:
            st = await asyncio.to_thread(srv.dev_state, did)
            seen.append((round(time.monotonic() - t0, 2), st))
            await asyncio.sleep(0.05)
        await recv
        closed_at = time.monotonic() - t0
        print("closed after %.2fs; states seen: %s" % (closed_at, seen))
        check(1.2 <= closed_at <= 2.6, "closed after %.2fs, want ~1.4s" % closed_at)
        unknown = [t for t, s in seen if s == "Unknown"]
        check(unknown, "never Unknown", seen)
        check(0.5 <= unknown[0] <= 1.0, "first Unknown at %.2fs, want ~0.6s" % unknown[0])
        online = [t for t, s in seen if s == "online"]
        check(online and online[0] < 0.5, "not online right after login", seen)
    await await_until(lambda: srv.dev_state(did) == "offline", 2, what="offline")
    logs = await asyncio.to_thread(srv.wait_offline_logged, did)
    losses = [l for l in logs if l["event"] == "heartbeat_loss"]
    check(len(losses) == 3, "want 3 heartbeat_loss rows", logs)
    states = [l["result"] for l in reversed(logs) if l["event"] == "state"]
    check(states == ["online", "Unknown", "offline"], "state rows oldest first", states)
    check(any(l["event"] == "disconnect" for l in logs), logs)
    # the session is gone: an order finds the device offline
    st, r = srv.api.post("give_order", {"device_id": did, "order": "x", "params": {}})
    check(st == 409 and r["message"] == "Device is offline!", st, r)


@T.test
async def silent_once_then_talks_again(srv):
    did = srv.add_device("SN-H4", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        await await_until(lambda: srv.dev_state(did) == "Unknown", 2, interval=0.03,
                          what="Unknown after one silent window")
        st, r = await srv.api.apost("give_order", {"device_id": did, "order": "x"})
        check(st == 409 and r["message"] == "Device state is Unknown!", st, r)
        await dev.ping()
        await await_until(lambda: srv.dev_state(did) == "online", 1, what="online again")
        # and it stays online while it keeps talking, well past three windows
        stop = asyncio.Event()
        pinger = asyncio.create_task(keep_pinging(dev, 0.3, stop))
        await asyncio.sleep(2.0)
        check(srv.dev_state(did) == "online", srv.dev_state(did))
        stop.set()
        await pinger
        # a status upload counts as a message too
        for _ in range(4):
            await dev.send_json({"type": "upload_status_info", "Headers": {}, "data": {"x": 1}})
            await dev.recv_type("send_statusInfo_response", 2)
            await asyncio.sleep(0.3)  # one upload every 0.3 s: well inside each window
        check(srv.dev_state(did) == "online", srv.dev_state(did))
    await await_until(lambda: srv.dev_state(did) == "offline", 2, what="offline after close")
    logs = await asyncio.to_thread(srv.wait_offline_logged, did)
    check(sum(l["event"] == "heartbeat_loss" for l in logs) == 1, logs)
    states = [l["result"] for l in reversed(logs) if l["event"] == "state"]
    check(states == ["online", "Unknown", "online", "offline"], states)


@T.test
async def two_misses_then_recovery(srv):
    """Recovery after the second miss: the count resets, so the next drop needs 3 new misses."""
    did = srv.add_device("SN-H5", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        await asyncio.sleep(1.15)  # misses at ~0.6 and ~1.0
        await dev.ping()
        t0 = time.monotonic()
        code = await dev.wait_closed(5)
        dt = time.monotonic() - t0
        check(1.2 <= dt <= 2.6, "dropped %.2fs after recovering, want ~1.4s" % dt, code)
    await await_until(lambda: srv.dev_state(did) == "offline", 2)
    logs = await asyncio.to_thread(srv.wait_offline_logged, did)
    losses = [l for l in logs if l["event"] == "heartbeat_loss"]
    check(len(losses) == 5, "2 + 3 heartbeat losses", len(losses))


@T.test
async def other_devices_unaffected(srv):
    quiet = srv.add_device("SN-H6", "M", "pw")
    busy = [srv.add_device("SN-H7-%d" % i, "M", "pw") for i in range(3)]
    async with srv.connect() as q:
        await q.login(device_id=quiet, password="pw")
        devs = []
        for did in busy:
            d = srv.connect()
            await d.__aenter__()
            await d.login(device_id=did, password="pw")
            devs.append(d)
        stop = asyncio.Event()
        pingers = [asyncio.create_task(keep_pinging(d, 0.2, stop)) for d in devs]
        await q.wait_closed(4)
        await asyncio.sleep(0.5)  # deliberately: the others go on pinging after the drop
        states = [await asyncio.to_thread(srv.dev_state, did) for did in busy]
        stop.set()
        worst = max(await asyncio.gather(*pingers))
        check(states == ["online"] * 3, "pinging devices", states)
        check(worst < 0.5, "round trip %.3fs while another device was dropped" % worst)
        for d in devs:
            await d.ping()
            await d.close()
    check(srv.dev_state(quiet) == "offline")
    srv.wait_offline_logged(quiet)
    for did in busy:
        logs = srv.logs(did)
        check(not any(l["event"] == "heartbeat_loss" for l in logs), did, logs)
        check([l["result"] for l in reversed(logs) if l["event"] == "state"][:1] == ["online"])


if __name__ == "__main__":
    T.main()
