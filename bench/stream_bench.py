#!/usr/bin/env python
"""Stream latency: from the worker reading a ping reply to a websocket client receiving its event.

Starts its own stack (daphne + `manage.py worker`, as the tests do) on a throwaway SQLite database and
the Redis of REDIS_URL, applies the tutorial's bridge lab (red, blue on v-net-0) and measures:

- ping.reply latency = time the client received the event - the event's "ts" (set by the worker the
  moment it read the reply), with 1 and with 50 clients watching the lab; p50, p99, max;
- first progress = time from sending POST /api/labs/{id}/apply to the first job.progress event.

usage (root, from the project directory):
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/stream_bench.py [--pings 5] [--clients 1,50]
Prints a table and writes the figures as JSON to bench/stream_results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import django_on_throwaway_db, stack_cleanup  # noqa: E402

sys.path.insert(0, str(BASE))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50_ms": percentile(values, 50) * 1000, "p99_ms": percentile(values, 99) * 1000,
            "max_ms": max(values) * 1000 if values else float("nan"),
            "mean_ms": statistics.fmean(values) * 1000 if values else float("nan")}


def setup_database(db_path: str, watchers: int) -> tuple[str, int, list[str]]:
    """Migrate a fresh SQLite file and create the owner, the lab and `watchers` viewers (each watcher is
    its own user, so role re-checks cost what they would with real people); returns the owner's token,
    the lab id and the viewers' tokens."""
    django_on_throwaway_db(db_path)
    from django.contrib.auth import get_user_model

    from topology.models import ApiToken, Lab, LabMembership, TopologyVersion

    user = get_user_model().objects.create_user(username="bench", password="bench-Passw0rd!")
    token = ApiToken.objects.create(user=user).key or ""  # the plain key exists on the new instance only
    document = json.loads((BASE / "topology" / "examples" / "seed-2-bridge.json").read_text())
    lab = Lab.objects.create(name="bench", slug="bench", owner=user, version=1)
    TopologyVersion.objects.create(lab=lab, number=1, document=document, author=user)
    viewers = []
    for i in range(watchers):
        viewer = get_user_model().objects.create_user(username=f"viewer{i}", password="bench-Passw0rd!")
        LabMembership.objects.create(lab=lab, user=viewer, role="viewer")
        viewers.append(ApiToken.objects.create(user=viewer).key or "")
    return token, lab.pk, viewers


FANOUT: dict[int, dict[str, Any]] = {}


