#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""70-alerts.py -- alerts through the real server (docs/alerts.md): the default rule table and
its changes over REST and edgefleetctl (bad rules refused with nothing changed, the table kept
in alert_rules_file across a restart); a device offline longer than the rule's `for` seen
firing on REST, in `edgefleetctl alerts`, pushed to a /front subAlerts subscriber, and resolved
when it logs in again; a miner record with a faulty deadline uploaded by a test device seen
firing (labels miner, deadline), acknowledged, silenced, and resolved when the patch clears the
faults; the alert log holding every transition; and the Alerts page of the dashboard in headless
Chromium showing the firing alert and the overview's firing list."""
import asyncio
import json
import os
import subprocess
import tempfile

import websockets

from efharness import Suite, check, await_until, build_dir, source_dir, wait_until
from cdp import Chromium

WEB = os.path.join(source_dir(), "web")
CTL = os.path.join(build_dir(), "src", "cli", "edgefleetctl")
T = Suite("70-alerts", alert_eval="100ms", front_push_interval="100ms",
          heartbeat_tolerance="10s", heartbeat_tolerance_miss="5s", static_dir=WEB)

DEFAULT_RULES = {"device_offline", "device_no_status", "cpu_temp_high", "gpu_temp_high",
                 "disk_full", "miner_down", "chain_sync_behind", "worker_missing",
                 "worker_disabled", "deadline_faults", "deadline_unproven", "faulty_power",
                 "error_sectors_increase", "fail_sectors_increase", "worker_balance_low",
                 "control_balance_low", "owner_balance_low", "job_pc1_long", "job_pc2_long",
                 "job_c2_long"}


def ctl(srv, *args):
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith("EDGEFLEET_")}
    p = subprocess.run([CTL, "--server", "http://127.0.0.1:%d" % srv.port, "--token-file",
                        os.path.join(srv.data_dir, "admin.token")] + list(args),
                       capture_output=True, text=True, timeout=60, env=env,
                       cwd=tempfile.gettempdir())
    check("Sanitizer" not in p.stderr and "runtime error:" not in p.stderr, args, p.stderr)
    return p.returncode, p.stdout, p.stderr


def data(srv, name):
    st, r = srv.api.get(name)
    check(st == 200, name, st, r)
    return r["data"]


def rules(srv):
    return {r["name"]: r for r in data(srv, "alert_rule_query_all")["rules"]}


def alerts(srv):
    return {a["fingerprint"]: a for a in data(srv, "alert_query_all")["alerts"]}


def post(srv, name, body, status=200):
    st, r = srv.api.post(name, body)
    check(st == status, name, body, st, r)
    return r


