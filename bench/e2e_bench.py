#!/usr/bin/env python
"""What the user waits for: a star lab saved through the API, applied by the real worker, timed from
`POST /apply` to the `job.finished` event on the lab's websocket, side by side in the same run with
the hand-tuned iproute2 script (shared/bench/star-limit.sh).

For each N it measures, in this order:
- script up / script down: `star-limit.sh up|down N PREFIX` (whole processes);
- apply: POST /api/labs/{id}/apply of a fresh N-namespace star -> job.finished on the socket;
- no-op: the same POST again (nothing to change);
- one cable: PUT a version with one node's address changed, then POST apply -> job.finished;
- destroy: POST /api/labs/{id}/destroy -> job.finished.

Goals (issue 9), at N=1,000: apply <= 0.5x script up, no-op <= 0.3x script up, one cable <= 0.05x of
the full apply, destroy <= 1.5x script down + 0.2 s.

usage (root, from the project directory, with a Redis at REDIS_URL):
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/e2e_bench.py [--reps K] [N ...]
(default: 1 run each of 200, 500 and 1000). Prints a table; writes bench/e2e_results.json.
It starts its own daphne and worker on a throwaway SQLite database and removes what it made.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import io
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import django_on_throwaway_db, stack_cleanup  # noqa: E402

sys.path.insert(0, str(BASE))
from engine_bench import SCRIPT_CANDIDATES, script, script_cleanup, star  # noqa: E402

SETTLE = 2.0  # seconds between phases: the kernel frees namespaces in a worker after they go
JOB_TIMEOUT = 900.0


def make_owner() -> str:
    """The owner's API token, made through the documented command (`lab token USER`, last line)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    get_user_model().objects.create_user(username="e2e", password="e2e-Passw0rd!")
    out = io.StringIO()
    call_command("lab", "token", "e2e", stdout=out)
    return out.getvalue().strip().splitlines()[-1].strip()


class Socket:
    """The lab's websocket, recording (receive time, event) for every event."""

    def __init__(self, url: str, origin: str) -> None:
        self.url, self.origin = url, origin
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.conn: Any = None
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.typing import Origin

        self.conn = await connect(self.url, origin=Origin(self.origin), max_queue=None, max_size=None)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for raw in self.conn:
            self.events.append((time.perf_counter(), json.loads(raw)))

    async def close(self) -> None:
        await self.conn.close()
        if self.task:
            await asyncio.gather(self.task, return_exceptions=True)

    async def finished(self, job: int) -> tuple[float, dict[str, Any]]:
        deadline = time.monotonic() + JOB_TIMEOUT
        seen = 0
        while time.monotonic() < deadline:
            for got, event in self.events[seen:]:
                if event.get("type") == "job.finished" and event.get("job") == job:
                    return got, event
            seen = len(self.events)
            await asyncio.sleep(0.001)
        raise TimeoutError(f"no job.finished for job {job} within {JOB_TIMEOUT:.0f} s")


async def call(stack: Any, method: str, path: str, token: str, body: Any = None) -> dict[str, Any]:
    from tests.stack import api

    status, answer = await asyncio.to_thread(api, stack, method, path, body, token=token)
    if status >= 300:
        raise RuntimeError(f"{method} {path}: {status} {str(answer)[:400]}")
    return answer  # type: ignore[no-any-return]


async def job_time(stack: Any, sock: Socket, token: str, path: str) -> tuple[float, dict[str, Any]]:
    """Seconds from sending POST `path` to the job's job.finished event on the socket."""
    start = time.perf_counter()
    job = (await call(stack, "POST", path, token))["job"]
    got, event = await sock.finished(job)
    if event.get("status") != "succeeded":
        raise RuntimeError(f"POST {path}: job {job} ended {event}")
    return got - start, event


