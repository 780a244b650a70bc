"""Capture requests and their pcaps: who may, where, for how long.

Capturing needs the operator role, like ping: it shows every packet on a cable. The points are checked
against the lab's current design here (names, and that the node has that interface) and again by the
worker against the deployed one, so a value reaches the kernel only as a bind() argument it checked.
"""

from __future__ import annotations

from typing import Any

from ..choices import JobKind, JobStatus, Role
from ..engine import api as engine
from ..engine.capture import Point, check_point
from ..engine.capture_path import NoPath, path_points
from ..models import Job, Lab
from .errors import Conflict, FieldError, Invalid, NotFound
from .operations import _check, _deployed, _request, lab_current_document
from .permissions import lab_require_role

MAX_SECONDS = 120
MAX_PACKETS = 10_000
MAX_POINTS = 16
MAX_ACTIVE_PER_LAB = 2  # captures queued or running at once on one lab: each holds a worker process


def _topology(lab: Lab) -> Any:
    try:
        return engine.parse(lab_current_document(lab=lab))
    except engine.ValidationFailed:
        raise Conflict("the lab's current version is not valid; fix it before capturing") from None


def capture_params_check(*, topology: Any, points: Any, seconds: Any, max_packets: Any) -> dict[str, Any]:
    errors: list[FieldError] = []
    if not isinstance(points, list) or not points:
        errors.append(FieldError("points", "name a node and an interface to capture on"))
        points = []
    elif len(points) > MAX_POINTS:
        errors.append(FieldError("points", f"at most {MAX_POINTS} interfaces at once"))
    checked: list[dict[str, str]] = []
    for i, raw in enumerate(points[:MAX_POINTS]):
        node = raw.get("node") if isinstance(raw, dict) else None
        interface = raw.get("interface") if isinstance(raw, dict) else None
        if not isinstance(node, str) or not isinstance(interface, str):
            errors.append(FieldError(f"points[{i}]", "needs a node and an interface (strings)"))
            continue
        if problem := check_point(topology, Point(node, interface)):
            errors.append(FieldError(f"points[{i}]", problem))
        elif {"node": node, "interface": interface} not in checked:
            checked.append({"node": node, "interface": interface})
    number = (int, float)
    if not isinstance(seconds, number) or isinstance(seconds, bool) or not 1 <= seconds <= MAX_SECONDS:
        errors.append(FieldError("seconds", f"must be a number of seconds from 1 to {MAX_SECONDS}"))
    if not isinstance(max_packets, int) or isinstance(max_packets, bool) or not 1 <= max_packets <= MAX_PACKETS:
        errors.append(FieldError("max_packets", f"must be a whole number from 1 to {MAX_PACKETS}"))
    if errors:
        raise Invalid(errors, detail="invalid capture request")
    return {"points": checked, "seconds": seconds, "max_packets": max_packets}


def capture_path_points(*, topology: Any, source: Any, target: Any) -> list[dict[str, str]]:
    """The points of a path capture from `source` to `target` (a node or an address)."""
    if not isinstance(source, str) or not isinstance(target, str):
        raise Invalid([FieldError("path", "needs a source node and a target (node or address)")],
                      detail="invalid capture request")
    try:
        points = path_points(topology, source, target)
    except NoPath as exc:
        raise Invalid([FieldError("path", str(exc))], detail="invalid capture request") from None
    return [{"node": p.node, "interface": p.interface} for p in points]


def lab_capture_request(*, lab: Lab, user: Any, points: list[dict[str, Any]] | None = None,
                        path: dict[str, Any] | None = None, seconds: Any = 10, max_packets: Any = 1000,
                        dispatch: bool = True) -> Job:
    """Queue a capture on the given points, or on every hop of a path (operator)."""
    _check(user, lab, Role.OPERATOR)
    topology = _topology(lab)
    if path is not None:
        points = capture_path_points(topology=topology, source=path.get("source"), target=path.get("target"))
    params = capture_params_check(topology=topology, points=points, seconds=seconds, max_packets=max_packets)
    _deployed(lab)
    active = Job.objects.filter(lab=lab, kind=JobKind.CAPTURE, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
    if active.count() >= MAX_ACTIVE_PER_LAB:
        raise Conflict(f"this lab already has {MAX_ACTIVE_PER_LAB} captures under way; "
                       "wait for one to end (at most its seconds)")
    return _request(lab=lab, user=user, kind=JobKind.CAPTURE, params=params, dispatch=dispatch)


def capture_stop(*, lab: Lab, user: Any, job_id: int) -> Job:
    """Stop a running capture of the lab now (operator); 409 once it has ended."""
    _check(user, lab, Role.OPERATOR)
    job = Job.objects.filter(pk=job_id, lab=lab, kind=JobKind.CAPTURE).first()
    if job is None:
        raise NotFound("no such capture on this lab")
    if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        raise Conflict("the capture has already ended")
    from .. import captures

    captures.request_stop(job)
    return job


def capture_job_for_download(*, user: Any, job_id: int) -> Job:
    """A finished capture job whose pcap the user may download (operator on its lab)."""
    job = Job.objects.select_related("lab").filter(pk=job_id).first()
    if job is None or job.lab is None:
        raise NotFound("job not found")
    try:
        lab_require_role(user=user, lab=job.lab, role=Role.VIEWER)
    except NotFound:
        raise NotFound("job not found") from None
    lab_require_role(user=user, lab=job.lab, role=Role.OPERATOR)
    if job.kind != JobKind.CAPTURE:
        raise NotFound(f"job {job.pk} is a {job.kind} job, not a capture")
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        raise Conflict("the capture is still running; download it once the job has finished")
    return job
