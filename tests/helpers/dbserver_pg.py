# SPDX-License-Identifier: MIT
"""dbserver_pg.py -- a throw-away PostgreSQL server for the tests of the PostgreSQL store
(src/store/store_pg.c, docs/store.md#postgresql-tests).

The server runs from Debian's binaries (/usr/lib/postgresql/<version>/bin, or $EF_PG_BINDIR) in a
temporary directory, on a free port of 127.0.0.1 (TCP) and a Unix socket inside that directory,
as an unprivileged user: PostgreSQL refuses to run as root, so under root (CI) every server
process runs as `nobody` (the directory is chowned to it), its privileges dropped in the child
before exec, as `setpriv --reuid` would. A postmaster started from the main thread gets a
parent-death signal, so a test killed outright does not leave a server behind (from another
thread it does not: the signal would come when that thread ends, prctl(2)); an atexit hook
stops what is still running.

* `PgServer(tmpdir)`: `.start()` (initdb on the first start; returns once the server accepts
  connections; raises `Unavailable(reason)` when the binaries or the unprivileged user are
  missing), `.url` (postgresql://ef:PASSWORD@127.0.0.1:PORT/ef, a role with a password and the
  database it owns; the password needs percent-encoding), `.url_for(dbname)`,
  `.create_database(name)` (owned by that role), `.reset()` (empties database `ef`: drops and
  recreates its schema `public`), `.stop()` (fast shutdown; the data stays, `.start()` again
  restarts it on the same port), `.kill()` (SIGKILL of the postmaster and its children: a crash),
  `.enable_tls(certfile, keyfile)` (before or after start: the server then accepts TLS), and
  `.psql(sql, dbname=...)` (run SQL as the superuser over the socket). A context manager.
* `make_tls(dir)`: a throw-away CA, a server certificate for 127.0.0.1 signed by it, and a
  second unrelated CA, made with `openssl`: returns {"ca", "cert", "key", "wrong_ca"} paths.
* Command line: `python3 dbserver_pg.py run [--tls] -- CMD ARGS...` starts a server in a fresh
  temporary directory, runs CMD with EF_STORE_URL (its URL), EF_STORE_RESET (a shell command
  that empties that database: psql), EF_PG_STOP, EF_PG_START, EF_PG_KILL (shell commands that
  stop, start and SIGKILL the server, answered by this process while CMD runs) and, with --tls,
  EF_PG_CA and EF_PG_WRONG_CA (root certificates: the server's CA, an unrelated one); then stops
  the server, removes the directory and exits with CMD's status, or 77 (ctest's skip) with the
  reason printed when no server can be started.

Standard library only. tests/helpers/dbserver_mysql.py offers the same interface for MariaDB.
"""
import atexit
import ctypes
import glob
import os
import pwd
import re
import secrets
import selectors
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROLE = "ef"
DBNAME = "ef"
SUPERUSER = "postgres"
START_TIMEOUT = 30.0


