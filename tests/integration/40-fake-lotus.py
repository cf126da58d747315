# SPDX-License-Identifier: MIT
"""40-fake-lotus.py -- tools/fake-lotus-miner: its outputs have lotus-miner's (miner/v1.36.1)
shape, its simulated miner moves on between invocations (jobs change state, sectors reach
Proving), concurrent invocations do not corrupt the state, and the failure modes misbehave as
documented (hang, garbage, slow, fail). Standard library only; EF_BUILD is the build dir.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

BUILD = os.environ.get("EF_BUILD", ".")
BIN = os.path.join(BUILD, "tools", "fake-lotus-miner", "fake-lotus-miner")
T0 = 1790000000000  # a fixed wall clock (ms) for the deterministic runs

TMP = tempfile.mkdtemp(prefix="ef-fake-lotus-")


def run(*args, state=None, mode=None, timeout=20, check=True):
    env = dict(os.environ)
    env.pop("FAKE_LOTUS_MODE", None)
    env.pop("FAKE_LOTUS_STATE", None)
    env["TMPDIR"] = TMP
    if mode:
        env["FAKE_LOTUS_MODE"] = mode
    cmd = [BIN] + (["--state", state] if state else []) + list(args)
    p = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout)
    if check:
        assert p.returncode == 0, f"{cmd} -> {p.returncode}: {p.stderr.decode(errors='replace')}"
    return p


def out(*args, **kw):
    return run(*args, **kw).stdout.decode()


def new_state(name):
    path = os.path.join(TMP, name + ".json")
    for suffix in ("", ".lock"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    return path


# ----- format checkers (raise AssertionError with the offending line) -----

FIL = r"(-?\d+(\.\d{1,3})? ([afpnm]|\u03bc)?FIL|0)"
SIZE = r"\d+(\.\d+)? (B|KiB|MiB|GiB|TiB|PiB|EiB)"
DECI = r"(\d+(\.\d+)?(e\+\d+)? (Ki|Mi|Gi|Ti|Pi|Ei)?|0 B)"
DUR = r"(?:(?:\d+h\d+m|\d+m)?\d+(?:\.\d+)?s|\d+ms)"

INFO_LINES = [
    r"Enabled subsystems: \[Mining Sealing SectorStorage\]",
    rf"StartTime: \d+h\d+m\d+s \(started at \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC\)",
    rf"Chain: \[sync ok\] \[basefee {FIL}\]",
    r"Miner: f01234 \(32 GiB sectors\)",
    rf"Power: {DECI} / {DECI} \(\d+\.\d{{4}}%\)",
    rf"\tRaw: {SIZE} / {SIZE} \(\d+\.\d{{4}}%\)",
    rf"\tCommitted: {SIZE}",
    rf"\tProving: {SIZE}( \({SIZE} Faulty, \d+\.\d\d%\))?",
    rf"Projected average block win rate: \d+\.\d\d/week \(every {DUR}\)",
    rf"Projected block win with 99\.9% probability every {DUR}",
    r"\(projections DO NOT account for future network and miner growth\)",
    r"",
    rf"Miner Balance:    {FIL}",
    rf"      PreCommit:  {FIL}",
    rf"      Pledge:     {FIL}",
    rf"      Vesting:    {FIL}",
    rf"      Available:  {FIL}",
    rf"Market Balance:   {FIL}",
    rf"       Locked:    {FIL}",
    rf"       Available: {FIL}",
    rf"Worker Balance:   {FIL}",
    rf"       Control:   {FIL}",
    rf"Total Spendable:  {FIL}",
    r"",
    r"Beneficiary:\tf0\d+",
    r"",
    r"Sectors:",
    r"\tTotal: \d+",
]
SECTOR_STATES = ["Proving", "Packing", "PreCommit1", "PreCommit2", "PreCommitWait", "WaitSeed",
                 "Committing", "CommitWait", "FinalizeSector", "Removed", "Faulty"]


def check_info(text):
    lines = text.split("\n")
    assert lines[-1] == "", "info must end with a newline"
    lines = lines[:-1]
    for i, pat in enumerate(INFO_LINES):
        assert re.fullmatch(pat, lines[i]), f"info line {i + 1} {lines[i]!r} !~ {pat!r}"
    rest = lines[len(INFO_LINES):]
    states = {}
    while rest and rest[0].startswith("\t"):
        m = re.fullmatch(r"\t(\w+): (\d+)", rest.pop(0))
        assert m and m.group(1) in SECTOR_STATES, f"bad sector line {m}"
        states[m.group(1)] = int(m.group(2))
    order = [SECTOR_STATES.index(s) for s in states]
    assert order == sorted(order), f"sector states out of lotus order: {list(states)}"
    assert rest[0] == "" and re.fullmatch(r"Workers: Seal\(\d+\) WdPoSt\(0\) WinPoSt\(0\)", rest[1]), rest
    assert len(rest) == 2, f"trailing lines {rest[2:]}"
    total = int(re.search(r"\tTotal: (\d+)", text).group(1))
    assert total == sum(states.values()), "Total is not the sum of the states"
    return states


WORKER_LINES = {
    "head": re.compile(r"Worker [0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}, host \S+( \(disabled\))?"),
    "TASK": re.compile(r"\tTASK: ((FIN|GET|C1|C2|PC2|PC1|AP)\(\d+(/\d+)?\) )+"),
    "CPU": re.compile(r"\tCPU:  \[\|*( *)\] \d+/\d+ core\(s\) in use"),
    "RAM": re.compile(rf"\tRAM:  \[[| ]+\] \d+% {SIZE}/{SIZE}"),
    "VMEM": re.compile(rf"\tVMEM: \[[| ]+\] \d+% {SIZE}/{SIZE}"),
    "GPUSUM": re.compile(r"\tGPU:  \[[| ]+\] \d+% \d+\.\d\d/\d+ gpu\(s\) in use"),
    "GPU": re.compile(r"\tGPU: [^,]+, (not )?used"),
}
TASK_ORDER = ["FIN", "GET", "C1", "C2", "PC2", "PC1", "AP"]


def check_workers(text):
    lines = text.rstrip("\n").split("\n")
    ids, i = [], 0
    while i < len(lines):
        assert WORKER_LINES["head"].fullmatch(lines[i]), lines[i]
        ids.append(lines[i].split()[1].rstrip(","))
        i += 1
        if lines[i].startswith("\tTASK:"):
            assert WORKER_LINES["TASK"].fullmatch(lines[i]), repr(lines[i])
            tasks = re.findall(r"(\w+)\(", lines[i])
            assert tasks == sorted(tasks, key=TASK_ORDER.index), f"TASK order {tasks}"
            i += 1
        for key in ("CPU", "RAM", "VMEM"):
            assert WORKER_LINES[key].fullmatch(lines[i]), repr(lines[i])
            bar = lines[i][lines[i].index("[") + 1:lines[i].index("]")]
            assert len(bar) >= 64, "bars are at least 64 columns"
            i += 1
        if i < len(lines) and lines[i].startswith("\tGPU:  ["):
            i += 1
            while i < len(lines) and lines[i].startswith("\tGPU: "):
                assert WORKER_LINES["GPU"].fullmatch(lines[i]), lines[i]
                i += 1
    assert ids == sorted(ids), "workers must be sorted by id"
    return ids


JOB_HEADER = ["ID", "Sector", "Worker", "Hostname", "Task", "State", "Time"]


def parse_jobs(text):
    """Rows as dicts, using the header's column offsets (tabwriter alignment)."""
    lines = text.rstrip("\n").split("\n")
    head = lines[0]
    assert head.split() == JOB_HEADER, head
    starts = [head.index(h) for h in JOB_HEADER]
    for a, b, h in zip(starts, starts[1:], JOB_HEADER):
        assert b - a >= len(h) + 2, "columns are padded by 2"
    rows = []
    for line in lines[1:]:
        cells = [line[a:b].strip() if b else line[a:] for a, b in zip(starts, starts[1:] + [None])]
        for a in starts[1:]:
            assert line[a - 1] == " " and line[a] != " ", f"misaligned job line {line!r}"
        row = dict(zip(JOB_HEADER, cells))
        assert re.fullmatch(r"[0-9a-f]{8}", row["ID"]) and re.fullmatch(r"[0-9a-f]{8}", row["Worker"]), line
        assert row["Sector"].isdigit() and row["Task"] in TASK_ORDER, line
        assert re.fullmatch(r"running|prepared|ret-wait|assigned\(\d+\)", row["State"]), line
        assert re.fullmatch(DUR + "|n/a", row["Time"]), line
        if row["State"].startswith("assigned"):
            assert row["ID"] == "00000000", line
        if row["State"] == "ret-wait":
            assert row["Worker"] == "00000000" and row["Time"] == "n/a", line
        rows.append(row)
    rank = {"ret-wait": -1, "running": 0, "prepared": 1}
    keys = [rank.get(r["State"]) if r["State"] in rank else 1 + int(r["State"][9:-1]) for r in rows]
    assert keys == sorted(keys), "jobs must be sorted by RunWait"
    return rows


