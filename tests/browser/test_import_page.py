"""Import in the browser: paste the tutorial (with its slips) on the labs page, see each warning beside
its line, take a fix in one click (the corrected text is imported again), then open the drawing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.canvas import node_names
from topology.models import Lab

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]
TUTORIAL = Path(__file__).resolve().parents[1] / "importers" / "fixtures" / "tutorial-slips.sh"


def test_paste_see_the_warning_take_the_fix_open_the_drawing(stack: Any, user_page: Any, users: Any,
                                                             artifacts: Path) -> None:
    u = user_page(users("importer"))
    page = u.page
    page.goto(f"{stack.url}/labs/")
    page.get_by_label("or paste the commands").fill(TUTORIAL.read_text())
    page.get_by_label("Lab name (optional)").last.fill("pasted tutorial")
    page.get_by_role("button", name="Import", exact=True).click()

    typo = page.locator("#line-25").get_by_role("note")
    typo.wait_for()
    assert "typo of 'veth-blue'" in typo.text_content()
    assert page.locator("#line-24").get_by_role("note").count() == 0
    assert page.locator("tr.warned").count() == 6
    page.screenshot(path=str(artifacts / "import-review.png"), full_page=True)

    page.get_by_role("button", name="Take the fix for line 25").click()
    page.get_by_text("is at version 2").wait_for()
    assert page.locator("#line-25").get_by_role("note").count() == 0
    assert "ip link set veth-blue netns blue" in page.locator("#line-25").text_content()
    lab = Lab.objects.get(name="pasted tutorial")
    assert lab.version == 2

    page.get_by_role("link", name="Open the drawing").click()
    page.wait_for_function("() => window.netdesigner && window.netdesigner.cy.nodes().length > 0")
    assert sorted(node_names(page)) == ["blue", "host", "red", "v-net-0"]
    assert page.url.endswith(f"/labs/{lab.pk}/")
    assert u.errors == []
