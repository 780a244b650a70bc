"""`explain`: the predicted path of SOURCE -> TARGET, and (when the lab is deployed) what the kernel does,
as the one JSON object of shared/spec/interfaces.md "Reachability: explain"."""

from __future__ import annotations

from typing import Any

from . import api
from .measure import DEADLINE, measure
from .model import Topology
from .predict import predict


def explain(topology: Topology, tag: str | None, source: str, target: str, protocol: str = "icmp",
            port: int | None = None, *, deadline: float = DEADLINE) -> dict[str, Any]:
    """`tag` None: not deployed, so `measured` and `agree` are null. ValueError for a bad request,
    EngineError when a deployed lab's namespace is missing."""
    prediction = predict(topology, source, target, protocol, port)
    measured: dict[str, Any] | None = None
    if tag is not None:
        try:
            measured = measure(topology, tag, source, prediction, protocol, port, deadline=deadline).to_dict()
        except FileNotFoundError as exc:
            raise api.EngineError(str(exc)) from exc
    return {"source": source, "target": target, "protocol": protocol, "port": port,
            "predicted": prediction.to_dict(), "measured": measured,
            "agree": None if measured is None else measured["verdict"] == prediction.verdict}
