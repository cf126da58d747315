# SPDX-License-Identifier: MIT
"""Failover over a `server` list, against two scripted servers: the token one server issued is
presented to the next one (the nodes of a cluster share one database) and accepted there; after
the drop of a connection that lasted longer than reconnect_interval the next server gets us after
[0, reconnect_jitter] only; after a shorter one, only after reconnect_interval + jitter; and the
first server is chosen at random."""
import asyncio
import shutil
import time

import edgetest
from edgetest import Harness, check

FAR = int(time.time() * 1000) + 3600_000
INTERVAL, JITTER = 1.5, 0.2
TIMING = ["--reconnect-interval", "1500ms", "--reconnect-jitter", "200ms"]


async def accept_any(servers, timeout=3.0):
    """(index of the server, connection) of the next connection to either server."""
    tasks = [asyncio.ensure_future(s.accept(timeout)) for s in servers]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for p in pending:
        p.cancel()
    for i, task in enumerate(tasks):
        if task in done:
            return i, task.result()


async def main(t):
    other = Harness()
    await other.start()
    try:
        servers = [t, other]
        urls = ",".join(f"ws://127.0.0.1:{s.port}/ws" for s in servers)

        p = await t.probe("--server", urls, *TIMING)
        i, c = await accept_any(servers)
        await c.login({"status": "success",
                       "data": {"device_id": "123", "token": "tok-1", "token_expires": FAR}})
        await p.line("EVENT logged_in 123")
        await c.serve(INTERVAL + 0.2)  # longer than reconnect_interval: a quick move is earned

        # the drop: the other server after [0, jitter], with the first one's token
        t0 = time.monotonic()
        await c.close()
        j, c = await accept_any(servers)
        took = time.monotonic() - t0
        check(j != i, "the next connection goes to the other server")
        check(took <= JITTER + 0.8, f"moved on after {took:.3f}s")
        m = await c.login({"status": "success", "data": {"device_id": "123"}})
        check(m == {"device_id": "123", "token": "tok-1"}, f"the token is kept: {m}")
        await p.line("EVENT logged_in 123")

        # dropped at once (shorter than reconnect_interval): no quick move, the full wait
        t0 = time.monotonic()
        await c.close()
        k, c = await accept_any(servers, timeout=INTERVAL + JITTER + 2)
        took = time.monotonic() - t0
        check(k == i, "round robin: back to the first server")
        check(INTERVAL - 0.05 <= took <= INTERVAL + JITTER + 0.8, f"full wait {took:.3f}s")
        await c.login()
        await p.line("EVENT logged_in 123")
        check(await p.stop() == 0, "exit 0")
        log = p.oplog()
        check("moving on to the next server" in log and "dropped the connection" in log, log)
        check("less than reconnect_interval" in log, log)

        # the first server is random: both are chosen over 16 starts (all on one: p = 2^-15)
        first = set()
        for _ in range(16):
            p = await t.probe("--server", urls)
            i, c = await accept_any(servers)
            first.add(i)
            await p.stop()
            await c.close()
            if len(first) == 2:
                break
        check(first == {0, 1}, f"first servers seen: {first}")
    finally:
        await other.close()
        shutil.rmtree(other.tmp, ignore_errors=True)


edgetest.run(main)
