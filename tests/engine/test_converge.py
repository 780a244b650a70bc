"""Root tests: whatever the kernel holds inside the lab's own namespaces, one apply ends with zero drift:
forwarding as designed (on and off) whatever a new namespace inherited, interrupted creations remade
or adopted, MACs that survive a repair, and a 500-namespace lab repaired after hand changes."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from topology.engine import api, nsutil
from topology.engine.state import derived_mac

from .conftest import example
from .test_kernel import ip, lab_namespaces, ping

pytestmark = pytest.mark.root
FORWARDING = ("net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding")


def set_forwarding(ns: str, value: str) -> None:
    """By hand inside one of the lab's namespaces (never the machine's own settings)."""
    with nsutil.inside(ns):
        for key in FORWARDING:
            with open(f"/proc/sys/{key}", "w") as f:
                f.write(value + "\n")


def forwarding(ns: str) -> tuple[str, ...]:
    with nsutil.inside(ns):
        return tuple(open(f"/proc/sys/{key}").read().strip() for key in FORWARDING)


def mac_of(ns: str, name: str) -> str:
    out = subprocess.run(["ip", "-n", ns, "-o", "link", "show", name], capture_output=True, text=True,
                         check=True).stdout
    words = out.split()
    return words[words.index("link/ether") + 1]


def test_new_namespaces_that_start_forwarding_end_as_designed(tag: str) -> None:
    """As on a host with ip_forward=1 and devconf_inherit_init_net=0: every new namespace starts
    forwarding. Here it is turned on by hand inside each one right after it is made."""
    topo = api.parse(example("seed-5-nat"))  # host forwards, red and blue do not

    def turn_on(done: int, total: int, step: str) -> None:
        if step.startswith("ip netns add "):
            set_forwarding(step.split()[-1], "1")

    api.apply(topo, tag, progress=turn_on)
    want = {f"nd-{tag}-{n.name}": ("1", "1") if n.forwarding else ("0", "0")
            for n in topo.nodes if n.kind != "bridge"}
    assert {ns: forwarding(ns) for ns in lab_namespaces(tag)} == want
    assert ("1", "1") in want.values() and ("0", "0") in want.values()
    assert api.drift(topo, tag) == []


@pytest.mark.parametrize("key", FORWARDING)
def test_forwarding_turned_on_by_hand_later_is_turned_off(key: str, tag: str) -> None:
    topo = api.parse(example("seed-1-direct"))
    api.apply(topo, tag)
    ns = f"nd-{tag}-red"
    with nsutil.inside(ns), open(f"/proc/sys/{key}", "w") as f:
        f.write("1\n")
    assert [d["kind"] for d in api.drift(topo, tag)] == ["sysctl"]
    assert [o.op for o in api.apply(topo, tag, previous=topo)] == ["sysctl"]
    assert forwarding(ns) == ("0", "0") and api.drift(topo, tag) == []


def test_a_repaired_veth_keeps_its_mac(tag: str) -> None:
    topo = api.parse(example("seed-1-direct"))
    api.apply(topo, tag)
    red, blue = f"nd-{tag}-red", f"nd-{tag}-blue"
    before = (mac_of(red, "veth-red"), mac_of(blue, "veth-blue"))
    assert before == (derived_mac(tag, "red", "veth-red"), derived_mac(tag, "blue", "veth-blue"))
    ip("-n", red, "link", "del", "veth-red")
    api.apply(topo, tag, previous=topo)
    assert (mac_of(red, "veth-red"), mac_of(blue, "veth-blue")) == before
    ip("-n", red, "link", "set", "veth-red", "address", "02:00:00:00:00:01")  # a hand change
    assert [(d["kind"], d["actual"]) for d in api.drift(topo, tag)] == [("mac", "02:00:00:00:00:01")]
    api.apply(topo, tag)
    assert mac_of(red, "veth-red") == before[0] and api.drift(topo, tag) == []
    assert ping(topo, tag, "red", "blue", count=1).received == 1


def test_a_mac_the_design_sets_wins(tag: str) -> None:
    doc = example("seed-1-direct")
    doc["links"][0]["a"]["mac"] = "02:aa:bb:cc:dd:ee"
    topo = api.parse(doc)
    api.apply(topo, tag)
    assert mac_of(f"nd-{tag}-red", doc["links"][0]["a"]["interface"]) == "02:aa:bb:cc:dd:ee"
    assert api.drift(topo, tag) == []


def test_an_unmarked_veth_pair_with_designed_names_is_remade(tag: str) -> None:
    """What a kill between creating a veth pair and marking it leaves, in the lab's own namespaces."""
    topo = api.parse(example("seed-1-direct"))
    api.apply(topo, tag)
    red, blue = f"nd-{tag}-red", f"nd-{tag}-blue"
    ip("-n", red, "link", "del", "veth-red")
    ip("-n", red, "link", "add", "veth-red", "type", "veth", "peer", "name", "veth-blue", "netns", blue)
    drift = api.drift(topo, tag)
    assert {(d["node"], d["what"]) for d in drift if d["kind"] == "link"} == {("red", "veth-red"),
                                                                              ("blue", "veth-blue")}
    assert all("without its mark" in d["actual"] for d in drift if d["kind"] == "link")
    assert {"link_del", "veth_add"} <= {o.op for o in api.plan(topo, tag)}
    api.apply(topo, tag)
    assert api.drift(topo, tag) == [] and api.plan(topo, tag) == []
    assert mac_of(red, "veth-red") == derived_mac(tag, "red", "veth-red")
    assert ping(topo, tag, "red", "blue", count=1).received == 1


