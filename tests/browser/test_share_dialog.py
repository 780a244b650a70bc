"""The Share dialog: an owner shares a lab with a viewer and an editor by name; each member's open page
follows role changes without a reload (its controls are rebuilt), and a removed member loses access."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.canvas import PAIR

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]


def mark_page(page: Any) -> None:
    """A marker that a reload would lose: the test checks the page was never reloaded."""
    page.evaluate("() => { window.__noReload = 'still here'; }")


def not_reloaded(page: Any) -> bool:
    return page.evaluate("() => window.__noReload") == "still here"  # type: ignore[no-any-return]


def test_owner_shares_through_the_dialog(stack: Any, user_page: Any, make_lab: Any, users: Any) -> None:
    alice, vic, eddie = users("alice"), users("vic"), users("eddie")
    from topology.models import Lab, Team

    lab = make_lab(alice, name="class-share", document=PAIR, members={eddie: "viewer"})
    Lab.objects.filter(pk=lab.pk).update(team=Team.objects.create(name="Net 101", slug="net-101"))
    a, e = user_page(alice), user_page(eddie)
    a.open_lab(lab.pk)
    e.open_lab(lab.pk)
    mark_page(e.page)
    e.page.get_by_text("Role: viewer").wait_for()
    assert e.page.get_by_role("button", name="Save", exact=True).count() == 0

    # alice opens the dialog: she and eddie are listed.
    a.page.get_by_role("button", name="Share").click()
    dialog = a.page.get_by_role("dialog", name="Share this lab")
    dialog.locator("tr[data-member=eddie]").wait_for()
    assert dialog.locator("tr[data-member=alice]").text_content().startswith("alice (you)owner")
    assert "lab of team net-101" in dialog.get_by_test_id("team-note").text_content()

    # She adds vic as a viewer and makes eddie an editor.
    dialog.get_by_label("User name").fill("vic")
    dialog.get_by_label("Role", exact=True).select_option("viewer")
    dialog.get_by_role("button", name="Add").click()
    dialog.locator("tr[data-member=vic]").wait_for()
    dialog.get_by_label("Role of eddie").select_option("editor")
    dialog.get_by_text("eddie is now editor").wait_for()

    # eddie's page now has the editing controls, without a reload.
    e.page.get_by_text("Role: editor").wait_for()
    e.page.get_by_role("button", name="Save", exact=True).wait_for()
    assert e.page.locator(".palette").count() == 1
    assert not_reloaded(e.page)
    e.page.locator(".statusbar", has_text="Your role on this lab is now editor").wait_for()
    assert e.page.locator("#live").text_content() == "Your role on this lab is now editor"

    # vic opens the lab he was given: read only.
    v = user_page(vic)
    v.open_lab(lab.pk)
    mark_page(v.page)
    v.page.get_by_text("Role: viewer").wait_for()
    assert v.page.get_by_role("button", name="Save", exact=True).count() == 0
    assert v.page.locator(".save-state").text_content() == "read only"

    # An unknown user name is refused with a reason, and nothing changes.
    dialog.get_by_label("User name").fill("nobody-here")
    dialog.get_by_role("button", name="Add").click()
    dialog.get_by_text("no active user named 'nobody-here'").wait_for()
    a.allow_status(422)

    # alice removes vic: his page loses access at once; eddie goes back to viewer.
    a.page.once("dialog", lambda d: d.accept())
    dialog.get_by_role("button", name="Remove vic").click()
    v.page.get_by_text("You no longer have access to this lab.").wait_for()
    assert not_reloaded(v.page)
    assert v.page.locator("#cy").count() == 0
    dialog.get_by_label("Role of eddie").select_option("viewer")
    e.page.get_by_text("Role: viewer").wait_for()
    assert e.page.get_by_role("button", name="Save", exact=True).count() == 0
    assert not_reloaded(e.page)
    assert a.errors == [] and e.errors == [] and v.errors == []
