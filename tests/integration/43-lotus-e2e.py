#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""43-lotus-e2e.py -- what a storage provider must see (issue 11), end to end on the real path:
tools/fake-lotus-miner (docs/fake-lotus-miner.md) simulates a miner whose clock the test moves
(FAKE_LOTUS_NOW from a file); the real edgefleet-agent collects it with the CLI source
(lotus-miner info, sealing, proving deadlines/info/faults, actor control list, net id/listen, and
the fake as `lotus` for mpool pending); edgefleetd serves the record. Each scenario is followed
to the REST record (miner_query), the /front push (subMinerInfo merge patches) and, in headless
Chromium, the miner page:

* GPU workers: lotus' own GPU list and use of pc2-01 (no agent on it) on its card; c2-01 with
  an agent (lotus_worker_name c2-01, the gpu collector on the tests' NVML-shaped fake library)
  whose GPUs join the miner record as gpuInfo, a row per GPU on its card;
* a missed deadline (--miss-deadline): its sectors faulty, no proven partition, the cell red;
* a worker vanishing from lotus' list (--vanish-worker): kept as `missing`, shown so;
* a faulty sector recovering (--fix-sector): declared recovering before its window, proving
  again after it; faultySectors and recoverySectors follow.

At every step the sector counters of docs/lotus.md#sector-states (read from that document's
table) add up to totalSectors of the live record. Browser helpers are 60-dashboard.py's; the
/front client is tests/helpers/front.py."""
import asyncio
import importlib
import os
import re
import shutil
import subprocess
import tempfile
import time

from efharness import AgentProcess, Suite, build_dir, check, source_dir, wait_until, free_port
from cdp import Chromium
from front import Front

dash = importlib.import_module("60-dashboard")
gpu = importlib.import_module("46-gpu")

T = Suite("43-lotus-e2e", static_dir=dash.WEB, front_push_interval="200ms",
          heartbeat_tolerance="10s", heartbeat_tolerance_miss="5s")

FAKE = os.path.join(build_dir(), "tools", "fake-lotus-miner", "fake-lotus-miner")
MINER = "f0777"
MIN = 60000


def doc_counters():
    """The counters of docs/lotus.md's sector-state table (its first column)."""
    text = open(os.path.join(source_dir(), "docs", "lotus.md")).read()
    sec = text[text.index("## Sector states"):]
    sec = sec[:sec.index("\n## ", 3)]
    names = re.findall(r"^\| `(\w+)` \|", sec, re.M)
    check(len(names) >= 13 and "failSectors" in names and "otherSectors" in names, names)
    return names


COUNTERS = doc_counters()


def counters_add_up(m, where):
    missing = [c for c in COUNTERS if not isinstance(m.get(c), int)]
    check(not missing, where, "counters absent", missing)
    total = sum(m[c] for c in COUNTERS)
    check(total == m["totalSectors"], where, "counters", {c: m[c] for c in COUNTERS},
          "sum", total, "totalSectors", m["totalSectors"])


