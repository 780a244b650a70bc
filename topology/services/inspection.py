"""What a deployment's kernel holds next to what the design says, for the admin's inspection view.

The kernel is read by the worker (a drift job with tables), so the web tier needs no root; when the
worker does not answer the page still renders, with the reason instead of the tables.
"""

from __future__ import annotations

from typing import Any

from ..engine import api as engine
from ..models import Deployment
from .errors import ServiceError
from .operations import NOT_DEPLOYED, lab_current_document, lab_drift

INSPECT_TIMEOUT_NOTE = "Start the worker (`manage.py worker`, as root) and reload this page."


def design_by_node(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per node: kind, interfaces with their addresses, routes, NAT and port forwards of the design."""
    nodes: dict[str, dict[str, Any]] = {}
    for node in document.get("nodes", []) if isinstance(document.get("nodes"), list) else []:
        if not isinstance(node, dict) or not isinstance(node.get("name"), str):
            continue
        nodes[node["name"]] = {
            "kind": node.get("kind"),
            "interfaces": [],
            "addresses": list(node.get("addresses") or []),
            "routes": list(node.get("routes") or []),
            "nat": list(node.get("nat") or []) + list(node.get("port_forwards") or []),
        }
    for link in document.get("links", []) if isinstance(document.get("links"), list) else []:
        for side in ("a", "b"):
            end = link.get(side) if isinstance(link, dict) else None
            if isinstance(end, dict) and end.get("node") in nodes:
                nodes[end["node"]]["interfaces"].append(
                    {"name": end.get("interface"), "addresses": list(end.get("addresses") or [])}
                )
    return nodes


def _netns(tag: str, node: str) -> str:
    try:
        return engine.netns_name(tag, node)
    except Exception:  # noqa: BLE001 - a name the engine refuses is shown without its namespace
        return ""


def deployment_inspect(*, deployment: Deployment, user: Any) -> dict[str, Any]:
    """{"ok", "message", "drift", "nodes": [{"name", "design", "kernel", "drift", "extra"}]}."""
    lab = deployment.lab
    design = design_by_node(lab_current_document(lab=lab))
    if deployment.state in NOT_DEPLOYED:
        return {"ok": False, "message": f"The lab is {deployment.state}: nothing of it should be in the kernel.",
                "drift": [], "nodes": []}
    try:
        observed = lab_drift(lab=lab, user=user, tables=True)
    except ServiceError as exc:
        return {"ok": False, "message": f"Could not read the kernel: {exc.detail}. {INSPECT_TIMEOUT_NOTE}",
                "drift": [], "nodes": []}
    except RuntimeError as exc:  # run_and_wait refuses to wait inside a transaction
        return {"ok": False, "message": f"Could not read the kernel: {exc}", "drift": [], "nodes": []}
    drift = observed.get("drift") or []
    kernel = observed.get("nodes") or {}
    names = list(design) + [n for n in kernel if n not in design]
    rows = []
    for name in names:
        tables = kernel.get(name)
        rows.append({
            "name": name,
            "netns": _netns(deployment.tag, name),
            "design": design.get(name),
            "kernel": tables,
            "extra": {k: v for k, v in (tables or {}).items() if k not in ("interfaces", "arp", "routes")},
            "drift": [d for d in drift if isinstance(d, dict) and d.get("node") == name],
        })
    message = "In sync with the design." if not drift else f"{len(drift)} difference(s) from the design."
    return {"ok": True, "message": message, "drift": drift, "nodes": rows}
