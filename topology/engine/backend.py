"""The kernel side of the engine as one small protocol, passed in to whoever runs jobs.

Runners (topology/jobs/) take a `Kernel` and never import the kernel modules themselves, so their
unit tests use a fake that implements this same protocol (tests/fakes.py) instead of monkeypatching.
`LabKernel` is the real one: it carries this install's id, which marks every namespace it creates,
so that it only ever touches namespaces that carry that mark.

Features add methods here (explain's measurements, capture, terminal); add, never rename.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from . import api, terminal
from .model import IMPLICIT_HOST, Topology
from .sandbox import SANDBOX_UID

Progress = api.Progress


class Kernel(Protocol):
    """What a job may ask of the machine's kernel. Every method needs root in the real one."""

    def plan(self, topology: Topology, tag: str, previous: Topology | None = None) -> list[Any]: ...

    def apply(self, topology: Topology, tag: str, *, progress: Progress | None = None,
              previous: Topology | None = None) -> list[Any]: ...

    def destroy(self, tag: str, *, progress: Progress | None = None, host: str = IMPLICIT_HOST) -> int: ...

    def drift(self, topology: Topology, tag: str) -> list[dict[str, Any]]: ...

    def ping(self, topology: Topology, tag: str, source: str, target: str, *, count: int = 3,
             interval: float = 0.2, timeout: float = 1.0) -> Iterator[api.PingReply | api.PingResult]: ...

    def tables(self, topology: Topology, tag: str, node: str) -> dict[str, Any]: ...

    def deployed_tags(self) -> set[str]: ...

    def terminal(self, topology: Topology, tag: str, node: str, *, cols: int = 80,
                 rows: int = 24) -> terminal.Terminal: ...


class LabKernel:
    """The real kernel, through `topology.engine.api`."""

    def __init__(self, install: str = "") -> None:
        self.install = install

    def plan(self, topology: Topology, tag: str, previous: Topology | None = None) -> list[Any]:
        return api.plan(topology, tag, previous)

    def apply(self, topology: Topology, tag: str, *, progress: Progress | None = None,
              previous: Topology | None = None) -> list[Any]:
        return api.apply(topology, tag, progress=progress, previous=previous)

    def destroy(self, tag: str, *, progress: Progress | None = None, host: str = IMPLICIT_HOST) -> int:
        return api.destroy(tag, progress=progress, host=host)

    def drift(self, topology: Topology, tag: str) -> list[dict[str, Any]]:
        return api.drift(topology, tag)

    def ping(self, topology: Topology, tag: str, source: str, target: str, *, count: int = 3,
             interval: float = 0.2, timeout: float = 1.0) -> Iterator[api.PingReply | api.PingResult]:
        return api.ping(topology, tag, source, target, count=count, interval=interval, timeout=timeout)

    def tables(self, topology: Topology, tag: str, node: str) -> dict[str, Any]:
        return api.tables(topology, tag, node)

    def deployed_tags(self) -> set[str]:
        return api.deployed_tags()

    def terminal(self, topology: Topology, tag: str, node: str, *, cols: int = 80,
                 rows: int = 24) -> terminal.Terminal:
        """A sandboxed shell on a pty in the node's namespace (engine/sandbox.py); TerminalRefused
        when the node has none that can be sandboxed."""
        if not topology.has_node(node):
            raise terminal.TerminalRefused(f"{node}: no such node in the applied version")
        # The lab's user namespaces map their root to the kernel's sandbox uid (h/engine adds the attribute)
        uid: int = getattr(self, "sandbox_uid", SANDBOX_UID)
        return terminal.spawn(api.netns_name(tag, node, topology=topology), node, cols=cols, rows=rows, uid=uid)
