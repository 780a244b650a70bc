"""Capture over the API: roles, request checks, path captures, the pcap download and the files' removal.
The worker is the stand-in of tests/web/conftest.py; the real one is in tests/worker/test_capture_stream.py."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import dpkt
import pytest

from topology import captures
from topology.choices import DeploymentState, JobKind, JobStatus
from topology.engine.capture import Packet, PcapWriter
from topology.models import Deployment, Job, TopologyVersion

from .conftest import FakeWorker, World, example


def post(client: Any, url: str, body: Any = None) -> Any:
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


@pytest.fixture(autouse=True)
def store(settings: Any, tmp_path: Path) -> Path:
    settings.NETDESIGNER_CAPTURE_DIR = str(tmp_path / "captures")
    return tmp_path / "captures"


def url(world: World) -> str:
    return f"/api/labs/{world.lab.pk}/captures"


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("viewer", 403), ("editor", 403),
                                             ("operator", 202), ("owner", 202), ("staff", 202)])
def test_capturing_needs_the_operator_role(world: World, worker: FakeWorker, who: str, status: int) -> None:
    response = post(world.client(who), url(world), {"node": "blue", "interface": "veth-blue"})
    assert response.status_code == status, response.content
    if status == 202:
        job = Job.objects.get(pk=response.json()["job"])
        assert (job.kind, job.status) == (JobKind.CAPTURE, JobStatus.QUEUED)
        assert job.params == {"points": [{"node": "blue", "interface": "veth-blue"}], "seconds": 10,
                              "max_packets": 1000}
        assert [j.pk for j in worker.enqueued] == [job.pk]
    else:
        assert not Job.objects.filter(kind=JobKind.CAPTURE).exists()


def test_anonymous_is_asked_to_log_in(world: World) -> None:
    assert post(world.client("anonymous"), url(world), {"node": "blue", "interface": "veth-blue"}).status_code == 401


@pytest.mark.parametrize(("body", "paths"), [
    ({"node": "green", "interface": "veth-blue"}, {"points[0]"}),
    ({"node": "blue", "interface": "eth0"}, {"points[0]"}),
    ({"node": "blue", "interface": "veth;reboot"}, {"points[0]"}),
    ({}, {"points"}),
    ({"node": "blue", "interface": "veth-blue", "seconds": 0}, {"seconds"}),
    ({"node": "blue", "interface": "veth-blue", "seconds": 121}, {"seconds"}),
    ({"node": "blue", "interface": "veth-blue", "max_packets": 0}, {"max_packets"}),
    ({"node": "blue", "interface": "veth-blue", "max_packets": 10_001}, {"max_packets"}),
    ({"points": [{"node": "red", "interface": "veth-red"}] * 17}, {"points"}),
    ({"path": {"source": "red", "target": "10.9.9.9"}}, {"path"}),
])
def test_capture_requests_are_checked(world: World, worker: FakeWorker, body: dict[str, Any],
                                      paths: set[str]) -> None:
    response = post(world.client("operator"), url(world), body)
    assert response.status_code == 422, response.content
    assert {e["path"] for e in response.json()["errors"]} == paths
    assert not worker.enqueued


@pytest.mark.parametrize(("seconds", "max_packets"), [(1, 1), (120, 10_000), (2.5, 3)])
def test_bounds_at_their_limits_are_accepted(world: World, worker: FakeWorker, seconds: float,
                                             max_packets: int) -> None:
    body = {"node": "red", "interface": "veth-red", "seconds": seconds, "max_packets": max_packets}
    response = post(world.client("operator"), url(world), body)
    assert response.status_code == 202, response.content
    assert Job.objects.get(pk=response.json()["job"]).params["seconds"] == seconds


def test_several_points_and_a_path(world: World, worker: FakeWorker) -> None:
    TopologyVersion.objects.create(lab=world.lab, number=2, document=example("seed-5-nat"))
    world.lab.version = 2
    world.lab.save()
    client = world.client("operator")
    both = post(client, url(world), {"points": [{"node": "host", "interface": "v-net-0"},
                                                {"node": "host", "interface": "eth0"},
                                                {"node": "host", "interface": "eth0"}]})
    assert both.status_code == 202, both.content
    assert Job.objects.get(pk=both.json()["job"]).params["points"] == [
        {"node": "host", "interface": "v-net-0"}, {"node": "host", "interface": "eth0"}]
    Job.objects.filter(pk=both.json()["job"]).update(status=JobStatus.SUCCEEDED)
    path = post(client, url(world), {"path": {"source": "blue", "target": "192.168.1.3"}, "seconds": 5})
    assert path.status_code == 202, path.content
    assert Job.objects.get(pk=path.json()["job"]).params["points"] == [
        {"node": "blue", "interface": "veth-blue"}, {"node": "v-net-0", "interface": "v-net-0"},
        {"node": "host", "interface": "eth0"}]


def test_at_most_two_captures_at_once_per_lab(world: World, worker: FakeWorker) -> None:
    client = world.client("operator")
    body = {"node": "red", "interface": "veth-red"}
    first, second = post(client, url(world), body), post(client, url(world), body)
    assert (first.status_code, second.status_code) == (202, 202)
    third = post(client, url(world), body)
    assert third.status_code == 409 and "captures under way" in third.json()["detail"]
    Job.objects.filter(pk=first.json()["job"]).update(status=JobStatus.SUCCEEDED)
    assert post(client, url(world), body).status_code == 202


def test_a_lab_not_deployed_cannot_be_captured(world: World, worker: FakeWorker) -> None:
    Deployment.objects.filter(lab=world.lab).update(state=DeploymentState.DESTROYED)
    response = post(world.client("operator"), url(world), {"node": "red", "interface": "veth-red"})
    assert response.status_code == 409 and "apply it first" in response.json()["detail"]


# -- the download ----------------------------------------------------------------------------------

ARP = bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\xff" * 6, type=dpkt.ethernet.ETH_TYPE_ARP,
                                   data=dpkt.arp.ARP(spa=b"\xc0\xa8\x0f\x01", tpa=b"\xc0\xa8\x0f\x02")))


def finished_capture(world: World, points: list[tuple[str, str]], status: str = JobStatus.SUCCEEDED) -> Job:
    job = Job.objects.create(lab=world.lab, kind=JobKind.CAPTURE, status=status,
                             params={"points": [{"node": n, "interface": i} for n, i in points]})
    captures.capture_dir().mkdir(parents=True, exist_ok=True)
    for index, (node, iface) in enumerate(points):
        with captures.pcap_path(job, index).open("wb") as out:
            writer = PcapWriter(out)
            for k in range(index + 1):
                writer.write(Packet(point=index, node=node, interface=iface, ts=1700000000.0 + index + k / 10,
                                    length=len(ARP), data=ARP, outgoing=False, summary=""))
    return job


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("viewer", 403), ("editor", 403),
                                             ("operator", 200), ("owner", 200)])
def test_pcap_download_needs_the_operator_role(world: World, who: str, status: int) -> None:
    job = finished_capture(world, [("blue", "veth-blue")])
    response = world.client(who).get(f"/api/jobs/{job.pk}/pcap")
    assert response.status_code == status, response.content
    if status == 200:
        assert response["Content-Type"] == "application/vnd.tcpdump.pcap"
        assert f'filename="capture-{job.pk}-0.pcap"' in response["Content-Disposition"]
        assert [data for _ts, data in dpkt.pcap.Reader(io.BytesIO(response.content))] == [ARP]


def test_several_interfaces_download_as_one_pcapng_or_one_pcap_each(world: World, tmp_path: Path) -> None:
    job = finished_capture(world, [("host", "v-net-0"), ("host", "eth0")])
    client = world.client("operator")
    merged = client.get(f"/api/jobs/{job.pk}/pcap")
    assert merged.status_code == 200 and merged["Content-Type"] == "application/x-pcapng"
    reader = dpkt.pcapng.Reader(io.BytesIO(merged.content))
    rows = list(reader)
    assert len(rows) == 3 and [ts for ts, _ in rows] == sorted(ts for ts, _ in rows)
    one = client.get(f"/api/jobs/{job.pk}/pcap?point=1")
    assert one["Content-Type"] == "application/vnd.tcpdump.pcap"
    assert len(list(dpkt.pcap.Reader(io.BytesIO(one.content)))) == 2
    assert client.get(f"/api/jobs/{job.pk}/pcap?point=2").status_code == 404
    if shutil.which("tcpdump"):
        (tmp_path / "all.pcapng").write_bytes(merged.content)
        lines = subprocess.run(["tcpdump", "-n", "-r", str(tmp_path / "all.pcapng")], capture_output=True,
                               text=True, check=True).stdout.splitlines()
        assert len(lines) == 3 and all("ARP, Request who-has 192.168.15.2 tell 192.168.15.1" in x for x in lines)


def test_no_download_while_running_or_of_another_kind(world: World) -> None:
    client = world.client("operator")
    running = finished_capture(world, [("blue", "veth-blue")], status=JobStatus.RUNNING)
    response = client.get(f"/api/jobs/{running.pk}/pcap")
    assert response.status_code == 409 and "still running" in response.json()["detail"]
    ping = Job.objects.create(lab=world.lab, kind=JobKind.PING, status=JobStatus.SUCCEEDED)
    assert client.get(f"/api/jobs/{ping.pk}/pcap").status_code == 404
    failed = Job.objects.create(lab=world.lab, kind=JobKind.CAPTURE, status=JobStatus.FAILED, error="boom",
                                params={"points": [{"node": "blue", "interface": "veth-blue"}]})
    gone = client.get(f"/api/jobs/{failed.pk}/pcap")
    assert gone.status_code == 404 and "it failed: boom" in gone.json()["detail"]


def test_files_go_with_the_job_and_with_the_lab(world: World, store: Path) -> None:
    one = finished_capture(world, [("blue", "veth-blue"), ("red", "veth-red")])
    two = finished_capture(world, [("blue", "veth-blue")])
    assert len(list(store.iterdir())) == 3
    one.delete()
    assert sorted(p.name for p in store.iterdir()) == [captures.pcap_path(two, 0).name]
    world.lab.delete()
    assert list(store.iterdir()) == []


def test_stop_flags_of_two_jobs_with_one_id_differ(world: World) -> None:
    first = Job.objects.create(lab=world.lab, kind=JobKind.CAPTURE)
    key, pk = captures.stop_key(first), first.pk
    first.delete()
    again = Job.objects.create(pk=pk, lab=world.lab, kind=JobKind.CAPTURE)  # a new database, the same id
    assert captures.stop_key(again) != key and captures.stop_key(again).startswith(f"nd:capture:stop:{pk}:")


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("viewer", 403), ("editor", 403),
                                             ("operator", 202), ("owner", 202)])
def test_stopping_a_capture_needs_the_operator_role(world: World, who: str, status: int,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Job] = []
    monkeypatch.setattr(captures, "request_stop", asked.append)
    job = finished_capture(world, [("blue", "veth-blue")], status=JobStatus.RUNNING)
    response = post(world.client(who), f"/api/labs/{world.lab.pk}/captures/{job.pk}/stop")
    assert response.status_code == status, response.content
    assert [j.pk for j in asked] == ([job.pk] if status == 202 else [])


def test_stopping_what_has_ended_or_is_not_a_capture(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Job] = []
    monkeypatch.setattr(captures, "request_stop", asked.append)
    client = world.client("operator")
    ended = finished_capture(world, [("blue", "veth-blue")])
    response = post(client, f"/api/labs/{world.lab.pk}/captures/{ended.pk}/stop")
    assert response.status_code == 409 and "already ended" in response.json()["detail"]
    ping = Job.objects.create(lab=world.lab, kind=JobKind.PING, status=JobStatus.RUNNING)
    assert post(client, f"/api/labs/{world.lab.pk}/captures/{ping.pk}/stop").status_code == 404
    assert asked == []
