"""A guard around one failure of kombu 5.7's Redis transport, installed by netdesigner/celery.py.

When Redis goes away (a restart), the worker's consumer closes its channel, and closing restores the
unacknowledged messages to Redis, which is gone: the connection pool has no connection any more and
kombu raises AttributeError ('NoneType' object has no attribute 'hostname'), which Celery treats as
unrecoverable: the worker exits instead of reconnecting. Nothing is lost by not restoring them here:
the Job rows are the truth, and the worker sends every queued job again when Redis is back
(topology/jobs/recovery.py). So the restore is tried, and its failure is logged and swallowed.
"""

from __future__ import annotations

import logging
from typing import Any

from kombu.transport import redis as kombu_redis

log = logging.getLogger(__name__)
_original = kombu_redis.QoS.restore_unacked_once


def _restore_unacked_once(self: Any, stderr: Any = None) -> Any:
    try:
        return _original(self, stderr)
    except (AttributeError, *kombu_redis.Transport.connection_errors) as exc:  # type: ignore[misc]
        log.warning("could not give unacknowledged messages back to Redis (%s); their jobs are sent again "
                    "from the database when Redis is back", exc)
        return None


_original_ack = kombu_redis.QoS.ack
_original_reject = kombu_redis.QoS.reject


def _ack(self: Any, delivery_tag: Any) -> Any:
    """Acknowledging a message of the channel closed by the outage: that channel has no client any
    more (AttributeError 'client'), and the message went with the old Redis anyway."""
    try:
        return _original_ack(self, delivery_tag)
    except AttributeError as exc:
        log.info("message %s of a closed channel not acknowledged (%s)", delivery_tag, exc)
        return None


def _reject(self: Any, delivery_tag: Any, requeue: bool = False) -> Any:
    try:
        return _original_reject(self, delivery_tag, requeue)
    except AttributeError as exc:
        log.info("message %s of a closed channel not rejected (%s)", delivery_tag, exc)
        return None


def install() -> None:
    kombu_redis.QoS.restore_unacked_once = _restore_unacked_once  # type: ignore[method-assign]
    kombu_redis.QoS.ack = _ack  # type: ignore[method-assign]
    kombu_redis.QoS.reject = _reject  # type: ignore[method-assign]
