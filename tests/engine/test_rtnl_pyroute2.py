"""pyroute2 as the oracle of our rtnetlink codec (topology/engine/rtnl.py), without root.

Decoders: kernel replies recorded from a real lab (tests/engine/dumps/*.dump, pyroute2's hex-dump
format; record.py refreshes them) are replayed into `Rtnl` through a stand-in socket, so the real
transport and decoding run, and the result is compared with pyroute2's own message classes
(MarshalRtnl), as pyroute2's tests/test_unit/test_nlmsg do. Encoders: the requests `Rtnl` sends are
captured and decoded by pyroute2, attribute by attribute.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from pathlib import Path
from typing import Any

import pytest
from pyroute2.common import load_dump
from pyroute2.netlink import nlmsg
from pyroute2.netlink.rtnl.iprsocket import MarshalRtnl

from topology.engine import observer
from topology.engine import rtnl as rt

DUMPS = Path(__file__).resolve().parent / "dumps"
NAMESPACES = ("host", "a", "b")


class netconfmsg(nlmsg):  # type: ignore[misc]  # noqa: N801 - pyroute2 ships no class for RTM_NEWNETCONF
    fields = (("family", "B"), ("__pad", "3x"))
    nla_map = (("NETCONFA_UNSPEC", "none"), ("NETCONFA_IFINDEX", "int32"), ("NETCONFA_FORWARDING", "uint32"))


def raw(name: str) -> bytes:
    with open(DUMPS / name) as f:
        data = load_dump(f)
    assert isinstance(data, bytes) and data
    return data


def oracle(data: bytes) -> list[Any]:
    """pyroute2's decoding of a buffer (without the NLMSG_DONE/ERROR that ends a dump)."""
    marshal = MarshalRtnl()
    marshal.msg_map[rt.RTM_NEWNETCONF] = netconfmsg
    return [m for m in marshal.parse(data) if m["header"]["type"] not in (rt.NLMSG_DONE, rt.NLMSG_ERROR)]


class Replay:
    """A socket that answers every request with one recorded buffer (its sequence numbers are those
    of the recording, whose Rtnl sent one request: seq 1)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.sent: list[bytes] = []

    def send(self, data: bytes) -> int:
        self.sent.append(data)
        return len(data)

    def recv_into(self, buf: memoryview) -> int:
        buf[:len(self.data)] = self.data
        return len(self.data)

    def close(self) -> None:
        pass


def replayed(name: str) -> rt.Rtnl:
    return rt.Rtnl(Replay(raw(name)))  # type: ignore[arg-type]


@pytest.mark.parametrize("ns", NAMESPACES)
def test_links_decode_as_pyroute2_does(ns: str) -> None:
    ours = replayed(f"{ns}-links.dump").links()
    theirs = oracle(raw(f"{ns}-links.dump"))
    assert len(ours) == len(theirs) >= 2
    for m, p in zip(ours, theirs, strict=True):
        assert (m.type, m.fields[2], m.fields[3]) == (p["header"]["type"], p["index"], p["flags"])
        assert rt.s_str(m.attrs.get(rt.IFLA_IFNAME)) == p.get_attr("IFLA_IFNAME")
        assert rt.s_str(m.attrs.get(rt.IFLA_IFALIAS)) == p.get_attr("IFLA_IFALIAS")
        assert rt.s_u32(m.attrs.get(rt.IFLA_MTU)) == p.get_attr("IFLA_MTU")
        assert rt.s_u32(m.attrs.get(rt.IFLA_MASTER)) == p.get_attr("IFLA_MASTER")
        assert rt.s_mac(m.attrs.get(rt.IFLA_ADDRESS)) == p.get_attr("IFLA_ADDRESS")
        assert rt.link_kind(m) == (p.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND") or "device")
    kinds = {rt.link_kind(m) for m in ours}
    assert "veth" in kinds and (ns != "host" or "bridge" in kinds)


@pytest.mark.parametrize("ns", NAMESPACES)
def test_the_read_backs_keep_only_what_they_need_and_agree(ns: str) -> None:
    """observer.read_links (a subset of attributes) and read_addrs against pyroute2's full decoding."""
    names, links = observer.read_links(replayed(f"{ns}-links.dump"))
    theirs = oracle(raw(f"{ns}-links.dump"))
    assert names == {p["index"]: p.get_attr("IFLA_IFNAME") for p in theirs}
    assert all(set(m.attrs) <= observer.LINK_ATTRS for m in links)
    full = {m.fields[2]: m for m in rt.decode(raw(f"{ns}-links.dump"))}
    assert all(m.attrs == {k: v for k, v in full[m.fields[2]].attrs.items() if k in observer.LINK_ATTRS}
               for m in links)
    addrs = observer.read_addrs(replayed(f"{ns}-addrs.dump"), names)
    want: dict[str, set[str]] = {}
    for p in oracle(raw(f"{ns}-addrs.dump")):
        text = p.get_attr("IFA_LOCAL") if p["family"] == socket.AF_INET else p.get_attr("IFA_ADDRESS")
        ip = ipaddress.ip_interface(f"{text}/{p['prefixlen']}")
        if not (ip.ip.is_loopback or ip.ip.is_link_local):
            want.setdefault(names[p["index"]], set()).add(str(ip))
    assert addrs == want and addrs  # the lab's addresses, IPv4 and IPv6 ones included on a and host


