"""Every job kind and its class. To add a kind: a `JobKind` member in topology/choices.py, a body, and
one line here: a `JobRunner` subclass, or a plain function wrapped with
`FunctionJob.wrap(JobKind.X, run_x)` (add `writes=True` if it changes the kernel, `needs_lab=False`
for a site-wide job). Kind modules import nothing from this package but base, context, deployments
and kinds.common, so imports point one way: registry -> kinds -> base/context."""

from __future__ import annotations

from ..captures import run_capture
from ..choices import JobKind
from .base import FunctionJob, JobRunner
from .kinds.apply import ApplyJob
from .kinds.cleanup import CleanupJob
from .kinds.delete import DeleteJob
from .kinds.destroy import DestroyJob
from .kinds.explain import run_explain, run_test
from .kinds.reads import DriftJob, PingJob, PlanJob, TablesJob

JOBS: dict[JobKind, type[JobRunner]] = {
    cls.kind: cls
    for cls in (
        ApplyJob,
        DestroyJob,
        DeleteJob,
        PingJob,
        TablesJob,
        DriftJob,
        PlanJob,
        CleanupJob,
        FunctionJob.wrap(JobKind.EXPLAIN, run_explain),
        FunctionJob.wrap(JobKind.TEST, run_test),
        FunctionJob.wrap(JobKind.CAPTURE, run_capture),
    )
}

WRITES: frozenset[JobKind] = frozenset(kind for kind, cls in JOBS.items() if cls.writes)


def job_class(kind: str) -> type[JobRunner] | None:
    try:
        return JOBS.get(JobKind(kind))
    except ValueError:
        return None
