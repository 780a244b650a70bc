"""Kernel state as plain typed data: what a lab wants (from a Topology) and what the observer saw.

Desired and observed use the same types, so planning and drift are a pure diff of two `State`s.
Ownership marks live here too: every link the engine creates carries IFLA_IFALIAS `nd:<tag>:...`,
every route the engine adds has protocol `ROUTE_PROTO`, every iptables rule sits in an `ND-` chain
with a comment `nd:<tag>:<hash>`; anything without a mark is the user's and is never touched.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from .model import BRIDGE, Link, Node, Topology

ROUTE_PROTO = 77  # rtnetlink protocol number marking routes that the engine added
NAT_CHAINS = (("POSTROUTING", "ND-POSTROUTING"), ("PREROUTING", "ND-PREROUTING"))


@dataclass(frozen=True)
class Iface:
    kind: str  # "veth" | "bridge" | anything else observed
    alias: str = ""  # ownership mark; for a veth it names the cable, the same on both ends
    peer: tuple[str, str] | None = None  # (netns, ifname) of a veth's other end (desired only)
    master: str | None = None
    mtu: int | None = None  # None: not specified, not compared
    mac: str | None = None  # None: not specified, not compared
    up: bool = True
    addresses: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RouteState:
    to: str  # CIDR or "default"
    via: str | None
    dev: str | None


@dataclass(frozen=True)
class NsState:
    node: str  # the node this namespace holds (the host for bridges)
    ifaces: dict[str, Iface] = field(default_factory=dict, hash=False)
    routes: frozenset[RouteState] = frozenset()
    forwarding: bool = False  # net.ipv4.ip_forward
    forwarding6: bool = False  # net.ipv6.conf.all.forwarding (the design sets both alike)
    nat: tuple[str, ...] = ()  # iptables-restore lines for the ND- chains (desired); comments (observed)
    lo_up: bool = True
    ipt_mark: bool = False  # observed: lo carries the mark saying ND- chains exist here
    mark: str = ""  # observed: lo's alias, the ownership mark (see lo_alias)
    in_lab: bool = False  # observed: in the lab's user namespace though its mark was rewritten (ours)


State = dict[str, NsState]  # netns name -> its state


def ns_name(tag: str, node: str) -> str:
    return f"nd-{tag}-{node}"


def cable_alias(tag: str, link: Link) -> str:
    a, b = sorted([(link.a.node, link.a.interface), (link.b.node, link.b.interface)])
    return f"nd:{tag}:{a[0]}/{a[1]}={b[0]}/{b[1]}"


def bridge_alias(tag: str, name: str) -> str:
    return f"nd:{tag}:bridge:{name}"


DEFAULT_INSTALL = "local"  # the install id of callers that give none (tests, scripts)


def lo_alias(tag: str, with_rules: bool, install: str = DEFAULT_INSTALL) -> str:
    """The namespace's ownership mark, on its loopback: `nd:<tag>@<install>`, `:ipt` appended while
    the namespace holds ND- chains. Set inside a new namespace before it is named (nsutil.created)."""
    base = f"nd:{tag}@{install or DEFAULT_INSTALL}"
    return f"{base}:ipt" if with_rules else base


def owns(tag: str, install: str, mark: str) -> bool:
    """Whether a namespace's mark says this install made it for this deployment."""
    return mark in (lo_alias(tag, False, install), lo_alias(tag, True, install))


def mark_owner(mark: str) -> tuple[str, str] | None:
    """(tag, install) of a namespace mark; None for anything else (a namespace we did not make, or
    one made before marks named the install)."""
    m = MARK_RE.fullmatch(mark)
    return (m.group(1), m.group(2)) if m else None


MARK_RE = re.compile(r"nd:([a-z0-9]{1,12})@([A-Za-z0-9]{1,64})(?::ipt)?", re.ASCII)


def is_ours(tag: str, alias: str) -> bool:
    return alias == f"nd:{tag}" or alias.startswith(f"nd:{tag}:")


def derived_mac(tag: str, node: str, iface: str) -> str:
    """The MAC of an interface whose design sets none: fixed by the lab, the node and the interface, so
    that a repaired veth comes back with the MAC its neighbours' ARP caches hold. Locally administered
    unicast (02:...); 40 bits of a hash, so two interfaces of one segment practically never collide."""
    h = hashlib.sha1(f"{tag}/{node}/{iface}".encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02, *h[:5]))


