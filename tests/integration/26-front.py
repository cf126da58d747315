#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""26-front.py -- the dashboards' WebSocket /front (docs/frontend.md): sign-in with an
API token (its scope), every request uri, subMinerInfo pushes that carry only the changed
fields as a merge patch (workerInfo keyed by host name) and nothing when nothing changed,
subDeviceStatus, bad messages, the connection limit, and a slow subscriber that is dropped
without delaying the others."""
import asyncio
import json
import time

import websockets

from efharness import Suite, check, await_until
from front import Front, int_code

T = Suite("26-front", front_push_interval="100ms", heartbeat_tolerance="10s", log_flush="20ms",
          heartbeat_tolerance_miss="5s")

JOB = {"id": "7e19a74f", "sector": "1", "worker": "a555f37e", "hostName": "worker01",
       "task": "PC1", "state": "running", "time": "1m0s"}


def record():
    return {"minerId": "f01234", "minerBalance": "244.058 mFIL", "totalSectors": 7,
            "errorSectors": 1, "sectorStates": {"Proving": 5},
            "workerInfo": {"worker01": {"hostName": "worker01", "taskType": ["PC1"],
                                        "currentQueue": {"PC1": [JOB]}, "pendingQueue": {}}}}


async def miner_feed(srv):
    did = srv.add_device("SN-M", "miner", "pw")
    dev = srv.connect()
    await dev.__aenter__()
    await dev.login(device_id=did, password="pw")
    await dev.send_json({"type": "upload_miner_info", "Headers": {"full": True}, "data": record()})
    while (await dev.recv_json(2))["type"] != "send_minerInfo_response":
        pass
    return dev


async def patch(dev, data):
    data = dict(data, minerId="f01234")
    await dev.send_json({"type": "upload_miner_info", "Headers": {"full": False}, "data": data})
    while (await dev.recv_json(2))["type"] != "send_minerInfo_response":
        pass


@T.test
async def sign_in(srv):
    async with Front(srv) as f:
        r = await f.call(uri="login", body={"token": "wrong"})
        check(r["code"] == 0 and r["msgId"] == "1", r)
        await asyncio.wait_for(f.ws.wait_closed(), 2)
    async with Front(srv) as f:
        r = await f.call(uri="minerList", body={})
        check(r["code"] == 0, r)  # must sign in first
        await asyncio.wait_for(f.ws.wait_closed(), 2)
    async with Front(srv) as f:
        r = await f.login(srv.token)
        check(r["data"]["scope"] == "admin" and r["data"]["kind"] == "admin", r)
        check(r["data"]["limited"] is False, r)
    # A read-only token, made through the REST API, is enough for dashboards ...
    st, r = srv.api.post("api_token_add", {"name": "wall screen", "scope": "read"})
    check(st == 200 and len(r["data"]["token"]) == 43, st, r)
    read = r["data"]["token"]
    async with Front(srv) as f:
        check((await f.login(read))["data"]["scope"] == "read")
    # ... and for REST reads, but not for changes (403).
    st, _ = srv.api.get("device_query_all", token=read)
    check(st == 200, st)
    st, r = srv.api.post("group_add", {"group_name": "g"}, token=read)
    check(st == 403 and r["status"] == "fail", st, r)
    st, r = srv.api.post("api_token_add", {"name": "x", "scope": "root"})
    check(st == 400, st, r)


@T.test(login_timeout="300ms")
async def silent_dashboard_is_closed(srv):
    async with Front(srv) as f:
        r = await f.recv(3)
        check(r["code"] == 0 and "TimeOut" in r["message"], r)
        await asyncio.wait_for(f.ws.wait_closed(), 2)


@T.test
async def requests(srv):
    dev = await miner_feed(srv)
    gid = srv.api.post("group_add", {"group_name": "rack-1"})[1]["data"]["group_id"]
    srv.api.post("relation_add", {"device_id": dev.device_id, "group_id": gid})
    await dev.send_json({"type": "upload_status_info", "Headers": {},
                         "data": {"host_name": "worker01", "cpu_temperature": 50}})
    await dev.recv_json(2)
    async with Front(srv) as f:
        await f.login(srv.token)
        r = await f.call(uri="minerInfo", body={"minerId": "f01234"})
        check(r["code"] == 1 and r["data"]["minerBalance"] == "244.058 mFIL", r)
        check(isinstance(r["data"]["workerInfo"], list), r)
        check(r["data"]["workerInfo"][0]["cpuTemper"] == 50, r)
        r = await f.call(uri="minerInfo", body={"minerId": "f0nope"})
        check(r["code"] == 0, r)
        r = await f.call(uri="minerList", body={})
        m = r["data"][0]
        check(m["minerId"] == "f01234" and m["workers"] == 1 and m["workersOnline"] == 1, m)
        # alarms: structured items computed by the server (docs/frontend.md#alarms)
        check(all(isinstance(a, dict) and {"type", "severity", "message"} <= set(a) and
                  a["severity"] in ("warning", "critical") and
                  isinstance(a["message"], str) and a["message"] for a in m["alarms"]), m)
        check({"type": "error_sectors", "severity": "warning"} in
              [{"type": a["type"], "severity": a["severity"]} for a in m["alarms"]], m)
        check(not [a for a in m["alarms"] if a["type"] in ("workers_offline", "stale", "miner_error")], m)
        r = await f.call(uri="deviceList", body={})
        check(r["code"] == 1 and r["data"][0]["device_id"] == dev.device_id, r)
        check(r["data"][0]["groups"] == ["rack-1"] and r["data"][0]["dev_state"] == "online", r)
        check("password" not in json.dumps(r), r)
        r = await f.call(uri="deviceStatus", body={"device_id": dev.device_id})
        check(r["code"] == 1 and r["data"]["cpu_temperature"] == 50, r)
        async def log_rows():  # device logs are written behind (log_flush)
            r = await f.call(uri="deviceLog", body={"device_id": dev.device_id, "limit": 5})
            check(r["code"] == 1, r)
            return r if r["data"] else None
        r = await await_until(log_rows, 3, what="device log rows over /front")
        check(len(r["data"]) <= 5, r)
        r = await f.call(uri="deviceLog", body={"device_id": "999"})
        check(r["code"] == 0, r)
        r = await f.call(uri="nope", body={})
        check(r["code"] == 0 and r["message"] == "unknown uri", r)
        await f.ws.send("{not json")
        check((await f.recv())["code"] == 0)
        r = await f.call(event="subMinerInfo", body={})
        check(r["code"] == 0, r)
        check((await f.call(uri="minerList", body={}))["code"] == 1)  # still usable
    await dev.__aexit__(None, None, None)


@T.test
async def miner_pushes(srv):
    dev = await miner_feed(srv)
    async with Front(srv) as f:
        await f.login(srv.token)
        r = await f.call(event="subMinerInfo", body={"minerId": "f01234"})
        check(r["code"] == 1, r)
        doc = r["data"]
        check(isinstance(doc["workerInfo"], dict) and "worker01" in doc["workerInfo"], doc)
        # Nothing changes: nothing is pushed.
        try:
            p = await f.push(0.5)
            raise AssertionError("unexpected push %s" % p)
        except asyncio.TimeoutError:
            pass
        # One job's time changes: the push carries only that, keyed by host.
        await patch(dev, {"workerInfo": {"worker01": {"currentQueue": {
            "PC1": [dict(JOB, time="2m0s")]}}}})
        p = await f.push()
        check(p["code"] == 1 and p["message"] == "subMinerInfo", p)
        b = p["body"]
        check(b["minerId"] == "f01234", b)
        check(set(b) <= {"minerId", "workerInfo", "updatedTime"}, b)
        check(b["workerInfo"] == {"worker01": {"currentQueue": {"PC1": [dict(JOB, time="2m0s")]}}}, b)
        # A finished job list: null deletes it.
        await patch(dev, {"workerInfo": {"worker01": {"currentQueue": {"PC1": None}}},
                          "minerBalance": "1 FIL"})
        b = (await f.push())["body"]
        check(b["minerBalance"] == "1 FIL", b)
        check(b["workerInfo"]["worker01"]["currentQueue"] == {"PC1": None}, b)
        # Unsubscribed: no more pushes.
        check((await f.call(event="unsubMinerInfo", body={"minerId": "f01234"}))["code"] == 1)
        await patch(dev, {"minerBalance": "2 FIL"})
        try:
            p = await f.push(0.5)
            raise AssertionError("push after unsub %s" % p)
        except asyncio.TimeoutError:
            pass
    await dev.__aexit__(None, None, None)


@T.test
async def device_status_pushes(srv):
    did = srv.add_device("SN-D", "d", "pw")
    async with Front(srv) as f:
        await f.login(srv.token)
        r = await f.call(event="subDeviceStatus", body={"device_id": did})
        check(r["code"] == 1 and r["data"]["dev_state"] == "offline", r)
        async with srv.connect() as dev:
            await dev.login(device_id=did, password="pw")
            await dev.send_json({"type": "upload_status_info", "Headers": {},
                                 "data": {"CPU_info": {"user_cpu_time": 3}}})
            await dev.recv_json(2)
            p = await f.push()
            check(p["message"] == "subDeviceStatus" and p["body"]["device_id"] == did, p)
            check(p["body"]["CPU_info"] == {"user_cpu_time": 3}, p)
        p = await f.push()
        check(p["body"] == {"device_id": did, "dev_state": "offline"}, p)


@T.test
async def list_subscriptions(srv):
    """subMinerList: the summaries keyed by minerId, then merge patches of what changed;
    subDeviceList: device state changes, and a _refresh hint when devices are added."""
    dev = await miner_feed(srv)
    async with Front(srv) as f:
        await f.login(srv.token)
        r = await f.call(event="subMinerList", body={})
        check(r["code"] == 1 and r["data"]["f01234"]["minerBalance"] == "244.058 mFIL", r)
        check((await f.call(event="subDeviceList", body={}))["code"] == 1)
        await patch(dev, {"minerBalance": "7 FIL"})
        p = await f.push()
        while p["message"] != "subMinerList":
            p = await f.push()
        check(p["body"]["f01234"]["minerBalance"] == "7 FIL", p)
        check("workerInfo" not in p["body"]["f01234"], p)  # summaries, not records
        did = srv.add_device("SN-LIST", "M", "pw")  # added: the lists refetch
        p = await f.push()
        while p["message"] != "subDeviceList":
            p = await f.push()
        check(p["body"].get("_refresh") is True, p)
        async with srv.connect() as d:  # a state change
            await d.login(device_id=did, password="pw")
            p = await f.push()
            while p["message"] != "subDeviceList" or did not in p["body"]:
                p = await f.push()
            check(p["body"][did] == {"dev_state": "online"}, p)
        check((await f.call(event="unsubMinerList", body={}))["code"] == 1)
    await dev.__aexit__(None, None, None)


@T.test(front_max_connections=2)
async def connection_limit(srv):
    async with Front(srv) as a, Front(srv) as b:
        await a.login(srv.token)
        await b.login(srv.token)
        async with Front(srv) as c:  # signed-in dashboards are counted when they sign in
            await c.ws.send(json.dumps({"uri": "login", "body": {"token": srv.token},
                                        "msgId": "1"}))
            r = await c.recv()
            check(r["code"] == 0 and "too many" in r["message"], r)
            await asyncio.wait_for(c.ws.wait_closed(), 2)
        await a.ws.close()

        async def admitted():  # a place is free again once the server has seen `a` leave
            async with Front(srv) as d:
                await d.ws.send(json.dumps({"uri": "login", "body": {"token": srv.token},
                                            "msgId": "1"}))
                r = await d.recv()
                if r["code"] == 0 and "too many" in r.get("message", ""):
                    return False
                check(r.get("msgId") == "1" and r["code"] == 1, r)
                return True
        await await_until(admitted, 3, what="a place free after one left")
    async with Front(srv) as e:
        await e.login(srv.token)


@T.test(front_unauthenticated_per_address=4, login_timeout="30s")
async def unsigned_connections_do_not_crowd_out(srv):
    """260 sockets that never sign in, from one address: past its cap they are refused at once,
    and the admin, from another address, still signs in (they used to fill
    front_max_connections)."""
    idle, refused = [], 0
    for _ in range(260):
        f = Front(srv, source="127.0.0.2")
        await f.__aenter__()
        idle.append(f)
    for f in idle[4:]:
        r = await f.recv()
        check(r["code"] == 0 and "too many" in r["message"], r)
        refused += 1
    check(refused == 256, refused)
    async with Front(srv) as admin:
        await admin.login(srv.token)
        await admin.call(uri="minerList")
    for f in idle:
        await f.__aexit__(None, None, None)


# The miner's agent sends ~9 MB here in a few seconds: above a device's default byte rate.
@T.test(front_queue_max="16k", front_push_interval="20ms", device_max_bytes="64m",
        device_max_messages=10000)
async def slow_subscriber_is_dropped(srv):
    dev = await miner_feed(srv)
    big = {"workerInfo": {"w%d" % i: {"hostName": "w%d" % i, "note": "x" * 1200}
                          for i in range(30)}}
    async with Front(srv) as fast, Front(srv, rcvbuf=4096) as slow:
        await fast.login(srv.token)
        await slow.login(srv.token)
        await fast.call(event="subMinerInfo", body={"minerId": "f01234"})
        await slow.call(event="subMinerInfo", body={"minerId": "f01234"})
        slow.ws.transport.pause_reading()  # stops reading: its queue grows at the server
        t0 = time.monotonic()
        # ~9 MB in all: more than the kernel buffers between the server and the slow reader.
        for i in range(250):
            await patch(dev, {"minerBalance": "%d FIL" % i,
                              "workerInfo": {k: {"note": "%d" % i + v["note"]}
                                             for k, v in big["workerInfo"].items()}})
            p = await fast.push()
            check(p["body"]["minerBalance"] == "%d FIL" % i, p)
        check(time.monotonic() - t0 < 60, "the fast subscriber was slowed down")
        slow.ws.transport.resume_reading()
        closed = False
        try:
            while True:
                await slow.recv(3)
        except websockets.exceptions.ConnectionClosed:
            closed = True
        except asyncio.TimeoutError:
            pass
        check(closed, "the slow subscriber was not dropped")
    await dev.__aexit__(None, None, None)


if __name__ == "__main__":
    T.main()
