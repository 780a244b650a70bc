"""Old finished jobs are deleted: a lab applied every few minutes would otherwise keep every log.
`NETDESIGNER_JOB_RETENTION_DAYS` (default 14; 0 keeps them for ever); the worker's maintenance thread
calls `jobs_prune` hourly. Queued and running jobs are never deleted."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..choices import JobStatus
from ..models import Job

DEFAULT_DAYS = 14


def retention_days() -> float:
    return float(getattr(settings, "NETDESIGNER_JOB_RETENTION_DAYS", DEFAULT_DAYS))


def jobs_prune(*, days: float | None = None) -> int:
    """Delete jobs that finished more than `days` ago; returns how many."""
    days = retention_days() if days is None else days
    if days <= 0:
        return 0
    limit = timezone.now() - timedelta(days=days)
    deleted, _ = Job.objects.filter(status__in=JobStatus.terminal(), finished__lt=limit).delete()
    return deleted
