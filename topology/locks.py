"""One apply/destroy per lab at a time, across any number of worker processes and hosts.

A Redis lock (shared by every worker through the broker's Redis) with a short timeout that a
heartbeat thread keeps extending while the job runs: a worker that dies (SIGKILL, power loss) stops
extending, so its lock lapses within LOCK_TIMEOUT seconds and the next apply can go ahead.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from functools import lru_cache

import redis
from django.conf import settings
from redis.lock import Lock

LOCK_TIMEOUT = 15.0  # seconds a lock outlives its last heartbeat
HEARTBEAT = 5.0  # seconds between heartbeats (well under LOCK_TIMEOUT)
DEFAULT_WAIT = 600.0  # seconds a job waits for a busy lab before giving up


class LabBusy(Exception):
    """Another job kept the lab's lock for longer than this job was willing to wait."""


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def redis_client() -> redis.Redis:
    """The process's Redis client (connection pool) for locks, presence and table hashes."""
    return _client(settings.REDIS_URL)


def lock_name(lab_id: int) -> str:
    return f"nd:lock:lab:{lab_id}"


class _Heartbeat(threading.Thread):
    def __init__(self, lock: Lock) -> None:
        super().__init__(name=f"nd-lock-{lock.name!r}", daemon=True)
        self.lock = lock
        self.stopped = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self.stopped.wait(HEARTBEAT):
            try:
                self.lock.reacquire()
            except redis.exceptions.LockError:
                self.lost = True  # expired meanwhile (a very long stall); nothing to extend any more
                return
            except redis.exceptions.RedisError:
                continue  # Redis blinked: try again next beat, the timeout leaves room for two misses


@contextlib.contextmanager
def lab_lock(lab_id: int, *, wait: float | None = None) -> Iterator[Lock]:
    """Hold the lab's lock for the block; raise LabBusy when it is not free within `wait` seconds."""
    wait = DEFAULT_WAIT if wait is None else wait
    lock = redis_client().lock(
        lock_name(lab_id), timeout=LOCK_TIMEOUT, sleep=0.1, blocking=True, blocking_timeout=wait
    )
    if not lock.acquire():
        raise LabBusy(f"lab {lab_id} is busy with another apply or destroy; gave up after {wait:.0f} s")
    beat = _Heartbeat(lock)
    beat.start()
    try:
        yield lock
    finally:
        beat.stopped.set()
        beat.join(timeout=2)
        with contextlib.suppress(redis.exceptions.LockError, redis.exceptions.RedisError):
            lock.release()
