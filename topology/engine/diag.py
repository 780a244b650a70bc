"""Live diagnostics inside a lab: ping (the real binary, read line by line as replies arrive) and
running a command in a node's namespace. A node's tables are read with pyroute2 in `tables.py`.

The ping binary is run by argv inside the namespace (`ip netns exec`), never through a shell, with a
bounded count and deadline so a lost lab cannot hang a worker.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from typing import Any

from . import fields as _fields
from . import nsutil

REPLY_RE = re.compile(r"icmp_seq=(\d+) ttl=(\d+) time=([\d.]+) ms")
SUMMARY_RE = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
ERROR_RE = re.compile(r"^ping: (?:[^:]+: )?(.+)$")


def parse_line(line: str) -> tuple[str, tuple[Any, ...]] | None:
    """One line of `ping -n` output: ("reply", (seq, ttl, rtt)), ("summary", (sent, received)),
    ("error", (text,)) or None for anything else."""
    line = line.strip()
    if m := REPLY_RE.search(line):
        return "reply", (int(m.group(1)), int(m.group(2)), float(m.group(3)))
    if m := SUMMARY_RE.search(line):
        return "summary", (int(m.group(1)), int(m.group(2)))
    if m := ERROR_RE.match(line):
        text = m.group(1).strip()
        return "error", (text.split(":")[-1].strip() if text.startswith("connect") else text,)
    if "Unreachable" in line or "Prohibited" in line:
        return "error", (line.split(" ", 3)[-1] if line.startswith("From ") else line,)
    return None


def ping_lines(ns: str, target: str, count: int, interval: float, timeout: float
               ) -> Iterator[tuple[str, Any]]:
    """Yields ("reply", (seq, ttl, rtt)) per echo reply, then ("done", (sent, received, error))."""
    argv = ["ip", "netns", "exec", ns, "ping", "-n", "-c", str(count), "-i", str(interval),
            "-W", str(timeout), target]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            bufsize=1)
    sent = received = 0
    error: str | None = None
    assert proc.stdout is not None
    try:
        for raw in proc.stdout:
            parsed = parse_line(raw)
            if parsed is None:
                continue
            kind, data = parsed
            if kind == "reply":
                yield "reply", data
            elif kind == "summary":
                sent, received = data
            elif error is None:
                error = str(data[0])
    finally:  # also when the caller stops listening early: never leave a ping running
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
    yield "done", (sent, received, error)


def resolve_target(addresses: dict[str, list[str]], target: str) -> str:
    """A node name means its first address; anything else must be an IP address."""
    if target in addresses:
        if not addresses[target]:
            raise ValueError(f"node {target!r} has no address")
        return addresses[target][0]
    ip = _fields.parse_ip_text(target)  # strict: `ipaddress` alone keeps a scope id like `::1%$(id)`
    if ip is None:
        raise ValueError(f"{target!r} is neither a node of the lab nor an IP address (no scope id)")
    return str(ip)


def run_in(ns: str, argv: list[str]) -> int:
    if not nsutil.exists(ns):
        raise FileNotFoundError(f"namespace {ns} does not exist")
    return subprocess.run(["ip", "netns", "exec", ns, *argv], check=False).returncode
