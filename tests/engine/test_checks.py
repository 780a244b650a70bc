"""`checks` in the document: validated with located errors, kept through a round trip; and the pure
parts of the measurement (ping's outcome as a verdict, the ND- rule counters as iptables-save prints)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from topology.engine import api
from topology.engine.measure import COUNTER_RE, classify_ping

from .conftest import EXAMPLES, example

SHARED = Path("/work/shared/examples")


def with_checks(*checks: Any, name: str = "seed-2-bridge") -> dict[str, Any]:
    doc = copy.deepcopy(example(name))
    doc["checks"] = list(checks)
    return doc


def problems(doc: dict[str, Any]) -> set[str]:
    return {str(p) for p in api.validate(doc)}


@pytest.mark.parametrize(("check", "expected"), [
    ({"from": "ghost", "to": "blue", "expect": "reachable"}, "checks[0].from: 'ghost' is not a node of this document"),
    ({"from": "red", "to": "x y", "expect": "reachable"},
     "checks[0].to: 'x y' is neither a node of this document nor an IP address"),
    ({"from": "red", "to": "blue", "expect": "maybe"},
     "checks[0].expect: 'maybe' is not one of reachable, unreachable, no-reply"),
    ({"from": "red", "to": "blue", "protocol": "sctp", "expect": "reachable"},
     "checks[0].protocol: 'sctp' is not one of icmp, tcp, udp"),
    ({"from": "red", "to": "blue", "protocol": "tcp", "expect": "reachable"}, "checks[0].port: required for tcp"),
    ({"from": "red", "to": "blue", "port": 80, "expect": "reachable"}, "checks[0].port: only for tcp and udp"),
    ({"from": "red", "to": "blue", "protocol": "udp", "port": 0, "expect": "reachable"},
     "checks[0].port: 0 is out of range 1-65535"),
    ({"from": "red", "to": "blue", "expect": "reachable", "colour": "red"}, "checks[0].colour: unknown field"),
    ({"to": "blue", "expect": "reachable"}, "checks[0].from: required"),
    ({"from": "red", "to": "blue", "expect": "reachable", "name": ""}, "checks[0].name: must be 1-100 printable characters"),
])
def test_bad_checks_are_refused_with_their_path(check: dict[str, Any], expected: str) -> None:
    assert expected in problems(with_checks(check))


def test_checks_is_a_list() -> None:
    doc = with_checks()
    doc["checks"] = {"from": "red"}
    assert "checks: expected a list" in problems(doc)


@pytest.mark.parametrize("check", [
    {"from": "red", "to": "blue", "expect": "reachable"},
    {"from": "host", "to": "192.168.15.1", "expect": "reachable", "name": "the host reaches red"},
    {"from": "v-net-0", "to": "red", "protocol": "udp", "port": 53, "expect": "no-reply"},
])
def test_good_checks_round_trip(check: dict[str, Any]) -> None:
    doc = with_checks(check)
    topo = api.parse(doc)
    assert topo.to_document()["checks"] == [check]
    assert api.validate(topo.to_document()) == []


def test_the_tutorial_copies_carry_checks_and_the_originals_still_validate() -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        doc = json.loads(path.read_text())
        assert len(doc["checks"]) >= 2, path.name
        assert api.validate(doc) == []
        original = {k: v for k, v in doc.items() if k != "checks"}
        assert api.validate(original) == []
        if SHARED.is_dir():
            assert json.loads((SHARED / path.name).read_text()) == original, path.name


@pytest.mark.parametrize(("sent", "received", "error", "verdict"), [
    (2, 2, None, "reachable"),
    (3, 1, None, "reachable"),
    (0, 0, "Network is unreachable", "unreachable"),
    (1, 0, "Destination Host Unreachable", "unreachable"),
    (1, 0, "Destination Net Unreachable", "unreachable"),
    (1, 0, "Time to live exceeded", "unreachable"),
    (25, 0, None, "no-reply"),
])
def test_ping_outcomes(sent: int, received: int, error: str | None, verdict: str) -> None:
    assert classify_ping(sent, received, error)[0] == verdict


def test_counters_as_iptables_save_prints_them() -> None:
    line = ('[3:252] -A ND-POSTROUTING -s 192.168.15.0/24 -o eth0 -m comment --comment "nd:abc:0123456789" '
            "-j MASQUERADE")
    m = COUNTER_RE.match(line)
    assert m is not None and (m.group(1), m.group(2), m.group(3)) == ("3", "ND-POSTROUTING", "nd:abc:0123456789")
    assert COUNTER_RE.match("[0:0] -A POSTROUTING -j ND-POSTROUTING") is None
