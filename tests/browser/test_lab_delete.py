"""Deleting a lab from the canvas: the owner is warned that it is in the kernel, the server destroys it
through the real worker and then deletes it; its namespaces are gone and a viewer's open page says
the lab was deleted. Renaming from the top bar reaches the other page live."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.canvas import tab
from tests.stack import destroy_tag, namespaces_of

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.root]

SEED = Path(__file__).resolve().parents[2] / "topology" / "examples" / "seed-2-bridge.json"


def test_delete_from_the_ui_destroys_then_deletes(stack: Any, user_page: Any, make_lab: Any, users: Any) -> None:
    from topology.models import Deployment, Lab

    alice, vic = users("alice"), users("vic")
    lab = make_lab(alice, name="doomed", document=json.loads(SEED.read_text()), members={vic: "viewer"})
    a, v = user_page(alice), user_page(vic)
    tag = ""
    try:
        a.open_lab(lab.pk)
        v.open_lab(lab.pk)
        tab(a.page, "Deploy")
        a.page.get_by_role("button", name="Apply").click()
        a.page.get_by_test_id("job-status").get_by_text("apply succeeded").wait_for(timeout=60_000)
        tag = Deployment.objects.get(lab=lab).tag
        assert len(namespaces_of(tag)) == 3  # red, blue, host

        # Rename first: vic's title follows without a reload.
        a.page.get_by_role("button", name="Rename").click()
        a.page.get_by_label("Lab name").fill("doomed lab")
        a.page.get_by_role("dialog").get_by_role("button", name="Rename").click()
        v.page.locator(".lab-title", has_text="doomed lab").wait_for()
        assert v.page.get_by_role("button", name="Delete lab").count() == 0  # viewers cannot delete

        a.page.get_by_role("button", name="Delete lab").click()
        dialog = a.page.get_by_role("dialog", name="Delete doomed lab?")
        warning = dialog.locator("[data-testid=delete-warning]")
        assert f"deployed in the kernel (tag {tag})" in warning.text_content()
        dialog.get_by_role("button", name="Destroy and delete").click()
        a.page.wait_for_url(f"{stack.url}/labs/", timeout=60_000)
        v.page.get_by_text("This lab was deleted by alice.").wait_for()
        assert namespaces_of(tag) == []
        assert not Lab.objects.filter(pk=lab.pk).exists()
        assert "doomed" not in (a.page.locator("table.labs").text_content() if a.page.locator("table.labs").count() else "")
        assert a.errors == [], a.errors
        assert v.errors == [], v.errors
    finally:
        if tag:
            destroy_tag(tag)


def test_admin_delete_of_a_deployed_lab_leaves_no_namespace(stack: Any, users: Any, make_lab: Any) -> None:
    """The admin's delete goes the same way: through the worker, then the rows."""
    import urllib.parse
    import urllib.request

    from tests.stack import session_cookie
    from topology.models import Deployment, Lab
    from topology.services.operations import lab_apply_request

    admin = users("root-admin")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    lab = make_lab(admin, name="admin-doomed", document=json.loads(SEED.read_text()))
    job = lab_apply_request(lab=lab, user=admin)
    tag = Deployment.objects.get(lab=lab).tag
    try:
        for _ in range(600):
            job.refresh_from_db()
            if job.status in ("succeeded", "failed"):
                break
            time.sleep(0.1)
        assert job.status == "succeeded", job.error
        assert namespaces_of(tag)
        cookie = session_cookie(admin)
        url = f"{stack.url}/admin/topology/lab/{lab.pk}/delete/"
        get = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 - loopback
        with urllib.request.urlopen(get, timeout=30) as response:  # noqa: S310
            html = response.read().decode()
            csrf = response.headers.get_all("Set-Cookie") or []
        token = next(c.split(";")[0].split("=", 1)[1] for c in csrf if c.startswith("csrftoken="))
        assert "destroys its namespaces first" in html
        body = urllib.parse.urlencode({"post": "yes", "csrfmiddlewaretoken": token}).encode()
        post = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310
            "Cookie": f"{cookie}; csrftoken={token}", "Referer": url})
        with urllib.request.urlopen(post, timeout=30):  # noqa: S310
            pass
        for _ in range(600):
            if not Lab.objects.filter(pk=lab.pk).exists():
                break
            time.sleep(0.1)
        assert not Lab.objects.filter(pk=lab.pk).exists()
        assert namespaces_of(tag) == []
    finally:
        destroy_tag(tag)
