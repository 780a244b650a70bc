"""What a deployment's kernel holds next to what the design says, for the admin's inspection view.

The kernel is read by the worker (a drift job with tables), so the web tier needs no root; when the
worker does not answer the page still renders, with the reason instead of the tables.
"""

from __future__ import annotations

from typing import Any

from ..engine import api as engine
from ..engine import natread
from ..models import Deployment
from .documents import document_parse
from .errors import ServiceError
from .operations import NOT_DEPLOYED, lab_current_document, lab_drift

INSPECT_TIMEOUT_NOTE = "Start the worker (`manage.py worker`, as root) and reload this page."


def _design_rules(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's NAT and port forwards of a node, as natread rules (for their text)."""
    rules = []
    for n in node.get("nat") or []:
        if isinstance(n, dict):
            rules.append({"action": "masquerade", "source": n.get("source"), "out_interface": n.get("out_interface")})
    for pf in node.get("port_forwards") or []:
        if isinstance(pf, dict):
            rules.append({"action": "dnat", "protocol": pf.get("protocol"), "port": pf.get("port"), "to": pf.get("to"),
                          "to_port": pf.get("to_port") or pf.get("port"), "in_interface": pf.get("in_interface")})
    return rules


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
            "nat": [natread.rule_text(r) for r in _design_rules(node)],
        }
    for link in document.get("links", []) if isinstance(document.get("links"), list) else []:
        for side in ("a", "b"):
            end = link.get(side) if isinstance(link, dict) else None
            if isinstance(end, dict) and end.get("node") in nodes:
                nodes[end["node"]]["interfaces"].append(
                    {"name": end.get("interface"), "addresses": list(end.get("addresses") or [])}
                )
    return nodes


def _netns(tag: str, node: str, topology: Any = None) -> str:
    """The namespace the node lives in (a bridge: the host's, which the topology tells)."""
    try:
        return engine.netns_name(tag, node, topology=topology)
    except Exception:  # noqa: BLE001 - a name the engine refuses is shown without its namespace
        return ""


def _topology(document: dict[str, Any]) -> Any:
    try:
        return document_parse(document)
    except Exception:  # noqa: BLE001 - an unparsable stored document: namespaces shown without bridges' host
        return None


def nat_rows(topology: Any, name: str, kernel: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The node's NAT and port forwards, design against kernel, as rule text with found/missing."""
    from ..engine import natread

    design = natread.design_rules(topology.node(name)) if topology is not None and topology.has_node(name) else []
    return natread.compare(design, list((kernel or {}).get("rules") or []))


def deployment_inspect(*, deployment: Deployment, user: Any) -> dict[str, Any]:
    """{"ok", "message", "drift", "nodes": [{"name", "design", "kernel", "drift", "extra"}]}."""
    lab = deployment.lab
    document = lab_current_document(lab=lab)
    design = design_by_node(document)
    topology = _topology(document)
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
    nat = observed.get("nat") or {}
    names = list(design) + [n for n in kernel if n not in design]
    rows = []
    for name in names:
        tables = kernel.get(name)
        rows.append({
            "name": name,
            "netns": _netns(deployment.tag, name, topology),
            "nat": nat_rows(topology, name, nat.get(name)),
            "nat_read": name in nat,
            "nat_error": (nat.get(name) or {}).get("error"),
            "design": design.get(name),
            "kernel": tables,
            "extra": {k: v for k, v in (tables or {}).items() if k not in ("interfaces", "arp", "routes")},
            "drift": [d for d in drift if isinstance(d, dict) and d.get("node") == name],
        })
    message = "In sync with the design." if not drift else f"{len(drift)} difference(s) from the design."
    return {"ok": True, "message": message, "drift": drift, "nodes": rows}
