"""Root tests of packet capture against the real kernel: AF_PACKET sockets in the lab's namespaces,
pings as traffic, the pcap read back by the real `tcpdump -r`. Each lab has a fresh tag that the `tag`
fixture destroys."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.capture_ready import wait_links_up
from topology.engine import api
from topology.engine.backend import LabKernel
from topology.engine.capture import CaptureError, CaptureResult, Packet, PcapWriter, Point
from topology.engine.model import Topology

from .conftest import example

pytestmark = pytest.mark.root


def tcpdump(path: Path) -> list[str]:
    if shutil.which("tcpdump") is None:
        pytest.fail("tcpdump is missing: scripts/bootstrap.sh --test installs it")
    out = subprocess.run(["tcpdump", "-n", "-t", "-r", str(path)], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def pinging(topo: Topology, tag: str, source: str, target: str, count: int) -> tuple[Callable[[], None], list[object]]:
    """An on_ready callback that pings in a thread once the sockets are bound, and the ping's items."""
    items: list[object] = []

    def start() -> None:
        threading.Thread(target=lambda: items.extend(api.ping(topo, tag, source, target, count=count)),
                         daemon=True).start()

    return start, items


def run(topo: Topology, tag: str, points: list[Point], *, on_ready: Callable[[], None] | None = None,
        pcaps: list[Path] | None = None, **bounds: Any) -> tuple[list[Packet], CaptureResult]:
    files = [p.open("wb") for p in pcaps or []]
    writers = [PcapWriter(f) for f in files]
    packets: list[Packet] = []
    result = None
    try:
        for item in LabKernel().capture(topo, tag, points, on_ready=on_ready, **bounds):
            if isinstance(item, Packet):
                packets.append(item)
                if writers:
                    writers[item.point].write(item)
            else:
                result = item
    finally:
        for f in files:
            f.close()
    assert isinstance(result, CaptureResult)
    return packets, result


def test_stage2_capture_on_blue_during_a_ping_from_red(tag: str, tmp_path: Path) -> None:
    topo = api.parse(example("seed-2-bridge"))
    api.apply(topo, tag)
    wait_links_up(tag, example("seed-2-bridge"))
    blue_mac = next(i["mac"] for i in api.tables(topo, tag, "blue")["interfaces"] if i["name"] == "veth-blue")
    start, items = pinging(topo, tag, "red", "blue", count=3)
    pcap = tmp_path / "blue.pcap"
    packets, result = run(topo, tag, [Point("blue", "veth-blue")], on_ready=start, pcaps=[pcap],
                          seconds=2.5, max_packets=1000)
    assert isinstance(items[-1], api.PingResult) and items[-1].received == 3
    summaries = [p.summary for p in packets]
    assert "ARP who-has 192.168.15.2 tell 192.168.15.1" in summaries
    assert f"ARP reply 192.168.15.2 is-at {blue_mac}" in summaries
    requests = [s for s in summaries if s.startswith("ICMP echo request 192.168.15.1 > 192.168.15.2 id ")]
    replies = [s for s in summaries if s.startswith("ICMP echo reply 192.168.15.2 > 192.168.15.1 id ")]
    assert [s.rsplit(" ", 1)[1] for s in requests] == ["1", "2", "3"]
    assert [s.rsplit(" ", 1)[1] for s in replies] == ["1", "2", "3"]
    # The ARP request comes before the first echo request; blue sends the reply (outgoing on its side).
    assert summaries.index("ARP who-has 192.168.15.2 tell 192.168.15.1") < summaries.index(requests[0])
    assert all(p.outgoing for p in packets if p.summary.startswith(("ICMP echo reply", "ARP reply")))
    assert (result.reason, result.packets, result.per_point) == ("time", len(packets), [len(packets)])
    assert all(p.length == len(p.data) and p.node == "blue" and p.interface == "veth-blue" for p in packets)

    lines = tcpdump(pcap)
    assert len(lines) == len(packets)
    assert any("ARP, Request who-has 192.168.15.2 tell 192.168.15.1" in line for line in lines)
    assert any(f"ARP, Reply 192.168.15.2 is-at {blue_mac}" in line for line in lines)
    assert sum("IP 192.168.15.1 > 192.168.15.2: ICMP echo request" in line for line in lines) == 3
    assert sum("IP 192.168.15.2 > 192.168.15.1: ICMP echo reply" in line for line in lines) == 3


