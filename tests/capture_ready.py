"""Waiting until a freshly applied lab carries traffic, for capture tests that must see its first packets.

Why: after `ip link set up` the kernel activates a veth's queue only when its link-watch work runs, and
that work is rate-limited to once a second machine-wide; while other labs are being built on the machine
the first packets of a new lab can be dropped for up to a second. Capture tests need the very first ARP
request, so they cannot warm the lab up with a ping: they wait for every link to be operationally UP with
a real queue instead."""

from __future__ import annotations

import subprocess
import time
from typing import Any


def wait_links_up(tag: str, document: dict[str, Any], timeout: float = 15.0) -> None:
    namespaces = [f"nd-{tag}-{n['name']}" for n in document["nodes"] if n["kind"] != "bridge"]
    if any(n["kind"] == "bridge" for n in document["nodes"]) and not any(n["kind"] == "host" for n in document["nodes"]):
        namespaces.append(f"nd-{tag}-host")
    deadline = time.monotonic() + timeout
    for ns in namespaces:
        while True:
            out = subprocess.run(["ip", "-n", ns, "-o", "link", "show"], capture_output=True, text=True,
                                 check=True).stdout
            links = [line for line in out.splitlines() if ": lo:" not in line]
            if all("state UP" in line and "qdisc noop" not in line for line in links):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the links of {ns} are not up after {timeout:g} s:\n{out}")
            time.sleep(0.05)
