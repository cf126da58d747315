#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""22-tokens.py -- scoped, named, revocable API tokens (docs/api.md#api-tokens,
docs/security.md#api-tokens): a read token is refused (403) on every route that writes, taken
from the route tables of src/server/rest_*.c themselves, and changes nothing; an operator token
cannot manage tokens; a group-limited token sees and commands only its groups' devices on REST
and /front (lists, single queries, orders, pushes), and follows relation changes at once; a
revoked token is refused at once on REST and its open /front session is closed at once (1008
"token revoked"); the last admin token cannot be revoked; the list never holds a secret or a
hash; tokens, scopes and last use survive a restart; an expired token is refused."""
import asyncio
import hashlib
import json
import os
import re

import websockets

from efharness import Suite, check, await_until, rest_routes, wait_until

T = Suite("22-tokens", front_push_interval="50ms", token_used_flush="100ms", log_flush="20ms")


def add_token(srv, name, scope, **extra):
    st, r = srv.api.post("api_token_add", dict(name=name, scope=scope, **extra))
    check(st == 200 and r["data"]["scope"] == scope and r["data"]["name"] == name, st, r)
    return r["data"]["token"], r["data"]["token_id"]


def call(srv, method, name, nargs, token, body=None):
    path = "/service/devices_manage/" + name + "".join("/1" for _ in range(nargs))
    return srv.api.request(method, path, body if body is not None else ({} if method != "GET" else None),
                           token=token)


def delete(srv, name, body, token=None):
    return srv.api.request("DELETE", "/service/devices_manage/" + name, body, token=token)


@T.test
def read_token_cannot_write(srv):
    did = srv.add_device("SN-1", "m")
    read, _ = add_token(srv, "wall", "read")
    op, _ = add_token(srv, "ops", "operator")
    writes = admin_only = 0
    for methods, name, nargs, need, reads_only in rest_routes():
        for method in methods:
            st, r = call(srv, method, name, nargs, read)
            if "REST_READ" in need:
                # a read route is a GET, or takes its filters in a POST body and only reads
                check(method == "GET" or reads_only, "a read route that is not a GET", name, method)
                check(st != 403, name, st, r)
                continue
            writes += 1
            check(st == 403 and "needs a" in r["message"] and "this one is read" in r["message"],
                  name, method, st, r)
            st, r = call(srv, method, name, nargs, op)
            if "REST_ADMIN" in need:
                admin_only += 1
                check(st == 403 and "needs an admin token; this one is operator" in r["message"],
                      name, st, r)
            else:
                check(st != 403 and st != 401, name, st, r)  # the operator passes (400/404/...)
    check(writes >= 18 and admin_only >= 3, writes, admin_only)
    # Nothing changed: the one device, no group; the operator's tries were all invalid bodies.
    st, r = srv.api.get("device_query_all")
    check(st == 200 and [d["device_id"] for d in r["data"]] == [did], r)
    st, r = srv.api.get("group_query_all")
    check(st == 200 and r["data"] == [], r)
    # `kind` is still accepted as the old name of scope.
    st, r = srv.api.post("api_token_add", {"name": "old-client", "kind": "read"})
    check(st == 200 and r["data"]["scope"] == "read" and r["data"]["kind"] == "read", st, r)
    for body, msg in (({"scope": "read"}, "name"), ({"name": "x"}, "scope must be"),
                      ({"name": "x", "scope": "root"}, "scope must be"),
                      ({"name": "x", "scope": "admin", "groups": ["1"]}, "cannot be limited"),
                      ({"name": "x", "scope": "read", "groups": []}, "groups must be"),
                      ({"name": "x", "scope": "read", "groups": ["99"]}, "Group NOT FOUND"),
                      ({"name": "x", "scope": "read", "expires_in": 0}, "expires_in"),
                      ({"name": "x", "scope": "read", "kind": "admin"}, "differ")):
        st, r = srv.api.post("api_token_add", body)
        check(st in (400, 404) and msg in r["message"], body, st, r)


async def front(srv, token):
    ws = await websockets.connect("ws://127.0.0.1:%d/front" % srv.port, ping_interval=None)
    await ws.send(json.dumps({"uri": "login", "body": {"token": token}, "msgId": "L"}))
    r = json.loads(await asyncio.wait_for(ws.recv(), 3))
    check(r["code"] == 1, r)
    return ws, r


async def ask(ws, msg_id, **msg):
    """A request's answer; pushes before it are returned too."""
    msg["msgId"] = msg_id
    await ws.send(json.dumps(msg))
    pushes = []
    while True:
        r = json.loads(await asyncio.wait_for(ws.recv(), 3))
        if r.get("msgId") == msg_id:
            return r, pushes
        pushes.append(r)


