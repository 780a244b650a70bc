"""One lab at a time, labs side by side, and a worker killed in the middle of an apply."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.stack import Stack, api, api_token, make_user, namespaces_of, ws_connect
from topology import jobs, locks
from topology.models import Deployment, Job

pytestmark = [pytest.mark.services, pytest.mark.root]

EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


def create_lab(stack: Stack, token: str, name: str, document: dict[str, Any]) -> int:
    status, body = api(stack, "POST", "/api/labs", {"name": name, "topology": document}, token=token)
    assert status == 201, body
    return int(body["id"])


def apply(stack: Stack, token: str, lab_id: int) -> int:
    status, body = api(stack, "POST", f"/api/labs/{lab_id}/apply", token=token)
    assert status == 202, body
    return int(body["job"])


def wait_finished(job_id: int, timeout: float = 180.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.status in jobs.FINISHED:
            return job
        time.sleep(0.1)
    raise TimeoutError(f"job {job_id} did not finish within {timeout:g} s")


def star(size: int) -> dict[str, Any]:
    """A bridge with `size - 1` namespaces on it: the big lab of the fault test."""
    nodes: list[dict[str, Any]] = [{"name": "sw", "kind": "bridge", "addresses": ["10.77.255.254/16"]}]
    links = []
    for i in range(1, size):
        nodes.append({"name": f"n{i}", "kind": "namespace"})
        links.append({"a": {"node": f"n{i}", "interface": "eth0", "addresses": [f"10.77.{i // 250}.{i % 250 + 1}/16"]},
                      "b": {"node": "sw", "interface": f"p{i}"}})
    return {"format": "netdesigner/v1", "name": f"star-{size}", "nodes": nodes, "links": links}


def test_applies_of_one_lab_never_overlap_and_other_labs_go_ahead(stack: Stack, settings: Any) -> None:
    settings.REDIS_URL = stack.redis_url
    token = api_token(make_user("locker"))
    document = json.loads((EXAMPLES / "seed-2-bridge.json").read_text())
    busy = create_lab(stack, token, "busy", document)
    other = create_lab(stack, token, "other", document)
    with locks.lab_lock(busy, wait=5):  # as if a long apply of `busy` were running somewhere
        # More waiting applies than the worker has pool processes (4): waiting must not hold them.
        queued = [apply(stack, token, busy) for _ in range(5)]
        side = wait_finished(apply(stack, token, other))
        assert side.status == "succeeded", side.error
        # `other` was applied while every apply of `busy` still waits for the lab.
        assert all(j.started is None and j.status in ("queued", "running") for j in Job.objects.filter(pk__in=queued))
    done = [wait_finished(pk) for pk in queued]
    # They may get the lab in any order; an older request that comes after a newer one must not roll
    # the lab back, and ends as superseded without running. The newest always runs.
    assert done[-1].status == "succeeded", done[-1].error
    for job in done[:-1]:
        assert job.status == "succeeded" or job.error.startswith("superseded"), job.error
    ran = sorted((j for j in done if j.status == "succeeded"), key=lambda j: j.started or j.created)
    for a, b in zip(ran, ran[1:], strict=False):
        assert a.finished is not None and b.started is not None
        assert a.finished <= b.started, "two applies of one lab ran at the same time"


def test_worker_killed_mid_apply_fails_the_job_and_the_next_apply_converges(stack: Stack) -> None:
    token = api_token(make_user("crasher"))
    lab_id = create_lab(stack, token, "star", star(200))
    with ws_connect(stack, lab_id, token=token) as sock:
        job_id = apply(stack, token, lab_id)
        sock.until(lambda e: e["type"] == "job.progress" and e["job"] == job_id and e["done"] >= 20, timeout=120)
        stack.kill_worker()
    tag = Deployment.objects.get(lab_id=lab_id).tag
    assert Job.objects.get(pk=job_id).status == "running"
    assert namespaces_of(tag), "the apply had started building"

    stack.start_worker()  # crash recovery runs before it takes jobs
    crashed = Job.objects.get(pk=job_id)
    assert (crashed.status, crashed.error) == ("failed", jobs.WORKER_STOPPED)
    assert Deployment.objects.get(lab_id=lab_id).state == "failed"

    again = wait_finished(apply(stack, token, lab_id), timeout=300)
    assert again.status == "succeeded", again.error
    assert Deployment.objects.get(lab_id=lab_id).state == "deployed"
    assert len(namespaces_of(tag)) == 200  # 199 namespaces and the lab's host

    status, body = api(stack, "POST", f"/api/labs/{lab_id}/destroy", token=token)
    assert status == 202, body
    assert wait_finished(body["job"]).status == "succeeded"
    assert namespaces_of(tag) == []


def test_pool_process_killed_mid_apply_fails_the_job_while_the_worker_runs_on(stack: Stack) -> None:
    from topology.tasks import POOL_PROCESS_DIED

    token = api_token(make_user("oom"))
    # big enough that the kill lands inside the kernel work: the engine builds 80 namespaces in ~0.2 s,
    # about the time progress events are coalesced over
    lab_id = create_lab(stack, token, "star400", star(400))
    with ws_connect(stack, lab_id, token=token) as sock:
        job_id = apply(stack, token, lab_id)
        sock.until(lambda e: e["type"] == "job.progress" and e["job"] == job_id and e["done"] >= 10, timeout=120)
        assert stack.worker.popen is not None
        children = subprocess.run(["pgrep", "-P", str(stack.worker.popen.pid)], capture_output=True, text=True,
                                  check=False).stdout.split()
        assert children, "no pool processes"
        for pid in children:  # as the OOM killer would; the pool replaces them
            os.kill(int(pid), signal.SIGKILL)
        end = sock.until(lambda e: e["type"] == "job.finished" and e["job"] == job_id, timeout=60)
    assert (end["status"], end["error"]) == ("failed", POOL_PROCESS_DIED)
    assert stack.worker.alive()
    assert Deployment.objects.get(lab_id=lab_id).state == "failed"
    again = wait_finished(apply(stack, token, lab_id), timeout=180)  # waits out the dead process's lock
    assert again.status == "succeeded", again.error
    assert len(namespaces_of(Deployment.objects.get(lab_id=lab_id).tag)) == 400  # 399 nodes and the host
