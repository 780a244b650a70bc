"""Events leave a job through a background thread, so publishing never blocks the engine.

Why: a progress callback that waits for Redis on every operation made a 500-node apply wait 4,000
times, and a Redis that hangs or is gone must not stall or fail a kernel apply (issue 9 item 2, issue
10 item 5). `put` never blocks: the queue is bounded, and when it is full the event is dropped and
counted (progress events are coalesced upstream, so this only happens when Redis is stuck).
`flush` waits, boundedly, until what was put has been sent, so `job.finished` goes out before a job's
process moves on. One publisher per process (made again after a fork: Celery's pool children).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

MAX_PENDING = 1000  # events waiting to be sent; more are dropped (and counted)
Send = Callable[[int, dict[str, Any]], None]


def _send_event(lab_id: int, event: dict[str, Any]) -> None:
    from .. import events

    events.publish_checked(lab_id, event)


class Publisher:
    """A bounded queue of (lab, event) drained by one daemon thread."""

    def __init__(self, send: Send = _send_event, maxsize: int = MAX_PENDING) -> None:
        self.send = send
        self.queue: queue.Queue[tuple[int, dict[str, Any]] | threading.Event] = queue.Queue(maxsize=maxsize)
        self.dropped = 0
        self.failed = 0
        self.quiet = False  # set when the outage was already reported (`lab ... --inline` without Redis)
        self._down = False
        self._thread = threading.Thread(target=self._drain, name="nd-job-events", daemon=True)
        self._thread.start()

    def put(self, lab_id: int, event: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait((lab_id, event))
        except queue.Full:
            self.dropped += 1

    def flush(self, timeout: float = 2.0) -> bool:
        """Wait until every event put so far was handed to the layer (or failed); False on timeout."""
        done = threading.Event()
        try:
            self.queue.put(done, timeout=timeout)  # a marker, reached once everything before it went
        except queue.Full:
            return False
        return done.wait(timeout)

    def _drain(self) -> None:
        while True:
            item = self.queue.get()
            if isinstance(item, threading.Event):
                item.set()
                continue
            lab_id, event = item
            try:
                self.send(lab_id, event)
                if self._down:
                    log.warning("events are delivered again")
                self._down = False
            except Exception as exc:  # noqa: BLE001 - an event lost never fails the job that sent it
                self.failed += 1
                if not self._down and not self.quiet:  # one line per outage, not one per event
                    log.warning("events are not delivered (%s: %s); jobs go on, watchers miss their progress",
                                type(exc).__name__, exc)
                self._down = True


_lock = threading.Lock()
_publisher: Publisher | None = None
_pid = 0


def default_publisher() -> Publisher:
    """This process's publisher, started on first use and again in a forked child."""
    global _publisher, _pid
    with _lock:
        if _publisher is None or _pid != os.getpid():
            _publisher = Publisher()
            _pid = os.getpid()
        return _publisher
