#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""61-dashboard-lotus.py -- what a storage provider must see (issue 11) on the dashboard, end to
end: a raw device logs in and uploads `upload_miner_info` records with the keys of
docs/protocol.md#miner-records (deadlines, faults, recoveries, pending messages, chain sync,
deals, lotus' view of each worker, GPUs, a missing worker, a miner that is down); edgefleetd
serves web/ and headless Chromium (tests/helpers/cdp.py) reads the overview and the miner page.
Then pushes (/front merge patches) move the current deadline, clear a fault, make a worker vanish
and the message count unknown, and the page follows without a reload; a good collection clears
the down miner on the overview. No console problems.

The browser helpers and the raw device feeder are 60-dashboard.py's. Screenshots
overview-down.png, miner-deadlines.png and miner-lotus-workers.png (1280x800) go to
$EF_SCREENSHOTS, else <build>/screenshots/."""
import importlib
import re
import time

from efharness import Suite, check, wait_until, free_port
from cdp import Chromium

dash = importlib.import_module("60-dashboard")
Feeder, sign_in, text_of, shot, no_problems, js = (dash.Feeder, dash.sign_in, dash.text_of, dash.shot,
                                                    dash.no_problems, dash.js)
upload, front_request = dash.upload, dash.front_request

T = Suite("61-dashboard-lotus", static_dir=dash.WEB, front_push_interval="200ms",
          heartbeat_tolerance="10s", heartbeat_tolerance_miss="5s")

MIN = 60000
NOW = int(time.time() * 1000)
DOWN = "lotus-miner: connection refused (127.0.0.1:2345)"
GIB = 1 << 30


def deadline(i, current, faults=None, recoveries=None):
    """Deadline i of the proving period: every 4th has no partitions; those before the current
    one are proven; deadline 5 has 2 faulty sectors, 7 one faulty sector recovering."""
    parts = 0 if i % 4 == 3 else 1 + i % 3
    d = {"index": i, "partitions": parts, "sectors": parts * 2349,
         "faults": {5: 2, 7: 1}.get(i, 0) if faults is None else faults.get(i, 0),
         "recoveries": {7: 1}.get(i, 0) if recoveries is None else recoveries.get(i, 0),
         "provenPartitions": parts if i < current else 0,
         "open": NOW + (i - current) * 30 * MIN}
    if i == current:
        d["current"] = True
    return d


def deadlines(current, **kw):
    return [deadline(i, current, **kw) for i in range(48)]


def gpu_record():
    return {
        "minerId": "f0999", "minerBalance": "12.5 FIL", "workerBalance": "3.1 FIL",
        "postBalance": "0.9 FIL", "pledgeBalance": "420.2 FIL", "minerAvailable": "1.4 FIL",
        "preCommitDeposit": "0.581 FIL", "preCommitWait": 2, "commitWait": 1,
        "rawBytePower": "2.5 PiB", "adjustedPower": "2.5 PiB", "effectivePower": "2.49 PiB",
        "faultyPower": "96 GiB", "faultyPercent": 0.37, "expectBlock": "5.1",
        "totalSectors": 81000, "effectiveSectors": 80990, "errorSectors": 3, "faultySectors": 3,
        "recoverySectors": 1, "deletedSectors": 0, "failSectors": 0,
        "preCommit1": 1, "preCommit2": 0, "waitSeed": 1, "committing": 0, "finalizeSector": 0,
        "sectorStates": {"Proving": 80990, "Faulty": 3, "PreCommit1": 1, "PreCommitWait": 2,
                         "WaitSeed": 1, "CommitWait": 1},
        "deadlines": deadlines(10), "currentDeadline": 10, "deadlineOpen": NOW - 10 * MIN,
        "deadlineClose": NOW + 20 * MIN, "deadlineLeftSeconds": 1200, "nextDeadlineOpen": NOW + 20 * MIN,
        "faults": [101, 102, 230],
        "totalMessages": 7, "chainSync": "sync ok",
        "dealCount": 12, "deals": {"count": 12, "size": "384 GiB", "sizeBytes": 384 * GIB},
        "ownerAddress": "f3owner", "workerAddress": "f3worker", "controlAddresses": ["f3ctl0", "f3ctl1"],
        "peerId": "12D3KooWTest", "multiaddrs": ["/ip4/127.0.0.1/tcp/24001"],
        "provingCheck": {"deadline": 11, "checkedAt": NOW, "badSectors": [230], "bad": 1},
        "workerInfo": {
            # a GPU worker whose host runs an agent (its GPU figures come from that agent's
            # status, GPU_STATUS); lotus' own GPU list as the workers parser gives it
            "gpu01": {"hostName": "gpu01", "enabled": True, "taskType": ["PC2", "C2"],
                      "lotus": {"listed": True, "enabled": True, "lastSeen": NOW - 5000, "tasks": ["PC2", "C2"]},
                      "netState": "reachable", "currentQueue": {}, "pendingQueue": {},
                      "gpus": [{"name": "NVIDIA GeForce RTX 3090", "used": True}]},
            # a worker without an agent: lotus' own resource figures
            "pc1-02": {"hostName": "pc1-02", "enabled": True, "taskType": ["AP", "PC1"],
                       "lotus": {"listed": True, "enabled": True, "lastSeen": NOW - 3000, "tasks": ["AP", "PC1"]},
                       "netState": "reachable", "currentQueue": {}, "pendingQueue": {},
                       "cpuUse": {"used": 64, "total": 128},
                       "ramUse": {"used": 200 * GIB, "total": 512 * GIB},
                       "gpuUse": {"percent": 50, "used": 1.0, "total": 2},
                       "gpus": [{"name": "NVIDIA GeForce RTX 4090", "used": False}]},
            # a worker lotus no longer lists, kept as missing
            "old-w": {"hostName": "old-w", "enabled": True, "taskType": ["GET"], "missing": True,
                      "lastSeen": NOW - 60 * MIN, "netState": "unknown",
                      "lotus": {"listed": False, "enabled": True, "lastSeen": NOW - 60 * MIN, "tasks": ["GET"]},
                      "currentQueue": {}, "pendingQueue": {}},
        },
    }


# The agent on gpu01: its GPU collector's array, the device status key `gpuInfo`
# (docs/agent.md); the server joins it into workerInfo.gpu01.gpuInfo.
GPUS = [{"index": 0, "vendor": "nvidia", "name": "NVIDIA GeForce RTX 3090", "temperature": 64,
         "utilization": 87, "memoryUsed": 20 * GIB, "memoryTotal": 24 * GIB, "power": 310},
        {"index": 1, "vendor": "amd", "name": "Radeon Pro W6800", "temperature": 91, "utilization": 12}]


def gpu_status():
    # `gpus` too: the status key a server before issue 11 joined as gpuInfo.
    return dash.status("gpu01", 58.0, 3.25, {"gpuInfo": GPUS, "gpus": GPUS})


def down_record():
    # `error` too: the key a server that predates minerError raises its miner_error alarm from.
    return {"minerId": "f0888", "minerError": DOWN, "minerErrorSince": NOW - 4 * MIN, "error": DOWN}


def strip(page):
    """The strip as the page shows it: [count, current index, faulty indexes, proven indexes]."""
    return page.evaluate("""(() => {
        const c = Array.from(document.querySelectorAll('#dl-strip .dl-cell'));
        const idx = (f) => c.filter(f).map(e => Number(e.dataset.index));
        return [c.length, idx(e => e.classList.contains('current')),
                idx(e => e.classList.contains('faulty')), idx(e => e.classList.contains('proven'))];
    })()""")


def cell_style(page, i, prop):
    return page.evaluate("getComputedStyle(document.querySelector('#dl-strip [data-index=\"%d\"]')).%s"
                         % (i, prop))


def field(page, f):
    return text_of(page, "[data-field=\"%s\"]" % f)


def worker(page, host):
    return text_of(page, "[data-host=\"%s\"]" % host)


@T.test(listen="127.0.0.1:%d" % free_port())
def lotus_dashboard(srv):
    base = "http://127.0.0.1:%d" % srv.port
    m1 = srv.add_device("SN-M999", "lotus", "pw", device_name="lotus-miner f0999", device_type="miner")
    m2 = srv.add_device("SN-M888", "lotus", "pw", device_name="lotus-miner f0888", device_type="miner")
    g1 = srv.add_device("SN-GPU01", "epyc", "pw", device_name="gpu01", device_type="worker")
    feeder = Feeder(srv.port)
    browser = Chromium(width=1280, height=800)
    try:
        feeder.add("m1", m1, "pw")
        feeder.add("m2", m2, "pw")
        feeder.add("gpu01", g1, "pw")
        feeder.send("gpu01", gpu_status())
        feeder.send("m1", upload(gpu_record(), True))
        feeder.send("m2", upload(down_record(), True))
        wait_until(lambda: feeder.acks("m1", "send_minerInfo_response") >= 1
                   and feeder.acks("m2", "send_minerInfo_response") >= 1, 5, what="the two acks")

        browser.start()
        page = browser.page()
        page.enable()
        page.navigate(base + "/")
        sign_in(page, srv.token)

        # --- the overview: the down miner is loud, the other one is not down ---
        page.wait_for("!!document.querySelector('[data-miner=\"f0888\"]')", what="the down miner's card")
        page.wait_for("(e => e && e.dataset.down === 'true')(document.querySelector('[data-miner=\"f0888\"]'))",
                      what="the miner-down state")
        card = text_of(page, "[data-miner=\"f0888\"]")
        check("Miner down" in card and DOWN in card, "down card", card)
        check(page.evaluate("document.querySelector('[data-miner=\"f0888\"]').classList.contains('sev-critical')"),
              "the down card is not critical")
        page.wait_for("!!document.querySelector('[data-miner=\"f0999\"]')", what="f0999's card")
        check(page.evaluate("document.querySelector('[data-miner=\"f0999\"]').dataset.down") == "false",
              "f0999 shown down")
        check("Miner down" not in text_of(page, "[data-miner=\"f0999\"]"))
        dash.shot(page, "overview-down.png")
        marker = page.evaluate("window.efLoadMarker")

        # --- the miner page: the deadlines strip ---
        page.evaluate("location.hash = '#/miner/f0999'")
        page.wait_for("document.querySelectorAll('#dl-strip .dl-cell').length === 48", what="the 48 cells")
        n, cur, faulty, proven = strip(page)
        check(n == 48 and cur == [10], "strip", n, cur)
        check(faulty == [5, 7], "faulty cells", faulty)
        check(proven == [i for i in range(10) if i % 4 != 3], "proven cells", proven)
        check(cell_style(page, 5, "backgroundColor") == "rgb(248, 113, 113)", "fault not red",
              cell_style(page, 5, "backgroundColor"))
        check(cell_style(page, 4, "backgroundColor") != "rgb(248, 113, 113)", "a good cell is red")
        check(page.evaluate("document.querySelector('#dl-strip [data-index=\"2\"] .dl-proven').style.width") == "100%")
        check(text_of(page, "#dl-current") == "#10", text_of(page, "#dl-info"))
        left = text_of(page, "#dl-left")  # counted down locally from deadlineClose
        check(re.fullmatch(r"1[5-9]m\d+s", left), "time left", left)
        check(text_of(page, "#dl-faulty") == "3" and text_of(page, "#dl-recovering") == "1",
              text_of(page, "#dl-faults"))
        check("101, 102, 230" in text_of(page, "#dl-fault-list"), text_of(page, "#dl-fault-list"))
        check("96 GiB" in text_of(page, "#dl-faults"), text_of(page, "#dl-faults"))
        pc = text_of(page, "#proving-check")
        check("deadline 11" in pc and "1 bad sector: 230" in pc, pc)

        # --- summary: seed meanings, messages, chain, deals ---
        check(field(page, "preCommitDeposit") == "0.581 FIL", field(page, "preCommitDeposit"))
        check(field(page, "preCommitWait") == "2" and field(page, "commitWait") == "1",
              field(page, "preCommitWait"), field(page, "commitWait"))
        check(field(page, "totalMessages") == "7", field(page, "totalMessages"))
        check(field(page, "chainSync") == "sync ok", field(page, "chainSync"))
        check(field(page, "dealCount") == "12 (384 GiB)", field(page, "dealCount"))
        check(field(page, "faultyPower") == "96 GiB" and field(page, "faultySectors") == "3")
        check(page.evaluate("document.querySelector('[data-field=\"faultySectors\"]').classList.contains('bad')"))
        check(field(page, "controlAddresses") == "f3ctl0, f3ctl1", field(page, "controlAddresses"))
        summary = text_of(page, ".kpi-groups")
        check("Commit wait" in summary and "PreCommit deposit" in summary, summary)

        # --- workers: GPUs, lotus' figures, the missing one ---
        page.wait_for("!!document.querySelector('[data-host=\"old-w\"]')", what="the worker cards")
        # gpu01: its agent's figures (not lotus'), a row per GPU from the agent's status, lotus'
        # use of the one it lists marked on that row
        page.wait_for("document.querySelectorAll('[data-host=\"gpu01\"] tr[data-gpu]').length === 2",
                      what="gpu01's two GPU rows")
        rows = page.evaluate("Array.from(document.querySelectorAll('[data-host=\"gpu01\"] tr[data-gpu]'))"
                             ".map(r => [r.dataset.gpu, r.textContent])")
        check(rows[0][0] == "0" and rows[1][0] == "1", rows)
        for want in ("NVIDIA GeForce RTX 3090", "nvidia", "lotus: in use", "64 °C", "87 %", "20 GiB / 24 GiB", "310 W"):
            check(want in rows[0][1], "gpu01's first GPU row lacks", want, rows)
        for want in ("Radeon Pro W6800", "amd", "91 °C", "12 %"):
            check(want in rows[1][1], "gpu01's second GPU row lacks", want, rows)
        check("lotus" not in rows[1][1], rows)
        check(page.evaluate("document.querySelector('[data-host=\"gpu01\"] tr[data-gpu=\"1\"] td.bad') !== null"),
              "91 °C not red")
        w = worker(page, "gpu01")
        check("58 °C" in w and "3.25" in w and "CPU (lotus)" not in w, "gpu01 is not shown with its agent's figures", w)
        w = worker(page, "pc1-02")
        for want in ("CPU (lotus)", "64 / 128 cores", "RAM (lotus)", "200 GiB / 512 GiB", "GPU (lotus)",
                     "1 / 2 in use", "lotus heard from it", "NVIDIA GeForce RTX 4090", "lotus: not in use"):
            check(want in w, "pc1-02's card lacks", want, w)
        # netState as the server gives it (the page shows it, derives nothing)
        served = front_request(srv.port, srv.token, "minerInfo", {"minerId": "f0999"})["data"]["workerInfo"]
        for wk in served:
            shown = page.evaluate("document.querySelector('[data-host=\"%s\"] [data-net]').dataset.net"
                                  % wk["hostName"])
            check(shown == wk.get("netState", "unknown"), "netState of", wk["hostName"], shown, wk.get("netState"))
            # the host's own agent as served (agentState), "no agent" beside a reachability
            agent = page.evaluate("(e => e ? e.dataset.agent : null)(document.querySelector("
                                  "'[data-host=\"%s\"] [data-agent]'))" % wk["hostName"])
            want = wk["agentState"] if "agentState" in wk else (
                "" if wk.get("netState") in ("reachable", "unreachable", "unknown") else None)
            check(agent == want, "agent of", wk["hostName"], agent, want)
        old = worker(page, "old-w")
        check("missing from lotus" in old and "last seen 1 h ago" in old, old)
        check(page.evaluate("document.querySelector('[data-host=\"old-w\"]').dataset.missing") == "true")
        check(page.evaluate("document.querySelector('[data-host=\"gpu01\"]').dataset.missing") == "false")
        check("1 missing" in text_of(page, "#workers-head"), text_of(page, "#workers-head"))
        no_problems(page)
        dash.shot(page, "miner-deadlines.png")
        page.evaluate("window.scrollTo(0, document.getElementById('workers').offsetTop - 110)")
        page.wait_for("window.scrollY > 0", what="the page scrolled")
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        dash.shot(page, "miner-lotus-workers.png")
        page.evaluate("window.scrollTo(0, 0)")

        # --- pushes: the next window opens, the recovery is proven, a worker vanishes, the
        # message count becomes unknown; nothing reloads ---
        pushes = int(page.evaluate("document.querySelector('.page').dataset.pushes || 0"))
        feeder.send("m1", upload({
            "minerId": "f0999", "currentDeadline": 11,
            "deadlines": deadlines(11, faults={5: 2}, recoveries={}),
            "deadlineOpen": NOW + 20 * MIN, "deadlineClose": NOW + 50 * MIN, "deadlineLeftSeconds": 1800,
            "nextDeadlineOpen": NOW + 50 * MIN, "faultySectors": 2, "recoverySectors": 0,
            "faults": [101, 102], "totalMessages": None,
            "totalMessagesError": "no lotus binary configured",
            "workerInfo": {"pc1-02": {"missing": True, "lastSeen": int(time.time() * 1000) - 2 * MIN,
                                      "lotus": {"listed": False}}}}, False))
        page.wait_for("(e => e && e.dataset.current === '11')(document.getElementById('dl-strip'))", what="the marker moved")
        n, cur, faulty, proven = strip(page)
        check(n == 48 and cur == [11] and faulty == [5], "strip after the push", n, cur, faulty)
        check(10 in proven, "deadline 10 not proven", proven)
        check(text_of(page, "#dl-current") == "#11" and text_of(page, "#dl-recovering") == "0")
        page.wait_for("(e => e && e.dataset.missing === 'true')(document.querySelector('[data-host=\"pc1-02\"]'))",
                      what="pc1-02 missing")
        check("last seen 2 min ago" in worker(page, "pc1-02"), worker(page, "pc1-02"))
        check("2 missing" in text_of(page, "#workers-head"), text_of(page, "#workers-head"))
        check(field(page, "totalMessages") == "unknown", field(page, "totalMessages"))
        check(page.evaluate("document.querySelector('[data-field=\"totalMessages\"]').title")
              == "no lotus binary configured")
        check(int(page.evaluate("document.querySelector('.page').dataset.pushes || 0")) > pushes, "no push")
        check(page.evaluate("window.efLoadMarker") == marker, "the page was reloaded")

        # --- the down miner's page says so; a good collection clears it on the overview ---
        page.evaluate("location.hash = '#/miner/f0888'")
        page.wait_for("(e => e && !e.hidden && e.textContent.includes(%s))(document.getElementById('miner-down'))"
                      % js(DOWN), what="the miner-down line on the miner page")
        check("since" in text_of(page, "#miner-down"), text_of(page, "#miner-down"))
        page.evaluate("location.hash = '#/'")
        page.wait_for("(e => e && e.dataset.down === 'true')(document.querySelector('[data-miner=\"f0888\"]'))",
                      what="the overview again")
        feeder.send("m2", upload({"minerId": "f0888", "minerError": None, "minerErrorSince": None,
                                  "error": None, "totalSectors": 10}, False))
        page.wait_for("(e => e && e.dataset.down === 'false')(document.querySelector('[data-miner=\"f0888\"]'))",
                      what="the miner up again")
        check("Miner down" not in text_of(page, "[data-miner=\"f0888\"]"))
        check(page.evaluate("window.efLoadMarker") == marker, "the page was reloaded")
        no_problems(page)
    finally:
        browser.stop()
        feeder.close()


if __name__ == "__main__":
    T.main()
