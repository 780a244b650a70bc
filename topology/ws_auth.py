"""Websocket authentication: the session cookie (browser) or `?token=` (scripts, the benchmark).

A token in the query string wins over the cookie; a token that matches no ApiToken makes the socket
anonymous (so it is refused), never falls back to someone's cookie.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async  # type: ignore[untyped-decorator]
def user_for_token(key: str) -> Any:
    from .services.tokens import TokenExpired, token_user

    try:
        user = token_user(key=key)
    except TokenExpired:
        return AnonymousUser()
    return user if user is not None else AnonymousUser()


class TokenAuthMiddleware:
    """Sets scope["user"] from `?token=<ApiToken.key>` when the query string has one."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        keys = query.get("token")
        if keys:
            scope = dict(scope, user=await user_for_token(keys[0][:64]))
        return await self.inner(scope, receive, send)


def TokenOrSessionAuthMiddlewareStack(inner: Any) -> Any:  # noqa: N802 - named like AuthMiddlewareStack
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))
