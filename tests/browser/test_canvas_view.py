"""The canvas page itself (no browser needed): login, 404 without a role, the role handed to the app,
the built entry files found through Vite's manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from topology import canvas_views

DOC = {"format": "netdesigner/v1", "name": "v", "nodes": [{"name": "red", "kind": "namespace"}], "links": []}


@pytest.fixture
def lab(db: Any) -> Any:
    from django.contrib.auth import get_user_model

    from topology.services.labs import lab_create
    from topology.services.members import member_set

    users = get_user_model().objects
    owner = users.create_user(username="owner", password="x-Passw0rd!")  # noqa: S106
    users.create_user(username="viewer", password="x-Passw0rd!")  # noqa: S106
    users.create_user(username="stranger", password="x-Passw0rd!")  # noqa: S106
    created = lab_create(user=owner, name="view", topology=DOC)
    member_set(lab=created, user=owner, username="viewer", role="viewer")
    return created


def client_for(username: str) -> Client:
    from django.contrib.auth import get_user_model

    c = Client(HTTP_HOST="localhost")
    c.force_login(get_user_model().objects.get(username=username))
    return c


def page_config(html: str) -> dict[str, Any]:
    start = html.index('<script id="canvas-config" type="application/json">') + len(
        '<script id="canvas-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])  # type: ignore[no-any-return]


def test_anonymous_is_sent_to_login(lab: Any) -> None:
    response = Client(HTTP_HOST="localhost").get(f"/labs/{lab.pk}/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["stranger"])
def test_no_role_is_404_like_a_missing_lab(lab: Any, who: str) -> None:
    c = client_for(who)
    assert c.get(f"/labs/{lab.pk}/").status_code == 404
    assert c.get(f"/labs/{lab.pk + 1000}/").status_code == 404


@pytest.mark.parametrize(("who", "role"), [("viewer", "viewer"), ("owner", "owner")])
def test_the_page_hands_the_role_and_socket_to_the_app(lab: Any, who: str, role: str) -> None:
    response = client_for(who).get(f"/labs/{lab.pk}/")
    assert response.status_code == 200
    config = page_config(response.content.decode())
    assert config == {"labId": lab.pk, "role": role, "user": who, "wsPath": f"/ws/labs/{lab.pk}/"}
    assert "csrftoken" in response.cookies


def test_entry_files_come_from_the_vite_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"src/main.ts": {"file": "assets/main-abc.js", "css": ["assets/main-def.css"],
                                                    "isEntry": True}}))
    assert canvas_views._read_assets(manifest) == {"js": "assets/main-abc.js", "css": ["assets/main-def.css"]}
    assert canvas_views._read_assets(tmp_path / "missing.json") == {"js": None, "css": []}


def test_an_unbuilt_canvas_says_how_to_build_it(lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(canvas_views, "MANIFEST", tmp_path / "none.json")
    canvas_views._cached_assets.cache_clear()  # outside DEBUG the manifest is read once
    try:
        html = client_for("owner").get(f"/labs/{lab.pk}/").content.decode()
    finally:
        canvas_views._cached_assets.cache_clear()
    assert "scripts/bootstrap.sh" in html
    assert 'type="module"' not in html
