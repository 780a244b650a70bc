"""Typed operations: each kind keeps the JSON shape (`to_dict`) that the API, job rows and CLI show."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from topology.engine import api, ops
from topology.engine.plan import plan
from topology.engine.state import desired_state

from .conftest import EXAMPLES, example

BASE = {"op", "node", "netns", "command"}
SHAPES: list[tuple[ops.Operation, set[str]]] = [
    (ops.Blocked(ns="nd-a-x", node="x", mark=""), {"mark"}),
    (ops.Foreign(ns="nd-a-x", node="x", mark="nd:b@other"), {"mark"}),
    (ops.NetnsAdd(ns="nd-a-x", node="x", mark="nd:a@local"), {"mark"}),
    (ops.NetnsDel(ns="nd-a-x", node="x"), set()),
    (ops.LoUp(ns="nd-a-x", node="x"), set()),
    (ops.BridgeAdd(ns="nd-a-h", node="br", name="br", alias="nd:a:bridge:br", mac=None), {"name", "alias", "mac"}),
    (ops.VethAdd(ns="nd-a-x", node="x", name="e0", peer_ns="nd-a-y", peer_name="e1", alias="nd:a:x/e0=y/e1"),
     {"name", "peer_ns", "peer_name", "mtu", "mac", "peer_mac", "alias"}),
    (ops.LinkDel(ns="nd-a-x", node="x", name="e0"), {"name"}),
    (ops.LinkSet(ns="nd-a-x", node="x", name="e0", mtu=1400), {"name", "mtu"}),  # only what changes
    (ops.LinkSet(ns="nd-a-x", node="x", name="e0", mac="02:00:00:00:00:01", alias=None), {"name", "mac"}),
    (ops.LinkMaster(ns="nd-a-h", node="br", name="p0", master="br"), {"name", "master"}),
    (ops.LinkUp(ns="nd-a-x", node="x", name="e0"), {"name"}),
    (ops.AddrAdd(ns="nd-a-x", node="x", name="e0", address="10.0.0.1/24"), {"name", "address"}),
    (ops.AddrDel(ns="nd-a-x", node="x", name="e0", address="10.0.0.1/24"), {"name", "address"}),
    (ops.RouteAdd(ns="nd-a-x", node="x", to="default", via="10.0.0.254"), {"to", "via", "dev"}),
    (ops.RouteDel(ns="nd-a-x", node="x", to="10.1.0.0/16", dev="e0"), {"to", "via", "dev"}),
    (ops.Sysctl(ns="nd-a-x", node="x", values={"net.ipv4.ip_forward": "1"}), {"values"}),
    (ops.Iptables(ns="nd-a-h", node="host", text="*nat\nCOMMIT\n", lo_alias="nd:a@local"), {"text", "lo_alias"}),
]


def test_every_kind_is_covered() -> None:
    assert {type(op) for op, _ in SHAPES} == set(typing.get_args(ops.Operation))
    assert sorted({op.op for op, _ in SHAPES}) == sorted(ops.ORDER)


@pytest.mark.parametrize(("op", "keys"), SHAPES, ids=lambda v: getattr(v, "op", ""))
def test_to_dict_keeps_the_json_shape(op: ops.Operation, keys: set[str]) -> None:
    d = op.to_dict()
    assert set(d) == BASE | keys
    assert (d["op"], d["netns"], d["node"], d["command"]) == (op.op, op.ns, op.node, op.command)
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.ns = "other"  # type: ignore[misc]


def test_values_come_out_as_plain_json() -> None:
    d = ops.Sysctl(ns="nd-a-x", node="x", values={"net.ipv4.ip_forward": "0"}).to_dict()
    assert d["values"] == {"net.ipv4.ip_forward": "0"} and type(d["values"]) is dict
    assert d["command"] == "ip netns exec nd-a-x sysctl -w net.ipv4.ip_forward=0"


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_plans_are_typed_and_render(name: str) -> None:
    for op in plan(desired_state(api.parse(example(name)), "abc"), {}, "abc"):
        assert isinstance(op, typing.get_args(ops.Operation))
        assert op.to_dict()["command"] == op.command
