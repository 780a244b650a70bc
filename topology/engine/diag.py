"""Live diagnostics inside a lab: ping (the real binary, read line by line as replies arrive),
the tables of a node read by netlink, and running a command in a node's namespace.

The ping binary is run by argv inside the namespace (`ip netns exec`), never through a shell, with a
bounded count and deadline so a lost lab cannot hang a worker.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

from . import nsutil
from . import rtnl as rt
from .observer import read_links
from .rtnl import Rtnl, s_ip, s_mac, s_u32

REPLY_RE = re.compile(r"icmp_seq=(\d+) ttl=(\d+) time=([\d.]+) ms")
SUMMARY_RE = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
ERROR_RE = re.compile(r"^ping: (?:[^:]+: )?(.+)$")
NUD = {0x01: "INCOMPLETE", 0x02: "REACHABLE", 0x04: "STALE", 0x08: "DELAY", 0x10: "PROBE",
       0x20: "FAILED", 0x40: "NOARP", 0x80: "PERMANENT"}
PROTOS = {2: "kernel", 3: "boot", 4: "static", 16: "dhcp", 77: "netdesigner"}
SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}


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
    return str(ipaddress.ip_address(target))


def tables(ns: str) -> dict[str, Any]:
    r = Rtnl.into(ns)
    try:
        names, links = read_links(r)
        addrs: dict[int, list[str]] = {}
        for m in r.addrs():
            family, plen, _flags, _scope, index = m.fields
            ip = s_ip(m.attrs.get(rt.IFA_LOCAL if family == socket.AF_INET else rt.IFA_ADDRESS))
            if ip is not None:
                addrs.setdefault(index, []).append(f"{ip}/{plen}")
        interfaces = []
        for m in links:
            master = s_u32(m.attrs.get(rt.IFLA_MASTER))
            interfaces.append({
                "name": names[m.fields[2]], "mac": s_mac(m.attrs.get(rt.IFLA_ADDRESS)),
                "state": "up" if m.fields[3] & rt.IFF_UP else "down",
                "addresses": addrs.get(m.fields[2], []),
                "master": names.get(master) if master else None})
        arp = []
        for m in r.neighbours():
            family, ifindex, state, _flags, _type = m.fields
            ip = s_ip(m.attrs.get(rt.NDA_DST))
            if ip is None or family != socket.AF_INET:
                continue
            arp.append({"ip": ip, "mac": s_mac(m.attrs.get(rt.NDA_LLADDR)),
                        "interface": names.get(ifindex, "?"), "state": NUD.get(state, str(state))})
        routes = []
        for m in r.routes(0, rt.RT_TABLE_MAIN):
            _fam, dst_len, _s, _t, table, proto, scope, rtype, _f = m.fields
            if (s_u32(m.attrs.get(rt.RTA_TABLE)) or table) != rt.RT_TABLE_MAIN or rtype != 1:
                continue
            dst = s_ip(m.attrs.get(rt.RTA_DST))
            if dst is not None and dst.startswith("fe80:"):
                continue  # the kernel's own link-local route on every IPv6 interface
            oif = s_u32(m.attrs.get(rt.RTA_OIF))
            routes.append({"to": f"{dst}/{dst_len}" if dst is not None else "default",
                           "via": s_ip(m.attrs.get(rt.RTA_GATEWAY)),
                           "dev": names.get(oif) if oif is not None else None,
                           "proto": PROTOS.get(proto, str(proto)), "scope": SCOPES.get(scope, str(scope))})
        return {"interfaces": interfaces, "arp": arp, "routes": routes}
    finally:
        r.close()


def run_in(ns: str, argv: list[str]) -> int:
    if not nsutil.exists(ns):
        raise FileNotFoundError(f"namespace {ns} does not exist")
    return subprocess.run(["ip", "netns", "exec", ns, *argv], check=False).returncode
