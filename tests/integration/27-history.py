#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""27-history.py -- the history in the store (docs/history.md): a device's status uploads and a
miner's record are sampled, written behind, read back by device_history_query /
miner_history_query with ?from=&to=&step=, and the same points come back after a server restart;
buckets close into the first aggregate tier (min/avg/max); bad ranges and unknown owners are
refused."""

import asyncio
import json
import time

import websockets

from efharness import Suite, check, await_until, REST_BASE

# Every upload is a sample (history_raw_every 0); aggregate buckets of 1 s and 2 s so a test
# sees a roll-up without waiting minutes.
T = Suite("27-history", heartbeat_tolerance="10s", heartbeat_tolerance_miss="5s",
          history_raw_every="0", history_flush="200ms", history_tier1_step="1s",
          history_tier2_step="2s")

ACK = {"type": "send_statusInfo_response", "Headers": {}, "data": {}}
MINER_ACK = {"type": "send_minerInfo_response", "Headers": {}, "data": {}}


def status(cpu, temp):
    return {"type": "upload_status_info", "Headers": {}, "data": {
        "Memory_info": {"total_memory_mb": 1000, "free_memory_mb": 400, "buff_cache_mb": 100},
        "Disk_info": {"root_total_size_mb": 100, "root_used_size_mb": 40,
                      "root_used_percent": 40.0},
        "cpu_usage_percent": cpu, "cpu_temperature": temp, "load_avg": {"1": 1.5},
        "net_io": [{"name": "eth0", "rx": 100, "tx": 10}, {"name": "eth1", "rx": 50, "tx": 5}],
        "gpuInfo": [{"index": 0, "temperature": 60, "utilization": 20},
                    {"index": 1, "temperature": 70, "utilization": 40}]}}


def history(srv, kind, owner, **q):
    path = REST_BASE + kind + "_history_query/" + str(owner)
    if q:
        path += "?" + "&".join("%s=%s" % kv for kv in q.items())
    return srv.api.request("GET", path)


def hour_ago():
    """A range within every tier's retention: the raw samples are read (docs/history.md)."""
    return int(time.time() * 1000) - 3600 * 1000


def points(r, series):
    return r["data"]["series"].get(series, [])


