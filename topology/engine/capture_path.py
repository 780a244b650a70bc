"""Where to capture to see one packet's whole way: a (node, interface) on every hop of a path.

`path_points` is the one function the rest calls. The path is the request's way as the reachability
predictor walks it (`topology.engine.predict`: routes, bridges, NAT), up to where it stops, so that a
capture of "the path" also shows the hop where the request dies; when the predictor sees the request
go nowhere (no route at the source), a plain fewest-cables search over the design stands in.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from dataclasses import dataclass

from .capture import Point
from .model import BRIDGE, IMPLICIT_HOST, Topology
from .predict import predict
from .predict_walk import REQUEST


@dataclass(frozen=True)
class Hop:
    node: str
    in_interface: str | None
    out_interface: str | None


class NoPath(ValueError):
    """No cable path joins the two ends (the message says which end and why)."""


def target_node(topology: Topology, target: str) -> str:
    """A node name as it is, an address as the node that holds it in the design."""
    if topology.has_node(target):
        return target
    try:
        wanted = ipaddress.ip_address(target)
    except ValueError:
        raise NoPath(f"{target!r} is neither a node of the lab nor an address") from None
    for lk in topology.links:
        for end in (lk.a, lk.b):
            if any(ipaddress.ip_interface(a).ip == wanted for a in end.addresses):
                return end.node
    for node in topology.nodes:
        if any(ipaddress.ip_interface(a).ip == wanted for a in node.addresses):
            return node.name
    raise NoPath(f"no interface of the design has the address {target}: name a node or one of its addresses")


def _neighbours(topology: Topology) -> dict[str, list[tuple[str, str, str]]]:
    """node -> [(out interface, next node, in interface)], cables both ways plus bridge <-> host."""
    out: dict[str, list[tuple[str, str, str]]] = {n.name: [] for n in topology.nodes}
    for lk in topology.links:
        out[lk.a.node].append((lk.a.interface, lk.b.node, lk.b.interface))
        out[lk.b.node].append((lk.b.interface, lk.a.node, lk.a.interface))
    host = topology.host_name or IMPLICIT_HOST
    if topology.has_node(host):
        for n in topology.nodes:
            if n.kind == BRIDGE:
                out[n.name].append((n.name, host, n.name))
                out[host].append((n.name, n.name, n.name))
    return out


def path_hops(topology: Topology, source: str, target: str) -> list[Hop]:
    """The request's hops from `source` to `target` (a node or an address) as the predictor walks them,
    else the fewest cables."""
    if not topology.has_node(source):
        raise NoPath(f"{source!r} is not a node of the lab")
    goal = target_node(topology, target)
    try:
        walked = predict(topology, source, target, with_fixes=False).hops
    except ValueError:
        walked = []
    hops: list[Hop] = []
    for h in walked:
        if h.direction != REQUEST or "lo" in (h.in_interface, h.out_interface):
            continue  # a node talking to itself crosses no cable
        if hops and hops[-1].node == h.node:  # one node, several steps (route, then snat): one hop
            last = hops.pop()
            h_in, h_out = last.in_interface or h.in_interface, h.out_interface or last.out_interface
            hops.append(Hop(h.node, h_in, h_out))
        else:
            hops.append(Hop(h.node, h.in_interface, h.out_interface))
    if any(h.out_interface for h in hops):
        return hops
    return _fewest_cables(topology, source, goal)


def _fewest_cables(topology: Topology, source: str, goal: str) -> list[Hop]:
    graph = _neighbours(topology)
    came: dict[str, tuple[str, str, str] | None] = {source: None}  # node -> (previous, its out, my in)
    queue = deque([source])
    while queue and goal not in came:
        node = queue.popleft()
        for out_if, nxt, in_if in graph[node]:
            if nxt not in came:
                came[nxt] = (node, out_if, in_if)
                queue.append(nxt)
    if goal not in came:
        raise NoPath(f"no cable path joins {source} and {goal}")
    hops: list[Hop] = []
    at: str = goal
    leaving: str | None = None
    while True:
        step = came[at]
        hops.append(Hop(at, step[2] if step else None, leaving))
        if step is None:
            break
        at, leaving = step[0], step[1]
    return hops[::-1]


def points_from_hops(hops: list[Hop]) -> list[Point]:
    """One capture point per cable crossed: each hop's way out (the last hop's way in when alone)."""
    points: list[Point] = []
    for hop in hops:
        if hop.out_interface and Point(hop.node, hop.out_interface) not in points:
            points.append(Point(hop.node, hop.out_interface))
    if not points and hops and hops[-1].in_interface:
        points.append(Point(hops[-1].node, hops[-1].in_interface))
    return points


def path_points(topology: Topology, source: str, target: str) -> list[Point]:
    """Where to capture to see the way from `source` to `target` hop by hop."""
    return points_from_hops(path_hops(topology, source, target))