class Fake:
    """The fake miner's state file and simulated clock; `wrapper` is what the agent runs."""

    def __init__(self, now):
        self.dir = tempfile.mkdtemp(prefix="ef-lotus-e2e-")
        self.state = os.path.join(self.dir, "miner.json")
        self.nowfile = os.path.join(self.dir, "now")
        self.wrapper = os.path.join(self.dir, "lotus-miner")
        with open(self.wrapper, "w") as f:
            f.write("#!/bin/sh\nFAKE_LOTUS_NOW=$(cat '%s')\nexport FAKE_LOTUS_NOW\n"
                    "exec '%s' \"$@\"\n" % (self.nowfile, FAKE))
        os.chmod(self.wrapper, 0o755)
        self.env = dict(os.environ, FAKE_LOTUS_STATE=self.state)
        self.set_now(now)
        self.run("--reset", "--workers", "3", "--seed", "7", "--miner", MINER, "info")

    def set_now(self, now):
        self.now = now
        with open(self.nowfile + ".tmp", "w") as f:
            f.write(str(now))
        os.rename(self.nowfile + ".tmp", self.nowfile)

    def run(self, *args):
        return subprocess.run([FAKE, "--now", str(self.now)] + list(args), env=self.env,
                              check=True, stdout=subprocess.PIPE, text=True).stdout

    def proving_info(self):
        """(current deadline, ms since it opened) as `proving info` prints them."""
        out = self.run("proving", "info")
        cur = int(re.search(r"Deadline Index:\s+(\d+)", out).group(1))
        epoch = int(re.search(r"Current Epoch:\s+(\d+)", out).group(1))
        opened = int(re.search(r"Deadline Open:\s+(\d+)", out).group(1))
        return cur, (epoch - opened) * 30000

    def to_window(self, k, after_ms=2 * MIN):
        """Move the clock to `after_ms` into the k-th window after the current one."""
        _, into = self.proving_info()
        self.set_now(self.now - into + k * 30 * MIN + after_ms)

    def faults(self):
        """{sector: deadline} as `proving faults` prints them."""
        rows = [l.split() for l in self.run("proving", "faults").splitlines()[2:]]
        return {int(r[2]): int(r[0]) for r in rows if len(r) == 3}

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def miner(srv):
    st, r = srv.api.get("miner_query", MINER)
    if st != 200:
        return None
    m = r["data"]
    m["workers"] = {w["hostName"]: w for w in m["workerInfo"]}
    return m


def deadline_of(m, i):
    return next(d for d in m["deadlines"] if d["index"] == i)


def page_js(page, expr, what):
    page.wait_for(expr, timeout=15, what=what)


