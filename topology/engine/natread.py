"""NAT and port forwards read back from the kernel as rules a person reads, next to the design's.

The observer compares rules by their comment (a hash of the rule), which tells *that* a rule differs
but not *how*; the admin's kernel view needs the rules themselves: each MASQUERADE and DNAT rule of
the lab's ND- chains parsed from `iptables-save -t nat` (run by argv inside the namespace), and the
design's rules in the same shape, so that "found", "missing" and "not in the design" are a set diff.
"""

from __future__ import annotations

import shlex
import subprocess
from typing import Any

from .model import Node
from .state import NAT_CHAINS

Rule = dict[str, Any]
KEYS = ("action", "protocol", "source", "in_interface", "out_interface", "port", "to", "to_port")


def design_rules(node: Node) -> list[Rule]:
    """The node's NAT and port forwards as rules (the shape `parse` gives)."""
    rules: list[Rule] = []
    for nat in node.nat:
        source = nat.source if nat.source is None or "/" in nat.source else f"{nat.source}/32"  # as iptables prints it
        rules.append(_rule(action="masquerade", source=source, out_interface=nat.out_interface))
    for pf in node.port_forwards:
        rules.append(_rule(action="dnat", protocol=pf.protocol, in_interface=pf.in_interface, port=pf.port,
                           to=pf.to, to_port=pf.to_port))
    return rules


def _rule(**fields: Any) -> Rule:
    return {k: fields.get(k) for k in KEYS}


def _opt(words: list[str], flag: str) -> str | None:
    return words[words.index(flag) + 1] if flag in words and words.index(flag) + 1 < len(words) else None


def parse(text: str) -> dict[str, Any]:
    """{"rules": [Rule], "jumps": bool, "other": [line]} from `iptables-save -t nat` output: the rules of
    the ND- chains, whether both base chains jump to them, and any rule of an ND- chain not understood."""
    rules: list[Rule] = []
    other: list[str] = []
    jumps = 0
    chains = {chain for _base, chain in NAT_CHAINS}
    for line in text.splitlines():
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        if len(words) < 2 or words[0] != "-A":
            continue
        chain = words[1]
        if any(chain == base and words[-2:] == ["-j", nd] for base, nd in NAT_CHAINS):
            jumps += 1
            continue
        if chain not in chains:
            continue
        target = _opt(words, "-j")
        if target == "MASQUERADE":
            rules.append(_rule(action="masquerade", source=_opt(words, "-s"), out_interface=_opt(words, "-o")))
        elif target == "DNAT" and (dest := _opt(words, "--to-destination")):
            to, _, to_port = dest.rpartition(":")
            port = _opt(words, "--dport")
            rules.append(_rule(action="dnat", protocol=_opt(words, "-p"), in_interface=_opt(words, "-i"),
                               port=int(port) if port and port.isdigit() else port, to=to or dest,
                               to_port=int(to_port) if to_port.isdigit() else None))
        else:
            other.append(line)
    return {"rules": rules, "jumps": jumps >= len(NAT_CHAINS), "other": other}


def read(ns: str) -> dict[str, Any]:
    """`parse` of the namespace's nat table; {"error": text} when it cannot be read."""
    try:
        proc = subprocess.run(["ip", "netns", "exec", ns, "iptables-save", "-t", "nat"],
                              capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"rules": [], "jumps": False, "other": [], "error": str(exc)}
    if proc.returncode != 0:
        return {"rules": [], "jumps": False, "other": [], "error": proc.stderr.strip() or f"exit {proc.returncode}"}
    return parse(proc.stdout)


def rule_text(rule: Rule) -> str:
    """A rule as a person says it: `MASQUERADE -s 192.168.15.0/24 -o eth0`, `DNAT tcp dport 8080 -> ...`."""
    if rule.get("action") == "masquerade":
        parts = ["MASQUERADE"]
        parts += [f"-s {rule['source']}"] if rule.get("source") else ["(every source)"]
        if rule.get("out_interface"):
            parts.append(f"-o {rule['out_interface']}")
        return " ".join(parts)
    parts = [f"DNAT {rule.get('protocol')} dport {rule.get('port')}"]
    if rule.get("in_interface"):
        parts.append(f"-i {rule['in_interface']}")
    parts.append(f"-> {rule.get('to')}:{rule.get('to_port')}")
    return " ".join(parts)


def _key(rule: Rule) -> tuple[Any, ...]:
    return tuple(str(rule.get(k)) for k in KEYS)


def compare(design: list[Rule], kernel: list[Rule]) -> list[dict[str, Any]]:
    """Every rule of either side once: {"rule": text, "in_design", "in_kernel"}, design order first."""
    have = {_key(r) for r in kernel}
    want = {_key(r) for r in design}
    rows = [{"rule": rule_text(r), "in_design": True, "in_kernel": _key(r) in have} for r in design]
    rows += [{"rule": rule_text(r), "in_design": False, "in_kernel": True} for r in kernel if _key(r) not in want]
    return rows
