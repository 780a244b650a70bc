"""Units of packet capture: summaries of frames built with dpkt (a table), the design checks of a
capture point, and the pcap writer read back by dpkt's reader. No root."""

from __future__ import annotations

import io
import socket
from typing import Any

import dpkt
import pytest

from topology.engine import api
from topology.engine.capture import Packet, PcapWriter, Point, check_point, interfaces_of
from topology.engine.capture_path import Hop, NoPath, path_hops, path_points
from topology.engine.decode import summarize, tcp_flags

from .conftest import example

A, B = "192.168.15.1", "192.168.15.2"
MAC_A, MAC_B = b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02"


def v4(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET, text)


def v6(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, text)


def eth(data: object, kind: int) -> bytes:
    return bytes(dpkt.ethernet.Ethernet(src=MAC_A, dst=MAC_B, type=kind, data=data))


def ip(inner: object, proto: int, src: str = A, dst: str = B, **kw: int) -> bytes:
    packet = dpkt.ip.IP(src=v4(src), dst=v4(dst), p=proto, data=inner, **kw)
    packet.len = len(bytes(packet))
    return eth(packet, dpkt.ethernet.ETH_TYPE_IP)


def arp(op: int) -> bytes:
    return eth(dpkt.arp.ARP(op=op, sha=MAC_B if op == 2 else MAC_A, spa=v4(B if op == 2 else A),
                            tha=b"\x00" * 6, tpa=v4(A if op == 2 else B)), dpkt.ethernet.ETH_TYPE_ARP)


def icmp(kind: int, code: int = 0, data: object = b"") -> bytes:
    return ip(dpkt.icmp.ICMP(type=kind, code=code, data=data), dpkt.ip.IP_PROTO_ICMP)


def tcp(flags: int, payload: bytes = b"") -> bytes:
    return ip(dpkt.tcp.TCP(sport=43210, dport=80, seq=1000, ack=7 if flags & 0x10 else 0, flags=flags, win=64240,
                           data=payload), dpkt.ip.IP_PROTO_TCP)


def udp() -> bytes:
    return ip(dpkt.udp.UDP(sport=5353, dport=53, ulen=8 + 5, data=b"hello"), dpkt.ip.IP_PROTO_UDP)


def ip6(inner: Any, nxt: int, src: str = "2001:db8::1", dst: str = "2001:db8::2") -> bytes:
    packet = dpkt.ip6.IP6(src=v6(src), dst=v6(dst), nxt=nxt, hlim=64, data=inner)
    packet.plen = len(bytes(inner))
    return eth(packet, dpkt.ethernet.ETH_TYPE_IP6)


UNREACH_BODY = dpkt.icmp.ICMP.Unreach(data=dpkt.ip.IP(src=v4(B), dst=v4("192.168.1.3"), p=1))

