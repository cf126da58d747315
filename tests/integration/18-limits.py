#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""18-limits.py -- the limits of docs/security.md#limits, each attack re-run while the other
clients keep working: silent connections from one address do not starve another's logins and
REST calls; password guessing from one address is refused after login_failures_max while
devices elsewhere (and session-token logins from the same address) log in; a device flooding
messages is closed with the reason in its log; max_devices; connections per address and their
rate. Other loopback addresses (127.0.0.2, ...) stand for other clients. Every check counts
answers, never times."""
import asyncio
import json
import os
import socket
import subprocess
import time

import efharness  # noqa: F401 -- first: it re-runs under Debian's python3 when needed
import websockets

from efharness import Closed, Suite, check, wait_until

T = Suite("18-limits", bcrypt_cost=4)


def silent(n, port, source):
    """n TCP connections from `source` that send nothing (kept open by the caller)."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind((source, 0))
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    return socks


async def login(srv, did, pw="pw", source="127.0.0.1", token=None, timeout=5.0):
    """(reply, device) of a login from `source`; the reply {} when it did not come within
    `timeout` (a client gives up, as the devices of the original protocol do after 5 s)."""
    dev = srv.connect(local_addr=(source, 0), open_timeout=timeout)
    try:
        await dev.__aenter__()
        r = await dev.login(device_id=did, password=None if token else pw, token=token,
                            expect=None, timeout=timeout)
    except (asyncio.TimeoutError, TimeoutError, OSError):
        r = {}
    return r, dev


@T.test  # the default max_handshakes_per_address: half the handshake slots
async def silent_connections_starve_no_one(srv):
    ids = [srv.add_device("SN-S%d" % i, "M", "pw") for i in range(9)]
    socks = silent(300, srv.port, "127.0.0.2")
    try:
        time.sleep(0.3)  # let the server accept them all (they wait for their turn)
        api = efharness.Api(srv.port, srv.token, timeout=5.0)

        def one():
            try:
                return api.get("device_query_all")[0]
            except OSError:  # socket.timeout included: no answer within 5 s
                return None
        rest = await asyncio.gather(*[asyncio.to_thread(one) for _ in range(10)])
        check(rest == [200] * 10, rest)
        replies = await asyncio.gather(*[login(srv, did) for did in ids])
        ok = [r for r, _ in replies if r.get("status") == "success"]
        check(len(ok) == 9, "logins that failed:", [r for r, _ in replies if r not in ok])
        for _, dev in replies:
            await dev.close()
    finally:
        for s in socks:
            s.close()


@T.test(login_failures_max=5, login_failure_window="1m", login_backoff="1m")
async def password_guessing_backs_off(srv):
    victim = srv.add_device("SN-V", "M", "secret")
    others = [srv.add_device("SN-O%d" % i, "M", "pw") for i in range(20)]
    # The victim's own agent has a session token from an earlier login, from the guesser's
    # address too (say, behind the same NAT).
    r, dev = await login(srv, victim, "secret", source="127.0.0.3")
    token = r["data"]["token"]
    await dev.close()
    answers = []
    for i in range(12):
        r, dev = await login(srv, victim, "guess%d" % i, source="127.0.0.3")
        answers.append(r.get("message"))
        await dev.close()
    wrong = answers.count("password Not Correct")
    refused = answers.count("too many failed logins from this address, try again later")
    check(wrong == 5 and refused == 7, answers)
    # The right password from that address is refused too while it backs off ...
    r, dev = await login(srv, victim, "secret", source="127.0.0.3")
    check(r.get("status") == "fail", r)
    await dev.close()
    # ... but its session token gets in, and every other address logs in as usual.
    r, dev = await login(srv, victim, token=token, source="127.0.0.3")
    check(r.get("status") == "success", r)
    await dev.close()
    replies = await asyncio.gather(*[login(srv, did) for did in others])
    check(all(r.get("status") == "success" for r, _ in replies), [r for r, _ in replies])
    for _, d in replies:
        await d.close()
    # 12 guesses wrote at most login_failures_max failure rows for the victim.
    st, logs = srv.api.get("device_log_query", victim)
    fails = [x for x in logs["data"] if x.get("event") == "login" and x.get("result") == "fail"]
    check(len(fails) <= 5, len(fails), fails[:3])


@T.test(login_failures_max=10, login_failure_window="1m", login_backoff="1m",
        bcrypt_jobs=1, ready_timeout=30)
