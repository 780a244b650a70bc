"""Checking topology documents with the engine before any row is written."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ..engine import api as engine
from .errors import FieldError, Invalid


def document_problems(document: Any) -> list[FieldError]:
    """Every problem of a document as (path, message); empty when it is a valid netdesigner/v1 document."""
    if not isinstance(document, dict):
        return [FieldError("topology", "a topology document must be a JSON object")]
    problems = engine.validate(
        document, max_nodes=settings.NETDESIGNER_MAX_NODES, max_links=settings.NETDESIGNER_MAX_LINKS
    )
    return [FieldError(p.path, p.message) for p in problems]


def document_check(document: Any) -> dict[str, Any]:
    """Raise Invalid (422) listing every problem; return the document when it is valid."""
    errors = document_problems(document)
    if errors:
        raise Invalid(errors, detail=f"the document has {len(errors)} problem(s)")
    assert isinstance(document, dict)
    return document


def document_parse(document: dict[str, Any]) -> Any:
    """The engine's frozen Topology of a stored (already valid) document."""
    return engine.parse(
        document, max_nodes=settings.NETDESIGNER_MAX_NODES, max_links=settings.NETDESIGNER_MAX_LINKS
    )


def document_node_names(document: dict[str, Any]) -> list[str]:
    nodes = document.get("nodes") if isinstance(document, dict) else None
    if not isinstance(nodes, list):
        return []
    return [n["name"] for n in nodes if isinstance(n, dict) and isinstance(n.get("name"), str)]
