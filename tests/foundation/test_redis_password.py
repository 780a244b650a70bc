"""Redis with a password by default (issue 11 item 3): the scripts and docker-compose, read and run."""

from __future__ import annotations

import os
import secrets
import socket
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ping(port: int, password: str | None) -> str:
    env = dict(os.environ, REDISCLI_AUTH=password) if password else dict(os.environ)
    env.pop("REDISCLI_AUTH", None) if password is None else None
    out = subprocess.run(["redis-cli", "--no-auth-warning", "-p", str(port), "ping"], capture_output=True,
                         text=True, env=env, check=False)
    return (out.stdout + out.stderr).strip()


@pytest.fixture
def redis_with_password() -> Any:
    port, password = free_port(), secrets.token_hex(12)
    env = dict(os.environ, REDIS_URL=f"redis://:{password}@127.0.0.1:{port}/0")
    pidfile = subprocess.run([str(ROOT / "scripts" / "redis-up.sh")], capture_output=True, text=True, env=env,
                             check=True).stdout.strip()
    try:
        yield port, password, Path(pidfile)
    finally:
        subprocess.run(["kill", Path(pidfile).read_text().strip()], check=False)


def test_redis_up_requires_the_password_of_the_url(redis_with_password: Any) -> None:
    port, password, pidfile = redis_with_password
    assert ping(port, password) == "PONG"
    assert "NOAUTH" in ping(port, None)
    assert "WRONGPASS" in ping(port, password + "x")


def test_password_is_in_no_process_list_and_its_config_is_private(redis_with_password: Any) -> None:
    port, password, pidfile = redis_with_password
    pid = pidfile.read_text().strip()
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
    assert password not in argv
    conf = pidfile.parent / "redis.conf"
    assert f"requirepass {password}" in conf.read_text()
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600


def test_redis_up_refuses_a_wrong_password_and_an_open_redis(redis_with_password: Any) -> None:
    port, password, _pidfile = redis_with_password
    wrong = subprocess.run([str(ROOT / "scripts" / "redis-up.sh")], capture_output=True, text=True, check=False,
                           env=dict(os.environ, REDIS_URL=f"redis://:nope@127.0.0.1:{port}/0"))
    assert wrong.returncode == 1 and "refuses the credentials" in wrong.stderr
    again = subprocess.run([str(ROOT / "scripts" / "redis-up.sh")], capture_output=True, text=True, check=False,
                           env=dict(os.environ, REDIS_URL=f"redis://:{password}@127.0.0.1:{port}/0"))
    assert again.returncode == 0 and again.stdout == ""  # already running: nothing started


def test_make_run_password_file_is_private_and_stable(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    script = scripts / "redis-password.sh"
    script.write_text((ROOT / "scripts" / "redis-password.sh").read_text())
    script.chmod(0o755)
    first = subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout.strip()
    second = subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout.strip()
    assert first == second and len(first) == 48
    assert stat.S_IMODE((tmp_path / ".redis-password").stat().st_mode) == 0o600


def test_run_and_test_scripts_default_to_a_password() -> None:
    run = (ROOT / "scripts" / "run.sh").read_text()
    assert 'REDIS_URL="redis://:$(scripts/redis-password.sh)@127.0.0.1:6379/0"' in run
    test = (ROOT / "scripts" / "test.sh").read_text()
    assert "REDIS_URL=${TEST_REDIS_URL:-redis://:$(head -c 16 /dev/urandom" in test
    assert ".redis-password" in (ROOT / ".gitignore").read_text()


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_every_component_reads_the_password_from_redis_url(compose: dict[str, Any]) -> None:
    for name in ("web", "worker", "migrate"):
        url = compose["services"][name]["environment"]["REDIS_URL"]
        assert url == "redis://:${REDIS_PASSWORD}@redis:6379/0"
    redis = compose["services"]["redis"]
    assert redis["environment"]["REDIS_PASSWORD"] == "${REDIS_PASSWORD:?set REDIS_PASSWORD}"
    assert "REDISCLI_AUTH" in " ".join(redis["healthcheck"]["test"])


def test_compose_redis_command_makes_a_redis_that_needs_the_password(compose: dict[str, Any]) -> None:
    """The service's own shell command, run here with compose's `$$` unescaped: a real Redis reads it."""
    command = compose["services"]["redis"]["command"]
    assert command[:2] == ["sh", "-c"]
    script = command[2].replace("$$", "$")
    password, port = secrets.token_hex(8), free_port()
    config = subprocess.run(["sh", "-c", script.replace("exec redis-server -", "cat")], capture_output=True,
                            text=True, env=dict(os.environ, REDIS_PASSWORD=password), check=True).stdout
    assert config.splitlines()[0] == f"requirepass {password}"
    proc = subprocess.Popen(["redis-server", "-"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stdin is not None
    proc.stdin.write(config + f"port {port}\nbind 127.0.0.1\n")
    proc.stdin.close()
    try:
        for _ in range(50):
            if "NOAUTH" in ping(port, None):
                break
            subprocess.run(["sleep", "0.1"], check=False)
        assert "NOAUTH" in ping(port, None)
        assert ping(port, password) == "PONG"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