@T.test
async def device_history_survives_restart(srv):
    did = srv.add_device("SN-H1", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        for cpu, temp in ((10.0, 50.0), (20.0, 55.0), (30.0, 61.5)):
            await dev.send_json(status(cpu, temp))
            check(await dev.recv_json(2) == ACK)
    st, r = history(srv, "device", did, **{"from": hour_ago()})
    check(st == 200 and r["status"] == "success" and r["data"]["tier"] == "raw", st, r)
    cpu = points(r, "cpu_percent")
    check([p[1] for p in cpu] == [10.0, 20.0, 30.0], cpu)
    check(all(p[1] == p[2] == p[3] for p in cpu), "a raw point is its own min/max", cpu)
    check([p[1] for p in points(r, "cpu_temp")] == [50.0, 55.0, 61.5], r)
    check(points(r, "mem_used_mb")[0][1] == 500.0 and points(r, "mem_used_percent")[0][1] == 50.0,
          r)
    check(points(r, "net_rx_bps")[0][1] == 150.0 and points(r, "gpu_temp_max")[0][1] == 70.0 and
          points(r, "gpu_util_percent")[0][1] == 30.0 and points(r, "load1")[0][1] == 1.5, r)
    before = r["data"]["series"]
    srv.stop()
    srv.start()
    st, r = history(srv, "device", did, **{"from": hour_ago()})
    check(st == 200 and r["data"]["series"] == before, "after the restart", st, r, before)
    # a step buckets the points: one bucket of a day holds all three
    st, r = history(srv, "device", did, **{"from": hour_ago(), "step": 86400000})
    check(st == 200, st, r)
    # a day-wide step reads the coarsest tier that has the range: here nothing has been rolled
    # up into it yet, or its one bucket; either way, never more than one point
    check(len(points(r, "cpu_percent")) <= 1, r)


@T.test
async def buckets_roll_up(srv):
    did = srv.add_device("SN-H2", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        for cpu in (10.0, 20.0, 60.0):
            await dev.send_json(status(cpu, 40.0))
            check(await dev.recv_json(2) == ACK)

        # tier 1 (1 s buckets): once the bucket of the uploads has closed, its aggregate holds
        # min/avg/max of the raw samples in it (the uploads may straddle two buckets)
        def rolled():
            st, r = history(srv, "device", did, **{"from": hour_ago(), "step": 1000})
            pts = points(r, "cpu_percent") if st == 200 else []
            return r if sum(1 for _ in pts) and r["data"]["tier"] == "tier1" and \
                len(pts) >= 1 and min(p[2] for p in pts) == 10.0 and \
                max(p[3] for p in pts) == 60.0 else None
        r = await await_until(rolled, timeout=20, what="a tier-1 aggregate")
        pts = points(r, "cpu_percent")
        total = sum(p[1] for p in pts)
        check(min(p[2] for p in pts) == 10.0 and max(p[3] for p in pts) == 60.0, pts)
        check(len(pts) in (1, 2, 3) and total >= 30.0, pts)


@T.test
async def miner_history(srv):
    did = srv.add_device("SN-HM", "miner", "pw")
    rec = {"minerId": "f09999", "minerBalance": "244.058 mFIL", "workerBalance": "39.522 FIL",
           "workerBalanceAtto": "39522000000000000000", "rawBytePowerBytes": 1099511627776,
           "totalSectors": 7, "errorSectors": 1, "faultySectors": 1,
           "deadlines": [{"index": 0, "faults": 1, "provenPartitions": 2},
                         {"index": 1, "faults": 0, "provenPartitions": 3}],
           "workerInfo": {
               "w1": {"hostName": "w1", "taskState": "running", "currentQueue": {
                   "PC1": [{"id": "a", "task": "PC1", "state": "running", "start": 1}]},
                      "pendingQueue": {"C2": [{"id": "b", "task": "C2", "state": "assigned(1)"}]}},
               "w2": {"hostName": "w2", "taskState": "idle", "enabled": False,
                      "currentQueue": {}, "pendingQueue": {}}}}
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        await dev.send_json({"type": "upload_miner_info", "Headers": {"full": True}, "data": rec})
        check(await dev.recv_json(2) == MINER_ACK)

    def sampled():
        st, r = history(srv, "miner", "f09999", **{"from": hour_ago()})
        return r if st == 200 and points(r, "sectors.total") else None
    r = await await_until(sampled, timeout=10, what="a miner sample")
    last = {k: v[-1][1] for k, v in r["data"]["series"].items()}
    check(abs(last["balance_miner_fil"] - 0.244058) < 1e-9, last)
    check(last["balance_worker_fil"] == 39.522, last)
    check(last["power_raw_bytes"] == 1099511627776, last)
    check(last["sectors.total"] == 7 and last["sectors.error"] == 1 and last["faults"] == 1, last)
    check(last["deadlines.proven_partitions"] == 5 and last["deadlines.faulty"] == 1, last)
    check(last["jobs.PC1.running"] == 1 and last["jobs.C2.assigned"] == 1, last)
    check(last["workers.running"] == 1 and last["workers.idle"] == 1 and
          last["workers.disabled"] == 1, last)
    srv.stop()
    srv.start()
    st, r2 = history(srv, "miner", "f09999", **{"from": r["data"]["from"]})
    check(st == 200, st, r2)
    # every point read before the restart is there after it, unchanged
    for name, pts in r["data"]["series"].items():
        after = r2["data"]["series"].get(name, [])
        check(all(p in after for p in pts), name, pts, after)


async def front_call(ws, n, **msg):
    msg["msgId"] = str(n)
    await ws.send(json.dumps(msg))
    while True:
        r = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if r.get("msgId") == str(n):
            return r


@T.test
async def front_history(srv):
    did = srv.add_device("SN-HF", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        for cpu in (5.0, 7.0):
            await dev.send_json(status(cpu, 40.0))
            check(await dev.recv_json(2) == ACK)
    async with websockets.connect("ws://127.0.0.1:%d/front" % srv.port, ping_interval=None,
                                  max_size=1 << 24) as ws:
        r = await front_call(ws, 1, uri="login", body={"token": srv.token})
        check(int(r["code"]) == 1, r)
        r = await front_call(ws, 2, uri="history", body={"device_id": did, "from": hour_ago()})
        check(int(r["code"]) == 1 and r["data"]["tier"] == "raw", r)
        check([p[1] for p in r["data"]["series"]["cpu_percent"]] == [5.0, 7.0], r)
        st, rest = history(srv, "device", did, **{"from": hour_ago()})
        check(rest["data"]["series"] == r["data"]["series"], "REST and /front agree", rest, r)
        r = await front_call(ws, 3, uri="history", body={"device_id": did, "from": 9, "to": 3})
        check(int(r["code"]) != 1 and "from" in r["message"], r)
        r = await front_call(ws, 4, uri="history", body={"minerId": "f0nope"})
        check(int(r["code"]) != 1, r)


@T.test
async def bad_requests(srv):
    did = srv.add_device("SN-H3", "M", "pw")
    st, r = history(srv, "device", did, **{"from": 5, "to": 5})
    check(st == 400 and "from must be before to" in r["message"], st, r)
    st, r = history(srv, "device", did, **{"from": "x"})
    check(st == 400 and "from must be a time" in r["message"], st, r)
    st, r = history(srv, "device", did, bogus=1)
    check(st == 400 and "unknown query argument" in r["message"], st, r)
    st, r = history(srv, "device", "987654321")
    check(st == 404, st, r)
    st, r = history(srv, "device", "abc")
    check(st == 400, st, r)
    st, r = history(srv, "miner", "f0nothing")
    check(st == 404, st, r)
    st, r = history(srv, "device", did)
    check(st == 200 and r["data"]["series"] == {} and r["data"]["tier"] == "raw", st, r)
    # read scope is enough; no token is not
    st, r = srv.api.request("GET", REST_BASE + "device_history_query/%s" % did, token="")
    check(st == 401, st, r)


if __name__ == "__main__":
    T.main()
