#!/usr/bin/env python3
"""Records the kernel's rtnetlink replies that the engine decodes, as pyroute2-style hex dumps, for
tests/engine/test_rtnl_pyroute2.py (which decodes them without root, with our codec and pyroute2's).

Run as root from the project root, to refresh them: .venv/bin/python tests/engine/dumps/record.py
It builds the "mixed" lab of test_kernel_mixed.py under tag `dump01`, pings once so that neighbour
tables have entries, records, and destroys the lab in `finally`.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from pyroute2.common import hexdump  # noqa: E402

from tests.engine.test_kernel_mixed import MIXED  # noqa: E402
from topology.engine import api  # noqa: E402
from topology.engine import rtnl as rt  # noqa: E402

HERE = Path(__file__).resolve().parent
TAG = "dump01"


class Recording:
    """Stands in for the socket of an Rtnl and keeps every buffer the kernel sends."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.got = sock, bytearray()

    def send(self, data: bytes) -> int:
        return self.sock.send(data)

    def recv_into(self, buf: memoryview) -> int:
        n = self.sock.recv_into(buf)
        self.got += buf[:n]
        return n

    def close(self) -> None:
        self.sock.close()


def record(ns: str, what: str, call: Any) -> None:
    r = rt.Rtnl.into(f"nd-{TAG}-{ns}")
    rec = Recording(r.sock)
    r.sock = rec  # type: ignore[assignment]
    try:
        call(r)
    finally:
        r.close()
    text = f"# rtnetlink reply recorded in namespace {ns} of the mixed lab: {what}\n" + \
        "\n".join(hexdump(bytes(rec.got[i:i + 32])) for i in range(0, len(rec.got), 32)) + "\n"
    (HERE / f"{ns}-{what}.dump").write_text(text)


def main() -> None:
    topo = api.parse(MIXED)
    try:
        api.apply(topo, TAG)
        list(api.ping(topo, TAG, "a", "10.1.0.3", count=1))
        for ns in ("host", "a", "b"):
            record(ns, "links", lambda r: r.links())
            record(ns, "addrs", lambda r: r.addrs())
            record(ns, "routes", lambda r: r.routes(0, rt.RT_TABLE_MAIN))
            record(ns, "neigh", lambda r: r.neighbours())
            record(ns, "netconf4", lambda r: r.forwarding(socket.AF_INET))
            record(ns, "netconf6", lambda r: r.forwarding(socket.AF_INET6))
    finally:
        api.destroy(TAG)


if __name__ == "__main__":
    main()
