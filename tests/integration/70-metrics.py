#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""70-metrics.py -- Prometheus /metrics (docs/metrics.md): on the main listener only with an API
token (none or a wrong one: 401; not GET: 405), on metrics_listen without one (other paths 404);
the exposition text carries the values the test put in (devices by state, a device's status, a
miner's balances, sectors, deadlines, workers and jobs, logins); and Debian's real `prometheus`
scrapes metrics_listen and answers PromQL queries over its HTTP API with those values."""

import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from efharness import Suite, check, free_port, wait_until

T = Suite("70-metrics")

STATUS_ACK = "send_statusInfo_response"
MINER_ACK = {"type": "send_minerInfo_response", "Headers": {}, "data": {}}
JOB = {"id": "7e19a74f", "sector": "1", "worker": "a555f37e", "hostName": "worker01",
       "task": "PC1", "state": "running", "start": 1700000000000}
WAIT = {"id": "8e19a74f", "sector": "2", "worker": "a555f37e", "hostName": "worker01",
        "task": "PC2", "state": "assigned(1)", "start": 1700000000000}


def record():
    return {"minerId": "f01234", "minerBalance": "244.058 mFIL", "workerBalance": "39.522 FIL",
            "postBalance": "1.5 FIL", "postBalanceAtto": "1500000000000000000",
            "rawBytePowerBytes": 1099511627776, "totalSectors": 7, "errorSectors": 1,
            "sectorStates": {"Proving": 5, "PreCommit1": 1, "Faulty": 1},
            "faultySectors": 1, "currentDeadline": 3,
            "deadlines": [{"index": 3, "partitions": 2, "provenPartitions": 1, "sectors": 7,
                           "faults": 1}],
            "workerInfo": {
                "worker01": {"hostName": "worker01", "taskType": ["PC1", "PC2"],
                             "taskState": "running", "enabled": True,
                             "currentQueue": {"PC1": [JOB]}, "pendingQueue": {"PC2": [WAIT]}},
                "worker02": {"hostName": "worker02", "taskType": ["C2"], "enabled": False,
                             "currentQueue": {}, "pendingQueue": {}}}}


STATUS = {"CPU_info": {"user_cpu_time": 1.0, "system_cpu_time": 1.0, "idle_cpu_time": 1.0,
                       "io_wait_cpu_time": 0.0},
          "Memory_info": {"total_memory_mb": 1024, "free_memory_mb": 512, "buff_cache_mb": 0},
          "Disk_info": {"root_total_size_mb": 100, "root_used_size_mb": 40,
                        "root_used_percent": 40.0},
          "cpu_usage_percent": 12.5, "load_avg": {"1": 0.75, "5": 0.5, "15": 0.25},
          "cpu_temperature": 61.0, "net_io": [{"name": "eth0", "rx": 1000, "tx": 2000}],
          "gpuInfo": [{"index": 0, "temperature": 70, "utilization": 99}]}

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels)): value}; every sample line must parse, every family have
    HELP and TYPE lines before its samples, and no family appear twice."""
    out, typed, seen = {}, set(), []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name = line.split()[2]
            check(name not in typed, "family twice", name)
            typed.add(name)
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        check(m is not None, "bad sample line", line)
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        check(name in typed or base in typed, "sample before its TYPE", line)
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        out[(name, labels)] = float(m.group(4))
        seen.append(name)
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def get(port, path="/metrics", token=None, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": "Bearer " + token} if token else {}
        conn.request(method, path, headers=headers)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode()
    finally:
        conn.close()


async def populate(srv):
    """Three devices registered, two connected (one a miner, one with a status), one miner."""
    ids = [srv.add_device("SN-M%d" % i, "m", "pw") for i in range(3)]
    devs = []
    for did in ids[:2]:
        d = srv.connect()
        await d.__aenter__()
        await d.login(device_id=did, password="pw")
        devs.append(d)
    await devs[0].send_json({"type": "upload_status_info", "Headers": {}, "data": STATUS})
    await devs[0].recv_type(STATUS_ACK)
    await devs[1].send_json({"type": "upload_miner_info", "Headers": {"full": True},
                             "data": record()})
    check(await devs[1].recv_json(2) == MINER_ACK)
    return ids, devs


def check_values(s, ids):
    check(value(s, "edgefleet_devices", state="online") == 2, s)
    check(value(s, "edgefleet_devices", state="offline") == 1)
    check(value(s, "edgefleet_devices", state="Unknown") == 0)
    d = ids[0]
    check(value(s, "edgefleet_device_online", device=d) == 1)
    check(value(s, "edgefleet_device_cpu_usage_percent", device=d) == 12.5)
    check(value(s, "edgefleet_device_load1", device=d) == 0.75)
    check(value(s, "edgefleet_device_memory_total_bytes", device=d) == 1024 * 1048576)
    check(value(s, "edgefleet_device_root_used_percent", device=d) == 40)
    check(value(s, "edgefleet_device_network_receive_bytes_per_second", device=d,
                interface="eth0") == 1000)
    check(value(s, "edgefleet_device_gpu_temperature_celsius", device=d, gpu="0") == 70)
    check(value(s, "edgefleet_device_online", device=ids[2]) is None, "offline device listed")
    m = "f01234"
    check(value(s, "edgefleet_miner_sectors", miner=m, state="Proving") == 5)
    check(value(s, "edgefleet_miner_sectors", miner=m, state="Faulty") == 1)
    check(abs(value(s, "edgefleet_miner_balance_fil", miner=m, kind="worker") - 39.522) < 1e-9)
    check(abs(value(s, "edgefleet_miner_balance_fil", miner=m, kind="miner") - 0.244058) < 1e-12)
    check(value(s, "edgefleet_miner_balance_fil", miner=m, kind="control") == 1.5)
    check(value(s, "edgefleet_miner_power_bytes", miner=m, kind="raw") == 1099511627776)
    check(value(s, "edgefleet_miner_deadline_proven_partitions", miner=m, deadline="3") == 1)
    check(value(s, "edgefleet_miner_faulty_sectors", miner=m) == 1)
    check(value(s, "edgefleet_miner_workers", miner=m, state="running") == 1)
    check(value(s, "edgefleet_miner_workers", miner=m, state="disabled") == 1)
    check(value(s, "edgefleet_miner_jobs", miner=m, task="PC1", state="running") == 1)
    check(value(s, "edgefleet_miner_jobs", miner=m, task="PC2", state="assigned") == 1)
    check(value(s, "edgefleet_miner_up", miner=m) == 1)
    check(value(s, "edgefleet_logins_total", kind="password", outcome="success") == 2)
    check(value(s, "edgefleet_connections", side="device") == 2)
    check(value(s, "edgefleet_miners") == 1)


@T.test
async def main_listener_needs_a_token(srv):
    ids, devs = await populate(srv)
    st, ctype, body = get(srv.port)
    check(st == 401 and "token" in body, st, body)
    st, _, body = get(srv.port, token="not-a-token")
    check(st == 401, st, body)
    st, _, body = get(srv.port, token=srv.token, method="POST")
    check(st == 405, st, body)
    st, ctype, body = get(srv.port, token=srv.token)
    check(st == 200, st, body)
    check(ctype.startswith("text/plain; version=0.0.4"), ctype)
    check_values(parse(body), ids)
    # The family fed by the alert engine is there (samples come once main.c connects alert.c).
    check("# TYPE edgefleet_alerts_firing gauge" in body)
    # A second scrape counts the first.
    st, _, body = get(srv.port, token=srv.token)
    check(value(parse(body), "edgefleet_scrapes_total") >= 1)
    for d in devs:
        await d.close()


@T.test(metrics_listen="127.0.0.1:%d" % free_port(), metrics_step=1)
async def metrics_listen_without_token(srv):
    ids, devs = await populate(srv)
    port = int(srv.options["metrics_listen"].rsplit(":", 1)[1])
    st, ctype, body = get(port)
    check(st == 200, st, body)
    check(ctype.startswith("text/plain; version=0.0.4"), ctype)
    check_values(parse(body), ids)  # metrics_step 1: one device per step, the same text
    st, _, body = get(port, path="/other")
    check(st == 404, st, body)
    st, _, body = get(port, method="POST")
    check(st == 405, st, body)
    for d in devs:
        await d.close()


def prom_query(port, q):
    url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (port, urllib.parse.quote(q))
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            j = json.loads(r.read())
    except OSError:
        return None
    res = j.get("data", {}).get("result", [])
    return float(res[0]["value"][1]) if len(res) == 1 else None


@T.test(metrics_listen="127.0.0.1:%d" % free_port(), heartbeat_tolerance="10m",
        heartbeat_tolerance_miss="5m")
async def prometheus_scrapes_and_answers(srv):
    prom = shutil.which("prometheus")
    check(prom is not None,
          "Debian's prometheus is not installed (scripts/deps.sh --test installs it)")
    ids, devs = await populate(srv)
    mport = int(srv.options["metrics_listen"].rsplit(":", 1)[1])
    pport = free_port()
    d = tempfile.mkdtemp(prefix="ef-prom-", dir=srv.dir)
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: edgefleet\n    static_configs:\n"
                "      - targets: ['127.0.0.1:%d']\n" % mport)
    p = subprocess.Popen([prom, "--config.file=" + cfg, "--storage.tsdb.path=" + d + "/data",
                          "--web.listen-address=127.0.0.1:%d" % pport],
                         stdout=open(d + "/prom.log", "wb"), stderr=subprocess.STDOUT)
    try:
        q = 'edgefleet_miner_sectors{miner="f01234",state="Proving"}'
        wait_until(lambda: prom_query(pport, q) is not None, timeout=60,
                   what="prometheus has scraped edgefleet")
        check(prom_query(pport, q) == 5)
        check(prom_query(pport, 'edgefleet_devices{state="online"}') == 2)
        check(prom_query(pport, 'edgefleet_devices{state="offline"}') == 1)
        check(prom_query(pport, 'edgefleet_miner_balance_fil{miner="f01234",kind="worker"}')
              == 39.522)
        check(prom_query(pport, 'up{job="edgefleet"}') == 1)
        check(prom_query(pport, 'edgefleet_device_cpu_usage_percent{device="%s"}' % ids[0])
              == 12.5)
    except BaseException:
        print(open(d + "/prom.log").read()[-3000:])
        raise
    finally:
        p.terminate()
        p.wait(30)
    for dv in devs:
        await dv.close()


if __name__ == "__main__":
    T.main()
