# SPDX-License-Identifier: MIT
"""Orders: custom handler round trip with order_id echoed, params "{}" when absent, handler
failure, unknown order -> "order not in config", heartbeat alive while a handler blocks,
malformed JSON and unknown types ignored, upload_log failing cleanly when SFTP is unreachable."""
import time

import edgetest  # first: it picks a python3 that has websockets
from edgetest import check
from efharness import free_port


def order(kind, order_id=None, params=None, **data):
    h = {"isInner": kind in ("restart", "upload_log"), "order_type": kind}
    if order_id is not None:
        h["order_id"] = order_id
    d = {"device_id": "123", **data}
    if params is not None:
        d["params"] = params
    return {"type": "give_order", "Headers": h, "data": d}


def is_result(m):
    return m.get("type") == "upload_instruction_result"


async def main(t):
    p = await t.probe("--sftp-host", "127.0.0.1", "--sftp-port", str(free_port()),
                      "--sftp-user", "u", "--sftp-password", "x")
    c = await t.accept()
    await c.login()

    # malformed and unknown messages are ignored; the connection stays up
    await c.send("this is {not json")
    await c.send({"type": "no_such_type", "Headers": {}, "data": {}})
    await c.send('["an", "array"]')

    await c.send(order("echo", "42", {"a": 1, "b": "x"}))
    r = await c.until(is_result)
    check(r["status"] == "success", f"echo status {r}")
    check(r["Headers"]["order_id"] == "42", "order_id echoed")
    check(r["Headers"]["message"] in ('{"a":1,"b":"x"}', '{"b":"x","a":1}'), f"params {r}")
    check(r["data"] == {}, "result data {}")

    await c.send(order("echo"))  # no order_id, no params
    r = await c.until(is_result)
    check(r["status"] == "success" and r["Headers"]["message"] == "{}", f"no params {r}")
    check("order_id" not in r["Headers"], "no order_id invented")

    await c.send(order("echo", "43", [1, 2]))  # params not an object
    r = await c.until(is_result)
    check(r["Headers"]["message"] == "{}", f"non-object params {r}")

    await c.send(order("fail", "44"))
    r = await c.until(is_result)
    check(r["status"] == "fail" and r["Headers"]["message"] == "failed on purpose", f"fail {r}")
    check(r["Headers"]["order_id"] == "44", "order_id on failure")

    await c.send(order("launch_rockets", "45", {"n": 3}))
    r = await c.until(is_result)
    check(r == {"type": "upload_instruction_result", "status": "fail",
                "Headers": {"message": "order not in config", "order_id": "45"}, "data": {}},
          f"unknown order {r}")

    # a handler that blocks 1.2 s: heartbeat and status continue meanwhile
    await c.send(order("sleep", "46", {"ms": 1200}))
    t0 = time.monotonic()
    seen = []
    r = await c.until(lambda m: seen.append(m.get("type")) or is_result(m), timeout=4)
    took = time.monotonic() - t0
    check(r["Headers"]["message"] == "slept 1200 ms" and r["Headers"]["order_id"] == "46", f"{r}")
    check(1.1 <= took <= 2.0, f"sleep order took {took:.3f}s")
    check(seen.count("ping_pong") >= 2, f"pings during the order: {seen}")
    check("upload_status_info" in seen, f"status during the order: {seen}")

    # upload_log: nothing listens on the SFTP port -> fail, quickly, heartbeat unaffected
    await c.send(order("upload_log", "47", remote_dir="/tmp/logs"))
    r = await c.until(is_result, timeout=12)
    check(r["status"] == "fail" and r["Headers"]["message"].startswith("fail to upload log. ("),
          f"{r}")
    check(r["Headers"]["order_id"] == "47", "upload_log order_id")
    await c.send(order("upload_log", "48"))  # no remote_dir
    r = await c.until(is_result)
    check(r["status"] == "fail", f"upload_log without remote_dir {r}")

    got = await c.serve(0.5)
    check(any(m.get("type") == "ping_pong" for _, m in got), "still alive")
    await p.stop()
    log = p.oplog()
    for s in ("receive order echo", "order echo: success", "order launch_rockets: fail",
              "try to upload log.", "fail to upload log."):
        check(s in log, f"operation log has '{s}'")

edgetest.run(main)
