"""Drift marks on cables: after an apply, a change made by hand in the kernel (an address deleted in
red, a bridge port set down in the host namespace) shows on the cable whose end is that (node,
interface) once "Check drift" is clicked: a dotted line and a "drifted" badge on that end, not colour
alone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.browser.canvas import tab
from tests.stack import destroy_lab

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]

SEED = Path(__file__).resolve().parents[2] / "topology" / "examples" / "seed-2-bridge.json"

CABLE_STATE = """(iface) => {
    const ed = window.netdesigner.editor;
    const link = ed.model.links.find((l) => l.spec.a.interface === iface);
    const el = window.netdesigner.cy.getElementById(link.id);
    return {drifted: el.hasClass('st-drifted'), a: el.data('alabel'), b: el.data('blabel'), style: el.style('line-style')};
}"""


def check_drift(page: Any) -> str:
    page.get_by_role("button", name="Check drift").click()
    page.wait_for_function(
        "() => /drift/i.test(document.querySelector('[data-testid=job-status]').textContent) && "
        "!/Checking/.test(document.querySelector('[data-testid=job-status]').textContent)",
        timeout=30_000,
    )
    return page.locator("[data-testid=job-status]").text_content()  # type: ignore[no-any-return]


def test_drift_marks_the_cable_of_the_interface(stack: Any, user_page: Any, make_lab: Any, users: Any, artifacts: Path) -> None:
    from topology.models import Deployment

    alice = users("alice")
    lab = make_lab(alice, name="drift", document=json.loads(SEED.read_text()))
    tag = None
    ui = user_page(alice)
    page = ui.page
    try:
        ui.open_lab(lab.pk)
        tab(page, "Deploy")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_function(
            "() => /apply: (done|failed)/.test(document.querySelector('[data-testid=progress-text]').textContent)",
            timeout=60_000,
        )
        tag = Deployment.objects.get(lab=lab).tag
        assert page.locator("[data-testid=job-status]").text_content() == "apply succeeded"
        assert check_drift(page) == "No drift: the kernel matches the applied version"
        assert page.evaluate(CABLE_STATE, "veth-red") == {
            "drifted": False, "a": "veth-red\n192.168.15.1/24", "b": "veth-red-br", "style": "solid",
        }

        # By hand: red loses its address. Only red's cable (and red) are marked.
        subprocess.run(
            ["ip", "-n", f"nd-{tag}-red", "addr", "del", "192.168.15.1/24", "dev", "veth-red"],  # noqa: S607
            check=True,
        )
        assert check_drift(page).startswith("Drift: ")
        page.wait_for_function(f"() => ({CABLE_STATE})('veth-red').drifted")
        red = page.evaluate(CABLE_STATE, "veth-red")
        # The badge sits on the end whose interface drifted (red's), the line is dotted.
        assert red == {"drifted": True, "a": "veth-red\n192.168.15.1/24\n⚠ drifted", "b": "veth-red-br", "style": "dotted"}
        assert page.evaluate(CABLE_STATE, "veth-blue")["drifted"] is False
        drifted_nodes = page.evaluate("() => window.netdesigner.cy.nodes('.st-drifted').map((n) => n.data('name'))")
        assert "red" in drifted_nodes and "blue" not in drifted_nodes
        assert page.locator(".ops li", has_text="veth-red 192.168.15.1/24").count() == 1
        page.get_by_role("button", name="Zoom to fit").click()
        page.screenshot(path=str(artifacts / "canvas-drift-cable.png"))

        # A bridge port lives in the host's namespace (drift names the host): its cable is marked too.
        subprocess.run(
            ["ip", "-n", f"nd-{tag}-host", "link", "set", "dev", "veth-blue-br", "down"],  # noqa: S607
            check=True,
        )
        check_drift(page)
        page.wait_for_function(f"() => ({CABLE_STATE})('veth-blue').drifted")
        blue = page.evaluate(CABLE_STATE, "veth-blue")
        assert blue["b"] == "veth-blue-br\n⚠ drifted" and "drifted" not in blue["a"]
        assert "v-net-0" in page.evaluate("() => window.netdesigner.cy.nodes('.st-drifted').map((n) => n.data('name'))")
        assert ui.errors == []
    finally:
        destroy_lab(lab)
