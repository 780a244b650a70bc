"""Copies for a class: a teacher copies a lab once per student, each copy owned by its student and
remembering its template and version; a student resets a copy to that version; the teacher sees
every copy of their lab and its latest check results in one table.

The teacher (whoever made the copies) becomes an operator of each copy: they may open, apply and test
it to help, but the copy stays the student's (only its owner shares or deletes it).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from ..choices import JobKind, JobStatus, Role
from ..models import Job, Lab, LabMembership, Team, TopologyVersion
from .audit import audit_record
from .errors import Conflict, FieldError, Invalid
from .labs import lab_create, lab_topology_save
from .permissions import _is_staff, lab_require_role

MAX_COPIES = 500  # owners in one request


def _owners(*, names: list[str] | None, team: str | None) -> list[Any]:
    """The users named, or the members of the team, in the order given; every name must exist."""
    users = get_user_model().objects.filter(is_active=True)
    if team:
        found = Team.objects.filter(slug=team).first()
        if found is None:
            raise Invalid([FieldError("team", f"no team '{team}'")], detail="unknown team")
        return list(users.filter(team_memberships__team=found).order_by("username"))
    wanted = [n.strip() for n in names or [] if isinstance(n, str) and n.strip()]
    if not wanted:
        raise Invalid([FieldError("owners", "name at least one user (or a team)")], detail="no owners")
    if len(wanted) > MAX_COPIES:
        raise Invalid([FieldError("owners", f"at most {MAX_COPIES} per request")], detail="too many owners")
    by_name = {u.get_username(): u for u in users.filter(username__in=wanted)}
    missing = [n for n in wanted if n not in by_name]
    if missing:
        errors = [FieldError(f"owners[{wanted.index(n)}]", f"no active user named '{n}'") for n in missing]
        raise Invalid(errors, detail="unknown user(s)")
    return [by_name[n] for n in dict.fromkeys(wanted)]


def lab_copies_create(*, lab: Lab, user: Any, owners: list[str] | None = None, team: str | None = None) -> list[Lab]:
    """One copy of the lab's current version per owner (owner role on the lab). An owner who already
    has a copy of this lab keeps it (returned as is): making copies twice for a class is harmless."""
    lab_require_role(user=user, lab=lab, role=Role.OWNER)
    students = _owners(names=owners, team=team)
    lab.refresh_from_db(fields=["version"])
    document = TopologyVersion.objects.get(lab=lab, number=lab.version).document
    made: list[Lab] = []
    with transaction.atomic():
        existing = {c.owner_id: c for c in Lab.objects.filter(template=lab).select_related("owner")}
        for student in students:
            if student.pk in existing:
                made.append(existing[student.pk])
                continue
            copy = lab_create(user=student, name=f"{lab.name} ({student.get_username()})"[:100],
                              topology=document, description=lab.description,
                              note=f"copy of {lab.slug} version {lab.version}")
            Lab.objects.filter(pk=copy.pk).update(template=lab, template_version=lab.version)
            copy.template, copy.template_version = lab, lab.version
            if user is not None and getattr(user, "pk", None) not in (None, student.pk):
                LabMembership.objects.update_or_create(lab=copy, user=user, defaults={"role": Role.OPERATOR})
            made.append(copy)
        audit_record(lab=lab, user=user, action="lab.copied",
                     detail={"copies": [c.slug for c in made], "version": lab.version})
    return made


def lab_reset(*, lab: Lab, user: Any) -> int:
    """Save the version the copy was made from as its newest version (editor); returns the number."""
    if user is not None:
        lab_require_role(user=user, lab=lab, role=Role.EDITOR)
    if lab.template_version is None:
        raise Conflict("this lab is not a copy of another lab: there is no version to reset it to")
    document = None
    if lab.template_id is not None:
        document = TopologyVersion.objects.filter(lab_id=lab.template_id, number=lab.template_version).values_list(
            "document", flat=True).first()
    if document is None:  # the template (or that version) is gone: the copy's first version is the same
        document = TopologyVersion.objects.filter(lab=lab, number=1).values_list("document", flat=True).first()
    if document is None:
        raise Conflict("the version this copy was made from is gone; nothing to reset to")
    lab.refresh_from_db(fields=["version"])
    return lab_topology_save(lab=lab, user=user, version=lab.version, topology=document,
                             note=f"reset to version {lab.template_version} of the template", action="topology.reset")


def _latest_tests(lab_ids: list[int]) -> dict[int, Job]:
    """The newest finished `test` job of each lab (one query)."""
    latest: dict[int, Job] = {}
    rows = (Job.objects.filter(lab_id__in=lab_ids, kind=JobKind.TEST, status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED])
            .order_by("lab_id", "-finished", "-pk"))
    for job in rows:
        assert job.lab_id is not None
        latest.setdefault(job.lab_id, job)
    return latest


def check_label(check: Any) -> str:
    """A check in words: its name, else "red → blue reachable"."""
    if not isinstance(check, dict):
        return str(check)
    if check.get("name"):
        return str(check["name"])
    port = f" {check.get('protocol', 'tcp')}/{check['port']}" if check.get("port") else ""
    return f"{check.get('from', '?')} → {check.get('to', '?')}{port} {check.get('expect', '')}".strip()


def class_table(*, lab: Lab, user: Any) -> list[dict[str, Any]]:
    """Every copy of the lab with its state and latest check results (owner of the template, or staff)."""
    if not _is_staff(user):
        lab_require_role(user=user, lab=lab, role=Role.OWNER)
    copies = list(Lab.objects.filter(template=lab).select_related("owner", "deployment").order_by("owner__username", "pk"))
    tests = _latest_tests([c.pk for c in copies])
    rows = []
    for copy in copies:
        deployment = getattr(copy, "deployment", None)
        job = tests.get(copy.pk)
        result = job.result if job is not None and isinstance(job.result, dict) else None
        checks = [{"check": check_label(c.get("check")), "passed": bool(c.get("passed")),
                   "measured": str(c.get("measured") or "")}
                  for c in (result or {}).get("checks", []) if isinstance(c, dict)]
        rows.append({
            "id": copy.pk, "slug": copy.slug, "owner": copy.owner.get_username(), "version": copy.version,
            "template_version": copy.template_version,
            "state": deployment.state if deployment is not None else None,
            "test": None if job is None else {
                "job": job.pk, "status": job.status, "finished": job.finished, "error": job.error or None,
                "passed": int((result or {}).get("passed", 0)), "failed": int((result or {}).get("failed", 0)),
                "checks": checks,
            },
        })
    return rows
