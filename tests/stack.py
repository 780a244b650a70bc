"""Fixtures that start the real stack for integration and browser tests.

- `redis_url`: the Redis of REDIS_URL (skips with the reason when none answers).
- `stack`: a real daphne (ASGI: HTTP + websockets) and a real `manage.py worker` (Celery, prefork,
  root) started once per session against the pytest-django test database (a SQLite file, so the
  subprocesses share it), with a worker host name unique to the run. Function-scoped on top of
  `transactional_db` (rows must be committed for the subprocesses to see them). After each test it
  waits for the test's jobs, destroys the namespaces of every deployment the test made, and prints
  the subprocesses' logs when the test failed.
- `live_server_url`: the daphne base URL (http://127.0.0.1:<port>).

Helpers for clients: `make_user`, `session_cookie` / `session_cookie_pair`, `api_token`, `api` (HTTP JSON against the stack),
`ws_connect` / `Socket` (a websockets client that collects typed events).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "stack-Passw0rd!"  # noqa: S105 - test users only


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    """A subprocess in its own process group (so a kill reaches its children), logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logdir: Path) -> None:
        self.name, self.argv, self.env, self.logdir = name, argv, env, logdir
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_path = logdir / f"{name}.log"

    def start(self) -> None:
        self.starts += 1
        self.log_path = self.logdir / f"{self.name}-{self.starts}.log"
        with open(self.log_path, "wb") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - argv list
                self.argv, env=self.env, cwd=BASE_DIR, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def kill(self, sig: int = signal.SIGKILL, wait: float = 15.0) -> None:
        """Signal the whole group (the Celery pool too) and wait; SIGKILL after `wait` seconds."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)
        # Pool children die with the group; make sure none outlives it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def stop(self) -> None:
        self.kill(signal.SIGTERM, wait=10.0)


class Stack:
    """The running web server and worker, with what clients need to reach them."""

    def __init__(self, *, db_path: str, redis_url: str, logdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.worker_host = f"test-{secrets.token_hex(4)}"
        self.redis_url = redis_url
        self.db_path = db_path
        self.logdir = logdir
        self.tags: set[str] = set()
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_TEST_PATH"}}
        env.update(
            SQLITE_PATH=db_path,
            REDIS_URL=redis_url,
            CELERY_BROKER_URL=redis_url,
            NETDESIGNER_WORKER_HOST=self.worker_host,
            DJANGO_SETTINGS_MODULE="netdesigner.settings",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            CSRF_TRUSTED_ORIGINS=f"{self.url},http://localhost:{self.port}",
            PYTHONUNBUFFERED="1",
            DEBUG="1",
        )
        self.env = env
        py = str(BASE_DIR / ".venv" / "bin" / "python")
        if not Path(py).exists():
            py = sys.executable
        self.daphne = Proc("daphne", [py, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                                      "netdesigner.asgi:application"], env, logdir)
        self.worker = Proc("worker", [py, "manage.py", "worker", "--concurrency", "4", "--loglevel", "info"],
                           env, logdir)

    # -- lifecycle

    def start(self) -> None:
        self.daphne.start()
        self.start_worker(wait=False)
        self.wait_web()
        self.wait_worker()

    def stop(self) -> None:
        for proc in (self.worker, self.daphne):
            with contextlib.suppress(Exception):
                proc.stop()

    def start_worker(self, *, wait: bool = True) -> None:
        self.worker.start()
        if wait:
            self.wait_worker()

    def kill_worker(self) -> None:
        """SIGKILL the worker and its pool, as a crash or an OOM kill would."""
        self.worker.kill(signal.SIGKILL)

    def wait_web(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.daphne.alive():
                raise RuntimeError(f"daphne exited:\n{self.daphne.log()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):  # noqa: S310 - loopback
                    return
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"daphne did not answer within {timeout:g} s:\n{self.daphne.log()}")

    def wait_worker(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.worker.alive():
                raise RuntimeError(f"the worker exited:\n{self.worker.log()}")
            if " ready." in self.worker.log():
                return
            time.sleep(0.1)
        raise RuntimeError(f"the worker was not ready within {timeout:g} s:\n{self.worker.log()}")

    def logs(self) -> str:
        return "\n".join(
            f"----- {p.name} (start {p.starts}, {p.log_path}) -----\n{p.log()[-20000:]}"
            for p in (self.daphne, self.worker)
        )

    # -- cleanup of what tests deployed

    def wait_jobs_idle(self, timeout: float = 60.0) -> None:
        from topology.models import Job

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.worker.alive():
            if not Job.objects.filter(status__in=["queued", "running"]).exists():
                return
            time.sleep(0.2)

    def destroy_deployments(self) -> None:
        """Remove the namespaces of every deployment in the database (the test's ones)."""
        from topology.models import Deployment

        self.tags.update(Deployment.objects.values_list("tag", flat=True))
        for tag in sorted(self.tags):
            destroy_tag(tag)


def destroy_tag(tag: str) -> None:
    """Delete every nd-<tag>-* namespace (the tag is the test's own deployment): through the engine as
    the install whose mark they carry (the test database's), then any left with `ip netns del`."""
    if os.geteuid() != 0:
        return
    try:
        from topology.engine import api as engine
        from topology.engine.observer import read_mark
        from topology.engine.state import mark_owner

        installs = {owner[1] for ns in namespaces_of(tag) if (owner := mark_owner(read_mark(ns)))}
        for install in sorted(installs) or ["local"]:
            engine.destroy(tag, install=install)
        if not namespaces_of(tag):
            return
    except Exception:  # noqa: BLE001 - fall back to plain ip(8)
        pass
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout  # noqa: S607
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(f"nd-{tag}-"):
            subprocess.run(["ip", "netns", "del", name], check=False)  # noqa: S607


def destroy_lab(lab: Any) -> None:
    """Delete the namespaces of the lab's deployment, if it has one (for a test's `finally`)."""
    from topology.models import Deployment

    tag = Deployment.objects.filter(lab=lab).values_list("tag", flat=True).first()
    if tag:
        destroy_tag(tag)


def namespaces_of(tag: str) -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout  # noqa: S607
    return sorted(w.split()[0] for w in out.splitlines() if w.split() and w.split()[0].startswith(f"nd-{tag}-"))


# ---------------------------------------------------------------- fixtures


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: Any = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis
    from django.conf import settings

    url = os.environ.get("REDIS_URL") or settings.REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no Redis answers at {url} ({exc}); start one (scripts/redis-up.sh) and set REDIS_URL")
    return url


@pytest.fixture(scope="session")
def _stack_session(django_db_setup: Any, django_db_blocker: Any, redis_url: str) -> Iterator[Stack]:
    import redis
    from django.db import connection

    if os.geteuid() != 0:
        pytest.skip("the stack's worker needs root (network namespaces)")
    with django_db_blocker.unblock():
        db_path = str(connection.settings_dict["NAME"])
    if connection.vendor != "sqlite" or db_path.startswith(("file:", ":memory:")):
        pytest.skip(f"the stack shares the test database through a SQLite file, not {db_path!r}")
    logdir = Path(tempfile.mkdtemp(prefix="netdesigner-stack-"))
    stack = Stack(db_path=db_path, redis_url=redis_url, logdir=logdir)
    try:
        stack.start()
        yield stack
    except RuntimeError as exc:
        pytest.fail(f"could not start the stack: {exc}\n{stack.logs()}")
    finally:
        stack.stop()
        for tag in sorted(stack.tags):
            destroy_tag(tag)
        with contextlib.suppress(Exception):  # messages left for this run's worker host
            redis.Redis.from_url(redis_url).delete(f"host.{stack.worker_host}")


@pytest.fixture
def stack(_stack_session: Stack, transactional_db: Any, request: pytest.FixtureRequest) -> Iterator[Stack]:
    from django.conf import settings

    s = _stack_session
    # Only while a stack test runs do deployments made in this process go to the stack's worker: a
    # transactional web test elsewhere must never have its jobs applied to the kernel by it.
    saved_host, settings.WORKER_HOST = settings.WORKER_HOST, s.worker_host
    if not s.worker.alive():  # a test killed it (fault tests): bring it back for the next one
        s.start_worker()
    if not s.daphne.alive():
        s.daphne.start()
        s.wait_web()
    try:
        yield s
    finally:
        failed = any(getattr(getattr(request.node, f"rep_{w}", None), "failed", False) for w in ("setup", "call"))
        if failed:
            print(s.logs())  # shown by pytest with the failure
        if not s.worker.alive():
            s.start_worker()
        s.wait_jobs_idle()
        s.destroy_deployments()
        settings.WORKER_HOST = saved_host


@pytest.fixture
def live_server_url(stack: Stack) -> str:
    return stack.url


# ---------------------------------------------------------------- clients


def make_user(username: str, *, staff: bool = False) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username, password=PASSWORD, is_staff=staff)


