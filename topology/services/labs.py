"""Creating, saving and deleting labs.

Saving is optimistic: the caller names the version it edited, and a conditional UPDATE on
`Lab.version` lets exactly one of two concurrent saves of the same version win; the other gets 409
and must reload. The event telling other viewers about the save is sent after commit, and a Redis
hiccup there must never fail the save itself.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from .. import events
from ..choices import DeploymentState, Role
from ..engine.fields import bad_char
from ..models import Deployment, Lab, Team, TeamMembership, TopologyVersion, document_size
from .audit import audit_record
from .documents import document_check
from .errors import Conflict, FieldError, Invalid
from .permissions import _is_staff, lab_require_role
from .retention import storage_check, version_retention_apply

logger = logging.getLogger(__name__)

SLUG_MAX = 100


def event_publish_safely(*, lab_id: int, event: dict[str, Any]) -> None:
    """Publish to the lab's websocket group; log, never raise (the change is already committed)."""
    events.publish_safely(lab_id, event)


SLUG_SUFFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l/1/o/0 to misread
SLUG_SUFFIX_LEN = 6


def lab_unique_slug(*, name: str) -> str:
    """The name's slug with a random suffix (`my-lab-k3x9qa`), always: a counter (`my-lab-2`) would tell
    a creator that someone else's lab, which they cannot see, has that name. 32^6 suffixes per name;
    a clash is retried."""
    base = slugify(name)[: SLUG_MAX - SLUG_SUFFIX_LEN - 1].strip("-") or "lab"
    for _attempt in range(20):
        suffix = "".join(secrets.choice(SLUG_SUFFIX_ALPHABET) for _ in range(SLUG_SUFFIX_LEN))
        candidate = f"{base}-{suffix}"
        if not Lab.objects.filter(slug=candidate).exists():
            return candidate
    raise Conflict("could not pick a unique slug; try again")  # pragma: no cover


def _name_check(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise Invalid([FieldError("name", "a lab needs a name")], detail="a lab needs a name")
    if len(name.strip()) > 100:
        raise Invalid([FieldError("name", "at most 100 characters")], detail="name too long")
    if (ch := bad_char(name)) is not None:  # one line, as in a document (engine/fields.py)
        raise Invalid([FieldError("name", f"holds the control character {ch}; remove it")],
                      detail="invalid name")
    return name.strip()


def team_for_new_lab(*, user: Any, slug: str | None) -> Team | None:
    """The team a new lab goes to: the caller must be an editor (or more) of it, or staff."""
    if not slug:
        return None
    team = Team.objects.filter(slug=slug).first()
    role = TeamMembership.objects.filter(team=team, user=user).values_list("role", flat=True).first()
    if team is None or not (_is_staff(user) or Role.rank(role) >= Role.rank(Role.EDITOR)):
        raise Invalid([FieldError("team", f"no team '{slug}' that you may add labs to")], detail="unknown team")
    return team


def teams_for_new_lab(*, user: Any) -> list[Team]:
    """The teams the user may add labs to (editor or more; staff: every team), for the create forms."""
    teams = Team.objects.order_by("name")
    if _is_staff(user):
        return list(teams)
    editors = [Role.EDITOR, Role.OPERATOR, Role.OWNER]
    return list(teams.filter(memberships__user=user, memberships__role__in=editors).distinct())


def lab_create(
    *,
    user: Any,
    name: str,
    topology: Any,
    description: str = "",
    team: Team | None = None,
    note: str = "created",
) -> Lab:
    """A new lab owned by `user`, with `topology` stored as version 1."""
    name = _name_check(name)
    document = document_check(topology)
    storage_check(owner=user, adding=document_size(document))
    for _attempt in range(5):
        try:
            with transaction.atomic():
                lab = Lab.objects.create(
                    name=name,
                    slug=lab_unique_slug(name=name),
                    description=description,
                    owner=user,
                    team=team,
                    version=1,
                )
                TopologyVersion.objects.create(lab=lab, number=1, document=document, author=user, note=note)
                audit_record(lab=lab, user=user, action="lab.created", detail={"version": 1})
            return lab
        except IntegrityError:  # two creators raced for the same slug: pick the next one
            continue
    raise Conflict("could not pick a unique slug; try again")


def lab_topology_save(
    *, lab: Lab, user: Any, version: int, topology: Any, note: str = "", action: str = "topology.saved"
) -> int:
    """Store `topology` as version `version + 1` if `version` is still current; return the new number.

    `user=None` is the command line (root on the machine), which needs no lab role.
    """
    if user is not None:
        lab_require_role(user=user, lab=lab, role=Role.EDITOR)
    document = document_check(topology)
    storage_check(owner=lab.owner, adding=document_size(document))
    new = version + 1
    with transaction.atomic():
        won = Lab.objects.filter(pk=lab.pk, version=version).update(version=F("version") + 1, updated=timezone.now())
        if not won:
            current = Lab.objects.filter(pk=lab.pk).values_list("version", flat=True).first()
            raise Conflict(
                f"version {version} is not current (the lab is at version {current}); reload it and save again"
            )
        TopologyVersion.objects.create(lab=lab, number=new, document=document, author=user, note=note[:200])
        audit_record(lab=lab, user=user, action=action, detail={"version": new, "note": note[:200]})
        version_retention_apply(lab=lab)
        username = getattr(user, "username", "") if user is not None else "lab command"
        lab_id = lab.pk
        transaction.on_commit(
            lambda: event_publish_safely(
                lab_id=lab_id, event={"type": "topology.updated", "version": new, "by": username}
            )
        )
    lab.version = new
    return new


def lab_update(*, lab: Lab, user: Any, name: str | None = None, description: str | None = None) -> Lab:
    """Rename or describe a lab (editor); the slug stays, so links keep working."""
    lab_require_role(user=user, lab=lab, role=Role.EDITOR)
    fields = []
    if name is not None:
        lab.name = _name_check(name)
        fields.append("name")
    if description is not None:
        lab.description = description
        fields.append("description")
    if fields:
        lab.save(update_fields=[*fields, "updated"])
        audit_record(lab=lab, user=user, action="lab.updated", detail={f: getattr(lab, f) for f in fields})
        event = {"type": "lab.updated", **{f: getattr(lab, f) for f in fields}, "by": getattr(user, "username", "")}
        lab_id = lab.pk
        transaction.on_commit(lambda: event_publish_safely(lab_id=lab_id, event=event))
    return lab


LIVE_STATES = {DeploymentState.APPLYING, DeploymentState.DEPLOYED, DeploymentState.DESTROYING, DeploymentState.FAILED}


def lab_delete(*, lab: Lab, user: Any) -> None:
    """Delete a lab (owner) that has nothing in the kernel; refused otherwise (see services.deletion,
    which destroys it first)."""
    from .lab_rows import lab_rows_delete

    if user is not None:
        lab_require_role(user=user, lab=lab, role=Role.OWNER)
    deployment = Deployment.objects.filter(lab=lab).first()
    if deployment is not None and deployment.state in LIVE_STATES:
        raise Conflict(f"lab '{lab.slug}' is {deployment.state}; destroy it first, then delete it")
    lab_rows_delete(lab_id=lab.pk, user=user, by=getattr(user, "username", "") if user is not None else "")
