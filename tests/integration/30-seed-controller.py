#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""30-seed-controller.py -- compatibility with the original device controller (its Python code,
kept verbatim in seed_controller/controller/): it must log in, heartbeat, upload status and execute
orders against edgefleetd unchanged (docs/protocol.md). Real timings: the controller has 5 s pings
and 15 s status uploads, so the server runs with its default 7.5 s / 5.5 s heartbeat tolerance.

Flow: register SN123/ModelB -> start test_start_1.py (Debian's python3) -> online -> status with
the seed's three sections -> test_order {"SomethingToPrint":"hi"} prints "hi" -> restart: success,
the controller re-execs itself (same pid, os.execl) and logs in again -> it stays online across
more than two real ping intervals."""
import os
import signal
import subprocess
import time

from efharness import SYS_PYTHON, Suite, check, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
SEED_DIR = os.path.join(HERE, "seed_controller")

T = Suite("30-seed-controller")


class Controller:
    """The seed's controller as a subprocess; stdout+stderr to a file."""

    def __init__(self, srv, password):
        self.dir = os.path.join(srv.dir, "controller")
        os.makedirs(self.dir)
        self.out_path = os.path.join(self.dir, "stdout")
        self.log_path = os.path.join(self.dir, "device2.log")
        env = dict(os.environ, EF_SEED_PORT=str(srv.port), EF_SEED_LOG_DIR=self.dir,
                   EF_SEED_PASSWORD=password, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1",
                   PYTHONWARNINGS="ignore")
        env.pop("PYTHONPATH", None)
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen([SYS_PYTHON, "test_start_1.py"], cwd=SEED_DIR, env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT)

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()

    def dump(self):
        print("---- controller stdout (tail) ----")
        print("\n".join(self.stdout().splitlines()[-30:]))
        print("---- controller device2.log (tail) ----")
        print("\n".join(self.log().splitlines()[-30:]))


def logins(srv, did):
    return [l for l in srv.logs(did) if l["event"] == "login" and l["result"] == "success"]


@T.test
def seed_controller(srv):
    t_start = time.monotonic()
    did = srv.add_device("SN123", "ModelB", "testpassword")
    ctl = Controller(srv, "testpassword")
    ok = False
    try:
        pid = ctl.proc.pid
        wait_until(lambda: srv.dev_state(did) == "online", 15, interval=0.1,
                   what="the seed controller online")
        print("online %.1fs after start" % (time.monotonic() - t_start))

        # status: the seed uploads right after login, then every 15 s
        def status():
            st, r = srv.api.get("device_statusInfo_query", did)
            return r["data"] if st == 200 else None
        data = wait_until(status, 10, interval=0.1, what="the first status upload")
        for sec, keys in {"CPU_info": ["user_cpu_time", "system_cpu_time", "idle_cpu_time",
                                       "io_wait_cpu_time"],
                          "Memory_info": ["total_memory_mb", "free_memory_mb", "buff_cache_mb"],
                          "Disk_info": ["root_total_size_mb", "root_used_size_mb",
                                        "root_used_percent"]}.items():
            check(isinstance(data.get(sec), dict) and all(
                isinstance(data[sec].get(k), (int, float)) for k in keys), sec, data)
        check(data["device_id"] == did and data["dev_state"] == "online", data)

        # a custom order, as seed_controller/test_start_1.py defines it
        st, r = srv.api.post("give_order", {"device_id": did, "order": "test_order",
                                            "params": {"SomethingToPrint": "hi"}})
        check(st == 200 and r["status"] == "success", "test_order:", st, r)
        check(r["data"]["message"] == "successfully exec order.", r)
        wait_until(lambda: "hi" in ctl.stdout().splitlines(), 3, what='"hi" on its stdout')
        # an order the controller does not know
        st, r = srv.api.post("give_order", {"device_id": did, "order": "no_such_order"})
        check(st == 502 and r["message"] == "order not in config", "unknown order:", st, r)
        # The seed's controller answers an unknown order twice ("order not in config", then the
        # KeyError as "Error in exec order: ..."), with no order_id: the second answer must have
        # arrived, and been ignored, before the next order, or it would be taken as that one's.
        def second_answer_ignored():
            with open(srv.stderr_path, "rb") as f:
                return b"result for an order it was not given ignored" in f.read()
        wait_until(second_answer_ignored, 5, what="the controller's second answer, ignored")

        # restart: handshake, then os.execl -- same pid, a new login
        n_logins = len(logins(srv, did))
        t0 = time.monotonic()
        st, r = srv.api.post("give_order", {"device_id": did, "order": "restart"})
        check(st == 200 and r["status"] == "success", "restart:", st, r)
        wait_until(lambda: len(logins(srv, did)) > n_logins, 20, interval=0.1,
                   what="a second login after the restart")
        check(ctl.proc.poll() is None and ctl.proc.pid == pid, "the controller process is gone")
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            check(b"test_start_1.py" in f.read(), "pid %d is not the controller any more" % pid)
        wait_until(lambda: srv.dev_state(did) == "online", 5, what="online after the restart")
        print("restart: logged in again %.1fs after the order" % (time.monotonic() - t0))
        check("Receive Restart Confirm:start to Restart." in ctl.log(),
              "the controller did not see restart_confirm")
        check(ctl.log().count("successfully connect to Server.") >= 2, "one connection only")

        # heartbeats keep it online for more than two real ping intervals (5 s each); the
        # server's tolerance is 7.5 s, so a controller that does not ping would turn Unknown
        t0 = time.monotonic()
        states = set()
        while time.monotonic() - t0 < 11.0:
            states.add(srv.dev_state(did))
            time.sleep(0.25)
        check(states == {"online"}, "states over 11 s:", states)
        losses = [l for l in srv.logs(did) if l["event"] == "heartbeat_loss"]
        check(not losses, "heartbeat losses:", losses)
        check(ctl.log().count("successfully receive pong") >= 2, "fewer than 2 pongs logged")
        # an order still works after all that
        st, r = srv.api.post("give_order", {"device_id": did, "order": "test_order",
                                            "params": {"SomethingToPrint": "again"}})
        check(st == 200, st, r)
        wait_until(lambda: "again" in ctl.stdout().splitlines(), 3, what='"again" printed')
        print("seed controller flow took %.1fs" % (time.monotonic() - t_start))
        ok = True
    finally:
        ctl.stop()
        if not ok:
            ctl.dump()


if __name__ == "__main__":
    T.main()
