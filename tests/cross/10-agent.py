#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""10-agent.py -- the edgefleet-agent of an EF_EDGE_ONLY build, in a cross build an ARM binary
run under qemu-user, against the edgefleetd of a native build (docs/cross.md): it logs in by
sn+model, uploads its status (the system collector's sections, read back through REST
device_statusInfo_query, several uploads), runs a custom order from its config file, and stops on
SIGTERM (exit 0, offline). Prints the agent's RSS after login and the uploads (under qemu-user
that is the emulator's process: approximate, see docs/cross.md) and the binaries' sizes.

Environment (tests/cross/CMakeLists.txt): EF_BUILD, the native build with src/server/edgefleetd;
EF_AGENT, the agent to run; EF_AGENT_EMULATOR, what runs it ("|" between words; empty: run it
directly); EF_LIBEDGEFLEET, the shared library beside it (its size is printed); EF_CROSS_IDLE,
a libc-only program of the same build that waits (idle.c), whose RSS under the emulator is the
baseline printed beside the agent's. The figures are printed on lines that start with
"cross-agent" (`make test-cross` shows them).
Exit 77 (skipped) only when the emulator is not installed; every other failure is a failure."""
import os
import shutil
import subprocess
import sys
import time

AGENT = os.environ.get("EF_AGENT", "")
EMU = [w for w in os.environ.get("EF_AGENT_EMULATOR", "").split("|") if w]
CROSS = os.environ.get("EF_CROSSCOMPILING", "").upper() in ("1", "ON", "TRUE", "YES")

if CROSS and not EMU:
    print("SKIP: no qemu-user for this architecture (install qemu-user-static: scripts/cross.sh)")
    sys.exit(77)
if EMU and not (os.path.isabs(EMU[0]) and os.access(EMU[0], os.X_OK) or shutil.which(EMU[0])):
    print("SKIP: the emulator %s is not installed (scripts/cross.sh installs it)" % EMU[0])
    sys.exit(77)
if not os.environ.get("EF_BUILD") or not os.access(
        os.path.join(os.environ["EF_BUILD"], "src", "server", "edgefleetd"), os.X_OK):
    raise SystemExit("10-agent: no edgefleetd in EF_BUILD=%r: configure this build with "
                     "-DEF_NATIVE_BUILD=<a native build directory> (make test-cross does)"
                     % os.environ.get("EF_BUILD"))

from efharness import AgentProcess, Suite, _live_procs, check, wait_until  # noqa: E402

# ELF e_machine -> name: the agent under test must be the architecture it claims to be.
MACHINES = {62: "x86-64", 183: "aarch64", 40: "arm", 3: "i386"}
# qemu-user translates every instruction: timings are generous.
T = Suite("cross-agent", log_flush="20ms")


def elf_machine(path):
    with open(path, "rb") as f:
        h = f.read(20)
    check(h[:4] == b"\x7fELF", path, "is not an ELF file")
    order = "little" if h[5] == 1 else "big"
    return MACHINES.get(int.from_bytes(h[18:20], order), "machine %d" % int.from_bytes(h[18:20], order)), \
        32 if h[4] == 1 else 64


def rss_kb(pid):
    """VmRSS and VmHWM of the process (the emulator's whole process under qemu-user)."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


def baseline_kb():
    """VmRSS of EF_CROSS_IDLE run the way the agent is (the emulator's own share), or None."""
    idle = os.environ.get("EF_CROSS_IDLE")
    if not idle or not os.path.exists(idle):
        return None
    p = subprocess.Popen(EMU + [idle])
    try:
        time.sleep(1.0)
        return rss_kb(p.pid)["VmRSS"] if p.poll() is None else None
    finally:
        p.kill()
        p.wait()


def smaps_split(pid, agent):
    """RSS (kB) of the guest's file mappings (the agent, its ARM libraries) apart from the rest:
    qemu's own binary, its translation buffer, and the anonymous memory of both, which
    /proc cannot tell apart."""
    guest = other = 0
    name = None
    agent = os.path.realpath(agent)
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if parts and "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
                name = parts[5] if len(parts) > 5 else ""
            elif parts and parts[0] == "Rss:":
                kb = int(parts[1])
                if name and (name == agent or "-linux-gnu" in name or name.startswith("/lib/ld-")):
                    guest += kb
                else:
                    other += kb
    return guest, other


class CrossAgent(AgentProcess):
    """AgentProcess, started through the emulator (efharness' class runs $EF_BUILD's agent)."""

    def __init__(self, srv, args):
        self.dir = os.path.join(srv.dir, "agent")
        os.makedirs(self.dir, exist_ok=True)
        self.stderr_path = os.path.join(self.dir, "agent.stderr")
        self._err = open(self.stderr_path, "wb")
        cmd = EMU + [AGENT, "--server", "ws://127.0.0.1:%d/ws" % srv.port] + list(args)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._err, stderr=self._err)
        _live_procs.add(self.proc)