def parse_sectors(text):
    lines = text.rstrip("\n").split("\n")
    cols = ["ID", "State", "OnChain", "Active", "Expiration", "Deals"]
    assert lines[0].split() == cols, lines[0]
    assert lines[0].endswith("  "), "lib/tablewriter pads the last column too"
    width = len(lines[0])
    starts = [lines[0].index(c) for c in cols]
    out = {}
    for line in lines[1:]:
        assert len(line) == width, f"row width {len(line)} != header {width}: {line!r}"
        cells = [line[a:b].strip() for a, b in zip(starts, starts[1:] + [width])]
        sid, state, onchain, active, exp, deals = cells
        assert state in SECTOR_STATES and state != "Removed", line
        assert onchain in ("YES", "NO") and active in ("YES", "NO") and deals == "CC", line
        assert exp == "n/a" or re.fullmatch(r"\d+ \(in \d+ \w+( \d+ \w+)?\)", exp), line
        out[int(sid)] = state
    assert list(out) == sorted(out), "sectors sorted by id"
    return out


# ----- tests -----

def test_version():
    assert out("--version").strip().startswith("lotus-miner version 1.36.1+mainnet")


def test_formats():
    st = new_state("formats")
    check_info(out("info", state=st))
    ids = check_workers(out("sealing", "workers", state=st))
    assert len(ids) == 3
    rows = parse_jobs(out("sealing", "jobs", state=st))
    assert rows, "a miner a day old has jobs"
    sectors = parse_sectors(out("sectors", "list", state=st))
    assert sum(1 for s in sectors.values() if s == "Proving") >= 900
    # options of a new state, and lotus flags that are accepted
    st2 = new_state("opts")
    info = out("--color=false", "info", "--hide-sectors-info", "--miner", "t01000",
               "--workers=5", state=st2)
    assert "Miner: t01000 (32 GiB sectors)" in info and "Sectors:" not in info
    assert len(check_workers(out("sealing", "workers", state=st2))) == 5


