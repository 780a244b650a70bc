"""`lab explain` and `lab test` against the real kernel (root): each tutorial example passes its checks
once applied, and fails them, saying where design and kernel part, when a route or the NAT rule is
removed by hand."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest
from django.contrib.auth.models import User

from topology.models import Deployment

from .conftest import EXAMPLES
from .test_cli import lab

pytestmark = [pytest.mark.root, pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
              pytest.mark.django_db(transaction=True)]

TUTORIAL = ["seed-1-direct", "seed-2-bridge", "seed-3-outside-no-route", "seed-4-outside-no-nat", "seed-5-nat",
            "seed-6-port-forward", "router"]


def applied(name: str) -> tuple[str, str]:
    User.objects.get_or_create(username="kernel-admin", defaults={"is_superuser": True, "is_staff": True})
    slug = lab("import", str(EXAMPLES / f"{name}.json"), "--name", f"x-{name}")[1].strip().splitlines()[-1]
    code, _out, err = lab("apply", slug, "--inline")
    assert code == 0, err
    return slug, Deployment.objects.get(lab__slug=slug).tag


def test_result(slug: str) -> tuple[int, dict[str, Any]]:
    code, out, err = lab("test", slug, "--inline", "--json")
    assert out, err
    return code, json.loads(out)


test_result.__test__ = False  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", TUTORIAL)
def test_each_example_passes_its_checks(name: str) -> None:
    slug, _tag = applied(name)
    try:
        code, result = test_result(slug)
        assert code == 0, result
        assert result["failed"] == 0 and result["passed"] == len(result["checks"]) >= 2
        for row in result["checks"]:
            assert row["explain"]["agree"] is True, row
        code, out, _err = lab("test", slug, "--inline")
        assert code == 0 and "0 failed" in out
    finally:
        assert lab("destroy", slug, "--inline")[0] == 0


def test_removing_the_masquerade_by_hand_fails_at_the_rule() -> None:
    slug, tag = applied("seed-5-nat")
    try:
        subprocess.run(["ip", "netns", "exec", f"nd-{tag}-host", "iptables", "-t", "nat", "-F", "ND-POSTROUTING"],
                       check=True)
        code, result = test_result(slug)
        assert code == 1
        failed = [r for r in result["checks"] if not r["passed"]]
        assert [r["check"]["to"] for r in failed] == ["192.168.1.3"]
        measured = failed[0]["explain"]["measured"]
        assert measured["verdict"] == "no-reply"
        assert "host" in measured["parted"] and "nat[0]" in measured["parted"] and "missing" in measured["parted"]
    finally:
        assert lab("destroy", slug, "--inline")[0] == 0


def test_removing_a_route_by_hand_fails_at_that_node() -> None:
    slug, tag = applied("router")
    try:
        subprocess.run(["ip", "-n", f"nd-{tag}-h1", "route", "del", "default"], check=True)
        code, result = test_result(slug)
        assert code == 1
        first = result["checks"][0]
        assert first["check"] == {"from": "h1", "to": "h2", "expect": "reachable"} and not first["passed"]
        measured = first["explain"]["measured"]
        assert measured["verdict"] == "unreachable" and measured["detail"] == "Network is unreachable"
        assert measured["parted_at"] == 0 and "at h1" in measured["parted"] and "'no route'" in measured["parted"]
        code, out, _err = lab("test", slug, "--inline")
        assert code == 1 and "FAIL h1 -> h2" in out
    finally:
        assert lab("destroy", slug, "--inline")[0] == 0


def test_explain_cli_on_the_port_forward() -> None:
    slug, _tag = applied("seed-6-port-forward")
    try:
        code, out, err = lab("explain", slug, "lan", "192.168.1.2", "--protocol", "tcp", "--port", "8080",
                             "--inline", "--json")
        assert code == 0, err
        result = json.loads(out)
        assert result["predicted"]["verdict"] == "reachable" and result["measured"]["verdict"] == "reachable"
        assert result["agree"] is True
        rules = {(r["node"], r["rule"]): r for r in result["measured"]["rules"]}
        assert rules[("host", "port_forwards[0]")]["matched"] and rules[("host", "port_forwards[0]")]["predicted"]
        assert all(h["agree"] for h in result["measured"]["hops"])
        code, out, err = lab("explain", slug, "lan", "blue", "--inline")
        assert code == 0, err
        assert out.startswith("predicted: unreachable: lan has no route to 192.168.15.0/24")
        assert "measured: unreachable: Network is unreachable" in out
    finally:
        assert lab("destroy", slug, "--inline")[0] == 0
