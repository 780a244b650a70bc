"""Addresses typed without a prefix (or with one that cannot be meant): what the kernel assumes,
what the later commands needed, and the prefix that was meant when the link's neighbours say so."""

from __future__ import annotations

import ipaddress

from .kmodel import ROOT, Addr, Iface, Kernel, where


def segment(k: Kernel, iface: Iface) -> list[Iface]:
    """The other interfaces on the same layer-2 segment (the veth's peer, or a bridge and its ports' peers)."""
    def ports_of(bridge: Iface) -> list[Iface]:
        return [p for p in k.spaces[bridge.ns].ifaces.values() if p.master == bridge.name]

    if iface.kind == "bridge":
        return [p.peer for p in ports_of(iface) if p.peer is not None]
    peer = iface.peer
    if peer is None:
        return []
    if peer.master is not None and peer.master in k.spaces[peer.ns].ifaces:
        bridge = k.spaces[peer.ns].ifaces[peer.master]
        return [bridge] + [p.peer for p in ports_of(bridge) if p is not peer and p.peer is not None]
    return [peer]


def owner_name(iface: Iface) -> str:
    return "the host's " + iface.name if iface.ns == ROOT else f"{iface.ns}'s {iface.name}"


def meant_prefix(k: Kernel, iface: Iface, addr: Addr) -> tuple[int | None, str]:
    """(the prefix the neighbours show, why) or (None, what is known)."""
    ip = ipaddress.ip_address(addr.ip)
    mates = [(m, a) for m in segment(k, iface) for a in m.addresses if a.problem is None]
    with_prefix = [(m, a) for m, a in mates if a.prefix is not None
                   and ip in ipaddress.ip_interface(a.cidr()).network and a.version == ip.version]
    prefixes = {a.prefix for _m, a in with_prefix}
    if len(prefixes) == 1:
        m, a = with_prefix[0]
        return a.prefix, f"{owner_name(m)} has {a.cidr()} (line {a.line}) on the same link"
    if len(prefixes) > 1:
        return None, "the link's neighbours have different prefixes (" + ", ".join(
            f"{a.cidr()} on line {a.line}" for _m, a in with_prefix) + ")"
    unsure = [(m, a) for m in segment(k, iface) for a in m.addresses if a.problem is not None]
    bare = [(m, a) for m, a in mates + unsure if (a.prefix is None or a.problem) and a.version == ip.version]
    if ip.version == 4 and bare and not any(a.prefix is not None for _m, a in mates):
        net = ipaddress.ip_network(f"{ip}/24", strict=False)
        if all(ipaddress.ip_address(a.ip) in net for _m, a in bare):
            m, a = bare[0]
            return 24, (f"{owner_name(m)} has {a.ip} (line {a.line}), without a usable prefix either, in the "
                        f"same {net}")
    if not mates:
        return None, "nothing else on its link has an address to tell the subnet"
    return None, "no neighbour on its link is in a subnet with it"


def address_warning(k: Kernel, iface: Iface, addr: Addr) -> tuple[str, int | None, list[int]]:
    """(message, the meant prefix or None, lines of later commands that needed it)."""
    prefix, why = meant_prefix(k, iface, addr)
    ip = ipaddress.ip_address(addr.ip)
    guess = ipaddress.ip_network(f"{ip}/{prefix or 24}", strict=False)
    needed = [(line, what) for ns, gw, line, what in k.needs
              if ns == iface.ns and ipaddress.ip_address(gw) in guess]
    pings: dict[str, list[int]] = {}
    for p in k.pings:
        if p.ns == iface.ns and ipaddress.ip_address(p.target) in guess and p.target != addr.ip:
            pings.setdefault(p.target, []).append(p.line)
    for target, lines in pings.items():
        said = f"line {lines[0]}" if len(lines) == 1 else "lines " + ", ".join(map(str, lines[:-1])) + \
            f" and {lines[-1]}"
        needed.append((lines[0], f"the ping{'s' if len(lines) > 1 else ''} on {said} to {target}"))
    needed.sort()
    full = 32 if ip.version == 4 else 128
    if addr.problem is not None:
        head = f"{addr.typed or addr.ip} on {iface.name}: {addr.problem}, so it cannot be meant"
    else:
        head = (f"{addr.ip} on {iface.name} has no prefix length, so the kernel takes {addr.ip}/{full}: "
                f"a subnet of its own, on which {where(iface.ns)} reaches no neighbour")
    text = head + f"; {why}"
    if prefix is not None:
        text += f", so {ip}/{prefix} is meant"
    if needed:
        plural = len(needed) > 1 or needed[0][1].startswith("the pings")
        text += "; " + " and ".join(w for _l, w in needed[:3]) + (" need" if plural else " needs") + f" {guess}"
    if addr.problem is not None:
        text += "; left out"
    return text, prefix, [line for line, _w in needed]
