"""Kept for imports written before topology/jobs/: job bodies are classes in topology/jobs/kinds/ now
(a plain `run_<kind>(ctx)` function is registered with `FunctionJob.wrap` in topology/jobs/registry.py)."""

from .jobs.context import Context, JobFailed
from .jobs.registry import JOBS

__all__ = ["JOBS", "Context", "JobFailed"]
