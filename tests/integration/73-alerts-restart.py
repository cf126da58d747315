#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""73-alerts-restart.py -- alert state survives a server restart (docs/alerts.md#persistence):
a firing alert (a miner's faulty deadline, uploaded by a test device) that was acknowledged, a
silence by rule, and a device's offline alert are all back after a restart -- same state, same
ack, same silence id, not notified again (a webhook receiver on loopback counts the POSTs) --
and the alert log keeps every entry written before it. alert_log_query's filters and cursor
over the stored log, its bad filters refused; and after the restart the cause clears and the
alert resolves with one more POST."""
import asyncio
import importlib
import time

from efharness import Suite, check, wait_until
from receivers import Hooks

base = importlib.import_module("70-alerts")
HOOKS = Hooks()
T = Suite("73-alerts-restart", alert_eval="100ms", heartbeat_tolerance="10s",
          heartbeat_tolerance_miss="5s", notify_webhook="http://127.0.0.1:%d/hook" % HOOKS.port,
          notify_backoff="100ms")


def posts(fp):
    return [b["status"] for b in HOOKS.bodies("/hook") if b["fingerprint"] == fp]


def log(srv, body=None):
    if body is None:
        return base.data(srv, "alert_log_query")["rows"]
    st, r = srv.api.post("alert_log_query", body)
    check(st == 200, body, st, r)
    return r["data"]


@T.test
def restart_keeps_alerts(srv):
    base.post(srv, "alert_rule_update", {"name": "device_offline", "for": 300})
    mid = srv.add_device("SN-M", "miner", "pw")
    box = srv.add_device("SN-BOX", "box", "pw")
    fp_dl = "deadline_faults|miner=f01234,deadline=3"
    fp_fp = "faulty_power|miner=f01234"
    fp_off = "device_offline|device=%s" % box

    async def feed():
        m = srv.connect()
        await m.__aenter__()
        await m.login(device_id=mid, password="pw")
        await base.miner_upload(m, dict(base.miner_record(4), faultyPower="128 GiB"))
        await m.close()
        d = srv.connect()
        await d.__aenter__()
        await d.login(device_id=box, password="pw")
        await d.close()
    asyncio.run(feed())
    wait_until(lambda: all(base.alerts(srv).get(f, {}).get("state") == "firing"
                           for f in (fp_dl, fp_fp, fp_off)), 20, what="three alerts firing")
    r = base.post(srv, "alert_ack", {"fingerprint": fp_dl})
    acked_at = r["data"]["acked_at"]
    sil = base.post(srv, "alert_silence", {"rule": "faulty_power", "duration": 3600000,
                                           "comment": "known, replacing a disk"})["data"]
    wait_until(lambda: len(posts(fp_dl)) == 1 and len(posts(fp_fp)) == 1 and len(posts(fp_off)) == 1,
               20, what="one POST per firing alert")
    before = base.alerts(srv)
    rows_before = log(srv)
    check(len(rows_before) >= 9, rows_before)
    ids_before = [e["log_id"] for e in rows_before]
    check(all(e["log_id"] for e in rows_before) and len(set(ids_before)) == len(ids_before),
          rows_before)

    # ---- filters and the cursor over the stored log ----
    d = log(srv, {"fingerprint": fp_dl})
    ev = [e["event"] for e in reversed(d["rows"]) if e["event"] != "delivery"]
    check(ev == ["pending", "firing", "acked"], ev)
    check(all(e.get("fingerprint") == fp_dl for e in d["rows"]) and d["next_cursor"] is None, d)
    d = log(srv, {"event": "silenced"})
    check(len(d["rows"]) == 1 and d["rows"][0]["comment"] == "known, replacing a disk"
          and d["rows"][0]["silence"] == sil["silence_id"], d)
    d = log(srv, {"rule": "device_offline", "event": "firing"})["rows"]  # the box and the miner
    check(sorted(e["labels"]["device"] for e in d) == sorted([str(mid), str(box)]), d)
    check(log(srv, {"since": int(time.time() * 1000) + 3600000})["rows"] == [])
    seen, cursor, pages = [], None, 0
    while True:
        body = {"limit": 2}
        if cursor:
            body["cursor"] = cursor
        d = log(srv, body)
        pages += 1
        seen += [e["log_id"] for e in d["rows"]]
        cursor = d["next_cursor"]
        if not cursor:
            break
    check(seen == ids_before, "paging", seen, ids_before)
    for body in ({"limit": 0}, {"limit": 1001}, {"since": -1}, {"rule": ""}, {"colour": "red"},
                 {"cursor": "x"}, {"event": 5}):
        st, r = srv.api.post("alert_log_query", body)
        check(st == 400, body, st, r)

    # ---- restart ----
    srv.stop()
    srv.start(same_port=True)
    wait_until(lambda: set(base.alerts(srv)) >= {fp_dl, fp_fp, fp_off}, 20,
               what="the alerts restored")
    # nothing is notified again: a silence added now is logged after any round that would have
    # (re-)fired, so by its log row every such round has passed
    after = base.alerts(srv)
    for fp in (fp_dl, fp_fp, fp_off):
        a, b = before[fp], after[fp]
        check(b["state"] == "firing" and b["fired_at"] == a["fired_at"]
              and b["since"] == a["since"] and b["labels"] == a["labels"], fp, a, b)
    check(after[fp_dl]["acked_at"] == acked_at and after[fp_dl]["acked_by"], after[fp_dl])
    check(after[fp_fp]["silenced"] is True and after[fp_dl]["silenced"] is False, after)
    sils = base.data(srv, "alert_query_all")["silences"]
    check(len(sils) == 1 and sils[0]["id"] == sil["silence_id"] and sils[0]["until"] == sil["until"]
          and sils[0]["comment"] == "known, replacing a disk", sils)
    rows_after = log(srv)
    ids_after = [e["log_id"] for e in rows_after]
    check(ids_after[-len(ids_before):] == ids_before, "the log kept", ids_after, ids_before)
    # a new silence gets a new id
    s2 = base.post(srv, "alert_silence", {"fingerprint": fp_off, "duration": 60000})["data"]
    check(s2["silence_id"] > sil["silence_id"], s2, sil)

    # ---- the cause clears after the restart: resolved, one more POST ----
    async def clear():
        m = srv.connect()
        await m.__aenter__()
        await m.login(device_id=mid, password="pw")
        await base.miner_upload(m, {"minerId": "f01234", "faultySectors": 0, "faultyPower": "0 B",
                                    "deadlines": base.miner_record(0)["deadlines"]}, full=False)
        await m.close()
    asyncio.run(clear())
    wait_until(lambda: base.alerts(srv)[fp_dl]["state"] == "resolved", 20, what="resolved")
    wait_until(lambda: posts(fp_dl) == ["firing", "resolved"], 20, what="the resolved POST")
    ev = [e["event"] for e in reversed(log(srv, {"fingerprint": fp_dl})["rows"])
          if e["event"] != "delivery"]
    check(ev == ["pending", "firing", "acked", "resolved"], ev)
    # faulty power clears too: it was posted firing before its silence, so its end is posted
    # (once); the offline alert was not posted again
    wait_until(lambda: posts(fp_fp) == ["firing", "resolved"], 20, what="faulty_power resolved")
    check(posts(fp_off) == ["firing"], posts(fp_off))


@T.test(alert_log_retention="1s", log_prune_every="1s")
def retention_prunes_the_log(srv):
    """alert_log_retention: rows older than it go, with the device log's pruning."""
    box = srv.add_device("SN-BOX", "box", "pw")
    base.post(srv, "alert_rule_update", {"name": "device_offline", "for": 0})

    async def visit():
        d = srv.connect()
        await d.__aenter__()
        await d.login(device_id=box, password="pw")
        await d.close()
    asyncio.run(visit())
    wait_until(lambda: base.alerts(srv).get("device_offline|device=%s" % box, {}).get("state")
               == "firing", 20, what="firing")
    check(len(log(srv)) >= 2)
    wait_until(lambda: log(srv) == [], 60, what="the log pruned")
    # the alert itself is kept: only its log went
    check(base.alerts(srv)["device_offline|device=%s" % box]["state"] == "firing")


if __name__ == "__main__":
    try:
        T.main()
    finally:
        HOOKS.shutdown()
