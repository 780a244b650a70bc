"""Managing who may do what on a lab (owners only)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet

from .. import events
from ..choices import Role
from ..models import Lab, LabMembership
from .audit import audit_record
from .errors import FieldError, Invalid, NotFound
from .permissions import lab_require_role

logger = logging.getLogger(__name__)


def _access_changed_later(lab_id: int) -> None:
    """After commit, ask open sockets of the lab to re-check roles (a lowered role stops watching)."""

    def send() -> None:
        try:
            events.access_changed(lab_id)
        except Exception:  # noqa: BLE001 - sockets re-check by themselves within seconds anyway
            logger.warning("could not signal an access change on lab %s", lab_id, exc_info=True)

    transaction.on_commit(send)


def member_list(*, lab: Lab) -> QuerySet[LabMembership]:
    return LabMembership.objects.filter(lab=lab).select_related("user").order_by("user__username")


def _role_check(role: Any) -> str:
    if role not in Role.values:
        raise Invalid([FieldError("role", f"must be one of {', '.join(Role.values)}")], detail="unknown role")
    return str(role)


def member_set(*, lab: Lab, user: Any, username: str, role: str) -> LabMembership:
    """Give `username` the role on the lab (creates or changes the membership)."""
    lab_require_role(user=user, lab=lab, role=Role.OWNER)
    role = _role_check(role)
    target = get_user_model().objects.filter(username=username, is_active=True).first()
    if target is None:
        raise Invalid([FieldError("username", f"no active user named '{username}'")], detail="unknown user")
    if target.pk == lab.owner_id:
        raise Invalid([FieldError("username", f"'{username}' owns the lab already")], detail="already owner")
    membership, _created = LabMembership.objects.update_or_create(lab=lab, user=target, defaults={"role": role})
    audit_record(lab=lab, user=user, action="member.set", detail={"username": username, "role": role})
    _access_changed_later(lab.pk)
    return membership


def member_remove(*, lab: Lab, user: Any, username: str) -> None:
    lab_require_role(user=user, lab=lab, role=Role.OWNER)
    deleted, _ = LabMembership.objects.filter(lab=lab, user__username=username).delete()
    if not deleted:
        raise NotFound(f"'{username}' is not a member of this lab")
    audit_record(lab=lab, user=user, action="member.removed", detail={"username": username})
    _access_changed_later(lab.pk)
