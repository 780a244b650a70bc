"""Fixes for a failing pair: small changes to the design, searched shortest first and each re-checked by
the predictor (and by the document validator) before it is offered.

A failure suggests a few changes at the failing hop (a route to the destination's subnet through a
neighbour, a route back, a masquerade on a router the request crossed, forwarding on); a change often
only moves the failure one hop further (stage 3's missing route gives stage 4's missing return path),
so the search tries combinations of up to MAX_STEPS changes. Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .model import EXTERNAL, HOST, NAMESPACE, Nat, Node, Route, Topology
from .predict_net import IP, LabNet
from .predict_trace import REACHABLE, Fix, Trace, trace
from .predict_walk import REQUEST

MAX_STEPS = 3  # changes combined into one fix
MAX_FIXES = 3
MAX_CANDIDATES = 4  # changes tried at each failing hop
MAX_TRIALS = 150  # predictions per request, so a large lab stays cheap


@dataclass(frozen=True)
class Change:
    node: str
    kind: str  # route | nat | forwarding | reroute
    route: Route | None = None
    nat: Nat | None = None
    replaces: Route | None = None
    summary: str = ""
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"node": self.node, "kind": self.kind}
        if self.route is not None:
            d["route"] = _route_dict(self.route)
        if self.replaces is not None:
            d["replaces"] = _route_dict(self.replaces)
        if self.nat is not None:
            d["nat"] = {k: v for k, v in (("action", self.nat.action), ("source", self.nat.source),
                                          ("out_interface", self.nat.out_interface)) if v}
        return d


def _route_dict(r: Route) -> dict[str, str]:
    return {k: v for k, v in (("to", r.to), ("via", r.via), ("dev", r.dev)) if v}


def apply_change(topology: Topology, ch: Change) -> Topology:
    nodes = []
    for n in topology.nodes:
        if n.name == ch.node:
            n = _changed(n, ch)
        nodes.append(n)
    return dataclasses.replace(topology, nodes=tuple(nodes), _index={})


def _changed(n: Node, ch: Change) -> Node:
    if ch.kind == "forwarding":
        return dataclasses.replace(n, forwarding=True, implicit=False)
    if ch.kind == "nat" and ch.nat is not None:
        return dataclasses.replace(n, nat=(*n.nat, ch.nat), implicit=False)
    if ch.kind == "route" and ch.route is not None:
        return dataclasses.replace(n, routes=(*n.routes, ch.route))
    if ch.kind == "reroute" and ch.route is not None:
        return dataclasses.replace(n, routes=tuple(ch.route if r == ch.replaces else r for r in n.routes))
    return n


def _can_nat(net: LabNet, node: str) -> bool:
    n = net.topology.node(node)
    return n.kind == HOST or (n.kind in (NAMESPACE, EXTERNAL) and n.forwarding)


def _gateways(net: LabNet, node: str, dst: IP, prefer: str | None) -> list[tuple[str, str]]:
    """(interface, address) of neighbours of `node` that could carry a packet for dst on: those that
    hold it or forward, the one named `prefer` first, then those that already have a route to it."""
    out: list[tuple[int, str, str]] = []
    netns = net.ns[node]
    for iface, addrs in netns.ifaces.items():
        for peer in net.peers(node, iface):
            other = net.ns[peer.ns]
            if other.owns(dst) is None and not other.forwarding:
                continue
            for a in addrs:
                if a.version != dst.version:
                    continue
                for b in other.ifaces.get(peer.iface, []):
                    if b.ip in a.network and b.ip != a.ip:
                        rank = 0 if peer.ns == prefer else (1 if other.owns(dst) or other.lookup(dst) else 2)
                        out.append((rank, iface, str(b.ip)))
    out.sort(key=lambda x: x[0])
    seen: set[str] = set()
    result = []
    for _r, iface, ip in out:
        if ip not in seen:
            seen.add(ip)
            result.append((iface, ip))
    return result


def candidates(net: LabNet, t: Trace) -> list[Change]:
    leg = t.failed
    if leg is None or leg.packet is None:
        return []
    node, pkt = leg.node, leg.packet
    out: list[Change] = []
    if t.failure == "forwarding":
        out.append(Change(node, "forwarding", summary=f"turn on forwarding on {node}",
                          hint=f"turn on forwarding on {node}"))
    elif t.failure == "rp_filter" and pkt.src is not None:
        to = str(net.network_of(pkt.src))
        for _iface, gw in _gateways(net, node, pkt.src, leg.came_from.ns if leg.came_from else None)[:2]:
            out.append(Change(node, "route", route=Route(to=to, via=gw),
                              summary=f"add a route to {to} via {gw} on {node}", hint=f"give {node} a route back"))
        if leg is t.request:
            out[:0] = _masquerades(net, t, [p for p in t.request.path if p[0] != node])
    elif t.failure == "noroute":
        to = str(net.network_of(pkt.dst))
        back = leg is not t.request
        prefer = _request_came_from(t, node) if back else None
        for _iface, gw in _gateways(net, node, pkt.dst, prefer)[:2]:
            hint = f"give {node} a route back" if back else f"give {node} a route to {to} via {gw}"
            out.append(Change(node, "route", route=Route(to=to, via=gw),
                              summary=f"add a route to {to} via {gw} on {node}", hint=hint))
        if back:
            out[:0] = _masquerades(net, t, t.request.path)
    elif t.failure == "neighbour" and leg.route is not None and not leg.route.connected:
        old = next((r for r in net.topology.node(node).routes if _same(r, leg.route.text)), None)
        for _iface, gw in _gateways(net, node, pkt.dst, None)[:2]:
            if old is not None and old.via != gw:
                new = Route(to=old.to, via=gw)
                out.append(Change(node, "reroute", route=new, replaces=old,
                                  summary=f"send {old.to} via {gw} instead of {old.via} on {node}",
                                  hint=f"route {old.to} via {gw} on {node}"))
    elif t.failure == "bypass" and t.origin_src is not None:
        src_net = str(net.network_of(t.origin_src))
        for ct in t.conntrack:
            if ct.kind == "dnat":
                out_if = next((o for n, _i, o, _c in t.request.path if n == ct.node), None)
                if out_if and _can_nat(net, ct.node):
                    out.append(Change(ct.node, "nat", nat=Nat(source=src_net, out_interface=out_if),
                                      summary=f"masquerade {src_net} going out of {out_if} on {ct.node}",
                                      hint=f"masquerade {src_net} on {ct.node}"))
    return out[:MAX_CANDIDATES]


def _masquerades(net: LabNet, t: Trace, path: Sequence[tuple[str, str | None, str | None, object]]) -> list[Change]:
    """A masquerade of the source's subnet on each router the request crossed, the last one first."""
    if t.origin_src is None:
        return []
    src_net = str(net.network_of(t.origin_src))
    out = []
    for n, _in, out_if, _came in reversed(path[1:]):
        if out_if is not None and _can_nat(net, n):
            out.append(Change(n, "nat", nat=Nat(source=src_net, out_interface=out_if),
                              summary=f"masquerade {src_net} going out of {out_if} on {n}",
                              hint=f"masquerade {src_net} on {n}"))
    return out


