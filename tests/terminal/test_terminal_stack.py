"""The terminal through the real stack: websockets client -> daphne -> Redis -> the root worker's server
-> the sandboxed shell in the applied lab (the tutorial's stage 2), and back."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from tests.stack import Stack, api, api_token, make_user, session_cookie
from topology.models import AuditEvent

from .client import connect, wait_job

pytestmark = [pytest.mark.services, pytest.mark.root]

EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


def applied_stage2(stack: Stack, token: str) -> int:
    document = json.loads((EXAMPLES / "seed-2-bridge.json").read_text())
    status, lab = api(stack, "POST", "/api/labs", {"name": "stage 2", "topology": document}, token=token)
    assert status == 201, lab
    status, body = api(stack, "POST", f"/api/labs/{lab['id']}/apply", token=token)
    assert status == 202, body
    assert wait_job(stack, body["job"], token)["status"] == "succeeded"
    return int(lab["id"])


def audited(lab_id: int, action: str, count: int) -> list[dict[str, Any]]:
    """The details of the lab's audit rows of `action`, once there are `count` of them (the server
    audits a session's end after it has taken the shell down, just after telling the browser)."""
    for _ in range(100):
        rows = list(AuditEvent.objects.filter(lab_id=lab_id, action=action).values_list("detail", flat=True))
        if len(rows) >= count:
            return rows
        time.sleep(0.1)
    return rows


def member(stack: Stack, lab_id: int, owner_token: str, name: str, role: str) -> str:
    make_user(name)
    status, body = api(stack, "POST", f"/api/labs/{lab_id}/members", {"username": name, "role": role},
                       token=owner_token)
    assert status == 201, body
    from django.contrib.auth import get_user_model

    return api_token(get_user_model().objects.get(username=name))


def test_operator_uses_blues_terminal_and_the_change_is_drift(stack: Stack) -> None:
    token = api_token(make_user("owner"))
    lab_id = applied_stage2(stack, token)
    operator = member(stack, lab_id, token, "op", "operator")
    with connect(stack, lab_id, "blue", token=operator) as term:
        status, out = term.run("ip -br addr")
        assert status == 0 and "192.168.15.2/24" in out, out
        status, out = term.run("ping -c1 -W2 192.168.15.1")
        assert status == 0 and "1 received" in out, out
        status, out = term.run("ip addr add 192.168.15.42/24 dev veth-blue")
        assert status == 0, out
        status, out = term.run("stty size")
        assert out.split() == ["40", "120"], out
        term.resize(100, 30)
        assert term.run("stty size")[1].split() == ["30", "100"]
        status, drift = api(stack, "GET", f"/api/labs/{lab_id}/drift", token=operator)
        assert status == 200, drift
        assert {"node": "blue", "kind": "address", "what": "veth-blue 192.168.15.42/24", "expected": None,
                "actual": "192.168.15.42/24"} in drift
        # Apply undoes the hand change (the operator's other choice besides keeping it)
        status, body = api(stack, "POST", f"/api/labs/{lab_id}/apply", token=operator)
        assert status == 202 and wait_job(stack, body["job"], operator)["status"] == "succeeded"
        assert api(stack, "GET", f"/api/labs/{lab_id}/drift", token=operator)[1] == []
        status, out = term.run("ip -br addr show dev veth-blue")
        assert "192.168.15.2/24" in out and "192.168.15.42" not in out, out
        term.type("exit 7\r")
        end = term.until(lambda m: m["type"] == "exit")
        assert end["code"] == 7
    opened = audited(lab_id, "terminal.open", 1)
    closed = audited(lab_id, "terminal.close", 1)
    assert set(AuditEvent.objects.filter(detail__session=opened[0]["session"]).values_list(
        "user__username", flat=True)) == {"op"}
    assert len(opened) == 1 and opened[0]["node"] == "blue"
    assert len(closed) == 1 and closed[0]["code"] == 7 and closed[0]["session"] == opened[0]["session"]


def test_viewer_editor_anonymous_and_foreign_origin_are_refused(stack: Stack) -> None:
    token = api_token(make_user("owner"))
    lab_id = applied_stage2(stack, token)
    for role in ("viewer", "editor"):
        with connect(stack, lab_id, "blue", token=member(stack, lab_id, token, role, role)) as term:
            assert term.closed_code() == 4403
            assert term.messages == []
    with connect(stack, lab_id, "blue", cookie=session_cookie(make_user("stranger"))) as term:
        assert term.closed_code() == 4403
    with connect(stack, lab_id, "blue") as term:
        assert term.closed_code() == 4401
    with pytest.raises(InvalidStatus) as refused:
        connect(stack, lab_id, "blue", token=token, origin="http://evil.example")
    assert refused.value.response.status_code == 403
    assert not AuditEvent.objects.filter(lab_id=lab_id, action="terminal.open").exists()


