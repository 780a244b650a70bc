"""The operations a plan is made of: one frozen dataclass per kind, `Operation` their union.

Why typed: the executor matches on the class (mypy checks every field it reads), and a plan cannot
carry a misspelt key. Each operation still renders as the command a person would type (`.command`)
and as the JSON the API, the job rows and the CLI have always shown (`.to_dict()`:
{"op", "node", "netns", "command", ...its arguments}).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from .textguard import heredoc

ORDER = ("blocked", "foreign", "netns_del", "link_del", "netns_add", "lo_up", "bridge_add", "veth_add",
         "link_set", "link_master", "link_up", "addr_del", "addr_add", "route_del", "route_add", "sysctl",
         "iptables")


def _q(*parts: str) -> str:
    return " ".join(shlex.quote(p) for p in parts)


@dataclass(frozen=True, kw_only=True)
class _Op:
    ns: str  # the namespace it acts in
    node: str | None  # the design element it serves
    op: ClassVar[str] = ""
    _omit_none: ClassVar[bool] = False  # leave unset arguments out of to_dict()

    @property
    def command(self) -> str:
        return self.render()

    def render(self) -> str:
        raise NotImplementedError

    def args(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("ns", "node")}
        if self._omit_none:
            out = {k: v for k, v in out.items() if v is not None}
        return {k: dict(v) if isinstance(v, Mapping) else v for k, v in out.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "node": self.node, "netns": self.ns, "command": self.command, **self.args()}


@dataclass(frozen=True, kw_only=True)
class Blocked(_Op):
    """A designed node's namespace name is taken by one this install did not make: apply refuses."""

    op: ClassVar[str] = "blocked"
    mark: str

    def render(self) -> str:
        return (f"# {self.ns} is there but this NetDesigner install did not make it (no mark of ours): it "
                f"is left alone, and the lab cannot be applied until it is removed (ip netns del {self.ns}) "
                "or the node renamed")


@dataclass(frozen=True, kw_only=True)
class Foreign(_Op):
    """A namespace under the lab's prefix that this install did not make: reported, never touched."""

    op: ClassVar[str] = "foreign"
    mark: str

    def render(self) -> str:
        return f"# {self.ns} is there but this NetDesigner install did not make it (no mark of ours): left alone"


@dataclass(frozen=True, kw_only=True)
class NetnsDel(_Op):
    op: ClassVar[str] = "netns_del"

    def render(self) -> str:
        return _q("ip", "netns", "del", self.ns)


@dataclass(frozen=True, kw_only=True)
class NetnsAdd(_Op):
    """Made in the lab's user namespace and marked (lo's alias `mark`) before it is named."""

    op: ClassVar[str] = "netns_add"
    mark: str

    def render(self) -> str:
        return _q("ip", "netns", "add", self.ns)


@dataclass(frozen=True, kw_only=True)
class LoUp(_Op):
    op: ClassVar[str] = "lo_up"

    def render(self) -> str:
        return _q("ip", "-n", self.ns, "link", "set", "lo", "up")


@dataclass(frozen=True, kw_only=True)
class BridgeAdd(_Op):
    op: ClassVar[str] = "bridge_add"
    name: str
    alias: str
    mac: str | None = None

    def render(self) -> str:
        mac = ["address", self.mac] if self.mac else []
        return _q("ip", "-n", self.ns, "link", "add", self.name, *mac, "type", "bridge")


@dataclass(frozen=True, kw_only=True)
class VethAdd(_Op):
    """Both ends made in place: `name` in `ns`, `peer_name` straight in `peer_ns`."""

    op: ClassVar[str] = "veth_add"
    name: str
    peer_ns: str
    peer_name: str
    mtu: int | None = None
    mac: str | None = None
    peer_mac: str | None = None
    alias: str = ""

    def render(self) -> str:
        words = ["ip", "-n", self.ns, "link", "add", self.name]
        if self.mtu:
            words += ["mtu", str(self.mtu)]
        if self.mac:
            words += ["address", self.mac]
        words += ["type", "veth", "peer", "name", self.peer_name, "netns", self.peer_ns]
        if self.peer_mac:
            words += ["address", self.peer_mac]
        return _q(*words)


