"""Jobs (apply, destroy, ping, ...) and who the caller is."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from ..selectors import job_get_for
from .schemas import ERRORS, JobOut, Me
from .serialize import job_dict

router = Router(tags=["jobs"])


@router.get("/me", response={200: Me, **ERRORS}, summary="Who the caller is")
def me(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.auth  # type: ignore[attr-defined]
    return {"id": user.pk, "username": user.username, "is_staff": bool(user.is_staff or user.is_superuser)}


@router.get("/jobs/{job_id}", response={200: JobOut, **ERRORS}, summary="A job's status, progress, log and result")
def job_get(request: HttpRequest, job_id: int) -> dict[str, Any]:
    return job_dict(job_get_for(user=request.auth, job_id=job_id))  # type: ignore[attr-defined]
