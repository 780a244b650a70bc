"""Fixtures for the web tests: a lab with one user per role, clients, and a stand-in for the worker.

The worker path itself (Redis, Celery, the kernel) is tested by tests/worker; here `jobs.enqueue`
and `jobs.run_and_wait` are replaced so that the web tier's rules can be checked in isolation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from topology import jobs
from topology.choices import DeploymentState, JobStatus, Role
from topology.models import Deployment, Job, Lab, LabMembership, Team, TeamMembership, TopologyVersion

EXAMPLES = Path(settings.BASE_DIR) / "topology" / "examples"
ROLES = ["outsider", "viewer", "editor", "operator", "owner", "staff"]


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return document


@dataclass
class World:
    lab: Lab
    users: dict[str, User]
    enqueued: list[Job] = field(default_factory=list)

    def client(self, who: str) -> Client:
        client = Client()
        if who != "anonymous":
            client.force_login(self.users[who])
        return client


class FakeWorker:
    """Answers run_and_wait like a worker would (or not at all, when `answer` is False)."""

    def __init__(self) -> None:
        self.answer = True
        self.fail: str | None = None
        self.results: dict[str, Any] = {
            "tables": {"interfaces": [], "arp": [], "routes": []},
            "drift": {"drift": [], "nodes": {}},
            "plan": {"operations": [{"op": "netns.add", "node": "red", "command": "ip netns add nd-x-red"}]},
        }
        self.enqueued: list[Job] = []
        self.waited: list[Job] = []

    def enqueue(self, job: Job) -> None:
        self.enqueued.append(job)

    def run_and_wait(self, job: Job, timeout: float = 15.0) -> Job:
        self.waited.append(job)
        if not self.answer:
            raise TimeoutError(f"job {job.pk} did not finish within {timeout:g} s")
        if self.fail:
            job.status, job.error = JobStatus.FAILED, self.fail
        else:
            job.status, job.result = JobStatus.SUCCEEDED, self.results.get(job.kind)
        job.save()
        return job


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> FakeWorker:
    fake = FakeWorker()
    monkeypatch.setattr(jobs, "enqueue", fake.enqueue)
    monkeypatch.setattr(jobs, "run_and_wait", fake.run_and_wait)
    return fake


def make_user(username: str, **extra: Any) -> User:
    return User.objects.create_user(username=username, password="pw-" + username, **extra)


@pytest.fixture
def world(db: Any, worker: FakeWorker) -> World:
    users = {name: make_user(name) for name in ROLES}
    users["staff"].is_staff = True
    users["staff"].save()
    team = Team.objects.create(name="Team A", slug="team-a")
    lab = Lab.objects.create(name="Tutorial", slug="tutorial", owner=users["owner"], team=team, version=1)
    TopologyVersion.objects.create(lab=lab, number=1, document=example("seed-1-direct"), author=users["owner"])
    LabMembership.objects.create(lab=lab, user=users["viewer"], role=Role.VIEWER)
    TeamMembership.objects.create(team=team, user=users["editor"], role=Role.EDITOR)
    LabMembership.objects.create(lab=lab, user=users["operator"], role=Role.OPERATOR)
    TeamMembership.objects.create(team=team, user=users["operator"], role=Role.VIEWER)
    Deployment.objects.create(lab=lab, worker_host="test-host", state=DeploymentState.DEPLOYED)
    return World(lab=lab, users=users)
