"""Field-level checks for the document: names, interface names, addresses, MACs.

Kept apart from the cross-reference rules (validate.py) so each check is a small pure function that
returns a message or None, easy to table-test. Names reach the kernel as netlink attributes and argv
elements, so they are checked against ASCII-only patterns (`re.ASCII`, `fullmatch`: no trailing
newline sneaking past `$`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any

NODE_NAME_RE = re.compile(r"[a-z](?:[a-z0-9_-]{0,30}[a-z0-9])?", re.ASCII)
IFNAME_RE = re.compile(r"[A-Za-z0-9_.-]+", re.ASCII)
MAC_RE = re.compile(r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}", re.ASCII)
TAG_RE = re.compile(r"[a-z0-9]{1,12}", re.ASCII)
IFNAME_MAX = 15
# `lo` exists in every namespace; `all` and `default` are the sysctl directories
# (/proc/sys/net/ipv4/conf/all): a device by that name is refused or shadowed by the kernel.
RESERVED_IFNAMES = {"lo", "all", "default"}
# Fallback devices the kernel makes in every new namespace once their module is loaded (ipip, sit,
# ip6_tunnel, ip_gre, ip6_gre, ip_vti, ip6_vti): on such a machine a link by that name fails to apply.
KERNEL_IFNAMES = {"tunl0", "sit0", "ip6tnl0", "gre0", "gretap0", "erspan0", "ip6gre0", "ip6gretap0",
                  "ip_vti0", "ip6_vti0"}
# What an IP address may be spelled with: hex digits, dots and colons (and "/prefix"). Python's
# `ipaddress` accepts IPv6 scope ids (`fe80::1%anything`) and keeps the text after `%`; refusing
# every other character first means no address text can carry a newline, a space or a `$(...)`.
ADDR_TEXT_RE = re.compile(r"[0-9A-Fa-f:.]{2,45}(?:/[0-9]{1,3})?", re.ASCII)
IP_TEXT_RE = re.compile(r"[0-9A-Fa-f:.]{2,45}", re.ASCII)
# Unicode categories refused in every string of a document: control characters (newline, NUL, ESC,
# DEL, C1), lone surrogates (no UTF-8 spelling: PostgreSQL refuses them) and line/paragraph separators.
BAD_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}
# The same set as one character class (Cc: U+0000-001F, U+007F-009F; Cs: U+D800-DFFF; Zl, Zp): a
# regex search is ~10x faster than asking unicodedata for each character of a 2,000-node document.
BAD_CHAR_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
# The kernel numbers a bridge's ports in 10 bits with 0 reserved (net/bridge/br_if.c find_portno,
# BR_MAX_PORTS = 1024): the 1,024th port fails with EXFULL ("Exchange full"). tests/engine/
# test_kernel_limits.py checks both sides on the running kernel.
MAX_BRIDGE_PORTS = 1023
# Below this MTU the kernel disables IPv6 on a device (addrconf): IPv6 addresses would never stick.
IPV6_MIN_MTU = 1280
LAYOUT_MAX = 1_000_000  # canvas coordinates: far beyond any drawing, far inside a float

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
        return f"{name!r} is reserved by the kernel (lo, all and default); choose another name"
    if name in KERNEL_IFNAMES:
        return (f"{name!r} is the name of a tunnel device the kernel makes in every namespace when its "
                "module is loaded; choose another name")
    if name.startswith("-"):
        return f"{name!r} starts with '-': ip and iptables would read it as an option; choose another name"
    return None


def bad_char(text: str) -> str | None:
    """The first character of `text` that no string of a document may hold, described; else None."""
    m = BAD_CHAR_RE.search(text)
    return f"U+{ord(m.group()):04X}" if m else None


def walk_strings(document: Any) -> Iterator[tuple[str, str]]:
    """Every string of a JSON value (object keys included) with its path; iterative, so a deeply
    nested document cannot exhaust the stack."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, dict):
            for key, item in value.items():
                sub = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and bad_char(key):
                    yield (path or "document"), key
                    sub = f"{path}.{key!r}" if path else repr(key)
                stack.append((sub, item))
        elif isinstance(value, list | tuple):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))


def _any_bad(document: Any) -> bool:
    """Whether any string (or key) holds a refused character: the fast pass, no paths built."""
    stack = [document]
    search = BAD_CHAR_RE.search
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if search(value):
                return True
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and search(key):
                    return True
                stack.append(item)
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return False


