#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""12-status.py -- status upload (docs/protocol.md#status) and device_statusInfo_query: the
original controller's frame is acknowledged, the API returns the latest upload with device_id and
dev_state, offline / unknown devices are 404, a malformed upload gets an error reply and the
connection stays usable."""

import asyncio

from efharness import Suite, check, await_until

T = Suite("12-status", heartbeat_tolerance="5s", heartbeat_tolerance_miss="3s")

ACK = {"type": "send_statusInfo_response", "Headers": {}, "data": {}}


def seed_status(did, user=1234.5, free=512):
    """The original controller's frame (seed_controller/ uploadStatusInfo), plus device_id/dev_state
    as docs/protocol.md#status shows it."""
    return {"type": "upload_status_info", "Headers": {}, "data": {
        "device_id": did,
        "CPU_info": {"user_cpu_time": user, "system_cpu_time": 321.25, "idle_cpu_time": 99999.5,
                     "io_wait_cpu_time": 12.0},
        "Memory_info": {"total_memory_mb": 15923, "free_memory_mb": free, "buff_cache_mb": 4096},
        "Disk_info": {"root_total_size_mb": 102400, "root_used_size_mb": 51200,
                      "root_used_percent": 50.0},
        "dev_state": "online"}}


@T.test
async def upload_and_query(srv):
    did = srv.add_device("SN-S1", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        await dev.send_json(seed_status(did))
        raw = await dev.recv_text(2)
        check(raw == '{"type":"send_statusInfo_response","Headers":{},"data":{}}', "ack", raw)
        st, r = srv.api.get("device_statusInfo_query", did)
        check(st == 200 and r["status"] == "success", st, r)
        d = r["data"]
        sent = seed_status(did)["data"]
        for sec in ("CPU_info", "Memory_info", "Disk_info"):
            check(d.get(sec) == sent[sec], sec, d.get(sec), sent[sec])
        check(d["device_id"] == did, d)
        check(d["dev_state"] == "online", d)
        # the seed's controller sends no device_id in data: the API still names the device
        await dev.send_json({"type": "upload_status_info", "Headers": {},
                             "data": {"CPU_info": {"user_cpu_time": 1}}})
        check(await dev.recv_json(2) == ACK)
        st, r = srv.api.get("device_statusInfo_query", did)
        check(st == 200 and r["data"]["device_id"] == did and r["data"]["CPU_info"] ==
              {"user_cpu_time": 1}, st, r)


@T.test
async def second_upload_replaces_first(srv):
    did = srv.add_device("SN-S2", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        first = seed_status(did, user=1.0, free=100)
        first["data"]["Extra_first"] = {"a": 1}
        await dev.send_json(first)
        check(await dev.recv_json(2) == ACK)
        second = seed_status(did, user=2.0, free=200)
        await dev.send_json(second)
        check(await dev.recv_json(2) == ACK)
        st, r = srv.api.get("device_statusInfo_query", did)
        check(st == 200, st, r)
        d = r["data"]
        check(d["CPU_info"]["user_cpu_time"] == 2.0 and d["Memory_info"]["free_memory_mb"] == 200,
              "not the latest upload", d)
        check("Extra_first" not in d, "the second upload was merged, not a replacement", d)


@T.test
async def offline_and_unknown_404(srv):
    never = srv.add_device("SN-S3", "M", "pw")
    st, r = srv.api.get("device_statusInfo_query", never)
    check(st == 404 and r["status"] == "fail" and r.get("message"), "never connected", st, r)
    st, r = srv.api.get("device_statusInfo_query", "987654321")
    check(st == 404 and r["status"] == "fail", "unknown id", st, r)
    st, r = srv.api.get("device_statusInfo_query", "abc")
    check(st in (400, 404) and r["status"] == "fail", "non-numeric id", st, r)
    did = srv.add_device("SN-S4", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        # logged in but nothing uploaded yet
        st, r = srv.api.get("device_statusInfo_query", did)
        check(st == 404, "online without an upload", st, r)
        await dev.send_json(seed_status(did))
        check(await dev.recv_json(2) == ACK)
        st, r = srv.api.get("device_statusInfo_query", did)
        check(st == 200, st, r)
    # gone: the live status goes with the session
    await await_until(lambda: srv.api.get("device_statusInfo_query", did)[0] == 404, 2,
                      what="404 after disconnect")


@T.test
async def malformed_upload_keeps_connection(srv):
    did = srv.add_device("SN-S5", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        for bad in [{"type": "upload_status_info", "Headers": {}},
                    {"type": "upload_status_info", "Headers": {}, "data": "text"},
                    {"type": "upload_status_info", "Headers": {}, "data": [1, 2]},
                    {"type": "upload_status_info", "Headers": {}, "data": None}]:
            await dev.send_json(bad)
            r = await dev.recv_json(2)
            check(r.get("type") == "error", "want an error reply to", bad, "got", r)
            check(isinstance(r.get("data", {}).get("message"), str), r)
            await dev.ping()
        st, r = srv.api.get("device_statusInfo_query", did)
        check(st == 404, "a refused upload was stored", st, r)
        await dev.send_json(seed_status(did))
        check(await dev.recv_json(2) == ACK)
        check(srv.api.get("device_statusInfo_query", did)[0] == 200)


@T.test
async def status_before_login_is_refused(srv):
    did = srv.add_device("SN-S6", "M", "pw")
    async with srv.connect() as dev:
        await dev.send_json(seed_status(did))
        r = await dev.recv_json(2)
        check(r.get("status") == "fail", "a status frame is not a login", r)
        await dev.wait_closed(3)
    check(srv.api.get("device_statusInfo_query", did)[0] == 404)


@T.test(log_status_every="1s")
async def status_upload_logged(srv):
    """The first upload of a session is logged, then at most one per log_status_every."""
    did = srv.add_device("SN-S7", "M", "pw")
    rows = lambda: sum(1 for l in srv.logs(did) if l["event"] == "status_upload")  # noqa: E731
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        for _ in range(5):  # five uploads within a second: one row
            await dev.send_json(seed_status(did))
            check(await dev.recv_json(2) == ACK)
        await await_until(lambda: rows() == 1, 2, what="one status_upload row")
        await asyncio.sleep(1.1)  # deliberately: log_status_every (1 s) passes
        await dev.send_json(seed_status(did))
        check(await dev.recv_json(2) == ACK)
        await await_until(lambda: rows() == 2, 2, what="a second row after log_status_every")
    # Rows are written in order: with the session's offline row in the log, any row of the
    # uploads above is too.
    logs = await asyncio.to_thread(srv.wait_offline_logged, did)
    check(sum(1 for l in logs if l["event"] == "status_upload") == 2, logs)


if __name__ == "__main__":
    T.main()
