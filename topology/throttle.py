"""Login throttling per (user name, client address) (issue 11 item 5).

In the authentication backend, so every login path (the login page, the admin, anything calling
`authenticate`) counts and refuses alike; the forms below only turn the refusal into a message that
says how long to wait. Counts live in Django's cache (per web process with the default local-memory
cache: with P processes a pair gets at most P x LOGIN_FAILURES_MAX guesses a window).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def _key(username: str, request: HttpRequest | None) -> str:
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    digest = hashlib.sha256(f"{username.lower()}\x00{address}".encode()).hexdigest()[:32]
    return f"nd:login-failures:{digest}"


def locked_for(username: str, request: HttpRequest | None) -> int:
    """Seconds until this pair may try again (0: now)."""
    entry = cache.get(_key(username, request))
    if not entry or entry[0] < settings.LOGIN_FAILURES_MAX:
        return 0
    return max(1, int(entry[1] + settings.LOGIN_FAILURES_WINDOW - time.time()))


def record_failure(username: str, request: HttpRequest | None) -> None:
    key = _key(username, request)
    count, first = cache.get(key) or (0, time.time())
    cache.set(key, (count + 1, first), timeout=max(1, int(first + settings.LOGIN_FAILURES_WINDOW - time.time())))


def reset(username: str, request: HttpRequest | None) -> None:
    cache.delete(_key(username, request))


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> Any:
        name = username or kwargs.get("username") or ""
        wait = locked_for(name, request)
        if wait:
            if request is not None:
                request.login_throttled = wait  # type: ignore[attr-defined]
            raise PermissionDenied(f"too many failed logins; wait {wait} s")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(name, request)
            # stop here: ModelBackend, listed after this one only so that existing sessions (which
            # name it) stay valid, would check the same password a second time
            raise PermissionDenied("invalid login")
        reset(name, request)
        return user


def throttled_error(request: HttpRequest | None) -> forms.ValidationError | None:
    wait = getattr(request, "login_throttled", 0)
    if not wait:
        return None
    minutes = max(1, round(wait / 60))
    return forms.ValidationError(
        f"Too many failed logins for this user from your address. Try again in about {minutes} minute(s), "
        "or ask an administrator to reset your password.", code="throttled")


class ThrottledAuthenticationForm(AuthenticationForm):
    def get_invalid_login_error(self) -> forms.ValidationError:
        return throttled_error(self.request) or super().get_invalid_login_error()


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    def get_invalid_login_error(self) -> forms.ValidationError:
        return throttled_error(self.request) or super().get_invalid_login_error()
