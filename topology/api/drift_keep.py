"""POST /api/labs/{id}/drift/keep: take one drift item (a hand change) into the design."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from ..services.drift_keep import lab_drift_keep
from ..services.permissions import lab_get_for
from .schemas import ERRORS, Detail, Errors

router = Router(tags=["operations"])


class KeepIn(Schema):
    version: int
    item: dict[str, Any]


class KeepOut(Schema):
    version: int
    summary: str


@router.post("/{lab_id}/drift/keep", response={200: KeepOut, 409: Detail, 422: Errors, **ERRORS},
             summary="Keep a drifted address or route: the design takes what the kernel has (editor)")
def drift_keep(request: HttpRequest, lab_id: int, payload: KeepIn) -> dict[str, Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    return lab_drift_keep(lab=lab, user=request.auth, version=payload.version, item=payload.item)  # type: ignore[attr-defined]
