# SPDX-License-Identifier: MIT
"""receivers.py -- real notification receivers on loopback for the alert tests
(docs/alerts-notify.md): a Python HTTP receiver for webhooks (Hooks), Debian's aiosmtpd SMTP
server requiring STARTTLS and AUTH (start_smtp), and Debian's prometheus-alertmanager
(start_alertmanager). Shared by 70-notify.py and 72-alerts-e2e.py."""
import json
import os
import shutil
import ssl
import subprocess
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from efharness import free_port, wait_until

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"


# ----- the HTTP receiver -----

class Hooks(ThreadingHTTPServer):
    """Records every POST (path, headers, body). Paths starting /flaky answer 500 twice then 200,
    /bad answers 400, anything else 200."""
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), HookHandler)
        self.posts = []            # (path, headers, body)
        self.lock = threading.Lock()
        self.flaky_left = {}       # path -> 500 answers still to give
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def bodies(self, path):
        with self.lock:
            return [json.loads(b) for p, _, b in self.posts if p.startswith(path)]


class HookHandler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        srv = self.server
        with srv.lock:
            srv.posts.append((self.path, dict(self.headers), body))
            code = 200
            if self.path.startswith("/flaky"):
                left = srv.flaky_left.get(self.path, 2)
                if left > 0:
                    srv.flaky_left[self.path] = left - 1
                    code = 500
            elif self.path.startswith("/bad"):
                code = 400
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


# ----- SMTP: aiosmtpd with STARTTLS and AUTH required -----

def make_cert(d):
    crt, key = os.path.join(d, "smtp.crt"), os.path.join(d, "smtp.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return crt, key


class Mailbox:
    def __init__(self):
        self.messages = []   # (mail_from, rcpt_tos, content, tls)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                  envelope.content.decode("utf-8", "replace"),
                                  session.ssl is not None))
        return "250 OK"

    def texts(self):
        with self.lock:
            return [m[2] for m in self.messages]


def start_smtp(d, user, password):
    """aiosmtpd on a free loopback port, STARTTLS required, AUTH user/password required after
    it. Returns (controller, mailbox, port, CA file for notify_ca)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    crt, key = make_cert(d)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(crt, key)
    box = Mailbox()

    def auth(server, session, envelope, mechanism, data):
        ok = data.login == user.encode() and data.password == password.encode()
        return AuthResult(success=ok)

    port = free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port, tls_context=ctx,
                     require_starttls=True, authenticator=auth, auth_required=True,
                     auth_require_tls=True)
    ctl.start()
    return ctl, box, port, crt


# ----- Alertmanager -----

def start_alertmanager(d, who="alert tests"):
    """Debian's prometheus-alertmanager on a free loopback port (no cluster, a null receiver).
    Returns (process, port)."""
    if not os.path.exists(ALERTMANAGER):
        raise SystemExit("%s: prometheus-alertmanager is not installed (scripts/deps.sh --test)" % who)
    conf = os.path.join(d, "am.yml")
    with open(conf, "w") as f:
        f.write("route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n")
    port = free_port()
    log = open(os.path.join(d, "am.log"), "w")
    p = subprocess.Popen([ALERTMANAGER, "--config.file=" + conf,
                          "--storage.path=" + os.path.join(d, "am-data"),
                          "--web.listen-address=127.0.0.1:%d" % port,
                          "--cluster.listen-address="], stdout=log, stderr=subprocess.STDOUT)

    def ready():
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False
    wait_until(ready, timeout=30, what="alertmanager ready")
    return p, port


def am_alerts(port):
    """The alerts Alertmanager holds (active ones; resolved ones are no longer listed)."""
    with urllib.request.urlopen("http://127.0.0.1:%d/api/v2/alerts" % port, timeout=5) as r:
        return json.loads(r.read())


def am_received(port):
    """Alertmanager's own count of alerts received by status
    (alertmanager_alerts_received_total), {"firing": n, "resolved": n}."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    out = {"firing": 0, "resolved": 0}
    for line in text.splitlines():
        if line.startswith("alertmanager_alerts_received_total{"):
            labels, value = line.rsplit(" ", 1)
            for st in out:
                if 'status="%s"' % st in labels:
                    out[st] += int(float(value))
    return out
