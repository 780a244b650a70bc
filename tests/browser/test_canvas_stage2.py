"""THE acceptance test of the canvas: draw the tutorial's stage 2 with the mouse from an empty lab,
save, apply through the real worker, ping red -> blue and see the replies and blue's MAC in red's
ARP table; destroy at the end. Against the real daphne + Celery worker + Redis (tests/stack.py)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.browser.canvas import canvas_box, click_node, drag_cable, drag_from_palette, node_names, tab
from tests.stack import destroy_lab

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]


def kernel_mac(tag: str, node: str, interface: str) -> str:
    out = subprocess.run(
        ["ip", "-n", f"nd-{tag}-{node}", "-o", "link", "show", "dev", interface],
        capture_output=True, text=True, check=True,
    ).stdout
    match = re.search(r"link/ether ([0-9a-f:]{17})", out)
    assert match, out
    return match.group(1)


def test_draw_stage2_save_apply_ping(stack: Any, user_page: Any, make_lab: Any, users: Any, artifacts: Path) -> None:
    from topology.models import Deployment

    alice = users("alice")
    lab = make_lab(alice, name="stage2")
    tag = None
    ui = user_page(alice)
    page = ui.page
    page.on("dialog", lambda d: d.accept())
    try:
        ui.open_lab(lab.pk)
        box = canvas_box(page)
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

        # Nodes: dragged from the palette onto the canvas; names proposed red, blue, v-net-0.
        drag_from_palette(page, "bridge", cx, cy - 120)
        page.get_by_label("Bridge addresses (host side)").fill("192.168.15.5/24")
        drag_from_palette(page, "namespace", cx - 220, cy + 120)
        drag_from_palette(page, "namespace", cx + 220, cy + 120)
        assert sorted(node_names(page)) == ["blue", "red", "v-net-0"]

        # Cables: the Cable tool, then drag from node to node; addresses typed in the side panel.
        page.get_by_role("button", name="Cable tool").click()
        drag_cable(page, "red", "v-net-0")
        page.get_by_label("Interface on red").wait_for()
        assert page.get_by_label("Interface on red").input_value() == "veth-red"
        assert page.get_by_label("Interface on v-net-0").input_value() == "veth-red-br"
        page.get_by_label("Addresses of veth-red").fill("192.168.15.1/24")
        drag_cable(page, "blue", "v-net-0")
        page.get_by_label("Interface on blue").wait_for()
        assert page.get_by_label("Interface on v-net-0").input_value() == "veth-blue-br"
        page.get_by_label("Addresses of veth-blue").fill("192.168.15.2/24")
        page.get_by_role("button", name="Cable tool").click()
        page.get_by_role("button", name="Zoom to fit").click()
        page.screenshot(path=str(artifacts / "canvas-drawn.png"))

        # Save: version 1 (empty) -> 2.
        page.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_function("() => document.querySelector('[data-testid=version]').textContent === 'version 2'")
        assert page.locator(".save-state").text_content() == "saved"
        lab.refresh_from_db()
        saved = lab.versions.get(number=2).document
        assert {n["name"] for n in saved["nodes"]} == {"red", "blue", "v-net-0"}
        assert set(saved["layout"]) == {"red", "blue", "v-net-0"}

        # Plan, then Apply: the progress bar reaches done.
        tab(page, "Deploy")
        page.get_by_role("button", name="Plan").click()
        page.locator(".ops li code").first.wait_for()
        assert page.locator(".ops li code").count() > 3
        page.get_by_role("button", name="Apply").click()
        page.wait_for_function(
            "() => /apply: (done|failed)/.test(document.querySelector('[data-testid=progress-text]').textContent)",
            timeout=60_000,
        )
        tag = Deployment.objects.get(lab=lab).tag
        assert page.locator("[data-testid=progress-text]").text_content() == "apply: done", page.locator("[data-testid=job-status]").text_content()
        progress = page.locator("#job-progress")
        assert progress.get_attribute("value") == progress.get_attribute("max")
        assert page.locator("[data-testid=job-status]").text_content() == "apply succeeded"
        page.wait_for_function("() => window.netdesigner.cy.$('.st-deployed').length >= 5")
        page.screenshot(path=str(artifacts / "canvas-deploy.png"))
        page.get_by_role("button", name="Check drift").click()
        page.wait_for_function(
            "() => /drift/i.test(document.querySelector('[data-testid=job-status]').textContent) && "
            "!/Checking/.test(document.querySelector('[data-testid=job-status]').textContent)",
            timeout=30_000,
        )
        assert page.locator("[data-testid=job-status]").text_content() == "No drift: the kernel matches the applied version"

        # Ping red -> 192.168.15.2: replies appear as they come, then the summary.
        tab(page, "Watch")
        page.get_by_label("From node").select_option("red")
        page.get_by_label("To node or address").fill("192.168.15.2")
        page.get_by_label("Count").fill("3")
        page.get_by_role("button", name="Ping", exact=True).click()
        page.locator("[data-testid=ping-replies] li").first.wait_for(timeout=30_000)
        page.wait_for_function(
            "() => /received/.test(document.querySelector('[data-testid=ping-summary]').textContent)", timeout=30_000
        )
        assert page.locator("[data-testid=ping-summary]").text_content() == "3 sent, 3 received, 0% loss"
        assert page.locator("[data-testid=ping-replies] li").count() == 3
        assert re.match(r"seq=1 ttl=\d+ time=[\d.]+ ms", page.locator("[data-testid=ping-replies] li").first.text_content())
        assert page.locator(".rtt-chart circle").count() == 3
        assert page.evaluate("() => window.netdesigner.cy.$('.path').length") == 5  # red, cable, bridge, cable, blue

        # red's ARP table shows blue's MAC, read from the kernel.
        blue_mac = kernel_mac(tag, "blue", "veth-blue")
        page.get_by_label("Tables of node").select_option("red")
        arp = page.locator("table[data-table=arp]")
        arp.get_by_text(blue_mac).wait_for(timeout=20_000)
        click_node(page, "red")
        page.screenshot(path=str(artifacts / "canvas-applied.png"))

        # A failure is said in words: red has no route to another subnet.
        page.get_by_label("To node or address").fill("10.77.0.1")
        page.get_by_label("Count").fill("1")
        page.get_by_role("button", name="Ping", exact=True).click()
        page.wait_for_function(
            "() => /received/.test(document.querySelector('[data-testid=ping-summary]').textContent)", timeout=30_000
        )
        failure = page.locator("[data-testid=ping-summary]").text_content()
        assert "unreachable" in failure.lower() or "100% loss" in failure, failure
        assert page.locator("[data-testid=ping-replies] li").count() == 0

        # An edit after apply marks the node "changed since apply" (class and text badge); undo clears it.
        tab(page, "Edit")
        page.get_by_label("IP forwarding").check()
        page.wait_for_function("() => window.netdesigner.cy.$('.st-changed').map((n) => n.data('name')).includes('red')")
        assert "changed" in page.evaluate(
            "() => window.netdesigner.cy.nodes().filter((n) => n.data('name') === 'red')[0].data('label')"
        )
        page.locator("#cy").click(position={"x": 5, "y": 5})
        page.keyboard.press("Control+z")
        page.wait_for_function("() => window.netdesigner.cy.$('.st-changed').length === 0")
        assert page.locator(".save-state").text_content() == "saved"

        # Destroy from the page.
        tab(page, "Deploy")
        page.get_by_role("button", name="Destroy").click()
        page.wait_for_function(
            "() => /destroy: (done|failed)/.test(document.querySelector('[data-testid=progress-text]').textContent)",
            timeout=60_000,
        )
        assert page.locator("[data-testid=job-status]").text_content() == "destroy succeeded"
        assert ui.errors == []
    finally:
        destroy_lab(lab)
