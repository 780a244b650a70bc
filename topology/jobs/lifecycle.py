"""A job's lifecycle in the process that runs it (the Celery task and `lab ... --inline` alike):
claim the queued row, take the lab lock for writes, refuse a superseded request, run, record the
end, then the work after the lock (snapshots), which never fails the job.

Why a generation and not "is there a newer job": every apply/destroy request bumps its deployment's
generation and carries the new value; a write job that gets the lab and finds a newer generation
was superseded by a later request (an apply, or a destroy) and ends `superseded` without touching the
kernel. So a destroy redelivered an hour late, or two requests that get the lab in the wrong order,
can never undo what the user asked for last.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError

from .. import locks
from ..choices import DeploymentState, JobStatus
from ..engine import api as engine
from ..engine.backend import Kernel
from ..kernel import default_kernel
from ..models import Deployment, Job
from .context import Context, EventSink, JobFailed, Superseded, finished_event
from .deployments import deployment_transition
from .publisher import default_publisher
from .registry import WRITES, job_class

log = logging.getLogger(__name__)

WAITING = "waiting for the lab to be free"
HOLDER_DIED = ("the process running this job died (a killed `lab ... --inline`, or its worker) while it held "
               "the lab; the next apply or destroy took the lab over: apply again to converge")
BUSY_BLOCK = 1.0  # seconds a pool process waits for a busy lab before putting the job back in the queue


class Requeue(Exception):
    """The job must wait (its lab or every read slot is busy): its row is queued again and the task
    sends it back to the queue, so that waiting never holds a pool process."""


def lab_wait() -> float:
    return float(getattr(settings, "NETDESIGNER_LAB_WAIT", locks.DEFAULT_WAIT))


def execute(job_id: int, *, requeue_when_busy: bool = False, kernel: Kernel | None = None,
            events: EventSink | None = None, read_slots: int = 0) -> None:
    """Run a queued job here and now. A job that is not queued any more (a redelivered message, a job
    already finished or superseded) is left alone, so running a message twice is harmless. With
    `requeue_when_busy` (the worker), a write of a busy lab raises Requeue after BUSY_BLOCK instead of
    waiting; otherwise (`--inline`) it waits up to NETDESIGNER_LAB_WAIT. With `read_slots`, a read
    runs only while fewer than that many reads run on this host (Requeue otherwise), so that a
    write always finds a free pool process."""
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, worker_host=settings.WORKER_HOST)
    if not claimed:
        log.info("job %s is not queued (any more): skipped", job_id)
        return
    job = Job.objects.select_related("lab").get(pk=job_id)
    run(job, requeue_when_busy=requeue_when_busy, kernel=kernel, events=events, read_slots=read_slots)


def _guard(job: Job, ctx: Context, *, writes: bool, requeue_when_busy: bool, read_slots: int) -> Any:
    if writes and job.lab_id is not None:
        if not ctx.log_lines or ctx.log_lines[-1]["message"] != WAITING:
            ctx.say(WAITING)
        return locks.lab_lock(job.lab_id, wait=BUSY_BLOCK if requeue_when_busy else lab_wait(), job=job.pk)
    if read_slots > 0 and not writes:
        return locks.read_slot(read_slots)
    return contextlib.nullcontext()


def run(job: Job, *, requeue_when_busy: bool = False, kernel: Kernel | None = None,
        events: EventSink | None = None, read_slots: int = 0) -> None:
    """Run a claimed job to its end; every failure ends as a failed job with a readable error."""
    ctx = Context(job, kernel=kernel or default_kernel(), events=events or default_publisher())
    cls = job_class(job.kind)
    writes = cls is not None and cls.writes
    try:
        if cls is None:
            raise JobFailed(f"unknown job kind {job.kind!r}")
        if cls.needs_lab and job.lab_id is None:
            raise JobFailed(f"a {job.kind} job needs a lab")
        runner = cls()
        with _guard(job, ctx, writes=writes, requeue_when_busy=requeue_when_busy, read_slots=read_slots):
            if writes:
                _fail_dead_holders(job, ctx)
            check_current(job)
            ctx.update(started=timezone.now())
            ctx.progress(0, 0, f"{job.kind} started")
            result = runner.run(ctx)
    except (locks.LabBusy, locks.SlotsBusy) as exc:
        waited = (timezone.now() - job.created).total_seconds()
        if requeue_when_busy and (isinstance(exc, locks.SlotsBusy) or waited < lab_wait()):
            Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.QUEUED, log=ctx.log_rows(), dispatched=timezone.now())
            raise Requeue(job.pk) from exc
        who = locks.holder(job.lab_id) if job.lab_id is not None else ""
        ctx.finish(JobStatus.FAILED, error=f"the lab stayed busy with another apply or destroy for {waited:.0f} s"
                   + (f" ({who})" if who else ""))
        return
    except Superseded as exc:
        ctx.finish(JobStatus.SUPERSEDED, error=str(exc))
        return
    except Exception as exc:  # noqa: BLE001 - every failure must end the job, not the worker
        error = _reason(exc)
        if not isinstance(exc, JobFailed | engine.EngineError | engine.ValidationFailed):
            log.exception("job %s (%s) crashed", job.pk, job.kind)
        if writes and job.lab_id is not None:
            deployment_transition(lab_id=job.lab_id, to=DeploymentState.FAILED, error=error, strict=False)
        ctx.finish(JobStatus.FAILED, error=error)
        return
    ctx.finish(JobStatus.SUCCEEDED, result=result)
    try:
        runner.after(ctx, result)
    except RedisError as exc:
        log.debug("after job %s (%s): Redis unreachable (%s); the job stays succeeded", job.pk, job.kind, exc)
    except Exception:  # noqa: BLE001 - the kernel work is done; a snapshot or an event lost is no failure
        log.warning("after job %s (%s): post-job work failed; the job stays succeeded", job.pk, job.kind,
                    exc_info=True)
    ctx.events.flush()


def _fail_dead_holders(job: Job, ctx: Context) -> None:
    """Holding the lab's lock proves that no other write of the lab is running: one still marked running
    that had started (so it held the lock) died with its process. A killed `--inline` has no worker to
    recover it, so this is where its row ends (the worker's start-up recovery covers its own jobs)."""
    if job.lab_id is None:
        return
    dead = (Job.objects.filter(lab_id=job.lab_id, kind__in=[str(k) for k in WRITES], status=JobStatus.RUNNING,
                               started__isnull=False).exclude(pk=job.pk).values_list("pk", "kind"))
    for pk, kind in dead:
        if Job.objects.filter(pk=pk, status=JobStatus.RUNNING).update(
                status=JobStatus.FAILED, error=HOLDER_DIED, finished=timezone.now()):
            ctx.say(f"job {pk} ({kind}) had died holding the lab: marked failed")
            ctx.publish(finished_event(pk, kind, JobStatus.FAILED, HOLDER_DIED))


def check_current(job: Job) -> None:
    """Raise Superseded when a newer apply/destroy of the lab was requested after this one."""
    if job.generation is None or job.lab_id is None:
        return
    current = Deployment.objects.filter(lab_id=job.lab_id).values_list("generation", flat=True).first()
    if current is None or current <= job.generation:
        return
    newer = (Job.objects.filter(lab_id=job.lab_id, generation__gt=job.generation).exclude(pk=job.pk)
             .order_by("-generation").values_list("kind", "pk").first())
    what = f"{newer[0]} job {newer[1]}" if newer else "a newer apply or destroy"
    raise Superseded(f"superseded: {what} was requested later; this request did not run")


def _reason(exc: Exception) -> str:
    if isinstance(exc, NotImplementedError):
        return "this engine operation is not implemented yet"
    return str(exc) or type(exc).__name__
