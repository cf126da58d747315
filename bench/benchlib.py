# SPDX-License-Identifier: MIT
"""benchlib.py -- what the bench/ scripts share: finding the build, starting and always stopping
the processes a bench runs (edgefleetd, mosquitto, loadgen, wrk, agents), sampling a process's
CPU ticks / RSS / PSS from /proc, REST calls, and printing tables.

Python 3 standard library only (Debian's python3). Every process a bench starts is registered
here and killed at exit, on SIGINT/SIGTERM and on errors (its own pid only). Every address used
is on 127.0.0.0/8.
"""
import atexit
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
API_BASE = "/service/devices_manage/"
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

_procs = []


def build_dir():
    return os.environ.get("EF_BUILD") or os.path.join(REPO, "build")


def binary(rel):
    p = os.path.join(build_dir(), rel)
    if not os.path.exists(p):
        sys.exit("bench: missing %s: build it first (cmake --build BUILD --target edgefleetd "
                 "edgefleet-agent edgefleet-loadgen) and point EF_BUILD at BUILD" % p)
    return p


def edgefleetd():
    return binary("src/server/edgefleetd")


def loadgen_bin():
    return binary("tools/loadgen/edgefleet-loadgen")


def agent_bin():
    return binary("src/agent/edgefleet-agent")


def need(prog, pkg):
    p = shutil.which(prog) or next((d + "/" + prog for d in ("/usr/sbin", "/usr/bin", "/sbin")
                                   if os.path.exists(d + "/" + prog)), None)
    if not p:
        sys.exit("bench: %s not found: install %s (scripts/deps.sh --bench)" % (prog, pkg))
    return p


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def _kill_all():
    for p in reversed(_procs):
        if p.poll() is None:
            try:
                p.terminate()
            except OSError:
                pass
    deadline = time.monotonic() + 10
    for p in reversed(_procs):
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _on_signal(sig, frame):
    del frame
    _kill_all()
    sys.exit(128 + sig)


atexit.register(_kill_all)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def _max_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def spawn(args, **kw):
    """Start a process that is killed when the bench ends (open-file limit raised to hard)."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.Popen(args, preexec_fn=_max_nofile, **kw)
    _procs.append(p)
    return p


def stop(p, timeout=15):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_port_in(lo, hi):
    """A free loopback port in [lo, hi] (zabbix_agentd takes only 1024..32767)."""
    import random
    for _ in range(200):
        port = random.randint(lo, hi)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise SystemExit("bench: no free port in %d..%d" % (lo, hi))


def wait_port(port, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("bench: nothing listens on 127.0.0.1:%d" % port)


# ----- /proc sampling -----

def cpu_ticks(pid):
    """utime + stime of the whole process (all threads), in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid):
    return cpu_ticks(pid) / TICK


