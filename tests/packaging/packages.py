#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""packages.py [--arch ARCH] -- `make test-packages`: the Debian packages in dist/ (make deb),
installed on THIS machine with apt-get, run as their systemd units say, and purged.

Needs root (the Makefile uses sudo otherwise); meant for CI's throw-away machine or a
developer's own. Steps, each printed with what it checked:

  1. purge any edgefleet package left from an earlier run; apt-get install ./dist/*.deb (the five
     packages of ARCH; with policy-rc.d saying "do not start" when systemd runs, so that the
     service does not start on its own and the test starts it below, as on a machine without
     systemd)
  2. what the packages put in place: the user edgefleet, /var/lib/edgefleet with the database
     and admin.token made by the postinst (edgefleetd --init), the conffiles, the dashboard,
     --version of each program, the man pages through `man`, a program built against
     libedgefleet-dev with pkg-config, `systemd-analyze verify` of the installed units
  3. edgefleetd started as edgefleetd.service says (ExecStart, User=, Group=,
     WorkingDirectory=, UMask=; plus --listen 127.0.0.1:0, as this machine may already serve
     9090), the dashboard loaded at / and compared with the installed files, a device
     registered with the installed edgefleetctl (which finds the admin token by itself), the
     installed agent started as edgefleet-agent.service says with that device's identity, seen
     online; an order from its installed config (say), and the `restart` order: the agent
     re-executes itself in place (same PID) and logs in again
  4. apt-get remove: programs gone, conffiles, user and data kept; apt-get purge: all gone.
"""
import argparse
import grp
import json
import os
import pwd
import re
import shlex
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGES = ["libedgefleet0", "libedgefleet-dev", "edgefleetctl", "edgefleetd", "edgefleet-agent"]
DATA = "/var/lib/edgefleet"
AGENT_DATA = "/var/lib/edgefleet-agent"
SN, MODEL, PASSWORD = "PKG-TEST-1", "package-test", "package-test-password"
POLICY_RC_D = "/usr/sbin/policy-rc.d"

procs = []          # processes this test started (stopped on the way out)
own_policy = False  # whether this test wrote policy-rc.d (removed on the way out)
t0 = time.monotonic()


def say(msg):
    print(msg, flush=True)


def step(msg):
    say("\n== [%5.1fs] %s" % (time.monotonic() - t0, msg))


def ok(msg):
    say("ok: " + msg)


class Failed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failed(msg)
    ok(msg)


def run(cmd, check_rc=True, show=True, env=None, **kw):
    say("$ " + " ".join(shlex.quote(c) for c in cmd))
    p = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=env, **kw)
    if show and p.stdout.strip():
        say(p.stdout.rstrip())
    if check_rc and p.returncode != 0:
        if not show:
            say(p.stdout.rstrip())
        raise Failed("%s exited %d" % (cmd[0], p.returncode))
    return p


def apt(*args):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return run(["apt-get", "-y", "-q", "-o", "Dpkg::Use-Pty=0"] + list(args), env=env)


def installed(pkg):
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], text=True,
                       capture_output=True)
    return p.returncode == 0 and p.stdout.strip().endswith(" installed")


def known(pkg):
    """dpkg knows the package in any state (installed, config-files)."""
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], text=True,
                       capture_output=True)
    return p.returncode == 0 and "not-installed" not in p.stdout


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def unit(path):
    """The [Service] settings of a unit file, as {key: [values]}."""
    out, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]" and "=" in line:
                k, v = line.split("=", 1)
                out.setdefault(k.strip(), []).append(v.strip())
    return out


def unit_dir():
    for d in ("/lib/systemd/system", "/usr/lib/systemd/system"):
        if os.path.exists(os.path.join(d, "edgefleetd.service")):
            return d
    raise Failed("edgefleetd.service is not installed in /lib or /usr/lib/systemd/system")


def start_as_unit(u, extra, log_path, state_dir):
    """Start a program as systemd would from unit `u` (ExecStart, User=, Group=,
    WorkingDirectory=, UMask=, StateDirectory=), with `extra` arguments appended."""
    argv = shlex.split(u["ExecStart"][0]) + extra
    user = u.get("User", [None])[0]
    group = u.get("Group", [user])[0]
    mode = int(u.get("StateDirectoryMode", ["0755"])[0], 8)
    pw = pwd.getpwnam(user) if user else None
    if not os.path.isdir(state_dir):
        os.makedirs(state_dir, mode)
    if pw:
        os.chown(state_dir, pw.pw_uid, grp.getgrnam(group).gr_gid)
    os.chmod(state_dir, mode)
    cwd = u.get("WorkingDirectory", ["/"])[0].replace("%S", "/var/lib")
    umask = int(u.get("UMask", ["0022"])[0], 8)

    def become():
        os.umask(umask)
        if pw:
            os.setgid(grp.getgrnam(group).gr_gid)
            os.initgroups(user, grp.getgrnam(group).gr_gid)
            os.setuid(pw.pw_uid)

    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    say("$ (User=%s, WorkingDirectory=%s, UMask=%04o) %s" % (
        user or "root", cwd, umask, " ".join(shlex.quote(a) for a in argv)))
    log = open(log_path, "wb")
    p = subprocess.Popen(argv, cwd=cwd, env=env, preexec_fn=become, stdin=subprocess.DEVNULL,
                         stdout=log, stderr=log)
    procs.append(p)
    return p


def read(path):
    with open(path, "rb") as f:
        return f.read()


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise Failed("%s: not within %.0f s" % (what, timeout))


def http_get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read()


def stop(p, name):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise Failed("%s did not stop within 15 s of SIGTERM" % name)
    return p.returncode


def main():
    global own_policy
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default=subprocess.run(["dpkg", "--print-architecture"], text=True,
                                                     capture_output=True).stdout.strip())
    args = ap.parse_args()
    host = subprocess.run(["dpkg", "--print-architecture"], text=True,
                          capture_output=True).stdout.strip()
    if args.arch != host:
        say("test-packages installs and runs packages of this machine's architecture (%s), not %s "
            "(make deb ARCH=%s checks those with lintian; docs/cross.md runs the ARM agent under "
            "qemu)" % (host, args.arch, args.arch))
        sys.exit(2)
    if os.geteuid() != 0:
        raise Failed("run as root: it installs packages (make test-packages uses sudo)")
    version = None
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        version = re.search(r"project\(edgefleet VERSION ([0-9.]+)", f.read()).group(1)
    debs = [os.path.join(ROOT, "dist", "%s_%s_%s.deb" % (p, version, args.arch)) for p in PACKAGES]
    for d in debs:
        check(os.path.exists(d), "%s built (make deb)" % os.path.relpath(d, ROOT))

    # ---- 1. install
    step("1. install the packages")
    left = [p for p in PACKAGES if known(p)]
    if left:
        say("purging packages left from an earlier run: " + " ".join(left))
        apt("purge", *left)
    if os.path.isdir("/run/systemd/system") and not os.path.exists(POLICY_RC_D):
        # systemd runs here: the postinst would start edgefleetd.service on 127.0.0.1:9090.
        # The test starts the programs itself below, as on a machine without systemd.
        with open(POLICY_RC_D, "w") as f:
            f.write("#!/bin/sh\n# written by edgefleet's tests/packaging/packages.py\nexit 101\n")
        os.chmod(POLICY_RC_D, 0o755)
        own_policy = True
        say("systemd runs here: %s says 'do not start' during the installation" % POLICY_RC_D)
    apt("install", "--no-install-recommends", *debs)
    for p in PACKAGES:
        check(installed(p), "%s installed" % p)
    wants = "/etc/systemd/system/multi-user.target.wants/"
    check(os.path.islink(wants + "edgefleetd.service") and
          not os.path.lexists(wants + "edgefleet-agent.service"),
          "edgefleetd.service enabled, edgefleet-agent.service not (it needs its config first)")

    # ---- 2. what the packages put in place
    step("2. the installed files, user, data dir, man pages, library, units")
    pw = pwd.getpwnam("edgefleet")
    check(pw.pw_dir == DATA and pw.pw_shell.endswith("nologin") and pw.pw_uid < 1000,
          "system user edgefleet (uid %d, home %s, shell %s)" % (pw.pw_uid, pw.pw_dir, pw.pw_shell))
    st = os.stat(DATA)
    check(st.st_uid == pw.pw_uid and stat.S_IMODE(st.st_mode) == 0o750,
          "%s owned by edgefleet, mode 0750" % DATA)
    tok = os.stat(os.path.join(DATA, "admin.token"))
    check(tok.st_uid == pw.pw_uid and stat.S_IMODE(tok.st_mode) == 0o600,
          "the postinst made %s/admin.token (edgefleetd --init), edgefleet's, mode 0600" % DATA)
    check(os.path.exists(os.path.join(DATA, "edgefleet.db")), "and the database edgefleet.db")
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}\n", "edgefleetd", "edgefleet-agent"]).stdout
    for c in ("/etc/edgefleet/edgefleetd.conf", "/etc/edgefleet/edgefleet-agent.conf"):
        check(c in conffiles, "%s is a conffile" % c)
    ast = os.stat("/etc/edgefleet/edgefleet-agent.conf")
    check(ast.st_uid == 0 and stat.S_IMODE(ast.st_mode) == 0o600,
          "edgefleet-agent.conf (the device password) is root's, mode 0600")
    check(os.path.exists("/usr/share/edgefleet/web/index.html"), "dashboard in /usr/share/edgefleet/web")
    for prog, path in (("edgefleetd", "/usr/sbin/edgefleetd"),
                       ("edgefleet-agent", "/usr/sbin/edgefleet-agent"),
                       ("edgefleetctl", "/usr/bin/edgefleetctl")):
        out = run([path, "--version"]).stdout
        check(out.startswith("%s %s" % (prog, version)), "%s --version: %s" % (prog, out.strip()))
    # the installed defaults without --config: /etc/edgefleet/edgefleetd.conf, /var/lib/edgefleet
    out = run(["runuser", "-u", "edgefleet", "--", "/usr/sbin/edgefleetd", "--init"]).stdout
    check("config /etc/edgefleet/edgefleetd.conf" in out and "data_dir=" + DATA in out,
          "edgefleetd without --config reads /etc/edgefleet/edgefleetd.conf, data_dir " + DATA)
    for page, want in (("edgefleetd", "EDGEFLEETD(8)"), ("edgefleetd.conf", "EDGEFLEETD.CONF(5)"),
                       ("edgefleet-agent", "EDGEFLEET-AGENT(8)"),
                       ("edgefleet-agent.conf", "EDGEFLEET-AGENT.CONF(5)"),
                       ("edgefleetctl", "EDGEFLEETCTL(1)")):
        where = run(["man", "-w", page], show=False).stdout.strip()
        text = subprocess.run(["man", page], text=True, capture_output=True,
                              env=dict(os.environ, MANWIDTH="100", MANPAGER="cat", PAGER="cat")).stdout
        check(where.startswith("/usr/share/man/") and want in text,
              "man %s shows %s (%d lines)" % (page, where, text.count("\n")))
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "v.c")
        with open(src, "w") as f:
            f.write('#include <stdio.h>\n#include <edgefleet/edge.h>\n'
                    'int main(void) {\n  ef_client *c;\n  if (ef_client_new(&c) != 0) return 1;\n'
                    '  ef_client_free(&c);\n'
                    '  printf("%s %s %d\\n", EF_VERSION_STRING, ef_version(), EF_VERSION_MAJOR);\n'
                    '  return 0;\n}\n')
        flags = run(["pkg-config", "--cflags", "--libs", "edgefleet"]).stdout.split()
        run(["cc", "-Wall", "-Werror", "-o", os.path.join(d, "v"), src] + flags)
        out = run([os.path.join(d, "v")]).stdout.split()
        check(out[:2] == [version, version],
              "a program built with pkg-config edgefleet runs: headers %s, ef_version() %s"
              % (out[0], out[1]))
    udir = unit_dir()
    units = [os.path.join(udir, u) for u in ("edgefleetd.service", "edgefleet-agent.service")]
    say("systemd-analyze verify of the installed units:")
    p = run(["systemd-analyze", "verify", "--man=no"] + units, check_rc=False)
    check(p.returncode == 0 and not p.stdout.strip(),
          "systemd-analyze verify: both installed units are valid (no output)")
    sec = subprocess.run(["systemd-analyze", "security", "--offline=yes", units[0]], text=True,
                         capture_output=True).stdout.strip().splitlines()
    say("systemd-analyze security --offline=yes edgefleetd.service: " + (sec[-1] if sec else "?"))

    # ---- 3. run them
    step("3. edgefleetd and edgefleet-agent as their units start them")
    su = unit(units[0])
    check(su["Type"][0] in ("notify", "exec"), "edgefleetd.service: Type=%s" % su["Type"][0])
    log = tempfile.NamedTemporaryFile(prefix="ef-pkg-edgefleetd-", suffix=".log", delete=False).name
    srv = start_as_unit(su, ["--listen", "127.0.0.1:0"], log, DATA)

    def ready():
        if srv.poll() is not None:
            raise Failed("edgefleetd exited %s:\n%s" % (srv.returncode, read(log).decode()))
        m = re.search(rb"ready port=(\d+)", read(log))
        return int(m.group(1)) if m else None
    port = wait_for(ready, 30, "edgefleetd's 'ready port=' line")
    say(read(log).decode().rstrip())
    with open("/proc/%d/status" % srv.pid) as f:
        uid = int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))
    check(uid == pw.pw_uid, "edgefleetd runs as edgefleet (uid %d), ready on port %d" % (uid, port))
    base = "http://127.0.0.1:%d" % port
    status, body = http_get(base + "/")
    check(status == 200 and body == read("/usr/share/edgefleet/web/index.html"),
          "GET / is the installed /usr/share/edgefleet/web/index.html (%d bytes)" % len(body))
    status, body = http_get(base + "/js/app.js")
    check(status == 200 and body == read("/usr/share/edgefleet/web/js/app.js"),
          "GET /js/app.js is the installed file")
    status, body = http_get(base + "/vendor/chart.js/chart.min.js")
    check(status == 200 and body == read("/usr/share/javascript/chart.js/chart.min.js"),
          "GET /vendor/chart.js/chart.min.js is libjs-chart.js' file (a Depends)")

    ctl = ["edgefleetctl", "--server", base]
    out = run(ctl + ["-v", "device", "add", "--sn", SN, "--model", MODEL, "--password", PASSWORD,
                     "--name", "package test"]).stdout
    check("token from %s/admin.token" % DATA in out,
          "edgefleetctl found the admin token in %s/admin.token by itself" % DATA)
    ids = [line.strip() for line in out.splitlines() if line.strip().isdigit()]
    check(len(ids) == 1, "device %s registered through the REST API" % (ids or ["?"])[0])
    dev = ids[0]

    au = unit(units[1])
    check(au["Type"][0] == "exec" and "User" not in au,
          "edgefleet-agent.service: Type=exec, as root (custom orders)")
    alog = tempfile.NamedTemporaryFile(prefix="ef-pkg-agent-", suffix=".log", delete=False).name
    agent = start_as_unit(au, ["--server", "ws://127.0.0.1:%d/ws" % port, "--sn", SN,
                               "--model", MODEL, "--password", PASSWORD], alog, AGENT_DATA)

    def state():
        if agent.poll() is not None:
            raise Failed("edgefleet-agent exited %s:\n%s" % (agent.returncode, read(alog).decode()))
        out = subprocess.run(ctl + ["--json", "device", "show", dev], text=True,
                             capture_output=True).stdout
        try:
            return json.loads(out).get("dev_state")
        except ValueError:
            return None
    wait_for(lambda: state() == "online", 30, "the agent's device online")
    check(True, "the installed agent logged in: device %s is online" % dev)
    check(os.path.exists(os.path.join(AGENT_DATA, "session.json")),
          "the agent keeps its session token in its installed data_dir " + AGENT_DATA)
    out = run(ctl + ["order", dev, "say", "text=hello-from-the-package-test"]).stdout
    check("hello-from-the-package-test" in out, "order say (from the installed config) answered")

    logins = len(re.findall(rb"logged in", read(alog)))
    out = run(ctl + ["order", dev, "restart"]).stdout
    check("restart confirmed" in out, "order restart confirmed")
    wait_for(lambda: len(re.findall(rb"logged in", read(alog))) > logins, 30,
             "the agent's login after its restart")
    check(agent.poll() is None, "the agent re-executed itself in place: same PID %d, running"
          % agent.pid)
    check(b"restarting: exec" in read(os.path.join(AGENT_DATA, "device.log")),
          "its operation log says 'restarting: exec'")
    wait_for(lambda: state() == "online", 30, "the device online again after the restart")
    check(True, "device %s online again after the restart" % dev)
    say("agent log:\n" + read(alog).decode().rstrip())

    rc = stop(agent, "edgefleet-agent")
    check(rc == 0, "edgefleet-agent stopped by SIGTERM: exit 0")
    rc = stop(srv, "edgefleetd")
    check(rc == 0, "edgefleetd stopped by SIGTERM: exit 0")

    # ---- 4. remove, purge
    step("4. apt-get remove, then purge")
    wants = "/etc/systemd/system/multi-user.target.wants/"
    apt("remove", *PACKAGES)
    for p in PACKAGES:
        check(not installed(p), "%s removed" % p)
    for f in ("/usr/sbin/edgefleetd", "/usr/sbin/edgefleet-agent", "/usr/bin/edgefleetctl",
              "/usr/share/edgefleet/web/index.html"):
        check(not os.path.exists(f), "%s gone" % f)
    check(os.path.exists("/etc/edgefleet/edgefleetd.conf") and
          os.path.exists("/etc/edgefleet/edgefleet-agent.conf"), "conffiles kept after remove")
    check(user_exists("edgefleet") and os.path.exists(os.path.join(DATA, "admin.token")),
          "user edgefleet and %s kept after remove" % DATA)
    apt("purge", *[p for p in PACKAGES if known(p)])  # the others left nothing (no conffiles)
    for p in PACKAGES:
        check(not known(p), "%s purged" % p)
    check(not os.path.exists("/etc/edgefleet"), "/etc/edgefleet gone (conffiles purged)")
    check(not os.path.exists(DATA) and not os.path.exists(AGENT_DATA),
          "%s and %s gone" % (DATA, AGENT_DATA))
    check(not user_exists("edgefleet") and not group_exists("edgefleet"),
          "user and group edgefleet gone")
    check(not os.path.lexists(wants + "edgefleetd.service"), "edgefleetd.service's enablement gone")


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    if own_policy and os.path.exists(POLICY_RC_D):
        os.unlink(POLICY_RC_D)


if __name__ == "__main__":
    try:
        main()
    except Failed as e:
        say("\nFAIL: %s" % e)
        cleanup()
        left = [p for p in PACKAGES if known(p)]
        if left:
            say("purging what the test installed: " + " ".join(left))
            subprocess.run(["apt-get", "-y", "-q", "purge"] + left,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        sys.exit(1)
    cleanup()
    say("\nPASS: test-packages in %.0f s" % (time.monotonic() - t0))
