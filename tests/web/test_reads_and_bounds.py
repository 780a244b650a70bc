"""Reads that do not hold the web request, and pings bounded per user (the worker is a stand-in)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from topology import watch
from topology.choices import JobKind, JobStatus
from topology.models import Job

from .conftest import FakeWorker, World

TABLES = {"interfaces": [{"name": "veth-red", "mac": "aa:bb:cc:00:00:01", "state": "up", "addresses": []}],
          "arp": [], "routes": []}


def post(client: Any, url: str, body: Any = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


@pytest.mark.parametrize("kind", ["tables", "drift", "plan"])
def test_a_read_with_wait_false_answers_202_with_its_job_at_once(world: World, worker: FakeWorker, kind: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "cached_tables", lambda lab_id, node, max_age=watch.CACHE_MAX_AGE: None)
    client = world.client("viewer")
    url = {"tables": f"/api/labs/{world.lab.pk}/nodes/red/tables", "drift": f"/api/labs/{world.lab.pk}/drift",
           "plan": f"/api/labs/{world.lab.pk}/plan"}[kind]
    response = post(client, url + "?wait=false") if kind == "plan" else client.get(url + "?wait=false")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job"])
    assert (job.kind, job.status) == (kind, JobStatus.QUEUED)
    assert [j.pk for j in worker.enqueued] == [job.pk] and worker.waited == []


def test_tables_answer_from_the_watchers_cache_without_a_job(world: World, worker: FakeWorker,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "cached_tables", lambda lab_id, node, max_age=watch.CACHE_MAX_AGE:
                        TABLES if (lab_id, node) == (world.lab.pk, "red") else None)
    response = world.client("viewer").get(f"/api/labs/{world.lab.pk}/nodes/red/tables")
    assert (response.status_code, response.json()) == (200, TABLES)
    assert not Job.objects.filter(kind=JobKind.TABLES).exists() and worker.waited == []
    # A node the cache does not hold is read through the worker, as before.
    assert world.client("viewer").get(f"/api/labs/{world.lab.pk}/nodes/blue/tables").status_code == 200
    assert [j.params for j in worker.waited] == [{"node": "blue"}]


@pytest.mark.parametrize(("active", "status"), [(2, 202), (3, 429)])
def test_pings_are_bounded_per_user(world: World, worker: FakeWorker, settings: Any, active: int, status: int) -> None:
    settings.NETDESIGNER_MAX_PINGS_PER_USER = 3
    operator = world.users["operator"]
    for _ in range(active):
        Job.objects.create(lab=world.lab, kind=JobKind.PING, created_by=operator, status=JobStatus.RUNNING)
    Job.objects.create(lab=world.lab, kind=JobKind.PING, created_by=world.users["owner"], status=JobStatus.RUNNING)
    Job.objects.create(lab=world.lab, kind=JobKind.PING, created_by=operator, status=JobStatus.SUCCEEDED)
    response = post(world.client("operator"), f"/api/labs/{world.lab.pk}/ping",
                    {"source": "red", "target": "blue", "count": 1})
    assert response.status_code == status, response.content
    if status == 429:
        assert response.json()["detail"] == ("you already have 3 pings queued or running (at most 3 at once); "
                                             "wait for one to finish")
