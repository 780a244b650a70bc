"""plan(desired, observed) -> ordered operations. Pure: no I/O, so it runs in tests and in dry runs.

Each operation is plain data that the executor carries out and that renders as the command a person
would type. Order matters: deletions first (so a renamed or recabled link frees its name), then
namespaces, devices, enslaving, link up, addresses, routes (which need addresses), sysctls, iptables.
Only things that carry the lab's mark are ever deleted.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from .state import NAT_CHAINS, Iface, NsState, RouteState, State, is_ours, lo_alias, rule_comments

ORDER = ("netns_del", "link_del", "netns_add", "lo_up", "bridge_add", "veth_add", "link_set",
         "link_master", "link_up", "addr_del", "addr_add", "route_del", "route_add", "sysctl", "iptables")


@dataclass(frozen=True)
class Op:
    op: str
    ns: str
    node: str | None
    args: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def command(self) -> str:
        return render(self)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "node": self.node, "netns": self.ns, "command": self.command, **self.args}


def _q(*parts: str) -> str:
    return " ".join(shlex.quote(p) for p in parts)


def _route_words(a: dict[str, Any]) -> list[str]:
    words = [a["to"]]
    if a.get("via"):
        words += ["via", a["via"]]
    if a.get("dev"):
        words += ["dev", a["dev"]]
    return words


def render(op: Op) -> str:
    a, ns = op.args, op.ns
    if op.op == "netns_add":
        return _q("ip", "netns", "add", ns)
    if op.op == "netns_del":
        return _q("ip", "netns", "del", ns)
    if op.op == "lo_up":
        return _q("ip", "-n", ns, "link", "set", "lo", "up")
    if op.op == "bridge_add":
        return _q("ip", "-n", ns, "link", "add", a["name"], "type", "bridge")
    if op.op == "veth_add":
        words = ["ip", "-n", ns, "link", "add", a["name"]]
        if a.get("mtu"):
            words += ["mtu", str(a["mtu"])]
        if a.get("mac"):
            words += ["address", a["mac"]]
        words += ["type", "veth", "peer", "name", a["peer_name"], "netns", a["peer_ns"]]
        if a.get("peer_mac"):
            words += ["address", a["peer_mac"]]
        return _q(*words)
    if op.op == "link_set":
        words = ["ip", "-n", ns, "link", "set", a["name"]]
        if a.get("mtu"):
            words += ["mtu", str(a["mtu"])]
        if a.get("mac"):
            words += ["address", a["mac"]]
        return _q(*words)
    if op.op == "link_master":
        return _q("ip", "-n", ns, "link", "set", a["name"], "master", a["master"])
    if op.op == "link_up":
        return _q("ip", "-n", ns, "link", "set", a["name"], "up")
    if op.op == "link_del":
        return _q("ip", "-n", ns, "link", "del", a["name"])
    if op.op in ("addr_add", "addr_del"):
        return _q("ip", "-n", ns, "addr", op.op[5:], a["address"], "dev", a["name"])
    if op.op in ("route_add", "route_del"):
        return _q("ip", "-n", ns, "route", op.op[6:], *_route_words(a))
    if op.op == "sysctl":
        return _q("ip", "netns", "exec", ns, "sysctl", "-w", *(f"{k}={v}" for k, v in a["values"].items()))
    if op.op == "iptables":
        return f"ip netns exec {shlex.quote(ns)} iptables-restore --noflush <<'EOF'\n{a['text']}EOF"
    raise ValueError(f"unknown operation {op.op}")


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
    """An unmarked veth where the design has a veth of that name, inside the lab's own namespace: a
    creation cut short between making the pair and marking it. It is the lab's, and is remade."""
    return have.kind == "veth" and not have.alias and want is not None and want.kind == "veth"