@T.test
def rule_table(srv):
    rs = rules(srv)
    check(set(rs) == DEFAULT_RULES, sorted(rs))
    check(rs["device_offline"]["for"] == 300000 and rs["device_offline"]["severity"] == "critical",
          rs["device_offline"])
    check(rs["worker_balance_low"]["param"] == "worker" and rs["worker_balance_low"]["unit"] == "FIL",
          rs["worker_balance_low"])
    kinds = {k["kind"] for k in data(srv, "alert_rule_query_all")["kinds"]}
    check({r["kind"] for r in rs.values()} == kinds, kinds)
    # bad rules: 400/409 and nothing changes
    for body, status in [({"name": "x"}, 400), ({"name": "x", "kind": "nope"}, 400),
                         ({"name": "x", "kind": "miner_job_long"}, 400),
                         ({"name": "x", "kind": "device_disk", "threshold": "high"}, 400),
                         ({"name": "x", "kind": "device_disk", "threshold": 90, "clear": 95}, 400),
                         ({"name": "device_offline", "kind": "device_offline"}, 409)]:
        post(srv, "alert_rule_add", body, status)
    check(set(rules(srv)) == DEFAULT_RULES)
    r = post(srv, "alert_rule_add", {"name": "gpu_hot", "kind": "device_gpu_temp",
                                     "threshold": 90, "clear": 85, "for": 1000,
                                     "severity": "critical"})
    check(r["data"]["name"] == "gpu_hot" and r["data"]["clear"] == 85, r)
    post(srv, "alert_rule_update", {"name": "gpu_hot", "threshold": 95, "clear": 90})
    post(srv, "alert_rule_update", {"name": "gpu_hot", "clear": 99}, 400)
    post(srv, "alert_rule_update", {"name": "nope", "threshold": 1}, 404)
    post(srv, "alert_rule_delete", {"name": "disk_full"})
    post(srv, "alert_rule_delete", {"name": "disk_full"}, 404)
    rs = rules(srv)
    check(rs["gpu_hot"]["threshold"] == 95 and rs["gpu_hot"]["clear"] == 90, rs["gpu_hot"])
    check("disk_full" not in rs)
    # a read token may list but not change
    st, tok = srv.api.post("api_token_add", {"name": "reader", "scope": "read"})
    check(st == 200, tok)
    st, r = srv.api.post("alert_rule_add", {"name": "y", "kind": "device_offline"},
                         token=tok["data"]["token"])
    check(st == 403, st, r)
    # the CLI
    rc, out, err = ctl(srv, "rules")
    check(rc == 0 and "gpu_hot" in out and "device_offline" in out, rc, out, err)
    rc, out, err = ctl(srv, "rules", "add", "name=hot2", "kind=device_cpu_temp", "threshold=70",
                       "for=0")
    check(rc == 0, rc, out, err)
    rc, out, err = ctl(srv, "rules", "update", "hot2", "enabled=false")
    check(rc == 0 and rules(srv)["hot2"]["enabled"] is False, rc, out, err)
    rc, out, err = ctl(srv, "rules", "add", "name=bad", "kind=device_cpu_temp", "colour=red")
    check(rc == 1 and "unknown member" in err, rc, out, err)
    rc, out, err = ctl(srv, "rules", "delete", "hot2")
    check(rc == 0 and "hot2" not in rules(srv), rc, out, err)
    # the table survives a restart (alert_rules_file)
    srv.stop()
    srv.start(same_port=True)
    rs = rules(srv)
    check(rs["gpu_hot"]["threshold"] == 95 and "disk_full" not in rs and "hot2" not in rs,
          sorted(rs))


class Front:
    def __init__(self, srv):
        self.url = "ws://127.0.0.1:%d/front" % srv.port
        self.n = 0

    async def __aenter__(self):
        self.ws = await websockets.connect(self.url, ping_interval=None, max_size=1 << 24)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def call(self, **msg):
        self.n += 1
        msg["msgId"] = str(self.n)
        await self.ws.send(json.dumps(msg))
        while True:
            r = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
            if r.get("msgId") == str(self.n):
                return r

    async def push_until(self, pred):
        """Pushes of subAlerts until one satisfies pred (the test's 120 s bound ends a hang)."""
        while True:
            r = json.loads(await self.ws.recv())
            if r.get("message") == "subAlerts" and pred(r["body"]):
                return r["body"]


def by_rule(body, rule):
    return [a for a in body["alerts"] if a["rule"] == rule]


