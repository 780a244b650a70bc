"""Fakes for unit tests of the layers above the kernel: they implement the same protocols as the real
parts (topology.engine.backend.Kernel, topology.jobs.context.EventSink), so they cannot drift from them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from topology.engine import api as engine
from topology.engine.backend import Kernel, Progress
from topology.engine.model import IMPLICIT_HOST, Topology


class FakeKernel:
    """Records every call; apply "creates" one namespace per node and reports progress per operation."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.tags: set[str] = set()
        self.fail_apply: Exception | None = None

    def named(self, name: str) -> list[dict[str, Any]]:
        return [args for call, args in self.calls if call == name]

    def plan(self, topology: Topology, tag: str, previous: Topology | None = None) -> list[Any]:
        self.calls.append(("plan", {"tag": tag, "previous": previous}))
        return [] if tag in self.tags else self._ops(topology, tag)

    def apply(self, topology: Topology, tag: str, *, progress: Progress | None = None,
              previous: Topology | None = None) -> list[Any]:
        self.calls.append(("apply", {"tag": tag, "previous": previous}))
        if self.fail_apply is not None:
            raise self.fail_apply
        ops = self._ops(topology, tag)
        for i, op in enumerate(ops, 1):
            if progress is not None:
                progress(i, len(ops), op["command"])
        self.tags.add(tag)
        return ops

    def destroy(self, tag: str, *, progress: Progress | None = None, host: str = IMPLICIT_HOST) -> int:
        self.calls.append(("destroy", {"tag": tag}))
        self.tags.discard(tag)
        return 3

    def drift(self, topology: Topology, tag: str) -> list[dict[str, Any]]:
        self.calls.append(("drift", {"tag": tag}))
        return []

    def ping(self, topology: Topology, tag: str, source: str, target: str, *, count: int = 3,
             interval: float = 0.2, timeout: float = 1.0) -> Iterator[engine.PingReply | engine.PingResult]:
        self.calls.append(("ping", {"tag": tag, "source": source, "target": target}))
        replies = [engine.PingReply(seq=s, ttl=64, rtt_ms=0.05) for s in range(1, count + 1)]
        yield from replies
        yield engine.PingResult(sent=count, received=count, replies=replies)

    def tables(self, topology: Topology, tag: str, node: str) -> dict[str, Any]:
        self.calls.append(("tables", {"tag": tag, "node": node}))
        return {"interfaces": [], "arp": [], "routes": [{"to": node}]}

    def deployed_tags(self) -> set[str]:
        return set(self.tags)

    def owned(self) -> dict[str, list[str]]:
        return {tag: [f"nd-{tag}-host"] for tag in sorted(self.tags)}

    def strangers(self, tag: str) -> list[str]:
        return []

    def userns_of(self, topology: Topology, tag: str, node: str) -> int:
        raise OSError("the fake kernel has no namespaces")

    def capture(self, topology: Topology, tag: str, points: Any, *, seconds: float = 10.0, max_packets: int = 1000,
                max_bytes: int = 0, stop: Any = None, on_ready: Any = None) -> Any:
        raise OSError("the fake kernel has no interfaces to capture on")

    def terminal(self, topology: Topology, tag: str, node: str, *, cols: int = 80, rows: int = 24) -> Any:
        raise OSError("the fake kernel has no namespaces to open a shell in")

    def explain(self, topology: Topology, tag: str | None, source: str, target: str, protocol: str = "icmp",
                port: int | None = None) -> dict[str, Any]:
        from topology.engine.predict import predict

        self.calls.append(("explain", {"tag": tag, "source": source, "target": target}))
        predicted = predict(topology, source, target, protocol, port).to_dict()
        return {"source": source, "target": target, "protocol": protocol, "port": port,
                "predicted": predicted, "measured": None, "agree": None}

    @staticmethod
    def _ops(topology: Topology, tag: str) -> list[dict[str, Any]]:
        return [{"op": "netns.add", "node": n.name, "command": f"ip netns add nd-{tag}-{n.name}"}
                for n in topology.nodes]


class FakeEvents:
    """An EventSink that keeps (lab, event) pairs in order; `broken` makes every put raise."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, dict[str, Any]]] = []
        self.flushes = 0

    def put(self, lab_id: int, event: dict[str, Any]) -> None:
        self.sent.append((lab_id, event))

    def flush(self, timeout: float = 2.0) -> bool:
        self.flushes += 1
        return True

    def types(self) -> list[str]:
        return [str(e["type"]) for _, e in self.sent]


_check: type[Kernel] = FakeKernel  # mypy: FakeKernel implements the Kernel protocol
