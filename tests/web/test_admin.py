"""The admin: every registered model's changelist, add and change pages; inspection; actions."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from topology.choices import JobKind
from topology.models import ApiToken, AuditEvent, Deployment, Job, TopologyVersion

from .conftest import FakeWorker, World


@pytest.fixture
def superuser_client(world: World) -> Client:
    boss = User.objects.create_superuser("boss", password="x")
    Job.objects.create(lab=world.lab, kind=JobKind.APPLY, params={"version": 1}, log=[{"at": "t", "message": "m"}])
    AuditEvent.objects.create(lab=world.lab, user=boss, action="test", detail={"a": 1})
    ApiToken.objects.create(user=boss)
    client = Client()
    client.force_login(boss)
    return client


def test_every_admin_page_renders(superuser_client: Client, world: World) -> None:
    visited = 0
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        base = f"admin:{meta.app_label}_{meta.model_name}"
        assert superuser_client.get(reverse(f"{base}_changelist")).status_code == 200, meta.model_name
        assert superuser_client.get(reverse(f"{base}_changelist") + "?q=a").status_code == 200
        add = superuser_client.get(reverse(f"{base}_add"))
        assert add.status_code == (200 if model_admin.has_add_permission(add.wsgi_request) else 403), meta.model_name
        obj = model._default_manager.first()
        if obj is not None:
            change = superuser_client.get(reverse(f"{base}_change", args=[obj.pk]))
            assert change.status_code == 200, meta.model_name
        visited += 1
    assert visited >= 10  # ours (9) and auth's


def test_deployment_page_shows_kernel_next_to_design(superuser_client: Client, world: World,
                                                      worker: FakeWorker) -> None:
    worker.results["drift"] = {
        "drift": [{"node": "red", "kind": "address", "what": "veth-red", "expected": "192.168.15.1/24",
                   "actual": None}],
        "nodes": {"red": {"interfaces": [{"name": "veth-red", "mac": "aa:bb:cc:00:00:01", "state": "up",
                                          "addresses": []}], "arp": [], "routes": []},
                  "blue": {"interfaces": [], "arp": [{"ip": "192.168.15.1", "mac": "aa:bb:cc:00:00:01",
                                                      "interface": "veth-blue", "state": "reachable"}],
                           "routes": []}},
    }
    deployment = Deployment.objects.get(lab=world.lab)
    page = superuser_client.get(reverse("admin:topology_deployment_change", args=[deployment.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Kernel now vs design" in html and "1 difference(s)" in html
    assert "aa:bb:cc:00:00:01" in html and "192.168.15.1/24" in html
    assert f"nd-{deployment.tag}-red" in html
    assert worker.waited[-1].params == {"tables": True}


def test_deployment_page_survives_a_silent_worker(superuser_client: Client, world: World,
                                                  worker: FakeWorker) -> None:
    worker.answer = False
    deployment = Deployment.objects.get(lab=world.lab)
    page = superuser_client.get(reverse("admin:topology_deployment_change", args=[deployment.pk]))
    assert page.status_code == 200
    assert "Could not read the kernel" in page.content.decode()


def test_admin_actions_queue_jobs(superuser_client: Client, world: World, worker: FakeWorker) -> None:
    url = reverse("admin:topology_lab_changelist")
    for action in ("reapply_labs", "destroy_labs"):
        response = superuser_client.post(url, {"action": action, "_selected_action": [world.lab.pk]})
        assert response.status_code == 302
    deployment = Deployment.objects.get(lab=world.lab)
    response = superuser_client.post(reverse("admin:topology_deployment_changelist"),
                                     {"action": "cleanup_orphans", "_selected_action": [deployment.pk]})
    assert response.status_code == 302
    kinds = [job.kind for job in worker.enqueued]
    assert kinds == ["apply", "destroy", "cleanup"]
    assert Job.objects.get(kind="cleanup").lab is None


def test_version_page_shows_document(superuser_client: Client, world: World) -> None:
    version = TopologyVersion.objects.get(lab=world.lab, number=1)
    page = superuser_client.get(reverse("admin:topology_topologyversion_change", args=[version.pk]))
    assert "veth-red" in page.content.decode()


def test_non_staff_cannot_use_admin(world: World) -> None:
    assert world.client("owner").get("/admin/").status_code == 302

