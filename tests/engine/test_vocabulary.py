"""The strict vocabulary (issue 11 item 1, issue 10 item 4): every hostile or odd value that could reach
the kernel is refused with its place, and the harmless neighbour of each refused value still passes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from topology.engine import api
from topology.engine import fields as F

from .conftest import example

Doc = dict[str, Any]
INJECT = "fe80::%x\nEOF\necho INJECTED; id -un\n"


def seed6() -> Doc:
    return copy.deepcopy(example("seed-6-port-forward"))


def host(d: Doc) -> Doc:
    return d["nodes"][0]  # type: ignore[no-any-return]


def blue(d: Doc) -> Doc:
    return d["nodes"][3]  # type: ignore[no-any-return]


def red_end(d: Doc) -> Doc:
    return d["links"][0]["a"]  # type: ignore[no-any-return]


# (id, change, path, a part of the message)
REFUSED: list[tuple[str, Callable[[Doc], Any], str, str]] = [
    # IPv6 scope ids, everywhere an address is read
    ("scope id in NAT source", lambda d: host(d)["nat"][0].update(source=INJECT), "nodes[0].nat[0].source",
     "scope id"),
    ("scope id in address", lambda d: red_end(d).update(addresses=["fd00::1%eth0/64"]),
     "links[0].a.addresses[0]", "scope id"),
    ("scope id in via", lambda d: blue(d)["routes"][0].update(via="192.168.15.5%x"),
     "nodes[3].routes[0].via", "scope id"),
    ("scope id in route to", lambda d: blue(d)["routes"][0].update(to="fd00::%x/64"),
     "nodes[3].routes[0].to", "scope id"),
    ("scope id in DNAT to", lambda d: host(d)["port_forwards"][0].update(to="::1%$(id)"),
     "nodes[0].port_forwards[0].to", "scope id"),
    ("space in address", lambda d: red_end(d).update(addresses=[" 192.168.15.1/24"]),
     "links[0].a.addresses[0]", "not an IPv4 or IPv6 address"),
    # control characters in every string
    ("newline in description", lambda d: d.update(description="a\nb"), "description", "U+000A"),
    ("NUL in description", lambda d: d.update(description="a\x00b"), "description", "U+0000"),
    ("NUL in name", lambda d: d.update(name="lab\x00"), "name", "U+0000"),
    ("ESC in name", lambda d: d.update(name="lab\x1b[31m"), "name", "U+001B"),
    ("line separator", lambda d: d.update(description="a\u2028b"), "description", "U+2028"),
    ("lone surrogate", lambda d: d.update(description="a\ud800"), "description", "U+D800"),
    ("tab in interface", lambda d: red_end(d).update(interface="veth\tred"), "links[0].a.interface", "U+0009"),
    ("newline in layout key", lambda d: d["layout"].update({"x\ny": {"x": 1, "y": 2}}), "layout", "U+000A"),
    ("DEL in protocol", lambda d: host(d)["port_forwards"][0].update(protocol="tcp\x7f"),
     "nodes[0].port_forwards[0].protocol", "U+007F"),
    # names the kernel and iptables read as something else
    ("bridge named lo", lambda d: _rename_bridge(d, "lo"), "nodes[1].name", "reserved"),
    ("bridge named all", lambda d: _rename_bridge(d, "all"), "nodes[1].name", "reserved"),
    ("bridge named default", lambda d: _rename_bridge(d, "default"), "nodes[1].name", "reserved"),
    ("interface -j", lambda d: red_end(d).update(interface="-j"), "links[0].a.interface", "option"),
    ("out_interface -o", lambda d: host(d)["nat"][0].update(out_interface="-o"),
     "nodes[0].nat[0].out_interface", "option"),
    ("interface all", lambda d: red_end(d).update(interface="all"), "links[0].a.interface", "reserved"),
    ("interface sit0", lambda d: red_end(d).update(interface="sit0"), "links[0].a.interface", "tunnel device"),
    ("bridge named gre0", lambda d: _rename_bridge(d, "gre0"), "nodes[1].name", "tunnel device"),
    # addresses the kernel refuses, never reads back, or that do harm
    ("via broadcast", lambda d: blue(d)["routes"][0].update(via="192.168.15.255"),
     "nodes[3].routes[0].via", "broadcast address of 192.168.15.0/24"),
    ("via network", lambda d: blue(d)["routes"][0].update(via="192.168.15.0"),
     "nodes[3].routes[0].via", "network address of 192.168.15.0/24"),
    ("via link-local v6", lambda d: blue(d)["routes"][0].update(via="fe80::1"),
     "nodes[3].routes[0].via", "link-local"),
    ("IPv6 NAT source", lambda d: host(d)["nat"][0].update(source="fd00::/64"), "nodes[0].nat[0].source",
     "IPv4 only"),
    ("link-local v6 address", lambda d: red_end(d).update(addresses=["fe80::5/64"]),
     "links[0].a.addresses[0]", "link-local"),
    ("link-local v4 address", lambda d: red_end(d).update(addresses=["169.254.3.4/16"]),
     "links[0].a.addresses[0]", "link-local"),
    ("0.0.0.0/0 beside default", lambda d: blue(d)["routes"].append({"to": "0.0.0.0/0", "via": "192.168.15.5"}),
     "nodes[3].routes[1].to", "a second route to default"),
    ("::/0 without IPv6 via", lambda d: blue(d)["routes"].append({"to": "::/0", "dev": "veth-blue"}),
     "nodes[3].routes[1].to", "IPv6 via"),
    ("limited broadcast address", lambda d: red_end(d).update(addresses=["255.255.255.255/32"]),
     "links[0].a.addresses[0]", "limited broadcast"),
    ("class E address", lambda d: red_end(d).update(addresses=["240.0.0.1/4"]), "links[0].a.addresses[0]",
     "class E"),
    ("class E route", lambda d: blue(d)["routes"].append({"to": "240.0.0.0/4", "via": "192.168.15.5"}),
     "nodes[3].routes[1].to", "reserved"),
    ("broadcast route", lambda d: blue(d)["routes"].append({"to": "255.255.255.255/32", "via": "192.168.15.5"}),
     "nodes[3].routes[1].to", "reserved"),
    ("multicast route", lambda d: blue(d)["routes"].append({"to": "224.0.0.0/4", "via": "192.168.15.5"}),
     "nodes[3].routes[1].to", "multicast"),
    ("multicast address", lambda d: red_end(d).update(addresses=["224.0.0.1/24"]), "links[0].a.addresses[0]",
     "multicast"),
    ("this-network address", lambda d: red_end(d).update(addresses=["0.1.2.3/8"]), "links[0].a.addresses[0]",
     "0.0.0.0/8"),
    ("IPv4-mapped address", lambda d: red_end(d).update(addresses=["::ffff:10.0.0.1/120"]),
     "links[0].a.addresses[0]", "IPv4-mapped"),
    ("DNAT to loopback", lambda d: host(d)["port_forwards"][0].update(to="127.0.0.1"),
     "nodes[0].port_forwards[0].to", "loopback"),
    ("DNAT to broadcast", lambda d: host(d)["port_forwards"][0].update(to="255.255.255.255"),
     "nodes[0].port_forwards[0].to", "limited broadcast"),
    ("NAT source loopback", lambda d: host(d)["nat"][0].update(source="127.0.0.0/8"), "nodes[0].nat[0].source",
     "loopback"),
    ("IPv6 below MTU 1280", lambda d: _v6_link(d, 1279), "links[2].a.addresses[1]", "at least 1280"),
]


def _rename_bridge(d: Doc, name: str) -> None:
    d["nodes"][1]["name"] = name
    for lk in d["links"]:
        for end in ("a", "b"):
            if lk[end]["node"] == "v-net-0":
                lk[end]["node"] = name
    d["layout"] = {}


def _v6_link(d: Doc, mtu: int) -> None:
    d["links"][2]["mtu"] = mtu
    d["links"][2]["a"]["addresses"].append("fd00:1::2/64")
    d["links"][2]["b"]["addresses"].append("fd00:1::3/64")


@pytest.mark.parametrize(("change", "path", "part"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_with_its_place(change: Callable[[Doc], Any], path: str, part: str) -> None:
    d = seed6()
    change(d)
    problems = api.validate(d)
    assert any(p.path == path and part in p.message for p in problems), problems


# the harmless neighbour of each boundary: accepted, so each refusal above is about the value itself
ACCEPTED: list[tuple[str, Callable[[Doc], Any]]] = [
    ("via a host of the subnet", lambda d: blue(d)["routes"][0].update(via="192.168.15.254")),
    ("via on a /31", lambda d: (d["links"][2]["a"].update(addresses=["10.0.0.0/31"]),
                                d["links"][2]["b"].update(addresses=["10.0.0.1/31"]),
                                d["nodes"][4].update(routes=[{"to": "default", "via": "10.0.0.0"}]))),
    ("0.0.0.0/0 alone is the default route", lambda d: blue(d)["routes"][0].update(to="0.0.0.0/0")),
    ("NAT source 0.0.0.0/0", lambda d: host(d)["nat"][0].update(source="0.0.0.0/0")),
    ("bridge named lo0", lambda d: _rename_bridge(d, "lo0")),
    ("interface sit1", lambda d: red_end(d).update(interface="sit1")),
    ("interface with inner dash", lambda d: red_end(d).update(interface="a-j")),
    ("IPv6 at MTU 1280", lambda d: _v6_link(d, 1280)),
    ("unicode printable description", lambda d: d.update(description="Größe: é — ✓")),
    ("DNAT to a private address", lambda d: host(d)["port_forwards"][0].update(to="192.168.15.1")),
    ("route to a wide network", lambda d: blue(d)["routes"].append({"to": "192.0.0.0/2", "via": "192.168.15.5"})),
]


@pytest.mark.parametrize("change", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_neighbours_accepted(change: Callable[[Doc], Any]) -> None:
    d = seed6()
    change(d)
    assert api.validate(d) == []


def test_default_spellings_converge_to_one() -> None:
    d = seed6()
    blue(d)["routes"][0]["to"] = "0.0.0.0/0"
    topo = api.parse(d)
    assert topo.node("blue").routes[0].to == "default"


def bridge_with_ports(n: int) -> Doc:
    nodes: list[Doc] = [{"name": "br", "kind": "bridge"}]
    links: list[Doc] = []
    for i in range(n):
        nodes.append({"name": f"n{i}", "kind": "namespace"})
        links.append({"a": {"node": f"n{i}", "interface": "eth0"}, "b": {"node": "br", "interface": f"p{i}"}})
    return {"format": "netdesigner/v1", "name": "star", "nodes": nodes, "links": links}


def test_bridge_port_limit_both_sides() -> None:
    assert api.validate(bridge_with_ports(F.MAX_BRIDGE_PORTS), max_nodes=5000, max_links=5000) == []
    problems = api.validate(bridge_with_ports(F.MAX_BRIDGE_PORTS + 1), max_nodes=5000, max_links=5000)
    assert [str(p) for p in problems] == [
        f"links[{F.MAX_BRIDGE_PORTS}].b.node: bridge 'br' would have more than {F.MAX_BRIDGE_PORTS} ports, "
        "the kernel's limit; use a second bridge"]


@pytest.mark.parametrize("target", ["::1%$(id)", "fe80::1%eth0", "1.2.3.4\n", " 1.2.3.4", "1.2.3.4;id", ""])
def test_ping_targets_strict(target: str) -> None:
    from topology.engine import diag

    assert F.parse_ip_text(target) is None
    with pytest.raises(ValueError, match="neither a node"):
        diag.resolve_target({}, target)


@pytest.mark.parametrize("target", ["10.0.0.1", "fd00::1", "::1"])
def test_ping_targets_plain_addresses_pass(target: str) -> None:
    assert F.parse_ip_text(target) is not None


def test_deeply_nested_document_is_a_problem_not_a_crash() -> None:
    deep: Any = "x"
    for _ in range(50_000):
        deep = [deep]
    d = seed6()
    d["description"] = deep
    assert any(p.path == "description" for p in api.validate(d))


def test_bad_char_class_is_exactly_the_refused_categories() -> None:
    """The fast character class and the Unicode categories it stands for agree on every code point."""
    import unicodedata

    for cp in range(0x110000):
        ch = chr(cp)
        assert (F.bad_char(ch) is not None) == (unicodedata.category(ch) in F.BAD_CATEGORIES), hex(cp)