def rule_comment(tag: str, rule: str) -> str:
    return f"nd:{tag}:{hashlib.sha1(rule.encode()).hexdigest()[:10]}"


def nat_rules(tag: str, node: Node) -> tuple[str, ...]:
    """The rules of the node's ND- chains as iptables-restore lines, each with its own comment."""
    lines: list[str] = []
    for nat in node.nat:
        spec = "-A ND-POSTROUTING"
        if nat.source:
            spec += f" -s {nat.source}"
        if nat.out_interface:
            spec += f" -o {nat.out_interface}"
        lines.append(f"{spec} -m comment --comment {rule_comment(tag, spec)} -j MASQUERADE")
    for pf in node.port_forwards:
        spec = "-A ND-PREROUTING"
        if pf.in_interface:
            spec += f" -i {pf.in_interface}"
        spec += f" -p {pf.protocol} -m {pf.protocol} --dport {pf.port}"
        target = f"-j DNAT --to-destination {pf.to}:{pf.to_port}"
        lines.append(f"{spec} -m comment --comment {rule_comment(tag, spec + target)} {target}")
    return tuple(lines)


def rule_comments(lines: tuple[str, ...]) -> tuple[str, ...]:
    """The comments of rules: what the observer can read back and compare, whatever iptables-save prints."""
    out = []
    for line in lines:
        parts = line.split()
        if "--comment" in parts:
            out.append(parts[parts.index("--comment") + 1].strip('"'))
    return tuple(sorted(out))


def desired_state(topology: Topology, tag: str) -> State:
    """What the kernel should hold for this lab, keyed by namespace name."""
    host = topology.host_name
    host_ns = ns_name(tag, host) if host else None
    nodes = {n.name: n for n in topology.nodes}

    def where(node: str) -> str:
        n = nodes[node]
        if n.kind == BRIDGE:
            assert host_ns is not None
            return host_ns
        return ns_name(tag, node)

    ifaces: dict[str, dict[str, Iface]] = {}
    for n in topology.nodes:
        if n.kind != BRIDGE:
            ifaces.setdefault(ns_name(tag, n.name), {})
    for n in topology.nodes:
        if n.kind == BRIDGE:
            assert host_ns is not None
            ifaces[host_ns][n.name] = Iface(kind="bridge", alias=bridge_alias(tag, n.name),
                                            mac=derived_mac(tag, n.name, ""), addresses=frozenset(n.addresses))
    for lk in topology.links:
        alias = cable_alias(tag, lk)
        for e, other in ((lk.a, lk.b), (lk.b, lk.a)):
            master = e.node if nodes[e.node].kind == BRIDGE else None
            ifaces[where(e.node)][e.interface] = Iface(
                kind="veth", alias=alias, peer=(where(other.node), other.interface), master=master,
                mtu=lk.mtu, mac=e.mac or derived_mac(tag, e.node, e.interface), addresses=frozenset(e.addresses))
    state: State = {}
    for n in topology.nodes:
        if n.kind == BRIDGE:
            continue
        ns = ns_name(tag, n.name)
        routes = frozenset(RouteState(to=r.to, via=r.via, dev=r.dev) for r in n.routes)
        state[ns] = NsState(node=n.name, ifaces=ifaces[ns], routes=routes, forwarding=n.forwarding,
                            forwarding6=n.forwarding, nat=nat_rules(tag, n))
    return state


def as_observed(want: NsState, tag: str, install: str = DEFAULT_INSTALL) -> NsState:
    """What the observer would read back from a namespace in sync with `want` (for skipped observation)."""
    nat = (*rule_comments(want.nat), "jumps") if want.nat else ()
    ifaces = {n: Iface(kind=i.kind, alias=i.alias, master=i.master, mtu=i.mtu, mac=i.mac, up=True,
                       addresses=i.addresses) for n, i in want.ifaces.items()}
    return NsState(node=want.node, ifaces=ifaces, routes=want.routes, forwarding=want.forwarding,
                   forwarding6=want.forwarding6, nat=nat, lo_up=True, ipt_mark=bool(want.nat), mark=lo_alias(tag, bool(want.nat), install))
