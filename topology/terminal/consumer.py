"""The terminal websocket: /ws/labs/<id>/nodes/<node>/terminal/ (shared/spec/interfaces.md "Terminal").

A pipe between the browser and the lab's worker host, where the root worker runs the sandboxed shell
(server.py). Checks like the lab socket (Origin and authentication in asgi.py; anonymous 4401), but needs
the operator role (4403 below it), re-checks it every ROLE_RECHECK seconds and at once on "lab.access",
and closes on role loss or when the lab is destroyed. Client messages: {"type": "input", "data"},
{"type": "resize", "cols", "rows"}; server messages: {"type": "output", "data"}, {"type": "exit", "code",
"reason"}, and {"type": "error", "message"} when no shell can be had (then close 4409).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .. import events
from ..choices import Role
from ..consumers import CLOSE_ANONYMOUS, CLOSE_FORBIDDEN, ROLE_RECHECK, roles_on_lab
from ..engine import fields
from . import protocol
from .server import new_session_id

log = logging.getLogger(__name__)

CLOSE_UNAVAILABLE = 4409  # no shell: not deployed, no such node, session limit, worker down
OPEN_TIMEOUT = 15.0  # seconds to wait for the worker's answer
KEEPALIVE = 15.0  # seconds between keepalives to the session (protocol.liveness_timeout on the server)
MAX_BUFFERED = 256  # client messages kept while the session opens


def _operator(role: str | None) -> bool:
    return Role.rank(role) >= Role.rank(Role.OPERATOR)


@database_sync_to_async  # type: ignore[untyped-decorator]
def _role(user: Any, lab_id: int) -> str | None:
    return roles_on_lab([user], lab_id).get(user.pk)


@database_sync_to_async  # type: ignore[untyped-decorator]
def _worker_host(lab_id: int) -> str | None:
    from ..choices import DeploymentState
    from ..models import Deployment

    row = Deployment.objects.filter(lab_id=lab_id, state=DeploymentState.DEPLOYED).values_list(
        "worker_host", flat=True).first()
    return row


class TerminalConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    lab_id: int
    node: str

    async def connect(self) -> None:
        self.group = ""
        self.session_channel = ""
        self.session = new_session_id()
        self.pending: list[dict[str, Any]] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.closed = False
        kwargs = self.scope["url_route"]["kwargs"]
        self.lab_id, self.node = int(kwargs["lab_id"]), str(kwargs["node"])
        self.user = self.scope.get("user")
        if self.user is None or not self.user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_ANONYMOUS)
            return
        if not _operator(await _role(self.user, self.lab_id)):
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.accept()
        if problem := fields.check_node_name(self.node):
            await self._fail(f"node {self.node!r}: {problem}")
            return
        host = await _worker_host(self.lab_id)
        if host is None:
            await self._fail("the lab is not deployed: apply it first, then open the terminal")
            return
        self.group = events.group_name(self.lab_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        query = dict(p.split("=", 1) for p in self.scope.get("query_string", b"").decode().split("&") if "=" in p)
        request = protocol.OpenRequest(
            lab=self.lab_id, node=self.node, user=self.user.pk, username=self.user.get_username(),
            reply=self.channel_name, session=self.session,
            cols=_int(query.get("cols"), 80), rows=_int(query.get("rows"), 24))
        await self.channel_layer.send(protocol.server_channel(host),
                                      {"type": "terminal.open", "token": request.sign()})
        self.tasks = [asyncio.ensure_future(self._opening(host)), asyncio.ensure_future(self._recheck())]

    async def disconnect(self, code: int) -> None:
        await self._leave("the browser closed the terminal")

    async def _leave(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        if self.session_channel:
            with contextlib.suppress(Exception):
                await self.channel_layer.send(self.session_channel, {"type": "terminal.close", "reason": reason})
        if self.group:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(self.group, self.channel_name)

    async def _fail(self, message: str) -> None:
        await self.send_json({"type": "error", "message": message})
        await self._leave(message)
        await self.close(code=CLOSE_UNAVAILABLE)

    async def _end(self, reason: str, code: int) -> None:
        """Our side ends the session (role lost, lab destroyed): tell the shell's server and the browser."""
        if self.closed:
            return
        await self._leave(reason)
        await self.send_json({"type": "exit", "code": None, "reason": reason})
        await self.close(code=code)

    # ---------------------------------------------------------------- browser -> shell

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            content = json.loads(text_data) if text_data else None
        except ValueError:
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or self.closed:
            return
        kind = content.get("type")
        if kind == "input" and isinstance(content.get("data"), str):
            message = {"type": "terminal.input", "data": content["data"][: protocol.MAX_INPUT]}
        elif kind == "resize":
            message = {"type": "terminal.resize", "cols": _int(content.get("cols"), 80),
                       "rows": _int(content.get("rows"), 24)}
        else:
            return
        if self.session_channel:
            await self.channel_layer.send(self.session_channel, message)
        elif len(self.pending) < MAX_BUFFERED:
            self.pending.append(message)

    # ---------------------------------------------------------------- shell -> browser

    async def terminal_opened(self, message: dict[str, Any]) -> None:
        if message.get("session") != self.session or self.session_channel:
            return
        self.session_channel = str(message["channel"])
        if self.closed:  # the browser left while the session opened
            await self.channel_layer.send(self.session_channel, {"type": "terminal.close", "reason": "closed"})
            return
        for pending in self.pending:
            await self.channel_layer.send(self.session_channel, pending)
        self.pending = []
        self.tasks.append(asyncio.ensure_future(self._keepalive()))

    async def terminal_output(self, message: dict[str, Any]) -> None:
        if not self.closed:
            await self.send_json({"type": "output", "data": message.get("data", "")})

    async def terminal_exit(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        await self._leave("")
        await self.send_json({"type": "exit", "code": message.get("code"), "reason": message.get("reason", "")})
        await self.close(code=1000)

    async def terminal_error(self, message: dict[str, Any]) -> None:
        if not self.closed:
            await self._fail(str(message.get("message", "no terminal")))

    # ---------------------------------------------------------------- the lab's group

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Of the lab's events only the end of a destroy matters here; skip the others cheaply."""
        if message.get("type") == events.MESSAGE_TYPE:
            text = message.get("text")
            if isinstance(text, str) and '"job.finished"' in text and '"destroy"' in text:
                event = json.loads(text)
                if event.get("kind") == "destroy":
                    await self._end("the lab was destroyed", 1000)
            return
        await super().dispatch(message)

    async def lab_access(self, message: dict[str, Any]) -> None:
        await self._check_role()

    async def _check_role(self) -> None:
        try:
            role = await _role(self.user, self.lab_id)
        except Exception:  # noqa: BLE001 - a failed check is not a lost role
            log.warning("role check of terminal on lab %s failed", self.lab_id, exc_info=True)
            return
        if not _operator(role):
            await self._end("you no longer have the operator role on this lab", CLOSE_FORBIDDEN)

    async def _recheck(self) -> None:
        while not self.closed:
            await asyncio.sleep(ROLE_RECHECK)
            await self._check_role()

    async def _keepalive(self) -> None:
        while not self.closed and self.session_channel:
            await asyncio.sleep(KEEPALIVE)
            with contextlib.suppress(Exception):
                await self.channel_layer.send(self.session_channel, {"type": "terminal.keepalive"})

    async def _opening(self, host: str) -> None:
        await asyncio.sleep(OPEN_TIMEOUT)
        if not self.session_channel and not self.closed:
            await self._fail(f"the worker of host {host} did not answer: is it running?")


def _int(value: Any, default: int) -> int:
    try:
        return max(1, min(int(value), 1000))
    except (TypeError, ValueError):
        return default
