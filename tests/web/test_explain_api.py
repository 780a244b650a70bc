"""POST /explain and /test: roles as for ping (operator), parameters checked, jobs made; the job bodies
run in this process on a lab that is not deployed (predicted only, no root) and with a fake kernel."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

from topology import jobs
from topology.choices import DeploymentState, JobKind, JobStatus
from topology.models import Deployment, Job, TopologyVersion

from .conftest import FakeWorker, World, example


def post(client: Any, url: str, body: Any = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("editor", 403), ("operator", 202), ("owner", 202),
                                             ("outsider", 404), ("anonymous", 401)])
def test_explain_needs_the_operator_role_like_ping(world: World, worker: FakeWorker, who: str, status: int) -> None:
    response = post(world.client(who), f"/api/labs/{world.lab.pk}/explain", {"source": "red", "target": "blue"})
    assert response.status_code == status, response.content
    if status == 202:
        job = Job.objects.get(pk=response.json()["job"])
        assert job.kind == JobKind.EXPLAIN
        assert job.params == {"source": "red", "target": "blue", "protocol": "icmp", "port": None}
        assert worker.enqueued[-1].pk == job.pk


@pytest.mark.parametrize(("body", "paths"), [
    ({"source": "green", "target": "; reboot"}, {"source", "target"}),
    ({"source": "red", "target": "blue", "protocol": "sctp"}, {"protocol"}),
    ({"source": "red", "target": "blue", "protocol": "tcp"}, {"port"}),
    ({"source": "red", "target": "blue", "protocol": "udp", "port": 70000}, {"port"}),
    ({"source": "red", "target": "blue", "port": 80}, {"port"}),
])
def test_explain_params_are_checked(world: World, worker: FakeWorker, body: dict[str, Any], paths: set[str]) -> None:
    response = post(world.client("operator"), f"/api/labs/{world.lab.pk}/explain", body)
    assert response.status_code == 422
    assert {e["path"] for e in response.json()["errors"]} == paths
    assert worker.enqueued == []


def test_test_needs_an_applied_version(world: World, worker: FakeWorker) -> None:
    url = f"/api/labs/{world.lab.pk}/test"
    assert post(world.client("viewer"), url).status_code == 403
    response = post(world.client("operator"), url)  # the world's deployment has no applied version
    assert response.status_code == 409 and "apply it first" in response.json()["detail"]
    Deployment.objects.filter(lab=world.lab).update(version=TopologyVersion.objects.get(lab=world.lab))
    response = post(world.client("operator"), url)
    assert response.status_code == 202
    assert Job.objects.get(pk=response.json()["job"]).kind == JobKind.TEST


def test_explain_of_an_undeployed_lab_is_predicted_only(world: World, settings: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(jobs, "enqueue", lambda job: None)
    sink = ListSink(sent)
    settings.WORKER_HOST = "test-host"
    Deployment.objects.filter(lab=world.lab).update(state=DeploymentState.PENDING)
    TopologyVersion.objects.filter(lab=world.lab).update(document=example("seed-4-outside-no-nat"))
    response = post(world.client("operator"), f"/api/labs/{world.lab.pk}/explain",
                    {"source": "blue", "target": "192.168.1.3"})
    job_id = response.json()["job"]
    jobs.execute(job_id, events=sink)
    job = world.client("viewer").get(f"/api/jobs/{job_id}").json()
    assert job["status"] == JobStatus.SUCCEEDED, job
    result = job["result"]
    assert result["measured"] is None and result["agree"] is None
    assert result["predicted"]["verdict"] == "no-reply"
    assert "masquerade 192.168.15.0/24 on host" in result["predicted"]["reason"]
    assert {"source", "target", "protocol", "port", "predicted", "measured", "agree"} <= set(result)
    assert any(e["type"] == "explain.result" and e["verdict"] == "no-reply" for e in sent)
    assert any(e["type"] == "job.finished" and e["kind"] == "explain" for e in sent)


class ListSink:
    """The job's event sink, keeping every event in `sent` (the lab id aside)."""

    def __init__(self, sent: list[dict[str, Any]]) -> None:
        self.sent = sent

    def put(self, lab_id: int, event: dict[str, Any]) -> None:
        self.sent.append(event)

    def flush(self, timeout: float = 2.0) -> bool:
        return True


class FakeKernel:
    """Stands in for the kernel: the prediction is real, the measurement is whatever `verdicts` says."""

    def __init__(self, verdicts: dict[tuple[str, str], str]) -> None:
        self.verdicts = verdicts
        self.asked: list[tuple[str, str, str, int | None]] = []

    def explain(self, topology: Any, tag: str | None, source: str, target: str, protocol: str = "icmp",
                port: int | None = None) -> dict[str, Any]:
        from topology.engine.explain import explain

        self.asked.append((source, target, protocol, port))
        result = explain(topology, None, source, target, protocol, port)
        verdict = self.verdicts[(source, target)]
        result["measured"] = {"verdict": verdict, "detail": "fake"}
        result["agree"] = verdict == result["predicted"]["verdict"]
        return result


def test_test_job_runs_every_check_and_publishes_each(world: World, settings: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(jobs, "enqueue", lambda job: None)
    sink = ListSink(sent)
    kernel = FakeKernel({("lan", "192.168.1.2"): "reachable", ("blue", "192.168.1.3"): "no-reply"})
    settings.WORKER_HOST = "test-host"
    version = TopologyVersion.objects.get(lab=world.lab)
    version.document = example("seed-6-port-forward")
    version.save()
    Deployment.objects.filter(lab=world.lab).update(version=version, tag="abc123")
    response = post(world.client("operator"), f"/api/labs/{world.lab.pk}/test")
    jobs.execute(response.json()["job"], events=sink, kernel=cast(Any, kernel))
    job = Job.objects.get(pk=response.json()["job"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    result: dict[str, Any] = job.result or {}
    assert set(result) == {"passed", "failed", "checks"}  # exactly the `lab test --json` shape
    assert (result["passed"], result["failed"]) == (1, 1)
    rows = result["checks"]
    assert [set(r) for r in rows] == [{"check", "passed", "measured", "explain"}] * 2
    assert rows[0]["check"] == {"name": "the port forward reaches blue:80", "from": "lan", "to": "192.168.1.2",
                                "protocol": "tcp", "port": 8080, "expect": "reachable"}
    assert rows[0]["passed"] and not rows[1]["passed"] and rows[1]["measured"] == "no-reply: fake"
    assert kernel.asked == [("lan", "192.168.1.2", "tcp", 8080), ("blue", "192.168.1.3", "icmp", None)]
    events = [e for e in sent if e["type"] == "test.result"]
    assert [e["index"] for e in events] == [0, 1] and events[1]["passed"] is False
