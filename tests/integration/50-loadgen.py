#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""50-loadgen.py -- edgefleet-loadgen against a real edgefleetd.

Starts edgefleetd through the shared harness (tests/helpers/efharness.py; bcrypt cost 4), then runs
$EF_BUILD/tools/loadgen/edgefleet-loadgen:

* bad command lines (a non-loopback server, missing or bad options, an unreadable token file, a
  wrong API token) fail with a clear message and a non-zero exit code, sending nothing;
* `--provision TOKEN --devices 300 --duration 6 --schedule fast --procs 2 --json`: while it
  runs, two orders (restart and a custom one) are given through the REST API to a simulated
  device and must succeed; afterwards the summary line must show connected=300, misses=0,
  disconnects=0, a plausible message count and latencies, and device_query_all 300 devices
  LG-0..LG-299;
* a second run over the same devices (provisioning answers 409: they exist) with a reconnect
  storm, stopped early by SIGINT: it exits 0 within seconds and still prints its summary.

* MQTT mode (`--protocol mqtt`, when Debian's mosquitto is installed): a broker started here on
  a free loopback port takes 200 devices at the fast schedule with connected=200, misses=0,
  disconnects=0, and afterwards holds one retained 600-byte status per device (read back with a
  small MQTT subscriber written here); bad MQTT command lines fail clearly.

Finally the server is stopped with SIGTERM and must exit 0. Standard library only.
"""
import json
import os

import efharness  # first: it re-runs under Debian's python3 when needed
import re
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

BUILD = efharness.build_dir()
LOADGEN = os.path.join(BUILD, "tools/loadgen/edgefleet-loadgen")
BASE = "/service/devices_manage/"
SUMMARY = re.compile(r"^devices=(\d+) connected=(\d+) messages=(\d+) p50_ms=([\d.]+) "
                     r"p99_ms=([\d.]+) max_ms=([\d.]+) misses=(\d+) disconnects=(\d+)"
                     r"( storm_s=(\S+))?$")

checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        raise AssertionError(what)


class Server(efharness.Server):
    """The shared harness' edgefleetd (bcrypt cost 4, no status-upload log rows) plus `call`."""

    def __init__(self):
        super().__init__(bcrypt_cost=4, log_status_uploads="false")
        self.start()
        self.data = self.data_dir
        self.token_file = os.path.join(self.data_dir, "admin.token")

    def call(self, method, name, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s%s" % (self.port, BASE, name),
                                     data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def stop(self):
        try:
            super().stop()
        except AssertionError:
            pass
        return self.proc.returncode


def loadgen(*args, timeout=60):
    p = subprocess.run([LOADGEN] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def summary(stdout):
    lines = stdout.strip().splitlines()
    check(lines, "loadgen printed nothing on stdout")
    m = SUMMARY.match(lines[-1])
    check(m, "last line is not the summary: %r" % lines[-1])
    f = dict(devices=int(m[1]), connected=int(m[2]), messages=int(m[3]), p50=float(m[4]),
             p99=float(m[5]), max=float(m[6]), misses=int(m[7]), disconnects=int(m[8]),
             storm=m[10])
    return f, lines


def test_bad_input(srv):
    url = "ws://127.0.0.1:%d/ws" % srv.port
    cases = [
        (["--server", "ws://10.1.2.3:9090/ws", "--devices", "5", "--duration", "1"],
         2, "not a loopback address"),
        (["--server", url, "--duration", "1"], 2, "--devices N is required"),
        (["--devices", "5", "--duration", "1"], 2, "--server"),
        (["--server", "http://127.0.0.1:1/ws", "--devices", "5"], 2, "must start with ws://"),
        (["--server", "wss://127.0.0.1:1/ws", "--devices", "5"], 2, "wss:// is not supported"),
        (["--server", "ws://127.0.0.1:99999/ws", "--devices", "5"], 2, "bad port"),
        (["--server", url, "--devices", "5", "--schedule", "slow"], 2, "use real or fast"),
        (["--server", url, "--devices", "5", "--duration", "-3"], 2, "not a positive duration"),
        (["--server", url, "--devices", "0"], 2, "devices: 0 is out of range"),
        (["--server", url, "--devices", "5", "--bogus", "1"], 2, "unknown option --bogus"),
        (["--server", url, "--devices", "5", "--rate-multiplier", "abc"], 2, "rate-multiplier"),
        (["--server", url, "--devices", "5", "--storm-at", "3"], 2, "needs --reconnect-storm"),
        (["--server", url, "--devices", "5", "--duration", "2", "--ramp", "5"], 2, "ramp"),
        (["--server", url, "--devices", "40000", "--procs", "1"], 2, "raise --procs"),
        (["--server", url, "--devices", "5", "--provision", "/nonexistent/token"], 1,
         "/nonexistent/token"),
        (["--server", url, "--devices", "5", "--protocol", "mqtt"], 2, "must start with mqtt://"),
        (["--server", "mqtt://127.0.0.1:1883", "--devices", "5"], 2, "needs --protocol mqtt"),
        (["--server", "mqtt://127.0.0.1:1883", "--devices", "5", "--protocol", "amqp"], 2,
         "use ws or mqtt"),
        (["--server", "mqtt://10.0.0.1:1883", "--devices", "5", "--protocol", "mqtt"], 2,
         "not a loopback address"),
        (["--server", "mqtt://127.0.0.1:1883", "--devices", "5", "--protocol", "mqtt",
          "--provision", "/tmp/x"], 2, "needs no registration"),
    ]
    for args, code, text in cases:
        rc, out, err = loadgen(*args, timeout=20)
        check(rc == code, "%s: exit %d, expected %d; stderr: %s" % (args, rc, code, err))
        check(text in err, "%s: stderr lacks %r: %s" % (args, text, err))
        check(out == "", "%s: printed on stdout: %r" % (args, out))
    # a wrong API token: the REST API's 401 is reported, nothing is simulated
    bad = os.path.join(os.path.dirname(srv.data), "bad.token")
    with open(bad, "w") as f:
        f.write("not-a-token\n")
    rc, out, err = loadgen("--server", url, "--devices", "5", "--duration", "1",
                           "--provision", bad, timeout=20)
    check(rc == 1 and "HTTP 401" in err, "wrong token: rc %d, stderr %s" % (rc, err))
    st, body = srv.call("GET", "device_query_all")
    check(st == 200 and body["data"] == [], "bad runs registered devices: %s" % body)
    rc, out, err = loadgen("--help")
    check(rc == 0 and "--reconnect-storm" in out, "--help: rc %d out %r" % (rc, out))


def give_orders_while_running(srv, proc, results):
    """Find LG-7 once provisioned, wait until it is online, give it two orders."""
    deadline = time.monotonic() + 20
    dev_id = None
    while time.monotonic() < deadline and proc.poll() is None:
        st, body = srv.call("GET", "device_query_all")
        if st == 200:
            for d in body["data"]:
                if (d.get("hardware") or {}).get("sn") == "LG-7":
                    dev_id = str(d["device_id"])
        if dev_id:
            break
        time.sleep(0.1)
    if not dev_id:
        results.append(("lookup", None, "LG-7 never registered"))
        return
    for order in ("restart", "reload_app"):
        while time.monotonic() < deadline and proc.poll() is None:
            st, body = srv.call("POST", "give_order", {"device_id": dev_id, "order": order,
                                                       "params": {"x": 1}})
            if st == 200 or "offline" not in json.dumps(body).lower():
                results.append((order, st, body))
                break
            time.sleep(0.1)  # not logged in yet
        else:
            results.append((order, None, "device never came online"))


def test_run(srv):
    url = "ws://127.0.0.1:%d/ws" % srv.port
    args = [LOADGEN, "--server", url, "--provision", srv.token_file, "--devices", "300",
            "--duration", "6", "--schedule", "fast", "--procs", "2", "--json"]
    t0 = time.monotonic()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    results = []
    orders = threading.Thread(target=give_orders_while_running, args=(srv, proc, results))
    orders.start()
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("loadgen did not finish within 60 s:\n" + err)
    orders.join()
    took = time.monotonic() - t0
    sys.stdout.write(err)
    sys.stdout.write(out)
    check(proc.returncode == 0, "loadgen exit %d:\n%s" % (proc.returncode, err))
    check(6 <= took < 15, "run took %.1f s for --duration 6" % took)
    f, lines = summary(out)
    check(f["devices"] == 300, "devices: %s" % f)
    check(f["connected"] == 300, "connected: %s" % f)
    check(f["misses"] == 0, "misses: %s" % f)
    check(f["disconnects"] == 0, "disconnects: %s" % f)
    # 300 logins, then per device ~12 pings and ~4 status uploads in 6 s at 10x
    check(1500 < f["messages"] < 20000, "messages: %s" % f)
    check(0 < f["p50"] <= f["p99"] <= f["max"], "latency order: %s" % f)
    check(f["p99"] < 500, "p99 of %.3f ms on an idle loopback server" % f["p99"])
    check(f["max"] < 3000, "max over the miss timeout yet no miss: %s" % f)
    check("t=5s connected=" in err, "no progress line on stderr")
    j = json.loads(lines[-2])
    check(j["devices"] == 300 and j["connected"] == 300 and j["logins"] == 300, "json: %s" % j)
    check(j["login_fails"] == 0 and j["connect_fails"] == 0, "json failures: %s" % j)
    check(j["messages"] == f["messages"], "json and summary differ: %s" % j)
    check(j["messages"] == j["logins"] + j["pings"] + j["statuses"] + j["orders"],
          "messages != logins + pings + statuses + orders: %s" % j)
    check(j["replies"] == j["pings"] + j["statuses"], "every ping/status answered: %s" % j)
    check(j["statuses"] >= 300 * 2, "too few status uploads: %s" % j)
    check(j["orders"] == 2, "orders answered: %s" % j)
    for order, st, body in results:
        check(st == 200 and body.get("status") == "success",
              "give_order %s during the run: %s %s" % (order, st, body))
    check(len(results) == 2, "orders given: %s" % results)

    st, body = srv.call("GET", "device_query_all")
    check(st == 200, "device_query_all: %s %s" % (st, body))
    sns = sorted((d.get("hardware") or {}).get("sn", "") for d in body["data"])
    check(len(body["data"]) == 300, "device_query_all: %d devices" % len(body["data"]))
    check(sns == sorted("LG-%d" % i for i in range(300)), "device serial numbers: %s" % sns[:5])
    check(all((d.get("hardware") or {}).get("model") == "loadgen" for d in body["data"]),
          "device model")


def test_storm_and_sigint(srv):
    url = "ws://127.0.0.1:%d/ws" % srv.port
    args = [LOADGEN, "--server", url, "--provision", srv.token_file, "--devices", "100",
            "--duration", "60", "--schedule", "fast", "--reconnect-storm", "--storm-at", "1.5"]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(4)  # deliberately: a run that goes past the storm at 1.5 s (< 3 s, checked below)
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("loadgen ignored SIGINT:\n" + err)
    sys.stdout.write(err)
    sys.stdout.write(out)
    check(time.monotonic() - t < 5, "SIGINT took %.1f s" % (time.monotonic() - t))
    check(proc.returncode == 0, "exit %d after SIGINT:\n%s" % (proc.returncode, err))
    check("exist already (409)" in err, "provisioning existing devices: %s" % err)
    f, _ = summary(out)
    check(f["devices"] == 100 and f["connected"] == 100, "after storm: %s" % f)
    check(f["disconnects"] == 0, "storm drops are not disconnects: %s" % f)
    check(f["storm"] is not None and f["storm"] != "incomplete" and float(f["storm"]) < 3,
          "storm_s: %s" % f)
    st, body = srv.call("GET", "device_query_all")
    check(len(body["data"]) == 300, "the second run added devices: %d" % len(body["data"]))


def mqtt_retained(port, topic_filter, want, timeout=10):
    """Subscribe (MQTT 3.1.1, stdlib socket) and collect retained PUBLISHes: {topic: payload}."""
    def rlen(n):
        out = b""
        while True:
            b, n = n % 128, n // 128
            out += bytes([b | (0x80 if n else 0)])
            if not n:
                return out

    def pkt(first, body):
        return bytes([first]) + rlen(len(body)) + body

    def s16(b):
        return len(b).to_bytes(2, "big") + b

    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(pkt(0x10, s16(b"MQTT") + bytes([4, 2, 0, 30]) + s16(b"lg-test-sub")))
    sock.sendall(pkt(0x82, (1).to_bytes(2, "big") + s16(topic_filter.encode()) + b"\0"))
    buf, got = b"", {}
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 2:
            n, mult, at = 0, 1, 1
            while at < len(buf):
                n += (buf[at] & 0x7f) * mult
                mult *= 128
                at += 1
                if not buf[at - 1] & 0x80:
                    break
            else:
                break
            if len(buf) < at + n:
                break
            first, body, buf = buf[0], buf[at:at + n], buf[at + n:]
            if first >> 4 == 3:
                check(first & 1, "a PUBLISH from the subscription is not retained")
                tl = int.from_bytes(body[:2], "big")
                qos = (first >> 1) & 3
                got[body[2:2 + tl].decode()] = body[2 + tl + (2 if qos else 0):]
    sock.close()
    return got


def test_mqtt(srv):
    del srv  # the broker stands in for the server here
    broker = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(broker):
        print("skip test_mqtt: mosquitto is not installed (scripts/deps.sh --bench)")
        return
    port = efharness.free_port()
    with tempfile.TemporaryDirectory(prefix="ef-lg-mqtt-") as tmp:
        conf = os.path.join(tmp, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\nmax_connections -1\n"
                    "persistence false\nlog_dest none\n" % port)
        mq = subprocess.Popen([broker, "-c", conf], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            def listening():
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    return True
                except OSError:
                    return False
            efharness.wait_until(listening, 10, what="mosquitto listening on port %d" % port)
            rc, out, err = loadgen("--protocol", "mqtt", "--server", "mqtt://127.0.0.1:%d" % port,
                                   "--devices", "200", "--duration", "4", "--schedule", "fast",
                                   "--sn-prefix", "MQ-", "--json", timeout=30)
            sys.stdout.write(err)
            sys.stdout.write(out)
            check(rc == 0, "mqtt loadgen exit %d:\n%s" % (rc, err))
            f, lines = summary(out)
            check(f["devices"] == 200 and f["connected"] == 200, "mqtt connected: %s" % f)
            check(f["misses"] == 0 and f["disconnects"] == 0, "mqtt misses/disconnects: %s" % f)
            check(0 < f["p50"] <= f["p99"] <= f["max"] < 3000, "mqtt latencies: %s" % f)
            j = json.loads(lines[-2])
            check(j["logins"] == 200 and j["login_fails"] == 0, "mqtt CONNACKs: %s" % j)
            check(j["statuses"] >= 200 and j["pings"] > 200, "mqtt traffic: %s" % j)
            check(j["replies"] == j["pings"] + j["statuses"], "every PINGREQ/PUBLISH acked: %s" % j)
            check(j["messages"] == j["logins"] + j["pings"] + j["statuses"], "mqtt messages: %s" % j)
            got = mqtt_retained(port, "edgefleet/+/status", 200)
            check(sorted(got) == sorted("edgefleet/MQ-%d/status" % i for i in range(200)),
                  "retained topics: %d, e.g. %s" % (len(got), sorted(got)[:3]))
            doc = json.loads(got["edgefleet/MQ-42/status"])
            check(len(got["edgefleet/MQ-42/status"]) == 600, "status size %d" %
                  len(got["edgefleet/MQ-42/status"]))
            check(doc["type"] == "upload_status_info" and doc["data"]["device_id"] == "MQ-42",
                  "retained status: %s" % doc)
        finally:
            mq.terminate()
            try:
                mq.wait(10)
            except subprocess.TimeoutExpired:
                mq.kill()
                mq.wait()


def main():
    if not os.path.exists(LOADGEN):
        raise SystemExit("missing %s (build it first)" % LOADGEN)
    failed = 0
    srv = Server()
    try:
        for test in (test_bad_input, test_run, test_storm_and_sigint, test_mqtt):
            try:
                test(srv)
                print("ok   %s" % test.__name__)
            except AssertionError as e:
                failed += 1
                print("FAIL %s: %s" % (test.__name__, e))
                print("---- edgefleetd stderr (tail) ----\n" + srv.tail())
    finally:
        rc = srv.stop()
    if rc != 0:
        failed += 1
        print("FAIL edgefleetd exited %s after SIGTERM:\n%s" % (rc, srv.tail()))
    print("%d checks, %d failed tests" % (checks, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
