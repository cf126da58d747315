# SPDX-License-Identifier: MIT
"""cdp.py -- a minimal Chrome DevTools Protocol client for end-to-end tests of the dashboard.

* `Chromium(width=1280, height=800)`: start Debian's /usr/bin/chromium headless with a fresh
  profile and `--remote-debugging-port=0`, read the DevTools port from its `DevTools listening on
  ws://...` stderr line. `stop()` ends it (SIGTERM, then SIGKILL) and removes the profile; it is a
  context manager, and an atexit hook kills what a crashed test left behind.
* `browser.page()`: a `Page` session on the first page target (a blocking API; a background
  thread runs the WebSocket): `send(method, **params)` returns the result or raises `CdpError`;
  `navigate(url)` waits for the load event; `evaluate(expr)` returns the value (promises are
  awaited) or raises `JsError`; `wait_for(expr, timeout)` polls until the expression is truthy;
  `screenshot(path)` writes a PNG; `problems()` lists console errors/warnings, uncaught
  exceptions and failed loads seen since `Runtime`/`Log` were enabled.

Standard library + python3-websockets only.
"""
import asyncio
import atexit
import base64
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request

import websockets

CHROMIUM = os.environ.get("EF_CHROMIUM", "/usr/bin/chromium")

_live = set()


@atexit.register
def _kill_leftovers():
    for p in list(_live):
        if p.poll() is None:
            p.kill()
            p.wait()


class CdpError(Exception):
    """The browser answered a command with an error."""


class JsError(Exception):
    """Runtime.evaluate threw; the message carries the JavaScript exception's description."""


