"""Packet capture: start one (operator), download what it caught as pcap."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from pydantic import Field

from .. import captures
from ..services import captures as svc
from ..services.errors import NotFound
from ..services.permissions import lab_get_for
from .schemas import ERRORS, Errors, JobRef

router = Router(tags=["capture"])

PCAP = "application/vnd.tcpdump.pcap"
PCAPNG = "application/x-pcapng"


class PointIn(Schema):
    node: str
    interface: str


class PathIn(Schema):
    source: str = Field(description="the node the traffic starts from")
    target: str = Field(description="a node or an address of the design")


class CaptureIn(Schema):
    node: str | None = None
    interface: str | None = None
    points: list[PointIn] | None = Field(None, description="several (node, interface) pairs at once")
    path: PathIn | None = Field(None, description="capture on every hop from source to target")
    seconds: float = 10
    max_packets: int = 1000


@router.post("/labs/{lab_id}/captures", response={202: JobRef, 422: Errors, **ERRORS},
             summary="Capture packets on an interface, several, or a path (operator)")
def lab_capture(request: HttpRequest, lab_id: int, payload: CaptureIn) -> Status[Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    points: list[dict[str, Any]] = [p.dict() for p in payload.points or []]
    if payload.node is not None or payload.interface is not None:
        points.insert(0, {"node": payload.node, "interface": payload.interface})
    job = svc.lab_capture_request(
        lab=lab, user=request.auth,  # type: ignore[attr-defined]
        points=points, path=payload.path.dict() if payload.path else None,
        seconds=payload.seconds, max_packets=payload.max_packets,
    )
    return Status(202, {"job": job.pk})


@router.post("/labs/{lab_id}/captures/{job_id}/stop", response={202: JobRef, **ERRORS},
             summary="End a running capture now (operator)")
def lab_capture_stop(request: HttpRequest, lab_id: int, job_id: int) -> Status[Any]:
    lab, _role = lab_get_for(user=request.auth, lab_id=lab_id)  # type: ignore[attr-defined]
    job = svc.capture_stop(lab=lab, user=request.auth, job_id=job_id)  # type: ignore[attr-defined]
    return Status(202, {"job": job.pk})


@router.get("/jobs/{job_id}/pcap", response={200: None, **ERRORS},
            summary="A finished capture as pcap (one interface) or pcapng (several; ?point=N: that one as pcap)")
def job_pcap(request: HttpRequest, job_id: int, point: int | None = None) -> HttpResponse:
    job = svc.capture_job_for_download(user=request.auth, job_id=job_id)  # type: ignore[attr-defined]
    count = len(captures.job_points(job))
    if point is not None and not 0 <= point < count:
        raise NotFound(f"the capture has {count} interface(s): point is 0 to {count - 1}")
    try:
        if point is not None or count == 1:
            body, kind, name = captures.pcap_bytes(job, point or 0), PCAP, f"capture-{job.pk}-{point or 0}.pcap"
        else:
            body, kind, name = captures.pcapng_bytes(job), PCAPNG, f"capture-{job.pk}.pcapng"
    except FileNotFoundError:
        why = f" (it failed: {job.error})" if job.error else ""
        raise NotFound(f"capture job {job.pk} has no packet file{why}") from None
    response = HttpResponse(body, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
