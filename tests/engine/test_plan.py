"""Pure planning: ordering, plan-after-apply is empty, a one-link change plans only that link, export."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from topology.engine import api
from topology.engine.export import export_shell
from topology.engine.ops import AddrAdd, Iptables, Sysctl
from topology.engine.plan import ORDER, plan
from topology.engine.state import State, as_observed, desired_state

from .conftest import EXAMPLES, example

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))


def applied(desired: State) -> State:
    """The observed state of a kernel where `desired` was applied (what the observer reads back)."""
    return {ns: as_observed(want, "abc") for ns, want in desired.items()}


def star(n: int) -> dict[str, Any]:
    nodes = [{"name": "br0", "kind": "bridge"}] + [{"name": f"n{i}", "kind": "namespace"} for i in range(n)]
    links = [{"a": {"node": "br0", "interface": f"p{i}"},
              "b": {"node": f"n{i}", "interface": "eth0", "addresses": [f"10.200.{i // 250}.{i % 250 + 1}/16"]}}
             for i in range(n)]
    return {"format": "netdesigner/v1", "name": "star", "nodes": nodes, "links": links}


@pytest.mark.parametrize("name", NAMES)
def test_first_plan_is_ordered_and_complete(name: str) -> None:
    topo = api.parse(example(name))
    ops = plan(desired_state(topo, "abc"), {}, "abc")
    kinds = [op.op for op in ops]
    assert kinds == sorted(kinds, key=ORDER.index)
    assert all(op.to_dict()["command"] and op.to_dict()["op"] for op in ops)
    namespaces = {op.ns for op in ops if op.op == "netns_add"}
    assert namespaces == {f"nd-abc-{n.name}" for n in topo.nodes if n.kind != "bridge"}
    assert {op.ns for op in ops if op.op == "lo_up"} == namespaces


@pytest.mark.parametrize("name", NAMES)
def test_plan_after_apply_is_empty(name: str) -> None:
    desired = desired_state(api.parse(example(name)), "abc")
    assert plan(desired, applied(desired), "abc") == []


def test_seed1_commands() -> None:
    ops = plan(desired_state(api.parse(example("seed-1-direct")), "abc"), {}, "abc")
    assert [op.command for op in ops] == [
        "ip netns add nd-abc-red",
        "ip netns add nd-abc-blue",
        "ip -n nd-abc-red link set lo up",
        "ip -n nd-abc-blue link set lo up",
        "ip -n nd-abc-red link add veth-red address 02:fa:04:39:fd:a4 type veth peer name veth-blue netns "
        "nd-abc-blue address 02:16:2b:f4:18:77",  # MACs derived from the lab, the node and the interface
        "ip -n nd-abc-red link set veth-red up",
        "ip -n nd-abc-blue link set veth-blue up",
        "ip -n nd-abc-red addr add 192.168.15.1/24 dev veth-red",
        "ip -n nd-abc-blue addr add 192.168.15.2/24 dev veth-blue",
        # written on and off: a new namespace inherits the machine's IPv4 settings
        "ip netns exec nd-abc-red sysctl -w net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0",
        "ip netns exec nd-abc-blue sysctl -w net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0",
    ]
    assert ops[0].to_dict() == {"op": "netns_add", "node": "red", "netns": "nd-abc-red",
                                "command": "ip netns add nd-abc-red", "mark": "nd:abc@local"}


def test_nat_plan_uses_own_chains_with_comments() -> None:
    ops = plan(desired_state(api.parse(example("seed-6-port-forward")), "abc"), {}, "abc")
    ipt = [op for op in ops if op.op == "iptables"]
    assert len(ipt) == 1 and ipt[0].ns == "nd-abc-host"
    assert isinstance(ipt[0], Iptables)
    text = ipt[0].text
    rules = [line for line in text.splitlines() if line.startswith("-A")]
    assert all("--comment nd:abc" in r for r in rules)
    assert all(r.split()[1].startswith("ND-") or r.endswith(("-j ND-POSTROUTING", "-j ND-PREROUTING"))
               for r in rules)
    assert "-j DNAT --to-destination 192.168.15.2:80" in text
    assert any(isinstance(op, Sysctl) and op.values["net.ipv4.ip_forward"] == "1" for op in ops)


def test_one_link_change_plans_only_that_link() -> None:
    big = star(300)
    before = desired_state(api.parse(big), "abc")
    changed = copy.deepcopy(big)
    changed["links"][7]["b"]["addresses"] = ["10.200.0.8/16", "10.200.9.9/16"]
    after = desired_state(api.parse(changed), "abc")
    ops = plan(after, applied(before), "abc")
    assert [op.command for op in ops] == ["ip -n nd-abc-n7 addr add 10.200.9.9/16 dev eth0"]


def test_recabled_link_is_deleted_and_recreated() -> None:
    doc = example("seed-1-direct")
    before = desired_state(api.parse(doc), "abc")
    doc["nodes"].append({"name": "green", "kind": "namespace"})
    doc["links"][0]["b"]["node"] = "green"
    ops = plan(desired_state(api.parse(doc), "abc"), applied(before), "abc")
    kinds = [op.op for op in ops]
    assert kinds[:2] == ["link_del", "netns_add"]
    assert "veth_add" in kinds


def test_removed_node_namespace_deleted_and_unmarked_links_kept() -> None:
    desired = desired_state(api.parse(example("seed-1-direct")), "abc")
    observed = applied(desired)
    red = observed["nd-abc-red"]
    from topology.engine.state import Iface, NsState

    ifaces = dict(red.ifaces) | {"mine": Iface(kind="veth", alias="")}
    observed["nd-abc-red"] = NsState(node="red", ifaces=ifaces, routes=red.routes, mark=red.mark)
    observed["nd-abc-old"] = NsState(node="old", mark=red.mark)
    ops = plan(desired, observed, "abc")
    assert [op.command for op in ops] == ["ip netns del nd-abc-old"]


def test_drift_reports_hand_added_link() -> None:
    from topology.engine.drift import drift
    from topology.engine.state import Iface, NsState

    desired = desired_state(api.parse(example("seed-1-direct")), "abc")
    observed = applied(desired)
    red = observed["nd-abc-red"]
    observed["nd-abc-red"] = NsState(node="red", ifaces=dict(red.ifaces) | {"mine": Iface(kind="dummy")},
                                     mark=red.mark)
    assert drift(desired, applied(desired), "abc") == []
    assert drift(desired, observed, "abc") == [
        {"node": "red", "kind": "link", "what": "mine", "expected": None,
         "actual": "dummy (not made by NetDesigner)"}]


def test_export_text() -> None:
    text = export_shell(api.parse(example("seed-5-nat")), "abc")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert "# Bridges (virtual switches) in the host\nip -n nd-abc-host link add v-net-0 address 02:0b:0d:fc:63:b7 type bridge\n" in text
    assert "ip -n nd-abc-blue route add default via 192.168.15.5" in text
    assert re.search(r"ip netns exec nd-abc-host iptables-restore --noflush <<'(ND_END_[0-9a-f]{16})'\n[*]nat\n"
                     r"(?s:.*)\nCOMMIT\n\1\n", text)
    assert "-A ND-POSTROUTING -s 192.168.15.0/24 -o eth0 -m comment --comment nd:abc:" in text


def test_op_render_quotes() -> None:
    assert AddrAdd(ns="nd-a-x", node="x", name="e 0", address="1.2.3.4/24").command == \
        "ip -n nd-a-x addr add 1.2.3.4/24 dev 'e 0'"


PURE = ["model", "fields", "reader", "validate", "state", "ops", "plan", "drift", "export", "checks", "predict",
        "predict_net", "predict_walk", "predict_fix", "predict_trace",
        "textguard"]


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_nothing_of_the_kernel_or_django(module: str) -> None:
    import ast
    from pathlib import Path

    source = (Path(api.__file__).parent / f"{module}.py").read_text()
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            assert node.module in PURE, f"{module} imports the impure .{node.module}"
    assert not imported & {"django", "pyroute2", "subprocess", "socket", "ctypes", "os"}
