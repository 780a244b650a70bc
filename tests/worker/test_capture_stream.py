"""Capture through the real stack: REST API -> Redis -> Celery worker -> AF_PACKET in the lab -> websocket,
and the pcap downloaded and read by the real `tcpdump -r`."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.capture_ready import wait_links_up
from tests.stack import Socket, Stack, api, api_token, make_user, ws_connect
from topology.models import Deployment, Job

pytestmark = [pytest.mark.services, pytest.mark.root]

EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


def apply(stack: Stack, sock: Socket, token: str, lab_id: int) -> None:
    status, body = api(stack, "POST", f"/api/labs/{lab_id}/apply", token=token)
    assert status == 202, body
    done = sock.until(lambda e: e["type"] == "job.finished" and e["job"] == body["job"], timeout=120)
    assert done["status"] == "succeeded", done
    deployment = Deployment.objects.select_related("version").get(lab_id=lab_id)
    assert deployment.version is not None
    wait_links_up(deployment.tag, deployment.version.document)


def start_capture(stack: Stack, sock: Socket, token: str, lab_id: int, body: dict[str, Any]) -> int:
    """Start a capture and wait until its sockets are bound (its first job.progress says so)."""
    status, answer = api(stack, "POST", f"/api/labs/{lab_id}/captures", body, token=token)
    assert status == 202, answer
    job = int(answer["job"])
    sock.until(lambda e: e["type"] == "job.progress" and e["job"] == job and e["step"].startswith("capturing on"),
               timeout=60)
    return job


def finished(sock: Socket, job: int) -> dict[str, Any]:
    """The job's job.finished, whether it already came (while waiting for another) or is still to come."""
    def match(e: dict[str, Any]) -> bool:
        return bool(e["type"] == "job.finished" and e["job"] == job)

    return next((e for e in sock.events if match(e)), None) or sock.until(match, timeout=30)


def ping(stack: Stack, sock: Socket, token: str, lab_id: int, source: str, target: str, count: int) -> None:
    status, body = api(stack, "POST", f"/api/labs/{lab_id}/ping", {"source": source, "target": target,
                                                                   "count": count}, token=token)
    assert status == 202, body
    done = sock.until(lambda e: e["type"] == "job.finished" and e["job"] == body["job"], timeout=60)
    assert done["status"] == "succeeded", done


def download(stack: Stack, token: str, job: int, tmp_path: Path, query: str = "") -> tuple[str, list[str]]:
    import urllib.request

    request = urllib.request.Request(f"{stack.url}/api/jobs/{job}/pcap{query}")  # noqa: S310 - loopback
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        kind, raw = response.headers["Content-Type"], response.read()
    path = tmp_path / f"job-{job}{query.replace('?', '-').replace('=', '')}.cap"
    path.write_bytes(raw)
    assert shutil.which("tcpdump"), "tcpdump is missing: scripts/bootstrap.sh --test installs it"
    out = subprocess.run(["tcpdump", "-n", "-t", "-r", str(path)], capture_output=True, text=True, check=True)
    return kind, out.stdout.splitlines()


def test_stage2_capture_on_blue_while_red_pings(stack: Stack, tmp_path: Path) -> None:
    operator = make_user("capturer")
    token = api_token(operator)
    with lab_socket(stack, token, "seed-2-bridge") as (lab_id, sock):
        apply(stack, sock, token, lab_id)
        job = start_capture(stack, sock, token, lab_id, {"node": "blue", "interface": "veth-blue", "seconds": 4})
        ping(stack, sock, token, lab_id, "red", "blue", 3)
        end = finished(sock, job)
        assert end["status"] == "succeeded", end
        packets = [e for e in sock.events if e["type"] == "capture.packet" and e["job"] == job]
        assert packets and stack_events_before(sock, packets[0], end)
        assert all({"job", "node", "interface", "ts", "length", "summary"} <= set(p) for p in packets)
        assert all((p["node"], p["interface"]) == ("blue", "veth-blue") for p in packets)
        summaries = [p["summary"] for p in packets]
        assert "ARP who-has 192.168.15.2 tell 192.168.15.1" in summaries
        assert any(s.startswith("ARP reply 192.168.15.2 is-at ") for s in summaries)
        assert sum(s.startswith("ICMP echo request 192.168.15.1 > 192.168.15.2 id ") for s in summaries) == 3
        assert sum(s.startswith("ICMP echo reply 192.168.15.2 > 192.168.15.1 id ") for s in summaries) == 3
        result = Job.objects.get(pk=job).result or {}
        assert result["reason"] == "time" and result["packets"] == len(packets)

        kind, lines = download(stack, token, job, tmp_path)
        assert kind == "application/vnd.tcpdump.pcap"
        assert len(lines) == len(packets)
        assert any("ARP, Request who-has 192.168.15.2 tell 192.168.15.1" in x for x in lines)
        assert any("ARP, Reply 192.168.15.2 is-at" in x for x in lines)
        assert sum("IP 192.168.15.1 > 192.168.15.2: ICMP echo request" in x for x in lines) == 3
        assert sum("IP 192.168.15.2 > 192.168.15.1: ICMP echo reply" in x for x in lines) == 3