def test_an_unmarked_bridge_with_the_designed_name_is_adopted(tag: str) -> None:
    topo = api.parse(example("seed-2-bridge"))
    api.apply(topo, tag)
    host = f"nd-{tag}-host"
    ip("-n", host, "link", "del", "v-net-0")  # its ports fall out of it
    ip("-n", host, "link", "add", "v-net-0", "type", "bridge")
    assert any("without its mark" in str(d["actual"]) for d in api.drift(topo, tag))
    api.apply(topo, tag)
    assert api.drift(topo, tag) == []
    assert mac_of(host, "v-net-0") == derived_mac(tag, "v-net-0", "")
    assert ping(topo, tag, "red", "blue", count=1).received == 1


def big_lab(n: int) -> dict[str, Any]:
    """A star of n namespaces behind a bridge whose host forwards and masquerades, each node with a
    default route through the host."""
    nodes: list[dict[str, Any]] = [
        {"name": "host", "kind": "host", "forwarding": True,
         "nat": [{"action": "masquerade", "source": "10.200.0.0/16"}]},
        {"name": "br0", "kind": "bridge", "addresses": ["10.200.255.254/16"]}]
    nodes += [{"name": f"n{i}", "kind": "namespace", "routes": [{"to": "default", "via": "10.200.255.254"}]}
              for i in range(n)]
    links = [{"a": {"node": "br0", "interface": f"p{i}"},
              "b": {"node": f"n{i}", "interface": "eth0", "addresses": [f"10.200.{i // 250}.{i % 250 + 1}/16"]}}
             for i in range(n)]
    return {"format": "netdesigner/v1", "name": "big", "nodes": nodes, "links": links}


def test_hand_changes_in_a_500_namespace_lab_are_all_repaired_by_one_apply(tag: str) -> None:
    topo = api.parse(big_lab(500))
    api.apply(topo, tag)
    assert api.drift(topo, tag) == []

    def ns(node: str) -> str:
        return f"nd-{tag}-{node}"

    ip("-n", ns("n17"), "addr", "del", "10.200.0.18/16", "dev", "eth0")  # an address
    ip("-n", ns("n99"), "route", "del", "default")  # a route
    ip("-n", ns("n250"), "link", "del", "eth0")  # a veth (both ends)
    subprocess.run(["ip", "netns", "exec", ns("host"), "iptables", "-t", "nat", "-F", "ND-POSTROUTING"],
                   check=True)  # a NAT rule
    ip("netns", "del", ns("n400"))  # a namespace
    set_forwarding(ns("n3"), "1")  # a setting
    kinds = {(d["node"], d["kind"]) for d in api.drift(topo, tag)}
    assert {("n17", "address"), ("n99", "route"), ("n250", "link"), ("host", "link"), ("host", "iptables"),
            ("n400", "namespace"), ("n3", "sysctl")} <= kinds
    api.apply(topo, tag, previous=topo)  # `previous` is the design last applied: it proves nothing
    assert api.drift(topo, tag) == []
    # The repaired node reaches the bridge. On a 500-port bridge its first ARP requests may go unanswered
    # for about a second after the repair (seen with random MACs as well): retry, up to 10 pings.
    assert any(ping(topo, tag, "n250", "10.200.255.254", count=1).received == 1 for _ in range(10))
