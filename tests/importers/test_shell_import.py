"""The shell importer as tables over command sequences: what each becomes, and each warning's words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from topology.engine import api
from topology.engine.importers import import_shell

FIXTURES = Path(__file__).parent / "fixtures"
PAIR = """ip netns add red
ip netns add blue
ip link add veth-red type veth peer name veth-blue
ip link set veth-red netns red
ip link set veth-blue netns blue
"""
BRIDGE = """ip netns add red
ip netns add blue
ip link add v-net-0 type bridge
ip link add veth-red type veth peer name veth-red-br
ip link add veth-blue type veth peer name veth-blue-br
ip link set veth-red netns red
ip link set veth-blue netns blue
ip link set veth-red-br master v-net-0
ip link set veth-blue-br master v-net-0
ip addr add 192.168.15.5/24 dev v-net-0
"""


def nodes(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in doc["nodes"]}


def ends(doc: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return sorted((e["node"], e["interface"], e.get("addresses", []))
                  for lk in doc["links"] for e in (lk["a"], lk["b"]))


# (commands, line of the one warning, words it must contain, the fix's corrected line or None)
WARNINGS = [
    (PAIR + "ip -n rde addr add 10.0.0.1/24 dev veth-red", 6, ["'rde'", "typo of 'red'", "made on line 1"],
     "ip -n red addr add 10.0.0.1/24 dev veth-red"),
    (PAIR + "ip netns exec bleu ip link set veth-blue up", 6, ["typo of 'blue'"],
     "ip netns exec blue ip link set veth-blue up"),
    (PAIR + "ip -n red addr add 10.0.0.1/24 dev veth-rde", 6, ["'veth-rde'", "typo of 'veth-red'"],
     "ip -n red addr add 10.0.0.1/24 dev veth-red"),
    (PAIR + "ip -n red addr add 10.0.0.1/24 dev eth7", 6, ["'eth7' is never made"], None),
    (PAIR + "ip link set veth-red up", 6, ["'veth-red' is in namespace 'red'", "moved there on line 4"],
     "ip -n red link set veth-red up"),
    (PAIR + "ip -n red addr add 10.0.0.1/33 dev veth-red", 6, ["/33 is longer than an IPv4 address",
                                                              "cannot be meant"], None),
    (PAIR + "ip -n red addr add 10.0.0.0/24 dev veth-red", 6, ["network address of 10.0.0.0/24"], None),
    (PAIR + "ip -n red addr add 10.0.0.255/24 dev veth-red", 6, ["broadcast address"], None),
    (PAIR + "ip -n red addr add 10.0.0.1/255.0.255.0 dev veth-red", 6, ["not a netmask"], None),
    (PAIR + "ip -n red addr add 10.0.0.1/0 dev veth-red", 6, ["/0 would put every address"], None),
    (PAIR + "ip -n red addr add 10.0.0.1/24 dev veth-red\nip -n blue addr add 10.0.0.2 dev veth-blue", 7,
     ["no prefix length", "kernel takes 10.0.0.2/32", "red's veth-red has 10.0.0.1/24 (line 6)"],
     "ip -n blue addr add 10.0.0.2/24 dev veth-blue"),
    (PAIR + "ip -n red addr add 10.0.0.1/24 dev veth-red\nip -n blue addr add 10.0.0.2/33 dev veth-blue", 7,
     ["/33", "cannot be meant", "10.0.0.2/24 is meant"], "ip -n blue addr add 10.0.0.2/24 dev veth-blue"),
    (BRIDGE + "ip -n red addr add 192.168.15.1 dev veth-red", 11,
     ["no prefix", "the host's v-net-0 has 192.168.15.5/24 (line 10)"],
     "ip -n red addr add 192.168.15.1/24 dev veth-red"),
    (BRIDGE + "ip -n blue addr add 192.168.15.2/24 dev veth-blue\n"
     "ip netns exec blue ip route add default via 192.168.1.1", 12, ["gateway 192.168.1.1 is not on a subnet",
                                                                    "Nexthop has invalid gateway"], None),
    (BRIDGE + "ip -n blue addr add 192.168.15.2/24 dev veth-blue\n"
     "ip netns exec blue ip route add 192.168.1.7/24 via 192.168.15.5", 12, ["host bits set", "192.168.1.0/24"],
     "ip netns exec blue ip route add 192.168.1.0/24 via 192.168.15.5"),
    (BRIDGE + "iptables -t nat -A PREROUTING --dport 80 --to-destination 192.168.15.2:80 -j DNAT", 11,
     ["--dport", "without -p", "port 80 is tcp"],
     "iptables -t nat -A PREROUTING -p tcp --dport 80 --to-destination 192.168.15.2:80 -j DNAT"),
    (BRIDGE + "iptables -t nat -A PREROUTING --dport 53 --to-destination 192.168.15.2 -j DNAT", 11,
     ["port 53 is udp"], "iptables -t nat -A PREROUTING -p udp --dport 53 --to-destination 192.168.15.2 -j DNAT"),
    (BRIDGE + "iptables -t nat -A PREROUTING --dport 5432 --to-destination 192.168.15.2 -j DNAT", 11,
     ["add -p tcp or -p udp"], None),
    (BRIDGE + "iptables -A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE", 11, ["only valid in nat table"],
     "iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE"),
    (BRIDGE + "iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -o eth0 -j MASQUERADE", 11,
     ["'eth0' is never made", "kept without -o eth0", "external node"], None),
    (BRIDGE + "iptables -A FORWARD -i v-net-0 -j ACCEPT", 11, ["filter rules", "accept every packet"], None),
    (BRIDGE + "ip -n red addr add 192.168.15.1/24 dev veth-red\nip netns exec red ping -c 3 192.168.1.3", 12,
     ["192.168.1.3 is pinged but never made inside the lab", "add an external node"], None),
    (PAIR + "ip netns exec red ping example.org", 6, ["a name, not an address"], None),
    (PAIR + "docker run -d nginx", 6, ["'docker' is not a command this importer replays"], None),
    ("ip netns add red\nip link add a type veth peer name b", 2, ["both ends", "stay in the host's namespace"],
     None),
    (PAIR + "ip link add vx0 type vxlan id 42", 6, ["type 'vxlan' are not part of a lab"], None),
    (PAIR + "ip netns add Red", 6, ["not a valid node name"], None),
    (PAIR + "ip -n red link set veth-red netns 4242", 6, ["process id"], None),
]


@pytest.mark.parametrize(("text", "line", "words", "fix"), WARNINGS, ids=[str(i) for i in range(len(WARNINGS))])
def test_one_warning_in_words(text: str, line: int, words: list[str], fix: str | None) -> None:
    result = import_shell(text)
    assert [w.line for w in result.warnings] == [line], [str(w) for w in result.warnings]
    warning = result.warnings[0]
    for word in words:
        assert word in warning.message
    assert (warning.fix.text if warning.fix else None) == fix
    assert api.validate(result.document) == []


# Commands that only look: no warning, nothing in the document.
LOOKS = ["ip netns", "ip netns list", "ip link", "ip link show", "ip addr", "ip a", "ip -n red addr show",
         "ip route", "ip r", "ip netns exec red ip route", "arp", "route", "ip netns exec red arp -n",
         "ip neigh", "iptables -t nat -L", "iptables -nvL", "iptables -t nat -S", "sysctl net.ipv4.ip_forward",
         "ip netns exec red ip link | grep veth", "echo done", "ip -n red link set lo up",
         "ip netns exec blue ip link set dev lo up"]


@pytest.mark.parametrize("look", LOOKS)
def test_looking_is_not_configuration(look: str) -> None:
    result = import_shell(PAIR + look)
    assert result.warnings == []
    assert result.document == import_shell(PAIR).document


def test_a_later_link_del_removes_the_pair_an_earlier_line_made() -> None:
    doc = import_shell(PAIR + "ip -n red link del veth-red").document
    assert doc["links"] == []
    assert set(nodes(doc)) == {"red", "blue"}


def test_netns_del_removes_the_namespace_and_its_cables() -> None:
    doc = import_shell(PAIR + "ip netns del blue").document
    assert set(nodes(doc)) == {"red"} and doc["links"] == []


def test_moving_drops_the_addresses_as_the_kernel_does() -> None:
    text = "ip netns add red\nip link add a type veth peer name b\nip addr add 10.0.0.1/24 dev a\n" \
           "ip link set a netns red"
    doc = import_shell(text).document
    assert ends(doc) == [("host", "b", []), ("red", "a", [])]


def test_veth_made_straight_in_namespaces() -> None:
    text = "ip netns add a\nip netns add b\nip link add x netns a type veth peer name y netns b\n" \
           "ip -n a addr add 10.1.0.1/30 dev x\nip -n b addr add 10.1.0.2/30 dev y\n" \
           "ip -n a link set x up\nip -n b link set y up"
    result = import_shell(text)
    assert result.warnings == []
    assert ends(result.document) == [("a", "x", ["10.1.0.1/30"]), ("b", "y", ["10.1.0.2/30"])]


def test_bridge_ports_and_host_end() -> None:
    text = BRIDGE + "ip link add veth-host type veth peer name veth-lan\nip netns add lan\n" \
                    "ip link set veth-lan netns lan\nip addr add 192.168.1.2/24 dev veth-host\n" \
                    "ip -n lan addr add 192.168.1.3/24 dev veth-lan\nip route add 10.9.0.0/16 via 192.168.1.3"
    result = import_shell(text)
    assert result.warnings == []
    doc = result.document
    assert nodes(doc)["v-net-0"] == {"name": "v-net-0", "kind": "bridge", "addresses": ["192.168.15.5/24"]}
    assert nodes(doc)["host"]["routes"] == [{"to": "10.9.0.0/16", "via": "192.168.1.3"}]
    assert ("v-net-0", "veth-red-br", []) in ends(doc) and ("host", "veth-host", ["192.168.1.2/24"]) in ends(doc)
    assert list(nodes(doc))[0] == "host" and set(doc["layout"]) == set(nodes(doc))


FORWARDING = [
    ("ip netns exec red sysctl -w net.ipv4.ip_forward=1", True),
    ("ip netns exec red sysctl net.ipv4.ip_forward=1", True),
    ("ip netns exec red sysctl -w net.ipv4.ip_forward=1\nip netns exec red sysctl -w net.ipv4.ip_forward=0",
     None),
    ("ip netns exec red ip link", None),
]


@pytest.mark.parametrize(("text", "forwarding"), FORWARDING)
def test_forwarding_in_a_namespace(text: str, forwarding: bool | None) -> None:
    assert nodes(import_shell(PAIR + text).document)["red"].get("forwarding") is forwarding


def test_echo_into_proc_turns_forwarding_on() -> None:
    result = import_shell(PAIR + "ip netns exec red sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'\n"
                          "echo 1 > /proc/sys/net/ipv4/ip_forward")
    assert result.warnings == []
    assert nodes(result.document)["red"]["forwarding"] is True


NAT = [
    ("iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE",
     {"nat": [{"action": "masquerade", "source": "192.168.15.0/24"}]}),
    ("iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -o v-net-0 -j MASQUERADE",
     {"nat": [{"action": "masquerade", "source": "192.168.15.0/24", "out_interface": "v-net-0"}]}),
    ("iptables -t nat -A PREROUTING -p tcp --dport 8080 --to-destination 192.168.15.2:80 -j DNAT",
     {"port_forwards": [{"protocol": "tcp", "port": 8080, "to": "192.168.15.2", "to_port": 80}]}),
    ("iptables -t nat -A PREROUTING -p udp -m udp --dport 53 -j DNAT --to-destination 192.168.15.2",
     {"port_forwards": [{"protocol": "udp", "port": 53, "to": "192.168.15.2", "to_port": 53}]}),
    ("iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE\n"
     "iptables -t nat -D POSTROUTING -s 192.168.15.0/24 -j MASQUERADE", {}),
]


@pytest.mark.parametrize(("rule", "expected"), NAT)
def test_nat_rules_on_the_host(rule: str, expected: dict[str, Any]) -> None:
    result = import_shell(BRIDGE + rule)
    assert result.warnings == []
    host = nodes(result.document)["host"]
    assert {k: v for k, v in host.items() if k in ("nat", "port_forwards")} == expected


def test_pings_become_checks_once_each() -> None:
    text = BRIDGE + "ip -n red addr add 192.168.15.1/24 dev veth-red\n" \
                    "ip -n blue addr add 192.168.15.2/24 dev veth-blue\n" \
                    "ip netns exec red ping 192.168.15.2\nip netns exec red ping -c 3 192.168.15.2\n" \
                    "ping -c 1 192.168.15.1"
    result = import_shell(text)
    assert result.warnings == []
    assert [(c["from"], c["to"], c["expect"]) for c in result.checks] == [
        ("red", "192.168.15.2", "reachable"), ("host", "192.168.15.1", "reachable")]


def test_a_typo_repeated_is_reported_on_each_line_and_cascades_fold_into_it() -> None:
    text = PAIR.replace("ip link set veth-blue netns blue", "ip link set veth-bleu netns blue") + \
        "ip -n blue addr add 10.0.0.2/24 dev veth-blue\nip -n blue link set veth-blue up"
    result = import_shell(text)
    assert [w.line for w in result.warnings] == [5]
    assert "(lines 6 and 7 depend on it and are left out with it)" in result.warnings[0].message


def test_a_fix_changes_only_its_line() -> None:
    text = PAIR + "ip -n rde addr add 10.0.0.1/24 dev veth-red"
    fixed = import_shell(text, apply_fixes_=True)
    assert fixed.text.split("\n")[:5] == text.split("\n")[:5]
    assert fixed.text.split("\n")[5] == "ip -n red addr add 10.0.0.1/24 dev veth-red"
    assert [w.fixed for w in fixed.warnings] == [True]


def test_the_tutorial_with_its_slips_gives_one_warning_per_slip() -> None:
    text = (FIXTURES / "tutorial-slips.sh").read_text()
    result = import_shell(text)
    by_line = {w.line: w for w in result.warnings}
    assert sorted(by_line) == [25, 29, 33, 35, 38, 45], [str(w) for w in result.warnings]
    assert "typo of 'veth-blue'" in by_line[25].message
    assert "no prefix length" in by_line[29].message and "192.168.15.0/24" in by_line[29].message
    assert "/244" in by_line[33].message and "cannot be meant" in by_line[33].message
    assert "en dash" in by_line[35].message
    assert "192.168.1.3" in by_line[38].message and "external node" in by_line[38].message
    assert "--dport" in by_line[45].message
    assert api.validate(result.document) == []


def test_the_tutorial_with_its_fixes_taken() -> None:
    text = (FIXTURES / "tutorial-slips.sh").read_text()
    result = import_shell(text, apply_fixes_=True)
    assert api.validate(result.document) == []
    assert sorted(w.line for w in result.warnings if w.fixed) == [25, 29, 33, 35, 45]
    assert [w.line for w in result.warnings if not w.fixed] == [38]  # the LAN host: a suggestion, no fix
    doc = result.document
    assert ends(doc) == [("blue", "veth-blue", ["192.168.15.2/24"]), ("red", "veth-red", ["192.168.15.1/24"]),
                         ("v-net-0", "veth-blue-br", []), ("v-net-0", "veth-red-br", [])]
    assert nodes(doc)["blue"]["routes"] == [{"to": "192.168.1.0/24", "via": "192.168.15.5"},
                                            {"to": "default", "via": "192.168.15.5"}]
    assert nodes(doc)["host"]["port_forwards"] == [{"protocol": "tcp", "port": 80, "to": "192.168.15.2",
                                                    "to_port": 80}]
    assert [(c["from"], c["to"]) for c in result.checks] == [("red", "192.168.15.2"), ("blue", "192.168.15.5")]


def test_the_tutorial_as_published() -> None:
    """The commands as the course shows them: addresses without a prefix and a DNAT without -p."""
    text = (FIXTURES / "tutorial-as-published.sh").read_text()
    result = import_shell(text)
    assert [w.line for w in result.warnings] == [30, 31, 35, 39]
    assert "lines 36 and 38 depend on it" in result.warnings[1].message  # blue's routes need its /24
    fixed = import_shell(text, apply_fixes_=True)
    assert [w.line for w in fixed.warnings if not w.fixed] == [35]
    assert nodes(fixed.document)["blue"]["routes"][-1] == {"to": "default", "via": "192.168.15.5"}
    assert api.validate(fixed.document) == []


def test_checks_go_into_the_document_only_when_the_reader_takes_them() -> None:
    from topology.engine.importers.document import checks_supported

    text = BRIDGE + "ip -n red addr add 192.168.15.1/24 dev veth-red\nping -c 1 192.168.15.1"
    result = import_shell(text)
    assert result.checks and ("checks" in result.document) == checks_supported()
    assert api.validate(result.document) == []
