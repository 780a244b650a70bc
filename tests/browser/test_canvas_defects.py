"""Defects a new user met, each pinned in the browser: an empty NAT rule, a node "changed" after the
change was taken back, drift under "Plan", stale plans, tables of an unapplied node, another user's
description edit, two names for a lab, and cabling without a mouse."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.canvas import PAIR, click_node, node_names, tab
from tests.stack import destroy_lab

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]

SEED = Path(__file__).resolve().parents[2] / "topology" / "examples" / "seed-2-bridge.json"


def version_is(page: Any, n: int) -> None:
    page.wait_for_function(f"() => document.querySelector('[data-testid=version]').textContent === 'version {n}'")


def changed_nodes(page: Any) -> list[str]:
    return page.evaluate("() => window.netdesigner.cy.$('node.st-changed').map((n) => n.data('name'))")  # type: ignore[no-any-return]


def test_after_apply_statuses_drift_list_and_unapplied_tables(stack: Any, user_page: Any, make_lab: Any,
                                                            users: Any) -> None:
    alice = users("alice")
    lab = make_lab(alice, name="defects", document=json.loads(SEED.read_text()))
    ui = user_page(alice)
    page = ui.page
    ui.allow_status(409)  # the tables of the unapplied node, on purpose
    try:
        ui.open_lab(lab.pk)
        tab(page, "Deploy")
        page.get_by_role("button", name="Apply").click()
        page.get_by_test_id("job-status").get_by_text("apply succeeded").wait_for(timeout=60_000)
        page.wait_for_function("() => window.netdesigner.cy.$('node.st-deployed').length === 4")

        # Ticking and unticking forwarding is no change: red is not "changed since apply", nor unsaved.
        tab(page, "Edit")
        click_node(page, "red")
        page.get_by_label("IP forwarding").check()
        page.wait_for_function("() => window.netdesigner.cy.$('node.st-changed').length === 1")
        page.get_by_label("IP forwarding").uncheck()
        page.wait_for_function("() => window.netdesigner.cy.$('node.st-changed').length === 0")
        assert page.locator(".save-state").text_content() == "saved"

        # Drift goes under "Drift", not under "Plan"; a plan made before a save is taken down after it.
        tab(page, "Deploy")
        page.get_by_role("button", name="Plan").click()
        page.locator("ol[aria-label='Planned operations'] li", has_text="In sync").wait_for(timeout=30_000)
        page.get_by_role("button", name="Check drift").click()
        page.get_by_test_id("drift-list").get_by_text("No drift.").wait_for(timeout=30_000)
        assert page.locator("ol[aria-label='Planned operations']").text_content() == "In sync: nothing to do."

        # A node saved but not applied: its tables say so instead of a 502.
        page.get_by_role("button", name="Add Namespace").click()  # green
        page.get_by_role("button", name="Save", exact=True).click()
        version_is(page, 2)
        page.locator("ol[aria-label='Planned operations']", has_text="Version 2 was saved since: plan again.").wait_for()
        tab(page, "Watch")
        page.get_by_label("Tables of node").select_option("green")
        page.get_by_test_id("tables").get_by_text("saved but not applied yet").wait_for()
        assert ui.errors == []
    finally:
        destroy_lab(lab)


def test_nat_names_description_and_keyboard_cabling(stack: Any, user_page: Any, make_lab: Any, users: Any) -> None:
    alice, bob = users("alice"), users("bob")
    document: dict[str, Any] = copy.deepcopy(PAIR)
    document["nodes"].append({"name": "host", "kind": "host"})
    document["links"].append({"a": {"node": "host", "interface": "veth-host", "addresses": ["10.9.5.1/24"]},
                              "b": {"node": "red", "interface": "veth-rh", "addresses": ["10.9.5.2/24"]}})
    lab = make_lab(alice, name="Named lab", document=document, members={bob: "editor"})
    a, b = user_page(alice), user_page(bob)
    a.open_lab(lab.pk)
    b.open_lab(lab.pk)
    page = a.page

    # One name: the panel shows the lab's name (there is no separate "Document name").
    page.get_by_test_id("lab-name").get_by_text("Named lab").wait_for()
    assert page.get_by_label("Document name").count() == 0

    # bob edits the description and saves: alice's panel shows it without a reload.
    b.page.get_by_label("Description").fill("two namespaces and the host")
    b.page.get_by_role("button", name="Save", exact=True).click()
    version_is(page, 2)
    page.wait_for_function("() => document.querySelector('[data-path=description]').value === 'two namespaces and the host'")

    # Keyboard only: pick the two nodes in the panel and press Add cable.
    page.locator("#cy").click(position={"x": 5, "y": 5})  # nothing selected: the lab's form
    page.get_by_label("Cable from", exact=True).select_option(label="host")
    page.get_by_label("Cable to", exact=True).select_option(label="blue")
    page.get_by_role("button", name="Add cable").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.netdesigner.cy.edges().length === 3")
    assert page.get_by_text("Cable host ⟷ blue").count() >= 1

    # A NAT rule starts with a real value, placeholders say "e.g.", and an emptied rule is refused.
    click_node(page, "host")
    page.get_by_role("button", name="Add NAT rule").click()
    source = page.get_by_label("Source subnet")
    assert source.input_value() == "10.9.5.0/24"  # the subnet of the host's addressed cable
    assert (source.get_attribute("placeholder") or "").startswith("e.g. ")
    source.fill("")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("would masquerade everything").first.wait_for()
    assert page.locator("[data-testid=version]").text_content() == "version 2"  # nothing was sent
    source = page.get_by_label("Source subnet")
    source.fill("10.9.0.0/24")
    page.get_by_role("button", name="Save", exact=True).click()
    version_is(page, 3)
    assert "host" in node_names(page)
    assert a.errors == [] and b.errors == []
