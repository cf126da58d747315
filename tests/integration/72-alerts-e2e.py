#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""72-alerts-e2e.py -- issue 12's Done-when for alerts, end to end on the real path:
tools/fake-lotus-miner (docs/fake-lotus-miner.md) misses a WindowPoSt deadline, collected by
the real edgefleet-agent (CLI source, the fake's clock moved by the test as in 43-lotus-e2e.py),
and a device goes offline. edgefleetd's alert engine (docs/alerts.md) raises
`deadline_unproven` for the missed deadline and `device_offline` for the device; the test sees
both firing on the REST API (alert_query_all) and on the dashboard's Alerts page in headless
Chromium, and for each transition exactly one webhook POST (a Python receiver on loopback),
one e-mail at Debian's aiosmtpd over STARTTLS with AUTH, and one alert received by Debian's
prometheus-alertmanager (its alertmanager_alerts_received_total; notify_resend is 1d so nothing
is re-sent), with every delivery outcome in the alert log (alert_log_query). Then the causes
clear -- the missed deadline is proven again in its next window (its faulty sectors recovered),
the device logs in again -- and each alert resolves, again with one POST, one e-mail and one
Alertmanager update each. The receivers are tests/helpers/receivers.py (shared with
70-notify.py)."""
import asyncio
import importlib
import os
import shutil
import tempfile
import time

import receivers
from efharness import AgentProcess, Suite, check, free_port, wait_until
from cdp import Chromium

dash = importlib.import_module("60-dashboard")
lotus = importlib.import_module("43-lotus-e2e")

MINER = lotus.MINER
SMTP_USER, SMTP_PASSWORD = "edgefleet", "e2e-smtp-pw-71c2"
RECEIVERS = ("webhook1", "email", "alertmanager1")

# The receivers run for the whole test; their ports go into the server's options.
WORK = tempfile.mkdtemp(prefix="ef-alerts-e2e-")
HOOKS = receivers.Hooks()
SMTP, BOX, SMTP_PORT, SMTP_CA = receivers.start_smtp(WORK, SMTP_USER, SMTP_PASSWORD)
AM, AM_PORT = receivers.start_alertmanager(WORK, "72-alerts-e2e")
PWFILE = os.path.join(WORK, "smtp.pass")
with open(PWFILE, "w") as _f:
    _f.write(SMTP_PASSWORD + "\n")

T = Suite("72-alerts-e2e", static_dir=dash.WEB, front_push_interval="200ms", alert_eval="200ms",
          heartbeat_tolerance="10s", heartbeat_tolerance_miss="5s",
          notify_webhook="http://127.0.0.1:%d/hook" % HOOKS.port,
          notify_alertmanager="http://127.0.0.1:%d" % AM_PORT,
          notify_smtp="smtp://127.0.0.1:%d" % SMTP_PORT, notify_smtp_from="edgefleet@example.net",
          notify_smtp_to="ops@example.net", notify_smtp_user=SMTP_USER,
          notify_smtp_password_file=PWFILE, notify_ca=SMTP_CA, notify_resend="1d",
          notify_backoff="100ms")


def data(srv, name):
    st, r = srv.api.get(name)
    check(st == 200, name, st, r)
    return r["data"]


def alerts(srv):
    return {a["fingerprint"]: a for a in data(srv, "alert_query_all")["alerts"]}


def state_of(srv, fp):
    return alerts(srv).get(fp, {}).get("state")


def post(srv, name, body):
    st, r = srv.api.post(name, body)
    check(st == 200, name, body, st, r)
    return r


def hook_posts(fp):
    return [b for b in HOOKS.bodies("/hook") if b["fingerprint"] == fp]


def mails(fp):
    return [t for t in BOX.texts() if "Fingerprint: %s" % fp in t]


def deliveries(srv, fp):
    """(receiver, outcome) of the alert log's delivery rows of fp, oldest first."""
    rows = data(srv, "alert_log_query")["rows"]
    return [(e["receiver"], e["outcome"]) for e in reversed(rows)
            if e["event"] == "delivery" and e.get("fingerprint") == fp]


def delivered_once_per_receiver(srv, fp, n):
    """After n transitions of fp: n "delivered" rows per receiver, nothing else."""
    d = deliveries(srv, fp)
    return len(d) == n * len(RECEIVERS) and all(
        sorted(r for r, _ in d) == sorted(RECEIVERS * n) and o == "delivered" for _, o in d)


def page_state(page, fp, state, what):
    sel = "#alert-rows tr[data-fingerprint=%s]" % dash.js(fp)
    page.wait_for("(e => e && e.dataset.state === %s)(document.querySelector(%s))"
                  % (dash.js(state), dash.js(sel)), timeout=30, what=what)
    return dash.text_of(page, sel)


@T.test(listen="127.0.0.1:%d" % free_port())
def alerts_end_to_end(srv):
    # Only the two rules this test is about: the fake miner starts with faulty sectors (so
    # deadline_faults and faulty_power would fire from the start) and the miner's agent reports
    # every 2 s.
    keep = {"deadline_unproven", "device_offline"}
    for r in data(srv, "alert_rule_query_all")["rules"]:
        if r["name"] not in keep:
            post(srv, "alert_rule_delete", {"name": r["name"]})
    post(srv, "alert_rule_update", {"name": "device_offline", "for": 1000})
    post(srv, "alert_rule_update", {"name": "deadline_unproven", "for": 0})

    t0 = int(time.time() * 1000)
    fake = lotus.Fake(t0)
    did = srv.add_device("SN-ALERT-E2E", "miner", "pw", device_name="lotus-miner " + MINER,
                         device_type="miner")
    box = srv.add_device("SN-BOX-E2E", "box", "pw")
    adir = os.path.join(fake.dir, "agent")
    os.makedirs(adir)
    agent = AgentProcess(srv, ["--device-id", did, "--password", "pw", "--data-dir", adir,
                               "--log-level", "debug", "--status-interval", "2s",
                               "--lotus-miner", fake.wrapper, "--lotus", fake.wrapper,
                               "--lotus-interval", "500ms", "--lotus-timeout", "5s",
                               "--lotus-slow-interval", "1m", "--lotus-reach-timeout", "0"],
                         env={"FAKE_LOTUS_STATE": fake.state}, dir=adir)
    browser = Chromium(width=1280, height=800)
    try:
        # ---- the record arrives; nothing fires ----
        cur0, _ = fake.proving_info()
        wait_until(lambda: (lambda m: m if m and m.get("currentDeadline") == cur0
                            and "deadlines" in m else None)(lotus.miner(srv)),
                   30, what="the first miner record")
        check(alerts(srv) == {}, "alerts before any cause", alerts(srv))

        # ---- the causes: a missed deadline, a device offline ----
        faults0 = fake.faults()
        # a deadline without faults, and not the period's last (47): miner_deadline_unproven reads
        # a deadline as closed while it is before the current one, so a miss of 47 is never seen
        # (when 47 closes, the current deadline is 0 of the next period): a known gap
        k = next(k for k in (1, 2, 3) if (cur0 + k) % 48 not in faults0.values()
                 and (cur0 + k) % 48 != 47)
        missed = (cur0 + k) % 48
        fp_dl = "deadline_unproven|miner=%s,deadline=%d" % (MINER, missed)
        fp_off = "device_offline|device=%s" % box
        fake.run("--miss-deadline", str(missed))
        fake.to_window(k + 1)  # 2 minutes after the missed window closed
        cur1, _ = fake.proving_info()
        check(cur1 == (missed + 1) % 48, cur1, missed)

        async def box_visit():
            dev = srv.connect()
            await dev.__aenter__()
            await dev.login(device_id=box, password="pw")
            await dev.close()
        asyncio.run(box_visit())

        wait_until(lambda: state_of(srv, fp_dl) == "firing" and state_of(srv, fp_off) == "firing",
                   30, what="both alerts firing on REST")
        a = alerts(srv)
        check(set(a) == {fp_dl, fp_off}, sorted(a))
        dl, off = a[fp_dl], a[fp_off]
        check(dl["rule"] == "deadline_unproven" and dl["severity"] == "critical"
              and dl["labels"]["miner"] == MINER and dl["labels"]["deadline"] == missed
              and dl["labels"]["device"] == str(did)
              and "deadline %d closed with" % missed in dl["summary"], dl)
        check(off["rule"] == "device_offline" and off["labels"]["device"] == str(box), off)

        # one webhook POST, one e-mail, one Alertmanager post each; the outcomes logged
        wait_until(lambda: all(delivered_once_per_receiver(srv, fp, 1) for fp in (fp_dl, fp_off)),
                   30, what="the firing deliveries in the alert log")
        for fp, rule in ((fp_dl, "deadline_unproven"), (fp_off, "device_offline")):
            h = hook_posts(fp)
            check(len(h) == 1 and h[0]["status"] == "firing" and h[0]["rule"] == rule, h)
            m = mails(fp)
            check(len(m) == 1 and "State:       firing" in m[0], m)
        check(len(BOX.messages) == 2 and all(tls for _, _, _, tls in BOX.messages), BOX.messages)
        am = {x["annotations"]["edgefleet_fingerprint"]: x for x in receivers.am_alerts(AM_PORT)}
        check(set(am) == {fp_dl, fp_off}, am)
        check(am[fp_dl]["labels"]["alertname"] == "deadline_unproven"
              and am[fp_dl]["labels"]["deadline"] == str(missed)
              and am[fp_dl]["status"]["state"] == "active", am[fp_dl])
        check(receivers.am_received(AM_PORT) == {"firing": 2, "resolved": 0},
              receivers.am_received(AM_PORT))

        # the dashboard: the Alerts page shows both firing
        browser.start()
        page = browser.page()
        page.enable()
        page.navigate("http://127.0.0.1:%d/" % srv.port)
        dash.sign_in(page, srv.token)
        page.wait_for("!!document.querySelector('#firing-alerts li[data-fingerprint=%s]')"
                      % dash.js(fp_dl), timeout=30, what="the overview's firing alert")
        page.evaluate("location.hash = '#/alerts'")
        text = page_state(page, fp_dl, "firing", "the missed deadline firing on the page")
        check("deadline_unproven" in text and "critical" in text, text)
        page_state(page, fp_off, "firing", "the offline device firing on the page")

        # ---- the causes clear ----
        # the device comes back (and stays)
        async def box_back():
            dev = srv.connect()
            await dev.__aenter__()
            await dev.login(device_id=box, password="pw")
            return dev
        loop = asyncio.new_event_loop()
        dev = loop.run_until_complete(box_back())
        # the missed deadline's next window: its sectors are declared recovering and it is
        # proven again (2 minutes after it closed, one proving period later)
        fake.to_window(48)
        cur2, _ = fake.proving_info()
        check(cur2 == cur1, cur2, cur1)
        m = wait_until(lambda: (lambda m: m if m and m.get("currentDeadline") == cur2
                                and lotus.deadline_of(m, missed)["provenPartitions"]
                                == lotus.deadline_of(m, missed)["partitions"] else None)(
            lotus.miner(srv)), 30, what="the missed deadline proven again")
        check(lotus.deadline_of(m, missed)["faults"] == 0, lotus.deadline_of(m, missed))
        wait_until(lambda: state_of(srv, fp_dl) == "resolved" and state_of(srv, fp_off) == "resolved",
                   30, what="both alerts resolved on REST")
        wait_until(lambda: all(delivered_once_per_receiver(srv, fp, 2) for fp in (fp_dl, fp_off)),
                   30, what="the resolved deliveries in the alert log")
        for fp in (fp_dl, fp_off):
            h = hook_posts(fp)
            check(len(h) == 2 and h[1]["status"] == "resolved" and h[1]["endsAtMs"] > 0, h)
            m = mails(fp)
            check(len(m) == 2 and "State:       resolved" in m[1], m)
        check(len(BOX.messages) == 4, len(BOX.messages))
        wait_until(lambda: receivers.am_received(AM_PORT) == {"firing": 2, "resolved": 2}, 30,
                   what="two resolved alerts received by alertmanager")
        wait_until(lambda: not receivers.am_alerts(AM_PORT), 30, what="no alert left at alertmanager")
        page_state(page, fp_dl, "resolved", "the missed deadline resolved on the page")
        page_state(page, fp_off, "resolved", "the device's alert resolved on the page")

        # every transition in the alert log, in order
        rows = data(srv, "alert_log_query")["rows"]
        for fp in (fp_dl, fp_off):
            ev = [e["event"] for e in reversed(rows) if e.get("fingerprint") == fp
                  and e["event"] != "delivery"]
            check(ev[-2:] == ["firing", "resolved"] and ev.count("firing") == 1, fp, ev)
        # nothing more went out: exactly one per transition per receiver
        check(len(HOOKS.bodies("/hook")) == 4, HOOKS.posts)
        check(receivers.am_received(AM_PORT) == {"firing": 2, "resolved": 2})
        dash.no_problems(page)
        loop.run_until_complete(dev.close())
        loop.close()
    except BaseException:
        print("---- agent log (tail) ----\n" + "\n".join(agent.log().splitlines()[-30:]))
        raise
    finally:
        browser.stop()
        code = agent.stop()
        fake.cleanup()
    check(code == 0, "agent exit status", code)
    log = open(srv.stderr_path).read()
    check(SMTP_PASSWORD not in log, "the SMTP password in the server log")


if __name__ == "__main__":
    try:
        T.main()
    finally:
        AM.terminate()
        AM.wait(timeout=30)
        SMTP.stop()
        HOOKS.shutdown()
        if not os.environ.get("EF_KEEP"):
            shutil.rmtree(WORK, ignore_errors=True)
