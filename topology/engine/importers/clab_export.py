"""A lab as a containerlab topology: linux nodes whose `exec` lines build the same addresses, routes,
forwarding and NAT; bridges as `kind: bridge`; the lab's host as containerlab's `host` endpoint.

containerlab cannot configure the host itself, so what the host needs (bridge addresses, its routes
and NAT) is written as `#   host: COMMAND` comment lines to run by hand; the clab importer reads them
back, together with our labels (positions, external nodes), so export then import gives the same
document.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..model import BRIDGE, EXTERNAL, HOST, Endpoint, Node, Topology
from .clab import KIND_LABEL

DEFAULT_IMAGE = "alpine:3"  # has busybox `ip`, enough for the exec lines below


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _node_commands(n: Node) -> list[str]:
    out = []
    if n.kind != HOST and n.forwarding:
        out.append("sysctl -w net.ipv4.ip_forward=1")
    if n.kind == HOST and not n.forwarding:
        out.append("sysctl -w net.ipv4.ip_forward=0")
    for r in n.routes:
        words = ["ip", "route", "add", r.to]
        if r.via:
            words += ["via", r.via]
        if r.dev:
            words += ["dev", r.dev]
        out.append(" ".join(words))
    for nat in n.nat:
        words = ["iptables", "-t", "nat", "-A", "POSTROUTING"]
        if nat.source:
            words += ["-s", nat.source]
        if nat.out_interface:
            words += ["-o", nat.out_interface]
        out.append(" ".join(words + ["-j", "MASQUERADE"]))
    for pf in n.port_forwards:
        words = ["iptables", "-t", "nat", "-A", "PREROUTING"]
        if pf.in_interface:
            words += ["-i", pf.in_interface]
        words += ["-p", pf.protocol, "--dport", str(pf.port), "-j", "DNAT", "--to-destination",
                  f"{pf.to}:{pf.to_port}"]
        out.append(" ".join(words))
    return out


def export_clab(topology: Topology, *, image: str = DEFAULT_IMAGE) -> str:
    host = topology.host_name
    layout = {name: (x, y) for name, x, y in topology.layout}
    addresses: dict[str, list[str]] = {}
    for lk in topology.links:
        for e in (lk.a, lk.b):
            for a in e.addresses:
                addresses.setdefault(e.node, []).append(f"ip addr add {a} dev {e.interface}")
    nodes: dict[str, Any] = {}
    host_lines: list[str] = []
    for n in topology.nodes:
        if n.kind == HOST:
            host_lines += addresses.get(n.name, []) + _node_commands(n)
            continue
        if n.kind == BRIDGE:
            nodes[n.name] = {"kind": "bridge"}
            host_lines[:0] = [f"ip addr add {a} dev {n.name}" for a in n.addresses]
        else:
            node: dict[str, Any] = {"kind": "linux", "image": image}
            if any(e.node == n.name and e.interface == "eth0" for lk in topology.links for e in (lk.a, lk.b)):
                node["network-mode"] = "none"  # eth0 is a cable here, not containerlab's management port
            execs = addresses.get(n.name, []) + _node_commands(n)
            if execs:
                node["exec"] = execs
            nodes[n.name] = node
        labels: dict[str, str] = {}
        if n.kind == EXTERNAL:
            labels[KIND_LABEL] = "external"
        if n.name in layout:
            labels["graph-posX"], labels["graph-posY"] = (_fmt(v) for v in layout[n.name])
        if labels:
            nodes[n.name]["labels"] = labels

    def end(e: Endpoint) -> str:
        return f"{'host' if e.node == host else e.node}:{e.interface}"

    links: list[dict[str, Any]] = []
    for lk in topology.links:
        if lk.mtu is None and not lk.a.mac and not lk.b.mac:
            links.append({"endpoints": [end(lk.a), end(lk.b)]})
            continue
        long: dict[str, Any] = {"type": "veth"}
        if lk.mtu is not None:
            long["mtu"] = lk.mtu
        long["endpoints"] = [{"node": end(e).split(":")[0], "interface": e.interface, **({"mac": e.mac} if e.mac else {})}
                             for e in (lk.a, lk.b)]
        links.append(long)
    header = [f"# containerlab topology of the NetDesigner lab {topology.name!r}."]
    if topology.description:
        header.append("# description: " + " ".join(topology.description.split()))
    bridges = [n.name for n in topology.nodes if n.kind == BRIDGE]
    if bridges:
        header.append("# containerlab expects each bridge made on the host before `containerlab deploy`:")
        header += [f"#   ip link add {b} type bridge && ip link set {b} up" for b in bridges]
    if host_lines:
        header.append("# and the host set up by hand after it (the lab's host: addresses, routes, NAT):")
        header += [f"#   host: {line}" for line in host_lines]
    if host is not None and host in layout and not next(n for n in topology.nodes if n.name == host).implicit:
        header.append(f"# host-layout: {_fmt(layout[host][0])} {_fmt(layout[host][1])}")
    body = yaml.safe_dump({"name": topology.name, "topology": {"nodes": nodes, "links": links}},
                          sort_keys=False, default_flow_style=False, width=200)
    return "\n".join(header) + "\n" + body
