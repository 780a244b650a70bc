"""Jobs that read the kernel and change nothing: ping, tables, drift, plan. They take no lock: a ping
during a long apply shows the half-built lab, which is what its watchers are looking at.

  ping    params {"source","target","count"}  result {"sent","received","replies":[{"seq","ttl","rtt_ms"}],"error"}
  tables  params {"node"}                     result as `lab tables`
  drift   params {"tables": bool}             result {"drift": [...], "nodes": {node: tables} (when tables)}
  plan    params {"version": n}               result {"operations": [...]}: a dry run that writes no rows
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ... import watch
from ...choices import JobKind
from ...engine import api as engine
from ...models import Deployment
from ...natview import nat_read_back
from ..base import JobRunner
from ..context import Context, JobFailed
from ..deployments import applied_topology, parse_version
from .common import check_host, deployed, deployed_topology, requested_version

log = logging.getLogger(__name__)

MAX_PING_COUNT = 100
PING_SNAPSHOT_ALL = 50  # labs with up to this many nodes get every node's tables after a ping
NOT_DEPLOYED_TAG = "unapplied"  # plans of a lab with no deployment: no namespace is named so


class PingJob(JobRunner):
    kind = JobKind.PING

    def run(self, ctx: Context) -> dict[str, Any]:
        params = ctx.job.params
        source, target = str(params.get("source", "")), str(params.get("target", ""))
        count = max(1, min(int(params.get("count") or 3), MAX_PING_COUNT))
        interval = max(0.2, float(params.get("interval") or 0.2))
        deployment, topology = deployed_topology(ctx)
        replies: list[dict[str, Any]] = []
        outcome = engine.PingResult()
        ctx.update(total=count)
        for item in ctx.kernel.ping(topology, deployment.tag, source, target, count=count, interval=interval):
            if isinstance(item, engine.PingReply):
                reply = {"seq": item.seq, "ttl": item.ttl, "rtt_ms": item.rtt_ms}
                replies.append(reply)
                ctx.publish({"type": "ping.reply", "job": ctx.job.pk, "source": source, "target": target,
                             **reply, "ts": time.time()})
                ctx.say(f"reply from {target}: seq={item.seq} ttl={item.ttl} time={item.rtt_ms:.3f} ms")
                ctx.update(done=len(replies))
            else:
                outcome = item
        # Every node's tables after a ping (ARP learnt along the path); on a big lab only the two ends.
        nodes = watch.table_nodes(topology)
        if len(nodes) > PING_SNAPSHOT_ALL:
            nodes = [n for n in (source, target) if n in nodes]
        # Before the end (whoever pinged looks at the ARP it learnt next); never a reason to fail the ping.
        try:
            watch.publish_tables(ctx.lab, topology, deployment.tag, force=True, nodes=nodes, read=ctx.kernel.tables)
        except Exception as exc:  # noqa: BLE001
            log.info("tables after ping job %s not sent: %s", ctx.job.pk, exc)
        return {"sent": outcome.sent, "received": outcome.received,
                "replies": [{"seq": r.seq, "ttl": r.ttl, "rtt_ms": r.rtt_ms} for r in outcome.replies] or replies,
                "error": outcome.error}


class TablesJob(JobRunner):
    kind = JobKind.TABLES

    def run(self, ctx: Context) -> dict[str, Any]:
        deployment, topology = deployed_topology(ctx)
        node = str(ctx.job.params.get("node", ""))
        if not topology.has_node(node):
            raise JobFailed(f"the lab has no node {node!r}")
        return dict(ctx.kernel.tables(topology, deployment.tag, node))


class DriftJob(JobRunner):
    kind = JobKind.DRIFT

    def run(self, ctx: Context) -> dict[str, Any]:
        deployment = deployed(ctx)
        topology = parse_version(requested_version(ctx))
        result: dict[str, Any] = {"drift": ctx.kernel.drift(topology, deployment.tag)}
        if ctx.job.params.get("tables"):
            result["nodes"] = {n: ctx.kernel.tables(topology, deployment.tag, n) for n in watch.table_nodes(topology)}
            result["nat"] = nat_read_back(topology, deployment.tag)
        return result


class PlanJob(JobRunner):
    """A dry run: observes and plans, creates no deployment and changes no row but its own."""

    kind = JobKind.PLAN

    def run(self, ctx: Context) -> dict[str, Any]:
        topology = parse_version(requested_version(ctx))
        deployment = Deployment.objects.filter(lab_id=ctx.lab).select_related("version").first()
        if deployment is None:
            return {"operations": ctx.kernel.plan(topology, NOT_DEPLOYED_TAG, None)}
        check_host(deployment)
        return {"operations": ctx.kernel.plan(topology, deployment.tag, applied_topology(deployment))}