class Client:
    """One websocket watcher recording (receive time, event) for every event."""

    def __init__(self, url: str, origin: str) -> None:
        self.url, self.origin = url, origin
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.conn: Any = None
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.typing import Origin

        self.conn = await connect(self.url, origin=Origin(self.origin), max_queue=None)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for raw in self.conn:
            self.events.append((time.time(), json.loads(raw)))

    async def close(self) -> None:
        await self.conn.close()
        if self.task:
            await asyncio.gather(self.task, return_exceptions=True)

    async def wait_for(self, predicate: Any, timeout: float = 120.0) -> tuple[float, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for item in self.events[seen:]:
                if predicate(item[1]):
                    return item
            seen = len(self.events)
            await asyncio.sleep(0.002)
        raise TimeoutError("event did not come")


async def post(stack: Any, path: str, token: str, body: Any = None) -> dict[str, Any]:
    from tests.stack import api

    status, answer = await asyncio.to_thread(api, stack, "POST", path, body, token=token)
    if status >= 300:
        raise RuntimeError(f"POST {path}: {status} {answer}")
    return answer  # type: ignore[no-any-return]


async def first_progress(stack: Any, token: str, lab_id: int, rounds: int) -> list[float]:
    client = Client(f"{stack.ws_url}/ws/labs/{lab_id}/?token={token}", stack.url)
    await client.open()
    delays = []
    try:
        for _ in range(rounds):
            destroy = await post(stack, f"/api/labs/{lab_id}/destroy", token)
            await client.wait_for(lambda e, j=destroy["job"]: e["type"] == "job.finished" and e["job"] == j)
            start = time.time()
            job = (await post(stack, f"/api/labs/{lab_id}/apply", token))["job"]
            got, _ = await client.wait_for(lambda e, j=job: e["type"] == "job.progress" and e["job"] == j)
            delays.append(got - start)
            _, end = await client.wait_for(lambda e, j=job: e["type"] == "job.finished" and e["job"] == j)
            if end["status"] != "succeeded":
                raise RuntimeError(f"apply failed: {end}")
    finally:
        await client.close()
    return delays


async def ping_latency(stack: Any, token: str, lab_id: int, viewers: list[str], pings: int,
                       count: int) -> list[float]:
    watchers = [Client(f"{stack.ws_url}/ws/labs/{lab_id}/?token={v}", stack.url) for v in viewers]
    for w in watchers:
        await w.open()
    latencies: list[float] = []
    try:
        await asyncio.sleep(0.5)
        for _ in range(pings):
            job = (await post(stack, f"/api/labs/{lab_id}/ping", token,
                              {"source": "red", "target": "blue", "count": count}))["job"]
            for w in watchers:
                await w.wait_for(lambda e, j=job: e["type"] == "job.finished" and e["job"] == j)
        per_event: dict[tuple[int, int], list[float]] = {}
        for w in watchers:
            for got, e in w.events:
                if e["type"] == "ping.reply":
                    latencies.append(got - e["ts"])
                    per_event.setdefault((e["job"], e["seq"]), []).append(got - e["ts"])
        # Where the time goes: the first watcher of an event vs the last (fan-out) per event.
        firsts = [min(v) for v in per_event.values()]
        spreads = [max(v) - min(v) for v in per_event.values()]
        FANOUT[len(watchers)] = {"first_watcher": summary(firsts), "fan_out_spread": summary(spreads)}
    finally:
        for w in watchers:
            await w.close()
    return latencies


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    from tests.stack import Stack

    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    tmp = Path(tempfile.mkdtemp(prefix="nd-stream-bench-"))
    token, lab_id, viewers = await asyncio.to_thread(setup_database, str(tmp / "bench.sqlite3"), max(args.clients))
    stack = Stack(db_path=str(tmp / "bench.sqlite3"), redis_url=redis_url, logdir=tmp)
    from django.conf import settings

    settings.WORKER_HOST = stack.worker_host
    results: dict[str, Any] = {"redis": redis_url, "pings_per_run": args.pings, "count_per_ping": args.count,
                               "load_before": os.getloadavg()}
    try:
        await asyncio.to_thread(stack.start)
        results["first_progress"] = summary(await first_progress(stack, token, lab_id, args.rounds))
        for n in args.clients:
            results[f"ping_reply_{n}_clients"] = summary(
                await ping_latency(stack, token, lab_id, viewers[:n], args.pings, args.count))
        results["load_after"] = os.getloadavg()
        results["breakdown"] = FANOUT
        await post(stack, f"/api/labs/{lab_id}/destroy", token)
        await asyncio.sleep(2)
    except Exception:
        print(stack.logs(), file=sys.stderr)
        raise
    finally:
        await asyncio.to_thread(stack_cleanup, stack)
    return results




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="1,50", help="comma-separated watcher counts")
    parser.add_argument("--pings", type=int, default=5, help="ping jobs per watcher count")
    parser.add_argument("--count", type=int, default=20, help="echo requests per ping job (0.2 s apart)")
    parser.add_argument("--rounds", type=int, default=5, help="destroy+apply rounds for first progress")
    args = parser.parse_args()
    args.clients = [int(x) for x in args.clients.split(",")]
    if os.geteuid() != 0:
        sys.exit("run as root: the worker builds network namespaces")
    results = asyncio.run(main_async(args))
    (BASE / "bench" / "stream_results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'measure':<34}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    rows = [(k, v) for k, v in results.items() if isinstance(v, dict) and "n" in v]
    rows += [(f"  {n} clients: {part}", v) for n, parts in FANOUT.items() for part, v in parts.items()]
    for key, value in rows:
        print(f"{key:<34}{value['n']:>6}{value['p50_ms']:>10.1f}{value['p99_ms']:>10.1f}{value['max_ms']:>10.1f}")
    print(f"load average before {results['load_before']}, after {results.get('load_after')}")


if __name__ == "__main__":
    main()
