#!/usr/bin/env python
"""Canvas benchmark: a 1,000-node lab opened in headless Chromium.

Starts its own daphne on a throwaway SQLite database (and the Redis of REDIS_URL for the websocket;
without one the page still opens), stores a generated document of 1,000 nodes (50 bridges, 950
namespaces, 950 cables) with its layout, then measures:

- first render: navigation start -> the first frame painted with the lab drawn (the page sets
  window.netdesignerMarks.firstRender); best and median of --runs page loads;
- drag frame time: requestAnimationFrame intervals while the mouse drags a node for ~2 s
  (mean, p95, max), at the fit-to-window zoom where all 1,000 nodes are on screen.
Also the same without a stored layout (the page lays the nodes out itself).

usage (from the project directory; the canvas must be built: scripts/bootstrap.sh):
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/canvas_bench.py [--nodes 1000] [--runs 3]
Goals: first render < 1.5 s, drag < 33 ms/frame.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import django_on_throwaway_db  # noqa: E402

sys.path.insert(0, str(BASE))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def big_document(nodes: int, with_layout: bool = True) -> dict[str, Any]:
    """Bridges of up to 19 namespaces each, every namespace cabled to its bridge, on a grid."""
    bridges = max(1, nodes // 20)
    spaces = nodes - bridges
    doc_nodes: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    layout: dict[str, dict[str, int]] = {}
    for b in range(bridges):
        doc_nodes.append({"name": f"br{b}", "kind": "bridge", "addresses": [f"10.{b}.255.254/16"]})
    for i in range(spaces):
        b = i % bridges
        k = i // bridges
        name = f"ns{i}"
        doc_nodes.append({"name": name, "kind": "namespace"})
        links.append({"a": {"node": name, "interface": "eth0", "addresses": [f"10.{b}.{k // 250}.{k % 250 + 1}/16"]},
                      "b": {"node": f"br{b}", "interface": f"p{i}"}})
    cols = 10  # bridges per row; each bridge with its namespaces in a small fan below it
    for b in range(bridges):
        bx, by = (b % cols) * 900, (b // cols) * 700
        layout[f"br{b}"] = {"x": bx + 400, "y": by}
    for i in range(spaces):
        b, k = i % bridges, i // bridges
        bx, by = (b % cols) * 900, (b // cols) * 700
        layout[f"ns{i}"] = {"x": bx + (k % 5) * 180, "y": by + 150 + (k // 5) * 110}
    doc: dict[str, Any] = {"format": "netdesigner/v1", "name": f"big-{nodes}", "nodes": doc_nodes, "links": links}
    if with_layout:
        doc["layout"] = layout
    return doc


def setup(db_path: str, nodes: int) -> tuple[Any, list[int]]:
    django_on_throwaway_db(db_path)
    from django.contrib.auth import get_user_model

    from topology.services.labs import lab_create

    user = get_user_model().objects.create_user(username="bench", password="bench-Passw0rd!")  # noqa: S106
    labs = [lab_create(user=user, name=f"big-{nodes}", topology=big_document(nodes)).pk,
            lab_create(user=user, name=f"big-{nodes}-nolayout", topology=big_document(nodes, False)).pk]
    return user, labs


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"daphne did not answer at {url}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def open_lab(page: Any, url: str) -> float:
    page.goto(url)
    page.wait_for_function("() => window.netdesignerMarks && window.netdesignerMarks.firstRender", timeout=60_000)
    return float(page.evaluate("() => window.netdesignerMarks.firstRender"))


def drag_frames(page: Any, seconds: float = 2.0) -> list[float]:
    """Press on a node, move the mouse in small steps for `seconds`, return rAF intervals (ms)."""
    x, y = page.evaluate(
        """() => { const cy = window.netdesigner.cy; const n = cy.nodes('[kind = "namespace"]')[0];
                   const r = document.getElementById('cy').getBoundingClientRect(); const p = n.renderedPosition();
                   return [r.left + p.x, r.top + p.y]; }"""
    )
    page.evaluate(
        """() => { window.__frames = []; window.__recording = true;
                   const tick = (t) => { window.__frames.push(t); if (window.__recording) requestAnimationFrame(tick); };
                   requestAnimationFrame(tick); }"""
    )
    page.mouse.move(x, y)
    page.mouse.down()
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < seconds:
        i += 1
        page.mouse.move(x + (i % 60) * 3, y + (i % 40) * 2)
        page.wait_for_timeout(8)
    page.mouse.up()
    frames = page.evaluate("() => { window.__recording = false; return window.__frames; }")
    moved = page.evaluate(
        """() => { const n = window.netdesigner.cy.nodes('[kind = "namespace"]')[0];
                   const r = document.getElementById('cy').getBoundingClientRect(); const p = n.renderedPosition();
                   return [r.left + p.x, r.top + p.y]; }"""
    )
    if abs(moved[0] - x) < 1 and abs(moved[1] - y) < 1:
        raise RuntimeError("the drag did not move the node: the frame times would measure nothing")
    return [b - a for a, b in zip(frames, frames[1:], strict=False)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (BASE / "frontend" / "dist" / ".vite" / "manifest.json").exists():
        print("the canvas is not built: run scripts/bootstrap.sh (or npm run build in frontend/)", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="canvas-bench-")
    db = str(Path(tmp) / "bench.sqlite3")
    user, (lab, lab_nolayout) = setup(db, args.nodes)
    from tests.stack import session_cookie

    cookie_name, cookie_value = session_cookie(user).split("=", 1)
    port = free_port()
    env = {**os.environ, "SQLITE_PATH": db, "DEBUG": "1", "ALLOWED_HOSTS": "127.0.0.1"}
    log = open(Path(tmp) / "daphne.log", "wb")  # noqa: SIM115 - closed in finally
    daphne = subprocess.Popen(  # noqa: S603 - argv list
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "netdesigner.asgi:application"],
        cwd=BASE, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    from playwright.sync_api import sync_playwright

    try:
        wait_http(base + "/")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            ctx = browser.new_context(viewport={"width": 1400, "height": 860})
            ctx.add_cookies([{"name": cookie_name, "value": cookie_value, "url": base}])
            page = ctx.new_page()
            open_lab(page, f"{base}/labs/{lab}/")  # warm the HTTP cache and the JIT once
            renders = [open_lab(page, f"{base}/labs/{lab}/") for _ in range(args.runs)]
            count = page.evaluate("() => window.netdesigner.cy.nodes().length")
            page.wait_for_timeout(500)
            frames = drag_frames(page)
            nolayout = [open_lab(page, f"{base}/labs/{lab_nolayout}/") for _ in range(args.runs)]
            frames_nolayout = drag_frames(page)
            browser.close()
    finally:
        os.killpg(daphne.pid, 15)
        daphne.wait(timeout=10)
        log.close()

    def fmt_frames(f: list[float]) -> str:
        return (f"mean {statistics.fmean(f):.1f} ms, p95 {percentile(f, 95):.1f} ms, max {max(f):.1f} ms "
                f"({len(f)} frames)")

    print(f"nodes drawn: {count} ({args.nodes} in the document, {args.nodes - args.nodes // 20} cables)")
    print(f"first render (stored layout): best {min(renders):.0f} ms, median {statistics.median(renders):.0f} ms "
          f"(goal < 1500 ms)")
    print(f"drag frame time (stored layout): {fmt_frames(frames)} (goal < 33 ms/frame)")
    print(f"first render (no layout, grid): best {min(nolayout):.0f} ms, median {statistics.median(nolayout):.0f} ms")
    print(f"drag frame time (no layout): {fmt_frames(frames_nolayout)}")
    ok = statistics.median(renders) < 1500 and statistics.fmean(frames) < 33
    print("goals met" if ok else "GOALS MISSED")
    return 0 if ok else 2


if __name__ == "__main__":
    raise SystemExit(main())
