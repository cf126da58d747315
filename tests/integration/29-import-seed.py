#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""29-import-seed.py -- a fleet moved from the original system keeps its passwords.

* device_add / device_add_batch with `password_hash`: admin tokens only (403 otherwise), a
  bcrypt $2a$/$2b$/$2y$ hash of valid shape (400 otherwise, never quoted), stored as given: the
  device logs in over /ws with the password the hash was made from (python3-bcrypt, as the
  original server made them); no answer and no log line carries the hash.
* `edgefleetctl import-seed mysql://...` against a real MariaDB (tests/helpers/dbserver_mysql.py)
  holding tests/data/seed-mysql.sql (the original schema): --dry-run writes nothing; a run
  registers the devices (fields mapped as docs/cli.md says), groups and relations; each device
  logs in with its OLD password; a second run adds and changes nothing; a row it cannot import
  fails the run (exit 1) and is named; no hash appears in the CLI's output or any REST answer.

Exits 77 (skipped) when no MariaDB server can be started here.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import bcrypt

from efharness import Suite, build_dir, check, connect, source_dir
from dbserver_mysql import MariaDbServer, Unavailable

T = Suite("29-import-seed")
CTL = os.path.join(build_dir(), "src", "cli", "edgefleetctl")
SEED_SQL = os.path.join(source_dir(), "tests", "data", "seed-mysql.sql")
ENV = {k: v for k, v in os.environ.items()
       if not k.lower().endswith("_proxy") and not k.startswith("EDGEFLEET_")}

# The seed's devices: sn, model, old password (tests/data/seed-mysql.sql says the same).
SEED_DEVICES = [("SEED-0001", "EG-100", "alpha-pass-1"), ("SEED-0002", "EG-100", "bravo-pass-2"),
                ("SEED-0003", "EG-200", "charlie-pass-3"), ("SEED-0004", "EG-200", "delta-pass-4")]

DB_DIR = tempfile.mkdtemp(prefix="ef-import-seed-")
os.chmod(DB_DIR, 0o755)
DB = MariaDbServer(DB_DIR)
try:
    DB.start()
except Unavailable as e:
    print("29-import-seed: SKIP: %s" % e)
    shutil.rmtree(DB_DIR, ignore_errors=True)
    sys.exit(77)


def seed_hashes():
    return [h for h in DB.sql("SELECT password FROM devices", db="seed").split() if h]


def load_seed():
    DB.sql("DROP DATABASE IF EXISTS seed; CREATE DATABASE seed CHARACTER SET utf8mb4;")
    with open(SEED_SQL) as f:
        DB.sql(f.read(), db="seed")


def make_hash(password, prefix):
    salt = bcrypt.gensalt(rounds=4)
    return bcrypt.hashpw(password.encode(), b"$" + prefix + salt[3:]).decode()


def no_secret(text, hashes, what):
    for h in hashes:
        check(h not in text and h[7:29] not in text, "a password hash in " + what, text)


def ctl(srv, *args):
    p = subprocess.run([CTL, "--server", "http://127.0.0.1:%d" % srv.port, "--token-file",
                        os.path.join(srv.data_dir, "admin.token")] + list(args),
                       capture_output=True, text=True, timeout=120, env=ENV)
    check("Sanitizer" not in p.stderr and "runtime error:" not in p.stderr, p.stderr)
    check(srv.token not in p.stdout + p.stderr, "the admin token was printed")
    check(DB.password not in p.stdout + p.stderr, "the database password was printed")
    return p.returncode, p.stdout, p.stderr


def raw_get(srv, name, *args):
    """A GET's status and raw answer text (what a client would see)."""
    st, r = srv.api.get(name, *args)
    return st, r, json.dumps(r)


def add_token(srv, scope):
    st, r = srv.api.post("api_token_add", {"name": "t-" + scope, "scope": scope})
    check(st == 200, st, r)
    return r["data"]["token"]


async def login(srv, password, sn=None, model=None, device_id=None, expect="success"):
    async with connect(srv.port) as dev:
        r = await dev.login(device_id=device_id, sn=sn, model=model, password=password,
                            expect=expect)
        return r


