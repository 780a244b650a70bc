"""The job runner in this process with a fake engine: rows, deployment states, events, recovery, locks.

Real Redis (locks and table hashes), no kernel: the engine's kernel functions are replaced.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from topology import events, jobs, locks
from topology.choices import DeploymentState, JobStatus
from topology.engine import api as engine
from topology.engine.ops import NetnsAdd
from topology.models import Deployment, Job, Lab, TopologyVersion

Published = list[tuple[int, dict[str, Any]]]
Calls = dict[str, Any]
EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Published:
    sent: list[tuple[int, dict[str, Any]]] = []
    monkeypatch.setattr(events, "publish", lambda lab_id, event: sent.append((lab_id, event)))
    return sent


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch, redis_url: str, settings: Any) -> dict[str, Any]:
    settings.REDIS_URL = redis_url
    settings.WORKER_HOST = "unit-host"
    calls: dict[str, Any] = {"apply": [], "destroy": []}

    def apply(topology: Any, tag: str, progress: Any = None, previous: Any = None,
              **_: Any) -> list[NetnsAdd]:
        calls["apply"].append({"tag": tag, "previous": previous})
        ops = [NetnsAdd(ns=f"nd-{tag}-{n.name}", node=n.name, mark="") for n in topology.nodes]
        for i, op in enumerate(ops, 1):
            progress(i, len(ops), op.command)
        return ops

    def destroy(tag: str, progress: Any = None, **_: Any) -> int:
        calls["destroy"].append(tag)
        return 3

    def tables(topology: Any, tag: str, node: str) -> dict[str, Any]:
        return {"interfaces": [], "arp": [], "routes": [{"to": node}]}

    def ping(topology: Any, tag: str, source: str, target: str, count: int = 3, interval: float = 0.2,
             timeout: float = 1.0) -> Any:
        for seq in range(1, count + 1):
            yield engine.PingReply(seq=seq, ttl=64, rtt_ms=0.05)
        yield engine.PingResult(sent=count, received=count,
                                replies=[engine.PingReply(seq=s, ttl=64, rtt_ms=0.05) for s in range(1, count + 1)])

    monkeypatch.setattr(engine, "apply", apply)
    monkeypatch.setattr(engine, "destroy", destroy)
    monkeypatch.setattr(engine, "tables", tables)
    monkeypatch.setattr(engine, "ping", ping)
    return calls


@pytest.fixture
def lab(django_user_model: Any) -> Lab:
    owner = django_user_model.objects.create_user(username="owner", password="x-Passw0rd!")
    lab = Lab.objects.create(name="six", slug="six", owner=owner, version=1)
    document = json.loads((EXAMPLES / "seed-6-port-forward.json").read_text())
    TopologyVersion.objects.create(lab=lab, number=1, document=document)
    return lab


def run(lab: Lab | None, kind: str, **params: Any) -> Job:
    job = Job.objects.create(lab=lab, kind=kind, params=params)
    jobs.execute(job.pk)
    job.refresh_from_db()
    return job


@pytest.mark.services
@pytest.mark.django_db
def test_apply_succeeds_updates_rows_and_streams_progress(lab: Lab, fake_engine: Calls, published: Published) -> None:
    job = run(lab, "apply", version=1)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.done == job.total == 5
    assert job.started is not None and job.finished is not None and job.worker_host == "unit-host"
    assert job.result is not None
    assert [op["node"] for op in job.result["operations"]] == ["host", "v-net-0", "red", "blue", "lan"]
    deployment = Deployment.objects.get(lab=lab)
    assert deployment.version is not None
    assert (deployment.state, deployment.version.number) == (DeploymentState.DEPLOYED, 1)
    types = [e["type"] for _, e in published]
    assert types[0] == "job.progress" and types[-1] == "job.finished"
    steps = [e for _, e in published if e["type"] == "job.progress" and e["total"] == 5]
    assert [e["done"] for e in steps] == [1, 2, 3, 4, 5]
    # A snapshot of every node that has tables (bridges have none), before the end.
    assert sorted(e["node"] for _, e in published if e["type"] == "tables.snapshot") == ["blue", "host", "lan", "red"]
    assert published[-1][1] == {**published[-1][1], "job": job.pk, "kind": "apply", "status": "succeeded"}


@pytest.mark.services
@pytest.mark.django_db
def test_second_apply_passes_the_applied_version_as_previous(lab: Lab, fake_engine: Calls, published: Published) -> None:
    run(lab, "apply")
    run(lab, "apply")
    first, second = fake_engine["apply"]
    assert first["previous"] is None
    assert second["previous"] is not None and second["previous"].name == "seed-6-port-forward"


@pytest.mark.services
@pytest.mark.django_db
def test_engine_failure_fails_job_and_deployment_with_the_reason(lab: Lab, fake_engine: Calls, published: Published, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise engine.EngineError("veth add veth-red: File exists")

    monkeypatch.setattr(engine, "apply", broken)
    job = run(lab, "apply")
    assert (job.status, job.error) == (JobStatus.FAILED, "veth add veth-red: File exists")
    deployment = Deployment.objects.get(lab=lab)
    assert (deployment.state, deployment.error) == (DeploymentState.FAILED, "veth add veth-red: File exists")
    assert published[-1][1]["type"] == "job.finished" and published[-1][1]["status"] == "failed"
    # After a failure the kernel state is unknown: the next apply observes everything.
    monkeypatch.setattr(engine, "apply", lambda t, tag, progress=None, previous=None, **_: [] if previous is None
                        else 1 / 0)
    assert run(lab, "apply").status == JobStatus.SUCCEEDED


@pytest.mark.services
@pytest.mark.django_db
def test_ping_publishes_each_reply_before_the_end(lab: Lab, fake_engine: Calls, published: Published) -> None:
    run(lab, "apply")
    published.clear()
    job = run(lab, "ping", source="red", target="blue", count=3)
    assert job.status == JobStatus.SUCCEEDED
    assert job.result is not None and job.result["sent"] == job.result["received"] == 3
    types = [e["type"] for _, e in published]
    assert types.index("job.finished") > max(i for i, t in enumerate(types) if t == "ping.reply")
    replies = [e for _, e in published if e["type"] == "ping.reply"]
    assert [(r["seq"], r["source"], r["target"], r["job"]) for r in replies] == [
        (1, "red", "blue", job.pk), (2, "red", "blue", job.pk), (3, "red", "blue", job.pk)]
    assert all("ts" in r and r["ttl"] == 64 for r in replies)


@pytest.mark.services
@pytest.mark.django_db
def test_destroy_marks_destroyed_and_reads_need_a_deployment(lab: Lab, fake_engine: Calls, published: Published) -> None:
    run(lab, "apply")
    job = run(lab, "destroy")
    assert (job.status, job.result) == (JobStatus.SUCCEEDED, {"removed": 3})
    deployment = Deployment.objects.get(lab=lab)
    assert (deployment.state, deployment.version) == (DeploymentState.DESTROYED, None)
    tables = run(lab, "tables", node="red")
    assert tables.status == JobStatus.FAILED and "not deployed" in tables.error


@pytest.mark.services
@pytest.mark.django_db
def test_job_that_is_not_queued_is_left_alone(lab: Lab, fake_engine: Calls, published: Published) -> None:
    job = run(lab, "apply")
    finished = job.finished
    jobs.execute(job.pk)  # a redelivered message
    job.refresh_from_db()
    assert job.finished == finished and len(fake_engine["apply"]) == 1


@pytest.mark.services
@pytest.mark.django_db
def test_recovery_fails_running_jobs_of_this_host_only(lab: Lab, fake_engine: Calls, published: Published) -> None:
    Deployment.objects.create(lab=lab, worker_host="unit-host", state=DeploymentState.APPLYING)
    mine = Job.objects.create(lab=lab, kind="apply", status=JobStatus.RUNNING, worker_host="unit-host")
    other = Job.objects.create(lab=lab, kind="apply", status=JobStatus.RUNNING, worker_host="elsewhere")
    assert jobs.recover_interrupted("unit-host") == 1
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.status, mine.error) == (JobStatus.FAILED, jobs.WORKER_STOPPED)
    assert other.status == JobStatus.RUNNING
    assert Deployment.objects.get(lab=lab).state == DeploymentState.FAILED
    assert published[-1][1]["type"] == "job.finished" and published[-1][1]["job"] == mine.pk


@pytest.mark.services
@pytest.mark.django_db
def test_busy_lab_fails_the_waiting_job_without_touching_the_deployment(lab: Lab, fake_engine: Calls, published: Published, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locks, "DEFAULT_WAIT", 0.3)
    with locks.lab_lock(lab.pk):
        job = run(lab, "apply")
    assert job.status == JobStatus.FAILED and "busy" in job.error
    assert not Deployment.objects.filter(lab=lab, state=DeploymentState.FAILED).exists()


@pytest.mark.services
@pytest.mark.django_db
def test_busy_lab_sends_the_job_back_to_the_queue_instead_of_holding_the_process(
        lab: Lab, fake_engine: Calls, published: Published, monkeypatch: pytest.MonkeyPatch) -> None:
    from topology import runners

    monkeypatch.setattr(runners, "BUSY_BLOCK", 0.2)
    job = Job.objects.create(lab=lab, kind="apply", params={"version": 1})
    with locks.lab_lock(lab.pk), pytest.raises(jobs.Requeue):
        jobs.execute(job.pk, requeue_when_busy=True)
    job.refresh_from_db()
    assert (job.status, job.started, job.worker_host) == (JobStatus.QUEUED, None, "")
    jobs.execute(job.pk, requeue_when_busy=True)  # the lab is free now
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert [line["message"] for line in job.log].count("waiting for the lab to be free") == 1


@pytest.mark.services
@pytest.mark.django_db
def test_older_apply_that_gets_the_lab_last_does_not_roll_back_the_newer(
        lab: Lab, fake_engine: Calls, published: Published) -> None:
    older = Job.objects.create(lab=lab, kind="apply", params={"version": 1})
    newer = run(lab, "apply", version=1)
    jobs.execute(older.pk)
    older.refresh_from_db()
    assert newer.status == JobStatus.SUCCEEDED
    assert older.status == JobStatus.FAILED and older.error == f"superseded: apply job {newer.pk}, requested later, already ran"
    assert len(fake_engine["apply"]) == 1
    assert Deployment.objects.get(lab=lab).state == DeploymentState.DEPLOYED


@pytest.mark.services
def test_lab_lock_serialises_one_lab_and_not_two(redis_url: str, settings: Any) -> None:
    settings.REDIS_URL = redis_url
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with locks.lab_lock(900001):
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(locks.LabBusy), locks.lab_lock(900001, wait=0.2):
            pass
        with locks.lab_lock(900002, wait=0.2) as other:  # another lab: free at once
            assert other.owned()
    finally:
        release.set()
        holder.join(10)
    with locks.lab_lock(900001, wait=2) as again:  # released when the holder left its block
        assert again.owned()


@pytest.mark.services
@pytest.mark.django_db
def test_watcher_publishes_only_nodes_whose_tables_changed_and_only_when_watched(lab: Lab, fake_engine: Calls, published: Published, monkeypatch: pytest.MonkeyPatch) -> None:
    from topology import watch

    run(lab, "apply")
    watcher = watch.TablesWatcher(host="unit-host")
    client = locks.redis_client()
    client.zrem(watch.WATCHED, str(lab.pk))
    published.clear()
    assert watcher.sweep() == 0  # nobody watches
    client.zadd(watch.WATCHED, {str(lab.pk): time.time()})
    try:
        assert watcher.sweep() == 0  # watched, but nothing changed since the apply's snapshots
        real = engine.tables

        def red_changed(topology: Any, tag: str, node: str) -> dict[str, Any]:
            tables = real(topology, tag, node)
            return {**tables, "arp": [{"ip": "192.168.15.2", "mac": "aa:bb:cc:dd:ee:ff"}]} if node == "red" else tables

        monkeypatch.setattr(engine, "tables", red_changed)
        assert watcher.sweep() == 1
        assert [e["node"] for _, e in published] == ["red"]
        assert watcher.sweep() == 0
    finally:
        client.zrem(watch.WATCHED, str(lab.pk))


def test_worker_command_refuses_to_start_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.management import CommandError, call_command

    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(CommandError, match="must run as root.*CAP_NET_ADMIN"):
        call_command("worker")


@pytest.mark.services
@pytest.mark.django_db
def test_watcher_reads_a_big_lab_a_slice_per_sweep_in_turn(lab: Lab, fake_engine: Calls, published: Published,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from topology import watch

    run(lab, "apply")
    read: list[str] = []
    real = engine.tables

    def reading(topology: Any, tag: str, node: str) -> dict[str, Any]:
        read.append(node)
        return real(topology, tag, node)

    monkeypatch.setattr(engine, "tables", reading)
    monkeypatch.setattr(watch, "NODES_PER_SWEEP", 3)
    watcher = watch.TablesWatcher(host="unit-host")
    client = locks.redis_client()
    client.zadd(watch.WATCHED, {str(lab.pk): time.time()})
    try:
        watcher.sweep()
        watcher.sweep()
    finally:
        client.zrem(watch.WATCHED, str(lab.pk))
    # host, red, blue, lan have tables (v-net-0 is a bridge): 3 per sweep, continuing where it stopped.
    assert read == ["host", "red", "blue", "lan", "host", "red"]


@pytest.mark.services
@pytest.mark.django_db
def test_cleanup_destroys_only_tags_without_a_deployment(lab: Lab, fake_engine: Calls, published: Published,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    run(lab, "apply")
    mine = Deployment.objects.get(lab=lab).tag
    monkeypatch.setattr(engine, "owned", lambda install: {t: [f"nd-{t}-a"] for t in (mine, "orphn1", "orphn2")})
    job = run(None, "cleanup")
    assert (job.status, job.result) == (JobStatus.SUCCEEDED, {"removed": ["orphn1", "orphn2"],
                                                              "namespaces": ["nd-orphn1-a", "nd-orphn2-a"]})
    assert fake_engine["destroy"] == ["orphn1", "orphn2"]
