"""The job runner (owned by the worker/stream work). Signatures are the contract; bodies are filled in there.

- enqueue(job): after the surrounding transaction commits, send the job to the Celery queue of the
  worker host of the lab's deployment (`host.<worker_host>`).
- execute(job_id): run the job in this process: lock the lab, call the engine, keep the Job row's
  status/done/total/log/result/error current, publish events. Used by the Celery task and `--inline`.
- run_and_wait(job, timeout): enqueue and block until the job finishes (for web views that must read
  the kernel through the worker: tables, drift, admin inspection). Returns the refreshed Job.

Job kinds and their params/result:
  apply    params {"version": n}           result {"operations": [...]} (done/total = operations)
  destroy  params {}                       result {"removed": n}
  ping     params {"source","target","count"}  result {"sent","received","replies":[{"seq","ttl","rtt_ms"}],"error"}
  tables   params {"node"}                 result as `lab tables`
  drift    params {"tables": bool}         result {"drift": [...], "nodes": {node: tables} (when tables)}
  cleanup  params {} (job.lab is null)     result {"removed": [tags]}: namespaces nd-<tag>-* of no Deployment
"""

from __future__ import annotations

from .models import Job


def enqueue(job: Job) -> None:
    raise NotImplementedError


def execute(job_id: int) -> None:
    raise NotImplementedError


def run_and_wait(job: Job, timeout: float = 15.0) -> Job:
    raise NotImplementedError