async def one_size(stack: Any, token: str, n: int, script_path: Path) -> dict[str, float]:
    prefix = f"se{secrets.token_hex(3)}-"
    r: dict[str, float] = {}
    try:
        r["script_up"] = await asyncio.to_thread(script, script_path, "up", n, prefix)
        await asyncio.sleep(SETTLE)
        r["script_down"] = await asyncio.to_thread(script, script_path, "down", n, prefix)
        await asyncio.sleep(SETTLE)
    finally:
        await asyncio.to_thread(script_cleanup, n, prefix)
    document = star(n)
    created = await call(stack, "POST", "/api/labs", token, {"name": f"e2e-{n}-{secrets.token_hex(2)}",
                                                             "topology": document})
    lab = created["id"]
    sock = Socket(f"{stack.ws_url}/ws/labs/{lab}/?token={token}", stack.url)
    await sock.open()
    try:
        await asyncio.sleep(0.3)
        r["apply"], _ = await job_time(stack, sock, token, f"/api/labs/{lab}/apply")
        await asyncio.sleep(SETTLE)
        r["noop"], _ = await job_time(stack, sock, token, f"/api/labs/{lab}/apply")
        changed = copy.deepcopy(document)
        changed["links"][n // 2]["b"]["addresses"] = ["10.200.251.1/16"]
        await call(stack, "PUT", f"/api/labs/{lab}/topology", token,
                   {"version": created["version"], "topology": changed})
        r["one_cable"], _ = await job_time(stack, sock, token, f"/api/labs/{lab}/apply")
        drift = await call(stack, "GET", f"/api/labs/{lab}/drift", token)
        items = drift if isinstance(drift, list) else drift.get("drift", drift)
        r["drift_after"] = float(len(items))
        await asyncio.sleep(SETTLE)
        r["destroy"], _ = await job_time(stack, sock, token, f"/api/labs/{lab}/destroy")
    finally:
        await sock.close()
    return r


async def main_async(sizes: list[int], reps: int, script_path: Path) -> dict[int, dict[str, float]]:
    from tests.stack import Stack

    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    tmp = Path(tempfile.mkdtemp(prefix="nd-e2e-bench-"))
    await asyncio.to_thread(django_on_throwaway_db, str(tmp / "bench.sqlite3"))
    token = await asyncio.to_thread(make_owner)
    stack = Stack(db_path=str(tmp / "bench.sqlite3"), redis_url=redis_url, logdir=tmp)
    from django.conf import settings

    settings.WORKER_HOST = stack.worker_host
    best: dict[int, dict[str, float]] = {}
    try:
        await asyncio.to_thread(stack.start)
        for n in sizes:
            runs = [await one_size(stack, token, n, script_path) for _ in range(reps)]
            best[n] = {k: min(run[k] for run in runs) for k in runs[0]}
    except Exception:
        print(stack.logs()[-8000:], file=sys.stderr)
        raise
    finally:
        await asyncio.to_thread(stack_cleanup, stack)
    return best




def report(best: dict[int, dict[str, float]], reps: int) -> None:
    print(f"best of {reps} run(s) per column; load average now {os.getloadavg()[0]:.1f}")
    head = (f"{'N':>5} | {'script up':>9} {'down':>7} | {'apply':>7} {'/up':>5} (<=0.5) | {'no-op':>7} "
            f"{'/up':>5} (<=0.3) | {'one cable':>9} {'/apply':>6} (<=0.05) | {'destroy':>7} "
            f"{'goal':>7} (1.5x down+0.2s) | drift")
    print(head)
    for n, r in best.items():
        goal = 1.5 * r["script_down"] + 0.2
        print(f"{n:>5} | {r['script_up']:8.3f}s {r['script_down']:6.3f}s | {r['apply']:6.3f}s "
              f"{r['apply'] / r['script_up']:5.2f}         | {r['noop']:6.3f}s {r['noop'] / r['script_up']:5.2f}"
              f"         | {r['one_cable']:8.3f}s {r['one_cable'] / r['apply']:6.3f}          | "
              f"{r['destroy']:6.3f}s {goal:6.3f}s {'met' if r['destroy'] <= goal else 'NOT met':>8}          "
              f"| {int(r['drift_after'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("sizes", nargs="*", type=int, default=[200, 500, 1000])
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the worker builds network namespaces")
    script_path = next((p for p in SCRIPT_CANDIDATES if p.exists()), None)
    if script_path is None:
        sys.exit("star-limit.sh not found (expected at ../shared/bench/star-limit.sh)")
    if subprocess.run(["redis-cli", "-u", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), "ping"],
                      capture_output=True, check=False).returncode != 0:
        sys.exit("no Redis answers at REDIS_URL: start one (scripts/redis-up.sh) and set REDIS_URL")
    # A star of N namespaces has N+1 nodes: let the documents through the default limit of 2,000.
    limit = str(max(2000, max(args.sizes) + 10))
    os.environ.setdefault("NETDESIGNER_MAX_NODES", limit)
    os.environ.setdefault("NETDESIGNER_MAX_LINKS", limit)
    best = asyncio.run(main_async(args.sizes, args.reps, script_path))
    (BASE / "bench" / "e2e_results.json").write_text(json.dumps(best, indent=2) + "\n")
    report(best, args.reps)


if __name__ == "__main__":
    main()
