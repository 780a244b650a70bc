"""Role changes reach open pages live: a `role.changed` event on the lab's socket, then a re-check.

Why signals rather than calls in the member services: memberships also change in the Django admin
(lab and team inlines), and a team role change touches every lab of the team. Whatever path changed
the row, once the transaction commits each affected lab's group hears the user's *effective* role
(the higher of lab and team role; null when none is left), so the page re-renders its controls, and
the sockets re-check roles at once (a removed member's socket is closed with 4403).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from . import events

log = logging.getLogger(__name__)

ROLE_CHANGED = "role.changed"


def role_changed_publish(*, lab_id: int, user_id: int) -> None:
    """Publish the user's current role on the lab (after commit: the rows are final)."""
    from django.contrib.auth import get_user_model

    from .models import Lab
    from .services.permissions import lab_role_for

    lab = Lab.objects.filter(pk=lab_id).first()
    user = get_user_model().objects.filter(pk=user_id).first()
    if lab is None or user is None:
        return
    role = lab_role_for(user=user, lab=lab)
    try:
        events.publish(lab_id, {"type": ROLE_CHANGED, "user": user.get_username(), "role": role})
        events.access_changed(lab_id)
    except Exception:  # noqa: BLE001 - sockets re-check roles by themselves within seconds anyway
        log.warning("could not signal a role change on lab %s", lab_id, exc_info=True)


def _later(lab_ids: list[int], user_id: int) -> None:
    def send() -> None:
        for lab_id in lab_ids:
            role_changed_publish(lab_id=lab_id, user_id=user_id)

    transaction.on_commit(send)


def _lab_membership_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    _later([instance.lab_id], instance.user_id)


def _team_membership_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from .models import Lab

    _later(list(Lab.objects.filter(team_id=instance.team_id).values_list("pk", flat=True)), instance.user_id)


def connect() -> None:
    """Called once from the app config's ready()."""
    from .models import LabMembership, TeamMembership

    for name, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(_lab_membership_changed, sender=LabMembership, dispatch_uid=f"nd-lab-member-{name}")
        signal.connect(_team_membership_changed, sender=TeamMembership, dispatch_uid=f"nd-team-member-{name}")
