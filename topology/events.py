"""Publishing typed events to a lab's websocket group (owned by the worker/stream work)."""

from __future__ import annotations

from typing import Any


def group_name(lab_id: int) -> str:
    return f"lab.{lab_id}"


def publish(lab_id: int, event: dict[str, Any]) -> None:
    """Send `event` (a dict with "type", see shared/spec/interfaces.md) to everyone watching the lab."""
    raise NotImplementedError
