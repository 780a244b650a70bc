"""The `capture` job: packets on (node, interface) pairs streamed live and kept as pcap files.

Job params {"points": [{"node", "interface"}], "seconds", "max_packets"}; result {"points": [{"node",
"interface", "packets", "file"}], "packets", "bytes", "reason", "seconds"}. Every packet is published as
`capture.packet` {"job", "node", "interface", "ts", "length", "summary"} (plus "point": its index in
"points", and "outgoing"). The worker enforces the bounds (time, count, bytes) whatever happens to whoever
asked: a closed browser changes nothing, the capture ends at its bounds.

The pcaps live in settings.NETDESIGNER_CAPTURE_DIR as `job-<id>-<created>-<point>.pcap`, one classic pcap per
interface; the store as a whole is capped (NETDESIGNER_CAPTURE_STORE_BYTES) and each capture too
(NETDESIGNER_CAPTURE_MAX_BYTES). Deleting the job (or its lab) deletes its files (`_remove_files`).
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .choices import DeploymentState
from .engine import api as engine
from .engine.capture import CaptureError, CaptureResult, Packet, PcapWriter, Point
from .kernel import default_kernel
from .models import Deployment, Job, TopologyVersion

STOP_CHECK = 0.25  # seconds between looks at the stop flag (a Redis GET)
STOP_TTL = 600  # seconds a stop flag is kept (longer than any capture)
LOGGED_PACKETS = 100  # packet summaries kept in the job's log (all of them are streamed and in the pcap)
ROW_INTERVAL = 1.0  # seconds between writes of the packet count to the Job row


def capture_dir() -> Path:
    return Path(settings.NETDESIGNER_CAPTURE_DIR)


def pcap_path(job: Job, point: int) -> Path:
    """`job-<id>-<created, microseconds>-<point>.pcap`: ids start again with a new database, so the name
    also carries the job's creation time, and a file left by an earlier job is never taken for this one's."""
    return capture_dir() / f"job-{int(job.pk)}-{round(job.created.timestamp() * 1e6)}-{int(point)}.pcap"


def store_used() -> int:
    """Bytes the capture store holds now (all jobs)."""
    try:
        return sum(e.stat().st_size for e in os.scandir(capture_dir()) if e.is_file())
    except FileNotFoundError:
        return 0


def stop_key(job: Job) -> str:
    """The job's stop flag in Redis, named by its id and its creation time: ids start again with a new
    database and several installs may share a Redis, and a stale flag must never stop another capture."""
    return f"nd:capture:stop:{int(job.pk)}:{job.created.timestamp():.6f}"


def request_stop(job: Job) -> None:
    """Ask the worker running the capture to end it now (it looks every STOP_CHECK seconds)."""
    from .locks import redis_client

    redis_client().set(stop_key(job), "1", ex=STOP_TTL)


def _stop_flag(job: Job) -> Callable[[], bool]:
    """A cheap `stop` for the engine: Redis is asked at most every STOP_CHECK seconds; a Redis that does
    not answer never stops a capture (its bounds still do)."""
    from .locks import redis_client

    state = {"next": 0.0, "stop": False}
    key = stop_key(job)

    def stop() -> bool:
        now = time.monotonic()
        if not state["stop"] and now >= state["next"]:
            state["next"] = now + STOP_CHECK
            try:
                state["stop"] = bool(redis_client().exists(key))
            except Exception:  # noqa: BLE001 - see the docstring
                state["stop"] = False
        return bool(state["stop"])

    return stop


def job_points(job: Job) -> list[Point]:
    return [Point(str(p.get("node", "")), str(p.get("interface", ""))) for p in job.params.get("points", [])]


def _deployed_topology(job: Job) -> tuple[str, Any]:
    assert job.lab_id is not None and job.lab is not None  # runners.run refuses a capture without a lab
    deployment = Deployment.objects.filter(lab_id=job.lab_id).select_related("version").first()
    if deployment is None or deployment.state in (DeploymentState.PENDING, DeploymentState.DESTROYED):
        raise CaptureError("the lab is not deployed: apply it first")
    if deployment.worker_host != settings.WORKER_HOST:
        raise CaptureError(f"the lab is deployed on worker host {deployment.worker_host!r}, "
                           f"not on {settings.WORKER_HOST!r}")
    version = deployment.version
    if version is None:
        version = TopologyVersion.objects.filter(lab_id=job.lab_id, number=job.lab.version).first()
    if version is None:
        raise CaptureError("the lab has no version to capture on")
    topology = engine.parse(version.document, max_nodes=settings.NETDESIGNER_MAX_NODES,
                            max_links=settings.NETDESIGNER_MAX_LINKS)
    return deployment.tag, topology


def run_capture(ctx: Any) -> dict[str, Any]:
    """Capture until the first bound; every packet is streamed, written to its pcap and counted."""
    job: Job = ctx.job
    points = job_points(job)
    seconds = float(job.params.get("seconds") or 10)
    max_packets = int(job.params.get("max_packets") or 1000)
    room = settings.NETDESIGNER_CAPTURE_STORE_BYTES - store_used()
    if room <= 0:
        raise CaptureError("the capture store is full: delete old capture jobs (admin, Jobs) to make room")
    max_bytes = min(settings.NETDESIGNER_CAPTURE_MAX_BYTES, room)
    tag, topology = _deployed_topology(job)
    capture_dir().mkdir(parents=True, exist_ok=True)
    where = ", ".join(str(p) for p in points)

    files: list[IO[bytes]] = []
    writers: list[PcapWriter] = []

    def ready() -> None:
        # The files are made once the sockets are bound: a capture that cannot start leaves none.
        for i in range(len(points)):
            files.append(pcap_path(job, i).open("wb"))
            writers.append(PcapWriter(files[-1]))
        ctx.progress(0, max_packets, f"capturing on {where} for {seconds:g} s (at most {max_packets} packets)",
                     urgent=True)

    result = CaptureResult()
    try:
        last_row = time.monotonic()
        items = default_kernel().capture(topology, tag, points, seconds=seconds, max_packets=max_packets,
                                         max_bytes=max_bytes, on_ready=ready, stop=_stop_flag(job))
        for item in items:
            if not isinstance(item, Packet):
                result = item
                continue
            writers[item.point].write(item)
            ctx.publish(packet_event(job.pk, item))
            if result.packets < LOGGED_PACKETS:
                ctx.say(f"{item.node}/{item.interface} {item.summary}")
            result.packets += 1
            if time.monotonic() - last_row >= ROW_INTERVAL:
                ctx.update(done=result.packets, total=max_packets)
                last_row = time.monotonic()
    finally:
        for f in files:
            f.close()
    ctx.update(done=result.packets, total=max_packets)
    ctx.say(f"captured {result.packets} packet(s), {result.bytes} bytes; ended by {_why(result.reason)}")
    return {
        "points": [{"node": p.node, "interface": p.interface, "packets": n, "file": pcap_path(job, i).name}
                   for i, (p, n) in enumerate(zip(points, result.per_point or [0] * len(points), strict=True))],
        "packets": result.packets, "bytes": result.bytes, "reason": result.reason,
        "seconds": round(max(0.0, result.ended - result.started), 3),
    }


def _why(reason: str) -> str:
    return {"time": "its time limit", "packets": "its packet limit", "bytes": "its size limit",
            "stopped": "a stop", "gone": "an interface going away"}.get(reason, reason)


def packet_event(job_id: int, packet: Packet) -> dict[str, Any]:
    return {"type": "capture.packet", "job": job_id, "node": packet.node, "interface": packet.interface,
            "point": packet.point, "ts": packet.ts, "length": packet.length, "outgoing": packet.outgoing,
            "summary": packet.summary}


# -- reading back ----------------------------------------------------------------------------------


def pcap_bytes(job: Job, point: int) -> bytes:
    """One interface's capture as a classic pcap."""
    path = pcap_path(job, point)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"the capture file of job {job.pk} is gone") from None


