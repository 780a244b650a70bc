"""Editing details: a 422 from the server lands next to the field its path names; undo/redo with the
keyboard; delete; Plan lists commands before anything is applied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.canvas import PAIR, node_names, node_point, tab

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]


def test_server_errors_show_next_to_their_field_and_undo_redo(stack: Any, user_page: Any, make_lab: Any, users: Any) -> None:
    alice = users("alice")
    lab = make_lab(alice, name="errors", document=PAIR)
    ui = user_page(alice)
    ui.allow_status(422)
    ui.open_lab(lab.pk)
    page = ui.page

    # Select the cable by clicking its middle, type a network address (invalid) and save.
    (rx, ry), (bx, by) = node_point(page, "red"), node_point(page, "blue")
    page.mouse.click((rx + bx) / 2, (ry + by) / 2)
    field = page.get_by_label("Addresses of veth-red")
    field.fill("10.9.0.0/24")
    page.get_by_role("button", name="Save", exact=True).click()
    field = page.get_by_label("Addresses of veth-red")
    page.wait_for_function("() => document.querySelector('.field-error') !== null")
    assert field.get_attribute("aria-invalid") == "true"
    error_id = field.get_attribute("aria-describedby")
    message = page.locator(f"#{error_id}").text_content()
    assert message, "the error sits under its field"
    assert page.locator("[data-testid=version]").text_content() == "version 1"
    assert "problem" in page.locator(".statusbar").text_content()

    # Fix it: the stale error goes as soon as the field is edited; the save then goes through.
    field.fill("10.9.0.3/24")
    assert field.get_attribute("aria-invalid") is None
    assert page.locator(f"#{error_id}").count() == 0
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_function("() => document.querySelector('[data-testid=version]').textContent === 'version 2'")
    assert page.locator(".field-error").count() == 0

    # Undo / redo with the keyboard, delete with the Delete key.
    page.get_by_role("button", name="Add Host").click()
    assert "host" in node_names(page)
    page.locator("#cy").click(position={"x": 5, "y": 5})  # focus the canvas, clear the selection
    page.keyboard.press("Control+z")
    assert "host" not in node_names(page)
    page.keyboard.press("Control+Shift+Z")
    assert "host" in node_names(page)
    x, y = node_point(page, "host")
    page.mouse.click(x, y)
    page.keyboard.press("Delete")
    assert "host" not in node_names(page)
    page.keyboard.press("Control+z")
    assert "host" in node_names(page)

    # Multi-select with Shift-click, then cable the two from the toolbar (no dragging needed).
    page.locator("#cy").click(position={"x": 5, "y": 5})
    hx, hy = node_point(page, "host")
    rx, ry = node_point(page, "red")
    page.mouse.click(hx, hy)
    page.keyboard.down("Shift")
    page.mouse.click(rx, ry)
    page.keyboard.up("Shift")
    page.get_by_role("button", name="Connect selected").click()
    page.get_by_label("Interface on host").wait_for()
    assert page.get_by_label("Interface on red").input_value() == "veth-red-1"

    # Export: the drawing as JSON (with unsaved edits) and the saved version as a shell script.
    with page.expect_download() as dl:
        page.get_by_role("button", name="Export JSON").click()
    exported = json.loads(Path(dl.value.path()).read_text())
    assert exported["format"] == "netdesigner/v1"
    assert {n["name"] for n in exported["nodes"]} == {"red", "blue", "host"}
    with page.expect_download() as dl:
        page.get_by_role("button", name="Export shell script").click()
    script = Path(dl.value.path()).read_text()
    assert "ip netns add" in script or "ip netns" in script, script[:300]

    # Renaming through a name that is taken for a moment (typing "red" on the way to "red2") keeps
    # every cable on its own node.
    page.locator("#cy").click(position={"x": 5, "y": 5})
    x, y = node_point(page, "blue")
    page.mouse.click(x, y)
    name = page.get_by_label("Name", exact=True)
    name.fill("red")
    name.fill("red2")
    links = page.evaluate("() => window.netdesigner.editor.model.toDoc().links")
    assert [(link["a"]["node"], link["b"]["node"]) for link in links] == [("red", "red2"), ("red", "host")]

    # History: restore version 1 (drops the unsaved host after asking) as version 3.
    page.on("dialog", lambda d: d.accept())
    tab(page, "History")
    page.get_by_role("button", name="View version 1").click()
    page.locator(".version-view h3", has_text="Version 1: 2 nodes, 1 cables").wait_for()
    page.get_by_role("button", name="Restore version 1").click()
    page.wait_for_function("() => document.querySelector('[data-testid=version]').textContent === 'version 3'")
    assert sorted(node_names(page)) == ["blue", "red"]
    lab.refresh_from_db()
    assert lab.version == 3
    assert lab.versions.get(number=3).document["links"][0]["a"]["addresses"] == ["10.9.0.1/24"]
    assert ui.errors == []
