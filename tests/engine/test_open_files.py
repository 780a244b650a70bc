"""An apply of more namespaces than the soft open-files limit (issue 10 item 4): with a soft limit of 256
and 300 namespaces, the apply still converges, both in a bare engine process (the executor raises the
limit itself before it keeps a descriptor per namespace) and in a Django process (apps.ready)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

BASE = Path(__file__).resolve().parents[2]
N = 300  # namespaces, over the soft limit of 256 set below

PROBE = f"""
import os, resource, secrets, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
if sys.argv[1] == "django":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netdesigner.settings")
    import django
    django.setup()
from topology.engine import api
nodes = [{{"name": "br", "kind": "bridge"}}]
links = []
for i in range({N}):
    nodes.append({{"name": f"n{{i}}", "kind": "namespace"}})
    links.append({{"a": {{"node": f"n{{i}}", "interface": "eth0"}}, "b": {{"node": "br", "interface": f"p{{i}}"}}}})
topo = api.parse({{"format": "netdesigner/v1", "name": "fd", "nodes": nodes, "links": links}})
tag = "fd" + secrets.token_hex(3)
try:
    api.apply(topo, tag)
    print("applied", len(api.drift(topo, tag)))
except Exception as exc:
    print("failed", exc)
finally:
    api.destroy(tag)
"""


def run(mode: str) -> str:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=BASE, capture_output=True, text=True,
                         timeout=300, check=False)
    return out.stdout.strip() + out.stderr[-2000:]


def test_a_bare_engine_process_raises_the_limit_and_the_apply_converges() -> None:
    assert run("bare") == "applied 0"


def test_django_processes_raise_the_limit_and_the_apply_converges() -> None:
    assert run("django") == "applied 0"
