"""Job bodies of `explain` and `test` (registered in topology/jobs/registry.py).

explain  params {"source","target","protocol","port"}  result: the object of interfaces.md "Reachability:
         explain" (plus "version"): predicted always, measured (and agree) only when the lab is deployed.
test     params {}  result {"passed","failed","checks":[{"check","passed","measured","explain"}]} over the
         checks of the applied version; each check also goes out as a `test.result` event.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ...choices import DeploymentState
from ...engine import api as engine
from ...models import Deployment, TopologyVersion
from ..context import Context

NOT_DEPLOYED = (DeploymentState.PENDING, DeploymentState.DESTROYED)


class ExplainFailed(engine.EngineError):
    """A request the job cannot carry out; the message says what to do (an expected failure, not a crash)."""


def _parse(document: dict[str, Any]) -> Any:
    return engine.parse(document, max_nodes=settings.NETDESIGNER_MAX_NODES, max_links=settings.NETDESIGNER_MAX_LINKS)


def _deployed(lab_id: int) -> Deployment | None:
    d = Deployment.objects.filter(lab_id=lab_id).select_related("version").first()
    if d is None or d.state in NOT_DEPLOYED or d.version is None:
        return None
    if d.worker_host != settings.WORKER_HOST:
        raise ExplainFailed(f"the lab is deployed on worker host {d.worker_host!r}, not on {settings.WORKER_HOST!r}")
    return d


def _current(ctx: Any) -> TopologyVersion:
    job = ctx.job
    number = job.params.get("version") or job.lab.version
    version = TopologyVersion.objects.filter(lab_id=job.lab_id, number=number).first()
    if version is None:
        raise ExplainFailed(f"the lab has no version {number}")
    return version


def _explain(ctx: Context, topology: Any, tag: str | None, source: str, target: str, protocol: str, port: int | None
             ) -> dict[str, Any]:
    try:
        return ctx.kernel.explain(topology, tag, source, target, protocol, port)
    except ValueError as exc:
        raise ExplainFailed(str(exc)) from exc


def run_explain(ctx: Any) -> dict[str, Any]:
    p = ctx.job.params
    source, target = str(p.get("source", "")), str(p.get("target", ""))
    protocol = str(p.get("protocol") or "icmp")
    port = p.get("port")
    deployment = _deployed(ctx.job.lab_id)
    version = deployment.version if deployment is not None and deployment.version is not None else _current(ctx)
    topology = _parse(version.document)
    tag = deployment.tag if deployment is not None else None
    ctx.say(f"explaining {source} -> {target} ({protocol}{f' port {port}' if port else ''}) on version "
            f"{version.number}" + ("" if tag else " (not deployed: predicted only)"))
    result = _explain(ctx, topology, tag, source, target, protocol, port)
    result["version"] = version.number
    ctx.say(f"predicted {result['predicted']['verdict']}: {result['predicted']['reason']}")
    if result["measured"] is not None:
        ctx.say(f"measured {result['measured']['verdict']}: {result['measured']['detail']}")
    ctx.publish({"type": "explain.result", "job": ctx.job.pk, **{k: result[k] for k in
                 ("source", "target", "protocol", "port", "agree")},
                 "verdict": result["predicted"]["verdict"],
                 "measured": result["measured"]["verdict"] if result["measured"] else None})
    return result


def run_test(ctx: Any) -> dict[str, Any]:
    deployment = _deployed(ctx.job.lab_id)
    if deployment is None or deployment.version is None:
        raise ExplainFailed("the lab is not deployed: apply it first, then test")
    topology = _parse(deployment.version.document)
    checks = list(topology.checks)
    rows: list[dict[str, Any]] = []
    ctx.update(total=len(checks))
    for i, check in enumerate(checks):
        try:
            result: dict[str, Any] | None = _explain(ctx, topology, deployment.tag, check.source, check.to,
                                                     check.protocol, check.port)
        except ExplainFailed as exc:  # e.g. a `to` node without any address: the check fails, saying why
            result = None
            row = {"check": check.to_dict(), "passed": False, "measured": f"error: {exc}", "explain": None}
        if result is not None:
            measured = result["measured"] or {}
            passed = measured.get("verdict") == check.expect
            row = {"check": check.to_dict(), "passed": passed,
                   "measured": f"{measured.get('verdict')}: {measured.get('detail')}", "explain": result}
        rows.append(row)
        passed = bool(row["passed"])
        label = check.name or f"{check.source} -> {check.to}"
        ctx.publish({"type": "test.result", "job": ctx.job.pk, "index": i, **row})
        ctx.progress(i + 1, len(checks), f"{'pass' if passed else 'FAIL'}: {label} expects {check.expect}, "
                                          f"measured {row['measured']}")
    passed_n = sum(1 for r in rows if r["passed"])
    ctx.say(f"{passed_n} passed, {len(rows) - passed_n} failed (version {deployment.version.number})")
    return {"passed": passed_n, "failed": len(rows) - passed_n, "checks": rows}
