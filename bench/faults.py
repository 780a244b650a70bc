#!/usr/bin/env python
"""Fault injection: kill applies and destroys at random points, then check that the lab converges.

Each run picks one of four faults, at a random moment of the operation:
- worker-apply:   `lab apply` through the worker; the worker (and its pool) is SIGKILLed, then restarted;
- worker-destroy: the same for `lab destroy`;
- inline-apply:   `lab apply --inline` (the whole process) is SIGKILLed;
- inline-destroy: the same for `lab destroy --inline`.
Then it asks again (apply, or destroy) the ordinary way and classifies the run:
- converged: the second request succeeded and left drift [] (apply) or no namespace of the lab (destroy);
- leaked:    after a destroy, namespaces of the lab are still in the kernel;
- stuck:     a request did not finish within its time limit, or a job stayed queued/running.

The lab is the tutorial's shape at a size that takes a moment to build: a host with NAT and forwarding,
a bridge with the host's address, N namespaces each with an address and a default route.

usage (root, from the project directory, with a Redis at REDIS_URL):
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/faults.py [--runs 200] [--nodes 30] [--seed S]
Prints one line per run and a summary; writes bench/faults_results.json. Its own daphne, worker and
throwaway SQLite database; it removes its lab at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import django_on_throwaway_db  # noqa: E402

sys.path.insert(0, str(BASE))

MODES = ("worker-apply", "worker-destroy", "inline-apply", "inline-destroy")
REQUEST_TIMEOUT = 120.0  # seconds a request may take before its run counts as stuck


def lab_document(n: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"name": "host", "kind": "host", "forwarding": True,
         "nat": [{"action": "masquerade", "source": "10.77.0.0/16", "out_interface": "eth0"}],
         "port_forwards": [{"protocol": "tcp", "port": 8080, "to": "10.77.0.2", "to_port": 80,
                            "in_interface": "eth0"}]},
        {"name": "br0", "kind": "bridge", "addresses": ["10.77.255.254/16"]},
        {"name": "lan", "kind": "external"},
    ]
    links: list[dict[str, Any]] = [
        {"a": {"node": "host", "interface": "eth0", "addresses": ["192.168.77.2/24"]},
         "b": {"node": "lan", "interface": "eth0", "addresses": ["192.168.77.3/24"]}},
    ]
    for i in range(n):
        nodes.append({"name": f"n{i}", "kind": "namespace",
                      "routes": [{"to": "default", "via": "10.77.255.254"}]})
        links.append({"a": {"node": "br0", "interface": f"p{i}"},
                      "b": {"node": f"n{i}", "interface": "eth0",
                            "addresses": [f"10.77.{i // 250}.{i % 250 + 2}/16"]}})
    return {"format": "netdesigner/v1", "name": "faults", "nodes": nodes, "links": links}


class Lab:
    def __init__(self, env: dict[str, str], slug: str) -> None:
        self.env, self.slug = env, slug

    def cli(self, *args: str) -> subprocess.Popen[bytes]:
        """`manage.py lab ACTION [SLUG] ARGS...` (the slug goes right after the action)."""
        if self.slug:
            args = (args[0], self.slug, *args[1:])
        return subprocess.Popen([str(BASE / ".venv" / "bin" / "python"), "manage.py", "lab", *args],  # noqa: S603
                                cwd=BASE, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)

    def run(self, *args: str, timeout: float = REQUEST_TIMEOUT) -> tuple[int | None, str]:
        """(exit code or None when it did not finish in time, stdout+stderr)."""
        proc = self.cli(*args)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            return None, (out + err).decode(errors="replace")
        return proc.returncode, (out + err).decode(errors="replace")


def tag_of(slug: str) -> str | None:
    from django.db import connection

    from topology.models import Deployment

    connection.close()  # a fresh read of what the other processes wrote
    return Deployment.objects.filter(lab__slug=slug).values_list("tag", flat=True).first()


def lab_namespaces(tag: str) -> list[str]:
    try:
        return sorted(n for n in os.listdir("/run/netns") if n.startswith(f"nd-{tag}-"))
    except FileNotFoundError:
        return []


def unfinished_jobs(slug: str) -> int:
    from django.db import connection

    from topology.models import Job

    connection.close()
    return Job.objects.filter(lab__slug=slug, status__in=["queued", "running"]).count()


def kill_later(proc_kill: Any, delay: float) -> None:
    time.sleep(delay)
    proc_kill()


def one_run(i: int, mode: str, lab: Lab, stack: Any, rng: random.Random, durations: dict[str, float]) -> str:
    worker = mode.startswith("worker")
    action = mode.split("-")[1]
    # Put the lab in the state the operation starts from: deployed before a destroy, either before an apply.
    if action == "destroy" or rng.random() < 0.5:
        code, out = lab.run("apply")
        if code != 0:
            return f"stuck (set-up apply: {code} {out[-300:]})"
    else:
        lab.run("destroy")
    delay = rng.uniform(durations["startup"], durations[mode])
    proc = lab.cli(action) if worker else lab.cli(action, "--inline")
    time.sleep(delay)
    if worker:
        stack.kill_worker()
        stack.start_worker()
    else:
        os.killpg(proc.pid, signal.SIGKILL)
    try:
        proc.communicate(timeout=REQUEST_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "stuck (the interrupted request never ended)"
    again = ("apply",) if worker else ("apply", "--inline")
    if action == "destroy":
        again = ("destroy",) if worker else ("destroy", "--inline")
    code, out = lab.run(*again)
    if code is None:
        return "stuck (the second request did not finish)"
    if code != 0:
        return f"not converged ({' '.join(again)} exited {code}: {out.strip()[-300:]})"
    if unfinished_jobs(lab.slug):
        return "stuck (a job stayed queued or running)"
    tag = tag_of(lab.slug)
    if action == "destroy":
        left = lab_namespaces(tag) if tag else []
        return f"leaked ({len(left)} namespaces: {left[:3]})" if left else "converged"
    code, out = lab.run("drift", "--json")
    try:
        drift = json.loads(out[out.index("["):]) if code == 0 else None
    except ValueError:
        drift = None
    if drift is None:
        return f"not converged (drift failed: {out.strip()[-300:]})"
    return "converged" if drift == [] else f"not converged ({len(drift)} drift items: {drift[:2]})"


def measure(lab: Lab) -> dict[str, float]:
    """How long each operation takes from its start here: kills fall uniformly inside that window."""
    t = time.perf_counter()
    lab.run("show", "--json")
    out: dict[str, float] = {"startup": (time.perf_counter() - t) * 0.9}  # Django's start: nothing to cut yet
    for worker in (True, False):
        extra = () if worker else ("--inline",)
        lab.run("destroy", *extra)
        t = time.perf_counter()
        lab.run("apply", *extra)
        out["worker-apply" if worker else "inline-apply"] = (time.perf_counter() - t) * 1.1
        t = time.perf_counter()
        lab.run("destroy", *extra)
        out["worker-destroy" if worker else "inline-destroy"] = (time.perf_counter() - t) * 1.1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--nodes", type=int, default=60)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the worker builds network namespaces")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    rng = random.Random(seed)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    tmp = Path(tempfile.mkdtemp(prefix="nd-faults-"))
    db = str(tmp / "faults.sqlite3")
    django_on_throwaway_db(db)
    from django.contrib.auth import get_user_model

    from tests.stack import Stack, destroy_tag

    get_user_model().objects.create_superuser(username="admin", password="faults-Passw0rd!")
    stack = Stack(db_path=db, redis_url=redis_url, logdir=tmp)
    env = {**stack.env}
    doc_path = tmp / "faults.json"
    doc_path.write_text(json.dumps(lab_document(args.nodes)))
    results: list[dict[str, Any]] = []
    tags: set[str] = set()
    try:
        stack.start()
        code, out = Lab(env, "").run("import", str(doc_path), "--name", "faults")
        if code != 0:
            sys.exit(f"import failed: {out}")
        lab = Lab(env, out.strip().splitlines()[-1].strip())
        durations = measure(lab)
        print(f"seed {seed}; kill windows (s): " + ", ".join(f"{k} {v:.2f}" for k, v in durations.items()))
        for i in range(args.runs):
            mode = MODES[i % len(MODES)] if i < len(MODES) else rng.choice(MODES)
            started = time.perf_counter()
            outcome = one_run(i, mode, lab, stack, rng, durations)
            if tag := tag_of(lab.slug):
                tags.add(tag)
            results.append({"run": i, "mode": mode, "outcome": outcome,
                            "seconds": round(time.perf_counter() - started, 2)})
            print(f"{i:4d} {mode:<15} {outcome}", flush=True)
    finally:
        try:
            if "lab" in locals():
                lab.run("destroy", "--inline")
        finally:
            stack.stop()
            for tag in tags:
                destroy_tag(tag)
    counts: dict[str, int] = {}
    for r in results:
        key = r["outcome"].split(" ")[0]
        key = "not converged" if key == "not" else key
        counts[key] = counts.get(key, 0) + 1
    by_mode = {m: sum(1 for r in results if r["mode"] == m) for m in MODES}
    summary = {"seed": seed, "runs": len(results), "nodes": args.nodes, "counts": counts, "by_mode": by_mode,
               "results": results}
    (BASE / "bench" / "faults_results.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\n{len(results)} runs ({', '.join(f'{m} {c}' for m, c in by_mode.items())}): "
          f"{counts.get('converged', 0)} converged, {counts.get('leaked', 0)} leaked, "
          f"{counts.get('stuck', 0)} stuck, {counts.get('not converged', 0)} not converged")
    sys.exit(0 if counts.get("converged", 0) == len(results) else 1)


if __name__ == "__main__":
    main()
