"""Defects found by a new user, each pinned by a test: tables of a saved-but-unapplied node, the port
`make run` prints, one name for a lab, the admin's kernel view (namespace of a bridge, NAT as rules)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from topology.models import Deployment, TopologyVersion

from .conftest import FakeWorker, World, example

ROOT = Path(__file__).resolve().parents[2]


def test_tables_of_a_saved_but_unapplied_node_say_so(world: World, worker: FakeWorker) -> None:
    applied = TopologyVersion.objects.get(lab=world.lab, number=1)
    Deployment.objects.filter(lab=world.lab).update(version=applied)
    document = example("seed-1-direct")
    document["nodes"].append({"name": "green", "kind": "namespace"})
    saved = world.client("editor").put(f"/api/labs/{world.lab.pk}/topology", data=json.dumps(
        {"version": 1, "topology": document}), content_type="application/json")
    assert saved.status_code == 200
    response = world.client("viewer").get(f"/api/labs/{world.lab.pk}/nodes/green/tables")
    assert response.status_code == 409 and "not applied yet" in response.json()["detail"]
    assert worker.waited == []  # the worker was not even asked
    # An applied node is still read through the worker.
    assert world.client("viewer").get(f"/api/labs/{world.lab.pk}/nodes/red/tables").status_code == 200
    assert [j.kind for j in worker.waited] == ["tables"]


@pytest.mark.parametrize(("port", "shown"), [("9123", "http://127.0.0.1:9123/"), (None, "http://127.0.0.1:8000/")])
def test_bootstrap_demo_prints_the_port_it_is_served_on(db: Any, settings: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, port: str | None,
                                                       shown: str) -> None:
    settings.BASE_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    (tmp_path / "topology" / "examples").mkdir(parents=True)
    source = ROOT / "topology" / "examples" / "seed-6-port-forward.json"
    (tmp_path / "topology" / "examples" / "seed-6-port-forward.json").write_text(source.read_text())
    if port is None:
        monkeypatch.delenv("PORT", raising=False)
    else:
        monkeypatch.setenv("PORT", port)
    out = io.StringIO()
    call_command("bootstrap_demo", stdout=out)
    text = out.getvalue()
    assert f"{shown}accounts/login/" in text and f"{shown}labs/" in text
    if port is not None:
        assert "8000" not in text


def test_run_script_hands_its_port_to_every_line_it_prints() -> None:
    script = (ROOT / "scripts" / "run.sh").read_text()
    lines = script.splitlines()
    set_port = next(i for i, line in enumerate(lines) if line.startswith("port=${PORT:-8000}"))
    demo = next(i for i, line in enumerate(lines) if "bootstrap_demo" in line)
    assert set_port < demo and lines[demo].startswith("PORT=$port ")
