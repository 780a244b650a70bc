"""Shared by the benchmark scripts: Django on a throwaway SQLite file, migrated in a subprocess, and the
teardown of a stack they started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BASE = Path(__file__).resolve().parent.parent


def django_on_throwaway_db(db_path: str) -> None:
    """Migrate `db_path` and set Django up in this process against it (never the real database)."""
    env = {**os.environ, "SQLITE_PATH": db_path}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE, env=env, check=True)
    os.environ["SQLITE_PATH"] = db_path
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netdesigner.settings")
    import django

    django.setup()


def stack_cleanup(stack: Any) -> None:
    """Stop the stack (tests.stack.Stack) and remove whatever the benchmark's labs left in the kernel."""
    from tests.stack import destroy_tag
    from topology.models import Deployment

    stack.stop()
    for tag in Deployment.objects.values_list("tag", flat=True):
        destroy_tag(tag)
