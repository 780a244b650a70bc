"""Each lab's namespaces belong to a user namespace of the lab's own (one per deployment tag).

Why: a process that is root inside that user namespace (uid 0 there is the unprivileged host uid
`sandbox_uid`) holds CAP_NET_ADMIN over this lab's network namespaces and over nothing else on the
machine, so the terminal can give a learner a root shell in a lab that cannot reach the host's network,
another lab, or another install's namespaces. The root worker keeps doing all netlink, iptables and
sysctl work from the initial user namespace: root there has every capability in child namespaces.

`Maker` runs the single-threaded helper (nshelper.py) for the length of one apply and hands out new
network namespaces as file descriptors; `nsutil.created` names them once they are marked.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import subprocess
import sys
from pathlib import Path

NS_GET_USERNS = 0xB701  # _IO(0xb7, 0x1), linux/nsfs.h
NS_GET_OWNER_UID = 0xB704  # _IO(0xb7, 0x4)
DEFAULT_SANDBOX_UID = 424242
HELPER = Path(__file__).with_name("nshelper.py")
BATCH = 64  # namespaces asked of the helper at a time (fds held open at once)


def owning_userns(netns_path: str) -> int:
    """A new O_RDONLY fd of the user namespace that owns the network namespace at `netns_path`
    (e.g. /run/netns/nd-<tag>-<node>); the caller closes it. For the terminal: setns() into it, then
    into the netns, then drop to uid 0 there (the sandbox uid on the host)."""
    fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return fcntl.ioctl(fd, NS_GET_USERNS)
    finally:
        os.close(fd)


def _same_ns(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def is_initial(userns_fd: int) -> bool:
    """Whether a user namespace fd is the machine's own (the one this process runs in)."""
    return _same_ns(os.fstat(userns_fd), os.stat("/proc/self/ns/user"))


def userns_id(netns_path: str) -> tuple[int, int]:
    """(st_dev, st_ino) of the user namespace owning a network namespace: equal ids, same namespace."""
    fd = owning_userns(netns_path)
    try:
        st = os.fstat(fd)
    finally:
        os.close(fd)
    return st.st_dev, st.st_ino


def initial_id() -> tuple[int, int]:
    st = os.stat("/proc/self/ns/user")
    return st.st_dev, st.st_ino


def owner_uid(userns_fd: int) -> int:
    """The host uid that created the user namespace (root for the labs': a host process of the
    sandbox uid gains no capability in it)."""
    uid = bytearray(4)
    fcntl.ioctl(userns_fd, NS_GET_OWNER_UID, uid)
    return int.from_bytes(uid, sys.byteorder)


class HelperFailed(OSError):
    """The helper could not create or enter the user namespace, or a network namespace."""


class Maker:
    """One helper process: new network namespaces owned by one lab's user namespace.

    `join` names an existing namespace of the lab whose user namespace is reused (so that every
    namespace of a lab, whenever made, shares one); None, or a namespace owned by the machine's own
    user namespace, starts a new one mapped uid/gid 0 -> `uid`/`gid`."""

    def __init__(self, *, uid: int = DEFAULT_SANDBOX_UID, gid: int | None = None,
                 join: str | None = None) -> None:
        self.uid, self.gid, self.join = uid, uid if gid is None else gid, join
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.ready: list[int] = []
        self.joined = False

    def _start(self) -> socket.socket:
        userns = -1
        if self.join is not None:
            try:
                userns = owning_userns(self.join)
            except OSError:
                userns = -1
            if userns >= 0 and is_initial(userns):
                os.close(userns)
                userns = -1
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        fds = [theirs.fileno()] + ([userns] if userns >= 0 else [])
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(HELPER), str(theirs.fileno()), str(userns)],
                pass_fds=fds, stdin=subprocess.DEVNULL, close_fds=True)
        finally:
            theirs.close()
            if userns >= 0:
                os.close(userns)
        self.sock = ours
        self._expect(ours.recv(256))
        self.joined = userns >= 0
        if not self.joined:
            pid = self.proc.pid
            with open(f"/proc/{pid}/uid_map", "w") as f:
                f.write(f"0 {self.uid} 1\n")
            with open(f"/proc/{pid}/gid_map", "w") as f:
                f.write(f"0 {self.gid} 1\n")
        return ours

    @staticmethod
    def _expect(msg: bytes) -> None:
        if msg in (b"ready", b"ok"):
            return
        if msg.startswith(b"E"):
            code_text, _, text = msg[1:].decode(errors="replace").partition(" ")
            code = int(code_text) if code_text.isdigit() else errno.EIO
            hint = ""
            if code in (errno.ENOSPC, errno.EPERM, errno.EUSERS):
                hint = " (are user namespaces enabled? sysctl user.max_user_namespaces must be > 0)"
            raise HelperFailed(code, text + hint)
        raise HelperFailed(errno.EIO, "the namespace helper stopped" + (f": {msg!r}" if msg else ""))

    def take(self, wanted: int = 1) -> int:
        """A new network namespace as an fd (the caller closes it). Asks the helper for
        max(wanted, 1) at once, up to BATCH, so an apply makes one round trip per BATCH namespaces."""
        if not self.ready:
            sock = self.sock or self._start()
            count = max(1, min(wanted, BATCH))
            sock.send(str(count).encode())
            while len(self.ready) < count:
                msg, fds, _flags, _addr = socket.recv_fds(sock, 256, BATCH)
                self.ready.extend(fds)
                self._expect(msg)
                if not fds:
                    raise HelperFailed(errno.EIO, "the namespace helper sent no namespace")
        return self.ready.pop(0)

    def close(self) -> None:
        for fd in self.ready:
            os.close(fd)
        self.ready.clear()
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
