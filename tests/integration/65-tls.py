#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""65-tls.py -- TLS on every hop (docs/security.md#tls). A throw-away PKI is made with the
`openssl` command in a temp dir: a test CA, another CA, a server certificate for 127.0.0.1 and
localhost, its renewal (a new key), one for another host name, an expired one, and device
client certificates from each CA. The server runs with --tls-cert/--tls-key (some tests with
--tls-ca too).

* an agent logs in over wss with the CA it was given; with another CA, a certificate for another
  host, an expired one or a pin of another key it is refused with the reason in its log, and
  keeps retrying (and the server saw no login);
* a plaintext start on a non-loopback listen address is refused with the reason, before
  binding; allow_plaintext = true allows it; TLS on a non-loopback address needs no flag;
* only TLS 1.2+ and forward-secret AEAD ciphers; plaintext on the TLS port is refused, and many
  failed handshakes do not use up the server's handshake slots;
* a --server list of two wss:// URLs: the agent's --ca and --pin hold for both nodes;
* mutual TLS: a device without a client certificate gets 403 on /ws, one from another CA fails
  the handshake (and the agent retries), one from tls_ca logs in; REST needs none;
* SIGHUP swaps a renewed certificate while devices stay connected (same connections, no new
  login), new connections see the new certificate, and a broken renewal keeps the old one;
