"""cleanup (site-wide, no lab): remove namespaces nd-<tag>-* of no Deployment. result {"removed": [tags]}."""

from __future__ import annotations

from typing import Any

from ...choices import JobKind
from ...models import Deployment
from ..base import JobRunner
from ..context import Context


class CleanupJob(JobRunner):
    kind = JobKind.CLEANUP
    needs_lab = False

    def run(self, ctx: Context) -> dict[str, Any]:
        on_disk = ctx.kernel.deployed_tags()
        known = set(Deployment.objects.filter(tag__in=on_disk).values_list("tag", flat=True))
        orphans = sorted(on_disk - known)
        for tag in orphans:
            ctx.say(f"removing orphaned nd-{tag}-*")
            ctx.kernel.destroy(tag)
        return {"removed": orphans}