def test_stage5_masquerade_seen_on_both_sides_of_the_host(tag: str, tmp_path: Path) -> None:
    topo = api.parse(example("seed-5-nat"))
    api.apply(topo, tag)
    wait_links_up(tag, example("seed-5-nat"))
    start, items = pinging(topo, tag, "blue", "192.168.1.3", count=2)
    pcaps = [tmp_path / "v-net-0.pcap", tmp_path / "eth0.pcap"]
    packets, result = run(topo, tag, [Point("host", "v-net-0"), Point("host", "eth0")], on_ready=start,
                          pcaps=pcaps, seconds=2.0)
    assert isinstance(items[-1], api.PingResult) and items[-1].received == 2
    inside = [p.summary for p in packets if p.interface == "v-net-0"]
    outside = [p.summary for p in packets if p.interface == "eth0"]
    assert sum(s.startswith("ICMP echo request 192.168.15.2 > 192.168.1.3 ") for s in inside) == 2
    assert sum(s.startswith("ICMP echo reply 192.168.1.3 > 192.168.15.2 ") for s in inside) == 2
    assert sum(s.startswith("ICMP echo request 192.168.1.2 > 192.168.1.3 ") for s in outside) == 2
    assert sum(s.startswith("ICMP echo reply 192.168.1.3 > 192.168.1.2 ") for s in outside) == 2
    assert not any("192.168.15.2" in s for s in outside), outside
    assert result.per_point == [len(inside), len(outside)]

    inside_lines, outside_lines = tcpdump(pcaps[0]), tcpdump(pcaps[1])
    assert sum("IP 192.168.15.2 > 192.168.1.3: ICMP echo request" in line for line in inside_lines) == 2
    assert sum("IP 192.168.1.2 > 192.168.1.3: ICMP echo request" in line for line in outside_lines) == 2
    assert not any("192.168.15.2" in line for line in outside_lines)


def test_packet_count_bound_on_both_sides(tag: str) -> None:
    topo = api.parse(example("seed-1-direct"))
    api.apply(topo, tag)
    wait_links_up(tag, example("seed-1-direct"))
    start, _ = pinging(topo, tag, "red", "blue", count=3)
    packets, result = run(topo, tag, [Point("blue", "veth-blue")], on_ready=start, seconds=5, max_packets=3)
    assert (len(packets), result.packets, result.reason) == (3, 3, "packets")
    start, _ = pinging(topo, tag, "red", "blue", count=3)
    packets, result = run(topo, tag, [Point("blue", "veth-blue")], on_ready=start, seconds=1.5, max_packets=1000)
    # Under the bound the time ends it: 3 requests + 3 replies (and whatever IPv6 chatter the new links make).
    assert result.reason == "time" and 6 <= len(packets) < 1000


def test_byte_bound_keeps_what_fits(tag: str) -> None:
    topo = api.parse(example("seed-1-direct"))
    api.apply(topo, tag)
    wait_links_up(tag, example("seed-1-direct"))
    start, _ = pinging(topo, tag, "red", "blue", count=3)
    packets, result = run(topo, tag, [Point("blue", "veth-blue")], on_ready=start, seconds=5, max_bytes=250)
    assert result.reason == "bytes"
    assert result.bytes == sum(len(p.data) for p in packets) <= 250
    start, _ = pinging(topo, tag, "red", "blue", count=3)
    packets, result = run(topo, tag, [Point("blue", "veth-blue")], on_ready=start, seconds=1.5, max_bytes=1 << 20)
    assert result.reason == "time" and result.bytes == sum(len(p.data) for p in packets) > 250


def test_time_bound_and_stop(tag: str) -> None:
    topo = api.parse(example("seed-1-direct"))
    api.apply(topo, tag)
    wait_links_up(tag, example("seed-1-direct"))
    _, result = run(topo, tag, [Point("red", "veth-red")], seconds=0.3)
    assert result.reason == "time" and result.ended - result.started >= 0.3
    calls: list[int] = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 2

    _, result = run(topo, tag, [Point("red", "veth-red")], seconds=30, stop=stop)
    assert result.reason == "stopped" and len(calls) == 3


def test_capture_refuses_what_is_not_there(tag: str) -> None:
    topo = api.parse(example("seed-1-direct"))
    with pytest.raises(CaptureError, match="not deployed"):
        run(topo, tag, [Point("red", "veth-red")])
    api.apply(topo, tag)
    with pytest.raises(CaptureError, match="no interface 'eth9'"):
        run(topo, tag, [Point("red", "eth9")])
    subprocess.run(["ip", "-n", f"nd-{tag}-red", "link", "del", "veth-red"], check=True)  # both ends go
    with pytest.raises(CaptureError, match="blue/veth-blue failed: no such interface in the kernel"):
        run(topo, tag, [Point("blue", "veth-blue")])


def test_a_lab_destroyed_under_a_capture_ends_it(tag: str) -> None:
    topo = api.parse(example("seed-1-direct"))
    api.apply(topo, tag)
    wait_links_up(tag, example("seed-1-direct"))

    def destroy_soon() -> None:
        threading.Timer(0.3, lambda: api.destroy(tag)).start()

    _, result = run(topo, tag, [Point("blue", "veth-blue")], on_ready=destroy_soon, seconds=20)
    assert result.reason == "gone"
