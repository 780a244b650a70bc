"""What each job kind does (called by `jobs.execute` once the job row is claimed).

The Job row is updated with `.filter(pk).update(...)` rather than `save()`, so a field another process
touches (a cancel, an admin edit) is never overwritten with a stale copy.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone

from . import events, locks, watch
from .choices import DeploymentState, JobStatus
from .delete_job import run_delete
from .engine import api as engine
from .jobs import WRITES, Requeue, finished_event
from .models import Deployment, Job, TopologyVersion
from .natview import nat_read_back

log = logging.getLogger(__name__)

WAITING = "waiting for the lab to be free"
BUSY_BLOCK = 1.0  # seconds a pool process waits for a busy lab before putting the job back in the queue
PROGRESS_DB_INTERVAL = 0.1  # seconds between progress writes to the Job row (the last one always lands)
MAX_LOG = 2000  # log lines kept on a Job row
MAX_PING_COUNT = 100
PING_SNAPSHOT_ALL = 50  # labs with up to this many nodes get every node's tables after a ping


class JobFailed(Exception):
    """A job cannot go on, for a reason a person can act on (the message is shown as the job's error)."""


class Context:
    """One running job: its row, its log, its throttled progress."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.lab_id = job.lab_id
        self.log_lines: list[dict[str, Any]] = list(job.log or [])
        self._last_write = 0.0
        self._dropped = 0

    @property
    def lab(self) -> int:
        """The job's lab id (every kind but cleanup has one; `run` checks before calling a runner)."""
        assert self.lab_id is not None
        return self.lab_id

    def publish(self, event: dict[str, Any]) -> None:
        if self.lab_id is not None:
            events.publish(self.lab_id, event)

    def say(self, message: str) -> None:
        if len(self.log_lines) < MAX_LOG:
            self.log_lines.append({"at": timezone.now().isoformat(), "message": message})
        else:
            self._dropped += 1

    def update(self, **fields: Any) -> None:
        Job.objects.filter(pk=self.job.pk).update(log=self.log_lines, **fields)
        self._last_write = time.monotonic()

    def progress(self, done: int, total: int, step: str) -> None:
        """The engine's progress callback: an event every call, a row write at most every 100 ms."""
        self.say(step)
        self.publish({"type": "job.progress", "job": self.job.pk, "done": done, "total": total, "step": step})
        if done >= total or time.monotonic() - self._last_write >= PROGRESS_DB_INTERVAL:
            self.update(done=done, total=total)

    def finish(self, status: str, *, result: Any = None, error: str = "") -> None:
        if self._dropped:
            self.log_lines.append({"at": timezone.now().isoformat(), "message": f"({self._dropped} more lines)"})
        if error:
            self.say(f"error: {error}")
        self.update(status=status, result=result, error=error, finished=timezone.now())
        self.publish(finished_event(self.job.pk, self.job.kind, status, error))


class Superseded(JobFailed):
    """A later apply of the lab already ran: applying this older request now would roll the lab back."""


def run(job: Job, *, requeue_when_busy: bool = False) -> None:
    """Run a claimed job to its end; every failure ends as a failed job with a readable error.

    Reads (ping, tables, drift, plan) take no lock: they change nothing, and a ping during a long apply
    shows the half-built lab, which is what its watchers are looking at; a lock would hold pings back
    for the length of an apply. With `requeue_when_busy` (the Celery task), an apply or destroy of a
    busy lab goes back to the queue (jobs.Requeue) instead of holding a pool process while it waits,
    so queued applies of one lab never starve the pings of the others."""
    ctx = Context(job)
    runner = RUNNERS.get(job.kind)
    try:
        if runner is None:
            raise JobFailed(f"unknown job kind {job.kind!r}")
        if job.lab_id is None and job.kind != "cleanup":
            raise JobFailed(f"a {job.kind} job needs a lab")
        guard: Any = contextlib.nullcontext()
        if job.kind in WRITES and job.lab_id:
            guard = locks.lab_lock(job.lab_id, wait=BUSY_BLOCK if requeue_when_busy else None)
            if not ctx.log_lines or ctx.log_lines[-1]["message"] != WAITING:
                ctx.say(WAITING)
        with guard:
            _check_not_superseded(job)
            ctx.update(started=timezone.now())
            ctx.progress(0, 0, f"{job.kind} started")
            result = runner(ctx)
    except locks.LabBusy as exc:
        waited = (timezone.now() - job.created).total_seconds()
        if requeue_when_busy and waited < locks.DEFAULT_WAIT:
            Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.QUEUED, worker_host="", log=ctx.log_lines)
            raise Requeue(job.pk) from exc
        ctx.finish(JobStatus.FAILED, error=f"the lab stayed busy with another apply or destroy for {waited:.0f} s")
        return
    except Exception as exc:  # noqa: BLE001 - every failure must end the job, not the worker
        error = _reason(exc)
        if not isinstance(exc, JobFailed | engine.EngineError | engine.ValidationFailed):
            log.exception("job %s (%s) crashed", job.pk, job.kind)
        if job.kind in WRITES and job.lab_id is not None and not isinstance(exc, Superseded):
            _set_deployment(job.lab_id, state=DeploymentState.FAILED, error=error)
        ctx.finish(JobStatus.FAILED, error=error)
        return
    ctx.finish(JobStatus.SUCCEEDED, result=result)