def _same(r: Route, text: str) -> bool:
    label = r.to
    return text in (f"{label} via {r.via}", f"{label} on {r.dev}")


def _request_came_from(t: Trace, node: str) -> str | None:
    for n, _i, _o, came in t.request.path:
        if n == node and came is not None:
            return came.ns
    return None


def find_fixes(topology: Topology, source: str, target: str, protocol: str, port: int | None,
               first: Trace, rp_filter: int = 0) -> Iterator[tuple[Fix, str]]:
    """Up to MAX_FIXES (fix, hint) pairs, fewest changes first; every one re-checked reachable and valid."""
    from .validate import read  # late: validate is heavier and only needed for offered fixes

    trials = 0
    found: list[tuple[Change, ...]] = []
    frontier: list[tuple[tuple[Change, ...], Topology, Trace]] = [((), topology, first)]
    for _depth in range(MAX_STEPS):
        nxt: list[tuple[tuple[Change, ...], Topology, Trace]] = []
        for changes, topo, t in frontier:
            net = LabNet(topo, rp_filter)
            for ch in candidates(net, t):
                if trials >= MAX_TRIALS or len(found) >= MAX_FIXES:
                    break
                trials += 1
                new_topo = apply_change(topo, ch)
                combo = (*changes, ch)
                try:
                    new_t = trace(LabNet(new_topo, rp_filter), source, target, protocol, port)
                except ValueError:
                    continue
                if new_t.verdict == REACHABLE:
                    doc = new_topo.to_document()
                    _fixed, problems = read(doc)
                    if not problems and not any(set(combo) == set(f) for f in found):
                        found.append(combo)
                        summary = "; ".join(c.summary for c in combo)
                        yield Fix(node=combo[0].node, summary=summary, document=doc,
                                  changes=[c.to_dict() for c in combo]), " and ".join(c.hint for c in combo)
                elif _progressed(t, new_t):
                    nxt.append((combo, new_topo, new_t))
        frontier = nxt
        if found or not frontier:
            return


def _key(t: Trace) -> tuple[str, str | None, bool, int] | None:
    if t.failed is None:
        return None
    return (t.failed.node, t.failure, t.failed is t.request, len(t.hops))


def _progressed(before: Trace, after: Trace) -> bool:
    """A change is worth building on when the failure moved: to another hop, another kind, further on."""
    return _key(after) != _key(before)


__all__ = ["find_fixes", "candidates", "apply_change", "Change", "REQUEST"]
