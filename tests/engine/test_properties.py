"""Hypothesis properties over names and addresses: hostile documents are refused (and, as root,
create nothing), valid random documents plan to nothing once applied."""

from __future__ import annotations

import copy
import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topology.engine import api
from topology.engine.plan import plan
from topology.engine.state import as_observed, desired_state

from .conftest import example, fresh_tag

NODE_RE = re.compile(r"[a-z](?:[a-z0-9_-]{0,30}[a-z0-9])?", re.ASCII)
IF_RE = re.compile(r"[A-Za-z0-9_.-]{1,15}", re.ASCII)

hostile_text = st.one_of(
    st.sampled_from(["red;reboot", "$(id)", "../x", "a b", "eth0\n", "x\x00", "rеd", "ｒｅｄ",
                     "veth-red-bridge-0", "-rf", "`id`", "a|b", "", " ", "red\t"]),
    st.text(min_size=0, max_size=40),
)


def hostile_node_names() -> st.SearchStrategy[str]:
    return hostile_text.filter(lambda s: not NODE_RE.fullmatch(s))


def hostile_ifnames() -> st.SearchStrategy[str]:
    return hostile_text.filter(lambda s: not IF_RE.fullmatch(s) or s in (".", "..", "lo"))


def with_node_name(name: str) -> dict[str, Any]:
    d = copy.deepcopy(example("seed-1-direct"))
    d["nodes"][0]["name"] = name
    d["links"][0]["a"]["node"] = name
    d["layout"] = {}
    return d


def with_ifname(name: str) -> dict[str, Any]:
    d = copy.deepcopy(example("seed-1-direct"))
    d["links"][0]["a"]["interface"] = name
    return d


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(hostile_node_names())
def test_hostile_node_names_refused(name: str) -> None:
    paths = [p.path for p in api.validate(with_node_name(name))]
    assert "nodes[0].name" in paths


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(hostile_ifnames())
def test_hostile_interface_names_refused(name: str) -> None:
    assert "links[0].a.interface" in [p.path for p in api.validate(with_ifname(name))]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=30))
def test_garbage_addresses_never_crash(text: str) -> None:
    d = copy.deepcopy(example("seed-1-direct"))
    d["links"][0]["a"]["addresses"] = [text]
    problems = api.validate(d)
    assert all(isinstance(p, api.Problem) for p in problems)


@st.composite
def valid_labs(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.from_regex(NODE_RE, fullmatch=True).filter(lambda s: s != "host"),
                          min_size=2, max_size=6, unique=True))
    nodes = [{"name": n, "kind": "namespace"} for n in names]
    links: list[dict[str, Any]] = []
    for i in range(len(names) - 1):
        third = draw(st.integers(0, 255))
        links.append({"a": {"node": names[i], "interface": draw(st.from_regex(IF_RE, fullmatch=True).filter(
                          lambda s: s not in (".", "..", "lo", "all", "default"))),
                            "addresses": [f"10.{i}.{third}.1/24"]},
                      "b": {"node": names[i + 1], "interface": f"b{i}", "addresses": [f"10.{i}.{third}.2/24"]}})
    # interface names must be unique within a node
    for i in range(1, len(links)):
        if links[i]["a"]["interface"] == links[i - 1]["b"]["interface"]:
            links[i]["a"]["interface"] += "x" if len(links[i]["a"]["interface"]) < 15 else ""
    return {"format": "netdesigner/v1", "name": "random", "nodes": nodes, "links": links}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_labs())
def test_valid_labs_plan_to_nothing_once_applied(doc: dict[str, Any]) -> None:
    problems = api.validate(doc)
    if problems:  # a rare clash the generator did not avoid must be reported, never crash
        assert all(p.path for p in problems)
        return
    desired = desired_state(api.parse(doc), "abc")
    first = plan(desired, {}, "abc")
    assert len([o for o in first if o.op == "veth_add"]) == len(doc["links"])
    assert plan(desired, {ns: as_observed(w) for ns, w in desired.items()}, "abc") == []


@pytest.mark.root
@settings(max_examples=25, deadline=None)
@given(st.one_of(hostile_node_names().map(with_node_name), hostile_ifnames().map(with_ifname)))
def test_hostile_documents_create_nothing(doc: dict[str, Any]) -> None:
    tag = fresh_tag()
    try:
        with pytest.raises(api.ValidationFailed):
            topo = api.parse(doc)
            api.apply(topo, tag)
        # only this test's own tag: other developers' tests make namespaces at the same time
        after = set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()
        assert not {n for n in after if n.startswith(f"nd-{tag}-")}
    finally:
        api.destroy(tag)
