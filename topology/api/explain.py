"""Reachability: POST /labs/{id}/explain and POST /labs/{id}/test (both 202 with a job)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from ..services import explain as svc
from ..services.permissions import lab_get_for
from .schemas import ERRORS, Detail, Errors, JobRef

router = Router(tags=["operations"])


class ExplainIn(Schema):
    source: str = Field(description="a node of the lab")
    target: str = Field(description="a node (its first address) or an address")
    protocol: str = Field("icmp", description="icmp, tcp or udp")
    port: int | None = Field(None, description="required for tcp and udp")


@router.post("/{lab_id}/explain", response={202: JobRef, 422: Errors, **ERRORS},
             summary="Why SOURCE can or cannot reach TARGET: predicted, and measured when deployed (operator)")
def lab_explain(request: HttpRequest, lab_id: int, payload: ExplainIn) -> Status[Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    job = svc.lab_explain_request(lab=lab, user=request.auth,  # type: ignore[attr-defined]
                                  source=payload.source, target=payload.target, protocol=payload.protocol,
                                  port=payload.port)
    return Status(202, {"job": job.pk})


@router.post("/{lab_id}/test", response={202: JobRef, 409: Detail, **ERRORS},
             summary="Run every check of the applied version (operator)")
def lab_test(request: HttpRequest, lab_id: int) -> Status[Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    job = svc.lab_test_request(lab=lab, user=request.auth)  # type: ignore[attr-defined]
    return Status(202, {"job": job.pk})
