"""Labs over the REST API: shapes, saving with optimistic concurrency, versions, export, delete."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from django.test import Client

from topology import events
from topology.choices import DeploymentState
from topology.models import AuditEvent, Deployment, Job, Lab, TopologyVersion

from .conftest import World, example


def put(client: Client, lab_id: int, version: int, topology: Any) -> Any:
    body = json.dumps({"version": version, "topology": topology})
    return client.put(f"/api/labs/{lab_id}/topology", data=body, content_type="application/json")


def post(client: Client, url: str, body: Any = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def test_create_lab_shape_and_unique_slugs(world: World) -> None:
    client = world.client("editor")
    first = post(client, "/api/labs", {"name": "My Lab", "topology": example("seed-2-bridge")})
    second = post(client, "/api/labs", {"name": "My Lab", "topology": example("seed-2-bridge")})
    assert first.status_code == 201 and second.status_code == 201
    assert set(first.json()) == {"id", "slug", "version"}
    # a random suffix, never a counter that would reveal the other lab (tests/web/test_quota.py)
    assert re.fullmatch(r"my-lab-[a-z2-9]{6}", first.json()["slug"]) and first.json()["slug"] != second.json()["slug"]
    assert first.json()["version"] == 1
    lab = Lab.objects.get(pk=first.json()["id"])
    assert lab.owner == world.users["editor"]
    assert TopologyVersion.objects.get(lab=lab, number=1).document == example("seed-2-bridge")


def test_every_example_is_accepted(world: World) -> None:
    client = world.client("viewer")
    for name in ["seed-1-direct", "seed-2-bridge", "seed-3-outside-no-route", "seed-4-outside-no-nat",
                 "seed-5-nat", "seed-6-port-forward", "router"]:
        response = post(client, "/api/labs", {"name": name, "topology": example(name)})
        assert response.status_code == 201, (name, response.content)


def test_lab_detail_shape(world: World) -> None:
    body = world.client("viewer").get(f"/api/labs/{world.lab.pk}").json()
    assert {"id", "slug", "name", "version", "topology", "deployment", "role"} <= set(body)
    assert body["topology"] == example("seed-1-direct")
    assert body["deployment"]["state"] == "deployed"
    assert body["role"] == "viewer"


def test_stale_save_is_refused_and_reload_works(world: World) -> None:
    alice, bob = world.client("editor"), world.client("owner")
    doc_a = example("seed-1-direct") | {"description": "alice"}
    doc_b = example("seed-1-direct") | {"description": "bob"}
    assert put(alice, world.lab.pk, 1, doc_a).json() == {"version": 2}
    stale = put(bob, world.lab.pk, 1, doc_b)
    assert stale.status_code == 409
    assert "reload" in stale.json()["detail"]
    current = bob.get(f"/api/labs/{world.lab.pk}").json()
    assert current["version"] == 2 and current["topology"]["description"] == "alice"
    assert put(bob, world.lab.pk, current["version"], doc_b).json() == {"version": 3}
    history = {v.number: v.document["description"] for v in TopologyVersion.objects.filter(lab=world.lab)}
    assert history == {1: example("seed-1-direct")["description"], 2: "alice", 3: "bob"}


HOSTILE: list[tuple[str, Any]] = [
    ("not an object", ["nodes"]),
    ("wrong format", {"format": "other/v9", "name": "x", "nodes": [], "links": []}),
    ("nodes not a list", {"format": "netdesigner/v1", "name": "x", "nodes": "red", "links": []}),
    ("shell in a name", {"format": "netdesigner/v1", "name": "x",
                         "nodes": [{"name": "red;reboot", "kind": "namespace"}], "links": []}),
    ("unknown field", {"format": "netdesigner/v1", "name": "x", "nodes": [], "links": [], "evil": True}),
    ("huge string", {"format": "netdesigner/v1", "name": "x" * 100_000, "nodes": [], "links": []}),
    ("deep nesting", {"format": "netdesigner/v1", "name": "x", "nodes": [{"name": {"a": [[[[[[{}]]]]]]}}]}),
    ("too many nodes", {"format": "netdesigner/v1", "name": "x", "links": [],
                        "nodes": [{"name": f"n{i}", "kind": "namespace"} for i in range(2001)]}),
]


@pytest.mark.parametrize(("label", "document"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_invalid_documents_change_nothing(world: World, label: str, document: Any) -> None:
    response = put(world.client("editor"), world.lab.pk, 1, document)
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert errors and all(set(e) == {"path", "message"} for e in errors)
    world.lab.refresh_from_db()
    assert world.lab.version == 1
    assert TopologyVersion.objects.filter(lab=world.lab).count() == 1


def test_every_problem_is_listed(world: World) -> None:
    document = copy.deepcopy(example("seed-1-direct"))
    document["links"][0]["a"]["interface"] = "veth-red-bridge-0"  # 17 bytes
    document["links"][0]["b"]["addresses"] = ["192.168.15.0/24"]  # the network address
    document["nodes"].append({"name": "red", "kind": "namespace"})  # duplicate
    response = put(world.client("editor"), world.lab.pk, 1, document)
    assert response.status_code == 422
    paths = [e["path"] for e in response.json()["errors"]]
    assert len(paths) >= 3, paths
    assert any(p.startswith("links[0].a.interface") for p in paths)
    assert any(p.startswith("links[0].b.addresses") for p in paths)
    assert any(p.startswith("nodes[2]") for p in paths)


def test_create_with_invalid_document_creates_nothing(world: World) -> None:
    response = post(world.client("editor"), "/api/labs", {"name": "bad", "topology": {"format": "x"}})
    assert response.status_code == 422 and response.json()["errors"]
    assert not Lab.objects.filter(name="bad").exists()


def test_save_publishes_after_commit_and_survives_redis_failure(
    world: World, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    sent: list[tuple[int, dict[str, Any]]] = []
    monkeypatch.setattr(events, "publish", lambda lab_id, event: sent.append((lab_id, event)))
    with django_capture_on_commit_callbacks(execute=True):
        assert put(world.client("editor"), world.lab.pk, 1, example("seed-1-direct")).status_code == 200
    assert sent == [(world.lab.pk, {"type": "topology.updated", "version": 2, "by": "editor"})]

    def broken(lab_id: int, event: dict[str, Any]) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(events, "publish", broken)
    with django_capture_on_commit_callbacks(execute=True):
        assert put(world.client("editor"), world.lab.pk, 2, example("seed-1-direct")).status_code == 200
    assert AuditEvent.objects.filter(lab=world.lab, action="topology.saved").count() == 2


def test_versions_diff_and_restore(world: World) -> None:
    client = world.client("editor")
    changed = copy.deepcopy(example("seed-1-direct"))
    changed["nodes"].append({"name": "green", "kind": "namespace"})
    changed["links"][0]["a"]["addresses"] = ["192.168.15.9/24"]
    assert put(client, world.lab.pk, 1, changed).status_code == 200
    versions = client.get(f"/api/labs/{world.lab.pk}/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[0]["author"] == "editor"
    diff = client.get(f"/api/labs/{world.lab.pk}/versions/2/diff").json()
    assert diff["from"] == 1 and diff["to"] == 2
    assert [n["name"] for n in diff["nodes"]["added"]] == ["green"]
    assert len(diff["links"]["changed"]) == 1 and not diff["links"]["added"]
    restored = post(client, f"/api/labs/{world.lab.pk}/versions/1/restore", {"version": 2})
    assert restored.json() == {"version": 3}
    assert client.get(f"/api/labs/{world.lab.pk}/versions/3").json()["topology"] == example("seed-1-direct")
    assert post(client, f"/api/labs/{world.lab.pk}/versions/1/restore", {"version": 2}).status_code == 409
    assert client.get(f"/api/labs/{world.lab.pk}/versions/99").status_code == 404


def test_export_json_and_shell(world: World) -> None:
    client = world.client("viewer")
    as_json = client.get(f"/api/labs/{world.lab.pk}/export?format=json")
    assert json.loads(as_json.content) == example("seed-1-direct")
    as_sh = client.get(f"/api/labs/{world.lab.pk}/export?format=sh")
    assert as_sh.status_code == 200 and b"ip netns add" in as_sh.content
    assert client.get(f"/api/labs/{world.lab.pk}/export?format=xml").status_code == 422


def test_delete_of_a_deployed_lab_destroys_first(world: World) -> None:
    client = world.client("owner")
    deferred = client.delete(f"/api/labs/{world.lab.pk}")
    assert deferred.status_code == 202 and Job.objects.get(pk=deferred.json()["job"]).kind == "delete"
    assert Lab.objects.filter(pk=world.lab.pk).exists()  # until the worker destroyed it
    Deployment.objects.filter(lab=world.lab).update(state=DeploymentState.DESTROYED)
    assert client.delete(f"/api/labs/{world.lab.pk}").status_code == 204
    assert not Lab.objects.filter(pk=world.lab.pk).exists()


def test_members_management(world: World) -> None:
    owner = world.client("owner")
    url = f"/api/labs/{world.lab.pk}/members"
    assert post(owner, url, {"username": "outsider", "role": "editor"}).status_code == 201
    assert world.client("outsider").get(f"/api/labs/{world.lab.pk}").json()["role"] == "editor"
    members = {m["username"]: m["role"] for m in owner.get(url).json()}
    assert members["outsider"] == "editor" and members["owner"] == "owner"
    assert post(owner, url, {"username": "nobody", "role": "editor"}).status_code == 422
    assert post(owner, url, {"username": "viewer", "role": "king"}).status_code == 422
    assert owner.delete(f"{url}/outsider").status_code == 204
    assert world.client("outsider").get(f"/api/labs/{world.lab.pk}").status_code == 404
    assert owner.delete(f"{url}/outsider").status_code == 404


def test_lab_list_is_constant_queries(world: World, django_assert_max_num_queries: Any) -> None:
    owner = world.users["owner"]
    for i in range(30):
        lab = Lab.objects.create(name=f"lab {i}", slug=f"lab-{i}", owner=owner, version=1, team=world.lab.team)
        if i % 2:
            Deployment.objects.create(lab=lab, worker_host="h")
    client = world.client("editor")
    with django_assert_max_num_queries(4):
        response = client.get("/api/labs")
    assert len(response.json()) == 31


def test_restore_without_body_and_oversized_request(world: World) -> None:
    client = world.client("editor")
    restored = client.post(f"/api/labs/{world.lab.pk}/versions/1/restore")
    assert restored.status_code == 200 and restored.json() == {"version": 2}
    huge = json.dumps({"version": 2, "topology": {"name": "x" * 3_000_000}})
    response = client.put(f"/api/labs/{world.lab.pk}/topology", data=huge, content_type="application/json")
    assert 400 <= response.status_code < 500
    world.lab.refresh_from_db()
    assert world.lab.version == 2


def test_create_in_a_team(world: World) -> None:
    body = {"name": "Team lab", "topology": example("seed-1-direct"), "team": "team-a"}
    assert post(world.client("viewer"), "/api/labs", body).status_code == 422  # not a team member
    created = post(world.client("editor"), "/api/labs", body)
    assert created.status_code == 201
    assert Lab.objects.get(pk=created.json()["id"]).team == world.lab.team
    # team viewers see it (operator is a team viewer)
    assert world.client("operator").get(f"/api/labs/{created.json()['id']}").json()["role"] == "viewer"
