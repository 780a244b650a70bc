"""Test helpers: lab namespaces owned by a per-lab user namespace, and a shell driven through its pty.

`lab_namespaces` makes namespaces the way the engine does (fork; the single-threaded child unshares a
user namespace; the parent writes "0 SANDBOX_UID 1" to its uid_map/gid_map; the child unshares one
network namespace per node; the parent bind-mounts each onto /run/netns/nd-<tag>-<node>), so the
sandbox's tests do not depend on the engine's own change.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import secrets
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

from topology.engine import nsutil
from topology.engine.sandbox import CLONE_NEWNET, CLONE_NEWUSER, SANDBOX_UID

_libc = ctypes.CDLL(None, use_errno=True)
MS_BIND = 4096


def _child(nodes: int, to_parent: int, from_parent: int) -> None:
    try:
        if _libc.unshare(CLONE_NEWUSER) != 0:
            os._exit(2)
        os.write(to_parent, b"u")
        os.read(from_parent, 1)  # maps written
        for _ in range(nodes):
            if _libc.unshare(CLONE_NEWNET) != 0:
                os._exit(3)
            os.write(to_parent, b"n")
            os.read(from_parent, 1)  # mounted
    finally:
        os._exit(0)


def make_namespaces(tag: str, nodes: list[str], uid: int = SANDBOX_UID) -> list[str]:
    """Create nd-<tag>-<node> for each node, all owned by one new user namespace mapping 0 -> uid."""
    names = [f"nd-{tag}-{node}" for node in nodes]
    nsutil._prepare_rundir()
    up_r, up_w = os.pipe()
    down_r, down_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        _child(len(nodes), up_w, down_r)
    os.close(up_w)  # so that a child that failed reads as EOF here, not a hang
    os.close(down_r)
    try:
        if os.read(up_r, 1) != b"u":
            raise RuntimeError("the child could not unshare a user namespace")
        with open(f"/proc/{pid}/uid_map", "w") as f:
            f.write(f"0 {uid} 1\n")
        with open(f"/proc/{pid}/gid_map", "w") as f:
            f.write(f"0 {uid} 1\n")
        os.write(down_w, b"g")
        for name in names:
            if os.read(up_r, 1) != b"n":
                raise RuntimeError(f"the child could not unshare the network namespace {name}")
            target = nsutil.path(name)
            os.close(os.open(target, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
            if _libc.mount(f"/proc/{pid}/ns/net".encode(), target.encode(), None, MS_BIND, None) != 0:
                raise OSError(ctypes.get_errno(), f"bind {name}")
            os.write(down_w, b"m")
    finally:
        os.close(up_r)
        os.close(down_w)
        os.waitpid(pid, 0)
    return names


def ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True).stdout  # noqa: S607


@contextlib.contextmanager
def lab(nodes: list[str], *, uid: int = SANDBOX_UID) -> Iterator[str]:
    """A throwaway lab's namespaces (tag yielded); removed afterwards, even on failure."""
    tag = "t" + secrets.token_hex(3)
    try:
        make_namespaces(tag, nodes, uid)
        yield tag
    finally:
        for node in nodes:
            nsutil.remove(f"nd-{tag}-{node}")


def cable(tag: str, a: str, a_if: str, a_addr: str, b: str, b_if: str, b_addr: str) -> None:
    """A veth pair between two nodes of the lab, addressed and up (made by root, as apply does)."""
    na, nb = f"nd-{tag}-{a}", f"nd-{tag}-{b}"
    ip("-n", na, "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", nb)
    ip("-n", na, "addr", "add", a_addr, "dev", a_if)
    ip("-n", nb, "addr", "add", b_addr, "dev", b_if)
    for ns, dev in ((na, a_if), (nb, b_if), (na, "lo"), (nb, "lo")):
        ip("-n", ns, "link", "set", dev, "up")


class PtyShell:
    """A sandboxed shell on a real pty: type a command, read its output and exit status."""

    MARK = re.compile(rb"@@rc=(\d+)@@")

    def __init__(self, proc: Any, master: int) -> None:
        self.proc, self.master = proc, master
        self.seen = b""

    def read_until(self, pattern: re.Pattern[bytes], timeout: float = 20.0) -> re.Match[bytes]:
        deadline = time.monotonic() + timeout
        while True:
            found = pattern.search(self.seen)
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {pattern.pattern!r} within {timeout:g} s; the terminal shows:\n"
                                   f"{self.seen[-3000:].decode(errors='replace')}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: the shell is gone
                    chunk = b""
                if not chunk:
                    raise EOFError(f"the terminal closed; it showed:\n{self.seen.decode(errors='replace')}")
                self.seen += chunk

    def run(self, command: str, timeout: float = 20.0) -> tuple[int, str]:
        """Type `command`, wait for its status; returns (status, what it printed)."""
        self.seen = b""
        # The marker is split in the typed line, so the terminal's echo of it never matches.
        os.write(self.master, f"{command}; printf '@@rc=%s@@\\n' \"$?\"\n".encode())
        found = self.read_until(self.MARK, timeout)
        text = self.seen[: found.start()].decode(errors="replace").replace("\r", "")
        _, echo, after = text.rpartition('"$?"\n')  # what comes before is the echo of what was typed
        return int(found.group(1)), after if echo else text

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)
        with contextlib.suppress(OSError):
            os.close(self.master)
