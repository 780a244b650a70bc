"""Requests that reach the kernel: they become Job rows run by the worker (which is root).

The web tier is not root, so even reads of the kernel (plan, tables, drift) go through a job and
`jobs.run_and_wait`; apply, destroy and ping are enqueued and watched through the Job row and the
lab's websocket events.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from .. import jobs, watch
from ..choices import DeploymentState, JobKind, JobStatus, Role
from ..engine.fields import parse_ip_text
from ..models import Deployment, Job, Lab, TopologyVersion
from .audit import audit_record
from .documents import document_node_names
from .errors import Conflict, FieldError, Invalid, NotFound, TooManyRequests, WorkerFailed, WorkerTimeout
from .permissions import _is_staff, lab_require_role
from .quotas import quota_check_apply

WAIT_SECONDS = 15.0
PLAN_WAIT_SECONDS = 30.0
MAX_PING_COUNT = 20
NOT_DEPLOYED = {DeploymentState.PENDING, DeploymentState.DESTROYED}


def _check(user: Any, lab: Lab, role: str) -> None:
    if user is not None:
        lab_require_role(user=user, lab=lab, role=role)


def _actor(user: Any) -> Any:
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def deployment_ensure(*, lab: Lab) -> Deployment:
    """The lab's deployment on this site's worker host, created (pending) when missing."""
    deployment, _ = Deployment.objects.get_or_create(lab=lab, defaults={"worker_host": settings.WORKER_HOST})
    return deployment


def lab_deployment(*, lab: Lab) -> Deployment | None:
    return Deployment.objects.filter(lab=lab).first()


def lab_current_document(*, lab: Lab) -> dict[str, Any]:
    doc = TopologyVersion.objects.filter(lab=lab, number=lab.version).values_list("document", flat=True).first()
    return doc if isinstance(doc, dict) else {}


def _job_create(*, lab: Lab | None, user: Any, kind: str, params: dict[str, Any], worker_host: str,
                generation: int | None = None) -> Job:
    return Job.objects.create(
        lab=lab, kind=kind, params=params, created_by=_actor(user), worker_host=worker_host, generation=generation
    )


def _next_generation(deployment: Deployment) -> int:
    """Bump the deployment's generation for a new apply/destroy request; every older write job of the
    lab that has not got the lab yet is superseded by it (topology.jobs.lifecycle)."""
    Deployment.objects.filter(pk=deployment.pk).update(generation=F("generation") + 1)
    return int(Deployment.objects.filter(pk=deployment.pk).values_list("generation", flat=True).get())


def _request(*, lab: Lab, user: Any, kind: str, params: dict[str, Any], dispatch: bool = True) -> Job:
    """Create the job; `dispatch=False` leaves it queued for the caller to run (`lab ... --inline`)."""
    with transaction.atomic():
        deployment = deployment_ensure(lab=lab)
        generation = _next_generation(deployment) if kind in jobs.WRITES else None
        job = _job_create(lab=lab, user=user, kind=kind, params=params, worker_host=deployment.worker_host,
                          generation=generation)
        audit_record(lab=lab, user=user, action=f"job.{kind}", detail={"job": job.pk, **params})
        if dispatch:
            jobs.enqueue(job)  # sends after commit
    return job


def lab_apply_request(*, lab: Lab, user: Any, dispatch: bool = True) -> Job:
    """Queue making the kernel match the lab's current version (operator)."""
    _check(user, lab, Role.OPERATOR)
    lab.refresh_from_db(fields=["version"])
    quota_check_apply(lab=lab, document=lab_current_document(lab=lab))
    return _request(lab=lab, user=user, kind=JobKind.APPLY, params={"version": lab.version}, dispatch=dispatch)


def lab_destroy_request(*, lab: Lab, user: Any, dispatch: bool = True) -> Job:
    """Queue removing everything the lab made; fine when nothing was deployed (operator)."""
    _check(user, lab, Role.OPERATOR)
    return _request(lab=lab, user=user, kind=JobKind.DESTROY, params={}, dispatch=dispatch)


def ping_params_check(*, document: dict[str, Any], source: Any, target: Any, count: Any) -> dict[str, Any]:
    names = document_node_names(document)
    errors = []
    if source not in names:
        errors.append(FieldError("source", f"'{source}' is not a node of the lab's current version"))
    target_ok = isinstance(target, str) and (target in names or _is_address(target))
    if not target_ok:
        errors.append(FieldError("target", f"'{target}' is neither an address nor a node of the lab"))
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_PING_COUNT:
        errors.append(FieldError("count", f"must be a whole number from 1 to {MAX_PING_COUNT}"))
    if errors:
        raise Invalid(errors, detail="invalid ping request")
    return {"source": source, "target": target, "count": count}


def _is_address(text: str) -> bool:
    """Strict (engine vocabulary): `ipaddress` alone accepts `::1%$(id)`, keeping the scope id."""
    return parse_ip_text(text) is not None


def lab_ping_request(
    *, lab: Lab, user: Any, source: str, target: str, count: int = 3, dispatch: bool = True
) -> Job:
    """Queue a ping from node `source` to an address or node name (operator)."""
    _check(user, lab, Role.OPERATOR)
    params = ping_params_check(document=lab_current_document(lab=lab), source=source, target=target, count=count)
    _ping_bound(user)
    return _request(lab=lab, user=user, kind=JobKind.PING, params=params, dispatch=dispatch)


