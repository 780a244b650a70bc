"""The admin's "Kernel now vs design" for the tutorial's port-forward lab, against the real worker and
kernel: the bridge is listed under the host's namespace (which exists), NAT and port forwards are shown
as rules read back from iptables and compared, and a rule deleted by hand shows as missing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.stack import Stack, api, api_token, make_user, namespaces_of, session_cookie
from tests.worker.test_admin_inspection import admin_page, wait_finished
from topology.models import Deployment

pytestmark = [pytest.mark.services, pytest.mark.root]

EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


def test_kernel_view_reads_nat_back_and_names_real_namespaces(stack: Stack) -> None:
    admin = make_user("nat-inspector", staff=True)
    admin.is_superuser = True
    admin.save()
    token = api_token(admin)
    document = json.loads((EXAMPLES / "seed-6-port-forward.json").read_text())
    status, lab = api(stack, "POST", "/api/labs", {"name": "nat view", "topology": document}, token=token)
    assert status == 201, lab
    status, body = api(stack, "POST", f"/api/labs/{lab['id']}/apply", token=token)
    assert wait_finished(stack, body["job"], token)["status"] == "succeeded"
    deployment = Deployment.objects.get(lab_id=lab["id"])
    tag = deployment.tag
    page = f"/admin/topology/deployment/{deployment.pk}/change/"
    cookie = session_cookie(admin)

    status, html = admin_page(stack, page, cookie)
    assert status == 200
    existing = set(namespaces_of(tag))
    listed = {part.split("</code>")[0] for part in html.split("namespace <code>")[1:]}
    assert listed and listed <= existing, (listed, existing)  # the bridge is under nd-<tag>-host
    assert f"nd-{tag}-v-net-0" not in html
    assert "{&#x27;action&#x27;" not in html and "{'action'" not in html  # no Python dicts
    assert "<code>MASQUERADE -s 192.168.15.0/24 -o eth0</code>" in html
    assert "<code>DNAT tcp dport 8080 -i eth0 -&gt; 192.168.15.2:80</code>" in html
    assert "missing" not in html

    # By hand: delete the port forward inside the host's namespace.
    subprocess.run(["ip", "netns", "exec", f"nd-{tag}-host", "iptables", "-t", "nat", "-D", "ND-PREROUTING", "1"],
                   check=True)
    status, html = admin_page(stack, page, cookie)
    row = html.split("<code>DNAT tcp dport 8080 -i eth0 -&gt; 192.168.15.2:80</code>")[2]
    assert row.split("</tr>")[0].count("missing") == 1
    assert "difference(s) from the design" in html
