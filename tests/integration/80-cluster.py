#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""80-cluster.py -- three edgefleetd nodes on one PostgreSQL and one NATS server, all real and
started here on loopback (docs/cluster.md): real agents on different nodes; an order given
through node 1 to an agent on node 2 (and its refusals, as on one node); a status and a miner
upload on node 2 pushed to a dashboard on node 3; device-list changes and tokens made on one
node seen on the others; a device logging in on a second node replaces its first session; a
node killed with SIGKILL: its devices offline on the others within the node timeout and back
online on the survivors (the agent fails over by its server list), the order path working
again; NATS going away and back; alerts evaluated everywhere and logged once; a fleet of the
original system (MySQL tables in a real MariaDB) imported with edgefleetctl import-seed, its
devices logging in on other nodes with their old passwords; nodes sharing one port with
SO_REUSEPORT. Skipped (77) only when PostgreSQL or NATS cannot be started here."""
import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "helpers"))

import dbserver_pg  # noqa: E402
import efharness  # noqa: E402
import natsserver  # noqa: E402
from efharness import (AgentProcess, Api, Server, check, connect,  # noqa: E402
                       wait_until)
from front import Front  # noqa: E402

TIMINGS = dict(heartbeat_tolerance="4s", heartbeat_tolerance_miss="3s", order_timeout="4s",
               log_flush="50ms", cluster_heartbeat="200ms", cluster_node_timeout="1s",
               front_push_interval="100ms", http_deadline="15s", alert_eval="300ms")


class Cluster:
    """PostgreSQL + NATS + n nodes (node ids 1..n) sharing the verifier key."""

    def __init__(self, n=3, **extra):
        self.dir = tempfile.mkdtemp(prefix="ef-cluster-")
        os.chmod(self.dir, 0o711)  # the database and NATS run as an unprivileged user
        self.pg = dbserver_pg.PgServer(os.path.join(self.dir, "pg"))
        self.nats = natsserver.NatsServer(self._mk("nats"))
        self.n = n
        self.extra = extra
        self.nodes = []
        self.key = os.path.join(self.dir, "verifier.key")
        with open(self.key, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        os.chmod(self.key, 0o600)

    def _mk(self, name):
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        return d

    def node_opts(self, i):
        o = dict(TIMINGS, db=self.pg.url, nats=self.nats.url, node_id=str(i),
                 verifier_key=self.key)
        o.update(self.extra)
        return o

    def start(self):
        os.makedirs(os.path.join(self.dir, "pg"), exist_ok=True)
        self.pg.start()
        self.nats.start()
        for i in range(1, self.n + 1):
            node = Server(**self.node_opts(i))
            self.nodes.append(node)
            if i == 1:
                node.start()
                self.token = node.token
            else:
                self.start_node(node)
        # every node has heard every other
        wait_until(lambda: all(n.tail(0).count("joined") >= self.n - 1 for n in self.nodes),
                   10, what="every node joined by the others")
        return self

    def start_node(self, node, same_port=False):
        """Nodes after the first: the database and its admin token exist already."""
        os.makedirs(node.data_dir, exist_ok=True)
        with open(os.path.join(node.data_dir, "admin.token"), "w") as f:
            f.write(self.token)
        node.start(same_port=same_port)
        node.token = self.token
        node.api = Api(node.port, self.token)

    def stop(self):
        for node in self.nodes:
            try:
                if node.alive():
                    node.stop()
            finally:
                node.kill()
        self.nats.kill()
        self.pg.stop()

    def cleanup(self):
        for node in self.nodes:
            node.cleanup()
        if not os.environ.get("EF_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


def add_device(api, sn, model="agent", password="pw"):
    return efharness.add_device(api, sn, model, password)


def body(reply):
    """The JSON answer of an Api call ((http status, body) tuples)."""
    return reply[1] if isinstance(reply[1], dict) else {"status": "fail", "message": reply[1]}


def state(api, did):
    r = body(api.get("device_query", did))
    check(r["status"] == "success", r)
    return r["data"]["dev_state"]


def start_agent(node, sn, servers):
    d = tempfile.mkdtemp(prefix="ef-agent-%s-" % sn, dir=node.dir)
    conf = os.path.join(d, "agent.conf")
    with open(conf, "w") as f:
        f.write("server = %s\n" % ",".join("ws://127.0.0.1:%d/ws" % n.port for n in servers))
        f.write("order.say = /bin/echo said {text}\n")
    return AgentProcess(node, ["--config", conf, "--server",
                               ",".join("ws://127.0.0.1:%d/ws" % n.port for n in servers),
                               "--sn", sn, "--model", "agent", "--password", "pw",
                               "--data-dir", d, "--status-interval", "1s",
                               "--reconnect-interval", "1s", "--reconnect-jitter", "300ms",
                               "--max-retries", "0"], dir=d)


def online_everywhere(cl, did, nodes=None):
    return all(state(n.api, did) == "online" for n in (nodes or cl.nodes))


# ----- the tests: each gets a fresh cluster -----

def orders_and_status_across_nodes(cl):
    n1, n2, n3 = cl.nodes
    did = add_device(n1.api, "AG-2")
    ag = start_agent(n2, "AG-2", [n2])
    try:
        wait_until(lambda: online_everywhere(cl, did), 10, what="the agent on node 2 online on all")
        # status uploaded to node 2, read on node 3
        wait_until(lambda: body(n3.api.get("device_statusInfo_query", did))["status"] == "success",
                   10, what="node 3 reads the status uploaded to node 2")
        st = body(n3.api.get("device_statusInfo_query", did))["data"]
        check(st["device_id"] == did and st["dev_state"] == "online", st)
        # an order through node 1 to the agent on node 2: its output comes back
        st, r = n1.api.post("give_order", {"device_id": did, "order": "say",
                                           "params": {"text": "hello"}})
        check(st == 200 and r["status"] == "success" and "said hello" in json.dumps(r["data"]),
              st, r)
        # the same refusal as on one node: an offline device
        off = add_device(n1.api, "OFF-1")
        st, r = n3.api.post("give_order", {"device_id": off, "order": "say"})
        check(st == 409 and "offline" in r["message"].lower(), st, r)
        # the order's rows were written by node 2, in the shared database
        logs = body(n3.api.get("device_log_query", did))["data"]
        check(any(l["event"] == "order_result" and l["result"] == "success" for l in logs), logs)
    finally:
        ag.stop()
    wait_until(lambda: all(state(n.api, did) == "offline" for n in cl.nodes), 10,
               what="the stopped agent offline on all nodes")


async def pushes_across_nodes(cl):
    n1, n2, n3 = cl.nodes
    did = add_device(n1.api, "PUSH-2")
    async with Front(n3) as f:
        await f.login(cl.token)
        check((await f.call(event="subDeviceList", body={}))["code"] == 1)
        r = await f.call(event="subDeviceStatus", body={"device_id": did})
        check(r["code"] == 1, r)
        async with connect(n2.port) as dev:
            await dev.login(device_id=did, password="pw")
            # the login on node 2 reaches node 3's device-list subscribers (read before any
            # other request: a reply awaited by f.call passes over the pushes before it)
            end = time.monotonic() + 10
            online = False
            while not online and time.monotonic() < end:
                try:
                    p = await f.push(1)
                except asyncio.TimeoutError:
                    continue
                b = p.get("body") or {}
                online = p["message"] == "subDeviceList" and \
                    (b.get(did) or {}).get("dev_state") == "online"
            check(online, "no subDeviceList push on node 3 of the login on node 2")
            await dev.send_json({"type": "upload_miner_info", "Headers": {"full": True},
                                 "data": {"minerId": "f0777", "minerBalance": "5 FIL",
                                          "workerInfo": {}}})
            await dev.recv_json(2)
            # the record uploaded to node 2 is on node 3 (and node 1)
            wait_until(lambda: body(n1.api.get("miner_query", "f0777"))["status"] == "success",
                       5, what="the miner uploaded to node 2 on node 1")
            m = body(n1.api.get("miner_query", "f0777"))
            check(m["data"]["minerBalance"] == "5 FIL", m)
            end = time.monotonic() + 5
            while (await f.call(event="subMinerInfo", body={"minerId": "f0777"}))["code"] != 1:
                check(time.monotonic() < end, "the miner never reached node 3")
                await asyncio.sleep(0.05)
            await dev.send_json({"type": "upload_status_info", "Headers": {},
                                 "data": {"CPU_info": {"user_cpu_time": 7}, "host_name": "w7"}})
            await dev.recv_json(2)
            await dev.send_json({"type": "upload_miner_info", "Headers": {"full": False},
                                 "data": {"minerId": "f0777", "minerBalance": "6 FIL"}})
            await dev.recv_json(2)
            seen = {"status": False, "miner": False}
            end = time.monotonic() + 10
            while not all(seen.values()) and time.monotonic() < end:
                try:
                    p = await f.push(1)
                except asyncio.TimeoutError:
                    continue
                b = p.get("body") or {}
                if p["message"] == "subDeviceStatus" and b.get("CPU_info") == {"user_cpu_time": 7}:
                    seen["status"] = True
                if p["message"] == "subMinerInfo" and b.get("minerBalance") == "6 FIL":
                    seen["miner"] = True
            check(all(seen.values()), "pushes on node 3 of a device on node 2: %s" % seen)
        # a device added through node 1: node 3's list subscribers are told to refetch
        add_device(n1.api, "NEW-1")
        end = time.monotonic() + 5
        refresh = False
        while not refresh and time.monotonic() < end:
            try:
                p = await f.push(1)
            except asyncio.TimeoutError:
                continue
            refresh = p["message"] == "subDeviceList" and p["body"].get("_refresh") is True
        check(refresh, "no _refresh on node 3 after device_add on node 1")


def tokens_across_nodes(cl):
    n1, n2, n3 = cl.nodes
    r = body(n1.api.post("api_token_add", {"name": "ops", "scope": "read"}))
    check(r["status"] == "success", r)
    tok, tid = r["data"]["token"], r["data"]["token_id"]
    api3 = Api(n3.port, tok)
    wait_until(lambda: api3.get("device_query_all")[0] == 200, 5,
               what="a token made on node 1 accepted by node 3")
    st, r = n2.api.post("api_token_delete", {"token_id": tid})
    check(st == 200, st, r)
    wait_until(lambda: api3.get("device_query_all")[0] == 401, 5,
               what="a token revoked on node 2 refused by node 3")


async def second_login_replaces_first(cl):
    n1, n2, n3 = cl.nodes
    did = add_device(n1.api, "TWICE")
    async with connect(n1.port) as a:
        await a.login(device_id=did, password="pw")
        wait_until(lambda: online_everywhere(cl, did), 5, what="online on all")
        async with connect(n3.port) as b:
            await b.login(device_id=did, password="pw")
            code = await a.wait_closed(5)
            check(code is not None, "the first session was not closed")
            await asyncio.sleep(0.5)
            check(online_everywhere(cl, did), "still online everywhere after the move")
            check(await b.ping(), "the second session works")
        wait_until(lambda: all(state(n.api, did) == "offline" for n in cl.nodes), 5,
                   what="offline everywhere after the second session closed")


def node_killed(cl):
    n1, n2, n3 = cl.nodes
    ids = [add_device(n1.api, "K-%d" % i) for i in range(3)]
    agents = [start_agent(n2, "K-%d" % i, [n2, n3]) for i in range(3)]
    try:
        # they start on a random server of their list: wait until all are online somewhere
        wait_until(lambda: all(online_everywhere(cl, d, [n1]) for d in ids), 15,
                   what="the agents online")
        # the agents start on a random server of their list: those on node 2 must move
        def on_node2(a):
            logins = [l for l in a.log().splitlines() if "login success" in l]
            return bool(logins) and (":%d/ws" % n2.port) in logins[-1]
        moved = [d for d, a in zip(ids, agents) if on_node2(a)]
        for attempt in range(8):  # all on node 3 (1 in 8): start the first agent again
            if moved:
                break
            agents[0].stop()
            agents[0] = start_agent(n2, "K-0", [n2, n3])
            wait_until(lambda: "login success" in agents[0].log(), 10, what="K-0 logged in")
            moved = [ids[0]] if on_node2(agents[0]) else []
        check(moved, "no agent ever started on node 2")
        t0, t_kill = time.monotonic(), int(time.time() * 1000)
        n2.kill()

        def back(d):  # logged in again after the kill (on node 3: its login row is written)
            logs = body(n1.api.get("device_log_query", d))["data"]
            return any(l["event"] == "login" and l["time"] >= t_kill for l in logs)
        wait_until(lambda: all(back(d) for d in moved), 15,
                   what="the killed node's devices logged in again on a survivor")
        took = time.monotonic() - t0
        wait_until(lambda: "node 2 lost" in n1.tail(0) and "node 2 lost" in n3.tail(0), 5,
                   what="the survivors noticing node 2's loss")
        # node 2 is gone from the directory; the devices are online, held by node 3
        wait_until(lambda: all(state(n.api, d) == "online" for d in ids for n in (n1, n3)), 5,
                   what="the devices online on both survivors")
        print("  %d devices of the killed node logged in again after %.2fs" % (len(moved), took))
        # the order path works again, through node 1 to devices now on node 3
        st, r = n1.api.post("give_order", {"device_id": ids[0], "order": "say",
                                           "params": {"text": "back"}})
        check(st == 200 and "said back" in json.dumps(r), st, r)
    finally:
        for a in agents:
            a.stop()


async def alerts_across_nodes(cl):
    """Every node evaluates; the leader (node 1) writes the alert log and the state once; rules,
    acks and silences made on one node are made on all."""
    n1, n2, n3 = cl.nodes
    st, r = n2.api.post("alert_rule_add", {"name": "hot", "kind": "device_cpu_temp",
                                           "threshold": 80, "clear": 70, "for": 0,
                                           "severity": "critical"})
    check(st == 200, st, r)
    wait_until(lambda: any(x["name"] == "hot" for x in
                           body(n3.api.get("alert_rule_query_all"))["data"]["rules"]), 5,
               what="a rule added on node 2 listed on node 3")
    did = add_device(n1.api, "HOT-2")
    async with connect(n2.port) as dev:
        await dev.login(device_id=did, password="pw")
        await dev.send_json({"type": "upload_status_info", "Headers": {},
                             "data": {"cpu_temperature": 95}})
        await dev.recv_json(2)
        fp = "hot|device=%s" % did

        def firing(n):
            al = body(n.api.get("alert_query_all"))["data"]["alerts"]
            return any(a["fingerprint"] == fp and a["state"] == "firing" for a in al)
        wait_until(lambda: all(firing(n) for n in cl.nodes), 10,
                   what="the alert of a device on node 2 firing on every node")
        st, r = n3.api.post("alert_ack", {"fingerprint": fp})
        check(st == 200, st, r)

        def acked(n):
            al = body(n.api.get("alert_query_all"))["data"]["alerts"]
            return any(a["fingerprint"] == fp and a.get("acked_at") for a in al)
        wait_until(lambda: all(acked(n) for n in cl.nodes), 5, what="acked on every node")
    # the leader writes the alert log behind: wait for its row, then make sure no other node
    # wrote one too
    def firings():
        rows = body(n2.api.post("alert_log_query", {"fingerprint": fp}))["data"]["rows"]
        return [x for x in rows if x["event"] == "firing"]
    wait_until(lambda: firings(), 5, what="the firing in the alert log")
    time.sleep(1.0)
    check(len(firings()) == 1, "the firing logged once, by the leader: %s" % firings())


async def nats_restart(cl):
    """NATS goes away and comes back: every node serves its own devices meanwhile, and the
    directories are exchanged again (node 1 sees the device on node 2 online again)."""
    n1, n2, n3 = cl.nodes
    did = add_device(n1.api, "NR-2")
    async with connect(n2.port) as dev:
        await dev.login(device_id=did, password="pw")
        wait_until(lambda: state(n1.api, did) == "online", 5, what="online on node 1")
        cl.nats.kill()
        wait_until(lambda: all("NATS connection lost" in n.tail(0) for n in cl.nodes), 10,
                   what="every node noticing NATS' loss")
        check(await dev.ping(), "the device on node 2 is served without NATS")
        check(state(n2.api, did) == "online", "node 2 still holds its device")
        check(state(n1.api, did) == "offline", "node 1 cannot know it meanwhile")
        cl.nats.start()
        wait_until(lambda: state(n1.api, did) == "online" and state(n3.api, did) == "online",
                   15, what="the device on node 2 online on nodes 1 and 3 after NATS is back")
        check(await dev.ping(), "the device's session survived")


SEED_DEVICES = [("SEED-0001", "EG-100", "alpha-pass-1"), ("SEED-0003", "EG-200", "charlie-pass-3")]


async def seed_import_into_cluster(cl):
    """A fleet of the original system (its MySQL tables, tests/data/seed-mysql.sql, in a real
    MariaDB) imported through node 1 with edgefleetctl import-seed: its devices log in on nodes
    2 and 3 with their old passwords."""
    import dbserver_mysql
    n1, n2, n3 = cl.nodes
    mdir = os.path.join(cl.dir, "mariadb")
    os.makedirs(mdir)
    os.chmod(mdir, 0o755)
    db = dbserver_mysql.MariaDbServer(mdir)
    try:
        db.start()
    except dbserver_mysql.Unavailable as e:
        print("  (MariaDB cannot be started here: the seed import is not checked: %s)" % e)
        return
    try:
        db.sql("DROP DATABASE IF EXISTS seed; CREATE DATABASE seed CHARACTER SET utf8mb4;")
        with open(os.path.join(efharness.source_dir(), "tests", "data", "seed-mysql.sql")) as f:
            db.sql(f.read(), db="seed")
        tf = os.path.join(cl.dir, "admin.token")
        with open(tf, "w") as f:
            f.write(cl.token)
        ctl = os.path.join(efharness.build_dir(), "src", "cli", "edgefleetctl")
        p = subprocess.run([ctl, "--server", "http://127.0.0.1:%d" % n1.port, "--token-file", tf,
                            "import-seed", db.url_for("seed")], capture_output=True, text=True,
                           timeout=120)
        check(p.returncode == 0 and "devices: 4 added" in p.stdout, p.returncode, p.stdout,
              p.stderr)
        for (sn, model, password), node in zip(SEED_DEVICES, (n2, n3)):
            async with connect(node.port) as dev:
                await dev.login(sn=sn, model=model, password=password)
                check(await dev.ping(), "%s on node %s" % (sn, node.port))
    finally:
        db.stop()


def shared_port(cl):
    """Two more nodes on one port (reuse_port): connections are spread over both."""
    mports = [efharness.free_port(), efharness.free_port()]
    base = Server(**dict(cl.node_opts(4), reuse_port="true",
                         metrics_listen="127.0.0.1:%d" % mports[0]))
    cl.start_node(base)
    twin = Server(**dict(cl.node_opts(5), reuse_port="true",
                         metrics_listen="127.0.0.1:%d" % mports[1]))
    twin.port = base.port
    cl.start_node(twin, same_port=True)
    cl.nodes += [base, twin]
    ids = [add_device(cl.nodes[0].api, "RP-%d" % i) for i in range(24)]

    async def run():
        devs = []
        for d in ids:
            dev = connect(base.port)
            await dev.__aenter__()
            await dev.login(device_id=d, password="pw")
            devs.append(dev)
        # each node's own /metrics (its metrics_listen): the connections it holds
        got = [int(m.group(1)) if m else -1 for m in
               (re.search(r'^edgefleet_device_sessions (\d+)$',
                          Api(p, None).request("GET", "/metrics")[1], re.M) for p in mports)]
        for dev in devs:
            await dev.__aexit__(None, None, None)
        return got
    got = asyncio.run(run())
    check(sum(got) == len(ids) and min(got) > 0, "devices per node on the shared port: %s" % got)


TESTS = [orders_and_status_across_nodes, pushes_across_nodes, tokens_across_nodes,
         second_login_replaces_first, alerts_across_nodes, node_killed, nats_restart,
         seed_import_into_cluster, shared_port]


def main():
    only = set(filter(None, os.environ.get("EF_ONLY", "").split(",")))
    failed = []
    for fn in TESTS:
        if only and fn.__name__ not in only:
            continue
        cl = Cluster()
        t0 = time.monotonic()
        ok = False
        try:
            try:
                cl.start()
            except (dbserver_pg.Unavailable, natsserver.Unavailable) as e:
                print("SKIP: %s" % e)
                cl.stop()
                cl.cleanup()
                return 77
            if asyncio.iscoroutinefunction(fn):
                asyncio.run(asyncio.wait_for(fn(cl), 120))
            else:
                fn(cl)
            cl.stop()
            ok = True
        except BaseException:  # noqa: B902 -- report everything
            traceback.print_exc(file=sys.stdout)
            for i, n in enumerate(cl.nodes, 1):
                print("---- node %d stderr (tail) ----\n%s" % (i, n.tail(40)))
            try:
                cl.stop()
            except BaseException:  # noqa: B902
                pass
        finally:
            if ok:
                cl.cleanup()
            else:
                print("(kept: %s)" % cl.dir)
        print("%s %s (%.2fs)" % ("PASS" if ok else "FAIL", fn.__name__, time.monotonic() - t0),
              flush=True)
        if not ok:
            failed.append(fn.__name__)
    print("80-cluster: %s" % ("all passed" if not failed else "FAILED: " + ", ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
