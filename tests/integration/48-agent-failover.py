#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""48-agent-failover.py -- edgefleet-agent given several server URLs (docs/library.md#failover)
against real edgefleetd processes, each with its own data dir:

* two servers with the same device (same sn, model and password) provisioned on each through
  REST, under different device ids. The node the agent is on is killed with SIGKILL: the agent
  logs in to the other one within reconnect_jitter plus a margin (not after reconnect_interval),
  there with its password after the other node refused the first one's session token, and as
  that node's device id. The killed node is started again and the other one killed: it goes back.
* the first URL of the list has nothing listening: the agent still logs in to the second
  promptly (the first server is random, so the agent is started until it has begun with the dead
  one);
* max_retries counts rounds over the list: with 2 URLs that both fail (nothing listening, a wrong
  password), max_retries 2 is 4 attempts, 2 on each, then exit status 1.
"""
import os
import re
import time

from efharness import AgentProcess, Server, Suite, check, free_port, wait_until

OPTS = dict(heartbeat_tolerance="3s", heartbeat_tolerance_miss="2s", log_flush="20ms")
T = Suite("48-agent-failover", **OPTS)

INTERVAL = 2.0  # reconnect_interval: the wait once every URL has failed
JITTER = 0.3    # reconnect_jitter: the only wait before the next URL
MARGIN = 1.2    # connect, a refused token login and a password login on a busy machine


def url(srv):
    return "ws://127.0.0.1:%d/ws" % srv.port


class Agent(AgentProcess):
    """The agent on a list of URLs, identified by sn + model, with short timings."""

    def __init__(self, srv, servers, sn, name, password="pw", extra=()):
        d = os.path.join(srv.dir, "agent-" + name)
        os.makedirs(d, exist_ok=True)
        self.t_start = time.monotonic()
        # the --server given here comes after AgentProcess' own and wins (the last value does)
        super().__init__(srv, ["--server", ",".join(servers), "--sn", sn, "--model", "fo",
                               "--password", password, "--data-dir", d,
                               "--ping-interval", "500ms", "--pong-timeout", "500ms",
                               "--status-interval", "1s",
                               "--reconnect-interval", "%dms" % (INTERVAL * 1000),
                               "--reconnect-jitter", "%dms" % (JITTER * 1000),
                               "--max-retries", "0"] + list(extra), dir=d)

    def logins(self):
        """[(device id, URL)] of every login, in order."""
        return re.findall(r"login success as device (\d+) on (\S+)", self.log())

    def attempts(self):
        """The URL of every connection attempt, in order."""
        return re.findall(r"Ready to connect to Server\. (\S+)", self.log())


def wait_login(ag, count, timeout):
    """The count-th login [(id, URL)] once it happened; how long that took from now."""
    t0 = time.monotonic()
    wait_until(lambda: len(ag.logins()) >= count, timeout, interval=0.01,
               what="login %d of the agent" % count)
    return ag.logins()[count - 1], time.monotonic() - t0


def failover(ag, nodes, dead_url, since):
    """Kill the node at dead_url (SIGKILL) once the agent has been logged in there for longer than
    reconnect_interval (a shorter connection earns no quick move), and check that it logs in to
    the other node within reconnect_jitter plus the margin, there as the other node's device."""
    age = time.monotonic() - since
    if age < INTERVAL + 0.2:
        time.sleep(INTERVAL + 0.2 - age)  # let the connection age, on purpose
    n = len(ag.logins())
    log_before = len(ag.log())
    srv, _ = nodes[dead_url]
    t0 = time.monotonic()
    srv.kill()
    (did, where), _ = wait_login(ag, n + 1, INTERVAL + 5)
    took = time.monotonic() - t0
    other = [u for u in nodes if u != dead_url][0]
    new = ag.log()[log_before:]
    check(where == other, "logged in to the other node", where, other, new)
    check(took <= JITTER + MARGIN, "failover took %.3fs, more than reconnect_jitter + %.1fs"
          % (took, MARGIN), new)
    m = re.search(r"moving on to the next server (\S+) in (\d+) ms: (\S+) dropped the connection",
                  new)
    check(m and m.group(1) == other and m.group(3) == dead_url and int(m.group(2)) <= JITTER * 1000,
          "the log says where it moves, why, and after [0, jitter]", new)
    print("%s killed: logged in to %s after %.3fs" % (dead_url, other, took))
    osrv, oid = nodes[other]
    check(did == oid, "the other node's device id", did, oid)
    # the first node's token means nothing to the other (its own database): refused, then the
    # password at once on the same server
    check("session token refused" in new and "login with password" in new, new)
    wait_until(lambda: osrv.dev_state(oid) == "online", 5, what="online on the other node")
    return time.monotonic()


