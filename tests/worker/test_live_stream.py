"""The tutorial's stage 6 through the real stack: REST API -> Redis -> Celery worker -> kernel -> websocket.

Real Redis, a real `manage.py worker` process (prefork, not eager), a real daphne, the websockets client.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.stack import Stack, api, api_token, make_user, namespaces_of, ws_connect
from topology.models import Deployment

pytestmark = [pytest.mark.services, pytest.mark.root]

EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


def test_stage6_apply_ping_tables_destroy_stream_live(stack: Stack) -> None:
    owner = make_user("learner")
    token = api_token(owner)
    document = json.loads((EXAMPLES / "seed-6-port-forward.json").read_text())
    status, lab = api(stack, "POST", "/api/labs", {"name": "stage 6", "topology": document}, token=token)
    assert status == 201, lab
    lab_id = lab["id"]

    with ws_connect(stack, lab_id, token=token) as sock:
        sock.until(lambda e: e["type"] == "presence" and e["users"] == ["learner"])

        status, body = api(stack, "POST", f"/api/labs/{lab_id}/apply", token=token)
        assert status == 202, body
        apply_job = body["job"]
        finished = sock.until(lambda e: e["type"] == "job.finished" and e["job"] == apply_job, timeout=120)
        assert finished["status"] == "succeeded", finished
        progress = [e for e in sock.of_type("job.progress") if e["job"] == apply_job]
        assert progress, "no job.progress before job.finished"
        last = progress[-1]
        assert last["total"] > 0 and last["done"] == last["total"]
        assert all(e["done"] <= e["total"] or e["total"] == 0 for e in progress)
        assert all(isinstance(e["step"], str) and e["step"] for e in progress)
        status, job = api(stack, "GET", f"/api/jobs/{apply_job}", token=token)
        assert (status, job["status"], job["done"]) == (200, "succeeded", last["done"])

        tag = Deployment.objects.get(lab_id=lab_id).tag
        assert f"nd-{tag}-red" in namespaces_of(tag)
        # A read through the worker (jobs.run_and_wait behind the API).
        status, tables = api(stack, "GET", f"/api/labs/{lab_id}/nodes/blue/tables", token=token)
        assert status == 200, tables
        assert any(i["name"] == "veth-blue" and "192.168.15.2/24" in i["addresses"] for i in tables["interfaces"])

        mark = len(sock.events)
        status, body = api(stack, "POST", f"/api/labs/{lab_id}/ping",
                           {"source": "red", "target": "blue", "count": 5}, token=token)
        assert status == 202, body
        ping_job = body["job"]
        end = sock.until(lambda e: e["type"] == "job.finished" and e["job"] == ping_job, timeout=60)
        assert end["status"] == "succeeded", end
        stream = sock.events[mark:]
        replies = [e for e in stream if e["type"] == "ping.reply" and e["job"] == ping_job]
        assert [r["seq"] for r in replies] == [1, 2, 3, 4, 5]
        assert all((r["source"], r["target"]) == ("red", "blue") and r["ttl"] > 0 and r["rtt_ms"] >= 0
                   for r in replies)
        # Each reply is streamed as it is read, not batched at the end of the job.
        assert stream.index(replies[0]) < stream.index(end)
        assert replies[0]["_received"] < end["ts"]
        status, job = api(stack, "GET", f"/api/jobs/{ping_job}", token=token)
        assert job["result"]["received"] == 5 and job["result"]["error"] is None

        # After the ping, red's ARP table holds blue's MAC.
        after = [e for e in sock.events[mark:] if e["type"] == "tables.snapshot"]
        red = next(e for e in reversed(after) if e["node"] == "red")
        blue = next(e for e in reversed(sock.of_type("tables.snapshot")) if e["node"] == "blue")
        blue_mac = next(i["mac"] for i in blue["interfaces"] if i["name"] == "veth-blue")
        assert any(a["ip"] == "192.168.15.2" and a["mac"].lower() == blue_mac.lower() for a in red["arp"]), red["arp"]

        status, body = api(stack, "POST", f"/api/labs/{lab_id}/destroy", token=token)
        assert status == 202, body
        gone = sock.until(lambda e: e["type"] == "job.finished" and e["job"] == body["job"], timeout=60)
        assert gone["status"] == "succeeded", gone
    assert namespaces_of(tag) == []
    assert Deployment.objects.get(lab_id=lab_id).state == "destroyed"


def test_watched_lab_gets_snapshots_of_tables_changed_outside_any_job(stack: Stack) -> None:
    owner = make_user("watcher")
    token = api_token(owner)
    document = json.loads((EXAMPLES / "seed-2-bridge.json").read_text())
    status, lab = api(stack, "POST", "/api/labs", {"name": "bridge", "topology": document}, token=token)
    assert status == 201, lab
    lab_id = lab["id"]
    with ws_connect(stack, lab_id, token=token) as sock:
        status, body = api(stack, "POST", f"/api/labs/{lab_id}/apply", token=token)
        assert status == 202, body
        done = sock.until(lambda e: e["type"] == "job.finished" and e["job"] == body["job"], timeout=120)
        assert done["status"] == "succeeded", done
        tag = Deployment.objects.get(lab_id=lab_id).tag
        mark = len(sock.events)
        # Someone changes red's routes by hand: the watcher notices and streams red's new tables.
        subprocess.run(["ip", "-n", f"nd-{tag}-red", "route", "add", "10.99.0.0/24", "dev", "veth-red"], check=True)
        snap = sock.until(lambda e: e["type"] == "tables.snapshot" and e["node"] == "red"
                          and any(r["to"] == "10.99.0.0/24" for r in e["routes"]), timeout=30)
        assert set(snap) >= {"node", "arp", "routes", "interfaces"}
        # No job ran to send it: the worker's watcher did (only-changed nodes: see the unit tests).
        assert not [e for e in sock.events[mark:] if e["type"].startswith("job.")]
