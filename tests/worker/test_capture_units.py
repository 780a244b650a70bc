"""The capture job body with a fake Kernel (no root, no Redis): events, the pcaps, the result, the
store's cap, and a capture that cannot start leaving no file behind."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dpkt
import pytest

from topology import captures
from topology.choices import DeploymentState, JobKind, JobStatus
from topology.engine.capture import CaptureError, CaptureResult, Packet, Point
from topology.jobs import lifecycle
from topology.models import Deployment, Job, Lab, TopologyVersion

EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"
FRAME = bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\xff" * 6, type=dpkt.ethernet.ETH_TYPE_ARP,
                                     data=dpkt.arp.ARP(spa=b"\xc0\xa8\x0f\x01", tpa=b"\xc0\xa8\x0f\x02")))


class FakeKernel:
    """Yields `n` packets on each point, then the result; or fails as the real one does before binding."""

    def __init__(self, n: int, fail: str | None = None) -> None:
        self.n, self.fail = n, fail
        self.calls: list[dict[str, Any]] = []

    def capture(self, topology: Any, tag: str, points: list[Point], **kw: Any) -> Iterator[Packet | CaptureResult]:
        self.calls.append({"tag": tag, "points": points, **kw})
        if self.fail:
            raise CaptureError(self.fail)
        kw["on_ready"]()
        for k in range(self.n):
            for i, p in enumerate(points):
                yield Packet(point=i, node=p.node, interface=p.interface, ts=1700000000.0 + k, length=len(FRAME),
                             data=FRAME, outgoing=False, summary="ARP who-has 192.168.15.2 tell 192.168.15.1")
        yield CaptureResult(reason="packets", packets=self.n * len(points), bytes=self.n * len(points) * len(FRAME),
                            per_point=[self.n] * len(points), started=1.0, ended=3.5)


@pytest.fixture
def setup(db: Any, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from django.contrib.auth.models import User

    settings.NETDESIGNER_CAPTURE_DIR = str(tmp_path / "captures")
    settings.WORKER_HOST = "unit-host"
    owner = User.objects.create_user("cap-owner")
    lab = Lab.objects.create(name="nat", slug="nat", owner=owner, version=1)
    version = TopologyVersion.objects.create(lab=lab, number=1,
                                             document=json.loads((EXAMPLES / "seed-5-nat.json").read_text()))
    Deployment.objects.create(lab=lab, worker_host="unit-host", state=DeploymentState.DEPLOYED, version=version,
                              tag="abc123")
    sent: list[dict[str, Any]] = []
    return {"lab": lab, "sent": sent, "sink": ListSink(sent)}


class ListSink:
    """The job's event sink, in order (the lab id aside)."""

    def __init__(self, sent: list[dict[str, Any]]) -> None:
        self.sent = sent

    def put(self, lab_id: int, event: dict[str, Any]) -> None:
        self.sent.append(event)

    def flush(self, timeout: float = 2.0) -> bool:
        return True


def capture_job(lab: Lab, points: list[tuple[str, str]]) -> Job:
    return Job.objects.create(lab=lab, kind=JobKind.CAPTURE, status=JobStatus.RUNNING, params={
        "points": [{"node": n, "interface": i} for n, i in points], "seconds": 3, "max_packets": 4})


def test_packets_are_streamed_written_and_counted(setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    kernel = FakeKernel(2)
    monkeypatch.setattr(captures, "default_kernel", lambda: kernel)
    job = capture_job(setup["lab"], [("host", "v-net-0"), ("host", "eth0")])
    lifecycle.run(job, events=setup["sink"])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result == {
        "points": [{"node": "host", "interface": "v-net-0", "packets": 2, "file": captures.pcap_path(job, 0).name},
                   {"node": "host", "interface": "eth0", "packets": 2, "file": captures.pcap_path(job, 1).name}],
        "packets": 4, "bytes": 4 * len(FRAME), "reason": "packets", "seconds": 2.5}
    call = kernel.calls[0]
    assert call["tag"] == "abc123" and (call["seconds"], call["max_packets"]) == (3.0, 4)
    packets = [e for e in setup["sent"] if e["type"] == "capture.packet"]
    assert len(packets) == 4
    assert packets[0] == {"type": "capture.packet", "job": job.pk, "node": "host", "interface": "v-net-0", "point": 0,
                          "ts": 1700000000.0, "length": len(FRAME), "outgoing": False,
                          "summary": "ARP who-has 192.168.15.2 tell 192.168.15.1"}
    ready = [e for e in setup["sent"] if e["type"] == "job.progress" and e["step"].startswith("capturing on")]
    assert ready and ready[0]["step"] == "capturing on host/v-net-0, host/eth0 for 3 s (at most 4 packets)"
    assert setup["sent"].index(ready[0]) < setup["sent"].index(packets[0])
    for i in (0, 1):
        rows = list(dpkt.pcap.Reader(io.BytesIO(captures.pcap_bytes(job, i))))
        assert [data for _ts, data in rows] == [FRAME, FRAME]
    assert any("ended by its packet limit" in line["message"] for line in job.log)


def test_a_capture_that_cannot_start_fails_in_words_and_leaves_no_file(setup: dict[str, Any],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(captures, "default_kernel",
                        lambda: FakeKernel(1, fail="capturing on host/eth0 failed: no such interface in the kernel"))
    job = capture_job(setup["lab"], [("host", "eth0")])
    captures.capture_dir().mkdir(parents=True)
    stale = captures.capture_dir() / f"job-{job.pk}-1-0.pcap"  # a job of the same id in an earlier database
    stale.write_bytes(b"left over")
    lifecycle.run(job, events=setup["sink"])
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "no such interface in the kernel" in job.error
    assert not captures.pcap_path(job, 0).exists() and captures.pcap_path(job, 0) != stale
    with pytest.raises(FileNotFoundError):
        captures.pcap_bytes(job, 0)


@pytest.mark.parametrize(("used", "refused"), [(0, False), (999, False), (1000, True)])
def test_the_store_cap(setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch, settings: Any, used: int,
                       refused: bool) -> None:
    settings.NETDESIGNER_CAPTURE_STORE_BYTES = 1000
    settings.NETDESIGNER_CAPTURE_MAX_BYTES = 600
    kernel = FakeKernel(1)
    monkeypatch.setattr(captures, "default_kernel", lambda: kernel)
    captures.capture_dir().mkdir(parents=True)
    (captures.capture_dir() / "job-999-0.pcap").write_bytes(b"x" * used)
    job = capture_job(setup["lab"], [("host", "eth0")])
    lifecycle.run(job, events=setup["sink"])
    job.refresh_from_db()
    if refused:
        assert job.status == JobStatus.FAILED and "capture store is full" in job.error and not kernel.calls
    else:
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert kernel.calls[0]["max_bytes"] == min(600, 1000 - used)  # what is left, at most the per-capture cap


def test_a_lab_not_deployed_here(setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(captures, "default_kernel", lambda: FakeKernel(1))
    Deployment.objects.filter(lab=setup["lab"]).update(worker_host="elsewhere")
    job = capture_job(setup["lab"], [("host", "eth0")])
    lifecycle.run(job, events=setup["sink"])
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "deployed on worker host 'elsewhere'" in job.error
    Deployment.objects.filter(lab=setup["lab"]).update(worker_host="unit-host", state=DeploymentState.DESTROYED)
    job = capture_job(setup["lab"], [("host", "eth0")])
    lifecycle.run(job, events=setup["sink"])
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "apply it first" in job.error
