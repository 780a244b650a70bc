"""Shell import: a pasted terminal session of ip/iptables/sysctl commands to a document.

Each command is replayed on the kernel model; a line the kernel would refuse is left out with a
warning that says why, names the likely typo (and where the right name was made), and offers the
corrected line when the intent is unambiguous. A line that fails only because an earlier line was
left out is folded into that earlier warning, so one slip gives one warning.
"""

from __future__ import annotations

import ipaddress
import shlex
from typing import Any

from .base import Finding, Fix, ImportResult, read_with_fixes
from .document import build
from .ipcmd import LOOK, ip_command
from .kmodel import ROOT, Kernel, Refused, where
from .lex import Command, lex
from .othercmd import LOOK_ONLY, echo, iptables, ping, sysctl

# Words of the commands themselves: a left-out line taints only the names it mentions.
KEYWORDS = {"ip", "link", "set", "add", "del", "delete", "netns", "exec", "dev", "master", "nomaster", "up",
            "down", "type", "veth", "bridge", "peer", "name", "addr", "address", "route", "via", "default",
            "iptables", "nat", "sysctl", "ping", "a", "r", "l", "MASQUERADE", "DNAT", "POSTROUTING",
            "PREROUTING", "tcp", "udp", "mtu"}


def import_shell(text: str, *, name: str = "imported", apply_fixes_: bool = False) -> ImportResult:
    """The document of a command sequence; with `apply_fixes_`, every offered fix taken."""
    return read_with_fixes(lambda t: _read(t, name), text, apply_fixes_)


def read_shell(text: str, name: str) -> ImportResult:
    """One reading of the text, no fix taken (the clab importer feeds it the commands it implies)."""
    return _read(text, name)


def _read(text: str, name: str) -> ImportResult:
    commands, findings = lex(text)
    replay = Replay()
    for cmd in commands:
        for word in cmd.argv:
            replay.used.setdefault(word, []).append(cmd.line)
    for f in findings:
        if f.fix is not None:
            replay._taint(f.fix.text.split(), f)
    for cmd in commands:
        replay.command(cmd)
    findings += replay.findings
    by_line = {c.line: c for c in commands if c.single}
    document, checks = build(replay.kernel, name, by_line, findings, replay.tainted)
    for finding in findings:
        finding.settle()
    findings.sort(key=lambda f: f.line)
    return ImportResult(document=document, warnings=findings, checks=checks, text=text)


