"""Structural pass: JSON shapes to typed objects, every shape problem reported with its path.

Separated from the cross-reference rules so that `validate.py` can assume well-typed objects, and so
an unknown field anywhere is refused by one mechanism (`_fields`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from . import fields as F
from .model import HOST, KINDS, Endpoint, Link, Nat, Node, PortForward, Route


class Reader:
    """Collects problems as (path, message) while building objects; a bad field yields None."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def err(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def _fields(self, obj: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> bool:
        if not isinstance(obj, Mapping):
            self.err(path, "expected an object")
            return False
        for key in obj:
            if key not in allowed:
                shown = key if isinstance(key, str) and key.isprintable() else repr(key)
                self.err(f"{path}.{shown}" if path else str(shown), "unknown field")
        ok = True
        for key in required:
            if key not in obj:
                self.err(f"{path}.{key}" if path else key, "required")
                ok = False
        return ok

    def string(self, obj: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str | None:
        value = obj.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            self.err(path, "expected a string")
            return None
        return value

    def boolean(self, obj: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = obj.get(key, default)
        if not isinstance(value, bool):
            self.err(path, "expected true or false")
            return default
        return value

    def integer(self, obj: Mapping[str, Any], key: str, path: str, lo: int, hi: int) -> int | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.err(path, "expected an integer")
            return None
        if not lo <= value <= hi:
            self.err(path, f"{value} is out of range {lo}-{hi}")
            return None
        return value

    def array(self, obj: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = obj.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.err(path, "expected a list")
            return []
        return value

    def ifname(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str):
            self.err(path, "expected a string")
            return None
        msg = F.check_ifname(value)
        if msg:
            self.err(path, msg)
            return None
        return value

    def addresses(self, items: list[Any], path: str) -> tuple[str, ...]:
        out: list[str] = []
        for i, text in enumerate(items):
            p = f"{path}[{i}]"
            if not isinstance(text, str):
                self.err(p, "expected a string")
                continue
            iface, msg = F.parse_address(text)
            if msg or iface is None:
                self.err(p, msg or "invalid")
                continue
            out.append(str(iface))
        return tuple(out)

    # -- nodes -------------------------------------------------------------------------------------

    def node(self, obj: Any, path: str) -> Node | None:
        allowed = ("name", "kind", "forwarding", "routes", "addresses", "nat", "port_forwards")
        if not self._fields(obj, path, allowed, ("name", "kind")):
            return None
        name = self.string(obj, "name", f"{path}.name")
        if name is not None and (msg := F.check_node_name(name)):
            self.err(f"{path}.name", msg)
            name = None
        kind = self.string(obj, "kind", f"{path}.kind")
        if kind is not None and kind not in KINDS:
            self.err(f"{path}.kind", f"{kind!r} is not one of {', '.join(KINDS)}")
            kind = None
        forwarding = self.boolean(obj, "forwarding", f"{path}.forwarding", kind == HOST)
        routes = tuple(r for i, x in enumerate(self.array(obj, "routes", f"{path}.routes"))
                       if (r := self.route(x, f"{path}.routes[{i}]")) is not None)
        addresses = self.addresses(self.array(obj, "addresses", f"{path}.addresses"), f"{path}.addresses")
        nat = tuple(n for i, x in enumerate(self.array(obj, "nat", f"{path}.nat"))
                    if (n := self.nat(x, f"{path}.nat[{i}]")) is not None)
        fwd = tuple(f for i, x in enumerate(self.array(obj, "port_forwards", f"{path}.port_forwards"))
                    if (f := self.forward(x, f"{path}.port_forwards[{i}]")) is not None)
        if name is None or kind is None:
            return None
        return Node(name=name, kind=kind, forwarding=forwarding, routes=routes, addresses=addresses,
                    nat=nat, port_forwards=fwd)

    def route(self, obj: Any, path: str) -> Route | None:
        if not self._fields(obj, path, ("to", "via", "dev"), ("to",)):
            return None
        to = self.string(obj, "to", f"{path}.to")
        if to is not None and to != "default":
            net, msg = F.parse_network(to)
            if msg or net is None:
                self.err(f"{path}.to", msg or "invalid")
                to = None
            elif net.prefixlen == 0:
                # the kernel stores 0.0.0.0/0 and ::/0 as its default route: one spelling, so that
                # it reads back as designed and a second route to it is caught as a duplicate
                to = "default"
                if net.version == 6 and not (isinstance(obj.get("via"), str) and ":" in obj["via"]):
                    self.err(f"{path}.to", f"{net} without an IPv6 'via' would be read as the IPv4 default "
                             "route; give an IPv6 via")
                    to = None
            else:
                to = str(net)
        via = self.string(obj, "via", f"{path}.via")
        if via is not None:
            ip, msg = F.parse_ip(via)
            if msg or ip is None:
                self.err(f"{path}.via", msg or "invalid")
                via = None
            else:
                via = str(ip)
        dev = self.ifname(obj["dev"], f"{path}.dev") if obj.get("dev") is not None else None
        if "via" not in obj and "dev" not in obj:
            self.err(path, "needs at least one of 'via' and 'dev'")
            return None
        if to is None or (via is None and dev is None):
            return None
        return Route(to=to, via=via, dev=dev)

    def nat(self, obj: Any, path: str) -> Nat | None:
        if not self._fields(obj, path, ("action", "source", "out_interface"), ("action",)):
            return None
        action = self.string(obj, "action", f"{path}.action")
        if action is not None and action != "masquerade":
            self.err(f"{path}.action", f"{action!r} is not supported; only 'masquerade'")
            action = None
        source = self.string(obj, "source", f"{path}.source")
        if source is not None:
            net, msg = F.parse_network(source)
            if msg or net is None:
                self.err(f"{path}.source", msg or "invalid")
                return None
            if net.version != 4:
                self.err(f"{path}.source", f"{source!r} is IPv6; NAT rules are IPv4 only (iptables), "
                         "give an IPv4 source or none")
                return None
            if net.prefixlen == 0:
                source = None  # every source: the same rule as none, one spelling
            else:
                source = str(net)
        out = obj.get("out_interface")
        out_if = self.ifname(out, f"{path}.out_interface") if out is not None else None
        if action is None or (out is not None and out_if is None):
            return None
        return Nat(action=action, source=source, out_interface=out_if)

    def forward(self, obj: Any, path: str) -> PortForward | None:
        allowed = ("protocol", "port", "to", "to_port", "in_interface")
        if not self._fields(obj, path, allowed, ("protocol", "port", "to")):
            return None
        proto = self.string(obj, "protocol", f"{path}.protocol")
        if proto is not None and proto not in ("tcp", "udp"):
            self.err(f"{path}.protocol", f"{proto!r} is not tcp or udp")
            proto = None
        port = self.integer(obj, "port", f"{path}.port", 1, 65535)
        to_port = self.integer(obj, "to_port", f"{path}.to_port", 1, 65535)
        to = self.string(obj, "to", f"{path}.to")
        if to is not None:
            ip, msg = F.parse_ip(to)
            if msg or ip is None:
                self.err(f"{path}.to", msg or "invalid")
                to = None
            else:
                to = str(ip)
        inn = obj.get("in_interface")
        in_if = self.ifname(inn, f"{path}.in_interface") if inn is not None else None
        if proto is None or port is None or to is None or (inn is not None and in_if is None):
            return None
        if "to_port" in obj and to_port is None:
            return None
        return PortForward(protocol=proto, port=port, to=to, to_port=to_port or port, in_interface=in_if)

    # -- links -------------------------------------------------------------------------------------

    def endpoint(self, obj: Any, path: str) -> Endpoint | None:
        if not self._fields(obj, path, ("node", "interface", "addresses", "mac"), ("node", "interface")):
            return None
        node = self.string(obj, "node", f"{path}.node")
        if node is not None and F.check_node_name(node):
            self.err(f"{path}.node", f"{node!r} is not a node of this document")
            node = None
        interface = self.ifname(obj["interface"], f"{path}.interface")
        addresses = self.addresses(self.array(obj, "addresses", f"{path}.addresses"), f"{path}.addresses")
        mac = self.string(obj, "mac", f"{path}.mac")
        if mac is not None and (msg := F.check_mac(mac)):
            self.err(f"{path}.mac", msg)
            mac = None
        if node is None or interface is None:
            return None
        return Endpoint(node=node, interface=interface, addresses=addresses,
                        mac=mac.lower() if mac else None)

    def link(self, obj: Any, path: str) -> Link | None:
        if not self._fields(obj, path, ("a", "b", "mtu"), ("a", "b")):
            return None
        a = self.endpoint(obj["a"], f"{path}.a")
        b = self.endpoint(obj["b"], f"{path}.b")
        mtu = self.integer(obj, "mtu", f"{path}.mtu", 68, 65535)
        if a is None or b is None or (obj.get("mtu") is not None and mtu is None):
            return None
        return Link(a=a, b=b, mtu=mtu)

    def layout(self, obj: Any, path: str) -> tuple[tuple[str, float, float], ...]:
        if obj is None:
            return ()
        if not isinstance(obj, Mapping):
            self.err(path, "expected an object")
            return ()
        out: list[tuple[str, float, float]] = []
        for name, pos in obj.items():
            p = f"{path}.{name}" if isinstance(name, str) and name.isprintable() else f"{path}.{name!r}"
            if not self._fields(pos, p, ("x", "y"), ("x", "y")):
                continue
            x, y = pos["x"], pos["y"]
            if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (x, y)):
                self.err(p, "x and y must be numbers")
                continue
            # checked before float(): a 400-digit integer would overflow it, NaN/Infinity would be
            # stored as JSON no database reads back
            if not all((not isinstance(v, float) or math.isfinite(v)) and abs(v) <= F.LAYOUT_MAX for v in (x, y)):
                self.err(p, f"x and y must be finite numbers from -{F.LAYOUT_MAX:,} to {F.LAYOUT_MAX:,}")
                continue
            out.append((str(name), float(x), float(y)))
        return tuple(out)