def test_state_advances():
    """With the real clock: at speed 36000 (10 h per second) jobs move between two runs."""
    st = new_state("advance")
    a = parse_jobs(out("--speed", "36000", "sealing", "jobs", state=st))
    time.sleep(0.5)  # deliberately: real time passes between the two runs
    b = parse_jobs(out("sealing", "jobs", state=st))
    before = {(r["Sector"], r["Task"]): r for r in a}
    after = {(r["Sector"], r["Task"]): r for r in b}
    changed = [k for k in before if k not in after or after[k]["State"] != before[k]["State"]]
    assert changed, "no job changed state in 5 simulated hours"


def test_sector_reaches_proving():
    """Deterministic clock (--now): follow the newest sector until it is Proving."""
    st = new_state("proving")
    first = parse_sectors(out("--now", str(T0), "--speed", "60", "sectors", "list", state=st))
    sid = max(first)
    assert first[sid] in ("Packing", "PreCommit1"), first[sid]
    proving0 = check_info(out("--now", str(T0), "info", state=st))["Proving"]
    seen, job_changes, prev_jobs = [first[sid]], 0, None
    for minute in range(1, 16):  # 15 wall minutes = 15 simulated hours
        now = str(T0 + minute * 60000)
        state = parse_sectors(out("--now", now, "sectors", "list", state=st))[sid]
        if state != seen[-1]:
            seen.append(state)
        jobs = {(r["Sector"], r["Task"]): r["State"] for r in parse_jobs(out("--now", now, "sealing", "jobs", state=st))}
        if prev_jobs is not None:
            job_changes += sum(1 for k, v in prev_jobs.items() if jobs.get(k) != v)
        prev_jobs = jobs
        if state == "Proving":
            break
    order = ["Packing", "PreCommit1", "PreCommit2", "PreCommitWait", "WaitSeed", "Committing",
             "CommitWait", "FinalizeSector", "Proving"]
    assert seen[-1] == "Proving", f"sector {sid} went {seen}"
    idx = [order.index(s) for s in seen]
    assert idx == sorted(idx), f"states out of order: {seen}"
    assert job_changes > 0
    info = check_info(out("--now", str(T0 + 16 * 60000), "info", state=st))
    assert info["Proving"] > proving0, "Proving count grew"