def _ping_bound(user: Any) -> None:
    """Pings are cheap one by one and heavy in a burst: a user has at most a few at once."""
    actor = _actor(user)
    if actor is None:
        return
    limit = settings.NETDESIGNER_MAX_PINGS_PER_USER
    active = Job.objects.filter(kind=JobKind.PING, created_by=actor,
                                status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).count()
    if active >= limit:
        raise TooManyRequests(f"you already have {active} pings queued or running (at most {limit} at once); "
                              "wait for one to finish")


def cleanup_request(*, user: Any) -> Job:
    """Queue removing namespaces of no Deployment on this site's worker host (staff only)."""
    if user is not None and not _is_staff(user):
        raise NotFound("not found")
    job = _job_create(lab=None, user=user, kind=JobKind.CLEANUP, params={}, worker_host=settings.WORKER_HOST)
    audit_record(lab=None, user=user, action="job.cleanup", detail={"job": job.pk})
    jobs.enqueue(job)
    return job


def job_wait(*, job: Job, timeout: float = WAIT_SECONDS) -> Any:
    """Run a job through the worker and return its result; 504 when no answer, 502 when it failed."""
    try:
        finished = jobs.run_and_wait(job, timeout=timeout)
    except TimeoutError:
        finished = None
    if finished is None or finished.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        raise WorkerTimeout(
            f"the worker did not answer within {timeout:g} s; is the worker (`manage.py worker`) running?"
        )
    if finished.status in (JobStatus.FAILED, JobStatus.SUPERSEDED):
        raise WorkerFailed(finished.error or "the job failed in the worker")
    return finished.result


def _deployed(lab: Lab) -> Deployment:
    deployment = lab_deployment(lab=lab)
    if deployment is None or deployment.state in NOT_DEPLOYED:
        raise Conflict("lab is not deployed; apply it first")
    return deployment


def _read_job(*, lab: Lab, user: Any, kind: str, params: dict[str, Any], worker_host: str) -> Job:
    return _job_create(lab=lab, user=user, kind=kind, params=params, worker_host=worker_host)


def _read_later(job: Job) -> Job:
    """A read that does not hold the web request: queued, its result on the lab's socket as the
    `result` of its `job.finished` event (and on GET /api/jobs/{id})."""
    jobs.enqueue(job)
    return job


def lab_tables(*, lab: Lab, user: Any, node: str) -> dict[str, Any]:
    """The node's live interfaces, ARP and routes (viewer), waiting for the worker on a cache miss."""
    return _waited(lab_tables_later(lab=lab, user=user, node=node, wait=True))


def lab_drift(*, lab: Lab, user: Any, tables: bool = False) -> dict[str, Any]:
    """{"drift": [...], "nodes": {...} when tables}: design against kernel, read by the worker (viewer)."""
    return _waited(lab_drift_later(lab=lab, user=user, tables=tables, wait=True))


def lab_plan(*, lab: Lab, user: Any) -> dict[str, Any]:
    """{"operations": [...]}: what apply would do now, observed by the worker (viewer); a dry run."""
    return _waited(lab_plan_later(lab=lab, user=user, wait=True))


def _waited(result: dict[str, Any] | Job) -> dict[str, Any]:
    assert not isinstance(result, Job)
    return result


def lab_tables_later(*, lab: Lab, user: Any, node: str, wait: bool = True) -> dict[str, Any] | Job:
    """The node's live interfaces, ARP and routes (viewer): from the worker's cache when it read them
    within watch.CACHE_MAX_AGE, else read by the worker (with `wait=False`: the queued Job)."""
    _check(user, lab, Role.VIEWER)
    if node not in document_node_names(lab_current_document(lab=lab)):
        raise NotFound(f"node '{node}' is not in the lab's current version")
    deployment = _deployed(lab)
    applied = deployment.version.document if deployment.version is not None else None
    if isinstance(applied, dict) and node not in document_node_names(applied):
        raise Conflict(f"node '{node}' is saved but not applied yet: apply the lab to create it, then read its tables")
    cached = watch.cached_tables(lab.pk, node)
    if cached is not None:
        return cached
    job = _read_job(lab=lab, user=user, kind=JobKind.TABLES, params={"node": node}, worker_host=deployment.worker_host)
    if not wait:
        return _read_later(job)
    result = job_wait(job=job)
    return result if isinstance(result, dict) else {}


def lab_drift_later(*, lab: Lab, user: Any, tables: bool = False, wait: bool = True) -> dict[str, Any] | Job:
    """{"drift": [...], "nodes": {...} when tables}: design against kernel, read by the worker (viewer)."""
    _check(user, lab, Role.VIEWER)
    deployment = _deployed(lab)
    job = _read_job(
        lab=lab, user=user, kind=JobKind.DRIFT, params={"tables": tables}, worker_host=deployment.worker_host
    )
    if not wait:
        return _read_later(job)
    result = job_wait(job=job)
    return result if isinstance(result, dict) else {"drift": []}


def lab_plan_later(*, lab: Lab, user: Any, wait: bool = True) -> dict[str, Any] | Job:
    """{"operations": [...]}: what apply would do now, observed by the worker (viewer); a dry run."""
    _check(user, lab, Role.VIEWER)
    lab.refresh_from_db(fields=["version"])
    deployment = lab_deployment(lab=lab)  # a dry run: no deployment is created for it
    host = deployment.worker_host if deployment is not None else settings.WORKER_HOST
    job = _read_job(lab=lab, user=user, kind=JobKind.PLAN, params={"version": lab.version}, worker_host=host)
    if not wait:
        return _read_later(job)
    result = job_wait(job=job, timeout=PLAN_WAIT_SECONDS)
    operations = result.get("operations", []) if isinstance(result, dict) else []
    return {"operations": operations}
