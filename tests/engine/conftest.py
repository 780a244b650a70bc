"""Engine test helpers: documents from the examples, and a lab fixture that always destroys."""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from topology.engine import api

EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


def example(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return doc


def mutated(name: str, **changes: Any) -> dict[str, Any]:
    return copy.deepcopy(example(name)) | changes


def fresh_tag() -> str:
    return "t" + secrets.token_hex(3)


@pytest.fixture
def tag() -> Iterator[str]:
    """A fresh deployment tag; everything made under it is removed afterwards, even on failure."""
    t = fresh_tag()
    try:
        yield t
    finally:
        api.destroy(t)
