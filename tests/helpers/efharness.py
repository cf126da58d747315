# SPDX-License-Identifier: MIT
"""efharness.py -- the helper every Python integration test of edgefleet uses.

It runs a real edgefleetd on loopback and talks to it the way devices and API callers do:

* `Server(env=None, preexec_fn=None, **options)`: start edgefleetd in a fresh temporary data dir
  (`--listen 127.0.0.1:0`; preexec_fn runs in the child first, e.g. to set a resource limit),
  wait for its `ready port=N` line, read `DIR/admin.token`. Keyword options become flags
  (`login_timeout="500ms"` -> `--login-timeout 500ms`). `stop()` sends SIGTERM and asserts exit
  code 0 and no sanitizer report in its stderr (kill -9 only when it does not exit in time, and
  that is a failure). Its stderr goes to `DIR/edgefleetd.stderr`; `tail()` returns it. A context
  manager; an atexit hook kills what a crashed test left behind.
* `server.api`: REST client of `/service/devices_manage/`: `api.post("device_add", {...})` and
  `api.get("device_query", device_id)` return `(http_status, json)`; `await api.apost(...)` /
  `await api.aget(...)` run the same call in a thread so that an async test's devices keep
  answering while the API call waits (orders).
* `connect(port)`: a raw device over WebSocket (python3-websockets 10.x): `async with
  connect(port) as dev:` then `send_json`, `send_raw`, `recv_json(timeout)`, `login(...)`,
  `ping()`, `wait_closed(timeout)`. Tests speak raw JSON frames, never the C library.
  Frames of IGNORED_TYPES (report_full_info, sent after every login) are skipped by recv_json
  unless `connect(port, ignore=())`.
  `RawWs(port)` is a hand-written blocking client for frames the library will not send.
* `add_device(api, sn, model, password)` registers a device and returns its id;
  `wait_until(predicate, timeout, what=...)` / `await await_until(...)` poll a condition until
  it holds or fail naming `what` -- the way to wait for something to happen (a log row, a
  state, a file), never a fixed sleep; `free_port()` is a loopback port nobody listens on.
* `Suite`: a tiny test runner. Each `@suite.test` (optionally `@suite.test(opt=value)`) gets its
  own fresh Server; sync or async test functions take the server as their one argument. A failing
  test prints its traceback and the tail of the server's stderr. `suite.main()` prints
  `N passed, N failed` and exits non-zero when anything failed.

Environment: EF_BUILD (the build dir holding src/server/edgefleetd), EF_KEEP=1 keeps the data
dirs, EF_ONLY=name1,name2 runs only those tests, EF_SERVER_WRAP="valgrind -q" prefixes the server
command. Standard library + python3-websockets only.
"""
import asyncio
import atexit
import base64
import http.client
import inspect
import json
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

try:
    import websockets
    import websockets.exceptions
