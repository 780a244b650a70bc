"""Settings come from the environment, with laptop defaults. Each case runs in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'],"
    " 'redis': settings.REDIS_URL, 'broker': settings.CELERY_BROKER_URL,"
    " 'layer': settings.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['address'],"
    " 'accept': settings.CELERY_ACCEPT_CONTENT, 'debug': settings.DEBUG,"
    " 'hosts': settings.ALLOWED_HOSTS}))"
)


def probe(**env: str) -> dict[str, Any]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}}
    clean.update(env, DJANGO_SETTINGS_MODULE="netdesigner.settings")
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def test_laptop_defaults() -> None:
    got = probe()
    assert got["engine"] == "django.db.backends.sqlite3"
    assert got["redis"] == got["broker"] == got["layer"] == "redis://127.0.0.1:6379/0"
    assert got["accept"] == ["json"]


def test_environment_overrides() -> None:
    got = probe(
        DATABASE_URL="postgres://u:p@db:5432/nd",
        REDIS_URL="redis://cache:6380/2",
        DEBUG="0",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="lab.example.org",
    )
    assert got["engine"] == "django.db.backends.postgresql"
    assert got["redis"] == got["broker"] == got["layer"] == "redis://cache:6380/2"
    assert got["debug"] is False
    assert got["hosts"] == ["lab.example.org"]


def test_production_without_secret_key_refuses_to_start() -> None:
    clean = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    clean.update(DEBUG="0", DJANGO_SETTINGS_MODULE="netdesigner.settings")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert out.returncode != 0
    assert "SECRET_KEY must be set" in out.stderr


@pytest.mark.parametrize("script", ["run.sh", "test.sh", "bootstrap.sh", "redis-up.sh"])
def test_scripts_are_valid_bash(script: str) -> None:
    assert subprocess.run(["bash", "-n", str(ROOT / "scripts" / script)], check=False).returncode == 0
