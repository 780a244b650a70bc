"""A model of the kernel that the pasted commands are replayed on, in order.

Replaying (instead of collecting lines) is what makes `ip link del veth-red` undo the stage before it,
and lets a failing line be told apart from one that works: the model refuses what the kernel would
refuse (a missing device, a gateway off every connected subnet), with the reason in words.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

ROOT = ""  # the root namespace: the lab's host


class Refused(Exception):
    """The kernel would refuse this line. `names` are the objects it is about (for follow-on lines)."""

    def __init__(self, message: str, names: tuple[str, ...] = (),
                 fix: Callable[[list[str]], list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.names = names
        self.fix = fix  # rewrites the line's argv into the correction, when the intent is unambiguous


def replace_token(old: str, new: str) -> Callable[[list[str]], list[str]]:
    return lambda argv: [new if a == old else a for a in argv]


def insert_before(token: str, new: list[str]) -> Callable[[list[str]], list[str]]:
    def edit(argv: list[str]) -> list[str]:
        i = argv.index(token)
        return argv[:i] + new + argv[i:]
    return edit


@dataclass
class Addr:
    ip: str
    prefix: int | None  # None: typed without one (the kernel takes /32 or /128)
    line: int
    problem: str | None = None  # a mask that cannot be meant: kept only to report it
    typed: str = ""  # the word as typed (what a fix replaces)

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.ip).version

    def cidr(self) -> str:
        full = 32 if self.version == 4 else 128
        return f"{self.ip}/{full if self.prefix is None else self.prefix}"


@dataclass
class Iface:
    name: str
    ns: str
    kind: str  # veth | bridge | dummy
    line: int
    peer: Iface | None = None
    master: str | None = None
    up: bool = False
    addresses: list[Addr] = field(default_factory=list)
    mac: str | None = None
    mtu: int | None = None
    moved: int = 0  # the line that moved it to its namespace
    seq: int = 0  # order of creation (a veth's first-named end comes first)


@dataclass
class RouteRec:
    to: str
    via: str | None
    dev: str | None
    line: int


@dataclass
class NatRec:
    kind: str  # masquerade | dnat
    line: int
    source: str | None = None
    out_interface: str | None = None
    protocol: str | None = None
    port: int | None = None
    to: str | None = None
    to_port: int | None = None
    in_interface: str | None = None


@dataclass
class Space:
    name: str
    line: int
    ifaces: dict[str, Iface] = field(default_factory=dict)
    routes: list[RouteRec] = field(default_factory=list)
    nat: list[NatRec] = field(default_factory=list)
    forwarding: int = 0  # the line that turned ip_forward on, 0 when never


@dataclass
class Ping:
    ns: str
    target: str
    line: int


@dataclass
class Kernel:
    spaces: dict[str, Space] = field(default_factory=lambda: {ROOT: Space(ROOT, 0)})
    ever: dict[str, int] = field(default_factory=dict)  # every name ever made -> line (for typos)
    pings: list[Ping] = field(default_factory=list)
    needs: list[tuple[str, str, int, str]] = field(default_factory=list)  # (ns, ip, line, what) refused for want of a subnet
    made: int = 0

    def space(self, name: str) -> Space:
        if name not in self.spaces:
            raise Refused(f"namespace {name!r} does not exist", (name,))
        return self.spaces[name]

    def iface(self, ns: str, name: str) -> Iface:
        space = self.space(ns)
        if name not in space.ifaces:
            raise Refused(f"no device {name!r} in {where(ns)}", (name,))
        return space.ifaces[name]

    def netns_add(self, name: str, line: int) -> None:
        if name in self.spaces:
            raise Refused(f"namespace {name!r} already exists (made on line {self.spaces[name].line})")
        self.spaces[name] = Space(name, line)
        self.ever.setdefault(name, line)

    def netns_del(self, name: str) -> None:
        space = self.space(name)
        for iface in list(space.ifaces.values()):
            self.link_del(name, iface.name)
        del self.spaces[name]

    def link_add(self, ns: str, name: str, kind: str, line: int) -> Iface:
        space = self.space(ns)
        if name in space.ifaces:
            raise Refused(f"{name!r} already exists in {where(ns)} (made on line {space.ifaces[name].line})")
        self.made += 1
        iface = Iface(name, ns, kind, line, seq=self.made)
        space.ifaces[name] = iface
        self.ever.setdefault(name, line)
        return iface

    def link_del(self, ns: str, name: str) -> None:
        iface = self.iface(ns, name)
        del self.spaces[ns].ifaces[name]
        for other in self.spaces[ns].ifaces.values():
            if other.master == name:
                other.master = None
        if iface.peer is not None and iface.peer.name in self.spaces.get(iface.peer.ns, Space("", 0)).ifaces:
            del self.spaces[iface.peer.ns].ifaces[iface.peer.name]
        for space in self.spaces.values():
            space.routes = [r for r in space.routes if not (space.name == ns and r.dev == name)]

    def move(self, ns: str, name: str, target: str, line: int) -> None:
        iface = self.iface(ns, name)
        dest = self.space(target)
        if name in dest.ifaces:
            raise Refused(f"{where(target)} already has a device {name!r}")
        del self.spaces[ns].ifaces[name]
        iface.ns, iface.master, iface.up, iface.moved = target, None, False, line
        iface.addresses = []
        dest.ifaces[name] = iface

    def master(self, ns: str, name: str, bridge: str | None) -> None:
        iface = self.iface(ns, name)
        if bridge is not None:
            br = self.iface(ns, bridge)
            if br.kind != "bridge":
                raise Refused(f"{bridge!r} is not a bridge (it was made as {br.kind} on line {br.line})")
        iface.master = bridge

    def subnets(self, ns: str) -> list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]]:
        out = []
        for iface in self.space(ns).ifaces.values():
            for a in iface.addresses:
                if a.problem is None:
                    out.append((iface.name, ipaddress.ip_interface(a.cidr()).network))
        return out

    def owner(self, ip: str) -> str | None:
        """The namespace that has address `ip`, if any."""
        for space in self.spaces.values():
            for iface in space.ifaces.values():
                if any(a.ip == ip and a.problem is None for a in iface.addresses):
                    return space.name
        return None


def where(ns: str) -> str:
    return "the host" if ns == ROOT else f"namespace {ns!r}"
