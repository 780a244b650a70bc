"""Drift: design vs kernel as a list a person can read. Pure, like plan.

Unlike the plan, drift also reports what the engine will never touch (a link someone added by hand
is `extra`, marked as not ours), so people see why their lab behaves differently from the drawing.
"""

from __future__ import annotations

from typing import Any

from .plan import interrupted
from .state import DEFAULT_INSTALL, Iface, State, is_ours, lo_alias, owns, rule_comments


def _d(node: str, kind: str, what: str, expected: Any, actual: Any) -> dict[str, Any]:
    return {"node": node, "kind": kind, "what": what, "expected": expected, "actual": actual}


def _iface_diff(node: str, name: str, w: Iface, h: Iface, tag: str) -> list[dict[str, Any]]:
    out = []
    if w.kind != h.kind or w.alias != h.alias:
        actual = f"{h.kind} {h.alias or '(not ours)'}"
        if interrupted(h, w):
            actual = (f"{h.kind} without its mark (left by an interrupted apply; the next apply "
                      f"{'remakes' if h.kind == 'veth' else 'marks'} it)")
        out.append(_d(node, "link", name, f"{w.kind} {w.alias}", actual))
        return out
    if w.master != h.master:
        out.append(_d(node, "master", name, w.master, h.master))
    if not h.up:
        out.append(_d(node, "state", name, "up", "down"))
    if w.mtu is not None and w.mtu != h.mtu:
        out.append(_d(node, "mtu", name, w.mtu, h.mtu))
    if w.mac is not None and w.mac != h.mac:
        out.append(_d(node, "mac", name, w.mac, h.mac))
    for a in sorted(w.addresses - h.addresses):
        out.append(_d(node, "address", f"{name} {a}", a, None))
    for a in sorted(h.addresses - w.addresses):
        out.append(_d(node, "address", f"{name} {a}", None, a))
    return out


NOT_OURS = "present, but not made by this NetDesigner install (no mark of ours): left alone"


def drift(desired: State, observed: State, tag: str, *, install: str = DEFAULT_INSTALL) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ns in sorted(set(observed) - set(desired)):
        ours = owns(tag, install, observed[ns].mark) or observed[ns].in_lab
        out.append(_d(observed[ns].node, "namespace", ns, None, "present" if ours else NOT_OURS))
    for ns, want in desired.items():
        node = want.node
        have = observed.get(ns)
        if have is None:
            out.append(_d(node, "namespace", ns, "present", None))
            continue
        if have.in_lab:
            out.append(_d(node, "mark", "lo", lo_alias(tag, bool(want.nat), install), have.mark))
        elif not owns(tag, install, have.mark):
            out.append(_d(node, "namespace", ns, "present",
                          NOT_OURS + f"; remove it by hand (ip netns del {ns}) or rename the node to apply"))
            continue
        for name, w in sorted(want.ifaces.items()):
            h = have.ifaces.get(name)
            if h is None:
                out.append(_d(node, "link", name, f"{w.kind} {w.alias}", None))
            else:
                out.extend(_iface_diff(node, name, w, h, tag))
        for name, h in sorted(have.ifaces.items()):
            if name not in want.ifaces:
                actual = h.kind if is_ours(tag, h.alias) else f"{h.kind} (not made by NetDesigner)"
                out.append(_d(node, "link", name, None, actual))
        if not have.lo_up:
            out.append(_d(node, "state", "lo", "up", "down"))
        for r in sorted(want.routes - have.routes, key=str):
            out.append(_d(node, "route", r.to, {"via": r.via, "dev": r.dev}, None))
        for r in sorted(have.routes - want.routes, key=str):
            out.append(_d(node, "route", r.to, None, {"via": r.via, "dev": r.dev}))
        if want.forwarding != have.forwarding:
            out.append(_d(node, "sysctl", "net.ipv4.ip_forward", int(want.forwarding),
                          int(have.forwarding)))
        if want.forwarding6 != have.forwarding6:
            out.append(_d(node, "sysctl", "net.ipv6.conf.all.forwarding", int(want.forwarding6),
                          int(have.forwarding6)))
        want_rules = rule_comments(want.nat)
        have_rules = tuple(sorted(c for c in have.nat if c != "jumps"))
        if want_rules != have_rules or (want.nat and "jumps" not in have.nat):
            out.append(_d(node, "iptables", "nat ND- chains", list(want.nat),
                          [*have_rules, *(["jumps"] if "jumps" in have.nat else [])]))
    return out
