# SPDX-License-Identifier: MIT
"""dbserver_mysql.py -- a throw-away MariaDB server for the tests of the MariaDB/MySQL store
(src/store/store_mysql.c) and of `edgefleetctl import-seed`.

The server runs on 127.0.0.1 only, in a temporary directory, as an unprivileged user (`nobody`
when the tests run as root, else the caller), with the grant tables in force (no
--skip-grant-tables): the root account is reached over the server's unix socket only, and the
tests connect over TCP as the user `ef` with a password.

    srv = MariaDbServer(tmpdir)      # tls=(cert, key[, ca]) to serve TLS as well
    srv.start()                      # installs the datadir on the first start; Unavailable(reason)
    srv.url                          # mysql://ef:PASSWORD@127.0.0.1:PORT/ef
    srv.url_for("other")             # the same for another database
    srv.create_database("other")
    srv.reset()                      # empty the database `ef` (drop and create it)
    srv.sql("SELECT 1", db="ef")     # run SQL with the `mariadb` client as root; its stdout
    srv.stop()                       # SIGTERM, waits for the exit
    srv.kill()                       # SIGKILL
    srv.enable_tls(cert, key, ca)    # serve TLS from the next start()

Command line:

    python3 dbserver_mysql.py run -- CMD ARGS...

starts one in a fresh temporary directory, exports EF_STORE_URL (its url), EF_STORE_RESET (a
shell command emptying the database with the `mariadb` client), EF_MY_STOP / EF_MY_START (shell
commands stopping and starting that same server, for reconnect tests), EF_MY_DIR (the
directory), EF_MY_SOCKET (its unix socket) and, when openssl is there, EF_MY_TLS_CA and
EF_MY_TLS_OTHER_CA (the server also serves TLS with a certificate for 127.0.0.1 signed by the
first, throw-away CA; the second CA signed nothing: see make_test_tls), runs CMD, stops the server, removes the directory (EF_KEEP=1 keeps it) and exits with
CMD's status -- or 77 (ctest's SKIP_RETURN_CODE) with the reason printed when no server could be
started. `stop DIR` and `start DIR` act on the server of a `run` (what EF_MY_STOP/EF_MY_START
call).

A test server trades durability for start-up time: no binary log, no doublewrite, no fsync at
commit, a small buffer pool and redo log, no performance schema. The datadir is installed once
per directory; a later start() reuses it.
"""
import json
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PASSWORD_CHARS = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class Unavailable(Exception):
    """No MariaDB server can be started here (binaries missing, install failed): skip."""


