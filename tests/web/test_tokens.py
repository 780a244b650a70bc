"""API tokens hashed, with an expiry (issue 11 item 5): nothing usable in the database, an expired token
refused with a message that says what to do, first-round plain tokens migrated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from topology.models import ApiToken, token_digest
from topology.services.tokens import token_issue

from .conftest import World


def get_with(key: str) -> Any:
    return Client().get("/api/labs", headers={"Authorization": f"Bearer {key}"})


def test_only_the_digest_is_stored(world: World) -> None:
    token = token_issue(user=world.users["owner"])
    key = token.key
    assert key is not None and len(key) == 40
    row = ApiToken.objects.get(pk=token.pk)
    assert row.key is None and row.digest == token_digest(key) and row.prefix == key[:6]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM topology_apitoken")
        assert not any(key in str(v) for r in cursor.fetchall() for v in r)
    assert get_with(key).status_code == 200


def test_expiry_both_sides(world: World) -> None:
    token = token_issue(user=world.users["owner"])
    assert token.key is not None
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() + timedelta(seconds=30))
    assert get_with(token.key).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    refused = get_with(token.key)
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"] and "lab token" in refused.json()["detail"]


def test_default_expiry_from_the_setting(world: World, settings: Any) -> None:
    settings.API_TOKEN_DAYS = 7
    token = token_issue(user=world.users["owner"])
    assert token.expires is not None
    assert timedelta(days=6, hours=23) < token.expires - timezone.now() <= timedelta(days=7)


def test_wrong_and_overlong_keys_are_401(world: World) -> None:
    assert get_with("0" * 40).status_code == 401
    assert get_with("0" * 65).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_first_round_plain_tokens_are_migrated_and_keep_working() -> None:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    old = [("topology", "0002_alter_job_kind")]
    executor.migrate(old)
    apps = executor.loader.project_state(old).apps
    user = apps.get_model("auth", "User").objects.create(username="legacy")
    apps.get_model("topology", "ApiToken").objects.create(user=user, key="a" * 40)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    token = ApiToken.objects.get(user__username="legacy")
    assert token.digest == token_digest("a" * 40) and token.expires is not None
    assert get_with("a" * 40).status_code == 200
