"""`explain`: the predicted path of SOURCE -> TARGET, and (when the lab is deployed) what the kernel does,
as the one JSON object of shared/spec/interfaces.md "Reachability: explain"."""

from __future__ import annotations

from typing import Any

from . import api, nsutil
from .measure import DEADLINE, measure, ns_of, rp_filter_mode
from .model import Topology
from .predict import predict


def explain(topology: Topology, tag: str | None, source: str, target: str, protocol: str = "icmp",
            port: int | None = None, *, deadline: float = DEADLINE) -> dict[str, Any]:
    """`tag` None: not deployed, so `measured` and `agree` are null. ValueError for a bad request,
    EngineError when a deployed lab's namespace is missing."""
    rp_filter = 0
    if tag is not None:  # predict with the reverse path filter this machine gives the lab's namespaces
        ns = ns_of(topology, tag, source) if topology.has_node(source) else ""
        if ns and nsutil.exists(ns):
            rp_filter = rp_filter_mode(ns)
    prediction = predict(topology, source, target, protocol, port, rp_filter=rp_filter)
    measured: dict[str, Any] | None = None
    if tag is not None:
        try:
            m = measure(topology, tag, source, prediction, protocol, port, deadline=deadline)
        except FileNotFoundError as exc:
            raise api.EngineError(str(exc)) from exc
        m.rp_filter = rp_filter
        measured = m.to_dict()
    return {"source": source, "target": target, "protocol": protocol, "port": port,
            "predicted": prediction.to_dict(), "measured": measured,
            "agree": None if measured is None else measured["verdict"] == prediction.verdict}
