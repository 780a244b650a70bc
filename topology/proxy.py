"""Forwarded headers believed only from the proxies named in TRUSTED_PROXIES (issue 11 item 5).

Django's SECURE_PROXY_SSL_HEADER trusts X-Forwarded-Proto from anyone, and the client address is what
login throttling keys on: a client that could write those headers itself could pose as HTTPS or as a
fresh address for every guess. So they are dropped unless the connection comes from a trusted proxy,
and then the client is the right-most address of X-Forwarded-For that is not a trusted proxy.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

FORWARDED = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT")


def client_address(meta: dict[str, str], trusted: list[str]) -> str:
    remote = meta.get("REMOTE_ADDR", "")
    if remote not in trusted:
        return remote
    hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return remote


class TrustedProxyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        trusted: list[str] = settings.TRUSTED_PROXIES
        meta = request.META
        if meta.get("REMOTE_ADDR", "") in trusted:
            meta["REMOTE_ADDR"] = client_address(meta, trusted)
        else:
            for key in FORWARDED:
                meta.pop(key, None)
        return self.get_response(request)
