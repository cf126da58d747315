# SPDX-License-Identifier: MIT
"""natsserver.py -- a real NATS server (Debian's nats-server) on a free loopback port in a
temporary directory, for the cluster's tests and bench/cluster: start(), url, stop(), kill().
nats-server does not refuse root, but it runs as `nobody` when the test runs as root anyway
(least privilege). Unavailable(reason) when the binary is missing."""
import os
import shutil
import signal
import socket
import subprocess
import time


class Unavailable(Exception):
    pass


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsServer:
    def __init__(self, tmpdir):
        self.dir = tmpdir
        self.port = _free_port()
        self.url = "nats://127.0.0.1:%d" % self.port
        self.log = os.path.join(tmpdir, "nats.log")
        self.proc = None

    def start(self, timeout=10.0):
        binary = shutil.which("nats-server") or ("/usr/sbin/nats-server"
                                                  if os.path.exists("/usr/sbin/nats-server") else None)
        if not binary:
            raise Unavailable("nats-server is not installed (Debian package nats-server)")
        conf = os.path.join(self.dir, "nats.conf")
        with open(conf, "w") as f:  # the bus's messages reach 1 MiB (docs/cluster.md)
            f.write("max_payload: 8MB\n")
        cmd = [binary, "-c", conf, "-a", "127.0.0.1", "-p", str(self.port), "-l", self.log]
        if os.geteuid() == 0:
            os.chmod(self.dir, 0o777)
            cmd = ["runuser", "-u", "nobody", "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Unavailable("nats-server exited with %s: %s" % (self.proc.returncode,
                                                                     self.tail()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2) as s:
                    if s.recv(4) == b"INFO":
                        return self
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise Unavailable("nats-server did not accept connections within %.0fs" % timeout)

    def tail(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def _signal(self, sig):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(10)

    def stop(self):
        self._signal(signal.SIGTERM)

    def kill(self):
        self._signal(signal.SIGKILL)
