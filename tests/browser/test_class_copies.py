"""A class: the teacher makes two student copies from the class page; one student breaks the lab
(deletes the cable, saves) and fixes it (Reset copy); the teacher's table, left open, shows the check
results change. The check results are `test` Job rows made here after each save (the `test` job body
comes from the checks feature; this table reads the latest finished one of each copy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.canvas import PAIR, click_node

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]

CHECK = {"from": "red", "to": "blue", "expect": "reachable"}


def record_test(lab_id: int, passed: bool) -> None:
    """What a `test` job leaves behind: the checks of the applied version, passed or not."""
    from topology.choices import JobKind, JobStatus
    from topology.models import Job

    Job.objects.create(lab_id=lab_id, kind=JobKind.TEST, status=JobStatus.SUCCEEDED, finished=timezone.now(),
                       result={"passed": int(passed), "failed": int(not passed), "checks": [
                           {"check": CHECK, "passed": passed, "measured": "reachable" if passed else "unreachable",
                            "explain": {}}]})


def test_teacher_sees_a_students_checks_change(stack: Any, user_page: Any, make_lab: Any, users: Any,
                                               artifacts: Path) -> None:
    from topology.models import Lab

    teacher, ann = users("teacher"), users("ann")
    users("ben")
    template = make_lab(teacher, name="class lab", document=PAIR)
    t = user_page(teacher)
    t.page.goto(f"{stack.url}/labs/{template.pk}/")
    t.page.wait_for_function("() => window.netdesigner")
    t.page.get_by_role("link", name="Class").click()
    t.page.get_by_label("Students (user names, separated by spaces or commas)").fill("ann, ben")
    t.page.get_by_role("button", name="Make copies").click()
    t.page.get_by_text("2 copies: ann, ben.").wait_for()
    copies = {c.owner.username: c for c in Lab.objects.filter(template=template)}
    assert set(copies) == {"ann", "ben"} and all(c.template_version == 1 for c in copies.values())
    table = t.page.locator("#class-table")
    assert table.locator("tr[data-owner=ann] td.checks").text_content() == "not tested yet"

    for lab in copies.values():
        record_test(lab.pk, True)
    table.locator("tr[data-owner=ann] td.checks", has_text="1 passed, 0 failed").wait_for()
    table.locator("tr[data-owner=ben] td.checks", has_text="1 passed, 0 failed").wait_for()

    # ann breaks her copy: deletes the cable and saves.
    a = user_page(ann)
    a.open_lab(copies["ann"].pk)
    a.page.get_by_text("Role: owner").wait_for()
    edge = a.page.evaluate("() => window.netdesigner.cy.edges()[0].id()")
    a.page.evaluate("(id) => { window.netdesigner.cy.getElementById(id).select(); }", edge)
    a.page.get_by_role("button", name="Delete", exact=True).click()
    a.page.get_by_role("button", name="Save", exact=True).click()
    a.page.wait_for_function("() => document.querySelector('[data-testid=version]').textContent === 'version 2'")
    record_test(copies["ann"].pk, False)
    ann_checks = table.locator("tr[data-owner=ann] td.checks", has_text="0 passed, 1 failed")
    ann_checks.wait_for()
    assert "✗ red → blue reachable (unreachable)" in table.locator("tr[data-owner=ann] td.details").text_content()
    assert table.locator("tr[data-owner=ben] td.checks").text_content() == "1 passed, 0 failed"
    t.page.screenshot(path=str(artifacts / "class-table-broken.png"))

    # ann fixes it: Reset copy brings back the version she was given.
    a.page.once("dialog", lambda d: d.accept())
    a.page.get_by_role("button", name="Reset copy").click()
    a.page.wait_for_function("() => document.querySelector('[data-testid=version]').textContent === 'version 3'")
    assert a.page.evaluate("() => window.netdesigner.cy.edges().length") == 1
    click_node(a.page, "red")  # the drawing is the given one again
    record_test(copies["ann"].pk, True)
    table.locator("tr[data-owner=ann] td.checks", has_text="1 passed, 0 failed").wait_for()
    assert table.locator("tr[data-owner=ann] td:nth-child(3)").text_content() == "3"
    assert t.errors == [] and a.errors == []