@T.test
async def device_offline(srv):
    post(srv, "alert_rule_update", {"name": "device_offline", "for": 300})
    did = srv.add_device("SN-A", "box", "pw")
    fp = "device_offline|device=%s" % did
    async with Front(srv) as f:
        r = await f.call(uri="login", body={"token": srv.token})
        check(r["code"] == 1, r)
        r = await f.call(event="subAlerts", body={})
        check(r["code"] == 1 and r["data"]["alerts"] == [], r)
        dev = srv.connect()
        await dev.__aenter__()
        await dev.login(device_id=did, password="pw")
        await dev.send_json({"type": "upload_status_info", "Headers": {},
                             "data": {"host_name": "box-a", "cpu_temperature": 50}})
        await dev.close()
        body = await f.push_until(lambda b: any(a["state"] == "firing"
                                                for a in by_rule(b, "device_offline")))
        a = by_rule(body, "device_offline")[0]
        check(a["fingerprint"] == fp and a["labels"]["device"] == str(did), a)
        check(a["severity"] == "critical" and "offline" in a["summary"], a)
        check(alerts(srv)[fp]["state"] == "firing", alerts(srv))
        rc, out, err = ctl(srv, "alerts")
        check(rc == 0 and "device_offline" in out and "firing" in out and fp in out, out, err)
        rc, out, err = ctl(srv, "--json", "alerts")
        check(rc == 0 and json.loads(out)["alerts"][0]["fingerprint"] == fp, out)
        # back online: resolved, pushed
        dev = srv.connect()
        await dev.__aenter__()
        await dev.login(device_id=did, password="pw")
        await f.push_until(lambda b: any(a["state"] == "resolved"
                                         for a in by_rule(b, "device_offline")))
        check(alerts(srv)[fp]["state"] == "resolved", alerts(srv))
        await dev.close()
    log = data(srv, "alert_log_query")["rows"]
    events = [e["event"] for e in reversed(log) if e.get("fingerprint") == fp]
    check(events[:3] == ["pending", "firing", "resolved"], events)
    rc, out, err = ctl(srv, "alerts", "log")
    check(rc == 0 and "resolved" in out and "firing" in out, out, err)


def miner_record(faults):
    return {"minerId": "f01234", "workerBalance": "39.522 FIL", "postBalance": "5 FIL",
            "currentDeadline": 5, "faultySectors": faults,
            "deadlines": [{"index": i, "partitions": 1, "sectors": 10,
                           "faults": faults if i == 3 else 0, "provenPartitions": 1}
                          for i in range(48)],
            "workerInfo": {"w1": {"hostName": "w1", "taskType": ["PC1"],
                                  "currentQueue": {}, "pendingQueue": {}}}}


async def miner_upload(dev, rec, full=True):
    await dev.send_json({"type": "upload_miner_info", "Headers": {"full": full}, "data": rec})
    while (await dev.recv_json(2))["type"] != "send_minerInfo_response":
        pass


@T.test
async def miner_deadline(srv):
    did = srv.add_device("SN-M", "miner", "pw")
    dev = srv.connect()
    await dev.__aenter__()
    await dev.login(device_id=did, password="pw")
    await miner_upload(dev, miner_record(0))
    fp = "deadline_faults|miner=f01234,deadline=3"
    check(alerts(srv) == {}, alerts(srv))
    await miner_upload(dev, dict(miner_record(4), faultyPower="128 GiB"))
    a = await await_until(lambda: alerts(srv).get(fp) if alerts(srv).get(fp, {}).get("state")
                          == "firing" else None, what="deadline_faults firing")
    check(a["labels"] == {"miner": "f01234", "device": str(did), "deadline": 3}, a)
    check(a["severity"] == "critical" and "deadline 3" in a["summary"], a)
    check(alerts(srv)["faulty_power|miner=f01234"]["state"] == "firing", alerts(srv))
    # ack (REST and CLI) and silence
    post(srv, "alert_ack", {"fingerprint": "nope"}, 404)
    r = post(srv, "alert_ack", {"fingerprint": fp})
    check(r["data"]["acked_by"], r)
    rc, out, err = ctl(srv, "alerts", "ack", "faulty_power|miner=f01234")
    check(rc == 0, rc, out, err)
    check(alerts(srv)["faulty_power|miner=f01234"].get("acked_at"), alerts(srv))
    post(srv, "alert_silence", {"rule": "deadline_faults"}, 400)  # no duration
    r = post(srv, "alert_silence", {"fingerprint": fp, "duration": 3600000, "comment": "known"})
    check(r["data"]["silence_id"] > 0, r)
    check(alerts(srv)[fp]["silenced"] is True, alerts(srv)[fp])
    rc, out, err = ctl(srv, "alerts", "silence", "--rule", "faulty_power", "--duration", "1h")
    check(rc == 0, rc, out, err)
    check(len(data(srv, "alert_query_all")["silences"]) == 2)
    # the cause clears: resolved
    await miner_upload(dev, {"minerId": "f01234", "faultySectors": 0, "faultyPower": "0 B",
                             "deadlines": miner_record(0)["deadlines"]}, full=False)
    await await_until(lambda: alerts(srv)[fp]["state"] == "resolved" and
                      alerts(srv)["faulty_power|miner=f01234"]["state"] == "resolved",
                      what="resolved")
    log = data(srv, "alert_log_query")["rows"]
    events = [e["event"] for e in reversed(log) if e.get("fingerprint") == fp]
    check(events == ["pending", "firing", "acked", "silenced", "resolved"], events)
    await dev.close()


