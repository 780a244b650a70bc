"""Websocket guards (issue 11 item 5): the Origin checked with scheme and port, a per-user socket limit,
and presence announced once per change of the watcher set (O(N) messages for N sockets, not N^2).

Channels' AllowedHostsOriginValidator compares only the host name, so `http://127.0.0.1:9999` passed for
a site on `http://127.0.0.1:8000`: any local web page on another port could open a viewer's socket with
their cookie. Here an Origin must be the very origin of the page (scheme, host and port: the scheme
the socket came in on, the Host it was sent to, that host allowed) or one of CSRF_TRUSTED_ORIGINS.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

CLOSE_TOO_MANY = 4429
DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_tuple(text: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/") or parts.query:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def origin_allowed(origin: str | None, *, ws_scheme: str, host_header: str | None) -> bool:
    """True when `origin` is the page's own origin (same scheme, host and port as the socket's Host,
    that host in ALLOWED_HOSTS) or exactly one of CSRF_TRUSTED_ORIGINS."""
    if not origin:
        return False
    got = _origin_tuple(origin)
    if got is None:
        return False
    trusted = {t for t in (_origin_tuple(o) for o in settings.CSRF_TRUSTED_ORIGINS) if t is not None}
    if got in trusted:
        return True
    if not host_header:
        return False
    scheme = "https" if ws_scheme in ("wss", "https") else "http"
    domain, port = split_domain_port(host_header.lower())
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    own = (scheme, domain.strip("[]"), int(port) if port.isdigit() else DEFAULT_PORTS[scheme])
    return got == own


class StrictOriginValidator:
    """ASGI middleware: a websocket whose Origin is not allowed is refused at the handshake (403)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> Any:
        if scope.get("type") == "websocket":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            if not origin_allowed(headers.get("origin"), ws_scheme=scope.get("scheme", "ws"),
                                  host_header=headers.get("host")):
                await receive()  # the websocket.connect message
                await send({"type": "websocket.close", "code": 403})
                return None
        return await self.inner(scope, receive, send)


def user_sockets_key(user_pk: Any) -> str:
    return f"nd:ws:user:{user_pk}"


async def socket_claim(client: Any, user_pk: Any, member: str, ttl: float) -> bool:
    """Count this socket against its user's limit (WS_PER_USER_MAX, across web processes, in Redis);
    False, and nothing counted, when the user already has that many open. Stale entries (a process
    that died without closing) fall out after `ttl` without a heartbeat."""
    key, now = user_sockets_key(user_pk), time.time()
    async with client.pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(key, "-inf", now - ttl)
        pipe.zadd(key, {member: now})
        pipe.zcard(key)
        pipe.expire(key, int(ttl * 2))
        _, _, count, _ = await pipe.execute()
    if count > settings.WS_PER_USER_MAX:
        await client.zrem(key, member)
        return False
    return True


async def socket_refresh(client: Any, user_pk: Any, member: str, ttl: float) -> None:
    async with client.pipeline(transaction=False) as pipe:
        pipe.zadd(user_sockets_key(user_pk), {member: time.time()})
        pipe.expire(user_sockets_key(user_pk), int(ttl * 2))
        await pipe.execute()


async def socket_release(client: Any, user_pk: Any, member: str) -> None:
    await client.zrem(user_sockets_key(user_pk), member)
