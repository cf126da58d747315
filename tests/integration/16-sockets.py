#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""16-sockets.py -- the socket options of connections edgefleetd accepts.

edgefleetd accepts connections itself and hands them to libwebsockets, so it must set what lws
sets on its own accepts: without TCP_NODELAY every response after the first on a keep-alive
HTTP connection waited ~40 ms (Nagle's algorithm meeting the client's delayed ACK).

The check reads the option on the server's own end of the connection: the socket is found
through /proc (its inode, from the connection's ports) and duplicated into this process with
pidfd_getfd(2), so the test sees exactly what the server set, not a timing.
"""
import ctypes
import os
import socket

from efharness import Suite, check, connect

suite = Suite("sockets", bcrypt_cost=4)

SYS_PIDFD_OPEN = 434
SYS_PIDFD_GETFD = 438
libc = ctypes.CDLL(None, use_errno=True)


def server_socket(pid, server_port, client_port):
    """A duplicate of the server's socket for the connection from client_port, or None."""
    inode = None
    for table in ("tcp", "tcp6"):
        with open("/proc/%d/net/%s" % (pid, table)) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local, remote = fields[1], fields[2]
                if (int(local.split(":")[1], 16) == server_port
                        and int(remote.split(":")[1], 16) == client_port):
                    inode = fields[9]
    check(inode, "no server socket for client port", client_port)
    for name in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, name))
        except OSError:
            continue
        if target == "socket:[%s]" % inode:
            pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
            check(pidfd >= 0, "pidfd_open:", os.strerror(ctypes.get_errno()))
            fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
            err = ctypes.get_errno()
            os.close(pidfd)
            check(fd >= 0, "pidfd_getfd:", os.strerror(err))
            return socket.socket(fileno=fd)
    raise AssertionError("socket inode %s not among the server's fds" % inode)


def nodelay(sock):
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


@suite.test
def http_connection_has_nodelay(srv):
    c = socket.create_connection(("127.0.0.1", srv.port))
    # A complete request, so the connection is past accept and in lws' hands.
    c.sendall(b"GET /service/devices_manage/device_query_all HTTP/1.1\r\nHost: x\r\n"
              b"Authorization: Bearer " + srv.token.encode() + b"\r\n\r\n")
    check(c.recv(4096).startswith(b"HTTP/1.1 200"), "no answer")
    s = server_socket(srv.proc.pid, srv.port, c.getsockname()[1])
    check(nodelay(s) != 0, "TCP_NODELAY not set on an accepted HTTP connection")
    check(s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM, "not TCP")
    flags = int(open("/proc/%d/fdinfo/%d" % (os.getpid(), s.fileno())).read()
                .split("flags:")[1].split()[0], 8)
    check(flags & os.O_NONBLOCK, "accepted socket is blocking")
    s.close()
    c.close()


@suite.test
async def websocket_connection_has_nodelay(srv):
    async with connect(srv.port) as dev:
        local = dev.ws.transport.get_extra_info("sockname")[1]
        s = server_socket(srv.proc.pid, srv.port, local)
        check(nodelay(s) != 0, "TCP_NODELAY not set on an accepted WebSocket connection")
        s.close()


if __name__ == "__main__":
    suite.main()
