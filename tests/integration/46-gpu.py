#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""46-gpu.py -- the agent's gpu collector end to end: a real edgefleet-agent with
`collectors = system, gpu`, NVML being the NVML-shaped fake library of the tests
(tests/fake-nvml, through EF_LAZY_NVML_SONAME) and sys_root the fake amdgpu tree
(tests/data/agent/gpu-amd), uploads `gpuInfo` in its status; the server's REST status carries it
unchanged, and a miner record whose worker is that agent's host shows it as the worker's
`gpuInfo`. An agent on a host with neither NVML nor an AMD card skips the collector, says why,
and keeps uploading its other sections."""
import os
import socket

from efharness import AgentProcess, Suite, build_dir, check, source_dir, wait_until

T = Suite("46-gpu", heartbeat_tolerance="10s", heartbeat_tolerance_miss="5s")

MIB = 1024 * 1024
# What the fake library and the fake tree hold (fake_nvml.c, tests/data/agent/gpu-amd).
EXPECTED = [
    {"index": 0, "vendor": "nvidia", "name": "NVIDIA GeForce RTX 3090", "temperature": 67,
     "utilization": 98, "memoryUsed": 10240 * MIB, "memoryTotal": 24576 * MIB, "power": 341.5},
    {"index": 1, "vendor": "nvidia", "name": "NVIDIA RTX A5000", "temperature": 41,
     "utilization": 0, "memoryUsed": 312 * MIB, "memoryTotal": 24564 * MIB},  # no power
    {"index": 0, "vendor": "amd", "name": "AMD Radeon RX 6800 XT", "temperature": 71.0,
     "utilization": 87, "memoryUsed": 9476571136, "memoryTotal": 17163091968, "power": 254.0},
    {"index": 2, "vendor": "amd", "name": "AMD GPU 0x744c", "temperature": 45.5,
     "utilization": 3, "power": 31.0},
]


def fake_nvml():
    p = os.path.join(build_dir(), "tests", "fake-nvml", "libef-fake-nvml.so")
    check(os.path.exists(p), "fake NVML library not built", p)
    return p


def agent(srv, sn, tree, nvml):
    d = os.path.join(srv.dir, "agent-" + sn)
    os.makedirs(d, exist_ok=True)
    return AgentProcess(srv, ["--sn", sn, "--model", "agent", "--password", "pw",
                              "--data-dir", d, "--status-interval", "1s",
                              "--collectors", "system, gpu",
                              "--sys-root", os.path.join(source_dir(), "tests", "data", "agent",
                                                         tree)],
                        env={"EF_LAZY_NVML_SONAME": nvml}, dir=d)


def status(srv, did):
    st, r = srv.api.get("device_statusInfo_query", did)
    return r["data"] if st == 200 and isinstance(r.get("data"), dict) else None


@T.test
async def gpu_info_reaches_rest_and_the_worker(srv):
    did = srv.add_device("SN-GPU1", "agent", "pw")
    ag = agent(srv, "SN-GPU1", "gpu-amd", fake_nvml())
    try:
        wait_until(lambda: (status(srv, did) or {}).get("gpuInfo"), 15, what="gpuInfo in status")
        d = status(srv, did)
        check(d["gpuInfo"] == EXPECTED, d["gpuInfo"])
        check("load_avg" in d, "the system collector still runs", d)
        check("collector gpu: 2 NVIDIA GPU(s) through NVML, 2 AMD card(s)" in ag.log(), ag.tail())

        # A miner whose worker is this agent's host: the worker shows the agent's GPUs.
        host = d["host_name"]
        check(host == socket.gethostname(), host)
        mid = srv.add_device("SN-MINER", "miner", "pw")
        async with srv.connect() as m:
            await m.login(device_id=mid, password="pw")
            lotus_gpus = [{"name": "NVIDIA GeForce RTX 3090", "used": True}]
            await m.send_json({"type": "upload_miner_info", "Headers": {"full": True}, "data": {
                "minerId": "f01234", "totalSectors": 0,
                "workerInfo": {host: {"hostName": host, "taskType": ["C2"], "gpus": lotus_gpus,
                                      "currentQueue": {}, "pendingQueue": {}}}}})
            check((await m.recv_json(3))["type"] == "send_minerInfo_response")
            st, r = srv.api.get("miner_query", "f01234")
            check(st == 200, st, r)
            w = [w for w in r["data"]["workerInfo"] if w["hostName"] == host]
            check(len(w) == 1, r["data"])
            check(w[0].get("gpuInfo") == EXPECTED, w[0])
            check(w[0].get("gpus") == lotus_gpus, "lotus' own GPU list is kept", w[0])
    finally:
        check(ag.stop() == 0, ag.tail())


@T.test
def no_gpu_host_skips_the_collector(srv):
    did = srv.add_device("SN-GPU0", "agent", "pw")
    ag = agent(srv, "SN-GPU0", "gpu-none", "libef-no-such-nvml.so.1")
    try:
        wait_until(lambda: "load_avg" in (status(srv, did) or {}), 15, what="status")
        # Two more uploads after the first: still no gpuInfo, the agent still running.
        seen = set()
        def uploads():
            d = status(srv, did)
            if d:
                seen.add(d.get("uptime_s"))
                check("gpuInfo" not in d, d)
            return len(seen) >= 3
        wait_until(uploads, 15, what="three status uploads")
        log = ag.log()
        check("collector gpu: no GPU found (NVIDIA GPUs need NVML (libef-no-such-nvml.so.1)" in log,
              ag.tail())
        check("collector gpu: cannot start (not found), skipped" in log, ag.tail())
        check("collector system: enabled" in log, ag.tail())
    finally:
        check(ag.stop() == 0, ag.tail())


if __name__ == "__main__":
    T.main()