def _check_not_superseded(job: Job) -> None:
    """Two applies waiting for one lab may get its lock in either order: the older request must not
    undo the newer one."""
    if job.kind != "apply" or job.lab_id is None:
        return
    newer = Job.objects.filter(lab_id=job.lab_id, kind="apply", pk__gt=job.pk, started__isnull=False).first()
    if newer is not None:
        raise Superseded(f"superseded: apply job {newer.pk}, requested later, already ran")


def _reason(exc: Exception) -> str:
    if isinstance(exc, NotImplementedError):
        return "this engine operation is not implemented yet"
    return str(exc) or type(exc).__name__


def _set_deployment(lab_id: int, **fields: Any) -> None:
    Deployment.objects.filter(lab_id=lab_id).update(updated=timezone.now(), **fields)


def _parse(document: dict[str, Any]) -> Any:
    return engine.parse(
        document, max_nodes=settings.NETDESIGNER_MAX_NODES, max_links=settings.NETDESIGNER_MAX_LINKS
    )


def _version(ctx: Context) -> TopologyVersion:
    job = ctx.job
    assert job.lab is not None
    number = job.params.get("version") or job.lab.version
    version = TopologyVersion.objects.filter(lab_id=ctx.lab, number=number).first()
    if version is None:
        raise JobFailed(f"the lab has no version {number}")
    return version


def _deployment(ctx: Context, *, create: bool) -> Deployment:
    """The lab's deployment, which must live on this worker host (its kernel holds the namespaces)."""
    if create:
        deployment, _ = Deployment.objects.get_or_create(
            lab_id=ctx.lab, defaults={"worker_host": settings.WORKER_HOST}
        )
    else:
        found = Deployment.objects.filter(lab_id=ctx.lab).select_related("version").first()
        if found is None or found.state == DeploymentState.DESTROYED:
            raise JobFailed("the lab is not deployed: apply it first")
        deployment = found
    if deployment.worker_host != settings.WORKER_HOST:
        raise JobFailed(
            f"the lab is deployed on worker host {deployment.worker_host!r}, not on {settings.WORKER_HOST!r}"
        )
    return deployment


def _deployed_topology(ctx: Context) -> tuple[Deployment, Any]:
    """For reads: the version in the kernel (else the current one, e.g. after a failed first apply)."""
    deployment = _deployment(ctx, create=False)
    version = deployment.version or _version(ctx)
    return deployment, _parse(version.document)


def run_apply(ctx: Context) -> dict[str, Any]:
    version = _version(ctx)
    topology = _parse(version.document)
    deployment = _deployment(ctx, create=True)
    previous = None
    if deployment.state == DeploymentState.DEPLOYED and deployment.version is not None:
        # Only a cleanly applied version tells what the kernel holds; after a failure, observe everything.
        with contextlib.suppress(Exception):
            previous = _parse(deployment.version.document)
    _set_deployment(ctx.lab, state=DeploymentState.APPLYING, error="")
    ctx.say(f"applying version {version.number} as nd-{deployment.tag}-*")
    operations = engine.apply(topology, deployment.tag, progress=ctx.progress, previous=previous)
    _set_deployment(ctx.lab, state=DeploymentState.DEPLOYED, version=version, error="")
    ctx.update(done=len(operations), total=len(operations))
    watch.publish_tables(ctx.lab, topology, deployment.tag, force=True)
    return {"operations": operations}


