"""The audit trail: who did what to which lab, kept as rows for the admin."""

from __future__ import annotations

from typing import Any

from ..models import AuditEvent, Lab


def audit_record(*, lab: Lab | None, user: Any, action: str, detail: dict[str, Any] | None = None) -> AuditEvent:
    actor = user if user is not None and getattr(user, "is_authenticated", False) else None
    return AuditEvent.objects.create(lab=lab, user=actor, action=action, detail=detail or {})