def _which(name, extra=("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")):
    p = shutil.which(name)
    if p:
        return p
    for d in extra:
        c = os.path.join(d, name)
        if os.access(c, os.X_OK):
            return c
    return None


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid):
    """True while process pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class MariaDbServer:
    """One MariaDB server in directory `tmpdir` (created if missing; kept: the caller removes it).
    `tls` = (cert, key) or (cert, key, ca): PEM files the server presents (see enable_tls)."""

    def __init__(self, tmpdir, tls=None, port=None, password=None, database="ef"):
        self.dir = os.path.abspath(tmpdir)
        self.datadir = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "mysqld.sock")
        self.pidfile = os.path.join(self.dir, "mysqld.pid")
        self.logfile = os.path.join(self.dir, "mysqld.log")
        self.statefile = os.path.join(self.dir, "server.json")
        self.database = database
        self.port = port
        self.password = password
        self.tls = None
        self.proc = None
        self.pid = None
        if tls:
            self.enable_tls(*tls)
        self._load_state()
        if self.port is None:
            self.port = _free_port()
        if self.password is None:
            self.password = "".join(secrets.choice(PASSWORD_CHARS) for _ in range(20))

    # ----- state shared with `stop DIR` / `start DIR` -----
    def _load_state(self):
        try:
            with open(self.statefile) as f:
                st = json.load(f)
        except (OSError, ValueError):
            return
        self.port = self.port or st.get("port")
        self.password = self.password or st.get("password")
        self.database = st.get("database", self.database)
        if not self.tls and st.get("tls"):
            self.tls = tuple(st["tls"])

    def _save_state(self):
        tmp = self.statefile + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"port": self.port, "password": self.password, "database": self.database,
                       "tls": list(self.tls) if self.tls else None}, f)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.statefile)

    # ----- who runs it -----
    def _run_as(self):
        """The user the server runs as: nobody when we are root, else ourselves (None)."""
        if os.geteuid() != 0:
            return None
        return "nobody"

    def _chown_tree(self, path):
        user = self._run_as()
        if not user:
            return
        pw = pwd.getpwnam(user)
        for root, dirs, files in os.walk(path):
            os.chown(root, pw.pw_uid, pw.pw_gid)
            for n in files:
                os.chown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)

    def _binaries(self):
        server = _which("mariadbd") or _which("mysqld")
        install = _which("mariadb-install-db") or _which("mysql_install_db")
        client = _which("mariadb") or _which("mysql")
        missing = [n for n, p in (("mariadbd", server), ("mariadb-install-db", install),
                                  ("mariadb", client)) if not p]
        if missing:
            raise Unavailable("MariaDB binaries not found: %s (Debian: apt-get install "
                              "mariadb-server mariadb-client)" % ", ".join(missing))
        return server, install, client

    def _server_opts(self):
        opts = ["--no-defaults", "--datadir=" + self.datadir,
                "--bind-address=127.0.0.1", "--port=%d" % self.port,
                "--socket=" + self.socket, "--pid-file=" + self.pidfile,
                "--log-error=" + self.logfile,
                "--skip-name-resolve", "--skip-log-bin", "--skip-performance-schema",
                "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M",
                "--innodb-log-buffer-size=4M",
                "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
                "--innodb-flush-method=nosync", "--sync-frm=0",
                "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
                "--max-connections=50", "--max-allowed-packet=64M",
                "--loose-innodb-buffer-pool-dump-at-shutdown=0",
                "--loose-innodb-buffer-pool-load-at-startup=0",
                "--innodb-fast-shutdown=1"]
        user = self._run_as()
        if user:
            opts.append("--user=" + user)
        if self.tls:
            cert, key = self.tls[0], self.tls[1]
            opts += ["--ssl-cert=" + cert, "--ssl-key=" + key]
            if len(self.tls) > 2 and self.tls[2]:
                opts.append("--ssl-ca=" + self.tls[2])
        return opts

    # ----- the interface -----
    def enable_tls(self, cert, key, ca=None):
        """Serve TLS with this certificate and key (PEM; readable by the server's user) from the
        next start()."""
        self.tls = (os.path.abspath(cert), os.path.abspath(key)) + (
            (os.path.abspath(ca),) if ca else ())

    @property
    def url(self):
        return self.url_for(self.database)

    def url_for(self, dbname):
        return "mysql://ef:%s@127.0.0.1:%d/%s" % (self.password, self.port, dbname)

    def _install(self, install):
        os.makedirs(self.datadir, exist_ok=True)
        self._chown_tree(self.dir)
        cmd = [install, "--no-defaults", "--datadir=" + self.datadir,
               "--auth-root-authentication-method=normal", "--skip-test-db",
               "--skip-name-resolve", "--innodb-log-file-size=16M",
               "--innodb-buffer-pool-size=32M", "--innodb-doublewrite=0",
               "--innodb-flush-log-at-trx-commit=0", "--innodb-flush-method=nosync",
               "--skip-log-bin"]
        user = self._run_as()
        if user:
            cmd.append("--user=" + user)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                           cwd=self.dir)
        if r.returncode != 0:
            raise Unavailable("mariadb-install-db failed (%d): %s" % (
                r.returncode, r.stdout.decode(errors="replace")[-1500:]))

    def start(self, timeout=60.0):
        """Start the server (installing the datadir first if it has none) and wait until it
        accepts connections; the first start also creates the user `ef` and its database."""
        server, install, _client = self._binaries()
        os.makedirs(self.dir, exist_ok=True)
        first = not os.path.isdir(os.path.join(self.datadir, "mysql"))
        if first:
            self._install(install)
        self._chown_tree(self.dir)
        for stale in (self.socket, self.pidfile):
            try:
                os.unlink(stale)
            except FileNotFoundError:
                pass
        self._save_state()
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen([server] + self._server_opts(), stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, cwd=self.dir,
                                     start_new_session=True)
        log.close()
        self.pid = self.proc.pid
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise Unavailable("mariadbd exited with status %d: %s" % (
                    self.proc.returncode, self.log_tail()))
            if os.path.exists(self.socket) and self._ping():
                break
            if time.monotonic() > deadline:
                self.kill()
                raise Unavailable("mariadbd did not accept connections within %.0f s: %s" % (
                    timeout, self.log_tail()))
            time.sleep(0.05)
        if first:
            pw = self.password.replace("'", "''")
            self.sql("CREATE USER 'ef'@'127.0.0.1' IDENTIFIED BY '%s';"
                     "CREATE USER 'ef'@'localhost' IDENTIFIED BY '%s';"
                     "GRANT ALL PRIVILEGES ON *.* TO 'ef'@'127.0.0.1' WITH GRANT OPTION;"
                     "GRANT ALL PRIVILEGES ON *.* TO 'ef'@'localhost' WITH GRANT OPTION;"
                     "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4;" % (
                         pw, pw, self.database))
        return self

    def _ping(self):
        _s, _i, client = self._binaries()
        r = subprocess.run([client, "--no-defaults", "-uroot", "--socket=" + self.socket,
                            "--connect-timeout=2", "-e", "SELECT 1"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return r.returncode == 0

    def client_argv(self, db=None):
        """The `mariadb` command line connecting as root over the unix socket."""
        _s, _i, client = self._binaries()
        argv = [client, "--no-defaults", "-uroot", "--socket=" + self.socket, "--batch",
                "--skip-column-names"]
        if db:
            argv.append(db)
        return argv

    def sql(self, text, db=None, check=True):
        """Run SQL text as root; returns its stdout (tab-separated rows)."""
        r = subprocess.run(self.client_argv(db), input=text.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError("mariadb: %s" % r.stderr.decode(errors="replace").strip())
        return r.stdout.decode()

    def create_database(self, name):
        self.sql("CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4;" % name)

    def reset(self, name=None):
        """Empty the database (drop it and create it again)."""
        name = name or self.database
        self.sql("DROP DATABASE IF EXISTS `%s`; CREATE DATABASE `%s` CHARACTER SET utf8mb4;" % (
            name, name))

    def reset_command(self, name=None):
        """A shell command that does reset()."""
        name = name or self.database
        return "%s -e %s" % (" ".join(shlex.quote(a) for a in self.client_argv()), shlex.quote(
            "DROP DATABASE IF EXISTS `%s`; CREATE DATABASE `%s` CHARACTER SET utf8mb4;" % (
                name, name)))

    def _server_pid(self):
        if self.proc is not None and self.proc.poll() is None:
            return self.proc.pid
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def _wait_gone(self, pid, timeout):
        deadline = time.monotonic() + timeout
        while _alive(pid):
            if self.proc is not None and self.proc.pid == pid:
                try:
                    self.proc.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass
            else:
                time.sleep(0.05)
            if time.monotonic() > deadline:
                return False
        if self.proc is not None and self.proc.pid == pid:
            self.proc.wait()
        return True

    def stop(self, timeout=30.0):
        """SIGTERM (a clean shutdown) and wait for the exit; SIGKILL after timeout."""
        pid = self._server_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        if not self._wait_gone(pid, timeout):
            self.kill()

    def kill(self):
        pid = self._server_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        self._wait_gone(pid, 10.0)

    def log_tail(self, n=30):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"


def make_test_tls(dirpath, owner=None):
    """A throw-away CA, a server certificate it signed for 127.0.0.1 and localhost, and a second,
    unrelated CA, made with openssl in dirpath: {"ca", "cert", "key", "other_ca"} (PEM paths).
    owner: the user that must read the key (the server's). Unavailable when openssl is missing
    or fails."""
    openssl = _which("openssl")
    if not openssl:
        raise Unavailable("openssl not found")
    os.makedirs(dirpath, exist_ok=True)
    f = {n: os.path.join(dirpath, n + ".pem") for n in ("ca", "ca-key", "cert", "key", "csr",
                                                         "other_ca", "other_ca-key")}
    ext = os.path.join(dirpath, "san.cnf")
    with open(ext, "w") as fh:
        fh.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    steps = [
        [openssl, "req", "-x509"] + ec + ["-keyout", f["ca-key"], "-out", f["ca"], "-days", "2",
                                          "-subj", "/CN=edgefleet test CA"],
        [openssl, "req"] + ec + ["-keyout", f["key"], "-out", f["csr"], "-subj", "/CN=127.0.0.1"],
        [openssl, "x509", "-req", "-in", f["csr"], "-CA", f["ca"], "-CAkey", f["ca-key"],
         "-CAcreateserial", "-out", f["cert"], "-days", "2", "-extfile", ext],
        [openssl, "req", "-x509"] + ec + ["-keyout", f["other_ca-key"], "-out", f["other_ca"],
                                          "-days", "2", "-subj", "/CN=edgefleet other CA"],
    ]
    for cmd in steps:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=dirpath)
        if r.returncode != 0:
            raise Unavailable("openssl failed: %s" % r.stdout.decode(errors="replace")[-500:])
    if owner and os.geteuid() == 0:
        pw = pwd.getpwnam(owner)
        for n in ("cert", "key", "ca"):
            os.chown(f[n], pw.pw_uid, pw.pw_gid)
    os.chmod(dirpath, 0o755)
    return {"ca": f["ca"], "cert": f["cert"], "key": f["key"], "other_ca": f["other_ca"]}


def _main(argv):
    if len(argv) >= 2 and argv[0] in ("stop", "start", "kill"):
        srv = MariaDbServer(argv[1])
        if argv[0] == "start":
            try:
                srv.start()
            except Unavailable as e:
                print("dbserver_mysql: %s" % e, file=sys.stderr)
                return 1
            # Detach: the `run` wrapper stops it by its pid file.
        else:
            getattr(srv, argv[0])()
        return 0
    if not argv or argv[0] != "run" or "--" not in argv:
        print("usage: dbserver_mysql.py run -- CMD ARGS... | stop DIR | start DIR | kill DIR",
              file=sys.stderr)
        return 2
    cmd = argv[argv.index("--") + 1:]
    if not cmd:
        print("dbserver_mysql: no command after --", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="ef-mariadb-")
    os.chmod(tmp, 0o755)
    srv = MariaDbServer(tmp)
    tls = None
    try:
        tls = make_test_tls(os.path.join(tmp, "tls"), srv._run_as())
        srv.enable_tls(tls["cert"], tls["key"], tls["ca"])
    except Unavailable as e:
        print("dbserver_mysql: no TLS: %s" % e, flush=True)

    def on_signal(signum, _frame):  # ctest's timeout, ^C: still stop the server
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        try:
            t0 = time.monotonic()
            srv.start()
            print("dbserver_mysql: MariaDB on 127.0.0.1:%d started in %.1f s" % (
                srv.port, time.monotonic() - t0), flush=True)
        except Unavailable as e:
            print("dbserver_mysql: SKIP: %s" % e, flush=True)
            return 77
        me = [sys.executable, os.path.abspath(__file__)]
        env = dict(os.environ)
        env["EF_STORE_URL"] = srv.url
        env["EF_STORE_RESET"] = srv.reset_command()
        env["EF_MY_STOP"] = " ".join(shlex.quote(a) for a in me + ["stop", tmp])
        env["EF_MY_START"] = " ".join(shlex.quote(a) for a in me + ["start", tmp])
        env["EF_MY_DIR"] = tmp
        env["EF_MY_SOCKET"] = srv.socket
        if tls:
            env["EF_MY_TLS_CA"] = tls["ca"]
            env["EF_MY_TLS_OTHER_CA"] = tls["other_ca"]
        try:
            return subprocess.run(cmd, env=env).returncode
        except OSError as e:
            print("dbserver_mysql: cannot run %s: %s" % (cmd[0], e), file=sys.stderr)
            return 127
    finally:
        srv.stop()
        if os.environ.get("EF_KEEP"):
            print("dbserver_mysql: kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