async def guessing_while_a_fleet_logs_in(srv):
    """A guessing loop from one address is held to login_failures_max a window while 10,000
    devices on another address log in (password first, through bcrypt) and stay online. (3,000
    in a sanitizer build: the same checks, at the scale its slower loop reaches in the time.)"""
    fleet = 3000 if efharness.sanitized_build() else 10000
    victim = srv.add_device("SN-G", "M", "secret")
    lg = subprocess.Popen(
        [os.path.join(efharness.build_dir(), "tools/loadgen/edgefleet-loadgen"), "--server",
         "ws://127.0.0.1:%d/ws" % srv.port, "--provision",
         os.path.join(srv.data_dir, "admin.token"), "--devices", str(fleet), "--duration", "40",
         "--schedule", "fast", "--ramp", "5", "--login-timeout", "35", "--json"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answers = {}
    end = time.monotonic() + 20
    guesses = 0
    while time.monotonic() < end and lg.poll() is None:  # bounded: 20 s at most
        r, dev = await login(srv, victim, "guess%d" % guesses, source="127.0.0.3")
        answers[r.get("message")] = answers.get(r.get("message"), 0) + 1
        guesses += 1
        await dev.close()
    out, err = lg.communicate(timeout=90)
    check(lg.returncode == 0, "loadgen exit", lg.returncode, err[-2000:])
    j = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
    print("%d guesses: %s; fleet: %s" % (guesses, answers, {k: j[k] for k in (
        "connected", "logins", "login_fails", "misses", "disconnects")}))
    check(j["connected"] == fleet and j["logins"] == fleet, j)
    check(j["login_fails"] == 0 and j["misses"] == 0 and j["disconnects"] == 0, j)
    check(answers.get("password Not Correct", 0) == 10, answers)
    check(guesses > 20 and answers.get(
        "too many failed logins from this address, try again later", 0) == guesses - 10, answers)


@T.test(device_max_messages=20)
async def message_flood_closes_that_device(srv):
    did = srv.add_device("SN-F", "M", "pw")
    calm_id = srv.add_device("SN-C", "M", "pw")
    _, calm = await login(srv, calm_id)
    _, dev = await login(srv, did)
    try:
        closed = False
        try:
            for _ in range(200):
                await dev.send_json({"type": "ping_pong", "Headers": {}, "data": "ping"})
            while True:
                await dev.recv_json(3)
        except Closed as c:  # 1008; or the close frame lost to the reset of unread pings
            closed = c.code in (1008, 1006, None)
        except websockets.exceptions.ConnectionClosed:
            closed = True
        check(closed, "the flooding device was not closed")
        pong = await calm.ping()
        check(pong["data"] == "pong", pong)

        def reason():
            st, logs = srv.api.get("device_log_query", did)
            return [x for x in logs["data"] if x.get("event") == "disconnect"
                    and x.get("detail") == "message rate exceeded"]
        wait_until(reason, 5, what="the disconnect row with its reason")
    finally:
        await calm.close()
        await dev.close()


@T.test(max_devices=3)
async def max_devices_refuses_the_next(srv):
    ids = [srv.add_device("SN-D%d" % i, "M", "pw") for i in range(4)]
    devs = []
    for did in ids[:3]:
        r, d = await login(srv, did)
        check(r.get("status") == "success", r)
        devs.append(d)
    r, d = await login(srv, ids[3])
    check(r == {"status": "fail", "message": "server full, try again later"}, r)
    await d.close()
    # A device already in may log in again (its new session replaces the old one).
    r, d = await login(srv, ids[0])
    check(r.get("status") == "success", r)
    devs.append(d)
    for d in devs:
        await d.close()


@T.test(max_connections_per_address=5, connection_rate_per_address=30)
def connections_per_address(srv):
    socks = silent(5, srv.port, "127.0.0.4")
    try:
        extra = socket.create_connection(("127.0.0.1", srv.port), source_address=("127.0.0.4", 0))
        extra.settimeout(3)
        try:
            check(extra.recv(10) == b"", "a sixth connection was not closed")
        except ConnectionResetError:
            pass
        extra.close()
        st, _ = srv.api.get("device_query_all")  # another address is served
        check(st == 200, st)
    finally:
        for s in socks:
            s.close()
    # Rate: 60 connections at once from one address, 30 a second allowed.
    accepted = 0
    conns = []
    for _ in range(60):
        c = socket.create_connection(("127.0.0.1", srv.port), source_address=("127.0.0.5", 0))
        conns.append(c)
    for c in conns:
        c.sendall(b"GET /service/devices_manage/device_query_all HTTP/1.1\r\nHost: t\r\n"
                  b"Authorization: Bearer " + srv.token.encode() + b"\r\n\r\n")
        c.settimeout(3)
        try:
            accepted += c.recv(12).startswith(b"HTTP/1.1 200")
        except (ConnectionResetError, socket.timeout):
            pass
        c.close()
    check(0 < accepted <= 30 + 30, "accepted", accepted)  # at most two one-second windows
    check(accepted < 60, "none refused")


if __name__ == "__main__":
    T.main()
