"""The lab's live stream: /ws/labs/<id>/ relays the events the worker publishes to the lab's group.

A pipe, not a place for logic: check who connects, join the group, relay events as they come, keep
presence in Redis. ORM calls stay in small `database_sync_to_async` helpers.

Roles are re-checked every ROLE_RECHECK seconds, and at once on a "lab.access" message (sent when a
member is removed or changed), so a removed member stops receiving within that time and is closed.
The re-check is one task per lab per web process for all its sockets (`LabWatchers`), in one
database call: per socket it would open a database connection per socket every two seconds, which
with 50 watchers cost more CPU than relaying their events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from . import events, watch
from .ws_guard import CLOSE_TOO_MANY, socket_claim, socket_refresh, socket_release

log = logging.getLogger(__name__)

CLOSE_ANONYMOUS = 4401
CLOSE_FORBIDDEN = 4403
ROLE_RECHECK = 2.0  # seconds a role check is trusted
ANNOUNCE_DELAY = 0.25  # presence changes within this long are announced to the group as one message

_clients: dict[int, aioredis.Redis] = {}


def _redis() -> aioredis.Redis:
    """One async Redis client per event loop (daphne has one; tests may have several)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None:
        client = _clients[id(loop)] = aioredis.Redis.from_url(settings.REDIS_URL)
    return client


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@database_sync_to_async  # type: ignore[untyped-decorator]
def role_on_lab(user: Any, lab_id: int) -> str | None:
    """The user's role on the lab, None when they have none or the lab does not exist."""
    return roles_on_lab([user], lab_id).get(user.pk)


def roles_on_lab(users: list[Any], lab_id: int) -> dict[Any, str | None]:
    """Each user's role on the lab (by user pk), with their flags read fresh (deactivated, unstaffed)."""
    from django.contrib.auth import get_user_model

    from .models import Lab
    from .services.permissions import lab_role_for

    lab = Lab.objects.filter(pk=lab_id).first()
    if lab is None:
        return {u.pk: None for u in users}
    flags = {
        row["pk"]: row
        for row in get_user_model().objects.filter(pk__in=[u.pk for u in users]).values(
            "pk", "is_active", "is_staff", "is_superuser"
        )
    }
    roles: dict[Any, str | None] = {}
    for user in users:
        row = flags.get(user.pk)
        if row is None or not row["is_active"]:
            roles[user.pk] = None
            continue
        user.is_staff, user.is_superuser = row["is_staff"], row["is_superuser"]
        roles[user.pk] = lab_role_for(user=user, lab=lab)
    return roles


class LabWatchers:
    """The sockets of one lab in this process, and the one task that re-checks their users' roles."""

    registry: dict[tuple[int, int], LabWatchers] = {}

    def __init__(self, lab_id: int) -> None:
        self.lab_id = lab_id
        self.sockets: set[LabConsumer] = set()
        self.lock = asyncio.Lock()
        self.pending = False
        self.task: asyncio.Task[None] | None = None
        self.announce_task: asyncio.Task[None] | None = None
        self.announced: list[str] | None = None

    @classmethod
    def of(cls, lab_id: int) -> LabWatchers:
        key = (id(asyncio.get_running_loop()), lab_id)
        if key not in cls.registry:
            cls.registry[key] = cls(lab_id)
        return cls.registry[key]

    def add(self, sock: LabConsumer) -> None:
        self.sockets.add(sock)
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._loop())

    def remove(self, sock: LabConsumer) -> None:
        self.sockets.discard(sock)

    def announce_soon(self) -> None:
        """Presence to the group once per change of the user list, coalesced over ANNOUNCE_DELAY: N
        sockets joining cost O(N) messages (each new socket also gets the list itself), not N^2."""
        if self.announce_task is None or self.announce_task.done():
            self.announce_task = asyncio.ensure_future(self._announce_later())

    async def _announce_later(self) -> None:
        from channels.layers import get_channel_layer

        await asyncio.sleep(ANNOUNCE_DELAY)
        with contextlib.suppress(Exception):
            users = await presence_users(self.lab_id)
            if users != self.announced:
                self.announced = users
                event = {"type": "presence", "users": users, "ts": time.time()}
                await get_channel_layer().group_send(events.group_name(self.lab_id), events.message(event))

    async def _loop(self) -> None:
        while self.sockets:
            await asyncio.sleep(ROLE_RECHECK)
            await self.check()
        self.registry.pop((id(asyncio.get_running_loop()), self.lab_id), None)

    async def check(self) -> None:
        """Re-check every watcher's role now; concurrent callers share one check."""
        if self.pending:
            return
        self.pending = True
        async with self.lock:
            self.pending = False
            sockets = list(self.sockets)
            if not sockets:
                return
            users = list({s.user.pk: s.user for s in sockets}.values())
            try:
                roles = await database_sync_to_async(roles_on_lab)(users, self.lab_id)
            except Exception:  # noqa: BLE001 - a failed check is not a lost role; retry next round
                log.warning("role check of lab %s failed", self.lab_id, exc_info=True)
                return
            now = time.monotonic()
            for sock in sockets:
                if roles.get(sock.user.pk):
                    sock.checked = now
                else:
                    await sock.revoke()


