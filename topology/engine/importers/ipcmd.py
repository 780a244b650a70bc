"""The `ip` command (netns, link, addr, route) replayed on the kernel model.

Only what the tutorials type is understood; the rest is refused with a reason rather than guessed.
Abbreviations are iproute2's own (`ip a`, `ip r`, `ip l`, `addr`, `ro`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from .. import fields as F
from .kmodel import Addr, Kernel, Refused, RouteRec, replace_token, where

LOOK = "look"  # returned by commands that only show something
OBJECTS = {"link": ("l", "li", "lin", "link"), "addr": ("a", "ad", "addr", "addre", "address"),
           "route": ("r", "ro", "rou", "rout", "route"), "netns": ("netns",),
           "neigh": ("n", "ne", "nei", "neigh", "neighbor", "neighbour")}
SHOW = {"show", "list", "ls", "lst", "sh", "s", "l", "get"}
LINK_TYPES = {"veth", "bridge", "dummy"}


def _object(word: str) -> str | None:
    return next((name for name, spellings in OBJECTS.items() if word in spellings), None)


def ip_command(k: Kernel, argv: list[str], ns: str, line: int,
               run: Callable[[list[str], str], str | None]) -> str | None:
    """Replay one `ip ...` argv (argv[0] == "ip") in namespace `ns`; `run` replays a nested command
    (`ip netns exec X CMD`). Returns LOOK for a command that only shows, else None; raises Refused."""
    args = argv[1:]
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in ("-n", "-netns", "--netns"):
            if not args:
                raise Refused(f"{opt} needs a namespace name")
            target = args.pop(0)
            k.space(target)
            ns = target
        elif opt in ("-b", "-batch", "-rc", "-rcvbuf", "-f", "-family", "-l", "-loops"):
            raise Refused(f"ip {opt} is not supported here; type the commands one by one")
    if not args:
        raise Refused("ip without an object (link, addr, route, netns)")
    obj = _object(args[0])
    rest = args[1:]
    verb = rest[0] if rest else "show"
    if obj is None:
        raise Refused(f"'ip {args[0]}' is not an ip object this importer knows (link, addr, route, netns)")
    if obj == "neigh" or verb in SHOW:
        return LOOK
    if obj == "netns":
        return _netns(k, rest, ns, line, run)
    if obj == "link":
        _link(k, rest, ns, line)
    elif obj == "addr":
        _addr(k, rest, ns, line)
    else:
        _route(k, rest, ns, line)
    return None


def _netns(k: Kernel, rest: list[str], ns: str, line: int,
           run: Callable[[list[str], str], str | None]) -> str | None:
    verb = rest[0]
    if verb == "add" and len(rest) == 2:
        if msg := F.check_node_name(rest[1]):
            raise Refused(f"{msg}; a namespace here becomes a node of the drawing")
        k.netns_add(rest[1], line)
        return None
    if verb in ("del", "delete") and len(rest) == 2:
        k.netns_del(rest[1])
        return None
    if verb == "exec" and len(rest) >= 3:
        target = rest[1]
        k.space(target)
        return run(rest[2:], target)
    if verb in ("identify", "pids", "monitor"):
        return LOOK
    raise Refused(f"'ip netns {' '.join(rest)}' is not understood (ip netns add|del NAME, ip netns exec NAME CMD)")


def _take(words: list[str], i: int, what: str) -> str:
    if i + 1 >= len(words):
        raise Refused(f"'{words[i]}' needs {what} after it")
    return words[i + 1]


def _link(k: Kernel, rest: list[str], ns: str, line: int) -> None:
    verb, words = rest[0], rest[1:]
    if verb == "add":
        _link_add(k, words, ns, line)
        return
    if verb in ("del", "delete"):
        name = words[1] if words and words[0] == "dev" and len(words) > 1 else (words[0] if words else "")
        if not name:
            raise Refused("ip link del needs a device name")
        k.link_del(ns, name)
        return
    if verb == "set":
        _link_set(k, words, ns, line)
        return
    raise Refused(f"'ip link {verb}' is not understood (add, del, set)")


def _link_add(k: Kernel, words: list[str], ns: str, line: int) -> None:
    def parse(part: list[str]) -> tuple[str | None, str, dict[str, str]]:
        name, target, opts, i = None, ns, {}, 0
        while i < len(part):
            w = part[i]
            if w in ("name", "dev"):
                name = _take(part, i, "a device name")
                i += 2
            elif w == "netns":
                target = _take(part, i, "a namespace name")
                k.space(target)
                i += 2
            elif w in ("address", "mtu", "txqueuelen", "numtxqueues", "numrxqueues"):
                opts[w] = _take(part, i, "a value")
                i += 2
            elif name is None:
                name = w
                i += 1
            else:
                raise Refused(f"'{w}' is not understood in ip link add")
        return name, target, opts

    if "type" not in words:
        raise Refused("ip link add needs a type (type veth peer name ..., or type bridge)")
    t = words.index("type")
    if t + 1 >= len(words):
        raise Refused("'type' needs a link type after it (veth, bridge)")
    kind = words[t + 1]
    if kind not in LINK_TYPES:
        raise Refused(f"links of type {kind!r} are not part of a lab here (veth, bridge and dummy are)")
    name, target, opts = parse(words[:t])
    tail = words[t + 2:]
    if name is None:
        raise Refused("ip link add needs a device name")
    _ifname(name)
    if kind != "veth":
        if tail:
            raise Refused(f"'{' '.join(tail)}' is not understood after type {kind}")
        iface = k.link_add(target, name, kind, line)
        _link_opts(iface, opts)
        return
    if not tail or tail[0] != "peer":
        raise Refused("a veth needs its other end: ... type veth peer name OTHER")
    peer_name, peer_ns, peer_opts = parse(tail[1:])
    if peer_name is None:
        raise Refused("'peer' needs the other end's name: peer name OTHER")
    _ifname(peer_name)
    if target == peer_ns and peer_name == name:
        raise Refused(f"a veth's two ends cannot both be called {name!r}")
    if peer_name in k.space(peer_ns).ifaces:
        raise Refused(f"{peer_name!r} already exists in {where(peer_ns)}")
    a = k.link_add(target, name, "veth", line)
    b = k.link_add(peer_ns, peer_name, "veth", line)
    a.peer, b.peer = b, a
    _link_opts(a, opts)
    _link_opts(b, peer_opts)


def _ifname(name: str) -> None:
    if msg := F.check_ifname(name):
        raise Refused(msg)


def _link_opts(iface: object, opts: dict[str, str]) -> None:
    if "address" in opts:
        if msg := F.check_mac(opts["address"]):
            raise Refused(msg)
        iface.mac = opts["address"].lower()  # type: ignore[attr-defined]
    if "mtu" in opts:
        if not opts["mtu"].isdigit() or not 68 <= int(opts["mtu"]) <= 65535:
            raise Refused(f"mtu {opts['mtu']!r} is not a number between 68 and 65535")
        iface.mtu = int(opts["mtu"])  # type: ignore[attr-defined]


def _link_set(k: Kernel, words: list[str], ns: str, line: int) -> None:
    if words and words[0] == "dev":
        words = words[1:]
    if not words:
        raise Refused("ip link set needs a device name")
    name, words = words[0], words[1:]
    if not words:
        raise Refused(f"ip link set {name}: nothing to set (up, down, netns NS, master BRIDGE)")
    if name == "lo" and set(words) <= {"up", "down"}:
        k.space(ns)
        return  # every namespace of a lab has its loopback up
    k.iface(ns, name)
    i = 0
    while i < len(words):
        w = words[i]
        iface = k.iface(ns, name)
        if w in ("up", "down"):
            iface.up = w == "up"
            i += 1
        elif w == "netns":
            target = _take(words, i, "a namespace name")
            if target.isdigit():
                raise Refused("a namespace given by process id is outside the lab; name it (ip netns add NAME)")
            k.move(ns, name, target, line)
            ns = target
            i += 2
        elif w == "master":
            k.master(ns, name, _take(words, i, "a bridge name"))
            i += 2
        elif w == "nomaster":
            k.master(ns, name, None)
            i += 1
        elif w in ("address", "mtu"):
            _link_opts(iface, {w: _take(words, i, "a value")})
            i += 2
        else:
            raise Refused(f"'ip link set ... {w}' is not understood (up, down, netns, master, address, mtu)")


def parse_cidr(text: str, line: int) -> Addr:
    """`ip/prefix`, `ip/dotted.mask` or a bare `ip`; a mask that cannot be meant is kept with a problem."""
    ip_text, _, pfx = text.partition("/")
    try:
        ip = ipaddress.ip_address(ip_text)
    except ValueError:
        raise Refused(f"{ip_text!r} is not an IP address") from None
    full = 32 if ip.version == 4 else 128
    if not pfx:
        return Addr(str(ip), None, line)
    if "." in pfx and ip.version == 4:
        try:
            prefix = ipaddress.IPv4Network(f"0.0.0.0/{pfx}").prefixlen
        except ValueError:
            return Addr(str(ip), None, line, f"/{pfx} is not a netmask (its one-bits are not contiguous)")
    elif pfx.isdigit():
        prefix = int(pfx)
    else:
        raise Refused(f"/{pfx} is not a prefix length")
    if prefix > full:
        return Addr(str(ip), None, line, f"/{prefix} is longer than an IPv{ip.version} address ({full} bits)")
    if prefix == 0:
        return Addr(str(ip), None, line, "/0 would put every address of the Internet on this one link")
    _iface, msg = F.parse_address(f"{ip}/{prefix}")
    if msg:
        return Addr(str(ip), prefix, line, msg.replace(f"'{ip}/{prefix}' is", "it is"))
    return Addr(str(ip), prefix, line)


def _addr(k: Kernel, rest: list[str], ns: str, line: int) -> None:
    verb, words = rest[0], rest[1:]
    if verb == "flush":
        dev = words[words.index("dev") + 1] if "dev" in words[:-1] else (words[0] if words else "")
        k.iface(ns, dev).addresses = []
        return
    if verb not in ("add", "del", "delete", "replace", "change"):
        raise Refused(f"'ip addr {verb}' is not understood (add, del)")
    if not words or "dev" not in words[:-1]:
        raise Refused("ip addr add needs the address and `dev DEVICE`")
    dev = words[words.index("dev") + 1]
    if dev == "lo":
        raise Refused("addresses on lo are not part of a drawing (every namespace has 127.0.0.1 on lo)")
    cidr = words[0] if words[0] != "local" else (words[1] if len(words) > 1 else "")
    iface = k.iface(ns, dev)
    addr = parse_cidr(cidr, line)
    addr.typed = cidr
    same = [a for a in iface.addresses if a.ip == addr.ip]
    if verb in ("del", "delete"):
        if not same:
            raise Refused(f"{dev} has no address {addr.ip}")
        iface.addresses = [a for a in iface.addresses if a.ip != addr.ip]
        return
    if same and verb == "add":
        raise Refused(f"{dev} already has {addr.ip} (line {same[0].line})")
    iface.addresses = [a for a in iface.addresses if a.ip != addr.ip] + [addr]


def _route(k: Kernel, rest: list[str], ns: str, line: int) -> None:
    verb, words = rest[0], rest[1:]
    if verb == "flush":
        k.space(ns).routes = []
        return
    if verb not in ("add", "del", "delete", "replace", "change", "append"):
        raise Refused(f"'ip route {verb}' is not understood (add, del)")
    if not words:
        raise Refused("ip route add needs a destination (a network, or default)")
    to, via, dev, i = words[0], None, None, 1
    if to in ("to", "unicast") and len(words) > 1:
        to, i = words[1], 2
    while i < len(words):
        w = words[i]
        if w == "via":
            via = _take(words, i, "a gateway address")
            i += 2
        elif w == "dev":
            dev = _take(words, i, "a device name")
            i += 2
        elif w in ("metric", "proto", "scope", "src", "table", "onlink", "mtu"):
            i += 1 if w == "onlink" else 2
        else:
            raise Refused(f"'{w}' is not understood in ip route (via, dev, metric)")
    to = _destination(to, line)
    space = k.space(ns)
    if verb in ("del", "delete"):
        before = len(space.routes)
        space.routes = [r for r in space.routes if r.to != to]
        if len(space.routes) == before:
            raise Refused(f"{where(ns)} has no route to {to}")
        return
    if dev is not None:
        k.iface(ns, dev)
    if via is None and dev is None:
        raise Refused("a route needs `via GATEWAY` or `dev DEVICE`")
    if via is not None:
        try:
            gw = ipaddress.ip_address(via)
        except ValueError:
            raise Refused(f"{via!r} is not an IP address") from None
        if not any(gw in net and (dev is None or d == dev) for d, net in k.subnets(ns)):
            k.needs.append((ns, str(gw), line, f"the route on line {line} via {gw}"))
            raise Refused(f"the gateway {gw} is not on a subnet of {where(ns)} (the kernel answers "
                          "\"Nexthop has invalid gateway\")", ("gateway:" + str(gw),))
        via = str(gw)
    if verb == "add" and any(r.to == to for r in space.routes):
        raise Refused(f"{where(ns)} already has a route to {to} (the kernel answers \"File exists\")")
    space.routes = [r for r in space.routes if r.to != to] + [RouteRec(to, via, dev, line)]


def _destination(to: str, line: int) -> str:
    if to == "default" or to in ("0.0.0.0/0", "::/0"):
        return "default"
    try:
        net = ipaddress.ip_network(to if "/" in to else to + ("/128" if ":" in to else "/32"), strict=True)
    except ValueError:
        try:
            loose = ipaddress.ip_network(to, strict=False)
        except ValueError:
            raise Refused(f"{to!r} is not a destination (a network like 192.168.1.0/24, or default)") from None
        raise Refused(f"{to} has host bits set: the network is {loose} (the kernel answers \"Invalid prefix "
                      "for given prefix length\")", fix=replace_token(to, str(loose))) from None
    return str(net)