def test_deterministic():
    """Same seed and elapsed time, one step or three: same state and output."""
    a, b = new_state("det-a"), new_state("det-b")
    for st in (a, b):
        out("--now", str(T0), "--speed", "100", "--seed", "42", "info", state=st)
    ja = out("--now", str(T0 + 600000), "sealing", "jobs", state=a)
    for t in (100000, 333333, 600000):
        jb = out("--now", str(T0 + t), "sealing", "jobs", state=b)
    assert ja == jb
    with open(a) as fa, open(b) as fb:
        assert json.load(fa) == json.load(fb)
    c = new_state("det-c")
    jc = out("--now", str(T0), "--seed", "43", "sealing", "workers", state=c)
    assert jc != out("--now", str(T0), "sealing", "workers", state=a), "seed matters"


def test_concurrent():
    st = new_state("concurrent")
    out("--speed", "100000", "info", state=st)
    env = dict(os.environ, TMPDIR=TMP)
    env.pop("FAKE_LOTUS_MODE", None)
    procs = [subprocess.Popen([BIN, "--state", st, cmd[0], *cmd[1:]], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(4) for cmd in (["info"], ["sealing", "jobs"], ["sectors", "list"])]
    for p in procs:
        o, e = p.communicate(timeout=30)
        assert p.returncode == 0, e
        assert o
    with open(st) as f:
        json.load(f)
    check_info(out("info", state=st))
    assert not [n for n in os.listdir(TMP) if ".tmp." in n], "temporary files left behind"


def test_modes():
    # hang: still running after 1 s, killed
    p = subprocess.Popen([BIN, "info"], env=dict(os.environ, FAKE_LOTUS_MODE="hang", TMPDIR=TMP),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.wait(timeout=1)
        raise AssertionError("hang mode exited")
    except subprocess.TimeoutExpired:
        pass
    p.kill()
    p.wait()
    # garbage: bytes that are not lotus output
    g = run("sealing", "jobs", mode="garbage")
    assert len(g.stdout) >= 1024 and not g.stdout.startswith(b"ID")
    # slow: answers, after 2 s
    t = time.monotonic()
    s = run("sealing", "jobs", mode="slow", state=new_state("slow"))
    assert time.monotonic() - t >= 1.9
    parse_jobs(s.stdout.decode())
    # fail: lotus' error, exit 1, nothing on stdout
    f = run("info", mode="fail", check=False)
    assert f.returncode == 1 and f.stdout == b""
    assert f.stderr.startswith(b"ERROR: could not get API info")
    bad = run("info", mode="nonsense", check=False)
    assert bad.returncode == 2 and b"FAKE_LOTUS_MODE" in bad.stderr


def test_bad_input():
    st = new_state("bad")
    for content in ("", "nonsense", "{}", '{"format":"fake-lotus-miner/1"}', "[1,2,3]"):
        with open(st, "w") as f:
            f.write(content)
        p = run("info", state=st, check=False)
        assert p.returncode == 1 and b"bad state file" in p.stderr and p.stdout == b"", content
    out("--reset", "info", state=st)  # --reset recovers
    with open(st) as f:
        doc = json.load(f)
    doc["jobs"][0]["worker"] = 1000
    with open(st, "w") as f:
        json.dump(doc, f)
    p = run("sealing", "jobs", state=st, check=False)
    assert p.returncode == 1 and b"worker" in p.stderr
    for args in (["--workers", "0", "info"], ["--speed", "x", "info"], ["--bogus", "info"],
                 ["frobnicate"], ["--miner", "x99", "info"], ["--duration", "PC9=1", "info"],
                 ["--state"]):
        p = run(*args, state=new_state("bad2"), check=False)
        assert p.returncode == 1 and p.stderr, args


def main():
    if not os.path.exists(BIN):
        print(f"missing {BIN}: build the fake-lotus-miner target")
        return 1
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]
    only = os.environ.get("EF_ONLY")
    failed = 0
    for name, fn in tests:
        if only and name not in only.split(","):
            continue
        t = time.monotonic()
        try:
            fn()
            print(f"ok   {name} ({time.monotonic() - t:.1f}s)")
        except Exception:
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
    if failed or os.environ.get("EF_KEEP"):
        print(f"state files kept in {TMP}")
    else:
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"{len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
