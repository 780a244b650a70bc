"""Copies for a class: make them, reset one, and the teacher's table of every copy and its checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from ..services import copies as copy_services
from ..services.permissions import lab_get_for
from .schemas import ERRORS, Detail, Errors, VersionOut

router = Router(tags=["copies"])


class CopiesIn(Schema):
    owners: list[str] = Field(default_factory=list, description="user names, one copy each")
    team: str | None = Field(None, description="or a team's slug: one copy per member")


class CopyRef(Schema):
    id: int
    slug: str
    owner: str


class CopiesOut(Schema):
    labs: list[CopyRef]


class CheckRow(Schema):
    check: str
    passed: bool
    measured: str


class TestSummary(Schema):
    job: int
    status: str
    finished: datetime | None
    error: str | None
    passed: int
    failed: int
    checks: list[CheckRow]


class CopyRow(CopyRef):
    version: int
    template_version: int | None
    state: str | None
    test: TestSummary | None = Field(description="the latest finished `test` job of the copy")


@router.post(
    "/{lab_id}/copies",
    response={201: CopiesOut, 422: Errors, **ERRORS},
    summary="One copy of the current version per owner (owner); an owner who has a copy keeps it",
)
def copies_create(request: HttpRequest, lab_id: int, payload: CopiesIn) -> Status[Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    made = copy_services.lab_copies_create(
        lab=lab, user=request.auth, owners=payload.owners, team=payload.team  # type: ignore[attr-defined]
    )
    return Status(201, {"labs": [{"id": c.pk, "slug": c.slug, "owner": c.owner.get_username()} for c in made]})


@router.get("/{lab_id}/copies", response={200: list[CopyRow], **ERRORS},
            summary="Every copy of the lab with its latest check results (owner)")
def copies_list(request: HttpRequest, lab_id: int) -> list[dict[str, Any]]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    return copy_services.class_table(lab=lab, user=request.auth)  # type: ignore[attr-defined]


@router.post("/{lab_id}/reset", response={200: VersionOut, 409: Detail, **ERRORS},
             summary="Save the version the copy was made from as its newest version (editor)")
def lab_reset(request: HttpRequest, lab_id: int) -> dict[str, Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    return {"version": copy_services.lab_reset(lab=lab, user=request.auth)}  # type: ignore[attr-defined]
