"""cleanup (site-wide, no lab): remove this install's namespaces whose deployment no longer exists.
result {"removed": [tags], "namespaces": [names]}; only namespaces that carry this install's mark."""

from __future__ import annotations

from typing import Any

from ...choices import JobKind
from ...cleanup import cleanup_orphans
from ..base import JobRunner
from ..context import Context


class CleanupJob(JobRunner):
    kind = JobKind.CLEANUP
    needs_lab = False

    def run(self, ctx: Context) -> dict[str, Any]:
        orphans = cleanup_orphans(kernel=ctx.kernel, say=ctx.say)
        return {"removed": sorted(orphans), "namespaces": sorted(n for names in orphans.values() for n in names)}