@T.test
def kill_the_node_and_come_back(a):
    b = Server(**OPTS).start()
    ag = None
    try:
        b.add_device("SN-OTHER", "fo", "x")  # b's ids cannot be a's: its device comes later
        ida = a.add_device("SN-FO1", "fo", "pw")
        idb = b.add_device("SN-FO1", "fo", "pw")
        check(ida != idb, "the two databases give the device different ids", ida, idb)
        nodes = {url(a): (a, ida), url(b): (b, idb)}
        ag = Agent(a, [url(a), url(b)], "SN-FO1", "fo1")
        (did, first), _ = wait_login(ag, 1, 10)
        since = time.monotonic()
        check(first in nodes and did == nodes[first][1], "a login on one node as its device",
              did, first)
        second = [u for u in nodes if u != first][0]
        print("the agent began on %s" % ("the first URL" if first == url(a) else "the second URL"))

        since = failover(ag, nodes, first, since)
        # the killed node comes back where it was; the agent stays where it is until that fails
        fsrv, fid = nodes[first]
        fsrv.start(same_port=True)
        fsrv.exit_code = None  # running again: stop() at the end must stop it
        check(ag.logins()[-1][1] == second, "still on the second node")
        failover(ag, nodes, second, since)
        wait_until(lambda: fsrv.dev_state(fid) == "online", 5, what="back on the first node")
        check(ag.proc.poll() is None, "the agent runs on")
        check(ag.stop() == 0, "agent exit status")
    except Exception:
        if ag:
            print("---- agent stderr ----\n" + ag.tail(60))
        print("---- second edgefleetd stderr ----\n" + b.tail(30))
        raise
    finally:
        if ag:
            ag.stop()
        if b.alive():
            b.stop()
        b.kill()
        b.cleanup()


@T.test
def first_url_dead(srv):
    did = srv.add_device("SN-FO2", "fo", "pw")
    dead = "ws://127.0.0.1:%d/ws" % free_port()
    began_dead = 0
    for run in range(12):  # the first URL is random: until one run began with the dead one
        ag = Agent(srv, [dead, url(srv)], "SN-FO2", "fo2-%d" % run)
        try:
            (got, where), _ = wait_login(ag, 1, 10)
            took = time.monotonic() - ag.t_start  # process start included
            check(where == url(srv) and got == did, got, where)
            check(took <= JITTER + MARGIN + 0.5, "logged in after %.3fs" % took, ag.tail())
            tried = ag.attempts()
            if tried[0] == dead:
                began_dead += 1
                m = re.search(r"moving on to the next server (\S+) in (\d+) ms: (\S+) failed",
                              ag.log())
                check(m and m.group(1) == url(srv) and m.group(3) == dead
                      and int(m.group(2)) <= JITTER * 1000, ag.tail())
                check("connection error" in ag.log(), ag.tail())
                check(tried == [dead, url(srv)], tried)
            else:
                check(tried == [url(srv)], tried)
            check(ag.stop() == 0, "agent exit status")
        except Exception:
            print("---- agent stderr ----\n" + ag.tail(40))
            raise
        finally:
            ag.stop()
        if began_dead:
            break
    check(began_dead, "no run began with the first URL in 12 runs (it is chosen at random)")
    wait_until(lambda: srv.dev_state(did) == "offline", 5, what="offline after the last agent")


@T.test
def max_retries_counts_rounds(srv):
    srv.add_device("SN-FO3", "fo", "pw")
    dead = "ws://127.0.0.1:%d/ws" % free_port()
    ag = Agent(srv, [dead, url(srv)], "SN-FO3", "fo3", password="wrong",
               extra=["--max-retries", "2", "--reconnect-interval", "200ms",
                      "--reconnect-jitter", "100ms"])
    try:
        rc = ag.proc.wait(15)
        check(rc == 1, "exit status 1 once max_retries rounds failed", rc)
        tried = ag.attempts()
        check(len(tried) == 4 and tried.count(dead) == 2 and tried.count(url(srv)) == 2,
              "two attempts on each URL, alternating", tried)
        check(all(tried[i] != tried[i + 1] for i in range(3)), "round robin", tried)
        check("giving up after 4 failed connection attempts (2 on each of the 2 servers)"
              in ag.log(), ag.tail())
        check("password Not Correct" in ag.log(), ag.tail())
    except Exception:
        print("---- agent stderr ----\n" + ag.tail(40))
        raise
    finally:
        ag.stop()


if __name__ == "__main__":
    T.main()
