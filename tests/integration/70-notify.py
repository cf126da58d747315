#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""70-notify.py -- notifications (src/server/notify.c) against real receivers on loopback: a
Python HTTP receiver (webhooks: one that answers, one that fails twice with 500 then answers,
one that refuses with 400, a closed port), Debian's aiosmtpd SMTP server requiring STARTTLS and
AUTH, and Debian's prometheus-alertmanager. notify.c is driven by notify_drive (a test program
linking it), since the alert engine that calls it in edgefleetd is separate.

Checked: one request per receiver per transition, its body (docs/alerts-notify.md), each
outcome ("delivered", "delivered after 3 attempts", "failed: HTTP 400 (not retried)",
"failed after N attempts"), the alert firing then gone at Alertmanager, one e-mail per
transition over STARTTLS; a receiver that accepts and never answers does not hold up the others,
its queue is bounded ("dropped: queue full") and stop aborts it; no URL token or password in the
log; edgefleetd refuses an incomplete SMTP setting at start."""
import asyncio
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import receivers
from efharness import build_dir, check, free_port, sanitizer_report, server_binary, wait_until
from receivers import Hooks, am_alerts

DRIVER = os.path.join(build_dir(), "tests", "integration", "notify_drive")
URL_SECRET = "urlsecret42"
SMTP_PASSWORD = "smtp-pw-9f3c"


# ----- a receiver that accepts, reads the request and never answers -----

class Dead:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = queue.Queue()
        self.conns = []
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            data = b""
            while b"\r\n\r\n" not in data:
                b = c.recv(65536)
                if not b:
                    break
                data += b
            self.requests.put(data)


def start_smtp(d):
    return receivers.start_smtp(d, "edgefleet", SMTP_PASSWORD)


def start_alertmanager(d):
    return receivers.start_alertmanager(d, "70-notify")


# ----- the driver -----

class Driver:
    def __init__(self, d, **opts):
        args = [DRIVER, "--data-dir", d, "--log-level", "debug"]
        for k, v in opts.items():
            args += ["--" + k.replace("_", "-"), str(v)]
        self.err_path = os.path.join(d, "driver-%d.err" % id(self))
        self.err = open(self.err_path, "w")
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, text=True)
        first = self.p.stdout.readline()
        check(first.startswith("ready "), "driver did not start:", first, self.stderr())
        self.receivers = int(first.split()[1])

    def send(self, alert):
        self.p.stdin.write(json.dumps(alert) + "\n")
        self.p.stdin.flush()

    def outcomes(self, n):
        out = []
        for _ in range(n):
            line = self.p.stdout.readline()
            check(line, "driver ended after", out, self.stderr())
            out.append(json.loads(line))
        return out

    def stop(self):
        self.p.stdin.write("stop\n")
        self.p.stdin.flush()
        rest = self.p.stdout.read()
        rc = self.p.wait(timeout=60)
        self.err.close()
        check(rc == 0, "driver exit", rc, self.stderr())
        rep = sanitizer_report(self.stderr())
        check(rep is None, rep)
        return rest

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.err_path) as f:
            return f.read()


def alert(fp, state, starts, ends=0, summary="deadline 3 of f01234 has 2 faulty partitions"):
    return {"rule": "deadline_faults", "fingerprint": fp, "state": state, "severity": "critical",
            "summary": summary, "labels": {"miner": "f01234", "host": "miner-1", "deadline": 3},
            "starts_at": starts, "ends_at": ends}


def by_receiver(outs):
    return {o["receiver"]: o for o in outs}


def receivers_and_formats(d, hooks, smtp_port, ca, am_port):
    closed = free_port()
    pwfile = os.path.join(d, "smtp.pass")
    with open(pwfile, "w") as f:
        f.write(SMTP_PASSWORD + "\n")
    drv = Driver(d,
                 notify_webhook="http://127.0.0.1:%d/hook?token=%s, http://127.0.0.1:%d/flaky,"
                                "http://127.0.0.1:%d/bad,http://127.0.0.1:%d/closed"
                                % (hooks.port, URL_SECRET, hooks.port, hooks.port, closed),
                 notify_alertmanager="http://127.0.0.1:%d/" % am_port,
                 notify_smtp="smtp://127.0.0.1:%d" % smtp_port[0],
                 notify_smtp_from="edgefleet@example.net",
                 notify_smtp_to="ops@example.net, oncall@example.net",
                 notify_smtp_user="edgefleet", notify_smtp_password_file=pwfile,
                 notify_ca=ca, notify_retries=3, notify_backoff="10ms", notify_timeout="20s")
    check(drv.receivers == 6, drv.receivers)
    box = smtp_port[1]
    t0 = int(time.time() * 1000)

    # firing
    drv.send(alert("fp-1", "firing", t0, summary="deadline 3 faulty: café"))
    o = by_receiver(drv.outcomes(6))
    check(set(o) == {"webhook1", "webhook2", "webhook3", "webhook4", "alertmanager1", "email"}, o)
    check(o["webhook1"]["outcome"] == "delivered", o)
    check(o["webhook2"]["outcome"] == "delivered after 3 attempts", o)
    check(o["webhook3"]["outcome"] == "failed: HTTP 400 (not retried)", o)
    check(o["webhook4"]["outcome"].startswith("failed after 4 attempts: "), o)
    check(o["alertmanager1"]["outcome"] == "delivered", o)
    check(o["email"]["outcome"] == "delivered", o)
    check(all(x["fingerprint"] == "fp-1" for x in o.values()), o)

    hook = hooks.bodies("/hook")
    check(len(hook) == 1, hook)
    h = hook[0]
    check(h["status"] == "firing" and h["rule"] == "deadline_faults" and h["fingerprint"] == "fp-1"
          and h["severity"] == "critical" and h["summary"] == "deadline 3 faulty: café"
          and h["labels"] == {"miner": "f01234", "host": "miner-1", "deadline": 3}
          and h["startsAtMs"] == t0 and h["endsAt"] is None and h["version"] == "1", h)
    check(len(hooks.bodies("/flaky")) == 3 and len(hooks.bodies("/bad")) == 1, hooks.posts)
    with hooks.lock:
        ct = [hd.get("Content-Type") for p, hd, _ in hooks.posts]
    check(all(c == "application/json" for c in ct), ct)

    check(len(box.messages) == 1, box.messages)
    mfrom, rcpts, text, tls = box.messages[0]
    check(mfrom == "edgefleet@example.net" and rcpts == ["ops@example.net", "oncall@example.net"]
          and tls, box.messages[0])
    check("Subject: =?UTF-8?B?" in text and "State:       firing" in text
          and "miner = f01234" in text and "Fingerprint: fp-1" in text, text)

    firing = [a for a in am_alerts(am_port) if a["labels"].get("alertname") == "deadline_faults"]
    check(len(firing) == 1, firing)
    a = firing[0]
    check(a["labels"] == {"alertname": "deadline_faults", "severity": "critical",
                          "miner": "f01234", "host": "miner-1", "deadline": "3"}, a)
    check(a["annotations"]["summary"] == "deadline 3 faulty: café"
          and a["annotations"]["edgefleet_fingerprint"] == "fp-1", a)
    check(a["status"]["state"] == "active", a)

    # resolved
    t1 = int(time.time() * 1000)
    drv.send(alert("fp-1", "resolved", t0, t1))
    o = by_receiver(drv.outcomes(6))
    check(o["webhook1"]["outcome"] == "delivered" and o["alertmanager1"]["outcome"] == "delivered"
          and o["email"]["outcome"] == "delivered", o)
    hook = hooks.bodies("/hook")
    check(len(hook) == 2 and hook[1]["status"] == "resolved" and hook[1]["endsAtMs"] == t1
          and hook[1]["endsAt"].endswith("Z"), hook)
    check(len(box.messages) == 2 and "State:       resolved" in box.messages[1][2]
          and "Subject: [RESOLVED] deadline_faults: deadline 3 of f01234" in box.messages[1][2],
          box.messages)
    # Alertmanager: the alert's endsAt is past, so it is no longer listed (resolved)
    wait_until(lambda: not [x for x in am_alerts(am_port)
                            if x["labels"].get("alertname") == "deadline_faults"],
               timeout=30, what="alert resolved at alertmanager")
    drv.stop()
    log = drv.stderr()
    check(URL_SECRET not in log and SMTP_PASSWORD not in log, "a secret in the log")
    check("notify: 4 webhook(s), 1 alertmanager(s), e-mail on" in log, log[-2000:])
    print("ok receivers_and_formats")


def dead_receiver_blocks_nobody(d, hooks):
    dead = Dead()
    n0 = len(hooks.bodies("/other"))
    drv = Driver(d, notify_webhook="http://127.0.0.1:%d/hang, http://127.0.0.1:%d/other"
                 % (dead.port, hooks.port), notify_queue_max=2, notify_timeout="10m",
                 notify_retries=0)
    t0 = int(time.time() * 1000)
    drv.send(alert("a1", "firing", t0))
    # webhook1's first request is in flight (the dead receiver has read it) ...
    req = dead.requests.get(timeout=30)
    check(b"POST /hang" in req, req)
    first = drv.outcomes(1)
    check(first == [{"fingerprint": "a1", "receiver": "webhook2", "outcome": "delivered"}], first)
    # ... so a2, a3 wait in its queue of 2 and a4 is dropped; webhook2 gets all of them (one at
    # a time: its own queue holds 2 as well).
    for fp in ("a2", "a3"):
        drv.send(alert(fp, "firing", t0))
        o = drv.outcomes(1)
        check(o == [{"fingerprint": fp, "receiver": "webhook2", "outcome": "delivered"}], o)
    drv.send(alert("a4", "firing", t0))
    got = sorted((o["receiver"], o["fingerprint"], o["outcome"]) for o in drv.outcomes(2))
    check(got == [("webhook1", "a4", "dropped: queue full"), ("webhook2", "a4", "delivered")], got)
    check(len(hooks.bodies("/other")) == n0 + 4, hooks.posts)
    # stop aborts the hanging attempt and drops the queue, without outcomes
    rest = drv.stop()
    check(rest == "", rest)
    check(dead.requests.qsize() == 0, "a second request reached the dead receiver")
    print("ok dead_receiver_blocks_nobody")


def alertmanager_resends_firing(d, hooks):
    """Alertmanager forgets an alert not re-sent within its resolve_timeout: the firing ones are
    posted again every notify_resend, the resolved ones no longer."""
    drv = Driver(d, notify_alertmanager="http://127.0.0.1:%d/am" % hooks.port,
                 notify_resend="1s")
    t0 = int(time.time() * 1000)

    def posts():
        return [[a["annotations"]["edgefleet_fingerprint"] for a in b]
                for b in hooks.bodies("/am/api/v2/alerts")]
    drv.send(alert("r1", "firing", t0))
    check(drv.outcomes(1)[0]["outcome"] == "delivered")
    drv.send(alert("r2", "firing", t0, summary="second"))
    check(drv.outcomes(1)[0]["outcome"] == "delivered")
    wait_until(lambda: sorted(posts()[-1]) == ["r1", "r2"], timeout=30, what="a re-send of both")
    drv.send(alert("r1", "resolved", t0, t0 + 1))
    check(drv.outcomes(1)[0]["outcome"] == "delivered")
    n = len(posts())
    wait_until(lambda: len(posts()) > n + 1, timeout=30, what="two more re-sends")
    # One queue per receiver, in order: a re-send queued before the resolution reached the
    # receiver before the resolved post did, so every post after it is a re-send without r1.
    later = posts()[n:]
    check(all(p == ["r2"] for p in later), later)
    drv.stop()
    print("ok alertmanager_resends_firing")


def server_refuses_bad_config(d):
    for opts, want in ((["--notify-smtp", "smtp://127.0.0.1:25"], "notify_smtp needs"),
                       (["--notify-webhook", "ftp://127.0.0.1/x"], "notify_webhook"),
                       (["--notify-smtp", "smtp://127.0.0.1:25", "--notify-smtp-from", "a@b",
                         "--notify-smtp-to", "x@y", "--notify-smtp-user", "u",
                         "--notify-smtp-password-file", os.path.join(d, "missing")],
                        "notify_smtp_password_file")):
        dd = tempfile.mkdtemp(dir=d)
        p = subprocess.run([server_binary(), "--data-dir", dd, "--listen", "127.0.0.1:%d" % free_port()]
                           + opts, capture_output=True, text=True, timeout=60)
        check(p.returncode != 0 and want in p.stderr and "ready" not in p.stderr,
              opts, p.returncode, p.stderr[-1000:])
    print("ok server_refuses_bad_config")


def main():
    d = tempfile.mkdtemp(prefix="ef-notify-")
    hooks = Hooks()
    ctl, box, smtp_port, crt = start_smtp(d)
    am, am_port = start_alertmanager(d)
    try:
        receivers_and_formats(d, hooks, (smtp_port, box), crt, am_port)
        dead_receiver_blocks_nobody(d, hooks)
        alertmanager_resends_firing(d, hooks)
        server_refuses_bad_config(d)
    finally:
        am.terminate()
        am.wait(timeout=30)
        ctl.stop()
        hooks.shutdown()
    if not os.environ.get("EF_KEEP"):
        shutil.rmtree(d, ignore_errors=True)
    print("70-notify: all passed")


if __name__ == "__main__":
    main()
