"""Deleting a lab's rows once its kernel side is gone: shared by the delete request (nothing deployed)
and the `delete` job (after its destroy). Imports nothing of topology.jobs, so the job can use it."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .. import events
from ..models import Lab
from .audit import audit_record

DELETED_EVENT = "lab.deleted"


def lab_rows_delete(*, lab_id: int, user: Any, by: str) -> bool:
    """Delete the lab's rows (versions, memberships, deployment, jobs but the caller's) and tell open
    pages. Returns False when the lab was already gone."""
    with transaction.atomic():
        lab = Lab.objects.select_for_update().filter(pk=lab_id).first()
        if lab is None:
            return False
        audit_record(lab=None, user=user, action="lab.deleted", detail={"id": lab.pk, "slug": lab.slug})
        lab.delete()
        transaction.on_commit(lambda: events.publish_safely(lab_id, {"type": DELETED_EVENT, "by": by}))
    return True
