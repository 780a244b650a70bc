"""Live tables and presence: who watches which lab, and refreshing what they see.

Presence lives in Redis, not in a process: the sockets are in the web server, the kernel is read by
the worker. Each lab has a sorted set of its sockets scored by their last heartbeat, and one sorted set
lists the watched labs, so dead sockets (a killed web server) simply age out.

The worker's `TablesWatcher` thread reads the watched labs every few seconds and, for those deployed on
this host, reads each node's tables and publishes a `tables.snapshot` for the nodes whose tables
changed (a hash per node kept in Redis, shared with the snapshots sent after apply and ping). When no
one watches, a sweep is one Redis call.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from . import events
from .choices import DeploymentState
from .engine import api as engine
from .locks import redis_client

log = logging.getLogger(__name__)

PRESENCE_TTL = 30.0  # seconds a socket counts as watching after its last heartbeat
HEARTBEAT = 10.0  # seconds between a socket's presence refreshes
REFRESH = 3.0  # seconds between two sweeps of the watcher
# Nodes read per sweep (about 7 ms of CPU each): a big lab is refreshed a slice at a time, in turn, so
# watching a 200-node lab costs ~10% of a core instead of half of one.
NODES_PER_SWEEP = 40
WATCHED = "nd:watched"


def presence_key(lab_id: int) -> str:
    return f"nd:presence:{lab_id}"


def tables_key(lab_id: int) -> str:
    return f"nd:tables:{lab_id}"


def tables_data_key(lab_id: int) -> str:
    """node -> {"at": epoch seconds, "tables": {...}}: the last tables read, for GET .../tables."""
    return f"nd:tables:{lab_id}:data"


# Seconds a cached read answers GET .../tables (a watched lab is re-read every few seconds).
CACHE_MAX_AGE = 10.0


def cached_tables(lab_id: int, node: str, *, max_age: float = CACHE_MAX_AGE) -> dict[str, Any] | None:
    """The node's tables as last read by the worker, when read within `max_age` seconds; None when
    there are none that fresh or Redis cannot be reached (the caller reads through a job then)."""
    try:
        raw = redis_client().hget(tables_data_key(lab_id), node)
    except Exception:  # noqa: BLE001 - a cache: a miss, whatever the reason
        return None
    if not raw:
        return None
    entry = json.loads(raw)
    if time.time() - float(entry.get("at", 0)) > max_age:
        return None
    tables = entry.get("tables")
    return tables if isinstance(tables, dict) else None


def table_nodes(topology: Any) -> list[str]:
    """Nodes that have tables of their own: every one but bridges (they live in the host)."""
    return [n.name for n in topology.nodes if n.kind != "bridge"]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _digest(tables: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(tables, sort_keys=True, default=str).encode(), usedforsecurity=False).hexdigest()


def publish_tables(lab_id: int, topology: Any, tag: str, *, force: bool, nodes: list[str] | None = None,
                   read: Callable[[Any, str, str], dict[str, Any]] | None = None) -> int:
    """Read the nodes' tables (all nodes by default; with `read`, a Kernel's `tables`) and publish a
    snapshot for those that changed (all when `force`). A node that cannot be read (half-applied lab)
    is skipped. Returns the number published."""
    read = read or engine.tables
    client = redis_client()
    known = {_text(k): _text(v) for k, v in client.hgetall(tables_key(lab_id)).items()}
    fresh: dict[str, str] = {}
    data: dict[str, str] = {}
    published = 0
    for node in table_nodes(topology) if nodes is None else nodes:
        try:
            tables = dict(read(topology, tag, node))
        except Exception as exc:  # noqa: BLE001 - one unreadable node must not hide the others
            log.debug("tables of %s in lab %s unreadable: %s", node, lab_id, exc)
            continue
        digest = _digest(tables)
        fresh[node] = digest
        data[node] = json.dumps({"at": time.time(), "tables": tables}, default=str)
        if force or known.get(node) != digest:
            events.publish(lab_id, {"type": "tables.snapshot", "node": node, **tables})
            published += 1
    if fresh:
        pipe = client.pipeline(transaction=False)
        pipe.hset(tables_key(lab_id), mapping=fresh)  # type: ignore[arg-type]
        pipe.expire(tables_key(lab_id), 24 * 3600)
        pipe.hset(tables_data_key(lab_id), mapping=data)  # type: ignore[arg-type]
        pipe.expire(tables_data_key(lab_id), 24 * 3600)
        pipe.execute()
    return published


def forget_tables(lab_id: int) -> None:
    redis_client().delete(tables_key(lab_id), tables_data_key(lab_id))


def watched_labs(now: float | None = None) -> list[int]:
    """Labs someone watched within PRESENCE_TTL; forgets the others."""
    now = time.time() if now is None else now
    client = redis_client()
    client.zremrangebyscore(WATCHED, "-inf", now - PRESENCE_TTL)
    return [int(_text(x)) for x in client.zrangebyscore(WATCHED, now - PRESENCE_TTL, "+inf")]


class TablesWatcher(threading.Thread):
    """Refreshes the tables of watched labs deployed on this worker host (one per worker process)."""

    def __init__(self, host: str | None = None, interval: float = REFRESH) -> None:
        super().__init__(name="nd-tables-watcher", daemon=True)
        self.host = host or settings.WORKER_HOST
        self.interval = interval
        self.stopped = threading.Event()
        self._parsed: dict[int, Any] = {}  # TopologyVersion id -> parsed Topology
        self._cursor: dict[int, int] = {}  # lab id -> where the next slice of its nodes starts

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - keep watching; the next sweep may work
                log.warning("tables sweep failed", exc_info=True)
            finally:
                close_old_connections()

    def sweep(self) -> int:
        from .models import Deployment

        labs = watched_labs()
        if not labs:
            return 0
        published = 0
        deployments = list(Deployment.objects.filter(
            lab_id__in=labs, worker_host=self.host, state=DeploymentState.DEPLOYED, version__isnull=False
        ).select_related("version"))
        budget = max(1, NODES_PER_SWEEP // max(1, len(deployments)))
        for deployment in deployments:
            version = deployment.version
            assert version is not None
            topology = self._parsed.get(version.pk)
            if topology is None:
                topology = engine.parse(version.document, max_nodes=settings.NETDESIGNER_MAX_NODES,
                                        max_links=settings.NETDESIGNER_MAX_LINKS)
                self._parsed = {version.pk: topology, **dict(list(self._parsed.items())[:50])}
            nodes = table_nodes(topology)
            if len(nodes) > budget:
                start = self._cursor.get(deployment.lab_id, 0) % len(nodes)
                self._cursor[deployment.lab_id] = start + budget
                nodes = (nodes[start:] + nodes[:start])[:budget]
            published += publish_tables(deployment.lab_id, topology, deployment.tag, force=False, nodes=nodes)
        return published
