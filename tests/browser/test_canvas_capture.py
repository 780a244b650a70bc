"""Packet capture in the browser, against the real stack: capture on blue during a ping from red and see
the packet list fill live (and dots fly along the cables), download the pcap and read it with
`tcpdump -r`; a right-click on a cable offers a capture on either end; "Capture the path" on stage 5 shows
the masquerade on both sides of the host."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.canvas import node_point, tab
from tests.capture_ready import wait_links_up
from tests.stack import destroy_lab

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]

EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"
PACKETS = "[data-testid=capture-packets] li"


def applied(make_lab: Any, owner: Any, example: str) -> Any:
    from topology.models import Deployment, Job
    from topology.services.operations import lab_apply_request

    lab = make_lab(owner, name=example, document=json.loads((EXAMPLES / f"{example}.json").read_text()))
    job = lab_apply_request(lab=lab, user=owner)
    deadline = time.monotonic() + 120
    while Job.objects.get(pk=job.pk).status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Job.objects.get(pk=job.pk).status == "succeeded", Job.objects.get(pk=job.pk).error
    deployment = Deployment.objects.select_related("version").get(lab=lab)
    assert deployment.version is not None
    wait_links_up(deployment.tag, deployment.version.document)
    return lab


def count_dots(page: Any) -> None:
    """Count every packet dot the page ever adds (they remove themselves once they have arrived)."""
    page.evaluate("""() => {
        window.__dots = 0;
        new MutationObserver((records) => {
            for (const r of records) for (const n of r.addedNodes) if (n.classList?.contains('packet-dot')) window.__dots++;
        }).observe(document.querySelector('.capture-dots'), { childList: true });
    }""")


def ping(page: Any, source: str, target: str, count: int) -> None:
    page.get_by_label("From node").select_option(source)
    page.get_by_label("To node or address").fill(target)
    page.get_by_label("Count").fill(str(count))


def texts(page: Any) -> list[str]:
    return page.locator(PACKETS).all_text_contents()  # type: ignore[no-any-return]


def test_capture_during_a_ping_fills_the_list_live(stack: Any, user_page: Any, make_lab: Any, users: Any,
                                                   tmp_path: Path, artifacts: Path) -> None:
    alice = users("alice-capture")
    lab = applied(make_lab, alice, "seed-2-bridge")
    ui = user_page(alice)
    page = ui.page
    try:
        ui.open_lab(lab.pk)
        tab(page, "Watch")
        count_dots(page)
        page.get_by_label("Capture on").select_option("blue/veth-blue")
        page.get_by_label("Seconds").fill("15")
        page.get_by_role("button", name="Capture", exact=True).click()
        page.wait_for_function(
            "() => /^Capturing on blue\\/veth-blue/.test(document.querySelector('[data-testid=capture-status]').textContent)")
        ping(page, "red", "192.168.15.2", 3)
        page.get_by_role("button", name="Ping", exact=True).click()
        page.locator(PACKETS, has_text="ICMP echo request 192.168.15.1 > 192.168.15.2").first.wait_for(timeout=30_000)
        # Live: packets are listed while the capture still runs (it lasts 15 s; the ping about one).
        assert page.locator("[data-testid=capture-status]").text_content().startswith("Capturing on")
        assert page.get_by_role("button", name="Capture", exact=True).is_disabled()
        assert not page.get_by_test_id("capture-download").is_visible()  # only once it has ended
        assert page.get_by_role("button", name="Stop", exact=True).is_visible()
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{PACKETS}')].filter((li) => /ICMP echo reply/.test(li.textContent)).length === 3",
            timeout=30_000)
        rows = texts(page)
        assert any("blue/veth-blue" in r and "ARP who-has 192.168.15.2 tell 192.168.15.1" in r for r in rows), rows
        assert sum("ICMP echo request 192.168.15.1 > 192.168.15.2" in r for r in rows) == 3
        assert page.evaluate("() => window.__dots") >= 6  # one dot along blue's cable per packet
        page.screenshot(path=str(artifacts / "canvas-capture.png"))

        # Once it ends: the pcap, one click away.
        download = page.get_by_test_id("capture-download")
        download.wait_for(state="visible", timeout=40_000)
        page.wait_for_function(
            "() => /ended by its time limit/.test(document.querySelector('[data-testid=capture-status]').textContent)")
        assert not page.get_by_role("button", name="Stop", exact=True).is_visible()
        with page.expect_download() as info:
            download.click()
        saved = tmp_path / "capture.pcap"
        info.value.save_as(saved)
        assert shutil.which("tcpdump")
        lines = subprocess.run(["tcpdump", "-n", "-r", str(saved)], capture_output=True, text=True,
                               check=True).stdout.splitlines()
        assert sum("IP 192.168.15.1 > 192.168.15.2: ICMP echo request" in x for x in lines) == 3
        assert any("ARP, Request who-has 192.168.15.2 tell 192.168.15.1" in x for x in lines)

        # A right-click on the red cable offers a capture on either of its ends.
        rx, ry = node_point(page, "red")
        bx, by = node_point(page, "v-net-0")
        page.mouse.click((rx + bx) / 2, (ry + by) / 2, button="right")
        menu = page.get_by_role("menu", name="Capture")
        menu.wait_for()
        items = menu.get_by_role("menuitem").all_text_contents()
        assert items == ["Capture on red/veth-red", "Capture on v-net-0/veth-red-br"]
        page.keyboard.press("Escape")
        assert page.get_by_role("menu", name="Capture").count() == 0
        assert ui.errors == []
    finally:
        destroy_lab(lab)


def test_capture_the_path_shows_the_masquerade(stack: Any, user_page: Any, make_lab: Any, users: Any,
                                              artifacts: Path) -> None:
    bob = users("bob-capture")
    lab = applied(make_lab, bob, "seed-5-nat")
    ui = user_page(bob)
    page = ui.page
    try:
        ui.open_lab(lab.pk)
        tab(page, "Watch")
        page.get_by_label("Seconds").fill("6")
        ping(page, "blue", "192.168.1.3", 2)
        page.get_by_role("button", name="Capture the path").click()
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{PACKETS}')].filter((li) => /ICMP echo reply 192.168.1.3 > 192.168.15.2/.test(li.textContent)).length === 2",
            timeout=40_000)
        page.get_by_test_id("capture-download").wait_for(state="visible", timeout=40_000)
        page.wait_for_function(
            "() => /received/.test(document.querySelector('[data-testid=ping-summary]').textContent)", timeout=30_000)
        assert page.locator("[data-testid=ping-summary]").text_content() == "2 sent, 2 received, 0% loss"
        rows = texts(page)
        eth0 = [r for r in rows if "host/eth0" in r]
        bridge = [r for r in rows if "v-net-0/v-net-0" in r]
        assert sum("ICMP echo request 192.168.1.2 > 192.168.1.3" in r for r in eth0) == 2, "\n".join(rows)
        assert sum("ICMP echo request 192.168.15.2 > 192.168.1.3" in r for r in bridge) == 2, rows
        assert not any("192.168.15.2" in r for r in eth0)
        # The filter keeps only the matching rows in view.
        page.get_by_label("Show only packets with").fill("echo request 192.168.1.2")
        shown = page.locator(PACKETS + ":visible").all_text_contents()
        assert len(shown) == 2 and all("host/eth0" in r for r in shown), shown
        page.get_by_label("Show only packets with").fill("echo request")
        page.screenshot(path=str(artifacts / "canvas-capture-path.png"))
        assert ui.errors == []
    finally:
        destroy_lab(lab)
