#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""17-http.py -- the HTTP side of edgefleetd under hostile or unusual clients: pipelined requests
split at every byte boundary (with and without the dashboard served), ambiguous framing refused
(RFC 9112 6.3), a body never read before the token is checked, request bodies bounded across
all connections, and dashboard files that cannot lead out of their directories."""
import os
import socket
import tempfile
import time

from efharness import Suite, check, wait_until

WEB = os.path.join(os.environ.get("EF_SOURCE", os.path.join(os.path.dirname(__file__), "..", "..")), "web")
BASE = "/service/devices_manage/"

T = Suite("17-http", bcrypt_cost=4)


def raw(port, data, timeout=3.0, until_close=False):
    """Send bytes, read what comes back until the peer closes or `timeout` passes."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(timeout)
    try:
        s.sendall(data)
    except OSError:
        pass
    out = b""
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            b = s.recv(65536)
            if not b:
                break
            out += b
            if not until_close and responses(out):
                break
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out


def responses(buf):
    """[(status, body)] of the complete responses in buf (Content-Length framed)."""
    out = []
    while buf:
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for ln in lines[1:]:
            k, _, v = ln.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        if len(rest) < length:
            break
        out.append((status, rest[:length]))
        buf = rest[length:]
    return out


def get(path, token, extra=b""):
    return (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" +
            (b"Authorization: Bearer " + token.encode() + b"\r\n" if token else b"") +
            extra + b"\r\n")


