"""The lab's live stream: /ws/labs/<id>/ relays the events the worker publishes to the lab's group.

A pipe, not a place for logic: check who connects, join the group, relay events as they come, keep
presence in Redis. ORM calls stay in small `database_sync_to_async` helpers. The user's role is
re-checked in the background every ROLE_RECHECK seconds (and at once on a "lab.access" message), so
a member removed from the lab stops receiving events within that time and the socket is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from typing import Any

import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from . import events, watch

log = logging.getLogger(__name__)

CLOSE_ANONYMOUS = 4401
CLOSE_FORBIDDEN = 4403
ROLE_RECHECK = 2.0  # seconds a role check is trusted

_clients: dict[int, aioredis.Redis] = {}


def _redis() -> aioredis.Redis:
    """One async Redis client per event loop (daphne has one; tests may have several)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None:
        client = _clients[id(loop)] = aioredis.Redis.from_url(settings.REDIS_URL)
    return client


@database_sync_to_async  # type: ignore[untyped-decorator]
def role_on_lab(user: Any, lab_id: int) -> str | None:
    """The user's role on the lab, None when they have none or the lab does not exist."""
    from .models import Lab
    from .services.permissions import lab_role_for

    lab = Lab.objects.filter(pk=lab_id).first()
    if lab is None:
        return None
    user.refresh_from_db(fields=["is_active", "is_staff", "is_superuser"])
    return lab_role_for(user=user, lab=lab)


async def presence_users(lab_id: int) -> list[str]:
    client = _redis()
    now = time.time()
    key = watch.presence_key(lab_id)
    await client.zremrangebyscore(key, "-inf", now - watch.PRESENCE_TTL)
    members = await client.zrangebyscore(key, now - watch.PRESENCE_TTL, "+inf")
    return sorted({_text(m).split("\t", 1)[-1] for m in members})


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class LabConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    lab_id: int
    group: str
    member: str
    _tasks: list[asyncio.Task[None]]

    async def connect(self) -> None:
        self._tasks = []
        self.group = ""
        self.lab_id = int(self.scope["url_route"]["kwargs"]["lab_id"])
        self.user = self.scope.get("user")
        # Accept, then close with a code: a browser cannot read a refused handshake's status, but it
        # can read a close code (4401: log in; 4403: no access). Nothing is sent before the close.
        await self.accept()
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=CLOSE_ANONYMOUS)
            return
        if not await role_on_lab(self.user, self.lab_id):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self._checked = time.monotonic()
        self.group = events.group_name(self.lab_id)
        self.member = f"{self.channel_name}\t{self.user.get_username()}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self._present()
        await self._announce()
        self._tasks = [asyncio.ensure_future(self._recheck_loop()), asyncio.ensure_future(self._presence_loop())]

    async def disconnect(self, code: int) -> None:
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        if not self.group:
            return
        group, self.group = self.group, ""
        await self.channel_layer.group_discard(group, self.channel_name)
        with contextlib.suppress(Exception):
            await _redis().zrem(watch.presence_key(self.lab_id), self.member)
            await self._announce()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self._present()
            await self.send_json({"type": "pong", "ts": time.time()})

    async def lab_event(self, message: dict[str, Any]) -> None:
        """Relay a published event as-is, unless the role check is overdue (a stalled database) and fails."""
        if not self.group:
            return
        if time.monotonic() - self._checked > 3 * ROLE_RECHECK and not await self._still_allowed():
            return
        await self.send_json(message["event"])

    async def lab_access(self, message: dict[str, Any]) -> None:
        await self._still_allowed()

    async def _still_allowed(self) -> bool:
        try:
            allowed = bool(await role_on_lab(self.user, self.lab_id))
        except Exception:  # noqa: BLE001 - a failed check is not a lost role; retry on the next round
            log.warning("role check failed", exc_info=True)
            return True
        if allowed:
            self._checked = time.monotonic()
            return True
        await self.disconnect(CLOSE_FORBIDDEN)
        await self.close(code=CLOSE_FORBIDDEN)
        return False

    async def _recheck_loop(self) -> None:
        while self.group:
            await asyncio.sleep(ROLE_RECHECK * random.uniform(0.8, 1.0))  # noqa: S311 - jitter, not crypto
            if not await self._still_allowed():
                return

    async def _presence_loop(self) -> None:
        while self.group:
            await asyncio.sleep(watch.HEARTBEAT)
            with contextlib.suppress(Exception):
                await self._present()

    async def _present(self) -> None:
        if not self.group:
            return
        now = time.time()
        client = _redis()
        await client.zadd(watch.presence_key(self.lab_id), {self.member: now})
        await client.expire(watch.presence_key(self.lab_id), int(watch.PRESENCE_TTL * 2))
        await client.zadd(watch.WATCHED, {str(self.lab_id): now})

    async def _announce(self) -> None:
        users = await presence_users(self.lab_id)
        await self.channel_layer.group_send(
            events.group_name(self.lab_id),
            {"type": events.MESSAGE_TYPE, "event": {"type": "presence", "users": users, "ts": time.time()}},
        )
