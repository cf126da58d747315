# SPDX-License-Identifier: MIT
"""front.py -- a dashboard's connection to edgefleetd's WebSocket /front for integration tests
(docs/frontend.md): raw JSON requests and events with msgIds, and the pushes in between
(subMinerInfo merge patches, subDeviceStatus). Used by 26-front.py and 43-lotus-e2e.py."""
import asyncio
import json
import socket

import websockets

from efharness import check


def int_code(m):
    """Replies and pushes carry `code` as a JSON integer, 1 or 0 (never the string "1")."""
    c = m.get("code")
    check(type(c) is int and c in (0, 1), "code is not the integer 1 or 0: %r (message %r, msgId %r)"
          % (c, m.get("message"), m.get("msgId")))
    return m


class Front:
    """A dashboard connection speaking raw JSON."""

    def __init__(self, srv, rcvbuf=None, source="127.0.0.1"):
        self.url = "ws://127.0.0.1:%d/front" % srv.port
        self.port = srv.port
        self.rcvbuf = rcvbuf
        self.source = source  # another loopback address is another client address
        self.n = 0

    async def __aenter__(self):
        sock = None
        if self.rcvbuf or self.source != "127.0.0.1":
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if self.rcvbuf:  # a small receive window: the server's output backs up sooner
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
            sock.bind((self.source, 0))
            sock.connect(("127.0.0.1", self.port))
        self.ws = await websockets.connect(self.url, ping_interval=None, max_size=1 << 24,
                                           sock=sock)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def recv(self, timeout=2):
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def call(self, **msg):
        """Send a request/event and return its response (pushes in between are kept)."""
        self.n += 1
        msg["msgId"] = str(self.n)
        await self.ws.send(json.dumps(msg))
        while True:
            r = await self.recv()
            if r.get("msgId") == str(self.n):
                return int_code(r)

    async def login(self, token):
        r = await self.call(uri="login", body={"token": token})
        check(r["code"] == 1, r)
        return r

    async def push(self, timeout=2):
        while True:
            r = await self.recv(timeout)
            if "msgId" not in r:
                return int_code(r)

    async def push_until(self, doc, pred, timeout=10.0, what="a push"):
        """Apply subMinerInfo pushes (RFC 7386 merge patches) to `doc` until pred(doc) holds;
        return the pushes applied. `doc` is the subscription's answer, changed in place."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        got = []
        while not pred(doc):
            left = end - loop.time()
            if left <= 0:
                raise AssertionError("timed out waiting for %s; doc: %s"
                                     % (what, json.dumps(doc)[:2000]))
            try:
                p = await self.push(left)
            except asyncio.TimeoutError:
                continue
            if p.get("message") != "subMinerInfo":
                continue
            body = dict(p["body"])
            got.append(body)
            merge_patch(doc, body)
        return got


def merge_patch(target, patch):
    """RFC 7386: apply `patch` to the dict `target` in place."""
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        elif isinstance(v, dict) and isinstance(target.get(k), dict):
            merge_patch(target[k], v)
        else:
            target[k] = v
    return target
