"""A save that meets a newer version (409) merges instead of offering only "overwrite": bob's page is
kept from hearing alice's save (its websocket is held by the test), so his Save is stale; edits of
other nodes merge and save at once, an edit of the same node asks, showing both sides."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.canvas import PAIR, click_node, node_names

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]


def version_is(page: Any, n: int) -> None:
    page.wait_for_function(f"() => document.querySelector('[data-testid=version]').textContent === 'version {n}'")


def test_stale_save_merges_and_a_real_conflict_asks(stack: Any, user_page: Any, make_lab: Any, users: Any) -> None:
    from topology.models import TopologyVersion

    alice, bob = users("alice"), users("bob")
    lab = make_lab(alice, name="stale", document=PAIR, members={bob: "editor"})
    a, b = user_page(alice), user_page(bob)
    b.allow_status(409)  # his stale saves, on purpose
    b.page.route_web_socket("**/ws/labs/**", lambda ws: None)  # bob hears nothing from the server
    a.open_lab(lab.pk)
    b.open_lab(lab.pk)

    # Different nodes: bob's stale save merges alice's node in and saves.
    b.page.get_by_role("button", name="Add Bridge").click()
    a.page.get_by_role("button", name="Add External").click()
    a.page.get_by_role("button", name="Save", exact=True).click()
    version_is(a.page, 2)
    assert b.page.locator("[data-testid=version]").text_content() == "version 1"  # he did not hear it
    b.page.get_by_role("button", name="Save", exact=True).click()
    version_is(b.page, 3)
    b.page.locator(".statusbar", has_text="Saved the merge as version 3").wait_for()
    assert sorted(node_names(b.page)) == ["blue", "lan", "red", "v-net-0"]
    saved = TopologyVersion.objects.get(lab=lab, number=3).document
    assert sorted(n["name"] for n in saved["nodes"]) == ["blue", "lan", "red", "v-net-0"]

    # The same node: a stale save asks, with both sides, and saves nothing until told.
    version_is(a.page, 3)
    click_node(a.page, "red")
    a.page.get_by_label("IP forwarding").check()
    a.page.get_by_role("button", name="Save", exact=True).click()
    version_is(a.page, 4)
    click_node(b.page, "red")
    b.page.get_by_role("button", name="Add route").click()
    b.page.get_by_label("Via").fill("10.9.0.2")
    b.page.get_by_label("Via").press("Tab")
    b.page.get_by_role("button", name="Save", exact=True).click()
    banner = b.page.locator(".banner")
    banner.get_by_text("you both changed the same item").wait_for()
    assert banner.locator("[data-testid=conflicts] li strong").all_text_contents() == ["node red"]
    assert TopologyVersion.objects.filter(lab=lab).count() == 4
    banner.get_by_role("button", name="Take theirs for these").click()
    b.page.get_by_role("button", name="Save", exact=True).click()
    version_is(b.page, 5)
    red = next(n for n in TopologyVersion.objects.get(lab=lab, number=5).document["nodes"] if n["name"] == "red")
    assert red.get("forwarding") is True and not red.get("routes")
    assert a.errors == [] and b.errors == []
