"""Explain on the canvas (stage 4): blue -> 192.168.1.3 gets no reply; the reason names the missing way
back and the masquerade that fixes it; the fix is applied to the drawing in one click, saved, applied
through the real worker, and the pair is then reachable, predicted and measured. The checks run from
the side panel and badge the canvas."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.canvas import tab
from tests.stack import destroy_lab

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]

STAGE4 = Path(__file__).resolve().parents[2] / "topology" / "examples" / "seed-4-outside-no-nat.json"


def apply_lab(page: Any, lab: Any, version: int) -> None:
    """Apply from the Deploy tab and wait until that version is the one in the kernel."""
    from topology.models import Deployment

    tab(page, "Deploy")
    page.get_by_role("button", name="Apply", exact=True).click()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        d = Deployment.objects.filter(lab=lab).select_related("version").first()
        if d is not None and d.state == "deployed" and d.version is not None and d.version.number == version:
            break
        time.sleep(0.2)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=progress-text]').textContent === 'apply: done'", timeout=30_000)


def explain(page: Any, source: str, target: str) -> None:
    tab(page, "Watch")
    page.get_by_label("Explain source").select_option(source)
    page.get_by_label("Explain target").fill(target)
    page.get_by_role("button", name="Explain", exact=True).click()
    page.locator("[data-testid=explain-measured] .verdict").wait_for(timeout=60_000)


def test_explain_stage4_apply_the_masquerade_fix(stack: Any, user_page: Any, make_lab: Any, users: Any,
                                                  artifacts: Path) -> None:
    alice = users("alice")
    lab = make_lab(alice, name="stage4", document=json.loads(STAGE4.read_text()))
    ui = user_page(alice)
    page = ui.page
    try:
        ui.open_lab(lab.pk)
        apply_lab(page, lab, 1)

        explain(page, "blue", "192.168.1.3")
        reason = page.locator("[data-testid=explain-reason]").text_content()
        assert reason.startswith("192.168.1.3 sends the reply to 192.168.15.2, for which lan has no route")
        assert "masquerade 192.168.15.0/24 on host" in reason
        assert page.locator("[data-testid=explain-predicted] .verdict").text_content() == "no-reply"
        assert page.locator("[data-testid=explain-measured] .verdict").text_content() == "no-reply"
        # the path on the cables: request blue -> bridge -> host -> lan; lan marked as the failing hop
        drawn = page.evaluate("""() => {
            const cy = window.netdesigner.cy;
            return {req: cy.$('edge.explain-req').length, fail: cy.$('node.explain-fail').map((n) => n.data('name'))};
        }""")
        assert drawn == {"req": 2, "fail": ["lan"]}  # blue-v-net-0 and host-lan (the bridge is in the host)
        assert page.locator("[data-testid=explain-hops] li.failed").count() == 1
        page.screenshot(path=str(artifacts / "canvas-explain-stage4.png"))

        fix = page.locator("li.fix", has_text="masquerade 192.168.15.0/24 going out of eth0 on host")
        fix.get_by_role("button", name="Apply to drawing").click()
        assert page.locator(".save-state").text_content() == "● unsaved changes"
        page.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_function("() => document.querySelector('[data-testid=version]').textContent === 'version 2'")
        lab.refresh_from_db()
        host = next(n for n in lab.versions.get(number=2).document["nodes"] if n["name"] == "host")
        assert host["nat"] == [{"action": "masquerade", "source": "192.168.15.0/24", "out_interface": "eth0"}]
        apply_lab(page, lab, 2)

        explain(page, "blue", "192.168.1.3")
        assert page.locator("[data-testid=explain-predicted] .verdict").text_content() == "reachable"
        assert page.locator("[data-testid=explain-measured] .verdict").text_content() == "reachable"
        assert page.evaluate("() => window.netdesigner.cy.$('edge.explain-req.explain-rep').length") == 2

        # The checks of the (copied) example: the first expected no-reply, which no longer holds.
        page.locator("[data-testid=checks] button[data-action=run-checks]").click()
        page.locator("[data-testid=check-0] .badge.fail").wait_for(timeout=60_000)
        assert page.locator("[data-testid=check-1] .badge.pass").count() == 1
        assert "measured reachable" in page.locator("[data-testid=check-0] .why").text_content()
        badges = page.evaluate("() => window.netdesigner.cy.$('node.check-fail').map((n) => n.data('name'))")
        assert badges == ["blue"]

        # Checks are edited in the side panel and saved with the drawing.
        page.get_by_label("Check source").fill("red")
        page.get_by_label("Check target").fill("192.168.15.5")
        page.get_by_role("button", name="Add check").click()
        page.locator("[data-testid=check-2]").wait_for()
        page.get_by_role("button", name="Remove check 1").click()
        page.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_function("() => document.querySelector('[data-testid=version]').textContent === 'version 3'")
        lab.refresh_from_db()
        assert lab.versions.get(number=3).document["checks"] == [
            {"from": "blue", "to": "192.168.15.5", "expect": "reachable"},
            {"from": "red", "to": "192.168.15.5", "expect": "reachable"}]
        assert ui.errors == []
    finally:
        destroy_lab(lab)
