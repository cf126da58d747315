#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""19-durability.py -- what edgefleetd acknowledges survives kill -9
(docs/store.md#what-is-durable-when).

ROUNDS rounds (20) on one data dir and one port. Each round starts edgefleetd, and while
  * DEVICES - 1 devices (the harness' raw WebSocket devices) log in with their password and
    answer every give_order with success, naming the order's nonce,
  * one API caller per such device gives it orders, one after the other, each with its own nonce,
  * one more device logs in and out again and again (login, state and disconnect rows),
  * WRITERS API callers add devices and groups, add relations, update devices' descriptions and
    delete groups,
kill -9 hits the server after a random time (a seeded RNG: EF_SEED, printed, makes a failure
reproducible). After the last round the server starts once more and the test counts, through
the API, that nothing acknowledged with a 200 is missing:
  * every device, group and relation added, every update (the value acknowledged last, or a
    later one), and no group deleted is back: REST writes are committed before their answer;
  * every order answered 200 has its "order" row and its "order_result" row naming its nonce:
    an order's answer waits until its device-log rows are committed;
  * device-log rows are committed in the order they were queued, so a login row queued before
    an acknowledged order was given (the login reply had arrived) is there too.
Login rows that no later acknowledgement covers are written behind (log_flush): the test
counts how many of those were lost, and asserts nothing about them.

No timed assertion: the kill times are random, the checks are counts of answers and rows.
EF_ROUNDS and EF_SEED override the defaults.
"""
import asyncio
import concurrent.futures
import itertools
import os
import random
import signal
import sys
import threading
import time

from efharness import (Closed, REST_BASE, Server, add_device, check, connect)

ROUNDS = int(os.environ.get("EF_ROUNDS", "20"))
SEED = int(os.environ.get("EF_SEED", "1909"))
DEVICES = 6
WRITERS = 2
PASSWORD = "dur-pw"
ORDER = "durable_test"

rng = random.Random(SEED)


tick = itertools.count(1)  # one clock for every event the test sees, across its threads


def now_ms():
    return int(time.time() * 1000)


class Ledger:
    """What the API acknowledged, and the order in which the test saw things happen."""

    def __init__(self):
        self.devices = set()        # device ids added (200)
        self.groups = set()         # group ids added and not deleted
        self.deleted_groups = set()
        self.relations = set()      # (device id, group id)
        self.updates = {}           # device id -> the highest description number acknowledged
        self.orders = {}            # device id -> [nonce, ...] answered 200
        self.logins = []            # (round, device id, tick when the login reply arrived)
        self.windows = {}           # round -> (ms when the server started, ms when it was killed)
        self.last_acked_order_sent = {}  # round -> the latest send tick of an order answered 200
        self.rest_acks = 0
        self.order_acks = 0


def gone(exc):
    """The server is down (killed): the caller's round is over."""
    return isinstance(exc, (ConnectionError, OSError, EOFError)) or \
        type(exc).__name__ in ("RemoteDisconnected", "IncompleteRead", "BadStatusLine")


async def device_task(srv, did, rnd, led, stop):
    """Log in, then answer every order with success and its nonce until the server goes."""
    try:
        async with connect(srv.port) as dev:
            await dev.login(device_id=did, password=PASSWORD)
            led.logins.append((rnd, did, next(tick)))
            while not stop.is_set():
                try:
                    m = await dev.recv_json(0.5)
                except TimeoutError:
                    continue
                if m.get("type") != "give_order":
                    continue
                nonce = m["data"]["params"]["nonce"]
                await dev.send_json({"type": "upload_instruction_result", "status": "success",
                                     "Headers": {"order_id": m["Headers"]["order_id"],
                                                 "message": "done " + nonce},
                                     "data": {}})
    except (Closed, OSError, asyncio.TimeoutError, TimeoutError, EOFError):
        pass  # killed (or killed during the login)
    except Exception as e:  # noqa: BLE001 -- websockets' own errors when the peer vanishes
        if "websockets" not in type(e).__module__:
            raise


async def churn_task(srv, did, rnd, led, stop):
    """Log in and out again and again: login, state and disconnect rows, written behind."""
    while not stop.is_set():
        try:
            async with connect(srv.port) as dev:
                await dev.login(device_id=did, password=PASSWORD)
                led.logins.append((rnd, did, next(tick)))
        except (Closed, OSError, asyncio.TimeoutError, TimeoutError, EOFError):
            return
        except Exception as e:  # noqa: BLE001
            if "websockets" not in type(e).__module__:
                raise
            return


async def order_task(srv, did, rnd, led, stop):
    k = 0
    while not stop.is_set():
        k += 1
        nonce = "r%d-%s-%d" % (rnd, did, k)
        sent = next(tick)
        try:
            st, r = await srv.api.apost("give_order", {"device_id": did, "order": ORDER,
                                                       "params": {"nonce": nonce}})
        except Exception as e:  # noqa: BLE001
            if gone(e):
                return
            raise
        if st == 200:
            check(r["data"]["message"] == "done " + nonce, "answer of another order", r)
            led.orders.setdefault(did, []).append(nonce)
            led.order_acks += 1
            led.last_acked_order_sent[rnd] = max(led.last_acked_order_sent.get(rnd, 0), sent)
        else:  # not logged in yet (409 offline), or the device went (502)
            check(st in (409, 502), "give_order", st, r)
            await asyncio.sleep(0.005)


def writer(srv, w, rnd, led, stop, own_devices, pool):
    """Adds devices and groups, relations, updates, deletes; records what was answered 200."""
    api = srv.api
    wrng = random.Random("%d-%d-%d" % (SEED, rnd, w))
    k = 0
    try:
        while not stop.is_set():
            k += 1
            op = wrng.random()
            if op < 0.3 or not own_devices:
                sn = "DUR-%d-%d-%d" % (rnd, w, k)
                st, r = api.post("device_add", {"hardware": {"sn": sn, "model": "D"},
                                                "password": "x"})
                check(st == 200, "device_add", st, r)
                did = str(r["data"]["device_id"])
                led.devices.add(did)
                own_devices.append(did)
            elif op < 0.5:
                st, r = api.post("group_add", {"group_name": "dur-%d-%d-%d" % (rnd, w, k)})
                check(st == 200, "group_add", st, r)
                gid = str(r["data"]["group_id"])
                led.groups.add(gid)
                if len(pool) < 10:
                    pool.append(gid)  # relations go to these, and they stay
                else:  # the others are deleted again
                    led.rest_acks += 1
                    led.groups.discard(gid)  # killed before the answer: either way is right
                    st, r = api.request("DELETE", REST_BASE + "group_delete", {"group_id": gid})
                    check(st == 200, "group_delete", st, r)
                    led.deleted_groups.add(gid)
            elif op < 0.8 and pool:
                did, gid = wrng.choice(own_devices), wrng.choice(pool)
                st, r = api.post("relation_add", {"device_id": did, "group_id": gid})
                check(st in (200, 409), "relation_add", st, r)  # 409: already there
                led.relations.add((did, gid))
            else:
                did = wrng.choice(own_devices)
                n = led.updates.get(did, 0) + 1
                st, r = api.request("PUT", REST_BASE + "device_update",
                                    {"device_id": did, "dev_description": "v%d" % n})
                check(st == 200, "device_update", st, r)
                led.updates[did] = n
            led.rest_acks += 1
    except Exception as e:  # noqa: BLE001
        if not gone(e):
            raise


async def one_round(srv, rnd, ids, led, writer_state, pool):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    tstop = threading.Event()
    tasks = [asyncio.create_task(device_task(srv, did, rnd, led, stop)) for did in ids[1:]]
    tasks.append(asyncio.create_task(churn_task(srv, ids[0], rnd, led, stop)))
    tasks += [asyncio.create_task(order_task(srv, did, rnd, led, stop)) for did in ids[1:]]
    tasks += [loop.run_in_executor(None, writer, srv, w, rnd, led, tstop, writer_state[w], pool)
              for w in range(WRITERS)]
    await asyncio.sleep(rng.uniform(0.2, 1.2))
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    led.windows[rnd] = (led.windows[rnd][0], now_ms())
    stop.set()
    tstop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 30)


def all_logs(api, did):
    """Every device-log row of a device, through device_log_query's pages (1,000 rows each)."""
    rows, before = {}, None
    while True:
        st, r = api.get("device_log_query", did, *([before] if before else []))
        check(st == 200, "device_log_query", st, r)
        page = r["data"]
        new = [l for l in page if l["log_id"] not in rows]
        rows.update((l["log_id"], l) for l in page)
        if len(page) < 1000 or not new:
            return list(rows.values())
        before = min(l["time"] for l in page) + 1


def verify(srv, ids, led):
    api = srv.api
    st, r = api.get("device_query_all")
    check(st == 200, "device_query_all", st)
    devs = {str(d["device_id"]): d for d in r["data"]}
    missing = led.devices - devs.keys()
    check(not missing, "%d acknowledged devices missing: %s" % (len(missing), sorted(missing)[:5]))
    stale = [(d, n, devs[d]["dev_description"]) for d, n in led.updates.items()
             if int((devs[d]["dev_description"] or "v0")[1:]) < n]
    check(not stale, "%d acknowledged updates lost (device, acked, stored): %s"
          % (len(stale), stale[:5]))

    st, r = api.get("group_query_all")
    groups = {str(g["group_id"]) for g in r["data"]}
    missing = led.groups - groups
    check(not missing, "%d acknowledged groups missing" % len(missing))
    back = led.deleted_groups & groups
    check(not back, "%d acknowledged group deletions undone" % len(back))

    have = set()
    for gid in {g for _, g in led.relations}:
        st, r = api.get("group_devices_query", gid)
        check(st == 200, "group_devices_query", st, r)
        have |= {(str(d["device_id"]), gid) for d in r["data"]}
    missing = led.relations - have
    check(not missing, "%d acknowledged relations missing" % len(missing))

    lost_orders = lost_given = lost_covered = lost_behind = covered = behind = 0
    for did in ids:
        logs = all_logs(api, did)
        results = {l["detail"] for l in logs if l["event"] == "order_result"}
        given = sum(1 for l in logs if l["event"] == "order" and l["detail"] == ORDER)
        acked = led.orders.get(did, [])
        lost_orders += sum(1 for n in acked if "%s: done %s" % (ORDER, n) not in results)
        lost_given += max(0, len(acked) - given)
        # Login rows are committed in the order they were queued: a login whose reply came
        # before an acknowledged order was sent has its row. A round's rows are those timed
        # between its start and its kill; a device's logins in a round are queued in order,
        # so the rows there must be at least the logins covered by an acknowledgement.
        times = [l["time"] for l in logs if l["event"] == "login" and l["result"] == "success"]
        for rnd, (lo, hi) in led.windows.items():
            ts = [t for r_, d, t in led.logins if d == did and r_ == rnd]
            must = sum(1 for t in ts if t < led.last_acked_order_sent.get(rnd, 0))
            rows = sum(1 for x in times if lo <= x <= hi)
            covered += must
            behind += len(ts) - must
            lost_covered += max(0, must - rows)
            lost_behind += max(0, len(ts) - max(rows, must))
    print("acknowledged: %d REST writes (%d devices, %d groups, %d relations, %d updates, "
          "%d group deletions), %d orders; %d logins before an acknowledged order, %d after"
          % (led.rest_acks, len(led.devices), len(led.groups), len(led.relations),
             len(led.updates), len(led.deleted_groups), led.order_acks, covered, behind))
    print("written behind and lost at a kill: %d of the %d login rows no acknowledgement covered"
          % (lost_behind, behind))
    check(lost_orders == 0 and lost_given == 0,
          "of %d acknowledged orders, %d lost their order_result row and %d their order row"
          % (led.order_acks, lost_orders, lost_given))
    check(lost_covered == 0, "%d login rows queued before an acknowledged order are missing"
          % lost_covered)


def main():
    t0 = time.monotonic()
    print("19-durability: seed %d (EF_SEED), %d rounds (EF_ROUNDS)" % (SEED, ROUNDS), flush=True)
    srv = Server(log_flush="200ms", order_timeout="5s")  # the production write-behind period
    led = Ledger()
    ok = False
    try:
        t_start = now_ms()
        srv.start()
        token = srv.token
        ids = [add_device(srv.api, "DUR-DEV-%d" % i, "D", PASSWORD) for i in range(DEVICES)]
        writer_state = [[] for _ in range(WRITERS)]
        pool = []
        ex = concurrent.futures.ThreadPoolExecutor(DEVICES + WRITERS + 4)

        async def rounds():
            asyncio.get_running_loop().set_default_executor(ex)
            for rnd in range(ROUNDS):
                led.windows[rnd] = (t_start if rnd == 0 else now_ms(), None)
                if rnd:
                    srv.start(same_port=True)
                    check(srv.token == token, "admin.token changed across a restart")
                await one_round(srv, rnd, ids, led, writer_state, pool)
        asyncio.run(rounds())
        ex.shutdown()
        srv.start(same_port=True)
        check(srv.token == token, "admin.token changed across a restart")
        verify(srv, ids, led)
        srv.stop()
        ok = True
    except BaseException:
        import traceback
        traceback.print_exc(file=sys.stdout)
        print("---- edgefleetd stderr (tail) ----\n%s\n----" % srv.tail(40))
    finally:
        srv.kill()
        if ok:
            srv.cleanup()
        else:
            print("(data dir kept: %s)" % srv.dir)
    print("%s durability (%.1fs)" % ("PASS" if ok else "FAIL", time.monotonic() - t0))
    print("19-durability: %d passed, %d failed" % (1 if ok else 0, 0 if ok else 1), flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
