"""Reads: what a user may see, shaped for the API, the pages and the admin in a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from .choices import Role
from .models import Job, Lab, LabMembership, TeamMembership
from .services.errors import NotFound
from .services.permissions import _is_staff, highest_role, lab_require_role, labs_visible_filter


def lab_list_for(*, user: Any) -> list[Lab]:
    """Every lab the user may see, each with `.role` (the user's role) set, in one query."""
    lab_role = LabMembership.objects.filter(lab=OuterRef("pk"), user=user).values("role")[:1]
    team_role = TeamMembership.objects.filter(team=OuterRef("team"), user=user).values("role")[:1]
    labs = (
        Lab.objects.filter(labs_visible_filter(user=user))
        .select_related("owner", "team", "deployment", "deployment__version")
        .annotate(lab_role=Subquery(lab_role), team_role=Subquery(team_role))
        .order_by("name", "pk")
    )
    result: list[Lab] = []
    staff = _is_staff(user)
    for lab in labs:
        if staff or lab.owner_id == user.pk:
            lab.role = Role.OWNER.value  # type: ignore[attr-defined]
        else:
            lab.role = highest_role(lab.lab_role, lab.team_role)  # type: ignore[attr-defined]
        result.append(lab)
    return result


def lab_deployment_or_none(lab: Lab) -> Any:
    try:
        return lab.deployment
    except Lab.deployment.RelatedObjectDoesNotExist:
        return None


def job_get_for(*, user: Any, job_id: int) -> Job:
    """A job the user may see: viewers of its lab; a job with no lab (site-wide, or the delete job of a
    lab now gone) only staff and whoever asked for it."""
    job = Job.objects.select_related("lab", "created_by").filter(pk=job_id).first()
    if job is None:
        raise NotFound("job not found")
    if job.lab is None:
        if not (_is_staff(user) or (job.created_by_id is not None and job.created_by_id == getattr(user, "pk", None))):
            raise NotFound("job not found")
        return job
    try:
        lab_require_role(user=user, lab=job.lab, role=Role.VIEWER)
    except NotFound:
        raise NotFound("job not found") from None
    return job


def jobs_for_lab(*, lab: Lab, limit: int = 50) -> QuerySet[Job]:
    return Job.objects.filter(lab=lab).select_related("created_by").order_by("-created", "-pk")[:limit]
