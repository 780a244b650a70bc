"""Who may watch a lab's stream, against the real daphne: refusals, roles, a member removed mid-stream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.stack import Socket, Stack, api, api_token, make_user, session_cookie, ws_connect
from topology import events

pytestmark = [pytest.mark.services, pytest.mark.root]

EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


def new_lab(stack: Stack, token: str, name: str = "watched") -> int:
    document = json.loads((EXAMPLES / "seed-2-bridge.json").read_text())
    status, body = api(stack, "POST", "/api/labs", {"name": name, "topology": document}, token=token)
    assert status == 201, body
    return int(body["id"])


def closed_code(sock: Socket) -> int | None:
    """The close code the server sent (receiving until the socket closes)."""
    with pytest.raises(ConnectionClosed) as closed:
        sock.until(lambda e: False, timeout=15)
    return closed.value.rcvd.code if closed.value.rcvd else None


def test_anonymous_socket_is_refused(stack: Stack) -> None:
    owner = make_user("owner")
    lab_id = new_lab(stack, api_token(owner))
    with ws_connect(stack, lab_id) as sock:
        assert closed_code(sock) == 4401
    with ws_connect(stack, lab_id, token="not-a-token") as sock:
        assert closed_code(sock) == 4401
    assert sock.events == []


def test_foreign_origin_is_refused_at_the_handshake(stack: Stack) -> None:
    owner = make_user("owner")
    token = api_token(owner)
    lab_id = new_lab(stack, token)
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(stack, lab_id, token=token, origin="http://evil.example")
    assert refused.value.response.status_code == 403


def test_user_without_role_and_missing_lab_are_refused(stack: Stack) -> None:
    owner, stranger = make_user("owner"), make_user("stranger")
    lab_id = new_lab(stack, api_token(owner))
    with ws_connect(stack, lab_id, cookie=session_cookie(stranger)) as sock:
        assert closed_code(sock) == 4403
    with ws_connect(stack, 999999, cookie=session_cookie(owner)) as sock:
        assert closed_code(sock) == 4403


def test_session_cookie_viewer_may_watch_but_not_apply(stack: Stack) -> None:
    owner, viewer = make_user("owner"), make_user("viewer")
    token = api_token(owner)
    lab_id = new_lab(stack, token)
    status, body = api(stack, "POST", f"/api/labs/{lab_id}/members", {"username": "viewer", "role": "viewer"},
                       token=token)
    assert status == 201, body
    with ws_connect(stack, lab_id, cookie=session_cookie(viewer)) as sock:
        presence = sock.until(lambda e: e["type"] == "presence")
        assert presence["users"] == ["viewer"]
        status, body = api(stack, "POST", f"/api/labs/{lab_id}/apply", token=api_token(viewer))
        assert status == 403, body
        events.publish(lab_id, {"type": "topology.updated", "version": 2, "by": "owner"})
        assert sock.until(lambda e: e["type"] == "topology.updated")["by"] == "owner"


def test_presence_lists_every_watcher_and_drops_who_leaves(stack: Stack) -> None:
    owner, viewer = make_user("owner"), make_user("viewer")
    token = api_token(owner)
    lab_id = new_lab(stack, token)
    api(stack, "POST", f"/api/labs/{lab_id}/members", {"username": "viewer", "role": "viewer"}, token=token)
    with ws_connect(stack, lab_id, token=token) as first:
        first.until(lambda e: e["type"] == "presence" and e["users"] == ["owner"])
        second = ws_connect(stack, lab_id, token=api_token(viewer))
        first.until(lambda e: e["type"] == "presence" and e["users"] == ["owner", "viewer"])
        second.close()
        first.until(lambda e: e["type"] == "presence" and e["users"] == ["owner"])


def test_removed_member_stops_receiving_and_is_closed(stack: Stack) -> None:
    owner, member = make_user("owner"), make_user("member")
    token = api_token(owner)
    lab_id = new_lab(stack, token)
    api(stack, "POST", f"/api/labs/{lab_id}/members", {"username": "member", "role": "operator"}, token=token)
    with ws_connect(stack, lab_id, token=api_token(member)) as sock:
        sock.until(lambda e: e["type"] == "presence")
        events.publish(lab_id, {"type": "topology.updated", "version": 2, "by": "owner", "n": 1})
        sock.until(lambda e: e.get("n") == 1)
        status, _ = api(stack, "DELETE", f"/api/labs/{lab_id}/members/member", token=token)
        assert status == 204
        assert closed_code(sock) == 4403
        events.publish(lab_id, {"type": "topology.updated", "version": 3, "by": "owner", "n": 2})
    assert [e for e in sock.events if e.get("n") == 2] == []


def test_client_ping_gets_pong_and_garbage_is_ignored(stack: Stack) -> None:
    owner = make_user("owner")
    token = api_token(owner)
    lab_id = new_lab(stack, token)
    with ws_connect(stack, lab_id, token=token) as sock:
        sock.until(lambda e: e["type"] == "presence")
        sock.conn.send("not json {")
        sock.conn.send('{"type": "ping"}')
        assert sock.until(lambda e: e["type"] == "pong")["type"] == "pong"
