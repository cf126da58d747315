#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""42-lotus-workers.py -- workers as lotus and the miner host see them, and a miner that is down
(docs/lotus-collector.md, docs/protocol.md#miner-down), end to end with the real agent and
server. The lotus-miner the agent runs is a small script of this test, whose answers come from
files in its directory (so the test changes them while the agent runs):

* a worker whose listen address (`storage list` URL) accepts connections is `reachable`, one that
  refuses `unreachable`, one without a URL `unknown`; a disabled worker shows lotus.enabled false;
  an agent on a worker host with `lotus_worker_name` is joined to that worker (agentState);
  the overview (the /front minerList) raises unreachable and disabled, and no "offline" alarm
  for workers that have no agent;
* a worker that vanishes from `sealing workers` stays as `missing` with lastSeen, raises
  worker_missing, and goes when an operator deletes it (miner_worker_delete);
* lotus-miner failing from the start: the device's record (no miner id) shows minerError on the
  REST API and a critical miner_down alarm on the overview, replaced by the miner's record once
  lotus-miner answers; a hanging lotus-miner later sets minerError on the miner's own record;
* the proving check (lotus_proving_check) runs `proving check --only-bad` on the deadline that
  opens next and reports its bad sector."""
import asyncio
import json
import os
import shutil
import socket
import stat
import sys
import tempfile

import websockets

from efharness import AgentProcess, Suite, check, source_dir, wait_until

T = Suite("42-lotus-workers")

MINER = "f01230123"  # the miner of the info fixture
SCRIPT = r'''#!%(python)s
import os, sys, time
D = %(dir)r
def read(name, default=""):
    try:
        with open(os.path.join(D, name)) as f:
            return f.read()
    except OSError:
        return default
args = sys.argv[1:]
with open(os.path.join(D, "calls"), "a") as f:
    f.write(" ".join(args) + "\n")
mode = read("mode", "ok").strip()
if mode == "fail":
    sys.stderr.write("ERROR: could not get API info for StorageMiner: connection refused\n")
    sys.exit(1)
if mode == "hang":
    time.sleep(30)
cmd = " ".join(args[:2])
if args[:1] == ["info"]:
    sys.stdout.write(read("info"))
elif cmd == "sealing workers":
    for line in read("workers").split():
        name, _, flag = line.partition(",")
        uid = "%%08x-0000-4000-8000-000000000000" %% (abs(hash(name)) %% (1 << 32))
        sys.stdout.write("Worker %%s, host %%s%%s\n" %% (uid, name,
                         " (disabled)" if flag == "disabled" else ""))
        sys.stdout.write("\tTASK: PC1(0/4) \n")
        sys.stdout.write("\tCPU:  [  ] 0/64 core(s) in use\n")
        sys.stdout.write("\tRAM:  [  ] 1%% 15.9 GiB/1007 GiB\n")
        sys.stdout.write("\tVMEM: [  ] 1%% 15.9 GiB/1007 GiB\n")
elif cmd == "sealing jobs":
    sys.stdout.write("ID  Sector  Worker  Hostname  Task  State  Time\n")
elif cmd == "storage list":
    for url in read("urls").split():
        sys.stdout.write("00000000-1111-2222-3333-444444444444:\n\t[##  ] 1 TiB/2 TiB 50%%%%\n"
                         "\tWeight: 10; Use: Seal Store\n\tURL: %%s\n\n" %% url)
elif cmd == "proving info":
    sys.stdout.write("Miner: f01230123\nCurrent Epoch: 1000\nDeadline Index:       5\n"
                     "Deadline Sectors:     0\nDeadline Open:        980 (10m0s ago)\n"
                     "Deadline Close:       1040 (in 20m0s)\n")
elif cmd == "proving check":
    sys.stdout.write("deadline  partition  sector  status\n"
                     "%%s         0          42      bad (sealed file missing)\n" %% args[-1])
else:
    sys.stderr.write("ERROR: unknown command %%r\n" %% cmd)
    sys.exit(1)
'''


class Miner(AgentProcess):
    """The agent on a miner host running this test's lotus-miner script."""

    def __init__(self, srv, mode="ok", extra=()):
        self.dir = tempfile.mkdtemp(prefix="ef-lotus-workers-")
        self.put("mode", mode)
        with open(os.path.join(source_dir(), "tests", "data", "lotus",
                               "info-v1.23.3-aug2023.txt")) as f:
            self.put("info", f.read())
        self.prog = os.path.join(self.dir, "lotus-miner")
        self.put("lotus-miner", SCRIPT % {"python": sys.executable, "dir": self.dir})
        os.chmod(self.prog, stat.S_IRWXU)
        self.did = srv.add_device("SN-LOTUS-W", "miner", "pw")
        super().__init__(srv, ["--device-id", self.did, "--password", "pw", "--data-dir", self.dir,
                               "--log-level", "debug", "--status-interval", "2s",
                               "--lotus-miner", self.prog, "--lotus-interval", "300ms",
                               "--lotus-timeout", "2s", "--lotus-reach-timeout", "1s"]
                         + list(extra), dir=self.dir)

    def put(self, name, text):
        tmp = os.path.join(self.dir, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, os.path.join(self.dir, name))

    def calls(self):
        try:
            with open(os.path.join(self.dir, "calls")) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def stop(self):
        code = super().stop()
        if code != 0:
            print("---- agent stderr ----\n" + self.tail())
        check(code == 0, "agent exit status", code)
        shutil.rmtree(self.dir, ignore_errors=True)


def run(srv, body, **kw):
    agent = Miner(srv, **kw)
    try:
        body(agent)
    except BaseException:
        print("---- agent stderr (tail) ----\n" + agent.tail())
        raise
    finally:
        agent.stop()


def miner(srv, mid=MINER):
    st, r = srv.api.get("miner_query", mid)
    if st != 200:
        return None
    m = r["data"]
    m["workers"] = {w["hostName"]: w for w in m["workerInfo"]}
    return m


def overview(srv):
    """The /front minerList, as the dashboard's overview gets it."""
    async def go():
        async with websockets.connect("ws://127.0.0.1:%d/front" % srv.port,
                                      ping_interval=None) as ws:
            n = 0
            out = {}
            for uri, body in (("login", {"token": srv.token}), ("minerList", {})):
                n += 1
                await ws.send(json.dumps({"uri": uri, "body": body, "msgId": str(n)}))
                while True:
                    r = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if r.get("msgId") == str(n):
                        out[uri] = r
                        break
            check(out["login"]["code"] == 1, out)
            return out["minerList"]["data"]
    return asyncio.run(go())


def alarms(summary):
    return {a["type"]: a for a in summary["alarms"]}


def listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    return s


def closed_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more: connections are refused
    return port


@T.test
def reachability_and_missing_workers(srv):
    up = listener()
    down = closed_port()

    def body(agent):
        # "localhost" is reached through its URL's address (127.0.0.1); "127.0.0.1" itself
        # through the literal host of its URL; "127.0.0.7" has no URL at all. (Worker names are
        # numeric or localhost: resolving them sends no DNS query.)
        agent.put("workers", "localhost 127.0.0.1 127.0.0.7 127.0.0.8,disabled\n")
        agent.put("urls", "http://127.0.0.1:%d/remote\n" % up.getsockname()[1])
        m = wait_until(lambda: (lambda m: m if m and "netState" in
                                m["workers"].get("127.0.0.7", {}) else None)(miner(srv)), 15,
                       what="the record with netState")
        w = m["workers"]
        check(w["localhost"]["netState"] == "reachable", w["localhost"])
        check(w["127.0.0.1"]["netState"] == "reachable", w["127.0.0.1"])
        check(w["127.0.0.7"]["netState"] == "unknown", w["127.0.0.7"])
        lv = w["localhost"]["lotus"]
        check(lv["listed"] is True and lv["enabled"] is True and lv["tasks"] == ["PC1"], lv)
        check(w["127.0.0.8"]["lotus"]["enabled"] is False, w["127.0.0.8"])
        check("agentState" not in w["localhost"], w["localhost"])  # no agent on that host

        # an agent on a worker host lotus knows by another name (lotus_worker_name): its figures
        # join that worker
        wid = srv.add_device("SN-WORKER-8", "worker", "pw")
        wagent = AgentProcess(srv, ["--device-id", wid, "--password", "pw",
                                    "--status-interval", "1s", "--lotus-worker-name", "127.0.0.8"])
        try:
            w8 = wait_until(lambda: (lambda x: x if x.get("agentState") == "online" else None)(
                miner(srv)["workers"]["127.0.0.8"]), 15, what="the worker agent joined")
            check("totalMemory" in w8 and w8["netState"] == "unknown", w8)
        finally:
            check(wagent.stop() == 0, "worker agent exit status")
        s = [x for x in overview(srv) if x["minerId"] == MINER][0]
        a = alarms(s)
        check(set(a) == {"worker_disabled"} or set(a) == {"worker_disabled", "stale"}, s)
        check("workers_offline" not in a, s)  # workers without agents are not "offline"

        # the listen address of 127.0.0.1 now refuses: unreachable, alarmed
        agent.put("urls", "http://localhost:%d/remote\nhttp://127.0.0.1:%d/remote\n"
                  % (up.getsockname()[1], down))
        wait_until(lambda: miner(srv)["workers"]["127.0.0.1"]["netState"] == "unreachable", 15,
                   what="unreachable")
        check(miner(srv)["workers"]["localhost"]["netState"] == "reachable")
        s = [x for x in overview(srv) if x["minerId"] == MINER][0]
        a = alarms(s)["worker_unreachable"]
        check(a["severity"] == "warning" and "127.0.0.1" in a["message"], a)

        # 127.0.0.7 vanishes from lotus' list: kept as missing until an operator removes it
        agent.put("workers", "localhost 127.0.0.1 127.0.0.8,disabled\n")
        wait_until(lambda: miner(srv)["workers"]["127.0.0.7"].get("missing") is True, 15,
                   what="missing")
        gone = miner(srv)["workers"]["127.0.0.7"]
        check(isinstance(gone["lastSeen"], int) and gone["lotus"]["listed"] is False, gone)
        check("worker_missing" in alarms([x for x in overview(srv)
                                          if x["minerId"] == MINER][0]))
        st, r = srv.api.post("miner_worker_delete", {"minerId": MINER, "hostName": "localhost"})
        check(st == 409, st, r)
        st, r = srv.api.post("miner_worker_delete", {"minerId": MINER, "hostName": "127.0.0.7"})
        check(st == 200, st, r)
        check("127.0.0.7" not in miner(srv)["workers"], miner(srv)["workers"].keys())
    try:
        run(srv, body)
    finally:
        up.close()


@T.test
def miner_down_is_loud(srv):
    def body(agent):
        agent.put("workers", "localhost\n")
        agent.put("urls", "")

        def device_record():
            st, r = srv.api.get("miner_query_all")
            check(st == 200, st, r)
            return [m for m in r["data"] if m.get("deviceOnly")] or None
        d = wait_until(device_record, 15, what="the device's miner-down record")[0]
        check(d["deviceId"] == agent.did and "connection refused" in d["minerError"], d)
        check(isinstance(d["minerErrorSince"], int) and d["hostName"], d)
        s = [x for x in overview(srv) if x.get("deviceOnly")]
        check(len(s) == 1, s)
        a = alarms(s[0])["miner_down"]
        check(a["severity"] == "critical" and "connection refused" in a["message"], a)

        # lotus-miner answers: the miner's record replaces the device's
        agent.put("mode", "ok")
        m = wait_until(lambda: miner(srv), 15, what="the miner record")
        check("minerError" not in m, m)
        wait_until(lambda: not device_record(), 15, what="the device record gone")
        check(all(not x.get("deviceOnly") for x in overview(srv)))

        # hanging later: minerError on the miner's own record (its last figures kept)
        agent.put("mode", "hang")
        m = wait_until(lambda: (lambda m: m if m and "minerError" in m else None)(miner(srv)),
                       20, what="minerError")
        check("timed out" in m["minerError"] and m["minerId"] == MINER, m)
        check("miner_down" in alarms([x for x in overview(srv) if x["minerId"] == MINER][0]))
        agent.put("mode", "ok")
        wait_until(lambda: "minerError" not in miner(srv), 20, what="minerError cleared")
    run(srv, body, mode="fail")


@T.test
def proving_check_before_the_deadline(srv):
    def body(agent):
        agent.put("workers", "localhost\n")
        m = wait_until(lambda: (lambda m: m if m and "provingCheck" in m else None)(miner(srv)),
                       15, what="provingCheck")
        pc = m["provingCheck"]
        # proving info: deadline 5 closes in 20 min, so 6 opens then: within the 30 min asked
        check(pc["deadline"] == 6 and pc["bad"] == 1 and pc["badSectors"] == [42], pc)
        check(isinstance(pc["checkedAt"], int) and pc["opensAt"] > pc["checkedAt"], pc)
        calls = [c for c in agent.calls() if c.startswith("proving check")]
        check(calls and calls[0] == "proving check --only-bad 6", calls)
        a = alarms([x for x in overview(srv) if x["minerId"] == MINER][0])
        check(a["proving_check"]["severity"] == "critical", a)
        # checked once for this opening, not every round
        n = len(agent.calls())
        wait_until(lambda: len(agent.calls()) > n + 8, 15, what="more rounds")
        check(len([c for c in agent.calls() if c.startswith("proving check")]) == 1,
              agent.calls())
    run(srv, body, extra=["--lotus-proving-check", "true", "--lotus-proving-check-before", "30m"])


if __name__ == "__main__":
    T.main()
