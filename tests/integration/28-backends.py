#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""28-backends.py BACKEND -- edgefleetd on a database server instead of SQLite
(docs/store.md#postgresql-backend-store_pgc): BACKENDS maps the name (`pg`) to the helper that
runs a throw-away server on loopback (tests/helpers/dbserver_pg.py); each test's edgefleetd gets
`--db` its URL, the database emptied before it. REST device, group and relation CRUD land in that
database; a device logs in over /ws and uploads its status (device-log rows, dev_state online,
history samples); an alert rule, a silence, the alert log and API tokens (one added, one revoked)
are there after a restart of edgefleetd; and the database server stopped under a running
edgefleetd: the REST calls that need it answer 503 "database unavailable" within seconds while
devices stay connected, and once it is back REST works again without restarting edgefleetd and
the device-log row of an upload made meanwhile is written. No log line of edgefleetd shows the
database password. Exits 77 (skipped) when the server cannot be run."""
import asyncio
import importlib
import os
import shutil
import sys
import tempfile
import time
import urllib.parse

from efharness import PING, REST_BASE, Suite, await_until, check, wait_until

# name -> (module in tests/helpers, its server class, how to run one query on the server's
# database `ef` and get its one value as text). The class takes a temporary directory and has
# start(), stop(), reset() and url; the module has Unavailable(reason).
BACKENDS = {
    "pg": ("dbserver_pg", "PgServer", lambda db, sql: db.psql(sql, dbname="ef")),
    "mysql": ("dbserver_mysql", "MariaDbServer", lambda db, sql: db.sql(sql, db="ef")),
}

if len(sys.argv) != 2 or sys.argv[1] not in BACKENDS:
    sys.exit("usage: 28-backends.py {%s}" % ",".join(BACKENDS))
NAME = sys.argv[1]
_mod = importlib.import_module(BACKENDS[NAME][0])
TMP = tempfile.mkdtemp(prefix="ef-backend-")
DB = getattr(_mod, BACKENDS[NAME][1])(TMP)
QUERY = BACKENDS[NAME][2]

try:
    DB.start()
except _mod.Unavailable as e:
    shutil.rmtree(TMP, ignore_errors=True)
    print("28-backends %s: SKIP: %s" % (NAME, e.reason), flush=True)
    sys.exit(77)
PASSWORD = urllib.parse.urlsplit(DB.url).password  # as written in the URL


class DbSuite(Suite):
    """Each test starts on an empty database, and no edgefleetd log line shows its password."""

    def run_one(self, fn, options):
        DB.reset()
        return super().run_one(fn, options)


T = DbSuite("28-backends-" + NAME, db=DB.url, alert_eval="100ms", history_raw_every="0",
            history_flush="200ms", token_used_flush="100ms", heartbeat_tolerance="30s",
            heartbeat_tolerance_miss="30s")

ACK = {"type": "send_statusInfo_response", "Headers": {}, "data": {}}


def rows(sql):
    return QUERY(DB, sql).strip()


def no_secret(srv):
    log = srv.tail(0)
    for form in (PASSWORD, urllib.parse.unquote(PASSWORD)):
        check(form not in log, "edgefleetd's log shows the database password")
    check("db=%s" % DB.url.replace(":" + PASSWORD + "@", ":***@") in log,
          "the ready line names the database without its password")


def ok(srv, method, name, body=None, status=200):
    st, r = srv.api.request(method, REST_BASE + name, body)
    check(st == status, method, name, body, st, r)
    return r.get("data") if isinstance(r, dict) else r


def status_upload(cpu):
    return {"type": "upload_status_info", "Headers": {}, "data": {
        "Memory_info": {"total_memory_mb": 1000, "free_memory_mb": 400, "buff_cache_mb": 100},
        "Disk_info": {"root_total_size_mb": 100, "root_used_size_mb": 40,
                      "root_used_percent": 40.0},
        "cpu_usage_percent": cpu, "cpu_temperature": 50.0, "load_avg": {"1": 1.5}}}


@T.test
def rest_crud(srv):
    check(not os.path.exists(os.path.join(srv.data_dir, "edgefleet.db")), "no SQLite file")
    d1 = srv.add_device("SN-1", "M1", "pw")
    d2 = srv.add_device("SN-2", "M1", "pw")
    check(rows("SELECT count(*) FROM devices") == "2", "the devices are in the database")
    ok(srv, "POST", "device_add", {"hardware": {"sn": "SN-1", "model": "M1"}, "password": "x"},
       status=409)
    u = ok(srv, "PUT", "device_update", {"device_id": d1, "device_name": "renamed"})
    check(u["device_name"] == "renamed", u)
    check(ok(srv, "GET", "device_query/" + d1)["device_name"] == "renamed")
    check([str(d["device_id"]) for d in ok(srv, "GET", "device_query_all")]
          == sorted([d1, d2], key=int))
    g1 = str(ok(srv, "POST", "group_add", {"group_name": "north"})["group_id"])
    g2 = str(ok(srv, "POST", "group_add", {"group_name": "south"})["group_id"])
    ok(srv, "POST", "group_add", {"group_name": "north"}, status=409)
    ok(srv, "PUT", "group_update", {"group_id": g2, "group_description": "the south"})
    check(ok(srv, "GET", "group_query/" + g2)["group_description"] == "the south")
    ok(srv, "POST", "relation_add", {"device_id": d1, "group_id": g1})
    ok(srv, "POST", "relation_add", {"device_id": d2, "group_id": g1})
    ok(srv, "POST", "relation_add", {"device_id": d1, "group_id": "9"}, status=404)
    check(ok(srv, "GET", "relation_query/%s/%s" % (d1, g1)) == {"exists": True})
    check(sorted(str(d["device_id"]) for d in ok(srv, "GET", "group_devices_query/" + g1))
          == sorted([d1, d2]))
    ok(srv, "PUT", "device_groups_update", {"device_id": d1, "group_ids": [g1, g2]})
    check(sorted(str(g["group_id"]) for g in ok(srv, "GET", "device_groups_query/" + d1))
          == sorted([g1, g2]))
    ok(srv, "DELETE", "relation_delete", {"device_id": d1, "group_id": g1})
    ok(srv, "DELETE", "relation_delete", {"device_id": d1, "group_id": g1}, status=404)
    ok(srv, "DELETE", "group_delete", {"group_id": g2})
    check(ok(srv, "GET", "device_groups_query/" + d1) == [])
    ok(srv, "DELETE", "device_delete", {"device_id": d1})
    ok(srv, "GET", "device_query/" + d1, status=404)
    check(rows("SELECT count(*) FROM devices") == "1" and
          rows("SELECT count(*) FROM relations") == "1", "deleted in the database")
    no_secret(srv)


@T.test
async def device_session(srv):
    did = srv.add_device("SN-S", "M", "pw")
    t0 = int(time.time() * 1000) - 1000
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        check(srv.dev_state(did) == "online")
        for cpu in (10.0, 20.0, 30.0):
            await dev.send_json(status_upload(cpu))
            check(await dev.recv_json(3) == ACK)
        await asyncio.to_thread(srv.wait_logs, did, lambda ls: {"login", "status_upload"} <= {
            l["event"] for l in ls}, 5.0)

        def samples():
            st, r = srv.api.request("GET", REST_BASE + "device_history_query/%s?from=%d"
                                    % (did, t0))
            pts = r["data"]["series"].get("cpu_percent", []) if st == 200 else []
            return [p[1] for p in pts] if len(pts) == 3 else None
        check(await await_until(samples, 10, what="three history samples") == [10.0, 20.0, 30.0])
    await asyncio.to_thread(srv.wait_offline_logged, did, 5.0)
    check(int(rows("SELECT count(*) FROM device_logs WHERE device_id = %s AND event = "
                   "'status_upload'" % did)) >= 1, "the rows are in the database")
    check(rows("SELECT dev_state FROM devices WHERE device_id = %s" % did) == "offline")
    check(int(rows("SELECT count(*) FROM history WHERE owner = 'd:%s'" % did)) == 3)
    no_secret(srv)


@T.test
def restart_keeps_rules_alerts_tokens(srv):
    ok(srv, "POST", "alert_rule_add", {"name": "gpu_hot", "kind": "device_gpu_temp",
                                       "threshold": 90, "clear": 85, "for": 1000})
    sil = ok(srv, "POST", "alert_silence", {"rule": "gpu_hot", "duration": 3600000,
                                            "comment": "kept across a restart"})
    keep = ok(srv, "POST", "api_token_add", {"name": "keeper", "scope": "read"})
    gone = ok(srv, "POST", "api_token_add", {"name": "goner", "scope": "operator"})
    ok(srv, "DELETE", "api_token_delete", {"token_id": gone["token_id"]})
    st, _ = srv.api.get("device_query_all", token=gone["token"])
    check(st == 401, "a revoked token is refused", st)
    check(srv.api.get("device_query_all", token=keep["token"])[0] == 200)
    # the silence's log row, and the engine's state with it (saved after its next round)
    wait_until(lambda: rows("SELECT count(*) FROM alert_log WHERE event = 'silenced'") == "1",
               5, what="the silence's alert-log row")
    wait_until(lambda: rows("SELECT count(*) FROM alert_state WHERE doc LIKE '%kept across a restart%'")
               == "1", 5, what="the alert state with the silence")
    srv.stop()
    srv.start(same_port=True)
    rules = {r["name"]: r for r in ok(srv, "GET", "alert_rule_query_all")["rules"]}
    check(rules.get("gpu_hot", {}).get("threshold") == 90, rules.get("gpu_hot"))
    # the engine reads its saved state on the database thread after the start
    sils = wait_until(lambda: ok(srv, "GET", "alert_query_all")["silences"], 5,
                      what="the silence restored")
    check([s["id"] for s in sils] == [sil["silence_id"]] and sils[0]["comment"] == "kept across a restart",
          sils)
    st, r = srv.api.post("alert_log_query", {"event": "silenced"})
    check(st == 200 and len(r["data"]["rows"]) == 1, st, r)
    check(srv.api.get("device_query_all", token=keep["token"])[0] == 200, "kept token")
    check(srv.api.get("device_query_all", token=gone["token"])[0] == 401, "revoked token")
    names = sorted(t["name"] for t in ok(srv, "GET", "api_token_query_all"))
    check("keeper" in names and "goner" not in names, names)
    no_secret(srv)


async def outage(srv, dev, did):
    """The database server is stopped: REST that needs it fails fast, the device stays."""
    # written behind meanwhile: kept by the device log until the database is back
    await dev.send_json(status_upload(42.0))
    check(await dev.recv_json(3) == ACK)
    # every REST call that needs the database: 503 "database unavailable", quickly
    t_end = time.monotonic() + 4.0
    calls = 0
    while time.monotonic() < t_end:
        for method, name, body in (("GET", "device_query/" + did, None),
                                   ("GET", "device_query_all", None),
                                   ("POST", "group_add", {"group_name": "g%d" % calls})):
            t0 = time.monotonic()
            st, r = await asyncio.to_thread(srv.api.request, method, REST_BASE + name, body)
            took = time.monotonic() - t0
            check(st == 503 and "database unavailable" in r.get("message", ""), name, st, r)
            check(took < 3.0, name, "took %.1f s" % took)
            calls += 1
        # the device stays connected and answered
        check((await dev.ping(3))["data"] == "pong")
        await asyncio.sleep(0.2)
    check(calls >= 9, calls)
    check("database unavailable" in srv.tail(0), "the server logs why")


@T.test
async def database_outage(srv):
    did = srv.add_device("SN-O", "M", "pw")
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        await asyncio.to_thread(DB.stop)
        try:
            await outage(srv, dev, did)
        finally:
            await asyncio.to_thread(DB.start)

        def back():
            return srv.api.get("device_query/" + did)[0] == 200
        await await_until(back, 10, what="REST working again")
        st, r = await asyncio.to_thread(srv.api.post, "group_add", {"group_name": "after"})
        check(st == 200, st, r)
        check((await dev.ping(3))["data"] == "pong", "the device is still connected")
        await asyncio.to_thread(srv.wait_logs, did, lambda ls: any(
            l["event"] == "status_upload" for l in ls), 10.0, "the upload's row, kept")
    # a new session logs in and is logged as before
    async with srv.connect() as dev2:
        await dev2.login(device_id=did, password="pw")
    await asyncio.to_thread(srv.wait_logs, did, lambda ls: sum(
        1 for l in ls if l["event"] == "login") >= 2 and any(
        l["event"] == "state" and l["result"] == "offline" for l in ls), 5.0)
    check(srv.alive(), "edgefleetd kept running")
    no_secret(srv)


try:
    T.main()
finally:
    DB.stop()
    shutil.rmtree(TMP, ignore_errors=True)
