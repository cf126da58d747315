#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""40-lotus-agent.py -- the agent's lotus collector end to end (docs/lotus-collector.md): the real
edgefleet-agent runs tools/fake-lotus-miner every second and uploads the miner record; the server
serves it (miner_query) with workers and jobs; a change in the fake's state shows through the REST
API within about two intervals; uploads after the first full one are merge patches (the agent's
debug line per upload); a hanging lotus-miner puts an "error" in the record, keeps the last
values, and the device stays online (heartbeats are the library's, on its own thread)."""
import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from efharness import AgentProcess, Suite, check, wait_until, build_dir

# Short heartbeat timings: a device that stops answering is Unknown after 1.5 s, offline after 3.
T = Suite("40-lotus-agent", heartbeat_tolerance="1500ms", heartbeat_tolerance_miss="1s",
          log_flush="20ms")

FAKE = os.path.join(build_dir(), "tools", "fake-lotus-miner", "fake-lotus-miner")
MINER = "f0998877"


class Agent(AgentProcess):
    """edgefleet-agent with the lotus collector on a fake lotus-miner whose failure mode is
    read from DIR/mode at every run (so a test can switch it while the agent runs)."""

    def __init__(self, srv, interval="1s", timeout="500ms"):
        self.dir = tempfile.mkdtemp(prefix="ef-lotus-agent-")
        self.state = os.path.join(self.dir, "miner.json")
        self.mode = os.path.join(self.dir, "mode")
        self.wrapper = os.path.join(self.dir, "lotus-miner")
        with open(self.wrapper, "w") as f:
            f.write("#!/bin/sh\nFAKE_LOTUS_MODE=$(cat '%s' 2>/dev/null || echo normal)\n"
                    "export FAKE_LOTUS_MODE\nexec '%s' \"$@\"\n" % (self.mode, FAKE))
        os.chmod(self.wrapper, 0o755)
        self.env = dict(os.environ, FAKE_LOTUS_STATE=self.state)
        subprocess.run([FAKE, "--reset", "--workers", "3", "--seed", "7", "--miner", MINER,
                        "info"], env=self.env, check=True, stdout=subprocess.DEVNULL)
        self.did = srv.add_device("SN-LOTUS", "miner", "pw")
        super().__init__(srv, ["--device-id", self.did, "--password", "pw", "--data-dir", self.dir,
                               "--log-level", "debug", "--ping-interval", "500ms",
                               "--pong-timeout", "500ms", "--status-interval", "2s",
                               "--lotus-miner", self.wrapper, "--lotus-interval", interval,
                               "--lotus-timeout", timeout],
                         env={"FAKE_LOTUS_STATE": self.state}, dir=self.dir)

    def set_mode(self, mode):
        with open(self.mode + ".tmp", "w") as f:
            f.write(mode)
        os.rename(self.mode + ".tmp", self.mode)

    def edit_state(self, fn):
        """Change the fake's state under its lock (the fake serialises on FILE.lock)."""
        with open(self.state + ".lock", "a") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            with open(self.state) as f:
                st = json.load(f)
            fn(st)
            with open(self.state + ".tmp", "w") as f:
                json.dump(st, f)
            os.rename(self.state + ".tmp", self.state)

    def uploads(self):
        """[(kind, bytes)] from the agent's debug line per upload."""
        return [(m.group(1), int(m.group(2)))
                for m in re.finditer(r"lotus: upload (full|patch) (\d+) bytes", self.log())]

    def stop(self):
        code = super().stop()
        if code != 0:
            print("---- agent stderr ----\n" + self.tail())
        check(code == 0, "agent exit status", code)
        shutil.rmtree(self.dir, ignore_errors=True)


def miner(srv):
    st, r = srv.api.get("miner_query", MINER)
    if st != 200:
        return None
    m = r["data"]
    m["workers"] = {w["hostName"]: w for w in m["workerInfo"]}
    return m


def run_with_agent(srv, body, **kw):
    agent = Agent(srv, **kw)
    try:
        body(agent)
    except BaseException:
        print("---- agent stderr (tail) ----\n" + "\n".join(agent.log().splitlines()[-40:]))
        raise
    finally:
        agent.stop()


@T.test
def record_changes_and_patches(srv):
    def body(agent):
        m = wait_until(lambda: miner(srv), 10, what="the miner record")
        check(m["minerId"] == MINER and m["deviceId"] == agent.did, m)
        check(m["minerBalance"].endswith("FIL") and m["minerBalanceAtto"].isdigit(), m)
        check(isinstance(m["totalSectors"], int) and m["totalSectors"] > 0, m)
        for k in ("preCommit1", "preCommit2", "waitSeed", "committing", "finalizeSector",
                  "effectiveSectors"):
            check(isinstance(m[k], int), k, m)
        check(set(m["workers"]) == {"pc1-01", "pc2-01", "c2-01"}, m["workers"].keys())
        pc1 = m["workers"]["pc1-01"]
        check(pc1["enabled"] is True and "PC1" in pc1["taskType"], pc1)
        jobs = [j for w in m["workers"].values() for q in ("currentQueue", "pendingQueue")
                for lst in w[q].values() for j in lst]
        # the job fields of docs/protocol.md#miner-records; `start` is what the agent sends
        # (stable), `time` the server renders from it, as lotus prints elapsed times.
        check(jobs and all(set(j) == {"id", "sector", "worker", "hostName", "task", "state",
                                      "time", "start"} for j in jobs), jobs)
        check(all(re.fullmatch(r"(\d+h)?(\d+m)?\d+s", j["time"]) for j in jobs), jobs)
        running = [j for w in m["workers"].values() for lst in w["currentQueue"].values()
                   for j in lst]
        check(running and all(j["state"] == "running" for j in running), running)
        check("error" not in m, m)

        # A worker is disabled in the fake: it shows through the REST API within ~2 intervals.
        def disable(st):
            for w in st["workers"]:
                if w["host"] == "pc2-01":
                    w["disabled"] = True
        t0 = time.monotonic()
        agent.edit_state(disable)
        wait_until(lambda: miner(srv)["workers"]["pc2-01"]["enabled"] is False, 3,
                   what="pc2-01 disabled in the record")
        print("change visible after %.2fs" % (time.monotonic() - t0))

        # And back: a second change, a second patch.
        def enable(st):
            for w in st["workers"]:
                if w["host"] == "pc2-01":
                    w["disabled"] = False
        agent.edit_state(enable)
        wait_until(lambda: miner(srv)["workers"]["pc2-01"]["enabled"] is True, 3,
                   what="pc2-01 enabled again")

        # One full upload (plus one more for the server's report_full_info after login), then
        # only patches, each much smaller than the whole record; a collection that finds
        # nothing new sends nothing (running jobs' elapsed times are not changes).
        wait_until(lambda: sum(1 for k, _ in agent.uploads() if k == "patch") >= 2, 5,
                   what="two patches")
        ups = agent.uploads()
        check(ups[0][0] == "full", ups)
        fulls = [n for k, n in ups if k == "full"]
        patches = [n for k, n in ups if k == "patch"]
        check(len(fulls) <= 2, "full uploads", ups)
        check(max(patches) < fulls[0], ups)
        check(sum(patches) / len(patches) < fulls[0] / 2, ups)
    run_with_agent(srv, body)


@T.test
def hanging_lotus_miner_keeps_device_online(srv):
    def body(agent):
        m = wait_until(lambda: miner(srv), 10, what="the miner record")
        balance = m["minerBalance"]
        check(srv.dev_state(agent.did) == "online")
        agent.set_mode("hang")
        m = wait_until(lambda: (lambda x: x if x and "error" in x else None)(miner(srv)), 6,
                       what="an error in the record")
        check("lotus-miner info: timed out after 500ms" in m["error"], m["error"])
        check(m["minerBalance"] == balance and set(m["workers"]) == {"pc1-01", "pc2-01", "c2-01"},
              m)
        # Over more than three heartbeat tolerances (3 x 1.5 s) the device never leaves online.
        t_end = time.monotonic() + 5.5
        while time.monotonic() < t_end:
            state = srv.dev_state(agent.did)
            check(state == "online", "dev_state while lotus-miner hangs:", state)
            time.sleep(0.25)
        check("lotus-miner info: timed out" in miner(srv)["error"])
        # Garbage output is an error too, and recovery removes the error.
        agent.set_mode("garbage")
        wait_until(lambda: "unrecognised output" in miner(srv).get("error", ""), 5,
                   what="garbage reported")
        agent.set_mode("normal")
        wait_until(lambda: "error" not in miner(srv), 5, what="the error cleared")
        check(srv.dev_state(agent.did) == "online")
    run_with_agent(srv, body)


if __name__ == "__main__":
    T.main()
