"""`api.tables` reads a node's kernel tables with pyroute2; these check what it reads against an
independent read by iproute2 (`ip -n NS -j ...`, argv, JSON) on real labs. Each lab has a fresh tag
and the `tag` fixture destroys it in `finally`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from topology.engine import api
from topology.engine.model import Topology

from .conftest import example

pytestmark = pytest.mark.root


def ip_json(ns: str, *argv: str) -> list[dict[str, Any]]:
    out = subprocess.run(["ip", "-n", ns, "-j", *argv], check=True, capture_output=True, text=True).stdout
    data: list[dict[str, Any]] = json.loads(out or "[]")
    return data


def up(name: str, tag: str) -> Topology:
    topo: Topology = api.parse(example(name))
    api.apply(topo, tag)
    return topo


def addresses_by_iface(ns: str) -> dict[str, set[str]]:
    return {i["ifname"]: {f"{a['local']}/{a['prefixlen']}" for a in i.get("addr_info", [])}
            for i in ip_json(ns, "addr", "show")}


def test_seed1_tables_after_a_ping_match_iproute2(tag: str) -> None:
    topo = up("seed-1-direct", tag)
    items = list(api.ping(topo, tag, "red", "blue", count=3, interval=0.2, timeout=1))
    result = items[-1]
    assert isinstance(result, api.PingResult) and (result.received, result.error) == (3, None)
    red_ns, blue_ns = f"nd-{tag}-red", f"nd-{tag}-blue"

    addrs_before = addresses_by_iface(red_ns)
    red = api.tables(topo, tag, "red")
    addrs_after = addresses_by_iface(red_ns)
    blue = api.tables(topo, tag, "blue")
    assert set(red) == {"interfaces", "arp", "routes"}

    # interfaces: names, MACs, up/down and addresses as `ip -j link` / `ip -j addr` show them
    ifaces = {i["name"]: i for i in red["interfaces"]}
    assert set(ifaces) == {"lo", "veth-red"}
    assert ifaces["veth-red"]["state"] == "up" and ifaces["lo"]["state"] == "up"
    assert "192.168.15.1/24" in ifaces["veth-red"]["addresses"]
    links = {lk["ifname"]: lk for lk in ip_json(red_ns, "link", "show")}
    assert {n: (i["mac"], i["state"]) for n, i in ifaces.items()} == {
        n: (lk["address"], "up" if "UP" in lk["flags"] else "down") for n, lk in links.items()}
    for name, iface in ifaces.items():  # IPv6 link-local addresses may appear meanwhile, never vanish
        assert addrs_before[name] <= set(iface["addresses"]) <= addrs_after[name]
        assert set(iface) == {"name", "mac", "state", "addresses", "master"}

    # ARP: blue's veth-blue MAC in red's table, the same entry `ip -j neigh` shows
    blue_mac = next(i["mac"] for i in blue["interfaces"] if i["name"] == "veth-blue")
    blue_link = ip_json(blue_ns, "link", "show", "dev", "veth-blue")[0]
    assert blue_mac == blue_link["address"]
    entry = next(a for a in red["arp"] if a["ip"] == "192.168.15.2")
    assert (entry["mac"], entry["interface"]) == (blue_mac, "veth-red")
    assert entry["state"] in {"REACHABLE", "STALE", "DELAY", "PROBE"}
    neigh = {(n["dst"], n.get("lladdr"), n["dev"]) for n in ip_json(red_ns, "-4", "neigh", "show")}
    assert {(a["ip"], a["mac"], a["interface"]) for a in red["arp"]} == neigh

    # routes: the connected /24 on veth-red, and the same IPv4 main table as `ip -j route`
    assert {"to": "192.168.15.0/24", "via": None, "dev": "veth-red", "proto": "kernel",
            "scope": "link"} in red["routes"]
    theirs = {(r["dst"], r.get("gateway"), r.get("dev"), r.get("protocol", "boot"), r.get("scope", "global"))
              for r in ip_json(red_ns, "-4", "route", "show", "table", "main")}
    ours = {(r["to"], r["via"], r["dev"], r["proto"], r["scope"]) for r in red["routes"] if ":" not in r["to"]}
    assert ours == theirs


def test_bridge_node_reads_the_host_namespace(tag: str) -> None:
    topo = up("seed-2-bridge", tag)
    host = api.tables(topo, tag, "v-net-0")
    links = ip_json(f"nd-{tag}-host", "link", "show")
    assert {i["name"]: i["master"] for i in host["interfaces"]} == {
        lk["ifname"]: lk.get("master") for lk in links}
    assert next(i for i in host["interfaces"] if i["name"] == "v-net-0")["addresses"][0] == "192.168.15.5/24"


def test_reads_from_threads_and_from_inside_an_event_loop(tag: str) -> None:
    """The worker's watcher reads from a thread; setns is per thread, so reads in parallel threads
    must each see their own namespace, and the caller's namespace must be left as it was."""
    topo = up("seed-1-direct", tag)
    home = os.readlink("/proc/thread-self/ns/net")
    nodes = ["red", "blue"] * 6

    def names(node: str) -> tuple[str, tuple[str, ...]]:
        return node, tuple(i["name"] for i in api.tables(topo, tag, node)["interfaces"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        seen = set(pool.map(names, nodes))
    assert seen == {("red", ("lo", "veth-red")), ("blue", ("lo", "veth-blue"))}
    assert os.readlink("/proc/thread-self/ns/net") == home

    async def in_loop() -> dict[str, Any]:
        return api.tables(topo, tag, "blue")

    assert [i["name"] for i in asyncio.run(in_loop())["interfaces"]] == ["lo", "veth-blue"]


def test_a_node_not_deployed_is_an_error_and_creates_nothing(tag: str) -> None:
    topo = api.parse(example("seed-1-direct"))
    with pytest.raises(api.EngineError, match="not deployed"):
        api.tables(topo, tag, "red")
    assert not os.path.exists(f"/run/netns/nd-{tag}-red")
