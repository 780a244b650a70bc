"""`lab ... --inline` runs the job in its own process; it needs no Redis (the lab lock is a file), only
its watchers do. Say so in one line when Redis is missing, instead of a traceback per event."""

from __future__ import annotations

import redis
from django.conf import settings

from .publisher import default_publisher


def redis_answers(timeout: float = 1.0) -> bool:
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout).ping()
    except (redis.exceptions.RedisError, OSError):
        return False
    return True


def redis_missing() -> str | None:
    """None when Redis answers; else the line to print, and events are dropped quietly from now on."""
    if redis_answers():
        return None
    default_publisher().quiet = True
    return (f"note: no Redis answers at {settings.REDIS_URL}: the job runs here all the same, but nobody "
            "watching the lab sees its progress live (start Redis with scripts/redis-up.sh, or set REDIS_URL)")


def broker_missing() -> str | None:
    """None when the broker answers; else why a job cannot reach the worker, and what to do."""
    if redis_answers():
        return None
    return (f"no Redis answers at {settings.REDIS_URL}, so the worker cannot get the job: start Redis "
            "(scripts/redis-up.sh, or `make run`), or run the job here with --inline")