@T.test
async def password_hash_rules(srv):
    h2y, h2a = make_hash("yankee-pass", b"2y"), make_hash("alfa-pass", b"2a")
    hashes = [h2y, h2a]
    body = {"hardware": {"sn": "H-1", "model": "M"}, "password_hash": h2y, "device_name": "y"}
    st, r = srv.api.post("device_add", body)
    check(st == 200, st, r)
    id_y = r["data"]["device_id"]
    check(set(r["data"]) == {"device_id"}, "the answer carries only the id", r)
    # the batch form, a hashed device beside one with a plain password
    st, r = srv.api.post("device_add_batch", {"devices": [
        {"hardware": {"sn": "H-2", "model": "M"}, "password_hash": h2a},
        {"hardware": {"sn": "H-3", "model": "M"}, "password": "plain-pass-3"}]})
    check(st == 200, st, r)
    id_a, id_p = r["data"]["device_ids"]
    no_secret(json.dumps(r), hashes, "device_add_batch's answer")
    for name, args in (("device_query", (id_y,)), ("device_query", (id_a,)),
                       ("device_query_all", ())):
        st, r, text = raw_get(srv, name, *args)
        check(st == 200, name, st, r)
        no_secret(text, hashes, name)
        check("password" not in text, "a password member in " + name, text)
    # stored as given: the passwords the hashes were made from log in; others do not
    await login(srv, "yankee-pass", device_id=id_y)
    await login(srv, "alfa-pass", sn="H-2", model="M")
    await login(srv, "plain-pass-3", device_id=id_p)
    await login(srv, "alfa-pass", device_id=id_y, expect="fail")
    await login(srv, h2y, device_id=id_y, expect="fail")  # the hash is not the password

    # refusals, none quoting the hash
    op = add_token(srv, "operator")
    body = {"hardware": {"sn": "H-4", "model": "M"}, "password_hash": h2y}
    st, r = srv.api.post("device_add", body, token=op)
    check(st == 403 and "admin" in r["message"], st, r)
    no_secret(json.dumps(r), hashes, "a 403")
    st, r = srv.api.post("device_add_batch", {"devices": [body]}, token=op)
    check(st == 403 and "devices[0].password_hash" in r["message"], st, r)
    for bad in ("$2b$04$short", "$2x$04$" + h2y[7:], "$2b$03$" + h2y[7:], h2y + "x",
                h2y[:-1] + "!", "plain", 42):
        st, r = srv.api.post("device_add", dict(body, password_hash=bad))
        check(st == 400 and "password_hash: not a bcrypt hash" in r["message"], bad, st, r)
        if isinstance(bad, str) and len(bad) > 8:
            check(bad not in json.dumps(r), "the malformed hash was quoted", r)
    st, r = srv.api.post("device_add", dict(body, password="also"))
    check(st == 400 and "not both" in r["message"], st, r)
    st, r = srv.api.post("device_add", {"hardware": {"sn": "H-5", "model": "M"}})
    check(st == 400 and "password" in r["message"], st, r)
    st, r = srv.api.post("device_add_batch", {"devices": [
        {"hardware": {"sn": "H-6", "model": "M"}, "password": "x"},
        {"hardware": {"sn": "H-7", "model": "M"}, "password_hash": "nope"}]})
    check(st == 400 and "devices[1].password_hash" in r["message"], st, r)
    st, r = srv.api.get("device_query_all")
    check(len(r["data"]) == 3, "a refused call registered something", r)
    no_secret(srv.tail(10000), hashes, "the server's log")


