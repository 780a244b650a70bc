#!/usr/bin/env python3
"""What the job lifecycle adds to the engine: a star lab applied by the engine alone, then through the
job path that `lab apply --inline` and the worker run (`jobs.execute`: claim, lock, generation check,
deployment transitions, coalesced progress, log, events through the background publisher, the
post-apply work), side by side; then a no-op re-apply and a destroy both ways. `--profile` prints the
top of a cProfile of the job path's apply, engine calls excluded by subtraction.

Run as root from the project root, with a Redis at REDIS_URL (events go to it):
    .venv/bin/python bench/job_overhead.py [--profile] [N]       (default N=500)
Everything it creates uses unique tags and a throwaway database, removed in `finally`.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _django import django_on_throwaway_db  # noqa: E402
from engine_bench import star  # noqa: E402

REPS = 2
SETTLE = 3.0  # seconds before each full apply: the kernel frees destroyed namespaces in the background


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 500
    profile = "--profile" in sys.argv
    with tempfile.TemporaryDirectory(prefix="nd-jobbench-") as tmp:
        django_on_throwaway_db(str(Path(tmp) / "db.sqlite3"))
        run(n, profile)


def run(n: int, profile: bool) -> None:
    import secrets

    from django.contrib.auth import get_user_model

    from topology import jobs
    from topology.engine import api as engine
    from topology.jobs.deployments import parse
    from topology.models import Deployment
    from topology.services import operations as ops
    from topology.services.imports import lab_import

    document = star(n)
    owner = get_user_model().objects.create_user(username=f"bench{secrets.token_hex(3)}", password="x-Passw0rd!")
    lab, _ = lab_import(document=document, name=f"jobbench-{n}", owner=owner)
    topology = parse(document)
    tag = "e" + secrets.token_hex(3)
    rows: dict[str, float] = {}

    def keep(key: str, value: float) -> None:
        rows[key] = min(rows.get(key, value), value)

    def job(kind: str) -> float:
        request = ops.lab_apply_request if kind == "apply" else ops.lab_destroy_request
        t = time.perf_counter()
        row = request(lab=lab, user=None, dispatch=False)
        jobs.execute(row.pk)
        elapsed = time.perf_counter() - t
        row.refresh_from_db()
        assert row.status == "succeeded", row.error
        return elapsed

    profiler = cProfile.Profile()
    try:
        for rep in range(REPS):  # alternate the two, best of REPS each: the machine is shared and noisy
            time.sleep(SETTLE)
            t = time.perf_counter()
            engine.apply(topology, tag)
            keep("engine apply", time.perf_counter() - t)
            t = time.perf_counter()
            engine.apply(topology, tag, previous=topology)
            keep("engine no-op (previous)", time.perf_counter() - t)
            t = time.perf_counter()
            engine.destroy(tag)
            keep("engine destroy", time.perf_counter() - t)
            time.sleep(SETTLE)
            if profile and rep == REPS - 1:
                profiler.enable()
            keep("job apply", job("apply"))
            profiler.disable()
            keep("job no-op", job("apply"))
            keep("job destroy", job("destroy"))
    finally:
        engine.destroy(tag)
        deployment = Deployment.objects.filter(lab=lab).first()
        if deployment is not None:
            engine.destroy(deployment.tag)
    print(f"N={n} (namespaces {n + 1})")
    for what, engine_key in (("apply", "engine apply"), ("no-op", "engine no-op (previous)"),
                             ("destroy", "engine destroy")):
        mine, base = rows[f"job {what}"], rows[engine_key]
        print(f"  {what:8} engine {base:7.3f}s   job {mine:7.3f}s   job adds {mine - base:+7.3f}s ({mine / base:5.2f}x)")
    if profile:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())


if __name__ == "__main__":
    main()
