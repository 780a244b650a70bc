"""The browser contract in one place: the committed TypeScript (frontend/src/generated/) is what the
server declares (websocket events in topology/contract.py, REST shapes in /api/openapi.json), and
the events the server really sends match their declarations."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from django.core.management import CommandError, call_command
from pydantic import ValidationError

from topology import contract, events, jobs, tsgen
from topology.sharing import role_changed_publish

from .conftest import World


def test_committed_typescript_is_what_the_server_declares() -> None:
    call_command("contract")  # raises when frontend/src/generated/*.ts differ


def test_a_changed_event_makes_the_check_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    class TopologyUpdated(contract.Event):
        type: Literal["topology.updated"]
        version: int
        by: str
        note: str  # a field the TypeScript does not have

    changed = [TopologyUpdated if m.__name__ == "TopologyUpdated" else m for m in contract.EVENTS]
    monkeypatch.setattr(contract, "EVENTS", changed)
    assert "note: string;" in tsgen.events_ts()
    with pytest.raises(CommandError, match="out of date: frontend/src/generated/events.ts"):
        call_command("contract")


def test_a_changed_rest_shape_makes_the_check_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    real = tsgen.api_ts
    monkeypatch.setattr(tsgen, "api_ts", lambda: real().replace("slug: string;", "slug: number;", 1))
    with pytest.raises(CommandError, match="frontend/src/generated/api.ts"):
        call_command("contract")


@pytest.mark.parametrize(("schema", "ts"), [
    ({"type": "string"}, "string"),
    ({"type": "integer"}, "number"),
    ({"anyOf": [{"type": "string"}, {"type": "null"}]}, "string | null"),
    ({"type": "array", "items": {"$ref": "#/components/schemas/ArpRow"}}, "ArpRow[]"),
    ({"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}, "(string | number)[]"),
    ({"const": "job.progress"}, '"job.progress"'),
    ({"enum": ["a", "b"]}, '"a" | "b"'),
    ({"type": "object", "additionalProperties": {"type": "integer"}}, "Record<string, number>"),
    ({}, "unknown"),
])
def test_schema_to_typescript(schema: dict[str, Any], ts: str) -> None:
    assert tsgen.ts_type(schema) == ts


MODELS = {m.model_fields["type"].annotation.__args__[0]: m for m in contract.EVENTS}  # type: ignore[union-attr]


def declared(event: dict[str, Any]) -> None:
    """The event validates against its model and has no field the model lacks."""
    model = MODELS[event["type"]]
    model.model_validate(event)
    extra = set(event) - set(model.model_fields)
    assert not extra, f"{event['type']} sends undeclared {extra}"


def test_events_sent_by_the_server_are_declared(world: World, monkeypatch: pytest.MonkeyPatch,
                                                django_capture_on_commit_callbacks: Any) -> None:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(events, "publish", lambda lab_id, event: sent.append({"ts": 1.0, **event}))
    monkeypatch.setattr(events, "access_changed", lambda lab_id: None)
    role_changed_publish(lab_id=world.lab.pk, user_id=world.users["viewer"].pk)
    client = world.client("owner")
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(f"/api/labs/{world.lab.pk}", data={"name": "Renamed"}, content_type="application/json")
    document = client.get(f"/api/labs/{world.lab.pk}").json()["topology"]
    with django_capture_on_commit_callbacks(execute=True):
        client.put(f"/api/labs/{world.lab.pk}/topology", data={"version": 1, "topology": document},
                   content_type="application/json")
    sent.append(jobs.finished_event(1, "apply", "failed", "boom"))
    sent.append({"type": "lab.deleted", "by": "owner"})
    assert {e["type"] for e in sent} == {"role.changed", "lab.updated", "topology.updated", "job.finished", "lab.deleted"}
    for event in sent:
        declared(event)


def test_a_wrong_event_is_caught() -> None:
    with pytest.raises(ValidationError):
        declared({"type": "role.changed", "user": "bob", "role": "admin"})
    with pytest.raises(AssertionError, match="undeclared"):
        declared({"type": "lab.deleted", "by": "x", "why": "y"})
