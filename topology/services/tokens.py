"""API tokens: issued by `lab token USER` (shown once), sent as `Authorization: Bearer <key>`.

Only a token's SHA-256 is stored (models.ApiToken), with an expiry; a user may hold several (one per
script), each valid until it expires or is deleted in the admin.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from ..models import ApiToken, token_digest
from .audit import audit_record


class TokenExpired(Exception):
    def __init__(self, expires: datetime) -> None:
        super().__init__(f"this API token expired on {expires:%Y-%m-%d %H:%M} UTC; "
                         "get a new one with `manage.py lab token USER`")
        self.expires = expires


def token_issue(*, user: Any, days: int | None = None) -> ApiToken:
    """A new token for `user`; its plain key is on the returned instance only (`.key`)."""
    token = ApiToken(user=user, expires=timezone.now() + timedelta(days=days or settings.API_TOKEN_DAYS))
    token.save()
    audit_record(lab=None, user=user, action="token.created", detail={"prefix": token.prefix})
    return token


def token_get_or_create(*, user: Any) -> ApiToken:
    """Kept for callers of the first round: a hashed token cannot be shown again, so this issues one."""
    return token_issue(user=user)


def token_user(*, key: str) -> Any:
    """The active user a token key belongs to, or None; raises TokenExpired for an expired one."""
    if not key or len(key) > 64:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()
    if token is None or not token.user.is_active:
        return None
    if token.expires is not None and token.expires <= timezone.now():
        raise TokenExpired(token.expires)
    return token.user
