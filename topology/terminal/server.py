"""The terminal server: one thread in the root worker's main process that runs sandboxed shells.

It listens on its host's channel (protocol.server_channel) for signed open requests, re-checks the user's
role in the database, enforces the per-user session limit (a sorted set per user in Redis, scored by each
session's heartbeat, so sessions of a crashed worker age out), spawns the shell through the Kernel
(engine/terminal.py, engine/sandbox.py), relays the pty's output to the consumer's reply channel and
takes input and resizes from a channel of the session's own. A session ends when the shell exits, the
consumer says so, nothing is typed for the idle timeout, the consumer stops sending keepalives, or the
node's namespace goes away (the lab was destroyed). Every session's opening and end is audited.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import os
import threading
import time
import uuid
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections

from ..engine import nsutil
from ..engine.terminal import Terminal, TerminalRefused
from . import protocol

log = logging.getLogger(__name__)

WATCH_EVERY = 1.0  # seconds between two looks at a session (exit, idle, liveness, namespace)
HEARTBEAT = 10.0  # seconds between refreshes of a session in its user's set
READ_SIZE = 65536
BACKLOG = 64  # output chunks waiting for the layer before the pty is no longer read (back-pressure)


def sessions_key(user_pk: int) -> str:
    return f"nd:terminal:user:{user_pk}"


def nonce_key(session: str) -> str:
    return f"nd:terminal:nonce:{session}"


class Refusal(Exception):
    """The request is genuine but cannot be served; the message tells the user what to do."""


def authorize(request: protocol.OpenRequest, host: str) -> tuple[Any, Any, str, Any]:
    """(lab, user, tag, topology) for a genuine request, or Refusal. Runs in a thread (database)."""
    from django.contrib.auth import get_user_model

    from ..choices import DeploymentState, Role
    from ..engine import api as engine
    from ..models import Deployment, Lab
    from ..services.permissions import lab_role_for

    close_old_connections()
    lab = Lab.objects.filter(pk=request.lab).first()
    user = get_user_model().objects.filter(pk=request.user, is_active=True).first()
    if lab is None or user is None:
        raise Refusal("no such lab")
    if Role.rank(lab_role_for(user=user, lab=lab)) < Role.rank(Role.OPERATOR):
        raise Refusal("a terminal needs the operator role on this lab")
    deployment = Deployment.objects.filter(lab=lab).select_related("version").first()
    if deployment is None or deployment.state != DeploymentState.DEPLOYED or deployment.version is None:
        raise Refusal("the lab is not deployed: apply it first")
    if deployment.worker_host != host:
        raise Refusal(f"the lab is deployed on {deployment.worker_host}, not on {host}")
    topology = engine.parse(deployment.version.document, max_nodes=settings.NETDESIGNER_MAX_NODES,
                            max_links=settings.NETDESIGNER_MAX_LINKS)
    if not topology.has_node(request.node):
        raise Refusal(f"no node named {request.node} in the applied version")
    return lab, user, deployment.tag, topology


def claim(request: protocol.OpenRequest, limit: int) -> None:
    """Refuse a replayed request, and a user over their session limit; else count this session."""
    from ..locks import redis_client

    client = redis_client()
    if not client.set(nonce_key(request.session), 1, nx=True, ex=protocol.OPEN_MAX_AGE * 2):
        raise protocol.BadRequest("replayed")
    key, now = sessions_key(request.user), time.time()
    client.zremrangebyscore(key, "-inf", now - 3 * HEARTBEAT)
    client.zadd(key, {request.session: now})
    client.expire(key, int(6 * HEARTBEAT))
    if client.zcard(key) > limit:  # added first, then counted: two racing opens can never both pass
        client.zrem(key, request.session)
        raise Refusal(f"you already have {limit} terminals open, the most allowed: close one first")


def release(request: protocol.OpenRequest) -> None:
    from ..locks import redis_client

    redis_client().zrem(sessions_key(request.user), request.session)


def heartbeat(request: protocol.OpenRequest) -> None:
    from ..locks import redis_client

    client = redis_client()
    client.zadd(sessions_key(request.user), {request.session: time.time()}, xx=True)
    client.expire(sessions_key(request.user), int(6 * HEARTBEAT))


def audit(lab: Any, user: Any, action: str, detail: dict[str, Any]) -> None:
    from ..services.audit import audit_record

    close_old_connections()
    audit_record(lab=lab, user=user, action=action, detail=detail)


class Session:
    """One running shell and its relay."""

    def __init__(self, server: TerminalServer, request: protocol.OpenRequest, term: Terminal, channel: str,
                 lab: Any, user: Any) -> None:
        self.server, self.request, self.term, self.channel = server, request, term, channel
        self.lab, self.user = lab, user
        self.layer = server.layer
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.output: asyncio.Queue[str | None] = asyncio.Queue()
        self.reading = False
        self.reason = ""
        self.done = asyncio.Event()
        now = time.monotonic()
        self.last_input = self.last_heard = self.started = now
        self.netns_id = self._netns_id()

    def _netns_id(self) -> tuple[int, int] | None:
        try:
            st = os.stat(nsutil.path(self.term.netns))
        except OSError:
            return None
        return st.st_dev, st.st_ino

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._read_on(loop)
        tasks = [asyncio.ensure_future(self._send_output()), asyncio.ensure_future(self._take_input()),
                 asyncio.ensure_future(self._watch())]
        try:
            await self.done.wait()
        finally:
            self._read_off(loop)
            self.term.kill()
            await self.output.put(None)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(tasks[0]), 5)
            for task in tasks:
                task.cancel()
            code = self.term.exit_code()
            await self.layer.send(self.request.reply, {"type": "terminal.exit", "code": code,
                                                       "reason": self.reason})
            await sync_to_async(release, thread_sensitive=False)(self.request)
            await sync_to_async(audit, thread_sensitive=False)(self.lab, self.user, "terminal.close", {
                "node": self.request.node, "session": self.request.session, "code": code,
                "reason": self.reason, "seconds": round(time.monotonic() - self.started, 1)})

    def end(self, reason: str) -> None:
        if not self.done.is_set():
            self.reason = reason
            self.done.set()

    def _read_on(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self.reading and not self.done.is_set():
            loop.add_reader(self.term.master, self._readable)
            self.reading = True

    def _read_off(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.reading:
            loop.remove_reader(self.term.master)
            self.reading = False

    def _readable(self) -> None:
        try:
            data = os.read(self.term.master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: every process holding the pty's other side is gone
            data = b""
        if not data:
            self._read_off(asyncio.get_running_loop())
            self.end("the shell exited")
            return
        self.output.put_nowait(self.decoder.decode(data))
        if self.output.qsize() > BACKLOG:
            self._read_off(asyncio.get_running_loop())

    async def _send_output(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            chunk = await self.output.get()
            if chunk is None:
                return
            parts = [chunk]
            while not self.output.empty():
                more = self.output.get_nowait()
                if more is None:
                    await self.output.put(None)
                    break
                parts.append(more)
            await self.layer.send(self.request.reply, {"type": "terminal.output", "data": "".join(parts)})
            if not self.reading and not self.done.is_set():
                self._read_on(loop)

    async def _take_input(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            self.last_heard = time.monotonic()
            kind = message.get("type")
            if kind == "terminal.input" and isinstance(message.get("data"), str):
                self.last_input = self.last_heard
                data = message["data"][: protocol.MAX_INPUT].encode()
                await asyncio.get_running_loop().run_in_executor(None, self.term.write, data)
            elif kind == "terminal.resize":
                with contextlib.suppress(TypeError, ValueError, OSError):
                    self.term.resize(int(message.get("cols", 80)), int(message.get("rows", 24)))
            elif kind == "terminal.close":
                reason = message.get("reason")
                self.end(reason if isinstance(reason, str) and reason else "closed")

    async def _watch(self) -> None:
        beat = time.monotonic()
        while not self.done.is_set():
            await asyncio.sleep(WATCH_EVERY)
            now = time.monotonic()
            if self.term.exit_code() is not None:
                await asyncio.sleep(0.2)  # let the last output drain before ending
                self.end("the shell exited")
            elif now - self.last_input > self.server.idle:
                self.end(f"idle for {self.server.idle:g} s: closed")
            elif now - self.last_heard > self.server.liveness:
                self.end("the browser went away")
            elif self._netns_id() != self.netns_id:
                self.end("the lab was destroyed")
            elif now - beat > HEARTBEAT:
                beat = now
                with contextlib.suppress(Exception):
                    await sync_to_async(heartbeat, thread_sensitive=False)(self.request)


class TerminalServer(threading.Thread):
    """The worker host's terminal server (one per worker process, started on worker_ready)."""

    def __init__(self, host: str | None = None, *, idle: float | None = None, per_user: int | None = None,
                 liveness: float | None = None, kernel: Any = None) -> None:
        super().__init__(name="nd-terminal-server", daemon=True)
        self.host = host or settings.WORKER_HOST
        self.idle = protocol.idle_timeout() if idle is None else idle
        self.per_user = protocol.sessions_per_user() if per_user is None else per_user
        self.liveness = protocol.liveness_timeout() if liveness is None else liveness
        self._kernel = kernel
        self.layer: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ready = threading.Event()
        self.sessions: dict[str, Session] = {}
        self._main: asyncio.Task[None] | None = None

    @property
    def kernel(self) -> Any:
        if self._kernel is None:
            from ..kernel import default_kernel

            self._kernel = default_kernel()
        return self._kernel

    def run(self) -> None:
        asyncio.run(self._serve())

    def stop(self, timeout: float = 10.0) -> None:
        """End every session (each is audited) and the server."""
        loop = self.loop
        if loop is not None and self._main is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._main.cancel)
        self.join(timeout)

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._main = asyncio.current_task()
        self.layer = get_channel_layer()
        channel = protocol.server_channel(self.host)
        running: set[asyncio.Task[None]] = set()
        try:
            proxy = getattr(self.layer, "_get_layer", None)  # the pub/sub layer subscribes lazily:
            if proxy is not None:  # subscribe now, so that an open sent once we are ready is heard
                await proxy()._subscribe_to_channel(channel)
            self.ready.set()
            while True:
                message = await self.layer.receive(channel)
                if message.get("type") == "terminal.open":
                    task = asyncio.ensure_future(self._open(message.get("token")))
                    running.add(task)
                    task.add_done_callback(running.discard)
        except asyncio.CancelledError:
            pass
        finally:
            self.ready.set()
            for session in list(self.sessions.values()):
                session.end("the worker stopped")
            if running:
                await asyncio.wait(running, timeout=10)

    async def _open(self, token: Any) -> None:
        try:
            request = protocol.verify(token)
        except protocol.BadRequest as exc:
            log.warning("terminal open request refused: %s", exc)
            return
        try:
            await self._start(request)
        except protocol.BadRequest as exc:
            log.warning("terminal open request refused: %s", exc)
        except (Refusal, TerminalRefused) as exc:
            await self.layer.send(request.reply, {"type": "terminal.error", "message": str(exc)})
        except Exception:  # noqa: BLE001 - tell the user; the server keeps serving others
            log.exception("terminal session of %s on lab %s failed", request.username, request.lab)
            await self.layer.send(request.reply, {"type": "terminal.error",
                                                  "message": "the terminal failed on the worker (see its log)"})

    async def _start(self, request: protocol.OpenRequest) -> None:
        lab, user, tag, topology = await sync_to_async(authorize, thread_sensitive=False)(request, self.host)
        await sync_to_async(claim, thread_sensitive=False)(request, self.per_user)
        try:
            term = await asyncio.get_running_loop().run_in_executor(
                None, lambda: self.kernel.terminal(topology, tag, request.node, cols=request.cols,
                                                   rows=request.rows))
        except BaseException:
            await sync_to_async(release, thread_sensitive=False)(request)
            raise
        channel = await self.layer.new_channel(prefix="nd-terminal-session.")
        session = Session(self, request, term, channel, lab, user)
        self.sessions[request.session] = session
        try:
            await sync_to_async(audit, thread_sensitive=False)(lab, user, "terminal.open", {
                "node": request.node, "session": request.session, "host": self.host})
            await self.layer.send(request.reply, {"type": "terminal.opened", "session": request.session,
                                                  "channel": channel})
            await session.run()
        finally:
            self.sessions.pop(request.session, None)


def new_session_id() -> str:
    return uuid.uuid4().hex
