"""The tutorial's command sequence, imported with its fixes taken, applied to the real kernel: its own
pings (the checks) answer. Root: throwaway namespaces under a fresh tag, removed even on failure."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from topology.engine import api
from topology.engine.importers import import_shell

pytestmark = pytest.mark.root
FIXTURE = Path(__file__).parent / "fixtures" / "tutorial-slips.sh"


@pytest.fixture
def tag() -> Iterator[str]:
    t = "i" + secrets.token_hex(3)
    try:
        yield t
    finally:
        api.destroy(t)


def received(topology: object, tag: str, source: str, target: str) -> int:
    *_replies, result = api.ping(topology, tag, source, target, count=2, interval=0.1)
    assert isinstance(result, api.PingResult)
    return result.received


def test_tutorial_with_fixes_applies_and_its_checks_pass(tag: str) -> None:
    result = import_shell(FIXTURE.read_text(), apply_fixes_=True)
    topology = api.parse(result.document)
    api.apply(topology, tag)
    assert api.plan(topology, tag) == []
    assert [(c["from"], c["to"]) for c in result.checks] == [("red", "192.168.15.2"), ("blue", "192.168.15.5")]
    for check in result.checks:
        assert received(topology, tag, check["from"], check["to"]) == 2, check


def test_without_the_fixes_red_cannot_reach_blue(tag: str) -> None:
    """The fault side: the slips as typed leave red on a /32 and blue unplugged from the bridge."""
    result = import_shell(FIXTURE.read_text())
    topology = api.parse(result.document)
    api.apply(topology, tag)
    *_replies, outcome = api.ping(topology, tag, "red", "192.168.15.2", count=1, interval=0.1, timeout=0.5)
    assert isinstance(outcome, api.PingResult)
    assert outcome.received == 0
