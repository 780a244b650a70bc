"""The Terminal tab in the browser: open blue's terminal on the applied stage 2, type `ip route` with the
keyboard into xterm.js, read the routes off the screen; paste; a viewer gets no terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.canvas import tab
from tests.stack import destroy_lab

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]

SEED = Path(__file__).resolve().parents[2] / "topology" / "examples" / "seed-2-bridge.json"
SCREEN = "[data-testid=terminal-blue] .xterm-rows"


def apply(page: Any) -> None:
    tab(page, "Deploy")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_function(
        "() => /apply: (done|failed)/.test(document.querySelector('[data-testid=progress-text]').textContent)",
        timeout=60_000,
    )
    assert page.locator("[data-testid=job-status]").text_content() == "apply succeeded"


def screen_shows(page: Any, text: str, timeout: float = 20_000) -> None:
    page.wait_for_function("([sel, text]) => (document.querySelector(sel)?.innerText || '').includes(text)",
                           arg=[SCREEN, text], timeout=timeout)


def test_type_ip_route_in_blues_terminal(stack: Any, user_page: Any, make_lab: Any, users: Any, artifacts: Path) -> None:
    alice = users("alice")
    viewer = users("vic")
    lab = make_lab(alice, name="terminal", document=json.loads(SEED.read_text()), members={viewer: "viewer"})
    ui = user_page(alice)
    page = ui.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
    try:
        ui.open_lab(lab.pk)
        apply(page)
        tab(page, "Terminal")
        page.select_option("#terminal-node", "blue")
        page.get_by_role("button", name="Open terminal").click()
        screen_shows(page, "root@blue:~#")
        page.locator("[data-testid=terminal-blue]").click()
        page.keyboard.type("ip route")
        page.keyboard.press("Enter")
        screen_shows(page, "192.168.15.0/24 dev veth-blue proto kernel scope link src 192.168.15.2")
        # The terminal was fitted to its box, and the shell was told its size.
        page.wait_for_function("() => document.querySelector('[data-testid=terminal-blue]').dataset.cols")
        box = page.locator("[data-testid=terminal-blue]")
        cols, rows = int(box.get_attribute("data-cols")), int(box.get_attribute("data-rows"))
        page.keyboard.type("stty size")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "([sel]) => /\\n\\d+ \\d+\\n/.test(document.querySelector(sel).innerText)", arg=[SCREEN])
        size = page.evaluate("([sel]) => document.querySelector(sel).innerText.match(/\\n(\\d+) (\\d+)\\n/).slice(1)",
                             [SCREEN])
        assert [int(size[0]), int(size[1])] == [rows, cols] and cols > 80, (size, cols)
        # Paste: the clipboard's text goes to the shell as typed keys.
        page.evaluate("() => navigator.clipboard.writeText('echo pasted-$((6*7))')")
        page.get_by_role("button", name="Paste").click()
        screen_shows(page, "echo pasted-$((6*7))")  # the paste arrived (the clipboard is read asynchronously)
        page.keyboard.press("Enter")
        screen_shows(page, "pasted-42")
        page.screenshot(path=str(artifacts / "canvas-terminal.png"))
        # A hand change in the terminal shows as drift, and "Keep this address" takes it into the design.
        page.keyboard.type("ip addr add 192.168.15.42/24 dev veth-blue && echo added-ok")
        page.keyboard.press("Enter")
        screen_shows(page, "added-ok")
        tab(page, "Deploy")
        page.get_by_role("button", name="Check drift").click()
        keep = page.get_by_role("button", name="Keep this address")
        keep.wait_for()
        assert page.locator(".ops li", has=keep).text_content().startswith("blue: veth-blue 192.168.15.42/24")
        keep.click()
        page.wait_for_function("() => document.querySelector('[data-testid=version]').textContent.includes('2')")
        page.wait_for_function("() => /No drift/.test(document.querySelector('[data-testid=job-status]').textContent)")
        assert "192.168.15.42/24" in str(lab.versions.get(number=2).document)
        tab(page, "Terminal")
        page.get_by_role("button", name="Close the terminal of blue").click()
        assert page.locator("[data-testid=terminal-blue]").count() == 0

        other = user_page(viewer)
        other.open_lab(lab.pk)
        tab(other.page, "Terminal")
        assert other.page.get_by_text("A terminal needs the operator role.").is_visible()
        assert other.page.get_by_role("button", name="Open terminal").count() == 0
        assert ui.errors == [] and other.errors == []
    finally:
        destroy_lab(lab)
