"""Kernel operations over the API: jobs are created and handed to the worker (a stand-in here)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from topology.choices import DeploymentState, JobKind, JobStatus
from topology.models import AuditEvent, Deployment, Job

from .conftest import FakeWorker, World


def post(client: Any, url: str, body: Any = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def test_apply_creates_deployment_job_and_enqueues(world: World, worker: FakeWorker) -> None:
    Deployment.objects.filter(lab=world.lab).delete()
    response = post(world.client("operator"), f"/api/labs/{world.lab.pk}/apply")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job"])
    assert (job.kind, job.params, job.status) == (JobKind.APPLY, {"version": 1}, JobStatus.QUEUED)
    assert job.created_by == world.users["operator"]
    deployment = Deployment.objects.get(lab=world.lab)
    assert deployment.worker_host == settings.WORKER_HOST and deployment.state == DeploymentState.PENDING
    assert [j.pk for j in worker.enqueued] == [job.pk]
    assert AuditEvent.objects.filter(lab=world.lab, action="job.apply").exists()


def test_job_shape_adds_result_when_finished(world: World) -> None:
    client = world.client("viewer")
    job = Job.objects.create(lab=world.lab, kind=JobKind.PING, params={}, result={"sent": 1})
    body = client.get(f"/api/jobs/{job.pk}").json()
    assert {"id", "kind", "status", "done", "total", "error", "log", "result"} <= set(body)
    assert body["status"] == "queued" and body["result"] is None
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    assert client.get(f"/api/jobs/{job.pk}").json()["result"] == {"sent": 1}


def test_ping_params_are_checked(world: World, worker: FakeWorker) -> None:
    url = f"/api/labs/{world.lab.pk}/ping"
    client = world.client("operator")
    bad = post(client, url, {"source": "green", "target": "; reboot", "count": 1000})
    assert bad.status_code == 422
    assert {e["path"] for e in bad.json()["errors"]} == {"source", "target", "count"}
    good = post(client, url, {"source": "red", "target": "blue", "count": 2})
    assert good.status_code == 202
    assert Job.objects.get(pk=good.json()["job"]).params == {"source": "red", "target": "blue", "count": 2}
    assert not worker.enqueued[:-1]


def test_reads_go_through_the_worker(world: World, worker: FakeWorker) -> None:
    client = world.client("viewer")
    tables = client.get(f"/api/labs/{world.lab.pk}/nodes/red/tables")
    assert tables.json() == {"interfaces": [], "arp": [], "routes": []}
    assert worker.waited[-1].params == {"node": "red"}
    assert client.get(f"/api/labs/{world.lab.pk}/drift").json() == []
    plan = post(client, f"/api/labs/{world.lab.pk}/plan")
    assert plan.json()["operations"][0]["op"] == "netns.add"
    assert worker.waited[-1].kind == JobKind.PLAN
    assert client.get(f"/api/labs/{world.lab.pk}/nodes/nosuch/tables").status_code == 404


def test_worker_timeout_and_failure(world: World, worker: FakeWorker) -> None:
    client = world.client("viewer")
    worker.answer = False
    timeout = client.get(f"/api/labs/{world.lab.pk}/drift")
    assert timeout.status_code == 504 and "worker" in timeout.json()["detail"]
    worker.answer, worker.fail = True, "netns vanished"
    failed = client.get(f"/api/labs/{world.lab.pk}/drift")
    assert failed.status_code == 502 and failed.json()["detail"] == "netns vanished"


def test_reads_need_a_deployment(world: World, worker: FakeWorker) -> None:
    Deployment.objects.filter(lab=world.lab).update(state=DeploymentState.DESTROYED)
    response = world.client("viewer").get(f"/api/labs/{world.lab.pk}/drift")
    assert response.status_code == 409 and "lab is not deployed" in response.json()["detail"]
    Deployment.objects.filter(lab=world.lab).delete()
    assert world.client("viewer").get(f"/api/labs/{world.lab.pk}/nodes/red/tables").status_code == 409
    assert not worker.waited


def test_jobs_list(world: World, worker: FakeWorker) -> None:
    post(world.client("operator"), f"/api/labs/{world.lab.pk}/destroy")
    jobs = world.client("viewer").get(f"/api/labs/{world.lab.pk}/jobs").json()
    assert [j["kind"] for j in jobs] == ["destroy"]


def test_openapi_documents_the_contract(world: World) -> None:
    schema = world.client("anonymous").get("/api/openapi.json").json()
    for path in ["/api/labs", "/api/labs/{lab_id}", "/api/labs/{lab_id}/topology", "/api/labs/{lab_id}/plan",
                 "/api/labs/{lab_id}/apply", "/api/labs/{lab_id}/destroy", "/api/jobs/{job_id}",
                 "/api/labs/{lab_id}/ping", "/api/labs/{lab_id}/nodes/{node}/tables", "/api/labs/{lab_id}/drift"]:
        assert path in schema["paths"], path
    put = schema["paths"]["/api/labs/{lab_id}/topology"]["put"]["responses"]
    assert {"200", "409", "422"} <= set(put)
    assert world.client("anonymous").get("/api/docs").status_code == 200
