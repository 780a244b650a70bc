"""Root test of the less common shapes: two bridges cabled together, MTU and MAC on a link, IPv6
addresses and routes, a device route, NAT without a source, a namespace with forwarding."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from topology.engine import api

pytestmark = pytest.mark.root

MIXED: dict[str, Any] = {
    "format": "netdesigner/v1", "name": "mixed",
    "nodes": [
        {"name": "br1", "kind": "bridge", "addresses": ["10.1.0.1/24", "fd00:1::1/64"]},
        {"name": "br2", "kind": "bridge"},
        {"name": "a", "kind": "namespace", "routes": [{"to": "10.9.0.0/16", "dev": "eth0"},
                                                      {"to": "fd00:9::/64", "via": "fd00:1::1"}]},
        {"name": "b", "kind": "namespace", "forwarding": True, "nat": [{"action": "masquerade"}]},
    ],
    "links": [
        {"a": {"node": "a", "interface": "eth0", "addresses": ["10.1.0.2/24", "fd00:1::2/64"],
               "mac": "02:00:00:00:00:0a"}, "b": {"node": "br1", "interface": "pa"}, "mtu": 1400},
        {"a": {"node": "br1", "interface": "x12"}, "b": {"node": "br2", "interface": "x21"}},
        {"a": {"node": "b", "interface": "eth0", "addresses": ["10.1.0.3/24"]},
         "b": {"node": "br2", "interface": "pb"}},
    ],
}


def last(items: list[Any]) -> api.PingResult:
    result = items[-1]
    assert isinstance(result, api.PingResult)
    return result


def test_mixed_lab(tag: str) -> None:
    topo = api.parse(MIXED)
    api.apply(topo, tag)
    assert api.plan(topo, tag) == [] and api.drift(topo, tag) == []
    assert last(list(api.ping(topo, tag, "a", "b", count=1))).received == 1  # across both bridges
    assert last(list(api.ping(topo, tag, "a", "fd00:1::1", count=1))).received == 1
    eth0 = next(i for i in api.tables(topo, tag, "a")["interfaces"] if i["name"] == "eth0")
    assert eth0["mac"] == "02:00:00:00:00:0a"
    shown = subprocess.run(["ip", "-n", f"nd-{tag}-a", "link", "show", "eth0"], capture_output=True,
                           text=True, check=True).stdout
    assert "mtu 1400" in shown
    routes = subprocess.run(["ip", "-n", f"nd-{tag}-a", "-6", "route"], capture_output=True, text=True,
                            check=True).stdout
    assert "fd00:9::/64 via fd00:1::1" in routes
    host = {i["name"]: i["master"] for i in api.tables(topo, tag, "br2")["interfaces"]}
    assert host["x12"] == "br1" and host["x21"] == "br2" and host["pb"] == "br2"


def test_dual_stack_defaults(tag: str) -> None:
    doc = {"format": "netdesigner/v1", "name": "v6",
           "nodes": [{"name": "a", "kind": "namespace", "routes": [{"to": "default", "via": "10.0.0.1"},
                                                                   {"to": "default", "via": "fd00::1"}]},
                     {"name": "b", "kind": "namespace"}],
           "links": [{"a": {"node": "a", "interface": "e", "addresses": ["10.0.0.2/24", "fd00::2/64"]},
                      "b": {"node": "b", "interface": "e", "addresses": ["10.0.0.1/24", "fd00::1/64"]}}]}
    topo = api.parse(doc)
    api.apply(topo, tag)
    assert api.plan(topo, tag) == [] and api.drift(topo, tag) == []
    assert last(list(api.ping(topo, tag, "a", "fd00::1", count=1))).received == 1
