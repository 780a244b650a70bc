"""The tutorial regenerated from the drawing: a bash script of ip/iptables/sysctl commands.

Built from the same plan a first apply would run (plan against an empty kernel), so the script and
the engine can never disagree about what a lab is.
"""

from __future__ import annotations

import shlex

from .model import Topology
from .ops import Iptables, Operation
from .plan import plan
from .state import desired_state
from .textguard import check_iptables_text, heredoc

HEADINGS = {
    "netns_add": "Network namespaces (one per node; bridges live in the host)",
    "lo_up": "Loopback up in every namespace",
    "bridge_add": "Bridges (virtual switches) in the host",
    "veth_add": "Cables: veth pairs, each end created straight in its namespace",
    "link_master": "Plug bridge ports into their bridge",
    "link_up": "Bring the interfaces up",
    "addr_add": "Addresses",
    "route_add": "Routes",
    "sysctl": "IP forwarding",
    "iptables": "NAT rules (own chains ND-..., jumped to from the built-in chains)",
    "link_set": "MTU and MAC addresses",
}


def export_shell(topology: Topology, tag: str) -> str:
    lines = [
        "#!/usr/bin/env bash",
        f"# Builds the lab {topology.name!r} by hand, as NetDesigner would (deployment tag {tag}).",
        "# Run as root. Tear down with: for n in $(ip netns list | awk '{print $1}' | grep '^nd-"
        + tag + "-'); do ip netns del \"$n\"; done",
        "set -euo pipefail",
    ]
    if topology.description:
        lines.append("# " + "".join(c if c.isprintable() else " " for c in topology.description))
    last = ""
    for op in plan(desired_state(topology, tag), {}, tag):
        if op.op != last:
            lines += ["", f"# {HEADINGS.get(op.op, op.op)}"]
            last = op.op
        lines.append(_command(op))
    return "\n".join(lines) + "\n"


def _command(op: Operation) -> str:
    """The op's command; iptables input as a quoted here-document whose terminator no line of the
    input can be, after the same vocabulary check the executor makes (every other command is built
    of shlex-quoted words by plan.render)."""
    if isinstance(op, Iptables):
        text = check_iptables_text(op.text)
        return heredoc(f"ip netns exec {shlex.quote(op.ns)} iptables-restore --noflush", text)
    return op.command
