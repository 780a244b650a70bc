"""The pure predictor, as tables over the tutorial's examples and small variations of them (no root)."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from topology.engine import api
from topology.engine.predict import Prediction, predict

from .conftest import EXAMPLES, example

EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))


def run(doc: dict[str, Any], source: str, target: str, protocol: str = "icmp", port: int | None = None
        ) -> Prediction:
    return predict(api.parse(doc), source, target, protocol, port)


@pytest.mark.parametrize(("name", "source", "target", "protocol", "port", "verdict"), [
    ("seed-1-direct", "red", "blue", "icmp", None, "reachable"),
    ("seed-1-direct", "blue", "192.168.15.1", "icmp", None, "reachable"),
    ("seed-1-direct", "red", "10.1.1.1", "icmp", None, "unreachable"),
    ("seed-2-bridge", "red", "blue", "icmp", None, "reachable"),
    ("seed-2-bridge", "red", "192.168.15.5", "icmp", None, "reachable"),
    ("seed-2-bridge", "host", "red", "icmp", None, "reachable"),
    ("seed-3-outside-no-route", "blue", "192.168.1.3", "icmp", None, "unreachable"),
    ("seed-3-outside-no-route", "host", "192.168.1.3", "icmp", None, "reachable"),
    ("seed-3-outside-no-route", "lan", "blue", "icmp", None, "unreachable"),
    ("seed-4-outside-no-nat", "blue", "192.168.1.3", "icmp", None, "no-reply"),
    ("seed-4-outside-no-nat", "red", "192.168.1.3", "icmp", None, "unreachable"),
    ("seed-4-outside-no-nat", "blue", "192.168.1.2", "icmp", None, "reachable"),
    ("seed-5-nat", "blue", "192.168.1.3", "icmp", None, "reachable"),
    ("seed-5-nat", "red", "192.168.1.3", "icmp", None, "unreachable"),
    ("seed-5-nat", "blue", "192.168.1.3", "udp", 53, "reachable"),
    ("seed-6-port-forward", "lan", "192.168.1.2", "tcp", 8080, "reachable"),
    ("seed-6-port-forward", "lan", "192.168.1.2", "udp", 8080, "reachable"),  # delivered to the host itself
    ("seed-6-port-forward", "lan", "192.168.15.2", "icmp", None, "unreachable"),
    ("router", "h1", "h2", "icmp", None, "reachable"),
    ("router", "h2", "h1", "tcp", 22, "reachable"),
    ("router", "h1", "10.0.2.1", "icmp", None, "reachable"),
    ("router", "h1", "10.0.3.1", "icmp", None, "unreachable"),  # r1 has no route: its ICMP error gets back
])
def test_verdicts(name: str, source: str, target: str, protocol: str, port: int | None, verdict: str) -> None:
    assert run(example(name), source, target, protocol, port).verdict == verdict


def test_stage3_names_the_missing_route() -> None:
    p = run(example("seed-3-outside-no-route"), "blue", "192.168.1.3")
    assert p.verdict == "unreachable"
    assert p.reason.startswith("blue has no route to 192.168.1.0/24: its only routes are 192.168.15.0/24 on veth-blue")
    assert [h.action for h in p.hops] == ["drop"] and p.failed_hop == 0
    assert p.fixes and all("route to 192.168.1.0/24 via 192.168.15.5 on blue" in f.summary for f in p.fixes)


def test_stage4_names_the_missing_return_path_and_the_masquerade() -> None:
    p = run(example("seed-4-outside-no-nat"), "blue", "192.168.1.3")
    assert p.verdict == "no-reply"
    assert p.reason.startswith("192.168.1.3 sends the reply to 192.168.15.2, for which lan has no route")
    assert "masquerade 192.168.15.0/24 on host" in p.reason and "give lan a route back" in p.reason
    actions = [(h.node, h.action, h.direction) for h in p.hops]
    assert actions == [("blue", "originate", "request"), ("v-net-0", "switch", "request"),
                       ("host", "route", "request"), ("lan", "deliver", "request"), ("lan", "drop", "reply")]
    assert p.failed_hop == 4
    masq = [f for f in p.fixes if f.node == "host"]
    assert masq, p.fixes
    host = next(n for n in masq[0].document["nodes"] if n["name"] == "host")
    assert host["nat"] == [{"action": "masquerade", "source": "192.168.15.0/24", "out_interface": "eth0"}]


def test_stage6_port_forward_goes_through_the_dnat() -> None:
    p = run(example("seed-6-port-forward"), "lan", "192.168.1.2", "tcp", 8080)
    assert p.verdict == "reachable"
    dnat = [h for h in p.hops if h.action == "dnat"]
    assert dnat[0].node == "host" and dnat[0].in_interface == "eth0" and "192.168.15.2:80" in dnat[0].detail
    assert dnat[1].direction == "reply" and "192.168.1.2:8080" in dnat[1].detail  # conntrack undoes it
    assert (p.final_node, p.final_address, p.final_port) == ("blue", "192.168.15.2", 80)
    assert "192.168.15.2:80" in p.reason
    assert p.fixes == []


def test_the_forward_only_matches_its_interface_and_port() -> None:
    p = run(example("seed-6-port-forward"), "lan", "192.168.1.2", "tcp", 8081)
    assert p.final_node == "host"  # no DNAT: the host itself answers (or refuses) on 8081
    doc = copy.deepcopy(example("seed-6-port-forward"))
    doc["nodes"][0]["port_forwards"][0]["in_interface"] = "v-net-0"
    assert run(doc, "lan", "192.168.1.2", "tcp", 8080).final_node == "host"


def _router(**r1: Any) -> dict[str, Any]:
    doc = copy.deepcopy(example("router"))
    doc["nodes"][1].update(r1)
    return doc


def test_forwarding_off_drops_silently_and_the_fix_turns_it_on() -> None:
    p = run(_router(forwarding=False), "h1", "h2")
    assert p.verdict == "no-reply"
    assert "r1 does not forward packets (forwarding is off)" in p.reason
    assert p.hops[p.failed_hop or 0].node == "r1"
    assert [f.summary for f in p.fixes] == ["turn on forwarding on r1"]
    r1 = next(n for n in p.fixes[0].document["nodes"] if n["name"] == "r1")
    assert r1.get("forwarding") is True


def test_missing_route_back_at_a_router_is_no_reply() -> None:
    doc = copy.deepcopy(example("router"))
    doc["nodes"][2]["routes"] = []  # h2 cannot answer h1
    p = run(doc, "h1", "h2")
    assert p.verdict == "no-reply" and "for which h2 has no route" in p.reason
    assert any("10.0.1.0/24 via 10.0.2.1 on h2" in f.summary for f in p.fixes)
    assert any("masquerade 10.0.1.0/24 going out of eth2 on r1" in f.summary for f in p.fixes)


def test_a_via_nobody_holds_is_unreachable() -> None:
    doc = copy.deepcopy(example("router"))
    doc["nodes"][0]["routes"] = [{"to": "default", "via": "10.0.1.99"}]
    p = run(doc, "h1", "h2")
    assert p.verdict == "unreachable" and "answers ARP for 10.0.1.99" in p.reason
    assert any("default via 10.0.1.1 instead of 10.0.1.99" in f.summary for f in p.fixes)


def test_reply_that_bypasses_the_port_forward_comes_from_the_wrong_address() -> None:
    doc = copy.deepcopy(example("seed-6-port-forward"))
    # blue answers through a second router, r2, which holds no conntrack entry of the port forward
    doc["nodes"].append({"name": "r2", "kind": "namespace", "forwarding": True})
    doc["links"].append({"a": {"node": "r2", "interface": "veth-r2", "addresses": ["192.168.15.9/24"]},
                         "b": {"node": "v-net-0", "interface": "veth-r2-br"}})
    doc["links"].append({"a": {"node": "r2", "interface": "lan2", "addresses": ["192.168.1.9/24"]},
                         "b": {"node": "lan", "interface": "eth1", "addresses": ["192.168.1.4/24"]}})
    blue = next(n for n in doc["nodes"] if n["name"] == "blue")
    blue["routes"] = [{"to": "default", "via": "192.168.15.9"}]
    p = run(doc, "lan", "192.168.1.2", "tcp", 8080)
    assert p.verdict == "no-reply"
    assert "did not come back through the node that translated the request" in p.reason


def test_errors_say_what_is_wrong() -> None:
    topo = api.parse(example("router"))
    with pytest.raises(ValueError, match="not a node"):
        predict(topo, "nobody", "h2")
    with pytest.raises(ValueError, match="needs a port"):
        predict(topo, "h1", "h2", "tcp")
    with pytest.raises(ValueError, match="neither a node"):
        predict(topo, "h1", "h3")
    with pytest.raises(ValueError, match="protocol"):
        predict(topo, "h1", "h2", "sctp", 1)


def test_to_dict_is_the_spec_shape() -> None:
    d = run(example("seed-4-outside-no-nat"), "blue", "192.168.1.3").to_dict()
    assert {"verdict", "reason", "hops", "fix"} <= set(d)
    assert set(d["hops"][0]) >= {"node", "in_interface", "out_interface", "action", "detail"}
    assert set(d["fix"][0]) == {"node", "summary", "document", "changes"}
    assert {h["action"] for h in d["hops"]} <= {"originate", "route", "switch", "dnat", "snat", "deliver",
                                                 "drop", "reply"}


def _interfaces(doc: dict[str, Any]) -> dict[str, set[str]]:
    topo = api.parse(doc)
    out: dict[str, set[str]] = {n.name: {"lo"} for n in topo.nodes}
    for lk in topo.links:
        for e in (lk.a, lk.b):
            out[e.node].add(e.interface)
    for n in topo.nodes:
        if n.kind == "bridge":
            out[n.name].add(n.name)
            out[topo.host_name or "host"].add(n.name)
    return out


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_pair_of_every_example(name: str) -> None:
    """Hops name real interfaces of their node (capture listens on them); each fix is a valid document
    that the predictor finds reachable."""
    doc = example(name)
    topo = api.parse(doc)
    ifaces = _interfaces(doc)
    names = [n.name for n in topo.nodes if n.kind != "bridge" and not n.implicit]
    for s, t in itertools.permutations(names, 2):
        p = predict(topo, s, t)
        assert p.verdict in ("reachable", "unreachable", "no-reply")
        assert p.reason
        for h in p.hops:
            for i in (h.in_interface, h.out_interface):
                assert i is None or i in ifaces[h.node], (s, t, h)
        if p.verdict == "reachable":
            assert p.fixes == [] and p.failed_hop is None
        else:
            assert p.failed_hop is not None and p.hops[p.failed_hop].action in ("drop", "deliver"), (s, t)
        for fix in p.fixes:
            assert api.validate(fix.document) == []
            assert predict(api.parse(fix.document), s, t).verdict == "reachable"


def test_the_examples_keep_validating_unchanged() -> None:
    for name in EXAMPLE_NAMES:
        assert api.validate(example(name)) == []


def test_loose_reverse_path_filter_drops_where_there_is_no_way_back() -> None:
    p = predict(api.parse(example("seed-4-outside-no-nat")), "blue", "192.168.1.3", rp_filter=2)
    assert p.verdict == "no-reply"
    assert p.hops[p.failed_hop or 0].node == "lan" and p.hops[p.failed_hop or 0].direction == "request"
    assert "reverse path filter" in p.reason
    summaries = [f.summary for f in p.fixes]
    assert "masquerade 192.168.15.0/24 going out of eth0 on host" in summaries
    assert "add a route to 192.168.15.0/24 via 192.168.1.2 on lan" in summaries


def test_strict_reverse_path_filter_refuses_an_asymmetric_path() -> None:
    doc = copy.deepcopy(example("router"))
    doc["links"].append({"a": {"node": "h1", "interface": "eth1", "addresses": ["10.0.3.10/24"]},
                         "b": {"node": "h2", "interface": "eth1", "addresses": ["10.0.3.20/24"]}})
    doc["nodes"][2]["routes"].append({"to": "10.0.1.0/24", "via": "10.0.3.10"})
    topo = api.parse(doc)
    assert [predict(topo, "h1", "10.0.2.10", rp_filter=mode).verdict for mode in (0, 2, 1)] == [
        "reachable", "reachable", "no-reply"]


def _with_changes(doc: dict[str, Any], changes: list[dict[str, Any]]) -> dict[str, Any]:
    """What the canvas does with a fix's changes (frontend/src/explain.ts applyChange)."""
    doc = copy.deepcopy(doc)
    for c in changes:
        node = next(n for n in doc["nodes"] if n["name"] == c["node"])
        if c["kind"] == "forwarding":
            node["forwarding"] = True
        elif c["kind"] in ("route", "nat"):
            node.setdefault("routes" if c["kind"] == "route" else "nat", []).append(c[c["kind"]])
        elif c["kind"] == "reroute":
            node["routes"] = [c["route"] if r == c["replaces"] else r for r in node["routes"]]
    return doc


@pytest.mark.parametrize(("doc", "source", "target"), [
    (example("seed-3-outside-no-route"), "blue", "192.168.1.3"),
    (example("seed-4-outside-no-nat"), "blue", "192.168.1.3"),
    (_router(forwarding=False), "h1", "h2"),
])
def test_a_fixs_changes_give_its_document(doc: dict[str, Any], source: str, target: str) -> None:
    fixes = run(doc, source, target).fixes
    assert fixes
    for fix in fixes:
        assert fix.changes and fix.changes[0]["node"] == fix.node
        changed = api.parse(_with_changes(doc, fix.changes))
        assert changed.to_document() == api.parse(fix.document).to_document()
