"""Cabling in the normal select mode: hovering a node shows a dot on it; dragging from the dot to
another node draws a cable (the side panel opens for it, the saved document has it), while dragging
the node body still only moves the node. Real mouse events only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.canvas import drag_cable_from_handle, node_point

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]

TWO = {
    "format": "netdesigner/v1",
    "name": "two",
    "nodes": [{"name": "red", "kind": "namespace"}, {"name": "blue", "kind": "namespace"}],
    "links": [],
    "layout": {"red": {"x": 100, "y": 220}, "blue": {"x": 420, "y": 220}},
}


def links_drawn(page: Any) -> int:
    return page.evaluate("() => window.netdesigner.cy.edges().length")  # type: ignore[no-any-return]


def test_cable_by_dragging_from_the_hover_handle(stack: Any, user_page: Any, make_lab: Any, users: Any, artifacts: Path) -> None:
    alice = users("alice")
    lab = make_lab(alice, name="handle", document=TWO)
    ui = user_page(alice)
    ui.open_lab(lab.pk)
    page = ui.page
    assert page.locator("[data-testid=canvas-hint]").text_content().startswith("Drag from the dot on a node to cable it")
    assert page.get_by_role("button", name="Cable tool").get_attribute("aria-pressed") == "false"

    # Dragging the node body moves the node and draws nothing.
    rx, ry = node_point(page, "red")
    page.mouse.move(rx, ry, steps=3)
    page.mouse.down()
    page.mouse.move(rx + 40, ry + 60, steps=10)
    page.mouse.up()
    nx, ny = node_point(page, "red")
    assert abs(nx - (rx + 40)) < 3 and abs(ny - (ry + 60)) < 3
    assert links_drawn(page) == 0
    assert page.evaluate("() => window.netdesigner.editor.model.links.length") == 0

    # Dragging from the dot draws a cable red -> blue; the side panel opens for it.
    page.locator("[data-testid=cable-handle]").wait_for(state="visible")
    page.screenshot(path=str(artifacts / "canvas-handle-hover.png"))
    drag_cable_from_handle(page, "red", "blue", screenshot=str(artifacts / "canvas-handle-dragging.png"))
    page.get_by_label("Interface on red").wait_for()
    assert page.get_by_label("Interface on red").input_value() == "veth-red"
    assert page.get_by_label("Interface on blue").input_value() == "veth-blue"
    assert links_drawn(page) == 1
    assert page.evaluate("() => window.netdesigner.cy.edges(':selected').length") == 1
    page.screenshot(path=str(artifacts / "canvas-handle-cabled.png"))

    # Saved: the document has the cable.
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_function("() => document.querySelector('[data-testid=version]').textContent === 'version 2'")
    lab.refresh_from_db()
    saved = lab.versions.get(number=2).document
    assert [(lk["a"]["node"], lk["a"]["interface"], lk["b"]["node"], lk["b"]["interface"]) for lk in saved["links"]] == [
        ("red", "veth-red", "blue", "veth-blue")
    ]

    # With the Cable tool on, the whole node is the handle: no dot on hover.
    page.get_by_role("button", name="Cable tool").click()
    bx, by = node_point(page, "blue")
    page.mouse.move(bx - 5, by, steps=3)
    page.mouse.move(bx, by, steps=2)
    assert page.locator("[data-testid=cable-handle]").is_hidden()
    page.get_by_role("button", name="Cable tool").click()
    page.mouse.move(bx - 5, by - 3, steps=3)
    page.locator("[data-testid=cable-handle]").wait_for(state="visible")
    assert ui.errors == []
