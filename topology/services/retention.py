"""Version retention and the per-user storage quota (issue 11 item 5).

Every save is a version, so without a bound a script saving in a loop fills the database. A lab keeps
its newest VERSIONS_KEEP versions plus every version a deployment points at (the kernel's `previous`
and the admin's inspection need it); the owner's labs together may store USER_STORAGE_MAX_BYTES of
documents. The quota counts against the lab's owner, whoever saves: an editor fills the owner's space.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Sum

from ..models import Lab, TopologyVersion
from .errors import ServiceError


class QuotaExceeded(ServiceError):
    """The owner's stored versions would pass their storage quota."""

    status = 413


def storage_used(*, user: Any) -> int:
    total = TopologyVersion.objects.filter(lab__owner=user).aggregate(total=Sum("size"))["total"]
    return int(total or 0)


def storage_check(*, owner: Any, adding: int) -> None:
    """Refuse (413) a version of `adding` bytes that would take `owner` past the quota."""
    limit = settings.USER_STORAGE_MAX_BYTES
    used = storage_used(user=owner)
    if used + adding > limit:
        raise QuotaExceeded(
            f"{getattr(owner, 'username', owner)}'s labs store {used:,} bytes of versions; this one "
            f"({adding:,} bytes) would pass the quota of {limit:,}. Delete labs you no longer need "
            "(old versions beyond the newest kept ones go by themselves)")


def version_retention_apply(*, lab: Lab) -> int:
    """Delete versions older than the newest VERSIONS_KEEP, keeping any a deployment points at."""
    keep = max(1, settings.VERSIONS_KEEP)
    numbers = list(TopologyVersion.objects.filter(lab=lab).order_by("-number").values_list("number", flat=True))
    if len(numbers) <= keep:
        return 0
    cutoff = numbers[keep - 1]
    old = TopologyVersion.objects.filter(lab=lab, number__lt=cutoff, deployments__isnull=True)
    deleted, _ = old.delete()
    return int(deleted)