def session_cookie(user: Any) -> str:
    """A logged-in session for `user`, as the value of a Cookie header ("sessionid=...")."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def session_cookie_pair(user: Any) -> tuple[str, str]:
    """(name, value) of a logged-in session cookie, e.g. for Playwright's context.add_cookies."""
    name, _, value = session_cookie(user).partition("=")
    return name, value


def api_token(user: Any) -> str:
    from topology.services.tokens import token_issue

    key = token_issue(user=user).key
    assert key is not None
    return key


def api(stack: Stack, method: str, path: str, body: Any = None, *, token: str | None = None,
        timeout: float = 30.0) -> tuple[int, Any]:
    """One JSON request to the stack's REST API; returns (status, parsed body or text)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(stack.url + path, data=data, method=method)  # noqa: S310 - loopback
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


class Socket:
    """A websocket client on /ws/labs/<id>/ that keeps every event it received, in order."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.events: list[dict[str, Any]] = []

    def recv(self, timeout: float) -> dict[str, Any]:
        event = json.loads(self.conn.recv(timeout=timeout))
        event["_received"] = time.time()
        self.events.append(event)
        return event  # type: ignore[no-any-return]

    def until(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> dict[str, Any]:
        """Receive until an event matches; TimeoutError (with what came) when none does in time."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                types = [e.get("type") for e in self.events[-30:]]
                raise TimeoutError(f"no matching event within {timeout:g} s; last received: {types}")
            try:
                event = self.recv(timeout=left)
            except TimeoutError:
                continue
            if predicate(event):
                return event

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == kind]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ws_connect(stack: Stack, lab_id: int, *, token: str | None = None, cookie: str | None = None,
               origin: str | None = None) -> Socket:
    """Open the lab's websocket as a browser would (Origin of the site; cookie or ?token=)."""
    from websockets.sync.client import connect
    from websockets.typing import Origin

    url = f"{stack.ws_url}/ws/labs/{lab_id}/"
    if token:
        url += f"?token={token}"
    headers = {"Cookie": cookie} if cookie else {}
    conn = connect(url, origin=Origin(origin or stack.url), additional_headers=headers, open_timeout=10, legacy=True)
    return Socket(conn)
