"""delete: destroy the lab in this worker's kernel, then delete its rows. params {"slug", "by"};
result {"removed": n, "deleted": bool}.

The job row itself survives the lab (its `lab` is set to null first, its params keep the slug), so
whoever asked can read how it ended; `selectors.job_get_for` lets its creator see it.
"""

from __future__ import annotations

from typing import Any

from ...choices import JobKind
from ...models import Job
from ...services.lab_rows import lab_rows_delete
from ..context import Context
from .destroy import DestroyJob


class DeleteJob(DestroyJob):
    kind = JobKind.DELETE
    writes = True

    def run(self, ctx: Context) -> dict[str, Any]:
        destroyed = super().run(ctx)
        job = ctx.job
        lab_id = ctx.lab
        Job.objects.filter(pk=job.pk).update(lab=None)
        deleted = lab_rows_delete(lab_id=lab_id, user=job.created_by, by=str(job.params.get("by") or ""))
        ctx.say(f"deleted lab {job.params.get('slug', lab_id)}" if deleted else "the lab was already deleted")
        return {**destroyed, "deleted": deleted}
