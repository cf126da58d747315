#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""13-orders.py -- orders (docs/protocol.md#orders) end to end: give_order through the REST API, the
give_order frame a device receives, success / failure / timeout / busy / offline / unknown,
devices that do not echo order_id, late results, the restart handshake, a disconnect while an
order is in flight, and group_give_order."""
import asyncio
import http.client
import time

from efharness import Suite, check, await_until, add_group, add_relation

T = Suite("13-orders", order_timeout="1s", heartbeat_tolerance="5s",
          heartbeat_tolerance_miss="3s")


def result(status, message, order_id=None, data=None):
    hdr = {"message": message}
    if order_id is not None:
        hdr["order_id"] = order_id
    return {"type": "upload_instruction_result", "status": status, "Headers": hdr,
            "data": data or {}}


async def online(srv, sn, pw="pw"):
    """Register a device, connect and log it in; returns (device_id, Device) -- close it."""
    did = srv.add_device(sn, "M", pw)
    dev = srv.connect()
    await dev.__aenter__()
    await dev.login(device_id=did, password=pw)
    return did, dev


@T.test
async def custom_order_round_trip(srv):
    did, dev = await online(srv, "SN-O1")
    try:
        call = asyncio.create_task(srv.api.apost(
            "give_order", {"device_id": did, "order": "test_order",
                           "params": {"SomethingToPrint": "hi", "n": 3}}))
        o = await dev.recv_type("give_order", 3)
        h = o["Headers"]
        check(h["isInner"] is False and h["order_type"] == "test_order", o)
        check(isinstance(h.get("order_id"), str) and h["order_id"], o)
        check(o["data"]["device_id"] == did, o)
        check(o["data"]["params"] == {"SomethingToPrint": "hi", "n": 3}, o)
        await dev.send_json(result("success", "printed hi", h["order_id"], {"out": "hi"}))
        st, r = await call
        check(st == 200 and r["status"] == "success", st, r)
        check(r["data"]["message"] == "printed hi", r)
        # params absent: the device still gets an object
        call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did,
                                                                "order": "noparams"}))
        o = await dev.recv_type("give_order", 3)
        check(o["data"].get("params") == {}, "params for an order without params", o)
        await dev.send_json(result("success", "ok", o["Headers"]["order_id"]))
        st, r = await call
        check(st == 200, st, r)
        await await_until(lambda: [l["event"] for l in srv.logs(did)][:2] ==
                          ["order_result", "order"], 2, what="order + order_result rows")
    finally:
        await dev.close()


@T.test
async def failure_is_502(srv):
    did, dev = await online(srv, "SN-O2")
    try:
        call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did,
                                                                "order": "unknown_thing"}))
        o = await dev.recv_type("give_order", 3)
        await dev.send_json(result("fail", "order not in config", o["Headers"]["order_id"]))
        st, r = await call
        check(st == 502 and r["status"] == "fail", st, r)
        check(r["message"] == "order not in config", r)
        check(r.get("type") == "DEVICEOP_ERROR", r)
        await dev.ping()  # still connected and usable
    finally:
        await dev.close()


@T.test
async def no_answer_is_504(srv):
    did, dev = await online(srv, "SN-O3")
    try:
        t0 = time.monotonic()
        call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did, "order": "x"}))
        await dev.recv_type("give_order", 3)
        st, r = await call
        dt = time.monotonic() - t0
        check(st == 504 and r["status"] == "fail", st, r)
        check(0.9 <= dt <= 3.0, "504 after %.2fs with --order-timeout 1s" % dt)
        # the device is free again
        call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did, "order": "y"}))
        o = await dev.recv_type("give_order", 3)
        await dev.send_json(result("success", "y done", o["Headers"]["order_id"]))
        st, r = await call
        check(st == 200 and r["data"]["message"] == "y done", st, r)
    finally:
        await dev.close()


@T.test(order_timeout="5s")
async def busy_is_409(srv):
    did, dev = await online(srv, "SN-O4")
    try:
        call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did, "order": "a"}))
        o = await dev.recv_type("give_order", 3)
        st, r = await srv.api.apost("give_order", {"device_id": did, "order": "b"})
        check(st == 409 and r["message"] == "Device busy!", st, r)
        await dev.send_json(result("success", "a done", o["Headers"]["order_id"]))
        st, r = await call
        check(st == 200 and r["data"]["message"] == "a done", st, r)
        # the refused order never reached the device
        try:
            extra = await dev.recv_json(0.3)
        except TimeoutError:
            extra = None
        check(extra is None, "the busy order was sent anyway", extra)
    finally:
        await dev.close()


@T.test
async def offline_unknown_and_bad_requests(srv):
    did = srv.add_device("SN-O5", "M", "pw")
    st, r = srv.api.post("give_order", {"device_id": did, "order": "x"})
    check(st == 409 and r["message"] == "Device is offline!", st, r)
    st, r = srv.api.post("give_order", {"device_id": "123456789", "order": "x"})
    check(st == 404 and r["status"] == "fail", "unknown device", st, r)
    for body in [{"order": "x"}, {"device_id": did}, {"device_id": did, "order": ""},
                 {"device_id": did, "order": 5}, {"device_id": did, "order": "x", "params": [1]},
                 {"device_id": "abc", "order": "x"}]:
        st, r = srv.api.post("give_order", body)
        check(st == 400 and r["status"] == "fail", body, st, r)


@T.test
async def seed_style_result_without_order_id(srv):
    did, dev = await online(srv, "SN-O6")
    try:
        call = asyncio.create_task(srv.api.apost("give_order", {
            "device_id": did, "order": "test_order", "params": {"SomethingToPrint": "x"}}))
        await dev.recv_type("give_order", 3)
        # exactly what the seed's outer_order_exec sends
        await dev.send_json({"type": "upload_instruction_result", "status": "success",
                             "Headers": {"message": "successfully exec order."}, "data": {}})
        st, r = await call
        check(st == 200 and r["data"]["message"] == "successfully exec order.", st, r)
        # and a fail without order_id
        call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did, "order": "z"}))
        await dev.recv_type("give_order", 3)
        await dev.send_json({"type": "upload_instruction_result", "status": "fail",
                             "Headers": {"message": "order not in config"}, "data": {}})
        st, r = await call
        check(st == 502 and r["message"] == "order not in config", st, r)
        # a result without Headers at all is still understood
        call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did, "order": "w"}))
        await dev.recv_type("give_order", 3)
        await dev.send_json({"type": "upload_instruction_result", "status": "success"})
        st, r = await call
        check(st == 200, st, r)
    finally:
        await dev.close()


@T.test
async def stale_result_ignored(srv):
    did, dev = await online(srv, "SN-O7")
    try:
        st, r = await asyncio.gather(
            srv.api.apost("give_order", {"device_id": did, "order": "first"}),
            dev.recv_type("give_order", 3))
        old = r["Headers"]["order_id"]
        check(st[0] == 504, "the first order should time out", st)
        call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did,
                                                                "order": "second"}))
        o = await dev.recv_type("give_order", 3)
        new = o["Headers"]["order_id"]
        check(new != old, "order ids repeat", old, new)
        await dev.send_json(result("fail", "late answer to the first", old))
        await dev.ping()          # the server has read the stale result ...
        await asyncio.sleep(0.2)  # ... and a wrong HTTP answer to it would be here by now
        check(not call.done(), "a stale result completed the current order", call)
        await dev.send_json(result("success", "second done", new))
        st, r = await call
        check(st == 200 and r["data"]["message"] == "second done", st, r)
        # a result for nothing at all is ignored too, and the connection stays usable
        await dev.send_json(result("success", "nothing", "42"))
        await dev.send_json(result("success", "nothing"))
        await dev.ping()
    finally:
        await dev.close()


@T.test
async def restart_handshake(srv):
    did, dev = await online(srv, "SN-O8")
    try:
        call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did,
                                                                "order": "restart"}))
        o = await dev.recv_type("give_order", 3)
        check(o["Headers"]["isInner"] is True and o["Headers"]["order_type"] == "restart", o)
        # the seed's inner_order_exec: no order_id
        await dev.send_json({"type": "upload_instruction_result", "status": "success",
                             "Headers": {"message": "wait Server Confirm"}, "data": {}})
        c = await dev.recv_json(2)
        check(c == {"type": "restart_confirm", "Headers": {}, "data": {}}, "confirm", c)
        st, r = await call
        check(st == 200 and r["status"] == "success", st, r)
    finally:
        await dev.close()
    # upload_log is inner and carries remote_dir
    did, dev = await online(srv, "SN-O8b")
    try:
        call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did,
                                                                "order": "upload_log"}))
        o = await dev.recv_type("give_order", 3)
        check(o["Headers"]["isInner"] is True and isinstance(o["data"].get("remote_dir"), str),
              o)
        await dev.send_json(result("fail", "fail to upload log.", o["Headers"]["order_id"]))
        st, r = await call
        check(st == 502 and r["message"] == "fail to upload log.", st, r)
    finally:
        await dev.close()


@T.test(order_timeout="8s")
async def disconnect_during_order(srv):
    did, dev = await online(srv, "SN-O9")
    t0 = time.monotonic()
    call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did, "order": "x"}))
    await dev.recv_type("give_order", 3)
    await dev.close()
    st, r = await call
    dt = time.monotonic() - t0
    check(st != 200 and r["status"] == "fail", st, r)
    check(dt < 2.0, "the API waited %.2fs after the device had gone" % dt)
    print("disconnect during an order: %d %s after %.2fs" % (st, r.get("message"), dt))
    st, r = await srv.api.apost("give_order", {"device_id": did, "order": "x"})
    check(st == 409 and r["message"] == "Device is offline!", st, r)


@T.test(order_timeout="8s")
async def replaced_connection_during_order(srv):
    did, dev = await online(srv, "SN-O10")
    t0 = time.monotonic()
    call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did, "order": "x"}))
    await dev.recv_type("give_order", 3)
    async with srv.connect() as dev2:
        await dev2.login(device_id=did, password="pw")
        st, r = await call
        check(st != 200 and time.monotonic() - t0 < 2.0, st, r)
        # the new connection takes orders
        call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did, "order": "y"}))
        o = await dev2.recv_type("give_order", 3)
        await dev2.send_json(result("success", "on the new connection",
                                    o["Headers"]["order_id"]))
        st, r = await call
        check(st == 200, st, r)
    await dev.close()


@T.test
async def group_order_per_device_results(srv):
    g = add_group(srv.api, "g-orders")
    ids, devs = [], []
    for i in range(2):
        did, dev = await online(srv, "SN-G%d" % i)
        ids.append(did)
        devs.append(dev)
    off = srv.add_device("SN-Goff", "M", "pw")
    for did in ids + [off]:
        add_relation(srv.api, did, g)

    async def answer(dev, ok):
        o = await dev.recv_type("give_order", 3)
        check(o["data"]["params"] == {"k": "v"}, o)
        await dev.send_json(result("success" if ok else "fail", "ok" if ok else "broke",
                                   o["Headers"]["order_id"]))
    try:
        (st, r), _, _ = await asyncio.gather(
            srv.api.apost("group_give_order", {"group_id": g, "order": "go",
                                               "params": {"k": "v"}}),
            answer(devs[0], True), answer(devs[1], False))
        check(st == 200 and r["status"] == "success", st, r)
        d = r["data"]
        res = {x["device_id"]: x for x in d["results"]}
        check(set(res) == set(ids + [off]), "one result per member", d)
        check(res[ids[0]]["status"] == "success" and res[ids[0]]["message"] == "ok", d)
        check(res[ids[1]]["status"] == "fail" and res[ids[1]]["message"] == "broke", d)
        check(res[off]["status"] == "fail" and res[off]["message"] == "Device is offline!", d)
        check(d.get("succeeded") == 1 and d.get("failed") == 2, d)
        # unknown group, empty group
        st, r = srv.api.post("group_give_order", {"group_id": "123456789", "order": "go"})
        check(st == 404, st, r)
        empty = add_group(srv.api, "g-empty")
        st, r = srv.api.post("group_give_order", {"group_id": empty, "order": "go"})
        check(st == 200 and r["data"]["results"] == [], st, r)
    finally:
        for dev in devs:
            await dev.close()


@T.test
async def group_order_timeout_and_busy(srv):
    g = add_group(srv.api, "g2")
    a, deva = await online(srv, "SN-GA")
    b, devb = await online(srv, "SN-GB")
    for did in (a, b):
        add_relation(srv.api, did, g)
    try:
        # a is busy with a single order; b never answers: busy + timeout in one group call
        single = asyncio.create_task(srv.api.apost("give_order", {"device_id": a,
                                                                  "order": "solo"}))
        oa = await deva.recv_type("give_order", 3)
        t0 = time.monotonic()
        st, r = await srv.api.apost("group_give_order", {"group_id": g, "order": "go"})
        dt = time.monotonic() - t0
        check(st == 200, st, r)
        res = {x["device_id"]: x for x in r["data"]["results"]}
        check(res[a]["message"] == "Device busy!", r)
        check(res[b]["status"] == "fail" and "timed out" in res[b]["message"], r)
        check(dt < 3.0, dt)
        await deva.send_json(result("success", "solo", oa["Headers"]["order_id"]))
        st, r = await single
        # the single order may have timed out meanwhile (1 s); either way it was answered
        check(st in (200, 504), st, r)
    finally:
        await deva.close()
        await devb.close()


@T.test(order_timeout="8s")
async def shutdown_during_order(srv):
    """SIGTERM while an order (and its API call) is in flight: the caller gets an answer or a
    closed connection, and the server exits 0 (checked by the runner's stop())."""
    did, dev = await online(srv, "SN-O11")
    call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did, "order": "x"}))
    await dev.recv_type("give_order", 3)
    t0 = time.monotonic()
    await asyncio.to_thread(srv.stop)
    check(time.monotonic() - t0 < 5, "shutdown took %.1fs" % (time.monotonic() - t0))
    try:
        st, r = await call
        print("API answer at shutdown: %s %s" % (st, r))
        check(st != 200, "an order cut by shutdown reported success", st, r)
    except (OSError, http.client.HTTPException) as e:
        print("API connection at shutdown: %r" % e)  # the connection was closed without an answer: acceptable at shutdown
    await dev.wait_closed(3)


if __name__ == "__main__":
    T.main()