@T.test
async def group_limited_token(srv):
    api = srv.api
    d1, d2, d3 = (srv.add_device("SN-%d" % i, "m") for i in (1, 2, 3))
    ga = api.post("group_add", {"group_name": "team-a"})[1]["data"]["group_id"]
    gb = api.post("group_add", {"group_name": "team-b"})[1]["data"]["group_id"]
    api.post("relation_add", {"device_id": d1, "group_id": ga})
    api.post("relation_add", {"device_id": d2, "group_id": gb})
    lim, lim_id = add_token(srv, "team-a", "operator", groups=[ga])
    st, r = api.get("device_query_all", token=lim)
    check(st == 200 and [d["device_id"] for d in r["data"]] == [d1], r)
    check(api.get("device_query", d1, token=lim)[0] == 200)
    for name in ("device_query", "device_log_query", "device_groups_query",
                 "device_statusInfo_query"):
        st, r = api.get(name, d2, token=lim)
        check(st == 404 and d2 not in json.dumps(r), name, st, r)
    st, r = api.get("group_query_all", token=lim)
    check(st == 200 and [g["group_id"] for g in r["data"]] == [ga], r)
    check(api.get("group_query", gb, token=lim)[0] == 404)
    check(api.get("group_devices_query", gb, token=lim)[0] == 404)
    st, r = api.post("give_order", {"device_id": d2, "order": "reboot"}, token=lim)
    check(st == 404, st, r)
    st, r = api.post("give_order", {"device_id": d1, "order": "reboot"}, token=lim)
    check(st == 409, st, r)  # its own device: not connected, but not hidden
    st, r = api.post("group_give_order", {"group_id": gb, "order": "reboot"}, token=lim)
    check(st == 404, st, r)
    st, r = api.post("device_add", {"hardware": {"sn": "x", "model": "y"}, "password": "p"},
                     token=lim)
    check(st == 403 and "not limited to groups" in r["message"], st, r)
    st, r = api.post("relation_add", {"device_id": d3, "group_id": ga}, token=lim)
    check(st == 404, "a device outside its groups cannot be pulled in", st, r)
    st, r = api.request("PUT", "/service/devices_manage/device_update",
                        {"device_id": d2, "device_name": "x"}, token=lim)
    check(st == 404, st, r)
    st, r = api.request("PUT", "/service/devices_manage/device_update",
                        {"device_id": d1, "device_name": "mine"}, token=lim)
    check(st == 200, st, r)

    # /front: the list, statuses and pushes of its devices only.
    dev1, dev2 = srv.connect(), srv.connect()
    await dev1.__aenter__()
    await dev2.__aenter__()
    await dev2.login(device_id=d2)
    await dev2.send_json({"type": "upload_status_info", "Headers": {}, "data": {"cpu": 2}})
    await dev2.recv_json(3)
    ws, r = await front(srv, lim)
    check(r["data"]["scope"] == "operator" and r["data"]["limited"] is True, r)
    adm, _ = await front(srv, srv.token)
    r, _ = await ask(ws, "1", uri="deviceList", body={})
    check(r["code"] == 1 and [d["device_id"] for d in r["data"]] == [d1], r)
    check(r["data"][0]["groups"] == ["team-a"], r)
    r, _ = await ask(ws, "2", uri="deviceStatus", body={"device_id": d2})
    check(r["code"] == 0, r)
    r, _ = await ask(adm, "2", uri="deviceStatus", body={"device_id": d2})
    check(r["code"] == 1 and r["data"]["cpu"] == 2, r)
    r, _ = await ask(ws, "3", event="subDeviceStatus", body={"device_id": d2})
    check(r["code"] == 0, r)
    r, _ = await ask(ws, "4", uri="deviceLog", body={"device_id": d2})
    check(r["code"] == 0, r)
    for w in (ws, adm):
        r, _ = await ask(w, "5", event="subDeviceList", body={})
        check(r["code"] == 1, r)
    # d2 goes offline, then d1 comes online: the limited dashboard hears of d1 only.
    await dev2.close()
    await dev1.login(device_id=d1)
    seen = {}

    async def heard(w, key):
        while True:
            m = json.loads(await asyncio.wait_for(w.recv(), 3))
            if m.get("message") == "subDeviceList":
                seen.setdefault(key, set()).update(m["body"].keys())
                if d1 in m["body"]:
                    return
    await heard(adm, "admin")
    await heard(ws, "limited")
    check(d2 in seen["admin"], seen)
    check(d2 not in seen["limited"], seen)

    # A relation made by the admin is seen by the limited token as soon as it is answered.
    st, r = api.post("relation_add", {"device_id": d3, "group_id": ga})
    check(st == 200, r)
    check(api.get("device_query", d3, token=lim)[0] == 200)
    st, r = delete(srv, "relation_delete", {"device_id": d3, "group_id": ga}, token=lim)
    check(st == 200, st, r)
    check(api.get("device_query", d3, token=lim)[0] == 404)
    await dev1.close()
    await ws.close()
    await adm.close()