async def presence_users(lab_id: int) -> list[str]:
    client = _redis()
    now = time.time()
    key = watch.presence_key(lab_id)
    await client.zremrangebyscore(key, "-inf", now - watch.PRESENCE_TTL)
    members = await client.zrangebyscore(key, now - watch.PRESENCE_TTL, "+inf")
    return sorted({_text(m).split("\t", 1)[-1] for m in members})


class LabConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    lab_id: int
    group: str
    member: str
    checked: float

    async def connect(self) -> None:
        self.group = ""
        self.presence_task: asyncio.Task[None] | None = None
        self.lab_id = int(self.scope["url_route"]["kwargs"]["lab_id"])
        self.user = self.scope.get("user")
        # A refused socket is accepted and closed at once with a code: a browser cannot read a refused
        # handshake's status, but it can read a close code (4401: log in; 4403: no access). Nothing is
        # sent before the close.
        if self.user is None or not self.user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_ANONYMOUS)
            return
        if not await role_on_lab(self.user, self.lab_id):
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.member = f"{self.channel_name}\t{self.user.get_username()}"
        if not await socket_claim(_redis(), self.user.pk, self.member, watch.PRESENCE_TTL):
            await self.accept()
            await self.close(code=CLOSE_TOO_MANY)  # 4429: this user has WS_PER_USER_MAX sockets open
            return
        self.claimed = True
        self.checked = time.monotonic()
        self.group = events.group_name(self.lab_id)
        # Join before accepting: once the client sees the socket open, it misses no event.
        await self.channel_layer.group_add(self.group, self.channel_name)
        LabWatchers.of(self.lab_id).add(self)
        await self.accept()
        await self._present()
        await self.send_json({"type": "presence", "users": await presence_users(self.lab_id), "ts": time.time()})
        LabWatchers.of(self.lab_id).announce_soon()
        self.presence_task = asyncio.ensure_future(self._presence_loop())

    async def disconnect(self, code: int) -> None:
        if self.presence_task is not None and self.presence_task is not asyncio.current_task():
            self.presence_task.cancel()
        if getattr(self, "claimed", False):
            self.claimed = False
            with contextlib.suppress(Exception):
                await socket_release(_redis(), self.user.pk, self.member)
        if not self.group:
            return
        group, self.group = self.group, ""
        watchers = LabWatchers.of(self.lab_id)
        watchers.remove(self)
        await self.channel_layer.group_discard(group, self.channel_name)
        with contextlib.suppress(Exception):
            await _redis().zrem(watch.presence_key(self.lab_id), self.member)
        watchers.announce_soon()

    async def revoke(self) -> None:
        """The user lost their role on the lab: leave the group and close."""
        if self.group:
            await self.disconnect(CLOSE_FORBIDDEN)
            await self.close(code=CLOSE_FORBIDDEN)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Client messages are optional ({"type": "ping"}); anything unreadable is ignored, not fatal."""
        try:
            content = json.loads(text_data) if text_data else None
        except ValueError:
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self._present()
            await self.send_json({"type": "pong", "ts": time.time()})

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Relayed events skip channels' per-message `aclose_old_connections` (a thread hop each): the
        relay touches no database, and profiling showed that hop was half the web server's CPU."""
        if message.get("type") == events.MESSAGE_TYPE:
            await self.lab_event(message)
        else:
            await super().dispatch(message)

    async def lab_event(self, message: dict[str, Any]) -> None:
        """Relay a published event as-is (pre-encoded once by the publisher, not once per socket)."""
        if not self.group:
            return
        if time.monotonic() - self.checked > 3 * ROLE_RECHECK:  # the periodic check is stuck: check now
            await LabWatchers.of(self.lab_id).check()
            if not self.group:
                return
        text = message.get("text")
        await self.send(text_data=text if isinstance(text, str) else json.dumps(message["event"]))

    async def lab_access(self, message: dict[str, Any]) -> None:
        await LabWatchers.of(self.lab_id).check()

    async def _presence_loop(self) -> None:
        while self.group:
            await asyncio.sleep(watch.HEARTBEAT)
            with contextlib.suppress(Exception):
                await self._present()

    async def _present(self) -> None:
        if not self.group:
            return
        now = time.time()
        async with _redis().pipeline(transaction=False) as pipe:
            pipe.zadd(watch.presence_key(self.lab_id), {self.member: now})
            pipe.expire(watch.presence_key(self.lab_id), int(watch.PRESENCE_TTL * 2))
            pipe.zadd(watch.WATCHED, {str(self.lab_id): now})
            await pipe.execute()
        await socket_refresh(_redis(), self.user.pk, self.member, watch.PRESENCE_TTL)
