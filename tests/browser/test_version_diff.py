"""History: two versions compared on the canvas (added, removed and changed nodes and cables marked)
and as a list; restoring asks first, and a refusal changes nothing."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.browser.canvas import PAIR, tab

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]

def test_version_diff_on_the_canvas(stack: Any, user_page: Any, make_lab: Any, users: Any, artifacts: Path) -> None:
    from topology.services.labs import lab_topology_save

    alice = users("alice")
    lab = make_lab(alice, name="history", document=PAIR)
    v2: dict[str, Any] = copy.deepcopy(PAIR)
    v2["nodes"][0]["forwarding"] = True  # red changed
    v2["nodes"].append({"name": "green", "kind": "namespace"})  # green added
    v2["links"] = [{"a": {"node": "green", "interface": "veth-green", "addresses": ["10.9.1.1/24"]},
                    "b": {"node": "blue", "interface": "veth-gb", "addresses": ["10.9.1.2/24"]}}]  # red-blue removed
    v2["layout"]["green"] = {"x": 250, "y": 350}
    lab_topology_save(lab=lab, user=alice, version=1, topology=v2, note="green instead")
    ui = user_page(alice)
    page = ui.page
    ui.open_lab(lab.pk)
    tab(page, "History")
    page.get_by_role("button", name="Compare version 2 with version 1").click()
    page.locator("[data-testid=diff-canvas]").wait_for()
    # The comparison canvas holds both versions, each element marked by what happened to it.
    marks = page.evaluate("""() => {
        const cys = [...document.querySelectorAll('[data-testid=diff-canvas]')];
        return cys.length;
    }""")
    assert marks == 1
    changes = page.evaluate("""() => window.netdesignerDiff.elements().map((e) =>
        [e.isNode() ? e.data('name') : e.data('alabel').split('\\n')[0] + '/' + e.data('blabel').split('\\n')[0],
         e.data('change'), e.classes().filter((c) => c.startsWith('d-')).join(' ')])""")
    assert sorted(changes) == sorted([
        ["red", "changed", "d-changed"], ["blue", "same", "d-same"], ["green", "added", "d-added"],
        ["veth-green/veth-gb", "added", "d-added"], ["veth-red/veth-blue", "removed", "d-removed"],
    ])
    bar = page.locator("[data-testid=diff-bar]")
    assert "Version 1 → 2" in bar.text_content()
    assert "1 node added, 1 node changed, 1 cable added, 1 cable removed" in bar.text_content()
    items = page.locator("[data-testid=diff-list] li").all_text_contents()
    assert "+ node green added" in items and "~ node red changed (forwarding)" in items
    assert "− cable blue:veth-blue — red:veth-red removed" in items
    page.screenshot(path=str(artifacts / "version-diff.png"))
    # The editor's own drawing is untouched underneath; closing the comparison shows it again.
    assert sorted(page.evaluate("() => window.netdesigner.cy.nodes().map((n) => n.data('name'))")) == ["blue", "green", "red"]
    bar.get_by_role("button", name="Close comparison").click()
    assert page.locator("[data-testid=diff-canvas]").count() == 0

    # Restore asks first: a refusal changes nothing, an acceptance saves version 3.
    page.once("dialog", lambda d: d.dismiss())
    page.get_by_role("button", name="Restore version 1").click()
    page.wait_for_timeout(300)
    assert page.locator("[data-testid=version]").text_content() == "version 2"
    messages: list[str] = []
    def accept(d: Any) -> None:
        messages.append(d.message)
        d.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Restore version 1").click()
    page.wait_for_function("() => document.querySelector('[data-testid=version]').textContent === 'version 3'")
    assert "saved as a new version 3" in messages[0]
    assert sorted(page.evaluate("() => window.netdesigner.cy.nodes().map((n) => n.data('name'))")) == ["blue", "red"]
    assert ui.errors == []
