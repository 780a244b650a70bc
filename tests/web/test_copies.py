"""Copies for a class, reset, the teacher's table, and the per-user quotas (both sides of each number)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from topology.choices import DeploymentState, JobKind, JobStatus, Role
from topology.models import Deployment, Job, Lab, LabMembership, Team, TeamMembership, TopologyVersion

from .conftest import World, example, make_user


def post(client: Any, url: str, body: Any = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def test_copies_by_names_each_owned_by_its_student(world: World) -> None:
    for name in ("ann", "ben"):
        make_user(name)
    response = post(world.client("owner"), f"/api/labs/{world.lab.pk}/copies", {"owners": ["ann", "ben"]})
    assert response.status_code == 201, response.content
    labs = response.json()["labs"]
    assert [c["owner"] for c in labs] == ["ann", "ben"]
    for row in labs:
        copy = Lab.objects.get(pk=row["id"])
        assert copy.slug == row["slug"] and copy.owner.username == row["owner"]
        assert copy.template_id == world.lab.pk and copy.template_version == 1
        assert copy.versions.get(number=1).document == world.lab.versions.get(number=1).document
        # The teacher may help (operator), the copy stays the student's.
        assert LabMembership.objects.get(lab=copy, user=world.users["owner"]).role == Role.OPERATOR
    # The student sees their copy and not the other's.
    ann = world.client("viewer")
    ann.force_login(Lab.objects.get(pk=labs[0]["id"]).owner)
    seen = {lab["id"] for lab in ann.get("/api/labs").json()}
    assert labs[0]["id"] in seen and labs[1]["id"] not in seen
    # Twice is harmless: the same copies come back.
    again = post(world.client("owner"), f"/api/labs/{world.lab.pk}/copies", {"owners": ["ben", "ann"]})
    assert sorted(c["id"] for c in again.json()["labs"]) == sorted(c["id"] for c in labs)
    assert Lab.objects.filter(template=world.lab).count() == 2


def test_copies_for_a_team(world: World) -> None:
    team = Team.objects.create(name="Class 1", slug="class-1")
    for name in ("cat", "dan"):
        TeamMembership.objects.create(team=team, user=make_user(name), role=Role.VIEWER)
    response = post(world.client("owner"), f"/api/labs/{world.lab.pk}/copies", {"team": "class-1"})
    assert response.status_code == 201 and [c["owner"] for c in response.json()["labs"]] == ["cat", "dan"]
    assert post(world.client("owner"), f"/api/labs/{world.lab.pk}/copies", {"team": "nope"}).status_code == 422


@pytest.mark.parametrize(("who", "body", "status"), [
    ("editor", {"owners": ["viewer"]}, 403),
    ("outsider", {"owners": ["viewer"]}, 404),
    ("owner", {"owners": []}, 422),
    ("owner", {"owners": ["viewer", "ghost"]}, 422),
])
def test_copies_refused(world: World, who: str, body: dict[str, Any], status: int) -> None:
    response = post(world.client(who), f"/api/labs/{world.lab.pk}/copies", body)
    assert response.status_code == status, response.content
    assert not Lab.objects.filter(template=world.lab).exists()
    if status == 422 and body["owners"]:
        assert response.json()["errors"] == [{"path": "owners[1]", "message": "no active user named 'ghost'"}]


def test_reset_brings_back_the_template_version(world: World) -> None:
    make_user("eve")
    copy_id = post(world.client("owner"), f"/api/labs/{world.lab.pk}/copies", {"owners": ["eve"]}).json()["labs"][0]["id"]
    eve = world.client("viewer")
    eve.force_login(Lab.objects.get(pk=copy_id).owner)
    broken = example("seed-2-bridge")
    assert eve.put(f"/api/labs/{copy_id}/topology", data=json.dumps({"version": 1, "topology": broken}),
                   content_type="application/json").status_code == 200
    # The template moves on: the copy still resets to the version it was made from.
    TopologyVersion.objects.create(lab=world.lab, number=2, document=example("router"))
    Lab.objects.filter(pk=world.lab.pk).update(version=2)
    response = post(eve, f"/api/labs/{copy_id}/reset")
    assert response.status_code == 200 and response.json() == {"version": 3}
    assert TopologyVersion.objects.get(lab_id=copy_id, number=3).document == example("seed-1-direct")
    # The template deleted: the copy's first version is the same document.
    Lab.objects.filter(pk=world.lab.pk).update(version=2)
    world.lab.delete()
    assert post(eve, f"/api/labs/{copy_id}/reset").json() == {"version": 4}
    assert TopologyVersion.objects.get(lab_id=copy_id, number=4).document == example("seed-1-direct")


def test_reset_refused(world: World) -> None:
    response = post(world.client("owner"), f"/api/labs/{world.lab.pk}/reset")
    assert response.status_code == 409 and "not a copy" in response.json()["detail"]
    assert post(world.client("viewer"), f"/api/labs/{world.lab.pk}/reset").status_code == 403


def _test_job(lab_id: int, results: list[bool], *, finished_at: Any = None, status: str = JobStatus.SUCCEEDED) -> Job:
    checks = [{"check": {"from": "red", "to": "blue", "expect": "reachable"}, "passed": p,
               "measured": "reachable" if p else "unreachable", "explain": {}} for p in results]
    return Job.objects.create(lab_id=lab_id, kind=JobKind.TEST, status=status, finished=finished_at or timezone.now(),
                              result={"passed": sum(results), "failed": len(results) - sum(results), "checks": checks})


def test_class_table_shows_each_copy_and_its_latest_finished_test(world: World) -> None:
    for name in ("fay", "gil"):
        make_user(name)
    made = post(world.client("owner"), f"/api/labs/{world.lab.pk}/copies", {"owners": ["fay", "gil"]}).json()["labs"]
    fay, gil = made[0]["id"], made[1]["id"]
    _test_job(fay, [True, False], finished_at=timezone.now() - timedelta(minutes=5))
    _test_job(fay, [True, True])
    Job.objects.create(lab_id=fay, kind=JobKind.TEST, status=JobStatus.RUNNING)  # not finished: not shown
    Deployment.objects.create(lab_id=gil, worker_host="h", state=DeploymentState.DEPLOYED)
    rows = world.client("owner").get(f"/api/labs/{world.lab.pk}/copies").json()
    assert [r["owner"] for r in rows] == ["fay", "gil"]
    assert rows[0]["test"]["passed"] == 2 and rows[0]["test"]["failed"] == 0
    assert rows[0]["test"]["checks"][0] == {"check": "red → blue reachable", "passed": True, "measured": "reachable"}
    assert rows[1]["test"] is None and rows[1]["state"] == "deployed"
    # Only the template's owner (or staff) sees the table.
    assert world.client("operator").get(f"/api/labs/{world.lab.pk}/copies").status_code == 403
    assert world.client("staff").get(f"/api/labs/{world.lab.pk}/copies").status_code == 200
    page = world.client("owner").get(f"/labs/{world.lab.pk}/class/")
    assert page.status_code == 200 and b"2 passed, 0 failed" in page.content and b"not tested yet" in page.content
    assert world.client("viewer").get(f"/labs/{world.lab.pk}/class/").status_code == 404


def test_class_page_makes_copies(world: World) -> None:
    make_user("hal")
    client = world.client("owner")
    done = client.post(f"/labs/{world.lab.pk}/class/", {"owners": "hal, ghost"}, follow=True)
    assert b"No copies made" in done.content and b"ghost" in done.content
    done = client.post(f"/labs/{world.lab.pk}/class/", {"owners": "hal"}, follow=True)
    assert b"1 copy: hal." in done.content and Lab.objects.filter(template=world.lab, owner__username="hal").exists()


# ------------------------------------------------------------------------------------------- quotas


def _deployed_lab(owner: Any, name: str, document: dict[str, Any]) -> Lab:
    lab = Lab.objects.create(name=name, slug=name, owner=owner, version=1)
    version = TopologyVersion.objects.create(lab=lab, number=1, document=document)
    Deployment.objects.create(lab=lab, worker_host="h", state=DeploymentState.DEPLOYED, version=version)
    return lab


@pytest.mark.parametrize(("limit", "ok"), [(2, True), (1, False)])
def test_deployed_labs_quota(world: World, settings: Any, limit: int, ok: bool) -> None:
    """The owner of the world's lab has it deployed; one more lab to apply: 2 fits, 1 does not."""
    settings.NETDESIGNER_MAX_DEPLOYED_LABS_PER_USER = limit
    owner = world.users["owner"]
    new = Lab.objects.create(name="Second", slug="second", owner=owner, version=1)
    TopologyVersion.objects.create(lab=new, number=1, document=example("seed-1-direct"))
    response = post(world.client("owner"), f"/api/labs/{new.pk}/apply")
    if ok:
        assert response.status_code == 202
    else:
        assert response.status_code == 409
        assert "NETDESIGNER_MAX_DEPLOYED_LABS_PER_USER" in response.json()["detail"]
        assert not Job.objects.filter(lab=new).exists()
    # Re-applying a lab that is already in the kernel adds no lab: always allowed.
    assert post(world.client("owner"), f"/api/labs/{world.lab.pk}/apply").status_code == 202