class Chromium:
    """One headless Chromium process with its own profile directory."""

    def __init__(self, width=1280, height=800, binary=CHROMIUM, start_timeout=30.0, extra_args=()):
        self.width, self.height = width, height
        self.binary = binary
        self.start_timeout = start_timeout
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.profile = None
        self.stderr_lines = []
        self._sessions = []

    def start(self):
        if not os.path.exists(self.binary):
            raise RuntimeError("no Chromium at %s (Debian package chromium)" % self.binary)
        self.profile = tempfile.mkdtemp(prefix="ef-chromium-")
        args = [self.binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--disable-extensions", "--hide-scrollbars", "--mute-audio",
                "--window-size=%d,%d" % (self.width, self.height),
                "--user-data-dir=" + self.profile, "--remote-debugging-port=0"] + self.extra_args
        args.append("about:blank")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        _live.add(self.proc)
        found = threading.Event()

        def read_stderr():  # keep draining so that Chromium never blocks on a full pipe
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip()
                self.stderr_lines.append(line)
                m = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
                if m and not found.is_set():
                    self.port = int(m.group(1))
                    found.set()

        threading.Thread(target=read_stderr, daemon=True).start()
        deadline = time.monotonic() + self.start_timeout
        while not found.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("chromium did not start (exit %s):\n%s"
                                   % (self.proc.returncode, "\n".join(self.stderr_lines[-30:])))
        return self

    def targets(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % self.port, timeout=10) as r:
            return json.loads(r.read())

    def page(self):
        """A Page session on the first page target, sized width x height."""
        deadline = time.monotonic() + 10
        while True:
            pages = [t for t in self.targets() if t.get("type") == "page"]
            if pages:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("chromium has no page target")
            time.sleep(0.1)
        page = Page(pages[0]["webSocketDebuggerUrl"])
        self._sessions.append(page)
        page.send("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                  deviceScaleFactor=1, mobile=False)
        return page

    def stop(self):
        for s in self._sessions:
            s.close()
        self._sessions = []
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()  # Chromium ends and reaps its own helpers
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            try:  # helpers (zygote, renderers) left behind, in the group start_new_session made
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            _live.discard(self.proc)
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


class Page:
    """A blocking CDP session on one target. Events are kept in `events` (method, params)."""

    def __init__(self, ws_url, timeout=10.0):
        self.timeout = timeout
        self.events = []
        self._ids = itertools.count(1)
        self._waiting = {}
        self._cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        async def connect():
            return await websockets.connect(ws_url, max_size=None, ping_interval=None,
                                            close_timeout=2)
        self._ws = self._run(connect(), timeout)
        self._reader = asyncio.run_coroutine_threadsafe(self._read(), self._loop)
        self.closed = False

    def _run(self, coro, timeout):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _read(self):
        try:
            async for raw in self._ws:
                msg = json.loads(raw)
                with self._cond:
                    if "id" in msg:
                        self._waiting[msg["id"]] = msg
                    else:
                        self.events.append((msg.get("method"), msg.get("params", {})))
                    self._cond.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def send(self, method, timeout=None, **params):
        mid = next(self._ids)
        with self._cond:
            self._waiting.pop(mid, None)
        self._run(self._ws.send(json.dumps({"id": mid, "method": method, "params": params})),
                  self.timeout)
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while mid not in self._waiting:
                left = deadline - time.monotonic()
                if self.closed:
                    raise CdpError("%s: the browser connection closed" % method)
                if left <= 0:
                    raise CdpError("%s: no answer within %.0fs" % (method, timeout or self.timeout))
                self._cond.wait(left)
            msg = self._waiting.pop(mid)
        if "error" in msg:
            raise CdpError("%s: %s" % (method, msg["error"].get("message", msg["error"])))
        return msg.get("result", {})

    def wait_event(self, method, predicate=lambda p: True, timeout=10.0, since=0):
        """The params of the first event `method` (at index >= since) that satisfies predicate."""
        deadline = time.monotonic() + timeout
        with self._cond:
            i = since
            while True:
                while i < len(self.events):
                    m, p = self.events[i]
                    i += 1
                    if m == method and predicate(p):
                        return p
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise TimeoutError("no %s event within %.0fs" % (method, timeout))
                self._cond.wait(left)

    def enable(self):
        """Turn on the domains the helpers below need (Page events, console, exceptions, log)."""
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Log.enable")
        self.send("Network.enable")

    def navigate(self, url, timeout=20.0):
        since = len(self.events)
        r = self.send("Page.navigate", url=url)
        if r.get("errorText"):
            raise CdpError("navigate %s: %s" % (url, r["errorText"]))
        self.wait_event("Page.loadEventFired", timeout=timeout, since=since)

    def evaluate(self, expr, await_promise=True, timeout=None):
        r = self.send("Runtime.evaluate", timeout=timeout, expression=expr, returnByValue=True,
                      awaitPromise=await_promise, userGesture=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            desc = (d.get("exception") or {}).get("description") or d.get("text")
            raise JsError("%s\n  in: %s" % (desc, expr[:300]))
        return r.get("result", {}).get("value")

    def wait_for(self, expr, timeout=10.0, interval=0.1, what=None):
        """Poll a JS expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            last = self.evaluate(expr)
            if last:
                return last
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %.0fs waiting for %s (last: %r)"
                                     % (timeout, what or expr, last))
            time.sleep(interval)

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def problems(self):
        """Console errors and warnings, uncaught exceptions, failed loads and HTTP errors."""
        out = []
        with self._cond:
            events = list(self.events)
        for method, p in events:
            if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                out.append("console.%s: %s" % (p["type"], args))
            elif method == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("exception: %s" % ((d.get("exception") or {}).get("description")
                                              or d.get("text")))
            elif method == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                e = p["entry"]
                out.append("log.%s: %s %s" % (e.get("level"), e.get("text"), e.get("url", "")))
            elif method == "Network.loadingFailed" and not p.get("canceled"):
                out.append("load failed: %s %s" % (p.get("type"), p.get("errorText")))
            elif method == "Network.responseReceived" and p.get("response", {}).get("status", 0) >= 400:
                r = p["response"]
                out.append("HTTP %s %s" % (r.get("status"), r.get("url")))
        return out

    def close(self):
        if self._loop.is_closed():
            return
        try:
            self._run(self._ws.close(), 3)
        except Exception:
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(3)
        if not self._loop.is_running():
            self._loop.close()