* REST through edgefleetctl --ca over https; /front over wss; the dashboard over https in
  Chromium (the test CA's server key trusted by its SPKI hash only); the seed's Python controller
  over wss with only its URL scheme changed (its default SSL context, SSL_CERT_FILE).
"""
import asyncio
import atexit
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile

import websockets
import websockets.exceptions

from efharness import (AgentProcess, Api, Device, SYS_PYTHON, Server, Suite, build_dir, check,
                       free_port, server_binary, source_dir, wait_until)

# ---------------------------------------------------------------------------------------------
# The throw-away PKI

PKI = tempfile.mkdtemp(prefix="ef-tls-pki-")
if not os.environ.get("EF_KEEP"):
    atexit.register(shutil.rmtree, PKI, True)


def P(name):
    return os.path.join(PKI, name)


def openssl(*args):
    r = subprocess.run(["openssl", *args], cwd=PKI, capture_output=True, text=True)
    assert r.returncode == 0, ("openssl", args, r.stderr)


def new_key_csr(name, cn):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn)


def make_ca(name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", name + ".key", "-out", name + ".crt", "-days", "30",
            "-subj", "/CN=" + name)


def make_cert(name, ca, san=None, client=False, dates=None):
    new_key_csr(name, name)
    with open(P(name + ".ext"), "w") as f:
        if san:
            f.write("subjectAltName=%s\n" % san)
        f.write("extendedKeyUsage=%s\n" % ("clientAuth" if client else "serverAuth"))
    if dates:  # an expired certificate: `openssl ca` takes explicit dates
        with open(P(ca + ".cnf"), "w") as f:
            f.write("[ca]\ndefault_ca=d\n[d]\ndatabase=%s.index\nnew_certs_dir=.\nserial=%s.serial\n"
                    "default_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n" % (ca, ca))
        open(P(ca + ".index"), "w").close()
        with open(P(ca + ".serial"), "w") as f:
            f.write("1000\n")
        openssl("ca", "-batch", "-config", ca + ".cnf", "-cert", ca + ".crt", "-keyfile",
                ca + ".key", "-in", name + ".csr", "-out", name + ".crt", "-notext",
                "-startdate", dates[0], "-enddate", dates[1], "-extfile", name + ".ext")
    else:
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
                "-CAcreateserial", "-out", name + ".crt", "-days", "30", "-extfile", name + ".ext")


make_ca("ca")
make_ca("other")
make_cert("server", "ca", "IP:127.0.0.1,DNS:localhost")
make_cert("renewed", "ca", "IP:127.0.0.1,DNS:localhost")
make_cert("wronghost", "ca", "DNS:elsewhere.example")
make_cert("expired", "ca", "IP:127.0.0.1", dates=("20200101000000Z", "20200201000000Z"))
make_cert("device", "ca", client=True)
make_cert("rogue", "other", client=True)


def spki_sha256(key_file):
    """base64 SHA-256 of the public key's SubjectPublicKeyInfo (curl's and Chromium's pin)."""
    der = subprocess.run(["openssl", "pkey", "-in", key_file, "-pubout", "-outform", "der"],
                         capture_output=True, check=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def der_of(cert_file):
    with open(cert_file) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def client_ctx(cert=None, ca="ca.crt"):
    ctx = ssl.create_default_context(cafile=P(ca))
    if cert:
        ctx.load_cert_chain(P(cert + ".crt"), P(cert + ".key"))
    return ctx


TLS = dict(tls_cert=P("server.crt"), tls_key=P("server.key"))
T = Suite("65-tls", **TLS)


def tls_api(srv, **kw):
    """srv.api over https (srv.add_device etc. use it)."""
    srv.api = Api(srv.port, srv.token, ssl_context=client_ctx(**kw))
    return srv.api


def wss_device(srv, ctx, path="/ws"):
    d = Device(srv.port, path, ssl=ctx)
    d.url = "wss://127.0.0.1:%d%s" % (srv.port, path)
    return d


def agent(srv, did, *args, host="127.0.0.1"):
    return AgentProcess(srv, ["--server", "wss://%s:%d/ws" % (host, srv.port), "--device-id", did,
                              "--password", "pw", "--reconnect-interval", "100ms",
                              "--reconnect-jitter", "0", "--max-retries", "0", *args])


def logins(srv, did):
    return [r for r in srv.logs(did) if r["event"] == "login" and r["result"] == "success"]


# ---------------------------------------------------------------------------------------------
# The library and the agent


@T.test
def agent_verifies_the_server(srv):
    tls_api(srv)
    did = srv.add_device("SN-A", "M", "pw")
    good = agent(srv, did, "--ca", P("ca.crt"))
    bad = agent(srv, did, "--ca", P("other.crt"))
    try:
        wait_until(lambda: srv.dev_state(did) == "online", 10, what="the agent online over wss")
        reason = "server certificate refused: unable to get local issuer certificate"
        wait_until(lambda: bad.log().count(reason) >= 3, 10,
                   what="three refusals (retried) with the reason in the agent's log")
        check("try-reconnect" in bad.log(), bad.tail())
        check(len(logins(srv, did)) == 1, "one login only (the good agent)", srv.logs(did))
    finally:
        check(good.stop() == 0 and bad.stop() == 0, "agents' exit")
    # a pin: the server's key passes, another key is refused
    pinned = agent(srv, did, "--ca", P("ca.crt"), "--pin", "sha256//" + spki_sha256(P("server.key")))
    wrong = agent(srv, did, "--ca", P("ca.crt"), "--pin", "sha256//" + spki_sha256(P("renewed.key")))
    try:
        wait_until(lambda: "login success" in pinned.log(), 10, what="the pinned agent's login")
        wait_until(lambda: wrong.log().count("is not one of pinned_pubkey") >= 2, 10,
                   what="the wrong pin refused, twice")
        check("login success" not in wrong.log(), wrong.tail())
    finally:
        pinned.stop()
        wrong.stop()
    # a bad pin is a configuration error: exit 2 before connecting
    bad_pin = agent(srv, did, "--pin", "sha256/xyz")
    check(bad_pin.proc.wait(10) == 2 and "pinned_pubkey" in bad_pin.log(), bad_pin.tail())
    bad_pin.stop()


@T.test(tls_cert=P("wronghost.crt"), tls_key=P("wronghost.key"))
def agent_refuses_wrong_host(srv):
    tls_api(srv, ca="ca.crt")
    srv.api.ssl_context.check_hostname = False  # the test's own REST client only
    did = srv.add_device("SN-H", "M", "pw")
    a = agent(srv, did, "--ca", P("ca.crt"))
    b = agent(srv, did, "--ca", P("ca.crt"), host="localhost")
    try:
        wait_until(lambda: a.log().count("server certificate refused: IP address mismatch") >= 2,
                   10, what="IP address mismatch, twice, in the agent's log")
        wait_until(lambda: b.log().count("server certificate refused: hostname mismatch") >= 2,
                   10, what="hostname mismatch, twice, in the agent's log")
    finally:
        a.stop()
        b.stop()
    check(not logins(srv, did), "no login")


@T.test(tls_cert=P("expired.crt"), tls_key=P("expired.key"))
def agent_refuses_expired(srv):
    ctx = client_ctx()
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the test's own REST client only
    srv.api = Api(srv.port, srv.token, ssl_context=ctx)
    did = srv.add_device("SN-E", "M", "pw")
    a = agent(srv, did, "--ca", P("ca.crt"))
    try:
        wait_until(lambda: a.log().count("server certificate refused: certificate has expired") >= 2,
                   10, what="certificate has expired, twice, in the agent's log")
    finally:
        a.stop()
    check(not logins(srv, did), "no login")


@T.test
def agent_tls_options_on_every_url(srv):
    """A --server list of two wss:// URLs: --ca and --pin hold for both. The second node's
    certificate chains to the CA (passes --ca) but has another key: refused by the pin, also
    after the node the agent was on is killed; the agent never logs in there."""
    tls_api(srv)
    srv2 = Server(tls_cert=P("renewed.crt"), tls_key=P("renewed.key")).start()
    a = None
    try:
        tls_api(srv2)
        srv.add_device("SN-L", "M", "pw")
        id2 = srv2.add_device("SN-L", "M", "pw")  # a login there would succeed but for the pin
        u1, u2 = ("wss://127.0.0.1:%d/ws" % s.port for s in (srv, srv2))
        d = os.path.join(srv.dir, "agent-list")
        a = AgentProcess(srv, ["--server", "%s,%s" % (u2, u1), "--sn", "SN-L", "--model", "M",
                               "--password", "pw", "--data-dir", d, "--ca", P("ca.crt"),
                               "--pin", "sha256//" + spki_sha256(P("server.key")),
                               "--reconnect-interval", "300ms", "--reconnect-jitter", "0",
                               "--max-retries", "0"], dir=d)
        wait_until(lambda: " on %s" % u1 in a.log(), 10,  # `login success as device ID on URL`
                   what="the agent's login on the first node")
        srv.kill()  # the agent moves on to the second URL
        refused = ("server certificate refused: its public key is not one of pinned_pubkey (%s)"
                   % u2)
        wait_until(lambda: a.log().count(refused) >= 2, 10,
                   what="the second node refused by the pin, twice, in the agent's log")
        check("Ready to connect to Server. %s" % u1 in a.log(), a.tail())
        check("login success" not in a.log().split(" on " + u1, 1)[1], a.tail())
        check(not logins(srv2, id2), "no login on the second node")
    finally:
        if a:
            check(a.stop() == 0, "agent's exit")
        srv2.stop()
        srv2.cleanup()


# ---------------------------------------------------------------------------------------------
# The server: the plaintext rule, protocol and cipher policy


def run_server(args, timeout=10):
    d = tempfile.mkdtemp(prefix="ef-tls-srv-", dir=PKI)
    p = subprocess.Popen([server_binary(), "--data-dir", d] + args, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p


def plaintext_rule(srv):
    port = free_port()
    p = run_server(["--listen", "0.0.0.0:%d" % port])
    out, _ = p.communicate(timeout=10)
    check(p.returncode == 2, "exit code", p.returncode, out)
    check("refusing to listen on 0.0.0.0:%d without TLS" % port in out and "allow_plaintext" in out,
          out)
    check("ready" not in out and "listen" not in out.replace("refusing to listen", ""), out)
    with socket.socket() as s:  # never bound: nothing answers there
        check(s.connect_ex(("127.0.0.1", port)) != 0, "something listens on", port)
    for args, what in ((["--allow-plaintext", "true"], "plaintext allowed"),
                       (["--tls-cert", P("server.crt"), "--tls-key", P("server.key")], "TLS")):
        p = run_server(["--listen", "0.0.0.0:0"] + args)
        line = ""
        while "ready port=" not in line:
            line = p.stdout.readline()
            check(line, what + ": no ready line")
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=15)
        check(p.returncode == 0, what, out)
    # the TLS options go together
    for args, msg in ((["--tls-cert", P("server.crt")], "tls_cert and tls_key go together"),
                      (["--tls-ca", P("ca.crt")], "tls_ca (mutual TLS) needs tls_cert"),
                      (["--tls-cert", P("server.crt"), "--tls-key", P("renewed.key")],
                       "does not match the certificate"),
                      (["--tls-cert", P("nothing.crt"), "--tls-key", P("server.key")],
                       "No such file")):
        p = run_server(["--listen", "127.0.0.1:0"] + args)
        out, _ = p.communicate(timeout=10)
        check(p.returncode != 0 and msg in out and "ready" not in out, args, out)


@T.test
def plaintext_refused_unless_allowed(srv):
    plaintext_rule(srv)


@T.test
def protocol_and_ciphers(srv):
    def handshake(ctx):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                return t.version(), t.cipher()[0]
    ctx = client_ctx()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    v, c = handshake(ctx)
    check(v == "TLSv1.2" and c.startswith("ECDHE-") and ("GCM" in c or "CHACHA" in c), v, c)
    check(handshake(client_ctx())[0] == "TLSv1.3", "TLS 1.3 offered")
    for what, tweak in (("TLS 1.1", lambda x: (x.set_ciphers("DEFAULT:@SECLEVEL=0"),
                                               setattr(x, "minimum_version", ssl.TLSVersion.TLSv1),
                                               setattr(x, "maximum_version", ssl.TLSVersion.TLSv1_1))),
                        ("a CBC cipher without forward secrecy",
                         lambda x: (x.set_ciphers("AES128-SHA"),
                                    setattr(x, "maximum_version", ssl.TLSVersion.TLSv1_2)))):
        ctx = client_ctx()
        tweak(ctx)
        try:
            handshake(ctx)
            raise AssertionError(what + " was accepted")
        except (ssl.SSLError, ConnectionError):
            pass
    # Plaintext on the TLS port gets no HTTP answer; 300 such failed handshakes in a row leave
    # the handshake slots (256) free: a TLS request still works after them.
    for _ in range(300):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
            s.sendall(b"GET /service/devices_manage/device_query_all HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            try:
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except ConnectionError:
                pass
            check(b"HTTP/1.1 200" not in data, data[:200])
    st, body = tls_api(srv).get("device_query_all")
    check(st == 200, st, body)


# ---------------------------------------------------------------------------------------------
# Mutual TLS


@T.test(tls_ca=P("ca.crt"))
async def mutual_tls(srv):
    api = tls_api(srv)  # REST needs no client certificate
    did = srv.add_device("SN-M", "M", "pw")
    try:
        async with wss_device(srv, client_ctx()) as d:
            raise AssertionError("a device without a client certificate got in")
    except websockets.exceptions.InvalidStatusCode as e:
        check(e.status_code == 403, e)
    try:
        async with wss_device(srv, client_ctx("rogue")) as d:
            await d.login(did, "pw", timeout=3)
            raise AssertionError("a device with another CA's certificate got in")
    except (ssl.SSLError, ConnectionError, websockets.exceptions.WebSocketException,
            asyncio.TimeoutError, AssertionError) as e:
        check("got in" not in str(e), e)
    async with wss_device(srv, client_ctx("device")) as d:
        await d.login(did, "pw")
        check(srv.dev_state(did) == "online", "online")
    check("/ws refused: no client certificate" in srv.tail(0), srv.tail())
    check("client certificate refused" in srv.tail(0), srv.tail())
    # the agent: refused without --cert (the reason is the server's 403), in with it
    a = agent(srv, did, "--ca", P("ca.crt"))
    try:
        wait_until(lambda: a.log().count("'403'") >= 2, 10, what="two 403 refusals in the log")
    finally:
        a.stop()
    # another CA's certificate: the server ends the handshake; the agent retries, it does not hang
    r = agent(srv, did, "--ca", P("ca.crt"), "--cert", P("rogue.crt"), "--key", P("rogue.key"))
    try:
        wait_until(lambda: r.log().count("disconnected from Server: connection error") >= 2, 10,
                   what="two failed attempts of the agent with another CA's certificate")
    finally:
        r.stop()
    check("login success" not in r.log(), r.tail())
    b = agent(srv, did, "--ca", P("ca.crt"), "--cert", P("device.crt"), "--key", P("device.key"))
    try:
        wait_until(lambda: "login success" in b.log(), 10, what="the agent with a certificate")
    finally:
        b.stop()
    st, _ = api.get("device_query_all")
    check(st == 200, st)


# ---------------------------------------------------------------------------------------------
# Reload on SIGHUP


LIVE = dict(tls_cert=P("live.crt"), tls_key=P("live.key"))
shutil.copy(P("server.crt"), P("live.crt"))
shutil.copy(P("server.key"), P("live.key"))


def peer_der(srv):
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        with client_ctx().wrap_socket(s, server_hostname="127.0.0.1") as t:
            return t.getpeercert(binary_form=True)


def reloads(srv, what):
    return srv.tail(0).count(what)


@T.test(**LIVE)
async def sighup_swaps_the_certificate(srv):
    tls_api(srv)
    check(peer_der(srv) == der_of(P("server.crt")), "the first certificate")
    ids = [srv.add_device("SN-R%d" % i, "M", "pw") for i in range(3)]
    aid = srv.add_device("SN-RA", "M", "pw")
    a = agent(srv, aid, "--ca", P("ca.crt"))
    devs = [wss_device(srv, client_ctx()) for _ in ids]
    try:
        for d, did in zip(devs, ids):
            await d.__aenter__()
            await d.login(did, "pw")
        wait_until(lambda: srv.dev_state(aid) == "online", 10, what="the agent online")
        # renewed: a new key and certificate in the same files, then SIGHUP
        shutil.copy(P("renewed.crt"), P("live.crt"))
        shutil.copy(P("renewed.key"), P("live.key"))
        srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reloads(srv, "TLS certificate reloaded") == 1, 10, what="the reload")
        check(peer_der(srv) == der_of(P("renewed.crt")), "a new connection sees the renewal")
        for d in devs:  # the same connections still answer
            pong = await d.ping()
            check(pong.get("data") == "pong", pong)
        check(srv.dev_state(aid) == "online", "agent still online")
        # a broken renewal (the key of another certificate) keeps the renewed pair
        shutil.copy(P("server.key"), P("live.key"))
        srv.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reloads(srv, "TLS reload failed") == 1, 10, what="the failed reload")
        check("does not match the certificate" in srv.tail(), srv.tail())
        check(peer_der(srv) == der_of(P("renewed.crt")), "still the renewal")
        for d in devs:
            await d.ping()
        # a new agent trusts the renewal through the same CA
        b = agent(srv, ids[0], "--ca", P("ca.crt"), "--device-id", aid)
        try:
            wait_until(lambda: "login success" in b.log(), 10, what="a new agent after the reload")
        finally:
            b.stop()
        check(a.log().count("login success") == 1, "the first agent logged in once", a.tail())
        for did in ids:
            check(len(logins(srv, did)) == 1, "one login per raw device", did)
    finally:
        for d in devs:
            await d.close()
        a.stop()
    shutil.copy(P("server.key"), P("live.key"))
    shutil.copy(P("server.crt"), P("live.crt"))


# ---------------------------------------------------------------------------------------------
# REST, /front, the dashboard and the seed's controller over TLS


def ctl(srv, *args):
    cmd = [os.path.join(build_dir(), "src", "cli", "edgefleetctl"), "--server",
           "https://127.0.0.1:%d" % srv.port, "--token", srv.token] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


@T.test
async def rest_and_front_over_tls(srv):
    r = ctl(srv, "--ca", P("ca.crt"), "device", "add", "--sn", "SN-C", "--model", "M",
            "--password", "pw")
    check(r.returncode == 0 and r.stdout.strip().isdigit(), r.stdout, r.stderr)
    did = r.stdout.strip()
    r = ctl(srv, "--ca", P("ca.crt"), "--json", "device", "list")
    check(r.returncode == 0 and did in r.stdout, r.stdout, r.stderr)
    r = ctl(srv, "device", "list")  # the system's store does not know the test CA
    check(r.returncode == 3 and "certificate" in r.stderr, r.returncode, r.stderr)
    r = ctl(srv, "--ca", P("other.crt"), "device", "list")
    check(r.returncode == 3, r.returncode, r.stderr)
    # /front over wss
    async with websockets.connect("wss://127.0.0.1:%d/front" % srv.port, ssl=client_ctx(),
                                  ping_interval=None) as ws:
        await ws.send(json.dumps({"uri": "login", "body": {"token": srv.token}, "msgId": "1"}))
        r = json.loads(await asyncio.wait_for(ws.recv(), 5))
        check(r.get("msgId") == "1" and int(r.get("code")) == 1, r)


@T.test(static_dir=os.path.join(source_dir(), "web"))
def dashboard_over_https(srv):
    from cdp import Chromium
    tls_api(srv)
    did = srv.add_device("SN-D", "M", "pw", device_name="tls-box")
    # Chromium trusts exactly this server key (its SPKI hash), not any certificate
    browser = Chromium(extra_args=["--ignore-certificate-errors-spki-list=" +
                                   spki_sha256(P("server.key"))])
    try:
        browser.start()
        page = browser.page()
        page.enable()
        page.navigate("https://127.0.0.1:%d/" % srv.port)
        page.wait_for("!!document.getElementById('token')", what="the sign-in form")
        check(page.evaluate("location.protocol") == "https:", "https")
        page.evaluate("document.getElementById('token').focus()")
        page.send("Input.insertText", text=srv.token)
        page.evaluate("document.getElementById('signin').click()")
        page.wait_for("!document.getElementById('token')", what="signed in")
        page.evaluate("location.hash = '#/devices'")
        page.wait_for("!!document.querySelector('tr[data-device=\"%s\"]')" % did,
                      what="the device in the list (over wss)")
        st = page.evaluate("fetch('/service/devices_manage/device_query/%s', {headers: "
                           "{Authorization: 'Bearer %s'}}).then(r => r.status)" % (did, srv.token))
        check(st == 200, "REST from the page over https", st)
        check(page.problems() == [], page.problems())
    finally:
        browser.stop()


@T.test(heartbeat_tolerance="10s")
def seed_controller_over_wss(srv):
    tls_api(srv)
    did = srv.add_device("SN123", "ModelB", "testpassword")
    d = tempfile.mkdtemp(prefix="ctl-", dir=srv.dir)
    env = dict(os.environ, EF_SEED_PORT=str(srv.port), EF_SEED_LOG_DIR=d,
               EF_SEED_PASSWORD="testpassword", EF_SEED_SCHEME="wss", SSL_CERT_FILE=P("ca.crt"),
               PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1", PYTHONWARNINGS="ignore")
    env.pop("PYTHONPATH", None)
    seed = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed_controller")
    with open(os.path.join(d, "stdout"), "wb") as out:
        p = subprocess.Popen([SYS_PYTHON, "test_start_1.py"], cwd=seed, env=env,
                             stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: srv.dev_state(did) == "online", 20,
                       what="the seed controller online over wss")
            srv.wait_logs(did, lambda ls: any(r["event"] == "login" for r in ls), 5, "its login")
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


if __name__ == "__main__":
    T.main()
