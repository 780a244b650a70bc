"""Sharing a lab: a second browser (another user) sees a save appear without reloading; with unsaved
edits of other nodes the two merge (and the page says so), and only a real conflict (both changed the
same node) asks, showing both sides; a viewer sees no edit controls."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.canvas import PAIR, click_node, node_names, tab

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]


def version_is(page: Any, n: int) -> None:
    page.wait_for_function(f"() => document.querySelector('[data-testid=version]').textContent === 'version {n}'")


def test_second_user_sees_a_save_appear(stack: Any, user_page: Any, make_lab: Any, users: Any) -> None:
    alice, bob = users("alice"), users("bob")
    lab = make_lab(alice, name="shared", document=PAIR, members={bob: "editor"})
    a, b = user_page(alice), user_page(bob)
    a.open_lab(lab.pk)
    b.open_lab(lab.pk)
    a.page.locator(".presence li", has_text="bob").wait_for()
    b.page.locator(".presence li", has_text="alice").wait_for()
    assert b.page.locator(".presence li", has_text="bob (you)").count() == 1

    # alice adds a node (click on the palette) and saves; bob's drawing follows without a reload.
    a.page.get_by_role("button", name="Add Namespace").click()
    assert "green" in node_names(a.page)
    a.page.get_by_role("button", name="Save", exact=True).click()
    version_is(a.page, 2)
    version_is(b.page, 2)
    assert sorted(node_names(b.page)) == ["blue", "green", "red"]
    assert b.page.locator(".statusbar").text_content() == "Updated to version 2, saved by alice"

    # bob has unsaved edits when alice saves again: different nodes, so they merge and he is told.
    b.page.get_by_role("button", name="Add Bridge").click()
    a.page.get_by_role("button", name="Add External").click()
    a.page.get_by_role("button", name="Save", exact=True).click()
    version_is(a.page, 3)
    version_is(b.page, 3)
    b.page.locator(".statusbar", has_text="alice saved version 3; merged with your unsaved changes").wait_for()
    assert "theirs: node lan; yours: node v-net-0" in b.page.locator(".statusbar").text_content()
    assert b.page.locator(".banner").is_hidden()  # no question: nothing to choose
    assert sorted(node_names(b.page)) == ["blue", "green", "lan", "red", "v-net-0"]
    assert b.page.locator(".save-state").text_content() == "● unsaved changes"
    b.page.get_by_role("button", name="Save", exact=True).click()
    version_is(b.page, 4)
    version_is(a.page, 4)
    assert sorted(node_names(a.page)) == ["blue", "green", "lan", "red", "v-net-0"]

    # Both change red, differently: a real conflict, shown with both sides; bob keeps his.
    click_node(b.page, "red")
    b.page.get_by_role("button", name="Add route").click()
    b.page.get_by_label("Via").fill("10.9.0.2")
    b.page.get_by_label("Via").press("Tab")
    click_node(a.page, "red")
    a.page.get_by_label("IP forwarding").check()
    a.page.get_by_role("button", name="Save", exact=True).click()
    version_is(a.page, 5)
    banner = b.page.locator(".banner")
    banner.get_by_text("alice saved version 5, and you both changed the same item.").wait_for()
    conflict = banner.locator("[data-testid=conflicts] li")
    assert conflict.count() == 1 and conflict.locator("strong").text_content() == "node red"
    assert '"via":"10.9.0.2"' in conflict.locator(".mine").text_content()
    assert '"forwarding":true' in conflict.locator(".theirs").text_content()
    banner.get_by_role("button", name="Keep mine for these").click()
    b.page.get_by_role("button", name="Save", exact=True).click()
    version_is(b.page, 6)
    version_is(a.page, 6)
    from topology.models import TopologyVersion

    red = next(n for n in TopologyVersion.objects.get(lab=lab, number=6).document["nodes"] if n["name"] == "red")
    assert red.get("routes") == [{"to": "default", "via": "10.9.0.2"}] and "forwarding" not in red
    assert a.errors == [] and b.errors == []


def test_viewer_sees_no_edit_controls(stack: Any, user_page: Any, make_lab: Any, users: Any) -> None:
    alice, vic = users("alice"), users("vic")
    lab = make_lab(alice, name="look", document=PAIR, members={vic: "viewer"})
    v = user_page(vic)
    v.open_lab(lab.pk)
    page = v.page
    page.get_by_text("Role: viewer").wait_for()
    for name in ("Save", "Undo", "Redo", "Cable tool", "Delete", "Import JSON"):
        assert page.get_by_role("button", name=name, exact=True).count() == 0, name
    assert page.locator(".palette").count() == 0
    assert page.locator("[data-testid=cable-handle]").count() == 0  # no dot to drag a cable from
    assert page.locator("[data-testid=canvas-hint]").count() == 0
    assert page.locator(".save-state").text_content() == "read only"
    tab(page, "Deploy")
    for name in ("Apply", "Destroy"):
        assert page.get_by_role("button", name=name, exact=True).count() == 0, name
    assert page.get_by_role("button", name="Plan").count() == 1
    tab(page, "Watch")
    assert page.get_by_role("button", name="Ping", exact=True).count() == 0
    page.get_by_text("Pinging needs the operator role.").wait_for()
    tab(page, "History")
    page.locator(".versions li", has_text="v1").wait_for()
    assert page.get_by_role("button", name="Restore version 1").count() == 0
    # Selecting a node shows its fields, all read only; dragging does not move it.
    tab(page, "Edit")
    before = page.evaluate("() => window.netdesigner.cy.nodes()[0].position()")
    x, y = page.evaluate(
        """() => { const n = window.netdesigner.cy.nodes()[0]; const r = document.getElementById('cy').getBoundingClientRect();
                   const p = n.renderedPosition(); return [r.left + p.x, r.top + p.y]; }"""
    )
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 80, y + 60, steps=5)
    page.mouse.up()
    assert page.evaluate("() => window.netdesigner.cy.nodes()[0].position()") == before
    page.mouse.click(x, y)
    name_input = page.get_by_label("Name", exact=True)
    name_input.wait_for()
    assert name_input.is_disabled()
    assert v.errors == []
