"""The lab seen as Linux sees it, for the predictor: namespaces, their layer-3 interfaces, the layer-2
segments that join them (a veth pair, or bridges and their ports), and each namespace's route table.

Built once per Topology and only read afterwards: the predictor walks packets over it, the fix search
builds one per candidate document. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from dataclasses import dataclass, field

from .model import BRIDGE, IMPLICIT_HOST, Nat, Node, PortForward, Topology

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Iface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Net = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RouteEntry:
    """One line of `ip route`: a connected subnet (`via` None, `connected`) or a static route."""

    to: Net
    dev: str | None
    via: IP | None
    connected: bool
    text: str  # as `ip route` would print it, for reasons


@dataclass(frozen=True)
class Attach:
    """Where an L3 interface meets its segment: a bridge port (bridge, port name) or a bare veth."""

    ns: str
    iface: str
    bridge: str | None = None
    port: str | None = None  # the bridge port name; None with a bridge: the bridge's own device


@dataclass
class Segment:
    members: list[Attach] = field(default_factory=list)
    bridges: set[str] = field(default_factory=set)


@dataclass
class NetNs:
    node: str
    ifaces: dict[str, list[Iface]] = field(default_factory=dict)  # L3 interfaces (bridge ports excluded)
    routes: list[RouteEntry] = field(default_factory=list)
    forwarding: bool = False
    nat: tuple[Nat, ...] = ()
    port_forwards: tuple[PortForward, ...] = ()

    def owns(self, ip: IP) -> str | None:
        """The interface holding this address, if the namespace has it (Linux answers on any)."""
        for name, addrs in self.ifaces.items():
            if any(a.ip == ip for a in addrs):
                return name
        return None

    def lookup(self, dst: IP) -> RouteEntry | None:
        """Longest prefix wins; on a tie the connected route (added first) wins, as in the main table."""
        best: RouteEntry | None = None
        for r in self.routes:
            if r.to.version == dst.version and dst in r.to and (best is None or r.to.prefixlen > best.to.prefixlen):
                best = r
        return best

    def source_for(self, dev: str | None, nexthop: IP) -> IP | None:
        """inet_select_addr: an address on the out device in the next hop's subnet, else its first,
        else the first address of the namespace."""
        fam = nexthop.version
        on_dev = [a for a in self.ifaces.get(dev or "", []) if a.version == fam]
        for a in on_dev:
            if nexthop in a.network:
                return a.ip
        if on_dev:
            return on_dev[0].ip
        for addrs in self.ifaces.values():
            for a in addrs:
                if a.version == fam:
                    return a.ip
        return None

    def describe_routes(self, version: int) -> str:
        shown = [r.text for r in self.routes if r.to.version == version]
        return ", ".join(shown) if shown else "none"


class LabNet:
    """Namespaces and segments of one Topology."""

    def __init__(self, topology: Topology, rp_filter: int = 0) -> None:
        self.topology = topology
        self.rp_filter = rp_filter  # the namespaces' reverse path filter: 0 off, 1 strict, 2 loose
        self.host = topology.host_name or IMPLICIT_HOST
        self.ns: dict[str, NetNs] = {}
        self.segment_of: dict[tuple[str, str], int] = {}  # (ns, L3 iface) -> segment index
        self.segments: list[Segment] = []
        self.bridge_links: dict[str, list[tuple[str, str, str]]] = {}  # bridge -> (my port, other bridge, its port)
        self._build()

    def node_ns(self, node: str) -> str:
        """The namespace a node's packets start from: a bridge's is the host's."""
        n = self.topology.node(node)
        return self.host if n.kind == BRIDGE else n.name

    def _build(self) -> None:
        topo = self.topology
        for n in topo.nodes:
            if n.kind != BRIDGE:
                self.ns[n.name] = NetNs(node=n.name, forwarding=n.forwarding, nat=n.nat,
                                        port_forwards=n.port_forwards)
        kinds = {n.name: n.kind for n in topo.nodes}
        # bridges: their own device in the host, joined into components by bridge-to-bridge cables
        parent: dict[str, str] = {n.name: n.name for n in topo.nodes if n.kind == BRIDGE}

        def find(b: str) -> str:
            while parent[b] != b:
                parent[b] = parent[parent[b]]
                b = parent[b]
            return b

        for lk in topo.links:
            if kinds.get(lk.a.node) == BRIDGE and kinds.get(lk.b.node) == BRIDGE:
                parent[find(lk.a.node)] = find(lk.b.node)
                self.bridge_links.setdefault(lk.a.node, []).append((lk.a.interface, lk.b.node, lk.b.interface))
                self.bridge_links.setdefault(lk.b.node, []).append((lk.b.interface, lk.a.node, lk.a.interface))
        comp_index: dict[str, int] = {}
        for b in parent:
            root = find(b)
            if root not in comp_index:
                comp_index[root] = len(self.segments)
                self.segments.append(Segment())
            seg = self.segments[comp_index[root]]
            seg.bridges.add(b)
        for n in topo.nodes:
            if n.kind == BRIDGE and self.host in self.ns:
                self._add_iface(self.host, n.name, n.addresses)
                idx = comp_index[find(n.name)]
                self.segments[idx].members.append(Attach(self.host, n.name, bridge=n.name))
                self.segment_of[(self.host, n.name)] = idx
        for lk in topo.links:
            ka, kb = kinds.get(lk.a.node), kinds.get(lk.b.node)
            if ka == BRIDGE and kb == BRIDGE:
                continue
            ends = [e for e, k in ((lk.a, ka), (lk.b, kb)) if k != BRIDGE]
            for e in ends:
                self._add_iface(e.node, e.interface, e.addresses)
            if len(ends) == 2:
                self.segments.append(Segment(members=[Attach(e.node, e.interface) for e in ends]))
                for e in ends:
                    self.segment_of[(e.node, e.interface)] = len(self.segments) - 1
            else:
                e = ends[0]
                port = lk.b if e is lk.a else lk.a
                idx = comp_index[find(port.node)]
                self.segments[idx].members.append(Attach(e.node, e.interface, bridge=port.node,
                                                         port=port.interface))
                self.segment_of[(e.node, e.interface)] = idx
        for n in topo.nodes:
            if n.kind != BRIDGE:
                self._add_routes(n)

    def _add_iface(self, ns: str, name: str, addresses: tuple[str, ...]) -> None:
        if ns not in self.ns:
            return
        self.ns[ns].ifaces[name] = [ipaddress.ip_interface(a) for a in addresses]

    def _add_routes(self, node: Node) -> None:
        netns = self.ns[node.name]
        seen: set[Net] = set()
        for name, addrs in netns.ifaces.items():
            for a in addrs:
                if a.network not in seen:
                    seen.add(a.network)
                    netns.routes.append(RouteEntry(to=a.network, dev=name, via=None, connected=True,
                                                   text=f"{a.network} on {name}"))
        for r in node.routes:
            via = ipaddress.ip_address(r.via) if r.via else None
            fam = 6 if (":" in r.to or (r.via and ":" in r.via)) else 4
            to = ipaddress.ip_network(r.to) if r.to != "default" else ipaddress.ip_network(
                "::/0" if fam == 6 else "0.0.0.0/0")
            dev = r.dev
            if dev is None and via is not None:
                dev = next((name for name, addrs in netns.ifaces.items() for a in addrs if via in a.network), None)
            label = "default" if r.to == "default" else str(to)
            text = f"{label} via {via}" if via else f"{label} on {dev}"
            netns.routes.append(RouteEntry(to=to, dev=dev, via=via, connected=False, text=text))

    # -- the segment -----------------------------------------------------------------------------------

    def neighbour(self, ns: str, iface: str, ip: IP) -> Attach | None:
        """Who answers ARP (or ND) for `ip` on the segment of (ns, iface): a namespace owning it (IPv4:
        on any of its interfaces, as Linux does by default; IPv6: on that very interface)."""
        idx = self.segment_of.get((ns, iface))
        if idx is None:
            return None
        for m in self.segments[idx].members:
            if (m.ns, m.iface) == (ns, iface):
                continue
            owner = self.ns[m.ns]
            if ip.version == 4 and owner.owns(ip) is not None:
                return m
            if any(a.ip == ip for a in owner.ifaces.get(m.iface, [])):
                return m
        return None

    def attach(self, ns: str, iface: str) -> Attach | None:
        idx = self.segment_of.get((ns, iface))
        if idx is None:
            return None
        return next((m for m in self.segments[idx].members if (m.ns, m.iface) == (ns, iface)), None)

    def peers(self, ns: str, iface: str) -> list[Attach]:
        idx = self.segment_of.get((ns, iface))
        if idx is None:
            return []
        return [m for m in self.segments[idx].members if (m.ns, m.iface) != (ns, iface)]

    def bridge_path(self, a: Attach, b: Attach) -> list[tuple[str, str, str]]:
        """The bridges a frame crosses from a to b, each as (bridge, in port, out port); a port of None
        is the bridge's own device (the host). Empty for a bare veth pair."""
        if a.bridge is None or b.bridge is None:
            return []
        prev: dict[str, tuple[str, str, str] | None] = {a.bridge: None}
        todo = deque([a.bridge])
        while todo:
            cur = todo.popleft()
            if cur == b.bridge:
                break
            for my_port, other, other_port in self.bridge_links.get(cur, []):
                if other not in prev:
                    prev[other] = (cur, my_port, other_port)
                    todo.append(other)
        chain: list[tuple[str, str | None, str | None]] = []
        cur = b.bridge
        out_port: str | None = b.port or b.bridge
        while True:
            step = prev.get(cur)
            if step is None:
                chain.append((cur, a.port or a.bridge, out_port))
                break
            before, before_port, in_port = step
            chain.append((cur, in_port, out_port))
            out_port, cur = before_port, before
        chain.reverse()
        return [(br, i or br, o or br) for br, i, o in chain]

    def addresses(self) -> dict[str, list[str]]:
        """Each node's addresses in document order (a node name as a target means its first)."""
        out: dict[str, list[str]] = {n.name: [a.split("/")[0] for a in n.addresses] for n in self.topology.nodes}
        for lk in self.topology.links:
            for e in (lk.a, lk.b):
                out[e.node].extend(a.split("/")[0] for a in e.addresses)
        if self.host in out:  # the host also holds its bridges' addresses
            for n in self.topology.nodes:
                if n.kind == BRIDGE:
                    out[self.host].extend(a.split("/")[0] for a in n.addresses)
        return out

    def owner(self, ip: IP) -> str | None:
        """The namespace that holds an address, if any."""
        for name, netns in self.ns.items():
            if netns.owns(ip) is not None:
                return name
        return None

    def network_of(self, ip: IP) -> Net:
        """The subnet an address sits on in the design (a lone address when nobody holds it)."""
        for netns in self.ns.values():
            for addrs in netns.ifaces.values():
                for a in addrs:
                    if a.ip == ip:
                        return a.network
        return ipaddress.ip_network(ip)
