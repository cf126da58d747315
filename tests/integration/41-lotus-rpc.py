#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""41-lotus-rpc.py -- the lotus collector's JSON-RPC source against `fake-lotus-miner --rpc`
(docs/fake-lotus-miner.md), and the simulation's WindowPoSt scenarios.

* scenarios: on a fixed simulated clock (--now), a bad sector shows in `proving check --only-bad`
  before its window, is Faulty after it (`proving faults`, the deadline's faults), recovers after
  --fix-sector (declared recovering, then Proving again); a missed deadline turns all its sectors
  Faulty with no proven partition; a vanished worker leaves `sealing workers`; pending messages
  are the sectors waiting for PreCommit/ProveCommit on chain.
* rpc_matches_cli: the RPC server answers from the same state as the CLI (deadlines, faults,
  recoveries, addresses, messages compared with the CLI's printed tables), refuses a request
  without the bearer token with 401.
* agents_agree: two real agents, one on the CLI source (the fake as lotus-miner) and one on the
  RPC source (the fake's --rpc server), each uploading to its own edgefleetd, on the same frozen
  state: the miner records agree field by field for every key both sources know; the keys that
  one side alone can know are listed in ONLY_CLI / ONLY_RPC with the reason.
* wrong_token: the RPC source with a wrong bearer token logs a clear error and uploads nothing.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from efharness import AgentProcess, Server, Suite, build_dir, check, wait_until

T = Suite("41-lotus-rpc")
FAKE = os.path.join(build_dir(), "tools", "fake-lotus-miner", "fake-lotus-miner")
MINER = "f0998877"
TOKEN = "sekrit-token-41"
HALF_HOUR = 30 * 60 * 1000


class Fake:
    """One simulated miner in a temp dir, on a clock the test moves by hand."""

    def __init__(self, now):
        self.dir = tempfile.mkdtemp(prefix="ef-lotus-rpc-")
        self.state = os.path.join(self.dir, "miner.json")
        self.now = now
        self.run("--reset", "--workers", "3", "--seed", "11", "--miner", MINER, "info")

    def env(self):
        return dict(os.environ, FAKE_LOTUS_STATE=self.state, FAKE_LOTUS_NOW=str(self.now))

    def run(self, *args):
        p = subprocess.run([FAKE] + list(args), env=self.env(), capture_output=True, text=True,
                           timeout=60)
        check(p.returncode == 0, "fake-lotus-miner", args, p.stderr)
        return p.stdout

    def advance(self, ms):
        self.now += ms
        self.run("info")

    def deadlines(self):
        """(current index, [{index, partitions, sectors, faults, proven}]) from the CLI table."""
        out = self.run("proving", "deadlines").splitlines()
        check(out[0] == "Miner: " + MINER and out[1].split()[:2] == ["deadline", "open"], out[:2])
        rows, cur = [], None
        for line in out[2:]:
            m = re.fullmatch(r"(\d+) +(\d\d:\d\d:\d\d) +(\d+) +(\d+) \((\d+)\) +(\d+)( +\(current\))?",
                             line)
            check(m, "deadline row", line)
            rows.append({"index": int(m[1]), "open": m[2], "partitions": int(m[3]),
                         "sectors": int(m[4]), "faults": int(m[5]), "proven": int(m[6])})
            if m[7]:
                check(cur is None, "one current deadline", out)
                cur = int(m[1])
        check(len(rows) == 48 and cur is not None, out)
        return cur, rows

    def faults(self):
        out = self.run("proving", "faults").splitlines()
        check(out[1].split() == ["deadline", "partition", "sectors"], out)
        return {int(l.split()[2]): int(l.split()[0]) for l in out[2:]}

    def check_bad(self, dl):
        out = self.run("proving", "check", "--only-bad", str(dl)).splitlines()
        check(out[0].split() == ["deadline", "partition", "sector", "status"], out)
        return {int(l.split()[2]) for l in out[1:] if " bad" in l}

    def sector_states(self):
        rows = self.run("sectors", "list").splitlines()[1:]
        return {int(r.split()[0]): r.split()[1] for r in rows}

    def state_json(self):
        with open(self.state) as f:
            return json.load(f)

    def recovering(self):
        return {s[0] for s in self.state_json()["sectors"] if len(s) == 7 and s[6]}

    def pending(self):
        text, msgs, dec, i = self.run("mpool", "pending", "--local"), [], json.JSONDecoder(), 0
        while i < len(text):
            if text[i].isspace():
                i += 1
                continue
            obj, i = dec.raw_decode(text, i)
            msgs.append(obj)
        return msgs

    def info_states(self):
        out = self.run("info")
        return {m[1]: int(m[2]) for m in re.finditer(r"^\t(\w+): (\d+)$", out, re.M)
                if m[1] != "Total"}

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class RpcServer:
    def __init__(self, fake, token=TOKEN):
        env = fake.env()
        self.proc = subprocess.Popen([FAKE, "--rpc", "127.0.0.1:0", "--token", token], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", line)
        check(m, "rpc server start line", line, self.proc.poll())
        self.port = int(m[1])
        self.url = "http://127.0.0.1:%d/rpc/v0" % self.port

    def call(self, method, params=None, token=TOKEN):
        body = json.dumps({"jsonrpc": "2.0", "method": "Filecoin." + method,
                           "params": params or [], "id": 1}).encode()
        req = urllib.request.Request(self.url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        if token is not None:
            req.add_header("Authorization", "Bearer " + token)
        with urllib.request.urlopen(req, timeout=10) as r:
            ans = json.loads(r.read())
        check("result" in ans, method, ans)
        return ans["result"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def bits(rle):
    out, pos = [], 0
    for i, run in enumerate(rle):
        if i % 2:
            out.extend(range(pos, pos + run))
        pos += run
    return out


def frozen_fake():
    """A fake whose clock has run into an interesting state: sector X bad -> Faulty -> fixed and
    recovering, deadline M missed, a worker gone. Returns (fake, facts)."""
    fake = Fake(int(time.time() * 1000) // 1000 * 1000 - 2 * 86400 * 1000)
    cur, _ = fake.deadlines()
    d = (cur + 3) % 48
    states = fake.sector_states()
    x = next(i for i in range(d + 1, 1000, 48) if states.get(i) == "Proving")
    fake.run("--bad-sector", str(x))
    check(x in fake.check_bad(d), "bad sector listed by proving check before its window")
    check(x not in fake.faults(), "not yet faulty")
    for _ in range(5):  # past deadline d's window
        fake.advance(HALF_HOUR)
    check(fake.faults().get(x) == d, "faulty after its window", fake.faults())
    _, rows = fake.deadlines()
    check(rows[d]["faults"] >= 1, rows[d])
    fake.run("--fix-sector", str(x))
    steps = 0
    while x not in fake.recovering():
        fake.advance(HALF_HOUR)
        steps += 1
        check(steps <= 48, "recovery declared within a proving period")
    check(fake.sector_states()[x] == "Faulty", "recovering, still faulty until proven")
    # recoveries are declared two deadlines ahead: the open one now is d - 1. Miss it.
    cur, _ = fake.deadlines()
    check(cur == (d + 47) % 48, "recovery declared while deadline d-1 is open", cur, d)
    m = cur
    fake.run("--miss-deadline", str(m))
    fake.run("--vanish-worker", "pc2-01")
    fake.advance(HALF_HOUR)
    check(fake.deadlines()[0] == d, "deadline d open")
    check(x in fake.recovering(), "x still recovering (its window is open)", x)
    return fake, {"x": x, "d": d, "m": m}


@T.test
def scenarios(srv):
    fake, facts = frozen_fake()
    try:
        x, m = facts["x"], facts["m"]
        cur, rows = fake.deadlines()
        check(rows[m]["faults"] == rows[m]["sectors"] > 0 and rows[m]["proven"] == 0, rows[m])
        check(all(r["proven"] == r["partitions"] for r in rows[:cur] if r["index"] != m), rows)
        check(all(r["proven"] == 0 for r in rows[cur:]), rows)
        faults = fake.faults()
        check(sum(1 for dl in faults.values() if dl == m) == rows[m]["sectors"], faults)
        # the recovering sector is proven again when its deadline next closes
        steps = 0
        while fake.sector_states()[x] != "Proving":
            fake.advance(HALF_HOUR)
            steps += 1
            check(steps <= 49, "x recovered within a period")
        check(x not in fake.faults() and x not in fake.recovering())
        # the worker is gone from lotus' list; the GPU workers' lines are there
        workers = fake.run("sealing", "workers")
        check("host pc2-01" not in workers and "host pc1-01" in workers, workers)
        check(re.search(r"^\tGPU: NVIDIA RTX A5000, (not )?used$", workers, re.M), workers)
        check("pc2-01" not in fake.run("sealing", "jobs"))
        fake.run("--return-worker", "pc2-01")
        check("host pc2-01" in fake.run("sealing", "workers"))
        # pending messages: one per sector waiting for PreCommit / ProveCommit on chain
        msgs = fake.pending()
        st = fake.info_states()
        check(len(msgs) == st.get("PreCommitWait", 0) + st.get("CommitWait", 0), len(msgs), st)
        control = fake.run("actor", "control", "list").splitlines()
        check(control[0].split() == ["name", "ID", "key", "use", "balance"], control)
        worker_key = control[2].split()[2]
        check(all(mm["Message"]["From"] == worker_key and mm["Message"]["To"] == MINER
                  for mm in msgs), msgs)
        check(re.fullmatch(r"12D3KooW\w{44}\n", fake.run("net", "id")))
        # bad input changes nothing
        before = open(fake.state).read()
        p = subprocess.run([FAKE, "--bad-sector", "999999"], env=fake.env(), capture_output=True,
                           text=True)
        check(p.returncode == 1 and "no sector 999999" in p.stderr, p.stderr)
        p = subprocess.run([FAKE, "proving", "check", "--only-bad", "48"], env=fake.env(),
                           capture_output=True, text=True)
        check(p.returncode == 1 and "0..47" in p.stderr, p.stderr)
        check(open(fake.state).read() == before, "state untouched by bad input")
    finally:
        fake.cleanup()


@T.test
def rpc_matches_cli(srv):
    fake, facts = frozen_fake()
    rpc = RpcServer(fake)
    try:
        # no token, a wrong token: 401
        for tok in (None, "wrong"):
            try:
                rpc.call("ActorAddress", token=tok)
                check(False, "answered without the right token")
            except urllib.error.HTTPError as e:
                check(e.code == 401, e.code)
        check(rpc.call("ActorAddress") == MINER)
        cur, rows = fake.deadlines()
        dl = rpc.call("StateMinerProvingDeadline", [MINER, None])
        check(dl["Index"] == cur and dl["Close"] - dl["Open"] == 60, dl, cur)
        pinfo = fake.run("proving", "info")
        check("\nDeadline Index:       %d\n" % cur in pinfo, pinfo)
        check("\nCurrent Epoch:           %d\n" % dl["CurrentEpoch"] in pinfo, pinfo)
        check("\nDeadline Close:       %d (in " % dl["Close"] in pinfo, pinfo)
        check("\nRecovering:  %d\n" % len(fake.recovering()) in pinfo, pinfo)
        dls = rpc.call("StateMinerDeadlines", [MINER, None])
        check(len(dls) == 48, dls)
        for k in range(48):
            parts = rpc.call("StateMinerPartitions", [MINER, k, None])
            got = {"partitions": len(parts),
                   "sectors": sum(len(bits(p["AllSectors"])) for p in parts),
                   "faults": sum(len(bits(p["FaultySectors"])) for p in parts),
                   "proven": len(bits(dls[k]["PostSubmissions"]))}
            want = {key: rows[k][key] for key in got}
            check(got == want, "deadline", k, got, want)
        faults = sorted(fake.faults())
        check(bits(rpc.call("StateMinerFaults", [MINER, None])) == faults, faults)
        check(bits(rpc.call("StateMinerRecoveries", [MINER, None])) == sorted(fake.recovering()))
        check(facts["x"] in bits(rpc.call("StateMinerRecoveries", [MINER, None])))
        info = rpc.call("StateMinerInfo", [MINER, None])
        control = [l.split() for l in fake.run("actor", "control", "list").splitlines()[1:]]
        check([info["Owner"], info["Worker"]] + info["ControlAddresses"] == [c[1] for c in control],
              info, control)
        check(info["PeerId"] + "\n" == fake.run("net", "id"))
        keys = {rpc.call("StateAccountKey", [c[1], None]) for c in control}
        check(keys == {c[2] for c in control}, keys)
        pool = rpc.call("MpoolPending", [None])
        mine = [mm for mm in pool if mm["Message"]["From"] in keys]
        check(len(pool) > len(mine), "the pool also holds others' messages")
        check(sorted(mm["CID"]["/"] for mm in mine) ==
              sorted(mm["CID"]["/"] for mm in fake.pending()))
        hosts = {w["Info"]["Hostname"] for w in rpc.call("WorkerStats").values()}
        check(hosts == {"pc1-01", "c2-01"}, hosts)  # pc2-01 vanished
        summary = rpc.call("SectorsSummary")
        check(summary == fake.info_states(), summary)
    finally:
        rpc.stop()
        fake.cleanup()


# Keys only one source can know, and why.
ONLY_CLI = {
    # `lotus-miner info` prints them; the RPC source does not ask for them
    "chainSync", "subsystems", "startedAt", "workerCounts", "activeAlerts", "deals",
    "storageDeals", "retrievalDeals", "dealCount", "marketBalance", "marketBalanceAtto",
    "marketBalanceExact", "marketLocked", "marketLockedAtto", "marketLockedExact",
    "marketAvailable", "marketAvailableAtto", "marketAvailableExact", "totalSpendable",
    "totalSpendableAtto", "totalSpendableExact", "beneficiary", "layout",
    "rawPowerPercent", "powerPercent",
    # main's info parser still puts the PreCommit deposit here (seed meaning: a sector count,
    # issue 11; after the rename both sources carry the count and preCommitDeposit)
    "preCommitWait", "preCommitWaitAtto", "preCommitWaitExact",
    # the CLI source's own bookkeeping
    "provingCheck",
}
ONLY_RPC = {
    # The CLI source reads deadlines, faults, recoveries, addresses, peer id, multiaddrs (proving
    # deadlines/info/faults, actor control list, net id/listen) and, with the fake as its `lotus`,
    # the pending messages: both sources carry those keys and are compared below. Still RPC-only:
    # preCommitDeposit when `info` prints no PreCommit deposit line.
    "preCommitDeposit", "preCommitDepositAtto", "preCommitDepositExact",
    "faultsTruncated",
}
# Keys both know whose values legitimately differ: the record's bookkeeping, and times that
# each source measures against its own clock.
VOLATILE = {"deviceId", "timestamp", "updated", "updatedAt", "updatedTime", "error", "source",
            "collectedAt", "receivedAt", "lastUpload"}


def printed_precision(path):
    """The relative error a CLI-printed value may have against the exact RPC one, or None when
    the values must be equal. The CLI prints sizes with 3-4 significant digits (SizeStr "%.4g",
    DeciStr "%.3g") and FIL amounts with FIL.Short's few digits; the record keeps the printed
    value expanded (…Bytes, …Atto), the RPC source the exact integer."""
    key = str(path[-1])
    if key.endswith("Bytes"):
        return 0.005
    if key.endswith("Atto"):
        return 0.001
    return None


def exempt(path):
    """Fields that legitimately differ, with the reason."""
    key = str(path[-1])
    # "…Exact": true for the RPC's exact integers, false for the CLI's rounded print
    if key.endswith("Exact"):
        return True
    # taskType, lotus.tasks: WorkerStats lists the task types a worker accepts; `sealing
    # workers` prints only those with running tasks, so the CLI source knows a subset
    if key == "taskType" or (key == "tasks" and len(path) > 1 and path[-2] == "lotus"):
        return True
    # multiaddrs: the RPC source gives the on-chain ones (StateMinerInfo), the CLI source
    # `net listen`'s listen addresses (with /p2p/<id>): not the same list
    if key == "multiaddrs":
        return True
    # times of the deadline windows: the CLI prints only a time of day (or nothing), resolved
    # against the agent's clock, and the time left is measured on that clock; the fake's clock
    # is frozen hours behind it here. The RPC source takes them from epochs.
    if key in ("open", "deadlineOpen", "deadlineClose", "nextDeadlineOpen",
               "deadlineLeftSeconds"):
        return True
    return False


def miner_record(srv):
    st, r = srv.api.get("miner_query", MINER)
    return r["data"] if st == 200 else None


def start_agent(srv, fake, extra, name):
    did = srv.add_device("SN-" + name, "miner", "pw")
    d = tempfile.mkdtemp(prefix="ef-lotus-rpc-agent-")
    agent = AgentProcess(srv, ["--device-id", did, "--password", "pw", "--data-dir", d,
                               "--log-level", "debug", "--lotus-interval", "1s",
                               "--lotus-timeout", "5s"] + extra,
                         env={"FAKE_LOTUS_STATE": fake.state, "FAKE_LOTUS_NOW": str(fake.now)},
                         dir=d)
    return agent, d


def settled(srv, need):
    """The record once it has every key of `need` (the first collection may be partial)."""
    rec = miner_record(srv)
    return rec if rec and all(k in rec for k in need) else None


def compare(a, b, path, diffs):
    if path and exempt(path):
        return
    tol = printed_precision(path) if path else None
    if tol is not None and isinstance(a, str) and isinstance(b, str) and a.isdigit() and b.isdigit():
        x, y = int(a), int(b)
        if abs(x - y) > tol * max(abs(x), abs(y), 1):
            diffs.append((path, a, b))
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) & set(b)):
            compare(a[k], b[k], path + [k], diffs)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            compare(x, y, path + [i], diffs)
    elif isinstance(a, float) or isinstance(b, float):
        if not (isinstance(a, (int, float)) and isinstance(b, (int, float))
                and abs(a - b) <= 0.011 * max(1, abs(a))):
            diffs.append((path, a, b))
    elif a != b:
        diffs.append((path, a, b))


# Worker/job fields the sources render differently, with the reason:
#   start: the RPC source measures elapsed time against the agent's clock, the CLI source
#          against the fake's frozen one (the test freezes the fake, not the agent).
#   workerId/workerIds: the CLI prints 8-character worker ids, WorkerStats gives whole uuids.
#   ram: `sealing workers` double-counts the tasks' memory in the used figure (as lotus does),
#        WorkerStats gives MemUsed.
WORKER_SKIP = {"start", "time", "seconds", "workerId", "workerIds", "ram", "vmem", "lastSeen",
               "netState", "online", "updated"}


def strip(o):
    """Without WORKER_SKIP fields; job lists sorted by id (their order is lotus' display order
    for the CLI, the API's map order for RPC: not part of the record's meaning)."""
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in WORKER_SKIP}
    if isinstance(o, list):
        items = [strip(v) for v in o]
        if all(isinstance(v, dict) and "id" in v for v in items):
            items.sort(key=lambda v: (v["id"], str(v.get("sector"))))
        return items
    return o


SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "agent")
# The RPC source's deadline/fault/address keys reach the record through lotus_rpc_add_record(),
# which the collector's RPC path calls (src/agent/lotus_collector.c). Once it does, this test
# demands every one of them.
with open(os.path.join(SRC, "lotus_collector.c")) as _f:
    WIRED = "lotus_rpc_add_record" in _f.read()


def check_rpc_only_keys(fake, r_rpc):
    cur, rows = fake.deadlines()
    check(r_rpc["currentDeadline"] == cur, r_rpc["currentDeadline"], cur)
    check(len(r_rpc["deadlines"]) == 48, r_rpc["deadlines"])
    for k, d in enumerate(r_rpc["deadlines"]):
        check(d["index"] == k and d["partitions"] == rows[k]["partitions"]
              and d["sectors"] == rows[k]["sectors"] and d["faults"] == rows[k]["faults"]
              and d["provenPartitions"] == rows[k]["proven"], d, rows[k])
        check(d.get("current", False) == (k == cur), d)
        check(time.strftime("%H:%M:%S", time.gmtime(d["open"] / 1000)) == rows[k]["open"],
              d, rows[k])
    check(r_rpc["deadlineClose"] - r_rpc["deadlineOpen"] == HALF_HOUR)
    check(r_rpc["nextDeadlineOpen"] == r_rpc["deadlineClose"])
    check(0 <= r_rpc["deadlineLeftSeconds"] <= 1800)
    faults = fake.faults()
    check(r_rpc["faultySectors"] == len(faults) and sorted(r_rpc["faults"]) == sorted(faults))
    control = [l.split() for l in fake.run("actor", "control", "list").splitlines()[1:]]
    check(r_rpc["ownerAddress"] == control[0][1] and r_rpc["workerAddress"] == control[1][1]
          and r_rpc["controlAddresses"] == [control[2][1]], r_rpc)
    check(r_rpc["peerId"] == fake.run("net", "id").strip())
    check(r_rpc["multiaddrs"] == ["/ip4/127.0.0.1/tcp/24001"], r_rpc["multiaddrs"])


@T.test
def agents_agree(srv):
    fake, facts = frozen_fake()
    rpc = RpcServer(fake)
    srv2 = Server()
    agents = []
    try:
        srv2.start()
        a_cli, d1 = start_agent(srv, fake, ["--lotus-miner", FAKE, "--lotus", FAKE], "CLI")
        agents.append((a_cli, d1))
        api = "%s:/ip4/127.0.0.1/tcp/%d/http" % (TOKEN, rpc.port)
        a_rpc, d2 = start_agent(srv2, fake, ["--lotus-source", "rpc", "--lotus-api", api,
                                             "--lotus-node-api", api], "RPC")
        agents.append((a_rpc, d2))
        need = ("minerId", "workerInfo", "totalSectors")
        r_cli = wait_until(lambda: settled(srv, need + ("deadlines", "peerId", "ownerAddress",
                                                        "totalMessages")), 20,
                           what="the CLI source's record")
        r_rpc = wait_until(lambda: settled(srv2, need + ("recoverySectors", "totalMessages")), 20,
                           what="the RPC source's record")
        check("error" not in r_rpc, "rpc record error", r_rpc.get("error"))
        check(TOKEN not in a_rpc.log(), "the token is never logged")
        # what the RPC source adds, checked against the fake's CLI view
        check(r_rpc["recoverySectors"] == len(fake.recovering()) >= 1, r_rpc["recoverySectors"])
        check(r_rpc["totalMessages"] == len(fake.pending()), r_rpc["totalMessages"])
        check(r_rpc["faultyPower"] != "0 B" and r_rpc["effectivePower"], r_rpc)
        check("pc2-01" not in {w["hostName"] for w in r_rpc["workerInfo"]}, "vanished worker")
        if WIRED:
            check_rpc_only_keys(fake, r_rpc)
        else:
            print("NOTE: the collector does not call lotus_rpc_add_record() yet: deadlines, "
                  "faults, addresses and peer keys are not in the record (the unit test "
                  "lotus_rpc_deadlines covers their conversion)")
        # field by field: every key both records carry must agree
        only_cli = set(r_cli) - set(r_rpc) - VOLATILE
        only_rpc = set(r_rpc) - set(r_cli) - VOLATILE
        print("keys only in the CLI record:", sorted(only_cli))
        print("keys only in the RPC record:", sorted(only_rpc))
        check(only_cli <= ONLY_CLI, "unexplained CLI-only keys", sorted(only_cli - ONLY_CLI))
        check(only_rpc <= ONLY_RPC | {k for k in only_rpc if k in ONLY_CLI},
              "unexplained RPC-only keys", sorted(only_rpc - ONLY_RPC))
        diffs = []
        a = {k: v for k, v in r_cli.items() if k not in VOLATILE and k != "workerInfo"}
        b = {k: v for k, v in r_rpc.items() if k not in VOLATILE and k != "workerInfo"}
        # faults: a set of sector numbers; the CLI source keeps `proving faults`' order (by
        # deadline), the RPC source the bitfield's (by number)
        for r in (a, b):
            if isinstance(r.get("faults"), list):
                r["faults"] = sorted(r["faults"])
        compare(a, b, [], diffs)
        wa = {w["hostName"]: strip(w) for w in r_cli["workerInfo"]}
        wb = {w["hostName"]: strip(w) for w in r_rpc["workerInfo"]}
        check(set(wa) == set(wb), "same workers", set(wa), set(wb))
        compare(wa, wb, ["workerInfo"], diffs)
        shared = sorted(set(a) & set(b))
        print("keys compared:", len(shared), shared)
        check(not diffs, "the two sources disagree on", diffs)
        check({"minerId", "totalSectors", "effectiveSectors", "errorSectors", "minerBalance",
               "rawBytePower", "adjustedPower", "effectivePower", "faultyPower",
               "expectBlock"} <= set(shared), shared)
    finally:
        for agent, d in agents:
            code = agent.stop()
            if code != 0:
                print(agent.tail())
            shutil.rmtree(d, ignore_errors=True)
        srv2.stop()
        srv2.cleanup()
        rpc.stop()
        fake.cleanup()


@T.test
def wrong_token(srv):
    fake = Fake(int(time.time() * 1000))
    rpc = RpcServer(fake)
    try:
        api = "not-the-token:/ip4/127.0.0.1/tcp/%d/http" % rpc.port
        agent, d = start_agent(srv, fake, ["--lotus-source", "rpc", "--lotus-api", api], "BAD")
        try:
            wait_until(lambda: "rpc Filecoin.ActorAddress: HTTP 401, the API token was refused"
                       in agent.log(), 10, what="the 401 in the agent log")
            check("not-the-token" not in agent.log(), "the token is never logged")
            check(miner_record(srv) is None, "nothing uploaded under the miner id")
        finally:
            agent.stop()
            shutil.rmtree(d, ignore_errors=True)
    finally:
        rpc.stop()
        fake.cleanup()


if __name__ == "__main__":
    T.main()
