"""The admin's deployment page reads the live kernel through the real worker, and shows drift after a
hand-made change. Real Redis, a real worker process, a real daphne, the real kernel."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.stack import Stack, api, api_token, make_user, session_cookie
from topology.models import Deployment

pytestmark = [pytest.mark.services, pytest.mark.root]

EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


def admin_page(stack: Stack, path: str, cookie: str) -> tuple[int, str]:
    request = urllib.request.Request(stack.url + path)  # noqa: S310 - loopback
    request.add_header("Cookie", cookie)
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return response.status, response.read().decode()


def wait_finished(stack: Stack, job: int, token: str) -> dict[str, object]:
    import time

    for _ in range(600):
        status, body = api(stack, "GET", f"/api/jobs/{job}", token=token)
        if body["status"] in ("succeeded", "failed"):
            return dict(body)
        time.sleep(0.1)
    raise AssertionError(f"job {job} did not finish")


def test_deployment_page_shows_live_kernel_and_drift_after_a_hand_made_change(stack: Stack) -> None:
    admin = make_user("inspector", staff=True)
    admin.is_superuser = True
    admin.save()
    token = api_token(admin)
    document = json.loads((EXAMPLES / "seed-2-bridge.json").read_text())
    status, lab = api(stack, "POST", "/api/labs", {"name": "inspect me", "topology": document}, token=token)
    assert status == 201, lab
    status, body = api(stack, "POST", f"/api/labs/{lab['id']}/apply", token=token)
    assert status == 202, body
    assert wait_finished(stack, body["job"], token)["status"] == "succeeded"
    deployment = Deployment.objects.get(lab_id=lab["id"])
    cookie = session_cookie(admin)
    page = f"/admin/topology/deployment/{deployment.pk}/change/"

    status, html = admin_page(stack, page, cookie)
    assert status == 200
    assert "Kernel now vs design" in html
    assert "In sync with the design." in html
    blue_mac = json.loads(subprocess.run(
        ["ip", "-n", f"nd-{deployment.tag}-blue", "-j", "link", "show", "veth-blue"],
        capture_output=True, text=True, check=True).stdout)[0]["address"]
    assert blue_mac in html  # read from the kernel, not the design (which names no MAC)

    # By hand, as a person poking at the lab would: remove red's address.
    subprocess.run(["ip", "-n", f"nd-{deployment.tag}-red", "addr", "del", "192.168.15.1/24", "dev", "veth-red"],
                   check=True)
    status, html = admin_page(stack, page, cookie)
    assert status == 200
    assert "1 difference(s)" in html, html[:2000]
    assert "192.168.15.1/24" in html
