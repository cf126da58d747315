#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""15-startup.py -- edgefleetd's start and stop as an operator meets them: --help, bad options
and config files (exit 2 naming the problem), an address already in use or not an address
(exit 1, clear message, no crash), an unusable data dir, the admin token written once with
mode 0600 and kept across restarts, and SIGTERM/SIGINT exiting 0."""
import os
import signal
import socket
import stat
import subprocess
import tempfile

from efharness import Server, check, server_binary, wait_until

passed = failed = 0


def run(args, timeout=10):
    p = subprocess.run([server_binary()] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def test(fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print("PASS", fn.__name__, flush=True)
    except Exception as e:  # noqa: BLE001
        failed += 1
        print("FAIL", fn.__name__, e, flush=True)


@test
def help_and_bad_options():
    rc, out = run(["--help"])
    check(rc == 0 and "--heartbeat-tolerance" in out and "--bcrypt-cost" in out, rc, out)
    rc, out = run(["--bogus", "1"])
    check(rc == 2 and "unknown option --bogus" in out, rc, out)
    rc, out = run(["--heartbeat-tolerance", "soon"])
    check(rc == 2 and "--heartbeat-tolerance: 'soon' is not a duration" in out, rc, out)
    rc, out = run(["--bcrypt-cost", "99"])
    check(rc == 2 and "out of range" in out, rc, out)
    rc, out = run(["--log-level", "loud"])
    check(rc == 2 and "--log-level: 'loud' is not one of" in out, rc, out)
    rc, out = run(["--heartbeat-tolerance", "1s", "--heartbeat-tolerance-miss", "2s"])
    check(rc == 2, rc, out)
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("# fine\nlisten = 127.0.0.1:0\nnot_an_option = 3\n")
    rc, out = run(["--config", f.name])
    check(rc == 2 and "%s:3: unknown option 'not_an_option'" % f.name in out, rc, out)
    os.unlink(f.name)


@test
def address_problems():
    d = tempfile.mkdtemp()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    rc, out = run(["--listen", "127.0.0.1:%d" % port, "--data-dir", d])
    check(rc == 1 and "Address already in use" in out, rc, out)
    s.close()
    rc, out = run(["--listen", "example:80", "--data-dir", d])
    check(rc == 1 and "not an IPv4 address" in out, rc, out)
    rc, out = run(["--listen", "127.0.0.1", "--data-dir", d])
    check(rc == 2 and "listen" in out, rc, out)


@test
def data_dir_problems():
    with tempfile.NamedTemporaryFile() as f:  # a file where the directory should be
        rc, out = run(["--listen", "127.0.0.1:0", "--data-dir", f.name + "/sub"])
        check(rc == 1 and "data dir" in out, rc, out)


@test
def token_kept_and_signals():
    srv = Server().start()
    path = os.path.join(srv.data_dir, "admin.token")
    check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, oct(os.stat(path).st_mode))
    first = srv.token
    srv.stop()                       # SIGTERM -> 0 (asserted by stop)
    srv.start()
    check(srv.token == first, "the admin token changed across a restart")
    st, _ = srv.api.get("device_query_all")
    check(st == 200, st)
    srv.proc.send_signal(signal.SIGINT)
    check(srv.proc.wait(10) == 0, "SIGINT exit code")
    srv.cleanup()


@test
def fd_exhaustion():
    """With 256 fds and 400 clients connecting, edgefleetd stops accepting short of the limit
    instead of spinning on EMFILE (lws 4.1.6's trap): little CPU, a quiet log, and it serves
    again once clients leave."""
    import resource
    import time

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    d = tempfile.mkdtemp()
    err = open(os.path.join(d, "stderr"), "wb")
    p = subprocess.Popen([server_binary(), "--listen", "127.0.0.1:0", "--data-dir", d,
                          "--login-timeout", "60s", "--max-handshakes-per-address", "256"],
                         stdout=err, stderr=err, preexec_fn=limit)
    def log():
        with open(os.path.join(d, "stderr")) as f:
            return f.read()
    try:
        ready = wait_until(lambda: [l for l in log().splitlines() if "ready port=" in l], 10,
                           what="edgefleetd's ready line")
        port = int(ready[0].split("ready port=")[1].split()[0])
        socks = []
        for _ in range(400):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            socks.append(c)
        wait_until(lambda: "out of file descriptors" in log(), 10,
                   what="the server at its fd limit")

        def cpu():
            with open("/proc/%d/stat" % p.pid) as f:
                v = f.read().rsplit(")", 1)[1].split()
            return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")
        c0 = cpu()
        time.sleep(2)  # deliberately: CPU use over 2 s at the limit
        burnt = cpu() - c0
        size = os.path.getsize(os.path.join(d, "stderr"))
        print("fd_exhaustion: %.2f s CPU in 2 s with every fd taken; log %d bytes" % (burnt, size))
        check(burnt < 0.5, "the server spins at the fd limit", burnt)
        check(size < 100000, "the log floods at the fd limit", size)
        for c in socks:
            c.close()
        tok = open(os.path.join(d, "admin.token")).read().strip()
        import urllib.request

        def served():
            req = urllib.request.Request(
                "http://127.0.0.1:%d/service/devices_manage/device_query_all" % port,
                headers={"Authorization": "Bearer " + tok})
            try:
                with urllib.request.urlopen(req, timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False
        wait_until(served, 10, what="service again after the clients left")
        p.send_signal(signal.SIGTERM)
        check(p.wait(15) == 0, "exit code")
    finally:
        if p.poll() is None:
            p.kill()
        err.close()


print("15-startup: %d passed, %d failed" % (passed, failed))
raise SystemExit(1 if failed else 0)
