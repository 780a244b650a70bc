"""The kernel side of the engine as one small protocol, passed in to whoever runs jobs.

Runners (topology/jobs/) take a `Kernel` and never import the kernel modules themselves, so their
unit tests use a fake that implements this same protocol (tests/fakes.py) instead of monkeypatching.
`LabKernel` is the real one: it carries this install's id, which marks every namespace it creates,
so that it only ever touches namespaces that carry that mark.

Features add methods here (explain's measurements, capture, terminal); add, never rename.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from . import api, terminal
from . import capture as _capture
from .model import IMPLICIT_HOST, Topology
from .state import DEFAULT_INSTALL
from .userns import DEFAULT_SANDBOX_UID

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

    def owned(self) -> dict[str, list[str]]: ...

    def strangers(self, tag: str) -> list[str]: ...

    def userns_of(self, topology: Topology, tag: str, node: str) -> int: ...

    def explain(self, topology: Topology, tag: str | None, source: str, target: str, protocol: str = "icmp",
                port: int | None = None) -> dict[str, Any]: ...

    def terminal(self, topology: Topology, tag: str, node: str, *, cols: int = 80,
                 rows: int = 24) -> terminal.Terminal: ...

    def capture(self, topology: Topology, tag: str, points: Sequence[_capture.Point], *, seconds: float = 10.0,
                max_packets: int = 1000, max_bytes: int = _capture.MAX_BYTES,
                stop: Callable[[], bool] | None = None, on_ready: Callable[[], None] | None = None,
                ) -> Iterator[_capture.Packet | _capture.CaptureResult]: ...


class LabKernel:
    """The real kernel, through `topology.engine.api`."""

    def __init__(self, install: str = "", sandbox_uid: int = DEFAULT_SANDBOX_UID) -> None:
        self.install = install or DEFAULT_INSTALL
        self.sandbox_uid = sandbox_uid

    def plan(self, topology: Topology, tag: str, previous: Topology | None = None) -> list[Any]:
        """The operations as JSON-able dicts (`Operation.to_dict()`), what jobs store and show."""
        return [op.to_dict() for op in api.plan(topology, tag, previous, install=self.install)]

    def apply(self, topology: Topology, tag: str, *, progress: Progress | None = None,
              previous: Topology | None = None) -> list[Any]:
        """The operations carried out, as JSON-able dicts (`Operation.to_dict()`)."""
        return [op.to_dict() for op in api.apply(topology, tag, progress=progress, previous=previous,
                                                 install=self.install, sandbox_uid=self.sandbox_uid)]

    def destroy(self, tag: str, *, progress: Progress | None = None, host: str = IMPLICIT_HOST) -> int:
        return api.destroy(tag, progress=progress, host=host, install=self.install)

    def drift(self, topology: Topology, tag: str) -> list[dict[str, Any]]:
        return api.drift(topology, tag, install=self.install)

    def ping(self, topology: Topology, tag: str, source: str, target: str, *, count: int = 3,
             interval: float = 0.2, timeout: float = 1.0) -> Iterator[api.PingReply | api.PingResult]:
        return api.ping(topology, tag, source, target, count=count, interval=interval, timeout=timeout)

    def tables(self, topology: Topology, tag: str, node: str) -> dict[str, Any]:
        return api.tables(topology, tag, node)

    def deployed_tags(self) -> set[str]:
        """Tags of the namespaces on this machine that carry this install's mark."""
        return api.deployed_tags(self.install)

    def owned(self) -> dict[str, list[str]]:
        """{tag: [namespace, ...]} of every namespace on this machine that this install made."""
        return api.owned(self.install)

    def strangers(self, tag: str) -> list[str]:
        """Namespaces under the lab's prefix that this install did not make (reported, never touched)."""
        return api.strangers(tag, self.install)

    def userns_of(self, topology: Topology, tag: str, node: str) -> int:
        """An fd of the lab's user namespace (the owner of the node's namespace); the caller closes it."""
        return api.userns_of(tag, node, topology=topology)

    def explain(self, topology: Topology, tag: str | None, source: str, target: str, protocol: str = "icmp",
                port: int | None = None) -> dict[str, Any]:
        """Predicted path, and with a tag the kernel's measurement of it (topology.engine.explain)."""
        from .explain import explain

        return explain(topology, tag, source, target, protocol, port)

    def terminal(self, topology: Topology, tag: str, node: str, *, cols: int = 80,
                 rows: int = 24) -> terminal.Terminal:
        """A sandboxed shell on a pty in the node's namespace (engine/sandbox.py); TerminalRefused
        when the node has none that can be sandboxed."""
        if not topology.has_node(node):
            raise terminal.TerminalRefused(f"{node}: no such node in the applied version")
        return terminal.spawn(api.netns_name(tag, node, topology=topology), node, cols=cols, rows=rows,
                              uid=self.sandbox_uid)

    def capture(self, topology: Topology, tag: str, points: Sequence[_capture.Point], *, seconds: float = 10.0,
                max_packets: int = 1000, max_bytes: int = _capture.MAX_BYTES,
                stop: Callable[[], bool] | None = None, on_ready: Callable[[], None] | None = None,
                ) -> Iterator[_capture.Packet | _capture.CaptureResult]:
        """Packets on (node, interface) pairs as they arrive, then how it ended (topology.engine.capture)."""
        return _capture.capture(topology, tag, points, seconds=seconds, max_packets=max_packets,
                                max_bytes=max_bytes, stop=stop, on_ready=on_ready)