def test_stage5_path_capture_shows_the_masquerade(stack: Stack, tmp_path: Path) -> None:
    operator = make_user("natwatcher")
    token = api_token(operator)
    with lab_socket(stack, token, "seed-5-nat") as (lab_id, sock):
        apply(stack, sock, token, lab_id)
        job = start_capture(stack, sock, token, lab_id,
                            {"path": {"source": "blue", "target": "192.168.1.3"}, "seconds": 4})
        ping(stack, sock, token, lab_id, "blue", "192.168.1.3", 2)
        end = finished(sock, job)
        assert end["status"] == "succeeded", end
        packets = [e for e in sock.events if e["type"] == "capture.packet" and e["job"] == job]
        on = {(p["node"], p["interface"]) for p in packets}
        assert {("blue", "veth-blue"), ("v-net-0", "v-net-0"), ("host", "eth0")} <= on
        inside = [p["summary"] for p in packets if p["interface"] == "v-net-0"]
        outside = [p["summary"] for p in packets if p["interface"] == "eth0"]
        assert sum(s.startswith("ICMP echo request 192.168.15.2 > 192.168.1.3 ") for s in inside) == 2
        assert sum(s.startswith("ICMP echo request 192.168.1.2 > 192.168.1.3 ") for s in outside) == 2
        assert sum(s.startswith("ICMP echo reply 192.168.1.3 > 192.168.1.2 ") for s in outside) == 2
        assert not any("192.168.15.2" in s for s in outside)

        kind, lines = download(stack, token, job, tmp_path)
        assert kind == "application/x-pcapng" and len(lines) == len(packets)
        _, eth0 = download(stack, token, job, tmp_path, "?point=2")
        _, bridge = download(stack, token, job, tmp_path, "?point=1")
        assert sum("IP 192.168.1.2 > 192.168.1.3: ICMP echo request" in x for x in eth0) == 2
        assert not any("192.168.15.2" in x for x in eth0)
        assert sum("IP 192.168.15.2 > 192.168.1.3: ICMP echo request" in x for x in bridge) == 2


def test_a_capture_ends_at_its_bounds_when_the_browser_has_gone(stack: Stack) -> None:
    operator = make_user("leaver")
    token = api_token(operator)
    with lab_socket(stack, token, "seed-1-direct") as (lab_id, sock):
        apply(stack, sock, token, lab_id)
        status, body = api(stack, "POST", f"/api/labs/{lab_id}/captures",
                           {"node": "red", "interface": "veth-red", "seconds": 2, "max_packets": 10_000},
                           token=token)
        assert status == 202, body
        job = body["job"]
    # The only socket watching the lab is closed; nobody is left to stop the capture but the worker.
    deadline = time.monotonic() + 60
    while Job.objects.get(pk=job).status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
    row = Job.objects.get(pk=job)
    assert row.status == "succeeded", (row.status, row.error)
    assert row.result is not None
    assert row.result["reason"] == "time" and 2 <= row.result["seconds"] < 12
    assert row.finished is not None and row.started is not None


def test_stop_ends_a_capture_before_its_time(stack: Stack) -> None:
    operator = make_user("stopper")
    token = api_token(operator)
    with lab_socket(stack, token, "seed-1-direct") as (lab_id, sock):
        apply(stack, sock, token, lab_id)
        job = start_capture(stack, sock, token, lab_id, {"node": "red", "interface": "veth-red", "seconds": 120})
        status, body = api(stack, "POST", f"/api/labs/{lab_id}/captures/{job}/stop", token=token)
        assert (status, body) == (202, {"job": job})
        end = finished(sock, job)
        assert end["status"] == "succeeded", end
        result = Job.objects.get(pk=job).result or {}
        assert result["reason"] == "stopped" and result["seconds"] < 120
        status, body = api(stack, "POST", f"/api/labs/{lab_id}/captures/{job}/stop", token=token)
        assert status == 409, body


def test_the_packet_bound_through_the_worker(stack: Stack) -> None:
    operator = make_user("counter")
    token = api_token(operator)
    with lab_socket(stack, token, "seed-1-direct") as (lab_id, sock):
        apply(stack, sock, token, lab_id)
        job = start_capture(stack, sock, token, lab_id,
                            {"node": "blue", "interface": "veth-blue", "seconds": 30, "max_packets": 3})
        ping(stack, sock, token, lab_id, "red", "blue", 3)
        end = finished(sock, job)
        assert end["status"] == "succeeded", end
        packets = [e for e in sock.events if e["type"] == "capture.packet" and e["job"] == job]
        assert len(packets) == 3
        assert (Job.objects.get(pk=job).result or {}).get("reason") == "packets"


def stack_events_before(sock: Socket, first: dict[str, Any], end: dict[str, Any]) -> bool:
    """Packets are streamed as they come, not batched at the end of the job."""
    return sock.events.index(first) < sock.events.index(end) and first["_received"] < end["ts"]


@contextlib.contextmanager
def lab_socket(stack: Stack, token: str, example: str) -> Iterator[tuple[int, Socket]]:
    """A lab made from an example, and a websocket on it (closed on exit)."""
    document = json.loads((EXAMPLES / f"{example}.json").read_text())
    status, lab = api(stack, "POST", "/api/labs", {"name": example, "topology": document}, token=token)
    assert status == 201, lab
    with ws_connect(stack, lab["id"], token=token) as sock:
        yield int(lab["id"]), sock
