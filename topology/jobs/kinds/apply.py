"""apply: make the kernel match a version of the lab. params {"version": n}; result {"operations": [...]}."""

from __future__ import annotations

from typing import Any

from ... import watch
from ...choices import DeploymentState, JobKind
from ...engine.model import Topology
from ..base import JobRunner
from ..context import Context
from ..deployments import applied_topology, deployment_transition, parse_version
from .common import deployment_here, requested_version

# Nodes whose tables are sent to watchers right after an apply (those the apply changed, at most this
# many); the watcher brings the rest, a slice per sweep. Nobody watching: none at all.
SNAPSHOT_AFTER_APPLY = 50


def changed_nodes(topology: Topology, operations: list[dict[str, Any]]) -> list[str]:
    """Nodes with tables that an operation touched, in the design's order."""
    touched = {op.get("node") for op in operations}
    return [name for name in watch.table_nodes(topology) if name in touched]


class ApplyJob(JobRunner):
    kind = JobKind.APPLY
    writes = True

    def __init__(self) -> None:
        self.applied: tuple[Topology, str] | None = None

    def run(self, ctx: Context) -> dict[str, Any]:
        version = requested_version(ctx)
        topology = parse_version(version)
        deployment = deployment_here(ctx)
        previous = applied_topology(deployment)
        deployment_transition(lab_id=ctx.lab, to=DeploymentState.APPLYING)
        ctx.say(f"applying version {version.number} as nd-{deployment.tag}-*")
        operations = ctx.kernel.apply(topology, deployment.tag, progress=ctx.progress, previous=previous)
        deployment_transition(lab_id=ctx.lab, to=DeploymentState.DEPLOYED, version=version)
        ctx.update(done=len(operations), total=len(operations))
        self.applied = (topology, deployment.tag)
        return {"operations": operations}

    def after(self, ctx: Context, result: Any) -> None:
        if self.applied is None or ctx.lab not in watch.watched_labs():
            return
        topology, tag = self.applied
        nodes = changed_nodes(topology, result.get("operations", []))[:SNAPSHOT_AFTER_APPLY]
        if nodes:
            watch.publish_tables(ctx.lab, topology, tag, force=True, nodes=nodes, read=ctx.kernel.tables)
