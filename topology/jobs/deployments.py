"""A deployment's state changes in one place, by a table of allowed transitions, and the applied
version is worked out here only.

Every change is a conditional UPDATE (`WHERE state IN (those allowed to go there)`), so two processes
can never move one deployment along two paths, and a change the table forbids is refused loudly
instead of silently leaving a state nobody expects.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.utils import timezone

from ..choices import DeploymentState as S
from ..engine import api as engine
from ..engine.model import Topology
from ..models import Deployment, TopologyVersion

# state -> the states it may go to. APPLYING/DESTROYING may start again from themselves: a job that
# died mid-way (and was not recovered yet) left them, and the next write job, under the lab lock,
# is the one that converges.
ALLOWED: dict[S, frozenset[S]] = {
    S.PENDING: frozenset({S.APPLYING, S.DESTROYING}),
    S.APPLYING: frozenset({S.DEPLOYED, S.FAILED, S.APPLYING, S.DESTROYING}),
    S.DEPLOYED: frozenset({S.APPLYING, S.DESTROYING, S.FAILED}),
    S.FAILED: frozenset({S.APPLYING, S.DESTROYING}),
    S.DESTROYING: frozenset({S.DESTROYED, S.FAILED, S.APPLYING, S.DESTROYING}),
    S.DESTROYED: frozenset({S.APPLYING, S.DESTROYING}),
}
_UNSET: Any = object()


class IllegalTransition(Exception):
    """The deployment is in a state from which the requested one is not allowed."""


def sources(to: S) -> list[S]:
    """The states from which `to` may be reached."""
    return [state for state, targets in ALLOWED.items() if to in targets]


def deployment_transition(*, lab_id: int, to: S, version: Any = _UNSET, error: str = "",
                          strict: bool = True) -> bool:
    """Move the lab's deployment to `to` (with its version when given, and error). Returns whether it
    moved; with `strict`, a transition the table forbids raises IllegalTransition."""
    fields: dict[str, Any] = {"state": to, "error": error, "updated": timezone.now()}
    if version is not _UNSET:
        fields["version"] = version
    moved = Deployment.objects.filter(lab_id=lab_id, state__in=sources(to)).update(**fields)
    if not moved and strict:
        current = Deployment.objects.filter(lab_id=lab_id).values_list("state", flat=True).first()
        raise IllegalTransition(f"deployment of lab {lab_id} cannot go from {current!r} to {to.value!r}")
    return bool(moved)


def parse(document: dict[str, Any]) -> Topology:
    topology: Topology = engine.parse(
        document, max_nodes=settings.NETDESIGNER_MAX_NODES, max_links=settings.NETDESIGNER_MAX_LINKS
    )
    return topology


_parsed: OrderedDict[tuple[int, str], Topology] = OrderedDict()
PARSED_KEPT = 16  # parsed versions kept per process (a 500-node document takes ~0.3 s to validate)


def parse_version(version: TopologyVersion) -> Topology:
    """The version's document, parsed once per process: versions never change (a save makes a new
    one), so the worker's pool processes parse a lab's version for its first job only. Keyed by id
    and creation time too: a database may give a deleted row's id to a new one."""
    key = (version.pk, str(version.created))
    found = _parsed.get(key)
    if found is None:
        found = parse(version.document)
        _parsed[key] = found
        while len(_parsed) > PARSED_KEPT:
            _parsed.popitem(last=False)
    else:
        _parsed.move_to_end(key)
    return found


def applied_version(deployment: Deployment | None) -> TopologyVersion | None:
    """The version the kernel is known to hold: only a cleanly applied one (state deployed). After a
    failure or an interruption the kernel holds something in between, which must be observed whole."""
    if deployment is None or deployment.state != S.DEPLOYED:
        return None
    return deployment.version


def applied_topology(deployment: Deployment | None) -> Topology | None:
    """The parsed `applied_version` (None when unknown or no longer valid), to plan against as `previous`."""
    version = applied_version(deployment)
    if version is None:
        return None
    with contextlib.suppress(engine.ValidationFailed):
        return parse_version(version)
    return None


def version_for_reads(deployment: Deployment, current: TopologyVersion | None) -> TopologyVersion | None:
    """For reads of a deployed lab: the version in the kernel, else the current one (after a failed
    first apply the deployment has no version yet, but namespaces to read)."""
    return deployment.version or current
