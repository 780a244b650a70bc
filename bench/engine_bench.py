#!/usr/bin/env python3
"""Engine vs the hand-tuned iproute2 script (shared/bench/star-limit.sh), side by side, on a star lab:
one host namespace with bridge br0 and N namespaces each cabled to it, 10.200.x.y/16 on the node end.

A script, not a test: it prints a table of times and ratios. Run as root from the project root:
    .venv/bin/python bench/engine_bench.py [--reps=K] [N ...]   (default: 1 run of 200 and 500)
Everything it creates uses a unique prefix/tag and is removed in `finally`.
"""

from __future__ import annotations

import copy
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from topology.engine import api  # noqa: E402

SCRIPT_CANDIDATES = [ROOT.parent / "shared" / "bench" / "star-limit.sh", Path("/work/shared/bench/star-limit.sh")]


def star(n: int) -> dict[str, Any]:
    nodes = [{"name": "br0", "kind": "bridge"}] + [{"name": f"n{i}", "kind": "namespace"} for i in range(n)]
    links = [{"a": {"node": "br0", "interface": f"p{i}"},
              "b": {"node": f"n{i}", "interface": "eth0",
                    "addresses": [f"10.200.{i // 250}.{i % 250 + 1}/16"]}} for i in range(n)]
    return {"format": "netdesigner/v1", "name": f"star-{n}", "nodes": nodes, "links": links}


def timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def script(path: Path, action: str, n: int, prefix: str) -> float:
    t = time.perf_counter()
    subprocess.run(["bash", str(path), action, str(n), prefix], check=True)
    return time.perf_counter() - t


def script_cleanup(n: int, prefix: str) -> None:
    for name in os.listdir("/run/netns") if os.path.isdir("/run/netns") else []:
        if name.startswith(prefix):
            subprocess.run(["ip", "netns", "del", name], check=False)


def bench(n: int, path: Path) -> dict[str, float]:
    prefix = f"sb{secrets.token_hex(3)}-"
    tag = "b" + secrets.token_hex(4)
    r: dict[str, float] = {}
    try:
        r["script_up"] = script(path, "up", n, prefix)
        time.sleep(SETTLE)
        r["script_down"] = script(path, "down", n, prefix)
        time.sleep(SETTLE)  # let the kernel finish freeing the script's namespaces
        topo = api.parse(star(n))
        r["apply"], ops = timed(lambda: api.apply(topo, tag))
        r["ops"] = len(ops)
        r["noop_none"], again = timed(lambda: api.apply(topo, tag))
        assert again == [], again[:3]
        r["noop_prev"], again = timed(lambda: api.apply(topo, tag, previous=topo))
        assert again == [], again[:3]
        doc = copy.deepcopy(star(n))
        doc["links"][n // 2]["b"]["addresses"] = ["10.200.251.1/16"]
        changed = api.parse(doc)
        r["one_link"], ops = timed(lambda: api.apply(changed, tag, previous=topo))
        r["one_link_ops"] = len(ops)
        assert api.plan(changed, tag, previous=changed) == []
        time.sleep(SETTLE)
        r["destroy"], removed = timed(lambda: api.destroy(tag))
        assert removed == n + 1, removed
    finally:
        api.destroy(tag)
        script_cleanup(n, prefix)
    return r


SETTLE = 2.0  # seconds between phases: namespace teardown runs on in a kernel worker


def main(argv: list[str]) -> None:
    if os.geteuid() != 0:
        sys.exit("run as root")
    path = next((p for p in SCRIPT_CANDIDATES if p.exists()), None)
    if path is None:
        sys.exit("star-limit.sh not found")
    reps = 1
    if argv and argv[0].startswith("--reps="):
        reps = int(argv.pop(0).split("=", 1)[1])
    sizes = [int(a) for a in argv] or [200, 500]
    rows = []
    for n in sizes:
        runs = [bench(n, path) for _ in range(reps)]
        rows.append((n, {k: min(run[k] for run in runs) for k in runs[0]}))  # best of reps, each column
    print(f"best of {reps} run(s) per column; load average now {os.getloadavg()[0]:.1f}")
    print(f"{'N':>5} | {'script up':>9} | {'apply':>7} {'ratio':>6} (goal<=1.5) | {'script down':>11} | "
          f"{'destroy':>7} {'ratio':>6} (<=1.5) | {'noop prev=None':>14} {'ratio':>6} | "
          f"{'noop prev=same':>14} {'ratio':>6} (<=0.3) | {'one link':>8} {'/apply':>7} (<=0.05) | ops")
    for n, r in rows:
        print(f"{n:>5} | {r['script_up']:8.3f}s | {r['apply']:6.3f}s {r['apply'] / r['script_up']:6.2f}"
              f"             | {r['script_down']:10.3f}s | {r['destroy']:6.3f}s "
              f"{r['destroy'] / r['script_down']:6.2f}         | {r['noop_none']:13.3f}s "
              f"{r['noop_none'] / r['script_up']:6.2f} | {r['noop_prev']:13.3f}s "
              f"{r['noop_prev'] / r['script_up']:6.2f}         | {r['one_link']:7.4f}s "
              f"{r['one_link'] / r['apply']:7.4f}          | {int(r['ops'])}/{int(r['one_link_ops'])}")


if __name__ == "__main__":
    main(sys.argv[1:])
