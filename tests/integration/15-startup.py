#!/usr/bin/env python3
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

from efharness import Server, check, server_binary

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
    check(rc == 2 and "heartbeat_tolerance" in out, rc, out)
    rc, out = run(["--bcrypt-cost", "99"])
    check(rc == 2 and "out of range" in out, rc, out)
    rc, out = run(["--log-level", "loud"])
    check(rc == 2 and "log_level" in out, rc, out)
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


print("15-startup: %d passed, %d failed" % (passed, failed))
raise SystemExit(1 if failed else 0)
