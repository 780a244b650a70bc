"""Root: a lab whose every ownership mark was rewritten by root inside it (the terminal's shell can) is
still recognised by the root-only record of its user namespace (engine/owners.py): apply marks it again,
destroy removes it whole, and another install never takes it for its own."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator

import pytest

from topology.engine import api, owners

pytestmark = pytest.mark.root

DOC = {"format": "netdesigner/v1", "name": "rec", "nodes": [
    {"name": "red", "kind": "namespace"}, {"name": "blue", "kind": "namespace"}],
    "links": [{"a": {"node": "red", "interface": "veth-red", "addresses": ["10.61.0.1/24"]},
               "b": {"node": "blue", "interface": "veth-blue", "addresses": ["10.61.0.2/24"]}}]}
INSTALL, OTHER = "recmine1", "recother1"


@pytest.fixture
def tag() -> Iterator[str]:
    t = "r" + secrets.token_hex(3)
    try:
        yield t
    finally:
        api.destroy(t, install=INSTALL)
        owners.forget(t, INSTALL)


def rewrite_every_mark(tag: str) -> None:
    for node in ("red", "blue"):
        subprocess.run(["ip", "-n", f"nd-{tag}-{node}", "link", "set", "lo", "alias", "tampered"], check=True)


def lab_names(tag: str) -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return sorted(line.split()[0] for line in out.splitlines() if line.startswith(f"nd-{tag}-"))


def test_apply_records_the_lab_user_namespace(tag: str) -> None:
    api.apply(api.parse(DOC), tag, install=INSTALL)
    assert owners.recorded(tag, INSTALL) is not None
    assert owners.recorded(tag, OTHER) is None


def test_every_mark_rewritten_the_lab_is_still_destroyed(tag: str) -> None:
    topo = api.parse(DOC)
    api.apply(topo, tag, install=INSTALL)
    rewrite_every_mark(tag)
    assert api.destroy(tag, install=OTHER) == 0  # another install does not take it for its own
    assert lab_names(tag) == [f"nd-{tag}-blue", f"nd-{tag}-red"]
    assert api.destroy(tag, install=INSTALL) == 2
    assert lab_names(tag) == []
    assert owners.recorded(tag, INSTALL) is None  # the record goes with the last namespace


def test_every_mark_rewritten_apply_marks_it_again_and_cleanup_sees_it(tag: str) -> None:
    topo = api.parse(DOC)
    api.apply(topo, tag, install=INSTALL)
    rewrite_every_mark(tag)
    assert tag in api.owned(INSTALL) and tag not in api.owned(OTHER)
    api.apply(topo, tag, install=INSTALL)
    assert api.drift(topo, tag, install=INSTALL) == []


def test_without_the_record_a_rewritten_lab_is_not_ours(tag: str) -> None:
    """The other side of the record: with it gone, nothing proves the lab ours, and it is left alone."""
    api.apply(api.parse(DOC), tag, install=INSTALL)
    rewrite_every_mark(tag)
    owners.forget(tag, INSTALL)
    assert api.destroy(tag, install=INSTALL) == 0
    assert len(lab_names(tag)) == 2
    for name in lab_names(tag):  # this test's own namespaces, removed by hand
        subprocess.run(["ip", "netns", "del", name], check=True)
