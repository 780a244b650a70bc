"""Crash and outage recovery: no job stays `queued` or `running` for ever.

- At worker start (`recover_interrupted`): a job a previous run left `running` after it started is
  failed (the kernel may hold half a lab, which the next apply converges); one that had not started
  (it was waiting for its lab) and every `queued` job of this host are sent again. A message that was
  still in the broker then arrives twice, which is harmless (a job runs only from `queued`, and a
  superseded write never touches the kernel).
- While the worker runs (`Maintenance`, a thread of its main process): when Redis restarted (its
  run_id changed: an unpersisted broker lost every message) all queued jobs of this host are sent
  again, and any queued job not sent for LOST_AFTER seconds is sent again too; old finished jobs are
  deleted (topology.jobs.retention).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from .. import locks
from ..choices import DeploymentState, JobStatus
from ..models import Deployment, Job
from .context import finished_event
from .publisher import default_publisher
from .queue import send
from .registry import WRITES
from .retention import jobs_prune

log = logging.getLogger(__name__)

WORKER_STOPPED = "the worker stopped while running this job; apply again to converge"
LOST_AFTER = 120.0  # seconds a queued job may go without its message being sent before it is resent
UNSENT_AFTER = 5.0  # seconds after which a queued job that was never sent is sent
CHECK_EVERY = 5.0
AFTER_RESTART = 30.0  # seconds after a Redis restart during which every check sends queued jobs again  # seconds between two maintenance checks
PRUNE_EVERY = 3600.0  # seconds between two deletions of old jobs


def recover_interrupted(host: str) -> int:
    """Call before the worker takes jobs. Returns the number of jobs failed."""
    stale = list(Job.objects.filter(status=JobStatus.RUNNING, worker_host=host))
    failed = 0
    for job in stale:
        if job.started is None:  # it was waiting for its lab: it never touched the kernel
            Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(status=JobStatus.QUEUED)
        elif fail_interrupted(job, WORKER_STOPPED):
            failed += 1
    if failed:
        log.warning("failed %d job(s) interrupted by a previous stop of worker host %s", failed, host)
    resent = resend_queued(host)
    if resent:
        log.warning("sent %d queued job(s) of worker host %s again", resent, host)
    return failed


def resend_queued(host: str, *, older_than: float | None = None) -> int:
    """Send the queued jobs of `host` again (only those not sent for `older_than` seconds, when given)."""
    queued = Job.objects.filter(status=JobStatus.QUEUED, worker_host=host)
    if older_than is not None:
        now = timezone.now()
        limit = now - timedelta(seconds=older_than)
        # Never sent (the broker was away when it was): at the next check, once past its commit.
        unsent = now - timedelta(seconds=UNSENT_AFTER)
        queued = queued.filter(Q(dispatched__lt=limit) | Q(dispatched__isnull=True, created__lt=unsent))
    return sum(send(job) for job in queued.order_by("pk"))


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
        publisher = default_publisher()
        publisher.put(job.lab_id, finished_event(job.pk, job.kind, JobStatus.FAILED, reason))
        publisher.flush()
    return True


class Maintenance(threading.Thread):
    """The worker's housekeeping: resend lost jobs, delete old ones."""

    def __init__(self, host: str, interval: float = CHECK_EVERY) -> None:
        super().__init__(name="nd-jobs-maintenance", daemon=True)
        self.host = host
        self.interval = interval
        self.stopped = threading.Event()
        self.run_id: str | None = None
        self._since_prune = PRUNE_EVERY  # prune at the first check
        self._resend_until = 0.0

    def check(self) -> int:
        """One round; returns the number of jobs sent again."""
        resent = 0
        run_id = str(locks.redis_client().info("server").get("run_id", ""))
        now = time.monotonic()
        if self.run_id is not None and run_id != self.run_id:
            # A message sent around the restart may have been lost too: send again for a little while.
            self._resend_until = now + AFTER_RESTART
            log.warning("Redis restarted (its queues are lost): sending queued jobs again")
        if now < self._resend_until:
            resent = resend_queued(self.host)
        self.run_id = run_id
        resent += resend_queued(self.host, older_than=LOST_AFTER)
        self._since_prune += self.interval
        if self._since_prune >= PRUNE_EVERY:
            self._since_prune = 0.0
            jobs_prune()
        return resent

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - Redis or the database away: try again next round
                log.info("jobs maintenance: %s", exc)
            finally:
                close_old_connections()
