"""Reads a lab back from the kernel into the same `State` the design produces, so that planning and
drift are a diff. Reads only: links, addresses and routes by netlink, forwarding from /proc/sys
(inside the namespace), and the lab's ND- chains through `iptables-save` where rules may exist.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import subprocess
from dataclasses import replace

from . import nsutil, userns
from . import owners as _owners
from . import rtnl as rt
from .rtnl import Msg, Rtnl, s_ip, s_mac, s_str, s_u32
from .state import DEFAULT_INSTALL, NAT_CHAINS, ROUTE_PROTO, Iface, NsState, RouteState, State, lo_alias, owns

COMMENT_RE = re.compile(r'--comment "?(nd:[a-z0-9]+:[0-9a-f]+)"?')


def lab_namespaces(tag: str, *, half_made: bool = False) -> list[str]:
    """The lab's namespaces. A /run/netns file that is not a mount is a namespace whose creation was cut
    short (a killed worker): it cannot be entered (setns EINVAL), so it counts as absent and apply
    creates it; `half_made=True` lists those too, for destroy to remove."""
    prefix = f"nd-{tag}-"
    names = (n for n in nsutil.listing() if n.startswith(prefix))
    return sorted(n for n in names if half_made or nsutil.mounted(n))


# the link attributes a read-back uses (names, observe_ns); the kernel sends ~40 per link
LINK_ATTRS = frozenset({rt.IFLA_IFNAME, rt.IFLA_IFALIAS, rt.IFLA_MASTER, rt.IFLA_MTU, rt.IFLA_ADDRESS,
                        rt.IFLA_LINKINFO})


def read_links(r: Rtnl) -> tuple[dict[int, str], list[Msg]]:
    links = r.links(LINK_ATTRS)
    return {m.fields[2]: s_str(m.attrs.get(rt.IFLA_IFNAME)) or "?" for m in links}, links


def read_addrs(r: Rtnl, names: dict[int, str]) -> dict[str, set[str]]:
    """Addresses per interface name, without loopback and link-local ones (the kernel's, not ours).

    Why the byte tests: every interface carries a kernel-made fe80:: address and lo its ::1 and
    127.0.0.1, so most messages are dropped; testing the raw bytes first, and formatting IPv4 without
    `ipaddress` (inet_ntop is canonical for IPv4), halved the read-back of a namespace."""
    out: dict[str, set[str]] = {}
    for m in r.addrs():
        family, plen, _flags, _scope, index = m.fields
        raw = m.attrs.get(rt.IFA_LOCAL if family == socket.AF_INET else rt.IFA_ADDRESS)
        if raw is None:
            continue
        if len(raw) == 4:
            if raw[0] == 127 or raw[:2] == b"\xa9\xfe":  # 127.0.0.0/8, 169.254.0.0/16
                continue
            text = f"{socket.inet_ntop(socket.AF_INET, raw)}/{plen}"
        else:
            if (raw[0] == 0xFE and raw[1] & 0xC0 == 0x80) or raw == _LOOPBACK6:  # fe80::/10, ::1
                continue
            iface = ipaddress.ip_interface(f"{s_ip(raw)}/{plen}")
            if iface.ip.is_link_local or iface.ip.is_loopback:
                continue
            text = str(iface)
        out.setdefault(names.get(index, "?"), set()).add(text)
    return out


_LOOPBACK6 = bytes(15) + b"\x01"


def read_mark(ns: str) -> str:
    """The namespace's ownership mark (lo's alias; "" when none), without reading anything else."""
    r = Rtnl.into(ns)
    try:
        return r.alias("lo")
    finally:
        r.close()


def observe_ns(ns: str, tag: str, node: str, want: NsState | None,
               install: str = DEFAULT_INSTALL, *, force: bool = False) -> NsState:
    """A namespace read back whole; one without this install's mark only as far as its mark (it is
    never changed, so nothing else of it matters), unless `force` (one of the lab's whose mark was
    rewritten: its rules are read too, whatever the mark says)."""
    r = Rtnl.into(ns)
    try:
        names, links = read_links(r)
        lo = next((m for m in links if names[m.fields[2]] == "lo"), None)
        mark = (s_str(lo.attrs.get(rt.IFLA_IFALIAS)) or "") if lo is not None else ""
        if not owns(tag, install, mark) and not force:
            return NsState(node=node, mark=mark)
        forwarding, forwarding6 = r.forwarding(socket.AF_INET), r.forwarding(socket.AF_INET6)
        addrs = read_addrs(r, names)
        ifaces: dict[str, Iface] = {}
        lo_up = True
        lo_mark = ""
        for m in links:
            name = names[m.fields[2]]
            alias = s_str(m.attrs.get(rt.IFLA_IFALIAS)) or ""
            up = bool(m.fields[3] & rt.IFF_UP)
            if name == "lo":
                lo_up, lo_mark = up, alias
                continue
            master = s_u32(m.attrs.get(rt.IFLA_MASTER))
            ifaces[name] = Iface(
                kind=rt.link_kind(m), alias=alias, master=names.get(master) if master else None,
                mtu=s_u32(m.attrs.get(rt.IFLA_MTU)), mac=s_mac(m.attrs.get(rt.IFLA_ADDRESS)), up=up,
                addresses=frozenset(addrs.get(name, set())))
        routes = set()
        for m in r.routes(0, rt.RT_TABLE_MAIN):
            _fam, dst_len, _s, _t, table, proto, _scope, _type, _f = m.fields
            if proto != ROUTE_PROTO or (s_u32(m.attrs.get(rt.RTA_TABLE)) or table) != rt.RT_TABLE_MAIN:
                continue
            dst = s_ip(m.attrs.get(rt.RTA_DST))
            to = f"{dst}/{dst_len}" if dst is not None else "default"
            via = s_ip(m.attrs.get(rt.RTA_GATEWAY))
            oif = s_u32(m.attrs.get(rt.RTA_OIF))
            dev = names.get(oif) if oif is not None else None
            if want is not None and any(w.to == to and w.via == via and w.dev is None for w in want.routes):
                dev = None  # the design left the device to the kernel
            routes.add(RouteState(to=to, via=via, dev=dev))
    finally:
        r.close()
    ipt_mark = lo_mark == lo_alias(tag, True, install)
    nat: tuple[str, ...] = ()
    if ipt_mark or force or (want is not None and want.nat):
        nat = read_nat(ns)
    return NsState(node=node, ifaces=ifaces, routes=frozenset(routes), forwarding=forwarding,
                   forwarding6=forwarding6, nat=nat, lo_up=lo_up, ipt_mark=ipt_mark, mark=lo_mark)


def read_nat(ns: str) -> tuple[str, ...]:
    """Comments of the rules in our ND- chains, plus "jumps" when both base chains jump to them."""
    proc = subprocess.run(["ip", "netns", "exec", ns, "iptables-save", "-t", "nat"],
                          capture_output=True, text=True, check=False, timeout=30)
    comments: list[str] = []
    jumps = 0
    for line in proc.stdout.splitlines():
        for base, chain in NAT_CHAINS:
            if line.startswith(f"-A {chain} "):
                m = COMMENT_RE.search(line)
                if m:
                    comments.append(m.group(1))
            elif line.startswith(f"-A {base} ") and line.endswith(f"-j {chain}"):
                jumps += 1
    return (*sorted(comments), "jumps") if jumps >= len(NAT_CHAINS) else tuple(sorted(comments))


def observe(tag: str, desired: State, install: str = DEFAULT_INSTALL) -> State:
    """Every `nd-<tag>-*` namespace, read back whole. One not designed is listed with its mark only
    (to be deleted when it is ours, reported when not); so is one designed that is not ours.

    Ours: it carries this install's mark, or it belongs to the lab's user namespace (that of one that
    does): root inside the lab (the terminal's shell) may have rewritten the mark, and the namespace is
    still the lab's (`in_lab`; the plan marks it again).

    One thread: the read-back is bound by Python's parsing under the GIL; 2 or 4 threads were measured
    slower on a quiet 2-core VM (N=200: 0.16 s in 1 thread, 0.18 s in 4; N=500: 0.36 s vs 0.43 s)."""
    out: State = {}
    owners: dict[str, tuple[int, int]] = {}
    for ns in lab_namespaces(tag):
        want = desired.get(ns)
        node = want.node if want else ns[len(f"nd-{tag}-"):]
        try:
            out[ns] = observe_ns(ns, tag, node, want, install) if want else NsState(node=node,
                                                                                  mark=read_mark(ns))
            owners[ns] = userns.userns_id(nsutil.path(ns))
        except FileNotFoundError:
            out.pop(ns, None)
            continue  # removed while we read (not by us: the lab is locked)
    initial = userns.initial_id()
    lab = next((owners[ns] for ns, st in out.items() if owns(tag, install, st.mark) and owners[ns] != initial),
               None) or _owners.recorded(tag, install)
    for ns, st in list(out.items()) if lab is not None else ():
        if owners[ns] == lab and not owns(tag, install, st.mark):
            want = desired.get(ns)
            seen = observe_ns(ns, tag, st.node, want, install, force=True) if want else st
            out[ns] = replace(seen, mark=st.mark, in_lab=True)
    return out
