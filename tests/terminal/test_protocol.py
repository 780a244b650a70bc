"""The open request's signature and expiry (pure: no Redis, no root), on both sides of OPEN_MAX_AGE."""

from __future__ import annotations

import time

import pytest
from django.core import signing

from topology.terminal import protocol

REQUEST = protocol.OpenRequest(lab=1, node="blue", user=2, username="op", reply="specific.x!y", session="s1")


def signed_ago(seconds: float, monkeypatch: pytest.MonkeyPatch) -> str:
    now = time.time()
    with monkeypatch.context() as mp:
        mp.setattr("django.core.signing.time.time", lambda: now - seconds)
        return REQUEST.sign()


@pytest.mark.parametrize("age", [0, protocol.OPEN_MAX_AGE - 5])
def test_a_fresh_request_verifies(age: float, monkeypatch: pytest.MonkeyPatch) -> None:
    assert protocol.verify(signed_ago(age, monkeypatch)) == REQUEST


def test_a_request_older_than_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(protocol.BadRequest, match="expired"):
        protocol.verify(signed_ago(protocol.OPEN_MAX_AGE + 5, monkeypatch))


@pytest.mark.parametrize("token", [
    signing.dumps({"lab": 1}, key="another-secret", salt=protocol.SALT),  # another key
    signing.dumps({"lab": 1}, salt="another.salt"),  # our key, another purpose
    None, 42, "x" * 5000, "garbage",
])
def test_what_we_did_not_sign_is_refused(token: object) -> None:
    with pytest.raises(protocol.BadRequest):
        protocol.verify(token)


def test_a_signed_request_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(protocol.BadRequest, match="malformed"):
        protocol.verify(signing.dumps({"lab": 1, "shell": "/bin/sh"}, salt=protocol.SALT))


@pytest.mark.parametrize(("host", "channel"), [
    ("worker-1.example", "nd-terminal.worker-1.example"),
    ("odd host/name:1", "nd-terminal.odd-host-name-1"),
])
def test_server_channel_is_a_valid_channel_name(host: str, channel: str) -> None:
    assert protocol.server_channel(host) == channel
