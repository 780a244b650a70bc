"""The browser contract declared once: every websocket event the server sends on /ws/labs/<id>/, as
pydantic models. The REST shapes are the API's own schemas (/api/openapi.json). `manage.py contract`
turns both into TypeScript (frontend/src/generated/), which the canvas imports; a test fails when the
committed TypeScript and these declarations differ, and `tsc --noEmit` fails when the canvas uses a
field that is no longer declared. Add events here first, then regenerate."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Event(BaseModel):
    ts: float | None = Field(None, description="epoch seconds when it was published")


class JobProgress(Event):
    type: Literal["job.progress"]
    job: int
    done: int
    total: int
    step: str


class JobFinished(Event):
    type: Literal["job.finished"]
    job: int
    kind: str
    status: Literal["succeeded", "failed", "superseded"]
    error: str | None


class PingReply(Event):
    type: Literal["ping.reply"]
    job: int
    source: str
    target: str
    seq: int
    ttl: int
    rtt_ms: float


class InterfaceRow(BaseModel):
    name: str
    mac: str
    state: str
    addresses: list[str]
    master: str | None = Field(None, description="the bridge a port belongs to")


class ArpRow(BaseModel):
    ip: str
    mac: str
    interface: str
    state: str


class RouteRow(BaseModel):
    to: str
    via: str | None = None
    dev: str | None = None
    proto: str | None = None
    scope: str | None = None


class TablesSnapshot(Event):
    type: Literal["tables.snapshot"]
    node: str
    arp: list[ArpRow]
    routes: list[RouteRow]
    interfaces: list[InterfaceRow]


class TopologyUpdated(Event):
    type: Literal["topology.updated"]
    version: int
    by: str


class Presence(Event):
    type: Literal["presence"]
    users: list[str]


class RoleChanged(Event):
    """A user's effective role on the lab changed (null: no access left); their pages rebuild."""

    type: Literal["role.changed"]
    user: str
    role: Literal["viewer", "editor", "operator", "owner"] | None


class LabUpdated(Event):
    type: Literal["lab.updated"]
    name: str | None = None
    description: str | None = None
    by: str


class LabDeleted(Event):
    type: Literal["lab.deleted"]
    by: str


class CapturePacket(Event):
    """One captured frame, summarised in tcpdump's words (the frame itself is in the job's pcap)."""

    type: Literal["capture.packet"]
    job: int
    node: str
    interface: str
    ts: float = Field(description="the kernel's timestamp of the frame, epoch seconds")
    length: int
    summary: str
    point: int | None = Field(None, description="index of the capture point in the job's points")
    outgoing: bool | None = Field(None, description="sent by this interface (else received)")


class ExplainResult(Event):
    """An explain job's verdicts (the whole explanation is the job's result)."""

    type: Literal["explain.result"]
    job: int
    source: str
    target: str
    protocol: str
    port: int | None
    verdict: Literal["reachable", "unreachable", "no-reply"]
    measured: Literal["reachable", "unreachable", "no-reply"] | None
    agree: bool | None


class TestResult(Event):
    """One check of a `test` job, as it is measured."""

    type: Literal["test.result"]
    job: int
    index: int
    check: dict[str, Any]
    passed: bool
    measured: str
    explain: dict[str, Any] | None


EVENTS: list[type[Event]] = [JobProgress, JobFinished, PingReply, TablesSnapshot, TopologyUpdated, Presence,
                             RoleChanged, LabUpdated, LabDeleted, CapturePacket, ExplainResult, TestResult]


def event_schemas() -> dict[str, Any]:
    """JSON Schema of every event (and what they refer to), by name."""
    out: dict[str, Any] = {}
    for model in EVENTS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out
