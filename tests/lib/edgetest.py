# SPDX-License-Identifier: MIT
"""edgetest.py -- the scripted fake server and probe runner for the libedgefleet tests.

A test is an async function `main(t)`; `run(main)` gives it a Harness `t` with a websockets
server on 127.0.0.1 port 0 (`t.port`, accepted connections via `await t.accept()`) and
`t.probe(*args)` to start $EF_BUILD/tests/lib/edge_probe with short timings. Every probe is
killed and the server closed when the test ends, pass or fail.
"""
import os
import sys

try:
    import websockets  # noqa: F401
except ImportError:  # a python3 without python3-websockets on PATH: use Debian's
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3", "-u"] + sys.argv)
    raise

import asyncio
import json
import shutil
import signal
import tempfile
import time
import traceback

import websockets

PROBE = os.path.join(os.environ.get("EF_BUILD", "."), "tests", "lib", "edge_probe")
# What runs the probe: qemu-user in a cross build (tests/lib/CMakeLists.txt; "|" between words).
PROBE_EMULATOR = [w for w in os.environ.get("EF_PROBE_EMULATOR", "").split("|") if w]

FAST = ["--ping-interval", "300ms", "--pong-timeout", "200ms", "--status-interval", "900ms",
        "--reconnect-interval", "100ms", "--reconnect-jitter", "50ms", "--max-retries", "0",
        "--restart-wait", "300ms"]


class Conn:
    """One device connection as the server sees it."""

    def __init__(self, ws):
        self.ws = ws
        self.done = asyncio.Event()

    async def recv(self, timeout=3.0):
        """Next message as (arrival time, parsed JSON)."""
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        return time.monotonic(), json.loads(raw)

    async def recv_msg(self, timeout=3.0):
        return (await self.recv(timeout))[1]

    async def send(self, obj):
        await self.ws.send(obj if isinstance(obj, str) else json.dumps(obj))

    async def close(self):
        await self.ws.close()
        self.done.set()

    async def login(self, reply=None, timeout=3.0):
        """Receive the login message, answer it (default: success for device 123)."""
        msg = await self.recv_msg(timeout)
        await self.send(reply if reply is not None else
                        {"status": "success", "data": {"device_id": msg.get("device_id", "123")}})
        return msg

    async def serve(self, duration, pong=True, ack=True, on_msg=None):
        """Answer pings/status for `duration` s; returns [(t, msg)] of everything received."""
        got = []
        end = time.monotonic() + duration
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return got
            try:
                t, m = await self.recv(left)
            except asyncio.TimeoutError:
                return got
            got.append((t, m))
            if on_msg:
                await on_msg(m)
            if m.get("type") == "ping_pong" and pong:
                await self.send({"type": "ping_pong", "Headers": {}, "data": "pong"})
            elif m.get("type") == "upload_status_info" and ack:
                await self.send({"type": "send_statusInfo_response", "Headers": {}, "data": {}})

    async def until(self, pred, timeout=3.0, pong=True, ack=True):
        """Answer the heartbeat until a message matching pred arrives; returns it."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("expected message did not arrive")
            t, m = await self.recv(left)
            if pred(m):
                return m
            if m.get("type") == "ping_pong" and pong:
                await self.send({"type": "ping_pong", "Headers": {}, "data": "pong"})
            elif m.get("type") == "upload_status_info" and ack:
                await self.send({"type": "send_statusInfo_response", "Headers": {}, "data": {}})


class Probe:
    def __init__(self, proc, data_dir, errpath):
        self.proc = proc
        self.data_dir = data_dir
        self.errpath = errpath
        self.lines = []

    async def line(self, prefix, timeout=5.0):
        """Next stdout line starting with prefix (other lines are kept in self.lines)."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"probe printed no '{prefix}' line")
            raw = await asyncio.wait_for(self.proc.stdout.readline(), left)
            if not raw:
                raise AssertionError(f"probe exited before printing '{prefix}'")
            s = raw.decode().rstrip("\n")
            self.lines.append(s)
            if s.startswith(prefix):
                return s

    async def wait(self, timeout=5.0):
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def stop(self):
        if self.proc.returncode is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(self.proc.wait(), 5)
            except (ProcessLookupError, asyncio.TimeoutError):
                pass
        if self.proc.returncode is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            await self.proc.wait()
        return self.proc.returncode

    def stderr(self):
        with open(self.errpath, errors="replace") as f:
            return f.read()

    def oplog(self):
        with open(os.path.join(self.data_dir, "device.log"), errors="replace") as f:
            return f.read()


class Harness:
    def __init__(self):
        self.conns = asyncio.Queue()
        self.probes = []
        self.tmp = tempfile.mkdtemp(prefix="edgetest-")

    async def start(self):
        self.server = await websockets.serve(self._handler, "127.0.0.1", 0, max_size=None)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handler(self, ws, path=None):
        conn = Conn(ws)
        conn.path = path if path is not None else getattr(ws, "path", None)
        await self.conns.put(conn)
        closed = asyncio.ensure_future(ws.wait_closed())
        done = asyncio.ensure_future(conn.done.wait())
        await asyncio.wait([closed, done], return_when=asyncio.FIRST_COMPLETED)
        closed.cancel()
        done.cancel()

    async def accept(self, timeout=3.0):
        return await asyncio.wait_for(self.conns.get(), timeout)

    async def probe(self, *args, login=("--device-id", "123"), fast=True, port=None, data_dir=None):
        data_dir = data_dir or tempfile.mkdtemp(dir=self.tmp)
        argv = [*PROBE_EMULATOR, PROBE, "--server", f"ws://127.0.0.1:{port or self.port}/ws",
                "--password", "pw", "--data-dir", data_dir, *login, *(FAST if fast else []), *args]
        errpath = os.path.join(data_dir, "probe.stderr")
        err = open(errpath, "w")
        proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                    stderr=err)
        err.close()
        p = Probe(proc, data_dir, errpath)
        self.probes.append(p)
        await p.line("START")
        return p

    async def close(self):
        for p in self.probes:
            await p.stop()
        self.server.close()
        await self.server.wait_closed()
        for p in self.probes:  # an ASan/UBSan build reports here; that fails the test
            err = p.stderr()
            if "Sanitizer" in err or "runtime error:" in err:
                raise AssertionError(f"sanitizer report from the probe:\n{err[-6000:]}")


def run(main, timeout=60):
    async def wrapper():
        t = Harness()
        await t.start()
        try:
            await asyncio.wait_for(main(t), timeout)
        except BaseException:
            for p in t.probes:
                await p.stop()
                sys.stderr.write(f"--- probe stdout: {p.lines}\n--- probe stderr:\n{p.stderr()[-4000:]}\n")
            raise
        finally:
            await t.close()
            shutil.rmtree(t.tmp, ignore_errors=True)
    try:
        asyncio.run(wrapper())
    except BaseException:
        traceback.print_exc()
        print("FAIL")
        sys.exit(1)
    print("PASS")


def check(cond, what):
    if not cond:
        raise AssertionError(what)
