"""Deleting a lab: what it made in the kernel goes first, then its rows.

A lab whose namespaces may still exist (applying, deployed, failed, destroying) is not deleted on the
spot: a `delete` job destroys it through the worker of its host (the web tier is not root) and deletes
the rows only once the destroy succeeded, so no namespace is ever left without a row that names it.
A lab with nothing in the kernel is deleted at once. The API, the canvas and the admin all call
`lab_delete_request`.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .. import jobs
from ..choices import DeploymentState, JobKind, JobStatus, Role
from ..models import Deployment, Job, Lab
from .audit import audit_record
from .lab_rows import lab_rows_delete
from .permissions import lab_require_role

# States in which nothing of the lab is in the kernel (a pending deployment was never applied).
NOTHING_DEPLOYED = {DeploymentState.PENDING, DeploymentState.DESTROYED}


def lab_needs_destroy(*, lab: Lab) -> bool:
    state = Deployment.objects.filter(lab=lab).values_list("state", flat=True).first()
    return state is not None and state not in NOTHING_DEPLOYED


def lab_delete_request(*, lab: Lab, user: Any, dispatch: bool = True) -> Job | None:
    """Delete the lab (owner): at once when nothing of it is in the kernel (returns None), else through a
    `delete` job that destroys it first (returned; a second request returns the pending one)."""
    if user is not None:
        lab_require_role(user=user, lab=lab, role=Role.OWNER)
    by = getattr(user, "username", "") if user is not None else "lab command"
    if not lab_needs_destroy(lab=lab):
        lab_rows_delete(lab_id=lab.pk, user=user, by=by)
        return None
    pending = Job.objects.filter(lab=lab, kind=JobKind.DELETE, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).first()
    if pending is not None:
        return pending
    deployment = Deployment.objects.get(lab=lab)
    actor = user if user is not None and getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        job = Job.objects.create(lab=lab, kind=JobKind.DELETE, params={"slug": lab.slug, "by": by},
                                 created_by=actor, worker_host=deployment.worker_host)
        audit_record(lab=lab, user=user, action="job.delete", detail={"job": job.pk})
        if dispatch:
            jobs.enqueue(job)
    return job
