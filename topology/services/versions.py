"""Reading, comparing and restoring the stored versions of a lab's document.

The diff is structural (nodes by name, links by their two endpoints) so that it says what a person
changed on the canvas, not which JSON bytes moved.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ..choices import Role
from ..models import Lab, TopologyVersion
from .errors import NotFound
from .labs import lab_topology_save
from .permissions import lab_require_role


def version_list(*, lab: Lab) -> QuerySet[TopologyVersion]:
    return TopologyVersion.objects.filter(lab=lab).select_related("author").order_by("-number")


def version_get(*, lab: Lab, number: int) -> TopologyVersion:
    found = TopologyVersion.objects.filter(lab=lab, number=number).select_related("author").first()
    if found is None:
        raise NotFound(f"version {number} of this lab not found")
    return found


def _link_key(link: Any) -> str:
    if not isinstance(link, dict):
        return repr(link)
    ends = []
    for side in ("a", "b"):
        end = link.get(side) or {}
        ends.append(f"{end.get('node')}:{end.get('interface')}" if isinstance(end, dict) else repr(end))
    return " -- ".join(sorted(ends))


def _by_key(items: Any, key: Any) -> dict[str, Any]:
    return {key(item): item for item in items} if isinstance(items, list) else {}


def _section_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        "added": [new[k] for k in new if k not in old],
        "removed": [old[k] for k in old if k not in new],
        "changed": [{"key": k, "from": old[k], "to": new[k]} for k in new if k in old and old[k] != new[k]],
    }


def documents_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Nodes (by name) and links (by endpoints) added, removed and changed; moved nodes apart."""
    node_key = lambda n: n.get("name") if isinstance(n, dict) else repr(n)  # noqa: E731
    nodes = _section_diff(_by_key(old.get("nodes"), node_key), _by_key(new.get("nodes"), node_key))
    links = _section_diff(_by_key(old.get("links"), _link_key), _by_key(new.get("links"), _link_key))
    old_layout: dict[str, Any] = old.get("layout") or {}
    new_layout: dict[str, Any] = new.get("layout") or {}
    if not isinstance(old_layout, dict) or not isinstance(new_layout, dict):
        old_layout, new_layout = {}, {}
    moved = sorted(k for k in new_layout if k in old_layout and old_layout[k] != new_layout[k])
    meta = sorted(k for k in ("name", "description") if old.get(k) != new.get(k))
    return {"nodes": nodes, "links": links, "moved": moved, "changed_fields": meta}


def version_diff(*, lab: Lab, number: int, against: int | None = None) -> dict[str, Any]:
    """What changed from version `against` (default: the one before) to version `number`."""
    base_number = against if against is not None else number - 1
    new = version_get(lab=lab, number=number)
    old_doc: dict[str, Any] = {}
    if base_number >= 1:
        old_doc = version_get(lab=lab, number=base_number).document
    diff = documents_diff(old_doc, new.document)
    return {"from": max(base_number, 0), "to": number, **diff}


def version_restore(*, lab: Lab, user: Any, number: int, version: int | None = None) -> int:
    """Save an old version's document as the newest version (history is never rewritten)."""
    if user is not None:
        lab_require_role(user=user, lab=lab, role=Role.EDITOR)
    old = version_get(lab=lab, number=number)
    current = version if version is not None else Lab.objects.values_list("version", flat=True).get(pk=lab.pk)
    return lab_topology_save(
        lab=lab,
        user=user,
        version=current,
        topology=old.document,
        note=f"restored version {number}",
        action="topology.restored",
    )
