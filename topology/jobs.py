"""The job runner: where a Job row meets a worker process.

- enqueue(job): after the surrounding transaction commits, send the job to the Celery queue of the
  worker host of the lab's deployment (`host.<worker_host>`; settings.WORKER_HOST when the lab has no
  deployment yet, and for site-wide cleanup).
- execute(job_id): run the job in this process: lock the lab, call the engine, keep the Job row's
  status/done/total/log/result/error current, publish events. Used by the Celery task and `--inline`.
- run_and_wait(job, timeout): enqueue and block until the job finishes (for web views that must read
  the kernel through the worker: tables, drift, admin inspection). Returns the refreshed Job.

Job kinds and their params/result (the bodies are in `topology.runners`):
  apply    params {"version": n}           result {"operations": [...]} (done/total = operations)
  destroy  params {}                       result {"removed": n}
  ping     params {"source","target","count"}  result {"sent","received","replies":[{"seq","ttl","rtt_ms"}],"error"}
  tables   params {"node"}                 result as `lab tables`
  drift    params {"tables": bool}         result {"drift": [...], "nodes": {node: tables} (when tables)}
  plan     params {"version": n}           result {"operations": [...]}
  cleanup  params {} (job.lab is null)     result {"removed": [tags]}: namespaces nd-<tag>-* of no Deployment
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from . import events
from .choices import DeploymentState, JobStatus
from .models import Deployment, Job

log = logging.getLogger(__name__)

FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)
WORKER_STOPPED = "the worker stopped while running this job; apply again to converge"
# Kinds that change the kernel: one at a time per lab (see topology.locks).
WRITES = {"apply", "destroy", "delete"}


def queue_name(host: str) -> str:
    return f"host.{host}"


def queue_for(job: Job) -> str:
    """The queue of the worker host that holds (or will hold) the job's lab."""
    if job.lab_id is not None:
        host = Deployment.objects.filter(lab_id=job.lab_id).values_list("worker_host", flat=True).first()
        if host:
            return queue_name(host)
    return queue_name(settings.WORKER_HOST)


def enqueue(job: Job) -> None:
    """Send the job to its worker once the row is committed (at once outside a transaction): a worker
    that received the id of an uncommitted row would not find it."""
    job_id, queue = job.pk, queue_for(job)

    def send() -> None:
        from .tasks import run_job

        run_job.apply_async(args=(job_id,), queue=queue)

    transaction.on_commit(send)


class Requeue(Exception):
    """The job's lab is busy: the job is queued again (its row says so) and the task must resend it."""


def execute(job_id: int, *, requeue_when_busy: bool = False) -> None:
    """Run a queued job here and now. A job that is not queued any more (a redelivered message, a job
    failed by crash recovery) is left alone, so running a message twice is harmless. With
    `requeue_when_busy`, an apply or destroy of a lab that another job holds raises Requeue (after a
    second) instead of waiting here; otherwise (`lab ... --inline`) it waits up to locks.DEFAULT_WAIT."""
    from .runners import run

    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, worker_host=settings.WORKER_HOST
    )
    if not claimed:
        log.info("job %s is not queued (any more): skipped", job_id)
        return
    job = Job.objects.select_related("lab").get(pk=job_id)
    run(job, requeue_when_busy=requeue_when_busy)


def run_and_wait(job: Job, timeout: float = 15.0) -> Job:
    """Enqueue the job and poll its row until it finishes; TimeoutError after `timeout` seconds."""
    if connection.in_atomic_block:
        raise RuntimeError(
            "run_and_wait() cannot wait inside a transaction: the worker would never see the job row"
        )
    enqueue(job)
    deadline = time.monotonic() + timeout
    while True:
        job.refresh_from_db()
        if job.status in FINISHED:
            return job
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"job {job.pk} ({job.kind}) did not finish within {timeout:g} s (status {job.status}); "
                f"is `manage.py worker` running for {queue_for(job)}?"
            )
        time.sleep(0.05)


def recover_interrupted(host: str) -> int:
    """Fail the jobs a previous run of this host's worker left `running` (it crashed or was killed),
    and their labs' deployments: the kernel may hold half a lab, which the next apply converges.
    Call it before the worker takes new jobs. Returns the number of jobs failed."""
    stale = list(Job.objects.filter(status=JobStatus.RUNNING, worker_host=host))
    for job in stale:
        fail_interrupted(job, WORKER_STOPPED)
    if stale:
        log.warning("failed %d job(s) interrupted by a previous stop of worker host %s", len(stale), host)
    return len(stale)


def fail_interrupted(job: Job, reason: str) -> bool:
    """Fail a job whose process died under it (and its lab's deployment, when it was changing the
    kernel). Returns False when the job had already finished."""
    now = timezone.now()
    failed = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED, error=reason, finished=now,
        log=[*job.log, {"at": now.isoformat(), "message": reason}],
    )
    if not failed:
        return False
    if job.lab_id is not None and job.kind in WRITES:
        Deployment.objects.filter(
            lab_id=job.lab_id, state__in=[DeploymentState.APPLYING, DeploymentState.DESTROYING]
        ).update(state=DeploymentState.FAILED, error=reason, updated=now)
    if job.lab_id is not None:
        events.publish(job.lab_id, finished_event(job.pk, job.kind, JobStatus.FAILED, reason))
    return True


def finished_event(job_id: int, kind: str, status: str, error: str) -> dict[str, Any]:
    return {"type": "job.finished", "job": job_id, "kind": kind, "status": str(status), "error": error or None}
