"""The NAT read-back that the drift job adds (with tables) for the admin's kernel view: each node's
MASQUERADE and DNAT rules as the kernel holds them (engine/natread.py)."""

from __future__ import annotations

from typing import Any

NAT_READ_ALL = 50  # labs up to this many nodes have every namespace's nat table read, bigger ones only NAT nodes


def nat_read_back(topology: Any, tag: str) -> dict[str, Any]:
    """Per node that has (or, on a small lab, may have) rules: {"rules", "jumps", "other"} read back."""
    from .engine import api as engine
    from .engine import natread

    nodes = [n for n in topology.nodes if n.kind != "bridge" and not n.implicit]
    if len(nodes) > NAT_READ_ALL:
        nodes = [n for n in nodes if n.nat or n.port_forwards]
    return {n.name: natread.read(engine.netns_name(tag, n.name, topology=topology)) for n in nodes}