@pytest.mark.parametrize("ns", NAMESPACES)
def test_routes_decode_as_pyroute2_does(ns: str) -> None:
    ours = replayed(f"{ns}-routes.dump").routes(0, rt.RT_TABLE_MAIN)
    theirs = oracle(raw(f"{ns}-routes.dump"))
    assert len(ours) == len(theirs) >= 1
    for m, p in zip(ours, theirs, strict=True):
        family, dst_len, _src, _tos, table, proto, scope, rtype, _flags = m.fields
        assert (family, dst_len, table, proto, scope, rtype) == (
            p["family"], p["dst_len"], p["table"], p["proto"], p["scope"], p["type"])
        assert rt.s_ip(m.attrs.get(rt.RTA_DST)) == p.get_attr("RTA_DST")
        assert rt.s_ip(m.attrs.get(rt.RTA_GATEWAY)) == p.get_attr("RTA_GATEWAY")
        assert rt.s_u32(m.attrs.get(rt.RTA_OIF)) == p.get_attr("RTA_OIF")
        assert rt.s_u32(m.attrs.get(rt.RTA_TABLE)) == p.get_attr("RTA_TABLE")
    if ns == "a":  # the engine's own routes carry its protocol number
        assert {m.fields[5] for m in ours} >= {77}


@pytest.mark.parametrize("ns", NAMESPACES)
def test_neighbours_decode_as_pyroute2_does(ns: str) -> None:
    ours = replayed(f"{ns}-neigh.dump").neighbours()
    theirs = oracle(raw(f"{ns}-neigh.dump"))
    assert len(ours) == len(theirs)
    for m, p in zip(ours, theirs, strict=True):
        family, ifindex, state, flags, ntype = m.fields
        assert (family, ifindex, state, flags, ntype) == (p["family"], p["ifindex"], p["state"], p["flags"],
                                                          p["ndm_type"])
        assert rt.s_ip(m.attrs.get(rt.NDA_DST)) == p.get_attr("NDA_DST")
        assert rt.s_mac(m.attrs.get(rt.NDA_LLADDR)) == p.get_attr("NDA_LLADDR")


@pytest.mark.parametrize(("ns", "on"), [("host", True), ("a", False), ("b", True)])  # a host forwards
@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6])
def test_forwarding_decodes_as_pyroute2_does(ns: str, on: bool, family: int) -> None:
    name = f"{ns}-netconf{4 if family == socket.AF_INET else 6}.dump"
    (p,) = oracle(raw(name))
    assert p["family"] == family
    assert replayed(name).forwarding(family) is bool(p.get_attr("NETCONFA_FORWARDING")) is on


# -- encoders ------------------------------------------------------------------------------------


