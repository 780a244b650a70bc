"""4xx, never 5xx (issue 11 item 4): body size, raw node counts, layout numbers, NUL, JSON errors."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.test import Client

from topology.engine import fields as F
from topology.models import Lab

from .conftest import World, example


def send(client: Client, method: str, url: str, raw: str | bytes) -> Any:
    return getattr(client, method)(url, data=raw, content_type="application/json")


def create_body(topology: Any, **extra: Any) -> str:
    return json.dumps({"name": "Limits", "topology": topology, **extra})


def test_body_over_the_limit_is_413_json_both_sides(world: World, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4000
    client = world.client("editor")
    body = create_body(example("seed-1-direct"))
    padded = body[:-1] + ', "description": "' + "x" * (4000 - len(body) - 20)
    padded += '"' + " " * (4000 - len(padded) - 2) + "}"
    assert len(padded.encode()) == 4000  # at the limit: accepted
    ok = send(client, "post", "/api/labs", padded)
    assert ok.status_code == 201, ok.content
    over = send(client, "post", "/api/labs", padded + " ")
    assert over.status_code == 413
    assert "4,000 bytes" in over.json()["detail"]


def test_default_limit_refuses_a_3_mb_body(world: World) -> None:
    raw = create_body(example("seed-1-direct"), description="x" * 3_000_000)
    response = send(world.client("editor"), "post", "/api/labs", raw)
    assert response.status_code == 413 and response["Content-Type"] == "application/json"


def test_node_count_checked_on_raw_json_before_objects(world: World, settings: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from topology.engine import validate

    settings.NETDESIGNER_MAX_NODES = 10
    called: list[int] = []
    monkeypatch.setattr(validate, "read", lambda *a, **k: called.append(1))
    doc = example("seed-1-direct") | {"nodes": [{"name": f"n{i}", "kind": "namespace"} for i in range(11)]}
    response = send(world.client("editor"), "post", "/api/labs", create_body(doc))
    assert response.status_code == 422
    assert response.json()["errors"] == [{"path": "topology.nodes", "message": "11 nodes; at most 10"}]
    assert called == []  # the engine never saw it
    put = send(world.client("editor"), "put", f"/api/labs/{world.lab.pk}/topology",
               json.dumps({"version": 1, "topology": doc}))
    assert put.status_code == 422 and called == []


def test_node_count_at_the_limit_passes_the_guard(world: World, settings: Any) -> None:
    doc = example("seed-1-direct")
    settings.NETDESIGNER_MAX_NODES = len(doc["nodes"])
    assert send(world.client("editor"), "post", "/api/labs", create_body(doc)).status_code == 201


LAYOUTS = [
    ("NaN", '{"red": {"x": NaN, "y": 1}}', "NaN is not a JSON number"),
    ("Infinity", '{"red": {"x": 1, "y": Infinity}}', "Infinity is not a JSON number"),
    ("-Infinity", '{"red": {"x": -Infinity, "y": 1}}', "-Infinity is not a JSON number"),
    ("400 digits", '{"red": {"x": ' + "9" * 400 + ', "y": 1}}', "finite numbers"),
    ("1e300", '{"red": {"x": 1e300, "y": 1}}', "finite numbers"),
    ("one over", f'{{"red": {{"x": {F.LAYOUT_MAX + 1}, "y": 1}}}}', "finite numbers"),
]


def _with_layout(layout: str) -> str:
    doc = copy.deepcopy(example("seed-1-direct"))
    doc["layout"] = "@@"
    return json.dumps(doc).replace('"@@"', layout)


@pytest.mark.parametrize(("layout", "part"), [c[1:] for c in LAYOUTS], ids=[c[0] for c in LAYOUTS])
def test_layout_numbers_refused_with_422_on_post_and_put(world: World, layout: str, part: str) -> None:
    client = world.client("editor")
    doc = _with_layout(layout)
    created = send(client, "post", "/api/labs", '{"name": "L", "topology": ' + doc + "}")
    saved = send(client, "put", f"/api/labs/{world.lab.pk}/topology", '{"version": 1, "topology": ' + doc + "}")
    for response in (created, saved):
        assert response.status_code == 422, response.content
        assert part in json.dumps(response.json())


def test_layout_at_the_bound_is_accepted(world: World) -> None:
    doc = _with_layout(f'{{"red": {{"x": {F.LAYOUT_MAX}, "y": -{F.LAYOUT_MAX}}}}}')
    response = send(world.client("editor"), "put", f"/api/labs/{world.lab.pk}/topology",
                    '{"version": 1, "topology": ' + doc + "}")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(("method", "url", "body", "path"), [
    ("post", "/api/labs", {"name": "a\x00b", "topology": example("seed-1-direct")}, "name"),
    ("post", "/api/labs", {"name": "ab", "description": "\x00", "topology": example("seed-1-direct")},
     "description"),
    ("patch", "/api/labs/{lab}", {"description": "x\x00"}, "description"),
    ("put", "/api/labs/{lab}/topology", {"version": 1, "topology": example("seed-1-direct") | {
        "description": "x\x00"}}, "topology.description"),
    ("post", "/api/labs/{lab}/members", {"username": "vi\x00ewer", "role": "viewer"}, "username"),
])
def test_nul_refused_everywhere(world: World, method: str, url: str, body: Any, path: str) -> None:
    client = world.client("owner")
    response = send(client, method, url.format(lab=world.lab.pk), json.dumps(body))
    assert response.status_code == 422, response.content
    assert {"path": path, "message": "holds a NUL character (U+0000); remove it"} in response.json()["errors"]
    assert not any("\x00" in lab.name + lab.description for lab in Lab.objects.all())


@pytest.mark.parametrize("url", ["/api/labs/{lab}/members/vi%00ewer", "/api/labs/{lab}/export?format=%00",
                                 "/api/labs/{lab}/nodes/re%00d/tables"])
def test_nul_in_path_and_query_refused(world: World, url: str) -> None:
    response = world.client("owner").get(url.format(lab=world.lab.pk))
    assert response.status_code == 422 and "NUL" in json.dumps(response.json())


@pytest.mark.parametrize("name", ["two\nlines", "bell\x07", "esc\x1b[31m"])
def test_control_characters_in_a_lab_name_refused(world: World, name: str) -> None:
    response = send(world.client("editor"), "post", "/api/labs", create_body(example("seed-1-direct")).replace(
        '"name": "Limits"', '"name": ' + json.dumps(name)))
    assert response.status_code == 422 and response.json()["errors"][0]["path"] == "name"


def test_deeply_nested_body_is_400(world: World) -> None:
    raw = '{"name": "x", "topology": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = send(world.client("editor"), "post", "/api/labs", raw)
    assert response.status_code == 400 and "nested" in response.json()["detail"]


@pytest.mark.parametrize("debug", [False, True])
def test_api_errors_are_json_in_every_mode(world: World, settings: Any, debug: bool,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    settings.DEBUG = debug
    client = world.client("owner")
    missing = client.get("/api/no-such-thing")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
    assert missing.json() == {"detail": "Not Found"}
    bad_host = client.get("/api/labs", HTTP_HOST="evil.example")
    assert bad_host.status_code == 400 and bad_host.json() == {"detail": "Bad Request"}

    from topology.api import labs as labs_api

    def boom(**_: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(labs_api, "lab_list_for", boom)
    crashed = Client(raise_request_exception=False)
    crashed.force_login(world.users["owner"])
    response = crashed.get("/api/labs")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert "secret internals" not in response.content.decode()