except ImportError:  # ctest's `python3` may be a pyenv one without Debian's python3-websockets
    if (os.path.exists("/usr/bin/python3") and not os.environ.get("EF_PY_REEXEC")
            and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3")):
        os.environ["EF_PY_REEXEC"] = "1"
        sys.stdout.flush()
        os.execv("/usr/bin/python3", ["/usr/bin/python3", "-u"] + sys.argv)
    raise

SYS_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
REST_BASE = "/service/devices_manage/"

# Options every test server gets unless the test says otherwise: cheap bcrypt, fast log flush.
DEFAULT_OPTIONS = {"bcrypt_cost": "4", "log_flush": "20ms", "log_level": "info"}


def build_dir():
    b = os.environ.get("EF_BUILD")
    if not b:
        raise SystemExit("efharness: set EF_BUILD to the build directory (ctest does)")
    return b


def source_dir():
    return os.environ.get("EF_SOURCE") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", ".."))


def rest_routes():
    """Every REST route row of the server's route tables (src/server/rest_*.c) as
    (methods, name, nargs, need, reads_only): read from the sources, so a new route is in every
    test that iterates them."""
    import glob
    import re
    rows = []
    for f in sorted(glob.glob(os.path.join(source_dir(), "src", "server", "rest_*.c"))):
        with open(f) as fh:
            text = fh.read()
        for m in re.finditer(r'\{"([A-Z ]+)",\s*"(\w+)",\s*(\d),\s*(REST_[A-Z_ |]+),([^}]*)\}',
                             text):
            rows.append((m.group(1).split(), m.group(2), int(m.group(3)), m.group(4).strip(),
                         "reads_only = true" in m.group(5)))
    if len(rows) < 25:
        raise AssertionError("route tables not found: %r" % rows)
    return rows


def server_binary():
    return os.path.join(build_dir(), "src", "server", "edgefleetd")


_live_procs = set()


@atexit.register
def _kill_leftovers():
    for p in list(_live_procs):
        if p.poll() is None:
            p.kill()
            p.wait()


def _flag(name):
    return "--" + name.replace("_", "-")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now (bound to port 0, closed
    again): for a program that must be given its port up front, or an address that refuses
    connections. A listener of the test's own binds port 0 itself and keeps its socket."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The first line of a report by ASan, LSan, TSan or UBSan. A TSan report does not end the process
# and changes its exit status only at a normal exit, so the output is read as well.
_SANITIZER_RE = re.compile(
    r"^.*(?:(?:Address|Leak|Thread|UndefinedBehavior)Sanitizer|runtime error:).*$", re.M)


def sanitized_build():
    """Whether the binaries under test were built with a sanitizer (ASan/UBSan/TSan): they are
    2-10x slower, so load tests scale their counts down (never their checks)."""
    try:
        with open(server_binary(), "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"__asan_init" in data or b"__tsan_init" in data


def sanitizer_report(text):
    """The sanitizer report in a process's output, from its first line on, or None."""
    m = _SANITIZER_RE.search(text)
    return text[m.start():] if m else None


# ---------------------------------------------------------------------------------------------
# The server


class Server:
    """One edgefleetd process in its own temporary data dir. Options: flag=value keywords."""

    def __init__(self, ready_timeout=15.0, env=None, preexec_fn=None, **options):
        self.preexec_fn = preexec_fn  # run in the child before edgefleetd (e.g. setrlimit)
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.options = dict(DEFAULT_OPTIONS)
        self.options.update({k: str(v) for k, v in options.items() if v is not None})
        self.ready_timeout = ready_timeout
        self.dir = tempfile.mkdtemp(prefix="ef-itest-")
        self.data_dir = os.path.join(self.dir, "data")
        self.stderr_path = os.path.join(self.dir, "edgefleetd.stderr")
        self.proc = None
        self.port = None
        self.token = None
        self.api = None
        self.exit_code = None

    # -- life --
    def start(self, same_port=False):
        """Start (or restart) the server; same_port=True listens where the last run did, so
        that devices reconnecting to the old address find it again."""
        port = self.port if same_port and self.port else 0
        self.exit_code = None  # a restart: the next stop() checks this run
        args = [server_binary(), "--listen", "127.0.0.1:%d" % port, "--data-dir", self.data_dir]
        for k, v in self.options.items():
            args += [_flag(k), v]
        wrap = shlex.split(os.environ.get("EF_SERVER_WRAP", ""))
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(wrap + args, stdin=subprocess.DEVNULL,
                                     stdout=self._err, stderr=self._err, env=self.env,
                                     preexec_fn=self.preexec_fn)
        _live_procs.add(self.proc)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            m = re.search(r"ready port=(\d+)", self.tail(0))
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise AssertionError("edgefleetd exited with %s before ready:\n%s"
                                     % (self.proc.returncode, self.tail()))
            time.sleep(0.01)
        else:
            self.kill()
            raise AssertionError("edgefleetd not ready within %.0fs:\n%s"
                                 % (self.ready_timeout, self.tail()))
        with open(os.path.join(self.data_dir, "admin.token")) as f:
            self.token = f.read().strip()
        self.api = Api(self.port, self.token)
        return self

    def stop(self, timeout=15.0):
        """SIGTERM, wait, assert exit code 0. kill -9 only as a last resort (then it fails)."""
        if not self.proc or self.exit_code is not None:
            return self.exit_code
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("edgefleetd did not exit within %.0fs of SIGTERM" % timeout)
        self.exit_code = self.proc.returncode
        _live_procs.discard(self.proc)
        self._err.close()
        if self.exit_code != 0:
            raise AssertionError("edgefleetd exited with %s:\n%s" % (self.exit_code, self.tail()))
        report = sanitizer_report(self.tail(0))
        if report:
            raise AssertionError("edgefleetd's stderr has a sanitizer report:\n%s" % report[:8000])
        return 0

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self.exit_code = self.proc.returncode
            _live_procs.discard(self.proc)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self):
        if not os.environ.get("EF_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, et, ev, tb):
        try:
            if et is not None:
                self.kill_quietly_after_failure()
            else:
                self.stop()
        finally:
            if et is not None:
                sys.stdout.write("---- edgefleetd stderr (tail) ----\n%s\n" % self.tail())
        return False

    def kill_quietly_after_failure(self):
        try:
            self.stop()
        except AssertionError as e:
            sys.stdout.write("also: %s\n" % str(e).splitlines()[0])

    # -- inspection --
    def tail(self, lines=80):
        """The server's stderr so far; the last `lines` lines (0: all)."""
        try:
            with open(self.stderr_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        if lines:
            text = "\n".join(text.splitlines()[-lines:])
        return text

    def rss_kb(self):
        """Resident memory of the server process in kB (Linux)."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    # -- shortcuts --
    def add_device(self, sn, model, password="devpass", **extra):
        return add_device(self.api, sn, model, password, **extra)

    def dev_state(self, device_id):
        st, body = self.api.get("device_query", device_id)
        assert st == 200, (st, body)
        return body["data"].get("dev_state")

    def logs(self, device_id):
        """The device log, newest first: list of {event, detail, result, time}."""
        st, body = self.api.get("device_log_query", device_id)
        assert st == 200, (st, body)
        return body["data"]

    def wait_logs(self, device_id, predicate, timeout=3.0, what=None):
        """The device log once predicate(logs) holds. The log is written behind (--log-flush)
        while device_query's dev_state is live, so a test that saw a state must still wait
        for its rows."""
        box = []

        def ready():
            box[:] = [self.logs(device_id)]
            return predicate(box[0])
        wait_until(ready, timeout, what=what or "device log rows")
        return box[0]

    def wait_offline_logged(self, device_id, timeout=3.0):
        """The device log once it holds an offline state row (the end of a session)."""
        return self.wait_logs(device_id, lambda ls: any(
            l["event"] == "state" and l["result"] == "offline" for l in ls), timeout,
            "an offline state row")

    def connect(self, path="/ws", **kw):
        return connect(self.port, path, **kw)


# ---------------------------------------------------------------------------------------------
# REST


def agent_binary():
    return os.path.join(build_dir(), "src", "agent", "edgefleet-agent")


class AgentProcess:
    """A real edgefleet-agent connected to `srv`: `args` come after --server; stderr goes to
    DIR/agent.stderr (`log()`, `tail()`); `stop()` sends SIGTERM and returns the exit code
    (kill -9 and a failure when it does not exit in time, a failure too when its stderr has a
    sanitizer report). DIR is a fresh temp dir unless given."""

    def __init__(self, srv, args, env=None, dir=None):
        self.dir = dir or tempfile.mkdtemp(prefix="ef-agent-", dir=srv.dir)
        os.makedirs(self.dir, exist_ok=True)
        self.stderr_path = os.path.join(self.dir, "agent.stderr")
        self._err = open(self.stderr_path, "wb")
        cmd = [agent_binary(), "--server", "ws://127.0.0.1:%d/ws" % srv.port] + list(args)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._err,
                                     stderr=self._err, env=dict(os.environ, **(env or {})))
        _live_procs.add(self.proc)

    def log(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def tail(self, lines=40):
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self, timeout=15.0):
        if self._err.closed:  # stopped before
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("edgefleet-agent did not stop within %.0fs of SIGTERM"
                                     % timeout)
        _live_procs.discard(self.proc)
        self._err.close()
        report = sanitizer_report(self.log())
        if report:
            raise AssertionError("edgefleet-agent's stderr has a sanitizer report:\n%s"
                                 % report[:8000])
        return self.proc.returncode


class Api:
    """Blocking REST client; every call returns (http_status, parsed_json_or_text)."""

    def __init__(self, port, token, timeout=30.0, ssl_context=None):
        self.port = port
        self.token = token
        self.timeout = timeout
        self.ssl_context = ssl_context  # set: https (a TLS server, tests/integration/65-tls.py)

    def request(self, method, path, body=None, token=None, content_type="application/json",
                raw=None):
        if self.ssl_context is not None:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=self.timeout,
                                               context=self.ssl_context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            headers = {}
            tok = self.token if token is None else token
            if tok:
                headers["Authorization"] = "Bearer " + tok
            data = raw
            if data is None and body is not None:
                data = json.dumps(body).encode()
            if data is not None:
                headers["Content-Type"] = content_type
            elif method in ("POST", "PUT", "PATCH", "DELETE"):
                data = b""
                headers["Content-Type"] = content_type
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            try:
                return resp.status, json.loads(text)
            except ValueError:
                return resp.status, text
        finally:
            conn.close()

    def post(self, name, body, **kw):
        return self.request("POST", REST_BASE + name, body, **kw)

    def get(self, name, *args, **kw):
        path = REST_BASE + name + "".join("/" + str(a) for a in args)
        return self.request("GET", path, **kw)

    async def apost(self, name, body, **kw):
        return await asyncio.to_thread(self.post, name, body, **kw)

    async def aget(self, name, *args, **kw):
        return await asyncio.to_thread(self.get, name, *args, **kw)


def add_device(api, sn, model, password="devpass", **extra):
    """Register a device; returns its device_id (string)."""
    body = {"hardware": {"sn": sn, "model": model}, "password": password}
    body.update(extra)
    st, r = api.post("device_add", body)
    assert st == 200 and r.get("status") == "success", ("device_add", st, r)
    return str(r["data"]["device_id"])


def add_group(api, name):
    st, r = api.post("group_add", {"group_name": name})
    assert st == 200, ("group_add", st, r)
    return str(r["data"]["group_id"])


def add_relation(api, device_id, group_id):
    st, r = api.post("relation_add", {"device_id": device_id, "group_id": group_id})
    assert st == 200, ("relation_add", st, r)


# ---------------------------------------------------------------------------------------------
# Devices


class Closed(Exception):
    """The server closed the device connection; .code and .reason say how."""

    def __init__(self, code, reason):
        super().__init__("connection closed: %s %s" % (code, reason))
        self.code = code
        self.reason = reason


# Frames the server sends on its own that most tests do not care about: recv_json skips them
# unless the Device's `ignore` set is changed (report_full_info follows every login,
# docs/protocol.md#miner-data).
IGNORED_TYPES = frozenset({"report_full_info"})


class Device:
    """A raw device connection: JSON text frames over /ws."""

    def __init__(self, port, path="/ws", ignore=IGNORED_TYPES, **ws_options):
        self.ignore = set(ignore)
        self.url = "ws://127.0.0.1:%d%s" % (port, path)
        self.ws_options = {"ping_interval": None, "close_timeout": 2, "max_size": 1 << 24}
        self.ws_options.update(ws_options)
        self.ws = None
        self.device_id = None
        self.token = None

    async def __aenter__(self):
        self.ws = await websockets.connect(self.url, **self.ws_options)
        return self

    async def __aexit__(self, *exc):
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 3)
            except Exception:
                pass

    async def close(self):
        await self.__aexit__(None, None, None)

    async def send_json(self, obj):
        await self.ws.send(json.dumps(obj))

    async def send_raw(self, data):
        """A text frame (str) or a binary frame (bytes), sent as is."""
        await self.ws.send(data)

    async def recv_json(self, timeout=3.0):
        """The next frame (not of an ignored type), parsed. Raises Closed when the server
        closed, TimeoutError when nothing came."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = await asyncio.wait_for(self.ws.recv(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                raise TimeoutError("no message within %.1fs" % timeout) from None
            except websockets.exceptions.ConnectionClosed as e:
                raise Closed(e.code, e.reason) from None
            m = json.loads(msg)
            if not (isinstance(m, dict) and m.get("type") in self.ignore):
                return m

    async def recv_text(self, timeout=3.0):
        """The next frame's exact text (frames of ignored types skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = await asyncio.wait_for(self.ws.recv(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                raise TimeoutError("no message within %.1fs" % timeout) from None
            except websockets.exceptions.ConnectionClosed as e:
                raise Closed(e.code, e.reason) from None
            try:
                m = json.loads(msg)
            except ValueError:
                return msg
            if not (isinstance(m, dict) and m.get("type") in self.ignore):
                return msg

    async def recv_type(self, type_, timeout=3.0):
        """The next frame of `type`, skipping others (e.g. pongs, report_full_info)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no %s within %.1fs" % (type_, timeout))
            m = await self.recv_json(left)
            if m.get("type") == type_:
                return m

    async def wait_closed(self, timeout=3.0):
        """Wait for the server to close; returns the close code. Messages meanwhile are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("connection still open after %.1fs" % timeout)
            try:
                await self.recv_json(left)
            except Closed as c:
                return c.code

    async def login(self, device_id=None, password="devpass", sn=None, model=None, token=None,
                    expect="success", timeout=10.0):
        """Send a login and return the reply; asserts its status is `expect` (None: no check)."""
        msg = {}
        if device_id is not None:
            msg["device_id"] = device_id
        if sn is not None:
            msg["device_sn"] = sn
        if model is not None:
            msg["device_model"] = model
        if password is not None:
            msg["password"] = password
        if token is not None:
            msg["token"] = token
        await self.send_json(msg)
        r = await self.recv_json(timeout)
        if expect is not None:
            assert r.get("status") == expect, ("login reply", r)
        if r.get("status") == "success":
            self.device_id = r["data"]["device_id"]
            self.token = r["data"].get("token", self.token)
        return r

    async def ping(self, timeout=3.0):
        await self.send_json(PING)
        return await self.recv_type("ping_pong", timeout)


PING = {"type": "ping_pong", "Headers": {}, "data": "ping"}
PONG = {"type": "ping_pong", "Headers": {}, "data": "pong"}


def connect(port, path="/ws", **kw):
    """`async with connect(port) as dev:` -- a Device on ws://127.0.0.1:port/ws."""
    return Device(port, path, **kw)


class RawWs:
    """A blocking WebSocket client written out by hand, for what the websockets library will not
    do: invalid UTF-8 in text frames, floods of pre-built frames, never reading. Frames are
    masked as RFC 6455 requires of clients."""

    def __init__(self, port, path="/ws", rcvbuf=None, timeout=5.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, port, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake: %r" % self.buf)
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ", 2)[1])
        if self.status != 101:
            raise ConnectionError("upgrade refused: %s" % head.decode("latin-1"))

    @staticmethod
    def frame(payload, opcode=1, fin=True, mask=True):
        """One client frame (opcode 1 text, 2 binary, 8 close, 0 continuation), masked as
        RFC 6455 requires unless mask=False."""
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload)
        hdr = bytes([(0x80 if fin else 0) | opcode])
        m = 0x80 if mask else 0
        if n < 126:
            hdr += bytes([m | n])
        elif n < 65536:
            hdr += bytes([m | 126]) + struct.pack("!H", n)
        else:
            hdr += bytes([m | 127]) + struct.pack("!Q", n)
        if not mask:
            return hdr + payload
        key = os.urandom(4)
        masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        return hdr + key + masked

    def send_frame(self, payload, opcode=1, fin=True, mask=True):
        self.sock.sendall(self.frame(payload, opcode, fin, mask))

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server")
            self.buf += chunk

    def recv_frame(self):
        """(opcode, payload bytes) of the next server frame (servers do not mask)."""
        self._need(2)
        op, ln = self.buf[0] & 0x0F, self.buf[1] & 0x7F
        off = 2
        if ln == 126:
            self._need(4)
            ln, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif ln == 127:
            self._need(10)
            ln, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(off + ln)
        payload, self.buf = self.buf[off:off + ln], self.buf[off + ln:]
        return op, payload

    def recv_json(self, ignore=IGNORED_TYPES):
        """The next data frame (not of an ignored type), parsed; Closed on a close frame."""
        while True:
            op, payload = self.recv_frame()
            if op == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(code, payload[2:].decode("utf-8", "replace"))
            if op in (9, 10):  # control ping / pong
                continue
            m = json.loads(payload)
            if not (isinstance(m, dict) and m.get("type") in ignore):
                return m

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# Waiting


def wait_until(predicate, timeout=5.0, interval=0.02, what=None):
    """Poll predicate() until it returns a true value (returned) or fail after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                                 % (timeout, what or getattr(predicate, "__name__", "condition"),
                                    last))
        time.sleep(interval)


async def await_until(predicate, timeout=5.0, interval=0.02, what=None):
    """wait_until for async tests: predicate may be sync (run in a thread) or a coroutine fn."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        if inspect.iscoroutinefunction(predicate):
            last = await predicate()
        else:
            last = await asyncio.to_thread(predicate)
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                                 % (timeout, what or getattr(predicate, "__name__", "condition"),
                                    last))
        await asyncio.sleep(interval)


def check(cond, *what):
    """assert with a message that survives python -O."""
    if not cond:
        raise AssertionError(" ".join(str(w) for w in what) or "check failed")


# ---------------------------------------------------------------------------------------------
# The runner


class Suite:
    """Collects tests; each runs against its own fresh Server(**default opts, **test opts)."""

    def __init__(self, name, **options):
        self.name = name
        self.options = options
        self.tests = []

    def test(self, fn=None, **options):
        def reg(f):
            self.tests.append((f, options))
            return f
        return reg(fn) if fn is not None else reg

    def run_one(self, fn, options):
        opts = dict(self.options)
        opts.update(options)
        srv = Server(**opts)
        ok = False
        t0 = time.monotonic()
        try:
            srv.start()
            if inspect.iscoroutinefunction(fn):
                asyncio.run(asyncio.wait_for(fn(srv), 120))
            else:
                fn(srv)
            check(srv.exit_code is not None or srv.alive(),
                  "edgefleetd died during the test (exit %s)" % srv.proc.poll())
            srv.stop()
            ok = True
        except BaseException as e:  # noqa: B902 -- report everything, including SystemExit
            if isinstance(e, KeyboardInterrupt):
                raise
            traceback.print_exc(file=sys.stdout)
            try:
                srv.stop()
            except AssertionError as e2:
                print("also:", str(e2).splitlines()[0])
            except Exception:
                srv.kill()
            print("---- edgefleetd stderr (tail) ----")
            print(srv.tail(60))
            print("----")
        finally:
            srv.kill()
            if ok:
                srv.cleanup()
            else:
                print("(data dir kept: %s)" % srv.dir)
        print("%s %s (%.2fs)" % ("PASS" if ok else "FAIL", fn.__name__, time.monotonic() - t0),
              flush=True)
        return ok

    def main(self):
        only = set(filter(None, os.environ.get("EF_ONLY", "").split(",")))
        passed = failed = 0
        failures = []
        for fn, options in self.tests:
            if only and fn.__name__ not in only:
                continue
            if self.run_one(fn, options):
                passed += 1
            else:
                failed += 1
                failures.append(fn.__name__)
        if failures:
            print("failed: " + ", ".join(failures))
        print("%s: %d passed, %d failed" % (self.name, passed, failed), flush=True)
        sys.exit(1 if failed else 0)
