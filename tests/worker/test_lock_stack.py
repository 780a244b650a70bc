"""The lab lock on the real stack: a paused job keeps its lab, a killed one frees it at once, and the
worker and `lab ... --inline` exclude each other (root, real worker, real Redis)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.stack import BASE_DIR, Stack, api, api_token, make_user, namespaces_of
from tests.worker.test_locks_and_faults import apply, create_lab, star, wait_finished
from topology import locks
from topology.models import Deployment, Job, Lab

pytestmark = [pytest.mark.services, pytest.mark.root]

STALL = 20.0  # seconds a holder stays stopped: longer than the old Redis lock's 15 s and every retry delay


def holder_pid(lab_id: int, job_id: int, timeout: float = 120.0) -> int:
    """The pid of the process holding the lab's lock for `job_id`, as soon as it holds it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.fullmatch(r"pid (\d+) job (\d+)", locks.holder(lab_id))
        if found and int(found.group(2)) == job_id:
            return int(found.group(1))
        time.sleep(0.01)
    raise TimeoutError(f"job {job_id} never held lab {lab_id} (holder: {locks.holder(lab_id)!r})")


@contextlib.contextmanager
def stopped(pid: int) -> Iterator[None]:
    """SIGSTOP the process for the block, SIGCONT after it, also when the test fails."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


def destroy(stack: Stack, token: str, lab_id: int) -> int:
    status, body = api(stack, "POST", f"/api/labs/{lab_id}/destroy", token=token)
    assert status == 202, body
    return int(body["job"])


def lab_command(stack: Stack, *args: str) -> subprocess.Popen[str]:
    py = str(BASE_DIR / ".venv" / "bin" / "python")
    return subprocess.Popen([py if os.path.exists(py) else sys.executable, "manage.py", "lab", *args],  # noqa: S603
                            env=stack.env, cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def newest_job(lab_id: int, kind: str, *, after: int = 0, timeout: float = 60.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.filter(lab_id=lab_id, kind=kind, pk__gt=after).order_by("-pk").first()
        if job is not None:
            return job
        time.sleep(0.05)
    raise TimeoutError(f"no {kind} job of lab {lab_id}")


def test_a_stopped_apply_keeps_its_lab_while_a_destroy_waits_then_the_destroy_leaves_nothing(stack: Stack) -> None:
    token = api_token(make_user("pauser"))
    lab_id = create_lab(stack, token, "paused", star(120))
    job_id = apply(stack, token, lab_id)
    pid = holder_pid(lab_id, job_id)
    # Past its supersession check (`started` is set right after it): stopped earlier, the apply would
    # rightly end `superseded` by the destroy requested below instead of finishing first.
    deadline = time.monotonic() + 60
    while Job.objects.get(pk=job_id).started is None and time.monotonic() < deadline:
        time.sleep(0.005)
    with stopped(pid):
        later = destroy(stack, token, lab_id)
        time.sleep(STALL)
        assert Job.objects.get(pk=job_id).status == "running"
        waiting = Job.objects.get(pk=later)
        assert waiting.started is None and waiting.status in ("queued", "running"), waiting.log[-3:]
        assert locks.is_locked(lab_id)
    first, second = wait_finished(job_id), wait_finished(later)
    assert first.status == "succeeded", first.error
    assert second.status == "succeeded", second.error
    assert first.finished is not None and second.started is not None and first.finished <= second.started
    tag = Deployment.objects.get(lab_id=lab_id).tag
    assert namespaces_of(tag) == []
    assert Deployment.objects.get(lab_id=lab_id).state == "destroyed"


def test_killing_the_holder_frees_the_lab_at_once(stack: Stack) -> None:
    token = api_token(make_user("killer"))
    lab_id = create_lab(stack, token, "killed", star(80))
    job_id = apply(stack, token, lab_id)
    pid = holder_pid(lab_id, job_id)
    os.kill(pid, signal.SIGKILL)
    while os.path.exists(f"/proc/{pid}"):
        time.sleep(0.01)
    with locks.lab_lock(lab_id, wait=0) as held:  # no timeout to wait out
        assert held.owned()
    assert wait_finished(job_id).status == "failed"
    again = wait_finished(apply(stack, token, lab_id))
    assert again.status == "succeeded", again.error
    assert len(namespaces_of(Deployment.objects.get(lab_id=lab_id).tag)) == 80


def test_inline_and_the_worker_exclude_each_other(stack: Stack, settings: Any) -> None:
    token = api_token(make_user("inliner"))
    lab_id = create_lab(stack, token, "inline", star(60))
    slug = Lab.objects.get(pk=lab_id).slug
    # The worker holds the lab; an inline destroy waits for it.
    job_id = apply(stack, token, lab_id)
    with stopped(holder_pid(lab_id, job_id)):
        proc = lab_command(stack, "destroy", slug, "--inline")
        inline = newest_job(lab_id, "destroy", after=job_id)
        time.sleep(3)
        assert Job.objects.get(pk=inline.pk).started is None
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    applied, destroyed = wait_finished(job_id), wait_finished(inline.pk)
    assert applied.finished is not None and destroyed.started is not None and applied.finished <= destroyed.started
    # An inline apply holds the lab; the worker's destroy waits for it.
    proc = lab_command(stack, "apply", slug, "--inline")
    inline = newest_job(lab_id, "apply", after=destroyed.pk)
    try:
        with stopped(holder_pid(lab_id, inline.pk)):
            later = destroy(stack, token, lab_id)
            time.sleep(3)
            assert Job.objects.get(pk=later).started is None
    finally:
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    applied, destroyed = wait_finished(inline.pk), wait_finished(later)
    assert destroyed.status == "succeeded", destroyed.error
    assert applied.finished is not None and destroyed.started is not None and applied.finished <= destroyed.started
    assert namespaces_of(Deployment.objects.get(lab_id=lab_id).tag) == []