@dataclass(frozen=True, kw_only=True)
class LinkDel(_Op):
    op: ClassVar[str] = "link_del"
    name: str

    def render(self) -> str:
        return _q("ip", "-n", self.ns, "link", "del", self.name)


@dataclass(frozen=True, kw_only=True)
class LinkSet(_Op):
    """Only the settings that differ are given (to_dict leaves the others out, as it always has)."""

    op: ClassVar[str] = "link_set"
    _omit_none: ClassVar[bool] = True
    name: str
    mtu: int | None = None
    mac: str | None = None
    alias: str | None = None

    def render(self) -> str:
        words = ["ip", "-n", self.ns, "link", "set", self.name]
        if self.mtu:
            words += ["mtu", str(self.mtu)]
        if self.mac:
            words += ["address", self.mac]
        if self.alias:
            words += ["alias", self.alias]
        return _q(*words)


@dataclass(frozen=True, kw_only=True)
class LinkMaster(_Op):
    op: ClassVar[str] = "link_master"
    name: str
    master: str

    def render(self) -> str:
        return _q("ip", "-n", self.ns, "link", "set", self.name, "master", self.master)


@dataclass(frozen=True, kw_only=True)
class LinkUp(_Op):
    op: ClassVar[str] = "link_up"
    name: str

    def render(self) -> str:
        return _q("ip", "-n", self.ns, "link", "set", self.name, "up")


@dataclass(frozen=True, kw_only=True)
class AddrAdd(_Op):
    op: ClassVar[str] = "addr_add"
    name: str
    address: str

    def render(self) -> str:
        return _q("ip", "-n", self.ns, "addr", "add", self.address, "dev", self.name)


@dataclass(frozen=True, kw_only=True)
class AddrDel(_Op):
    op: ClassVar[str] = "addr_del"
    name: str
    address: str

    def render(self) -> str:
        return _q("ip", "-n", self.ns, "addr", "del", self.address, "dev", self.name)


@dataclass(frozen=True, kw_only=True)
class _Route(_Op):
    to: str  # CIDR or "default"
    via: str | None = None
    dev: str | None = None

    def render(self) -> str:
        words = [self.to]
        if self.via:
            words += ["via", self.via]
        if self.dev:
            words += ["dev", self.dev]
        return _q("ip", "-n", self.ns, "route", self.op[6:], *words)


@dataclass(frozen=True, kw_only=True)
class RouteAdd(_Route):
    op: ClassVar[str] = "route_add"


@dataclass(frozen=True, kw_only=True)
class RouteDel(_Route):
    op: ClassVar[str] = "route_del"


@dataclass(frozen=True, kw_only=True)
class Sysctl(_Op):
    op: ClassVar[str] = "sysctl"
    values: Mapping[str, str] = field(default_factory=dict, hash=False)

    def render(self) -> str:
        return _q("ip", "netns", "exec", self.ns, "sysctl", "-w", *(f"{k}={v}" for k, v in self.values.items()))


@dataclass(frozen=True, kw_only=True)
class Iptables(_Op):
    """iptables-restore input for the lab's ND- chains; `lo_alias` is the mark to set after it."""

    op: ClassVar[str] = "iptables"
    text: str
    lo_alias: str

    def render(self) -> str:
        # the terminator is one that no line of the text is (textguard.heredoc), as in the exported script
        return heredoc(f"ip netns exec {shlex.quote(self.ns)} iptables-restore --noflush", self.text)


Operation = (Blocked | Foreign | NetnsDel | NetnsAdd | LoUp | BridgeAdd | VethAdd | LinkDel | LinkSet
             | LinkMaster | LinkUp | AddrAdd | AddrDel | RouteAdd | RouteDel | Sysctl | Iptables)
Op = Operation  # the name the plan's callers have used
