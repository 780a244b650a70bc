"""A lab's stored versions: list, read one, compare two, restore an old one."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja import Router
from pydantic import ValidationError as PydanticValidationError

from ..services import versions as version_services
from ..services.errors import FieldError, Invalid
from ..services.permissions import lab_get_for
from .schemas import ERRORS, Detail, Errors, RestoreIn, VersionDoc, VersionInfo, VersionOut
from .serialize import version_info

router = Router(tags=["versions"])


def _body_version(request: HttpRequest) -> int | None:
    if request.content_type != "application/json" or not request.body.strip():
        return None
    try:
        body = RestoreIn.model_validate(json.loads(request.body))
    except (ValueError, PydanticValidationError):
        raise Invalid([FieldError("version", "the body must be {\"version\": n} or empty")]) from None
    return body.version


@router.get("/{lab_id}/versions", response={200: list[VersionInfo], **ERRORS}, summary="Every version, newest first")
def version_list(request: HttpRequest, lab_id: int) -> list[dict[str, Any]]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    return [version_info(v) for v in version_services.version_list(lab=lab)]


@router.get("/{lab_id}/versions/{number}", response={200: VersionDoc, **ERRORS}, summary="One version's document")
def version_get(request: HttpRequest, lab_id: int, number: int) -> dict[str, Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    version = version_services.version_get(lab=lab, number=number)
    return {**version_info(version), "topology": version.document}


@router.get(
    "/{lab_id}/versions/{number}/diff",
    response={200: dict[str, Any], **ERRORS},
    summary="Nodes and links added, removed, changed since `against` (default: the version before)",
)
def version_diff(request: HttpRequest, lab_id: int, number: int, against: int | None = None) -> dict[str, Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    return version_services.version_diff(lab=lab, number=number, against=against)


@router.post(
    "/{lab_id}/versions/{number}/restore",
    response={200: VersionOut, 409: Detail, 422: Errors, **ERRORS},
    summary="Save an old version as the newest one (editor)",
)
def version_restore(request: HttpRequest, lab_id: int, number: int, version: int | None = None) -> dict[str, Any]:
    """`version` (the lab's current version, 409 when stale) may come as a query parameter or as the
    JSON body `{"version": n}`; without it the old document is saved on top of whatever is current."""
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    if version is None:
        version = _body_version(request)
    new = version_services.version_restore(
        lab=lab,
        user=request.auth,  # type: ignore[attr-defined]
        number=number,
        version=version,
    )
    return {"version": new}