@T.test
def cross_agent_login_status_order(srv):
    arch, bits = elf_machine(AGENT)
    print("cross-agent binary: %s (%s, %d-bit)%s" % (AGENT, arch, bits,
                                        " under " + " ".join(EMU) if EMU else ""))
    if CROSS:
        check(arch in ("aarch64", "arm"), "a cross build's agent must be an ARM binary", arch)
    did = srv.add_device("SN-ARM1", "arm-agent", "pw")
    d = os.path.join(srv.dir, "agent")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "agent.conf")
    with open(conf, "w") as f:
        # /bin/echo is the build machine's: the emulated agent fork()s and execs it natively.
        f.write("order.say = /bin/echo said {text}\n")
    t0 = time.monotonic()
    ag = CrossAgent(srv, ["--config", conf, "--sn", "SN-ARM1", "--model", "arm-agent",
                          "--password", "pw", "--data-dir", d, "--status-interval", "1s",
                          "--reconnect-interval", "300ms", "--max-retries", "0"])
    try:
        wait_until(lambda: srv.dev_state(did) == "online", 60, interval=0.05, what="agent online")
        t_login = time.monotonic() - t0
        print("cross-agent logged in after %.2fs" % t_login)
        mem_login = rss_kb(ag.proc.pid)

        def status():
            st, r = srv.api.get("device_statusInfo_query", did)
            return r["data"] if st == 200 else None
        wait_until(lambda: status() and "load_avg" in status(), 30, what="collector status")
        s = status()
        for k in ("CPU_info", "Memory_info", "Disk_info", "host_name", "uptime_s", "load_avg"):
            check(k in s, k, s)
        check(s["Memory_info"]["total_memory_mb"] > 0, s)
        check(s["device_id"] == did, s)

        # A few more uploads (one a second): each one's uptime_s is new.
        seen = {s["uptime_s"]}
        wait_until(lambda: seen.add(status()["uptime_s"]) or len(seen) >= 4, 30, interval=0.2,
                   what="four status uploads")
        print("cross-agent status uploads seen: %d (uptime_s %s)" % (len(seen), sorted(seen)))

        # A custom order from the config file, its parameter substituted.
        t1 = time.monotonic()
        st, r = srv.api.post("give_order", {"device_id": did, "order": "say",
                                            "params": {"text": "hello from " + arch}})
        check(st == 200 and ("said hello from " + arch) in r["data"]["message"], st, r)
        print("cross-agent custom order answered in %.2fs: %r" % (time.monotonic() - t1,
                                                       r["data"]["message"].strip()))
        st, r = srv.api.post("give_order", {"device_id": did, "order": "no_such_order"})
        check(st == 502 and r["message"] == "order not in config", st, r)

        mem = rss_kb(ag.proc.pid)
        guest, other = smaps_split(ag.proc.pid, AGENT)
        print("cross-agent RSS %s%s: after login %d kB; after %d uploads and 2 orders %d kB "
              "(peak %d kB)" % (arch, " (the qemu-user process: approximate)" if EMU else "",
                                mem_login["VmRSS"], len(seen), mem["VmRSS"], mem["VmHWM"]))
        if EMU:
            base = baseline_kb()
            print("cross-agent RSS %s: file mappings of the agent and its %s libraries %d kB; "
                  "the rest (qemu's binary, its translation buffer, the anonymous memory of guest "
                  "and emulator together) %d kB; a libc-only program idle under the same qemu: "
                  "%s kB, so the agent's own share is about %s kB"
                  % (arch, arch, guest, other, base if base is not None else "?",
                     mem["VmRSS"] - base if base is not None else "?"))
        for p in (AGENT, os.environ.get("EF_LIBEDGEFLEET", "")):
            if p and os.path.exists(p):
                print("cross-agent size %s: %d bytes (not stripped)" % (os.path.basename(os.path.realpath(p)),
                                             os.path.getsize(os.path.realpath(p))))

        check(ag.stop(timeout=30) == 0, "agent exit code")
        wait_until(lambda: srv.dev_state(did) == "offline", 10, what="offline after SIGTERM")
    except Exception:
        print("---- agent stderr ----\n" + ag.tail())
        raise
    finally:
        ag.stop(timeout=30)


if __name__ == "__main__":
    T.main()
