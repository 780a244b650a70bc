"""The `delete` job body: destroy the lab in this worker's kernel, then delete its rows.

The job row itself survives the lab (its `lab` is set to null first, its params keep the slug), so
whoever asked can read how it ended; `selectors.job_get_for` lets its creator see it.
"""

from __future__ import annotations

from typing import Any

from .models import Job
from .services.deletion import lab_rows_delete


def run_delete(ctx: Any) -> dict[str, Any]:
    from .runners import run_destroy

    destroyed = run_destroy(ctx)
    job = ctx.job
    Job.objects.filter(pk=job.pk).update(lab=None)
    by = str(job.params.get("by") or "")
    deleted = lab_rows_delete(lab_id=ctx.lab, user=job.created_by, by=by)
    ctx.say(f"deleted lab {job.params.get('slug', ctx.lab)}" if deleted else "the lab was already deleted")
    return {**destroyed, "deleted": deleted}
