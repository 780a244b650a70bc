"""Two saves of the same version at the same moment, on real connections: exactly one wins."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from topology.models import Lab, TopologyVersion

from .conftest import example


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_one_wins(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    owner = User.objects.create_user("racer", password="x")
    lab = Lab.objects.create(name="race", slug="race", owner=owner, version=1)
    TopologyVersion.objects.create(lab=lab, number=1, document=example("seed-1-direct"))
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def save(label: str) -> None:
        try:
            client = Client()
            client.force_login(owner)
            body = json.dumps({"version": 1, "topology": example("seed-1-direct") | {"description": label}})
            barrier.wait(timeout=10)
            response = client.put(f"/api/labs/{lab.pk}/topology", data=body, content_type="application/json")
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(label,)) for label in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409]
    lab.refresh_from_db()
    assert lab.version == 2
    assert TopologyVersion.objects.filter(lab=lab).count() == 2
