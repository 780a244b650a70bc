"""One class per job kind, after NetBox's `JobRunner`: the lifecycle (topology.jobs.lifecycle) claims
the row, takes the lab lock for writes, calls `run(ctx)`, records the result, then calls `after(ctx,
result)` outside the lock, where nothing can fail the job any more.

A plain function is enough for most kinds: `FunctionJob.wrap(JobKind.EXPLAIN, run_explain)` makes the
class, and one line in topology/jobs/registry.py registers it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from ..choices import JobKind
from .context import Context

Body = Callable[[Context], Any]


class JobRunner:
    """A kind of job. Subclasses set `kind` and implement `run`."""

    kind: ClassVar[JobKind]
    # Changes the kernel: one at a time per lab (the lab lock), superseded by a newer write request.
    writes: ClassVar[bool] = False
    # Every kind but site-wide ones (cleanup, retention) belongs to a lab.
    needs_lab: ClassVar[bool] = True

    def run(self, ctx: Context) -> Any:
        """The job's work; its return value (JSON) is the job's result. Raise JobFailed to fail it."""
        raise NotImplementedError

    def after(self, ctx: Context, result: Any) -> None:
        """Work after success and after the lock is released (snapshots for watchers). Failures here
        are logged and never fail the job: the kernel work is done."""


class FunctionJob(JobRunner):
    """A job kind made from a plain `run_<kind>(ctx) -> dict` function."""

    body: ClassVar[Body]

    def run(self, ctx: Context) -> Any:
        return type(self).body(ctx)

    @classmethod
    def wrap(cls, kind: JobKind, body: Body, *, writes: bool = False, needs_lab: bool = True) -> type[JobRunner]:
        name = "".join(part.title() for part in str(kind).split("_")) + "Job"
        return type(name, (cls,), {"kind": kind, "body": staticmethod(body), "writes": writes,
                                   "needs_lab": needs_lab, "__doc__": body.__doc__})
