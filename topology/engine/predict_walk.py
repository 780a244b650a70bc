"""One packet walked hop by hop through a `LabNet`, in the order the Linux stack takes its decisions:
PREROUTING (a port forward's DNAT, or conntrack undoing a masquerade for a reply), the route lookup
(local, then the forwarding setting, then longest prefix), POSTROUTING (MASQUERADE, or conntrack
undoing a DNAT for a reply), the neighbour on the segment, the bridges in between.

NAT rules only ever see the first packet of a connection (the request); replies are translated by
the conntrack entries the request left on its way, never by the rules. Pure.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .predict_net import IP, Attach, LabNet, RouteEntry

REQUEST, REPLY = "request", "reply"
MAX_TTL = 64


@dataclass(frozen=True)
class Lookup:
    """The route decision a hop stands for, as `ip route get DST [from SRC iif IIF]` would be asked in
    that node, and the answer the design expects: "local", "via GW dev DEV", "dev DEV", "no route" or
    "not forwarding". The kernel is asked the same question to find where design and kernel part."""

    dst: str
    src: str | None
    iif: str | None
    expect: str


@dataclass(frozen=True)
class Hop:
    """One step of the path; `direction` says whether it belongs to the request or the reply."""

    node: str
    in_interface: str | None
    out_interface: str | None
    action: str  # originate, route, switch, dnat, snat, deliver, drop, reply
    detail: str
    direction: str = REQUEST
    lookup: Lookup | None = None
    rule: str | None = None  # the NAT rule that matched: "nat[0]", "port_forwards[1]"

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"node": self.node, "in_interface": self.in_interface,
                                "out_interface": self.out_interface, "action": self.action,
                                "detail": self.detail, "direction": self.direction}
        if self.lookup is not None:
            d["route"] = self.lookup.expect
        if self.rule is not None:
            d["rule"] = self.rule
        return d


def route_expect(route: RouteEntry) -> str:
    return f"via {route.via} dev {route.dev}" if route.via else f"dev {route.dev}"


@dataclass
class Packet:
    src: IP | None
    dst: IP
    protocol: str
    sport: int | None = None
    dport: int | None = None

    def dst_text(self) -> str:
        return f"{self.dst}:{self.dport}" if self.dport is not None else str(self.dst)

    def src_text(self) -> str:
        return f"{self.src}:{self.sport}" if self.sport is not None else str(self.src)


@dataclass(frozen=True)
class Conntrack:
    """What a node's conntrack remembers of the request's translation (to undo it for the reply)."""

    node: str
    kind: str  # "snat" | "dnat"
    before: tuple[IP, int | None]
    after: tuple[IP, int | None]


@dataclass
class Leg:
    """The end of one walk: delivered at `node`, or dropped there for `failure`."""

    hops: list[Hop] = field(default_factory=list)
    delivered: bool = False
    node: str = ""
    packet: Packet | None = None
    in_iface: str | None = None
    failure: str | None = None  # noaddr, noroute, forwarding, neighbour, loop
    route: RouteEntry | None = None
    sent_from: IP | None = None  # the source address chosen at the origin, before any masquerade
    icmp: bool = False  # the dropping node sends an ICMP error back towards the packet's source
    came_from: Attach | None = None  # the interface the packet last came from (a previous hop)
    path: list[tuple[str, str | None, str | None, Attach | None]] = field(default_factory=list)
    # (node, in, out, came_from) of each node that handled the packet, for fixes


class Walker:
    def __init__(self, net: LabNet, conntrack: list[Conntrack]) -> None:
        self.net = net
        self.conntrack = conntrack

    def walk(self, start: str, pkt: Packet, direction: str) -> Leg:
        leg = Leg()
        node, in_iface, came_from = start, None, None
        origin = True
        ttl = MAX_TTL
        while True:
            netns = self.net.ns[node]
            leg.node, leg.packet, leg.in_iface, leg.came_from = node, pkt, in_iface, came_from
            if not origin:
                self._prerouting(leg, node, in_iface, pkt, direction)
                if not self._source_valid(node, in_iface, pkt):
                    return self._drop(leg, node, in_iface, "rp_filter", None, False, direction,
                                      f"{node} has no route back to {pkt.src} by {in_iface}, so its reverse path "
                                      f"filter (rp_filter={self.net.rp_filter}) drops the packet")
            if netns.owns(pkt.dst) is not None:
                if origin:
                    pkt.src = pkt.src or pkt.dst
                    leg.sent_from = pkt.src
                    action = "originate" if direction == REQUEST else "reply"
                    leg.hops.append(Hop(node, None, "lo", action, f"{node} sends to its own address "
                                        f"{pkt.dst_text()}", direction))
                look = Lookup(str(pkt.dst), None if origin else _s(pkt.src), None if origin else in_iface, "local")
                leg.hops.append(Hop(node, in_iface or "lo", None, "deliver",
                                    f"{pkt.dst_text()} is an address of {node}: delivered", direction, look))
                leg.path.append((node, in_iface, None, came_from))
                leg.delivered = True
                return leg
            ask = (str(pkt.dst), None if origin else _s(pkt.src), None if origin else in_iface)
            if not origin and not netns.forwarding:
                return self._drop(leg, node, in_iface, "forwarding", None, False, direction,
                                  f"{node} does not forward (forwarding is off): dropped",
                                  Lookup(*ask, "not forwarding"))
            route = netns.lookup(pkt.dst)
            if route is None:
                return self._drop(leg, node, in_iface, "noroute", None, not origin, direction,
                                  f"{node} has no route to {pkt.dst} (routes: "
                                  f"{netns.describe_routes(pkt.dst.version)}): dropped", Lookup(*ask, "no route"))
            look = Lookup(*ask, route_expect(route))
            if not origin:
                ttl -= 1
                if ttl <= 0:
                    return self._drop(leg, node, in_iface, "loop", route, True, direction,
                                      "the TTL runs out: the packet loops between routers", look)
            nexthop = route.via or pkt.dst
            if origin:
                if pkt.src is None:
                    pkt.src = netns.source_for(route.dev, nexthop)
                if pkt.src is None:
                    return self._drop(leg, node, None, "noaddr", route, False, direction,
                                      f"{node} has no address to send from")
                leg.sent_from = pkt.src
                action = "originate" if direction == REQUEST else "reply"
                verb = "sends" if direction == REQUEST else "replies"
                if direction == REPLY:
                    look = Lookup(look.dst, _s(pkt.src), None, look.expect)
                leg.hops.append(Hop(node, None, route.dev, action,
                                    f"{node} {verb} {pkt.src_text()} -> {pkt.dst_text()} by its route "
                                    f"{route.text}", direction, look))
            else:
                leg.hops.append(Hop(node, in_iface, route.dev, "route",
                                    f"{node} forwards to {pkt.dst} by its route {route.text}", direction, look))
            leg.path.append((node, in_iface, route.dev, came_from))
            if not self._postrouting(leg, node, route, nexthop, pkt, direction):
                return self._drop(leg, node, in_iface, "noaddr", route, False, direction,
                                  f"{route.dev} of {node} has no address to masquerade with")
            assert route.dev is not None
            me = Attach(node, route.dev)
            peer = self.net.neighbour(node, route.dev, nexthop)
            if peer is None:
                return self._drop(leg, node, in_iface, "neighbour", route, not origin, direction,
                                  f"nobody on the segment of {node}'s {route.dev} answers ARP for {nexthop}")
            for bridge, i, o in self.net.bridge_path(self.net.attach(node, route.dev) or me, peer):
                leg.hops.append(Hop(bridge, i, o, "switch", f"bridge {bridge} switches the frame from {i} to {o}",
                                    direction))
            node, in_iface, came_from, origin = peer.ns, peer.iface, me, False

    def _source_valid(self, node: str, in_iface: str | None, pkt: Packet) -> bool:
        """rp_filter: strict (1) wants the route back to the source through the interface the packet came
        in by, loose (2) any route back; 0 accepts everything."""
        mode = self.net.rp_filter
        if mode == 0 or pkt.src is None:
            return True
        back = self.net.ns[node].lookup(pkt.src)
        if back is None:
            return False
        return mode != 1 or back.dev == in_iface

    def _drop(self, leg: Leg, node: str, in_iface: str | None, failure: str, route: RouteEntry | None,
              icmp: bool, direction: str, detail: str, look: Lookup | None = None) -> Leg:
        leg.hops.append(Hop(node, in_iface, route.dev if route else None, "drop", detail, direction, look))
        leg.failure, leg.route, leg.icmp = failure, route, icmp
        return leg

    def _prerouting(self, leg: Leg, node: str, in_iface: str | None, pkt: Packet, direction: str) -> None:
        netns = self.net.ns[node]
        if direction == REQUEST:
            if pkt.protocol not in ("tcp", "udp"):
                return
            for i, pf in enumerate(netns.port_forwards):
                if pf.protocol == pkt.protocol and pf.port == pkt.dport and pf.in_interface in (None, in_iface):
                    to = ipaddress.ip_address(pf.to)
                    before = (pkt.dst, pkt.dport)
                    pkt.dst, pkt.dport = to, pf.to_port
                    self.conntrack.append(Conntrack(node, "dnat", before, (to, pf.to_port)))
                    leg.hops.append(Hop(node, in_iface, None, "dnat",
                                        f"port forward on {node}: {before[0]}:{before[1]} becomes "
                                        f"{pkt.dst_text()}", direction, rule=f"port_forwards[{i}]"))
                    return
            return
        for ct in self.conntrack:
            if ct.node == node and ct.kind == "snat" and ct.after == (pkt.dst, pkt.dport):
                pkt.dst, pkt.dport = ct.before
                leg.hops.append(Hop(node, in_iface, None, "snat",
                                    f"{node}'s conntrack undoes the masquerade: the reply goes to "
                                    f"{pkt.dst_text()}", direction))
                return

    def _postrouting(self, leg: Leg, node: str, route: RouteEntry, nexthop: IP, pkt: Packet,
                     direction: str) -> bool:
        netns = self.net.ns[node]
        if direction == REPLY:
            for ct in self.conntrack:
                if ct.node == node and ct.kind == "dnat" and ct.after == (pkt.src, pkt.sport):
                    pkt.src, pkt.sport = ct.before
                    leg.hops.append(Hop(node, None, route.dev, "dnat",
                                        f"{node}'s conntrack undoes the port forward: the reply now comes "
                                        f"from {pkt.src_text()}", direction))
                    return True
            return True
        assert pkt.src is not None
        for i, nat in enumerate(netns.nat):
            if nat.out_interface not in (None, route.dev):
                continue
            if nat.source is not None:
                src_net = ipaddress.ip_network(nat.source)
                if src_net.version != pkt.src.version or pkt.src not in src_net:
                    continue
            new = netns.source_for(route.dev, nexthop)
            if new is None or new.version != pkt.src.version:
                return False
            before = (pkt.src, pkt.sport)
            pkt.src = new
            self.conntrack.append(Conntrack(node, "snat", before, (new, pkt.sport)))
            leg.hops.append(Hop(node, None, route.dev, "snat",
                                f"{node} masquerades {before[0]} as {new} going out of {route.dev}", direction,
                                rule=f"nat[{i}]"))
            return True
        return True


def _s(ip: IP | None) -> str | None:
    return str(ip) if ip is not None else None
