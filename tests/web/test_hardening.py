"""Production settings and the web tier's smaller guards (issue 11 item 5): check --deploy, login
throttling, forwarded headers only from trusted proxies, API docs without a CDN."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from topology.proxy import client_address

ROOT = Path(__file__).resolve().parents[2]


def check_deploy(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "NETDESIGNER_HTTPS"))}
    clean.update(DEBUG="0", SECRET_KEY="k" * 20 + "-Zq9!x" * 10, ALLOWED_HOSTS="lab.example.org",
                 DJANGO_SETTINGS_MODULE="netdesigner.settings", **env)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=clean, capture_output=True, text=True, check=False)


def test_check_deploy_clean_with_https_set() -> None:
    out = check_deploy(NETDESIGNER_HTTPS="1")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_check_deploy_warns_without_https() -> None:
    out = check_deploy()
    assert out.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in out.stdout + out.stderr


def test_each_https_setting_from_the_environment() -> None:
    probe = ("import django, json; from django.conf import settings as s; django.setup(); print(json.dumps("
             "[s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
             "s.SECURE_PROXY_SSL_HEADER if s.TRUSTED_PROXIES else None]))")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="netdesigner.settings", SECURE_HSTS_SECONDS="60",
               SESSION_COOKIE_SECURE="1", TRUSTED_PROXIES="10.0.0.1")
    env.pop("NETDESIGNER_HTTPS", None)
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == '[60, true, false, false, ["HTTP_X_FORWARDED_PROTO", "https"]]'


@pytest.fixture
def throttle(settings: Any) -> Any:
    settings.LOGIN_FAILURES_MAX = 3
    cache.clear()
    yield settings
    cache.clear()


def login(client: Client, password: str, addr: str = "10.1.1.1", url: str = "/accounts/login/") -> Any:
    return client.post(url, {"username": "owner", "password": password}, REMOTE_ADDR=addr)


def test_login_throttled_after_max_failures_with_a_clear_message(world: Any, throttle: Any) -> None:
    client = Client()
    for _ in range(3):  # up to the limit: the usual message, and the right password still works after 2
        assert "didn't match" in login(client, "wrong").content.decode()
    refused = login(client, "pw-owner")
    assert refused.status_code == 200 and "Too many failed logins" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    other = Client()  # another address is another pair
    assert login(other, "pw-owner", addr="10.2.2.2").status_code == 302


def test_login_below_the_limit_succeeds_and_resets(world: Any, throttle: Any) -> None:
    client = Client()
    for _ in range(2):
        login(client, "wrong")
    assert login(client, "pw-owner").status_code == 302
    client.logout()
    for _ in range(2):  # the count was reset by the success
        login(client, "wrong")
    assert login(client, "pw-owner").status_code == 302


def test_admin_login_is_throttled_too(world: Any, throttle: Any) -> None:
    client = Client()
    for _ in range(3):
        login(client, "wrong", url="/admin/login/")
    assert "Too many failed logins" in login(client, "pw-owner", url="/admin/login/").content.decode()


@pytest.mark.parametrize(("remote", "forwarded", "expected"), [
    ("203.0.113.9", "1.2.3.4", "203.0.113.9"),       # not a proxy: its header is ignored
    ("10.0.0.1", "1.2.3.4", "1.2.3.4"),              # the trusted proxy: the client it names
    ("10.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),     # the right-most hop; the left one is the client's own
    ("10.0.0.1", "1.2.3.4, 10.0.0.2", "1.2.3.4"),    # skipping a second trusted proxy
    ("10.0.0.1", "", "10.0.0.1"),
])
def test_client_address_from_trusted_proxies_only(remote: str, forwarded: str, expected: str) -> None:
    meta = {"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_address(meta, ["10.0.0.1", "10.0.0.2"]) == expected


def test_untrusted_forwarded_proto_cannot_pose_as_https(world: Any, settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    untrusted = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="203.0.113.9")
    assert untrusted.status_code == 301 and untrusted["Location"].startswith("https://")
    trusted = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="10.0.0.1")
    assert trusted.status_code == 200


@pytest.mark.parametrize("page", ["/api/docs", "/api/redoc"])
def test_api_docs_load_the_projects_own_assets(world: Any, page: str) -> None:
    client = Client()
    html = client.get(page).content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets, html[:500]
    assert all(a.startswith("/static/ninja/") for a in assets), assets
    assert "cdn" not in html.lower()
    for asset in assets:
        assert client.get(asset).status_code == 200
