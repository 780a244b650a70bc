"""The terminal server in this process, spoken to over the real Redis channel layer as the consumer would:
what it refuses to start (unsigned, expired, replayed requests; a role below operator) and when it ends a
session (idle, a consumer gone silent), on both sides of each limit. The lab's namespaces come from the
userns helper (owned by a lab user namespace, as the engine makes them)."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import signing

from tests.stack import make_user
from topology.choices import DeploymentState
from topology.models import AuditEvent, Deployment, LabMembership
from topology.services.labs import lab_create
from topology.terminal import protocol
from topology.terminal.server import TerminalServer, new_session_id

from .userns import lab

pytestmark = [pytest.mark.root, pytest.mark.services]
DOC = json.loads((Path(__file__).resolve().parents[2] / "topology" / "examples" / "seed-1-direct.json").read_text())


@pytest.fixture
def setup(transactional_db: Any, redis_url: str) -> Iterator[dict[str, Any]]:
    host = "unit-" + secrets.token_hex(4)
    with lab(["red", "blue"]) as tag:
        owner = make_user("owner")
        row = lab_create(user=owner, name="direct", topology=DOC)
        Deployment.objects.create(lab=row, tag=tag, worker_host=host, state=DeploymentState.DEPLOYED,
                                  version=row.versions.get())
        yield {"host": host, "lab": row, "owner": owner}


def start(host: str, **limits: Any) -> TerminalServer:
    server = TerminalServer(host, **limits)
    server.start()
    assert server.ready.wait(10)
    return server


async def _exchange(host: str, requests: list[Any], *, send: list[dict[str, Any]] | None = None,
                    every: float = 0.0, until: str = "terminal.exit", timeout: float = 30.0) -> list[dict[str, Any]]:
    """Send open requests (tokens) from one reply channel; once opened, send `send` messages every `every`
    seconds; collect what comes back until a message of type `until`."""
    layer = get_channel_layer()
    reply = await layer.new_channel()
    for make in requests:
        await layer.send(protocol.server_channel(host), {"type": "terminal.open", "token": make(reply)})
    got: list[dict[str, Any]] = []

    async def collect() -> None:
        feeder: asyncio.Task[None] | None = None
        while True:
            message = await layer.receive(reply)
            got.append(message)
            if message["type"] == "terminal.opened" and send is not None:
                async def feed(channel: str = message["channel"]) -> None:
                    for item in send:
                        await layer.send(channel, item)
                        await asyncio.sleep(every)
                feeder = asyncio.ensure_future(feed())
            if message["type"] in (until, "terminal.error"):
                if feeder:
                    feeder.cancel()
                return

    await asyncio.wait_for(collect(), timeout)
    return got


def token(setup: dict[str, Any], user: Any = None, **changes: Any) -> Any:
    def make(reply: str) -> str:
        who = user or setup["owner"]
        fields = {"lab": setup["lab"].pk, "node": "blue", "user": who.pk, "username": who.username,
                  "reply": reply, "session": new_session_id(), **changes}
        return protocol.OpenRequest(**fields).sign()
    return make


def test_unsigned_expired_and_replayed_requests_start_nothing(setup: dict[str, Any]) -> None:
    server = start(setup["host"], idle=30)
    try:
        replayed = new_session_id()
        forged = token(setup)  # a valid request, re-signed with another key

        def bad_key(reply: str) -> str:
            data = signing.loads(forged(reply), salt=protocol.SALT)
            return signing.dumps(data, key="not-our-secret", salt=protocol.SALT)

        def expired(reply: str) -> str:
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr("django.core.signing.time.time", lambda: 0.0)  # signed in 1970
                signed: str = token(setup)(reply)
                return signed

        got = async_to_sync(_exchange)(setup["host"], [
            bad_key, expired, lambda reply: "garbage", token(setup, session=replayed),
            token(setup, session=replayed)],
            send=[{"type": "terminal.input", "data": "exit 5\r"}], timeout=30)
        opened = [m for m in got if m["type"] == "terminal.opened"]
        assert [m["session"] for m in opened] == [replayed]  # only the first genuine one, once
        assert got[-1] == {"type": "terminal.exit", "code": 5, "reason": "the shell exited"}
    finally:
        server.stop()
    assert AuditEvent.objects.filter(action="terminal.open").count() == 1


def test_a_viewer_is_refused_by_the_server_too(setup: dict[str, Any]) -> None:
    """The consumer refuses a viewer; so does the server, should anything forge past it."""
    viewer = make_user("viewer")
    LabMembership.objects.create(lab=setup["lab"], user=viewer, role="viewer")
    server = start(setup["host"])
    try:
        got = async_to_sync(_exchange)(setup["host"], [token(setup, user=viewer)])
    finally:
        server.stop()
    assert got == [{"type": "terminal.error", "message": "a terminal needs the operator role on this lab"}]


def test_idle_timeout_closes_only_a_session_nobody_types_in(setup: dict[str, Any]) -> None:
    server = start(setup["host"], idle=1.5)
    try:
        keys = [{"type": "terminal.input", "data": ":\r"}] * 8  # a key every 0.5 s for 4 s: never idle
        got = async_to_sync(_exchange)(setup["host"], [token(setup)], send=keys, every=0.5)
    finally:
        server.stop()
    end = got[-1]
    assert end["type"] == "terminal.exit" and end["reason"] == "idle for 1.5 s: closed"
    outputs = [m for m in got if m["type"] == "terminal.output"]
    assert sum(m["data"].count("# ") for m in outputs) >= 8, "every key was answered before the idle end"


def test_a_consumer_gone_silent_ends_its_session(setup: dict[str, Any]) -> None:
    server = start(setup["host"], idle=60, liveness=1.5)
    try:
        alive = [{"type": "terminal.keepalive"}] * 6  # keepalives keep it, for 3 s, though nothing is typed
        got = async_to_sync(_exchange)(setup["host"], [token(setup)], send=alive, every=0.5)
    finally:
        server.stop()
    assert got[-1]["reason"] == "the browser went away"
    assert AuditEvent.objects.get(action="terminal.close").detail["seconds"] >= 3


def test_stopping_the_server_ends_and_audits_its_sessions(setup: dict[str, Any]) -> None:
    server = start(setup["host"], idle=60)
    result: list[dict[str, Any]] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(_exchange(setup["host"], [token(setup)], until="terminal.output"))
        result.extend(await task)
        await loop.run_in_executor(None, server.stop)

    async_to_sync(run)()
    assert result[-1]["type"] == "terminal.output"
    assert AuditEvent.objects.get(action="terminal.close").detail["reason"] == "the worker stopped"
