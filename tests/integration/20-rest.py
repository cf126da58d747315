#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""20-rest.py -- the northbound REST API of a real edgefleetd: every device, group and relation
route, every error code (400, 401, 404, 405, 409, 413), and that a password hash never leaves.

Starts edgefleetd through the shared harness (tests/helpers/efharness.py: a temporary data dir,
"ready port=N", SIGTERM with exit code 0 expected), talks to it with urllib. Standard library, plus python3-bcrypt to check stored hashes and
python3-websockets for one device that logs in (its log, token and deletion).
"""
import asyncio
import json
import os
import sqlite3
import sys
import time
import urllib.error
import urllib.request

import efharness  # first: it re-runs under Debian's python3 when needed
import bcrypt
import websockets

BASE = "/service/devices_manage/"

checks = 0
responses = []  # every response body seen, to look for leaked hashes at the end


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        raise AssertionError(what)


class Server(efharness.Server):
    """The shared harness' edgefleetd (tests/helpers/efharness.py) plus this file's request
    helpers: bcrypt cost 4 and a 64k body limit (for the 413 checks)."""

    def __init__(self):
        super().__init__(bcrypt_cost=4, max_body="64k")
        self.start()
        self.db = os.path.join(self.data_dir, "edgefleet.db")

    def stop(self, check_rc=True):
        if check_rc:
            super().stop()
        else:
            self.kill()

    def call(self, method, path, body=None, token="admin", ctype="application/json", raw=None):
        """(status, decoded JSON or None, text). body is JSON-encoded; raw is sent as is."""
        url = "http://127.0.0.1:%d%s%s" % (self.port, BASE, path)
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(url, data=data, method=method)
        if token == "admin":
            token = self.token
        if token is not None:
            req.add_header("Authorization", "Bearer " + token)
        if data is not None and ctype is not None:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        responses.append(text)
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        return status, doc, text

    def ok(self, method, path, body=None, **kw):
        status, doc, text = self.call(method, path, body, **kw)
        check(status == 200 and doc and doc.get("status") == "success",
              "%s %s: expected 200 success, got %d %s" % (method, path, status, text))
        return doc["data"]

    def fail(self, status, etype, method, path, body=None, msg=None, **kw):
        got, doc, text = self.call(method, path, body, **kw)
        check(got == status, "%s %s: expected %d, got %d %s" % (method, path, status, got, text))
        if etype is not None:
            check(doc is not None and doc.get("status") == "fail" and doc.get("type") == etype,
                  "%s %s: expected fail/%s, got %s" % (method, path, etype, text))
        if msg is not None:
            check(doc is not None and msg in doc.get("message", ""),
                  "%s %s: message should contain %r: %s" % (method, path, msg, text))
        return doc


def stored(srv, device_id):
    """The stored password hash and token hash of a device, read straight from SQLite."""
    con = sqlite3.connect("file:%s?mode=ro" % srv.db, uri=True, timeout=10)
    try:
        row = con.execute("SELECT password, token_hash FROM devices WHERE device_id = ?",
                          (int(device_id),)).fetchone()
    finally:
        con.close()
    return row


def device_body(sn, model="EG-9", password="pw-1", **extra):
    d = {"device_name": "edge-" + sn, "device_type": "gateway",
         "hardware": {"sn": sn, "model": model},
         "software": {"version": "1.0", "last_update": "2024-05-01"},
         "base": {"version": "0.1", "last_update": "2024-04-01", "state": "running"},
         "business": {"version": "2.0", "last_update": "2024-04-02", "state": "idle"},
         "nic": [{"type": "eth", "mac": "00:11:22:33:44:55", "ipv4": "10.0.0.2"}],
         "wifi_mac": "66:77:88:99:aa:bb", "lte_imei": "356938035643809",
         "dev_description": "rack 4", "password": password}
    d.update(extra)
    return d


def test_auth_and_transport(srv):
    srv.fail(401, "GENERAL_ERROR", "GET", "device_query_all", token=None)
    srv.fail(401, "GENERAL_ERROR", "GET", "device_query_all", token="not-the-token")
    srv.fail(401, "GENERAL_ERROR", "POST", "device_add", device_body("X1"), token=None)
    # 404: unknown API, 405: a known one with the wrong method
    srv.fail(404, "GENERAL_ERROR", "GET", "no_such_api")
    srv.fail(405, "GENERAL_ERROR", "GET", "device_add")
    srv.fail(405, "GENERAL_ERROR", "DELETE", "device_add", device_body("X1"))
    srv.fail(405, "GENERAL_ERROR", "POST", "device_query_all", {})
    srv.fail(405, "GENERAL_ERROR", "PUT", "group_add", {"group_name": "g"})
    srv.fail(405, "GENERAL_ERROR", "POST", "relation_delete", {"device_id": "1", "group_id": "1"})
    # 400: body problems
    srv.fail(400, "GENERAL_ERROR", "POST", "device_add", raw=b"{not json")
    srv.fail(400, "GENERAL_ERROR", "POST", "device_add", raw=b"[1,2]")
    srv.fail(400, "GENERAL_ERROR", "POST", "device_add", raw=b"")
    srv.fail(400, "GENERAL_ERROR", "POST", "device_add", device_body("X1"), ctype="text/plain",
             msg="Content-Type")
    srv.fail(400, "GENERAL_ERROR", "POST", "device_add", device_body("X1"), ctype=None)
    # 413: over --max-body 64k
    big = device_body("X1", dev_description="x" * (70 * 1024))
    srv.fail(413, None, "POST", "device_add", big)
    srv.fail(413, None, "POST", "device_add_batch",
             {"devices": [device_body("B%05d" % i) for i in range(400)]})
    # nothing of the above created anything
    check(srv.ok("GET", "device_query_all") == [], "rejected requests must not create devices")


def test_devices(srv):
    # ----- device_add
    body = device_body("SN-1", password="first-pw")
    d1 = srv.ok("POST", "device_add", body)
    check(set(d1) == {"device_id", "password"}, "device_add answer: %r" % d1)
    check(isinstance(d1["device_id"], str) and d1["device_id"].isdigit(), "id is a digit string")
    check(d1["password"] == "first-pw", "device_add returns the plain password, as the seed")
    id1 = d1["device_id"]

    srv.fail(409, "DEVICEOP_ERROR", "POST", "device_add", device_body("SN-1"),
             msg="Device already exists.")
    # same sn, other model: a different device
    id2 = srv.ok("POST", "device_add", device_body("SN-1", model="EG-10"))["device_id"]
    check(id2 != id1, "ids differ")
    # minimal body
    id3 = srv.ok("POST", "device_add",
                 {"hardware": {"sn": "MIN", "model": "m"}, "password": "p"})["device_id"]

    # validation: required members, wrong types, bad nic -> 400 naming the member
    for path, mutate in [
        ("password", lambda b: b.pop("password")),
        ("hardware.sn", lambda b: b["hardware"].pop("sn")),
        ("hardware.model", lambda b: b["hardware"].pop("model")),
        ("hardware.sn", lambda b: b.pop("hardware")),
        ("password", lambda b: b.__setitem__("password", "")),
        ("password", lambda b: b.__setitem__("password", 1234)),
        ("hardware.sn", lambda b: b["hardware"].__setitem__("sn", "")),
        ("hardware.model", lambda b: b["hardware"].__setitem__("model", 7)),
        ("hardware", lambda b: b.__setitem__("hardware", "SN-9")),
        ("device_name", lambda b: b.__setitem__("device_name", 5)),
        ("device_type", lambda b: b.__setitem__("device_type", ["x"])),
        ("software.version", lambda b: b["software"].__setitem__("version", 1.5)),
        ("base.state", lambda b: b["base"].__setitem__("state", True)),
        ("business", lambda b: b.__setitem__("business", [])),
        ("wifi_mac", lambda b: b.__setitem__("wifi_mac", {})),
        ("lte_imei", lambda b: b.__setitem__("lte_imei", 356938035643809)),
        ("dev_description", lambda b: b.__setitem__("dev_description", False)),
        ("nic", lambda b: b.__setitem__("nic", "eth0")),
        ("nic", lambda b: b.__setitem__("nic", {"type": "eth"})),
        ("nic[1]", lambda b: b.__setitem__("nic", [{"type": "eth"}, "wlan"])),
        ("nic[0].mac", lambda b: b["nic"][0].__setitem__("mac", 17)),
    ]:
        b = device_body("SN-BAD")
        mutate(b)
        srv.fail(400, "GENERAL_ERROR", "POST", "device_add", b, msg=path)

    # ----- device_query
    q = srv.ok("GET", "device_query/" + id1)
    expect = dict(body)
    del expect["password"]
    for k, v in expect.items():
        check(q.get(k) == v, "device_query %s: %r != %r" % (k, q.get(k), v))
    check(q["device_id"] == id1 and q["dev_state"] == "offline", "id and state: %r" % q)
    check(isinstance(q["created_time"], int) and q["created_time"] > 1.6e12, "created_time ms")
    check(q["updated_time"] == q["created_time"], "new device: updated == created")
    check("password" not in q and "token_hash" not in q, "no secrets in device JSON")
    q3 = srv.ok("GET", "device_query/" + id3)
    check(q3["nic"] is None and q3["software"] == {"version": None, "last_update": None},
          "absent members are null in place: %r" % q3)
    srv.fail(404, "DEVICEOP_ERROR", "GET", "device_query/12345", msg="Device NOT FOUND.")
    for bad in ["abc", "0", "-5", "1.5", "99999999999999999999999"]:
        srv.fail(400, "GENERAL_ERROR", "GET", "device_query/" + bad)
    srv.fail(404, "GENERAL_ERROR", "GET", "device_query")  # the argument is required
    srv.fail(404, "GENERAL_ERROR", "GET", "device_query/%s/extra" % id1)
    srv.fail(405, "GENERAL_ERROR", "POST", "device_query/" + id1, {})

    # ----- device_query_all
    all_ = srv.ok("GET", "device_query_all")
    check(isinstance(all_, list) and {d["device_id"] for d in all_} == {id1, id2, id3},
          "device_query_all: %r" % all_)
    check(all("password" not in d for d in all_), "no password in the list")

    # ----- device_update (PUT and POST; ids as strings or integers)
    old_hash = stored(srv, id1)[0]
    check(old_hash.startswith("$2"), "stored password is a bcrypt hash")
    check(bcrypt.checkpw(b"first-pw", old_hash.encode()), "hash verifies the password")
    time.sleep(0.01)  # deliberately: a later millisecond for updated_time
    u = srv.ok("PUT", "device_update", {"device_id": id1, "device_name": "renamed",
                                        "hardware": {"model": "EG-9"},
                                        "nic": [{"type": "lte"}]})
    check(u["device_name"] == "renamed" and u["nic"] == [{"type": "lte"}], "update applied: %r" % u)
    check(u["device_type"] == "gateway" and u["hardware"]["sn"] == "SN-1", "others kept: %r" % u)
    check(u["updated_time"] > u["created_time"], "updated_time moves")
    check(stored(srv, id1)[0] == old_hash, "no password given: hash unchanged")
    u = srv.ok("POST", "device_update", {"device_id": int(id1), "password": "second-pw",
                                         "dev_state": "online"})
    check(u["dev_state"] == "offline", "dev_state is read-only through the API")
    new_hash, token = stored(srv, id1)
    check(new_hash != old_hash and new_hash.startswith("$2"), "new password -> new hash")
    check(token is None, "a new password clears the session token")
    check(bcrypt.checkpw(b"second-pw", new_hash.encode()), "new hash verifies")
    srv.fail(400, "GENERAL_ERROR", "PUT", "device_update", {"device_id": id1},
             msg="Missing required parameters!")
    srv.fail(400, "GENERAL_ERROR", "PUT", "device_update", {"device_name": "x"},
             msg="device_id")
    srv.fail(400, "GENERAL_ERROR", "PUT", "device_update", {"device_id": "x1", "device_name": "x"})
    srv.fail(400, "GENERAL_ERROR", "PUT", "device_update", {"device_id": 1.5, "device_name": "x"})
    srv.fail(400, "GENERAL_ERROR", "PUT", "device_update", {"device_id": id1, "device_name": 3},
             msg="device_name")
    srv.fail(400, "GENERAL_ERROR", "PUT", "device_update",
             {"device_id": id1, "hardware": {"sn": ""}}, msg="hardware.sn")
    srv.fail(404, "DEVICEOP_ERROR", "PUT", "device_update", {"device_id": "777", "device_name": "x"},
             msg="Device NOT FOUND.")
    srv.fail(409, "DEVICEOP_ERROR", "PUT", "device_update",
             {"device_id": id1, "hardware": {"model": "EG-10"}}, msg="Device already exists.")
    srv.fail(405, "GENERAL_ERROR", "GET", "device_update")

    # ----- device_log_query (no device has connected: the log may be empty, but it is a list)
    logs = srv.ok("GET", "device_log_query/" + id1)
    check(isinstance(logs, list), "device_log_query gives a list")
    for l in logs:
        check(set(l) == {"log_id", "device_id", "event", "detail", "result", "time"}, "log row")
    logs = srv.ok("GET", "device_log_query/%s/%d" % (id1, int(time.time() * 1000)))
    check(isinstance(logs, list), "paged device_log_query gives a list")
    srv.fail(400, "GENERAL_ERROR", "GET", "device_log_query/%s/soon" % id1)
    srv.fail(404, "DEVICEOP_ERROR", "GET", "device_log_query/4242", msg="Device NOT FOUND.")
    srv.fail(400, "GENERAL_ERROR", "GET", "device_log_query/nope")
    return id1, id2, id3


def test_batch(srv):
    before = len(srv.ok("GET", "device_query_all"))
    devs = [device_body("BATCH-%d" % i, password="fleet-pw") for i in range(5)]
    devs[3]["password"] = "other-pw"
    ids = srv.ok("POST", "device_add_batch", {"devices": devs})["device_ids"]
    check(len(ids) == 5 and len(set(ids)) == 5 and all(i.isdigit() for i in ids), "ids: %r" % ids)
    for i, did in enumerate(ids):
        q = srv.ok("GET", "device_query/" + did)
        check(q["hardware"]["sn"] == "BATCH-%d" % i, "ids in order")
    hashes = [stored(srv, i)[0] for i in ids]
    # one hash per distinct password in a batch
    check(hashes[0] == hashes[1] == hashes[2] == hashes[4], "shared password hashed once")
    check(hashes[3] != hashes[0], "a distinct password has its own hash")
    check(bcrypt.checkpw(b"fleet-pw", hashes[0].encode()), "batch hash verifies")
    check(bcrypt.checkpw(b"other-pw", hashes[3].encode()), "batch hash verifies (2)")

    def count():
        return len(srv.ok("GET", "device_query_all"))

    n = count()
    check(n == before + 5, "batch added 5")
    # duplicate inside the batch: 409 naming the index, nothing added
    dup = [device_body("NEW-A"), device_body("NEW-B"), device_body("NEW-A")]
    srv.fail(409, "DEVICEOP_ERROR", "POST", "device_add_batch", {"devices": dup}, msg="devices[2]")
    # duplicate against the store
    dup = [device_body("NEW-C"), device_body("BATCH-4"), device_body("NEW-D")]
    srv.fail(409, "DEVICEOP_ERROR", "POST", "device_add_batch", {"devices": dup}, msg="devices[1]")
    # validation names the index and the member
    bad = [device_body("NEW-E"), device_body("NEW-F"), device_body("NEW-G")]
    del bad[2]["hardware"]["sn"]
    srv.fail(400, "GENERAL_ERROR", "POST", "device_add_batch", {"devices": bad},
             msg="devices[2].hardware.sn: required")
    bad = [device_body("NEW-E"), "device"]
    srv.fail(400, "GENERAL_ERROR", "POST", "device_add_batch", {"devices": bad}, msg="devices[1]")
    bad = [device_body("NEW-E", nic=[{"mac": 1}])]
    srv.fail(400, "GENERAL_ERROR", "POST", "device_add_batch", {"devices": bad},
             msg="devices[0].nic[0].mac")
    srv.fail(400, "GENERAL_ERROR", "POST", "device_add_batch", {"devices": []}, msg="devices")
    srv.fail(400, "GENERAL_ERROR", "POST", "device_add_batch", {"devices": {}}, msg="devices")
    srv.fail(400, "GENERAL_ERROR", "POST", "device_add_batch", {}, msg="devices")
    check(count() == n, "failed batches add nothing (all or nothing)")
    srv.fail(405, "GENERAL_ERROR", "GET", "device_add_batch")
    return ids


def test_groups(srv, id1, id2):
    g1 = srv.ok("POST", "group_add", {"group_name": "north", "group_description": "rack 1-4"})
    check(set(g1) == {"group_id"} and g1["group_id"].isdigit(), "group_add: %r" % g1)
    g1 = g1["group_id"]
    g2 = srv.ok("POST", "group_add", {"group_name": "south"})["group_id"]
    g3 = srv.ok("POST", "group_add", {"group_name": "spare"})["group_id"]
    srv.fail(409, "GROUPOP_ERROR", "POST", "group_add", {"group_name": "north"},
             msg="Group already exists.")
    srv.fail(400, "GENERAL_ERROR", "POST", "group_add", {"group_description": "x"},
             msg="group_name")
    srv.fail(400, "GENERAL_ERROR", "POST", "group_add", {"group_name": ""}, msg="group_name")
    srv.fail(400, "GENERAL_ERROR", "POST", "group_add", {"group_name": 5}, msg="group_name")
    srv.fail(400, "GENERAL_ERROR", "POST", "group_add", {"group_name": "x", "group_description": 1},
             msg="group_description")

    g = srv.ok("GET", "group_query/" + g1)
    check(g["group_id"] == g1 and g["group_name"] == "north" and
          g["group_description"] == "rack 1-4" and isinstance(g["created_time"], int),
          "group_query: %r" % g)
    check(srv.ok("GET", "group_query/" + g2)["group_description"] is None, "absent -> null")
    srv.fail(404, "GROUPOP_ERROR", "GET", "group_query/31337", msg="Group NOT FOUND.")
    srv.fail(400, "GENERAL_ERROR", "GET", "group_query/x")
    names = sorted(x["group_name"] for x in srv.ok("GET", "group_query_all"))
    check(names == ["north", "south", "spare"], "group_query_all: %r" % names)

    g = srv.ok("PUT", "group_update", {"group_id": g2, "group_name": "south-2"})
    check(g["group_name"] == "south-2", "group_update: %r" % g)
    g = srv.ok("PUT", "group_update", {"group_id": int(g2), "group_description": "new"})
    check(g["group_name"] == "south-2" and g["group_description"] == "new", "patch: %r" % g)
    srv.fail(409, "GROUPOP_ERROR", "PUT", "group_update", {"group_id": g2, "group_name": "north"})
    srv.fail(400, "GENERAL_ERROR", "PUT", "group_update", {"group_id": g2})
    srv.fail(400, "GENERAL_ERROR", "PUT", "group_update", {"group_name": "x"}, msg="group_id")
    srv.fail(404, "GROUPOP_ERROR", "PUT", "group_update", {"group_id": "31337", "group_name": "y"})

    # ----- relations
    srv.ok("POST", "relation_add", {"device_id": id1, "group_id": g1})
    srv.fail(409, "RELATIONOP_ERROR", "POST", "relation_add", {"device_id": id1, "group_id": g1},
             msg="Relation already exists.")
    srv.fail(404, "RELATIONOP_ERROR", "POST", "relation_add", {"device_id": "9", "group_id": g1},
             msg="Device NOT FOUND.")
    srv.fail(404, "RELATIONOP_ERROR", "POST", "relation_add", {"device_id": id1, "group_id": "9"},
             msg="Group NOT FOUND.")
    srv.fail(400, "GENERAL_ERROR", "POST", "relation_add", {"device_id": id1}, msg="group_id")
    srv.fail(400, "GENERAL_ERROR", "POST", "relation_add", {"device_id": [], "group_id": g1})
    check(srv.ok("GET", "relation_query/%s/%s" % (id1, g1)) == {"exists": True}, "related")
    check(srv.ok("GET", "relation_query/%s/%s" % (id2, g1)) == {"exists": False}, "not related")
    srv.fail(404, "RELATIONOP_ERROR", "GET", "relation_query/9/%s" % g1, msg="Device NOT FOUND.")
    srv.fail(404, "RELATIONOP_ERROR", "GET", "relation_query/%s/9" % id1, msg="Group NOT FOUND.")
    srv.fail(400, "GENERAL_ERROR", "GET", "relation_query/%s/x" % id1)
    srv.fail(404, "GENERAL_ERROR", "GET", "relation_query/" + id1)
    srv.ok("DELETE", "relation_delete", {"device_id": id1, "group_id": g1})
    srv.fail(404, "RELATIONOP_ERROR", "DELETE", "relation_delete",
             {"device_id": id1, "group_id": g1}, msg="Relation NOT FOUND.")
    check(srv.ok("GET", "relation_query/%s/%s" % (id1, g1)) == {"exists": False}, "deleted")

    # ----- a device's groups
    gs = srv.ok("PUT", "device_groups_update", {"device_id": id1, "group_ids": [g1, int(g2), g1]})
    check(sorted(x["group_id"] for x in gs) == sorted([g1, g2]), "device_groups_update: %r" % gs)
    srv.fail(404, "DEVICEOP_ERROR", "PUT", "device_groups_update",
             {"device_id": id1, "group_ids": [g3, "5555"]}, msg="5555")
    gs = srv.ok("GET", "device_groups_query/" + id1)
    check(sorted(x["group_id"] for x in gs) == sorted([g1, g2]),
          "a refused update changes nothing: %r" % gs)
    gs = srv.ok("PUT", "device_groups_update", {"device_id": id1, "group_ids": [g2, g3]})
    check(sorted(x["group_id"] for x in gs) == sorted([g2, g3]), "set replaced: %r" % gs)
    check(srv.ok("GET", "relation_query/%s/%s" % (id1, g1)) == {"exists": False}, "g1 removed")
    srv.fail(400, "GENERAL_ERROR", "PUT", "device_groups_update", {"device_id": id1},
             msg="group_ids")
    srv.fail(400, "GENERAL_ERROR", "PUT", "device_groups_update",
             {"device_id": id1, "group_ids": g1}, msg="group_ids")
    srv.fail(400, "GENERAL_ERROR", "PUT", "device_groups_update",
             {"device_id": id1, "group_ids": [g1, "x"]}, msg="group_ids[1]")
    srv.fail(404, "DEVICEOP_ERROR", "PUT", "device_groups_update",
             {"device_id": "8", "group_ids": [g1]}, msg="Device NOT FOUND.")
    srv.fail(404, "DEVICEOP_ERROR", "GET", "device_groups_query/8", msg="Device NOT FOUND.")
    srv.ok("PUT", "device_groups_update", {"device_id": id2, "group_ids": [g2]})

    ds = srv.ok("GET", "group_devices_query/" + g2)
    check(sorted(d["device_id"] for d in ds) == sorted([id1, id2]), "group_devices_query")
    check(all("password" not in d and "hardware" in d for d in ds), "device JSON in groups")
    srv.fail(404, "GROUPOP_ERROR", "GET", "group_devices_query/77", msg="Group NOT FOUND.")

    r = srv.ok("DELETE", "device_groups_delete", {"device_id": id1})
    check(r == {"removed": 2}, "device_groups_delete: %r" % r)
    check(srv.ok("GET", "device_groups_query/" + id1) == [], "device has no groups")
    srv.fail(404, "DEVICEOP_ERROR", "DELETE", "device_groups_delete", {"device_id": "8"})
    srv.fail(400, "GENERAL_ERROR", "DELETE", "device_groups_delete", {}, msg="device_id")

    srv.ok("DELETE", "group_devices_delete", {"group_id": g2})
    check(srv.ok("GET", "group_devices_query/" + g2) == [], "group emptied")
    srv.ok("GET", "device_query/" + id2)  # the devices stay
    srv.fail(404, "GROUPOP_ERROR", "DELETE", "group_devices_delete", {"group_id": "77"})

    # ----- group_delete (and its relations)
    srv.ok("POST", "relation_add", {"device_id": id2, "group_id": g3})
    srv.ok("DELETE", "group_delete", {"group_id": g3})
    srv.fail(404, "GROUPOP_ERROR", "GET", "group_query/" + g3, msg="Group NOT FOUND.")
    srv.fail(404, "GROUPOP_ERROR", "DELETE", "group_delete", {"group_id": g3})
    check(srv.ok("GET", "device_groups_query/" + id2) == [], "relations went with the group")
    srv.fail(405, "GENERAL_ERROR", "POST", "group_delete", {"group_id": g1})
    return g1, g2


def test_delete(srv, id1, id2, g1):
    srv.ok("POST", "relation_add", {"device_id": id1, "group_id": g1})
    srv.ok("DELETE", "device_delete", {"device_id": id1})
    srv.fail(404, "DEVICEOP_ERROR", "GET", "device_query/" + id1, msg="Device NOT FOUND.")
    srv.fail(404, "DEVICEOP_ERROR", "DELETE", "device_delete", {"device_id": id1})
    srv.fail(404, "DEVICEOP_ERROR", "GET", "device_log_query/" + id1)
    check(srv.ok("GET", "group_devices_query/" + g1) == [], "relations went with the device")
    srv.ok("POST", "device_delete", {"device_id": int(id2)})
    srv.fail(400, "GENERAL_ERROR", "DELETE", "device_delete", {}, msg="device_id")
    srv.fail(400, "GENERAL_ERROR", "DELETE", "device_delete", {"device_id": "-1"})
    srv.fail(405, "GENERAL_ERROR", "GET", "device_delete")


def test_live_device(srv):
    """A device that logs in: its log rows through the API, a password change ending its
    session token, and its deletion closing its connection."""
    did = srv.ok("POST", "device_add", device_body("LIVE-1", password="live-pw"))["device_id"]
    url = "ws://127.0.0.1:%d/ws" % srv.port

    async def session():
        async with websockets.connect(url, open_timeout=10) as ws:
            await ws.send(json.dumps({"device_id": did, "password": "live-pw"}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            check(reply.get("status") == "success", "login: %r" % reply)
            # the login is written behind (log_flush): wait for its row
            def logged():
                logs = srv.ok("GET", "device_log_query/" + did)
                return logs if any(l["event"] == "login" for l in logs) else None
            logs = await efharness.await_until(logged, 5, what="the login in the device log")
            for l in logs:
                check(l["device_id"] == did and l["log_id"].isdigit() and l["time"] > 1.6e12,
                      "log row: %r" % l)
            times = [l["time"] for l in logs]
            check(times == sorted(times, reverse=True), "newest first")
            page = srv.ok("GET", "device_log_query/%s/%d" % (did, min(times)))
            check(all(l["time"] < min(times) for l in page), "before_ms pages")
            check(srv.ok("GET", "device_log_query/%s/1" % did) == [], "nothing before 1 ms")
            check(stored(srv, did)[1] is not None, "login stored a session token")
            srv.ok("PUT", "device_update", {"device_id": did, "password": "live-pw-2"})
            check(stored(srv, did)[1] is None, "password change cleared the session token")
            # deleting the device closes its connection
            srv.ok("DELETE", "device_delete", {"device_id": did})
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            except websockets.ConnectionClosed:
                pass
            except asyncio.TimeoutError:
                check(False, "a deleted device's connection stays open")
        srv.fail(404, "DEVICEOP_ERROR", "GET", "device_query/" + did)

    asyncio.run(session())


def main():
    srv = Server()
    hashes = []
    try:
        test_auth_and_transport(srv)
        id1, id2, id3 = test_devices(srv)
        batch = test_batch(srv)
        hashes = [stored(srv, i)[0] for i in [id1, id2, id3] + batch]
        g1, _ = test_groups(srv, id1, id2)
        test_delete(srv, id1, id2, g1)
        test_live_device(srv)
        # a password hash never leaves the server
        for text in responses:
            check("$2b$" not in text and "$2a$" not in text and "$2y$" not in text,
                  "a bcrypt hash in a response: %s" % text[:200])
            for h in hashes:
                check(h[7:] not in text, "a stored hash in a response")
            check('"token_hash"' not in text and '"password":"$' not in text, "secret member")
    except BaseException:
        sys.stderr.write("--- edgefleetd log ---\n" + srv.tail(40) + "\n")
        srv.stop(check_rc=False)
        raise
    srv.stop()
    print("20-rest: %d checks passed" % checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
