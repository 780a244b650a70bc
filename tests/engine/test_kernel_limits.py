"""The kernel's limits that validation enforces (issue 10 item 4), checked on both sides against the
running kernel, in a throwaway namespace of this test's own."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator

import pytest

from topology.engine import fields as F

pytestmark = pytest.mark.root


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"ndtest-limit-{secrets.token_hex(3)}"  # outside every lab prefix
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def batch(ns: str, lines: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "-n", ns, "-force", "-batch", "-"], input="".join(f"{x}\n" for x in lines),
                          capture_output=True, text=True, check=False)


def test_bridge_takes_max_ports_and_refuses_one_more(netns: str) -> None:
    assert batch(netns, ["link add br0 type bridge"]).returncode == 0
    made = batch(netns, [f"link add p{i} master br0 type veth peer name q{i}" for i in range(F.MAX_BRIDGE_PORTS)])
    assert made.returncode == 0, made.stderr[-500:]
    ports = subprocess.run(["ip", "-n", netns, "-o", "link", "show", "master", "br0"], capture_output=True,
                           text=True, check=True).stdout.splitlines()
    assert len(ports) == F.MAX_BRIDGE_PORTS
    one_more = batch(netns, ["link add extra type veth peer name extra1", "link set extra master br0"])
    assert one_more.returncode != 0
    assert "Exchange full" in one_more.stderr


@pytest.mark.parametrize(("mtu", "kept"), [(F.IPV6_MIN_MTU - 1, False), (F.IPV6_MIN_MTU, True)])
def test_ipv6_address_needs_mtu_1280(netns: str, mtu: int, kept: bool) -> None:
    assert batch(netns, [f"link add d0 mtu {mtu} type veth peer name d1", "link set d0 up"]).returncode == 0
    batch(netns, ["addr add fd00::1/64 dev d0 nodad"])
    shown = subprocess.run(["ip", "-n", netns, "-6", "addr", "show", "dev", "d0"], capture_output=True,
                           text=True, check=True).stdout
    assert ("fd00::1/64" in shown) == kept
