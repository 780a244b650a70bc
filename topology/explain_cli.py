"""`lab explain` and `lab test`: bodies of the two subcommands registered in the `lab` command.

Both create a Job through the services and follow it like `lab ping` does (through the worker, or in
this process with --inline), then print the job's result: as JSON with --json, else in words.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .services import explain as svc
from .services.imports import lab_find


def add_commands(sub: Any) -> None:
    p = sub.add_parser("explain", help="why SOURCE can or cannot reach TARGET, hop by hop (and measured)")
    p.add_argument("lab")
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("--protocol", choices=["icmp", "tcp", "udp"], default="icmp")
    p.add_argument("--port", type=int)
    _common(p)
    p = sub.add_parser("test", help="run every check of the applied version; exit 1 when one fails")
    p.add_argument("lab")
    _common(p)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")
    p.add_argument("--inline", action="store_true", help="run here instead of through the worker")
    p.add_argument("--timeout", type=float, default=300.0)


def do_explain(cmd: Any, options: dict[str, Any]) -> None:
    lab = lab_find(ref=options["lab"])
    job = svc.lab_explain_request(lab=lab, user=None, source=options["source"], target=options["target"],
                                  protocol=options["protocol"], port=options["port"],
                                  dispatch=not options["inline"])
    job = cmd.follow(job, inline=options["inline"], timeout=options["timeout"], quiet=True)
    result = job.result or {}
    if options["json"]:
        cmd.out_json({k: v for k, v in result.items() if k != "version"})
        return
    for line in explain_lines(result):
        cmd.stdout.write(line)


def explain_lines(result: dict[str, Any]) -> list[str]:
    pred = result.get("predicted") or {}
    lines = [f"predicted: {pred.get('verdict')}: {pred.get('reason')}"]
    failed = pred.get("failed_hop")
    for i, hop in enumerate(pred.get("hops", [])):
        mark = "  x " if i == failed else "    "
        ifs = f"{hop.get('in_interface') or '-'} -> {hop.get('out_interface') or '-'}"
        lines.append(f"{mark}{hop.get('direction', ''):7} {hop['node']:12} {hop['action']:9} {ifs:28} {hop['detail']}")
    measured = result.get("measured")
    if measured is None:
        lines.append("measured: not deployed (apply the lab to measure)")
    else:
        lines.append(f"measured: {measured.get('verdict')}: {measured.get('detail')}"
                     + ("" if result.get("agree") else "  (DISAGREES with the prediction)"))
        if measured.get("parted"):
            lines.append(f"  design and kernel part {measured['parted']}")
    for fix in pred.get("fix", []):
        lines.append(f"fix: {fix['summary']}")
    return lines


def do_test(cmd: Any, options: dict[str, Any]) -> None:
    lab = lab_find(ref=options["lab"])
    job = svc.lab_test_request(lab=lab, user=None, dispatch=not options["inline"])
    job = cmd.follow(job, inline=options["inline"], timeout=options["timeout"], quiet=True)
    result = job.result or {"passed": 0, "failed": 0, "checks": []}
    if options["json"]:
        cmd.out_json({k: result.get(k) for k in ("passed", "failed", "checks")})
    else:
        for row in result.get("checks", []):
            c = row["check"]
            label = c.get("name") or f"{c['from']} -> {c['to']}" + (f" {c['protocol']} {c['port']}" if c.get("port") else "")
            cmd.stdout.write(f"{'PASS' if row['passed'] else 'FAIL'} {label}: expects {c['expect']}, "
                             f"measured {row['measured']}")
            if not row["passed"]:
                cmd.stdout.write(f"     why: {row['explain']['predicted']['reason']}")
        cmd.stdout.write(f"{result.get('passed', 0)} passed, {result.get('failed', 0)} failed")
    if result.get("failed"):
        sys.exit(1)
