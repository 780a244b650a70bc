"""plan(desired, observed) -> ordered operations. Pure: no I/O, so it runs in tests and in dry runs.

Each operation is plain data that the executor carries out and that renders as the command a person
would type. Order matters: deletions first (so a renamed or recabled link frees its name), then
namespaces, devices, enslaving, link up, addresses, routes (which need addresses), sysctls, iptables.
Only things that carry the lab's mark are ever deleted.
"""

from __future__ import annotations

from .ops import (
    ORDER,
    AddrAdd,
    AddrDel,
    Blocked,
    BridgeAdd,
    Foreign,
    Iptables,
    LinkDel,
    LinkMaster,
    LinkSet,
    LinkUp,
    LoUp,
    NetnsAdd,
    NetnsDel,
    Op,
    Operation,
    RouteAdd,
    RouteDel,
    Sysctl,
    VethAdd,
)
from .state import (
    DEFAULT_INSTALL,
    NAT_CHAINS,
    Iface,
    NsState,
    RouteState,
    State,
    is_ours,
    lo_alias,
    owns,
    rule_comments,
)

__all__ = ["ORDER", "Op", "Operation", "interrupted", "iptables_text", "plan"]


def render(op: Operation) -> str:
    """The command a person would type (kept for callers of the untyped era)."""
    return op.command


def iptables_text(tag: str, desired: NsState, observed_jumps: bool) -> str:
    """The iptables-restore input that makes the ND- chains hold exactly the desired rules.

    Declaring a chain flushes it under --noflush, so the text is correct whatever was there before."""
    lines = ["*nat"]
    for _base, chain in NAT_CHAINS:
        lines.append(f":{chain} - [0:0]")
    if desired.nat:
        if not observed_jumps:
            for base, chain in NAT_CHAINS:
                lines.append(f"-A {base} -m comment --comment nd:{tag} -j {chain}")
        lines += list(desired.nat)
    else:
        if observed_jumps:
            for base, chain in NAT_CHAINS:
                lines.append(f"-D {base} -m comment --comment nd:{tag} -j {chain}")
        for _base, chain in NAT_CHAINS:
            lines.append(f"-X {chain}")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def _new_iface(want: Iface) -> Iface:
    """How a just-created device looks: down, no master, no address."""
    return Iface(kind=want.kind, alias=want.alias, mtu=want.mtu, mac=want.mac, up=False)


def interrupted(have: Iface, want: Iface | None) -> bool:
    """An unmarked veth or bridge where the design has one of that kind and name, inside the lab's own
    namespace: a creation cut short between making the device and marking it. It is the lab's: a veth
    is remade (its other end cannot be told from here), a bridge marked where it is."""
    return (have.kind in ("veth", "bridge") and not have.alias and want is not None
            and want.kind == have.kind)