@T.test
async def revoke_and_list(srv):
    api = srv.api
    op, op_id = add_token(srv, "ops", "operator")
    check(api.get("device_query_all", token=op)[0] == 200)
    st, r = api.get("api_token_query_all", token=op)
    check(st == 403, st, r)
    st, r = api.get("api_token_query_all")
    check(st == 200, st, r)
    text = json.dumps(r)
    for secret in (op, srv.token):
        check(secret not in text and hashlib.sha256(secret.encode()).hexdigest() not in text,
              "the list holds a secret or its hash", text)
    mine = {t["name"]: t for t in r["data"]}
    check(set(mine) == {"admin", "ops"}, mine)
    t = mine["ops"]
    check(t["token_id"] == op_id and t["scope"] == "operator" and t["groups"] is None and
          t["expires_time"] is None and t["created_time"] > 0 and t["last_used_time"] > 0, t)
    check(set(t) == {"token_id", "name", "scope", "groups", "created_time", "last_used_time",
                     "expires_time"}, t)

    ws, _ = await front(srv, op)
    r, _ = await ask(ws, "1", uri="minerList", body={})
    check(r["code"] == 1, r)
    st, r = delete(srv, "api_token_delete", {"token_id": op_id})
    check(st == 200, st, r)
    st, r = api.get("device_query_all", token=op)  # at once: the very next request
    check(st == 401, st, r)
    last = None
    try:
        while True:
            last = json.loads(await asyncio.wait_for(ws.recv(), 3))
    except websockets.exceptions.ConnectionClosed as e:
        check(e.code == 1008, e.code, e.reason)
    check(last and last["code"] == 0 and last["message"] == "token revoked", last)
    st, r = delete(srv, "api_token_delete", {"token_id": op_id})
    check(st == 404, st, r)
    # The last admin token cannot go (409); with another admin it can.
    admin_id = mine["admin"]["token_id"]
    st, r = delete(srv, "api_token_delete", {"token_id": admin_id})
    check(st == 409 and "last valid admin token" in r["message"], st, r)
    adm2, adm2_id = add_token(srv, "admin-2", "admin")
    st, r = delete(srv, "api_token_delete", {"token_id": admin_id}, token=adm2)
    check(st == 200, st, r)
    check(api.get("device_query_all")[0] == 401)
    st, r = delete(srv, "api_token_delete", {"token_id": adm2_id}, token=adm2)
    check(st == 409, st, r)


@T.test
def survive_restart_and_expire(srv):
    api = srv.api
    read, read_id = add_token(srv, "wall", "read")
    gid = api.post("group_add", {"group_name": "g"})[1]["data"]["group_id"]
    did = srv.add_device("SN-1", "m")
    api.post("relation_add", {"device_id": did, "group_id": gid})
    lim, lim_id = add_token(srv, "team", "read", groups=[gid], expires_in=3600)
    check(api.get("device_query_all", token=read)[0] == 200)
    srv.stop()
    srv.exit_code = None
    srv.start()
    api = srv.api
    st, r = api.get("api_token_query_all")
    check(st == 200, st, r)
    by = {t["name"]: t for t in r["data"]}
    check(by["wall"]["scope"] == "read" and by["wall"]["last_used_time"], by)  # written at stop
    check(by["team"]["groups"] == [gid] and by["team"]["expires_time"] > 0, by)
    check(by["team"]["last_used_time"] is None, by)
    st, r = api.post("group_add", {"group_name": "x"}, token=read)
    check(st == 403, st, r)
    st, r = api.get("device_query_all", token=lim)
    check(st == 200 and [d["device_id"] for d in r["data"]] == [did], r)
    # A token that expires: refused once past its time, with the reason.
    exp, _ = add_token(srv, "short", "read", expires_in=1)
    wait_until(lambda: api.get("device_query_all", token=exp)[0] == 401, timeout=10,
               what="the token expires")
    st, r = api.get("device_query_all", token=exp)
    check(st == 401 and r["message"] == "token expired", st, r)


if __name__ == "__main__":
    T.main()