class Unavailable(Exception):
    """No server can be run here (binaries or the unprivileged user missing)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


_servers = []


@atexit.register
def _stop_leftovers():
    for srv in _servers:
        try:
            srv.stop(timeout=10)
        except Exception:  # noqa: B902 -- best effort at exit
            pass


def find_bindir():
    """The directory holding initdb and postgres: $EF_PG_BINDIR, the newest
    /usr/lib/postgresql/<version>/bin, or the one of `postgres` on PATH."""
    cands = []
    if os.environ.get("EF_PG_BINDIR"):
        cands.append(os.environ["EF_PG_BINDIR"])

    def version(p):
        m = re.search(r"/postgresql/(\d+)/bin$", p)
        return int(m.group(1)) if m else 0
    cands += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    found = shutil.which("postgres")
    if found:
        cands.append(os.path.dirname(found))
    for d in cands:
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("initdb", "postgres")):
            return d
    raise Unavailable("PostgreSQL server binaries (initdb, postgres) not found in %s; install "
                      "postgresql-15 or set EF_PG_BINDIR" % (", ".join(cands) or
                                                            "/usr/lib/postgresql/*/bin"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sql_literal(s):
    return "'" + s.replace("'", "''") + "'"


class PgServer:
    """One PostgreSQL server in `tmpdir` (which the caller creates and removes)."""

    def __init__(self, tmpdir):
        self.dir = os.path.abspath(tmpdir)
        self.data = os.path.join(self.dir, "pgdata")
        self.sockdir = os.path.join(self.dir, "sock")
        self.logfile = os.path.join(self.dir, "postgres.log")
        self.port = None
        # A password that needs percent-encoding in a URL (and quoting in SQL).
        self.password = "pw-" + secrets.token_hex(8) + "/:@'%"
        self.proc = None
        self.tls = None
        self.bindir = None
        self._uid = self._gid = None
        _servers.append(self)

    # -- the unprivileged user --
    def _account(self):
        if os.geteuid() != 0:
            return
        try:
            pw = pwd.getpwnam("nobody")
        except KeyError:
            raise Unavailable("running as root, and there is no user `nobody` to run "
                              "PostgreSQL as") from None
        self._uid, self._gid = pw.pw_uid, pw.pw_gid

    def _preexec(self, deathsig=False):
        uid, gid = self._uid, self._gid
        prctl = ctypes.CDLL(None, use_errno=True).prctl if deathsig else None

        def fn():
            os.setsid()
            if uid is not None:
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
            os.umask(0o077)
            if prctl:  # after setuid, which clears it (prctl(2))
                prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        return fn

    def _chown(self, path):
        if self._uid is None:
            return
        for root, dirs, files in os.walk(path):
            os.chown(root, self._uid, self._gid)
            for f in files:
                os.chown(os.path.join(root, f), self._uid, self._gid)

    def _run_as(self, args, what):
        r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           preexec_fn=self._preexec(), env=self._env())
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (what, r.returncode, r.stdout, r.stderr))
        return r

    def _env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update({"LC_ALL": "C", "LANG": "C", "HOME": self.dir})
        return env

    # -- life --
    def _initdb(self):
        self.bindir = find_bindir()
        self._account()
        os.makedirs(self.sockdir, exist_ok=True)
        if self._uid is not None:
            os.chmod(self.dir, 0o755)
            d = os.path.dirname(self.dir)
            while d != "/":  # nobody must reach the directory
                if not os.stat(d).st_mode & 0o001:
                    raise RuntimeError("%s is not reachable by `nobody` (%s has no x bit for "
                                       "others): use a temporary directory under /tmp (TMPDIR)"
                                       % (self.dir, d))
                d = os.path.dirname(d)
        self._chown(self.dir)
        self._run_as([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", SUPERUSER,
                      "-E", "UTF8", "--no-locale", "--auth-local=trust",
                      "--auth-host=scram-sha-256", "--no-sync"], "initdb")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# tests/helpers/dbserver_pg.py\n"
                    "listen_addresses = '127.0.0.1'\n"
                    "unix_socket_directories = '%s'\n"
                    # Fast and still safe for what tests do: a killed server loses nothing
                    # committed (the page cache survives it), only a crashed machine would.
                    "fsync = off\nfull_page_writes = off\n"
                    "max_connections = 40\nshared_buffers = 16MB\n"
                    "log_min_messages = warning\nlog_connections = off\n"
                    "include_if_exists = 'edgefleet-tls.conf'\n" % self.sockdir)
        self._write_tls_conf()

    def _write_tls_conf(self):
        path = os.path.join(self.data, "edgefleet-tls.conf")
        with open(path, "w") as f:
            if self.tls:
                f.write("ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n" % self.tls)
            else:
                f.write("ssl = off\n")
        self._chown(path)

    def enable_tls(self, certfile, keyfile):
        """Serve TLS with this certificate and key (copied beside the data). Applied at once
        when the server runs (a reload), else at its start."""
        tlsdir = os.path.join(self.dir, "tls")
        os.makedirs(tlsdir, exist_ok=True)
        cert, key = os.path.join(tlsdir, "server.crt"), os.path.join(tlsdir, "server.key")
        shutil.copyfile(certfile, cert)
        shutil.copyfile(keyfile, key)
        os.chmod(key, 0o600)
        self._chown(tlsdir)
        self.tls = (cert, key)
        if os.path.isdir(self.data):
            self._write_tls_conf()
        if self.running():
            os.kill(self.proc.pid, signal.SIGHUP)
            time.sleep(0.5)  # the postmaster reloads asynchronously

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        first = not os.path.isdir(self.data)
        if first:
            self._initdb()
        if self.running():
            return self
        tries = 3 if self.port is None else 1
        for attempt in range(tries):
            port = self.port or free_port()
            try:
                self._spawn(port)
                self.port = port
                break
            except RuntimeError:
                if attempt + 1 == tries or "could not bind" not in self.log_tail():
                    raise
        if first:
            self.psql("CREATE ROLE %s LOGIN CREATEDB PASSWORD %s" % (ROLE,
                                                                     _sql_literal(self.password)))
            self.create_database(DBNAME)
        return self

    def _spawn(self, port):
        log = open(self.logfile, "ab")
        try:
            self.proc = subprocess.Popen(
                [os.path.join(self.bindir, "postgres"), "-D", self.data, "-p", str(port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self._env(),
                preexec_fn=self._preexec(
                    deathsig=threading.current_thread() is threading.main_thread()))
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError("postgres exited at start:\n" + self.log_tail())
            if self._accepts(port):
                return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("postgres did not accept connections within %.0fs:\n%s"
                           % (START_TIMEOUT, self.log_tail()))

    def _accepts(self, port):
        r = subprocess.run([self._tool("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port),
                            "-t", "1"], env=self._env(), capture_output=True)
        return r.returncode == 0

    def _tool(self, name):
        p = os.path.join(self.bindir or find_bindir(), name)
        return p if os.access(p, os.X_OK) else (shutil.which(name) or name)

    def stop(self, timeout=30.0):
        """Fast shutdown (SIGINT: sessions are ended, 57P01); the data stays."""
        if not self.running():
            self.proc = None
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self.proc = None

    def kill(self):
        """SIGKILL of the postmaster and of every process it started: the server crashes
        (the next start recovers)."""
        if not self.running():
            self.proc = None
            return
        pid = self.proc.pid
        children = self._children(pid)
        os.kill(pid, signal.SIGKILL)
        self.proc.wait()
        for c in children:
            try:
                os.kill(c, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while any(os.path.exists("/proc/%d" % c) for c in children) and \
                time.monotonic() < deadline:
            time.sleep(0.02)
        self.proc = None

    @staticmethod
    def _children(pid):
        out = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(stat) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(stat.split("/")[2]))
        return out

    def log_tail(self, lines=30):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- use --
    def url_for(self, dbname):
        return "postgresql://%s:%s@127.0.0.1:%d/%s" % (
            ROLE, urllib.parse.quote(self.password, safe=""), self.port, dbname)

    @property
    def url(self):
        return self.url_for(DBNAME)

    def psql(self, sql, dbname="postgres"):
        """Run `sql` as the superuser over the Unix socket; returns psql's output."""
        r = subprocess.run([self._tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-h", self.sockdir, "-p", str(self.port), "-U", SUPERUSER,
                            "-d", dbname, "-c", sql],
                           env=dict(self._env(), PGOPTIONS="-c client_min_messages=warning"),
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError("psql %r failed: %s" % (sql, r.stderr.strip()))
        return r.stdout

    def create_database(self, name):
        self.psql('CREATE DATABASE "%s" OWNER %s' % (name, ROLE))

    def reset(self):
        self.psql(RESET_SQL, dbname=DBNAME)


# What EF_STORE_RESET and reset() run: every object of the store gone (the schema `public` is
# dropped and made again, owned by the role that uses it).
RESET_SQL = ("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public AUTHORIZATION %s"
             % ROLE)


def make_tls(d):
    """A CA, a server certificate and key for 127.0.0.1 (CN and IP SAN) signed by it, and a
    second CA that signed nothing, in directory d (made with `openssl`)."""
    os.makedirs(d, exist_ok=True)

    def ossl(*args):
        r = subprocess.run(["openssl", *args], cwd=d, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError("openssl %s: %s" % (" ".join(args), r.stderr))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "wrong-ca"):
        ossl("req", "-x509", *ec, "-keyout", ca + ".key", "-out", ca + ".crt", "-days", "2",
             "-subj", "/CN=edgefleet test %s" % ca)
    ossl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.crt")
    return {k: os.path.join(d, v) for k, v in (("ca", "ca.crt"), ("cert", "server.crt"),
                                                ("key", "server.key"),
                                                ("wrong_ca", "wrong-ca.crt"))}


# ---------------------------------------------------------------------------------------------
# The command line

def _serve_control(srv, sock, done):
    """Answer one control request ("stop", "start", "kill") on the listening socket."""
    conn, _ = sock.accept()
    with conn:
        req = conn.recv(64).decode().strip()
        try:
            if req == "stop":
                srv.stop()
            elif req == "start":
                srv.start()
            elif req == "kill":
                srv.kill()
            else:
                raise ValueError("unknown request %r" % req)
            conn.sendall(b"ok\n")
        except Exception as e:  # noqa: B902 -- the answer carries it
            conn.sendall(("error: %s\n" % e).encode())


def _ctl(path, req):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(60)
        s.connect(path)
        s.sendall(req.encode() + b"\n")
        ans = s.recv(4096).decode().strip()
    if ans != "ok":
        print("dbserver_pg: %s: %s" % (req, ans), file=sys.stderr)
        return 1
    return 0


def _run(tls, cmd):
    tmp = tempfile.mkdtemp(prefix="ef-pg-")
    srv = PgServer(tmp)
    try:
        try:
            if tls:
                paths = make_tls(os.path.join(tmp, "pki"))
                srv.enable_tls(paths["cert"], paths["key"])
            srv.start()
        except Unavailable as e:
            print("dbserver_pg: SKIP: %s" % e.reason, flush=True)
            return 77
        ctl_path = os.path.join(tmp, "ctl.sock")
        ctl = socket.socket(socket.AF_UNIX)
        ctl.bind(ctl_path)
        ctl.listen(4)
        me = [sys.executable, os.path.abspath(__file__), "ctl", ctl_path]
        env = dict(os.environ)
        env.update({
            "EF_STORE_URL": srv.url,
            "EF_STORE_RESET": "PGOPTIONS='-c client_min_messages=warning' %s -X -q "
                              "-v ON_ERROR_STOP=1 -d \"$EF_STORE_URL\" -c %s" % (
                                  shlex.quote(srv._tool("psql")), shlex.quote(RESET_SQL)),
            "EF_PG_STOP": shlex.join(me + ["stop"]),
            "EF_PG_START": shlex.join(me + ["start"]),
            "EF_PG_KILL": shlex.join(me + ["kill"]),
        })
        if tls:
            env.update({"EF_PG_CA": paths["ca"], "EF_PG_WRONG_CA": paths["wrong_ca"]})
        try:
            child = subprocess.Popen(cmd, env=env)
        except OSError as e:
            print("dbserver_pg: cannot run %s: %s" % (cmd[0], e), flush=True)
            return 127
        sel = selectors.DefaultSelector()
        sel.register(ctl, selectors.EVENT_READ)
        try:
            while child.poll() is None:
                for _key, _ in sel.select(0.1):
                    _serve_control(srv, ctl, child)
        except KeyboardInterrupt:
            child.kill()
        finally:
            sel.close()
            ctl.close()
        rc = child.wait()
        if rc != 0:
            print("---- postgres.log (tail) ----\n%s----" % srv.log_tail(), flush=True)
        return rc
    finally:
        try:
            srv.stop()
        finally:
            if not os.environ.get("EF_KEEP"):
                shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    usage = ("usage: dbserver_pg.py run [--tls] -- CMD ARGS...\n"
             "       dbserver_pg.py ctl SOCKET stop|start|kill")
    if len(argv) >= 2 and argv[0] == "run":
        tls = "--tls" in argv[1:argv.index("--")] if "--" in argv else False
        if "--" not in argv or argv.index("--") == len(argv) - 1:
            print(usage, file=sys.stderr)
            return 2
        # A SIGTERM (ctest's timeout) ends the run through its finally clauses.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        return _run(tls, argv[argv.index("--") + 1:])
    if len(argv) == 3 and argv[0] == "ctl":
        return _ctl(argv[1], argv[2])
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