def run_destroy(ctx: Context) -> dict[str, Any]:
    deployment = Deployment.objects.filter(lab_id=ctx.lab).first()
    if deployment is None:
        ctx.say("nothing deployed")
        return {"removed": 0}
    if deployment.worker_host != settings.WORKER_HOST:
        raise JobFailed(f"the lab is deployed on worker host {deployment.worker_host!r}")
    _set_deployment(ctx.lab, state=DeploymentState.DESTROYING, error="")
    removed = engine.destroy(deployment.tag, progress=ctx.progress)
    _set_deployment(ctx.lab, state=DeploymentState.DESTROYED, version=None, error="")
    watch.forget_tables(ctx.lab)
    return {"removed": removed}


def run_ping(ctx: Context) -> dict[str, Any]:
    params = ctx.job.params
    source, target = str(params.get("source", "")), str(params.get("target", ""))
    count = max(1, min(int(params.get("count") or 3), MAX_PING_COUNT))
    interval = max(0.2, float(params.get("interval") or 0.2))
    deployment, topology = _deployed_topology(ctx)
    replies: list[dict[str, Any]] = []
    outcome = engine.PingResult()
    ctx.update(total=count)
    for item in engine.ping(topology, deployment.tag, source, target, count=count, interval=interval):
        if isinstance(item, engine.PingReply):
            reply = {"seq": item.seq, "ttl": item.ttl, "rtt_ms": item.rtt_ms}
            replies.append(reply)
            ctx.publish({"type": "ping.reply", "job": ctx.job.pk, "source": source, "target": target,
                         **reply, "ts": time.time()})
            ctx.say(f"reply from {target}: seq={item.seq} ttl={item.ttl} time={item.rtt_ms:.3f} ms")
            ctx.update(done=len(replies))
        else:
            outcome = item
    # Every node's tables after a ping (ARP learnt along the path); on a big lab only the two ends, at
    # ~7 ms a node, and the watcher brings the rest to those who watch.
    nodes = watch.table_nodes(topology)
    if len(nodes) > PING_SNAPSHOT_ALL:
        nodes = [n for n in (source, target) if n in nodes]
    watch.publish_tables(ctx.lab, topology, deployment.tag, force=True, nodes=nodes)
    return {"sent": outcome.sent, "received": outcome.received,
            "replies": [{"seq": r.seq, "ttl": r.ttl, "rtt_ms": r.rtt_ms} for r in outcome.replies] or replies,
            "error": outcome.error}


def run_tables(ctx: Context) -> dict[str, Any]:
    deployment, topology = _deployed_topology(ctx)
    node = str(ctx.job.params.get("node", ""))
    if not topology.has_node(node):
        raise JobFailed(f"the lab has no node {node!r}")
    return dict(engine.tables(topology, deployment.tag, node))


def run_drift(ctx: Context) -> dict[str, Any]:
    deployment = _deployment(ctx, create=False)
    topology = _parse(_version(ctx).document)
    result: dict[str, Any] = {"drift": engine.drift(topology, deployment.tag)}
    if ctx.job.params.get("tables"):
        result["nodes"] = {n: engine.tables(topology, deployment.tag, n) for n in watch.table_nodes(topology)}
        result["nat"] = nat_read_back(topology, deployment.tag)
    return result


def run_plan(ctx: Context) -> dict[str, Any]:
    topology = _parse(_version(ctx).document)
    deployment = _deployment(ctx, create=True)
    previous = None
    if deployment.state == DeploymentState.DEPLOYED and deployment.version is not None:
        with contextlib.suppress(Exception):
            previous = _parse(deployment.version.document)
    return {"operations": engine.plan(topology, deployment.tag, previous)}


def run_cleanup(ctx: Context) -> dict[str, Any]:
    """Remove namespaces of deployments that no longer exist (a lab deleted while deployed)."""
    on_disk = engine.deployed_tags()
    known = set(Deployment.objects.filter(tag__in=on_disk).values_list("tag", flat=True))
    orphans = sorted(on_disk - known)
    for tag in orphans:
        ctx.say(f"removing orphaned nd-{tag}-*")
        engine.destroy(tag)
    return {"removed": orphans}


RUNNERS: dict[str, Callable[[Context], Any]] = {
    "apply": run_apply,
    "destroy": run_destroy,
    "ping": run_ping,
    "tables": run_tables,
    "drift": run_drift,
    "plan": run_plan,
    "cleanup": run_cleanup,
    "delete": run_delete,
}
