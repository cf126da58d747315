# SPDX-License-Identifier: MIT
"""restart: the device answers "wait Server Confirm" (order_id echoed), and on restart_confirm,
or after restart_wait without one, re-execs itself with the same argv and logs in again."""
import edgetest
from edgetest import check


def restart(order_id):
    return {"type": "give_order", "Headers": {"isInner": True, "order_type": "restart",
                                              "order_id": order_id},
            "data": {"device_id": "123"}}


async def main(t):
    p = await t.probe()
    c = await t.accept()
    await c.login()
    await p.line("EVENT logged_in")
    await c.send(restart("r1"))
    r = await c.until(lambda m: m.get("type") == "upload_instruction_result")
    check(r == {"type": "upload_instruction_result", "status": "success",
                "Headers": {"message": "wait Server Confirm", "order_id": "r1"}, "data": {}},
          f"restart answer {r}")
    await c.send({"type": "restart_confirm", "Headers": {}, "data": {}})
    start = await p.line("START")  # the same process, re-executed
    check(start == f"START pid={p.proc.pid} argc={p.lines[0].split('argc=')[1]}",
          f"re-exec kept pid and argv: {p.lines[0]} -> {start}")
    c = await t.accept()
    m = await c.login()
    check(m == {"device_id": "123", "password": "pw"}, f"login after restart {m}")
    await p.line("EVENT logged_in")

    # no confirm: restart after restart_wait (300 ms)
    await c.send(restart("r2"))
    await c.until(lambda m: m.get("type") == "upload_instruction_result")
    await p.line("START", timeout=3)
    c = await t.accept()
    await c.login()
    await p.line("EVENT logged_in")
    check(await p.stop() == 0, "clean exit after restarts")
    log = p.oplog()
    check("Receive Restart Confirm:start to Restart." in log, "confirm logged")
    check("start Restart but failed to receive Server Confirm." in log, "timeout logged")

edgetest.run(main)
