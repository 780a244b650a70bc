"""docker-compose.yml and the scripts are checked by reading them: no Docker engine runs here."""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_has_the_five_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "redis", "web", "worker", "migrate"}


def test_only_the_worker_is_privileged(compose: dict[str, Any]) -> None:
    privileged = {name for name, svc in compose["services"].items() if svc.get("privileged")}
    assert privileged == {"worker"}


def test_web_does_not_run_as_root(compose: dict[str, Any]) -> None:
    assert compose["services"]["web"]["user"] not in {"root", "0", 0}
    assert compose["services"]["migrate"]["user"] not in {"root", "0", 0}


@pytest.mark.parametrize(
    ("service", "command"),
    [
        ("web", ["daphne", "-b", "0.0.0.0", "-p", "8000", "netdesigner.asgi:application"]),
        ("worker", ["python", "manage.py", "worker"]),
        ("migrate", ["python", "manage.py", "migrate", "--noinput"]),
    ],
)
def test_service_commands(compose: dict[str, Any], service: str, command: list[str]) -> None:
    assert compose["services"][service]["command"] == command


def test_app_services_share_one_image_and_talk_to_postgres_and_redis(compose: dict[str, Any]) -> None:
    for name in ("web", "worker", "migrate"):
        svc = compose["services"][name]
        assert svc["build"] == "."
        assert svc["environment"]["DATABASE_URL"].startswith("postgres://")
        assert urlsplit(svc["environment"]["REDIS_URL"]).hostname == "redis"  # with a password before it
    assert compose["services"]["migrate"]["restart"] == "no"
    assert compose["services"]["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_dockerfile_builds_frontend_and_installs_kernel_tools() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "npm run build" in text
    for tool in ("iproute2", "iptables", "iputils-ping"):
        assert tool in text


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_procfile_runs_web_and_worker() -> None:
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert "daphne" in lines["web"] and "netdesigner.asgi:application" in lines["web"]
    assert "manage.py worker" in lines["worker"]


def test_web_and_worker_share_the_capture_directory(compose: dict[str, Any]) -> None:
    """The worker writes a capture's pcap, the web server serves it: both mount one volume at the
    directory NETDESIGNER_CAPTURE_DIR names."""
    where = compose["services"]["worker"]["environment"]["NETDESIGNER_CAPTURE_DIR"]
    assert compose["services"]["web"]["environment"]["NETDESIGNER_CAPTURE_DIR"] == where
    mounts = {name: set(compose["services"][name].get("volumes", [])) for name in ("web", "worker")}
    assert f"captures:{where}" in mounts["web"] & mounts["worker"]
    assert "captures" in compose["volumes"]
