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

from . import api
from . import capture as _capture
from .model import IMPLICIT_HOST, Topology

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

    def capture(self, topology: Topology, tag: str, points: Sequence[_capture.Point], *, seconds: float = 10.0,
                max_packets: int = 1000, max_bytes: int = _capture.MAX_BYTES,
                stop: Callable[[], bool] | None = None, on_ready: Callable[[], None] | None = None,
                ) -> Iterator[_capture.Packet | _capture.CaptureResult]: ...


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

    def capture(self, topology: Topology, tag: str, points: Sequence[_capture.Point], *, seconds: float = 10.0,
                max_packets: int = 1000, max_bytes: int = _capture.MAX_BYTES,
                stop: Callable[[], bool] | None = None, on_ready: Callable[[], None] | None = None,
                ) -> Iterator[_capture.Packet | _capture.CaptureResult]:
        """Packets on (node, interface) pairs as they arrive, then how it ended (topology.engine.capture)."""
        return _capture.capture(topology, tag, points, seconds=seconds, max_packets=max_packets,
                                max_bytes=max_bytes, stop=stop, on_ready=on_ready)
