"""Keeping a drift item: the pure document edit (a table of items), and the API's rules (editor, version)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from topology.services.drift_keep import document_keep
from topology.services.errors import Invalid

from .conftest import World, example


def item(node: str, kind: str, what: str, expected: Any, actual: Any) -> dict[str, Any]:
    return {"node": node, "kind": kind, "what": what, "expected": expected, "actual": actual}


def ends(doc: dict[str, Any], node: str, iface: str) -> list[str]:
    for link in doc["links"]:
        for side in ("a", "b"):
            if link[side]["node"] == node and link[side]["interface"] == iface:
                return list(link[side].get("addresses", []))
    raise AssertionError(f"no {node} {iface}")


def routes(doc: dict[str, Any], node: str) -> list[dict[str, Any]]:
    return list(next(n for n in doc["nodes"] if n["name"] == node).get("routes", []))


def test_an_address_added_by_hand_is_kept_on_its_cable_end() -> None:
    doc, summary = document_keep(example("seed-2-bridge"),
                                 item("blue", "address", "veth-blue 192.168.15.42/24", None, "192.168.15.42/24"))
    assert ends(doc, "blue", "veth-blue") == ["192.168.15.2/24", "192.168.15.42/24"]
    assert summary == "kept 192.168.15.42/24 on blue veth-blue"


def test_an_address_removed_by_hand_is_dropped_from_the_design() -> None:
    doc, _ = document_keep(example("seed-2-bridge"),
                           item("red", "address", "veth-red 192.168.15.1/24", "192.168.15.1/24", None))
    assert ends(doc, "red", "veth-red") == []


def test_an_address_on_the_bridge_is_the_bridges_in_the_design() -> None:
    original = example("seed-2-bridge")
    doc, _ = document_keep(original, item("host", "address", "v-net-0 10.0.0.5/24", None, "10.0.0.5/24"))
    bridge = next(n for n in doc["nodes"] if n["name"] == "v-net-0")
    assert bridge["addresses"] == ["192.168.15.5/24", "10.0.0.5/24"]
    assert next(n for n in original["nodes"] if n["name"] == "v-net-0")["addresses"] == ["192.168.15.5/24"]


@pytest.mark.parametrize(("actual", "route"), [
    ({"via": "192.168.15.5", "dev": "veth-blue"}, {"to": "10.78.0.0/16", "via": "192.168.15.5"}),
    ({"via": None, "dev": "veth-blue"}, {"to": "10.78.0.0/16", "dev": "veth-blue"}),
])
def test_a_route_added_by_hand_is_kept(actual: dict[str, Any], route: dict[str, Any]) -> None:
    doc, summary = document_keep(example("seed-2-bridge"), item("blue", "route", "10.78.0.0/16", None, actual))
    assert routes(doc, "blue") == [route]
    assert summary == "kept the route to 10.78.0.0/16 on blue"


def test_a_route_removed_by_hand_is_dropped() -> None:
    original = example("seed-5-nat")
    node = next(n for n in original["nodes"] if n.get("routes"))
    route = node["routes"][0]
    doc, _ = document_keep(original, item(node["name"], "route", route["to"],
                                          {"via": route.get("via"), "dev": route.get("dev")}, None))
    assert route not in routes(doc, node["name"])


@pytest.mark.parametrize(("bad", "message"), [
    (item("blue", "link", "x", None, "veth"), "only addresses and routes can be kept"),
    (item("blue", "address", "eth9 10.0.0.1/24", None, "10.0.0.1/24"), "blue has no interface eth9"),
    (item("blue", "address", "veth-blue 192.168.15.2/24", None, "192.168.15.2/24"), "nothing to keep"),
    (item("blue", "address", "veth-blue not-an-address", None, "x"), "is not an address"),
    (item("blue", "route", "nowhere", None, {"via": "192.168.15.5"}), "is not a route destination"),
    (item("v-net-0", "route", "10.0.0.0/8", None, {"via": "192.168.15.5"}), "not a node of the design"),
    ("not an item", "a drift item"),
])
def test_what_cannot_be_kept_says_why(bad: Any, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        document_keep(example("seed-2-bridge"), bad)


def keep(world: World, who: str, version: int, kept: dict[str, Any]) -> Any:
    return world.client(who).post(f"/api/labs/{world.lab.pk}/drift/keep", json.dumps({"version": version, "item": kept}),
                                  content_type="application/json")


def test_the_api_keeps_for_an_editor_only_and_on_the_current_version(world: World) -> None:
    kept = item("red", "address", "veth-red 10.9.9.9/24", None, "10.9.9.9/24")
    assert keep(world, "viewer", 1, kept).status_code == 403
    response = keep(world, "editor", 1, kept)
    assert response.status_code == 200, response.content
    assert response.json() == {"version": 2, "summary": "kept 10.9.9.9/24 on red veth-red"}
    document = world.lab.versions.get(number=2).document
    assert "10.9.9.9/24" in ends(document, "red", "veth-red")
    assert keep(world, "editor", 1, kept).status_code == 409
    assert keep(world, "editor", 2, item("red", "mtu", "veth-red", 1500, 1400)).status_code == 422