def plan(desired: State, observed: State, tag: str, *, install: str = DEFAULT_INSTALL) -> list[Operation]:
    """Namespaces of `observed` that do not carry this install's mark are never changed: reported as
    "blocked" (a designed node's name is taken) or "foreign" (not designed), then planned around."""
    ops: list[Operation] = []
    blocked: set[str] = set()
    for ns in sorted(observed):
        if not (owns(tag, install, observed[ns].mark) or observed[ns].in_lab):
            kind = Blocked if ns in desired else Foreign
            ops.append(kind(ns=ns, node=observed[ns].node, mark=observed[ns].mark))
            blocked.add(ns)
        elif ns not in desired:
            ops.append(NetnsDel(ns=ns, node=observed[ns].node))
    observed = {ns: st for ns, st in observed.items() if ns not in blocked}
    gone: set[tuple[str, str]] = set()  # (ns, ifname) removed by a deletion (a veth takes its peer along)
    now: dict[str, dict[str, Iface]] = {}  # what each namespace will hold before configuration

    def peer_of(ns: str, name: str, alias: str) -> tuple[str, str] | None:
        want = desired.get(ns)
        if want and name in want.ifaces and want.ifaces[name].alias == alias:
            return want.ifaces[name].peer
        return None

    for ns, want in desired.items():
        seen = observed.get(ns)
        if seen is None:
            continue
        for name, have in sorted(seen.ifaces.items()):
            w = want.ifaces.get(name)
            if (ns, name) in gone or not (is_ours(tag, have.alias) or interrupted(have, w)):
                continue
            if interrupted(have, w) and w is not None and w.kind == "bridge":
                ops.append(LinkSet(ns=ns, node=want.node, name=name, alias=w.alias))  # adopted
                continue
            keep = w is not None and w.kind == have.kind and w.alias == have.alias
            if keep and w is not None and w.kind == "veth" and w.peer is not None and w.peer[0] in desired:
                pns, pname = w.peer  # (a peer outside `desired` is out of this plan's scope: in sync)
                p = observed.get(pns)
                keep = p is not None and pname in p.ifaces and p.ifaces[pname].alias == w.alias
            if not keep:
                ops.append(LinkDel(ns=ns, node=want.node, name=name))
                gone.add((ns, name))
                if interrupted(have, w) and w is not None and w.peer is not None:
                    gone.add(w.peer)  # most likely its own other end (deleting it again is harmless)
                elif have.kind == "veth":
                    for ons, o in observed.items():
                        for oname, oif in o.ifaces.items():
                            if oif.alias == have.alias and (ons, oname) != (ns, name):
                                gone.add((ons, oname))
    for ns, want in desired.items():
        seen = observed.get(ns)
        if seen is None and ns not in blocked:
            ops.append(NetnsAdd(ns=ns, node=want.node, mark=lo_alias(tag, False, install)))
        now[ns] = {n: i for n, i in (seen.ifaces.items() if seen else ()) if (ns, n) not in gone}
    for ns, want in desired.items():
        seen = observed.get(ns)
        if seen is None or not seen.lo_up:
            ops.append(LoUp(ns=ns, node=want.node))
        if seen is not None and seen.in_lab:  # its mark was rewritten from inside: mark it again
            ops.append(LinkSet(ns=ns, node=want.node, name="lo", alias=lo_alias(tag, bool(want.nat), install)))
    for ns, want in desired.items():
        for name, w in want.ifaces.items():
            if w.kind == "bridge" and name not in now[ns]:
                ops.append(BridgeAdd(ns=ns, node=want.node, name=name, alias=w.alias, mac=w.mac))
                now[ns][name] = _new_iface(w)
    for ns, want in desired.items():
        for name, w in want.ifaces.items():
            if w.kind != "veth" or name in now[ns] or w.peer is None:
                continue
            pns, pname = w.peer
            pw = desired[pns].ifaces[pname]
            ops.append(VethAdd(ns=ns, node=want.node, name=name, peer_ns=pns, peer_name=pname, mtu=w.mtu,
                               mac=w.mac, peer_mac=pw.mac, alias=w.alias))
            now[ns][name] = _new_iface(w)
            now[pns][pname] = _new_iface(pw)
    _configure(ops, desired, now)
    # the kernel drops routes whose device went down or away, or whose gateway lost its subnet
    shaken = {ns for ns, _name in gone} | {op.ns for op in ops if op.op in ("addr_del", "link_up")}
    for ns, want in desired.items():
        seen = observed.get(ns)
        have_routes = seen.routes if seen else frozenset()
        for r in sorted(have_routes - want.routes, key=_route_key):
            ops.append(RouteDel(ns=ns, node=want.node, to=r.to, via=r.via, dev=r.dev))
        present = frozenset() if ns in shaken else have_routes
        for r in sorted(want.routes - present, key=_route_key):
            ops.append(RouteAdd(ns=ns, node=want.node, to=r.to, via=r.via, dev=r.dev))
    for ns, want in desired.items():
        seen = observed.get(ns)
        # Written on every new namespace, on or off: a new one inherits the machine's IPv4 settings
        # (net.core.devconf_inherit_init_net=0), so on a host with ip_forward=1 it starts forwarding.
        if seen is None or (seen.forwarding, seen.forwarding6) != (want.forwarding, want.forwarding6):
            v = "1" if want.forwarding else "0"
            ops.append(Sysctl(ns=ns, node=want.node, values={
                "net.ipv4.ip_forward": v, "net.ipv6.conf.all.forwarding": v}))
    for ns, want in desired.items():
        seen = observed.get(ns)
        have_nat = seen.nat if seen else ()
        jumps = "jumps" in have_nat
        have_rules = tuple(sorted(c for c in have_nat if c != "jumps"))
        if want.nat:
            needed = rule_comments(want.nat) != have_rules or not jumps
        else:
            needed = bool(have_rules) or jumps or bool(seen and seen.ipt_mark)
        if needed:
            ops.append(Iptables(ns=ns, node=want.node, text=iptables_text(tag, want, jumps),
                                lo_alias=lo_alias(tag, bool(want.nat), install)))
    ops.sort(key=lambda o: ORDER.index(o.op))  # stable: keeps namespace order within a kind
    return ops


def _configure(ops: list[Operation], desired: State, now: dict[str, dict[str, Iface]]) -> None:
    later: list[Operation] = []
    for ns, want in desired.items():
        for name, w in sorted(want.ifaces.items()):
            have = now[ns].get(name)
            if have is None:
                continue
            mtu = w.mtu if w.mtu is not None and have.mtu != w.mtu else None
            mac = w.mac if w.mac is not None and have.mac != w.mac else None
            if mtu is not None or mac is not None:
                ops.append(LinkSet(ns=ns, node=want.node, name=name, mtu=mtu, mac=mac))
            if w.master != have.master and w.master is not None:
                ops.append(LinkMaster(ns=ns, node=want.node, name=name, master=w.master))
            if not have.up:
                ops.append(LinkUp(ns=ns, node=want.node, name=name))
            for addr in sorted(have.addresses - w.addresses):
                ops.append(AddrDel(ns=ns, node=want.node, name=name, address=addr))
            for addr in sorted(w.addresses - have.addresses):
                later.append(AddrAdd(ns=ns, node=want.node, name=name, address=addr))
    ops.extend(later)


def _route_key(r: RouteState) -> tuple[str, str, str]:
    return (r.to, r.via or "", r.dev or "")

