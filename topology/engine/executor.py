"""Carries out a plan in-process: libc for namespaces, our rtnetlink client for links, addresses and
routes, `iptables-restore --noflush` run inside the namespace by argv for rules.

Every operation tolerates the state a half-done earlier apply may have left (an existing namespace,
an address already there, a link already gone), so applying again always converges; a genuine
refusal stops the run with EngineError naming the operation and the kernel's reason.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Callable, Iterable

from . import nsutil, textguard
from .plan import Op
from .rtnl import NetlinkError, Peer, Rtnl
from .state import ROUTE_PROTO

Progress = Callable[[int, int, str], None]


class OpFailed(Exception):
    def __init__(self, op: Op, reason: str) -> None:
        super().__init__(f"{op.command.splitlines()[0]}: {reason}")
        self.op = op


class Executor:
    """Holds one netlink socket and one fd per namespace for the duration of a run."""

    def __init__(self) -> None:
        self.socks: dict[str, Rtnl] = {}
        self.fds: dict[str, int] = {}

    def close(self) -> None:
        for s in self.socks.values():
            s.close()
        for fd in self.fds.values():
            os.close(fd)
        self.socks.clear()
        self.fds.clear()

    def sock(self, ns: str) -> Rtnl:
        s = self.socks.get(ns)
        if s is None:
            s = self.socks[ns] = Rtnl.into(ns)
        return s

    def fd(self, ns: str) -> int:
        fd = self.fds.get(ns)
        if fd is None:
            fd = self.fds[ns] = nsutil.open_fd(ns)
        return fd

    def forget(self, *namespaces: str) -> None:
        """Device indexes cached for these namespaces may be stale after a create or delete."""
        for ns in namespaces:
            if ns in self.socks:
                self.socks[ns]._index.clear()

    def run(self, ops: Iterable[Op], progress: Progress | None = None) -> list[Op]:
        todo = list(ops)
        done: list[Op] = []
        for i, op in enumerate(todo, 1):
            try:
                self.one(op)
            except OpFailed:
                raise
            except (OSError, subprocess.SubprocessError, ValueError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise OpFailed(op, reason) from exc
            done.append(op)
            if progress is not None:
                progress(i, len(todo), op.command.splitlines()[0])
        return done

    def one(self, op: Op) -> None:
        a, ns = op.args, op.ns
        if op.op == "netns_add":
            with nsutil.created(ns):
                self.socks[ns] = Rtnl.here()
        elif op.op == "netns_del":
            s = self.socks.pop(ns, None)
            if s is not None:
                s.close()
            fd = self.fds.pop(ns, None)
            if fd is not None:
                os.close(fd)
            nsutil.remove(ns)
        elif op.op == "lo_up":
            self.sock(ns).link_set("lo", up=True)
        elif op.op == "bridge_add":
            self.sock(ns).link_add(a["name"], "bridge", alias=a["alias"])
        elif op.op == "veth_add":
            peer = Peer(name=a["peer_name"], fd=self.fd(a["peer_ns"]), mac=a.get("peer_mac"))
            self.forget(ns, a["peer_ns"])
            self.sock(ns).link_add(a["name"], "veth", alias=a["alias"], mtu=a.get("mtu"),
                                   mac=a.get("mac"), peer=peer)
            self.sock(a["peer_ns"]).link_set(a["peer_name"], alias=a["alias"])
        elif op.op == "link_del":
            try:
                self.sock(ns).link_del(a["name"])
            except NetlinkError as exc:
                if exc.errno != errno.ENODEV:
                    raise
            self.forget(*self.socks)
        elif op.op == "link_set":
            self.sock(ns).link_set(a["name"], mtu=a.get("mtu"), mac=a.get("mac"))
        elif op.op == "link_master":
            self.sock(ns).link_set(a["name"], master=a["master"])
        elif op.op == "link_up":
            self.sock(ns).link_set(a["name"], up=True)
        elif op.op in ("addr_add", "addr_del"):
            self._tolerant(lambda: self.sock(ns).addr(op.op == "addr_add", a["name"], a["address"]),
                           errno.EEXIST if op.op == "addr_add" else errno.EADDRNOTAVAIL)
        elif op.op in ("route_add", "route_del"):
            self._tolerant(lambda: self.sock(ns).route(op.op == "route_add", a["to"], a.get("via"),
                                                       a.get("dev"), ROUTE_PROTO),
                           errno.EEXIST if op.op == "route_add" else errno.ESRCH)
        elif op.op == "sysctl":
            with nsutil.inside(ns):
                for key, value in a["values"].items():
                    p = "/proc/sys/" + key.replace(".", "/")
                    if os.path.exists(p):
                        with open(p, "w") as f:
                            f.write(f"{value}\n")
        elif op.op == "iptables":
            proc = subprocess.run(["ip", "netns", "exec", ns, "iptables-restore", "--noflush"],
                                  input=textguard.check_iptables_text(a["text"]), capture_output=True, text=True, check=False,
                                  timeout=30)
            if proc.returncode != 0:
                raise OpFailed(op, (proc.stderr or proc.stdout).strip() or f"exit {proc.returncode}")
            self.sock(ns).link_set("lo", alias=a["lo_alias"])
        else:
            raise ValueError(f"unknown operation {op.op}")

    @staticmethod
    def _tolerant(call: Callable[[], None], ok_errno: int) -> None:
        try:
            call()
        except NetlinkError as exc:
            if exc.errno != ok_errno:
                raise
