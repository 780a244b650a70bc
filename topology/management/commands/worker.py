"""`python manage.py worker`: the privileged Celery worker of this host (builds labs in its kernel).

It consumes `host.<WORKER_HOST>` (labs deployed here) and `default`. Before taking jobs it fails the
jobs a previous run left `running` (crash recovery): the next apply converges the kernel.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from topology.jobs import queue_name, recover_interrupted


class Command(BaseCommand):
    help = "Run the privileged worker of this host (needs root: it builds network namespaces)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--concurrency", type=int, default=4,
                            help="jobs run at once (a long apply must not hold up pings of other labs)")
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
        failed = recover_interrupted(host)
        if failed:
            self.stderr.write(f"failed {failed} job(s) left running by a previous stop of this worker")
        from netdesigner.celery import app

        # Root is this worker's point (it builds namespaces), and it accepts JSON only, never pickle,
        # so Celery's generic "superuser" warning has nothing to tell the operator.
        warnings.filterwarnings("ignore", message="You're running the worker with superuser privileges")

        app.worker_main([
            "worker",
            "--queues", f"{queue_name(host)},default",
            "--hostname", f"netdesigner@{host}",
            "--concurrency", str(options["concurrency"]),
            "--loglevel", options["loglevel"],
            "--pool", options["pool"],
            "--without-gossip", "--without-mingle",
        ])
