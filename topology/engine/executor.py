"""Carries out a plan in-process: libc for namespaces, our rtnetlink client for links, addresses and
routes, `iptables-restore --noflush` run inside the namespace by argv for rules.

Every operation tolerates the state a half-done earlier apply may have left (an existing namespace,
an address already there, a link already gone), so applying again always converges; a genuine
refusal stops the run with EngineError naming the operation and the kernel's reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import subprocess
from collections.abc import Callable, Iterable
from typing import assert_never

from . import nsutil, textguard, userns
from .ops import (
    AddrAdd,
    AddrDel,
    Blocked,
    BridgeAdd,
    Foreign,
    Iptables,
    LinkDel,
    LinkMaster,
    LinkSet,
    LinkUp,
    LoUp,
    NetnsAdd,
    NetnsDel,
    Operation,
    RouteAdd,
    RouteDel,
    Sysctl,
    VethAdd,
)
from .rtnl import NetlinkError, Peer, Rtnl
from .state import ROUTE_PROTO

Progress = Callable[[int, int, str], None]


class OpFailed(Exception):
    def __init__(self, op: Operation, reason: str) -> None:
        super().__init__(f"{op.command.splitlines()[0]}: {reason}")
        self.op = op


def _enough_fds() -> None:
    """A run holds a netlink socket and a namespace fd per namespace (2 x 2,000 at the node limit):
    raise the soft limit of open files to the hard one, as a long-running root worker may."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 1 << 20, hard))


class Executor:
    """Holds one netlink socket and one fd per namespace for the duration of a run, and the lab's
    user-namespace helper (started at the first new namespace: `join` names an existing namespace of
    the lab whose user namespace new ones share; `sandbox_uid` maps a new one's root)."""

    def __init__(self, *, sandbox_uid: int = userns.DEFAULT_SANDBOX_UID, join: str | None = None) -> None:
        self.socks: dict[str, Rtnl] = {}
        self.fds: dict[str, int] = {}
        self.maker = userns.Maker(uid=sandbox_uid, join=join)
        self.new_left = 0  # namespaces this run still creates (the helper makes them in batches)
        self._home: int | None = None
        _enough_fds()

    def close(self) -> None:
        self.maker.close()
        if self._home is not None:
            os.close(self._home)
            self._home = None
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

    def home(self) -> int:
        """An fd of this thread's own network namespace (a run stays in one thread)."""
        if self._home is None:
            self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        return self._home

    def forget(self, *namespaces: str) -> None:
        """Device indexes cached for these namespaces may be stale after a create or delete."""
        for ns in namespaces:
            if ns in self.socks:
                self.socks[ns]._index.clear()

    def run(self, ops: Iterable[Operation], progress: Progress | None = None) -> list[Operation]:
        todo = list(ops)
        self.new_left = sum(isinstance(op, NetnsAdd) for op in todo)
        done: list[Operation] = []
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

    def one(self, op: Operation) -> None:
        ns = op.ns
        match op:
            case Foreign():
                return  # reported, never touched
            case Blocked():
                raise OpFailed(op, "the namespace is not this install's: remove it by hand or rename the node")
            case NetnsAdd():
                self._create(ns, op.mark)
            case NetnsDel():
                s = self.socks.pop(ns, None)
                if s is not None:
                    s.close()
                fd = self.fds.pop(ns, None)
                if fd is not None:
                    os.close(fd)
                nsutil.remove(ns)
            case LoUp():
                self.sock(ns).link_set("lo", up=True)
            case BridgeAdd():
                self.sock(ns).link_add(op.name, "bridge", alias=op.alias, mac=op.mac)
            case VethAdd():
                peer = Peer(name=op.peer_name, fd=self.fd(op.peer_ns), mac=op.peer_mac)
                self.forget(ns, op.peer_ns)
                self.sock(ns).link_add(op.name, "veth", alias=op.alias, mtu=op.mtu, mac=op.mac, peer=peer)
                self.sock(op.peer_ns).link_set(op.peer_name, alias=op.alias)
            case LinkDel():
                try:
                    self.sock(ns).link_del(op.name)
                except NetlinkError as exc:
                    if exc.errno != errno.ENODEV:
                        raise
                self.forget(*self.socks)
            case LinkSet():
                self.sock(ns).link_set(op.name, mtu=op.mtu, mac=op.mac, alias=op.alias)
            case LinkMaster():
                self.sock(ns).link_set(op.name, master=op.master)
            case LinkUp():
                self.sock(ns).link_set(op.name, up=True)
            case AddrAdd() | AddrDel():
                add, name, address = isinstance(op, AddrAdd), op.name, op.address
                self._tolerant(lambda: self.sock(ns).addr(add, name, address),
                               errno.EEXIST if add else errno.EADDRNOTAVAIL)
            case RouteAdd() | RouteDel():
                add, to, via, dev = isinstance(op, RouteAdd), op.to, op.via, op.dev
                self._tolerant(lambda: self.sock(ns).route(add, to, via, dev, ROUTE_PROTO),
                               errno.EEXIST if add else errno.ESRCH)
            case Sysctl():
                with nsutil.entered(self.fd(ns), self.home(), ns):
                    for key, value in op.values.items():
                        try:
                            with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
                                f.write(f"{value}\n")
                        except FileNotFoundError:
                            continue  # e.g. no IPv6 on this machine
            case Iptables():
                proc = subprocess.run(["ip", "netns", "exec", ns, "iptables-restore", "--noflush"],
                                      input=textguard.check_iptables_text(op.text), capture_output=True, text=True,
                                      check=False, timeout=30)
                if proc.returncode != 0:
                    raise OpFailed(op, (proc.stderr or proc.stdout).strip() or f"exit {proc.returncode}")
                self.sock(ns).link_set("lo", alias=op.lo_alias)
            case _:
                assert_never(op)

    def _create(self, ns: str, mark: str) -> None:
        """A new namespace from the lab's user namespace, marked (lo's alias) before it is named."""
        fd = self.maker.take(self.new_left)
        self.new_left = max(0, self.new_left - 1)
        sock: Rtnl | None = None
        try:
            with nsutil.created(ns, fd, self.home()):
                sock = Rtnl.here()
                sock.link_set("lo", alias=mark)
        except BaseException:
            if sock is not None:
                sock.close()
            os.close(fd)
            raise
        assert sock is not None
        self.socks[ns] = sock
        old = self.fds.pop(ns, None)
        if old is not None:
            os.close(old)
        self.fds[ns] = fd  # kept: veth peers and sysctls of this namespace use it

    @staticmethod
    def _tolerant(call: Callable[[], None], ok_errno: int) -> None:
        try:
            call()
        except NetlinkError as exc:
            if exc.errno != ok_errno:
                raise