def js(s):
    return json.dumps(s)


@T.test
def dashboard(srv):
    """The Alerts page and the overview's firing strip in headless Chromium."""
    post(srv, "alert_rule_update", {"name": "device_offline", "for": 300})
    gone = srv.add_device("SN-GONE", "box", "pw")
    mid = srv.add_device("SN-M", "miner", "pw")
    fp_dl = "deadline_faults|miner=f01234,deadline=3"
    fp_off = "device_offline|device=%s" % gone

    async def feed():
        dev = srv.connect()
        await dev.__aenter__()
        await dev.login(device_id=gone, password="pw")
        await dev.close()
        m = srv.connect()
        await m.__aenter__()
        await m.login(device_id=mid, password="pw")
        await miner_upload(m, miner_record(2))
        await m.close()  # the record stays; this device goes offline too

    import asyncio as aio
    aio.run(feed())
    wait_until(lambda: all(alerts(srv).get(f, {}).get("state") == "firing" for f in (fp_dl, fp_off)),
               10, what="both alerts firing")
    browser = Chromium(width=1280, height=800)
    try:
        browser.start()
        page = browser.page()
        page.enable()
        page.navigate("http://127.0.0.1:%d/" % srv.port)
        page.wait_for("!!document.getElementById('token')", what="the sign-in form")
        page.evaluate("document.getElementById('token').focus()")
        page.send("Input.insertText", text=srv.token)
        page.evaluate("document.getElementById('signin').click()")
        # the overview's firing strip, pushed
        page.wait_for("!!document.querySelector('#firing-alerts li[data-fingerprint=%s]')" % js(fp_dl),
                      what="the overview's firing alert")
        check(page.evaluate("document.getElementById('firing-alerts').hidden") is False)
        # the Alerts page
        page.evaluate("location.hash = '#/alerts'")
        sel = "#alert-rows tr[data-fingerprint=%s]" % js(fp_off)
        page.wait_for("(e => e && e.dataset.state === 'firing')(document.querySelector(%s))" % js(sel),
                      what="the offline alert's row")
        text = page.evaluate("document.querySelector(%s).textContent" % js(sel))
        check("device_offline" in text and "critical" in text, text)
        # Acknowledge from the page: the server records it, the page shows it (pushed)
        page.evaluate("document.querySelector(%s + ' button.ack').click()" % js(sel))
        wait_until(lambda: alerts(srv)[fp_off].get("acked_at"), 10, what="acked through the page")
        page.wait_for("(e => e && /acked by/.test(e.textContent))(document.querySelector(%s))" % js(sel),
                      what="the acked badge")
        page.evaluate("document.querySelector(%s + ' button.silence').click()"
                      % js("#alert-rows tr[data-fingerprint=%s]" % js(fp_dl)))
        wait_until(lambda: alerts(srv)[fp_dl]["silenced"], 10, what="silenced through the page")
        problems = [p for p in page.problems()]
        check(not problems, problems)
    finally:
        browser.stop()


if __name__ == "__main__":
    T.main()