class Capture:
    """A socket that records each request and acknowledges it."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, data: bytes) -> int:
        self.sent.append(data)
        return len(data)

    def recv_into(self, buf: memoryview) -> int:
        seq = rt.HDR.unpack_from(self.sent[-1])[3]
        body = struct.pack("=i", 0) + self.sent[-1][:rt.HDR.size]
        ack = rt.HDR.pack(rt.HDR.size + len(body), rt.NLMSG_ERROR, 0, seq, 0) + body
        buf[:len(ack)] = ack
        return len(ack)

    def close(self) -> None:
        pass


def captured(call: Any) -> list[Any]:
    sock = Capture()
    r = rt.Rtnl(sock)  # type: ignore[arg-type]
    r._index.update({"lo": 1, "eth0": 5, "eth1": 6, "br0": 7})
    call(r)
    marshal = MarshalRtnl()
    return [m for data in sock.sent for m in marshal.parse(data)]


def test_veth_created_in_place_encodes_as_pyroute2_reads_it() -> None:
    peer = rt.Peer(name="p0", fd=42, mac="02:00:00:00:00:02")
    add, alias = captured(lambda r: r.link_add("eth1", "veth", alias="nd:t:x", mtu=1400,
                                               mac="02:00:00:00:00:01", peer=peer))
    assert add["header"]["type"] == rt.RTM_NEWLINK
    assert add["header"]["flags"] == rt.NLM_F_REQUEST | rt.NLM_F_ACK | rt.NLM_F_CREATE | rt.NLM_F_EXCL
    assert (add.get_attr("IFLA_IFNAME"), add.get_attr("IFLA_MTU"), add.get_attr("IFLA_ADDRESS")) == (
        "eth1", 1400, "02:00:00:00:00:01")
    info = add.get_attr("IFLA_LINKINFO")
    assert info.get_attr("IFLA_INFO_KIND") == "veth"
    other = info.get_attr("IFLA_INFO_DATA").get_attr("VETH_INFO_PEER")
    assert (other.get_attr("IFLA_IFNAME"), other.get_attr("IFLA_NET_NS_FD"), other.get_attr("IFLA_MTU"),
            other.get_attr("IFLA_ADDRESS")) == ("p0", 42, 1400, "02:00:00:00:00:02")
    assert alias["header"]["type"] == rt.RTM_SETLINK and alias.get_attr("IFLA_IFALIAS") == "nd:t:x"


def test_bridge_and_link_settings_encode_as_pyroute2_reads_them() -> None:
    add, _alias = captured(lambda r: r.link_add("br0", "bridge", alias="nd:t:bridge:br0",
                                                mac="02:aa:00:00:00:01"))
    assert add.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND") == "bridge"
    assert add.get_attr("IFLA_ADDRESS") == "02:aa:00:00:00:01"
    (s,) = captured(lambda r: r.link_set("eth0", up=True, master="br0", mtu=9000, mac="02:00:00:00:00:09",
                                         alias="nd:t:a/eth0=b/eth0"))
    assert (s["header"]["type"], s["index"], s["flags"], s["change"]) == (rt.RTM_SETLINK, 5, 1, 1)
    assert (s.get_attr("IFLA_MASTER"), s.get_attr("IFLA_MTU"), s.get_attr("IFLA_ADDRESS"),
            s.get_attr("IFLA_IFALIAS")) == (7, 9000, "02:00:00:00:00:09", "nd:t:a/eth0=b/eth0")
    (d,) = captured(lambda r: r.link_del("eth0"))
    assert (d["header"]["type"], d["index"]) == (rt.RTM_DELLINK, 5)


@pytest.mark.parametrize(("add", "cidr", "family"), [
    (True, "10.1.0.2/24", socket.AF_INET), (False, "10.1.0.2/24", socket.AF_INET),
    (True, "fd00:1::2/64", socket.AF_INET6)])
def test_addresses_encode_as_pyroute2_reads_them(add: bool, cidr: str, family: int) -> None:
    (m,) = captured(lambda r: r.addr(add, "eth0", cidr))
    ip, plen = cidr.split("/")
    assert m["header"]["type"] == (rt.RTM_NEWADDR if add else rt.RTM_DELADDR)
    assert (m["family"], m["prefixlen"], m["index"], m.get_attr("IFA_LOCAL")) == (family, int(plen), 5, ip)
    assert m["flags"] == (rt.IFA_F_NODAD if family == socket.AF_INET6 else 0)
    assert m.get_attr("IFA_ADDRESS") == (ip if add else None)


@pytest.mark.parametrize(("to", "via", "dev", "dst", "dst_len", "scope"), [
    ("default", "10.1.0.1", None, None, 0, 0),
    ("10.9.0.0/16", None, "eth0", "10.9.0.0", 16, 253),
    ("fd00:9::/64", "fd00:1::1", None, "fd00:9::", 64, 0)])
def test_routes_encode_as_pyroute2_reads_them(to: str, via: str | None, dev: str | None, dst: str | None,
                                              dst_len: int, scope: int) -> None:
    for add in (True, False):
        (m,) = captured(lambda r: r.route(add, to, via, dev, 77))  # noqa: B023 - called at once
        assert m["header"]["type"] == (rt.RTM_NEWROUTE if add else rt.RTM_DELROUTE)
        assert (m["dst_len"], m["table"], m["proto"], m["scope"], m["type"]) == (dst_len, 254, 77, scope, 1)
        assert (m.get_attr("RTA_DST"), m.get_attr("RTA_GATEWAY"), m.get_attr("RTA_TABLE")) == (dst, via, 254)
        assert m.get_attr("RTA_OIF") == (5 if dev else None)
