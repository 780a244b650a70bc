"""The single-threaded helper that makes a lab's network namespaces inside the lab's user namespace.

Why a separate process: unshare(CLONE_NEWUSER) and setns() into a user namespace are refused to a
multithreaded process (EINVAL), and the worker (Celery pool, watcher threads) always is one. So one
helper per apply (never per namespace: its start-up is ~10 ms) enters or creates the lab's user
namespace once, then, for each request of K, calls unshare(CLONE_NEWNET) K times and hands back a file
descriptor of each new network namespace over its socket (SCM_RIGHTS). The root parent marks each
namespace from inside and only then gives it its /run/netns name (nsutil.created).

Run as `python -I -S nshelper.py SOCK_FD USERNS_FD` (USERNS_FD -1: create a new user namespace). It
imports only the standard library. Protocol on the SOCK_SEQPACKET socket: the helper sends `ready`
(or `E<errno> <text>`); then each message `<K>` from the parent is answered by one or more messages
`ok` carrying the fds (at most CHUNK per message), or by an error; an empty read ends it.
"""

from __future__ import annotations

import ctypes
import os
import socket
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CHUNK = 64  # fds per message (the kernel allows 253)


def _fail(sock: socket.socket, what: str) -> None:
    code = ctypes.get_errno()
    sock.send(f"E{code} {what}: {os.strerror(code)}".encode())


def main(argv: list[str]) -> int:
    sock = socket.socket(fileno=int(argv[1]))
    join = int(argv[2])
    libc = ctypes.CDLL(None, use_errno=True)
    if join >= 0:
        failed = libc.setns(join, CLONE_NEWUSER) != 0
        os.close(join)
    else:
        failed = libc.unshare(CLONE_NEWUSER) != 0
    if failed:
        _fail(sock, "entering the lab's user namespace" if join >= 0 else "creating the lab's user namespace")
        return 1
    sock.send(b"ready")
    while True:
        msg = sock.recv(32)
        if not msg:
            return 0
        count = int(msg)
        while count > 0:
            fds: list[int] = []
            for _ in range(min(count, CHUNK)):
                if libc.unshare(CLONE_NEWNET) != 0:
                    _fail(sock, "creating a network namespace")
                    return 1
                fds.append(os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC))
            socket.send_fds(sock, [b"ok"], fds)
            for fd in fds:
                os.close(fd)
            count -= len(fds)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