@T.test
async def import_seed(srv):
    load_seed()
    hashes = seed_hashes()
    check(len(hashes) == 4 and all(h.startswith("$2") for h in hashes), hashes)
    url = DB.url_for("seed")

    # --dry-run: says what it would do, writes nothing
    rc, out, err = ctl(srv, "import-seed", url, "--dry-run")
    check(rc == 0, rc, out, err)
    check("devices: 4 to add, 0 skipped, 0 failed; groups: 3 to add, 0 skipped, 0 failed; "
          "relations: 5 to add, 0 skipped, 0 failed" in out, out)
    no_secret(out + err, hashes, "the dry run's output")
    st, r = srv.api.get("device_query_all")
    check(st == 200 and r["data"] == [], "the dry run wrote", r)

    # the import
    rc, out, err = ctl(srv, "import-seed", url)
    check(rc == 0, rc, out, err)
    check("devices: 4 added, 0 skipped, 0 failed; groups: 3 added, 0 skipped, 0 failed; "
          "relations: 5 added, 0 skipped, 0 failed" in out, out)
    no_secret(out + err, hashes, "the import's output")

    st, r, text = raw_get(srv, "device_query_all")
    check(st == 200 and len(r["data"]) == 4, r)
    no_secret(text, hashes, "device_query_all")
    devs = {(d["hardware"]["sn"], d["hardware"]["model"]): d for d in r["data"]}
    d1 = devs[("SEED-0001", "EG-100")]
    check(d1["device_name"] == "gw-north-1" and d1["device_type"] == "gateway", d1)
    check(d1["software"]["version"] == "1.4.2" and d1["software"]["last_update"] == "2023-05-17",
          d1)
    check(d1["nic"] == [{"type": "ethernet", "mac": "00:1a:2b:3c:4d:01", "ipv4": "192.168.10.11"},
                        {"type": "wifi", "mac": "00:1a:2b:3c:4d:81", "ipv4": "192.168.20.11"}],
          d1)
    check(d1["dev_description"] == "rack 1, top", d1)
    check(d1["device_id"] != "7145632512345678848", "edgefleet assigns its own ids", d1)
    check(d1["dev_state"] == "offline", "the old state is not imported", d1)
    d2 = devs[("SEED-0002", "EG-100")]
    check(d2["nic"] == [{"type": "ethernet", "mac": "00:1a:2b:3c:4d:02",
                         "ipv4": "192.168.10.12"}], d2)
    d4 = devs[("SEED-0004", "EG-200")]
    check(d4["device_name"] == "边缘网关-4" and d4["nic"] is None, d4)
    check(d4["software"]["version"] is None, d4)

    st, r = srv.api.get("group_query_all")
    groups = {g["group_name"]: g for g in r["data"]}
    check(set(groups) == {"north", "south", "spare"}, groups)
    check(groups["north"]["group_description"] == "racks 1-4", groups)
    members = {}
    for name, g in groups.items():
        st, r, text = raw_get(srv, "group_devices_query", g["group_id"])
        check(st == 200, st, r)
        no_secret(text, hashes, "group_devices_query")
        members[name] = sorted(d["hardware"]["sn"] for d in r["data"])
    check(members == {"north": ["SEED-0001", "SEED-0002"],
                      "south": ["SEED-0001", "SEED-0003", "SEED-0004"], "spare": []}, members)

    # every device logs in with its OLD password ($2b$, $2a$, $2y$, cost 5)
    for sn, model, pw in SEED_DEVICES:
        await login(srv, pw, sn=sn, model=model)
        await login(srv, pw + "x", sn=sn, model=model, expect="fail")

    # a second run adds and changes nothing: no mutation reaches the server at all (the audit
    # log records every one), and what is there stays as it was (but for the logins' states)
    st, before = srv.api.get("device_query_all")
    st, gbefore = srv.api.get("group_query_all")
    st, audit = srv.api.post("audit_query", {"limit": 1000})
    check(st == 200 and len(audit["data"]["rows"]) == 12, "4 + 3 + 5 mutations", st, audit)
    rc, out, err = ctl(srv, "import-seed", url)
    check(rc == 0, rc, out, err)
    check("devices: 0 added, 4 skipped, 0 failed; groups: 0 added, 3 skipped, 0 failed; "
          "relations: 0 added, 5 skipped, 0 failed" in out, out)
    no_secret(out + err, hashes, "the second run's output")
    st, after = srv.api.get("device_query_all")
    st, gafter = srv.api.get("group_query_all")
    strip = lambda ds: sorted((dict(d, dev_state=None, updated_time=None)  # noqa: E731
                               for d in ds["data"]), key=lambda d: d["device_id"])
    check(strip(before) == strip(after), "the second run changed a device", before, after)
    check(gbefore == gafter, "the second run changed a group")
    st, audit2 = srv.api.post("audit_query", {"limit": 1000})
    check(audit2["data"]["rows"] == audit["data"]["rows"], "the second run mutated", audit2)
    for sn, model, pw in SEED_DEVICES[:1]:
        await login(srv, pw, sn=sn, model=model)  # the password still works

    # a row that cannot be imported fails the run, named, its hash not printed
    DB.sql("INSERT INTO devices (device_id, hardware_sn, hardware_model, password) VALUES "
           "(7145632512345678899, 'SEED-0099', 'EG-300', 'plain-text-password');"
           "INSERT INTO relations (device_id, group_id) VALUES (7145632512345678899, 1003);",
           db="seed")
    rc, out, err = ctl(srv, "import-seed", url)
    check(rc == 1, rc, out, err)
    check("SEED-0099/EG-300" in out and "not a bcrypt hash" in out, out)
    check("plain-text-password" not in out + err, out)
    check("devices: 0 added, 4 skipped, 1 failed; groups: 0 added, 3 skipped, 0 failed; "
          "relations: 0 added, 5 skipped, 1 failed" in out, out)
    st, r = srv.api.get("device_query_all")
    check(len(r["data"]) == 4, r)

    # bad URLs: usage (2) or unreachable (3), the password never printed
    rc, out, err = ctl(srv, "import-seed", "mysql://ef:S3cr3t@127.0.0.1:1/seed")
    check(rc == 3 and "cannot connect to 127.0.0.1:1" in err and "S3cr3t" not in out + err,
          rc, out, err)
    rc, out, err = ctl(srv, "import-seed", "mysql://ef:S3cr3t@127.0.0.1/")
    check(rc == 2 and "S3cr3t" not in out + err, rc, out, err)
    # the URL from a file (keeps the password off the process list)
    url_file = os.path.join(srv.dir, "seed.url")
    with open(url_file, "w") as f:
        f.write(url + "\n")
    rc, out, err = ctl(srv, "import-seed", "@" + url_file, "--dry-run")
    check(rc == 1 and "devices: 0 to add, 4 skipped, 1 failed" in out, rc, out, err)
    no_secret(srv.tail(10000), hashes, "the server's log")


try:
    T.main()
finally:
    DB.stop()
    shutil.rmtree(DB_DIR, ignore_errors=True)