def pcapng_bytes(job: Job) -> bytes:
    """Every interface of the job in one pcapng, one interface block per (node, interface), named
    "node/interface", packets in time order: Wireshark shows which interface each packet crossed."""
    import dpkt

    points = job_points(job)
    idbs = [dpkt.pcapng.InterfaceDescriptionBlockLE(
        linktype=dpkt.pcap.DLT_EN10MB, snaplen=262144,
        opts=[dpkt.pcapng.PcapngOptionLE(code=dpkt.pcapng.PCAPNG_OPT_IF_NAME, data=str(p).encode()),
              dpkt.pcapng.PcapngOptionLE(code=dpkt.pcapng.PCAPNG_OPT_ENDOFOPT)]) for p in points]
    packets: list[tuple[float, int, bytes]] = []
    for i in range(len(points)):
        packets.extend((ts, i, data) for ts, data in _read_pcap(pcap_bytes(job, i)))
    packets.sort(key=lambda row: (row[0], row[1]))
    out = io.BytesIO()
    writer = dpkt.pcapng.Writer(out, idb=idbs)
    for ts, i, data in packets:
        micros = round(ts * 1e6)
        writer.writepkt(dpkt.pcapng.EnhancedPacketBlockLE(
            iface_id=i, ts_high=micros >> 32, ts_low=micros & 0xFFFFFFFF, caplen=len(data), pkt_len=len(data),
            pkt_data=data))
    return out.getvalue()


def _read_pcap(raw: bytes) -> Iterator[tuple[float, bytes]]:
    import dpkt

    if len(raw) < 24:  # the job died before writing the header
        return
    try:
        yield from dpkt.pcap.Reader(io.BytesIO(raw))
    except (dpkt.NeedData, ValueError):  # a file cut short by a killed worker: keep what is whole
        return


@receiver(post_delete, sender=Job)
def _remove_files(sender: Any, instance: Job, **_: Any) -> None:
    """A capture's files go with its job (and so with its lab, whose deletion cascades to its jobs)."""
    if instance.kind == "capture":
        remove_files(instance)


def remove_files(job: Job) -> None:
    for i in range(max(1, len(job.params.get("points", [])))):
        try:
            pcap_path(job, i).unlink()
        except FileNotFoundError:
            pass
