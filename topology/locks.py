"""One apply/destroy per lab at a time, whatever stalls: an `flock` on a file of the worker host.

Why a lock file and not a Redis lock with a heartbeat: every kernel job of a lab runs on the lab's
worker host (its kernel holds the namespaces), so the host's kernel can arbitrate. An `flock` is held
by an open file description: it lasts exactly as long as its holder lives, however long it is paused
(SIGSTOP, a VM pause, a swap storm: no timeout to lapse, no heartbeat to miss), and the kernel drops it
the moment the holder dies (SIGKILL, OOM), so the next apply never waits out a timeout. The Celery
pool processes and `lab ... --inline` take the same file, so they exclude each other. It needs no
Redis, so it survives a Redis restart.

Where: `settings.NETDESIGNER_LOCK_DIR`, by default `/run/netdesigner/<install key>`, the key derived
from the database this install uses, so that two installs on one machine (two databases, whose lab
ids overlap) never share a lock. The file holds the holder's pid and job for messages; the lock is
the `flock`, never the content. Files are left in place (removing one could split a lock between a
holder of the old inode and a newcomer on a new one); there is one small file per lab ever applied.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import redis
from django.conf import settings
from django.db import connections

DEFAULT_WAIT = 600.0  # seconds `--inline` waits for a busy lab before giving up
POLL = 0.05  # seconds between two tries of a busy lock


class LabBusy(Exception):
    """Another job kept the lab's lock for longer than this job was willing to wait."""


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def redis_client() -> redis.Redis:
    """The process's Redis client (connection pool) for presence and table caches (not for locks)."""
    return _client(settings.REDIS_URL)


def install_key() -> str:
    """A short key naming this install's database: its engine, host, port and name."""
    db = connections["default"].settings_dict
    ident = "|".join(str(db.get(k) or "") for k in ("ENGINE", "HOST", "PORT", "NAME"))
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


def lock_dir() -> Path:
    """The directory of this install's lab locks, created (mode 0700) when missing. Falls back to the
    temporary directory when /run is not writable (a non-root test run; the worker is root)."""
    configured = getattr(settings, "NETDESIGNER_LOCK_DIR", "")
    candidates = [Path(configured)] if configured else [
        Path("/run/netdesigner") / install_key(),
        Path(tempfile.gettempdir()) / f"netdesigner-locks-{os.geteuid()}" / install_key(),
    ]
    for path in candidates:
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            if configured:
                raise
            continue
        return path
    raise OSError(errno.EACCES, f"no writable lock directory among {[str(p) for p in candidates]}")


def lock_path(lab_id: int) -> Path:
    return lock_dir() / f"lab-{int(lab_id)}.lock"


@dataclass
class LabLock:
    """A held lab lock (the open file whose `flock` it is)."""

    lab_id: int
    fd: int

    def owned(self) -> bool:
        return self.fd >= 0


def holder(lab_id: int) -> str:
    """Who holds (or last held) the lab's lock, as written in its file ("pid 123 job 45"), for messages."""
    with contextlib.suppress(OSError):
        return lock_path(lab_id).read_text().strip()
    return ""


def is_locked(lab_id: int) -> bool:
    """Whether some live process holds the lab's lock now (a snapshot, for tests and messages)."""
    try:
        with lab_lock(lab_id, wait=0):
            return False
    except LabBusy:
        return True


def _try(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def lab_lock(lab_id: int, *, wait: float | None = None, job: int | None = None) -> Iterator[LabLock]:
    """Hold the lab's lock for the block; raise LabBusy when it is not free within `wait` seconds
    (DEFAULT_WAIT when None, 0 for a single try). The file is opened close-on-exec, so the commands
    the engine runs (iptables-restore) never inherit the lock."""
    wait = DEFAULT_WAIT if wait is None else wait
    fd = os.open(lock_path(lab_id), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + wait
        while not _try(fd):
            if time.monotonic() >= deadline:
                who = holder(lab_id)
                raise LabBusy(f"lab {lab_id} is busy with another apply or destroy"
                              f"{f' ({who})' if who else ''}; gave up after {wait:.0f} s")
            time.sleep(POLL)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} job {job if job is not None else '-'}\n".encode(), 0)
        yield LabLock(lab_id, fd)
    finally:
        os.close(fd)  # drops the flock (this is the file's only descriptor in this process)


class SlotsBusy(Exception):
    """Every read slot of this host is taken."""


@contextlib.contextmanager
def read_slot(slots: int) -> Iterator[int]:
    """Hold one of `slots` read slots of this host for the block (SlotsBusy at once when all are
    taken). The worker runs reads only in a slot, and has one pool process more than slots, so a
    kernel write never waits behind reads of other labs."""
    for index in range(max(1, slots)):
        fd = os.open(lock_dir() / f"read-slot-{index}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if _try(fd):
            try:
                yield index
            finally:
                os.close(fd)
            return
        os.close(fd)
    raise SlotsBusy(f"all {slots} read slots of this host are busy")