def plan(desired: State, observed: State, tag: str) -> list[Op]:
    ops: list[Op] = []
    for ns in sorted(observed):
        if ns not in desired:
            ops.append(Op("netns_del", ns, observed[ns].node))
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
            keep = w is not None and w.kind == have.kind and w.alias == have.alias
            if keep and w is not None and w.kind == "veth" and w.peer is not None and w.peer[0] in desired:
                pns, pname = w.peer  # (a peer outside `desired` is out of this plan's scope: in sync)
                p = observed.get(pns)
                keep = p is not None and pname in p.ifaces and p.ifaces[pname].alias == w.alias
            if not keep:
                ops.append(Op("link_del", ns, want.node, {"name": name}))
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
        if seen is None:
            ops.append(Op("netns_add", ns, want.node, {"mark": lo_alias(tag, False)}))
        now[ns] = {n: i for n, i in (seen.ifaces.items() if seen else ()) if (ns, n) not in gone}
    for ns, want in desired.items():
        seen = observed.get(ns)
        if seen is None or not seen.lo_up:
            ops.append(Op("lo_up", ns, want.node))
    for ns, want in desired.items():
        for name, w in want.ifaces.items():
            if w.kind == "bridge" and name not in now[ns]:
                ops.append(Op("bridge_add", ns, want.node, {"name": name, "alias": w.alias}))
                now[ns][name] = _new_iface(w)
    for ns, want in desired.items():
        for name, w in want.ifaces.items():
            if w.kind != "veth" or name in now[ns] or w.peer is None:
                continue
            pns, pname = w.peer
            pw = desired[pns].ifaces[pname]
            ops.append(Op("veth_add", ns, want.node, {
                "name": name, "peer_ns": pns, "peer_name": pname, "mtu": w.mtu, "mac": w.mac,
                "peer_mac": pw.mac, "alias": w.alias}))
            now[ns][name] = _new_iface(w)
            now[pns][pname] = _new_iface(pw)
    _configure(ops, desired, now)
    # the kernel drops routes whose device went down or away, or whose gateway lost its subnet
    shaken = {ns for ns, _name in gone} | {op.ns for op in ops if op.op in ("addr_del", "link_up")}
    for ns, want in desired.items():
        seen = observed.get(ns)
        have_routes = seen.routes if seen else frozenset()
        for r in sorted(have_routes - want.routes, key=_route_key):
            ops.append(Op("route_del", ns, want.node, _route_args(r)))
        present = frozenset() if ns in shaken else have_routes
        for r in sorted(want.routes - present, key=_route_key):
            ops.append(Op("route_add", ns, want.node, _route_args(r)))
    for ns, want in desired.items():
        seen = observed.get(ns)
        if (seen.forwarding if seen else False) != want.forwarding:
            v = "1" if want.forwarding else "0"
            ops.append(Op("sysctl", ns, want.node, {"values": {
                "net.ipv4.ip_forward": v, "net.ipv6.conf.all.forwarding": v}}))
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
            ops.append(Op("iptables", ns, want.node, {
                "text": iptables_text(tag, want, jumps), "lo_alias": lo_alias(tag, bool(want.nat))}))
    ops.sort(key=lambda o: ORDER.index(o.op))  # stable: keeps namespace order within a kind
    return ops


def _configure(ops: list[Op], desired: State, now: dict[str, dict[str, Iface]]) -> None:
    later: list[Op] = []
    for ns, want in desired.items():
        for name, w in sorted(want.ifaces.items()):
            have = now[ns].get(name)
            if have is None:
                continue
            changes: dict[str, Any] = {}
            if w.mtu is not None and have.mtu != w.mtu:
                changes["mtu"] = w.mtu
            if w.mac is not None and have.mac != w.mac:
                changes["mac"] = w.mac
            if changes:
                ops.append(Op("link_set", ns, want.node, {"name": name, **changes}))
            if w.master != have.master and w.master is not None:
                ops.append(Op("link_master", ns, want.node, {"name": name, "master": w.master}))
            if not have.up:
                ops.append(Op("link_up", ns, want.node, {"name": name}))
            for addr in sorted(have.addresses - w.addresses):
                ops.append(Op("addr_del", ns, want.node, {"name": name, "address": addr}))
            for addr in sorted(w.addresses - have.addresses):
                later.append(Op("addr_add", ns, want.node, {"name": name, "address": addr}))
    ops.extend(later)


def _route_key(r: RouteState) -> tuple[str, str, str]:
    return (r.to, r.via or "", r.dev or "")


def _route_args(r: RouteState) -> dict[str, Any]:
    return {"to": r.to, "via": r.via, "dev": r.dev}
