"""The whole-document rules of the spec, run after the structural pass, in one pass.

Every problem is collected (never stop at the first) so a person fixing a drawing sees them all.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from . import fields as F
from .checks import read_checks
from .model import BRIDGE, EXTERNAL, HOST, IMPLICIT_HOST, NAMESPACE, Link, Node, Topology
from .reader import Reader

FORMAT = "netdesigner/v1"
ROOT_FIELDS = ("format", "name", "description", "nodes", "links", "layout", "checks")


def read(document: Any, *, max_nodes: int = 2000, max_links: int = 2000
         ) -> tuple[Topology | None, list[tuple[str, str]]]:
    """Returns (topology or None, problems). The topology is only returned when there is no problem."""
    r = Reader()
    if not isinstance(document, Mapping):
        return None, [("", "expected a JSON object")]
    too_many = _count_problems(document, max_nodes, max_links)
    if too_many:  # before anything is built or walked: a huge document costs one len()
        return None, too_many
    r.problems.extend(F.control_problems(document))
    r._fields(document, "", ROOT_FIELDS, ("format", "name", "nodes"))
    fmt = document.get("format")
    if "format" in document and fmt != FORMAT:
        r.err("format", f"must be {FORMAT!r}")
    name = r.string(document, "name", "name")
    if name is not None and not (1 <= len(name) <= 100 and name.isprintable()):
        r.err("name", "must be 1-100 printable characters")
    description = r.string(document, "description", "description") or ""
    raw_nodes = r.array(document, "nodes", "nodes")
    raw_links = r.array(document, "links", "links")
    nodes = [r.node(x, f"nodes[{i}]") for i, x in enumerate(raw_nodes)]
    links = [r.link(x, f"links[{i}]") for i, x in enumerate(raw_links)]
    layout = r.layout(document.get("layout"), "layout")

    nodes_ok = _check_nodes(r, nodes)
    _check_links(r, nodes_ok, links)
    known = set(nodes_ok)
    _check_broken_link_refs(r, raw_links, links, known)
    for lname, _x, _y in layout:
        if lname not in known:
            r.err(f"layout.{lname}", f"{lname!r} is not a node of this document")
    checks = read_checks(r, document, nodes)
    if r.problems or name is None:
        return None, r.problems
    all_nodes = [n for n in nodes if n is not None]
    if any(n.kind == BRIDGE for n in all_nodes) and not any(n.kind == HOST for n in all_nodes):
        all_nodes.append(Node(name=IMPLICIT_HOST, kind=HOST, forwarding=True, implicit=True))
    topo = Topology(name=name, description=description, nodes=tuple(all_nodes),
                    links=tuple(lk for lk in links if lk is not None), layout=layout, checks=checks)
    return topo, []


def _count_problems(document: Mapping[str, Any], max_nodes: int, max_links: int) -> list[tuple[str, str]]:
    out = []
    for key, limit in (("nodes", max_nodes), ("links", max_links)):
        items = document.get(key)
        if isinstance(items, list) and len(items) > limit:
            out.append((key, f"{len(items)} {key}; at most {limit}"))
    return out


def _check_broken_link_refs(r: Reader, raw_links: list[Any], links: list[Link | None], known: set[str]) -> None:
    """A link refused for another field still gets its dangling node references reported."""
    for i, (raw, lk) in enumerate(zip(raw_links, links, strict=True)):
        if lk is not None or not isinstance(raw, Mapping):
            continue
        for end in ("a", "b"):
            e = raw.get(end)
            node = e.get("node") if isinstance(e, Mapping) else None
            if isinstance(node, str) and not F.check_node_name(node) and node not in known:
                r.err(f"links[{i}].{end}.node", f"{node!r} is not a node of this document")


def _check_nodes(r: Reader, nodes: list[Node | None]) -> dict[str, tuple[int, Node]]:
    seen: dict[str, tuple[int, Node]] = {}
    hosts = 0
    has_bridge = any(n is not None and n.kind == BRIDGE for n in nodes)
    for i, n in enumerate(nodes):
        if n is None:
            continue
        p = f"nodes[{i}]"
        if n.name in seen:
            r.err(f"{p}.name", f"duplicate node name {n.name!r}")
            continue
        seen[n.name] = (i, n)
        if n.kind == HOST:
            hosts += 1
            if hosts > 1:
                r.err(f"{p}.kind", "a second host; a lab has at most one")
        if n.name == IMPLICIT_HOST and n.kind != HOST and has_bridge:
            r.err(f"{p}.name", "'host' is the implicit host of a lab with bridges; choose another name")
        if n.kind == BRIDGE:
            if (msg := F.check_ifname(n.name)) is not None:
                r.err(f"{p}.name", f"a bridge is a host interface: {msg}")
            if n.routes:
                r.err(f"{p}.routes", "a bridge has no routes (give them to the host)")
            if n.forwarding:
                r.err(f"{p}.forwarding", "a bridge has no forwarding setting (set it on the host)")
        elif n.addresses:
            r.err(f"{p}.addresses", "only a bridge has node addresses; address the link ends instead")
        can_nat = n.kind == HOST or (n.kind in (NAMESPACE, EXTERNAL) and n.forwarding)
        if n.nat and not can_nat:
            r.err(f"{p}.nat", "NAT needs a host, or a namespace or external node with forwarding on")
        if n.port_forwards and not can_nat:
            r.err(f"{p}.port_forwards",
                  "port forwards need a host, or a namespace or external node with forwarding on")
    return seen


def _ns_of(node: Node, host: str | None) -> str:
    return (host or IMPLICIT_HOST) if node.kind == BRIDGE else node.name


def _check_links(r: Reader, indexed: dict[str, tuple[int, Node]], links: list[Link | None]) -> None:
    nodes = {name: n for name, (_i, n) in indexed.items()}
    host = next((n.name for n in nodes.values() if n.kind == HOST), None)
    if host is None and any(n.kind == BRIDGE for n in nodes.values()):
        host = IMPLICIT_HOST
    # interface names per namespace; bridges themselves are interfaces of the host
    names: dict[str, dict[str, str]] = {}
    for i, n in indexed.values():
        if n.kind == BRIDGE and host is not None:
            names.setdefault(host, {})[n.name] = f"nodes[{i}].name"
    # node -> list of (interface, network) for connected subnets and route devs
    subnets: dict[str, list[tuple[str, Any]]] = {}
    own: dict[str, set[Any]] = {}  # namespace -> its own IPs
    addr_seen: dict[Any, str] = {}

    def add_address(node: str, dev: str, text: str, path: str) -> None:
        iface = ipaddress.ip_interface(text)
        if iface.ip in addr_seen:
            r.err(path, f"{iface.ip} is already used at {addr_seen[iface.ip]}")
        else:
            addr_seen[iface.ip] = path
        subnets.setdefault(node, []).append((dev, iface.network))
        own.setdefault(node, set()).add(iface.ip)

    for i, n in indexed.values():
        for j, a in enumerate(n.addresses):
            add_address(host or IMPLICIT_HOST, n.name, a, f"nodes[{i}].addresses[{j}]")
    ends: dict[str, set[str]] = {}
    ports: dict[str, int] = {}  # bridge -> ports so far
    for i, lk in enumerate(links):
        if lk is None:
            continue
        for side, e in (("a", lk.a), ("b", lk.b)):
            p = f"links[{i}].{side}"
            node = nodes.get(e.node)
            if node is None:
                r.err(f"{p}.node", f"{e.node!r} is not a node of this document")
                continue
            ns = _ns_of(node, host)
            where = names.setdefault(ns, {})
            if e.interface in where:
                if ns == host:
                    r.err(f"{p}.interface", f"{e.interface!r} clashes in the host with {where[e.interface]}")
                else:
                    r.err(f"{p}.interface", f"{e.interface!r} is already an interface of {e.node!r}")
            else:
                where[e.interface] = f"{p}.interface"
            if node.kind == BRIDGE:
                if e.addresses:
                    r.err(f"{p}.addresses", "an end on a bridge is a bridge port; address the bridge instead")
            else:
                ends.setdefault(e.node, set()).add(e.interface)
            for j, a in enumerate(e.addresses):
                add_address(ns, e.interface, a, f"{p}.addresses[{j}]")
        if lk.a.node == lk.b.node:
            r.err(f"links[{i}].b.node", "a link's two ends must be on different nodes")
        _check_link_limits(r, i, lk, nodes, ports)
    _check_node_refs(r, indexed, subnets, ends, own)


def _check_link_limits(r: Reader, i: int, lk: Link, nodes: dict[str, Node], ports: dict[str, int]) -> None:
    """Limits the kernel enforces at apply time, refused here first with the place they are hit."""
    for side, e in (("a", lk.a), ("b", lk.b)):
        node = nodes.get(e.node)
        if node is not None and node.kind == BRIDGE:
            ports[e.node] = ports.get(e.node, 0) + 1
            if ports[e.node] == F.MAX_BRIDGE_PORTS + 1:
                r.err(f"links[{i}].{side}.node", f"bridge {e.node!r} would have more than "
                      f"{F.MAX_BRIDGE_PORTS} ports, the kernel's limit; use a second bridge")
        if lk.mtu is not None and lk.mtu < F.IPV6_MIN_MTU:
            for j, a in enumerate(e.addresses):
                if ":" in a:
                    r.err(f"links[{i}].{side}.addresses[{j}]",
                          f"IPv6 needs an MTU of at least {F.IPV6_MIN_MTU} (the link's is {lk.mtu}): "
                          "the kernel drops IPv6 addresses below it; raise the MTU or use IPv4")


def _check_node_refs(r: Reader, indexed: dict[str, tuple[int, Node]],
                     subnets: dict[str, list[tuple[str, Any]]], ends: dict[str, set[str]],
                     own: dict[str, set[Any]]) -> None:
    bridges = {n.name for _i, n in indexed.values() if n.kind == BRIDGE}
    for i, n in indexed.values():
        devs = set(ends.get(n.name, set()))
        if n.kind == HOST:
            devs |= bridges
        nets = subnets.get(n.name, [])
        dests: set[tuple[str, int]] = set()
        for j, rt in enumerate(n.routes):
            p = f"nodes[{i}].routes[{j}]"
            family = 6 if ":" in rt.to or ":" in (rt.via or "") else 4  # IPv4 and IPv6 defaults differ
            if (rt.to, family) in dests:
                r.err(f"{p}.to", f"a second route to {rt.to}")
            dests.add((rt.to, family))
            if rt.dev is not None and rt.dev not in devs:
                r.err(f"{p}.dev", f"{rt.dev!r} is not an interface of {n.name!r}")
            if rt.via is not None:
                via = ipaddress.ip_address(rt.via)
                if rt.to != "default" and ipaddress.ip_network(rt.to).version != via.version:
                    r.err(f"{p}.via", f"{rt.via} and {rt.to} are of different IP versions")
                elif not any(via in net and (rt.dev is None or dev == rt.dev) for dev, net in nets):
                    r.err(f"{p}.via", f"{rt.via} is not on a connected subnet of {n.name!r}")
                elif via in own.get(n.name, set()):
                    r.err(f"{p}.via", f"{rt.via} is an address of {n.name!r} itself")
                elif (why := _edge_of(via, [net for dev, net in nets
                                            if via in net and (rt.dev is None or dev == rt.dev)])):
                    r.err(f"{p}.via", f"{rt.via} is {why}; a next hop must be a host on it")
        for j, nat in enumerate(n.nat):
            if nat.out_interface is not None and nat.out_interface not in devs:
                r.err(f"nodes[{i}].nat[{j}].out_interface",
                      f"{nat.out_interface!r} is not an interface of {n.name!r}")
        for j, pf in enumerate(n.port_forwards):
            p = f"nodes[{i}].port_forwards[{j}]"
            if pf.in_interface is not None and pf.in_interface not in devs:
                r.err(f"{p}.in_interface", f"{pf.in_interface!r} is not an interface of {n.name!r}")
            if ipaddress.ip_address(pf.to).version != 4:
                r.err(f"{p}.to", "port forwards are IPv4 only")


def _edge_of(via: Any, nets: list[Any]) -> str | None:
    """'the broadcast address of N' / 'the network address of N' when `via` is one of those of
    every connected subnet it is on (a /31, /32 or IPv6 /127+ has no such addresses)."""
    for net in nets:
        if net.version == 4 and net.prefixlen < 31:
            if via == net.broadcast_address:
                return f"the broadcast address of {net}"
            if via == net.network_address:
                return f"the network address of {net}"
        elif net.version == 6 and net.prefixlen < 127 and via == net.network_address:
            return f"the subnet-router anycast (network) address of {net}"
    return None
