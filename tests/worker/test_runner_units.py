"""The job lifecycle in this process with a fake Kernel and a fake event sink (tests/fakes.py): rows,
deployment states, supersession, recovery, coalesced progress, logs, post-job failures.

No root, no Redis: the kernel is passed in, events go to a list, the lab lock is a file.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.fakes import FakeEvents, FakeKernel
from topology import jobs, locks, watch
from topology.choices import DeploymentState, JobKind, JobStatus
from topology.engine import api as engine
from topology.jobs import context as job_context
from topology.jobs import deployments, lifecycle, recovery, registry, retention
from topology.jobs.base import FunctionJob
from topology.jobs.publisher import Publisher
from topology.models import Deployment, Job, Lab, TopologyVersion
from topology.services import operations as ops

EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


@pytest.fixture
def kernel() -> FakeKernel:
    return FakeKernel()


@pytest.fixture
def sink() -> FakeEvents:
    return FakeEvents()


@pytest.fixture(autouse=True)
def unit_host(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.WORKER_HOST = "unit-host"
    settings.NETDESIGNER_LOCK_DIR = str(tmp_path / "locks")
    # Nobody watches (no Redis needed); tests that want watchers set it.
    monkeypatch.setattr(watch, "watched_labs", lambda now=None: [])


@pytest.fixture
def lab(django_user_model: Any) -> Lab:
    owner = django_user_model.objects.create_user(username="owner", password="x-Passw0rd!")
    lab = Lab.objects.create(name="six", slug="six", owner=owner, version=1)
    document = json.loads((EXAMPLES / "seed-6-port-forward.json").read_text())
    TopologyVersion.objects.create(lab=lab, number=1, document=document)
    return lab


def run(lab: Lab | None, kind: str, kernel: FakeKernel, sink: FakeEvents, **params: Any) -> Job:
    job = Job.objects.create(lab=lab, kind=kind, params=params, worker_host="unit-host")
    jobs.execute(job.pk, kernel=kernel, events=sink)
    job.refresh_from_db()
    return job


def request(lab: Lab, kind: str) -> Job:
    """A write job as the services make it (with the lab's new generation), not sent anywhere."""
    make = ops.lab_apply_request if kind == "apply" else ops.lab_destroy_request
    return make(lab=lab, user=None, dispatch=False)


def execute(job: Job, kernel: FakeKernel, sink: FakeEvents) -> Job:
    jobs.execute(job.pk, kernel=kernel, events=sink)
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_apply_succeeds_updates_rows_and_ends_with_the_finished_event(lab: Lab, kernel: FakeKernel, sink: FakeEvents) -> None:
    job = run(lab, "apply", kernel, sink, version=1)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.done == job.total == 5
    assert job.started is not None and job.finished is not None and job.worker_host == "unit-host"
    assert job.result is not None
    assert [op["node"] for op in job.result["operations"]] == ["host", "v-net-0", "red", "blue", "lan"]
    deployment = Deployment.objects.get(lab=lab)
    assert deployment.version is not None
    assert (deployment.state, deployment.version.number) == (DeploymentState.DEPLOYED, 1)
    types = sink.types()
    assert types[0] == "job.progress" and types[-1] == "job.finished"
    assert [e for _, e in sink.sent if e["type"] == "job.progress"][-1]["done"] == 5  # the last step always goes
    assert "tables.snapshot" not in types  # nobody watches: no snapshot at all
    assert sink.sent[-1][1] == {**sink.sent[-1][1], "job": job.pk, "kind": "apply", "status": "succeeded"}


@pytest.mark.django_db
def test_after_apply_only_a_watched_lab_gets_snapshots_of_the_nodes_the_apply_changed(
        lab: Lab, kernel: FakeKernel, sink: FakeEvents, monkeypatch: pytest.MonkeyPatch) -> None:
    snapshots: list[tuple[list[str] | None, bool]] = []
    monkeypatch.setattr(watch, "watched_labs", lambda now=None: [lab.pk])

    def publish_tables(lab_id: int, topology: Any, tag: str, *, force: bool, nodes: Any = None, read: Any = None) -> int:
        snapshots.append((nodes, locks.is_locked(lab_id)))
        return 0

    monkeypatch.setattr(watch, "publish_tables", publish_tables)
    run(lab, "apply", kernel, sink)
    # Bridges have no tables of their own; the lab lock is already released.
    assert snapshots == [(["host", "red", "blue", "lan"], False)]


@pytest.mark.django_db
def test_second_apply_passes_the_applied_version_as_previous(lab: Lab, kernel: FakeKernel, sink: FakeEvents) -> None:
    run(lab, "apply", kernel, sink)
    run(lab, "apply", kernel, sink)
    first, second = kernel.named("apply")
    assert first["previous"] is None
    assert second["previous"] is not None and second["previous"].name == "seed-6-port-forward"


@pytest.mark.django_db
def test_engine_failure_fails_job_and_deployment_and_the_next_apply_observes_everything(
        lab: Lab, kernel: FakeKernel, sink: FakeEvents) -> None:
    run(lab, "apply", kernel, sink)
    kernel.fail_apply = engine.EngineError("veth add veth-red: File exists")
    job = run(lab, "apply", kernel, sink)
    assert (job.status, job.error) == (JobStatus.FAILED, "veth add veth-red: File exists")
    deployment = Deployment.objects.get(lab=lab)
    assert (deployment.state, deployment.error) == (DeploymentState.FAILED, "veth add veth-red: File exists")
    assert sink.sent[-1][1]["type"] == "job.finished" and sink.sent[-1][1]["status"] == "failed"
    kernel.fail_apply = None
    assert run(lab, "apply", kernel, sink).status == JobStatus.SUCCEEDED
    assert kernel.named("apply")[-1]["previous"] is None  # after a failure the kernel state is unknown


@pytest.mark.django_db
def test_a_failing_snapshot_or_event_after_a_good_apply_leaves_job_and_deployment_succeeded(
        lab: Lab, kernel: FakeKernel, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("channel layer down")

    monkeypatch.setattr(watch, "watched_labs", lambda now=None: [lab.pk])
    monkeypatch.setattr(watch, "publish_tables", broken)
    publisher = Publisher(send=broken)  # the real background publisher, failing every send
    job = Job.objects.create(lab=lab, kind="apply", params={})
    jobs.execute(job.pk, kernel=kernel, events=publisher)
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.SUCCEEDED, "")
    assert Deployment.objects.get(lab=lab).state == DeploymentState.DEPLOYED
    assert publisher.failed > 0


@pytest.mark.django_db
def test_ping_publishes_each_reply_before_the_end(lab: Lab, kernel: FakeKernel, sink: FakeEvents) -> None:
    run(lab, "apply", kernel, sink)
    sink.sent.clear()
    job = run(lab, "ping", kernel, sink, source="red", target="blue", count=3)
    assert job.status == JobStatus.SUCCEEDED
    assert job.result is not None and job.result["sent"] == job.result["received"] == 3
    types = sink.types()
    assert types.index("job.finished") > max(i for i, t in enumerate(types) if t == "ping.reply")
    replies = [e for _, e in sink.sent if e["type"] == "ping.reply"]
    assert [(r["seq"], r["source"], r["target"], r["job"]) for r in replies] == [
        (1, "red", "blue", job.pk), (2, "red", "blue", job.pk), (3, "red", "blue", job.pk)]


@pytest.mark.django_db
def test_destroy_marks_destroyed_and_reads_need_a_deployment(lab: Lab, kernel: FakeKernel, sink: FakeEvents) -> None:
    run(lab, "apply", kernel, sink)
    job = run(lab, "destroy", kernel, sink)
    assert (job.status, job.result) == (JobStatus.SUCCEEDED, {"removed": 3})
    deployment = Deployment.objects.get(lab=lab)
    assert (deployment.state, deployment.version) == (DeploymentState.DESTROYED, None)
    tables = run(lab, "tables", kernel, sink, node="red")
    assert tables.status == JobStatus.FAILED and "not deployed" in tables.error


@pytest.mark.django_db
def test_a_read_s_result_rides_on_its_finished_event_and_an_apply_s_does_not(
        lab: Lab, kernel: FakeKernel, sink: FakeEvents) -> None:
    run(lab, "apply", kernel, sink)
    assert "result" not in sink.sent[-1][1]
    job = run(lab, "tables", kernel, sink, node="red")
    assert sink.sent[-1][1]["result"] == job.result == {"interfaces": [], "arp": [], "routes": [{"to": "red"}]}


@pytest.mark.django_db
def test_a_broken_channel_layer_never_fails_the_apply(lab: Lab, kernel: FakeKernel, settings: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # The real publisher and channel layer, pointed at a Redis that is not there.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                           "CONFIG": {"hosts": ["redis://127.0.0.1:9/0"]}}}
    publisher = Publisher()
    job = Job.objects.create(lab=lab, kind="apply", params={})
    jobs.execute(job.pk, kernel=kernel, events=publisher)
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.SUCCEEDED, "")
    assert Deployment.objects.get(lab=lab).state == DeploymentState.DEPLOYED
    assert publisher.flush(10) and publisher.failed > 0


@pytest.mark.django_db
def test_the_dry_run_plan_writes_no_deployment(lab: Lab, kernel: FakeKernel, sink: FakeEvents) -> None:
    job = run(lab, "plan", kernel, sink, version=1)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result is not None and len(job.result["operations"]) == 5
    assert not Deployment.objects.exists()


@pytest.mark.django_db
def test_job_that_is_not_queued_is_left_alone(lab: Lab, kernel: FakeKernel, sink: FakeEvents) -> None:
    job = run(lab, "apply", kernel, sink)
    finished = job.finished
    jobs.execute(job.pk, kernel=kernel, events=sink)  # a redelivered message
    job.refresh_from_db()
    assert job.finished == finished and len(kernel.named("apply")) == 1


@pytest.mark.django_db
def test_an_older_write_that_gets_the_lab_after_a_newer_request_is_superseded_without_touching_the_kernel(
        lab: Lab, kernel: FakeKernel, sink: FakeEvents) -> None:
    applied = execute(request(lab, "apply"), kernel, sink)
    stale = request(lab, "destroy")  # e.g. held back while the lab was busy, then its worker died
    again = execute(request(lab, "apply"), kernel, sink)  # the user re-applied meanwhile
    stale = execute(stale, kernel, sink)  # the stale message arrives at last
    assert (applied.status, again.status) == (JobStatus.SUCCEEDED, JobStatus.SUCCEEDED)
    assert stale.status == JobStatus.SUPERSEDED
    assert stale.error == f"superseded: apply job {again.pk} was requested later; this request did not run"
    assert stale.started is None and kernel.named("destroy") == []
    assert Deployment.objects.get(lab=lab).state == DeploymentState.DEPLOYED
    assert sink.sent[-1][1]["status"] == "superseded"


@pytest.mark.django_db
def test_the_latest_request_runs_even_when_it_is_a_destroy(lab: Lab, kernel: FakeKernel, sink: FakeEvents) -> None:
    first = request(lab, "apply")
    last = request(lab, "destroy")
    assert execute(first, kernel, sink).status == JobStatus.SUPERSEDED
    assert execute(last, kernel, sink).status == JobStatus.SUCCEEDED
    assert kernel.named("apply") == [] and Deployment.objects.get(lab=lab).state == DeploymentState.DESTROYED


@pytest.mark.django_db
def test_recovery_fails_started_jobs_requeues_waiting_and_queued_ones_of_this_host_only(
        lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[int] = []

    def send(job: Job, countdown: float = 0.0) -> bool:
        sent.append(job.pk)
        return True

    monkeypatch.setattr(recovery, "send", send)
    monkeypatch.setattr(recovery, "default_publisher", FakeEvents)
    Deployment.objects.create(lab=lab, worker_host="unit-host", state=DeploymentState.APPLYING)
    started = Job.objects.create(lab=lab, kind="apply", status=JobStatus.RUNNING, worker_host="unit-host",
                                 started=timezone.now())
    waiting = Job.objects.create(lab=lab, kind="destroy", status=JobStatus.RUNNING, worker_host="unit-host")
    queued = Job.objects.create(lab=lab, kind="apply", status=JobStatus.QUEUED, worker_host="unit-host")
    other = Job.objects.create(lab=lab, kind="apply", status=JobStatus.RUNNING, worker_host="elsewhere")
    elsewhere = Job.objects.create(lab=lab, kind="apply", status=JobStatus.QUEUED, worker_host="elsewhere")
    assert jobs.recover_interrupted("unit-host") == 1
    for job in (started, waiting, queued, other, elsewhere):
        job.refresh_from_db()
    assert (started.status, started.error) == (JobStatus.FAILED, jobs.WORKER_STOPPED)
    assert (waiting.status, queued.status) == (JobStatus.QUEUED, JobStatus.QUEUED)
    assert sorted(sent) == sorted([waiting.pk, queued.pk])
    assert (other.status, elsewhere.status) == (JobStatus.RUNNING, JobStatus.QUEUED)
    assert Deployment.objects.get(lab=lab).state == DeploymentState.FAILED


@pytest.mark.django_db
def test_a_queued_job_not_sent_for_long_is_sent_again_and_a_recent_one_is_not(
        lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[int] = []

    def send(job: Job, countdown: float = 0.0) -> bool:
        sent.append(job.pk)
        return True

    monkeypatch.setattr(recovery, "send", send)
    now = timezone.now()
    lost = Job.objects.create(lab=lab, kind="apply", worker_host="unit-host",
                              dispatched=now - timedelta(seconds=recovery.LOST_AFTER + 5))
    Job.objects.create(lab=lab, kind="apply", worker_host="unit-host",
                       dispatched=now - timedelta(seconds=recovery.LOST_AFTER - 30))
    unsent = Job.objects.create(lab=lab, kind="apply", worker_host="unit-host")  # the broker was away
    Job.objects.filter(pk=unsent.pk).update(created=now - timedelta(seconds=recovery.UNSENT_AFTER + 1))
    Job.objects.create(lab=lab, kind="apply", worker_host="unit-host")  # just made: its commit sends it
    assert recovery.resend_queued("unit-host", older_than=recovery.LOST_AFTER) == 2
    assert sorted(sent) == sorted([lost.pk, unsent.pk])


@pytest.mark.django_db
def test_busy_lab_fails_the_inline_job_after_the_wait_without_touching_the_deployment(
        lab: Lab, kernel: FakeKernel, sink: FakeEvents, settings: Any) -> None:
    settings.NETDESIGNER_LAB_WAIT = 0.3
    with locks.lab_lock(lab.pk):
        job = run(lab, "apply", kernel, sink)
    assert job.status == JobStatus.FAILED and "busy" in job.error
    assert not Deployment.objects.filter(lab=lab, state=DeploymentState.FAILED).exists()
    assert kernel.named("apply") == []


@pytest.mark.django_db
def test_busy_lab_sends_the_job_back_to_the_queue_keeping_its_host(
        lab: Lab, kernel: FakeKernel, sink: FakeEvents, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "BUSY_BLOCK", 0.2)
    job = Job.objects.create(lab=lab, kind="apply", params={"version": 1}, worker_host="unit-host")
    with locks.lab_lock(lab.pk), pytest.raises(jobs.Requeue):
        jobs.execute(job.pk, requeue_when_busy=True, kernel=kernel, events=sink)
    job.refresh_from_db()
    assert (job.status, job.started, job.worker_host) == (JobStatus.QUEUED, None, "unit-host")
    assert jobs.queue_for(job) == "host.unit-host.write"
    jobs.execute(job.pk, requeue_when_busy=True, kernel=kernel, events=sink)  # the lab is free now
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert [line["message"] for line in job.log].count("waiting for the lab to be free") == 1


@pytest.mark.django_db
def test_reads_beyond_the_read_slots_go_back_to_the_queue_and_writes_do_not_need_a_slot(
        lab: Lab, kernel: FakeKernel, sink: FakeEvents) -> None:
    run(lab, "apply", kernel, sink)
    read = Job.objects.create(lab=lab, kind="tables", params={"node": "red"}, worker_host="unit-host")
    with locks.read_slot(1), pytest.raises(jobs.Requeue):  # the only read slot is taken
        jobs.execute(read.pk, requeue_when_busy=True, kernel=kernel, events=sink, read_slots=1)
    assert jobs.queue_for(read) == "host.unit-host.read"
    with locks.read_slot(2):  # one of two taken: the read runs
        jobs.execute(read.pk, requeue_when_busy=True, kernel=kernel, events=sink, read_slots=2)
        write = Job.objects.create(lab=lab, kind="apply", worker_host="unit-host")
        with locks.read_slot(2):  # both taken: a write still runs
            jobs.execute(write.pk, requeue_when_busy=True, kernel=kernel, events=sink, read_slots=2)
    read.refresh_from_db()
    write.refresh_from_db()
    assert (read.status, write.status) == (JobStatus.SUCCEEDED, JobStatus.SUCCEEDED)


@pytest.mark.django_db
@pytest.mark.parametrize(("interval", "events"), [(0.0, 6), (3600.0, 2)])
def test_progress_events_are_coalesced_and_the_last_one_always_sent(
        lab: Lab, kernel: FakeKernel, sink: FakeEvents, monkeypatch: pytest.MonkeyPatch,
        interval: float, events: int) -> None:
    monkeypatch.setattr(job_context, "PROGRESS_EVENT_INTERVAL", interval)
    run(lab, "apply", kernel, sink)
    progress = [e for _, e in sink.sent if e["type"] == "job.progress"]
    # "apply started" (0/0), then one per operation, or only the last of the 5 operations.
    assert len(progress) == events and (progress[-1]["done"], progress[-1]["total"]) == (5, 5)


@pytest.mark.django_db
def test_a_long_log_keeps_its_last_lines_and_says_how_many_were_dropped(
        lab: Lab, kernel: FakeKernel, sink: FakeEvents, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_context, "MAX_LOG", 4)
    job = run(lab, "apply", kernel, sink)
    messages = [line["message"] for line in job.log]
    assert len(messages) == 5 and messages[0].startswith("(4 earlier lines dropped")
    assert messages[-1] == f"ip netns add nd-{Deployment.objects.get(lab=lab).tag}-lan"
    monkeypatch.setattr(job_context, "MAX_LOG", 2000)
    assert not any("dropped" in line["message"] for line in run(lab, "apply", kernel, sink).log)


@pytest.mark.django_db
def test_a_plain_function_becomes_a_job_kind_with_one_line(
        lab: Lab, kernel: FakeKernel, sink: FakeEvents, monkeypatch: pytest.MonkeyPatch) -> None:
    def run_echo(ctx: job_context.Context) -> dict[str, Any]:
        ctx.say("echoing")
        ctx.progress(1, 1, "echoed")
        ctx.publish({"type": "echo", "job": ctx.job.pk})
        return {"params": ctx.job.params, "tags": sorted(ctx.kernel.deployed_tags())}

    monkeypatch.setitem(registry.JOBS, JobKind.TABLES, FunctionJob.wrap(JobKind.TABLES, run_echo))
    job = run(lab, "tables", kernel, sink, node="x")
    assert (job.status, job.result) == (JobStatus.SUCCEEDED, {"params": {"node": "x"}, "tags": []})
    assert "echoing" in [line["message"] for line in job.log]
    assert "echo" in sink.types()


@pytest.mark.django_db
def test_deployment_transitions_follow_the_table(lab: Lab) -> None:
    Deployment.objects.create(lab=lab, worker_host="unit-host")
    with pytest.raises(deployments.IllegalTransition, match="from 'pending' to 'deployed'"):
        deployments.deployment_transition(lab_id=lab.pk, to=DeploymentState.DEPLOYED)
    assert deployments.deployment_transition(lab_id=lab.pk, to=DeploymentState.APPLYING)
    assert deployments.deployment_transition(lab_id=lab.pk, to=DeploymentState.DEPLOYED)
    assert not deployments.deployment_transition(lab_id=lab.pk, to=DeploymentState.DESTROYED, strict=False)
    for state, targets in deployments.ALLOWED.items():  # every state can be left towards a write
        assert DeploymentState.APPLYING in targets and DeploymentState.DESTROYING in targets, state


@pytest.mark.django_db
def test_retention_deletes_finished_jobs_older_than_the_setting_only(lab: Lab, settings: Any) -> None:
    now = timezone.now()
    old = Job.objects.create(lab=lab, kind="apply", status=JobStatus.SUCCEEDED, finished=now - timedelta(days=15))
    recent = Job.objects.create(lab=lab, kind="apply", status=JobStatus.FAILED, finished=now - timedelta(days=13))
    running = Job.objects.create(lab=lab, kind="apply", status=JobStatus.RUNNING)
    settings.NETDESIGNER_JOB_RETENTION_DAYS = 0
    assert retention.jobs_prune() == 0
    settings.NETDESIGNER_JOB_RETENTION_DAYS = 14
    assert retention.jobs_prune() == 1
    assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}
    assert not Job.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_cleanup_destroys_only_tags_without_a_deployment(lab: Lab, kernel: FakeKernel, sink: FakeEvents) -> None:
    run(lab, "apply", kernel, sink)
    mine = Deployment.objects.get(lab=lab).tag
    kernel.tags |= {"orphn1", "orphn2"}
    job = run(None, "cleanup", kernel, sink)
    assert (job.status, job.result) == (JobStatus.SUCCEEDED, {
        "removed": ["orphn1", "orphn2"], "namespaces": ["nd-orphn1-host", "nd-orphn2-host"]})
    assert [c["tag"] for c in kernel.named("destroy")] == ["orphn1", "orphn2"]
    assert mine in kernel.tags


def test_worker_command_refuses_to_start_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.management import CommandError, call_command

    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(CommandError, match="must run as root.*CAP_NET_ADMIN"):
        call_command("worker")


def test_plain_celery_worker_consumes_the_same_queues_as_manage_py_worker() -> None:
    from netdesigner import settings as project_settings
    from netdesigner.celery import app

    assert [q.name for q in app.conf.task_queues] == jobs.worker_queues(project_settings.WORKER_HOST)


def test_a_write_that_died_holding_the_lab_is_failed_by_the_next_one(lab: Lab, kernel: FakeKernel,
                                                                      sink: FakeEvents) -> None:
    """A killed `--inline` apply leaves its row running with no worker to recover it; the next write
    that gets the lab's lock knows the holder is gone. One that never got the lock (started unset, still
    waiting) is alive as far as anyone can tell, and is left alone."""
    from topology.jobs.lifecycle import HOLDER_DIED

    died = Job.objects.create(lab=lab, kind=JobKind.APPLY, status=JobStatus.RUNNING, started=timezone.now())
    waiting = Job.objects.create(lab=lab, kind=JobKind.DESTROY, status=JobStatus.RUNNING)
    reader = Job.objects.create(lab=lab, kind=JobKind.PING, status=JobStatus.RUNNING, started=timezone.now())
    assert run(lab, "apply", kernel, sink).status == JobStatus.SUCCEEDED
    died.refresh_from_db()
    assert (died.status, died.error) == (JobStatus.FAILED, HOLDER_DIED)
    assert ("job.finished", died.pk) in [(e["type"], e.get("job")) for _, e in sink.sent]
    assert Job.objects.get(pk=waiting.pk).status == JobStatus.RUNNING
    assert Job.objects.get(pk=reader.pk).status == JobStatus.RUNNING  # reads hold no lock: nothing proven
