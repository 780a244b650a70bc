"""Version retention, the per-user storage quota and slugs that reveal nothing (issue 11 item 5)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.test import Client

from topology.choices import DeploymentState
from topology.models import Deployment, Lab, TopologyVersion, document_size

from .conftest import World, example


def save(client: Client, lab: Lab, version: int, topology: Any) -> Any:
    return client.put(f"/api/labs/{lab.pk}/topology", data=json.dumps({"version": version, "topology": topology}),
                      content_type="application/json")


def test_retention_keeps_the_newest_k_and_the_deployed_one(world: World, settings: Any) -> None:
    settings.VERSIONS_KEEP = 3
    lab, client = world.lab, world.client("editor")
    deployment = Deployment.objects.get(lab=lab)
    deployment.version = TopologyVersion.objects.get(lab=lab, number=1)
    deployment.save()
    doc = example("seed-1-direct")
    for v in range(1, 3):  # versions 2, 3: three in all, nothing deleted yet (at the limit)
        assert save(client, lab, v, doc).status_code == 200
    assert sorted(TopologyVersion.objects.filter(lab=lab).values_list("number", flat=True)) == [1, 2, 3]
    for v in range(3, 6):  # versions 4, 5, 6
        assert save(client, lab, v, doc).status_code == 200
    # newest three, plus version 1 that the deployment points at
    assert sorted(TopologyVersion.objects.filter(lab=lab).values_list("number", flat=True)) == [1, 4, 5, 6]
    assert client.get(f"/api/labs/{lab.pk}/versions/2").status_code == 404


def test_quota_both_sides_with_a_clear_413(world: World, settings: Any) -> None:
    lab, client = world.lab, world.client("editor")
    used = sum(TopologyVersion.objects.filter(lab__owner=lab.owner).values_list("size", flat=True))
    doc = example("seed-1-direct")
    settings.USER_STORAGE_MAX_BYTES = used + document_size(doc)  # room for exactly one more version
    assert save(client, lab, 1, doc).status_code == 200
    refused = save(client, lab, 2, doc)
    assert refused.status_code == 413
    assert "quota" in refused.json()["detail"] and "owner's labs store" in refused.json()["detail"]
    created = client.post("/api/labs", data=json.dumps({"name": "x", "topology": doc}), content_type="application/json")
    assert created.status_code == 201  # the editor's own quota is untouched: the owner's was full


def test_sizes_are_measured_on_every_path(world: World) -> None:
    version = TopologyVersion.objects.get(lab=world.lab, number=1)
    assert version.size == document_size(version.document) > 100


def test_slugs_reveal_nothing_about_hidden_labs(world: World) -> None:
    """An outsider naming a lab like one they cannot see gets a slug shaped like any other."""
    hidden = world.client("owner").post("/api/labs", data=json.dumps({"name": "Secret", "topology": example(
        "seed-1-direct")}), content_type="application/json").json()["slug"]
    mine = world.client("outsider").post("/api/labs", data=json.dumps({"name": "Secret", "topology": example(
        "seed-1-direct")}), content_type="application/json").json()["slug"]
    for slug in (hidden, mine):
        assert re.fullmatch(r"secret-[a-z2-9]{6}", slug)
    assert hidden != mine


def test_deployed_state_does_not_matter_to_retention(world: World, settings: Any) -> None:
    settings.VERSIONS_KEEP = 1
    Deployment.objects.filter(lab=world.lab).update(state=DeploymentState.DESTROYED, version=None)
    client = world.client("editor")
    for v in range(1, 4):
        assert save(client, world.lab, v, example("seed-1-direct")).status_code == 200
    assert list(TopologyVersion.objects.filter(lab=world.lab).values_list("number", flat=True)) == [4]
