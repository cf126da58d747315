#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""25-miner.py -- miner records on the server (docs/protocol.md#miner-data): a full upload is
acknowledged and served by miner_query / miner_query_all in the original minerInfo shape, merge
patches change only what they name (null deletes a job list; a worker set to null stays as
`missing` until an operator removes it with miner_worker_delete), netState is what the miner's
record says, worker hardware is joined from the worker host's own status upload with its online
state as agentState, records survive a server restart, and a patch the server has no base for
makes it ask for a full one."""

from efharness import Suite, check, await_until

T = Suite("25-miner", heartbeat_tolerance="10s", heartbeat_tolerance_miss="5s")

ACK = {"type": "send_minerInfo_response", "Headers": {}, "data": {}}
JOB = {"id": "7e19a74f", "sector": "1", "worker": "a555f37e", "hostName": "worker01",
       "task": "PC1", "state": "running", "time": "1h43m11.3s"}


def record():
    return {"minerId": "f01234", "minerBalance": "244.058 mFIL", "workerBalance": "39.522 FIL",
            "totalSectors": 7, "sectorStates": {"Proving": 5, "PreCommit1": 2},
            "workerInfo": {
                "worker01": {"hostName": "worker01", "taskType": ["PC1", "PC2"],
                             "currentQueue": {"PC1": [JOB]}, "pendingQueue": {}},
                "worker02": {"hostName": "worker02", "taskType": ["C2"],
                             "currentQueue": {}, "pendingQueue": {}}}}


def upload(data, full):
    return {"type": "upload_miner_info", "Headers": {"full": full}, "data": data}


async def miner_device(srv, sn="SN-MINER"):
    did = srv.add_device(sn, "miner", "pw")
    dev = srv.connect()
    await dev.__aenter__()
    await dev.login(device_id=did, password="pw")
    return dev


def query(srv, miner="f01234"):
    st, r = srv.api.get("miner_query", miner)
    check(st == 200, st, r)
    m = r["data"]
    m["workers"] = {w["hostName"]: w for w in m["workerInfo"]}
    return m


@T.test
async def full_then_patches(srv):
    dev = await miner_device(srv)
    await dev.send_json(upload(record(), True))
    check(await dev.recv_json(2) == ACK)
    m = query(srv)
    check(m["minerBalance"] == "244.058 mFIL" and m["sectorStates"]["Proving"] == 5, m)
    check(isinstance(m["workerInfo"], list) and len(m["workerInfo"]) == 2, m)
    check(m["workers"]["worker01"]["currentQueue"]["PC1"][0] == JOB, m)
    check(m["deviceId"] == dev.device_id, m)

    # A patch: one balance, one job list replaced, one worker removed; the rest stays.
    done = dict(JOB, state="running", time="1h50m0s")
    await dev.send_json(upload({"minerId": "f01234", "minerBalance": "250 mFIL",
                                "workerInfo": {"worker01": {"currentQueue": {"PC1": [done]}},
                                               "worker02": None}}, False))
    check(await dev.recv_json(2) == ACK)
    m = query(srv)
    check(m["minerBalance"] == "250 mFIL" and m["workerBalance"] == "39.522 FIL", m)
    check(sorted(m["workers"]) == ["worker01", "worker02"], m["workers"].keys())
    w2 = m["workers"]["worker02"]
    check(w2["missing"] is True and isinstance(w2["lastSeen"], int) and w2["taskType"] == ["C2"],
          w2)
    # only an operator removes a missing worker; a listed one refuses (it would come back)
    st, r = srv.api.post("miner_worker_delete", {"minerId": "f01234", "hostName": "worker01"})
    check(st == 409, st, r)
    st, r = srv.api.post("miner_worker_delete", {"minerId": "f01234", "hostName": "nope"})
    check(st == 404, st, r)
    st, r = srv.api.post("miner_worker_delete", {"minerId": "f01234"})
    check(st == 400, st, r)
    st, r = srv.api.post("miner_worker_delete", {"minerId": "f01234", "hostName": "worker02"})
    check(st == 200, st, r)
    m = query(srv)
    check(list(m["workers"]) == ["worker01"], m["workers"].keys())
    check(m["workers"]["worker01"]["currentQueue"]["PC1"][0]["time"] == "1h50m0s", m)
    check(m["workers"]["worker01"]["taskType"] == ["PC1", "PC2"], m)

    # A second full upload replaces the record.
    rec = record()
    rec["totalSectors"] = 9
    await dev.send_json(upload(rec, True))
    check(await dev.recv_json(2) == ACK)
    m = query(srv)
    check(m["totalSectors"] == 9 and len(m["workers"]) == 2, m)

    st, r = srv.api.get("miner_query_all")
    check(st == 200 and [x["minerId"] for x in r["data"]] == ["f01234"], st, r)
    st, r = srv.api.get("miner_query", "f0nope")
    check(st == 404 and r["status"] == "fail", st, r)
    await dev.__aexit__(None, None, None)


@T.test
async def bad_uploads(srv):
    dev = await miner_device(srv)
    for data, why in (({"minerBalance": "1 FIL"}, "minerId"),
                      ({"minerId": "f01", "workerInfo": [1, 2]}, "workerInfo")):
        await dev.send_json(upload(data, True))
        r = await dev.recv_json(2)
        check(r["type"] == "error" and why in r["data"]["message"], r)
    await dev.send_json({"type": "upload_miner_info", "Headers": {}, "data": "nope"})
    r = await dev.recv_json(2)
    check(r["type"] == "error", r)
    # still usable
    await dev.send_json({"type": "ping_pong", "Headers": {}, "data": "ping"})
    check((await dev.recv_json(2))["data"] == "pong")
    st, r = srv.api.get("miner_query_all")
    check(st == 200 and r["data"] == [], r)
    await dev.__aexit__(None, None, None)


@T.test
async def worker_hardware_join(srv):
    dev = await miner_device(srv)
    await dev.send_json(upload(record(), True))
    check(await dev.recv_json(2) == ACK)
    m = query(srv)
    # netState is the miner's reachability of the worker: none in this record
    check(m["workers"]["worker01"]["netState"] == "unknown", m)
    check("agentState" not in m["workers"]["worker01"], m)

    wid = srv.add_device("SN-W1", "worker", "pw")
    async with srv.connect() as w:
        await w.login(device_id=wid, password="pw")
        await w.send_json({"type": "upload_status_info", "Headers": {}, "data": {
            "host_name": "worker01", "cpu_temperature": 61.5, "load_avg": {"1": 4.67},
            "Memory_info": {"total_memory_mb": 1000, "free_memory_mb": 100, "buff_cache_mb": 300},
            "Disk_info": {"root_used_percent": 27.6},
            "disk_io": [{"name": "sda", "read_bps": 100, "write_bps": 50},
                        {"name": "sdb", "read_bps": 1, "write_bps": 2}],
            "net_io": [{"name": "eth0", "rx": 1, "tx": 2, "rxpck": 3, "txpck": 4}]}})
        check((await w.recv_json(2))["type"] == "send_statusInfo_response")
        w1 = query(srv)["workers"]["worker01"]
        check(w1["agentState"] == "online" and w1["cpuTemper"] == 61.5 and w1["cpuLoad"] == 4.67, w1)
        check(w1["totalMemory"] == 1000 and w1["useMemory"] == 600 and w1["useDisk"] == 27.6, w1)
        check(w1["diskR"] == 101 and w1["diskW"] == 52, w1)
        check(w1["netIO"] == [{"name": "eth0", "rx": 1, "tx": 2, "rxpck": 3, "txpck": 4}], w1)
        check("agentState" not in query(srv)["workers"]["worker02"])
    # The worker's agent is gone: offline, hardware no longer joined.
    await await_until(lambda: query(srv)["workers"]["worker01"].get("agentState") == "offline", 3)
    check("cpuTemper" not in query(srv)["workers"]["worker01"])
    await dev.__aexit__(None, None, None)


@T.test(log_flush="20ms")
async def persisted_across_restart(srv):
    dev = await miner_device(srv)
    await dev.send_json(upload(record(), True))
    check(await dev.recv_json(2) == ACK)
    await dev.send_json(upload({"minerId": "f01234", "workerInfo": {"worker02": None}}, False))
    check(await dev.recv_json(2) == ACK)
    await dev.__aexit__(None, None, None)
    srv.stop()      # writes what is dirty on the way out
    srv.start()
    m = query(srv)
    check(m["minerBalance"] == "244.058 mFIL", m)
    check(sorted(m["workers"]) == ["worker01", "worker02"] and m["workers"]["worker02"]["missing"],
          m)
    check(m["workers"]["worker01"]["currentQueue"]["PC1"][0] == JOB, m)


@T.test
async def patch_without_base_asks_for_full(srv):
    dev = await miner_device(srv)
    dev.ignore = set()  # this test wants to see report_full_info
    full = {"type": "report_full_info", "Headers": {}, "data": {}}
    check(await dev.recv_json(2) == full)  # sent after every login (docs/protocol.md#miner-data)
    await dev.send_json(upload({"minerId": "f0777", "minerBalance": "1 FIL"}, False))
    check(await dev.recv_json(2) == ACK)
    check(await dev.recv_json(2) == full)
    st, r = srv.api.get("miner_query", "f0777")
    check(st == 404, st, r)
    await dev.__aexit__(None, None, None)


@T.test
async def a_miner_belongs_to_its_device(srv):
    """Another device cannot overwrite, patch or take a miner: refused and logged; an admin
    moves it with miner_bind."""
    owner = await miner_device(srv, "SN-OWNER")
    await owner.send_json(upload(record(), True))
    check(await owner.recv_json(3) == ACK, "ack")
    thief = await miner_device(srv, "SN-THIEF")
    await thief.send_json(upload({"minerId": "f01234", "minerBalance": "0 FIL"}, True))
    r = await thief.recv_json(3)
    check(r["type"] == "error" and "another device" in r["data"]["message"], r)
    await thief.send_json(upload({"minerId": "f01234", "workerInfo": {"worker01": None}}, False))
    r = await thief.recv_json(3)
    check(r["type"] == "error", r)
    m = query(srv)
    check(m["minerBalance"] == "244.058 mFIL" and "worker01" in m["workers"], m)
    check(m["deviceId"] == owner.device_id, m["deviceId"])
    # Only an admin token moves it, and only to a device that exists.
    st, r = srv.api.post("miner_bind", {"minerId": "f01234", "device_id": "12345"})
    check(st == 404, st, r)
    st, r = srv.api.post("miner_bind", {"minerId": "f9", "device_id": thief.device_id})
    check(st == 404, st, r)
    st, r = srv.api.post("miner_bind", {"minerId": "f01234", "device_id": thief.device_id})
    check(st == 200, st, r)
    await thief.send_json(upload({"minerId": "f01234", "minerBalance": "1 FIL"}, False))
    check(await thief.recv_json(3) == ACK, "ack after the move")
    check(query(srv)["minerBalance"] == "1 FIL", "the new owner's patch applied")
    await owner.send_json(upload({"minerId": "f01234", "minerBalance": "2 FIL"}, False))
    check((await owner.recv_json(3))["type"] == "error", "the old owner refused")
    for d in (owner, thief):
        await d.__aexit__(None, None, None)


if __name__ == "__main__":
    T.main()
