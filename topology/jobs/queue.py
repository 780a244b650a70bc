"""Where a job goes: the queues of the worker host of the lab's deployment, one for kernel writes
(apply, destroy, cleanup) and one for reads (ping, tables, drift, plan), so that writes never wait
behind reads; and sending it after the row is committed.

Messages are only a wake-up call: the Job row is the truth. A message that runs twice is harmless (a
job runs only from `queued`), and one that is lost (Redis restarted) is sent again from the row
(topology.jobs.recovery), so `dispatched` records when it was last sent.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..choices import JobStatus
from ..models import Deployment, Job
from .registry import WRITES

log = logging.getLogger(__name__)

TASK = "topology.run_job"
FINISHED = JobStatus.terminal()


def queue_name(host: str, *, write: bool = True) -> str:
    return f"host.{host}.{'write' if write else 'read'}"


def worker_queues(host: str) -> list[str]:
    """Every queue the worker of `host` consumes (the Celery app's default queues say the same)."""
    return [queue_name(host, write=True), queue_name(host, write=False), "default"]


def job_host(job: Job) -> str:
    """The worker host whose kernel holds (or will hold) the job's lab."""
    if job.worker_host:
        return job.worker_host
    if job.lab_id is not None:
        host = Deployment.objects.filter(lab_id=job.lab_id).values_list("worker_host", flat=True).first()
        if host:
            return host
    return str(settings.WORKER_HOST)


def queue_for(job: Job) -> str:
    return queue_name(job_host(job), write=job.kind in WRITES)


def send(job: Job, *, countdown: float = 0.0) -> bool:
    """Send the job's message now; False (the job stays queued, and is sent again once the broker is
    back) when the broker cannot be reached."""
    from netdesigner.celery import app

    try:
        app.send_task(TASK, args=(job.pk,), queue=queue_for(job), countdown=countdown or None,
                      retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})
    except Exception as exc:  # noqa: BLE001 - kombu raises many kinds; the row keeps the job
        log.warning("job %s stays queued: the job queue (%s) is unreachable (%s); it is sent when it is back",
                    job.pk, settings.CELERY_BROKER_URL, exc)
        # Not sent: the worker's maintenance sends it at its next check (topology.jobs.recovery).
        Job.objects.filter(pk=job.pk).update(dispatched=None)
        return False
    Job.objects.filter(pk=job.pk).update(dispatched=timezone.now())
    return True


def enqueue(job: Job) -> None:
    """Send the job to its worker once the row is committed (at once outside a transaction): a worker
    that received the id of an uncommitted row would not find it."""
    transaction.on_commit(lambda: send(job))


def run_and_wait(job: Job, timeout: float = 15.0) -> Job:
    """Enqueue the job and wait until it finishes; TimeoutError after `timeout` seconds. For the
    `lab` command and the admin; web requests answer from caches or with 202 instead."""
    if connection.in_atomic_block:
        raise RuntimeError(
            "run_and_wait() cannot wait inside a transaction: the worker would never see the job row"
        )
    enqueue(job)
    deadline = time.monotonic() + timeout
    pause = 0.02
    while True:
        job.refresh_from_db()
        if job.status in FINISHED:
            return job
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"job {job.pk} ({job.kind}) did not finish within {timeout:g} s (status {job.status}); "
                f"is `manage.py worker` running for {queue_for(job)}?"
            )
        time.sleep(pause)
        pause = min(pause * 1.5, 0.25)
