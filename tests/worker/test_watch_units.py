"""The tables watcher against a real Redis (presence and table hashes), with the kernel's reads faked."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from topology import events, locks
from topology.choices import DeploymentState
from topology.engine import api as engine
from topology.models import Deployment, Lab, TopologyVersion

Published = list[tuple[int, dict[str, Any]]]
EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Published:
    sent: list[tuple[int, dict[str, Any]]] = []
    monkeypatch.setattr(events, "publish", lambda lab_id, event: sent.append((lab_id, event)))
    return sent


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch, redis_url: str, settings: Any) -> None:
    settings.REDIS_URL = redis_url
    settings.WORKER_HOST = "unit-host"
    monkeypatch.setattr(engine, "tables", lambda topology, tag, node: {"interfaces": [], "arp": [], "routes": [{"to": node}]})


@pytest.fixture
def lab(django_user_model: Any) -> Lab:
    owner = django_user_model.objects.create_user(username="owner", password="x-Passw0rd!")
    lab = Lab.objects.create(name="six", slug="six", owner=owner, version=1)
    document = json.loads((EXAMPLES / "seed-6-port-forward.json").read_text())
    version = TopologyVersion.objects.create(lab=lab, number=1, document=document)
    Deployment.objects.create(lab=lab, worker_host="unit-host", state=DeploymentState.DEPLOYED, version=version)
    return lab


def run(lab: Lab, kind: str) -> None:
    """As after an apply: the snapshot of every node, so that the watcher knows the tables."""
    from topology import watch
    from topology.jobs.deployments import parse

    deployment = Deployment.objects.select_related("version").get(lab=lab)
    assert deployment.version is not None
    watch.publish_tables(lab.pk, parse(deployment.version.document), deployment.tag, force=True)


@pytest.mark.services
@pytest.mark.django_db
def test_watcher_publishes_only_nodes_whose_tables_changed_and_only_when_watched(
        lab: Lab, fake_engine: None, published: Published, monkeypatch: pytest.MonkeyPatch) -> None:
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


@pytest.mark.services
@pytest.mark.django_db
def test_watcher_reads_a_big_lab_a_slice_per_sweep_in_turn(lab: Lab, fake_engine: None, published: Published,
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
@pytest.mark.parametrize(("age", "fresh"), [(5.0, True), (20.0, False)])
def test_get_tables_answers_from_the_cache_only_when_it_is_fresh(lab: Lab, fake_engine: None, published: Published,
                                                                  age: float, fresh: bool) -> None:
    from topology import watch

    run(lab, "apply")  # the snapshot after an apply fills the cache
    assert watch.cached_tables(lab.pk, "red") == {"interfaces": [], "arp": [], "routes": [{"to": "red"}]}
    client = locks.redis_client()
    entry = {"at": time.time() - age, "tables": {"interfaces": [], "arp": [], "routes": []}}
    client.hset(watch.tables_data_key(lab.pk), "red", json.dumps(entry))
    assert (watch.cached_tables(lab.pk, "red", max_age=10.0) is not None) is fresh
    watch.forget_tables(lab.pk)
    assert watch.cached_tables(lab.pk, "red") is None
