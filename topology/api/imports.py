"""POST /api/labs/import: a lab from a shell session, a containerlab file or a JSON document.

The answer carries the importer's warnings by source line (and the fix each offers), also on 422,
since they usually say why the document was refused.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field, StrictBool

from ..services import formats
from ..services.permissions import lab_get_for
from .schemas import ERRORS, ErrorItem

router = Router(tags=["labs"])


class ImportIn(Schema):
    name: str | None = Field(None, max_length=100)
    format: str = Field("sh", description="json, sh (a shell session) or clab (a containerlab topology)")
    text: str
    apply_fixes: StrictBool = False
    lab: int | None = Field(None, description="a lab you may edit: save the import as its next version")


class FixOut(Schema):
    line: int
    text: str = Field(description="the corrected source line")


class WarningOut(Schema):
    line: int
    message: str
    fix: FixOut | None = None
    fixed: bool = False


class ImportOut(Schema):
    id: int
    slug: str
    version: int
    warnings: list[WarningOut]
    checks: list[dict[str, Any]]


class ImportErrors(Schema):
    detail: str
    errors: list[ErrorItem]
    # absent when the request itself was refused before the importer read the text
    warnings: list[WarningOut] = Field(default_factory=list)


@router.post("/import", response={**ERRORS, 201: ImportOut, 422: ImportErrors},
             summary="Create a lab from a shell session, a containerlab file or a JSON document")
def lab_import(request: HttpRequest, payload: ImportIn) -> Status[Any]:
    user = request.auth  # type: ignore[attr-defined]
    target = None
    if payload.lab is not None:
        target, _role = lab_get_for(user=user, lab_id=payload.lab)
    fmt = formats.format_for(filename="", given=payload.format)
    try:
        lab, result = formats.lab_import_for(user=user, text=payload.text, format=fmt, name=payload.name,
                                             apply_fixes=payload.apply_fixes, lab=target)
    except formats.ImportInvalid as exc:
        return Status(422, {"detail": exc.detail, "errors": [{"path": e.path, "message": e.message} for e in exc.errors],
                            "warnings": [w.to_dict() for w in exc.warnings]})
    return Status(201, {"id": lab.pk, "slug": lab.slug, "version": lab.version,
                        "warnings": formats.warning_dicts(result), "checks": result.checks})
