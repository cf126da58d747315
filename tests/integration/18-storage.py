#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""18-storage.py -- storage failures as an operator meets them (docs/store.md#storage-failures,
docs/api.md#conventions):

* no space left: on a 2 MiB tmpfs (real ENOSPC; needs root, as CI has, else skipped) and under a
  file size limit (RLIMIT_FSIZE, any user: EFBIG, which SQLite reports as SQLITE_IOERR_WRITE),
  a write is answered 507 "database full: no space left for the database"; reads still work, an
  order whose device-log rows cannot be stored is answered 507 too, and once space is freed
  writes work again without a restart;
* a damaged index (bytes of its root page overwritten while the server was stopped): start-up
  is refused with a clear message (db_check quick or full); with db_check off the server starts
  and a write that reads the index is answered 500 "database corrupt: ...";
* a database that was deleted (or emptied) while admin.token is still there: start-up is
  refused, nothing is created and the token file is left as it was; without admin.token the
  server starts afresh with a new token;
* a database that has no API token beside an admin.token: refused, the token file kept.
Counts answers and files; no timed assertion.
"""
import asyncio
import os
import resource
import shutil
import sqlite3
import subprocess
import tempfile
import threading

from efharness import Server, add_device, check, connect, server_binary

passed = failed = skipped = 0
FULL_MSG = "database full: no space left for the database"


class Skip(Exception):
    pass


def test(fn):
    global passed, failed, skipped
    try:
        fn()
        passed += 1
        print("PASS", fn.__name__, flush=True)
    except Skip as e:
        skipped += 1
        print("SKIP", fn.__name__, e, flush=True)
    except Exception as e:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        failed += 1
        print("FAIL", fn.__name__, e, flush=True)
    return fn


def run(args, timeout=20):
    """Start edgefleetd: (exit code, output) when it exits, or ("started", output) as soon as it
    says it is ready (it is then killed: the test expected a refusal)."""
    p = subprocess.Popen([server_binary(), "--listen", "127.0.0.1:0", "--bcrypt-cost", "4"] + args,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    guard = threading.Timer(timeout, p.kill)
    guard.start()
    out = ""
    try:
        for line in p.stdout:
            out += line
            if "ready port=" in line:
                p.kill()
                p.wait()
                return "started", out
        return p.wait(), out
    finally:
        guard.cancel()
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()


def fill(api, prefix, limit=400):
    """Add batches of 64 devices with a 1 KiB description (the longest allowed) until an answer
    is not 200: (batches added, status, body)."""
    desc = "x" * 1024
    for i in range(limit):
        batch = [{"hardware": {"sn": "%s-%d-%d" % (prefix, i, k), "model": "F"},
                  "password": "p", "dev_description": desc} for k in range(64)]
        st, r = api.post("device_add_batch", {"devices": batch})
        if st != 200:
            return i, st, r
    raise AssertionError("%d batches of 64 KiB fit: the database never filled up" % limit)


async def order_answer(srv, did):
    """give_order to a logged-in device that answers success: the REST answer."""
    async with connect(srv.port) as dev:
        await dev.login(device_id=did, password="dev-pw")
        call = asyncio.create_task(srv.api.apost("give_order", {"device_id": did,
                                                                "order": "probe"}))
        o = await dev.recv_type("give_order", 5)
        await dev.send_json({"type": "upload_instruction_result", "status": "success",
                             "Headers": {"order_id": o["Headers"]["order_id"],
                                         "message": "probed"}, "data": {}})
        return await call


def full_checks(srv, prefix, did):
    """The database is full now: a write is 507, a read 200, an order 507."""
    added, st, r = fill(srv.api, prefix)
    print("  %d batches of 64 KiB added, then %s %s" % (added, st, r))
    check(added > 0, "nothing fitted at all")
    check(st == 507 and r.get("type") == "DATABASE_ERROR" and r.get("message") == FULL_MSG,
          "the answer to a write on a full disk", st, r)
    for i in range(5000):  # what room is left takes small writes: fill it too
        st, r = srv.api.post("group_add", {"group_name": "no-room-%s-%d" % (prefix, i),
                                           "group_description": "y" * 1000})
        if st != 200:
            break
    print("  then %d groups of 1 KiB, then %s" % (i, st))
    check(st == 507 and r["message"] == FULL_MSG, "group_add on a full disk", st, r)
    st, r = srv.api.get("device_query", did)
    check(st == 200, "a read on a full disk", st, r)
    st, r = asyncio.run(order_answer(srv, did))
    check(st == 507 and r["message"].startswith(FULL_MSG + " (the order's result, success: "
                                                "probed, could not be stored"),
          "an order whose rows cannot be stored", st, r)
    check("store error EFULL: " in srv.tail(0), "the server log names the failure")


@test
def disk_full_tmpfs():
    if os.geteuid() != 0:
        raise Skip("mounting a tmpfs needs root")
    srv = Server(bcrypt_cost=4)
    os.makedirs(srv.data_dir)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs",
                        srv.data_dir], capture_output=True, text=True)
    if p.returncode != 0:
        raise Skip("cannot mount a tmpfs here: %s" % p.stderr.strip())
    try:
        filler = os.path.join(srv.data_dir, "filler")
        with open(filler, "wb") as f:  # half the file system, freed later
            f.write(b"\0" * (1 << 20))
        srv.start()
        did = srv.add_device("DISK-1", "F", "dev-pw")
        full_checks(srv, "T", did)
        os.unlink(filler)  # space again: writes work, without a restart
        st, r = srv.api.post("group_add", {"group_name": "room-again"})
        check(st == 200, "a write once space is freed", st, r)
        st, r = asyncio.run(order_answer(srv, did))
        check(st == 200 and r["data"]["message"] == "probed", "an order once space is freed",
              st, r)
        srv.stop()
    finally:
        srv.kill()
        subprocess.run(["umount", srv.data_dir])
        srv.cleanup()


@test
def file_size_limit():
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))
    srv = Server(bcrypt_cost=4, preexec_fn=limit)
    try:
        srv.start()
        did = srv.add_device("FSIZE-1", "F", "dev-pw")
        full_checks(srv, "L", did)  # and the server is not killed by SIGXFSZ
        check(srv.alive(), "edgefleetd died at the file size limit")
        srv.stop()
    finally:
        srv.kill()
        srv.cleanup()


def damage_index(db, name):
    """Overwrite the first 64 bytes (page header, cell pointers) of index `name`'s root page."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    with open(db, "r+b") as f:
        f.seek((root - 1) * size)
        f.write(bytes((0xA5 ^ (i * 37)) & 0xFF for i in range(64)))


