"""destroy: remove everything the lab made; idempotent. params {}; result {"removed": n}."""

from __future__ import annotations

from typing import Any

from ... import watch
from ...choices import DeploymentState, JobKind
from ...models import Deployment
from ..base import JobRunner
from ..context import Context
from ..deployments import deployment_transition
from .common import check_host


class DestroyJob(JobRunner):
    kind = JobKind.DESTROY
    writes = True

    def run(self, ctx: Context) -> dict[str, Any]:
        deployment = Deployment.objects.filter(lab_id=ctx.lab).first()
        if deployment is None:
            ctx.say("nothing deployed")
            return {"removed": 0}
        check_host(deployment)
        deployment_transition(lab_id=ctx.lab, to=DeploymentState.DESTROYING)
        removed = ctx.kernel.destroy(deployment.tag, progress=ctx.progress)
        left = ctx.kernel.strangers(deployment.tag)
        for ns in left:
            ctx.say(f"left {ns} alone: this install did not make it (no mark of ours)")
        deployment_transition(lab_id=ctx.lab, to=DeploymentState.DESTROYED, version=None)
        return {"removed": removed, **({"left": left} if left else {})}

    def after(self, ctx: Context, result: Any) -> None:
        watch.forget_tables(ctx.lab)