def read_n(port, data, n, parts=None, timeout=5.0):
    """Send `data` (as `parts` if given, with a pause between), read until n responses."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(timeout)
    for p in parts or [data]:
        s.sendall(p)
        if parts:
            time.sleep(0.002)
    buf = b""
    end = time.monotonic() + timeout
    while len(responses(buf)) < n and time.monotonic() < end:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        buf += b
    s.close()
    return responses(buf)


def pipelined_every_split(srv, first):
    """Two pipelined requests, the bytes split in two at every position: both answered."""
    second = get(BASE + "device_query_all", srv.token)
    data = first + second
    for k in range(1, len(data)):
        rs = read_n(srv.port, data, 2, parts=[data[:k], data[k:]])
        check(len(rs) == 2 and all(st == 200 for st, _ in rs),
              "split at %d of %d: %r" % (k, len(data), [st for st, _ in rs]))


@T.test
def pipelined_rest(srv):
    pipelined_every_split(srv, get(BASE + "device_query_all", srv.token))
    # Three at once, in one write, including an error answer in the middle.
    rs = read_n(srv.port, get(BASE + "device_query_all", srv.token) + get(BASE + "nope", srv.token) +
                get(BASE + "group_query_all", srv.token), 3)
    check([st for st, _ in rs] == [200, 404, 200], rs)


@T.test(static_dir=WEB)
def pipelined_with_dashboard(srv):
    pipelined_every_split(srv, get(BASE + "device_query_all", srv.token))
    pipelined_every_split(srv, get("/", None))
    rs = read_n(srv.port, get("/", None) + get(BASE + "device_query_all", srv.token) +
                get("/js/app.js", None), 3)
    check([st for st, _ in rs] == [200, 200, 200], [st for st, _ in rs])
    check(b"<html" in rs[0][1].lower(), rs[0][1][:80])


def post(path, token, body, headers=b""):
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" +
            (b"Authorization: Bearer " + token.encode() + b"\r\n" if token else b"") +
            b"Content-Type: application/json\r\n" + headers + b"\r\n" + body)


def answer_and_closed(port, data):
    out = raw(port, data, timeout=3.0, until_close=True)
    rs = responses(out)
    return rs


@T.test
def ambiguous_framing_refused(srv):
    body = b'{"group_name":"g1"}'
    cases = {
        "two lengths": b"Content-Length: %d\r\nContent-Length: 40\r\n" % len(body),
        "length and chunked": b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(body),
        "chunked": b"Transfer-Encoding: chunked\r\n",
        "not a number": b"Content-Length: abc\r\n",
        "signed": b"Content-Length: +%d\r\n" % len(body),
    }
    for what, headers in cases.items():
        rs = answer_and_closed(srv.port, post(BASE + "group_add", srv.token, body, headers) +
                               get(BASE + "group_query_all", srv.token))
        # One answer, 400, and the connection closed: the rest is never read as a request.
        check([st for st, _ in rs] == [400], what, rs)
    # No group was made by any of them.
    st, groups = srv.api.request("GET", BASE + "group_query_all")
    check(st == 200 and groups["data"] == [], groups)


@T.test
def no_body_read_before_the_token(srv):
    big = 15 << 20
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.settimeout(5)
    s.sendall(b"POST " + BASE.encode() + b"group_add HTTP/1.1\r\nHost: t\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % big)
    out = b""
    while b"\r\n\r\n" not in out:
        out += s.recv(4096)
    check(out.startswith(b"HTTP/1.1 401"), out[:40])  # answered with no body byte sent
    s.close()
    # 40 such clients sending their whole 15 MiB: the server does not grow by their bodies.
    rss0 = srv.rss_kb()
    socks = []
    chunk = b"x" * (1 << 20)
    for _ in range(40):
        c = socket.create_connection(("127.0.0.1", srv.port))
        c.sendall(b"POST " + BASE.encode() + b"group_add HTTP/1.1\r\nHost: t\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % big)
        socks.append(c)
    sent = 0
    for c in socks:
        c.settimeout(2)
        try:
            for _ in range(15):
                c.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # closed after the 401: exactly what should happen
    grown = srv.rss_kb() - rss0
    for c in socks:
        c.close()
    check(grown < 32 * 1024, "RSS grew by %d kB for unauthenticated bodies" % grown)
    st, _ = srv.api.request("GET", BASE + "device_query_all")
    check(st == 200, st)


@T.test(max_body_total="64k", max_body="48k")
def bodies_bounded_across_connections(srv):
    # Authenticated clients that declare bodies and send them slowly: past max_body_total the
    # next one is refused 503 at once instead of being buffered.
    held = []
    for _ in range(2):
        c = socket.create_connection(("127.0.0.1", srv.port))
        c.sendall(post(BASE + "group_add", srv.token, b"{", b"Content-Length: %d\r\n" % (30 << 10)))
        held.append(c)
    time.sleep(0.2)  # both admitted (their bodies now count) before the third arrives
    rs = answer_and_closed(srv.port, post(BASE + "group_add", srv.token, b"{",
                                          b"Content-Length: %d\r\n" % (30 << 10)))
    check([st for st, _ in rs] == [503], rs)
    for c in held:
        c.close()
    # Once they are gone, bodies are admitted again.
    wait_until(lambda: srv.api.request("POST", BASE + "group_add",
                                       {"group_name": "after"})[0] == 200,
               what="a body admitted after the others left")


@T.test(http_deadline="2s", order_timeout="1s")
def every_request_has_a_deadline(srv):
    """A body trickled in (or never finished) does not hold its connection: it is closed once
    http_deadline has passed, while other clients are served."""
    held = []
    for _ in range(5):
        c = socket.create_connection(("127.0.0.1", srv.port))
        c.sendall(post(BASE + "group_add", srv.token, b'{"group', b"Content-Length: 100\r\n"))
        held.append(c)
    st, _ = srv.api.request("GET", BASE + "group_query_all")
    check(st == 200, st)
    # One byte every half second: each chunk would renew lws' own timeout; the deadline holds.
    for _ in range(6):
        time.sleep(0.5)  # deliberately: the pace of a trickling client
        for c in held:
            try:
                c.sendall(b" ")
            except OSError:
                pass

    def all_closed():
        closed = 0
        for c in held:
            c.settimeout(0.05)
            try:
                closed += c.recv(4096) == b""
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed += 1
        return closed == len(held)
    wait_until(all_closed, 5, what="every trickling request closed by its deadline")
    for c in held:
        c.close()


def make_static():
    d = tempfile.mkdtemp(prefix="ef-static-")
    with open(os.path.join(d, "index.html"), "w") as f:
        f.write("<html>ok</html>")
    os.symlink("/etc/passwd", os.path.join(d, "passwd.txt"))
    os.mkdir(os.path.join(d, "sub"))
    with open(os.path.join(d, "sub", "a.js"), "w") as f:
        f.write("1;")
    os.symlink(os.path.join(d, "sub", "a.js"), os.path.join(d, "inside.js"))
    v = tempfile.mkdtemp(prefix="ef-vendor-")
    os.symlink("/etc/hostname", os.path.join(v, "host.txt"))
    with open(os.path.join(v, "lib.js"), "w") as f:
        f.write("2;")
    return d, v


STATIC, VENDOR = make_static()


@T.test(static_dir=STATIC, vendor_dir=VENDOR)
def dashboard_files_stay_inside(srv):
    def status(path):
        rs = read_n(srv.port, get(path, None), 1)
        check(len(rs) == 1, path, rs)
        return rs[0]
    check(status("/")[0] == 200, "index")
    check(status("/sub/a.js") == (200, b"1;"), "a file")
    check(status("/inside.js") == (200, b"1;"), "a symlink that stays inside")
    check(status("/vendor/lib.js") == (200, b"2;"), "a vendor file")
    for path in ("/passwd.txt", "/vendor/host.txt", "/../../etc/passwd", "/sub/../../etc/passwd",
                 "/%2e%2e/%2e%2e/etc/passwd", "/vendor/../../etc/passwd", "/nope.js"):
        st, body = status(path)
        check(st == 404 and b"root:" not in body, path, st, body[:60])
    # A refused file leaves the connection usable (keep-alive).
    rs = read_n(srv.port, get("/passwd.txt", None) + get("/sub/a.js", None), 2)
    check([st for st, _ in rs] == [404, 200], rs)


if __name__ == "__main__":
    T.main()
