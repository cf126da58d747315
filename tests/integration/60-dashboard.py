#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""60-dashboard.py -- the web dashboard end to end: edgefleetd serves web/ (--static-dir) and
Chart.js at /vendor/, raw devices feed a miner record and status uploads over /ws, and headless
Chromium (driven over the DevTools protocol, tests/helpers/cdp.py) signs in, reads the miners
overview (the server's alarm items shown as served, a critical one pushed and cleared), watches
a miner page change with pushed merge patches without reloading, gives an order from the
devices page and reads the device log; a wrong token, an unknown miner and a server restart
show their error states and recover. No console errors or exceptions allowed.

Screenshots (1280x800) go to $EF_SCREENSHOTS (docs/screenshots/ when making the committed ones),
else to <build>/screenshots/."""
import asyncio
import json
import os
import re
import struct
import threading
import time

from efharness import (AgentProcess, Suite, check, source_dir, build_dir, add_group, add_relation,
                       free_port, wait_until)
import websockets

from cdp import Chromium

WEB = os.path.join(source_dir(), "web")
SHOTS = os.environ.get("EF_SCREENSHOTS") or os.path.join(build_dir(), "screenshots")


T = Suite("60-dashboard", static_dir=WEB, front_push_interval="200ms", history_raw_every="1s",
          heartbeat_tolerance="10s", heartbeat_tolerance_miss="5s")

# ---------------------------------------------------------------------------------------------
# Data


def job(jid, sector, host, task, state, t):
    return {"id": jid, "sector": str(sector), "worker": "w-" + host, "hostName": host,
            "task": task, "state": state, "time": t}


def miner_record():
    return {
        "minerId": "f01234", "minerBalance": "244.058 mFIL", "workerBalance": "39.522 FIL",
        "postBalance": "1.2 FIL", "pledgeBalance": "221.871 mFIL", "minerAvailable": "12.5 FIL",
        "preCommitDeposit": "0.202 FIL", "preCommitWait": 1, "commitWait": 0, "rawBytePower": "1.5 PiB",
        "adjustedPower": "1.5 PiB", "effectivePower": "1.4 PiB", "totalSectors": 48012,
        "effectiveSectors": 48000, "errorSectors": 2, "recoverySectors": 0, "deletedSectors": 5,
        "failSectors": 0, "expectBlock": "3.2", "preCommit1": 4, "preCommit2": 2, "waitSeed": 3,
        "committing": 1, "finalizeSector": 0, "totalMessages": 3, "chainSync": "sync ok",
        "dealCount": 40, "faultySectors": 0, "recoverySectors": 0, "faultyPower": "0 B",
        "currentDeadline": 17, "deadlines": [
            {"index": i, "partitions": 2, "sectors": 1000, "faults": 0, "recoveries": 0,
             "provenPartitions": 2 if i < 17 else 0} for i in range(48)],
        "deadlineLeftSeconds": 1100,
        "sectorStates": {"Proving": 48000, "PreCommit1": 4, "PreCommit2": 2, "WaitSeed": 3,
                         "Committing": 1, "FaultedFinal": 2},
        "workerInfo": {
            "worker01": {"hostName": "worker01", "taskType": ["AP", "PC1"], "enabled": True,
                         "currentQueue": {"PC1": [job("7e19a74f", 1, "worker01", "PC1", "running", "1m0s"),
                                                  job("8a20b11c", 2, "worker01", "PC1", "running", "12m3.5s")]},
                         "pendingQueue": {"AP": [job("9b31c22d", 3, "worker01", "AP", "assigned", "35s")]}},
            "worker02": {"hostName": "worker02", "taskType": ["PC2", "C1", "C2"], "enabled": True,
                         "currentQueue": {"C2": [job("459daa7e", 7, "worker02", "C2", "running", "19m35.4s")]},
                         "pendingQueue": {}},
            "worker03": {"hostName": "worker03", "taskType": ["GET", "FIN"], "enabled": False,
                         "currentQueue": {}, "pendingQueue": {}},
        },
    }


def second_miner():
    return {"minerId": "f05678", "minerBalance": "1.204 FIL", "workerBalance": "10.5 FIL",
            "rawBytePower": "512 TiB", "adjustedPower": "512 TiB", "totalSectors": 16384,
            "effectiveSectors": 16384, "errorSectors": 0,
            "sectorStates": {"Proving": 16380, "PreCommit1": 4},
            "workerInfo": {"worker02": {"hostName": "worker02", "taskType": ["PC1"],
                                        "currentQueue": {}, "pendingQueue": {}}}}


def status(host, temp, load, extra=None):
    d = {"host_name": host, "dev_state": "online",
         "CPU_info": {"user_cpu_time": 120, "system_cpu_time": 30, "idle_cpu_time": 800,
                      "io_wait_cpu_time": 10},
         "Memory_info": {"total_memory_mb": 515000, "free_memory_mb": 150000, "buff_cache_mb": 40000},
         "Disk_info": {"root_total_size_mb": 480000, "root_used_size_mb": 132000,
                       "root_used_percent": 27.6},
         "load_avg": {"1": load, "5": load * 0.9, "15": load * 0.8}, "cpu_usage_percent": 41.5,
         "cpu_temperature": temp, "uptime_s": 864000,
         "memory": {"available_mb": 320000, "swap_total_mb": 0, "swap_used_mb": 0},
         "disk_io": [{"name": "nvme0n1", "read_bps": 1048576, "write_bps": 52428800}],
         "net_io": [{"name": "eth0", "rx": 12500000, "tx": 3400000, "rxpck": 9000, "txpck": 4000}]}
    d.update(extra or {})
    return {"type": "upload_status_info", "Headers": {}, "data": d}


# The miner page's charts through Chart.js: {caption: {label: [points before the given ms, points, last y]}}.
CHART_POINTS = """(() => { const out = {};
  for (const fig of document.querySelectorAll('figure.chart')) {
    const c = Chart.getChart(fig.querySelector('canvas'));
    if (!c) continue;
    const sets = {};
    for (const d of c.data.datasets) {
      const last = d.data[d.data.length - 1];
      sets[d.label] = [d.data.filter(p => p.x < %d).length, d.data.length, last ? last.y : null];
    }
    out[fig.querySelector('figcaption').textContent] = sets;
  }
  return out; })()"""


def upload(data, full):
    return {"type": "upload_miner_info", "Headers": {"full": full}, "data": data}


# ---------------------------------------------------------------------------------------------
# Devices: raw /ws connections kept alive in a background thread


class Feeder:
    """Devices that log in, keep their heartbeat, answer orders (custom order `say` echoes
    params.text) and send what the test asks, from a thread of their own."""

    def __init__(self, port):
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.devs = {}
        self.received = []
        self.tasks = []

    def run(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def add(self, name, device_id, password):
        async def go():
            ws = await websockets.connect("ws://127.0.0.1:%d/ws" % self.port, ping_interval=None,
                                          close_timeout=2, max_size=1 << 24)
            await ws.send(json.dumps({"device_id": device_id, "password": password}))
            r = json.loads(await asyncio.wait_for(ws.recv(), 10))
            check(r.get("status") == "success", "login of", name, r)
            self.devs[name] = ws
            self.tasks.append(self.loop.create_task(self.serve(name, ws)))
            self.tasks.append(self.loop.create_task(self.beat(ws)))
        self.run(go())

    async def serve(self, name, ws):
        try:
            async for raw in ws:
                m = json.loads(raw)
                self.received.append((name, m))
                if m.get("type") == "give_order":
                    hdr = m.get("Headers", {})
                    text = (m.get("data", {}).get("params") or {}).get("text", "")
                    ok = hdr.get("order_type") == "say"
                    await ws.send(json.dumps({
                        "type": "upload_instruction_result", "status": "success" if ok else "fail",
                        "Headers": {"message": ("said " + text) if ok else "order not in config",
                                    "order_id": hdr.get("order_id")}, "data": {}}))
        except websockets.ConnectionClosed:
            pass

    async def beat(self, ws):
        try:
            while True:
                await asyncio.sleep(2)  # a ping every 2 s, as a device does
                await ws.send(json.dumps({"type": "ping_pong", "Headers": {}, "data": "ping"}))
        except websockets.ConnectionClosed:
            pass

    def send(self, name, obj):
        self.run(self.devs[name].send(json.dumps(obj)))

    def acks(self, name, type_):
        return sum(1 for n, m in self.received if n == name and m.get("type") == type_)

    def close(self):
        async def go():
            for t in self.tasks:
                t.cancel()
            for ws in self.devs.values():
                try:
                    await asyncio.wait_for(ws.close(), 3)
                except Exception:
                    pass
        try:
            self.run(go())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


# ---------------------------------------------------------------------------------------------
# Browser helpers


def js(s):
    return json.dumps(s)


def sign_in(page, token):
    page.wait_for("!!document.getElementById('token')", what="the sign-in form")
    page.evaluate("document.getElementById('token').focus()")
    page.send("Input.insertText", text=token)
    page.evaluate("document.getElementById('signin').click()")


def text_of(page, selector):
    return page.evaluate("(e => e ? e.textContent : null)(document.querySelector(%s))" % js(selector))


def shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    path = page.screenshot(os.path.join(SHOTS, name))
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG", path)
    w, h = struct.unpack(">II", head[16:24])
    check((w, h) == (1280, 800), "screenshot size", w, h)
    print("screenshot:", path)


def front_request(port, token, uri, body=None):
    """One request on /front as the dashboard makes it (sign in, ask); the reply."""
    async def go():
        async with websockets.connect("ws://127.0.0.1:%d/front" % port, ping_interval=None,
                                      close_timeout=2, max_size=1 << 24) as ws:
            await ws.send(json.dumps({"uri": "login", "body": {"token": token}, "msgId": "1"}))
            r = json.loads(await asyncio.wait_for(ws.recv(), 5))
            check(r.get("code") == 1, "front sign-in", r)
            await ws.send(json.dumps({"uri": uri, "body": body or {}, "msgId": "2"}))
            while True:
                r = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if r.get("msgId") == "2":
                    return r
    return asyncio.run(go())


def server_alarms(srv, miner):
    """The miner's alarm items as the server computes them (minerList): [[type, severity, message]]."""
    r = front_request(srv.port, srv.token, "minerList")
    check(r["code"] == 1, r)
    for m in r["data"]:
        if m["minerId"] == miner:
            check(all(isinstance(a, dict) for a in m["alarms"]), "alarms are not items", m)
            return [[a["type"], a["severity"], a["message"]] for a in m["alarms"]]
    raise AssertionError("%s not in minerList %r" % (miner, r))


def card_alarms(page, miner):
    """The alarm items shown on the miner's overview card: [[type, severity, text, class]]."""
    return page.evaluate("Array.from(document.querySelectorAll(%s)).map(li => "
                         "[li.dataset.alarm, li.dataset.severity, li.textContent, li.className])"
                         % js("[data-miner=\"%s\"] li[data-alarm]" % miner))


def shown_as_served(page, srv, miner):
    """When the card shows exactly the server's items, each as its message with its severity's
    class: {"items": [[type, severity], ...]}; else None."""
    served = server_alarms(srv, miner)
    shown = card_alarms(page, miner)
    if [x[:3] for x in shown] != served or any(x[3] != "sev-" + x[1] for x in shown):
        return None
    return {"items": [x[:2] for x in served]}


def card_has_class(page, miner, cls):
    return page.evaluate("document.querySelector(%s).classList.contains(%s)"
                         % (js("[data-miner=\"%s\"]" % miner), js(cls)))


def no_problems(page, allowed=()):
    bad = [p for p in page.problems() if not any(a in p for a in allowed)]
    check(not bad, "browser console problems:\n  " + "\n  ".join(bad))


# ---------------------------------------------------------------------------------------------
# The test


@T.test(listen="127.0.0.1:%d" % free_port())
def dashboard(srv):
    base = "http://127.0.0.1:%d" % srv.port
    api = srv.api
    # Devices: the miner machine, two worker hosts (worker03 never connects), a gateway.
    mid = srv.add_device("SN-MINER", "lotus", "pw", device_name="lotus-miner f01234", device_type="miner")
    w1 = srv.add_device("SN-W1", "epyc", "pw", device_name="worker01", device_type="worker")
    w2 = srv.add_device("SN-W2", "epyc", "pw", device_name="worker02", device_type="worker")
    m2 = srv.add_device("SN-MINER2", "lotus", "pw", device_name="lotus-miner f05678", device_type="miner")
    srv.add_device("SN-GW7", "EG-9", "pw", device_name="edge-gw-7", device_type="gateway")
    g = add_group(api, "sealing")
    for d in (mid, w1, w2):
        add_relation(api, d, g)

    feeder = Feeder(srv.port)
    browser = Chromium(width=1280, height=800)
    try:
        feeder.add("miner", mid, "pw")
        feeder.add("w1", w1, "pw")
        feeder.add("w2", w2, "pw")
        rec = miner_record()
        feeder.send("miner", upload(rec, True))
        feeder.send("miner", status("miner01", 55.0, 1.2, {"lotus": {"version": "1.23.3"}}))
        feeder.add("miner2", m2, "pw")
        feeder.send("miner2", upload(second_miner(), True))
        feeder.send("w1", status("worker01", 61.5, 4.67))
        feeder.send("w2", status("worker02", 72.0, 30.2))
        wait_until(lambda: feeder.acks("miner", "send_minerInfo_response") >= 1, 5, what="miner ack")

        # The static files and Chart.js are served.
        st, body = api.request("GET", "/", token="")
        check(st == 200 and "js/app.js" in body, "index.html", st, body[:200])
        st, body = api.request("GET", "/vendor/chart.js/chart.min.js", token="")
        check(st == 200 and "Chart" in body[:2000], "chart.js", st)

        browser.start()
        page = browser.page()
        page.enable()
        page.navigate(base + "/")
        try:
            page.wait_for("!!document.getElementById('token')", what="the sign-in form")
        except AssertionError as e:
            raise AssertionError("%s; browser problems: %s" % (e, page.problems())) from None
        no_problems(page)  # every file (index, css, modules, Chart.js) loaded cleanly
        check(page.evaluate("typeof window.Chart") == "function", "Chart.js not loaded")

        # --- mergePatch against RFC 7386's own examples, in the browser ---
        rfc = [[{"a": "b"}, {"a": "c"}, {"a": "c"}], [{"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}],
               [{"a": "b"}, {"a": None}, {}], [{"a": "b", "b": "c"}, {"a": None}, {"b": "c"}],
               [{"a": ["b"]}, {"a": "c"}, {"a": "c"}], [{"a": "c"}, {"a": ["b"]}, {"a": ["b"]}],
               [{"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}],
               [{"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}], [["a", "b"], ["c", "d"], ["c", "d"]],
               [{"a": "b"}, ["c"], ["c"]], [{"a": "foo"}, None, None], [{"a": "foo"}, "bar", "bar"],
               [{"e": None}, {"a": 1}, {"e": None, "a": 1}], [[1, 2], {"a": "b", "c": None}, {"a": "b"}],
               [{}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}]]
        got = page.evaluate("import('/js/mergepatch.js').then(m => %s.map(([t, p]) => m.mergePatch(t, p)))"
                            % js(rfc))
        check(got == [r for _, _, r in rfc], "mergePatch vs RFC 7386", got)

        # --- a wrong token: refused, clear message, nothing stored ---
        sign_in(page, "not-a-token")
        err = page.wait_for("(e => e && e.textContent)(document.getElementById('signin-error'))",
                            what="the sign-in error")
        check("refused" in err, err)
        check(page.evaluate("sessionStorage.getItem('edgefleet.token')") is None, "bad token stored")

        # --- sign in, the overview ---
        sign_in(page, srv.token)
        page.wait_for("!!document.querySelector('[data-miner=\"f01234\"]')", what="the miner card")
        card = text_of(page, "[data-miner=\"f01234\"]")
        for want in ("244.058 mFIL", "39.522 FIL", "1.5 PiB", "2 / 3 online", "PreCommit1"):
            check(want in card, "overview card lacks", want, card)
        # Alarms are the server's items, shown as they come (severity as the colour, message as
        # the text), none derived in the page: 2 error sectors, and (from a server that counts
        # workers by their hosts' agents) worker03 offline; all warnings. (Which worker items
        # the server raises is its business, docs/frontend.md#alarms; the page shows them all.)
        items = wait_until(lambda: shown_as_served(page, srv, "f01234"), 5, interval=0.2,
                           what="the server's alarm items on the card")["items"]
        check(["error_sectors", "warning"] in items and all(sev == "warning" for _, sev in items), items)
        check(card_has_class(page, "f01234", "sev-warning"), "the card is not marked with its worst severity")
        page.wait_for("!!document.querySelector('[data-miner=\"f05678\"]')", what="the second miner")
        check("1 / 1 online" in text_of(page, "[data-miner=\"f05678\"]"), text_of(page, "[data-miner=\"f05678\"]"))
        check(server_alarms(srv, "f05678") == [] and card_alarms(page, "f05678") == [],
              "f05678 has alarms", card_alarms(page, "f05678"))
        page.wait_for("document.querySelector('.fleet-summary') && "
                      "document.querySelector('.fleet-summary').textContent.includes('5 devices')",
                      what="the fleet summary")
        check(page.evaluate("sessionStorage.getItem('edgefleet.token')") == srv.token)
        shot(page, "overview.png")
        marker = page.evaluate("window.efLoadMarker")

        # The collector reports an error: pushed to the card as a critical miner_error item whose
        # message is the record's error; cleared, the item goes away. No reload.
        refused = "lotus-miner: connection refused"
        feeder.send("miner2", upload({"minerId": "f05678", "error": refused}, False))

        # a warning: a miner that is down raises miner_down instead (docs/frontend.md#alarms)
        def error_item_shown():
            r = shown_as_served(page, srv, "f05678")
            return r if r and any(t == "miner_error" for t, _ in r["items"]) else None
        items = wait_until(error_item_shown, 5, interval=0.2, what="the miner_error item")["items"]
        check(len(items) == 1 and items[0][1] == "warning", items)
        check(card_alarms(page, "f05678")[0][2] == refused, card_alarms(page, "f05678"))
        check(card_has_class(page, "f05678", "sev-" + items[0][1]), "the card is not marked", items[0][1])
        feeder.send("miner2", upload({"minerId": "f05678", "error": None}, False))
        page.wait_for("!document.querySelector('[data-miner=\"f05678\"] li[data-alarm]') && "
                      "!document.querySelector('[data-miner=\"f05678\"]').classList.contains('alarm')",
                      what="the miner_error item gone")
        check(page.evaluate("window.efLoadMarker") == marker, "the page was reloaded")

        # --- the miner page ---
        opened = page.evaluate("Date.now()")
        page.evaluate("document.querySelector('[data-miner=\"f01234\"]').click()")
        job_sel = "[data-host=\"worker01\"] tr[data-job=\"7e19a74f\"]"
        page.wait_for("!!document.querySelector(%s)" % js(job_sel), what="job 7e19a74f")
        check(page.evaluate("location.hash") == "#/miner/f01234")
        row = page.evaluate("(r => [r.dataset.task, r.dataset.queue, r.textContent])(document.querySelector(%s))"
                            % js(job_sel))
        check(row[0] == "PC1" and row[1] == "running" and "running" in row[2], row)
        w1card = text_of(page, "[data-host=\"worker01\"]")
        # worker01's hardware is joined from its own agent's status upload
        for want in ("online", "61.5 °C", "4.67", "27.6 %", "eth0", "AP", "enabled"):
            check(want in w1card, "worker01 card lacks", want, w1card)
        # worker03 has no agent: "no agent" beside the miner host's reachability (netState),
        # never "offline" for want of an agent
        w3 = text_of(page, "[data-host=\"worker03\"]")
        check("no agent" in w3 and "offline" not in w3, w3)
        check(text_of(page, "[data-field=\"minerBalance\"]") == "244.058 mFIL")

        # elapsed time ticks up locally between pushes (lotus said 1m0s)
        el_sel = job_sel + " [data-base]"
        page.wait_for("(e => e && /^1m[2-9]s$/.test(e.textContent))(document.querySelector(%s))" % js(el_sel),
                      timeout=6, what="the elapsed time ticking")

        # A merge patch: the job moves from PC1 to PC2 with a new time, a new waiting job appears,
        # a balance changes, worker03 goes away.
        moved = job("7e19a74f", 1, "worker01", "PC2", "running", "5s")
        feeder.send("miner", upload({
            "minerId": "f01234", "minerBalance": "250.5 mFIL",
            "preCommit1": 3, "preCommit2": 3, "sectorStates": {"PreCommit1": 3, "PreCommit2": 3},
            "workerInfo": {
                "worker01": {"currentQueue": {"PC1": [job("8a20b11c", 2, "worker01", "PC1", "running", "12m9s")],
                                              "PC2": [moved]},
                             "pendingQueue": {"PC1": [job("c0ffee11", 9, "worker01", "PC1", "assigned", "1s")]}},
                "worker03": None}}, False))
        page.wait_for("(r => r && r.dataset.task === 'PC2')(document.querySelector(%s))" % js(job_sel),
                      what="the job moved to PC2")
        page.wait_for("!!document.querySelector('[data-host=\"worker01\"] tr[data-job=\"c0ffee11\"][data-queue=\"waiting\"]')",
                      what="the new waiting job")
        # worker03 dropped by lotus: kept as missing until an operator removes it
        # (docs/protocol.md)
        page.wait_for("(e => e && e.dataset.missing === 'true')(document.querySelector('[data-host=\"worker03\"]'))",
                      what="worker03 kept as missing")
        page.wait_for("document.querySelector('[data-field=\"minerBalance\"]').textContent === '250.5 mFIL'",
                      what="the balance change")
        check("PreCommit2 3" in text_of(page, "#sector-states"), text_of(page, "#sector-states"))
        check(page.evaluate("document.querySelectorAll('[data-host=\"worker01\"] tr[data-job=\"7e19a74f\"]').length") == 1)
        # ... all without a reload
        check(page.evaluate("window.efLoadMarker") == marker, "the page was reloaded")
        check(page.evaluate("performance.getEntriesByType('navigation').length") == 1)
        check(int(page.evaluate("document.querySelector('.page').dataset.pushes || 0")) >= 1, "no push counted")

        # a few more pushes so that the charts have a history to show
        for i in range(6):
            feeder.send("w1", status("worker01", 61.5 + i * 1.3, 4.67 + (i % 3)))
            feeder.send("w2", status("worker02", 72.0 - i * 0.8, 30.2 + (i % 2) * 3))
            feeder.send("miner", upload({"minerId": "f01234", "minerBalance": "%.1f mFIL" % (250.5 + i * 4)},
                                        False))
            time.sleep(0.5)  # deliberately: points half a second apart on the charts
        page.wait_for("document.querySelector('[data-field=\"minerBalance\"]').textContent === '270.5 mFIL'",
                      what="the last balance")
        page.wait_for("window.efApp.page && document.querySelectorAll('canvas').length === 4", what="charts")
        check(page.evaluate("window.efLoadMarker") == marker, "the page was reloaded")
        # the charts' range picker: the stored history (docs/history.md) is loaded for the range
        check(page.evaluate("document.querySelector('.range-picker').dataset.range") == "1h")
        page.evaluate("document.querySelector('.range-picker button[data-ms=\"86400000\"]').click()")
        page.wait_for("document.querySelector('.range-picker').dataset.range === '24h' && "
                      "/^[1-9][0-9]* stored points$/.test(document.getElementById('history-note')"
                      ".textContent)", what="stored history points for 24h")
        # Every chart loads its stored history, not only the balances: the miner's series
        # (balances, sector counters) and each worker host's device series (CPU load and
        # temperature of worker01 and worker02, whose agents report them; worker03 has none).
        # Points before the page was opened can only be stored ones.
        want_sets = {"Balances (FIL)": ["available", "miner", "worker"],
                     "Sectors (sealing, errors, faults)": ["Committing", "Error", "PreCommit1", "PreCommit2", "WaitSeed"],
                     "Worker CPU load": ["worker01", "worker02"],
                     "Worker CPU temperature": ["worker01", "worker02"]}

        def chart_points(before):
            return page.evaluate(CHART_POINTS % int(before))

        def stored_everywhere():
            got = chart_points(opened)
            for title, labels in want_sets.items():
                sets = got.get(title) or {}
                if any(sets.get(l, [0])[0] < 1 for l in labels):
                    return None
            return got
        got = wait_until(stored_everywhere, 10, interval=0.3, what="stored points in every chart (24h)")
        check(set(got) == set(want_sets), "charts", sorted(got))
        for title in ("Worker CPU load", "Worker CPU temperature"):
            check(sorted(got[title]) == ["worker01", "worker02"], title, sorted(got[title]))
        # a live push still appends to the stored history: a new counter and a new temperature
        before = chart_points(opened)
        feeder.send("w1", status("worker01", 79.25, 9.5))
        time.sleep(0.3)
        feeder.send("miner", upload({"minerId": "f01234", "preCommit1": 7, "minerBalance": "280.5 mFIL"}, False))

        def appended():
            now = chart_points(opened)
            pc1 = now["Sectors (sealing, errors, faults)"]["PreCommit1"]
            temp = now["Worker CPU temperature"]["worker01"]
            bal = now["Balances (FIL)"]["miner"]
            ok = (pc1[2] == 7 and temp[2] == 79.25 and abs(bal[2] - 0.2805) < 1e-9
                  and pc1[1] > before["Sectors (sealing, errors, faults)"]["PreCommit1"][1]
                  and temp[0] >= before["Worker CPU temperature"]["worker01"][0])
            return now if ok else None
        wait_until(appended, 10, interval=0.3, what="the live push appended to the charts")
        page.evaluate("document.querySelector('.range-picker button[data-ms=\"3600000\"]').click()")
        page.wait_for("document.querySelector('.range-picker').dataset.range === '1h'", what="1h again")
        check(re.fullmatch(r"Workers \(3 · 2 \w+ · 1 missing\)", text_of(page, "#workers-head")),
              "workers heading", text_of(page, "#workers-head"))
        no_problems(page)
        shot(page, "miner.png")
        page.evaluate("window.scrollTo(0, document.getElementById('workers').offsetTop - 110)")
        page.wait_for("window.scrollY > 0", what="the page scrolled")
        # painted at the new position: two animation frames later
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        shot(page, "miner-workers.png")
        page.evaluate("window.scrollTo(0, 0)")

        # --- an unknown miner: a clear error, no crash ---
        page.evaluate("location.hash = '#/miner/f0nope'")
        err = page.wait_for("(e => e && e.textContent)(document.getElementById('miner-error'))",
                            what="the miner error")
        check("f0nope" in err, err)

        # --- the devices page: status, an order, the log ---
        page.evaluate("location.hash = '#/devices/%s'" % mid)
        page.wait_for("!!document.querySelector('#device-status .tile')", what="the device status")
        st_text = text_of(page, "#device-status")
        check("miner01" in st_text and "27.6 %" in st_text, st_text)
        # The list comes from the database thread (deviceList), the status from memory: the
        # status can be shown first, so wait for the list rather than read it at once.
        lst = page.wait_for("(e => e && e.textContent.includes('edge-gw-7') && e.textContent)"
                            "(document.querySelector('#device-list'))", what="the device list")
        check("edge-gw-7" in lst and "offline" in lst and "sealing" in lst, lst)
        page.evaluate("""(() => {
            const sel = document.getElementById('order-name');
            sel.value = ''; sel.dispatchEvent(new Event('change'));
            document.getElementById('order-custom').value = 'say';
            document.getElementById('order-params').value = '{"text": "hello from the dashboard"}';
            document.getElementById('order-send').click();
        })()""")
        res = page.wait_for("(e => e && e.querySelector('.ok, .error') && e.textContent)(document.getElementById('order-result'))",
                            timeout=15, what="the order result")
        check("said hello from the dashboard" in res and "✔" in res, res)
        logs = wait_until(lambda: [r for r in srv.logs(mid) if r["event"] == "order"], 5,
                          what="the order in the device log (REST)")
        page.wait_for("document.getElementById('device-log').textContent.includes('order') || "
                      "void document.getElementById('log-refresh').click()",
                      what="the order in the device log: %r" % logs[0])
        page.wait_for("document.getElementById('device-detail').textContent.includes('SN-MINER')",
                      what="the device's details")
        check("lotus-miner f01234" in text_of(page, "#device-detail .card-head"), text_of(page, "#device-detail"))
        shot(page, "devices.png")
        # bad params are refused in the page, nothing is sent
        page.evaluate("document.getElementById('order-params').value = '[1'; document.getElementById('order-send').click()")
        res = text_of(page, "#order-result")
        check("JSON object" in res, res)
        no_problems(page)

        # A device status push: the worker's next upload shows without a reload.
        page.evaluate("location.hash = '#/devices/%s'" % w1)
        page.wait_for("(e => e && e.textContent.includes('worker01'))(document.getElementById('device-status'))",
                      what="worker01's status")
        feeder.send("w1", status("worker01", 66.6, 2.0, {"host_name": "worker01-renamed"}))
        page.wait_for("document.getElementById('device-status').textContent.includes('worker01-renamed')",
                      what="the status push")
        check(page.evaluate("window.efLoadMarker") == marker, "the page was reloaded")

        # --- the server goes away and comes back: banner, reconnect, sign in, subscribe again ---
        page.evaluate("location.hash = '#/miner/f01234'")
        page.wait_for("!!document.querySelector(%s)" % js(job_sel), what="the miner page again")
        feeder.close()
        srv.stop()
        page.wait_for("(b => !b.hidden && b.textContent.includes('lost'))(document.getElementById('banner'))",
                      what="the connection-lost banner")
        srv.start()
        feeder = Feeder(srv.port)
        feeder.add("miner", mid, "pw")
        page.wait_for("document.getElementById('conn').textContent === 'live' && document.getElementById('banner').hidden",
                      timeout=25, what="the reconnect")
        feeder.send("miner", upload({"minerId": "f01234", "minerBalance": "999 mFIL"}, False))
        page.wait_for("document.querySelector('[data-field=\"minerBalance\"]').textContent === '999 mFIL'",
                      what="a push after the reconnect")
        check(page.evaluate("window.efLoadMarker") == marker, "the page was reloaded")
        # the only complaints allowed: the socket failing while the server was down
        no_problems(page, allowed=("WebSocket connection to", "ERR_CONNECTION_REFUSED", "load failed: WebSocket"))
    finally:
        browser.stop()
        feeder.close()


FAKE = os.path.join(build_dir(), "tools", "fake-lotus-miner", "fake-lotus-miner")


def job_rows(page):
    """The miner page's job rows as one comparable string: job, queue, task, state."""
    return page.evaluate("Array.from(document.querySelectorAll('tr[data-job]')).map(r => "
                         "[r.dataset.job, r.dataset.queue, r.dataset.task, "
                         "r.children[4] && r.children[4].textContent].join(':')).join(' | ')")


@T.test
def fake_miner_live(srv):
    """The demo's path, end to end: the real edgefleet-agent runs tools/fake-lotus-miner (a
    simulated miner whose jobs advance, 600x real time here) every second; the dashboard's
    miner page shows its workers and jobs, and the jobs change on screen without a reload."""
    base = "http://127.0.0.1:%d" % srv.port
    srv.add_device("SN-FAKE", "lotus", "pw")
    adir = os.path.join(srv.dir, "agent")
    agent = AgentProcess(srv, ["--sn", "SN-FAKE", "--model", "lotus", "--password", "pw",
                               "--data-dir", adir, "--lotus-miner", FAKE, "--lotus-interval", "1s",
                               "--status-interval", "2s"],
                         env={"FAKE_LOTUS_STATE": os.path.join(adir, "fake-lotus.json"),
                              "FAKE_LOTUS_SPEED": "600"}, dir=adir)
    browser = Chromium(width=1280, height=800)
    try:
        wait_until(lambda: srv.api.get("miner_query", "f01234")[0] == 200, 15,
                   what="the fake miner's record on the server")
        browser.start()
        page = browser.page()
        page.enable()
        page.navigate(base + "/#/miner/f01234")
        sign_in(page, srv.token)
        page.wait_for("document.querySelectorAll('tr[data-job]').length > 0", timeout=15,
                      what="jobs on the miner page")
        marker = page.evaluate("window.efLoadMarker")
        first = job_rows(page)
        page.wait_for("(() => { const r = Array.from(document.querySelectorAll('tr[data-job]'))"
                      ".map(r => [r.dataset.job, r.dataset.queue, r.dataset.task, "
                      "r.children[4] && r.children[4].textContent].join(':')).join(' | ');"
                      " return r.length > 0 && r !== %s; })()" % js(first),
                      timeout=20, what="a job change pushed to the page")
        print("jobs before:", first[:300])
        print("jobs after: ", job_rows(page)[:300])
        check(page.evaluate("window.efLoadMarker") == marker, "the page was reloaded")
        check(page.evaluate("performance.getEntriesByType('navigation').length") == 1)
        no_problems(page)
        shot(page, "miner-live.png")
    finally:
        browser.stop()
        agent.stop()


if __name__ == "__main__":
    T.main()
