#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""45-agent.py -- the real edgefleet-agent (on libedgefleet) against the real edgefleetd:
login by sn+model, status with the system collector's sections readable through the API,
custom orders from its config file (params substituted, output returned), an unknown order,
a timed-out order, restart (the same process re-executes and logs in again with its session
token), a server restart (the agent reconnects by itself), and SIGTERM (exit 0, offline)."""
import os
import subprocess
import time

from efharness import AgentProcess, Suite, agent_binary, check, wait_until

T = Suite("45-agent", heartbeat_tolerance="3s", heartbeat_tolerance_miss="2s",
          order_timeout="3s", log_flush="20ms")



class Agent(AgentProcess):
    """The agent as a device with three custom orders and short timings."""

    def __init__(self, srv, sn, password="pw", extra=()):
        d = os.path.join(srv.dir, "agent-" + sn)
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "agent.conf")
        with open(conf, "w") as f:
            f.write("order.say = /bin/echo said {text}\n"
                    "order.nap = /bin/sleep {seconds}\n"
                    "order.fail = /bin/sh -c \"echo broken >&2; exit 3\"\n")
        super().__init__(srv, ["--config", conf, "--sn", sn, "--model", "agent",
                               "--password", password, "--data-dir", d,
                               "--ping-interval", "500ms", "--pong-timeout", "500ms",
                               "--status-interval", "1s", "--reconnect-interval", "300ms",
                               "--reconnect-jitter", "200ms", "--max-retries", "0",
                               "--restart-wait", "1s", "--order-timeout", "1s"] + list(extra),
                         dir=d)


def online(srv, did):
    return srv.dev_state(did) == "online"


def order(srv, did, name, params=None):
    body = {"device_id": did, "order": name}
    if params is not None:
        body["params"] = params
    return srv.api.post("give_order", body)


@T.test
def agent_end_to_end(srv):
    did = srv.add_device("SN-AG1", "agent", "pw")
    ag = Agent(srv, "SN-AG1")
    try:
        wait_until(lambda: online(srv, did), 10, what="agent online")
        # Status: the library's seed sections plus the agent's system collector.
        def status():
            st, r = srv.api.get("device_statusInfo_query", did)
            return r["data"] if st == 200 else None
        wait_until(lambda: status() and "load_avg" in status(), 10, what="collector status")
        d = status()
        for k in ("CPU_info", "Memory_info", "Disk_info", "host_name", "uptime_s"):
            check(k in d, k, d)
        check(d["Memory_info"]["total_memory_mb"] > 0, d)

        # Custom orders from the config file.
        st, r = order(srv, did, "say", {"text": "hello world"})
        check(st == 200 and "said hello world" in r["data"]["message"], st, r)
        st, r = order(srv, did, "fail", {})
        check(st == 502 and "exit 3" in r["message"] and "broken" in r["message"], st, r)
        st, r = order(srv, did, "no_such_order", {})
        check(st == 502 and r["message"] == "order not in config", st, r)
        st, r = order(srv, did, "say", {})
        check(st == 502 and "text" in r["message"], st, r)
        t0 = time.monotonic()
        st, r = order(srv, did, "nap", {"seconds": 30})
        check(st == 502 and "timed out" in r["message"] and time.monotonic() - t0 < 3, st, r)
        check(online(srv, did), "device must stay online through the orders")

        # Restart: the same process re-executes itself and logs in again (by token).
        pid = ag.proc.pid
        logins = lambda: sum(1 for l in srv.logs(did) if l["event"] == "login")  # noqa: E731
        before = logins()
        st, r = order(srv, did, "restart")
        check(st == 200, st, r)
        wait_until(lambda: logins() > before and online(srv, did), 10, what="login after restart")
        check(ag.proc.poll() is None and ag.proc.pid == pid, "restart must re-exec in place")

        # Server restart: the agent reconnects by itself.
        before = logins()
        srv.stop()
        srv.start(same_port=True)
        wait_until(lambda: online(srv, did), 10, what="agent back after a server restart")
        wait_until(lambda: logins() > before, 5, what="its login in the device log (written behind)")
        st, r = order(srv, did, "say", {"text": "again"})
        check(st == 200 and "said again" in r["data"]["message"], st, r)

        # SIGTERM: exit 0, and the server sees the device go offline.
        check(ag.stop() == 0, "agent exit code")
        wait_until(lambda: srv.dev_state(did) == "offline", 5, what="offline after SIGTERM")
    except Exception:
        print("---- agent stderr ----\n" + ag.tail())
        raise
    finally:
        ag.stop()


@T.test
def wrong_password_and_bad_config(srv):
    did = srv.add_device("SN-AG2", "agent", "pw")
    ag = Agent(srv, "SN-AG2", password="nope", extra=["--max-retries", "2"])
    try:
        rc = ag.proc.wait(15)
        check(rc == 1, "the agent gives up after max_retries with exit 1", rc)
        check("password Not Correct" in ag.tail(), ag.tail())
        check(srv.dev_state(did) == "offline")
    finally:
        ag.stop()
    p = subprocess.run([agent_binary(), "--server", "ws://127.0.0.1:1/ws", "--sn", "x", "--model", "y",
                        "--password", "p", "--ping-interval", "never"],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == 2 and "--ping-interval: 'never' is not a duration" in p.stderr,
          p.returncode, p.stderr)


if __name__ == "__main__":
    T.main()
