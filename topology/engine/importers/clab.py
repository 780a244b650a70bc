"""containerlab topologies (`.clab.yml`) to a document, through the shell importer.

A clab file says what containerlab would do: make a container per node, veth pairs per link, then run
each node's `exec` lines inside it. That is written out as the equivalent ip commands and replayed by
the shell importer, so addresses, routes and their slips get the same checks and the same words;
each warning is then pointed back at the YAML line it came from.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

import yaml

from .. import fields as F
from .base import Finding, Fix, ImportResult, Unreadable, read_with_fixes
from .shell import read_shell

HOST_ENDS = {"host"}
LINUX_KINDS = {"linux"}
BRIDGE_KINDS = {"bridge", "ovs-bridge"}
KIND_LABEL = "nd-kind"  # our own label: an external node exported as a linux container
HEADER_HOST_RE = re.compile(r"^#\s+host:\s+(.+)$")
HEADER_LAYOUT_RE = re.compile(r"^#\s*host-layout:\s*(-?[\d.]+)\s+(-?[\d.]+)\s*$")
HEADER_DESCRIPTION_RE = re.compile(r"^#\s*description:\s*(.*)$")
LINE_REF_RE = re.compile(r"\b(lines? )(\d+(?:(?:, | and )\d+)*)")


@dataclass
class Step:
    command: str
    line: int  # the YAML line it comes from
    exec_text: str | None = None  # the exec item as written, when it is one
    node: str = ""


def import_clab(text: str, *, name: str | None = None, apply_fixes_: bool = False) -> ImportResult:
    return read_with_fixes(lambda t: _read(t, name), text, apply_fixes_)


def _positions(node: Any, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out.setdefault(path + (key.value,), key.start_mark.line + 1)
            _positions(value, path + (key.value,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _positions(item, path + (i,), out)


def _load(text: str) -> tuple[dict[str, Any], dict[tuple[Any, ...], int]]:
    try:
        data = yaml.safe_load(text)
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise Unreadable([Finding(line, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")]) from None
    if not isinstance(data, dict) or not isinstance(data.get("topology"), dict) or \
            not isinstance(data["topology"].get("nodes"), dict):
        raise Unreadable([Finding(1, "not a containerlab topology: it needs `topology:` with `nodes:`")])
    where: dict[tuple[Any, ...], int] = {}
    if tree is not None:
        _positions(tree, (), where)
    return data, where


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _read(text: str, name: str | None) -> ImportResult:
    data, where = _load(text)
    topo = data["topology"]
    notes: list[Finding] = []
    steps: list[Step] = []
    defaults, kinds, groups = (_mapping(topo.get(k)) for k in ("defaults", "kinds", "groups"))
    if "mgmt" in data:
        notes.append(Finding(where.get(("mgmt",), 0), "mgmt (containerlab's management network and its "
                             "addresses) is not part of a lab here; ignored"))
    names: dict[str, str] = {}
    resolved: dict[str, dict[str, Any]] = {}
    for raw, node in topo["nodes"].items():
        node = _mapping(node)
        at = where.get(("topology", "nodes", raw), 0)
        group = _mapping(groups.get(str(node.get("group"))))
        kind = node.get("kind") or group.get("kind") or defaults.get("kind") or "linux"
        merged = {**defaults, **_mapping(kinds.get(kind)), **group, **node, "kind": kind}
        merged["labels"] = {**_mapping(defaults.get("labels")), **_mapping(_mapping(kinds.get(kind)).get("labels")),
                            **_mapping(group.get("labels")), **_mapping(node.get("labels"))}
        ours = _node_name(str(raw), set(names.values()))
        if ours is None:
            notes.append(Finding(at, f"{raw!r} cannot be a node name here (letters, digits, '-' and '_', "
                                 "starting with a letter); left out"))
            continue
        if ours != raw:
            notes.append(Finding(at, f"the node {raw!r} is called {ours!r} here (node names are lower case)"))
        names[str(raw)] = ours
        resolved[ours] = merged
        if kind in BRIDGE_KINDS:
            if kind != "bridge":
                notes.append(Finding(at, f"{raw}: kind {kind} is imported as a Linux bridge"))
            steps.append(Step(f"ip link add {ours} type bridge", at))
        elif kind in ("ext-container", "host"):
            notes.append(Finding(at, f"{raw}: kind {kind} is outside the lab; left out"))
            del names[str(raw)]
            del resolved[ours]
        else:
            if kind not in LINUX_KINDS:
                image = merged.get("image")
                notes.append(Finding(at, f"{raw}: kind {kind} is imported as a plain namespace: its image"
                                     f"{' (' + str(image) + ')' if image else ''} and configuration "
                                     "(startup-config, its own daemons) are not run here"))
            steps.append(Step(f"ip netns add {ours}", at))
    bridges = {n for n, m in resolved.items() if m["kind"] in BRIDGE_KINDS}
    for i, link in enumerate(topo.get("links") or []):
        steps += _link(link, where.get(("topology", "links", i), 0), names, bridges, notes)
    for number, raw_line in enumerate(text.split("\n"), 1):
        if m := HEADER_HOST_RE.match(raw_line):
            steps.append(Step(m.group(1), number))
    for ours, merged in resolved.items():
        raw = next(r for r, o in names.items() if o == ours)
        execs = merged.get("exec") or []
        for j, item in enumerate(execs if isinstance(execs, list) else []):
            at = where.get(("topology", "nodes", raw, "exec", j), where.get(("topology", "nodes", raw), 0))
            if ours in bridges:
                notes.append(Finding(at, f"exec on the bridge {raw} runs nowhere (a bridge is not a container); left out"))
                continue
            steps.append(Step(f"ip netns exec {ours} {item}", at, str(item), ours))
    script = "\n".join(s.command for s in steps)
    result = read_shell(script, name or str(data.get("name") or "clab"))
    result.warnings = notes + [_back(w, steps, text) for w in result.warnings]
    result.warnings.sort(key=lambda w: w.line)
    _finish(result.document, resolved, text)
    result.text = text
    return result


def _node_name(raw: str, taken: set[str]) -> str | None:
    name = re.sub(r"[^a-z0-9_-]", "-", raw.lower()).strip("-_")
    if not name or not name[0].isalpha():
        return None
    name = name[:32].rstrip("-_")
    if F.check_node_name(name) or name in taken:
        return None
    return name


def _endpoint(end: Any) -> tuple[str, str, str | None] | None:
    if isinstance(end, str) and ":" in end:
        node, _, iface = end.partition(":")
        return node, iface, None
    if isinstance(end, dict) and "node" in end:
        return str(end["node"]), str(end.get("interface", "")), end.get("mac")
    return None


def _link(link: Any, at: int, names: dict[str, str], bridges: set[str], notes: list[Finding]) -> list[Step]:
    link = _mapping(link)
    kind = link.get("type", "veth")
    if kind != "veth" and kind != "host":
        notes.append(Finding(at, f"links of type {kind} (containerlab's {kind}) are not part of a lab here; left out"))
        return []
    raw_ends = link.get("endpoints") or []
    if kind == "host" and isinstance(link.get("endpoint"), dict):
        e = link["endpoint"]
        raw_ends = [e, {"node": "host", "interface": link.get("host-interface", "")}]
    ends = [_endpoint(e) for e in raw_ends]
    if len(ends) != 2 or any(e is None for e in ends):
        notes.append(Finding(at, "a link needs two endpoints like \"node:interface\"; left out"))
        return []
    parts: list[tuple[str, str, str | None, str]] = []
    for end in ends:
        assert end is not None
        node, iface, mac = end
        if node in HOST_ENDS:
            parts.append(("", iface, mac, ""))
        elif node in names:
            ours = names[node]
            parts.append(("", iface, mac, ours) if ours in bridges else (ours, iface, mac, ""))
        else:
            notes.append(Finding(at, f"{node!r} is not a node of this topology"
                                 + (" (containerlab's special endpoints are not part of a lab here)"
                                    if node in ("mgmt-net", "macvlan", "ovs-bridge") else "") + "; left out"))
            return []
    mtu = link.get("mtu")

    def side(ns: str, iface: str, mac: str | None) -> str:
        words = [shlex.quote(iface)]
        if ns:
            words += ["netns", ns]
        if mac:
            words += ["address", str(mac)]
        if isinstance(mtu, int):
            words += ["mtu", str(mtu)]
        return " ".join(words)

    (ns_a, if_a, mac_a, br_a), (ns_b, if_b, mac_b, br_b) = parts
    steps = [Step(f"ip link add {side(ns_a, if_a, mac_a)} type veth peer name {side(ns_b, if_b, mac_b)}", at)]
    for br, iface in ((br_a, if_a), (br_b, if_b)):
        if br:
            steps.append(Step(f"ip link set {shlex.quote(iface)} master {br}", at))
    return steps


def _back(w: Finding, steps: list[Step], text: str) -> Finding:
    """A warning about a generated command, pointed at the YAML line; exec fixes rewrite that line."""
    step = steps[w.line - 1] if 1 <= w.line <= len(steps) else None
    line = step.line if step else 0

    def renumber(m: re.Match[str]) -> str:
        numbers = re.findall(r"\d+", m.group(2))
        mapped = sorted({steps[int(n) - 1].line for n in numbers if 1 <= int(n) <= len(steps)})
        return m.group(1).rstrip() + " " + ", ".join(map(str, mapped)) if mapped else m.group(0)

    message = LINE_REF_RE.sub(renumber, w.message)
    if "'eth0'" in message and "never made" in message:
        message += " (containerlab's eth0 is the management interface, which a lab here does not have)"
    fix = None
    if w.fix is not None and step is not None and step.exec_text is not None:
        prefix = f"ip netns exec {step.node} "
        source = text.split("\n")[line - 1] if 1 <= line <= len(text.split("\n")) else ""
        if w.fix.text.startswith(prefix) and step.exec_text in source:
            fix = Fix(line, source.replace(step.exec_text, w.fix.text[len(prefix):], 1))
    return Finding(line, message, fix, w.fixed)


def _finish(doc: dict[str, Any], resolved: dict[str, dict[str, Any]], text: str) -> None:
    """Kinds, positions and the description that the clab file carries in labels and header comments."""
    layout = doc.get("layout", {})
    for node in doc["nodes"]:
        labels = _mapping(resolved.get(node["name"], {}).get("labels"))
        if labels.get(KIND_LABEL) == "external" and node["kind"] == "namespace":
            node["kind"] = "external"
        try:
            layout[node["name"]] = {"x": float(labels["graph-posX"]), "y": float(labels["graph-posY"])}
        except (KeyError, TypeError, ValueError):
            pass
    for raw_line in text.split("\n"):
        if m := HEADER_LAYOUT_RE.match(raw_line):
            host = next((n["name"] for n in doc["nodes"] if n["kind"] == "host"), None)
            if host:
                layout[host] = {"x": float(m.group(1)), "y": float(m.group(2))}
        elif (m := HEADER_DESCRIPTION_RE.match(raw_line)) and m.group(1).strip():
            doc["description"] = m.group(1).strip()
    doc["layout"] = layout
