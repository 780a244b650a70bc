"""Shared test configuration. The real-stack fixtures (daphne, Celery worker) live in tests/stack.py."""

import os

import pytest

pytest_plugins = ["tests.stack"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root: network namespaces (run the suite as root, as CI does)")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)
