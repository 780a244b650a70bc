"""The terminal consumer in-process (channels' WebsocketCommunicator) over the real Redis layer: what it
says when the lab's worker host does not answer, and the rule a bad node name breaks."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from tests.stack import make_user
from topology.choices import DeploymentState
from topology.models import Deployment
from topology.routing import websocket_urlpatterns
from topology.services.labs import lab_create
from topology.terminal import consumer

from .test_server import DOC

pytestmark = [pytest.mark.services]


async def _first(path: str, user: Any) -> tuple[dict[str, Any], int | None]:
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    comm.scope["user"] = user
    connected, _ = await comm.connect(timeout=10)
    assert connected
    message = await comm.receive_json_from(timeout=10)
    closed = await comm.receive_output(timeout=10)
    await comm.disconnect()
    return message, closed.get("code")


def test_a_worker_host_that_does_not_answer_is_named(transactional_db: Any, redis_url: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consumer, "OPEN_TIMEOUT", 0.5)
    owner = make_user("owner")
    lab = lab_create(user=owner, name="direct", topology=DOC)
    host = "gone-" + secrets.token_hex(3)
    Deployment.objects.create(lab=lab, worker_host=host, state=DeploymentState.DEPLOYED, version=lab.versions.get())
    message, code = async_to_sync(_first)(f"/ws/labs/{lab.pk}/nodes/blue/terminal/", owner)
    assert message == {"type": "error", "message": f"the worker of host {host} did not answer: is it running?"}
    assert code == consumer.CLOSE_UNAVAILABLE


def test_an_invalid_node_name_is_refused_with_the_rule(transactional_db: Any, redis_url: str) -> None:
    owner = make_user("owner")
    lab = lab_create(user=owner, name="direct", topology=DOC)
    message, code = async_to_sync(_first)(f"/ws/labs/{lab.pk}/nodes/Bad..Name/terminal/", owner)
    assert message["type"] == "error" and "not a valid node name" in message["message"]
    assert code == consumer.CLOSE_UNAVAILABLE
