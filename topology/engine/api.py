"""The facade the web app, the worker and the `lab` command call. Signatures here are the contract.

Everything takes the already-parsed `Topology` (see `validate.parse`) and the deployment `tag`
(namespaces are `nd-<tag>-<node>`). Functions that touch the kernel need root.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import fields as _fields
from . import validate as _validate
from .model import BRIDGE, IMPLICIT_HOST

# Progress callback: (done, total, step_text). Called after each operation; must be cheap.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ValidationFailed(Exception):
    """A document broke the spec; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class EngineError(Exception):
    """An operation failed in the kernel; the message names the operation and the reason."""


@dataclass(frozen=True)
class PingReply:
    seq: int
    ttl: int
    rtt_ms: float


@dataclass
class PingResult:
    sent: int = 0
    received: int = 0
    replies: list[PingReply] = field(default_factory=list)
    error: str | None = None


def parse(document: Mapping[str, Any], *, max_nodes: int = 2000, max_links: int = 2000) -> Any:
    """Validate a netdesigner/v1 document and return the frozen `Topology`; raise ValidationFailed."""
    topo, problems = _validate.read(document, max_nodes=max_nodes, max_links=max_links)
    if topo is None:
        raise ValidationFailed([Problem(p, m) for p, m in problems])
    return topo


def validate(document: Mapping[str, Any], *, max_nodes: int = 2000, max_links: int = 2000) -> list[Problem]:
    """Every problem of a document (empty when valid)."""
    _topo, problems = _validate.read(document, max_nodes=max_nodes, max_links=max_links)
    return [Problem(p, m) for p, m in problems]


def plan(topology: Any, tag: str, previous: Any | None = None) -> list[dict[str, Any]]:
    """Observe the kernel and plan. `previous` is the Topology last applied (None: unknown); when given,
    only nodes whose design changed (plus anything missing) need observing, so a one-link change on a
    large lab stays cheap. Operations as JSON-able dicts, each with at least
    {"op": str, "node": str|None, "command": "the ip/iptables/sysctl command a person would type"}."""
    raise NotImplementedError


def apply(topology: Any, tag: str, progress: Progress | None = None,
          previous: Any | None = None) -> list[dict[str, Any]]:
    """Make the kernel match; returns the operations carried out. Raises EngineError."""
    raise NotImplementedError


def destroy(tag: str, progress: Progress | None = None) -> int:
    """Remove every namespace (and so every link and rule) of the deployment; idempotent. Returns count removed."""
    raise NotImplementedError


def drift(topology: Any, tag: str) -> list[dict[str, Any]]:
    """Differences between design and kernel, [] when in sync: [{"node", "kind", "what", "expected", "actual"}]."""
    raise NotImplementedError


def ping(topology: Any, tag: str, source: str, target: str, count: int = 3, interval: float = 0.2,
         timeout: float = 1.0) -> Iterator[PingReply | PingResult]:
    """Ping from node `source` to an address or node name; yields each PingReply as it arrives and a
    final PingResult (error like "Network is unreachable" when there is one)."""
    raise NotImplementedError


def tables(topology: Any, tag: str, node: str) -> dict[str, Any]:
    """{"interfaces": [{"name","mac","state","addresses"}], "arp": [{"ip","mac","interface","state"}],
    "routes": [{"to","via","dev","proto","scope"}]} read live from the node's namespace."""
    raise NotImplementedError


def run_in(tag: str, node: str, argv: list[str]) -> int:
    """Run argv inside the node's namespace (no shell), inheriting stdio; return its exit code."""
    raise NotImplementedError


def export_shell(topology: Any, tag: str) -> str:
    """A bash script of ip/iptables/sysctl commands that builds the same lab by hand."""
    raise NotImplementedError


def netns_name(tag: str, node: str, topology: Any | None = None) -> str:
    """The namespace a node lives in: nd-<tag>-<node> (bridges live in the lab's host: nd-<tag>-host).
    Without `topology` a bridge cannot be told apart, so pass it for bridge nodes."""
    if msg := _fields.check_tag(tag):
        raise ValueError(msg)
    if topology is not None and topology.has_node(node):
        n = topology.node(node)
        if n.kind == BRIDGE:
            node = topology.host_name or IMPLICIT_HOST
    elif msg := _fields.check_node_name(node):
        raise ValueError(msg)
    return f"nd-{tag}-{node}"


def deployed_tags() -> set[str]:
    """Tags of every deployment with at least one `nd-<tag>-*` namespace on this machine (for orphans)."""
    raise NotImplementedError
