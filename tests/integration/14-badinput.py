#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""14-badinput.py -- hostile and broken clients of edgefleetd: garbage on the socket, binary and
invalid frames after login, oversized messages, hundreds of connections that never log in, a
client that floods pings and never reads, upgrades on unknown paths, slow REST clients, devices
that vanish mid-login. The server must answer clearly, drop only the offender, keep its memory
bounded and keep serving everyone else."""
import asyncio
import os
import socket
import threading
import time

from efharness import Closed, RawWs, Suite, check, await_until  # first: picks the python

import websockets

T = Suite("14-badinput", heartbeat_tolerance="600ms", heartbeat_tolerance_miss="400ms",
          login_timeout="1s", max_message="4k", log_level=os.environ.get("EF_LOG_LEVEL", "info"))


async def logged_in(srv, sn, pw="pw"):
    did = srv.add_device(sn, "M", pw)
    dev = srv.connect()
    await dev.__aenter__()
    await dev.login(device_id=did, password=pw)
    return did, dev


def rest_alive(srv, timeout=2.0):
    t0 = time.monotonic()
    st, r = srv.api.get("device_query_all")
    dt = time.monotonic() - t0
    check(st == 200, "REST answer", st, r)
    check(dt < timeout, "REST took %.2fs" % dt)
    return dt


class Pinger:
    """A well-behaved device that pings every `every` s in the background and records RTTs."""

    def __init__(self, dev, every=0.15):
        self.dev, self.every, self.rtts, self.error = dev, every, [], None
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.run())

    async def run(self):
        try:
            while not self.stop.is_set():
                t0 = time.monotonic()
                await self.dev.ping(3)
                self.rtts.append(time.monotonic() - t0)
                await asyncio.sleep(self.every)
        except Exception as e:  # noqa: BLE001 -- reported by finish()
            self.error = e

    async def finish(self):
        self.stop.set()
        await self.task
        check(self.error is None, "the well-behaved device failed:", repr(self.error))
        check(self.rtts, "no pings at all")
        return max(self.rtts)


@T.test
async def tcp_garbage(srv):
    for junk in [b"\x00\x01\x02\xff" * 100, b"GET / HTTP/9.9\r\n\r\n", b"\x16\x03\x01\x02\x00" +
                 os.urandom(300), b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n" + os.urandom(64),
                 os.urandom(70000)]:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        try:
            try:  # the server may drop the connection before all of it is sent
                s.sendall(junk)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                continue
            try:
                while s.recv(65536):
                    pass
            except (ConnectionResetError, socket.timeout):
                pass
        finally:
            s.close()
    # a raw WebSocket whose frames are nonsense (reserved opcodes, unmasked frame)
    for bad in [bytes([0x83, 0x80]) + b"\0\0\0\0", bytes([0x81, 0x05]) + b"hello",
                bytes([0xF1, 0x80]) + b"\0\0\0\0"]:
        w = RawWs(srv.port)
        w.sock.sendall(bad)
        try:
            while True:
                w.recv_frame()
        except (ConnectionError, Closed, socket.timeout, OSError):
            pass
        w.close()
    rest_alive(srv)
    did, dev = await logged_in(srv, "SN-B0")
    await dev.ping()
    await dev.close()


@T.test
async def bad_frames_after_login(srv):
    did, dev = await logged_in(srv, "SN-B1")
    try:
        for bad in ["{not json", "", "[1,2,3]", '"str"', "123", "null",
                    '{"type":"ping_pong"', "\x00\x01\x02"]:
            await dev.send_raw(bad)
            r = await dev.recv_json(2)
            check(r.get("type") == "error", "error reply to", repr(bad)[:40], "got", r)
            check(isinstance(r.get("data", {}).get("message"), str), r)
            await dev.ping()
        # deep nesting inside the size limit
        deep = '{"type":"upload_status_info","Headers":{},"data":{"x":' + "[" * 1900 + \
            "]" * 1900 + "}}"
        await dev.send_raw(deep)
        r = await dev.recv_json(2)
        check(r.get("type") in ("send_statusInfo_response", "error"), r)
        await dev.ping()
        for no_type in [{}, {"type": 5}, {"type": None, "data": {}}, {"Headers": {}}]:
            await dev.send_json(no_type)
            r = await dev.recv_json(2)
            check(r.get("type") == "error", "error reply to", no_type, "got", r)
        # an unknown type is forward compatible: ignored (no reply), connection fine
        await dev.send_json({"type": "from_the_future", "Headers": {}, "data": {}})
        pong = await dev.ping()
        check(pong["data"] == "pong", pong)
    finally:
        await dev.close()
    # Binary frames, even one carrying a valid ping, are not the protocol: closed with 1003,
    # the device logged offline, and it logs in again.
    for i, bad in enumerate([b"\x00\xff\xfe binary garbage",
                             b'\x89PNG\r\n\x1a\n' + os.urandom(100),
                             b'{"type":"ping_pong","Headers":{},"data":"ping"}']):
        did, dev = await logged_in(srv, "SN-B1-bin%d" % i)
        try:
            await dev.send_raw(bad)
            try:
                r = await dev.recv_json(2)
                raise AssertionError("binary frame answered: %r" % r)
            except Closed as c:
                check(c.code == 1003, "binary frame closed with", c.code)
        finally:
            await dev.close()
    # invalid UTF-8 in a TEXT frame (the websockets library refuses to send it)
    w = RawWs(srv.port)
    try:
        did2 = srv.add_device("SN-B1b", "M", "pw")
        w.send_frame('{"device_id":"%s","password":"pw"}' % did2)
        check(w.recv_json()["status"] == "success")
        w.send_frame(b'{"type":"ping_pong","data":"\xff\xfe\xc0"}')
        try:
            r = w.recv_json()
            raise AssertionError("invalid UTF-8 text answered: %r" % r)
        except Closed as c:  # RFC 6455 8.1: 1007, invalid frame payload data
            check(c.code == 1007, "closed with", c.code)
    finally:
        w.close()


def raw_oversized(port, did, fragmented, on_close_frame=None):
    """Send an oversized message over a raw socket; returns (close code, seconds until the server
    closed TCP after the client's close ack)."""
    w = RawWs(port)
    try:
        w.send_frame('{"device_id":"%s","password":"pw"}' % did)
        check(w.recv_json()["status"] == "success")
        try:
            if fragmented:
                w.send_frame('{"type":"upload_status_info","data":{"pad":"', fin=False)
                for _ in range(10):
                    w.send_frame("z" * 1000, opcode=0, fin=False)
                w.send_frame('"}}', opcode=0)
            else:
                w.send_frame('{"type":"upload_status_info","data":{"pad":"%s"}}' % ("y" * 5000))
        except OSError:
            pass  # the server may close before it has read everything
        op, payload = w.recv_frame()
        while op == 1 and b"report_full_info" in payload:
            op, payload = w.recv_frame()
        check(op == 8, "want a close frame, got", op, payload[:60])
        code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
        if on_close_frame:
            on_close_frame()
        t0 = time.monotonic()
        try:
            w.send_frame(payload[:2], opcode=8)  # the close handshake's answer
            w.sock.settimeout(8)
            while w.sock.recv(65536):
                pass
        except OSError:
            pass
        return code, time.monotonic() - t0
    finally:
        w.close()


@T.test(heartbeat_tolerance="10s", heartbeat_tolerance_miss="5s")
async def oversized_message(srv):
    did, big = await logged_in(srv, "SN-B2")
    did2, good = await logged_in(srv, "SN-B3")
    p = Pinger(good)
    try:
        # just under the limit is fine
        pad = "x" * (4096 - 200)
        await big.send_json({"type": "upload_status_info", "Headers": {}, "data": {"pad": pad}})
        r = await big.recv_json(2)
        check(r.get("type") == "send_statusInfo_response", r)
        await big.close()
        # over it: a close frame with 1009, whole or fragmented
        for fragmented in (False, True):
            code, _ = await asyncio.to_thread(raw_oversized, srv.port, did, fragmented)
            check(code == 1009, "close code, fragmented=%s:" % fragmented, code)
        # a huge one (1 MB) in one frame, and an oversized LOGIN, through the library
        for login in (False, True):
            async with srv.connect() as d:
                try:
                    if login:
                        await d.send_json({"device_id": did, "password": "p" * 8000})
                    else:
                        await d.login(device_id=did, password="pw")
                        await d.send_raw("h" * (1 << 20))
                except websockets.exceptions.ConnectionClosed:
                    pass
                code = await d.wait_closed(8)
                check(code in (1009, 1006), "1 MB / login close code", code)
        worst = await p.finish()
        check(worst < 0.5, "the other device's round trip reached %.3fs" % worst)
        check(srv.dev_state(did2) == "online")
    finally:
        await good.close()
        await big.close()


@T.test(heartbeat_tolerance="10s", heartbeat_tolerance_miss="5s")
async def oversized_message_closes_promptly(srv):
    """After the 1009 close frame and the client's close answer, the server must close the TCP
    connection and end the device's session at once -- not 5 s later (lws' close-ack timeout),
    with the device still "online" and taking orders meanwhile."""
    did = srv.add_device("SN-B2b", "M", "pw")
    seen = []

    def order_soon():  # started at the close frame
        time.sleep(0.3)  # deliberately: the order comes 0.3 s after it
        seen.append(srv.api.post("give_order", {"device_id": did, "order": "x"}))
    for fragmented in (False, True):
        th = threading.Thread(target=order_soon)
        code, linger = await asyncio.to_thread(raw_oversized, srv.port, did, fragmented,
                                               th.start)
        await asyncio.to_thread(th.join)
        print("fragmented=%s: close %s; TCP closed %.2fs after the close answer; an order "
              "0.3 s after the close frame got %s" % (fragmented, code, linger, seen[-1]))
        check(code == 1009, code)
        st, r = seen[-1]
        check(linger < 1.0 and st == 409 and r["message"] == "Device is offline!",
              "fragmented=%s: the server kept the connection %.2fs after the close handshake, "
              "and the device's session took an order meanwhile (%s %s)" % (fragmented, linger,
                                                                           st, r))
        check(srv.api.post("give_order", {"device_id": did, "order": "x"})[0] == 409)


@T.test
async def many_connections_never_log_in(srv):
    n = 200
    t0 = time.monotonic()
    conns = await asyncio.gather(*[srv.connect().__aenter__() for _ in range(n)])
    opened = time.monotonic() - t0
    did, good = await logged_in(srv, "SN-B6")
    p = Pinger(good, 0.1)

    async def fate(d):
        try:
            r = await d.recv_json(6)
        except Closed:
            r = None
        code = await d.wait_closed(4) if r is not None else 0
        return r, code, time.monotonic() - t0
    try:
        fates = await asyncio.gather(*[fate(d) for d in conns])
        replies = [f[0] for f in fates]
        late = max(f[2] for f in fates)
        print("%d connections opened in %.2fs, all closed after %.2fs" % (n, opened, late))
        check(all(r == {"status": "fail", "message": "TimeOut."} for r in replies),
              "not every idle connection got TimeOut.", [r for r in replies if r][:3])
        check(late < opened + 1.0 + 3.0, "closing took until %.2fs" % late)
        worst = await p.finish()
        check(worst < 0.5, "round trip %.3fs during the mass timeout" % worst)
        rest_alive(srv)
    finally:
        for d in conns:
            await d.close()
        await good.close()


def flood(port, did, stats, stop):
    """Log in over a raw socket with a tiny receive buffer, then send pings as fast as the socket
    takes them and never read. Runs in a thread; fills `stats`."""
    w = RawWs(port, rcvbuf=4096)
    w.send_frame('{"device_id":"%s","password":"pw"}' % did)
    stats["login"] = w.recv_json()
    w.sock.settimeout(0.5)
    chunk = RawWs.frame('{"type":"ping_pong","Headers":{},"data":"ping"}') * 2000
    sent = 0
    t0 = time.monotonic()
    stalled_since = None
    try:
        while not stop.is_set() and time.monotonic() - t0 < 30:
            try:
                n = w.sock.send(chunk)
                sent += n
                stalled_since = None
            except socket.timeout:
                if stalled_since is None:
                    stalled_since = time.monotonic()
                    stats["stalled_at"] = stalled_since - t0
        stats["result"] = "still open"
    except OSError as e:
        stats["result"] = "dropped: %r" % e
        stats["dropped_at"] = time.monotonic() - t0
    finally:
        stats["sent"] = sent
        w.close()


@T.test(env={"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16"})
async def flood_without_reading(srv):
    did = srv.add_device("SN-B7", "M", "pw")
    gdid, good = await logged_in(srv, "SN-B8")
    p = Pinger(good, 0.1)
    rss0 = srv.rss_kb()
    stats, stop = {}, threading.Event()
    th = threading.Thread(target=flood, args=(srv.port, did, stats, stop), daemon=True)
    th.start()
    peak = rss0
    rest_worst = 0.0
    t0 = time.monotonic()
    try:
        while th.is_alive() and time.monotonic() - t0 < 25:
            peak = max(peak, srv.rss_kb())
            rest_worst = max(rest_worst, await asyncio.to_thread(rest_alive, srv, 3.0))
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.to_thread(th.join, 5)
        worst = await p.finish()
        print("flood: %s; sent %.1f MB, server RSS %d kB -> peak %d kB (+%d kB); other device "
              "worst RTT %.3fs, REST worst %.3fs" % (stats, stats.get("sent", 0) / 1e6, rss0,
                                                    peak, peak - rss0, worst, rest_worst))
        check(stats.get("login", {}).get("status") == "success", stats)
        check(stats.get("result", "").startswith("dropped"), "the flooding client was not "
              "dropped within 30s", stats)
        check(peak - rss0 < 64 * 1024, "server memory grew by %d kB" % (peak - rss0))
        check(worst < 1.0, "the other device's round trip reached %.3fs" % worst)
        await await_until(lambda: srv.dev_state(did) == "offline", 3)
        check(srv.dev_state(gdid) == "online")
    finally:
        stop.set()
        await good.close()


@T.test
async def unknown_upgrade_path(srv):
    for path in ["/nope", "/", "/ws/extra", "/WS", "/service/devices_manage/device_query_all"]:
        outcome = "accepted"
        try:
            async with srv.connect(path) as d:
                try:
                    await d.send_json({"device_id": "1", "password": "x"})
                    r = await d.recv_json(2)
                    outcome = "answered %r" % r
                except (Closed, websockets.exceptions.ConnectionClosed):
                    outcome = "closed at once"
        except websockets.exceptions.InvalidStatusCode as e:
            outcome = "refused %d" % e.status_code
        except (websockets.exceptions.InvalidHandshake, OSError, EOFError) as e:
            outcome = "refused (%s)" % type(e).__name__
        print("upgrade on %s: %s" % (path, outcome))
        check(outcome.startswith("refused"), "upgrade on", path, "was not refused:", outcome)
    rest_alive(srv)
    did, dev = await logged_in(srv, "SN-B9")
    await dev.ping()
    await dev.close()


@T.test
async def slow_rest_client(srv):
    port = srv.port
    stallers = []
    # half a body, half a header, nothing at all after connecting
    for data in [b"POST /service/devices_manage/device_add HTTP/1.1\r\nHost: x\r\n"
                 b"Authorization: Bearer " + srv.token.encode() + b"\r\nContent-Type: "
                 b"application/json\r\nContent-Length: 100\r\n\r\n{\"hard",
                 b"GET /service/devices_manage/device_query_all HTTP/1.1\r\nHost: x\r\nAuthor",
                 b""]:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(data)
        stallers.append(s)
    did, dev = await logged_in(srv, "SN-B10")
    try:
        for _ in range(20):
            rest_alive(srv, 1.0)
        st, r = srv.api.post("device_add", {"hardware": {"sn": "SN-B11", "model": "M"},
                                            "password": "pw"})
        check(st == 200, st, r)
        await dev.ping()
        # many concurrent normal requests while the stallers hang
        t0 = time.monotonic()
        res = await asyncio.gather(*[srv.api.aget("device_query_all") for _ in range(30)])
        check(all(st == 200 for st, _ in res), [st for st, _ in res])
        check(time.monotonic() - t0 < 3, "30 requests took %.2fs" % (time.monotonic() - t0))
    finally:
        for s in stallers:
            s.close()
        await dev.close()


@T.test(bcrypt_cost=10, bcrypt_jobs=1)
async def vanish_during_login(srv):
    """Devices that close right after sending their login (while bcrypt runs on the pool) or
    right after connecting: nothing leaks or crashes, and the device ends up offline."""
    did = srv.add_device("SN-B12", "M", "pw")
    for i in range(20):
        w = RawWs(srv.port)
        w.send_frame('{"device_id":"%s","password":"%s"}' % (did, "pw" if i % 2 else "bad"))
        if i % 3 == 0:
            w.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # RST
        w.close()
    for _ in range(20):
        RawWs(srv.port).close()
    # Wait until the pool is done with them: logins are looked up in order and hashed one at a
    # time in order (bcrypt_jobs 1), so once a password login made now is answered, so is every
    # one above.
    marker = srv.add_device("SN-B12-after", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=marker, password="pw", timeout=30)
    check(srv.dev_state(did) == "offline", srv.dev_state(did))
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        await dev.ping()
    # two logins on one connection: the second (sent before the first is answered) is ignored
    async with srv.connect() as dev:
        await dev.send_json({"device_id": did, "password": "pw"})
        await dev.send_json({"device_id": did, "password": "bad"})
        r = await dev.recv_json(5)
        check(r["status"] == "success", r)
        await dev.ping()
    rest_alive(srv)


@T.test(bcrypt_cost=12)
async def shutdown_during_login(srv):
    """SIGTERM while password logins are hashing: the server still exits 0 promptly."""
    did = srv.add_device("SN-B13", "M", "pw")
    ws = [RawWs(srv.port) for _ in range(4)]
    for w in ws:
        w.send_frame('{"device_id":"%s","password":"pw"}' % did)
    # Nothing outside shows that hashing has begun: give the frames 50 ms to arrive (a hash at
    # cost 12 lasts ~250 ms, so the SIGTERM lands during it).
    await asyncio.sleep(0.05)
    t0 = time.monotonic()
    await asyncio.to_thread(srv.stop)
    check(time.monotonic() - t0 < 5, "shutdown took %.1fs" % (time.monotonic() - t0))
    for w in ws:
        w.close()


if __name__ == "__main__":
    T.main()