CASES = [
    (arp(1), f"ARP who-has {B} tell {A}"),
    (arp(2), f"ARP reply {B} is-at 02:00:00:00:00:02"),
    (icmp(8, data=dpkt.icmp.ICMP.Echo(id=3, seq=1)), f"ICMP echo request {A} > {B} id 3 seq 1"),
    (icmp(0, data=dpkt.icmp.ICMP.Echo(id=3, seq=2)), f"ICMP echo reply {A} > {B} id 3 seq 2"),
    (icmp(3, 1, UNREACH_BODY), f"ICMP {A} > {B} 192.168.1.3 host unreachable"),
    (icmp(3, 3, UNREACH_BODY), f"ICMP {A} > {B} 192.168.1.3 port unreachable"),
    (icmp(11, 0, dpkt.icmp.ICMP.TimeExceed()), f"ICMP {A} > {B} time exceeded in-transit"),
    (tcp(0x02), f"TCP {A}.43210 > {B}.80 Flags [S], seq 1000, win 64240, length 0"),
    (tcp(0x12), f"TCP {A}.43210 > {B}.80 Flags [S.], seq 1000, ack 7, win 64240, length 0"),
    (tcp(0x18, b"GET /"), f"TCP {A}.43210 > {B}.80 Flags [P.], seq 1000, ack 7, win 64240, length 5"),
    (tcp(0x04), f"TCP {A}.43210 > {B}.80 Flags [R], seq 1000, win 64240, length 0"),
    (udp(), f"UDP {A}.5353 > {B}.53 length 5"),
    (ip(b"\x11" * 8, 2, dst="224.0.0.22"), f"IP {A} > 224.0.0.22 igmp, length 28"),
    (ip(b"\x00" * 8, 99), f"IP {A} > {B} protocol 99, length 28"),
    (ip(b"\x00" * 8, 1, offset=1480), f"IP {A} > {B} fragment offset 1480, length 28"),
    (ip6(dpkt.icmp6.ICMP6(type=128, data=dpkt.icmp6.ICMP6.Echo(id=9, seq=4)), 58),
     "ICMP6 echo request 2001:db8::1 > 2001:db8::2 id 9 seq 4"),
    (ip6(dpkt.icmp6.ICMP6(type=129, data=dpkt.icmp6.ICMP6.Echo(id=9, seq=4)), 58),
     "ICMP6 echo reply 2001:db8::1 > 2001:db8::2 id 9 seq 4"),
    (ip6(dpkt.icmp6.ICMP6(type=135, data=b"\x00" * 4 + v6("2001:db8::2")), 58, dst="ff02::1:ff00:2"),
     "ICMP6 neighbor solicitation, who has 2001:db8::2 2001:db8::1 > ff02::1:ff00:2"),
    (ip6(dpkt.icmp6.ICMP6(type=136, data=b"\x00" * 4 + v6("2001:db8::2")), 58),
     "ICMP6 neighbor advertisement, tgt is 2001:db8::2 2001:db8::1 > 2001:db8::2"),
    (ip6(dpkt.icmp6.ICMP6(type=133, data=b"\x00" * 4), 58, dst="ff02::2"),
     "ICMP6 2001:db8::1 > ff02::2 router solicitation"),
    (ip6(dpkt.tcp.TCP(sport=1, dport=22, seq=5, flags=0x11, ack=6, win=10), 6),
     "TCP 2001:db8::1.1 > 2001:db8::2.22 Flags [F.], seq 5, ack 6, win 10, length 0"),
    (ip6(dpkt.udp.UDP(sport=546, dport=547, ulen=8), 17), "UDP 2001:db8::1.546 > 2001:db8::2.547 length 0"),
    (eth(b"\x00" * 46, 0x88CC), "02:00:00:00:00:01 > 02:00:00:00:00:02 ethertype 0x88cc, length 60"),
]


@pytest.mark.parametrize(("frame", "expected"), CASES, ids=[c[1][:40] for c in CASES])
def test_summaries_in_tcpdump_words(frame: bytes, expected: str) -> None:
    assert summarize(frame) == expected


@pytest.mark.parametrize("cut", [0, 5, 13, 20, 33])
def test_a_cut_frame_is_summarised_never_raises(cut: int) -> None:
    frame = icmp(8, data=dpkt.icmp.ICMP.Echo(id=3, seq=1))[:cut]
    text = summarize(frame)
    assert "truncated" in text, text


@pytest.mark.parametrize(("bits", "letters"), [(0x02, "S"), (0x12, "S."), (0x11, "F."), (0x18, "P."),
                                                (0x04, "R"), (0xC2, "SEW"), (0, "none")])
def test_tcp_flag_letters_in_tcpdump_order(bits: int, letters: str) -> None:
    assert tcp_flags(bits) == letters


def test_interfaces_of_a_node_bridge_and_host() -> None:
    topo = api.parse(example("seed-5-nat"))
    assert interfaces_of(topo, "blue") == ["veth-blue"]
    assert interfaces_of(topo, "v-net-0") == ["veth-red-br", "veth-blue-br", "v-net-0"]
    assert interfaces_of(topo, "host") == ["eth0", "v-net-0"]
    assert interfaces_of(topo, "nobody") == []


