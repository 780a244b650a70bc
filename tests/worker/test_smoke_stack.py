"""The stack fixture itself: daphne and the worker start, a socket connects, a job runs to its end."""

from __future__ import annotations

import pytest

from tests.stack import Stack, api, api_token, make_user, ws_connect

pytestmark = [pytest.mark.services, pytest.mark.root]

DOC = {
    "format": "netdesigner/v1",
    "name": "pair",
    "nodes": [{"name": "red", "kind": "namespace"}, {"name": "blue", "kind": "namespace"}],
    "links": [{"a": {"node": "red", "interface": "veth-red", "addresses": ["10.9.0.1/24"]},
               "b": {"node": "blue", "interface": "veth-blue", "addresses": ["10.9.0.2/24"]}}],
}


def test_apply_job_runs_through_the_worker_and_streams_its_end(stack: Stack) -> None:
    owner = make_user("smoke")
    token = api_token(owner)
    status, lab = api(stack, "POST", "/api/labs", {"name": "smoke", "topology": DOC}, token=token)
    assert status == 201, lab
    with ws_connect(stack, lab["id"], token=token) as sock:
        sock.until(lambda e: e["type"] == "presence")
        status, body = api(stack, "POST", f"/api/labs/{lab['id']}/apply", token=token)
        assert status == 202, body
        finished = sock.until(lambda e: e["type"] == "job.finished" and e["job"] == body["job"])
    assert finished["kind"] == "apply"
    assert finished["status"] in {"succeeded", "failed"}
    assert sock.of_type("job.progress")
