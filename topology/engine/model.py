"""The `netdesigner/v1` document as typed, frozen objects.

Frozen so that a parsed Topology can be shared between threads, cached, hashed and compared with
the previously applied one (the diff of two Topologies decides what needs observing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NAMESPACE = "namespace"
BRIDGE = "bridge"
HOST = "host"
EXTERNAL = "external"
KINDS = (NAMESPACE, BRIDGE, HOST, EXTERNAL)
IMPLICIT_HOST = "host"


@dataclass(frozen=True)
class Route:
    to: str  # a CIDR (network) or "default"
    via: str | None = None
    dev: str | None = None


@dataclass(frozen=True)
class Nat:
    action: str = "masquerade"
    source: str | None = None
    out_interface: str | None = None


@dataclass(frozen=True)
class PortForward:
    protocol: str
    port: int
    to: str
    to_port: int
    in_interface: str | None = None


@dataclass(frozen=True)
class Node:
    name: str
    kind: str
    forwarding: bool = False
    routes: tuple[Route, ...] = ()
    addresses: tuple[str, ...] = ()
    nat: tuple[Nat, ...] = ()
    port_forwards: tuple[PortForward, ...] = ()
    implicit: bool = False  # the undrawn host of a lab with bridges


@dataclass(frozen=True)
class Endpoint:
    node: str
    interface: str
    addresses: tuple[str, ...] = ()
    mac: str | None = None


@dataclass(frozen=True)
class Link:
    a: Endpoint
    b: Endpoint
    mtu: int | None = None


@dataclass(frozen=True)
class Check:
    """What the applied lab must show (`checks` in the document), run by `lab test`."""

    source: str  # "from"
    to: str
    expect: str
    protocol: str = "icmp"
    port: int | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"from": self.source, "to": self.to}
        if self.protocol != "icmp":
            d["protocol"] = self.protocol
        if self.port is not None:
            d["port"] = self.port
        d["expect"] = self.expect
        if self.name:
            d["name"] = self.name
        return d


@dataclass(frozen=True)
class Topology:
    name: str
    nodes: tuple[Node, ...]
    links: tuple[Link, ...]
    description: str = ""
    layout: tuple[tuple[str, float, float], ...] = ()
    format: str = "netdesigner/v1"
    checks: tuple[Check, ...] = ()
    _index: dict[str, Node] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({n.name: n for n in self.nodes})

    def node(self, name: str) -> Node:
        return self._index[name]

    def has_node(self, name: str) -> bool:
        return name in self._index

    @property
    def host_name(self) -> str | None:
        """The node that holds bridges and bridge ports (explicit host, else implicit), if any."""
        for n in self.nodes:
            if n.kind == HOST:
                return n.name
        return None

    def to_document(self) -> dict[str, Any]:
        """Back to the JSON shape (implicit host left out, as it is not drawn)."""
        nodes: list[dict[str, object]] = []
        for n in self.nodes:
            if n.implicit:
                continue
            d: dict[str, object] = {"name": n.name, "kind": n.kind}
            if n.forwarding != (n.kind == HOST):
                d["forwarding"] = n.forwarding
            if n.routes:
                d["routes"] = [{k: v for k, v in (("to", r.to), ("via", r.via), ("dev", r.dev)) if v}
                               for r in n.routes]
            if n.addresses:
                d["addresses"] = list(n.addresses)
            if n.nat:
                d["nat"] = [{k: v for k, v in (("action", x.action), ("source", x.source),
                                                ("out_interface", x.out_interface)) if v} for x in n.nat]
            if n.port_forwards:
                d["port_forwards"] = [
                    {k: v for k, v in (("protocol", p.protocol), ("port", p.port), ("to", p.to),
                                       ("to_port", p.to_port), ("in_interface", p.in_interface)) if v}
                    for p in n.port_forwards]
            nodes.append(d)

        def end(e: Endpoint) -> dict[str, object]:
            d: dict[str, object] = {"node": e.node, "interface": e.interface}
            if e.addresses:
                d["addresses"] = list(e.addresses)
            if e.mac:
                d["mac"] = e.mac
            return d

        links: list[dict[str, object]] = []
        for lk in self.links:
            ld: dict[str, object] = {"a": end(lk.a), "b": end(lk.b)}
            if lk.mtu is not None:
                ld["mtu"] = lk.mtu
            links.append(ld)
        doc: dict[str, object] = {"format": self.format, "name": self.name}
        if self.description:
            doc["description"] = self.description
        doc["nodes"] = nodes
        doc["links"] = links
        if self.layout:
            doc["layout"] = {name: {"x": x, "y": y} for name, x, y in self.layout}
        if self.checks:
            doc["checks"] = [c.to_dict() for c in self.checks]
        return doc
