"""The hop-by-hop trace of one request and its reply, and the result types of a prediction.

Split from predict.py so that predict_fix.py (which re-traces candidate fixes) and predict.py (which
offers them) both import this module and not each other. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from .model import Topology
from .predict_net import IP, LabNet
from .predict_walk import REPLY, REQUEST, Conntrack, Hop, Leg, Packet, Walker

REACHABLE, UNREACHABLE, NO_REPLY = "reachable", "unreachable", "no-reply"
VERDICTS = (REACHABLE, UNREACHABLE, NO_REPLY)
PROTOCOLS = ("icmp", "tcp", "udp")

@dataclass(frozen=True)
class Fix:
    """A change inside the lab that makes the pair reachable, as words and as the whole new document."""

    node: str
    summary: str
    document: dict[str, Any] = field(hash=False, compare=False)
    changes: list[dict[str, Any]] = field(default_factory=list, hash=False, compare=False)
    # each {"node", "kind": "route"|"nat"|"forwarding"|"reroute", "route"?, "nat"?, "replaces"?}: what an
    # editor applies to its current drawing (the document is the explained version with them)

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "summary": self.summary, "document": self.document, "changes": self.changes}


@dataclass(frozen=True)
class Prediction:
    verdict: str
    reason: str
    hops: list[Hop]
    fixes: list[Fix]
    failed_hop: int | None = None  # index in hops of the failing hop
    final_node: str | None = None  # where the request is delivered (after any port forward)
    final_address: str | None = None
    final_port: int | None = None
    target_address: str = ""

    def to_dict(self) -> dict[str, Any]:
        final = None
        if self.final_node is not None:
            final = {"node": self.final_node, "address": self.final_address, "port": self.final_port}
        return {"verdict": self.verdict, "reason": self.reason, "hops": [h.to_dict() for h in self.hops],
                "fix": [f.to_dict() for f in self.fixes], "failed_hop": self.failed_hop, "final": final,
                "target_address": self.target_address}


@dataclass
class Trace:
    """The walk of one request and its reply (or its ICMP error) before words are put on it."""

    verdict: str
    hops: list[Hop]
    source: str
    src_ns: str
    target: IP
    request: Leg
    reply: Leg | None = None
    failed: Leg | None = None  # the leg that failed: the request, or the reply
    failure: str | None = None  # the failed leg's failure, or "bypass" (reply from the wrong address)
    icmp_back: bool = False
    conntrack: list[Conntrack] = field(default_factory=list)
    origin_src: IP | None = None


def resolve(net: LabNet, target: str) -> IP:
    """A node name means its first address (as ping does); anything else must be an address."""
    addresses = net.addresses()
    if target in addresses:
        if not addresses[target]:
            raise ValueError(f"node {target!r} has no address to reach")
        return ipaddress.ip_address(addresses[target][0])
    try:
        return ipaddress.ip_address(target)
    except ValueError:
        raise ValueError(f"{target!r} is neither a node of the lab nor an IP address") from None


def check_request(topology: Topology, source: str, protocol: str, port: int | None) -> None:
    if not topology.has_node(source):
        raise ValueError(f"{source!r} is not a node of this lab")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    if protocol != "icmp" and (port is None or not 1 <= port <= 65535):
        raise ValueError(f"{protocol} needs a port from 1 to 65535")


def trace(net: LabNet, source: str, target: str, protocol: str = "icmp", port: int | None = None) -> Trace:
    src_ns = net.node_ns(source)
    dst = resolve(net, target)
    conntrack: list[Conntrack] = []
    walker = Walker(net, conntrack)
    pkt = Packet(None, dst, protocol, dport=port if protocol != "icmp" else None)
    req = walker.walk(src_ns, pkt, REQUEST)
    t = Trace(verdict=NO_REPLY, hops=list(req.hops), source=source, src_ns=src_ns, target=dst, request=req,
              conntrack=conntrack, origin_src=req.sent_from)
    if not req.delivered:
        t.failed, t.failure = req, req.failure
        if req.came_from is None:
            t.verdict = UNREACHABLE
        elif req.icmp and req.packet is not None and req.packet.src is not None:
            t.icmp_back = _icmp_gets_back(net, conntrack, req, src_ns, req.sent_from)
            t.verdict = UNREACHABLE if t.icmp_back else NO_REPLY
        return t
    final = req.packet
    assert final is not None and final.src is not None
    rpkt = Packet(final.dst, final.src, protocol, sport=final.dport, dport=final.sport)
    rep = walker.walk(req.node, rpkt, REPLY)
    t.reply = rep
    t.hops.extend(rep.hops)
    if not rep.delivered:
        t.failed, t.failure = rep, rep.failure
        return t
    back = rep.packet
    assert back is not None
    wanted_port = port if protocol != "icmp" else None
    if rep.node == src_ns and back.dst == req.sent_from and back.src == dst and back.sport == wanted_port:
        t.verdict = REACHABLE
    else:
        t.failed, t.failure = rep, "bypass"
    return t


def _icmp_gets_back(net: LabNet, conntrack: list[Conntrack], req: Leg, src_ns: str, origin: IP | None) -> bool:
    """A router that cannot forward sends an ICMP error to the packet's source; conntrack on the way
    undoes a masquerade for it as for a reply. Does it reach the source?"""
    assert req.packet is not None and req.packet.src is not None
    netns = net.ns[req.node]
    back = netns.lookup(req.packet.src)
    src = netns.source_for(back.dev if back else None, (back.via if back and back.via else req.packet.src))
    if src is None:
        return False
    leg = Walker(net, conntrack).walk(req.node, Packet(src, req.packet.src, "icmp"), REPLY)
    return leg.delivered and leg.node == src_ns and leg.packet is not None and leg.packet.dst == origin
