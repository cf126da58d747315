#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""23-audit.py -- the audit log (docs/security.md#audit-log) against a real edgefleetd: every
mutating route once, each found exactly once with its token name, route, target, outcome and peer;
orders with their outcome; queries not recorded; refusals with their status (401 not); no secret
in any row; audit_query's filters and its cursor (no row skipped or repeated across pages, with
many rows of the same ms); retention with a short audit_retention; the rows after a restart; the
CLI."""
import json
import os
import subprocess

from efharness import (REST_BASE, Suite, add_group, add_relation, build_dir, check, rest_routes,
                       wait_until)

T = Suite("23-audit", order_timeout="3s", heartbeat_tolerance="5s",
          heartbeat_tolerance_miss="3s")

CTL = os.path.join(build_dir(), "src", "cli", "edgefleetctl")


def audit(srv, **filters):
    """Every audit row matching filters, newest first, following the cursor (pages of 1000)."""
    rows, cursor = [], None
    while True:
        body = dict(filters)
        body.setdefault("limit", 1000)
        if cursor:
            body["cursor"] = cursor
        st, r = srv.api.post("audit_query", body)
        check(st == 200, "audit_query", body, st, r)
        rows += r["data"]["rows"]
        cursor = r["data"]["next_cursor"]
        if not cursor:
            return rows


def new_token(srv, kind, name):
    st, r = srv.api.post("api_token_add", {"kind": kind, "name": name})
    check(st == 200, "api_token_add", st, r)
    return r["data"]["token_id"], r["data"]["token"]


def post(srv, tok, name, body, method="POST"):
    return srv.api.request(method, REST_BASE + name, body, token=tok)


@T.test
def every_mutation_recorded_once(srv):
    ops_id, ops = new_token(srv, "admin", "ops")
    secrets = [srv.token, ops, "devpass-secret-1", "devpass-secret-2", "batch-secret"]
    expect = []  # (route, target or None, status, outcome prefix)

    def call(name, body, status=200, target=None, outcome="ok", method="POST"):
        st, r = post(srv, ops, name, body, method)
        check(st == status, name, body, st, r)
        expect.append((name, target, status, outcome))
        return r.get("data") if isinstance(r, dict) else None

    d = call("device_add", {"hardware": {"sn": "A1", "model": "M"}, "password": "devpass-secret-1"})
    dev = d["device_id"]
    expect[-1] = ("device_add", "device=%s" % dev, 200, "ok")
    d = call("device_add_batch", {"devices": [
        {"hardware": {"sn": "B%d" % i, "model": "M"}, "password": "batch-secret"}
        for i in range(3)]})
    ids = d["device_ids"]
    expect[-1] = ("device_add_batch", "devices=3 [%s]" % ",".join(ids), 200, "ok")
    call("device_update", {"device_id": dev, "dev_description": "x", "password": "devpass-secret-2"},
         target="device=%s" % dev, method="PUT")
    g = call("group_add", {"group_name": "north"})["group_id"]
    expect[-1] = ("group_add", "group=%s" % g, 200, "ok")
    call("group_update", {"group_id": g, "group_description": "racks"}, target="group=%s" % g,
         method="PUT")
    call("relation_add", {"device_id": ids[0], "group_id": g},
         target="device=%s group=%s" % (ids[0], g))
    call("relation_delete", {"device_id": ids[0], "group_id": g},
         target="device=%s group=%s" % (ids[0], g), method="DELETE")
    call("device_groups_update", {"device_id": ids[1], "group_ids": [g]},
         target="device=%s groups=1 [%s]" % (ids[1], g), method="PUT")
    call("device_groups_delete", {"device_id": ids[1]}, target="device=%s" % ids[1],
         method="DELETE")
    call("group_devices_delete", {"group_id": g}, target="group=%s" % g, method="DELETE")
    call("give_order", {"device_id": dev, "order": "reboot_now"}, status=409,
         target="device=%s order=reboot_now" % dev, outcome="Device is offline!")
    call("group_give_order", {"group_id": g, "order": "x"}, target="group=%s order=x" % g,
         outcome="ok: 0 succeeded, 0 failed")
    call("miner_bind", {"minerId": "f0999", "device_id": dev}, status=404,
         target="device=%s miner=f0999" % dev, outcome="Miner NOT FOUND.")
    call("miner_worker_delete", {"minerId": "f0999", "hostName": "pc1-02"}, status=404,
         target="miner=f0999 host=pc1-02", outcome="Miner NOT FOUND.")
    t = call("api_token_add", {"kind": "read", "name": "viewer"})
    expect[-1] = ("api_token_add", "token=%s" % t["token_id"], 200, "ok")
    secrets.append(t["token"])
    call("api_token_delete", {"token_id": t["token_id"]}, target="token=%s" % t["token_id"],
         method="DELETE")
    # alerts (docs/alerts.md): rules are named by "name", which no target shows
    call("alert_rule_add", {"name": "hot", "kind": "device_cpu_temp", "threshold": 90})
    call("alert_rule_update", {"name": "hot", "threshold": 95}, method="PUT")
    call("alert_rule_delete", {"name": "hot"}, method="DELETE")
    call("alert_silence", {"rule": "disk_full", "duration": 60000}, target="rule=disk_full")
    call("alert_ack", {"fingerprint": "disk_full|device=1"}, status=404,
         target="alert=disk_full?device?1", outcome="no open alert")  # "|=" shown as "?"
    call("group_delete", {"group_id": g}, target="group=%s" % g, method="DELETE")
    call("device_delete", {"device_id": ids[2]}, target="device=%s" % ids[2], method="DELETE")

    # queries: none recorded (audit_query itself neither, GET or POST)
    for name, args in [("device_query", [dev]), ("device_query_all", []),
                       ("group_query_all", []), ("device_log_query", [dev]),
                       ("device_groups_query", [dev]), ("miner_query_all", []),
                       ("relation_query", [dev, g]), ("audit_query", []),
                       ("alert_query_all", []), ("alert_log_query", []),
                       ("alert_rule_query_all", [])]:
        st, _ = srv.api.get(name, *args, token=ops)
        check(st in (200, 404), name, st)

    rows = audit(srv)
    # api_token_add of "ops" by the admin token, then every call above by "ops"
    check(len(rows) == len(expect) + 1, "rows", len(rows), len(expect) + 1,
          json.dumps(rows, indent=1))
    first = rows[-1]
    check(first["route"] == "api_token_add" and first["token_name"] == "admin" and
          first["target"] == "token=%s" % ops_id, first)
    mine = list(reversed(rows[:-1]))  # oldest first, as called
    routes_seen = set()
    for row, (route, target, status, outcome) in zip(mine, expect):
        check(row["route"] == route, "route", row, route)
        check(row["token_name"] == "ops" and row["token_id"] == ops_id, "token", row)
        check(row["target"] == target, "target", row, target)
        check(row["status"] == status, "status", row, status)
        check(row["outcome"].startswith(outcome), "outcome", row, outcome)
        check(row["peer"] == "127.0.0.1", "peer", row)
        check(isinstance(row["time"], int) and row["time"] > 0, row)
        routes_seen.add(route)
    # every route that is not a query (from the route tables) is in this test
    every = {name for methods, name, _, _, reads_only in rest_routes()
             if not reads_only and set(methods) - {"GET"}}
    check(routes_seen == every, "routes", sorted(every - routes_seen))
    text = json.dumps(rows)
    for s in secrets:
        check(s not in text, "a secret is in the audit log", s)
    check("racks" not in text and "north" not in text, "a body member is in the audit log")


@T.test
async def orders_recorded_with_their_outcome(srv):
    did = srv.add_device("SN-O", "M", "pw")
    g = add_group(srv.api, "g")
    add_relation(srv.api, did, g)
    async with srv.connect() as dev:
        await dev.login(device_id=did, password="pw")
        import asyncio
        for status, message in [("success", "done"), ("fail", "no disk")]:
            call = asyncio.create_task(srv.api.apost("give_order",
                                                     {"device_id": did, "order": "fmt"}))
            o = await dev.recv_type("give_order", 3)
            await dev.send_json({"type": "upload_instruction_result", "status": status,
                                 "Headers": {"message": message,
                                             "order_id": o["Headers"]["order_id"]},
                                 "data": {}})
            st, r = await call
            check(st == (200 if status == "success" else 502), st, r)
        call = asyncio.create_task(srv.api.apost("group_give_order", {"group_id": g, "order": "y"}))
        o = await dev.recv_type("give_order", 3)
        await dev.send_json({"type": "upload_instruction_result", "status": "success",
                             "Headers": {"message": "ok", "order_id": o["Headers"]["order_id"]},
                             "data": {}})
        st, r = await call
        check(st == 200, st, r)
    rows = audit(srv, route="give_order")
    check([(r["status"], r["outcome"]) for r in rows] == [(502, "no disk"), (200, "ok")], rows)
    check(all(r["target"] == "device=%s order=fmt" % did for r in rows), rows)
    rows = audit(srv, route="group_give_order")
    check(len(rows) == 1 and rows[0]["outcome"] == "ok: 1 succeeded, 0 failed" and
          rows[0]["target"] == "group=%s order=y" % g, rows)


@T.test
def refusals_recorded_401_not(srv):
    _, viewer = new_token(srv, "read", "viewer")
    n0 = len(audit(srv))
    st, _ = post(srv, viewer, "device_add", {"hardware": {"sn": "x", "model": "y"}})
    check(st == 403, st)
    st, _ = srv.api.request("POST", REST_BASE + "group_add", raw=b"{nope", token=srv.token)
    check(st == 400, st)
    st, _ = srv.api.request("POST", REST_BASE + "group_add", raw=b"{}", token=srv.token,
                            content_type="text/plain")
    check(st == 400, st)
    st, _ = post(srv, srv.token, "device_delete", {"device_id": "12345"})
    check(st == 404, st)
    for tok in ("not-a-token", ""):  # 401: not recorded
        st, _ = post(srv, tok, "device_add", {"hardware": {"sn": "x", "model": "y"}})
        check(st == 401, st)
    st, _ = post(srv, srv.token, "no_such_route", {})
    check(st == 404, st)
    rows = audit(srv)
    check(len(rows) == n0 + 4, "rows", len(rows) - n0, rows)
    got = [(r["route"], r["token_name"], r["status"]) for r in rows[:4]]
    check(got == [("device_delete", "admin", 404), ("group_add", "admin", 400),
                  ("group_add", "admin", 400), ("device_add", "viewer", 403)], got)
    check(rows[0]["outcome"] == "Device NOT FOUND." and rows[0]["target"] == "device=12345",
          rows[0])
    check(rows[3]["outcome"] == "device_add needs an operator token; this one is read", rows[3])
    check(all(r["peer"] == "127.0.0.1" for r in rows), rows)
    check("not-a-token" not in json.dumps(rows))


@T.test(rest_rate="5", rest_burst="5")
def rate_limited_flood_is_not_a_log_flood(srv):
    _, ci = new_token(srv, "admin", "ci")
    refused = 0
    for i in range(60):
        st, _ = post(srv, ci, "group_add", {"group_name": "x%d" % i})
        check(st in (200, 429), st)
        refused += st == 429
    check(refused > 10, "429 answers", refused)
    rows = audit(srv, token="ci")
    n429 = sum(r["status"] == 429 for r in rows)
    check(1 <= n429 < refused, "429 rows", n429, "of", refused)
    check(sum(r["status"] == 200 for r in rows) + refused == 60, rows)
    check(rows[-1]["outcome"] in ("ok", "too many requests"), rows[-1])


@T.test
def filters_and_paging(srv):
    _, ci = new_token(srv, "admin", "ci")
    gids = []
    for i in range(40):  # fast: many rows share a ms
        st, r = post(srv, ci if i % 2 else srv.token, "group_add", {"group_name": "g%d" % i})
        check(st == 200, st, r)
        gids.append(r["data"]["group_id"])
    post(srv, ci, "group_add", {"group_name": "g0"})  # 409
    everything = audit(srv)
    check(len(everything) == 42, len(everything))
    times = [r["time"] for r in everything]
    check(len(set(times)) < len(times), "no two rows share a ms: the paging test proves less")
    # pages of 7 by the cursor: every row once, in order
    seen, cursor, pages = [], None, 0
    while True:
        body = {"limit": 7}
        if cursor:
            body["cursor"] = cursor
        st, r = srv.api.post("audit_query", body)
        check(st == 200, st, r)
        seen += [x["audit_id"] for x in r["data"]["rows"]]
        pages += 1
        cursor = r["data"]["next_cursor"]
        if not cursor:
            break
    check(seen == [x["audit_id"] for x in everything], "pages", seen)
    check(pages == 7, pages)  # 6 full pages, then an empty one
    st, r = srv.api.get("audit_query")  # GET: the newest 100
    check(st == 200 and len(r["data"]["rows"]) == 42, st)

    check(len(audit(srv, token="ci")) == 21)  # 20 groups and the 409
    ci_id = audit(srv, token="ci")[0]["token_id"]
    check(len(audit(srv, token=ci_id)) == 21)
    check(len(audit(srv, route="group_add")) == 41)
    check(len(audit(srv, route="api_token_add")) == 1)
    check([r["target"] for r in audit(srv, target="group=%s" % gids[7])] == ["group=%s" % gids[7]])
    check(len(audit(srv, outcome="4xx")) == 1 and len(audit(srv, outcome="fail")) == 1)
    check(len(audit(srv, outcome="ok")) == 41)
    mid = everything[20]["time"]
    newer = audit(srv, since=mid)
    older = audit(srv, until=mid)
    check(len(newer) + len(older) == 42 and all(r["time"] >= mid for r in newer) and
          all(r["time"] < mid for r in older), len(newer), len(older))
    # bad filters: a clear 400
    for body in ({"limit": 0}, {"limit": 1001}, {"since": "yesterday"}, {"cursor": "x"},
                 {"outcome": "meh"}, {"route": ""}, {"whatever": 1}):
        st, r = srv.api.post("audit_query", body)
        check(st == 400 and r["status"] == "fail", body, st, r)
    # admin only
    _, viewer = new_token(srv, "read", "viewer")
    st, _ = srv.api.post("audit_query", {}, token=viewer)
    check(st == 403, st)


@T.test(audit_retention="2s", log_prune_every="1s")
def retention_prunes(srv):
    for i in range(5):
        add_group(srv.api, "r%d" % i)
    check(len(audit(srv)) == 5)
    wait_until(lambda: len(audit(srv)) == 0, 15, what="the rows pruned after audit_retention")
    check("pruned 5 audit rows" in srv.tail(0) or "audit rows" in srv.tail(0), srv.tail())
    add_group(srv.api, "fresh")
    check([r["route"] for r in audit(srv)] == ["group_add"])


@T.test
def rows_survive_a_restart(srv):
    for i in range(3):
        add_group(srv.api, "s%d" % i)
    before = audit(srv)
    check(len(before) == 3)
    srv.stop()
    srv.exit_code = None
    srv.start()
    check(audit(srv) == before, "after restart")
    add_group(srv.api, "after")
    after = audit(srv)
    check(len(after) == 4 and int(after[0]["audit_id"]) > int(before[0]["audit_id"]), after)


@T.test
def cli_prints_the_log(srv):
    for i in range(3):
        add_group(srv.api, "c%d" % i)
    post(srv, srv.token, "group_add", {"group_name": "c0"})  # 409
    base = ["--server", "http://127.0.0.1:%d" % srv.port,
            "--token-file", os.path.join(srv.data_dir, "admin.token")]
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith("EDGEFLEET_")}

    def ctl(*args):
        p = subprocess.run([CTL] + base + list(args), capture_output=True, text=True, env=env,
                           timeout=60)
        check(srv.token not in p.stdout + p.stderr, "token printed")
        return p.returncode, p.stdout, p.stderr

    rc, out, err = ctl("audit")
    check(rc == 0, rc, out, err)
    lines = out.strip().splitlines()
    check(lines[0].split()[:2] == ["TIME", "TOKEN"] and len(lines) == 5, out)
    check("group_add" in lines[1] and "409" in lines[1] and "already exists" in lines[1], out)
    check(all("admin" in l and "127.0.0.1" in l for l in lines[1:]), out)
    rc, out, err = ctl("--json", "audit", "--by", "admin", "--outcome", "ok")
    check(rc == 0, rc, err)
    data = json.loads(out)
    check(data["rows"] == audit(srv, token="admin", outcome="ok", limit=100), data)
    check(len(data["rows"]) == 3, data)
    rc, out, err = ctl("audit", "--limit", "2", "--route", "group_add")
    check(rc == 0 and len(out.strip().splitlines()) == 3 and "--cursor" in err, out, err)
    cursor = err.split("--cursor")[1].split()[0]
    rc, out, err = ctl("audit", "--limit", "2", "--route", "group_add", "--cursor", cursor)
    check(rc == 0 and len(out.strip().splitlines()) == 3, out, err)
    rc, out, err = ctl("audit", "--outcome", "bad")
    check(rc == 1 and "outcome" in err, rc, out, err)


if __name__ == "__main__":
    T.main()
