# SPDX-License-Identifier: MIT
"""Reconnect: up to max_retries failed attempts, then ef_client_run returns EF_ECLOSED (exit 3);
a successful login resets the count; the wait is reconnect_interval plus jitter."""
import time

import edgetest
from edgetest import check
from efharness import free_port


async def main(t):
    # nothing listens: 3 failed attempts, 100-150 ms apart, then exit code 3
    dead = free_port()
    t0 = time.monotonic()
    p = await t.probe("--max-retries", "3", port=dead)
    rc = await p.wait(timeout=5)
    took = time.monotonic() - t0
    check(rc == 3, f"exit code {rc}")
    check(0.2 <= took <= 3.0, f"gave up after {took:.3f}s")
    check("EXIT ECLOSED" in "\n".join(p.lines + [l.decode() for l in
                                                  [await p.proc.stdout.read()]]), "EXIT line")
    check(p.oplog().count("Ready to connect to Server.") == 3, "three attempts")

    # logins reset the count: with max_retries 2, five drops after logins do not stop it
    p = await t.probe("--max-retries", "2")
    for i in range(5):
        c = await t.accept()
        await c.login()
        await p.line("EVENT logged_in")
        await c.close()
    c = await t.accept()
    # then logins fail: two failed attempts end it
    await c.login({"status": "fail", "message": "no"})
    c = await t.accept()
    await c.login({"status": "fail", "message": "no"})
    rc = await p.wait(timeout=5)
    check(rc == 3, f"exit code after failed logins {rc}")

    # reconnect wait = interval + jitter
    p = await t.probe("--reconnect-interval", "400ms", "--reconnect-jitter", "200ms")
    c = await t.accept()
    await c.login()
    await p.line("EVENT logged_in")
    await c.close()
    t0 = time.monotonic()
    c = await t.accept(timeout=3)
    waited = time.monotonic() - t0
    check(0.38 <= waited <= 0.8, f"reconnect wait {waited:.3f}s")
    await p.stop()

edgetest.run(main)
