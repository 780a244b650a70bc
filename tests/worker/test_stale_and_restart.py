"""No stale job ever runs, and no job stays queued for ever: a destroy held back while its worker died
does not wipe the lab applied since; a Redis restart with jobs queued loses none of them (root, real
worker, real Redis)."""

from __future__ import annotations

import subprocess
import time
import urllib.parse
from typing import Any

import pytest
import redis

from tests.stack import Stack, api_token, make_user, namespaces_of
from tests.worker.test_lock_stack import destroy, holder_pid, stopped
from tests.worker.test_locks_and_faults import apply, create_lab, star, wait_finished
from topology import jobs, locks
from topology.models import Deployment, Job

pytestmark = [pytest.mark.services, pytest.mark.root]


def wait_all_finished(ids: list[int], timeout: float = 180.0) -> list[Job]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(Job.objects.filter(pk__in=ids).order_by("pk"))
        if all(j.status in jobs.FINISHED for j in rows):
            return rows
        time.sleep(0.2)
    states = {j.pk: j.status for j in Job.objects.filter(pk__in=ids)}
    raise TimeoutError(f"jobs not finished within {timeout:g} s: {states}")


def test_a_destroy_held_back_while_its_worker_died_never_wipes_the_lab_applied_since(stack: Stack) -> None:
    token = api_token(make_user("stale"))
    lab_id = create_lab(stack, token, "stale", star(30))
    assert wait_finished(apply(stack, token, lab_id)).status == "succeeded"
    tag = Deployment.objects.get(lab_id=lab_id).tag
    with locks.lab_lock(lab_id, wait=5):  # the lab is busy: the destroy is held back, waiting
        stale = destroy(stack, token, lab_id)
        deadline = time.monotonic() + 30
        while "waiting for the lab to be free" not in str(Job.objects.get(pk=stale).log) and time.monotonic() < deadline:
            time.sleep(0.05)
        stack.kill_worker()
    assert Job.objects.get(pk=stale).status in ("queued", "running")
    again = apply(stack, token, lab_id)  # the user applies again while the worker is down
    stack.start_worker()  # recovery sends both again; the destroy is older than the apply
    old, new = wait_all_finished([stale, again])
    assert (old.status, new.status) == ("superseded", "succeeded"), (old.error, new.error)
    assert old.started is None
    # The broker's late redelivery of the stale message (after its visibility timeout) changes nothing.
    jobs.send(old)
    time.sleep(3)
    assert Job.objects.get(pk=stale).status == "superseded"
    assert Deployment.objects.get(lab_id=lab_id).state == "deployed"
    assert len(namespaces_of(tag)) == 30


def restart_redis(url: str) -> None:
    """Stop the Redis at `url` (no persistence: its queues are lost) and start it again, the same way."""
    port = urllib.parse.urlparse(url).port or 6379
    client = redis.Redis.from_url(url)
    directory = str(client.config_get("dir")["dir"])
    pidfile = str(client.config_get("pidfile").get("pidfile") or f"{directory}/redis.pid")
    logfile = str(client.config_get("logfile").get("logfile") or f"{directory}/redis.log")
    try:
        client.shutdown(nosave=True)
    except redis.exceptions.ConnectionError:
        pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=0.2).ping()
        except redis.exceptions.ConnectionError:
            break
        time.sleep(0.05)
    subprocess.run(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                    "--daemonize", "yes", "--dir", directory, "--pidfile", pidfile, "--logfile", logfile], check=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=0.2).ping()
            return
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("Redis did not come back")


def test_redis_restarted_during_an_apply_with_jobs_queued_loses_no_job(stack: Stack, settings: Any) -> None:
    try:
        redis_restarted_during_an_apply(stack)
    finally:
        # The web tier's own Redis clients (presence, channel layer) answer their first requests after a
        # restart with errors: give the next tests a fresh daphne and channel layer (the worker is what
        # this test is about).
        # This process's channel layer too (tests publish through it).
        from channels.layers import channel_layers

        stack.daphne.stop()
        stack.daphne.start()
        stack.wait_web()
        channel_layers.backends.clear()


def redis_restarted_during_an_apply(stack: Stack) -> None:
    token = api_token(make_user("restarter"))
    big = create_lab(stack, token, "big", star(80))
    small = create_lab(stack, token, "small", star(10))
    first = apply(stack, token, big)
    ids = [first]
    with stopped(holder_pid(big, first)):  # the apply is mid-way while Redis goes away
        ids.append(destroy(stack, token, big))
        ids.append(apply(stack, token, big))  # the last request of `big`
        ids.append(apply(stack, token, small))
        time.sleep(1)
        restart_redis(stack.redis_url)
    done = wait_all_finished(ids, timeout=240)
    assert not Job.objects.filter(status="queued").exists()
    assert all(j.status in ("succeeded", "failed", "superseded") for j in done), [(j.pk, j.status) for j in done]
    assert done[-2].status == "succeeded" and done[-1].status == "succeeded", [(j.status, j.error) for j in done]
    # The kernel matches the last request of each lab.
    for lab_id, size in ((big, 80), (small, 10)):
        deployment = Deployment.objects.get(lab_id=lab_id)
        assert deployment.state == "deployed"
        assert len(namespaces_of(deployment.tag)) == size
