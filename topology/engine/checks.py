"""The document's `checks` (topology-v1.md): what the applied lab must show, run by `lab test`.

Read here, apart from reader.py/validate.py, so the rest of the structural pass stays untouched; the
same Reader collects the problems, with their paths (`checks[1].from: 'x' is not a node ...`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from .model import BRIDGE, HOST, IMPLICIT_HOST, Check, Node
from .reader import Reader

EXPECTS = ("reachable", "unreachable", "no-reply")
PROTOCOLS = ("icmp", "tcp", "udp")
FIELDS = ("from", "to", "protocol", "port", "expect", "name")


def read_checks(r: Reader, document: Mapping[str, Any], nodes: list[Node | None]) -> tuple[Check, ...]:
    """A node as `to` means its first address; one without any fails when the check runs, with why."""
    known: dict[str, Node] = {n.name: n for n in nodes if n is not None}
    bridges = [n for n in known.values() if n.kind == BRIDGE]
    if bridges:
        host = next((n.name for n in known.values() if n.kind == HOST), IMPLICIT_HOST)
        known.setdefault(host, Node(name=host, kind=HOST, implicit=True))
    out: list[Check] = []
    for i, obj in enumerate(r.array(document, "checks", "checks")):
        p = f"checks[{i}]"
        if not r._fields(obj, p, FIELDS, ("from", "to", "expect")):
            continue
        ok = True
        source = r.string(obj, "from", f"{p}.from")
        if source is not None and source not in known:
            r.err(f"{p}.from", f"{source!r} is not a node of this document")
            ok = False
        to = r.string(obj, "to", f"{p}.to")
        if to is not None:
            if to not in known:
                try:
                    ipaddress.ip_address(to)
                except ValueError:
                    r.err(f"{p}.to", f"{to!r} is neither a node of this document nor an IP address")
                    ok = False
        protocol = r.string(obj, "protocol", f"{p}.protocol", "icmp")
        if protocol is not None and protocol not in PROTOCOLS:
            r.err(f"{p}.protocol", f"{protocol!r} is not one of {', '.join(PROTOCOLS)}")
            ok = False
        port = r.integer(obj, "port", f"{p}.port", 1, 65535)
        if "port" in obj and obj["port"] is not None and port is None:
            ok = False
        elif protocol in ("tcp", "udp") and port is None:
            r.err(f"{p}.port", f"required for {protocol}")
            ok = False
        elif protocol == "icmp" and port is not None:
            r.err(f"{p}.port", "only for tcp and udp")
            ok = False
        expect = r.string(obj, "expect", f"{p}.expect")
        if expect is not None and expect not in EXPECTS:
            r.err(f"{p}.expect", f"{expect!r} is not one of {', '.join(EXPECTS)}")
            ok = False
        name = r.string(obj, "name", f"{p}.name")
        if name is not None and not (1 <= len(name) <= 100 and name.isprintable()):
            r.err(f"{p}.name", "must be 1-100 printable characters")
            ok = False
        if ok and source is not None and to is not None and expect is not None and protocol is not None:
            out.append(Check(source=source, to=to, expect=expect, protocol=protocol, port=port, name=name))
    return tuple(out)
