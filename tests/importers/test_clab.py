"""containerlab import (tables over small topologies in the shapes of public labs) and the round trip
export -> import, which must give back the same document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from topology.engine import api
from topology.engine.importers import Unreadable, export_clab, import_clab

FIXTURES = Path(__file__).parent / "fixtures" / "clab"
EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


def nodes(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in doc["nodes"]}


def ends(doc: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return [(e["node"], e["interface"], e.get("addresses", [])) for lk in doc["links"] for e in (lk["a"], lk["b"])]


def test_bridge_hosts_with_exec_lines() -> None:
    result = import_clab((FIXTURES / "bridge-hosts.clab.yml").read_text())
    doc = result.document
    assert api.validate(doc) == []
    assert doc["name"] == "bridge-hosts"
    assert {n: d["kind"] for n, d in nodes(doc).items()} == {"host": "host", "br-lab": "bridge",
                                                             "server1": "namespace", "server2": "namespace"}
    assert ends(doc) == [("br-lab", "eth1", []), ("server1", "net0", ["10.1.5.10/24"]),
                         ("br-lab", "eth2", []), ("server2", "net0", ["10.1.5.11/24"])]
    assert nodes(doc)["server1"]["routes"] == [{"to": "10.9.0.0/16", "via": "10.1.5.1"}]
    assert [(w.line, w.message.split(" (")[0]) for w in result.warnings] == [(5, "mgmt")]


def test_groups_and_other_kinds() -> None:
    result = import_clab((FIXTURES / "groups-routers.clab.yml").read_text())
    doc = result.document
    assert api.validate(doc) == []
    assert nodes(doc)["router1"] == {"name": "router1", "kind": "namespace", "forwarding": True}
    assert nodes(doc)["pc1"]["routes"] == [{"to": "192.168.0.0/16", "via": "192.168.11.1", "dev": "eth1"}]
    assert ends(doc) == [("pc1", "eth1", ["192.168.11.2/24"]), ("router1", "eth3", ["192.168.11.1/24"])]
    said = {w.line: w.message for w in result.warnings}
    assert "kind frr is imported as a plain namespace" in said[13] and "quay.io/frrouting/frr:10" in said[13]
    assert "'PC1' is called 'pc1'" in said[19]


def clab(nodes_yaml: str, links_yaml: str = "", extra: str = "") -> str:
    return f"name: t\n{extra}topology:\n  nodes:\n{nodes_yaml}" + (f"  links:\n{links_yaml}" if links_yaml else "")


INHERIT = [
    # defaults < kinds < groups < node: which exec a node ends up with
    ("  defaults:\n    kind: linux\n    exec: ['ip addr add 10.0.0.1/24 dev e1']\n", "", "10.0.0.1/24"),
    ("  kinds:\n    linux:\n      exec: ['ip addr add 10.0.0.2/24 dev e1']\n", "", "10.0.0.2/24"),
    ("  kinds:\n    linux:\n      exec: ['ip addr add 10.0.0.2/24 dev e1']\n  groups:\n    g:\n      kind: linux\n"
     "      exec: ['ip addr add 10.0.0.3/24 dev e1']\n", "      group: g\n", "10.0.0.3/24"),
    ("  groups:\n    g:\n      kind: linux\n      exec: ['ip addr add 10.0.0.3/24 dev e1']\n",
     "      group: g\n      exec: ['ip addr add 10.0.0.4/24 dev e1']\n", "10.0.0.4/24"),
]


@pytest.mark.parametrize(("above", "on_node", "address"), INHERIT)
def test_inheritance(above: str, on_node: str, address: str) -> None:
    text = ("name: t\ntopology:\n" + above + "  nodes:\n    a:\n" + (on_node or "      kind: linux\n")
            + "    b:\n      kind: linux\n  links:\n    - endpoints: ['a:e1', 'b:e1']\n")
    doc = import_clab(text).document
    assert ends(doc)[0] == ("a", "e1", [address])


LINKS: list[tuple[str, list[Any], str | None]] = [
    ("    - endpoints: ['a:e1', 'b:e1']\n", [("a", "e1", []), ("b", "e1", [])], None),
    ("    - type: veth\n      endpoints:\n        - {node: a, interface: e1}\n        - {node: b, interface: e2}\n",
     [("a", "e1", []), ("b", "e2", [])], None),
    ("    - endpoints: ['a:e1', 'host:a-host']\n", [("a", "e1", []), ("host", "a-host", [])], None),
    ("    - type: macvlan\n      endpoint: {node: a, interface: e1}\n      host-interface: eth0\n", [],
     "links of type macvlan"),
    ("    - endpoints: ['a:e1', 'mgmt-net:a-e1']\n", [], "special endpoints"),
    ("    - endpoints: ['a:e1', 'c:e1']\n", [], "'c' is not a node of this topology"),
    ("    - endpoints: ['a:e1']\n", [], "two endpoints"),
]


@pytest.mark.parametrize(("links", "expected", "warning"), LINKS)
def test_links(links: str, expected: list[Any], warning: str | None) -> None:
    result = import_clab(clab("    a: {kind: linux}\n    b: {kind: linux}\n", links))
    assert ends(result.document) == expected
    assert [w.message for w in result.warnings if warning and warning in w.message] != [] if warning else \
        result.warnings == []


def test_long_form_mtu_and_mac() -> None:
    links = ("    - type: veth\n      mtu: 9000\n      endpoints:\n        - {node: a, interface: e1, mac: "
             "'02:00:00:00:00:01'}\n        - {node: b, interface: e1}\n")
    doc = import_clab(clab("    a: {kind: linux}\n    b: {kind: linux}\n", links)).document
    assert doc["links"] == [{"a": {"node": "a", "interface": "e1", "mac": "02:00:00:00:00:01"},
                             "b": {"node": "b", "interface": "e1"}, "mtu": 9000}]


def test_an_exec_typo_is_reported_at_its_yaml_line_with_the_yaml_line_fixed() -> None:
    text = clab("    a:\n      kind: linux\n      exec:\n        - ip addr add 10.0.0.1/24 dev e1\n"
                "        - ip route add default via 10.0.0.2 dev ee1\n    b: {kind: linux}\n",
                "    - endpoints: ['a:e1', 'b:e1']\n")
    result = import_clab(text)
    (w,) = result.warnings
    assert w.line == 8 and "typo of 'e1'" in w.message
    assert w.fix is not None and w.fix.text == "        - ip route add default via 10.0.0.2 dev e1"
    fixed = import_clab(text, apply_fixes_=True)
    assert nodes(fixed.document)["a"]["routes"] == [{"to": "default", "via": "10.0.0.2", "dev": "e1"}]
    assert [x.fixed for x in fixed.warnings] == [True]


def test_eth0_is_explained_as_the_management_port() -> None:
    text = clab("    a:\n      kind: linux\n      exec: ['ip addr add 10.0.0.1/24 dev eth0']\n")
    (w,) = import_clab(text).warnings
    assert w.line == 6 and "management interface" in w.message


def test_exec_on_a_bridge_and_other_kinds_of_node() -> None:
    text = clab("    br0:\n      kind: bridge\n      exec: ['ip link set br0 up']\n    x:\n      kind: ext-container\n")
    said = [w.message for w in import_clab(text).warnings]
    assert any("exec on the bridge" in m for m in said) and any("ext-container is outside" in m for m in said)


@pytest.mark.parametrize(("text", "words"), [
    ("name: [unclosed", "not valid YAML"),
    ("name: t\n", "needs `topology:` with `nodes:`"),
    ("just text", "needs `topology:`"),
])
def test_unreadable(text: str, words: str) -> None:
    with pytest.raises(Unreadable) as caught:
        import_clab(text)
    assert words in str(caught.value)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_round_trip_gives_the_same_document(path: Path) -> None:
    topology = api.parse(json.loads(path.read_text()))
    text = export_clab(topology)
    assert yaml.safe_load(text)["topology"]["nodes"]  # a reader of YAML takes it
    result = import_clab(text)
    assert result.warnings == []
    assert api.parse(result.document) == topology


def test_round_trip_of_forwarding_mtu_mac_and_namespace_nat() -> None:
    doc = json.loads((EXAMPLES / "router.json").read_text())
    doc["links"][0]["mtu"] = 1400
    doc["links"][0]["a"]["mac"] = "02:00:00:00:00:0a"
    r1 = nodes(doc)["r1"]
    r1["nat"] = [{"action": "masquerade", "source": "10.0.1.0/24"}]
    topology = api.parse(doc)
    assert api.parse(import_clab(export_clab(topology)).document) == topology


def test_export_is_what_containerlab_reads() -> None:
    topology = api.parse(json.loads((EXAMPLES / "seed-5-nat.json").read_text()))
    data = yaml.safe_load(export_clab(topology))
    assert data["topology"]["nodes"]["v-net-0"] == {"kind": "bridge", "labels": {"graph-posX": "250",
                                                                                 "graph-posY": "160"}}
    blue = data["topology"]["nodes"]["blue"]
    assert blue["kind"] == "linux" and "ip route add default via 192.168.15.5" in blue["exec"]
    assert {"endpoints": ["host:eth0", "lan:eth0"]} in data["topology"]["links"]
