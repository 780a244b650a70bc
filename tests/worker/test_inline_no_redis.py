"""`lab ... --inline` needs no Redis (root, real kernel, no Redis at all): it works and says in one line
what is missing; through the worker, the command refuses in one line instead of queueing a job."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.stack import BASE_DIR, destroy_lab, namespaces_of
from topology.models import Deployment, Lab

pytestmark = [pytest.mark.root]

SEED = BASE_DIR / "topology" / "examples" / "seed-1-direct.json"
NO_REDIS = "redis://127.0.0.1:9/0"  # the discard port: nothing answers there


def lab_cmd(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    py = str(BASE_DIR / ".venv" / "bin" / "python")
    return subprocess.run([py if Path(py).exists() else sys.executable, "manage.py", "lab", *args],  # noqa: S603
                          env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=120, check=False)


def test_inline_works_without_redis_and_says_so_in_one_line(transactional_db: Any, tmp_path: Path) -> None:
    from django.db import connection

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_TEST_PATH"}}
    env.update(SQLITE_PATH=str(connection.settings_dict["NAME"]), REDIS_URL=NO_REDIS, CELERY_BROKER_URL=NO_REDIS,
               NETDESIGNER_WORKER_HOST="inline-no-redis", NETDESIGNER_LOCK_DIR=str(tmp_path),
               DJANGO_SETTINGS_MODULE="netdesigner.settings")
    imported = lab_cmd(env, "import", str(SEED), "--name", "noredis")
    assert imported.returncode == 0, imported.stderr
    slug = imported.stdout.strip().splitlines()[-1]
    lab = Lab.objects.get(slug=slug)
    try:
        queued = lab_cmd(env, "apply", slug)
        assert queued.returncode == 1
        assert queued.stderr.strip().splitlines() == [
            f"no Redis answers at {NO_REDIS}, so the worker cannot get the job: start Redis "
            "(scripts/redis-up.sh, or `make run`), or run the job here with --inline"]
        assert not lab.jobs.exists()
        applied = lab_cmd(env, "apply", slug, "--inline")
        assert applied.returncode == 0, applied.stderr
        assert "Traceback" not in applied.stderr
        assert [line for line in applied.stderr.splitlines() if line.strip()] == [
            f"note: no Redis answers at {NO_REDIS}: the job runs here all the same, but nobody watching the lab "
            "sees its progress live (start Redis with scripts/redis-up.sh, or set REDIS_URL)"]
        tag = Deployment.objects.get(lab=lab).tag
        assert len(namespaces_of(tag)) == 2 and Deployment.objects.get(lab=lab).state == "deployed"
        destroyed = lab_cmd(env, "destroy", slug, "--inline")
        assert destroyed.returncode == 0 and "Traceback" not in destroyed.stderr, destroyed.stderr
        assert namespaces_of(tag) == []
    finally:
        destroy_lab(lab)
