"""API tokens: one per user, shown by `lab token USER`, sent as `Authorization: Bearer <key>`."""

from __future__ import annotations

from typing import Any

from ..models import ApiToken
from .audit import audit_record


def token_get_or_create(*, user: Any) -> ApiToken:
    token, created = ApiToken.objects.get_or_create(user=user)
    if created:
        audit_record(lab=None, user=user, action="token.created")
    return token


def token_user(*, key: str) -> Any:
    """The active user a token key belongs to, or None."""
    if not key or len(key) > 64:
        return None
    token = ApiToken.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    return token.user
