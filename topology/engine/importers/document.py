"""The replayed kernel model to a `netdesigner/v1` document, laid out, with the pings as checks.

The root namespace becomes the `host` node, bridges in it become bridge nodes and the veth ends
enslaved to them their ports, every other namespace a namespace node. What the document cannot hold
is reported against the line that made it.
"""

from __future__ import annotations

import ipaddress
import shlex
from typing import Any

from .. import fields as F
from .. import validate as V
from .base import Finding, Fix
from .kmodel import ROOT, Iface, Kernel, NatRec, where
from .lex import Command
from .prefixes import address_warning

HOST_NAMES = ("host", "root", "machine")


def checks_supported() -> bool:
    """Whether this engine's reader takes a top-level `checks` list (it arrives in another change)."""
    return "checks" in V.ROOT_FIELDS


def build(k: Kernel, name: str, commands: dict[int, Command], findings: list[Finding],
          tainted: dict[str, Finding]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(document, checks); adds its warnings to `findings` (and folds into them the refused lines that
    only failed for want of a prefix)."""
    out: list[Finding] = []
    host = next(n for n in HOST_NAMES if n not in k.spaces)
    root = k.spaces[ROOT]
    nodes: dict[str, dict[str, Any]] = {}
    bridges: list[str] = []
    links: list[dict[str, Any]] = []

    def addresses(iface: Iface) -> list[str]:
        kept = []
        for a in iface.addresses:
            if a.problem is None and a.prefix is not None:
                kept.append(a.cidr())
                continue
            text, prefix, needed = address_warning(k, iface, a)
            fix = _fix(commands.get(a.line), a.typed or a.ip, f"{a.ip}/{prefix}") if prefix is not None else None
            warning = Finding(a.line, text, fix)
            for line in needed:
                folded = [f for f in findings if f.line == line and "gateway" in f.message]
                for f in folded:
                    findings.remove(f)
                    warning.followers.append(line)
            out.append(warning)
            if a.problem is None:
                kept.append(a.cidr())
        return kept

    made: list[tuple[int, int, str, Iface | None]] = [
        (space.line, 0, space.name, None) for space in k.spaces.values() if space.name]
    made += [(iface.line, iface.seq, iface.name, iface) for iface in root.ifaces.values() if iface.kind == "bridge"]
    for _line, _seq, made_name, bridge in sorted(made, key=lambda m: (m[0], m[1])):
        if bridge is None:
            nodes[made_name] = {"name": made_name, "kind": "namespace"}
            continue
        if msg := F.check_node_name(bridge.name):
            out.append(Finding(bridge.line, f"the bridge becomes a node of the drawing, but {msg}; left out"))
            continue
        if bridge.name in nodes:
            out.append(Finding(bridge.line, f"the bridge {bridge.name!r} has the name of a namespace; left out"))
            continue
        bridges.append(bridge.name)
        nodes[bridge.name] = {"name": bridge.name, "kind": "bridge"}
        if addrs := addresses(bridge):
            nodes[bridge.name]["addresses"] = addrs
    seen: set[int] = set()
    host_used = False
    every = sorted((i for sp in k.spaces.values() for i in sp.ifaces.values()), key=lambda i: i.seq)
    for iface in every:
        space = k.spaces[iface.ns]
        if iface.kind == "bridge" and space.name:
            out.append(Finding(iface.line, f"a bridge inside {where(space.name)} cannot be drawn (a lab's "
                               "bridges live in its host); left out"))
        if iface.kind == "dummy":
            out.append(Finding(iface.line, f"the dummy device {iface.name!r} is not part of a drawing; left out"))
        if iface.kind != "veth" or id(iface) in seen or iface.peer is None:
            continue
        seen.update((id(iface), id(iface.peer)))
        ends: list[dict[str, Any]] = []
        for e in (iface, iface.peer):
            if e.ns == ROOT and e.master in nodes:
                ends.append({"node": e.master, "interface": e.name, "_port": True, "_iface": e})
            else:
                ends.append({"node": e.ns or host, "interface": e.name, "_iface": e})
        if ends[0]["node"] == ends[1]["node"]:
            stay = "the host's namespace" if ends[0]["node"] == host else f"{where(iface.ns)}"
            out.append(Finding(iface.line, f"both ends of the veth pair {iface.name}/{iface.peer.name} stay in "
                               f"{stay} (neither was moved with `ip link set NAME netns NS`); a cable "
                               "joins two nodes, so it is left out"))
            continue
        for end in ends:
            e = end.pop("_iface")
            assert isinstance(e, Iface)
            host_used |= end["node"] == host
            if end.pop("_port", False):
                if e.addresses:
                    out.append(Finding(e.addresses[0].line, f"{e.name} is a port of {e.master}: an address on "
                                       "a bridge port is not used; address the bridge itself; left out"))
            elif addrs := addresses(e):
                end["addresses"] = addrs
            if e.mac:
                end["mac"] = e.mac
        link: dict[str, Any] = {"a": ends[0], "b": ends[1]}
        if iface.mtu or iface.peer.mtu:
            link["mtu"] = iface.mtu or iface.peer.mtu
        links.append(link)
    host_used |= bool(root.routes or root.nat) or bool(bridges)
    if host_used:
        nodes = {host: {"name": host, "kind": "host"}, **nodes}
    interfaces = _interfaces(nodes, links, host)
    for space in k.spaces.values():
        node = host if space.name == ROOT else space.name
        if node not in nodes:
            continue
        _routes(nodes[node], space.routes, interfaces.get(node, set()), out)
        if space.name and space.forwarding:
            nodes[node]["forwarding"] = True
        _nat(nodes[node], space.nat, interfaces.get(node, set()), bool(space.forwarding) or not space.name, out)
    checks = _checks(k, nodes, host, out, tainted)
    doc: dict[str, Any] = {"format": "netdesigner/v1", "name": name, "nodes": list(nodes.values()),
                           "links": links, "layout": _layout(nodes, host, bridges)}
    if checks and checks_supported():
        doc["checks"] = checks
    findings.extend(out)
    return doc, checks


def _fix(cmd: Command | None, old: str, new: str) -> Fix | None:
    if cmd is None or not cmd.single or cmd.piped or old not in cmd.argv:
        return None
    return Fix(cmd.line, shlex.join([new if a == old else a for a in cmd.argv]))


def _interfaces(nodes: dict[str, dict[str, Any]], links: list[dict[str, Any]], host: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for lk in links:
        for end in (lk["a"], lk["b"]):
            if nodes.get(end["node"], {}).get("kind") != "bridge":
                out.setdefault(end["node"], set()).add(end["interface"])
    out.setdefault(host, set()).update(n for n, d in nodes.items() if d["kind"] == "bridge")
    return out


def _routes(node: dict[str, Any], routes: list[Any], devs: set[str], out: list[Finding]) -> None:
    kept = []
    for r in routes:
        if r.dev is not None and r.dev not in devs:
            out.append(Finding(r.line, f"the route to {r.to} uses {r.dev}, which is not a cable end of "
                               f"{node['name']} in the drawing; left out"))
            continue
        kept.append({k: v for k, v in (("to", r.to), ("via", r.via), ("dev", r.dev)) if v})
    if kept:
        node["routes"] = kept


def _nat(node: dict[str, Any], rules: list[NatRec], devs: set[str], can: bool, out: list[Finding]) -> None:
    nat: list[dict[str, Any]] = []
    fwd: list[dict[str, Any]] = []
    for r in rules:
        if not can:
            out.append(Finding(r.line, f"{node['name']} does not forward, and NAT needs forwarding: add "
                               f"`ip netns exec {node['name']} sysctl -w net.ipv4.ip_forward=1` first; left out"))
            continue
        iface = r.out_interface if r.kind == "masquerade" else r.in_interface
        if iface is not None and iface not in devs:
            opt = "-o" if r.kind == "masquerade" else "-i"
            out.append(Finding(r.line, f"{iface!r} is never made by these commands (the machine's own LAN "
                               f"card?); the rule is kept without {opt} {iface}. To have that LAN in the lab, "
                               f"add an external node cabled to {node['name']} as {iface}"))
            iface = None
        if r.kind == "masquerade":
            nat.append({k: v for k, v in (("action", "masquerade"), ("source", r.source),
                                          ("out_interface", iface)) if v})
        else:
            fwd.append({k: v for k, v in (("protocol", r.protocol), ("port", r.port), ("to", r.to),
                                          ("to_port", r.to_port), ("in_interface", iface)) if v})
    if nat:
        node["nat"] = nat
    if fwd:
        node["port_forwards"] = fwd


def _checks(k: Kernel, nodes: dict[str, dict[str, Any]], host: str, out: list[Finding],
            tainted: dict[str, Finding]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for p in k.pings:
        src = p.ns or host
        if src not in nodes:
            out.append(Finding(p.line, "this ping runs in the host, which these commands do not make part of "
                               "the lab; no check made"))
            continue
        if k.owner(p.target) is None and p.target in tainted:
            tainted[p.target].unchecked.append(p.line)
            continue
        if k.owner(p.target) is None:
            ip = ipaddress.ip_address(p.target)
            out.append(Finding(p.line, f"{ip} is pinged but never made inside the lab: it is a machine outside "
                               "the host (like the tutorial's LAN host). To test it, add an external node "
                               f"with {ip} cabled to {host} (in the drawing); no check made"))
            continue
        if (src, p.target) in seen:
            continue
        seen.add((src, p.target))
        checks.append({"from": src, "to": p.target, "expect": "reachable", "name": f"line {p.line}: ping {p.target}"})
    return checks


def _layout(nodes: dict[str, dict[str, Any]], host: str, bridges: list[str]) -> dict[str, dict[str, float]]:
    rows = [[n for n in nodes if n == host], bridges,
            [n for n, d in nodes.items() if d["kind"] not in ("host", "bridge")]]
    layout: dict[str, dict[str, float]] = {}
    y = 40.0
    for row in rows:
        if not row:
            continue
        width = 160.0 * (len(row) - 1)
        for i, n in enumerate(row):
            layout[n] = {"x": 300.0 - width / 2 + 160.0 * i, "y": y}
        y += 140.0
    return layout