@test
def damaged_index():
    srv = Server()
    copy = tempfile.mkdtemp(prefix="ef-damaged-")
    try:
        srv.start()
        devices = [{"hardware": {"sn": "CORR-%d" % i, "model": "C"}, "password": "p"}
                   for i in range(300)]
        st, r = srv.api.post("device_add_batch", {"devices": devices})
        check(st == 200, "device_add_batch", st, r)
        srv.stop()
        data = os.path.join(copy, "data")
        shutil.copytree(srv.data_dir, data)
        db = os.path.join(data, "edgefleet.db")
        damage_index(db, "sqlite_autoindex_devices_1")  # UNIQUE (hardware_sn, hardware_model)

        for how in ([], ["--db-check", "quick"], ["--db-check", "full"]):
            rc, out = run(["--data-dir", data] + how)
            check(rc == 1, how, "a damaged database must not start", rc, out)
            check("edgefleet.db' is damaged (PRAGMA " in out and "restore it from a backup" in out
                  and "ready port=" not in out, how, out)

        dmg = Server(db_check="off")
        dmg.data_dir = data
        dmg.start()  # unchecked, it starts; the index fails when a statement reads it
        st, r = dmg.api.post("device_add", {"hardware": {"sn": "CORR-NEW", "model": "C"},
                                            "password": "p"})
        check(st == 500 and r.get("type") == "DATABASE_ERROR"
              and r["message"].startswith("database corrupt: "), "a write through the damaged "
              "index", st, r)
        dmg.stop()
        dmg.cleanup()

        srv.start(same_port=False)  # the original, undamaged: starts with the default check
        st, r = srv.api.get("device_query_all")
        check(st == 200 and len(r["data"]) == 300, "the undamaged original", st)
        srv.stop()
    finally:
        srv.kill()
        srv.cleanup()
        shutil.rmtree(copy, ignore_errors=True)


def token_kept(path, before, out):
    with open(path) as f:
        check(f.read() == before, "admin.token was changed", out)


@test
def missing_database():
    srv = Server()
    try:
        srv.start()
        add_device(srv.api, "KEEP-1", "K")
        srv.stop()
        tok = os.path.join(srv.data_dir, "admin.token")
        with open(tok) as f:
            before = f.read()
        db = os.path.join(srv.data_dir, "edgefleet.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
        want = ("is missing but %s exists: restore the database, or remove admin.token to "
                "start afresh" % tok)
        rc, out = run(["--data-dir", srv.data_dir])
        check(rc == 1 and want in out and "ready port=" not in out, rc, out)
        check(not os.path.exists(db), "a new database was created", os.listdir(srv.data_dir))
        token_kept(tok, before, out)

        open(db, "wb").close()  # an empty file: a database without its schema
        rc, out = run(["--data-dir", srv.data_dir])
        check(rc == 1 and want in out and "no schema" in out, rc, out)
        check(os.path.getsize(db) == 0, "the empty database was written to")
        token_kept(tok, before, out)

        os.unlink(db)
        os.unlink(tok)  # the operator's choice: start afresh
        srv.start()
        check(srv.token and srv.token != before.strip(), "a new admin token")
        st, r = srv.api.get("device_query_all")
        check(st == 200 and r["data"] == [], "a fresh database", st, r)
        srv.stop()
    finally:
        srv.kill()
        srv.cleanup()


@test
def database_without_tokens():
    srv = Server()
    try:
        srv.start()
        srv.stop()
        tok = os.path.join(srv.data_dir, "admin.token")
        with open(tok) as f:
            before = f.read()
        con = sqlite3.connect(os.path.join(srv.data_dir, "edgefleet.db"))
        con.execute("DELETE FROM api_tokens")
        con.commit()
        con.close()
        rc, out = run(["--data-dir", srv.data_dir])
        check(rc == 1 and "the database has no API token but %s exists" % tok in out, rc, out)
        token_kept(tok, before, out)
    finally:
        srv.kill()
        srv.cleanup()


print("18-storage: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
raise SystemExit(1 if failed else 0)
