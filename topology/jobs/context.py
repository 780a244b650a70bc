"""What a running job sees: its row, the kernel, its log, its progress, its events.

A job body (a `JobRunner.run`, or a plain `run_<kind>(ctx) -> dict` wrapped by `FunctionJob`) uses only
`ctx.job` (the Job row: `.params`, `.pk`, `.lab_id`), `ctx.kernel`, `ctx.say(text)`, `ctx.update(**fields)`,
`ctx.progress(done, total, step)` and `ctx.publish(event)`.

The Job row is updated with `.filter(pk).update(...)` rather than `save()`, so a field another process
touches (a cancel, an admin edit) is never overwritten with a stale copy. Progress is coalesced: an
event at most every PROGRESS_EVENT_INTERVAL and a row write at most every PROGRESS_DB_INTERVAL, the
last step always sent; events go through a background publisher, never waited for.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Protocol

from django.utils import timezone

from ..choices import JobKind, JobStatus
from ..engine.backend import Kernel
from ..models import Job

PROGRESS_EVENT_INTERVAL = 0.2  # seconds between two job.progress events (the last one always goes)
PROGRESS_DB_INTERVAL = 0.25  # seconds between two progress writes to the Job row (the last one lands)
MAX_LOG = 2000  # log lines kept on a Job row: the last ones, and a first line saying how many went


# Kinds whose result rides on their job.finished event (small reads; apply's operations stay on the row).
RESULT_IN_EVENT = frozenset({JobKind.TABLES, JobKind.DRIFT, JobKind.PLAN, JobKind.PING})


class JobFailed(Exception):
    """A job cannot go on, for a reason a person can act on (the message is shown as the job's error)."""


class Superseded(Exception):
    """A newer apply/destroy of the lab was requested: running this one now would undo it."""


class EventSink(Protocol):
    def put(self, lab_id: int, event: dict[str, Any]) -> None: ...

    def flush(self, timeout: float = 2.0) -> bool: ...


def finished_event(job_id: int, kind: str, status: str, error: str) -> dict[str, Any]:
    return {"type": "job.finished", "job": job_id, "kind": str(kind), "status": str(status), "error": error or None}


class Context:
    """One running job: its row, its kernel, its log, its coalesced progress."""

    def __init__(self, job: Job, *, kernel: Kernel, events: EventSink) -> None:
        self.job = job
        self.kernel = kernel
        self.events = events
        self.lab_id = job.lab_id
        earlier = list(job.log or [])
        self.log_lines: deque[dict[str, Any]] = deque(earlier[-MAX_LOG:], maxlen=MAX_LOG)
        self.dropped = max(0, len(earlier) - MAX_LOG)
        self._last_write = 0.0
        self._last_event = 0.0
        self._pending: dict[str, Any] | None = None  # the newest progress event not sent yet

    @property
    def lab(self) -> int:
        """The job's lab id (every kind but cleanup has one; the lifecycle checks before running)."""
        assert self.lab_id is not None
        return self.lab_id

    def publish(self, event: dict[str, Any]) -> None:
        if self.lab_id is not None:
            self.events.put(self.lab_id, event)

    def say(self, message: str) -> None:
        if len(self.log_lines) == MAX_LOG:
            self.dropped += 1
        self.log_lines.append({"at": timezone.now().isoformat(), "message": message})

    def log_rows(self) -> list[dict[str, Any]]:
        """The log as stored: the last MAX_LOG lines, after a line counting the ones dropped."""
        lines = list(self.log_lines)
        if self.dropped:
            lines.insert(0, {"at": lines[0]["at"] if lines else timezone.now().isoformat(),
                             "message": f"({self.dropped} earlier lines dropped; the last {MAX_LOG} are kept)"})
        return lines

    def update(self, **fields: Any) -> None:
        Job.objects.filter(pk=self.job.pk).update(log=self.log_rows(), **fields)
        self._last_write = time.monotonic()

    def progress(self, done: int, total: int, step: str, *, urgent: bool = False) -> None:
        """The engine's progress callback: cheap, called after every operation. `urgent` sends this step
        at once (a step that clients act on, such as a capture's sockets being ready)."""
        self.say(step)
        now = time.monotonic()
        self._pending = {"type": "job.progress", "job": self.job.pk, "done": done, "total": total, "step": step}
        if urgent or done >= total or now - self._last_event >= PROGRESS_EVENT_INTERVAL:
            self._send_pending(now)
        if done >= total or now - self._last_write >= PROGRESS_DB_INTERVAL:
            self.update(done=done, total=total)

    def _send_pending(self, now: float | None = None) -> None:
        if self._pending is not None:
            self.publish(self._pending)
            self._pending = None
            self._last_event = time.monotonic() if now is None else now

    def finish(self, status: JobStatus, *, result: Any = None, error: str = "") -> None:
        """The job's last row write and event; the events are flushed before it returns."""
        self._send_pending()
        if error:
            self.say(f"error: {error}")
        self.update(status=status, result=result, error=error, finished=timezone.now())
        event = finished_event(self.job.pk, self.job.kind, status, error)
        if self.job.kind in RESULT_IN_EVENT and status == JobStatus.SUCCEEDED:
            event["result"] = result  # reads asked with ?wait=false get their answer on the socket
        self.publish(event)
        self.events.flush()
