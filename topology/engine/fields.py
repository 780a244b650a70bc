"""Field-level checks for the document: names, interface names, addresses, MACs.

Kept apart from the cross-reference rules (validate.py) so each check is a small pure function that
returns a message or None, easy to table-test. Names reach the kernel as netlink attributes and argv
elements, so they are checked against ASCII-only patterns (`re.ASCII`, `fullmatch`: no trailing
newline sneaking past `$`).
"""

from __future__ import annotations

import ipaddress
import re

NODE_NAME_RE = re.compile(r"[a-z](?:[a-z0-9_-]{0,30}[a-z0-9])?", re.ASCII)
IFNAME_RE = re.compile(r"[A-Za-z0-9_.-]+", re.ASCII)
MAC_RE = re.compile(r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}", re.ASCII)
TAG_RE = re.compile(r"[a-z0-9]{1,12}", re.ASCII)
IFNAME_MAX = 15
RESERVED_IFNAMES = {"lo", "all", "default"}

Address = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def check_node_name(name: str) -> str | None:
    if not NODE_NAME_RE.fullmatch(name):
        return (f"{name!r} is not a valid node name: 1-32 characters of [a-z0-9] and inner '-'/'_', "
                "starting with a letter")
    return None


def check_ifname(name: str) -> str | None:
    size = len(name.encode("utf-8", "surrogatepass"))
    if not IFNAME_RE.fullmatch(name):
        return f"{name!r} is not a valid interface name: 1-15 bytes of [A-Za-z0-9_.-]"
    if size > IFNAME_MAX:
        return f"{name!r} is {size} bytes; at most {IFNAME_MAX}"
    if name in (".", ".."):
        return f"{name!r} is not a valid interface name"
    if name in RESERVED_IFNAMES:
        return f"{name!r} is reserved"
    return None


def check_tag(tag: str) -> str | None:
    if not isinstance(tag, str) or not TAG_RE.fullmatch(tag):
        return f"{tag!r} is not a valid deployment tag: 1-12 characters of [a-z0-9]"
    return None


def parse_address(text: str) -> tuple[Address | None, str | None]:
    """An interface address `ip/prefix`: not the network or broadcast address of its own prefix."""
    if "/" not in text:
        return None, f"{text!r} needs a prefix length, like 192.168.15.1/24"
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        return None, f"{text!r} is not an IPv4 or IPv6 address with prefix"
    ip, net = iface.ip, iface.network
    if ip.is_multicast or ip.is_unspecified or ip.is_loopback:
        return None, f"{text!r} is not a unicast host address"
    if isinstance(iface, ipaddress.IPv4Interface):
        if net.prefixlen < 31 and ip == net.network_address:
            return None, f"{text!r} is the network address of {net}"
        if net.prefixlen < 31 and ip == net.broadcast_address:
            return None, f"{text!r} is the broadcast address of {net}"
    elif net.prefixlen < 127 and ip == net.network_address:
        return None, f"{text!r} is the network address of {net}"
    return iface, None


def parse_network(text: str) -> tuple[Network | None, str | None]:
    """A route destination or NAT source: a network with no host bits set."""
    try:
        return ipaddress.ip_network(text, strict=True), None
    except ValueError:
        pass
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None, f"{text!r} is not a CIDR network"
    return None, f"{text!r} has host bits set"


def parse_ip(text: str) -> tuple[IP | None, str | None]:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None, f"{text!r} is not an IPv4 or IPv6 address"
    if ip.is_multicast or ip.is_unspecified:
        return None, f"{text!r} is not a unicast address"
    return ip, None


def check_mac(text: str) -> str | None:
    if not MAC_RE.fullmatch(text):
        return f"{text!r} is not a MAC address like aa:bb:cc:dd:ee:ff"
    first = int(text[:2], 16)
    if first & 1:
        return f"{text!r} is a multicast MAC address; must be unicast"
    if text.replace(":", "").strip("0") == "":
        return f"{text!r} is the all-zero MAC address"
    return None