def control_problems(document: Any) -> list[tuple[str, str]]:
    """(path, message) for every string of the document holding a control character."""
    if not _any_bad(document):
        return []
    out = []
    for path, text in walk_strings(document):
        if (ch := bad_char(text)) is not None:
            out.append((path or "document", f"holds the control character {ch}; remove it "
                        "(no string of a document may hold newlines, tabs, NUL or other control characters)"))
    return out


def _odd(ip: IP) -> str | None:
    """Why an address is no unicast host address a lab may use, or None."""
    if ip.is_unspecified:
        return "is the unspecified address"
    if ip.is_multicast:
        return "is a multicast address"
    if ip.is_loopback:
        return "is a loopback address"
    if ip.is_link_local:
        return ("is link-local: the kernel makes those itself and the engine never reads them back; "
                "use a global or private address")
    if isinstance(ip, ipaddress.IPv4Address):
        if ip == ipaddress.IPv4Address("255.255.255.255"):
            return "is the limited broadcast address"
        if ip.is_reserved:
            return "is in 240.0.0.0/4 (class E, reserved): the kernel does not route it"
        if ip in THIS_NETWORK:
            return "is in 0.0.0.0/8 ('this network'), not a host address"
    else:
        if ip.ipv4_mapped is not None:
            return "is an IPv4-mapped IPv6 address; write the IPv4 address"
        if ip.is_reserved:
            return "is in a reserved IPv6 range"
    return None


def _odd_net(net: Network) -> str | None:
    """Why a destination or source network is no place a lab may route to, or None."""
    if net.prefixlen == 0:
        return None
    for test, why in ((net.is_multicast, "is multicast"), (net.is_loopback, "is loopback"),
                      (net.is_link_local, "is link-local (the kernel's own routes)"),
                      (net.is_reserved, "is reserved (class E or a reserved IPv6 range)")):
        if test:
            return why
    if isinstance(net, ipaddress.IPv4Network) and net.subnet_of(THIS_NETWORK):
        return "is in 0.0.0.0/8 ('this network')"
    return None


def check_tag(tag: str) -> str | None:
    if not isinstance(tag, str) or not TAG_RE.fullmatch(tag):
        return f"{tag!r} is not a valid deployment tag: 1-12 characters of [a-z0-9]"
    return None


def parse_address(text: str) -> tuple[Address | None, str | None]:
    """An interface address `ip/prefix`: not the network or broadcast address of its own prefix."""
    if "%" in text:
        return None, f"{text!r} has an IPv6 scope id ('%...'); write the address without it"
    if "/" not in text:
        return None, f"{text!r} needs a prefix length, like 192.168.15.1/24"
    if not ADDR_TEXT_RE.fullmatch(text):
        return None, f"{text!r} is not an IPv4 or IPv6 address with prefix"
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        return None, f"{text!r} is not an IPv4 or IPv6 address with prefix"
    ip, net = iface.ip, iface.network
    if (why := _odd(ip)) is not None:
        return None, f"{text!r} {why}; it cannot be an interface address"
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
    if "%" in text:
        return None, f"{text!r} has an IPv6 scope id ('%...'); write the network without it"
    if not ADDR_TEXT_RE.fullmatch(text):
        return None, f"{text!r} is not a CIDR network"
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError:
        pass
    else:
        if (why := _odd_net(net)) is not None:
            return None, f"{text!r} {why}; a lab cannot route it"
        return net, None
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None, f"{text!r} is not a CIDR network"
    return None, f"{text!r} has host bits set"


def parse_ip_text(text: str) -> IP | None:
    """A bare IP address in the strict vocabulary (no scope id, no spaces), or None. For targets that
    only need to be an address (a ping target, an explain target) before they reach an argv."""
    if not isinstance(text, str) or not IP_TEXT_RE.fullmatch(text):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def parse_ip(text: str) -> tuple[IP | None, str | None]:
    """A next hop or a DNAT destination: a unicast host address a lab can reach."""
    if "%" in text:
        return None, f"{text!r} has an IPv6 scope id ('%...'); write the address without it"
    ip = parse_ip_text(text)
    if ip is None:
        return None, f"{text!r} is not an IPv4 or IPv6 address"
    if (why := _odd(ip)) is not None:
        return None, f"{text!r} {why}; it cannot be a next hop or a forward target"
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
