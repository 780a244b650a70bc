"""Taking a hand change into the design: "keep this address" / "keep this route" on a drift item.

A change made in a node's terminal (or by any hand) shows as drift; keeping it edits the current
document so that the design says what the kernel has (a new version, as any save), and the next plan
has nothing to undo. Only addresses and routes can be kept: they map onto one field of the document each.
Dropping an item instead is just Apply, which makes the kernel match the design again.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from ..models import Lab
from .errors import FieldError, Invalid
from .labs import lab_topology_save

KEEPABLE = ("address", "route")


def _bad(path: str, message: str) -> Invalid:
    return Invalid([FieldError(path, message)], detail=message)


def _endpoint_addresses(doc: dict[str, Any], node: str, iface: str) -> list[str] | None:
    """The address list of (node, interface) in the document: a cable end, or a bridge in the host."""
    for link in doc.get("links", []):
        for side in ("a", "b"):
            end = link.get(side) or {}
            if end.get("node") == node and end.get("interface") == iface:
                return end.setdefault("addresses", [])  # type: ignore[no-any-return]
    nodes = {n.get("name"): n for n in doc.get("nodes", [])}
    bridge = nodes.get(iface)
    host = nodes.get(node)
    if bridge is not None and bridge.get("kind") == "bridge" and (host is None or host.get("kind") == "host"):
        return bridge.setdefault("addresses", [])  # type: ignore[no-any-return]
    return None


def _keep_address(doc: dict[str, Any], item: dict[str, Any]) -> str:
    what = str(item.get("what", "")).split()
    if len(what) != 2:
        raise _bad("item.what", "an address item names '<interface> <address>'")
    iface, cidr = what
    try:
        ipaddress.ip_interface(cidr)
    except ValueError as exc:
        raise _bad("item.what", f"{cidr!r} is not an address") from exc
    addresses = _endpoint_addresses(doc, str(item["node"]), iface)
    if addresses is None:
        raise _bad("item.what", f"{item['node']} has no interface {iface} in the design")
    if item.get("actual") and cidr not in addresses:  # added by hand: the design gets it too
        addresses.append(cidr)
        return f"kept {cidr} on {item['node']} {iface}"
    if item.get("expected") and cidr in addresses:  # removed by hand: the design drops it too
        addresses.remove(cidr)
        return f"dropped {cidr} from {item['node']} {iface}"
    raise _bad("item", "the design already says this: nothing to keep")


def _keep_route(doc: dict[str, Any], item: dict[str, Any]) -> str:
    to = str(item.get("what", ""))
    if to != "default":
        try:
            ipaddress.ip_network(to, strict=False)
        except ValueError as exc:
            raise _bad("item.what", f"{to!r} is not a route destination") from exc
    node = next((n for n in doc.get("nodes", []) if n.get("name") == item["node"]), None)
    if node is None or node.get("kind") == "bridge":
        raise _bad("item.node", f"{item['node']} is not a node of the design that has routes")
    routes: list[dict[str, Any]] = node.setdefault("routes", [])
    actual, expected = item.get("actual"), item.get("expected")
    if isinstance(actual, dict) and not expected:
        via, dev = actual.get("via"), actual.get("dev")
        route = {"to": to, "via": via} if via else {"to": to, "dev": dev}  # via: the kernel picks the device
        routes.append(route)
        return f"kept the route to {to} on {item['node']}"
    if isinstance(expected, dict) and not actual:
        before = len(routes)
        routes[:] = [r for r in routes if not (r.get("to") == to and r.get("via") == expected.get("via"))]
        if len(routes) < before:
            return f"dropped the route to {to} from {item['node']}"
    raise _bad("item", "the design already says this: nothing to keep")


def document_keep(document: dict[str, Any], item: Any) -> tuple[dict[str, Any], str]:
    """The document changed to say what the drift item says the kernel has, and that change in words."""
    if not isinstance(item, dict) or not isinstance(item.get("node"), str):
        raise _bad("item", "a drift item ({node, kind, what, expected, actual}) is needed")
    kind = item.get("kind")
    if kind not in KEEPABLE:
        raise _bad("item.kind", f"only addresses and routes can be kept, not {kind!r}: apply to undo it")
    doc = copy.deepcopy(document)
    summary = _keep_address(doc, item) if kind == "address" else _keep_route(doc, item)
    return doc, summary


def lab_drift_keep(*, lab: Lab, user: Any, version: int, item: Any) -> dict[str, Any]:
    """Keep one drift item: a new version of the lab (editor role, as any save)."""
    current = lab.versions.filter(number=version).values_list("document", flat=True).first()
    if current is None:
        raise _bad("version", f"the lab has no version {version}")
    document, summary = document_keep(current, item)
    new = lab_topology_save(lab=lab, user=user, version=version, topology=document, note=summary,
                            action="drift.kept")
    return {"version": new, "summary": summary}