@T.test(listen="127.0.0.1:%d" % free_port())
async def lotus_end_to_end(srv):
    t0 = int(time.time() * 1000)
    fake = Fake(t0)
    did = srv.add_device("SN-LOTUS-E2E", "miner", "pw", device_name="lotus-miner " + MINER,
                         device_type="miner")
    adir = os.path.join(fake.dir, "agent")
    os.makedirs(adir)
    agent = AgentProcess(srv, ["--device-id", did, "--password", "pw", "--data-dir", adir,
                               "--log-level", "debug", "--status-interval", "2s",
                               "--lotus-miner", fake.wrapper, "--lotus", fake.wrapper,
                               "--lotus-interval", "500ms", "--lotus-timeout", "5s",
                               "--lotus-slow-interval", "1m", "--lotus-reach-timeout", "0"],
                         env={"FAKE_LOTUS_STATE": fake.state}, dir=adir)
    # the agent of the GPU worker c2-01 (this host, known to lotus as c2-01)
    wdir = os.path.join(fake.dir, "worker")
    os.makedirs(wdir)
    srv.add_device("SN-C2-01", "agent", "pw", device_name="c2-01", device_type="worker")
    worker_agent = AgentProcess(srv, ["--sn", "SN-C2-01", "--model", "agent", "--password", "pw",
                                      "--data-dir", wdir, "--status-interval", "1s",
                                      "--collectors", "system, gpu", "--lotus-worker-name", "c2-01",
                                      "--sys-root", os.path.join(source_dir(), "tests", "data",
                                                                 "agent", "gpu-none")],
                                env={"EF_LAZY_NVML_SONAME": gpu.fake_nvml()}, dir=wdir)
    browser = Chromium(width=1280, height=800)
    base = "http://127.0.0.1:%d" % srv.port
    try:
        # ---- the first record: every part of the CLI source, the GPU worker ----
        cur0, _ = fake.proving_info()
        faults0 = fake.faults()
        check(len(faults0) >= 1, "the fake starts with faulty sectors", faults0)
        m = wait_until(lambda: (lambda m: m if m and "deadlines" in m and "peerId" in m
                                and "totalMessages" in m else None)(miner(srv)),
                       20, what="the miner record with the CLI source's parts")
        check("error" not in m, m.get("error"))
        check(len(m["deadlines"]) == 48 and m["currentDeadline"] == cur0, m["currentDeadline"], cur0)
        check(m["faultySectors"] == len(faults0) and sorted(m["faults"]) == sorted(faults0),
              m["faultySectors"], m.get("faults"), faults0)
        check(m["nextDeadlineOpen"] == m["deadlineClose"], m)
        check(m["ownerAddress"].startswith("f0") and m["workerAddress"].startswith("f0"), m)
        check(isinstance(m["controlAddresses"], list) and m["controlAddresses"], m)
        check(m["peerId"] == fake.run("net", "id").strip(), m["peerId"])
        check(m["multiaddrs"] and all(a.startswith("/ip") for a in m["multiaddrs"]), m["multiaddrs"])
        pcw = m["preCommitWait"] + m["commitWait"]
        check(isinstance(m["totalMessages"], int) and m["totalMessages"] >= 0, m["totalMessages"])
        print("pending messages", m["totalMessages"], "sectors waiting on chain", pcw)
        counters_add_up(m, "first record")
        gw = m["workers"]["pc2-01"]
        check(any("RTX 3090" in g.get("name", "") for g in gw.get("gpus", [])), "GPU worker", gw)
        check(gw["lotus"]["listed"] is True and "agentState" not in gw, gw)
        nv = [g for g in gpu.EXPECTED if g["vendor"] == "nvidia"]
        m = wait_until(lambda: (lambda m: m if m and m["workers"]["c2-01"].get("gpuInfo") else None)(
            miner(srv)), 15, what="c2-01's agent GPUs joined to the miner record")
        cw = m["workers"]["c2-01"]
        check(cw["gpuInfo"] == nv and cw.get("agentState") == "online", cw)
        check(any("A5000" in g.get("name", "") for g in cw.get("gpus", [])), "lotus' list kept", cw)

        browser.start()
        page = browser.page()
        page.enable()
        page.navigate(base + "/#/miner/" + MINER)
        dash.sign_in(page, srv.token)
        page_js(page, "document.querySelectorAll('#dl-strip .dl-cell').length === 48",
                "the 48 deadline cells")
        page_js(page, "(e => e && e.dataset.current === '%d')(document.getElementById('dl-strip'))"
                % cur0, "the current deadline marked")
        page_js(page, "!!document.querySelector('[data-host=\"pc2-01\"]')", "pc2-01's card")
        w = dash.text_of(page, "[data-host=\"pc2-01\"]")
        check("GPU (lotus)" in w and "RTX 3090" in w, "the GPU worker's card", w)
        check(dash.text_of(page, "#dl-faulty") == str(len(faults0)), dash.text_of(page, "#dl-faults"))
        page_js(page, "document.querySelectorAll('[data-host=\"c2-01\"] tr[data-gpu]').length === %d"
                % len(nv), "c2-01's GPU rows")
        w = dash.text_of(page, "[data-host=\"c2-01\"]")
        check(all(g["name"] in w for g in nv), "c2-01's card", w)

        async with Front(srv) as f:
            await f.login(srv.token)
            r = await f.call(event="subMinerInfo", body={"minerId": MINER})
            check(r["code"] == 1, r)
            doc = r["data"]
            check("RTX 3090" in str(doc["workerInfo"]["pc2-01"].get("gpus")), doc["workerInfo"]["pc2-01"])
            check(doc["workerInfo"]["c2-01"].get("gpuInfo") == nv, doc["workerInfo"]["c2-01"])

            # ---- pending messages ----
            # pending messages: the fake sends one per sector in PreCommitWait or CommitWait,
            # from the worker's key address (the agent counts the miner's addresses only); move
            # the clock two minutes at a time until a sector waits for the chain
            for _ in range(150):
                if re.search(r"^\s+(PreCommitWait|CommitWait): [1-9]", fake.run("info"), re.M):
                    break
                fake.set_now(fake.now + 2 * MIN)
            m = wait_until(lambda: (lambda m: m if m and m.get("totalMessages") ==
                                    m["preCommitWait"] + m["commitWait"] > 0 else None)(miner(srv)),
                           10, what="totalMessages = preCommitWait + commitWait > 0")
            await f.push_until(doc, lambda d: d.get("totalMessages", 0) > 0, timeout=10,
                               what="totalMessages pushed")
            page_js(page, "(e => e && e.textContent === '%d')(document.querySelector("
                    "'[data-field=\"totalMessages\"]'))" % m["totalMessages"],
                    "the pending messages on the page")
            print("pending messages", m["totalMessages"])
            cur0, _ = fake.proving_info()
            faults0 = fake.faults()

            # ---- a missed deadline and a vanished worker ----
            k = 1 if (cur0 + 1) % 48 not in faults0.values() else 2
            missed = (cur0 + k) % 48
            fake.run("--miss-deadline", str(missed), "--vanish-worker", "pc1-01")
            fake.to_window(k + 1)  # 2 minutes after the missed window closed
            cur1, _ = fake.proving_info()
            check(cur1 == (missed + 1) % 48, cur1, missed)
            await f.push_until(doc, lambda d: (
                d.get("deadlines") and deadline_of(d, missed).get("faults", 0) > 0
                and d["workerInfo"].get("pc1-01", {}).get("missing") is True),
                timeout=20, what="the missed deadline and the missing worker pushed")
            dm = deadline_of(doc, missed)
            check(dm["provenPartitions"] == 0 and dm["faults"] == dm["sectors"], dm)
            m = wait_until(lambda: (lambda m: m if m and m.get("currentDeadline") == cur1 else None)(
                miner(srv)), 10, what="the REST record after the missed deadline")
            dm = deadline_of(m, missed)
            check(dm["faults"] == dm["sectors"] > 0 and dm["provenPartitions"] == 0, dm)
            check(m["faultySectors"] == len(faults0) + dm["sectors"], m["faultySectors"], dm)
            check(m["workers"]["pc1-01"]["missing"] is True and m["workers"]["pc1-01"]["lastSeen"] > 0,
                  m["workers"]["pc1-01"])
            counters_add_up(m, "after the missed deadline")
            page_js(page, "document.querySelector('#dl-strip [data-index=\"%d\"]').classList"
                    ".contains('faulty')" % missed, "the missed deadline red on the page")
            page_js(page, "(e => e && e.dataset.missing === 'true')(document.querySelector("
                    "'[data-host=\"pc1-01\"]'))", "pc1-01 missing on the page")
            check("missing from lotus" in dash.text_of(page, "[data-host=\"pc1-01\"]"))

            # ---- a faulty sector recovering ----
            sector, its_dl = sorted(faults0.items())[0]
            fake.run("--fix-sector", str(sector))
            # recoveries of a deadline are declared when the deadline before it opens
            before = (its_dl - 1) % 48
            fake.to_window((before - cur1) % 48)
            cur2, _ = fake.proving_info()
            check(cur2 == before, "the clock is in deadline", cur2, "not", before)
            await f.push_until(doc, lambda d: d.get("recoverySectors", 0) >= 1, timeout=20,
                               what="recoverySectors pushed")
            m = wait_until(lambda: (lambda m: m if m and m.get("recoverySectors", 0) >= 1 else None)(
                miner(srv)), 10, what="recoverySectors in the REST record")
            counters_add_up(m, "while recovering")
            faulty_while = m["faultySectors"]
            page_js(page, "(e => e && e.textContent === '%d')(document.getElementById('dl-recovering'))"
                    % m["recoverySectors"], "the recovering count on the page")
            # its window closes: proven again, one fault fewer, nothing recovering
            fake.to_window(2)
            await f.push_until(doc, lambda d: d.get("recoverySectors", 1) == 0, timeout=20,
                               what="the recovery proven, pushed")
            m = wait_until(lambda: (lambda m: m if m and m.get("recoverySectors") == 0 else None)(
                miner(srv)), 10, what="the recovered sector in the REST record")
            check(sector not in m["faults"], sector, m["faults"])
            check(m["faultySectors"] < faulty_while, m["faultySectors"], faulty_while)
            counters_add_up(m, "after the recovery")
            page_js(page, "(e => e && e.textContent === '%d')(document.getElementById('dl-faulty'))"
                    % m["faultySectors"], "the fault count on the page")
            page_js(page, "(e => e && e.textContent === '0')(document.getElementById('dl-recovering'))",
                    "nothing recovering on the page")
        dash.no_problems(page)
        dash.shot(page, "lotus-e2e.png")
    except BaseException:
        print("---- agent log (tail) ----\n" + "\n".join(agent.log().splitlines()[-30:]))
        raise
    finally:
        browser.stop()
        code = agent.stop()
        wcode = worker_agent.stop()
        fake.cleanup()
    check(code == 0 and wcode == 0, "agent exit status", code, wcode)


if __name__ == "__main__":
    T.main()
