#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""55-cli.py -- edgefleetctl against a real edgefleetd: every command once with its output checked
against the REST API (tables, key/value lines, --json equal to the API's data), an order to a
real edgefleet-agent, read tokens, where the server and token come from (and that the token is
never printed), and the exit codes: 1 the server said fail, 2 usage, 3 unreachable or silent."""
import json
import re
import os
import socket
import subprocess
import tempfile

from efharness import AgentProcess, Suite, build_dir, check, free_port, wait_until

T = Suite("55-cli", heartbeat_tolerance="3s", heartbeat_tolerance_miss="2s", order_timeout="3s")

CTL = os.path.join(build_dir(), "src", "cli", "edgefleetctl")
# A clean environment: no proxy between us and 127.0.0.1, no inherited EDGEFLEET_* settings.
BASE_ENV = {k: v for k, v in os.environ.items()
            if not k.lower().endswith("_proxy") and not k.startswith("EDGEFLEET_")}
WORK = tempfile.mkdtemp(prefix="ef-cli-")  # cwd without ./var/admin.token


def run(args, env=None, cwd=WORK, stdin=None, timeout=60):
    p = subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=timeout,
                       env=dict(BASE_ENV, **(env or {})), cwd=cwd, input=stdin)
    check("Sanitizer" not in p.stderr and "runtime error:" not in p.stderr, args, p.stderr)
    return p.returncode, p.stdout, p.stderr


def ctl(srv, *args, **kw):
    """edgefleetctl with --server and --token-file of `srv`: (exit code, stdout, stderr)."""
    rc, out, err = run(["--server", "http://127.0.0.1:%d" % srv.port,
                        "--token-file", os.path.join(srv.data_dir, "admin.token")] + list(args), **kw)
    check(srv.token not in out and srv.token not in err, "the admin token was printed", out, err)
    return rc, out, err


def ok(srv, *args, **kw):
    rc, out, err = ctl(srv, *args, **kw)
    check(rc == 0, "edgefleetctl %s: exit %d" % (" ".join(args), rc), out, err)
    return out


def ok_json(srv, *args):
    return json.loads(ok(srv, "--json", *args))


def fails(srv, code, *args, **kw):
    rc, out, err = ctl(srv, *args, **kw)
    check(rc == code, "edgefleetctl %s: exit %d, wanted %d" % (" ".join(args), rc, code), out, err)
    return err


def api_data(srv, name, *args):
    st, r = srv.api.get(name, *args)
    check(st == 200, name, st, r)
    return r["data"]


def table(out):
    """A table printed by edgefleetctl: a list of rows split on runs of two spaces or more."""
    return [re.split(r"\s{2,}", line.strip()) for line in out.splitlines() if line.strip()]


def kv(out):
    d = {}
    for line in out.splitlines():
        k, _, v = line.partition("  ")
        d[k] = v.strip()
    return d


@T.test
def devices_and_groups(srv):
    # device add -> id; show / list / --json agree with the API.
    did = ok(srv, "device", "add", "--sn", "SN-C1", "--model", "EG-9", "--password", "pw",
             "--name", "edge one", "--type", "gateway", "--description", "rack 4").strip()
    check(did.isdigit(), did)
    d = kv(ok(srv, "device", "show", did))
    check(d["device_id"] == did and d["device_name"] == "edge one" and d["hardware.sn"] == "SN-C1"
          and d["hardware.model"] == "EG-9" and d["dev_state"] == "offline"
          and d["dev_description"] == "rack 4" and d["device_type"] == "gateway", d)
    check("password" not in ok(srv, "device", "show", did))
    check(ok_json(srv, "device", "show", did) == api_data(srv, "device_query", did))
    rows = table(ok(srv, "device", "list"))
    check(rows[0] == ["ID", "NAME", "SN/MODEL", "STATE", "UPDATED"], rows)
    check([did, "edge one", "SN-C1/EG-9", "offline"] == rows[1][:4] and len(rows) == 2, rows)
    check(ok_json(srv, "device", "list") == api_data(srv, "device_query_all"))
    # Options after the command words, --opt=value, and -- before a positional.
    check(ok(srv, "device", "show", "--json", "--", did).startswith("{"))

    # A repeated sn+model is the server's 409: exit 1 with its message and type.
    err = fails(srv, 1, "device", "add", "--sn", "SN-C1", "--model", "EG-9", "--password", "x")
    check("Device already exists." in err and "DEVICEOP_ERROR" in err and "409" in err, err)

    # add-batch from a file (a bare array) and from stdin ({"devices": [...]}).
    batch = os.path.join(srv.dir, "batch.json")
    with open(batch, "w") as f:
        json.dump([{"hardware": {"sn": "B%d" % i, "model": "EG-9"}, "password": "fleet"}
                   for i in range(3)], f)
    ids = ok(srv, "device", "add-batch", batch).split()
    check(len(ids) == 3 and all(i.isdigit() for i in ids), ids)
    check(api_data(srv, "device_query", ids[2])["hardware"]["sn"] == "B2")
    body = json.dumps({"devices": [{"hardware": {"sn": "B9", "model": "EG-9"}, "password": "p"}]})
    rc, out, err = ctl(srv, "--json", "device", "add-batch", "-", stdin=body)
    check(rc == 0 and len(json.loads(out)["device_ids"]) == 1, rc, out, err)
    with open(batch, "w") as f:
        f.write("[{ not json")
    err = fails(srv, 2, "device", "add-batch", batch)
    check("batch.json:1" in err and "usage:" in err, err)

    # update: only the given members change; a new password is accepted.
    d = kv(ok(srv, "device", "update", did, "--description", "rack 5", "--password", "new"))
    check(d["dev_description"] == "rack 5" and d["device_name"] == "edge one", d)
    check(api_data(srv, "device_query", did)["dev_description"] == "rack 5")
    fails(srv, 2, "device", "update", did)  # nothing to update

    # Groups: add, list, show, update, membership round trip, clear, delete.
    gid = ok(srv, "group", "add", "north", "--description", "racks 1-4").strip()
    check(gid.isdigit(), gid)
    rows = table(ok(srv, "group", "list"))
    check(rows[0] == ["ID", "NAME", "DESCRIPTION", "UPDATED"] and rows[1][:3] == [gid, "north", "racks 1-4"], rows)
    check(ok_json(srv, "group", "list") == api_data(srv, "group_query_all"))
    check(kv(ok(srv, "group", "show", gid))["group_name"] == "north")
    check(ok_json(srv, "group", "show", gid) == api_data(srv, "group_query", gid))
    check(ok(srv, "group", "has", gid, did).strip() == "no")
    check(ok(srv, "group", "add-device", gid, did).strip() == "ok")
    check(ok(srv, "group", "add-device", gid, ids[0]).strip() == "ok")
    err = fails(srv, 1, "group", "add-device", gid, did)
    check("Relation already exists." in err, err)
    check(ok(srv, "group", "has", gid, did).strip() == "yes")
    check(ok_json(srv, "group", "has", gid, did) == {"exists": True})
    rows = table(ok(srv, "device", "groups", did))
    check(len(rows) == 2 and rows[1][:2] == [gid, "north"], rows)
    check(ok_json(srv, "device", "groups", did) == api_data(srv, "device_groups_query", did))
    rows = table(ok(srv, "group", "devices", gid))
    check(sorted(r[0] for r in rows[1:]) == sorted([did, ids[0]]), rows)
    check(ok_json(srv, "group", "devices", gid) == api_data(srv, "group_devices_query", gid))
    check(ok(srv, "group", "remove-device", gid, did).strip() == "ok")
    check(ok(srv, "group", "has", gid, did).strip() == "no")
    err = fails(srv, 1, "group", "remove-device", gid, did)
    check("Relation NOT FOUND." in err, err)
    d = kv(ok(srv, "group", "update", gid, "--name", "south"))
    check(d["group_name"] == "south" and d["group_description"] == "racks 1-4", d)
    check(ok(srv, "group", "clear", gid).strip() == "ok")
    check(api_data(srv, "group_devices_query", gid) == [])
    check(ok(srv, "group", "delete", gid).strip() == "ok")
    err = fails(srv, 1, "group", "show", gid)
    check("Group NOT FOUND." in err and "404" in err, err)

    # delete, then show is a 404; a bad id is the server's 400.
    check(ok(srv, "device", "delete", did).strip() == "ok")
    err = fails(srv, 1, "device", "show", did)
    check("Device NOT FOUND." in err, err)
    fails(srv, 1, "device", "show", "not-an-id/../x")
    # Device commands on a device that never connected.
    err = fails(srv, 1, "device", "status", ids[1])
    check("offline" in err, err)
    err = fails(srv, 1, "order", ids[1], "say", "text=hi")
    check("Device is offline!" in err and "409" in err, err)


class Agent(AgentProcess):
    def __init__(self, srv, sn):
        d = os.path.join(srv.dir, "agent-" + sn)
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "agent.conf")
        with open(conf, "w") as f:
            f.write("order.say = /bin/echo {text}\n"
                    "order.fail = /bin/sh -c \"echo broken >&2; exit 3\"\n")
        super().__init__(srv, ["--config", conf, "--sn", sn, "--model", "agent", "--password", "pw",
                               "--data-dir", d, "--ping-interval", "500ms", "--pong-timeout",
                               "500ms", "--status-interval", "1s", "--reconnect-interval",
                               "300ms", "--max-retries", "0", "--order-timeout", "2s"], dir=d)


@T.test
def orders_to_an_agent(srv):
    did = srv.add_device("SN-CA", "agent", "pw")
    ag = Agent(srv, "SN-CA")
    try:
        wait_until(lambda: srv.dev_state(did) == "online", 10, what="agent online")
        out = ok(srv, "order", did, "say", "text=hello from the cli")
        check(out == "hello from the cli\n", out)
        # --params, and key=value taken as JSON when it parses (5 -> 5, echoed as "5").
        check(ok(srv, "order", did, "say", "--params", '{"text":"p"}').strip() == "p")
        check(ok(srv, "order", did, "say", "--params", '{"text":"p"}', "text=5").strip() == "5")
        check(ok_json(srv, "order", did, "say", 'text="q"')["message"].strip() == "q")
        err = fails(srv, 1, "order", did, "fail")
        check("broken" in err and "502" in err, err)
        err = fails(srv, 1, "order", did, "no_such_order")
        check("order not in config" in err, err)
        fails(srv, 2, "order", did, "say", "novalue")
        fails(srv, 2, "order", did, "say", "--params", "[1]")
        fails(srv, 2, "order", did)

        # group-order: one agent and one device that is offline.
        gid = ok(srv, "group", "add", "fleet").strip()
        other = srv.add_device("SN-OFF", "x", "pw")
        ok(srv, "group", "add-device", gid, did)
        ok(srv, "group", "add-device", gid, other)
        out = ok(srv, "group-order", gid, "say", "text=all")
        rows = table(out)
        check(rows[0] == ["DEVICE", "STATUS", "MESSAGE"], rows)
        by_id = {r[0]: r for r in rows[1:-1]}
        check(by_id[did][1:] == ["success", "all"] and by_id[other][1] == "fail", rows)
        check(out.splitlines()[-1] == "1 succeeded, 1 failed", out)
        r = ok_json(srv, "group-order", gid, "say", "text=all")
        check(r["succeeded"] == 1 and r["failed"] == 1 and len(r["results"]) == 2, r)

        # Live status and the event log.
        wait_until(lambda: ctl(srv, "device", "status", did)[0] == 0, 10, what="status")
        d = kv(ok(srv, "device", "status", did))
        check(d["device_id"] == did and d["dev_state"] == "online"
              and int(d["Memory_info.total_memory_mb"]) > 0, d)
        rows = table(ok(srv, "device", "log", did))
        check(rows[0] == ["TIME", "EVENT", "RESULT", "DETAIL"], rows)
        check(any(r[1] == "login" for r in rows[1:]) and any(r[1] == "order" for r in rows[1:]),
              rows)
        logs = ok_json(srv, "device", "log", did)
        check(len(logs) > 2 and {"login", "order"} <= {l["event"] for l in logs}, logs)
        before = logs[len(logs) // 2]["time"]
        older = ok_json(srv, "device", "log", did, "--before", str(before))
        check(older and all(l["time"] < before for l in older), older)
        check(older == api_data(srv, "device_log_query", did, str(before)), older)
        fails(srv, 2, "device", "log", did, "--before", "soon")
    except Exception:
        print("---- agent stderr ----\n" + ag.tail())
        raise
    finally:
        ag.stop()


@T.test
def tokens_miners_and_errors(srv):
    # miners: none yet.
    rows = table(ok(srv, "miner", "list"))
    check(rows == [["MINER", "DEVICE", "BALANCE", "POWER", "SECTORS", "WORKERS", "UPDATED"]], rows)
    check(ok_json(srv, "miner", "list") == [])
    err = fails(srv, 1, "miner", "show", "f01234")
    check("Miner NOT FOUND." in err, err)

    # A read token: reads work, writes are the server's 403 (exit 1).
    rc, tok, err = ctl(srv, "token", "add", "--kind", "read", "--name", "wall")
    tok = tok.strip()
    check(rc == 0 and len(tok) >= 32 and "read token" in err and tok not in err, rc, tok, err)
    base = ["--server", "127.0.0.1:%d" % srv.port]  # host:port means http://host:port
    rc, out, err = run(base + ["--token", tok, "device", "list"])
    check(rc == 0 and out.startswith("ID"), rc, out, err)
    rc, out, err = run(base + ["--token", tok, "device", "add", "--sn", "a", "--model", "b",
                               "--password", "c"])
    check(rc == 1 and "403" in err and "needs an operator token" in err, rc, out, err)
    fails(srv, 2, "token", "add", "--kind", "root")
    fails(srv, 2, "token", "add")
    fails(srv, 2, "token", "add", "--name", "x")  # no scope
    fails(srv, 2, "token", "add", "--name", "x", "--scope", "root")

    # Scopes, groups, expiry; the list never shows a secret; revoke refuses at once.
    gid = ok(srv, "group", "add", "site-a").strip()
    rc, ops, err = ctl(srv, "token", "add", "--name", "site-a ops", "--scope", "operator",
                       "--groups", gid, "--expires", "90d")
    ops = ops.strip()
    check(rc == 0 and "operator token" in err, rc, ops, err)
    rows = table(ok(srv, "token", "list"))
    check(rows[0] == ["ID", "NAME", "SCOPE", "GROUPS", "CREATED", "LAST USED", "EXPIRES"], rows)
    check(len(rows) == 4, rows)  # admin, wall, site-a ops
    listed = ok(srv, "token", "list")
    check(tok not in listed and ops not in listed and "site-a ops" in listed, listed)
    toks = {t["name"]: t for t in ok_json(srv, "token", "list")}
    check(toks["site-a ops"]["scope"] == "operator" and toks["site-a ops"]["groups"] == [gid] and
          toks["site-a ops"]["expires_time"] and toks["wall"]["last_used_time"], toks)
    rc, out, err = run(base + ["--token", ops, "token", "list"])
    check(rc == 1 and "403" in err and "needs an admin token" in err, rc, out, err)
    check(ok(srv, "token", "revoke", toks["site-a ops"]["token_id"]).strip() == "ok")
    rc, out, err = run(base + ["--token", ops, "device", "list"])
    check(rc == 1 and "401" in err, rc, out, err)
    err = fails(srv, 1, "token", "revoke", toks["site-a ops"]["token_id"])
    check("Token NOT FOUND." in err, err)

    # A wrong token: exit 1 with the server's message.
    rc, out, err = run(base + ["--token", "wrong-token", "device", "list"])
    check(rc == 1 and "invalid API token" in err and "401" in err, rc, out, err)

    # Where the server and the token come from: env, ./var/admin.token; -v says which, never
    # what the token is.
    env = {"EDGEFLEET_SERVER": "http://127.0.0.1:%d/" % srv.port, "EDGEFLEET_TOKEN": srv.token}
    rc, out, err = run(["-v", "device", "list"], env=env)
    check(rc == 0 and "from $EDGEFLEET_SERVER" in err and "token from $EDGEFLEET_TOKEN" in err
          and srv.token not in err + out, rc, out, err)
    cwd = os.path.join(srv.dir, "cwd")
    os.makedirs(os.path.join(cwd, "var"))
    with open(os.path.join(cwd, "var", "admin.token"), "w") as f:
        f.write(srv.token + "\n")
    rc, out, err = run(["-v", "group", "add", "from-cwd"], cwd=cwd,
                       env={"EDGEFLEET_SERVER": "127.0.0.1:%d" % srv.port})
    check(rc == 0 and "token from ./var/admin.token" in err and srv.token not in err + out,
          rc, out, err)
    rc, out, err = run(base + ["-v", "device", "list"])
    check(rc == 1 and "no token" in err and "401" in err, rc, out, err)
    rc, out, err = run(base + ["--token-file", os.path.join(srv.dir, "nope"), "device", "list"])
    check(rc == 2 and "cannot read token file" in err, rc, out, err)

    # Usage errors: exit 2 with a message and the command's usage.
    for args, says in [(["frobnicate"], "unknown command"),
                       (["device", "frob"], "unknown command 'device frob'"),
                       (["device"], "needs a command"),
                       (["device", "show"], "missing argument"),
                       (["device", "show", "1", "2"], "too many arguments"),
                       (["device", "add", "--sn", "x", "--model", "y"], "missing --password"),
                       (["device", "list", "--sn", "x"], "does not apply"),
                       (["device", "list", "--bogus"], "unknown option"),
                       (["device", "show", "--timeout"], "needs a value"),
                       (["--timeout", "soon", "device", "list"], "not a duration"),
                       (["--token", "a b", "device", "list"], "cannot have"),
                       (["group", "add", "\udcff"], "not UTF-8"),
                       ([], "usage:")]:
        rc, out, err = run(base + args)
        check(rc == 2 and says in err and out == "", args, rc, out, err)
        if says.startswith("missing"):
            check("usage: edgefleetctl [OPTIONS] device %s" % args[1] in err, err)

    # Help: exit 0 on stdout.
    rc, out, err = run(["help"])
    check(rc == 0 and "device add" in out and "group-order" in out and "Exit codes" in out, out)
    rc, out, err = run(["device", "add", "--help"])
    check(rc == 0 and out.startswith("usage: edgefleetctl [OPTIONS] device add --sn SN"), out)
    rc, out, err = run(["help", "group"])
    check(rc == 0 and "group add-device" in out and "device add" not in out, out)
    rc, out, err = run(["order", "--help"])
    check(rc == 0 and "key=value" in out, out)

    # No server: exit 3. A server that accepts but never answers: exit 3 after --timeout.
    rc, out, err = run(["--server", "http://127.0.0.1:%d" % free_port(), "--token", "t", "device", "list"])
    check(rc == 3 and "cannot reach" in err, rc, out, err)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        rc, out, err = run(["--server", "127.0.0.1:%d" % s.getsockname()[1], "--token", "t",
                            "--timeout", "300ms", "device", "list"])
        check(rc == 3 and "no answer" in err, rc, out, err)
    rc, out, err = run(["--server", "ftp://127.0.0.1:1", "--token", "t", "device", "list"])
    check(rc == 2 and "bad server address" in err, rc, out, err)


if __name__ == "__main__":
    T.main()
