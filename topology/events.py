"""Publishing typed events to a lab's websocket group (see shared/spec/interfaces.md).

Why a private event loop: `async_to_sync(group_send)` from a plain thread builds a new loop per call,
and channels-redis keeps its connection pool per loop, so every event would open a new Redis
connection. One long-lived loop per process (recreated after a fork, as Celery's prefork children
are forked) keeps the pool warm; any thread may publish, `run_coroutine_threadsafe` serialises them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from typing import Any

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

# Consumers handle group messages of this type ("lab.event" -> `lab_event`) and relay the event as-is
# ("text": its JSON; or "event": the dict, for callers that group_send directly).
MESSAGE_TYPE = "lab.event"
# Tells consumers of a lab to re-check their user's role now (a membership was removed or changed).
ACCESS_MESSAGE_TYPE = "lab.access"
PUBLISH_TIMEOUT = 5.0

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0


def group_name(lab_id: int) -> str:
    return f"lab.{lab_id}"


def _event_loop() -> asyncio.AbstractEventLoop:
    """The process's publishing loop, started on first use and again in a forked child."""
    global _loop, _loop_pid
    with _lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="nd-events", daemon=True)
            thread.start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def _send(lab_id: int, message: dict[str, Any]) -> None:
    try:
        _send_checked(lab_id, message)
    except Exception:  # an event lost must never fail the job that published it
        log.warning("could not publish to lab %s", lab_id, exc_info=True)


def _send_checked(lab_id: int, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group_name(lab_id), message), _event_loop())
    try:
        future.result(timeout=PUBLISH_TIMEOUT)
    except BaseException:
        future.cancel()
        raise


def message(event: dict[str, Any]) -> dict[str, Any]:
    """The group message carrying `event` as JSON text, encoded once here rather than once per watching
    socket (and only the text: the layer decodes the message once per socket)."""
    return {"type": MESSAGE_TYPE, "text": json.dumps(event, default=str)}


def publish(lab_id: int, event: dict[str, Any]) -> None:
    """Send `event` (a dict with "type") to everyone watching the lab. Adds "ts" (epoch seconds, when
    it was published) unless the caller set it: clients and the stream benchmark measure latency by it."""
    if "ts" not in event:
        event = {**event, "ts": time.time()}
    _send(lab_id, message(event))


def publish_checked(lab_id: int, event: dict[str, Any]) -> None:
    """As `publish`, but raises when the layer fails (for callers that report outages themselves:
    topology.jobs.publisher)."""
    if "ts" not in event:
        event = {**event, "ts": time.time()}
    _send_checked(lab_id, message(event))


def access_changed(lab_id: int) -> None:
    """Ask every socket watching the lab to re-check its user's role at once (call after removing a
    member or lowering a role); otherwise they notice within a couple of seconds."""
    _send(lab_id, {"type": ACCESS_MESSAGE_TYPE})


def publish_safely(lab_id: int, event: dict[str, Any]) -> None:
    """Publish to the lab's websocket group; log, never raise (for changes already committed)."""
    try:
        publish(lab_id, event)
    except Exception:  # noqa: BLE001 - a broken Redis must not break a save or a delete
        log.warning("could not publish %s for lab %s", event.get("type"), lab_id, exc_info=True)