@pytest.mark.parametrize(("limit", "ok"), [(5, True), (4, False)])
def test_namespaces_quota(world: World, settings: Any, limit: int, ok: bool) -> None:
    """seed-1-direct makes 2 namespaces (red, blue), seed-2-bridge 3 (red, blue, the implicit host):
    2 held + 3 wanted = 5."""
    settings.NETDESIGNER_MAX_NAMESPACES_PER_USER = limit
    owner = world.users["owner"]
    Deployment.objects.filter(lab=world.lab).update(version=world.lab.versions.get(number=1))
    new = Lab.objects.create(name="Bridged", slug="bridged", owner=owner, version=1)
    TopologyVersion.objects.create(lab=new, number=1, document=example("seed-2-bridge"))
    response = post(world.client("owner"), f"/api/labs/{new.pk}/apply")
    if ok:
        assert response.status_code == 202
    else:
        assert response.status_code == 409
        detail = response.json()["detail"]
        assert "NETDESIGNER_MAX_NAMESPACES_PER_USER" in detail and "needs 3" in detail and "holds 2" in detail


def test_quotas_count_per_owner_and_zero_is_no_limit(world: World, settings: Any) -> None:
    settings.NETDESIGNER_MAX_DEPLOYED_LABS_PER_USER = 1
    other = make_user("other-owner")
    _deployed_lab(other, "others-lab", example("seed-1-direct"))
    # Another user's deployed lab does not count against the world's owner (already at 1: re-apply ok).
    assert post(world.client("owner"), f"/api/labs/{world.lab.pk}/apply").status_code == 202
    settings.NETDESIGNER_MAX_DEPLOYED_LABS_PER_USER = 0
    _deployed_lab(world.users["owner"], "third", example("seed-1-direct"))
    new = Lab.objects.create(name="Fourth", slug="fourth", owner=world.users["owner"], version=1)
    TopologyVersion.objects.create(lab=new, number=1, document=example("seed-1-direct"))
    assert post(world.client("owner"), f"/api/labs/{new.pk}/apply").status_code == 202
