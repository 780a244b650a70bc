"""Pure units of the kernel side: ping output parsing, netlink attribute packing."""

from __future__ import annotations

from typing import Any

import pytest

from topology.engine import rtnl
from topology.engine.diag import parse_line, resolve_target


@pytest.mark.parametrize(("line", "expected"), [
    ("64 bytes from 192.168.15.2: icmp_seq=1 ttl=64 time=0.061 ms", ("reply", (1, 64, 0.061))),
    ("64 bytes from 10.0.2.10: icmp_seq=12 ttl=63 time=1.5 ms\n", ("reply", (12, 63, 1.5))),
    ("3 packets transmitted, 3 received, 0% packet loss, time 402ms", ("summary", (3, 3))),
    ("2 packets transmitted, 0 received, 100% packet loss, time 1020ms", ("summary", (2, 0))),
    ("ping: connect: Network is unreachable", ("error", ("Network is unreachable",))),
    ("From 192.168.15.5 icmp_seq=1 Destination Host Unreachable",
     ("error", ("Destination Host Unreachable",))),
    ("PING 192.168.15.2 (192.168.15.2) 56(84) bytes of data.", None),
    ("--- 192.168.15.2 ping statistics ---", None),
])
def test_parse_ping_line(line: str, expected: Any) -> None:
    assert parse_line(line) == expected


def test_resolve_target() -> None:
    addresses = {"red": ["192.168.15.1"], "v": []}
    assert resolve_target(addresses, "red") == "192.168.15.1"
    assert resolve_target(addresses, "10.0.0.1") == "10.0.0.1"
    for bad in ("v", "red;reboot", "$(id)", "-f"):
        with pytest.raises(ValueError):
            resolve_target(addresses, bad)


@pytest.mark.parametrize(("packed", "size"), [
    (rtnl.attr_str(rtnl.IFLA_IFNAME, "eth0"), 12),  # 4 header + 5 bytes + 3 padding
    (rtnl.attr_u32(rtnl.IFLA_MTU, 1400), 8),
    (rtnl.attr_ip(rtnl.IFA_LOCAL, "fd00::1"), 20),
    (rtnl.attr_mac(rtnl.IFLA_ADDRESS, "02:00:00:00:00:0a"), 12),
])
def test_attributes_are_aligned_and_parse_back(packed: bytes, size: int) -> None:
    assert len(packed) == size
    parsed = rtnl.parse_attrs(packed, 0, len(packed))
    assert len(parsed) == 1


def test_attribute_round_trip() -> None:
    data = (rtnl.attr_str(rtnl.IFLA_IFNAME, "veth-red") + rtnl.attr_u32(rtnl.IFLA_MTU, 1500)
            + rtnl.attr_mac(rtnl.IFLA_ADDRESS, "aa:bb:cc:dd:ee:f0") + rtnl.attr_ip(rtnl.IFA_LOCAL, "10.0.0.1"))
    a = rtnl.parse_attrs(data, 0, len(data))
    assert rtnl.s_str(a[rtnl.IFLA_IFNAME]) == "veth-red"
    assert rtnl.s_u32(a[rtnl.IFLA_MTU]) == 1500
    assert rtnl.s_mac(a[rtnl.IFLA_ADDRESS]) == "aa:bb:cc:dd:ee:f0"
    assert rtnl.s_ip(a[rtnl.IFA_LOCAL]) == "10.0.0.1"
