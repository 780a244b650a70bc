"""Celery tasks and worker signals: thin. A task takes a job id and calls `jobs.execute`, which owns
the job's lifecycle.

Retries belong here and only for transient trouble before the job is claimed (the database was
locked, Redis blinked): an engine failure is the job's result, a failed job, never a retry.

The same signals run under `manage.py worker` and `celery -A netdesigner worker`: crash recovery
before the pool starts (`worker_init`), then the tables watcher and the jobs maintenance thread.
"""

from __future__ import annotations

import ctypes
import logging
import signal
from typing import Any

import redis
from billiard.exceptions import WorkerLostError
from celery import shared_task
from celery.signals import task_failure, worker_init, worker_process_init, worker_ready, worker_shutdown
from django.conf import settings
from django.db import OperationalError, connection

from . import jobs
from .jobs.queue import TASK

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1
REQUEUE_DELAY = 0.5  # seconds before a job of a busy lab tries again
_threads: list[Any] = []
# Reads may use every pool process but one, so that a kernel write always finds one free. Set from
# the worker's concurrency at start (the pool children inherit it).
_read_slots = 0
_terminals: Any = None


@shared_task(
    name=TASK,
    autoretry_for=(OperationalError, redis.exceptions.ConnectionError),
    retry_backoff=1,
    retry_backoff_max=10,
    max_retries=5,
)
def run_job(job_id: int) -> None:
    try:
        jobs.execute(job_id, requeue_when_busy=True, read_slots=_read_slots)
    except jobs.Requeue:
        # Back in the queue shortly (ETA messages wait in the consumer, not in a pool process).
        from .models import Job

        jobs.send(Job.objects.get(pk=job_id), countdown=REQUEUE_DELAY)


POOL_PROCESS_DIED = "the worker process running this job died (killed or out of memory); apply again to converge"


@task_failure.connect
def _fail_job_of_lost_process(sender: Any = None, exception: BaseException | None = None,
                              args: Any = None, **_: Any) -> None:
    """A pool process died mid-job (the parent reports WorkerLostError): fail the job now rather than
    leaving it `running` until the worker restarts."""
    if not isinstance(exception, WorkerLostError) or getattr(sender, "name", "") != run_job.name or not args:
        return
    from .models import Job

    job = Job.objects.filter(pk=args[0]).first()
    if job is not None:
        jobs.fail_interrupted(job, POOL_PROCESS_DIED)


@worker_init.connect
def _recover(sender: Any = None, **_: Any) -> None:
    """Before the pool starts: fail what a previous run left running, send queued jobs again."""
    global _read_slots
    concurrency = int(getattr(sender, "concurrency", 0) or settings.CELERY_WORKER_CONCURRENCY)
    _read_slots = max(1, concurrency - 1)
    try:
        failed = jobs.recover_interrupted(settings.WORKER_HOST)
        if failed:
            log.warning("failed %d job(s) left running by a previous stop of this worker", failed)
    finally:
        connection.close()  # never share a database connection with the forked pool


@worker_process_init.connect
def _die_with_parent(**_: Any) -> None:
    """A pool child dies with its parent: a killed worker must not leave an apply running unseen
    (its lock would be kept alive and its job could never be recovered)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        log.warning("could not tie the pool process to its parent")


@worker_ready.connect
def _start_threads(**_: Any) -> None:
    """Live tables for whoever watches a lab deployed here, and the jobs' maintenance; threads of
    the worker's main process."""
    from .jobs.recovery import Maintenance
    from .watch import TablesWatcher

    if not _threads:
        _threads.extend([TablesWatcher(), Maintenance(settings.WORKER_HOST)])
        for thread in _threads:
            thread.start()


@worker_shutdown.connect
def _stop_threads(**_: Any) -> None:
    for thread in _threads:
        thread.stopped.set()


@worker_ready.connect
def _start_terminal_server(**_: Any) -> None:
    """Terminals into nodes of labs deployed here (topology/terminal/server.py), in the main process."""
    global _terminals
    from .terminal.server import TerminalServer

    if _terminals is None:
        _terminals = TerminalServer()
        _terminals.start()


@worker_shutdown.connect
def _stop_terminal_server(**_: Any) -> None:
    if _terminals is not None:
        _terminals.stop()
