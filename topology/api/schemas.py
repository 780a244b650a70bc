"""Request and response shapes of the REST API (also what /api/openapi.json documents)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field


class Detail(Schema):
    detail: str


class ErrorItem(Schema):
    path: str
    message: str


class Errors(Schema):
    detail: str
    errors: list[ErrorItem]


class Me(Schema):
    id: int
    username: str
    is_staff: bool


class LabIn(Schema):
    name: str = Field(max_length=100)
    topology: dict[str, Any]
    description: str = ""
    team: str | None = Field(None, description="slug of a team you are an editor (or more) of")


class LabPatch(Schema):
    name: str | None = None
    description: str | None = None


class LabCreated(Schema):
    id: int
    slug: str
    version: int


class DeploymentOut(Schema):
    id: int
    tag: str
    worker_host: str
    state: str
    version: int | None = Field(None, description="the applied version number, null before any apply")
    error: str
    updated: datetime


class LabSummary(Schema):
    id: int
    slug: str
    name: str
    description: str
    version: int
    role: str | None
    owner: str
    team: str | None
    deployment: DeploymentOut | None
    updated: datetime
    template: int | None = Field(None, description="for a copy: the lab it was copied from (POST .../copies)")
    template_version: int | None = Field(None, description="for a copy: the version a reset brings back")


class LabDetail(LabSummary):
    topology: dict[str, Any]


class TopologyIn(Schema):
    version: int = Field(description="the version the edit started from (optimistic concurrency)")
    topology: dict[str, Any]
    note: str = ""


class VersionOut(Schema):
    version: int


class PlanOut(Schema):
    operations: list[dict[str, Any]]


class JobRef(Schema):
    job: int


class JobSummary(Schema):
    id: int
    lab: int | None
    kind: str
    status: str
    done: int
    total: int
    error: str
    created_by: str | None
    created: datetime
    started: datetime | None
    finished: datetime | None


class JobOut(JobSummary):
    log: list[Any]
    result: Any = Field(None, description="set once the job finished")


class PingIn(Schema):
    source: str
    target: str
    count: int = 3


class MemberIn(Schema):
    username: str
    role: str


class RoleIn(Schema):
    role: str


class MemberOut(Schema):
    username: str
    role: str


class VersionInfo(Schema):
    number: int
    author: str | None
    note: str
    created: datetime


class VersionDoc(VersionInfo):
    topology: dict[str, Any]


class RestoreIn(Schema):
    version: int | None = Field(None, description="the lab's current version; 409 when stale (optional)")


# The answers every operation may give besides its own: a body or parameter the API refuses (400
# malformed, 413 too big or over the owner's quota, 422 invalid with each problem named), no or a bad
# login (401), a role too low (403), no such lab or one the caller cannot see (404).
ERRORS: dict[int, Any] = {400: Detail, 401: Detail, 403: Detail, 404: Detail, 413: Detail, 422: Errors}
