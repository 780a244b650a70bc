"""Authorization matrix: every lab endpoint for every kind of caller.

Right roles get the endpoint's 2xx; lower roles 403; outsiders 404 with exactly the body of a lab
that does not exist (existence must not leak); anonymous callers 401.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from topology.choices import JobKind, Role
from topology.models import Deployment, Job

from .conftest import ROLES, World, example, make_user

MISSING = 987654

SEED1_EDITED = example("seed-1-direct") | {"description": "edited"}

# name, method, path, body, least role, success status
ENDPOINTS: list[tuple[str, str, str, Any, str, int]] = [
    ("lab_get", "get", "/api/labs/{lab}", None, Role.VIEWER, 200),
    ("lab_patch", "patch", "/api/labs/{lab}", {"description": "new words"}, Role.EDITOR, 200),
    ("lab_delete", "delete", "/api/labs/{lab}", None, Role.OWNER, 204),
    ("topology_put", "put", "/api/labs/{lab}/topology", {"version": 1, "topology": SEED1_EDITED}, Role.EDITOR, 200),
    ("export_json", "get", "/api/labs/{lab}/export?format=json", None, Role.VIEWER, 200),
    ("versions", "get", "/api/labs/{lab}/versions", None, Role.VIEWER, 200),
    ("version_get", "get", "/api/labs/{lab}/versions/1", None, Role.VIEWER, 200),
    ("version_diff", "get", "/api/labs/{lab}/versions/1/diff", None, Role.VIEWER, 200),
    ("version_restore", "post", "/api/labs/{lab}/versions/1/restore", {}, Role.EDITOR, 200),
    ("members", "get", "/api/labs/{lab}/members", None, Role.VIEWER, 200),
    ("member_add", "post", "/api/labs/{lab}/members", {"username": "newbie", "role": "viewer"}, Role.OWNER, 201),
    ("member_change", "put", "/api/labs/{lab}/members/viewer", {"role": "editor"}, Role.OWNER, 200),
    ("member_remove", "delete", "/api/labs/{lab}/members/viewer", None, Role.OWNER, 204),
    ("plan", "post", "/api/labs/{lab}/plan", None, Role.VIEWER, 200),
    ("apply", "post", "/api/labs/{lab}/apply", None, Role.OPERATOR, 202),
    ("destroy", "post", "/api/labs/{lab}/destroy", None, Role.OPERATOR, 202),
    ("ping", "post", "/api/labs/{lab}/ping", {"source": "red", "target": "192.168.15.2", "count": 1}, Role.OPERATOR, 202),
    ("tables", "get", "/api/labs/{lab}/nodes/red/tables", None, Role.VIEWER, 200),
    ("drift", "get", "/api/labs/{lab}/drift", None, Role.VIEWER, 200),
    ("jobs", "get", "/api/labs/{lab}/jobs", None, Role.VIEWER, 200),
    ("job_get", "get", "/api/jobs/{job}", None, Role.VIEWER, 200),
]

RANK = {"outsider": 0, "viewer": 1, "editor": 2, "operator": 3, "owner": 4, "staff": 99}


def call(world: World, who: str, method: str, path: str, body: Any, lab_id: int, job_id: int) -> Any:
    client = world.client(who)
    url = path.format(lab=lab_id, job=job_id)
    kwargs: dict[str, Any] = {}
    if body is not None:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(client, method)(url, **kwargs)


def prepare(world: World, name: str) -> int:
    make_user("newbie")
    if name == "lab_delete":
        Deployment.objects.filter(lab=world.lab).delete()
    job = Job.objects.create(lab=world.lab, kind=JobKind.PING, params={})
    return job.pk


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
@pytest.mark.parametrize(("name", "method", "path", "body", "least", "ok"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_matrix(world: World, who: str, name: str, method: str, path: str, body: Any, least: str, ok: int) -> None:
    job_id = prepare(world, name)
    response = call(world, who, method, path, body, world.lab.pk, job_id)
    if who == "anonymous":
        assert response.status_code == 401, response.content
        assert "detail" in response.json()
    elif who == "outsider":
        assert response.status_code == 404, response.content
        missing = call(world, who, method, path, body, MISSING, MISSING)
        assert missing.status_code == 404
        assert response.content == missing.content
    elif RANK[who] >= Role.rank(least):
        assert response.status_code == ok, response.content
    else:
        assert response.status_code == 403, response.content
        assert "role" in response.json()["detail"]


def test_lab_list_shows_only_visible_labs(world: World) -> None:
    for who in ROLES:
        response = world.client(who).get("/api/labs")
        assert response.status_code == 200
        slugs = [lab["slug"] for lab in response.json()]
        assert slugs == ([] if who == "outsider" else ["tutorial"]), who
        if who != "outsider":
            role = response.json()[0]["role"]
            assert role == ("owner" if who == "staff" else who)
    assert world.client("anonymous").get("/api/labs").status_code == 401


def test_highest_role_wins(world: World) -> None:
    """operator has a lab membership (operator) and a team membership (viewer): operator counts."""
    body = world.client("operator").get(f"/api/labs/{world.lab.pk}").json()
    assert body["role"] == "operator"


def test_site_wide_jobs_only_for_staff(world: World) -> None:
    job = Job.objects.create(lab=None, kind=JobKind.CLEANUP, params={})
    assert world.client("staff").get(f"/api/jobs/{job.pk}").status_code == 200
    assert world.client("owner").get(f"/api/jobs/{job.pk}").status_code == 404


def test_bearer_token_without_csrf(world: World) -> None:
    from django.test import Client

    from topology.services.tokens import token_get_or_create

    token = token_get_or_create(user=world.users["editor"])
    client = Client(enforce_csrf_checks=True)
    auth = {"Authorization": f"Bearer {token.key}"}
    assert client.get("/api/me", headers=auth).json()["username"] == "editor"
    response = client.patch(
        f"/api/labs/{world.lab.pk}", data=json.dumps({"description": "x"}), content_type="application/json",
        headers=auth,
    )
    assert response.status_code == 200
    bad = client.get("/api/labs", HTTP_AUTHORIZATION="Bearer nope")
    assert bad.status_code == 401


def test_session_writes_need_csrf(world: World) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["editor"])
    url = f"/api/labs/{world.lab.pk}"
    refused = client.patch(url, data=json.dumps({"description": "x"}), content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    client.get("/labs/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    allowed = client.patch(
        url, data=json.dumps({"description": "x"}), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert allowed.status_code == 200


def test_anonymous_gets_401_everywhere_else(world: World) -> None:
    client = world.client("anonymous")
    body = json.dumps({"name": "x", "topology": {}})
    assert client.post("/api/labs", data=body, content_type="application/json").status_code == 401
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/me").json()["detail"].startswith("authentication required")
