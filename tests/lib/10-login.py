# SPDX-License-Identifier: MIT
"""Login: by id and by sn+model; the session token is stored (0600), used on reconnect, and
dropped for the password after the server refuses it."""
import json
import os
import stat
import time
import asyncio

import edgetest
from edgetest import check

FAR = int(time.time() * 1000) + 3600_000


async def main(t):
    # --- by id, server hands out a token
    p = await t.probe()
    c = await t.accept()
    check(c.path == "/ws", f"path {c.path}")
    m = await c.login({"status": "success",
                       "data": {"device_id": "123", "token": "tok-1", "token_expires": FAR}})
    check(m == {"device_id": "123", "password": "pw"}, f"login by id: {m}")
    await p.line("EVENT logged_in 123")
    first = await c.recv_msg()
    check(first["type"] == "upload_status_info", f"first message after login: {first}")
    sess = os.path.join(p.data_dir, "session.json")
    check(os.path.exists(sess), "session.json written")
    check(stat.S_IMODE(os.stat(sess).st_mode) == 0o600, "session.json mode 0600")
    with open(sess) as f:
        s = json.load(f)
    check(s == {"device_id": "123", "token": "tok-1", "expires": FAR}, f"session.json {s}")

    # --- server drops us: reconnect presents the token
    await c.close()
    await p.line("EVENT disconnected")
    c = await t.accept()
    m = await c.login({"status": "fail", "message": "token expired"})
    check(m == {"device_id": "123", "token": "tok-1"}, f"token login: {m}")
    await c.close()
    # --- refused: token deleted, password at once (no reconnect wait counted)
    c = await t.accept(timeout=1.0)
    m = await c.login()
    check(m == {"device_id": "123", "password": "pw"}, f"password fallback: {m}")
    check(not os.path.exists(sess), "refused token deleted")
    await p.line("EVENT logged_in 123")
    check(await p.stop() == 0, "exit 0 after SIGTERM")
    log = p.oplog()
    check(" - INFO - login success as device 123" in log, "login in the operation log")
    check("session token refused" in log, "token refusal in the operation log")

    # --- an expired token is not used
    d = os.path.join(t.tmp, "expired")
    os.makedirs(d)
    with open(os.path.join(d, "session.json"), "w") as f:
        json.dump({"device_id": "123", "token": "old", "expires": 1000}, f)
    p = await t.probe(data_dir=d)
    c = await t.accept()
    m = await c.login()
    check(m == {"device_id": "123", "password": "pw"}, f"expired token ignored: {m}")
    check(not os.path.exists(os.path.join(d, "session.json")), "expired token removed")
    await p.stop()

    # --- by serial number and model; the server assigns the id
    p = await t.probe(login=("--device-sn", "SN123", "--device-model", "ModelB"))
    c = await t.accept()
    m = await c.login({"status": "success", "data": {"device_id": "777"}})
    check(m == {"device_sn": "SN123", "device_model": "ModelB", "password": "pw"}, f"sn login {m}")
    await p.line("EVENT logged_in 777")
    st = await c.recv_msg()
    check(st["data"]["device_id"] == "777", f"status carries the confirmed id: {st['data']}")
    check(not os.path.exists(os.path.join(p.data_dir, "session.json")), "no token without one")
    await p.stop()

    # --- a failed password login is reported and retried after the wait
    p = await t.probe()
    c = await t.accept()
    await c.login({"status": "fail", "message": "wrong password"})
    await p.line("EVENT login_failed wrong password")
    c = await t.accept()
    await c.login()
    await p.line("EVENT logged_in")
    await p.stop()

    # --- bad options are refused clearly
    for args in (["--server", "https://x/ws"], ["--pinned-pubkey", "sha256/x"],
                 ["--ping-interval", "soon"], ["--no-such", "1"]):
        argv = [*edgetest.PROBE_EMULATOR, edgetest.PROBE, "--device-id", "1", *args]
        proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 5)
        check(proc.returncode == 2, f"{args}: exit {proc.returncode}")
        want = "ENOENT" if args[0] == "--no-such" else "ECONFIG"
        check(f"OPTION {args[0][2:]} {want}" in out.decode(), f"{args}: {out}")
        if "https" in args[1]:
            check(b"must start with ws:// or wss://" in err, f"scheme message: {err}")

edgetest.run(main)