def mem_kb(pid):
    """{'rss': VmRSS kB, 'pss': Pss kB (smaps_rollup), 'hwm': VmHWM kB}."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                out["rss"] = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                out["hwm"] = int(line.split()[1])
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    out["pss"] = int(line.split()[1])
    except OSError:
        out["pss"] = out.get("rss", 0)
    return out


class Window:
    """CPU of one process between start() and end(), as % of one core."""

    def __init__(self, pid):
        self.pid = pid
        self.t0 = self.c0 = self.t1 = self.c1 = None

    def start(self):
        self.t0, self.c0 = time.monotonic(), cpu_ticks(self.pid)
        self.wall0_ms = int(time.time() * 1000)

    def end(self):
        self.t1, self.c1 = time.monotonic(), cpu_ticks(self.pid)
        self.wall1_ms = int(time.time() * 1000)

    @property
    def seconds(self):
        return self.t1 - self.t0

    @property
    def cpu_s(self):
        return (self.c1 - self.c0) / TICK

    @property
    def cpu_pct(self):
        return 100.0 * self.cpu_s / self.seconds


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ----- edgefleetd -----

# wrk drives the REST benches with ONE admin token at ~20k requests/s: far over the default
# per-token rate (rest_rate 1000/s, burst 2000; docs/api.md#limits), which would answer most of
# them 429. The benches raise it out of reach (the bucket is still checked on every request, so
# its cost stays in the measurement); a later --server-arg=--rest-rate=N overrides.
RAISE_RATE = ["--rest-rate", "10000000", "--rest-burst", "10000000"]


class Edgefleetd:
    """A fresh edgefleetd on 127.0.0.1:<free port> with its own data dir (bcrypt cost 4 so
    provisioning and first logins are cheap; every other option the default unless given).
    `program`: another edgefleetd binary (a baseline build to compare with)."""

    _seq = 0

    def __init__(self, tmp, extra=(), program=None, listen="127.0.0.1:0", token=None,
                 on_line=None):
        """`listen`: another address (a cluster's shared port); `token`: an admin token written
        into the data dir first (a cluster node after the first: the database has one already,
        so the node makes none); `on_line(line)`: called with every stderr line (only the first
        2,000 are kept in .lines)."""
        Edgefleetd._seq += 1
        self.data = os.path.join(tmp, "data-%d-%d" % (int(time.time() * 1000), Edgefleetd._seq))
        self.lines = []
        if token:
            os.makedirs(self.data, exist_ok=True)
            with open(os.path.join(self.data, "admin.token"), "w") as f:
                f.write(token + "\n")
            os.chmod(os.path.join(self.data, "admin.token"), 0o600)
        args = [program or edgefleetd(), "--listen", listen, "--data-dir", self.data,
                "--bcrypt-cost", "4"] + list(extra)
        self.proc = spawn(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        ready = threading.Event()
        self.port = None

        def drain():
            for line in self.proc.stderr:
                if len(self.lines) < 2000:
                    self.lines.append(line)
                if on_line:
                    on_line(line)
                m = re.search(r"ready port=(\d+)", line)
                if m and not ready.is_set():
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        if not ready.wait(20) or self.port is None:
            raise SystemExit("bench: edgefleetd did not start:\n" + "".join(self.lines[-20:]))
        with open(os.path.join(self.data, "admin.token")) as f:
            self.token = f.read().strip()
        self.token_file = os.path.join(self.data, "admin.token")
        self.db = os.path.join(self.data, "edgefleet.db")
        self.ws = "ws://127.0.0.1:%d/ws" % self.port
        self.api = "http://127.0.0.1:%d%s" % (self.port, API_BASE)

    def call(self, method, name, body=None, timeout=120):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.api + name, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def provision(self, n, prefix="LG-", model="loadgen", password="loadgen", first=0):
        """Register devices PREFIX<first>..: the loadgen's defaults. Returns their ids."""
        ids = []
        for lo in range(first, first + n, 10000):
            hi = min(first + n, lo + 10000)
            devs = [{"hardware": {"sn": "%s%d" % (prefix, i), "model": model},
                     "password": password} for i in range(lo, hi)]
            st, body = self.call("POST", "device_add_batch", {"devices": devs})
            if st != 200:
                raise SystemExit("bench: device_add_batch: HTTP %d %s" % (st, body))
            ids += body["data"]["device_ids"] if "data" in body else body["device_ids"]
        return ids

    def wrong_states(self, t0_ms, t1_ms):
        """State-change rows to Unknown/offline written in [t0_ms, t1_ms] (read with sqlite3
        after the server stopped, so the write-behind log is flushed)."""
        q = ("SELECT count(*) FROM device_logs WHERE event='state' AND "
             "result IN ('Unknown','offline') AND time BETWEEN %d AND %d;" % (t0_ms, t1_ms))
        r = subprocess.run([need("sqlite3", "sqlite3"), self.db, q], capture_output=True,
                           text=True, timeout=120)
        if r.returncode != 0:
            return "?(%s)" % r.stderr.strip()[:60]
        return int(r.stdout.strip() or 0)

    def stop(self):
        return stop(self.proc)

    def kill(self):
        """SIGKILL (a crash: nothing is flushed)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


# ----- mosquitto -----

class Mosquitto:
    """Debian's mosquitto on 127.0.0.1:<free port>: anonymous, no persistence, no connection
    limit, its open-file limit raised to the hard limit (20000 here)."""

    def __init__(self, tmp):
        self.port = free_port()
        conf = os.path.join(tmp, "mosquitto-%d.conf" % self.port)
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\nmax_connections -1\n"
                    "persistence false\nlog_dest none\n" % self.port)
        self.proc = spawn([need("mosquitto", "mosquitto"), "-c", conf],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        wait_port(self.port)
        self.url = "mqtt://127.0.0.1:%d" % self.port

    def stop(self):
        return stop(self.proc)


# ----- loadgen -----

SUMMARY = re.compile(r"devices=(\d+) connected=(\d+) messages=(\d+) p50_ms=([\d.]+) "
                     r"p99_ms=([\d.]+) max_ms=([\d.]+) misses=(\d+) disconnects=(\d+)"
                     r"(?: storm_s=(\S+))?")
PROGRESS = re.compile(r"t=(\d+)s connected=(\d+)/(\d+)")


class Loadgen:
    """edgefleet-loadgen in the background; progress lines are followed, the JSON summary is
    parsed at the end. reports=True adds --report-json: every 5-s report (cumulative counters
    and latency histogram) is kept in .reports as it comes, so windows inside one long run are
    measured by differences (window())."""

    def __init__(self, args, reports=False):
        self.args = [loadgen_bin()] + list(args) + ["--json"]
        if reports:
            self.args.append("--report-json")
        self.proc = spawn(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.connected = 0
        self.err = []
        self.out = None
        self.reports = []
        self.out_lines = []
        self.cond = threading.Condition()

        def drain():
            for line in self.proc.stderr:
                if len(self.err) < 5000:
                    self.err.append(line)
                m = PROGRESS.search(line)
                if m:
                    self.connected = int(m.group(2))

        self.t = threading.Thread(target=drain, daemon=True)
        self.t.start()
        self.tout = None
        if reports:
            def drain_out():
                for line in self.proc.stdout:
                    j = None
                    if line.startswith("{"):
                        try:
                            j = json.loads(line)
                        except ValueError:
                            j = None
                    if j is not None and j.get("report"):
                        j["_mono"] = time.monotonic()
                        j["_wall_ms"] = int(time.time() * 1000)
                        with self.cond:
                            self.reports.append(j)
                            self.connected = j["connected"]
                            self.cond.notify_all()
                    else:
                        self.out_lines.append(line)
                with self.cond:
                    self.cond.notify_all()

            self.tout = threading.Thread(target=drain_out, daemon=True)
            self.tout.start()

    def wait_connected(self, n, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self.connected >= n:
                return True
            time.sleep(0.5)
        return self.connected >= n

    def next_report(self, timeout=30):
        """The first report that comes after this call (reports=True)."""
        with self.cond:
            k = len(self.reports)
            if not self.cond.wait_for(lambda: len(self.reports) > k or self.proc.poll() is not None,
                                      timeout) or len(self.reports) <= k:
                raise SystemExit("bench: no loadgen report within %.0f s:\n%s" %
                                 (timeout, "".join(self.err[-20:])))
            return self.reports[k]

    def result(self, timeout=600):
        if self.tout is not None:
            self.proc.wait(timeout)
            self.tout.join(10)
            out = "".join(self.out_lines)
        else:
            out = self.proc.communicate(timeout=timeout)[0]
        self.t.join(5)
        lines = out.strip().splitlines()
        if self.proc.returncode != 0 or len(lines) < 2:
            raise SystemExit("bench: loadgen failed (exit %s):\n%s%s" % (
                self.proc.returncode, "".join(self.err[-20:]), out))
        j = json.loads(lines[-2])
        j["summary"] = lines[-1]
        return j


# ----- latency histograms of loadgen reports ([[upper edge µs, count], ...]) -----

def hist_merge(*hists):
    acc = {}
    for h in hists:
        for hi, c in h:
            acc[hi] = acc.get(hi, 0) + c
    return sorted([hi, c] for hi, c in acc.items() if c)


def hist_diff(h0, h1):
    """What h1 (a later cumulative histogram) recorded after h0."""
    acc = {hi: c for hi, c in h1}
    for hi, c in h0:
        acc[hi] = acc.get(hi, 0) - c
    return sorted([hi, c] for hi, c in acc.items() if c > 0)


def hist_quantile_ms(h, q, max_us=None):
    """As the loadgen's: the upper edge of the bucket holding rank ceil(q * n), capped at
    max_us; 0 when empty."""
    n = sum(c for _, c in h)
    if not n:
        return 0.0
    rank = max(1, min(n, int(q * n + 0.999999)))
    seen = 0
    for hi, c in h:
        seen += c
        if seen >= rank:
            return (min(hi, max_us) if max_us is not None else hi) / 1000.0
    return h[-1][0] / 1000.0


def window(r0, r1):
    """Figures of a loadgen between two of its reports (r0 before r1): counters' differences
    and the latencies of the replies recorded in between. max_ms is the upper edge of the
    highest bucket that grew (at most 6.25 % above the true value), capped by the run's max."""
    h = hist_diff(r0["rtt_hist"], r1["rtt_hist"])
    out = {k: r1[k] - r0[k] for k in ("messages", "pings", "statuses", "replies", "misses",
                                      "disconnects", "logins", "login_fails", "connect_fails",
                                      "orders")}
    out.update({"p50_ms": hist_quantile_ms(h, 0.5, r1["rtt_max_us"]),
                "p99_ms": hist_quantile_ms(h, 0.99, r1["rtt_max_us"]),
                "p999_ms": hist_quantile_ms(h, 0.999, r1["rtt_max_us"]),
                "max_ms": hist_quantile_ms(h, 1.0, r1["rtt_max_us"]),
                "n": sum(c for _, c in h), "seconds": r1["elapsed_s"] - r0["elapsed_s"],
                "connected": r1["connected"], "wall0_ms": r0["_wall_ms"],
                "wall1_ms": r1["_wall_ms"]})
    return out


def run_wrk(port, mode, ids, token, tmp, conns=64, threads=2, seconds=15):
    """wrk with cycle.lua against 127.0.0.1:port; {'rps', 'p50', 'p99' (ms), 'non2xx',
    'errors', 'requests'}."""
    idf = os.path.join(tmp, "ids-%s.txt" % mode)
    with open(idf, "w") as f:
        f.write("\n".join(ids) + "\n")
    args = [need("wrk", "wrk"), "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds,
            "--latency", "--timeout", "15s", "-s", os.path.join(HERE, "cycle.lua"),
            "http://127.0.0.1:%d/" % port, "--", idf, mode, token]
    p = spawn(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.communicate(timeout=seconds + 60)[0]
    r = {"rps": 0.0, "p50": None, "p99": None, "non2xx": 0, "errors": 0, "requests": 0,
         "raw": out}

    def ms(v, unit):
        return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]

    for line in out.splitlines():
        m = re.match(r"\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", line)
        if m:
            r["p" + m.group(1)] = ms(m.group(2), m.group(3))
        m = re.match(r"Requests/sec:\s+([\d.]+)", line)
        if m:
            r["rps"] = float(m.group(1))
        m = re.match(r"\s+Non-2xx or 3xx responses:\s+(\d+)", line)
        if m:
            r["non2xx"] = int(m.group(1))
        m = re.match(r"\s+Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                     line)
        if m:
            r["errors"] = sum(int(x) for x in m.groups())
        m = re.match(r"\s+(\d+) requests in", line)
        if m:
            r["requests"] = int(m.group(1))
    if p.returncode != 0 or r["requests"] == 0:
        raise SystemExit("bench: wrk failed:\n" + out)
    return r


# ----- process trees (a database server and its backends) -----

def tree_pids(root):
    """root and its descendants now (from /proc/*/stat)."""
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        parent[int(d)] = int(st[st.rindex(")") + 2:].split()[1])
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += [c for c, pp in parent.items() if pp == p]
    return out


class TreeWindow:
    """CPU of a process and its descendants between start() and end(), as % of one core;
    processes that appear meanwhile count whole, those that exit lose what they used."""

    def __init__(self, root):
        self.root = root

    def _ticks(self):
        t = {}
        for p in tree_pids(self.root):
            try:
                t[p] = cpu_ticks(p)
            except (OSError, ValueError, IndexError):
                pass
        return t

    def start(self):
        self.t0, self.c0 = time.monotonic(), self._ticks()

    def end(self):
        self.t1, c1 = time.monotonic(), self._ticks()
        self.cpu_s = sum(v - self.c0.get(p, 0) for p, v in c1.items()) / TICK
        self.cpu_pct = 100.0 * self.cpu_s / (self.t1 - self.t0)


# ----- /metrics of a node (its metrics_listen: plain HTTP, no token) -----

def scrape(port, timeout=10):
    """{'name{labels}': value} of http://127.0.0.1:port/metrics (comments skipped)."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=timeout) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        k, _, v = line.rpartition(" ")
        try:
            out[k] = float(v)
        except ValueError:
            pass
    return out


# ----- a WebSocket client (RFC 6455, client side, text frames): a device or a dashboard -----

class WsClient:
    """A blocking WebSocket connection to 127.0.0.1:port/path from `source` (another loopback
    address is another client address). send(obj) / recv(timeout) speak JSON text messages;
    pings from the server are answered while reading."""

    def __init__(self, port, path, source="127.0.0.1", timeout=10.0):
        import base64
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.bind((source, 0))
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, port, key)).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("WebSocket upgrade: connection closed")
            buf += chunk
        head, _, self.buf = buf.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise OSError("WebSocket upgrade refused: %r" % head[:200])
        self.local = self.sock.getsockname()

    def _send_frame(self, op, payload):
        mask = os.urandom(4)
        n = len(payload)
        hdr = bytes([0x80 | op])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            hdr += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        body = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + body)

    def send(self, obj):
        self._send_frame(1, json.dumps(obj).encode())

    def _need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("WebSocket read timed out")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("WebSocket closed by the server")
            self.buf += chunk

    def recv(self, timeout=5.0):
        """The next text message, parsed; socket.timeout when none comes in time."""
        deadline = time.monotonic() + timeout
        msg = b""
        while True:
            self._need(2, deadline)
            b0, b1 = self.buf[0], self.buf[1]
            n, off = b1 & 0x7F, 2
            if n == 126:
                self._need(4, deadline)
                n, off = int.from_bytes(self.buf[2:4], "big"), 4
            elif n == 127:
                self._need(10, deadline)
                n, off = int.from_bytes(self.buf[2:10], "big"), 10
            self._need(off + n, deadline)
            payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
            op = b0 & 0x0F
            if op == 9:  # ping
                self._send_frame(10, payload)
            elif op == 8:
                raise EOFError("WebSocket closed by the server: %r" % payload[2:])
            elif op in (0, 1):
                msg += payload
                if b0 & 0x80:
                    return json.loads(msg)

    def close(self):
        try:
            self._send_frame(8, (1000).to_bytes(2, "big"))
        except OSError:
            pass
        self.sock.close()


def git_commit():
    r = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "?"


def devices_label(n):
    return "%gk" % (n / 1000) if n >= 1000 else str(n)


def table(title, cols, rows, note=None):
    """Print a Markdown table (so it pastes into docs/performance.md as is)."""
    print("\n### %s\n" % title)
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---" for _ in cols) + "|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    if note:
        print("\n" + note)
    sys.stdout.flush()


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    return "%d CPUs (%s), %d MiB, Linux %s, load %s, %s" % (
        os.cpu_count(), model, mem, os.uname().release, loadavg(),
        time.strftime("%Y-%m-%d %H:%M %Z"))


def tmpdir():
    d = tempfile.mkdtemp(prefix="ef-bench-")

    def cleanup():
        _kill_all()  # before the files go
        shutil.rmtree(d, True)

    atexit.register(cleanup)
    return d


def fmt(v, nd=1):
    if isinstance(v, str):
        return v
    return ("%%.%df" % nd) % v