def test_losing_the_role_and_destroying_the_lab_close_the_terminal(stack: Stack) -> None:
    token = api_token(make_user("owner"))
    lab_id = applied_stage2(stack, token)
    operator = member(stack, lab_id, token, "op", "operator")
    with connect(stack, lab_id, "blue", token=operator) as term:
        assert term.run("true")[0] == 0
        status, _ = api(stack, "PUT", f"/api/labs/{lab_id}/members/op", {"role": "viewer"}, token=token)
        assert status == 200, status
        assert term.closed_code() == 4403
        assert any(m["type"] == "exit" and "operator" in m["reason"] for m in term.messages)
    with connect(stack, lab_id, "red", token=token) as term:
        assert term.run("true")[0] == 0
        status, body = api(stack, "POST", f"/api/labs/{lab_id}/destroy", token=token)
        assert status == 202
        end = term.until(lambda m: m["type"] == "exit", timeout=60)
        assert "destroyed" in end["reason"], end
    reasons = sorted(d["reason"] for d in audited(lab_id, "terminal.close", 2))
    assert reasons == ["the lab was destroyed", "you no longer have the operator role on this lab"]


def test_not_deployed_no_such_node_and_a_bridge(stack: Stack) -> None:
    token = api_token(make_user("owner"))
    document = json.loads((EXAMPLES / "seed-2-bridge.json").read_text())
    status, lab = api(stack, "POST", "/api/labs", {"name": "drawn", "topology": document}, token=token)
    with connect(stack, lab["id"], "blue", token=token) as term:
        assert term.closed_code() == 4409
        assert "apply it first" in term.messages[0]["message"]
    lab_id = applied_stage2(stack, token)
    with connect(stack, lab_id, "purple", token=token) as term:
        assert term.closed_code() == 4409
        assert "no node named purple" in term.messages[0]["message"]
    with connect(stack, lab_id, "v-net-0", token=token) as term:  # a bridge lives in the host's namespace
        status, out = term.run("ip -br link show v-net-0")
        assert status == 0 and "v-net-0" in out


def test_session_limit_per_user(stack: Stack) -> None:
    """The default limit is 4 terminals a user: the fourth opens, the fifth is refused and says why."""
    token = api_token(make_user("owner"))
    lab_id = applied_stage2(stack, token)
    terms = []
    try:
        for _ in range(4):
            terms.append(connect(stack, lab_id, "blue", token=token))
            assert terms[-1].run("true")[0] == 0
        with connect(stack, lab_id, "red", token=token) as fifth:
            assert fifth.closed_code() == 4409
            assert "4 terminals open" in fifth.messages[0]["message"]
        terms.pop().close()
        for _ in range(50):  # a slot is free again once the server has let the closed session go
            with connect(stack, lab_id, "red", token=token) as again:
                first = again.until(lambda m: True)
                if first["type"] == "output":
                    break
                time.sleep(0.2)
        assert first["type"] == "output", first
    finally:
        for term in terms:
            term.close()


def test_a_shell_cannot_keep_its_lab_from_being_destroyed(stack: Stack) -> None:
    """The lab's root may rewrite anything in its namespaces, lo's alias (the engine's ownership mark)
    included, in every one of them; destroy must still remove them all: nothing of a session outlives it."""
    from tests.stack import namespaces_of
    from topology.models import Deployment

    token = api_token(make_user("owner"))
    lab_id = applied_stage2(stack, token)
    tag = Deployment.objects.get(lab_id=lab_id).tag
    assert len(namespaces_of(tag)) == 3
    for node in ("red", "blue", "host"):
        with connect(stack, lab_id, node, token=token) as term:
            status, out = term.run("ip link set lo alias tampered && ip -o link show lo")
            assert status == 0 and "tampered" in out, out
            term.type("exit\r")
            term.until(lambda m: m["type"] == "exit")
    status, body = api(stack, "POST", f"/api/labs/{lab_id}/destroy", token=token)
    assert status == 202 and wait_job(stack, body["job"], token)["status"] == "succeeded"
    assert namespaces_of(tag) == []
