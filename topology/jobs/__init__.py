"""Jobs: a row with a lifecycle (queued -> running -> succeeded | failed | superseded), after NetBox's
`JobRunner`. Imports point one way, from the top of this list down:

- `queue`      where a job goes and sending it (`enqueue`, `run_and_wait`)
- `recovery`   crash and Redis-restart recovery, the worker's maintenance thread
- `lifecycle`  `execute(job_id)`: claim, lock, supersede, run, finish, after (Celery task and --inline)
- `registry`   every kind and its class (`JOBS`); `kinds/` one module per kind
- `base`       `JobRunner` (one subclass per kind) and `FunctionJob.wrap(kind, run_x)`
- `deployments` the table of allowed deployment transitions and the applied version
- `context`    what a job body sees (`ctx.job`, `ctx.kernel`, `ctx.say`, `ctx.update`, `ctx.progress`,
               `ctx.publish`); `publisher` sends events from a background thread
- `retention`  old finished jobs deleted

Nothing here imports `topology.tasks`, the services or the API: they import this package.
"""

from ..choices import JobStatus
from .context import Context, JobFailed, Superseded, finished_event
from .lifecycle import Requeue, execute
from .queue import enqueue, queue_for, queue_name, run_and_wait, send, worker_queues
from .recovery import WORKER_STOPPED, fail_interrupted, recover_interrupted
from .registry import JOBS, WRITES

FINISHED = JobStatus.terminal()

__all__ = [
    "FINISHED", "JOBS", "WORKER_STOPPED", "WRITES", "Context", "JobFailed", "Requeue", "Superseded",
    "enqueue", "execute", "fail_interrupted", "finished_event", "queue_for", "queue_name",
    "recover_interrupted", "run_and_wait", "send", "worker_queues",
]