class Replay:
    def __init__(self) -> None:
        self.kernel = Kernel()
        self.findings: list[Finding] = []
        self.tainted: dict[str, Finding] = {}  # a name an earlier left-out line would have made or moved
        self.tainted_nets: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Finding]] = []
        self.used: dict[str, list[int]] = {}  # every word of every command -> lines (for "where used")
        self._line = 0
        self._redirect: str | None = None

    def command(self, cmd: Command) -> None:
        self._line, self._redirect = cmd.line, cmd.redirect
        try:
            self.run(cmd.argv, ROOT)
        except Refused as exc:
            self.refused(cmd, exc)

    def run(self, argv: list[str], ns: str) -> str | None:
        """Replay one argv in namespace `ns` (nested for `ip netns exec NS ...`)."""
        k, line = self.kernel, self._line
        prog = argv[0].rsplit("/", 1)[-1]
        if prog == "ip":
            return ip_command(k, argv, ns, line, self.run)
        if prog in ("iptables", "iptables-legacy", "iptables-nft"):
            return iptables(k, argv, ns, line)
        if prog == "sysctl":
            return sysctl(k, argv, ns, line)
        if prog == "echo":
            return echo(k, argv, self._redirect, ns, line)
        if prog in ("ping", "ping6"):
            return ping(k, argv, ns, line)
        if prog in LOOK_ONLY and not (prog == "route" and any(a in ("add", "del") for a in argv)):
            return LOOK
        if prog in ("bash", "sh", "zsh") and len(argv) == 1:
            return LOOK
        if prog in ("bash", "sh") and len(argv) == 3 and argv[1] == "-c":
            inner, problems = lex(argv[2])
            if problems:
                raise Refused(problems[0].message)
            saved = self._redirect
            try:
                for sub in inner:
                    self._redirect = sub.redirect
                    self.run(sub.argv, ns)
            finally:
                self._redirect = saved
            return None
        raise Refused(f"{prog!r} is not a command this importer replays (ip, iptables, sysctl, ping)")

    def refused(self, cmd: Command, exc: Refused) -> None:
        root = self._cause(exc.names)
        if root is not None:
            root.followers.append(cmd.line)
            self._taint(cmd.argv, root)
            return
        message, fix = exc.message, exc.fix
        if not fix and exc.names and not exc.names[0].startswith("gateway:"):
            message, fix = self._explain_missing(cmd, exc)
        fixed = None
        if fix is not None and cmd.single and not cmd.piped:
            new = fix(list(cmd.argv))
            if new != cmd.argv:
                fixed = Fix(cmd.line, shlex.join(new))
        finding = Finding(cmd.line, message if message.endswith("left out") else message + "; left out", fixed)
        self.findings.append(finding)
        self._taint(cmd.argv, finding)
        if fixed is not None:
            self._taint(shlex.split(fixed.text), finding)

    def _cause(self, names: tuple[str, ...]) -> Finding | None:
        """The earlier left-out line that this failure follows from, if any."""
        for name in names:
            if name in self.tainted:
                return self.tainted[name]
            if name.startswith("gateway:"):
                gw = ipaddress.ip_address(name.split(":", 1)[1])
                for net, finding in self.tainted_nets:
                    if gw in net:
                        return finding
        return None

    def _taint(self, words: list[str], finding: Finding) -> None:
        for word in words:
            if word.startswith("-") or word in KEYWORDS:
                continue
            self.tainted.setdefault(word, finding)
            if "/" in word:
                try:
                    iface = ipaddress.ip_interface(word)
                except ValueError:
                    continue
                self.tainted.setdefault(str(iface.ip), finding)
                self.tainted_nets.append((iface.network, finding))

    def _explain_missing(self, cmd: Command, exc: Refused) -> tuple[str, Any]:
        """A name that does not exist where the line looks: a typo of one that does, or one that lives
        in another namespace."""
        missing = exc.names[0]
        k = self.kernel
        alive_ns = [n for n in k.spaces if n]
        if exc.message.startswith("namespace"):
            pool = alive_ns
        else:
            pool = sorted({i for s in k.spaces.values() for i in s.ifaces})
            homes = [s.name for s in k.spaces.values() if missing in s.ifaces]
            if len(homes) == 1 and cmd.argv[:1] == ["ip"]:
                home = homes[0]
                iface = k.spaces[home].ifaces[missing]
                how = f" (moved there on line {iface.moved})" if iface.moved else f" (made on line {iface.line})"
                msg = f"{exc.message}: {missing!r} is in {where(home)}{how}"
                if home == ROOT:
                    return msg + "; run it in the host (without ip -n)", None
                return msg + f"; run it there with ip -n {home}", _in_ns(home)
        close = close_names(missing, pool)
        made = k.ever.get(missing)
        if made is not None:
            return f"{exc.message} any more (it was made on line {made} and removed since)", None
        if not close:
            return f"{exc.message}: {missing!r} is never made by these commands", None
        best = close[0]
        if len(close) > 1:
            return (f"{exc.message}: {missing!r} is never made; did you mean {best!r} or {close[1]!r}?"), None
        lines = sorted(set(self.used.get(best, [])) - {cmd.line})
        made_at = k.ever.get(best)
        where_used = f"made on line {made_at}" if made_at else "made earlier"
        others = [n for n in lines if n != made_at]
        if others:
            where_used += ", used on line" + ("s " if len(others) > 1 else " ") + ", ".join(map(str, others))
        elsewhere = sorted(set(self.used.get(missing, [])) - {cmd.line})
        also = f"; {missing!r} is also typed on line{'s' if len(elsewhere) > 1 else ''} " \
               f"{', '.join(map(str, elsewhere))}" if elsewhere else ""
        return (f"{exc.message}: {missing!r} is never made; it looks like a typo of {best!r} ({where_used})"
                f"{also}"), (lambda argv: [best if a == missing else a for a in argv])


def _in_ns(ns: str) -> Any:
    def edit(argv: list[str]) -> list[str]:
        if argv[:1] != ["ip"]:
            return argv
        rest = argv[1:]
        if rest[:1] in (["-n"], ["-netns"]):
            rest = rest[2:]
        return ["ip", "-n", ns, *rest]
    return edit



def distance(a: str, b: str) -> int:
    """Edits (insert, delete, change, swap of neighbours) between two names: the typos of typing."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def close_names(name: str, pool: list[str]) -> list[str]:
    """The names one typo away (two for names longer than 4), nearest first; ties all returned."""
    limit = 1 if len(name) <= 4 else 2
    scored = sorted((distance(name, p), p) for p in pool if p != name)
    near = [(d, p) for d, p in scored if d <= limit]
    return [p for d, p in near if d == near[0][0]] if near else []
