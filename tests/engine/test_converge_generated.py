"""Every document that validates applies and converges (issue 11 item 1): hypothesis generates small
valid documents over the whole vocabulary (every node kind, IPv4 and IPv6, MTU, MAC, routes, NAT,
port forwards, odd but valid interface names), each is applied on the real kernel under its own tag,
drift must be [] right after, and the lab is destroyed whatever happens."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topology.engine import api
from topology.engine import fields as F

from .conftest import fresh_tag

IF_RE = re.compile(r"[A-Za-z0-9_.-]{1,15}", re.ASCII)
ifnames = st.from_regex(IF_RE, fullmatch=True).filter(lambda s: F.check_ifname(s) is None)
node_names = st.from_regex(re.compile(r"[a-z][a-z0-9_-]{0,6}[a-z0-9]", re.ASCII), fullmatch=True)
macs = st.tuples(*[st.integers(0, 255)] * 5).map(lambda t: "02:" + ":".join(f"{b:02x}" for b in t))


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A host (explicit or implicit) with an optional bridge, 1-3 namespaces, an optional external."""
    names = draw(st.lists(node_names.filter(lambda s: s not in ("host",) and F.check_ifname(s) is None),
                          min_size=5, max_size=5, unique=True))
    br, spaces, ext = names[0], names[1:1 + draw(st.integers(1, 3))], names[4]
    use_bridge, use_ext, v6 = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    explicit_host = use_ext or draw(st.booleans())
    nodes: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    host_ifs: set[str] = {br} if use_bridge else set()

    def ifname(taken: set[str]) -> str:
        name = draw(ifnames.filter(lambda s: s not in taken))
        taken.add(name)
        return name

    def end(node: str, ifn: str, addrs: list[str]) -> dict[str, Any]:
        e: dict[str, Any] = {"node": node, "interface": ifn}
        if addrs:
            e["addresses"] = addrs
        if draw(st.booleans()):
            e["mac"] = draw(macs)
        return e

    def mtu(link: dict[str, Any]) -> None:
        if draw(st.booleans()):
            link["mtu"] = draw(st.integers(1280, 9000) if v6 else st.integers(68, 9000))

    hostn: dict[str, Any] = {"name": "host", "kind": "host", "forwarding": draw(st.booleans())}
    if explicit_host:
        nodes.append(hostn)
    if use_bridge:
        nodes.append({"name": br, "kind": "bridge", "addresses": ["10.1.0.254/24"] + (["fd01::fe/64"] if v6 else [])})
    for i, ns in enumerate(spaces):
        node: dict[str, Any] = {"name": ns, "kind": "namespace"}
        taken: set[str] = set()
        if use_bridge:
            addrs = [f"10.1.0.{i + 1}/24"] + ([f"fd01::{i + 1}/64"] if v6 else [])
            lk = {"a": end(ns, ifname(taken), addrs), "b": {"node": br, "interface": ifname(host_ifs)}}
            if draw(st.booleans()):
                node["routes"] = [{"to": "default", "via": "10.1.0.254"}]
                if v6 and draw(st.booleans()):
                    node["routes"].append({"to": "default", "via": "fd01::fe"})
        elif explicit_host:
            addrs = [f"10.2.{i}.2/30"] + ([f"fd02:{i}::2/64"] if v6 else [])
            lk = {"a": end(ns, ifname(taken), addrs),
                  "b": end("host", ifname(host_ifs), [f"10.2.{i}.1/30"] + ([f"fd02:{i}::1/64"] if v6 else []))}
            if draw(st.booleans()):
                node["routes"] = [{"to": "10.9.0.0/16", "via": f"10.2.{i}.1"}]
        else:
            continue
        mtu(lk)
        links.append(lk)
        nodes.append(node)
    if use_ext:
        taken = set()
        hi = ifname(host_ifs)
        lk = {"a": end("host", hi, ["192.168.7.2/24"]), "b": end(ext, ifname(taken), ["192.168.7.3/24"])}
        mtu(lk)
        links.append(lk)
        nodes.append({"name": ext, "kind": "external"})
        if draw(st.booleans()):
            hostn["nat"] = [{"action": "masquerade", "source": "10.0.0.0/8", "out_interface": hi}]
        if draw(st.booleans()) and use_bridge:
            hostn["port_forwards"] = [{"protocol": draw(st.sampled_from(["tcp", "udp"])),
                                      "port": draw(st.integers(1, 65535)), "to": "10.1.0.1",
                                      "in_interface": hi}]
    if not links:  # two namespaces cabled straight, as seed-1
        a, b = spaces[0], names[4]
        links.append({"a": end(a, ifname(set()), ["10.3.0.1/24"]), "b": end(b, ifname(set()), ["10.3.0.2/24"])})
        nodes = [{"name": a, "kind": "namespace"}, {"name": b, "kind": "namespace"}]
    return {"format": "netdesigner/v1", "name": "generated", "nodes": nodes, "links": links}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_are_valid(doc: dict[str, Any]) -> None:
    """The generator makes only valid documents (else the root test below would prove little)."""
    assert api.validate(doc) == []


@pytest.mark.root
# bounded in `make test`; ND_CONVERGE_EXAMPLES=200 for a longer run
@settings(max_examples=int(os.environ.get("ND_CONVERGE_EXAMPLES", "20")), deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(documents())
def test_every_valid_document_applies_and_converges(doc: dict[str, Any]) -> None:
    topo = api.parse(doc)
    tag = fresh_tag()
    try:
        api.apply(topo, tag)
        assert api.drift(topo, tag) == []
        assert api.plan(topo, tag) == []
    finally:
        api.destroy(tag)