@pytest.mark.parametrize(("node", "interface", "problem"), [
    ("blue", "veth-blue", None),
    ("host", "v-net-0", None),
    ("v-net-0", "v-net-0", None),
    ("host", "eth0", None),
    ("blue", "eth0", "blue has no interface 'eth0' (its interfaces: veth-blue)"),
    ("green", "veth-blue", "'green' is not a node of this lab"),
    ("Blue", "veth-blue", "not a valid node name"),
    ("blue", "veth blue;rm", "not a valid interface name"),
    ("blue", "a" * 16, "at most 15"),
])
def test_check_point(node: str, interface: str, problem: str | None) -> None:
    found = check_point(api.parse(example("seed-5-nat")), Point(node, interface))
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_pcap_writer_round_trip() -> None:
    out = io.BytesIO()
    writer = PcapWriter(out)
    frames = [arp(1), icmp(8, data=dpkt.icmp.ICMP.Echo(id=3, seq=1))]
    for i, frame in enumerate(frames):
        writer.write(Packet(point=0, node="blue", interface="veth-blue", ts=1700000000.25 + i, length=len(frame),
                            data=frame, outgoing=False, summary=""))
    out.seek(0)
    read = list(dpkt.pcap.Reader(out))
    assert [data for _ts, data in read] == frames
    assert [round(ts, 2) for ts, _ in read] == [1700000000.25, 1700000001.25]


PATHS = [
    ("seed-1-direct", "red", "192.168.15.2", [("red", "veth-red")]),
    ("seed-2-bridge", "red", "blue", [("red", "veth-red"), ("v-net-0", "veth-blue-br")]),
    ("seed-2-bridge", "red", "192.168.15.5", [("red", "veth-red"), ("v-net-0", "v-net-0")]),
    ("seed-5-nat", "blue", "192.168.1.3", [("blue", "veth-blue"), ("v-net-0", "v-net-0"), ("host", "eth0")]),
    ("seed-5-nat", "lan", "blue", [("lan", "eth0"), ("host", "v-net-0"), ("v-net-0", "veth-blue-br")]),
    ("router", "h1", "10.0.2.10", [("h1", "eth0"), ("r1", "eth2")]),
    ("router", "h1", "h1", []),
]


@pytest.mark.parametrize(("name", "source", "target", "points"), PATHS, ids=[f"{p[0]}:{p[1]}>{p[2]}" for p in PATHS])
def test_path_points_one_per_cable_crossed(name: str, source: str, target: str,
                                           points: list[tuple[str, str]]) -> None:
    topo = api.parse(example(name))
    found = path_points(topo, source, target)
    assert [(p.node, p.interface) for p in found] == points
    assert all(check_point(topo, p) is None for p in found)  # every point is one a capture accepts


def test_path_hops_have_the_shape_of_predicted_hops() -> None:
    hops = path_hops(api.parse(example("seed-5-nat")), "blue", "192.168.1.3")
    assert hops == [Hop("blue", None, "veth-blue"), Hop("v-net-0", "veth-blue-br", "v-net-0"),
                    Hop("host", "v-net-0", "eth0"), Hop("lan", "eth0", None)]


@pytest.mark.parametrize(("source", "target", "message"), [
    ("green", "blue", "'green' is not a node of the lab"),
    ("red", "10.9.9.9", "no interface of the design has the address 10.9.9.9"),
    ("red", "not an address", "neither a node of the lab nor an address"),
])
def test_no_path(source: str, target: str, message: str) -> None:
    with pytest.raises(NoPath, match=message):
        path_points(api.parse(example("seed-2-bridge")), source, target)


def test_two_separate_islands_have_no_path() -> None:
    doc = example("seed-1-direct")
    doc["nodes"].append({"name": "green", "kind": "namespace"})
    with pytest.raises(NoPath, match="no cable path joins red and green"):
        path_points(api.parse(doc), "red", "green")
