"""`python manage.py worker`: the privileged Celery worker of this host (builds labs in its kernel).

It consumes `host.<WORKER_HOST>.write` (applies and destroys of labs deployed here),
`host.<WORKER_HOST>.read` (pings and reads) and `default`: the Celery app's default queues, so plain
`celery -A netdesigner worker` does the same. Crash recovery runs in the worker's start-up signal
(topology/tasks.py), under either command.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from topology.jobs import worker_queues


class Command(BaseCommand):
    help = "Run the privileged worker of this host (needs root: it builds network namespaces)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--concurrency", type=int, default=settings.CELERY_WORKER_CONCURRENCY,
                            help="jobs run at once; reads use all but one, so a write always finds one free")
        parser.add_argument("--loglevel", default="info")
        parser.add_argument("--pool", default="prefork", choices=["prefork", "threads", "solo"],
                            help="prefork (default) isolates jobs in their own processes")

    def handle(self, *args: Any, **options: Any) -> None:
        if os.geteuid() != 0:
            raise CommandError(
                "the worker must run as root: building labs needs CAP_NET_ADMIN and CAP_SYS_ADMIN "
                "(network namespaces, veth, bridges, iptables). Run it with sudo, or `sudo make run`."
            )
        host = settings.WORKER_HOST
        from netdesigner.celery import app

        # Root is this worker's point (it builds namespaces), and it accepts JSON only, never pickle,
        # so Celery's generic "superuser" warning has nothing to tell the operator.
        warnings.filterwarnings("ignore", message="You're running the worker with superuser privileges")

        app.worker_main([
            "worker",
            "--queues", ",".join(worker_queues(host)),
            "--hostname", f"netdesigner@{host}",
            "--concurrency", str(options["concurrency"]),
            "--loglevel", options["loglevel"],
            "--pool", options["pool"],
            "--without-gossip", "--without-mingle",
        ])
