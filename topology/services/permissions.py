"""Who may do what on a lab: viewer < editor < operator < owner.

A user's role on a lab is the highest of: being its owner, their LabMembership, and their
TeamMembership on the lab's team. Staff and superusers may do everything. The websocket consumer
imports `lab_role_for` from here, so keep the name and module.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from ..choices import Role
from ..models import Lab, LabMembership, TeamMembership
from .errors import LAB_NOT_FOUND, Forbidden, NotFound


def _is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


def _authenticated(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False)) and bool(
        getattr(user, "is_active", True)
    )


def highest_role(*roles: str | None) -> str | None:
    best: str | None = None
    for role in roles:
        if role and Role.rank(role) > Role.rank(best):
            best = role
    return best


def lab_role_for(*, user: Any, lab: Lab) -> str | None:
    """The user's role on the lab, or None when they may not even see it."""
    if not _authenticated(user):
        return None
    if _is_staff(user) or lab.owner_id == user.pk:
        return Role.OWNER.value
    lab_role = LabMembership.objects.filter(lab=lab, user=user).values_list("role", flat=True).first()
    team_role = None
    if lab.team_id is not None:
        team_role = (
            TeamMembership.objects.filter(team_id=lab.team_id, user=user).values_list("role", flat=True).first()
        )
    return highest_role(lab_role, team_role)


def lab_require_role(*, user: Any, lab: Lab, role: str) -> str:
    """Return the user's role when it is at least `role`; 404 when they have none, 403 when too low."""
    actual = lab_role_for(user=user, lab=lab)
    if actual is None:
        raise NotFound(LAB_NOT_FOUND)
    if Role.rank(actual) < Role.rank(role):
        raise Forbidden(f"this needs the {role} role on the lab; you are {actual}")
    return actual


def labs_visible_filter(*, user: Any) -> Q:
    """A filter on Lab for every lab the user has any role on (one query, no joins that duplicate rows)."""
    if not _authenticated(user):
        return Q(pk__in=[])
    if _is_staff(user):
        return Q()
    member = LabMembership.objects.filter(lab=OuterRef("pk"), user=user)
    team_member = TeamMembership.objects.filter(team=OuterRef("team"), user=user)
    return Q(owner=user) | Q(Exists(member)) | Q(Exists(team_member))


def labs_visible_to(*, user: Any) -> QuerySet[Lab]:
    return Lab.objects.filter(labs_visible_filter(user=user))


def lab_get_for(*, user: Any, lab_id: int, role: str = Role.VIEWER) -> tuple[Lab, str]:
    """Load a lab by id and check the role; the same 404 for a missing lab and an invisible one."""
    lab = Lab.objects.select_related("owner", "team").filter(pk=lab_id).first()
    if lab is None:
        raise NotFound(LAB_NOT_FOUND)
    actual = lab_require_role(user=user, lab=lab, role=role)
    return lab, actual
