"""Deleting a lab destroys it first: at once when nothing is in the kernel, else through a delete job
(API, labs service, admin), which deletes the rows only after its destroy; its creator can follow it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from topology.choices import DeploymentState, JobKind
from topology.models import Deployment, Job, Lab, TopologyVersion
from topology.services.errors import Conflict
from topology.services.labs import lab_delete

from .conftest import FakeWorker, World


@pytest.mark.parametrize(("state", "deferred"), [
    (DeploymentState.PENDING, False), (DeploymentState.DESTROYED, False),
    (DeploymentState.DEPLOYED, True), (DeploymentState.FAILED, True),
    (DeploymentState.APPLYING, True), (DeploymentState.DESTROYING, True),
])
def test_api_delete_by_state(world: World, worker: FakeWorker, state: str, deferred: bool) -> None:
    Deployment.objects.filter(lab=world.lab).update(state=state)
    response = world.client("owner").delete(f"/api/labs/{world.lab.pk}")
    if deferred:
        assert response.status_code == 202
        job = Job.objects.get(pk=response.json()["job"])
        assert job.kind == JobKind.DELETE and job.lab_id == world.lab.pk and worker.enqueued == [job]
        assert Lab.objects.filter(pk=world.lab.pk).exists()
        again = world.client("owner").delete(f"/api/labs/{world.lab.pk}")
        assert again.status_code == 202 and again.json()["job"] == job.pk  # one delete job, not two
    else:
        assert response.status_code == 204 and not Lab.objects.filter(pk=world.lab.pk).exists()
        assert worker.enqueued == []


def test_api_delete_without_deployment_and_by_non_owner(world: World) -> None:
    Deployment.objects.filter(lab=world.lab).delete()
    assert world.client("operator").delete(f"/api/labs/{world.lab.pk}").status_code == 403
    assert world.client("owner").delete(f"/api/labs/{world.lab.pk}").status_code == 204
    assert not TopologyVersion.objects.filter(lab_id=world.lab.pk).exists()


def test_old_service_still_refuses_a_live_lab(world: World) -> None:
    with pytest.raises(Conflict, match="destroy it first"):
        lab_delete(lab=world.lab, user=world.users["owner"])


def test_the_creator_of_a_delete_job_can_read_it_after_the_lab_is_gone(world: World) -> None:
    response = world.client("owner").delete(f"/api/labs/{world.lab.pk}")
    job_id = response.json()["job"]
    Job.objects.filter(pk=job_id).update(lab=None, status="succeeded")  # what the worker does
    Lab.objects.filter(pk=world.lab.pk).delete()
    assert world.client("owner").get(f"/api/jobs/{job_id}").json()["status"] == "succeeded"
    assert world.client("viewer").get(f"/api/jobs/{job_id}").status_code == 404


def _admin(world: World) -> Client:
    staff = world.users["staff"]
    staff.is_superuser = True
    staff.save()
    return world.client("staff")


def test_admin_delete_of_a_deployed_lab_destroys_first(world: World, worker: FakeWorker) -> None:
    client = _admin(world)
    url = f"/admin/topology/lab/{world.lab.pk}/delete/"
    page = client.get(url)
    assert b"deleting it destroys its namespaces first" in page.content
    done = client.post(url, {"post": "yes"}, follow=True)
    assert Lab.objects.filter(pk=world.lab.pk).exists()
    assert [j.kind for j in worker.enqueued] == [JobKind.DELETE]
    assert b"destroying it first" in done.content and b"deleted successfully" not in done.content


def test_admin_delete_of_an_undeployed_lab_is_immediate(world: World, worker: FakeWorker) -> None:
    Deployment.objects.filter(lab=world.lab).update(state=DeploymentState.DESTROYED)
    client = _admin(world)
    url = f"/admin/topology/lab/{world.lab.pk}/delete/"
    assert b"destroys its namespaces first" not in client.get(url).content
    client.post(url, {"post": "yes"})
    assert not Lab.objects.filter(pk=world.lab.pk).exists() and worker.enqueued == []


def test_admin_bulk_delete_action(world: World, worker: FakeWorker) -> None:
    other = Lab.objects.create(name="Idle", slug="idle", owner=world.users["owner"], version=0)
    client = _admin(world)
    data: dict[str, Any] = {"action": "delete_selected", "_selected_action": [world.lab.pk, other.pk], "post": "yes"}
    client.post("/admin/topology/lab/", data)
    assert not Lab.objects.filter(pk=other.pk).exists()
    assert Lab.objects.filter(pk=world.lab.pk).exists() and [j.kind for j in worker.enqueued] == [JobKind.DELETE]
