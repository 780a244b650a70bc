"""Requests to explain a pair and to run a lab's checks: Job rows run by the worker.

Both need the operator role, as ping does: they send traffic inside the lab (and explain may open a
short-lived listener in a node), which is what an operator may do and an editor may not.
"""

from __future__ import annotations

from typing import Any

from ..choices import JobKind, Role
from ..models import Job, Lab
from .documents import document_node_names
from .errors import Conflict, FieldError, Invalid
from .operations import NOT_DEPLOYED, _check, _is_address, _request, lab_current_document, lab_deployment

PROTOCOLS = ("icmp", "tcp", "udp")


def explain_params_check(*, document: dict[str, Any], source: Any, target: Any, protocol: Any, port: Any
                         ) -> dict[str, Any]:
    names = document_node_names(document)
    errors = []
    if source not in names:
        errors.append(FieldError("source", f"'{source}' is not a node of the lab's current version"))
    if not (isinstance(target, str) and (target in names or _is_address(target))):
        errors.append(FieldError("target", f"'{target}' is neither an address nor a node of the lab"))
    if protocol not in PROTOCOLS:
        errors.append(FieldError("protocol", f"must be one of {', '.join(PROTOCOLS)}"))
    if protocol in ("tcp", "udp"):
        if port is None:
            errors.append(FieldError("port", f"{protocol} needs a port (1-65535)"))
        elif not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            errors.append(FieldError("port", "must be a whole number from 1 to 65535"))
    elif port is not None:
        errors.append(FieldError("port", "a port is only for tcp and udp; leave it out for icmp"))
    if errors:
        raise Invalid(errors, detail="invalid explain request")
    return {"source": source, "target": target, "protocol": protocol, "port": port}


def lab_explain_request(*, lab: Lab, user: Any, source: str, target: str, protocol: str = "icmp",
                        port: int | None = None, dispatch: bool = True) -> Job:
    """Queue explaining SOURCE -> TARGET (operator). An undeployed lab still gets its prediction."""
    _check(user, lab, Role.OPERATOR)
    params = explain_params_check(document=lab_current_document(lab=lab), source=source, target=target,
                                  protocol=protocol, port=port)
    return _request(lab=lab, user=user, kind=JobKind.EXPLAIN, params=params, dispatch=dispatch)


def lab_test_request(*, lab: Lab, user: Any, dispatch: bool = True) -> Job:
    """Queue running every check of the applied version (operator); 409 when the lab is not deployed."""
    _check(user, lab, Role.OPERATOR)
    deployment = lab_deployment(lab=lab)
    if deployment is None or deployment.state in NOT_DEPLOYED or deployment.version_id is None:
        raise Conflict("lab is not deployed; apply it first, then test")
    return _request(lab=lab, user=user, kind=JobKind.TEST, params={}, dispatch=dispatch)
