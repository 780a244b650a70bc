"""Validation rules of topology-v1, as tables of (document change, expected `path: message`)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from topology.engine import api

from .conftest import EXAMPLES, example

Doc = dict[str, Any]


def seed6() -> Doc:
    return copy.deepcopy(example("seed-6-port-forward"))


def edit(fn: Callable[[Doc], None]) -> Doc:
    d = seed6()
    fn(d)
    return d


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_is_valid(path: Any) -> None:
    import json

    doc = json.loads(path.read_text())
    assert api.validate(doc) == []
    topo = api.parse(doc)
    assert api.parse(topo.to_document()) == topo


CASES: list[tuple[str, Callable[[Doc], None], str]] = [
    ("long ifname", lambda d: d["links"][0]["a"].update(interface="veth-red-bridge-0"),
     "links[0].a.interface: 'veth-red-bridge-0' is 17 bytes; at most 15"),
    ("shell ifname", lambda d: d["links"][0]["a"].update(interface="$(id)"),
     "links[0].a.interface: '$(id)' is not a valid interface name: 1-15 bytes of [A-Za-z0-9_.-]"),
    ("dotdot ifname", lambda d: d["links"][0]["a"].update(interface=".."),
     "links[0].a.interface: '..' is not a valid interface name"),
    ("unicode ifname", lambda d: d["links"][0]["a"].update(interface="vеth"),  # Cyrillic e
     "links[0].a.interface: 'vеth' is not a valid interface name: 1-15 bytes of [A-Za-z0-9_.-]"),
    ("hostile node", lambda d: d["nodes"][2].update(name="red;reboot"),
     "nodes[2].name: 'red;reboot' is not a valid node name: 1-32 characters of [a-z0-9] and inner "
     "'-'/'_', starting with a letter"),
    ("unknown field", lambda d: d["nodes"][2].update(colour="red"), "nodes[2].colour: unknown field"),
    ("unknown root field", lambda d: d.update(extra=1), "extra: unknown field"),
    ("unknown kind", lambda d: d["nodes"][2].update(kind="vm"),
     "nodes[2].kind: 'vm' is not one of namespace, bridge, host, external"),
    ("wrong format", lambda d: d.update(format="netdesigner/v2"), "format: must be 'netdesigner/v1'"),
    ("duplicate node", lambda d: d["nodes"].append({"name": "red", "kind": "namespace"}),
     "nodes[5].name: duplicate node name 'red'"),
    ("second host", lambda d: d["nodes"].append({"name": "host2", "kind": "host"}),
     "nodes[5].kind: a second host; a lab has at most one"),
    ("dangling", lambda d: d["links"][0]["a"].update(node="green"),
     "links[0].a.node: 'green' is not a node of this document"),
    ("same address", lambda d: d["links"][1]["a"].update(addresses=["192.168.15.1/24"]),
     "links[1].a.addresses[0]: 192.168.15.1 is already used at links[0].a.addresses[0]"),
    ("bridge address clash", lambda d: d["links"][1]["a"].update(addresses=["192.168.15.5/24"]),
     "links[1].a.addresses[0]: 192.168.15.5 is already used at nodes[1].addresses[0]"),
    ("network address", lambda d: d["links"][0]["a"].update(addresses=["192.168.15.0/24"]),
     "links[0].a.addresses[0]: '192.168.15.0/24' is the network address of 192.168.15.0/24"),
    ("broadcast", lambda d: d["links"][0]["a"].update(addresses=["192.168.15.255/24"]),
     "links[0].a.addresses[0]: '192.168.15.255/24' is the broadcast address of 192.168.15.0/24"),
    ("no prefix", lambda d: d["links"][0]["a"].update(addresses=["192.168.15.9"]),
     "links[0].a.addresses[0]: '192.168.15.9' needs a prefix length, like 192.168.15.1/24"),
    ("via unreachable", lambda d: d["nodes"][3]["routes"][0].update(via="10.9.9.9"),
     "nodes[3].routes[0].via: 10.9.9.9 is not on a connected subnet of 'blue'"),
    ("route dev unknown", lambda d: d["nodes"][3]["routes"].append({"to": "10.0.0.0/8", "dev": "eth9"}),
     "nodes[3].routes[1].dev: 'eth9' is not an interface of 'blue'"),
    ("route host bits", lambda d: d["nodes"][3]["routes"].append({"to": "10.0.0.1/8", "dev": "veth-blue"}),
     "nodes[3].routes[1].to: '10.0.0.1/8' has host bits set"),
    ("route without via/dev", lambda d: d["nodes"][3]["routes"].append({"to": "10.0.0.0/8"}),
     "nodes[3].routes[1]: needs at least one of 'via' and 'dev'"),
    ("route on bridge", lambda d: d["nodes"][1].update(routes=[{"to": "default", "via": "192.168.15.1"}]),
     "nodes[1].routes: a bridge has no routes (give them to the host)"),
    ("nat without forwarding", lambda d: d["nodes"][2].update(nat=[{"action": "masquerade"}]),
     "nodes[2].nat: NAT needs a host, or a namespace or external node with forwarding on"),
    ("forward on bridge", lambda d: d["nodes"][1].update(
        port_forwards=[{"protocol": "tcp", "port": 1, "to": "192.168.15.2"}]),
     "nodes[1].port_forwards: port forwards need a host, or a namespace or external node with forwarding on"),
    ("via own address", lambda d: d["nodes"][3]["routes"][0].update(via="192.168.15.2"),
     "nodes[3].routes[0].via: 192.168.15.2 is an address of 'blue' itself"),
    ("via wrong family", lambda d: d["nodes"][3]["routes"].append({"to": "fd00::/64", "via": "192.168.15.5"}),
     "nodes[3].routes[1].via: 192.168.15.5 and fd00::/64 are of different IP versions"),
    ("second route same to", lambda d: d["nodes"][3]["routes"].append({"to": "default", "via": "192.168.15.1"}),
     "nodes[3].routes[1].to: a second route to default"),
    ("nat unknown out", lambda d: d["nodes"][0]["nat"][0].update(out_interface="wlan0"),
     "nodes[0].nat[0].out_interface: 'wlan0' is not an interface of 'host'"),
    ("bad protocol", lambda d: d["nodes"][0]["port_forwards"][0].update(protocol="icmp"),
     "nodes[0].port_forwards[0].protocol: 'icmp' is not tcp or udp"),
    ("bad port", lambda d: d["nodes"][0]["port_forwards"][0].update(port=70000),
     "nodes[0].port_forwards[0].port: 70000 is out of range 1-65535"),
    ("bridge end address", lambda d: d["links"][0]["b"].update(addresses=["192.168.15.9/24"]),
     "links[0].b.addresses: an end on a bridge is a bridge port; address the bridge instead"),
    ("host ns clash", lambda d: d["links"][1]["b"].update(interface="veth-red-br"),
     "links[1].b.interface: 'veth-red-br' clashes in the host with links[0].b.interface"),
    ("bridge name clash", lambda d: d["links"][2]["a"].update(interface="v-net-0"),
     "links[2].a.interface: 'v-net-0' clashes in the host with nodes[1].name"),
    ("same node twice", lambda d: d["links"][0]["b"].update(node="red"),
     "links[0].b.node: a link's two ends must be on different nodes"),
    ("multicast mac", lambda d: d["links"][0]["a"].update(mac="01:00:5e:00:00:01"),
     "links[0].a.mac: '01:00:5e:00:00:01' is a multicast MAC address; must be unicast"),
    ("bad mac", lambda d: d["links"][0]["a"].update(mac="zz:00:5e:00:00:01"),
     "links[0].a.mac: 'zz:00:5e:00:00:01' is not a MAC address like aa:bb:cc:dd:ee:ff"),
    ("mtu low", lambda d: d["links"][0].update(mtu=10), "links[0].mtu: 10 is out of range 68-65535"),
    ("mtu type", lambda d: d["links"][0].update(mtu="1500"), "links[0].mtu: expected an integer"),
    ("forwarding type", lambda d: d["nodes"][2].update(forwarding="yes"),
     "nodes[2].forwarding: expected true or false"),
    ("layout dangling", lambda d: d["layout"].update(green={"x": 1, "y": 2}),
     "layout.green: 'green' is not a node of this document"),
    ("nul in name", lambda d: d["nodes"][2].update(name="red\x00"),
     "nodes[2].name: 'red\\x00' is not a valid node name: 1-32 characters of [a-z0-9] and inner "
     "'-'/'_', starting with a letter"),
    ("newline ifname", lambda d: d["links"][0]["a"].update(interface="eth0\n"),
     "links[0].a.interface: 'eth0\\n' is not a valid interface name: 1-15 bytes of [A-Za-z0-9_.-]"),
    ("long bridge name", lambda d: d["nodes"][1].update(name="a-very-long-bridge"),
     "nodes[1].name: a bridge is a host interface: 'a-very-long-bridge' is 18 bytes; at most 15"),
]


@pytest.mark.parametrize(("change", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_rule(change: Callable[[Doc], None], expected: str) -> None:
    problems = [str(p) for p in api.validate(edit(change))]
    assert expected in problems
    with pytest.raises(api.ValidationFailed) as info:
        api.parse(edit(change))
    assert expected in [str(p) for p in info.value.problems]


def test_all_problems_in_one_pass() -> None:
    def many(d: Doc) -> None:
        d["links"][0]["a"]["interface"] = "veth-red-bridge-0"
        d["nodes"][2]["colour"] = "x"
        d["links"][1]["a"]["addresses"] = ["192.168.15.255/24"]

    paths = {p.path for p in api.validate(edit(many))}
    assert {"links[0].a.interface", "nodes[2].colour", "links[1].a.addresses[0]"} <= paths


def test_implicit_host_name_clash() -> None:
    d = example("seed-2-bridge")
    d["nodes"][0] = {"name": "host", "kind": "namespace"}
    d["layout"].pop("host")
    assert "nodes[0].name: 'host' is the implicit host of a lab with bridges; choose another name" in [
        str(p) for p in api.validate(d)]


def test_implicit_host_added_for_bridges() -> None:
    d = example("seed-2-bridge")
    d["nodes"] = d["nodes"][1:]
    d["layout"].pop("host")
    topo = api.parse(d)
    assert topo.host_name == "host" and topo.node("host").implicit
    assert api.netns_name("ab1", "v-net-0", topology=topo) == "nd-ab1-host"
    assert "host" not in [n["name"] for n in topo.to_document()["nodes"]]


@pytest.mark.parametrize(("nodes", "links", "msg"), [
    (3, 0, "nodes: 3 nodes; at most 2"), (0, 3, "links: 3 links; at most 2")])
def test_limits(nodes: int, links: int, msg: str) -> None:
    d = {"format": "netdesigner/v1", "name": "x",
         "nodes": [{"name": f"n{i}", "kind": "namespace"} for i in range(max(nodes, 2))],
         "links": [{"a": {"node": "n0", "interface": f"a{i}"}, "b": {"node": "n1", "interface": f"b{i}"}}
                   for i in range(links)]}
    assert msg in [str(p) for p in api.validate(d, max_nodes=2, max_links=2)]


@pytest.mark.parametrize(("tag", "node", "expected"), [
    ("abc123", "red", "nd-abc123-red"), ("x", "v-net-0", "nd-x-v-net-0")])
def test_netns_name(tag: str, node: str, expected: str) -> None:
    assert api.netns_name(tag, node) == expected


@pytest.mark.parametrize(("tag", "node"), [("ABC", "red"), ("a-b", "red"), ("abc", "../x"),
                                           ("toolongtag1234", "red"), ("abc", "red;x")])
def test_netns_name_refuses(tag: str, node: str) -> None:
    with pytest.raises(ValueError):
        api.netns_name(tag, node)


def test_not_an_object() -> None:
    assert [str(p) for p in api.validate([])] == [": expected a JSON object"]  # type: ignore[arg-type]


def test_dangling_node_is_reported_beside_another_problem_of_the_same_link() -> None:
    import json
    from pathlib import Path

    from topology.engine import api

    doc = json.loads((Path(__file__).resolve().parents[2] / "topology/examples/seed-1-direct.json").read_text())
    doc["links"][0]["a"]["interface"] = "x" * 16
    doc["links"][0]["b"]["node"] = "ghost"
    got = {str(p) for p in api.validate(doc)}
    assert got == {
        "links[0].a.interface: 'xxxxxxxxxxxxxxxx' is 16 bytes; at most 15",
        "links[0].b.node: 'ghost' is not a node of this document",
    }
