"""Quotas per user, from the environment: labs in the kernel at once and the namespaces they make.

A lab counts against its owner (a student's copy against the student, whoever presses Apply), so a
class server can bound what each student holds. Checked when an apply is requested: a re-apply of a
lab already in the kernel adds no lab, only the difference in namespaces. 0 disables a quota.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ..choices import DeploymentState
from ..models import Lab, TopologyVersion
from .documents import document_parse
from .errors import Conflict

IN_KERNEL = [DeploymentState.APPLYING, DeploymentState.DEPLOYED, DeploymentState.DESTROYING, DeploymentState.FAILED]


class QuotaExceeded(Conflict):
    """409 naming the quota, what the user holds and what to do."""


def namespaces_of(document: dict[str, Any]) -> int:
    """Namespaces an apply of the document makes: one per node but bridges (they live in the host's),
    the implicit host included."""
    try:
        topology = document_parse(document)
    except Exception:  # noqa: BLE001 - an unparsable document is refused by the apply itself
        return 0
    return sum(1 for n in topology.nodes if n.kind != "bridge")


def _deployed_namespaces(lab: Lab) -> int:
    """What a lab in the kernel holds: its applied version's namespaces (else its current one's)."""
    deployment = lab.deployment
    number = deployment.version.number if deployment.version is not None else lab.version
    document = TopologyVersion.objects.filter(lab=lab, number=number).values_list("document", flat=True).first()
    return namespaces_of(document) if isinstance(document, dict) else 0


def quota_check_apply(*, lab: Lab, document: dict[str, Any]) -> None:
    """Raise QuotaExceeded when applying `document` to `lab` would take its owner over a quota."""
    max_labs = settings.NETDESIGNER_MAX_DEPLOYED_LABS_PER_USER
    max_ns = settings.NETDESIGNER_MAX_NAMESPACES_PER_USER
    if max_labs <= 0 and max_ns <= 0:
        return
    others = list(
        Lab.objects.filter(owner_id=lab.owner_id, deployment__state__in=IN_KERNEL)
        .exclude(pk=lab.pk)
        .select_related("deployment", "deployment__version")
    )
    owner = lab.owner.get_username()
    if max_labs > 0 and len(others) + 1 > max_labs:
        raise QuotaExceeded(
            f"quota NETDESIGNER_MAX_DEPLOYED_LABS_PER_USER reached: {owner} has {len(others)} lab(s) in the "
            f"kernel and the limit is {max_labs}; destroy one of them first"
        )
    if max_ns > 0:
        held = sum(_deployed_namespaces(other) for other in others)
        wanted = namespaces_of(document)
        if held + wanted > max_ns:
            raise QuotaExceeded(
                f"quota NETDESIGNER_MAX_NAMESPACES_PER_USER exceeded: this lab needs {wanted} namespace(s), "
                f"{owner} holds {held} in other labs and the limit is {max_ns}; destroy a lab or draw fewer nodes"
            )
