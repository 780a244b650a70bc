"""Kernel operations: plan, apply, destroy, ping (jobs), tables and drift (read through the worker)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ..models import Job
from ..selectors import jobs_for_lab
from ..services import operations as ops
from ..services.permissions import lab_get_for
from .schemas import ERRORS, Detail, Errors, JobRef, JobSummary, PingIn, PlanOut
from .serialize import job_summary

router = Router(tags=["operations"])

WORKER_ERRORS: dict[int, Any] = {409: Detail, 502: Detail, 504: Detail}


def _answer(result: Any) -> Any:
    """A read's result (200), or, for `?wait=false`, 202 {"job"}: the result comes as the `result` of
    the job's `job.finished` event on the lab's socket, and on GET /api/jobs/{id}."""
    if isinstance(result, Job):
        return Status(202, {"job": result.pk})
    return result


@router.post("/{lab_id}/plan", response={200: PlanOut, 202: JobRef, **WORKER_ERRORS, **ERRORS},
             summary="What apply would do (?wait=false: 202, result on the socket)")
def lab_plan(request: HttpRequest, lab_id: int, wait: bool = True) -> Any:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    return _answer(ops.lab_plan_later(lab=lab, user=request.auth, wait=wait))  # type: ignore[attr-defined]


@router.post("/{lab_id}/apply", response={202: JobRef, 409: Detail, **ERRORS}, summary="Make the kernel match (operator); 409 over a quota")
def lab_apply(request: HttpRequest, lab_id: int) -> Status[Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    job = ops.lab_apply_request(lab=lab, user=request.auth)  # type: ignore[attr-defined]
    return Status(202, {"job": job.pk})


@router.post("/{lab_id}/destroy", response={202: JobRef, **ERRORS}, summary="Remove the lab from the kernel (operator)")
def lab_destroy(request: HttpRequest, lab_id: int) -> Status[Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    job = ops.lab_destroy_request(lab=lab, user=request.auth)  # type: ignore[attr-defined]
    return Status(202, {"job": job.pk})


@router.post("/{lab_id}/ping", response={202: JobRef, 422: Errors, 429: Detail, **ERRORS}, summary="Ping between nodes (operator)")
def lab_ping(request: HttpRequest, lab_id: int, payload: PingIn) -> Status[Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    job = ops.lab_ping_request(
        lab=lab,
        user=request.auth,  # type: ignore[attr-defined]
        source=payload.source,
        target=payload.target,
        count=payload.count,
    )
    return Status(202, {"job": job.pk})


@router.get(
    "/{lab_id}/nodes/{node}/tables",
    response={200: dict[str, Any], 202: JobRef, **WORKER_ERRORS, **ERRORS},
    summary="A node's live interfaces, ARP and routes (cached up to 10 s; ?wait=false: 202 on a miss)",
)
def lab_tables(request: HttpRequest, lab_id: int, node: str, wait: bool = True) -> Any:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    return _answer(ops.lab_tables_later(lab=lab, user=request.auth, node=node, wait=wait))  # type: ignore[attr-defined]


@router.get(
    "/{lab_id}/drift",
    response={200: list[dict[str, Any]], 202: JobRef, **WORKER_ERRORS, **ERRORS},
    summary="Differences between the current version and the kernel ([] when in sync; ?wait=false: 202)",
)
def lab_drift(request: HttpRequest, lab_id: int, wait: bool = True) -> Any:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    result = ops.lab_drift_later(lab=lab, user=request.auth, wait=wait)  # type: ignore[attr-defined]
    if isinstance(result, Job):
        return _answer(result)
    drift = result.get("drift", [])
    return drift if isinstance(drift, list) else []


@router.get("/{lab_id}/jobs", response={200: list[JobSummary], **ERRORS}, summary="The lab's recent jobs")
def lab_jobs(request: HttpRequest, lab_id: int, limit: int = 50) -> list[dict[str, Any]]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    return [job_summary(job) for job in jobs_for_lab(lab=lab, limit=max(1, min(limit, 200)))]
