#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""47-upload-log.py -- the upload_log order end to end: edgefleetd -> a real edgefleet-agent ->
SFTP (libssh) -> a real OpenSSH server (Debian's /usr/sbin/sshd) on loopback, started here with
its own host key, authorized key and config in a temp dir.

Success: the agent authenticates with its private key (sftp_key), checks the server's key against
sftp_known_hosts, and `remote_dir/<device_id>.log` holds its operation log. Failures come back
as HTTP 502 with the device's message, the original's "fail to upload log." followed by the
reason in parentheses (also in the agent's operation log): a key the server does not know
(authentication failed), a known_hosts file with another key, a key of another type or no entry
for the host (host key mismatch), a stopped sshd (connect failed, at once), a server that accepts
TCP and never speaks (connect failed within sftp_timeout, well before the server's order
timeout), a remote_dir that does not exist (cannot write remote file).
sshd and every other process are stopped at the end, also on failure.
Skipped (exit 0) only when /usr/sbin/sshd is not installed."""
import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from efharness import AgentProcess, Suite, check, free_port, wait_until

SSHD = "/usr/sbin/sshd"
NAME = "47-upload-log"

if not os.path.exists(SSHD):
    print("%s: skipped: %s is not installed (apt-get install openssh-server)" % (NAME, SSHD))
    print("%s: 0 passed, 0 failed (skipped: no sshd)" % NAME, flush=True)
    sys.exit(0)

USER = pwd.getpwuid(os.getuid()).pw_name
WORK = tempfile.mkdtemp(prefix="ef-sftp-")
REMOTE = os.path.join(WORK, "remote")  # the server's upload_log_dir, written by sshd
os.makedirs(REMOTE)


@atexit.register
def _cleanup():
    if not os.environ.get("EF_KEEP"):
        shutil.rmtree(WORK, ignore_errors=True)


def keygen(name, type_="ed25519"):
    path = os.path.join(WORK, name)
    subprocess.run(["ssh-keygen", "-q", "-N", "", "-t", type_, "-C", name, "-f", path],
                   check=True, stdin=subprocess.DEVNULL, timeout=30)
    return path


HOST_KEY = keygen("host_key")          # sshd's host key
OTHER_HOST_KEY = keygen("other_host")  # a host key sshd does not have
CLIENT_KEY = keygen("client_key")      # authorized on the server
STRANGER_KEY = keygen("stranger_key")  # not authorized


def known_hosts(port, host_pub, name):
    """A known_hosts file that records `host_pub` (a .pub file) for [127.0.0.1]:port."""
    with open(host_pub) as f:
        keytype, blob = f.read().split()[:2]
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write("[127.0.0.1]:%d %s %s\n" % (port, keytype, blob))
    return path


class Sshd:
    """sshd -D -e on 127.0.0.1:<free port>, key auth only, internal-sftp. stop() is idempotent."""

    _live = set()

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sshd-", dir=WORK)
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "sshd.log")
        self.proc = None
        auth = os.path.join(self.dir, "authorized_keys")
        shutil.copyfile(CLIENT_KEY + ".pub", auth)
        self.config = os.path.join(self.dir, "sshd_config")
        with open(self.config, "w") as f:
            f.write("ListenAddress 127.0.0.1\n"
                    "Port %d\n"
                    "HostKey %s\n"
                    "PidFile %s\n"
                    "AuthorizedKeysFile %s\n"
                    "PasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\n"
                    "PermitRootLogin prohibit-password\n"
                    "AllowUsers %s\n"
                    "StrictModes no\n"
                    "UsePAM no\n"
                    "LogLevel VERBOSE\n"
                    "Subsystem sftp internal-sftp\n"
                    % (self.port, HOST_KEY, os.path.join(self.dir, "sshd.pid"), auth, USER))

    def start(self):
        if os.getuid() == 0:  # privilege separation chroot, missing in a fresh container
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        t = subprocess.run([SSHD, "-t", "-f", self.config], capture_output=True, text=True,
                           timeout=30)
        if t.returncode != 0:
            raise AssertionError("sshd -t refuses the test config (exit %d):\n%s%s"
                                 % (t.returncode, t.stdout, t.stderr))
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", self.config],
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=self._log)
        Sshd._live.add(self.proc)
        wait_until(self._banner, 10, 0.05, what="sshd's SSH banner on port %d" % self.port)
        return self

    def _banner(self):
        if self.proc.poll() is not None:
            raise AssertionError("sshd exited with %s:\n%s" % (self.proc.returncode, self.tail()))
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                return s.recv(64).startswith(b"SSH-2.0")
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            Sshd._live.discard(self.proc)
            self._log.close()

    def tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""

    def known_hosts(self, host_pub=HOST_KEY + ".pub"):
        return known_hosts(self.port, host_pub, "known_hosts-%d-%s" % (self.port,
                                                                      os.path.basename(host_pub)))


@atexit.register
def _kill_sshds():
    for p in list(Sshd._live):
        if p.poll() is None:
            p.kill()
            p.wait()


T = Suite(NAME, upload_log_dir=REMOTE, order_timeout="10s")


class Agent(AgentProcess):
    """A real agent as device `sn`, uploading to 127.0.0.1:port as the current user."""

    def __init__(self, srv, sn, port, key=CLIENT_KEY, known=None, extra=()):
        d = os.path.join(srv.dir, "agent-" + sn)
        os.makedirs(d, exist_ok=True)
        args = ["--sn", sn, "--model", "sftp", "--password", "pw", "--data-dir", d,
                "--reconnect-interval", "300ms", "--reconnect-jitter", "100ms",
                "--max-retries", "0",
                "--sftp-host", "127.0.0.1", "--sftp-port", str(port), "--sftp-user", USER,
                "--sftp-key", key]
        if known:
            args += ["--sftp-known-hosts", known]
        super().__init__(srv, args + list(extra), dir=d)
        self.data_dir = d


def upload(srv, did):
    t0 = time.monotonic()
    st, r = srv.api.post("give_order", {"device_id": did, "order": "upload_log"})
    return st, r, time.monotonic() - t0


def run_case(srv, sn, port, body, sshd=None, **agent_kw):
    """Register device `sn`, start its agent, wait online, run body(did, agent); print the
    agent's and sshd's logs on failure; always stop the agent."""
    did = srv.add_device(sn, "sftp", "pw")
    ag = Agent(srv, sn, port, **agent_kw)
    try:
        wait_until(lambda: srv.dev_state(did) == "online", 10, what="agent online")
        body(did, ag)
        check(srv.dev_state(did) == "online", "the device stays online through upload_log")
    except BaseException:
        print("---- agent stderr ----\n" + ag.tail())
        if sshd:
            print("---- sshd log ----\n" + sshd.tail())
            if "account is locked" in sshd.tail(200):
                print("hint: sshd (UsePAM no) refuses %s because its account is locked in "
                      "/etc/shadow; run the test as root or as a user with a usable account"
                      % USER)
        raise
    finally:
        rc = ag.stop()
    check(rc == 0, "agent exit code", rc)


def remote_file(did):
    return os.path.join(REMOTE, "%s.log" % did)


def oplog(ag):
    try:
        with open(os.path.join(ag.data_dir, "device.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def check_failed(st, r, ag, *needles):
    """The order failed: HTTP 502 with the device's message, the original's "fail to upload
    log." and the reason with every needle in parentheses; the same line is in the agent's
    operation log as "order upload_log: fail: ... (reason)"."""
    check(st == 502 and isinstance(r, dict) and
          r.get("message", "").startswith("fail to upload log. (") and
          all(n in r["message"] for n in needles), st, r)

    def reason():
        for line in oplog(ag).splitlines():
            if "order upload_log: fail: fail to upload log. (" in line:
                return line
        return None
    line = wait_until(reason, 5, what="the failure's reason in the operation log")
    check(all(n in line for n in needles), "expected", needles, "in", line)
    return line


@T.test
def upload_with_key_and_known_hosts(srv):
    sshd = Sshd().start()
    try:
        def body(did, ag):
            st, r, _ = upload(srv, did)
            check(st == 200 and "successfully upload log." in r["data"]["message"], st, r,
                  sshd.tail())
            path = remote_file(did)
            check(os.path.isfile(path), "no", path)
            with open(path, "rb") as f:
                up = f.read()
            with open(os.path.join(ag.data_dir, "device.log"), "rb") as f:
                local = f.read()
            check(b"login" in up, "the uploaded log holds the login", up[:500])
            check(local.startswith(up), "the uploaded file is the operation log as it was",
                  up[:300], local[:300])
            check("Accepted publickey for %s" % USER in sshd.tail(200), sshd.tail())
            wait_until(lambda: "order upload_log: success: successfully upload log. (uploaded "
                       in oplog(ag), 5, what="the success in the operation log")
            # A second upload replaces the file (the log has grown by the first one's lines).
            st, r, _ = upload(srv, did)
            check(st == 200, st, r)
            wait_until(lambda: os.path.getsize(path) > len(up), 5, what="a longer upload")
        run_case(srv, "SN-SFTP-OK", sshd.port, body, sshd, known=sshd.known_hosts())
    finally:
        sshd.stop()


@T.test
def upload_without_known_hosts_accepts_any_key(srv):
    sshd = Sshd().start()
    try:
        def body(did, ag):
            st, r, _ = upload(srv, did)
            check(st == 200, st, r)
            check(os.path.isfile(remote_file(did)))
        run_case(srv, "SN-SFTP-ANY", sshd.port, body, sshd)
    finally:
        sshd.stop()


@T.test
def wrong_key_fails_authentication(srv):
    sshd = Sshd().start()
    try:
        def body(did, ag):
            st, r, _ = upload(srv, did)
            check_failed(st, r, ag, "authentication failed")
            check(not os.path.exists(remote_file(did)), "nothing may be written")
            # A key file that is not there: a clear message, no connection needed.
        run_case(srv, "SN-SFTP-KEY", sshd.port, body, sshd, key=STRANGER_KEY,
                 known=sshd.known_hosts())

        def body2(did, ag):
            st, r, _ = upload(srv, did)
            check_failed(st, r, ag, "authentication failed", "cannot read the private key")
        run_case(srv, "SN-SFTP-NOKEY", sshd.port, body2, sshd,
                 key=os.path.join(WORK, "no-such-key"))
    finally:
        sshd.stop()


@T.test
def other_host_key_is_a_mismatch(srv):
    sshd = Sshd().start()
    try:
        def body(did, ag):
            st, r, _ = upload(srv, did)
            check_failed(st, r, ag, "host key mismatch")
            check(not os.path.exists(remote_file(did)), "nothing may be written")
            check("Accepted publickey" not in sshd.tail(200),
                  "no authentication may follow a mismatch", sshd.tail())
        run_case(srv, "SN-SFTP-HOST", sshd.port, body, sshd,
                 known=sshd.known_hosts(OTHER_HOST_KEY + ".pub"))
        # A known_hosts file that knows the host only by a key of another type (RSA), and one
        # that does not know the host at all.
        run_case(srv, "SN-SFTP-HOST2", sshd.port, body, sshd,
                 known=sshd.known_hosts(keygen("rsa_host", "rsa") + ".pub"))
        unknown = os.path.join(WORK, "known_hosts-unrelated")
        known_hosts(sshd.port + 1 if sshd.port < 65535 else 1, HOST_KEY + ".pub",
                    os.path.basename(unknown))
        run_case(srv, "SN-SFTP-HOST3", sshd.port, body, sshd, known=unknown)
    finally:
        sshd.stop()


@T.test
def stopped_sshd_fails_to_connect_quickly(srv):
    sshd = Sshd().start()
    sshd.stop()

    def body(did, ag):
        st, r, dt = upload(srv, did)
        check_failed(st, r, ag, "connect failed", "refused")
        check(dt < 3, "a refused connection must fail at once, took %.1fs" % dt)
    run_case(srv, "SN-SFTP-DOWN", sshd.port, body, None, known=sshd.known_hosts())


@T.test
def silent_server_times_out_before_the_order(srv):
    """A peer that accepts TCP and never sends its banner: sftp_timeout ends the attempt."""
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(8)
    port = lsn.getsockname()[1]
    try:
        def body(did, ag):
            st, r, dt = upload(srv, did)
            check_failed(st, r, ag, "connect failed", "Timeout")
            check(1.0 <= dt < 6, "sftp_timeout 1500ms must end it, took %.1fs" % dt)
        run_case(srv, "SN-SFTP-HUNG", port, body, None, extra=["--sftp-timeout", "1500ms"])
    finally:
        lsn.close()


@T.test(upload_log_dir=os.path.join(WORK, "no-such-dir"))
def missing_remote_dir_cannot_write(srv):
    sshd = Sshd().start()
    try:
        def body(did, ag):
            st, r, _ = upload(srv, did)
            check_failed(st, r, ag, "cannot write remote file", "no-such-dir",
                         "no such file")
        run_case(srv, "SN-SFTP-DIR", sshd.port, body, sshd, known=sshd.known_hosts())
    finally:
        sshd.stop()


if __name__ == "__main__":
    T.main()
