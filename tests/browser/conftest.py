"""Browser fixtures: one headless Chromium per session (the system's /usr/bin/chromium, never a
downloaded one), a logged-in page per user that records console errors, and labs made through the
services (committed, so the stack's daphne sees them)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stack import Stack, make_user, session_cookie

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
EMPTY = {"format": "netdesigner/v1", "name": "drawn", "nodes": [], "links": []}


@pytest.fixture
def browser() -> Iterator[Any]:
    """Per test, so that nothing of Playwright outlives the test that needed it."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running on this thread while it is started, which
    # makes Django refuse ORM calls (the test's own reads); allowed only for this test's duration.
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    p = sync_playwright().start()
    b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    try:
        yield b
    finally:
        b.close()
        p.stop()
        if saved is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


class UserPage:
    """A page logged in as one user, with every console error and uncaught exception kept."""

    def __init__(self, page: Any, stack: Stack) -> None:
        self.page = page
        self.stack = stack
        self._errors: list[str] = []
        self._allowed: list[str] = []
        page.on("console", lambda m: self._errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self._errors.append(f"pageerror: {e}"))

    def allow_status(self, status: int) -> None:
        """A test that provokes a 409/422 on purpose: Chromium logs every 4xx response as a console
        error ("Failed to load resource"); only that exact line is allowed, nothing else."""
        self._allowed.append(f"console: Failed to load resource: the server responded with a status of {status} ")

    @property
    def errors(self) -> list[str]:
        return [e for e in self._errors if not any(e.startswith(a) for a in self._allowed)]

    def open_lab(self, lab_id: int) -> None:
        self.page.goto(f"{self.stack.url}/labs/{lab_id}/")
        self.page.wait_for_function("() => window.netdesigner && document.querySelector('[data-testid=version]').textContent.length > 0")


@pytest.fixture
def user_page(browser: Any, live_server_url: str, stack: Stack) -> Iterator[Callable[[Any], UserPage]]:
    """Factory: a fresh browser context (own cookies) logged in as the given user."""
    contexts: list[Any] = []

    def make(user: Any) -> UserPage:
        ctx = browser.new_context(viewport={"width": 1400, "height": 860})
        contexts.append(ctx)
        name, value = session_cookie(user).split("=", 1)
        ctx.add_cookies([{"name": name, "value": value, "url": live_server_url}])
        ctx.set_default_timeout(20_000)
        return UserPage(ctx.new_page(), stack)

    try:
        yield make
    finally:
        for ctx in contexts:
            ctx.close()


@pytest.fixture
def make_lab() -> Callable[..., Any]:
    def make(owner: Any, name: str = "drawn", document: dict[str, Any] | None = None,
             members: dict[Any, str] | None = None) -> Any:
        from topology.services.labs import lab_create
        from topology.services.members import member_set

        lab = lab_create(user=owner, name=name, topology=document or {**EMPTY, "name": name})
        for user, role in (members or {}).items():
            member_set(lab=lab, user=owner, username=user.username, role=role)
        return lab

    return make


@pytest.fixture
def users() -> Callable[[str], Any]:
    return make_user


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
