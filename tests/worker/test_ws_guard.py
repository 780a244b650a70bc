"""Websocket guards (issue 11 item 5): Origin with scheme and port, a per-user socket limit, and
presence in O(N) messages. The Origin rule is a table over the pure function; the limit and presence
run the real consumer in-process (channels' WebsocketCommunicator) on the real Redis of REDIS_URL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from topology.consumers import LabConsumer
from topology.ws_guard import CLOSE_TOO_MANY, StrictOriginValidator, origin_allowed

pytestmark = pytest.mark.services

SITE = {"ALLOWED_HOSTS": ["127.0.0.1", "localhost", "lab.example.org"],
        "CSRF_TRUSTED_ORIGINS": ["https://lab.example.org"]}


@pytest.mark.parametrize(("origin", "scheme", "host", "ok"), [
    ("http://127.0.0.1:8000", "ws", "127.0.0.1:8000", True),       # the page's own origin
    ("http://127.0.0.1:9999", "ws", "127.0.0.1:8000", False),      # another port on the same host
    ("https://127.0.0.1:8000", "ws", "127.0.0.1:8000", False),     # another scheme
    ("http://127.0.0.1", "ws", "127.0.0.1:8000", False),           # default port 80 is another port
    ("http://localhost:8000", "ws", "127.0.0.1:8000", False),      # another host name
    ("http://evil.example:8000", "ws", "evil.example:8000", False),  # a host not allowed
    ("https://lab.example.org", "ws", "10.0.0.5:8000", True),      # trusted origin (behind a proxy)
    ("https://lab.example.org:8443", "ws", "10.0.0.5:8000", False),
    ("https://lab.example.org", "wss", "lab.example.org", True),
    ("http://lab.example.org", "ws", "lab.example.org", True),     # same origin, port 80 both
    ("null", "ws", "127.0.0.1:8000", False),
    ("", "ws", "127.0.0.1:8000", False),
    (None, "ws", "127.0.0.1:8000", False),
    ("http://127.0.0.1:8000/path", "ws", "127.0.0.1:8000", False),
    ("http://127.0.0.1:99999", "ws", "127.0.0.1:8000", False),
])
def test_origin_table(origin: str | None, scheme: str, host: str, ok: bool) -> None:
    with override_settings(**SITE):
        assert origin_allowed(origin, ws_scheme=scheme, host_header=host) is ok


def communicator(user: Any, lab_id: int, origin: str = "http://127.0.0.1:8000") -> WebsocketCommunicator:
    app = StrictOriginValidator(LabConsumer.as_asgi())
    comm = WebsocketCommunicator(app, f"/ws/labs/{lab_id}/",
                                 headers=[(b"origin", origin.encode()), (b"host", b"127.0.0.1:8000")])
    comm.scope["user"] = user
    comm.scope["url_route"] = {"kwargs": {"lab_id": lab_id}}
    return comm


@pytest.fixture
def lab_and_owner(transactional_db: Any, redis_url: str, settings: Any) -> Any:
    from django.contrib.auth.models import User

    from topology.models import Lab

    settings.REDIS_URL = redis_url
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                           "CONFIG": {"hosts": [{"address": redis_url, "socket_timeout": None}]}}}
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    owner = User.objects.create_user(username="wsowner", password="x")
    lab = Lab.objects.create(name="ws", slug="ws-guard", owner=owner, version=1)
    return lab, owner


async def _messages(comm: WebsocketCommunicator, wait: float = 0.6) -> list[dict[str, Any]]:
    """What the socket sent until it is quiet for `wait` s (receive_nothing: a timeout on receive
    would cancel the consumer)."""
    out = []
    while not await comm.receive_nothing(timeout=wait):
        out.append(await comm.receive_json_from())
    return out


def test_foreign_port_refused_at_the_handshake(lab_and_owner: Any) -> None:
    lab, owner = lab_and_owner

    async def run() -> Any:
        comm = communicator(owner, lab.pk, origin="http://127.0.0.1:9999")
        connected, code = await comm.connect()
        return connected, code

    assert asyncio.run(run()) == (False, 403)


def test_per_user_socket_limit_both_sides(lab_and_owner: Any, settings: Any) -> None:
    lab, owner = lab_and_owner
    settings.WS_PER_USER_MAX = 3

    async def run() -> tuple[list[bool], Any, bool]:
        socks = [communicator(owner, lab.pk) for _ in range(4)]
        opened = []
        for comm in socks[:3]:
            connected, _ = await comm.connect()
            opened.append(connected)
        await _messages(socks[0], wait=0.3)
        connected, _ = await socks[3].connect()
        refused = await socks[3].receive_output(timeout=5)
        await socks[0].disconnect()  # one closed: the next one is let in again
        again = communicator(owner, lab.pk)
        ok, _ = await again.connect()
        for comm in (*socks[1:3], again):
            await comm.disconnect()
        return opened, refused, ok

    opened, refused, ok = asyncio.run(run())
    assert opened == [True, True, True]
    assert refused == {"type": "websocket.close", "code": CLOSE_TOO_MANY}
    assert ok


def test_presence_is_linear_in_the_number_of_sockets(lab_and_owner: Any) -> None:
    """N sockets of one user: each gets the list once on connect, the group at most one change."""
    lab, owner = lab_and_owner
    n = 8

    async def run() -> list[list[dict[str, Any]]]:
        socks = [communicator(owner, lab.pk) for _ in range(n)]
        for comm in socks:
            assert (await comm.connect())[0]
        got = [await _messages(comm) for comm in socks]
        for comm in socks:
            await comm.disconnect()
        return got

    got = asyncio.run(run())
    presence = [[m for m in msgs if m["type"] == "presence"] for msgs in got]
    assert all(p and p[0]["users"] == ["wsowner"] for p in presence)
    total = sum(len(p) for p in presence)
    assert total <= 2 * n, total  # the per-socket announcement of the first round sent n*(n+1)/2 = 36

