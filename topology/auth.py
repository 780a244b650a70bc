"""API authentication: `Authorization: Bearer <token>` for scripts, the session cookie for the browser.

The session path checks CSRF on unsafe methods, but only once a session user is known, so an
anonymous caller gets 401 (not a CSRF 403) and a token caller is never asked for a CSRF token.
Bearer is tried first for the same reason.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from .services.tokens import TokenExpired, token_user

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class BearerTokenAuth(HttpBearer):
    """An ApiToken key (see `lab token USER`)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        try:
            user = token_user(key=token)
        except TokenExpired as exc:
            raise HttpError(401, str(exc)) from exc
        if user is not None:
            request.user = user
        return user


class SessionCsrfAuth(APIKeyCookie):
    """The Django session, with CSRF enforced for unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked below, after we know there is a session user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and not getattr(request, "_ninja_csrf_exempt", False):
            if check_csrf(request) is not None:
                raise HttpError(403, "CSRF check failed: send the csrftoken cookie's value in X-CSRFToken")
        return user


api_auth = [BearerTokenAuth(), SessionCsrfAuth()]
